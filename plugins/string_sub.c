/* string_sub -- rewrite a string in UDP and TCP payloads (NPR's stringSub).
 *
 * Every occurrence of OLD in the payload becomes NEW (same length, so the
 * IP header is untouched); the UDP or TCP checksum is recomputed (a UDP
 * checksum of 0, "none", stays 0). Default HELLO -> WORLD.
 * Messages: "sub=<old>/<new>" (equal lengths, up to 12 characters),
 * "=counts" -> "packets substitutions" (PluginCounters 0, 1).
 */
#include "plugin_api.h"

#define MAXS 12
static char from[MAXS + 1] = "HELLO", to[MAXS + 1] = "WORLD";
static unsigned slen = 5;

void handle_pkt_user(pkt_t pkt) {
    uint8_t p[1600];
    unsigned len = onl_api_pkt_len(pkt);
    if (len > sizeof p || onl_api_pkt_read(pkt, 0, p, len) != (int)len || onl_api_rd16(p + 12) != 0x0800) {
        onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
        return;
    }
    uint8_t *ip = p + 14;
    unsigned ihl = (ip[0] & 15) * 4u, tot = onl_api_rd16(ip + 2), proto = ip[9];
    unsigned frag = onl_api_rd16(ip + 6) & 0x3FFF;
    unsigned l4 = 14 + ihl, hdr = proto == 6 ? (unsigned)(p[l4 + 12] >> 4) * 4u : 8u;
    if ((proto != 6 && proto != 17) || frag || 14 + tot > len || l4 + hdr > 14 + tot) {
        onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
        return;
    }
    unsigned start = l4 + hdr, end = 14 + tot, subs = 0;
    for (unsigned i = start; i + slen <= end; i++) {
        unsigned k = 0;
        while (k < slen && p[i + k] == (uint8_t)from[k]) k++;
        if (k == slen) {
            for (k = 0; k < slen; k++) p[i + k] = (uint8_t)to[k];
            subs++;
            i += slen - 1;
        }
    }
    onl_api_counter_add(0, 1);
    if (subs) {
        unsigned ck_off = l4 + (proto == 6 ? 16 : 6);
        onl_api_counter_add(1, subs);
        if (!(proto == 17 && onl_api_rd16(p + ck_off) == 0)) {
            uint32_t s = 0;
            unsigned l4len = end - l4;
            p[ck_off] = p[ck_off + 1] = 0;
            s = onl_api_csum_add(s, ip + 12, 8);                  /* pseudo header */
            s += proto + l4len;
            s = onl_api_csum_add(s, p + l4, l4len);
            uint16_t ck = (uint16_t)~s;
            if (proto == 17 && ck == 0) ck = 0xFFFF;
            onl_api_wr16(p + ck_off, ck);
        }
        onl_api_pkt_write(pkt, l4, p + l4, end - l4);
    }
    onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
}

void handle_msg(const char *msg, char *reply, int size) {
    const char *v = onl_api_after(msg, "sub=");
    reply[0] = 0;
    if (v) {
        unsigned a = 0, b = 0;
        char f[MAXS + 1], t[MAXS + 1];
        while (v[a] && v[a] != '/' && a < MAXS) { f[a] = v[a]; a++; }
        if (v[a] == '/') {
            const char *w = v + a + 1;
            while (w[b] && b < MAXS) { t[b] = w[b]; b++; }
        }
        if (a && a == b && v[a] == '/') {
            for (unsigned i = 0; i < a; i++) { from[i] = f[i]; to[i] = t[i]; }
            from[a] = to[a] = 0;
            slen = a;
            onl_api_cat(reply, size, "ok");
            return;
        }
        onl_api_cat(reply, size, "error: equal lengths 1..12");
        return;
    }
    if (onl_api_streq(msg, "=counts")) {
        onl_api_cat_u(reply, size, onl_api_counter_get(0));
        onl_api_cat(reply, size, " ");
        onl_api_cat_u(reply, size, onl_api_counter_get(1));
        return;
    }
    onl_api_cat(reply, size, "usage: sub=old/new|=counts");
}
