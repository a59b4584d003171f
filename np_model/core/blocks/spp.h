/* spp.h -- helpers the SPP blocks share (line card and NPE): reading and
 * writing the internal frame (np_model/spp_formats.py documents it), the
 * outer IPv4/UDP checks, and the per-thread records of code-option calls.
 *
 * Internal frame: Ethernet (dst: the receiving board, type 0x8100) /
 * 802.1Q (VID: the destination context) / [meta header, EtherType
 * SPP_ETHERTYPE_META, NPE <-> GPE only] / IPv4 / UDP / payload.
 */
#ifndef NP_SPP_H
#define NP_SPP_H

#include <stdlib.h>
#include "block.h"

#define SPP_TPID 0x8100
#define SPP_L2 18                      /* Ethernet + 802.1Q */
#define SPP_L2_META (SPP_L2 + SPP_META_BYTES)

static inline uint16_t spp_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t spp_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void spp_wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void spp_wr_mac(uint8_t *p, uint64_t mac) {
    for (int i = 5; i >= 0; i--) { p[i] = (uint8_t)mac; mac >>= 8; }
}
static inline uint64_t spp_rd_mac(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v = v << 8 | p[i];
    return v;
}
static inline int spp_csum_ok(const uint8_t *ip, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i += 2) s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return s == 0xFFFF;
}

/* An IPv4 header at ip within avail bytes: the checks RFC 1812 5.2.2 makes
 * (version, IHL, total length, header checksum). Returns the total length,
 * 0 if it fails. */
static inline uint32_t spp_ipv4_ok(const uint8_t *ip, uint32_t avail) {
    if (avail < 20 || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5) return 0;
    uint32_t ihl = (ip[0] & 15) * 4u, tot = spp_rd16(ip + 2);
    if (tot < ihl || tot > avail || !spp_csum_ok(ip, (int)ihl)) return 0;
    return tot;
}

/* The outer tunnel header of an internal frame: IPv4 without options, not a
 * fragment, UDP whose length fits. Returns the datagram's total length or 0. */
static inline uint32_t spp_tunnel_ok(const uint8_t *ip, uint32_t avail) {
    uint32_t tot = spp_ipv4_ok(ip, avail);
    if (!tot || (ip[0] & 15) != 5 || tot < 28 || ip[9] != 17 || (spp_rd16(ip + 6) & 0x3FFF)) return 0;
    uint32_t ulen = spp_rd16(ip + 24);
    return ulen >= 8 && ulen <= tot - 20 ? tot : 0;
}

/* Write Ethernet (dst, src, 0x8100) and the 802.1Q tag (PCP 0, VID, inner
 * EtherType) at f. */
static inline void spp_wr_l2(uint8_t *f, uint64_t dst, uint64_t src, uint32_t vid, uint32_t type) {
    spp_wr_mac(f, dst);
    spp_wr_mac(f + 6, src);
    spp_wr16(f + 12, SPP_TPID);
    spp_wr16(f + 14, vid & 0xFFF);
    spp_wr16(f + 16, type);
}

/* Move the start of a packet's frame by delta bytes (the end stays where it
 * is: its length changes by -delta), so a header can be replaced by a
 * longer or shorter one in front of the same bytes. */
static inline void spp_reframe(np_t *m, uint32_t h, int delta) {
    np_desc_t *d = &m->desc[h];
    d->off = (uint16_t)((int)d->off + delta);
    d->len = (uint32_t)((int)d->len - delta);
}

/* Per-thread code-option call records of a block instance (they live across
 * the thread's yields while it replays them) and its counts of the codes
 * code options gave (drops and exceptions, by code-option slot). */
#define SPP_MAX_COPT 32
typedef struct spp_calls {
    np_plrec_t *recs;
    int32_t *rec_of;                   /* thread id -> its record (-1: not this instance's) */
    uint64_t (*codes)[2][256];         /* [slot][0 drops, 1 exceptions][code] */
} spp_calls_t;

static inline int spp_calls_init(np_t *m, np_inst_t *x, spp_calls_t *c) {
    int k = 0;
    c->rec_of = malloc((size_t)(m->n_thr ? m->n_thr : 1) * sizeof *c->rec_of);
    c->codes = calloc(SPP_MAX_COPT, sizeof *c->codes);
    if (!c->rec_of || !c->codes) return np_fail(m, "%s: out of memory", x->name);
    for (int i = 0; i < m->n_thr; i++) c->rec_of[i] = m->thr[i].inst == x ? k++ : -1;
    c->recs = calloc((size_t)(k ? k : 1), sizeof *c->recs);
    return c->recs ? 0 : np_fail(m, "%s: out of memory", x->name);
}
static inline void spp_calls_fini(spp_calls_t *c) { free(c->recs); free(c->rec_of); free(c->codes); }
static inline void spp_count_code(spp_calls_t *c, uint32_t slot, int exc, uint32_t code) {
    if (slot < SPP_MAX_COPT) c->codes[slot][exc][code & 0xFF]++;
}

#endif
