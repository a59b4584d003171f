/* Counter -- a tap that counts what passes (Click's Counter element).
 *
 * Takes each entry from `in` and puts it unchanged on `out`, whatever its
 * format, spending `cost` cycles; counts entries. Put it on a ring between
 * two blocks to see how many entries cross it and what it costs.
 */
#include "block.h"

enum { R_IN, R_OUT, R_N };
enum { P_COST, P_N };
enum { C_ENTRIES, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", NULL, "entries of any format"),
    [R_OUT] = NP_OUT("out", NULL, "the same entries"),
};
static const np_param_desc_t params[P_N] = {
    [P_COST] = NP_COST("cost", 10, "Counter: get, count, put"),
};
static const np_named_t counters[C_N] = { [C_ENTRIES] = { "entries", "entries passed" } };

typedef struct { uint32_t e[NP_XWORDS]; uint32_t n; } ct_l;

static void counter_run(np_t *m, np_thread_t *t) {
    ct_l *L = LOCALS(ct_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        memcpy(L->e, t->xin, sizeof L->e);
        L->n = (uint32_t)m->ring[RING(R_IN)].words;
        COMPUTE(t, PARAM(P_COST));
        COUNT(C_ENTRIES, 1);
        OP_RING_PUT(t, R_OUT, NP_OPF_POSTED, L->e, L->n);
    }
    PT_END(t);
}

NP_BLOCK(counter, .doc = "Counts the entries passing between two rings",
         .rings = NP_ARRAY(rings), .params = NP_ARRAY(params), .counters = NP_ARRAY(counters),
         .locals = sizeof(ct_l), .run = counter_run);
