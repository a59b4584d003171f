/* i3.c -- the i3 code option: an Internet Indirection Infrastructure
 * forwarder (SPP's second sample application [C virtual_routers.md 1.5]).
 *
 * The tunnel payload is an i3 packet in this project's encoding
 * (np_model/spp_formats.py I3): version (1 byte, 1), flags (1 byte; bit 0:
 * a control packet -- trigger insertion or removal), 2 reserved bytes, a
 * 256-bit identifier, then data. A receiver's trigger (id, address) is an
 * NPE filter on the identifier's first 128 bits (the exact-match prefix
 * k = 128 of the i3 design [U]) whose next hop is the address (IPv4, UDP
 * port); a shorter prefix is an anycast group, the longest match wins
 * [C i3 overview, virtual_routers.md 1.6].
 * Parse: control packets are exceptions (the slow path keeps the triggers
 * and writes the filters); malformed ones are dropped; the key is the
 * identifier's first 128 bits. No trigger matching is the substrate's
 * exception (no_match), which the slow path handles (forwarding toward the
 * responsible server).
 * Header Format: the packet goes unchanged to the trigger's address in a
 * new outer IPv4/UDP header from the output MI's endpoint.
 */
#include "code_option.h"

COPT_KEY("id:128");
COPT_REASONS("1:i3_control 2:bad_header");

enum { I3_CONTROL = 1, BAD_HEADER };
#define I3_HDR 36
#define I3_VERSION 1
#define I3_FLAG_CONTROL 1
#define OUTER_TTL 64

void copt_parse(pkt_t pkt) {
    uint8_t h[20];
    unsigned off = copt_payload_offset(), len = copt_len(pkt);
    if (len < off + I3_HDR) { copt_drop(BAD_HEADER); return; }
    copt_read(pkt, off, h, sizeof h);
    if (h[0] != I3_VERSION) { copt_drop(BAD_HEADER); return; }
    if (h[1] & I3_FLAG_CONTROL) { copt_exception(I3_CONTROL); return; }
    uint32_t key[4];
    for (int i = 0; i < 4; i++) key[i] = copt_rd32(h + 4 + 4 * i);
    copt_key(key);
}

void copt_hf(pkt_t pkt) {
    uint8_t hdr[28];
    unsigned off = copt_payload_offset();
    copt_tunnel_header(hdr, copt_src_ip(), copt_src_port(), copt_dst_ip(), copt_dst_port(), copt_len(pkt) - off,
                       OUTER_TTL);
    copt_write(pkt, copt_ip_offset(), hdr, sizeof hdr);
}
