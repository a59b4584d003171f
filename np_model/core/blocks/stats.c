/* Stats -- counter updates (NPR: 1 ME).
 *
 * In:  stats ring {index, length, 0 pre-queue | 1 post-queue}.
 * Keeps 65,536 counter blocks [C-code] of pre-queue and post-queue
 * packets and bytes, updated with SRAM atomic adds.
 */
#include "../npcore.h"

void np_blk_stats(np_t *m, np_thread_t *t) {
    np_st_l *L = &t->u.st;
    PT_BEGIN(t);
    for (;;) {
        OP_RING_GET(t, NP_ROLE_STATS, 0);
        L->e[0] = t->xin[0] & 0xFFFF; L->e[1] = t->xin[1]; L->e[2] = t->xin[2] & 1;
        COMPUTE(t, m->cost[NP_C_STATS_BASE]);
        m->stats_idx[L->e[0]][L->e[2] * 2] += 1;
        m->stats_idx[L->e[0]][L->e[2] * 2 + 1] += L->e[1];
        OP_MEM(t, NP_MR_STATS, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->e[0] * 16 + L->e[2] * 8, 4);
        OP_MEM(t, NP_MR_STATS, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->e[0] * 16 + L->e[2] * 8 + 4, 4);
    }
    PT_END(t);
}
