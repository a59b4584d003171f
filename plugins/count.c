/* count -- count ICMP, TCP and UDP packets, then drop them (NPR's nstats).
 *
 * Meant for copies made by an auxiliary filter: the original goes on, the
 * copy is counted here and dropped. PluginCounter 0 counts ICMP, 1 TCP,
 * 2 UDP [ONL tutorial, Predefined Plugins].
 * Messages: "=counts" -> "icmp tcp udp"; "reset" zeroes the counters.
 */
#include "plugin_api.h"

void handle_pkt_user(pkt_t pkt) {
    uint8_t h[24];
    if (onl_api_pkt_read(pkt, 0, h, sizeof h) == sizeof h && onl_api_rd16(h + 12) == 0x0800) {
        uint8_t proto = h[14 + 9];
        if (proto == 1) onl_api_counter_add(0, 1);
        else if (proto == 6) onl_api_counter_add(1, 1);
        else if (proto == 17) onl_api_counter_add(2, 1);
    }
    onl_api_drop(pkt);
}

void handle_msg(const char *msg, char *reply, int size) {
    reply[0] = 0;
    if (onl_api_streq(msg, "=counts")) {
        onl_api_reply_counters(reply, size, 0, 3);
    } else if (onl_api_streq(msg, "reset")) {
        for (unsigned i = 0; i < 3; i++) onl_api_counter_add(i, 0u - onl_api_counter_get(i));
        onl_api_cat(reply, size, "ok");
    } else {
        onl_api_cat(reply, size, "usage: =counts | reset");
    }
}
