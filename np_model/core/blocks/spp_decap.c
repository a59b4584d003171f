/* SPP Substrate Decap -- the NPE's first stage after Rx.
 *
 * Checks an internal frame (spp.h) and finds the fast path (slot) and
 * meta-interface it is for: a frame from the line card carries a tunnel
 * packet, and its destination (IPv4 address, UDP port) is the endpoint of
 * one fast path's MI (table endpoints); the frame's VID must be that fast
 * path's [SPP: "(dst IP, UDP port) identifies slice + MI", virtual_routers.md
 * 1.4 [U]]. A frame from the slice's slow path (GPE) carries a meta header
 * of kind "inject": it enters the fast path whose VID it has (table vids)
 * on MI 0, and the meta header's slice must be that fast path's. The
 * frame is cut to the datagram's total length (Ethernet padding dropped).
 * Nothing is stripped: later stages rewrite the headers in front of the
 * outer IPv4 header.
 * Drops: l2_not_for_router, substrate_bad_header, substrate_unknown_endpoint,
 *        substrate_context_mismatch, substrate_unknown_context.
 */
#include "spp.h"

enum { R_IN, R_OUT, R_FREE, R_N };
enum { M_PKT, M_DESC, M_CFG, M_N };
enum { T_ENDPOINTS, T_VIDS, T_FPS, T_N };
enum { P_COST_BASE, P_COST_CHECK, P_N };
enum { C_PACKETS, C_FROM_SLOW_PATH, C_BAD_HEADER, C_UNKNOWN_ENDPOINT, C_MISMATCH, C_NOT_FOR_US, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "rx_mux", "frames from Rx"),
    [R_OUT] = NP_OUT("out", "spp_pkt", "to Parse: fast path, MI, outer header offset"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
    [M_CFG] = { "cfg", "endpoint table and fast-path records (SRAM)" },
};
static const np_named_t tables[T_N] = {
    [T_ENDPOINTS] = { "endpoints", "(IPv4 << 16 | UDP port) -> (fast-path slot + 1) << 16 | MI" },
    [T_VIDS] = { "vids", "VID -> fast-path slot + 1 (frames from the slow path)" },
    [T_FPS] = { "fps", "fast-path records (spp_fp_rec)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Substrate Decap: ring entry, descriptor"),
    [P_COST_CHECK] = NP_COST("cost_check", 60, "Substrate Decap: 802.1Q, outer IPv4/UDP checks, key build"),
};
static const np_named_t counters[C_N] = {
    [C_PACKETS] = { "packets", "frames taken" }, [C_FROM_SLOW_PATH] = { "from_slow_path", "frames from a GPE into MI 0" },
    [C_BAD_HEADER] = { "bad_header", "substrate_bad_header drops" },
    [C_UNKNOWN_ENDPOINT] = { "unknown_endpoint", "substrate_unknown_endpoint drops" },
    [C_MISMATCH] = { "context_drops", "substrate_context_mismatch and substrate_unknown_context drops" },
    [C_NOT_FOR_US] = { "not_for_us", "frames for another board's MAC" },
};

typedef struct { uint32_t h, port, len, reason, fp, mi, l3off, vid; } dc_l;

