/* SPP Lookup -- the NPE's filter search.
 *
 * One TCAM search per packet, keyed with the fast path (so every slice has
 * its own filters, whatever overlay addresses they name) and the code
 * option's 128-bit key; the best-ranked match's result gives the action,
 * the output MI, the queue, the stats index and the next hop's endpoint
 * [SPP: virtual_routers.md 1.4 [U]]. No match: an exception to the slice's
 * slow path (MI 0). Exceptions Parse raised pass through unsearched.
 * Drops: filter_drop.
 */
#include "spp.h"

enum { R_IN, R_OUT, R_FREE, R_N };
enum { M_TCAM, M_RESULT, M_N };
enum { T_FILTERS, T_N };
enum { P_COST_BASE, P_COST_LOOKUP, P_TCAM_KEY_BYTES, P_N };
enum { C_SEARCHES, C_HITS, C_MISSES, C_PASSED, C_DROPS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "spp_key", "from Parse"),
    [R_OUT] = NP_OUT("out", "spp_res", "to Header Format"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_TCAM] = { "tcam", "the TCAM (search)" }, [M_RESULT] = { "result", "TCAM result records (SRAM)" },
};
static const np_named_t tables[T_N] = { [T_FILTERS] = { "filters", "the fast paths' filters (spp_filter_key)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 30, "Lookup: ring entry, key build"),
    [P_COST_LOOKUP] = NP_COST("cost_lookup", 30, "Lookup: TCAM command and result handling"),
    [P_TCAM_KEY_BYTES] = NP_PARAM("tcam_key_bytes", 18, 1, 64, "B", "estimate",
                                  "bytes of key one search sends (16 bits of fast path + 128 bits of key = 144)"),
};
static const np_named_t counters[C_N] = {
    [C_SEARCHES] = { "searches", "TCAM searches" }, [C_HITS] = { "hits", "searches that matched a filter" },
    [C_MISSES] = { "misses", "no filter matched: exceptions" },
    [C_PASSED] = { "passed", "exceptions from Parse passed on" }, [C_DROPS] = { "drops", "filters' drops" },
};

typedef struct { uint32_t e[NP_XWORDS]; uint32_t h, hit, drop; } lk_l;

static void spp_lookup_run(np_t *m, np_thread_t *t) {
    lk_l *L = LOCALS(lk_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        memcpy(L->e, t->xin, sizeof L->e);
        {
            np_spp_key_t k;
            np_unpack_spp_key(L->e, &k);
            L->h = k.handle;
        }
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, PARAM(P_COST_BASE));
        L->hit = 0; L->drop = 0;
        {
            np_spp_key_t k;
            np_unpack_spp_key(L->e, &k);
            np_spp_res_t r = { .handle = k.handle, .fp = k.fp, .in_mi = k.mi, .len = k.len, .l3off = k.l3off,
                               .code = k.code };
            if (k.kind != SPP_K_LOOKUP) {
                r.kind = SPP_K_EXC_COPT;
                COUNT(C_PASSED, 1);
                L->hit = 2;
            } else {
                uint32_t key[NP_KEY_WORDS];
                np_spp_filter_key_t fk = { .fp = k.fp, .k0 = k.k0, .k1 = k.k1, .k2 = k.k2, .k3 = k.k3 };
                np_pack_spp_filter_key(key, &fk);
                const np_tentry_t *te = np_tcam_match(m, TABLE(T_FILTERS), key);
                COUNT(C_SEARCHES, 1);
                if (!te) {
                    r.kind = SPP_K_EXC_NO_MATCH;
                    COUNT(C_MISSES, 1);
                } else {
                    const np_result_t *a = &te->res;
                    L->hit = 1;
                    COUNT(C_HITS, 1);
                    r.out_mi = a->ports; r.queue = a->qid; r.stats = a->stats; r.nh_ip = a->nh_ip;
                    r.nh_port = a->arg & 0xFFFF; r.arg = a->aux;
                    switch (a->kind) {
                    case SPP_FA_DROP: L->drop = 1; break;
                    case SPP_FA_EXCEPTION: r.kind = SPP_K_EXC_FILTER; break;
                    case SPP_FA_LOCAL: r.kind = SPP_K_LOCAL; break;
                    default: r.kind = SPP_K_FORWARD; break;
                    }
                }
            }
            np_pack_spp_res(L->e, &r);
        }
        if (L->hit != 2) {
            OP_MEM(t, M_TCAM, 0, 0, (uint32_t)PARAM(P_TCAM_KEY_BYTES));
            COMPUTE(t, PARAM(P_COST_LOOKUP));
            if (L->hit) OP_MEM(t, M_RESULT, 0, 0, 16);
        }
        if (L->drop) {
            COUNT(C_DROPS, 1);
            np_drop_h(m, L->h, NP_DROP_FILTER_DROP, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        OP_RING_PUT(t, R_OUT, NP_OPF_POSTED, L->e, NP_W_spp_res);
    }
    PT_END(t);
}

NP_BLOCK(spp_lookup, .doc = "SPP NPE Lookup: TCAM search keyed with the fast path and the code option's key",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .tables = NP_ARRAY(tables), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(lk_l), .run = spp_lookup_run);
