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
 *        plugin_ring_full, exc_ring_full, no_buffer (copies), and the
 *        RFC 1812 checks below: martian_src, martian_dst, l2_bcast_unicast,
 *        l2_mcast_unicast, mcast_no_route, mcast_link_local.
 * Exceptions: ttl_expired, ip_options, no_route, non_ip, arp_needed,
 *        nh_invalid, local_delivery, filter_to_host, mtu_exceeded (the
 *        IPv4 packet is larger than the output port's MTU; multicast is not
 *        checked), redirect (a copy of a packet forwarded back out of its
 *        input port to a next hop on its source's subnet; the original is
 *        forwarded).
 *
 * RFC 1812 checks (issue 10), each in its own helper below and each with an
 * ALU cost from the profile (cost_plc_*):
 *  - an 802.1Q priority tag (TPID 0x8100, VID 0) is removed: the port is
 *    untagged and the frame is treated as untagged (IEEE 802.1Q, VID 0 =
 *    priority only) -- cost PLC_PRIO_TAG plus the rewrite of the frame;
 *  - the frame is cut to the IPv4 Total Length (RFC 791) and padded with
 *    zeros to the minimum frame (RFC 894) -- PLC_LEN_FIX plus the write of
 *    the padding;
 *  - martian sources and destinations (RFC 1812 5.3.7, 4.2.2.11, 4.2.3.1;
 *    RFC 1122 3.2.1.3; RFC 3927 s7) are dropped on every path -- PLC_MARTIAN;
 *  - a unicast datagram in an Ethernet broadcast or group frame is dropped
 *    (5.3.4); the limited broadcast and the directed broadcast of a
 *    connected subnet go to the control processor, never forwarded
 *    (4.2.3.1, RFC 2644) -- PLC_L2_CHECK;
 *  - class D: forwarded only by a multicast route or filter (to the
 *    01:00:5e group MAC, RFC 1112 6.4), never 224.0.0.0/24 (RFC 5771) --
 *    PLC_MCAST;
 *  - ICMP redirect detection (5.2.7.2, 4.3.3.2): one more route search for
 *    the source -- PLC_REDIRECT.
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

/* ---------------------------------------------------------------------------
 * RFC 1812 checks (issue 10). Each is a small function of the packet and the
 * tables; plc_classify calls them and charges their costs through L->alu.
 * ------------------------------------------------------------------------ */
#define IP_BCAST 0xFFFFFFFFu

static int ip_class_d(uint32_t a) { return (a >> 28) == 0xE; }

/* An invalid source (RFC 1812 5.3.7 with 4.2.2.11, RFC 1122 3.2.1.3, RFC 3927
 * s7): 0/8 (except 0.0.0.0 to the limited broadcast, a host learning its
 * address), 127/8, class D, class E and 255.255.255.255 (not unicast),
 * 169.254/16 (link-local: never forwarded, and the router has no link-local
 * address to be the destination). */
static int plc_martian_src(uint32_t s, uint32_t d) {
    if ((s >> 24) == 0) return !(s == 0 && d == IP_BCAST);
    return (s >> 24) == 127 || (s >> 28) >= 0xE || (s >> 16) == 0xA9FE;
}

/* An invalid destination (5.3.7 with 4.2.2.11, 4.2.3.1): 0/8, 127/8,
 * 169.254/16, and class E 240/4 except the limited broadcast. RFC 1812 makes
 * class E an invalid destination; Linux forwards 240/4 since 2.6.25 -- this
 * router follows the RFC. */
static int plc_martian_dst(uint32_t d) {
    if (d == IP_BCAST) return 0;
    return (d >> 24) == 0 || (d >> 24) == 127 || (d >> 28) == 0xF || (d >> 16) == 0xA9FE;
}

/* The all-ones (bcast = 1) or all-zeros host part of a connected (on-link)
 * subnet of /30 or larger: an IP broadcast the router receives and never
 * forwards (4.2.3.1; RFC 2644 directed broadcasts off), or discards. */
static int plc_subnet_bcast(const np_route_t *r, uint32_t d, int bcast) {
    if (!r || !(r->flags & NP_RT_ONLINK) || (r->flags & (NP_RT_LOCAL | NP_RT_MCAST)) || r->plen > 30) return 0;
    uint32_t host = r->plen ? ~(0xFFFFFFFFu << (32 - r->plen)) : 0xFFFFFFFFu;
    return bcast ? (d & host) == host : (d & host) == 0;
}

/* IEEE 802.1Q priority tag (TPID 0x8100, VID 0: priority only) on a frame to
 * this untagged port: remove the tag in place so the frame is untagged.
 * Returns the bytes rewritten from offset 12 (0: no priority tag). */
static uint32_t plc_strip_prio_tag(uint8_t *f, uint32_t *len) {
    if (*len < 18 || rd16(f + 12) != 0x8100 || (rd16(f + 14) & 0x0FFF) != 0) return 0;
    memmove(f + 12, f + 16, *len - 16);
    *len -= 4;
    return *len - 12;
}

