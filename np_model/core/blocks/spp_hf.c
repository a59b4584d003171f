/* SPP Header Format -- the NPE stage that builds what leaves.
 *
 * Forwarded packets: the output MI's record gives its endpoint (the new
 * outer source), the next hop (the filter's endpoint, else the MI's peer)
 * and where its frames go (the board's MAC and the VID of its context);
 * the slice's code option's copt_hf writes the outer IPv4/UDP header (and
 * may change the overlay packet), then the substrate writes the internal
 * Ethernet + 802.1Q header in front of it [SPP: virtual_routers.md 1.4 [U]].
 * Exceptions and local delivery go to the slice's slow path on MI 0
 * unchanged, behind a meta header that says why and on which MI they came
 * in (np_model/spp_formats.py); they take the fast path's exception queue
 * (local delivery: the filter's queue if it names one). Each packet then
 * goes to its queue with its stats index (a pre-queue counter update).
 * Drops: no_fastpath, fastpath_no_mi, fastpath_no_queue, fastpath_no_next_hop,
 *        substrate_bad_header (a code option left no room for the outer
 *        headers), copt_drop, copt_budget, copt_crash, copt_hang, copt_syscall.
 */
#include "spp.h"
#include "copt_abi.h"

enum { R_IN, R_OUT, R_STATS, R_FREE, R_N };
enum { M_PKT, M_SRAM, M_SCRATCH, M_CFG, M_N };          /* the first three as a plug-in ME's (NP_PLM_*) */
enum { T_FPS, T_MIS, T_N };
enum { P_COST_BASE, P_COST_L2, P_COST_EXC, P_PORT, P_MIS, P_N };
enum { C_FORWARDED, C_EXCEPTIONS, C_LOCAL, C_COPT_DROPS, C_FAULTS, C_DROPS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "spp_res", "from Lookup"),
    [R_OUT] = NP_OUT("out", "plc_qm", "to the queue manager"),
    [R_STATS] = NP_OUT_OPT("stats", "stats_upd", "pre-queue counter updates"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_SRAM] = { "sram", "code options' SRAM" },
    [M_SCRATCH] = { "scratch", "scratch memory" }, [M_CFG] = { "cfg", "fast-path and MI records (SRAM)" },
};
static const np_named_t tables[T_N] = {
    [T_FPS] = { "fps", "fast-path records (spp_fp_rec)" }, [T_MIS] = { "mis", "meta-interface records (spp_mi_rec)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Header Format: ring entry, fast-path and MI records, code-option dispatch"),
    [P_COST_L2] = NP_COST("cost_l2", 20, "Header Format: the internal Ethernet + 802.1Q header"),
    [P_COST_EXC] = NP_COST("cost_exc", 20, "Header Format: the meta header of an exception or local delivery"),
    [P_PORT] = NP_PARAM("port", 0, 0, 6, "port", "wiring", "the port the frames leave by (the fabric)"),
    [P_MIS] = NP_PARAM("mis_per_fastpath", 16, 1, 4096, "MIs", "wiring", "MI records per fast path (slot * this + MI)"),
};
static const np_named_t counters[C_N] = {
    [C_FORWARDED] = { "forwarded", "packets given a tunnel header" },
    [C_EXCEPTIONS] = { "exceptions", "exceptions to the slow paths" }, [C_LOCAL] = { "local", "local deliveries" },
    [C_COPT_DROPS] = { "copt_drops", "packets the code options dropped" },
    [C_FAULTS] = { "faults", "calls abandoned (budget, crash, hang, system call)" },
    [C_DROPS] = { "drops", "other drops (no fast path, MI, queue or next hop)" },
};

typedef struct {
    uint32_t h, kind, fp, in_mi, len, l3off, code, out_mi, queue, stats, nh_port, nh_ip, arg;
    uint32_t k, copt, reason, qid, slice;
    uint64_t mac;
    uint32_t vid;
    uint32_t ret[COPT_RETS];
} hf_l;

static int hf_init(np_t *m, np_inst_t *x) { return spp_calls_init(m, x, x->state); }
static void hf_fini(np_t *m, np_inst_t *x) { (void)m; spp_calls_fini(x->state); }

/* The MI record, or 0 if it does not exist. */
static int mi_rec(np_t *m, np_thread_t *t, uint32_t fp, uint32_t mi, np_spp_mi_rec_t *r) {
    if (mi >= (uint32_t)PARAM(P_MIS)) return 0;
    const uint32_t *w = np_array_rec(m, TABLE(T_MIS), fp * (uint32_t)PARAM(P_MIS) + mi);
    if (!w) return 0;
    np_unpack_spp_mi_rec(w, r);
    return r->valid;
}

