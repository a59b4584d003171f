/* Rx -- receive (NPR: 2 MEs).
 *
 * In:  RBUF status entries pushed by the MSF {slot, port, len}.
 * Out: Rx -> Mux ring {handle, port, len}.
 * Per frame: take a free buffer (SRAM dequeue), move the frame RBUF -> DRAM,
 * release the RBUF elements, write the descriptor, hand the packet to Mux.
 * Drops: no_buffer.
 */
#include <string.h>
#include "../npcore.h"

static void rx_fill(np_t *m, uint32_t h, const np_rbuf_slot_t *s) {
    np_desc_t *d = &m->desc[h];
    memset(d, 0, sizeof *d);
    d->pkt = s->id; d->t_rx = s->t_end; d->len = s->len; d->data = h; d->refcnt = 1;
    d->in_port = s->port; d->meta = s->meta; d->src = NP_SRC_RX; d->flags = NP_DF_LIVE;
    d->slot = np_slot_alloc(m);
    memcpy(np_pkt_data(m, h), s->data, s->len);
}

void np_blk_rx(np_t *m, np_thread_t *t) {
    np_rx_l *L = &t->u.rx;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, NP_ROLE_RBUF, 0);
        L->slot = t->xin[0]; L->port = t->xin[1]; L->len = t->xin[2];
        t->pkt = m->rbuf[L->slot].id;
        COMPUTE(t, m->cost[NP_C_RX_BASE] + m->cost[NP_C_RX_PER_MPKT] * np_fx_rbuf_elems(m, L->len));
        OP_RING_GET(t, NP_ROLE_BUFQ, NP_OPF_TRY);
        if (t->result != NP_R_OK) {
            np_count_drop(m, NP_DROP_NO_BUFFER, t->pkt, (int)L->port, NP_BLK_RX);
            OP_RBUF_FREE(t, L->slot);
            continue;
        }
        L->h = t->xin[0];
        m->n_free_bufs--;
        rx_fill(m, L->h, &m->rbuf[L->slot]);
        OP_MEM(t, NP_MR_PKT, NP_OPF_WRITE, np_pkt_addr(m, L->h), L->len);
        OP_RBUF_FREE(t, L->slot);
        OP_MEM(t, NP_MR_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32, 32);
        OP_RING_PUT(t, NP_ROLE_RX_MUX, NP_OPF_POSTED, L->h, L->port, L->len);
    }
    PT_END(t);
}
