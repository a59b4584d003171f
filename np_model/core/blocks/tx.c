/* Tx -- transmit (NPR: 1 ME).
 *
 * In:  HdrFmt -> Tx ring {handle, port, len}.
 * Out: the port's wire; the free ring once the frame is sent.
 * Moves header (descriptor, SRAM) and payload (DRAM) into the port's
 * transmit buffer, waits until the MSF has sent the frame, frees the buffer.
 */
#include "../npcore.h"

void np_blk_tx(np_t *m, np_thread_t *t) {
    np_tx_l *L = &t->u.tx;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, NP_ROLE_HF_TX, 0);
        L->h = t->xin[0]; L->port = t->xin[1]; L->len = t->xin[2];
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, m->cost[NP_C_TX_BASE]);
        OP_MEM(t, NP_MR_DESC, 0, (uint64_t)L->h * 32 + 16, 16);
        OP_MEM(t, NP_MR_PKT, 0, np_pkt_addr(m, L->h) + 14, L->len > 14 ? L->len - 14 : 1);
        OP_TX(t, L->port, L->h, L->len);
        OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
    }
    PT_END(t);
}
