/* Synthetic microcode for engine experiments, and the idle block.
 *
 * synth: every thread loops forever: SYNTH_COMPUTE ALU cycles, then
 * SYNTH_REFS reads of the memory whose id is SYNTH_MEM; each loop counts one
 * iteration. It makes the engine's timing relations measurable in isolation
 * (threads hiding memory latency until the ALU saturates).
 * idle: the thread halts (plug-in MEs with no plug-in loaded).
 */
#include "../npcore.h"

void np_blk_synth(np_t *m, np_thread_t *t) {
    np_sy_l *L = &t->u.sy;
    PT_BEGIN(t);
    for (;;) {
        COMPUTE(t, m->cost[NP_C_SYNTH_COMPUTE]);
        for (L->i = 0; L->i < m->cost[NP_C_SYNTH_REFS]; L->i++) {
            np_op_set(t, NP_OP_MEM, 0, m->cost[NP_C_SYNTH_MEM]);
            t->op.bytes = 4;
            PT_YIELD(t);
        }
        if (!m->cost[NP_C_SYNTH_REFS]) { OP_WAIT_UNTIL(t, m->now + 1); }
        m->ctr.synth_iters++;
    }
    PT_END(t);
}

void np_blk_idle(np_t *m, np_thread_t *t) {
    (void)m;
    PT_BEGIN(t);
    PT_END(t);
}
