/* XScale -- the control processor's side of the data path.
 *
 * Thread 0 (receive) polls the error, local-delivery and exception rings in
 * that order [C-code nprd_datapathconn.cc], copies each packet out to the
 * host and frees its buffer. Thread 1 (transmit) takes packets the host
 * injects, places them in a buffer and sends them to Mux (Src = XScale;
 * pass-through packets name their port and queue); control messages for
 * plug-ins are relayed to the plug-in's message ring [C NPR-msg].
 * Drops: host_no_buffer.
 */
#include <string.h>
#include <stdlib.h>
#include "../npcore.h"

static int xs_pick(np_t *m) {
    static const int order[3] = { NP_ROLE_ERR, NP_ROLE_LD, NP_ROLE_EXC };
    for (int i = 0; i < 3; i++) {
        int ri = m->role_ring[order[i]];
        if (ri >= 0 && ((m->ring_nonempty >> ri) & 1)) return order[i];
    }
    return -1;
}

static uint64_t xs_mask(np_t *m) {
    uint64_t mask = 0;
    if (m->role_ring[NP_ROLE_ERR] >= 0) mask |= RING_MASK(NP_ROLE_ERR);
    if (m->role_ring[NP_ROLE_LD] >= 0) mask |= RING_MASK(NP_ROLE_LD);
    if (m->role_ring[NP_ROLE_EXC] >= 0) mask |= RING_MASK(NP_ROLE_EXC);
    return mask;
}

static void xs_fill(np_t *m, uint32_t h, np_inj_t *j) {
    np_desc_t *d = &m->desc[h];
    memset(d, 0, sizeof *d);
    d->pkt = j->id; d->t_rx = m->now; d->len = j->len; d->data = h; d->refcnt = 1;
    d->in_port = (uint8_t)(j->in_port < 0 ? 0 : j->in_port);
    d->out_port = (uint8_t)(j->out_port < 0 ? 0 : j->out_port);
    d->qid = (uint16_t)j->qid; d->ptag = (uint8_t)j->ptag; d->src = NP_SRC_XSCALE;
    d->flags = NP_DF_LIVE | NP_DF_HOST;
    d->slot = np_slot_alloc(m);
    if (j->flags & NP_INJ_PASSTHRU) d->flags |= NP_DF_PASSTHRU;
    if (j->flags & NP_INJ_KEEP_L2) d->flags |= NP_DF_KEEP_L2;
    memcpy(np_pkt_data(m, h), j->data, j->len);
}

void np_blk_xscale(np_t *m, np_thread_t *t) {
    np_xs_l *L = &t->u.xs;
    PT_BEGIN(t);
    if (t->idx == 0) {
        for (;;) {                                       /* receive path */
            t->pkt = NP_NO_PKT;
            OP_WAIT_ANY(t, xs_mask(m));
            L->r = (uint32_t)xs_pick(m);
            if ((int)L->r < 0) continue;
            OP_RING_GET(t, L->r, NP_OPF_TRY);
            if (t->result != NP_R_OK) continue;
            L->h = NP_MUX_H(t->xin);
            L->e[1] = t->xin[1];
            t->pkt = m->desc[L->h].pkt;
            L->len = m->desc[L->h].len;
            COMPUTE(t, m->cost[NP_C_XS_RX]);
            OP_MEM(t, NP_MR_PKT, 0, np_pkt_addr(m, L->h), L->len);
            OP_HOST(t, L->h, L->e[1]);
            OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
        }
    }
    if (t->idx != 1 || m->role_ring[NP_ROLE_HOST_IN] < 0) OP_HALT(t);
    for (;;) {                                           /* transmit path */
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, NP_ROLE_HOST_IN, 0);
        L->r = t->xin[0];
        COMPUTE(t, m->cost[NP_C_XS_TX]);
        if (((np_inj_t *)m->host_in.p)[L->r].flags & NP_INJ_MSG) {
            /* a control message: relay it to the plug-in's message ring */
            L->len = (uint32_t)((np_inj_t *)m->host_in.p)[L->r].out_port;
            if (m->role_ring[NP_ROLE_PLMSG0 + L->len] >= 0)
                OP_RING_PUT(t, NP_ROLE_PLMSG0 + L->len, NP_OPF_POSTED | NP_OPF_TRY, L->r);
            if (m->role_ring[NP_ROLE_PLMSG0 + L->len] < 0 || t->result == NP_R_FULL) {
                np_inj_t *j = (np_inj_t *)m->host_in.p + L->r;
                free(j->data); j->data = NULL;
            }
            continue;
        }
        t->pkt = ((np_inj_t *)m->host_in.p)[L->r].id;
        OP_RING_GET(t, NP_ROLE_BUFQ, NP_OPF_TRY);
        {
            np_inj_t *j = (np_inj_t *)m->host_in.p + L->r;
            if (t->result != NP_R_OK) {
                np_count_drop(m, NP_DROP_HOST_NO_BUFFER, j->id, j->in_port < 0 ? 0 : j->in_port, NP_BLK_XSCALE);
                free(j->data); j->data = NULL;
                continue;
            }
            L->h = t->xin[0];
            m->n_free_bufs--;
            xs_fill(m, L->h, j);
            L->len = j->len;
            free(j->data); j->data = NULL;
        }
        OP_MEM(t, NP_MR_PKT, NP_OPF_WRITE, np_pkt_addr(m, L->h), L->len);
        OP_MEM(t, NP_MR_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32, 32);
        OP_RING_PUT(t, NP_ROLE_XS_MUX, NP_OPF_POSTED, L->h);
    }
    PT_END(t);
}
