/* HdrFmt -- header format (NPR: 1 ME).
 *
 * In:  QM -> HdrFmt ring {handle, port}.
 * Out: HdrFmt -> Tx ring {handle, port, len}.
 * Writes the outgoing Ethernet header (next-hop MAC, the port's MAC,
 * EtherType IPv4) into the descriptor, from where Tx puts it in front of
 * the packet; copies that share one buffer thus each get their own header.
 * Frames the control processor built whole (KEEP_L2) are left as they are.
 */
#include "../npcore.h"

static void put_mac(uint8_t *p, uint64_t mac) {
    for (int i = 5; i >= 0; i--) { p[i] = (uint8_t)mac; mac >>= 8; }
}

void np_blk_hf(np_t *m, np_thread_t *t) {
    np_hf_l *L = &t->u.hf;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, NP_ROLE_QM_HF, 0);
        L->h = t->xin[0]; L->port = t->xin[1];
        t->pkt = m->desc[L->h].pkt;
        L->len = m->desc[L->h].len;
        COMPUTE(t, m->cost[NP_C_HF_BASE]);
        OP_MEM(t, NP_MR_DESC, 0, (uint64_t)L->h * 32, 16);
        {
            np_desc_t *d = &m->desc[L->h];
            if (!(d->flags & NP_DF_KEEP_L2)) {
                put_mac(d->l2, d->nh_mac & 0xFFFFFFFFFFFFULL);
                put_mac(d->l2 + 6, m->port[L->port].mac);
                d->l2[12] = 0x08; d->l2[13] = 0x00;
            }
        }
        OP_MEM(t, NP_MR_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32 + 16, 16);
        OP_RING_PUT(t, NP_ROLE_HF_TX, 0, L->h, L->port, L->len);
    }
    PT_END(t);
}
