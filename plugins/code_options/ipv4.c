/* ipv4.c -- the IPv4 code option: a slice's overlay IPv4 router (SPP's IPv4
 * meta-router fast path [C virtual_routers.md 1.5]).
 *
 * The tunnel payload is an IPv4 datagram (the meta-net packet).
 * Parse checks it as a router must (RFC 1812 5.2.2: version, header length,
 * total length, header checksum; failures are dropped), hands packets with
 * an expiring TTL (RFC 1812 5.3.1) or with IP options (RFC 1812 5.2.4, the
 * slow path handles them) to the slice's slow path as exceptions, and
 * builds the key: input MI, destination, source, protocol, source and
 * destination ports (TCP or UDP, first fragment only; 0 otherwise) -- so a
 * filter can route a prefix, a flow or anything in between.
 * Header Format decrements the TTL (the checksum updated as RFC 1624 eqn. 3
 * says), cuts the payload to the datagram, and writes the outer IPv4/UDP
 * header from the output MI's endpoint to the next hop's (TTL 64, DF, UDP
 * checksum 0: code_option.h copt_tunnel_header).
 */
#include "code_option.h"

COPT_KEY("in_mi:16 dst:32 src:32 proto:8 sport:16 dport:16");
COPT_REASONS("1:ttl_expired 2:ip_options 3:bad_version 4:bad_length 5:bad_checksum");

enum { TTL_EXPIRED = 1, IP_OPTIONS, BAD_VERSION, BAD_LENGTH, BAD_CHECKSUM };
#define OUTER_TTL 64

void copt_parse(pkt_t pkt) {
    uint8_t ip[64];
    unsigned off = copt_payload_offset(), len = copt_len(pkt);
    if (len < off + 20) { copt_drop(BAD_LENGTH); return; }
    unsigned avail = len - off, n = avail < sizeof ip ? avail : sizeof ip;
    copt_read(pkt, off, ip, n);
    unsigned ihl = (ip[0] & 15) * 4u, tot = copt_rd16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20) { copt_drop(BAD_VERSION); return; }
    if (tot < ihl || tot > avail || ihl > n) { copt_drop(BAD_LENGTH); return; }
    if (copt_csum_add(0, ip, ihl) != 0xFFFF) { copt_drop(BAD_CHECKSUM); return; }
    if (ip[8] <= 1) { copt_exception(TTL_EXPIRED); return; }
    if (ihl > 20) { copt_exception(IP_OPTIONS); return; }
    unsigned sport = 0, dport = 0, frag = copt_rd16(ip + 6) & 0x1FFF;
    if (frag == 0 && (ip[9] == 6 || ip[9] == 17) && tot >= ihl + 4 && n >= ihl + 4) {
        sport = copt_rd16(ip + ihl);
        dport = copt_rd16(ip + ihl + 2);
    }
    uint32_t key[4] = { 0, 0, 0, 0 };
    unsigned pos = 0;
    copt_key_put(key, &pos, copt_in_mi(), 16);
    copt_key_put(key, &pos, copt_rd32(ip + 16), 32);
    copt_key_put(key, &pos, copt_rd32(ip + 12), 32);
    copt_key_put(key, &pos, ip[9], 8);
    copt_key_put(key, &pos, sport, 16);
    copt_key_put(key, &pos, dport, 16);
    copt_key(key);
}

void copt_hf(pkt_t pkt) {
    uint8_t ip[12], hdr[28];
    unsigned off = copt_payload_offset();
    copt_read(pkt, off, ip, sizeof ip);
    unsigned tot = copt_rd16(ip + 2);
    uint16_t old = copt_rd16(ip + 8);
    ip[8]--;                                                  /* TTL; Parse saw it above 1 */
    copt_wr16(ip + 10, copt_csum_update(copt_rd16(ip + 10), old, copt_rd16(ip + 8)));
    copt_write(pkt, off + 8, ip + 8, 4);
    copt_tunnel_header(hdr, copt_src_ip(), copt_src_port(), copt_dst_ip(), copt_dst_port(), tot, OUTER_TTL);
    copt_write(pkt, copt_ip_offset(), hdr, sizeof hdr);
    if (copt_len(pkt) != off + tot) copt_set_len(pkt, off + tot);
}