/* The functional work: the frame's fast path and MI, or a drop reason. */
static int decap(np_t *m, np_thread_t *t, dc_l *L) {
    uint8_t *f = np_pkt_data(m, L->h);
    uint32_t len = L->len;
    if (len < SPP_L2 + 28) return NP_DROP_SUBSTRATE_BAD_HEADER;
    if (!np_port_has_mac(&m->port[L->port], spp_rd_mac(f))) return NP_DROP_L2_NOT_FOR_ROUTER;
    if (spp_rd16(f + 12) != SPP_TPID) return NP_DROP_SUBSTRATE_BAD_HEADER;
    L->vid = spp_rd16(f + 14) & 0xFFF;
    uint32_t type = spp_rd16(f + 16);
    const uint8_t *meta = NULL;
    L->l3off = SPP_L2;
    if (type == SPP_ETHERTYPE_META) {
        meta = f + SPP_L2;
        if (len < SPP_L2_META + 28 || meta[0] != SPP_META_INJECT || spp_rd16(meta + 8) != 0x0800)
            return NP_DROP_SUBSTRATE_BAD_HEADER;
        L->l3off = SPP_L2_META;
    } else if (type != 0x0800) return NP_DROP_SUBSTRATE_BAD_HEADER;
    const uint8_t *ip = f + L->l3off;
    uint32_t tot = spp_tunnel_ok(ip, len - L->l3off);
    if (!tot) return NP_DROP_SUBSTRATE_BAD_HEADER;
    if (L->l3off + tot < len) { L->len = L->l3off + tot; m->desc[L->h].len = L->len; }   /* no padding */
    uint64_t v;
    if (!meta) {
        uint64_t key = (uint64_t)spp_rd32(ip + 16) << 16 | spp_rd16(ip + 22);
        if (!np_hmap_get(&m->tbl[TABLE(T_ENDPOINTS)]->h, key, &v) || !(v >> 16)) return NP_DROP_SUBSTRATE_UNKNOWN_ENDPOINT;
        L->fp = (uint32_t)(v >> 16) - 1; L->mi = (uint32_t)(v & 0xFFFF);
    } else {
        if (!np_hmap_get(&m->tbl[TABLE(T_VIDS)]->h, L->vid, &v) || !v) return NP_DROP_SUBSTRATE_UNKNOWN_CONTEXT;
        L->fp = (uint32_t)v - 1; L->mi = 0;
        if (spp_rd16(meta + 6) != 0) return NP_DROP_SUBSTRATE_BAD_HEADER;      /* a slow path enters at MI 0 */
    }
    const uint32_t *rw = np_array_rec(m, TABLE(T_FPS), L->fp);
    np_spp_fp_rec_t fp;
    if (!rw) return NP_DROP_SUBSTRATE_UNKNOWN_ENDPOINT;
    np_unpack_spp_fp_rec(rw, &fp);
    if (!fp.valid) return meta ? NP_DROP_SUBSTRATE_UNKNOWN_CONTEXT : NP_DROP_SUBSTRATE_UNKNOWN_ENDPOINT;
    if (fp.vid != L->vid || (meta && fp.slice != spp_rd16(meta + 4))) return NP_DROP_SUBSTRATE_CONTEXT_MISMATCH;
    if (meta) COUNT(C_FROM_SLOW_PATH, 1);
    return -1;
}

static void spp_decap_run(np_t *m, np_thread_t *t) {
    dc_l *L = LOCALS(dc_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_rx_mux_t e;
            np_unpack_rx_mux(t->xin, &e);
            L->h = e.handle; L->port = e.in_port; L->len = e.len;
        }
        t->pkt = m->desc[L->h].pkt;
        COUNT(C_PACKETS, 1);
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_PKT, 0, np_pkt_addr(m, L->h), L->len < 64 ? L->len : 64);
        COMPUTE(t, PARAM(P_COST_CHECK));
        L->reason = (uint32_t)decap(m, t, L);
        if ((int)L->reason < 0 || L->reason == NP_DROP_SUBSTRATE_CONTEXT_MISMATCH)
            OP_MEM(t, M_CFG, 0, 0, 8);                  /* the endpoint (or VID) entry ... */
        if ((int)L->reason < 0 || L->reason == NP_DROP_SUBSTRATE_CONTEXT_MISMATCH)
            OP_MEM(t, M_CFG, 0, 8 + (uint64_t)L->fp * 32, 20);     /* ... and the fast path's record */
        if ((int)L->reason >= 0) {
            if (L->reason == NP_DROP_SUBSTRATE_BAD_HEADER) COUNT(C_BAD_HEADER, 1);
            else if (L->reason == NP_DROP_SUBSTRATE_UNKNOWN_ENDPOINT) COUNT(C_UNKNOWN_ENDPOINT, 1);
            else if (L->reason == NP_DROP_L2_NOT_FOR_ROUTER) COUNT(C_NOT_FOR_US, 1);
            else COUNT(C_MISMATCH, 1);
            np_drop_h(m, L->h, (int)L->reason, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        {
            np_spp_pkt_t e = { .handle = L->h, .l3off = L->l3off, .fp = L->fp, .mi = L->mi, .len = L->len,
                               .vid = L->vid };
            OP_RING_PUT_REC(t, R_OUT, NP_OPF_POSTED, spp_pkt, e);
        }
    }
    PT_END(t);
}

NP_BLOCK(spp_decap, .doc = "SPP NPE Substrate Decap: internal frame checks, endpoint -> fast path and MI",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(dc_l), .run = spp_decap_run);
