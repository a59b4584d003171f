/* PLC -- Parse, Lookup and Copy (NPR: 3 MEs).
 *
 * Per packet: read the headers, validate Ethernet + IPv4 (RFC 1812 5.2.2),
 * search the TCAM -- the route databases (multicast half first, then
 * unicast: longest prefix first) and the primary filters in one search, then
 * the auxiliary filters -- pick the highest priority (lower number; a filter
 * wins a tie), decrement TTL with an incremental checksum (RFC 1624), make
 * copies for multicast and auxiliary filters (at most max_copies), and steer
 * each to QM (encoded QIDs), a plug-in or the control processor.
 * Drops: l2_not_for_router, ip_bad_*, filter_drop, mcast_no_ports,
 *        no_plugin, plugin_ring_full, exc_ring_full, no_buffer (copies), and the
 *        RFC 1812 checks below: martian_src, martian_dst, l2_bcast_unicast,
 *        l2_mcast_unicast, mcast_no_route, mcast_link_local.
 * Exceptions (the NPR's bits): ttl_expired, ip_options, no_route, non_ip,
 *        arp_needed, nh_invalid; the model's: local_delivery,
 *        filter_to_host, mtu_exceeded (an IPv4 packet larger than the output
 *        port's MTU; multicast is not checked), redirect (a copy of a packet
 *        forwarded back out of its input port to a next hop on its source's
 *        subnet; the original is forwarded).
 *
 * RFC 1812 checks, each in its own helper below, each with an ALU cost
 * parameter (cost_*):
 *  - an 802.1Q priority tag (TPID 0x8100, VID 0) is removed: the port is
 *    untagged and the frame is treated as untagged (IEEE 802.1Q, VID 0 =
 *    priority only) -- cost_prio_tag plus the rewrite of the frame;
 *  - the frame is cut to the IPv4 Total Length (RFC 791) and padded with
 *    zeros to the minimum frame (RFC 894) -- cost_len_fix plus the write of
 *    the padding;
 *  - martian sources and destinations (RFC 1812 5.3.7, 4.2.2.11, 4.2.3.1;
 *    RFC 1122 3.2.1.3; RFC 3927 s7) are dropped on every path -- cost_martian;
 *  - a unicast datagram in an Ethernet broadcast or group frame is dropped
 *    (5.3.4); the limited broadcast and the directed broadcast of a
 *    connected subnet go to the control processor, never forwarded
 *    (4.2.3.1, RFC 2644) -- cost_l2_check;
 *  - class D: forwarded only by a multicast route or filter (to the
 *    01:00:5e group MAC, RFC 1112 6.4), never 224.0.0.0/24 (RFC 5771) --
 *    cost_mcast;
 *  - ICMP redirect detection (5.2.7.2, 4.3.3.2): one more route search for
 *    the source -- cost_redirect.
 */
#include "block.h"

#define PLC_PLUGINS 16
#define PLC_MAX_OUT 32
enum { R_IN, R_QM, R_EXC, R_LD, R_STATS, R_FREE, R_BUFQ, R_PLUGIN, R_N = R_PLUGIN + PLC_PLUGINS };
enum { M_PKT, M_DESC, M_TCAM, M_RESULT, M_N };
enum { T_ROUTES_MC, T_ROUTES_UC, T_PFILTER, T_AFILTER, T_ARP, T_N };
enum { P_COST_BASE, P_COST_PARSE, P_COST_LOOKUP, P_COST_DECIDE, P_COST_TTL, P_COST_COPY, P_COST_EXC,
       P_COST_PRIO_TAG, P_COST_MARTIAN, P_COST_L2_CHECK, P_COST_MCAST, P_COST_LEN_FIX, P_COST_REDIRECT,
       P_MAX_COPIES, P_DATAGRAM_QUEUES, P_TCAM_KEY_BYTES, P_N };
