/* ip_hdr -- look at the IP header, count, and pass the packet on to
 * another plug-in (NPR's ipHdr, the chaining example).
 *
 * PluginCounters: 0 packets, 1 with DF set, 2 with TTL <= 8 (as traceroute
 * probes are), 3 IPv4 payload bytes. The next plug-in is 4 unless the
 * argument or a message says "next=<0..4>".
 */
#include "plugin_api.h"

static int next_plugin = 4;

void plugin_init_user(const char *args) {
    const char *v = onl_api_after(args, "next=");
    int ok = 0;
    uint64_t n = v ? onl_api_atou(v, &ok) : 0;
    if (ok && n < 5) next_plugin = (int)n;
}

void handle_pkt_user(pkt_t pkt) {
    uint8_t h[34];
    onl_api_counter_add(0, 1);
    if (onl_api_pkt_read(pkt, 0, h, sizeof h) == sizeof h && onl_api_rd16(h + 12) == 0x0800) {
        const uint8_t *ip = h + 14;
        if (ip[6] & 0x40) onl_api_counter_add(1, 1);
        if (ip[8] <= 8) onl_api_counter_add(2, 1);
        onl_api_counter_add(3, onl_api_rd16(ip + 2) - (ip[0] & 15u) * 4u);
    }
    onl_api_send_plugin(pkt, next_plugin);
}

void handle_msg(const char *msg, char *reply, int size) {
    const char *v = onl_api_after(msg, "next=");
    int ok = 0;
    uint64_t n = v ? onl_api_atou(v, &ok) : 0;
    reply[0] = 0;
    if (ok && n < 5) { next_plugin = (int)n; onl_api_cat(reply, size, "ok"); return; }
    if (onl_api_streq(msg, "=counts")) {
        onl_api_reply_counters(reply, size, 0, 4);
        return;
    }
    onl_api_cat(reply, size, "usage: next=<0..4>|=counts");
}
