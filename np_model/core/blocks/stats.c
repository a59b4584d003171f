/* Stats -- counter updates (NPR: 1 ME).
 *
 * Keeps `blocks` counter blocks [C-code: 65,536 x 16 B] of pre-queue and
 * post-queue packets and bytes, updated with SRAM atomic adds.
 */
#include <stdlib.h>
#include "block.h"

enum { R_IN, R_N };
enum { M_STATS, M_N };
enum { P_COST_BASE, P_BLOCKS, P_N };
enum { C_UPDATES, C_N };

static const np_ring_port_t rings[R_N] = { [R_IN] = NP_IN("in", "stats_upd", "counter updates") };
static const np_named_t mems[M_N] = { [M_STATS] = { "stats", "counter blocks (SRAM)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 20, "Stats: counter update"),
    [P_BLOCKS] = NP_PARAM("blocks", 65536, 1, 65536, "blocks", "code",
                          "ONLdaemons nprd_configuration.h: 65,536 counter blocks x 16 B"),
};
static const np_named_t counters[C_N] = { [C_UPDATES] = { "updates", "counter updates made" } };

typedef struct { uint64_t (*c)[4]; } st_state;
typedef struct { uint32_t idx, len, post; } st_l;

static int stats_init(np_t *m, np_inst_t *x) {
    st_state *S = x->state;
    S->c = calloc((size_t)x->param[P_BLOCKS], sizeof *S->c);
    return S->c ? 0 : np_fail(m, "%s: out of memory", x->name);
}
static void stats_fini(np_t *m, np_inst_t *x) { (void)m; free(((st_state *)x->state)->c); }

static void stats_run(np_t *m, np_thread_t *t) {
    st_l *L = LOCALS(st_l);
    st_state *S = STATE(st_state);
    PT_BEGIN(t);
    for (;;) {
        OP_RING_GET(t, R_IN, 0);
        {
            np_stats_upd_t u;
            np_unpack_stats_upd(t->xin, &u);
            L->idx = u.index % (uint32_t)PARAM(P_BLOCKS); L->len = u.len; L->post = u.post;
        }
        COMPUTE(t, PARAM(P_COST_BASE));
        S->c[L->idx][L->post * 2] += 1;
        S->c[L->idx][L->post * 2 + 1] += L->len;
        COUNT(C_UPDATES, 1);
        OP_MEM(t, M_STATS, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->idx * 16 + L->post * 8, 4);
        OP_MEM(t, M_STATS, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->idx * 16 + L->post * 8 + 4, 4);
    }
    PT_END(t);
}

int np_stats_index(np_t *m, int inst, int idx, uint64_t *out4) {
    st_state *S = np_inst_state(m, inst, np_block_type_find("stats"));
    if (!S || !S->c) return np_fail(m, "block instance %d is not a started stats block", inst);
    uint32_t i = (uint32_t)idx % (uint32_t)m->inst[inst]->param[P_BLOCKS];
    for (int k = 0; k < 4; k++) out4[k] = S->c[i][k];
    return 0;
}

NP_BLOCK(stats, .doc = "Per-index pre-queue and post-queue packet and byte counters",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(st_l), .state = sizeof(st_state),
         .init = stats_init, .fini = stats_fini, .run = stats_run);
