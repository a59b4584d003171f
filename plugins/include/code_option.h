/* code_option.h -- the API of an SPP code option on vrouter-hil's NPE.
 *
 * A code option is the slice-specific part of an SPP fast path (Turner et
 * al., SIGCOMM 2007): the NPE's substrate receives a tunnel packet, finds
 * the slice and meta-interface (MI) it arrived on, and calls the slice's
 * code option twice --
 *
 *   copt_parse(pkt)  reads the overlay packet and produces the 128-bit
 *                    lookup key (copt_key), or raises an exception
 *                    (copt_exception: the packet goes to the slice's slow
 *                    path on its GPE through MI 0), or drops it (copt_drop);
 *   copt_hf(pkt)     after the substrate's TCAM lookup (key = the slice +
 *                    that key) chose an output MI and next hop, writes the
 *                    outgoing tunnel header: outer IPv4 + UDP from the
 *                    output MI's endpoint (copt_src_ip/port) to the next
 *                    hop's (copt_dst_ip/port); it may also change the
 *                    overlay packet (a TTL), drop it or raise an exception.
 *
 * and, optionally, copt_init(args) once when the NPE loads it. One C file
 * is a code option: `npe.load_code_option("my_copt.c")` or
 * `npe.add_fastpath(slice, "my_copt.c", ...)`. One code option serves every
 * slice that chose it (SPP's "static shared" code options): its global
 * variables are shared; a slice's own state belongs in the slice's SRAM
 * window (copt_sram_read/write), sized by the fast path's sram_bytes.
 *
 * THE PACKET. Offset 0 is the internal frame's first byte: Ethernet (14 B),
 * 802.1Q tag (4 B), on packets from the slow path a meta header, then the
 * outer IPv4 header at copt_ip_offset(), the UDP header after it and the
 * overlay payload at copt_payload_offset(). The substrate has checked the
 * outer IPv4/UDP headers (no options, no fragment, lengths, checksum) and
 * rewrites everything in front of the outer IPv4 header after copt_hf.
 * copt_read/copt_write are bounds-checked against the packet's length;
 * copt_set_len changes it (the payload may grow within the 1,664-byte
 * buffer: the frame from offset 0).
 *
 * THE KEY. COPT_KEY("name:bits name:bits ...") declares the key's fields,
 * most significant first, 128 bits at most; filters name them
 * (`npe.add_filter(slice, {"dst": "10.1.0.0/16"}, {...})`). copt_key_put
 * packs values in the same order. COPT_REASONS("1:name 2:name ...") names
 * the codes given to copt_exception and copt_drop (1..255); the GPE and
 * `npe.code_option_stats(name)` report them by name. Both macros are read from
 * the source by the loader: give each a string literal.
 *
 * COST. As for plug-ins (plugin_api.h, np_model/core/plugin_rt.c): every
 * basic block costs its instruction count in ME cycles, each API call a few
 * cycles, and each packet or SRAM reference that memory's latency with the
 * thread swapped out. A call runs in the code option's worker process:
 * one that exceeds its cycle budget (copt_budget), faults (copt_crash),
 * makes a system call (copt_syscall) or does not return within the
 * watchdog (copt_hang) is abandoned and its packet dropped under that
 * reason; the other packets and slices go on. No file, printf, malloc of
 * fresh memory or other system call: computation and these functions only.
 */
#ifndef VRH_CODE_OPTION_H
#define VRH_CODE_OPTION_H

#include <stddef.h>
#include <stdint.h>

#define CODE_OPTION_API_VERSION 1

typedef uint32_t pkt_t;

/* ---------------------------------------------------------------------------
 * Entry points a code option defines (copt_parse and copt_hf are required).
 * ------------------------------------------------------------------------- */
void copt_init(const char *args);
void copt_parse(pkt_t pkt);
void copt_hf(pkt_t pkt);

/* Declarations the loader reads from the source (string literals). */
#define COPT_KEY(spec) __attribute__((used)) static const char copt_key_spec[] = spec
#define COPT_REASONS(spec) __attribute__((used)) static const char copt_reason_spec[] = spec

/* ---------------------------------------------------------------------------
 * The call's context.
 * ------------------------------------------------------------------------- */
unsigned copt_slice(void);            /* the slice's id */
unsigned copt_in_mi(void);            /* the MI the packet arrived on (0: from the slow path) */
unsigned copt_ip_offset(void);        /* offset of the outer IPv4 header */
unsigned copt_payload_offset(void);   /* offset of the overlay payload (after the outer UDP header) */
/* copt_hf only: where the packet goes */
unsigned copt_out_mi(void);           /* the output MI */
uint32_t copt_src_ip(void);           /* the output MI's endpoint (host byte order) */
unsigned copt_src_port(void);
uint32_t copt_dst_ip(void);           /* the next hop's endpoint: the filter's, else the MI's peer */
unsigned copt_dst_port(void);
uint32_t copt_result_arg(void);       /* the filter result's 32-bit argument */

