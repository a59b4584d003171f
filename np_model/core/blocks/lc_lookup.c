/* LC Lookup -- where a frame goes next on the SPP line card.
 *
 * Ingress: one TCAM search of the endpoint filters with (dst IP, UDP port,
 * protocol); the match names the board (MAC) the frame goes to -- the NPE
 * that runs the endpoint's fast path, or a GPE -- the VID of its context
 * there and the line-card ingress queue. The default filter is the
 * lowest-ranked entry and matches everything: to the GPE [C LCS: "the
 * default filter sends a packet to the GPE"; virtual_routers.md 1.4].
 * Egress: the VID is an egress context -- external port and queue (hash
 * egress); the next hop's MAC is the ARP entry of the datagram's
 * destination, else the port's next hop.
 * Drops: lc_no_filter, substrate_unknown_context, lc_no_next_hop.
 */
#include "spp.h"

enum { R_IN, R_OUT, R_FREE, R_N };
enum { M_TCAM, M_RESULT, M_CFG, M_N };
enum { T_FILTERS, T_EGRESS, T_ARP, T_NEXTHOP, T_N };
enum { P_COST_BASE, P_COST_LOOKUP, P_TCAM_KEY_BYTES, P_N };
enum { C_TO_NPE, C_TO_GPE, C_DEFAULT, C_EGRESS, C_DROPS, C_N };

/* result kinds of the line card's filters (np_result_t.kind); flags bit 0: the default filter */
#define LC_TO_NPE 0
#define LC_TO_GPE 1

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "lc_key", "from Key Extract"),
    [R_OUT] = NP_OUT("out", "lc_res", "to Header Format"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_TCAM] = { "tcam", "the TCAM (search)" }, [M_RESULT] = { "result", "TCAM result records (SRAM)" },
    [M_CFG] = { "cfg", "egress contexts and next hops (SRAM)" },
};
static const np_named_t tables[T_N] = {
    [T_FILTERS] = { "filters", "endpoint filters and the default filter (lc_filter_key)" },
    [T_EGRESS] = { "egress", "VID -> output port << 16 | encoded QID" },
    [T_ARP] = { "arp", "next hop IPv4 -> MAC" }, [T_NEXTHOP] = { "nexthop", "external port -> its next hop's MAC" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 30, "Lookup: ring entry, key build"),
    [P_COST_LOOKUP] = NP_COST("cost_lookup", 30, "Lookup: TCAM command and result handling, or the egress tables"),
    [P_TCAM_KEY_BYTES] = NP_PARAM("tcam_key_bytes", 9, 1, 64, "B", "estimate",
                                  "bytes of key one search sends (56 bits: address, port, protocol)"),
};
static const np_named_t counters[C_N] = {
    [C_TO_NPE] = { "to_npe", "frames to an NPE" }, [C_TO_GPE] = { "to_gpe", "frames to a GPE (filters and default)" },
    [C_DEFAULT] = { "default", "frames the default filter took" }, [C_EGRESS] = { "egress", "frames to external ports" },
    [C_DROPS] = { "drops", "frames dropped" },
};

typedef struct { uint32_t e[NP_XWORDS]; uint32_t h, reason, dir; } lk_l;

static void lc_lookup_run(np_t *m, np_thread_t *t) {
    lk_l *L = LOCALS(lk_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_lc_key_t k;
            np_unpack_lc_key(t->xin, &k);
            np_lc_res_t r = { .handle = k.handle, .in_port = k.in_port, .len = k.len, .dir = k.dir };
            L->h = k.handle; L->dir = k.dir; L->reason = 0;
            t->pkt = m->desc[L->h].pkt;
            if (!k.dir) {
                uint32_t key[NP_KEY_WORDS] = { 0 };
                np_lc_filter_key_t fk = { .daddr = k.daddr, .dport = k.dport, .proto = k.proto };
                np_pack_lc_filter_key(key, &fk);
                const np_tentry_t *te = np_tcam_match(m, TABLE(T_FILTERS), key);
                if (!te) L->reason = NP_DROP_LC_NO_FILTER;
                else {
                    r.kind = te->res.kind; r.qid = te->res.qid; r.vid = te->res.arg & 0xFFF;
                    r.mac_hi = (uint32_t)(te->res.nh_mac >> 16); r.mac_lo = (uint32_t)(te->res.nh_mac & 0xFFFF);
                    r.out_port = (uint32_t)np_qid_port(te->res.qid);
                    if (te->res.kind == LC_TO_NPE) COUNT(C_TO_NPE, 1); else COUNT(C_TO_GPE, 1);
                    if (te->res.flags & 1) COUNT(C_DEFAULT, 1);
                }
            } else {
                uint64_t v, mac;
                if (!np_hmap_get(&m->tbl[TABLE(T_EGRESS)]->h, k.vid, &v)) L->reason = NP_DROP_SUBSTRATE_UNKNOWN_CONTEXT;
                else {
                    r.out_port = (uint32_t)(v >> 16) & 0xFF; r.qid = (uint32_t)v & 0xFFFF; r.vid = k.vid;
                    if (!np_hmap_get(&m->tbl[TABLE(T_ARP)]->h, k.daddr, &mac)
                        && !np_hmap_get(&m->tbl[TABLE(T_NEXTHOP)]->h, r.out_port, &mac)) L->reason = NP_DROP_LC_NO_NEXT_HOP;
                    else { r.mac_hi = (uint32_t)(mac >> 16); r.mac_lo = (uint32_t)(mac & 0xFFFF); COUNT(C_EGRESS, 1); }
                }
            }
            np_pack_lc_res(L->e, &r);
        }
        COMPUTE(t, PARAM(P_COST_BASE));
        if (!L->dir) {
            OP_MEM(t, M_TCAM, 0, 0, (uint32_t)PARAM(P_TCAM_KEY_BYTES));
            COMPUTE(t, PARAM(P_COST_LOOKUP));
            if (!L->reason) OP_MEM(t, M_RESULT, 0, 0, 16);
        } else {
            COMPUTE(t, PARAM(P_COST_LOOKUP));
            OP_MEM(t, M_CFG, 0, 0, 8);                      /* the egress context */
            if (L->reason != NP_DROP_SUBSTRATE_UNKNOWN_CONTEXT) OP_MEM(t, M_CFG, 0, 4096, 8);   /* the next hop */
        }
        if (L->reason) {
            COUNT(C_DROPS, 1);
            np_drop_h(m, L->h, (int)L->reason, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        OP_RING_PUT(t, R_OUT, NP_OPF_POSTED, L->e, NP_W_lc_res);
    }
    PT_END(t);
}

NP_BLOCK(lc_lookup, .doc = "SPP LC Lookup: endpoint filters (TCAM, default to the GPE); egress contexts and next hops",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(lk_l), .run = lc_lookup_run);
