/* FreeList -- buffer recycling (NPR: 1 ME).
 *
 * In:  free ring {handle}.
 * Out: the buffer free queue {handle}.
 * A copy's descriptor is returned at once; the buffer that holds the data
 * is returned when the last descriptor referring to it is freed (the NPR
 * keeps an 8-bit reference count in the descriptor [C-code]).
 */
#include "../npcore.h"

void np_blk_freelist(np_t *m, np_thread_t *t) {
    np_fl2_l *L = &t->u.fl;
    PT_BEGIN(t);
    for (;;) {
        OP_RING_GET(t, NP_ROLE_FREE, 0);
        L->h = t->xin[0];
        COMPUTE(t, m->cost[NP_C_FREE_BASE]);
        OP_MEM(t, NP_MR_DESC, 0, (uint64_t)L->h * 32, 8);
        L->o = m->desc[L->h].data;
        L->n = 0;
        if (L->o != L->h) L->ret[L->n++] = L->h;
        if (--m->desc[L->o].refcnt == 0) {
            np_slot_free(m, m->desc[L->o].slot);
            L->ret[L->n++] = L->o;
        }
        for (L->i = 0; L->i < L->n; L->i++) {
            m->n_free_bufs++;
            OP_RING_PUT(t, NP_ROLE_BUFQ, NP_OPF_POSTED, L->ret[L->i]);
        }
    }
    PT_END(t);
}
