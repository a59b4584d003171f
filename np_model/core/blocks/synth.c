/* Synthetic microcode for engine experiments, and the idle block.
 *
 * synth: every thread loops forever: `compute` ALU cycles, then `refs`
 * reads of its memory; each loop counts one iteration. It makes the
 * engine's timing relations measurable in isolation (threads hiding memory
 * latency until the ALU saturates).
 * idle: the thread halts (an ME with nothing to run).
 */
#include "block.h"

enum { M_MEM, M_N };
enum { P_COMPUTE, P_REFS, P_N };
enum { C_ITER, C_N };

static const np_named_t mems[M_N] = { [M_MEM] = { "mem", "the memory it reads" } };
static const np_param_desc_t params[P_N] = {
    [P_COMPUTE] = NP_PARAM("compute", 40, 0, 1 << 24, "cycles", "wiring", "ALU cycles per iteration (experiment)"),
    [P_REFS] = NP_PARAM("refs", 1, 0, 1024, "references", "wiring", "waited reads per iteration (experiment)"),
};
static const np_named_t counters[C_N] = { [C_ITER] = { "iterations", "loops completed" } };

typedef struct { uint32_t i; } sy_l;

static void synth_run(np_t *m, np_thread_t *t) {
    sy_l *L = LOCALS(sy_l);
    PT_BEGIN(t);
    for (;;) {
        COMPUTE(t, PARAM(P_COMPUTE));
        for (L->i = 0; L->i < (uint32_t)PARAM(P_REFS); L->i++) OP_MEM(t, M_MEM, 0, 0, 4);
        if (!PARAM(P_REFS)) { OP_WAIT_UNTIL(t, m->now + 1); }
        COUNT(C_ITER, 1);
        m->ctr.synth_iters++;
    }
    PT_END(t);
}

NP_BLOCK(synth, .doc = "Synthetic load: compute, then waited memory references, forever",
         .mems = NP_ARRAY(mems), .params = NP_ARRAY(params), .counters = NP_ARRAY(counters),
         .locals = sizeof(sy_l), .run = synth_run);

static void idle_run(np_t *m, np_thread_t *t) {
    (void)m;
    PT_BEGIN(t);
    PT_END(t);
}

NP_BLOCK(idle, .doc = "Nothing: the thread halts", .run = idle_run);
