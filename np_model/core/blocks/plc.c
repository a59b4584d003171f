/* PLC -- Parse, Lookup and Copy (NPR: 3 MEs).
 *
 * In:  Mux -> PLC ring (NPR layout).
 * Out: PLC -> QM {handle|port, qid, len}; plug-in rings (NPR layout);
 *      exception and local-delivery rings to the control processor;
 *      stats ring; free ring for dropped packets.
 * Per packet: read the headers, validate Ethernet + IPv4 (RFC 1812 5.2.2),
 * search the TCAM (route table and primary filters in one search, then the
 * auxiliary filters), pick the highest priority (lower number; a filter
 * wins a tie), decrement TTL with an incremental checksum (RFC 1624), make
 * copies for multicast and auxiliary filters, and steer each to QM, a
 * plug-in or the control processor.
 * Drops: l2_not_for_router, ip_bad_*, filter_drop, no_plugin,
 *        plugin_ring_full, exc_ring_full, no_buffer (copies).
 * Exceptions: ttl_expired, ip_options, no_route, non_ip, arp_needed,
 *        nh_invalid, local_delivery, filter_to_host, mtu_exceeded (the
 *        IPv4 packet is larger than the output port's MTU; multicast is not checked).
 */
#include <string.h>
#include "../npcore.h"

#define MAC_VALID (1ULL << 48)

static uint64_t rd_mac(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v = v << 8 | p[i];
    return v;
}
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint16_t csum_ok(const uint8_t *ip, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i += 2) s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return s == 0xFFFF;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for the TTL/protocol word. */
static void ttl_decrement(uint8_t *ip) {
    uint16_t old = rd16(ip + 8);
    ip[8]--;
    uint16_t nw = rd16(ip + 8);
    uint32_t s = (uint16_t)~rd16(ip + 10) + (uint32_t)(uint16_t)~old + nw;
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    uint16_t hc = (uint16_t)~s;
    ip[10] = (uint8_t)(hc >> 8); ip[11] = (uint8_t)hc;
}

/* Stochastic fair queueing over the 64 datagram queues [C NPR-queues]. */
static uint16_t datagram_qid(uint32_t saddr, uint32_t daddr) {
    uint32_t x = saddr * 0x9E3779B1u ^ daddr;
    x ^= x >> 15; x *= 0x2C1B3C6Du; x ^= x >> 12;
    return (uint16_t)(x % NP_DATAGRAM_QUEUES);
}

static np_plc_out_t *out_add(np_plc_l *L, int kind, uint32_t arg) {
    np_plc_out_t *o = &L->out[L->nout++];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind; o->arg = arg;
    return o;
}

typedef struct {
    uint32_t saddr, daddr, tot;
    uint8_t ttl, ihl;
    np_fkey_t key;
} plc_pkt_t;

/* Forward to one port (or, for a multicast port mask, to each port but the
 * input one): TTL and options checks, next-hop resolution, TTL decrement. */
static void plc_forward(np_t *m, np_plc_l *L, const plc_pkt_t *p, int port, uint32_t mask,
                        uint16_t qid, uint16_t stats, uint64_t nh_mac, uint32_t nh_ip) {
    if (p->ttl <= 1) { out_add(L, NP_PO_EXC, NP_EXC_TTL); return; }
    if (p->ihl > 5) { out_add(L, NP_PO_EXC, NP_EXC_OPTIONS); return; }
    if (!mask && p->tot > m->port[port].mtu) {                 /* RFC 1812 5.2.6 / 4.2.2.5 */
        np_plc_out_t *o = out_add(L, NP_PO_EXC, NP_EXC_MTU);
        o->port = (uint8_t)port;
        return;
    }
    uint64_t mac = 0;
    if (mask) {
        mac = 0x01005E000000ULL | (p->daddr & 0x7FFFFF);          /* RFC 1112 6.4 */
    } else if (nh_mac & MAC_VALID) {
        mac = nh_mac & 0xFFFFFFFFFFFFULL;
    } else {
        if (!nh_ip) { np_plc_out_t *o = out_add(L, NP_PO_EXC, NP_EXC_NH_INVALID); o->port = (uint8_t)port; return; }
        L->ntcam++;                                             /* ARP database search */
        if (!np_tbl_arp(m, nh_ip, &mac)) {
            np_plc_out_t *o = out_add(L, NP_PO_EXC, NP_EXC_ARP_NEEDED);
            o->nh_ip = nh_ip; o->port = (uint8_t)port;
            return;
        }
    }
    if (!L->ttl_dec) { ttl_decrement(np_pkt_data(m, L->h) + 14); L->ttl_dec = 1; }
    if (!qid) qid = datagram_qid(p->saddr, p->daddr);
    for (int pt = 0; pt < m->n_port; pt++) {
        if (mask ? !((mask >> pt) & 1) || pt == (int)L->in_port : pt != port) continue;
        np_plc_out_t *o = out_add(L, NP_PO_QM, 0);
        o->port = (uint8_t)pt; o->qid = qid; o->stats = stats; o->mac = mac; o->nh_ip = nh_ip;
        if (L->nout >= 11) break;
    }
}