/* RFC 791: the datagram is Total Length bytes; anything after it in the frame
 * (an Ethernet trailer, padding) is not part of it. The frame is cut to the
 * datagram and, when that is shorter than the minimum frame, padded with
 * zeros (RFC 894). Returns 1 if the frame changed; *len is the new length and
 * [*wr_off, *wr_off + *wr_len) the padding bytes written (0 if already zero). */
static int plc_fix_len(np_t *m, uint8_t *f, uint32_t *len, uint32_t tot, uint32_t *wr_off, uint32_t *wr_len) {
    uint32_t want = 14 + tot, minf = m->p.min_frame > m->p.fcs_bytes ? m->p.min_frame - m->p.fcs_bytes : 0;
    uint32_t end = want < minf ? minf : want;
    *wr_off = want; *wr_len = 0;
    for (uint32_t i = want; i < end; i++)
        if (i >= *len || f[i]) { memset(f + want, 0, end - want); *wr_len = end - want; break; }
    int changed = end != *len || *wr_len;
    *len = end;
    return changed;
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
    int mcast = ip_class_d(p->daddr);
    if (mcast) {                                                /* RFC 5771: local network control block */
        L->alu += m->cost[NP_C_PLC_MCAST];
        if ((p->daddr & 0xFFFFFF00u) == 0xE0000000u) { out_add(L, NP_PO_DROP, NP_DROP_MCAST_LINK_LOCAL); return; }
    }
    if (p->ttl <= 1) { out_add(L, NP_PO_EXC, NP_EXC_TTL); return; }
    if (p->ihl > 5) { out_add(L, NP_PO_EXC, NP_EXC_OPTIONS); return; }
    if (!mask && p->tot > m->port[port].mtu) {                 /* RFC 1812 5.2.6 / 4.2.2.5 */
        np_plc_out_t *o = out_add(L, NP_PO_EXC, NP_EXC_MTU);
        o->port = (uint8_t)port;
        return;
    }
    uint64_t mac = 0;
    if (mask || mcast) {                    /* a multicast route, or a filter sending a group to a port */
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
         * r is the route search PLC already made for this packet. A class D
         * packet gets its group MAC and the filter's port instead. */
        np_plc_out_t *o = out_add(L, NP_PO_PLUGIN, a->plugin);
        o->qid = a->qid; o->port = a->port; o->stats = a->stats;
        if (ip_class_d(p->daddr)) {             /* a group: never a unicast route's next hop (RFC 1112 6.4) */
            o->mac = 0x01005E000000ULL | (p->daddr & 0x7FFFFF);
        } else if (r && !(r->flags & (NP_RT_LOCAL | NP_RT_MCAST))) {
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

/* A drop reason of the RFC 1812 checks (the packet must not leave by any port). */
static int plc_rfc_drop(uint32_t reason) {
    return reason == NP_DROP_MARTIAN_SRC || reason == NP_DROP_MARTIAN_DST || reason == NP_DROP_L2_BCAST_UNICAST
        || reason == NP_DROP_L2_MCAST_UNICAST || reason == NP_DROP_MCAST_NO_ROUTE || reason == NP_DROP_MCAST_LINK_LOCAL;
}

/* RFC 1812 5.2.7.2: a packet routed back out of the port it came in on, to
 * a next hop on its source's subnet (the source's route is the connected
 * route of that port: one more route search), gets a copy to the control
 * processor, which sends the host redirect; the original is forwarded.
 * Packets with options (a source route among them) never get here: they
 * are exceptions. */
static void plc_redirect(np_t *m, np_plc_l *L, const plc_pkt_t *p) {
    const np_plc_out_t *o = &L->out[0];
    if (L->src != NP_SRC_RX || L->nout != 1 || o->kind != NP_PO_QM || o->port != L->in_port || !o->nh_ip
        || o->nh_ip == p->saddr)
        return;
    L->alu += m->cost[NP_C_PLC_REDIRECT];
    L->ntcam++;
    const np_route_t *rs = np_tbl_route(m, p->saddr, (int)L->in_port);
    if (!rs || !(rs->flags & NP_RT_ONLINK) || (rs->flags & (NP_RT_LOCAL | NP_RT_MCAST)) || rs->out_port != L->in_port)
        return;
    uint32_t nh = o->nh_ip;
    np_plc_out_t *x = out_add(L, NP_PO_EXC, NP_EXC_REDIRECT);
    x->port = (uint8_t)L->in_port; x->nh_ip = nh;
}

/* The functional work of PLC for one packet: fills L->out (out[0] is the
 * original's fate, the rest are copies), counts TCAM searches in L->ntcam,
 * the RFC 1812 checks' ALU cycles in L->alu and the packet bytes they
 * rewrote in L->wr_off/wr_len. */
static void plc_classify(np_t *m, np_plc_l *L) {
    uint8_t *f = np_pkt_data(m, L->h);
    plc_pkt_t p;
    memset(&p, 0, sizeof p);
    L->nout = 0; L->ntcam = 0; L->ttl_dec = 0; L->alu = 0; L->wr_off = 0; L->wr_len = 0;
    if (L->src == NP_SRC_RX) {
        uint64_t dst = rd_mac(f);
        if (dst != m->port[L->in_port].mac && !(f[0] & 1)) { out_add(L, NP_PO_DROP, NP_DROP_L2_NOT_FOR_ROUTER); return; }
    }
    {                                                /* 802.1Q priority tag: untagged port */
        uint32_t n = plc_strip_prio_tag(f, &L->len);
        if (n) {
            L->alu += m->cost[NP_C_PLC_PRIO_TAG];
            L->wr_off = 12; L->wr_len = n;
            m->desc[L->h].len = L->len;
        }
    }
    uint32_t len = L->len;
    if (rd16(f + 12) != 0x0800) { out_add(L, NP_PO_EXC, NP_EXC_NON_IP); return; }
    if (len < 34) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    const uint8_t *ip = f + 14;
    uint32_t ihl = ip[0] & 15, tot = rd16(ip + 2);
    if ((ip[0] >> 4) != 4) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_VERSION); return; }
    if (ihl < 5) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_IHL); return; }
    if (tot < ihl * 4 || tot > len - 14) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    if (!csum_ok(ip, (int)ihl * 4)) { out_add(L, NP_PO_DROP, NP_DROP_IP_BAD_CHECKSUM); return; }
    {                                                /* cut to Total Length, zero padding */
        uint32_t off, n;
        if (plc_fix_len(m, f, &L->len, tot, &off, &n)) {
            L->alu += m->cost[NP_C_PLC_LEN_FIX];
            m->desc[L->h].len = L->len;
            if (n) {
                if (!L->wr_len) { L->wr_off = off; L->wr_len = n; }
                else if (off + n > L->wr_off + L->wr_len) L->wr_len = off + n - L->wr_off;
            }
        }
        len = L->len;
    }
    p.saddr = rd32(ip + 12); p.daddr = rd32(ip + 16); p.ttl = ip[8]; p.ihl = (uint8_t)ihl; p.tot = tot;
    L->alu += m->cost[NP_C_PLC_MARTIAN];
    if (plc_martian_src(p.saddr, p.daddr)) { out_add(L, NP_PO_DROP, NP_DROP_MARTIAN_SRC); return; }
    if (plc_martian_dst(p.daddr)) { out_add(L, NP_PO_DROP, NP_DROP_MARTIAN_DST); return; }
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

    /* RFC 1812 5.3.4 and 4.2.3.1: link-layer group frames, IP broadcasts */
    L->alu += m->cost[NP_C_PLC_L2_CHECK];
    int l2_group = L->src == NP_SRC_RX && (f[0] & 1), l2_bcast = l2_group && rd_mac(f) == 0xFFFFFFFFFFFFULL;
    int ip_bcast = p.daddr == IP_BCAST || plc_subnet_bcast(r, p.daddr, 1);
    if (l2_group && !ip_class_d(p.daddr) && !(ip_bcast && l2_bcast))
        out_add(L, NP_PO_DROP, l2_bcast ? NP_DROP_L2_BCAST_UNICAST : NP_DROP_L2_MCAST_UNICAST);
    else if (ip_bcast) out_add(L, NP_PO_LD, NP_EXC_LOCAL);
    else if (plc_subnet_bcast(r, p.daddr, 0)) out_add(L, NP_PO_DROP, NP_DROP_MARTIAN_DST);
    else if (pf && (!r || pf->a.prio <= r->prio)) plc_action(m, L, &p, &pf->a, 0, r);
    else if (!r && ip_class_d(p.daddr)) out_add(L, NP_PO_DROP, NP_DROP_MCAST_NO_ROUTE);
    else if (!r) out_add(L, NP_PO_EXC, NP_EXC_NO_ROUTE);
    else if (r->flags & NP_RT_LOCAL) out_add(L, NP_PO_LD, NP_EXC_LOCAL);
    else if (r->flags & NP_RT_MCAST) plc_forward(m, L, &p, 0, r->port_mask, r->qid, r->stats, 0, 0);
    else if (ip_class_d(p.daddr)) out_add(L, NP_PO_DROP, NP_DROP_MCAST_NO_ROUTE);   /* RFC 1112: no unicast route */
    else {
        plc_forward(m, L, &p, r->out_port, 0, r->qid, r->stats, r->nh_mac,
                    (r->flags & NP_RT_ONLINK) ? p.daddr : r->nh_ip);
        plc_redirect(m, L, &p);
    }
    /* no auxiliary copy of a packet the RFC 1812 checks refused: a copy to a port would forward it */
    int refused = L->out[0].kind == NP_PO_DROP && plc_rfc_drop(L->out[0].arg);
    if (af && !refused && L->nout < 11 && (uint32_t)(np_rand(m) & 0xFFFF) <= af->a.sample)
        plc_action(m, L, &p, &af->a, 1, r);
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
            COMPUTE(t, L->alu);
            if (L->wr_len)                  /* priority tag removed / zero padding: the frame rewritten */
                OP_MEM(t, NP_MR_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h) + L->wr_off, L->wr_len);
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
