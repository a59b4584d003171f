/* SPP Parse -- the NPE stage that runs the slice's code option's Parse.
 *
 * For each packet: the fast path's record (its code option, slice and SRAM
 * window), then copt_parse in the code option's worker (plugin_rt.c
 * np_copt_call: per-basic-block cost, containment). The thread replays the
 * call's record -- ALU cycles and memory references, as a plug-in ME does
 * -- then sends the packet to Lookup with the code option's key, or marked
 * as the exception the code option raised. Only Parse and Header Format
 * are slice-programmable [SPP: virtual_routers.md 1.4 [U]].
 * Drops: no_fastpath, copt_drop, copt_budget, copt_crash, copt_hang, copt_syscall.
 */
#include "spp.h"
#include "copt_abi.h"

enum { R_IN, R_OUT, R_FREE, R_N };
enum { M_PKT, M_SRAM, M_SCRATCH, M_CFG, M_N };          /* the first three as a plug-in ME's (NP_PLM_*) */
enum { T_FPS, T_N };
enum { P_COST_BASE, P_N };
enum { C_PACKETS, C_EXCEPTIONS, C_COPT_DROPS, C_FAULTS, C_NO_FASTPATH, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "spp_pkt", "from Substrate Decap"),
    [R_OUT] = NP_OUT("out", "spp_key", "to Lookup: the key, or an exception"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_SRAM] = { "sram", "code options' SRAM" },
    [M_SCRATCH] = { "scratch", "scratch memory" }, [M_CFG] = { "cfg", "fast-path records (SRAM)" },
};
static const np_named_t tables[T_N] = { [T_FPS] = { "fps", "fast-path records (spp_fp_rec)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Parse: ring entry, fast-path record, code-option dispatch"),
};
static const np_named_t counters[C_N] = {
    [C_PACKETS] = { "packets", "packets parsed" }, [C_EXCEPTIONS] = { "exceptions", "exceptions the code options raised" },
    [C_COPT_DROPS] = { "copt_drops", "packets the code options dropped" },
    [C_FAULTS] = { "faults", "calls abandoned (budget, crash, hang, system call)" },
    [C_NO_FASTPATH] = { "no_fastpath", "packets of a fast path freed meanwhile" },
};

typedef struct { uint32_t h, fp, mi, len, l3off, k, copt, reason; uint32_t ret[COPT_RETS]; } pa_l;

static int parse_init(np_t *m, np_inst_t *x) { return spp_calls_init(m, x, x->state); }
static void parse_fini(np_t *m, np_inst_t *x) { (void)m; spp_calls_fini(x->state); }

static void spp_parse_run(np_t *m, np_thread_t *t) {
    pa_l *L = LOCALS(pa_l);
    spp_calls_t *C = STATE(spp_calls_t);
    np_plrec_t *R = &C->recs[C->rec_of[t->id]];
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_spp_pkt_t e;
            np_unpack_spp_pkt(t->xin, &e);
            L->h = e.handle; L->fp = e.fp; L->mi = e.mi; L->len = e.len; L->l3off = e.l3off;
        }
        t->pkt = m->desc[L->h].pkt;
        COUNT(C_PACKETS, 1);
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_CFG, 0, 8 + (uint64_t)L->fp * 32, 20);
        {
            const uint32_t *rw = np_array_rec(m, TABLE(T_FPS), L->fp);
            np_spp_fp_rec_t fp;
            if (rw) np_unpack_spp_fp_rec(rw, &fp);
            if (!rw || !fp.valid) {
                L->reason = NP_DROP_NO_FASTPATH;
                COUNT(C_NO_FASTPATH, 1);
            } else {
                uint32_t a[COPT_ARGS] = { 0 };
                a[COPT_A_SLICE] = fp.slice; a[COPT_A_IN_MI] = L->mi; a[COPT_A_IP_OFF] = L->l3off;
                a[COPT_A_SRAM_BASE] = fp.sram_base; a[COPT_A_SRAM_SIZE] = fp.sram_size;
                L->copt = fp.copt;
                L->reason = (uint32_t)np_copt_call(m, (int)fp.copt, 0, L->h, a, R, L->ret);
            }
        }
        if (L->reason != NP_DROP_NO_FASTPATH) {
            if (L->reason) COMPUTE(t, R->cycles);                  /* an abandoned call: what it cost */
            for (L->k = 0; L->k < (uint32_t)R->n; L->k++) {      /* replay the call */
                COMPUTE(t, R->op[L->k].compute);
                OP_MEM(t, R->op[L->k].mrole, R->op[L->k].flags, R->op[L->k].addr, R->op[L->k].bytes);
            }
            if (!L->reason) COMPUTE(t, R->tail);
            L->len = m->desc[L->h].len;
        }
        if (!L->reason) {
            uint32_t v = L->ret[COPT_R_VERDICT] & 0xFF;
            if (v == COPT_V_DROP) {
                L->reason = NP_DROP_COPT_DROP;
                COUNT(C_COPT_DROPS, 1);
                spp_count_code(C, L->copt, 0, L->ret[COPT_R_VERDICT] >> 8);
            } else if (v != COPT_V_CONTINUE && v != COPT_V_EXCEPTION) L->reason = NP_DROP_COPT_CRASH;
        } else if (L->reason != NP_DROP_NO_FASTPATH) COUNT(C_FAULTS, 1);
        if (L->reason) {
            np_drop_h(m, L->h, (int)L->reason, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        {
            uint32_t v = L->ret[COPT_R_VERDICT];
            np_spp_key_t e = { .handle = L->h, .kind = SPP_K_LOOKUP, .fp = L->fp, .mi = L->mi, .len = L->len,
                               .l3off = L->l3off, .k0 = L->ret[COPT_R_KEY0], .k1 = L->ret[COPT_R_KEY1],
                               .k2 = L->ret[COPT_R_KEY2], .k3 = L->ret[COPT_R_KEY3] };
            if ((v & 0xFF) == COPT_V_EXCEPTION) {
                e.kind = SPP_K_EXC_COPT; e.code = (v >> 8) & 0xFF;
                COUNT(C_EXCEPTIONS, 1);
                spp_count_code(C, L->copt, 1, e.code);
            }
            OP_RING_PUT_REC(t, R_OUT, NP_OPF_POSTED, spp_key, e);
        }
    }
    PT_END(t);
}

/* The codes code option `slot` gave in this instance: out[0..255] drops, out[256..511] exceptions. */
int np_spp_copt_codes(np_t *m, int inst, int slot, uint64_t *out) {
    if (inst < 0 || inst >= m->n_inst) return np_fail(m, "block instance %d does not exist", inst);
    np_inst_t *x = m->inst[inst];
    if ((strcmp(x->d->name, "spp_parse") && strcmp(x->d->name, "spp_hf")) || !x->state)
        return np_fail(m, "%s is not a started SPP Parse or Header Format block", x->name);
    spp_calls_t *C = x->state;
    if (!C->codes) return np_fail(m, "%s is not started", x->name);
    if (slot < 0 || slot >= SPP_MAX_COPT) { memset(out, 0, 512 * sizeof *out); return 0; }
    memcpy(out, C->codes[slot], 512 * sizeof *out);
    return 0;
}

NP_BLOCK(spp_parse, .doc = "SPP NPE Parse: the slice's code option extracts the lookup key or raises an exception",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(pa_l), .state = sizeof(spp_calls_t),
         .init = parse_init, .fini = parse_fini, .run = spp_parse_run);