static void plc_action(np_t *m, np_plc_l *L, const plc_pkt_t *p, const np_faction_t *a, int copy,
                       const np_route_t *r) {
    switch (a->kind) {
    case NP_FA_DROP:
        if (!copy) out_add(L, NP_PO_DROP, NP_DROP_FILTER_DROP);
        break;
    case NP_FA_PLUGIN: {
        /* The plug-in gets the route table's decision as its default: the
         * port, queue and next-hop MAC a plain forward would use (the TTL is
         * left alone: a plug-in may send the packet back to be classified).
         * r is the route search PLC already made for this packet. */
        np_plc_out_t *o = out_add(L, NP_PO_PLUGIN, a->plugin);
        o->qid = a->qid; o->port = a->port; o->stats = a->stats;
        if (r && !(r->flags & (NP_RT_LOCAL | NP_RT_MCAST))) {
            uint32_t nh = (r->flags & NP_RT_ONLINK) ? p->daddr : r->nh_ip;
            uint64_t mac = 0;
            o->port = r->out_port;
            if (!o->qid) o->qid = r->qid ? r->qid : datagram_qid(p->saddr, p->daddr);
            if (r->nh_mac & MAC_VALID) o->mac = r->nh_mac & 0xFFFFFFFFFFFFULL;
            else if (nh) { L->ntcam++; if (np_tbl_arp(m, nh, &mac)) o->mac = mac; }
            o->nh_ip = nh;
        }
        break;
    }
    case NP_FA_XSCALE:
        out_add(L, NP_PO_EXC, NP_EXC_FILTER);
        break;
    case NP_FA_MCAST:
        plc_forward(m, L, p, 0, a->port_mask, a->qid, a->stats, 0, 0);
        break;
    default:
        plc_forward(m, L, p, a->port, 0, a->qid, a->stats, a->nh_mac, a->nh_ip ? a->nh_ip : p->daddr);
        break;
    }
}

/* The functional work of PLC for one packet: fills L->out (out[0] is the
 * original's fate, the rest are copies) and counts TCAM searches in L->ntcam. */
