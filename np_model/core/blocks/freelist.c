/* FreeList -- buffer recycling (NPR: 1 ME).
 *
 * A copy's descriptor is returned at once; the buffer that holds the data
 * is returned when the last descriptor referring to it is freed (the NPR
 * keeps an 8-bit reference count in the descriptor [C-code]).
 */
#include "block.h"

enum { R_IN, R_BUFQ, R_N };
enum { M_DESC, M_N };
enum { P_COST_BASE, P_N };
enum { C_FREED, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "buf", "buffers to free (every block's free ring)"),
    [R_BUFQ] = NP_OUT("bufq", "buf", "the buffer free list"),
};
static const np_named_t mems[M_N] = { [M_DESC] = { "desc", "buffer descriptors (SRAM)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 20, "FreeList: reference count"),
};
static const np_named_t counters[C_N] = { [C_FREED] = { "freed", "buffers returned to the free list" } };

typedef struct { uint32_t h, o, n, i, ret[2]; } fl_l;

static void freelist_run(np_t *m, np_thread_t *t) {
    fl_l *L = LOCALS(fl_l);
    PT_BEGIN(t);
    for (;;) {
        OP_RING_GET(t, R_IN, 0);
        L->h = t->xin[0] & 0xFFFFFF;
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_DESC, 0, (uint64_t)L->h * 32, 8);
        L->o = m->desc[L->h].data;
        L->n = 0;
        if (L->o != L->h) L->ret[L->n++] = L->h;
        if (--m->desc[L->o].refcnt == 0) {
            np_slot_free(m, m->desc[L->o].slot);
            L->ret[L->n++] = L->o;
        }
        for (L->i = 0; L->i < L->n; L->i++) {
            np_buf_returned(m, L->ret[L->i]);
            COUNT(C_FREED, 1);
            OP_FREE(t, R_BUFQ, L->ret[L->i]);
        }
    }
    PT_END(t);
}

NP_BLOCK(freelist, .doc = "Buffer recycling with reference counts for copies",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(fl_l), .run = freelist_run);