enum { C_PACKETS, C_PASSTHRU, C_COPIES, C_TO_QM, C_TO_PLUGIN, C_TO_HOST, C_DROPS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "mux_plc", "from Mux"),
    [R_QM] = NP_OUT("qm", "plc_qm", "to the queue manager"),
    [R_EXC] = NP_OUT("exc", "exc", "exceptions to the control processor"),
    [R_LD] = NP_OUT("ld", "exc", "local delivery to the control processor"),
    [R_STATS] = NP_OUT_OPT("stats", "stats_upd", "pre-queue counter updates"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
    [R_BUFQ] = NP_IN("bufq", "buf", "the buffer free list (copies)"),
    [R_PLUGIN] = NP_OUT_ARRAY("plugin", PLC_PLUGINS, "mux_plc", "plug-in input rings, by plug-in slot"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
    [M_TCAM] = { "tcam", "the TCAM (search)" }, [M_RESULT] = { "result", "TCAM result records (SRAM)" },
};
static const np_named_t tables[T_N] = {
    [T_ROUTES_MC] = { "routes_mc", "multicast routes (route DB, first half)" },
    [T_ROUTES_UC] = { "routes_uc", "unicast routes (route DB, second half)" },
    [T_PFILTER] = { "pfilter", "primary filters" }, [T_AFILTER] = { "afilter", "auxiliary filters" },
    [T_ARP] = { "arp", "next hop IP -> MAC" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "PLC: ring entry decode"),
    [P_COST_PARSE] = NP_COST("cost_parse", 80, "PLC: Ethernet/IPv4 parse, checksum, key build"),
    [P_COST_LOOKUP] = NP_COST("cost_lookup", 30, "PLC: TCAM command and result handling"),
    [P_COST_DECIDE] = NP_COST("cost_decide", 40, "PLC: priority resolution, next hop"),
    [P_COST_TTL] = NP_COST("cost_ttl", 15, "PLC: TTL decrement, RFC 1624 update"),
    [P_COST_COPY] = NP_COST("cost_copy", 30, "PLC: per copy made"),
    [P_COST_EXC] = NP_COST("cost_exc", 20, "PLC: exception entry build"),
    [P_COST_PRIO_TAG] = NP_COST("cost_prio_tag", 12,
                                "PLC: recognise an 802.1Q priority tag (VID 0) and remove it (plus the DRAM write)"),
    [P_COST_MARTIAN] = NP_COST("cost_martian", 8, "PLC: source/destination martian tests (RFC 1812 5.3.7), every IPv4 packet"),
    [P_COST_L2_CHECK] = NP_COST("cost_l2_check", 6, "PLC: link-layer group vs IP destination, subnet broadcasts "
                                "(RFC 1812 5.3.4), every IPv4 packet"),
    [P_COST_MCAST] = NP_COST("cost_mcast", 4, "PLC: class D rules (224.0.0.0/24, group MAC), class D only"),
    [P_COST_LEN_FIX] = NP_COST("cost_len_fix", 10, "PLC: cut the frame to the IPv4 total length / zero padding "
                               "(plus the DRAM write)"),
    [P_COST_REDIRECT] = NP_COST("cost_redirect", 20, "PLC: redirect test for a packet leaving by its input port "
                                "(plus one route search)"),
    [P_MAX_COPIES] = NP_PARAM("max_copies", 12, 1, PLC_MAX_OUT, "packets", "estimate",
                              "outputs one packet may have (original + multicast and aux copies)"),
    [P_DATAGRAM_QUEUES] = NP_PARAM("datagram_queues", 64, 1, 8192, "queues", "confirmed",
                                   "ONL tutorial, Mapping Flows to Queues: 64 datagram queues per port (SFQ)"),
    [P_TCAM_KEY_BYTES] = NP_PARAM("tcam_key_bytes", 18, 1, 64, "B", "code",
                                  "ONLdaemons npr_tcam.ini: 144-bit filter key"),
};
static const np_named_t counters[C_N] = {
    [C_PACKETS] = { "packets", "packets classified" }, [C_PASSTHRU] = { "passthru", "pass-through packets" },
    [C_COPIES] = { "copies", "copies made" }, [C_TO_QM] = { "to_qm", "entries to the queue manager" },
    [C_TO_PLUGIN] = { "to_plugin", "entries to plug-ins" }, [C_TO_HOST] = { "to_host", "entries to the control processor" },
    [C_DROPS] = { "drops", "packets dropped" },
};

enum { PO_DROP = 0, PO_QM, PO_PLUGIN, PO_EXC, PO_LD };
typedef struct plc_out {
    uint8_t kind, port;          /* kind: PO_* */
    uint16_t qid;                /* encoded */
    uint32_t arg;                /* drop reason / exception bits / plug-in slot */
    uint32_t ext;                /* exc: the model's extension code */
    uint32_t nh_ip;
    uint16_t stats;
    uint64_t mac;
} plc_out_t;
typedef struct {
    uint32_t h, c, in_port, len, src, pt, ptag, nout, i, k, ntcam, ttl_dec;
    uint32_t alu, wr_off, wr_len;    /* classification's extra ALU cycles; packet bytes it rewrote */
    uint32_t e[NP_XWORDS];
    plc_out_t out[PLC_MAX_OUT];
} plc_l;

#define MAC_VALID (1ULL << 48)

static uint64_t rd_mac(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v = v << 8 | p[i];
    return v;
}
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int csum_ok(const uint8_t *ip, int n) {
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

/* Stochastic fair queueing over the datagram queues [C NPR-queues]. */
static uint32_t datagram_queue(uint32_t saddr, uint32_t daddr, uint32_t n) {
    uint32_t x = saddr * 0x9E3779B1u ^ daddr;
    x ^= x >> 15; x *= 0x2C1B3C6Du; x ^= x >> 12;
    return x % n;
}

/* ---------------------------------------------------------------------------
 * RFC 1812 checks. Each is a small function of the packet and the tables;
 * plc_classify calls them and charges their costs through L->alu.
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

static int popcount32(uint32_t x) { return __builtin_popcount(x); }

/* The all-ones (bcast = 1) or all-zeros host part of a connected (on-link)
 * subnet of /30 or larger: an IP broadcast the router receives and never
 * forwards (4.2.3.1; RFC 2644 directed broadcasts off), or discards. */
static int plc_subnet_bcast(const np_tentry_t *e, uint32_t d, int bcast) {
    if (!e || e->res.kind != NP_RK_ONLINK) return 0;
    int plen = popcount32(e->mask[0]);
    if (plen > 30) return 0;
    uint32_t host = ~e->mask[0];
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

/* A drop reason of the RFC 1812 checks (the packet must not leave by any port). */
static int plc_rfc_drop(uint32_t reason) {
    return reason == NP_DROP_MARTIAN_SRC || reason == NP_DROP_MARTIAN_DST || reason == NP_DROP_L2_BCAST_UNICAST
        || reason == NP_DROP_L2_MCAST_UNICAST || reason == NP_DROP_MCAST_NO_ROUTE || reason == NP_DROP_MCAST_LINK_LOCAL;
}

typedef struct {
    uint32_t saddr, daddr, tot;
    uint8_t ttl, ihl;
    uint32_t fkey[NP_KEY_WORDS];     /* filter_key */
} plc_pkt_t;

typedef struct {
    np_t *m;
    np_thread_t *t;
    plc_l *L;
    uint32_t max_out;
} plc_ctx_t;

static plc_out_t *out_add(plc_ctx_t *c, int kind, uint32_t arg) {
    plc_l *L = c->L;
    plc_out_t *o = &L->out[L->nout++];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind; o->arg = arg;
    return o;
}
static plc_out_t *exc_add(plc_ctx_t *c, uint32_t bits, int ext_reason) {
    plc_out_t *o = out_add(c, PO_EXC, bits);
    if (ext_reason) o->ext = NP_XE(ext_reason);
    return o;
}

static int arp_lookup(plc_ctx_t *c, uint32_t ip, uint64_t *mac) {
    np_t *m = c->m;
    np_thread_t *t = c->t;
    c->L->ntcam++;                                          /* ARP database search */
    return np_hmap_get(&m->tbl[TABLE(T_ARP)]->h, ip, mac);
}

/* Forward to one port (or, for a multicast port mask, to each port but the
 * input one): TTL and options checks, next-hop resolution, TTL decrement. */
static void plc_forward(plc_ctx_t *c, const plc_pkt_t *p, int port, uint32_t mask,
                        uint32_t queue, uint16_t stats, uint64_t nh_mac, uint32_t nh_ip) {
    np_t *m = c->m;
    np_thread_t *t = c->t;
    plc_l *L = c->L;
    int mcast = ip_class_d(p->daddr);
    if (mcast) {                                                /* RFC 5771: local network control block */
        L->alu += (uint32_t)PARAM(P_COST_MCAST);
        if ((p->daddr & 0xFFFFFF00u) == 0xE0000000u) { out_add(c, PO_DROP, NP_DROP_MCAST_LINK_LOCAL); return; }
    }
    if (p->ttl <= 1) { exc_add(c, NP_XB_TTL, 0); return; }
    if (p->ihl > 5) { exc_add(c, NP_XB_OPTIONS, 0); return; }
    if (!mask && p->tot > m->port[port].mtu) {                 /* RFC 1812 5.2.6 / 4.2.2.5 */
        plc_out_t *o = exc_add(c, 0, NP_EXC_MTU);
        o->port = (uint8_t)port;
        return;
    }
    uint64_t mac = 0;
    if (mask || mcast) {                    /* a multicast route, or a filter sending a group to a port */
        mac = 0x01005E000000ULL | (p->daddr & 0x7FFFFF);          /* RFC 1112 6.4 */
    } else if (nh_mac & MAC_VALID) {
        mac = nh_mac & 0xFFFFFFFFFFFFULL;
    } else {
        if (!nh_ip) { plc_out_t *o = exc_add(c, NP_XB_NH_INVALID, 0); o->port = (uint8_t)port; return; }
        if (!arp_lookup(c, nh_ip, &mac)) {
            plc_out_t *o = exc_add(c, NP_XB_ARP_NEEDED, 0);
            o->nh_ip = nh_ip; o->port = (uint8_t)port;
            return;
        }
    }
    if (!L->ttl_dec) { ttl_decrement(np_pkt_data(m, L->h) + 14); L->ttl_dec = 1; }
    if (!queue) queue = datagram_queue(p->saddr, p->daddr, (uint32_t)PARAM(P_DATAGRAM_QUEUES));
    for (int pt = 0; pt < m->n_port; pt++) {
        if (mask ? !((mask >> pt) & 1) || pt == (int)L->in_port : pt != port) continue;
        if (L->nout >= c->max_out) break;
        plc_out_t *o = out_add(c, PO_QM, 0);
        o->port = (uint8_t)pt; o->qid = (uint16_t)np_qid((uint32_t)pt, queue); o->stats = stats;
        o->mac = mac; o->nh_ip = nh_ip;
    }
}

/* A filter's action (res.kind: np_faction_kind). */
static void plc_action(plc_ctx_t *c, const plc_pkt_t *p, const np_result_t *a, int copy, const np_result_t *r) {
    np_thread_t *t = c->t;
    switch (a->kind) {
    case NP_FA_DROP:
        if (!copy) out_add(c, PO_DROP, NP_DROP_FILTER_DROP);
        break;
    case NP_FA_PLUGIN: {
        /* The plug-in gets the route table's decision as its default: the
         * port, queue and next-hop MAC a plain forward would use (the TTL is
         * left alone: a plug-in may send the packet back to be classified).
         * r is the route search PLC already made for this packet. A class D
         * packet gets its group MAC and the filter's port instead. */
        plc_out_t *o = out_add(c, PO_PLUGIN, a->arg);
        o->qid = a->qid; o->port = (uint8_t)a->ports; o->stats = a->stats;
        if (ip_class_d(p->daddr)) {             /* a group: never a unicast route's next hop (RFC 1112 6.4) */
            o->mac = 0x01005E000000ULL | (p->daddr & 0x7FFFFF);
        } else if (r && (r->kind == NP_RK_NEXTHOP || r->kind == NP_RK_ONLINK)) {
            uint32_t nh = r->kind == NP_RK_ONLINK ? p->daddr : r->nh_ip;
            uint64_t mac = 0;
            o->port = (uint8_t)r->ports;
            if (!o->qid) {
                uint32_t q = np_qid_queue(r->qid);
                o->qid = (uint16_t)np_qid(r->ports, q ? q : datagram_queue(p->saddr, p->daddr, (uint32_t)PARAM(P_DATAGRAM_QUEUES)));
            }
            if (r->nh_mac & MAC_VALID) o->mac = r->nh_mac & 0xFFFFFFFFFFFFULL;
            else if (nh && arp_lookup(c, nh, &mac)) o->mac = mac;
            o->nh_ip = nh;
        }
        break;
    }
    case NP_FA_XSCALE:
        exc_add(c, 0, NP_EXC_FILTER);
        break;
    case NP_FA_MCAST:
        plc_forward(c, p, 0, a->ports, np_qid_queue(a->qid), a->stats, 0, 0);
        break;
    default:
        plc_forward(c, p, np_qid_port(a->qid), 0, np_qid_queue(a->qid), a->stats, a->nh_mac,
                    a->nh_ip ? a->nh_ip : p->daddr);
        break;
    }
}

/* RFC 1812 5.2.7.2: a packet routed back out of the port it came in on, to
 * a next hop on its source's subnet (the source's route is the connected
 * route of that port: one more route search), gets a copy to the control
 * processor, which sends the host redirect; the original is forwarded.
 * Packets with options (a source route among them) never get here: they
 * are exceptions. */
static void plc_redirect(plc_ctx_t *c, const plc_pkt_t *p) {
    np_t *m = c->m;
    np_thread_t *t = c->t;
    plc_l *L = c->L;
    const plc_out_t *o = &L->out[0];
    if (L->src != NP_SRC_RX || L->nout != 1 || o->kind != PO_QM || o->port != L->in_port || !o->nh_ip
        || o->nh_ip == p->saddr)
        return;
    L->alu += (uint32_t)PARAM(P_COST_REDIRECT);
    L->ntcam++;
    uint32_t key[NP_KEY_WORDS] = { 0 };
    np_route_key_t rk = { .daddr = p->saddr, .saddr = p->daddr, .ptag = L->ptag, .port = L->in_port };
    np_pack_route_key(key, &rk);
    const np_tentry_t *rs = np_tcam_match(m, TABLE(T_ROUTES_UC), key);
    if (!rs || rs->res.kind != NP_RK_ONLINK || rs->res.ports != L->in_port) return;
    uint32_t nh = o->nh_ip;
    plc_out_t *x = exc_add(c, 0, NP_EXC_REDIRECT);
    x->port = (uint8_t)L->in_port; x->nh_ip = nh;
}

/* The functional work of PLC for one packet: fills L->out (out[0] is the
 * original's fate, the rest are copies) and counts TCAM searches in L->ntcam. */
static void plc_classify(np_t *m, np_thread_t *t, plc_l *L) {
    plc_ctx_t c = { m, t, L, (uint32_t)PARAM(P_MAX_COPIES) };
    uint8_t *f = np_pkt_data(m, L->h);
    plc_pkt_t p;
    memset(&p, 0, sizeof p);
    L->nout = 0; L->ntcam = 0; L->ttl_dec = 0; L->alu = 0; L->wr_off = 0; L->wr_len = 0;
    if (L->src == NP_SRC_RX) {
        uint64_t dst = rd_mac(f);
        if (!np_port_has_mac(&m->port[L->in_port], dst) && !(f[0] & 1)) { out_add(&c, PO_DROP, NP_DROP_L2_NOT_FOR_ROUTER); return; }
    }
    {                                                /* 802.1Q priority tag: untagged port */
        uint32_t n = plc_strip_prio_tag(f, &L->len);
        if (n) {
            L->alu += (uint32_t)PARAM(P_COST_PRIO_TAG);
            L->wr_off = 12; L->wr_len = n;
            m->desc[L->h].len = L->len;
        }
    }
    uint32_t len = L->len;
    if (rd16(f + 12) != 0x0800) { exc_add(&c, NP_XB_NON_IP, 0); return; }
    if (len < 34) { out_add(&c, PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    const uint8_t *ip = f + 14;
    uint32_t ihl = ip[0] & 15, tot = rd16(ip + 2);
    if ((ip[0] >> 4) != 4) { out_add(&c, PO_DROP, NP_DROP_IP_BAD_VERSION); return; }
    if (ihl < 5) { out_add(&c, PO_DROP, NP_DROP_IP_BAD_IHL); return; }
    if (tot < ihl * 4 || tot > len - 14) { out_add(&c, PO_DROP, NP_DROP_IP_BAD_LENGTH); return; }
    if (!csum_ok(ip, (int)ihl * 4)) { out_add(&c, PO_DROP, NP_DROP_IP_BAD_CHECKSUM); return; }
    {                                                /* cut to Total Length, zero padding */
        uint32_t off, n;
        if (plc_fix_len(m, f, &L->len, tot, &off, &n)) {
            L->alu += (uint32_t)PARAM(P_COST_LEN_FIX);
            m->desc[L->h].len = L->len;
            if (n) {
                if (!L->wr_len) { L->wr_off = off; L->wr_len = n; }
                else if (off + n > L->wr_off + L->wr_len) L->wr_len = off + n - L->wr_off;
            }
        }
        len = L->len;
    }
    p.saddr = rd32(ip + 12); p.daddr = rd32(ip + 16); p.ttl = ip[8]; p.ihl = (uint8_t)ihl; p.tot = tot;
    L->alu += (uint32_t)PARAM(P_COST_MARTIAN);
    if (plc_martian_src(p.saddr, p.daddr)) { out_add(&c, PO_DROP, NP_DROP_MARTIAN_SRC); return; }
    if (plc_martian_dst(p.daddr)) { out_add(&c, PO_DROP, NP_DROP_MARTIAN_DST); return; }
    np_filter_key_t fk = { .daddr = p.daddr, .saddr = p.saddr, .ptag = L->ptag, .port = L->in_port, .proto = ip[9] };
    uint32_t frag_off = rd16(ip + 6) & 0x1FFF, l4 = ihl * 4;
    if (frag_off == 0 && (ip[9] == 6 || ip[9] == 17) && tot >= l4 + 4) {
        fk.sport = rd16(ip + l4); fk.dport = rd16(ip + l4 + 2);
        if (ip[9] == 6 && tot >= l4 + 14) fk.tcp_flags = (uint32_t)(rd16(ip + l4 + 12) & 0x0FFF);
    }
    np_pack_filter_key(p.fkey, &fk);
    uint32_t rkey[NP_KEY_WORDS] = { 0 };
    np_route_key_t rk = { .daddr = p.daddr, .saddr = p.saddr, .ptag = L->ptag, .port = L->in_port };
    np_pack_route_key(rkey, &rk);
    L->ntcam = 1;                                   /* routes + primary filters: one search */
    const np_tentry_t *re = np_tcam_match(m, TABLE(T_ROUTES_MC), rkey);
    if (!re) re = np_tcam_match(m, TABLE(T_ROUTES_UC), rkey);
    const np_tentry_t *pe = np_tcam_match(m, TABLE(T_PFILTER), p.fkey);
    const np_tentry_t *ae = NULL;
    if (m->tbl[TABLE(T_AFILTER)]->n) { L->ntcam++; ae = np_tcam_match(m, TABLE(T_AFILTER), p.fkey); }
    const np_result_t *r = re ? &re->res : NULL, *pf = pe ? &pe->res : NULL;

    /* RFC 1812 5.3.4 and 4.2.3.1: link-layer group frames, IP broadcasts */
    L->alu += (uint32_t)PARAM(P_COST_L2_CHECK);
    int l2_group = L->src == NP_SRC_RX && (f[0] & 1), l2_bcast = l2_group && rd_mac(f) == 0xFFFFFFFFFFFFULL;
    int ip_bcast = p.daddr == IP_BCAST || plc_subnet_bcast(re, p.daddr, 1);
    if (l2_group && !ip_class_d(p.daddr) && !(ip_bcast && l2_bcast))
        out_add(&c, PO_DROP, l2_bcast ? NP_DROP_L2_BCAST_UNICAST : NP_DROP_L2_MCAST_UNICAST);
    else if (ip_bcast) out_add(&c, PO_LD, 0)->ext = NP_XE(NP_EXC_LOCAL);
    else if (plc_subnet_bcast(re, p.daddr, 0)) out_add(&c, PO_DROP, NP_DROP_MARTIAN_DST);
    else if (pf && (!r || pf->prio <= r->prio)) plc_action(&c, &p, pf, 0, r);
    else if (!r && ip_class_d(p.daddr)) out_add(&c, PO_DROP, NP_DROP_MCAST_NO_ROUTE);
    else if (!r) exc_add(&c, NP_XB_NO_ROUTE, 0);
    else if (r->kind == NP_RK_LOCAL) out_add(&c, PO_LD, 0)->ext = NP_XE(NP_EXC_LOCAL);
    else if (r->kind == NP_RK_MCAST) plc_forward(&c, &p, 0, r->ports, np_qid_queue(r->qid), r->stats, 0, 0);
    else if (ip_class_d(p.daddr)) out_add(&c, PO_DROP, NP_DROP_MCAST_NO_ROUTE);   /* RFC 1112: no unicast route */
    else {
        plc_forward(&c, &p, (int)r->ports, 0, np_qid_queue(r->qid), r->stats, r->nh_mac,
                    r->kind == NP_RK_ONLINK ? p.daddr : r->nh_ip);
        plc_redirect(&c, &p);
    }
    /* no auxiliary copy of a packet the RFC 1812 checks refused: a copy to a port would forward it */
    int refused = L->out[0].kind == PO_DROP && plc_rfc_drop(L->out[0].arg);
    if (ae && !refused && L->nout < c.max_out && (np_rand(m) & 0xFFFF) <= ae->res.aux)
        plc_action(&c, &p, &ae->res, 1, r);
    if (!L->nout) out_add(&c, PO_DROP, NP_DROP_MCAST_NO_PORTS);
}

/* A copy shares the data buffer: a new descriptor, a reference on the owner. */
static void plc_copy(np_t *m, uint32_t h, uint32_t c) {
    np_desc_t *d = &m->desc[c];
    *d = m->desc[h];
    d->flags = (uint8_t)((d->flags & ~NP_DF_LIVE) | NP_DF_COPY | NP_DF_LIVE);
    m->desc[d->data].refcnt++;
    m->ctr.copies++;
}

static void plc_exc_entry(np_t *m, plc_l *L, const plc_out_t *o, uint32_t *w) {
    np_exc_t e = { .handle = L->c, .out_port = o->port, .ext = o->ext, .exc_bits = o->arg, .ptag = L->ptag,
                   .in_port = L->in_port, .qid = o->qid, .stats = o->stats, .len = L->len,
                   .nh_mac_hi = (uint32_t)(o->mac >> 16), .nh_mac_lo = (uint32_t)(o->mac & 0xFFFF),
                   .ucmc = 0, .ethertype = rd16(np_pkt_data(m, L->h) + 12) };
    np_pack_exc(w, &e);
}

static void plc_run(np_t *m, np_thread_t *t) {
    plc_l *L = LOCALS(plc_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_mux_plc_t e;
            np_unpack_mux_plc(t->xin, &e);
            L->h = e.handle; L->in_port = e.in_port; L->src = e.src; L->pt = e.pt; L->ptag = e.ptag; L->len = e.len;
            t->pkt = m->desc[L->h].pkt;
            COUNT(C_PACKETS, 1);
            COMPUTE(t, PARAM(P_COST_BASE));
            if (L->pt) {                                /* pass-through: no classification */
                plc_ctx_t c = { m, t, L, 1 };
                L->nout = 0;
                plc_out_t *o = out_add(&c, PO_QM, 0);
                o->qid = (uint16_t)e.qid; o->port = (uint8_t)np_qid_port(e.qid);
                o->mac = m->desc[L->h].nh_mac & 0xFFFFFFFFFFFFULL;
                COUNT(C_PASSTHRU, 1);
            }
        }
        if (!L->pt) {
            OP_MEM(t, M_PKT, 0, np_pkt_addr(m, L->h), L->len < 64 ? L->len : 64);
            COMPUTE(t, PARAM(P_COST_PARSE));
            plc_classify(m, t, L);
            COMPUTE(t, L->alu);
            if (L->wr_len)                  /* priority tag removed / zero padding: the frame rewritten */
                OP_MEM(t, M_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h) + L->wr_off, L->wr_len);
            for (L->k = 0; L->k < L->ntcam; L->k++) OP_MEM(t, M_TCAM, 0, 0, (uint32_t)PARAM(P_TCAM_KEY_BYTES));
            if (L->ntcam) {
                COMPUTE(t, PARAM(P_COST_LOOKUP));
                OP_MEM(t, M_RESULT, 0, 0, 16);
            }
            COMPUTE(t, PARAM(P_COST_DECIDE));
            if (L->ttl_dec) {
                COMPUTE(t, PARAM(P_COST_TTL));
                OP_MEM(t, M_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h) + 16, 16);
            }
        }
        for (L->i = 0; L->i < L->nout; L->i++) {
            if (L->i == 0) L->c = L->h;
            else {
                COMPUTE(t, PARAM(P_COST_COPY));
                OP_RING_GET(t, R_BUFQ, NP_OPF_TRY);
                if (t->result != NP_R_OK) {
                    m->ctr.copies++;
                    COUNT(C_DROPS, 1);
                    np_count_drop(m, NP_DROP_NO_BUFFER, m->desc[L->h].pkt, (int)L->in_port, I->id);
                    continue;
                }
                L->c = t->xin[0] & 0xFFFFFF;
                plc_copy(m, L->h, L->c);
                np_buf_taken(m, L->c);
                COUNT(C_COPIES, 1);
            }
            {
                plc_out_t *o = &L->out[L->i];
                np_desc_t *d = &m->desc[L->c];
                d->out_port = o->port; d->qid = o->qid; d->stats = o->stats;
                if (o->kind != PO_DROP) { d->nh_mac = o->mac | (o->mac ? MAC_VALID : 0); d->nh_ip = o->nh_ip; }
                if (o->kind == PO_DROP) { COUNT(C_DROPS, 1); np_drop_h(m, L->c, (int)o->arg, I->id); }
            }
            if (L->out[L->i].kind == PO_DROP) {
                OP_FREE(t, R_FREE, L->c);
                continue;
            }
            OP_MEM(t, M_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->c * 32, 16);
            if (L->out[L->i].kind == PO_QM) {
                COUNT(C_TO_QM, 1);
                {
                    np_plc_qm_t e = { .handle = L->c, .qid = L->out[L->i].qid, .len = L->len, .stats = L->out[L->i].stats };
                    OP_RING_PUT_REC(t, R_QM, NP_OPF_POSTED, plc_qm, e);
                }
            } else if (L->out[L->i].kind == PO_PLUGIN) {
                if (L->out[L->i].arg >= PLC_PLUGINS || RING(R_PLUGIN + L->out[L->i].arg) < 0
                    || (int)L->out[L->i].arg >= m->n_plugin || !m->plugin[L->out[L->i].arg]
                    || !m->plugin[L->out[L->i].arg]->active) {
                    COUNT(C_DROPS, 1);
                    np_drop_h(m, L->c, NP_DROP_NO_PLUGIN, I->id);
                    OP_FREE(t, R_FREE, L->c);
                    continue;
                }
                COUNT(C_TO_PLUGIN, 1);
                {
                    np_mux_plc_t e = { .handle = L->c, .out_port = L->out[L->i].port, .src = L->src,
                                       .ptag = L->ptag, .in_port = L->in_port, .qid = L->out[L->i].qid,
                                       .stats = L->out[L->i].stats, .len = L->len };
                    np_pack_mux_plc(L->e, &e);
                }
                OP_RING_PUT(t, R_PLUGIN + L->out[L->i].arg, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_mux_plc);
                if (t->result == NP_R_FULL) {
                    COUNT(C_DROPS, 1);
                    np_drop_h(m, L->c, NP_DROP_PLUGIN_RING_FULL, I->id);
                    OP_FREE(t, R_FREE, L->c);
                    continue;
                }
            } else {
                COMPUTE(t, PARAM(P_COST_EXC));
                COUNT(C_TO_HOST, 1);
                plc_exc_entry(m, L, &L->out[L->i], L->e);
                OP_RING_PUT(t, L->out[L->i].kind == PO_LD ? R_LD : R_EXC, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_exc);
                if (t->result == NP_R_FULL) {
                    COUNT(C_DROPS, 1);
                    np_drop_h(m, L->c, NP_DROP_EXC_RING_FULL, I->id);
                    OP_FREE(t, R_FREE, L->c);
                    continue;
                }
            }
            if (L->out[L->i].stats && RING(R_STATS) >= 0) {
                np_stats_upd_t u = { .index = L->out[L->i].stats, .len = L->len, .post = 0 };
                OP_RING_PUT_REC(t, R_STATS, NP_OPF_POSTED | NP_OPF_TRY, stats_upd, u);
            }
        }
    }
    PT_END(t);
}

NP_BLOCK(plc, .doc = "Parse, Lookup and Copy: IPv4 validation, TCAM routes and filters, copies, steering",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables),
         .params = NP_ARRAY(params), .counters = NP_ARRAY(counters), .locals = sizeof(plc_l), .run = plc_run);