static void plc_classify(np_t *m, np_plc_l *L) {
    const uint8_t *f = np_pkt_data(m, L->h);
    uint32_t len = L->len;
    plc_pkt_t p;
    memset(&p, 0, sizeof p);
    L->nout = 0; L->ntcam = 0; L->ttl_dec = 0;
    if (L->src == NP_SRC_RX) {
        uint64_t dst = rd_mac(f);
        if (dst != m->port[L->in_port].mac && !(f[0] & 1)) { out_add(L, NP_PO_DROP, NP_DROP_L2_NOT_FOR_ROUTER); return; }
    }
    if (rd16(f + 12) != 0x0800) { out_add(L, NP_PO_EXC, NP_EXC_NON_IP); return; }
    if (len < 34) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    const uint8_t *ip = f + 14;
    uint32_t ihl = ip[0] & 15, tot = rd16(ip + 2);
    if ((ip[0] >> 4) != 4) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_VERSION); return; }
    if (ihl < 5) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_IHL); return; }
    if (tot < ihl * 4 || tot > len - 14) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    if (!csum_ok(ip, (int)ihl * 4)) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_CHECKSUM); return; }
    p.saddr = rd32(ip + 12); p.daddr = rd32(ip + 16); p.ttl = ip[8]; p.ihl = (uint8_t)ihl; p.tot = tot;
    p.key.saddr = p.saddr; p.key.daddr = p.daddr; p.key.proto = ip[9];
    p.key.ptag = (uint8_t)L->ptag; p.key.in_port = (int8_t)L->in_port;
    uint32_t frag_off = rd16(ip + 6) & 0x1FFF, l4 = ihl * 4;
    if (frag_off == 0 && (ip[9] == 6 || ip[9] == 17) && tot >= l4 + 4) {
        p.key.sport = rd16(ip + l4); p.key.dport = rd16(ip + l4 + 2);
        if (ip[9] == 6 && tot >= l4 + 14) p.key.tcp_flags = (uint16_t)(rd16(ip + l4 + 12) & 0x0FFF);
    }
    L->ntcam = 1;                                   /* route + primary filter: one search */
    const np_route_t *r = np_tbl_route(m, p.daddr, (int)L->in_port);
    const np_filt_t *pf = np_tbl_filter(m, 0, &p.key);
    const np_filt_t *af = NULL;
    if (m->n_af) { L->ntcam++; af = np_tbl_filter(m, 1, &p.key); }

    if (p.daddr == 0xFFFFFFFFu) out_add(L, NP_PO_LD, NP_EXC_LOCAL);
    else if (pf && (!r || pf->a.prio <= r->prio)) plc_action(m, L, &p, &pf->a, 0, r);
    else if (!r) out_add(L, NP_PO_EXC, NP_EXC_NO_ROUTE);
    else if (r->flags & NP_RT_LOCAL) out_add(L, NP_PO_LD, NP_EXC_LOCAL);
    else if (r->flags & NP_RT_MCAST) plc_forward(m, L, &p, 0, r->port_mask, r->qid, r->stats, 0, 0);
    else plc_forward(m, L, &p, r->out_port, 0, r->qid, r->stats, r->nh_mac,
                     (r->flags & NP_RT_ONLINK) ? p.daddr : r->nh_ip);
    if (af && L->nout < 11 && (uint32_t)(np_rand(m) & 0xFFFF) <= af->a.sample) plc_action(m, L, &p, &af->a, 1, r);
    if (!L->nout) out_add(L, NP_PO_DROP, NP_DROP_MCAST_NO_PORTS);
}

/* A copy shares the data buffer: a new descriptor, a reference on the owner. */
static void plc_copy(np_t *m, uint32_t h, uint32_t c) {
    np_desc_t *d = &m->desc[c];
    *d = m->desc[h];
    d->flags = (uint8_t)((d->flags & ~NP_DF_LIVE) | NP_DF_COPY | NP_DF_LIVE);
    m->desc[d->data].refcnt++;
    m->ctr.copies++;
}