/* ---------------------------------------------------------------------------
 * Results. Without copt_exception or copt_drop the packet goes on (Parse:
 * to the lookup with the key set by copt_key, zero if none; HF: out).
 * ------------------------------------------------------------------------- */
void copt_key(const uint32_t key[4]);        /* key[0] holds the most significant bits */
void copt_exception(unsigned code);          /* to the slice's slow path (MI 0), code 1..255 */
void copt_drop(unsigned code);               /* dropped (copt_drop), code 1..255 */

/* ---------------------------------------------------------------------------
 * The packet. Return the bytes copied, or -1 outside the packet (refused,
 * counted as out of bounds, nothing read or written).
 * ------------------------------------------------------------------------- */
unsigned copt_len(pkt_t pkt);
int copt_read(pkt_t pkt, unsigned off, void *buf, unsigned len);
int copt_write(pkt_t pkt, unsigned off, const void *buf, unsigned len);
int copt_set_len(pkt_t pkt, unsigned len);   /* 14 .. 1664 bytes from offset 0; -1 refused */

/* ---------------------------------------------------------------------------
 * The slice's SRAM window (the fast path's sram_bytes), counters shared by
 * every slice of the code option (npe.code_option_stats(name)), time, randomness.
 * ------------------------------------------------------------------------- */
int copt_sram_read(unsigned off, void *buf, unsigned len);   /* -1 outside the window */
int copt_sram_write(unsigned off, const void *buf, unsigned len);
unsigned copt_sram_size(void);
void copt_counter_add(unsigned counter, uint32_t value);     /* counters 0..15 */
uint64_t copt_timestamp(void);                               /* ME cycles since the NPE started */
uint32_t copt_random(void);

/* ---------------------------------------------------------------------------
 * Helpers (ordinary code: charged like the code option's own).
 * ------------------------------------------------------------------------- */
static inline uint16_t copt_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t copt_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void copt_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void copt_wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Internet checksum (RFC 1071) of len bytes added to sum, folded, not complemented. */
static inline uint32_t copt_csum_add(uint32_t sum, const uint8_t *p, unsigned len) {
    for (unsigned i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return sum;
}
/* RFC 1624 eqn. 3: the checksum after a 16-bit word changes from old to new. */
static inline uint16_t copt_csum_update(uint16_t ck, uint16_t old, uint16_t new_) {
    uint32_t s = (uint16_t)~ck + (uint32_t)(uint16_t)~old + new_;
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* Append `width` bits (1..32) of v to a key being packed most significant
 * first; *pos counts the bits used so far (start at 0). Fields must follow
 * the COPT_KEY declaration's order and widths; bits past 128 are refused. */
static inline void copt_key_put(uint32_t key[4], unsigned *pos, uint32_t v, unsigned width) {
    unsigned p = *pos;
    if (width < 1 || width > 32 || p + width > 128) return;
    if (width < 32) v &= (1u << width) - 1;
    unsigned w = p >> 5, room = 32 - (p & 31);
    if (width <= room) key[w] |= v << (room - width);
    else {
        key[w] |= v >> (width - room);
        key[w + 1] |= v << (32 - (width - room));
    }
    *pos = p + width;
}

/* The outer tunnel header (RFC 791 + RFC 768), 28 bytes at hdr: IPv4 with
 * no options, DF set, identification 0, TTL ttl, protocol UDP, the header
 * checksum; UDP from sport to dport carrying payload_len bytes, checksum 0
 * (none: allowed over IPv4, RFC 768). */
static inline void copt_tunnel_header(uint8_t hdr[28], uint32_t src, unsigned sport, uint32_t dst, unsigned dport,
                                      unsigned payload_len, unsigned ttl) {
    unsigned tot = 28 + payload_len;
    hdr[0] = 0x45; hdr[1] = 0;
    copt_wr16(hdr + 2, (uint16_t)tot);
    copt_wr16(hdr + 4, 0);
    copt_wr16(hdr + 6, 0x4000);
    hdr[8] = (uint8_t)ttl; hdr[9] = 17;
    copt_wr16(hdr + 10, 0);
    copt_wr32(hdr + 12, src);
    copt_wr32(hdr + 16, dst);
    copt_wr16(hdr + 10, (uint16_t)~copt_csum_add(0, hdr, 20));
    copt_wr16(hdr + 20, (uint16_t)sport);
    copt_wr16(hdr + 22, (uint16_t)dport);
    copt_wr16(hdr + 24, (uint16_t)(8 + payload_len));
    copt_wr16(hdr + 26, 0);
}

#endif
