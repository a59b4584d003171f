/* Tx -- transmit (NPR: 1 ME).
 *
 * In:  HdrFmt -> Tx ring {handle, port, len}; TXDONE status pushed by the
 *      MSF {handle, port} when a frame has left the wire.
 * Out: the port's transmit buffer; the free ring; a transmit credit to QM.
 * Every thread serves both: completions first (free the buffer, give the
 * TBUF room back to the QM scheduler of that port), then new frames (move
 * header from the descriptor and payload from DRAM into TBUF).
 */
#include "../npcore.h"

static uint64_t tx_mask(np_t *m) {
    uint64_t mask = RING_MASK(NP_ROLE_HF_TX);
    if (m->role_ring[NP_ROLE_TXDONE] >= 0) mask |= RING_MASK(NP_ROLE_TXDONE);
    return mask;
}

void np_blk_tx(np_t *m, np_thread_t *t) {
    np_tx_l *L = &t->u.tx;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_WAIT_ANY(t, tx_mask(m));
        if (m->role_ring[NP_ROLE_TXDONE] >= 0 && (m->ring_nonempty & RING_MASK(NP_ROLE_TXDONE))) {
            OP_RING_GET(t, NP_ROLE_TXDONE, NP_OPF_TRY);
            if (t->result != NP_R_OK) continue;
            L->h = t->xin[0]; L->port = t->xin[1];
            COMPUTE(t, m->cost[NP_C_TX_DONE]);
            m->port[L->port].tx_inflight -= np_fx_tbuf_need(m, m->desc[L->h].len);
            OP_SIGNAL(t, NP_SIG_TXCREDIT + L->port);
            OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
            continue;
        }
        OP_RING_GET(t, NP_ROLE_HF_TX, NP_OPF_TRY);
        if (t->result != NP_R_OK) continue;
        L->h = t->xin[0]; L->port = t->xin[1]; L->len = t->xin[2];
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, m->cost[NP_C_TX_BASE]);
        OP_MEM(t, NP_MR_DESC, 0, (uint64_t)L->h * 32 + 16, 16);
        OP_MEM(t, NP_MR_PKT, 0, np_pkt_addr(m, L->h) + 14, L->len > 14 ? L->len - 14 : 1);
        OP_TX(t, L->port, L->h, L->len);
    }
    PT_END(t);
}