void np_blk_plc(np_t *m, np_thread_t *t) {
    np_plc_l *L = &t->u.plc;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, NP_ROLE_MUX_PLC, 0);
        L->h = NP_MUX_H(t->xin); L->in_port = NP_MUX_INPORT(t->xin); L->src = NP_MUX_SRC(t->xin);
        L->pt = NP_MUX_PT(t->xin); L->ptag = NP_MUX_PTAG(t->xin); L->len = NP_MUX_LEN(t->xin);
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, m->cost[NP_C_PLC_BASE]);
        if (L->pt) {                                /* pass-through: no classification */
            L->nout = 0;
            np_plc_out_t *o = out_add(L, NP_PO_QM, 0);
            o->port = (uint8_t)NP_MUX_OUT(t->xin); o->qid = (uint16_t)NP_MUX_QID(t->xin);
            o->mac = m->desc[L->h].nh_mac;
        } else {
            OP_MEM(t, NP_MR_PKT, 0, np_pkt_addr(m, L->h), L->len < 64 ? L->len : 64);
            COMPUTE(t, m->cost[NP_C_PLC_PARSE]);
            plc_classify(m, L);
            for (L->k = 0; L->k < L->ntcam; L->k++) OP_MEM(t, NP_MR_TCAM, 0, 0, 18);
            if (L->ntcam) {
                COMPUTE(t, m->cost[NP_C_PLC_LOOKUP]);
                OP_MEM(t, NP_MR_RESULT, 0, 0, 16);
            }
            COMPUTE(t, m->cost[NP_C_PLC_DECIDE]);
            if (L->ttl_dec) {
                COMPUTE(t, m->cost[NP_C_PLC_TTL]);
                OP_MEM(t, NP_MR_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h) + 16, 16);
            }
        }
        for (L->i = 0; L->i < L->nout; L->i++) {
            if (L->i == 0) L->c = L->h;
            else {
                COMPUTE(t, m->cost[NP_C_PLC_COPY]);
                OP_RING_GET(t, NP_ROLE_BUFQ, NP_OPF_TRY);
                if (t->result != NP_R_OK) {
                    m->ctr.copies++;
                    np_count_drop(m, NP_DROP_NO_BUFFER, m->desc[L->h].pkt, (int)L->in_port, NP_BLK_PLC);
                    continue;
                }
                L->c = t->xin[0];
                m->n_free_bufs--;
                plc_copy(m, L->h, L->c);
            }
            {
                np_plc_out_t *o = &L->out[L->i];
                np_desc_t *d = &m->desc[L->c];
                d->out_port = o->port; d->qid = o->qid; d->stats = o->stats;
                if (o->kind != NP_PO_DROP) { d->nh_mac = o->mac | (o->mac ? (1ULL << 48) : 0); d->nh_ip = o->nh_ip; }
                if (o->kind == NP_PO_DROP) np_drop_h(m, L->c, (int)o->arg, NP_BLK_PLC);
            }
            if (L->out[L->i].kind == NP_PO_DROP) {
                OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->c);
                continue;
            }
            OP_MEM(t, NP_MR_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->c * 32, 16);
            if (L->out[L->i].kind == NP_PO_QM) {
                OP_RING_PUT(t, NP_ROLE_PLC_QM, NP_OPF_POSTED, L->c | (uint32_t)L->out[L->i].port << 24,
                            L->out[L->i].qid, L->len);
            } else if (L->out[L->i].kind == NP_PO_PLUGIN) {
                if (!m->plugin_on[L->out[L->i].arg] || m->role_ring[NP_ROLE_PLUGIN0 + L->out[L->i].arg] < 0) {
                    np_drop_h(m, L->c, NP_DROP_NO_PLUGIN, NP_BLK_PLC);
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->c);
                    continue;
                }
                np_fmt_mux(L->e, L->c, L->out[L->i].port, L->src, 0, L->ptag, L->in_port, L->out[L->i].qid,
                           L->out[L->i].stats, L->len);
                OP_RING_PUT(t, NP_ROLE_PLUGIN0 + L->out[L->i].arg, NP_OPF_POSTED | NP_OPF_TRY, L->e[0], L->e[1], L->e[2]);
                if (t->result == NP_R_FULL) {
                    np_drop_h(m, L->c, NP_DROP_PLUGIN_RING_FULL, NP_BLK_PLC);
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->c);
                    continue;
                }
            } else {
                COMPUTE(t, m->cost[NP_C_PLC_EXC]);
                np_fmt_mux(L->e, L->c, L->out[L->i].port, L->src, 0, L->ptag, L->in_port, 0, 0, L->len);
                L->e[1] |= (L->out[L->i].arg & 0x1F) << 3;
                OP_RING_PUT(t, L->out[L->i].kind == NP_PO_LD ? NP_ROLE_LD : NP_ROLE_EXC,
                            NP_OPF_POSTED | NP_OPF_TRY, L->e[0], L->out[L->i].arg, L->e[2],
                            (uint32_t)(L->out[L->i].mac >> 16), (uint32_t)(L->out[L->i].mac & 0xFFFF), 0x0800);
                if (t->result == NP_R_FULL) {
                    np_drop_h(m, L->c, NP_DROP_EXC_RING_FULL, NP_BLK_PLC);
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->c);
                    continue;
                }
            }
            if (L->out[L->i].stats && m->role_ring[NP_ROLE_STATS] >= 0)
                OP_RING_PUT(t, NP_ROLE_STATS, NP_OPF_POSTED | NP_OPF_TRY, L->out[L->i].stats, L->len, 0);
        }
    }
    PT_END(t);
}