static void spp_hf_run(np_t *m, np_thread_t *t) {
    hf_l *L = LOCALS(hf_l);
    spp_calls_t *C = STATE(spp_calls_t);
    np_plrec_t *R = &C->recs[C->rec_of[t->id]];
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_spp_res_t e;
            np_unpack_spp_res(t->xin, &e);
            L->h = e.handle; L->kind = e.kind; L->fp = e.fp; L->in_mi = e.in_mi; L->len = e.len; L->l3off = e.l3off;
            L->code = e.code; L->out_mi = e.out_mi; L->queue = e.queue; L->stats = e.stats; L->nh_port = e.nh_port;
            L->nh_ip = e.nh_ip; L->arg = e.arg;
        }
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_CFG, 0, 8 + (uint64_t)L->fp * 32, 20);
        L->reason = 0;
        {
            const uint32_t *rw = np_array_rec(m, TABLE(T_FPS), L->fp);
            np_spp_fp_rec_t fp;
            if (rw) np_unpack_spp_fp_rec(rw, &fp);
            if (!rw || !fp.valid) L->reason = NP_DROP_NO_FASTPATH;
            else { L->copt = fp.copt; L->slice = fp.slice; }
            if (L->kind == SPP_K_FORWARD && !L->out_mi) L->kind = SPP_K_LOCAL;     /* a filter to MI 0 */
        }
        /* ---- forwarded: the code option's Header Format, then the internal header ---- */
        if (!L->reason && L->kind == SPP_K_FORWARD) {
            OP_MEM(t, M_CFG, 0, 0x10000 + ((uint64_t)L->fp * (uint64_t)PARAM(P_MIS) + L->out_mi) * 32, 24);
            {
                np_spp_mi_rec_t mi;
                const uint32_t *rw = np_array_rec(m, TABLE(T_FPS), L->fp);
                np_spp_fp_rec_t fp;
                np_unpack_spp_fp_rec(rw, &fp);                  /* (again: the MI read yielded) */
                uint32_t dst_ip = L->nh_ip, dst_port = L->nh_port;
                if (!fp.valid) L->reason = NP_DROP_NO_FASTPATH;
                else if (!mi_rec(m, t, L->fp, L->out_mi, &mi)) L->reason = NP_DROP_FASTPATH_NO_MI;
                else if (!L->queue) L->reason = NP_DROP_FASTPATH_NO_QUEUE;
                else {
                    if (!dst_ip) { dst_ip = mi.peer_ip; dst_port = mi.peer_port; }
                    if (!dst_ip) L->reason = NP_DROP_FASTPATH_NO_NEXT_HOP;
                }
                if (!L->reason) {
                    uint32_t a[COPT_ARGS] = { 0 };
                    a[COPT_A_SLICE] = fp.slice; a[COPT_A_IN_MI] = L->in_mi; a[COPT_A_IP_OFF] = L->l3off;
                    a[COPT_A_OUT_MI] = L->out_mi; a[COPT_A_SRC_IP] = mi.ip; a[COPT_A_SRC_PORT] = mi.port;
                    a[COPT_A_DST_IP] = dst_ip; a[COPT_A_DST_PORT] = dst_port; a[COPT_A_RESULT_ARG] = L->arg;
                    a[COPT_A_SRAM_BASE] = fp.sram_base; a[COPT_A_SRAM_SIZE] = fp.sram_size;
                    L->mac = (uint64_t)mi.mac_hi << 16 | mi.mac_lo; L->vid = mi.vid;
                    L->reason = (uint32_t)np_copt_call(m, (int)fp.copt, 1, L->h, a, R, L->ret);
                    if (L->reason) COMPUTE(t, R->cycles);
                    L->k = 0;
                } else R->n = 0;
            }
            if (!L->reason || L->reason >= NP_DROP_COPT_BUDGET) {
                for (L->k = 0; L->k < (uint32_t)R->n; L->k++) {      /* replay the call */
                    COMPUTE(t, R->op[L->k].compute);
                    OP_MEM(t, R->op[L->k].mrole, R->op[L->k].flags, R->op[L->k].addr, R->op[L->k].bytes);
                }
                if (!L->reason) COMPUTE(t, R->tail);
            }
            if (L->reason >= NP_DROP_COPT_BUDGET) COUNT(C_FAULTS, 1);
            if (!L->reason) {
                uint32_t v = L->ret[COPT_R_VERDICT] & 0xFF;
                L->len = m->desc[L->h].len;
                if (v == COPT_V_DROP) {
                    L->reason = NP_DROP_COPT_DROP;
                    COUNT(C_COPT_DROPS, 1);
                    spp_count_code(C, L->copt, 0, L->ret[COPT_R_VERDICT] >> 8);
                } else if (v == COPT_V_EXCEPTION) {
                    L->kind = SPP_K_EXC_COPT; L->code = (L->ret[COPT_R_VERDICT] >> 8) & 0xFF;
                    spp_count_code(C, L->copt, 1, L->code);
                } else if (v != COPT_V_CONTINUE) L->reason = NP_DROP_COPT_CRASH;
                else if (L->len < L->l3off + 28) L->reason = NP_DROP_SUBSTRATE_BAD_HEADER;
            }
            if (!L->reason && L->kind == SPP_K_FORWARD) {
                spp_reframe(m, L->h, (int)L->l3off - SPP_L2);
                spp_wr_l2(np_pkt_data(m, L->h), L->mac, m->port[PARAM(P_PORT)].mac[0], L->vid, 0x0800);
                m->desc[L->h].flags |= NP_DF_KEEP_L2;
                L->len = m->desc[L->h].len;
                L->qid = np_qid((uint32_t)PARAM(P_PORT), L->queue);
                COUNT(C_FORWARDED, 1);
                COMPUTE(t, PARAM(P_COST_L2));
                OP_MEM(t, M_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h), SPP_L2);
            }
        }
        /* ---- exceptions and local delivery: to MI 0, unchanged, behind a meta header ---- */
        if (!L->reason && L->kind != SPP_K_FORWARD) {
            OP_MEM(t, M_CFG, 0, 0x10000 + (uint64_t)L->fp * (uint64_t)PARAM(P_MIS) * 32, 24);
            {
                np_spp_mi_rec_t mi;
                const uint32_t *rw = np_array_rec(m, TABLE(T_FPS), L->fp);
                np_spp_fp_rec_t fp;
                np_unpack_spp_fp_rec(rw, &fp);
                uint32_t q = L->kind == SPP_K_LOCAL && L->queue ? L->queue : fp.exc_queue;
                if (!fp.valid) L->reason = NP_DROP_NO_FASTPATH;
                else if (!mi_rec(m, t, L->fp, 0, &mi)) L->reason = NP_DROP_FASTPATH_NO_MI;
                else if (!q) L->reason = NP_DROP_FASTPATH_NO_QUEUE;
                else {
                    uint8_t *f;
                    uint32_t reason = L->kind == SPP_K_EXC_NO_MATCH ? SPP_REASON_NO_MATCH
                                    : L->kind == SPP_K_EXC_COPT ? SPP_REASON_CODE_OPTION
                                    : L->kind == SPP_K_EXC_FILTER ? SPP_REASON_FILTER : 0;
                    spp_reframe(m, L->h, (int)L->l3off - SPP_L2_META);
                    f = np_pkt_data(m, L->h);
                    spp_wr_l2(f, (uint64_t)mi.mac_hi << 16 | mi.mac_lo, m->port[PARAM(P_PORT)].mac[0], mi.vid,
                              SPP_ETHERTYPE_META);
                    f[SPP_L2] = L->kind == SPP_K_LOCAL ? SPP_META_LOCAL : SPP_META_EXCEPTION;
                    f[SPP_L2 + 1] = (uint8_t)reason;
                    f[SPP_L2 + 2] = (uint8_t)(reason == SPP_REASON_CODE_OPTION ? L->code : 0);
                    f[SPP_L2 + 3] = 0;
                    spp_wr16(f + SPP_L2 + 4, fp.slice);
                    spp_wr16(f + SPP_L2 + 6, L->in_mi);
                    spp_wr16(f + SPP_L2 + 8, 0x0800);
                    m->desc[L->h].flags |= NP_DF_KEEP_L2;
                    L->len = m->desc[L->h].len;
                    L->qid = np_qid((uint32_t)PARAM(P_PORT), q);
                    if (L->kind == SPP_K_LOCAL) COUNT(C_LOCAL, 1); else COUNT(C_EXCEPTIONS, 1);
                    if (L->kind != SPP_K_LOCAL) L->stats = 0;
                }
            }
            if (!L->reason) {
                COMPUTE(t, PARAM(P_COST_L2) + PARAM(P_COST_EXC));
                OP_MEM(t, M_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h), SPP_L2_META);
            }
        }
        if (L->reason) {
            if (L->reason < NP_DROP_COPT_DROP) COUNT(C_DROPS, 1);
            np_drop_h(m, L->h, (int)L->reason, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        if (L->stats && RING(R_STATS) >= 0) {
            np_stats_upd_t u = { .index = L->stats, .len = L->len, .post = 0 };
            OP_RING_PUT_REC(t, R_STATS, NP_OPF_POSTED | NP_OPF_TRY, stats_upd, u);
        }
        {
            np_plc_qm_t e = { .handle = L->h, .qid = L->qid, .len = L->len, .stats = L->stats };
            OP_RING_PUT_REC(t, R_OUT, NP_OPF_POSTED, plc_qm, e);
        }
    }
    PT_END(t);
}

NP_BLOCK(spp_hf, .doc = "SPP NPE Header Format: the code option's tunnel header and the internal header; "
         "exceptions and local delivery to MI 0",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(hf_l), .state = sizeof(spp_calls_t),
         .init = hf_init, .fini = hf_fini, .run = spp_hf_run);
