/* QM -- queue manager and scheduler (NPR: 1 ME).
 *
 * In:  PLC -> QM ring {handle | port << 24, qid, len}.
 * Out: QM -> HdrFmt ring {handle, port}; stats ring (post-queue).
 * Threads 0 .. QM_ENQ_THREADS-1 enqueue; each further thread schedules one
 * port. Per port, 8,192 FIFO queues [C NPR-queues]: QIDs 0-63 datagram
 * queues, 64-8191 reserved flow queues. Per queue a threshold in bytes
 * (arrivals that would exceed it are dropped) and a quantum; the queues
 * with packets are served by weighted deficit round robin, and each port
 * is paced at its configured rate (np_pace_sub) and flow-controlled by the
 * room left in its transmit buffer (credits returned by Tx).
 * Drops: qm_threshold.
 */
#include "../npcore.h"

#define NIL 0xFFFFFFFFu

static void q_activate(np_t *m, np_port_t *p, uint32_t qi) {
    np_queue_t *q = &m->q[qi];
    q->active = 1; q->visited = 0; q->next_active = NIL;
    if (p->act_tail == NIL) p->act_head = qi; else m->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
    p->n_active++;
}

static void q_rotate(np_t *m, np_port_t *p) {           /* head to tail */
    uint32_t qi = p->act_head;
    if (m->q[qi].next_active == NIL) return;
    p->act_head = m->q[qi].next_active;
    m->q[qi].next_active = NIL;
    m->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
}

static void q_remove_head(np_t *m, np_port_t *p) {
    uint32_t qi = p->act_head;
    p->act_head = m->q[qi].next_active;
    if (p->act_head == NIL) p->act_tail = NIL;
    m->q[qi].active = 0; m->q[qi].next_active = NIL;
    p->n_active--;
}

/* Weighted deficit round robin (Shreedhar & Varghese), one packet per call:
 * a queue reaching the head of the active list earns its quantum once per
 * round and sends while its head packet fits in its deficit. Returns the
 * handle; *visits counts queue visits (scheduler work). */
static uint32_t wdrr_dequeue(np_t *m, int port, uint32_t *visits) {
    np_port_t *p = &m->port[port];
    *visits = 0;
    while (p->act_head != NIL) {
        uint32_t qi = p->act_head;
        np_queue_t *q = &m->q[qi];
        (*visits)++;
        if (!q->visited) { q->deficit += q->quantum; q->visited = 1; }
        uint32_t h = q->head, len = m->desc[h].len;
        if ((int64_t)len <= q->deficit) {
            q->deficit -= len;
            q->head = m->desc[h].next;
            if (q->head == NIL) q->tail = NIL;
            q->pkts--; q->bytes -= len;
            q->st.deq_pkts++; q->st.deq_bytes += len;
            if (!q->pkts) { q->deficit = 0; q_remove_head(m, p); }
            return h;
        }
        q->visited = 0;
        q_rotate(m, p);
    }
    return NIL;
}

void np_blk_qm(np_t *m, np_thread_t *t) {
    np_qm_l *L = &t->u.qm;
    uint32_t nenq = m->cost[NP_C_QM_ENQ_THREADS];
    PT_BEGIN(t);
    if ((uint32_t)t->idx < nenq) {
        for (;;) {                                          /* enqueue thread */
            t->pkt = NP_NO_PKT;
            OP_RING_GET(t, NP_ROLE_PLC_QM, 0);
            L->h = t->xin[0] & 0xFFFFFF; L->port = t->xin[0] >> 24; L->qid = t->xin[1]; L->len = t->xin[2];
            t->pkt = m->desc[L->h].pkt;
            COMPUTE(t, m->cost[NP_C_QM_ENQ]);
            OP_MEM(t, NP_MR_QPARAM, 0, ((uint64_t)L->port * NP_QUEUES_PER_PORT + L->qid) * 16, 16);
            {
                uint32_t qi = L->port * NP_QUEUES_PER_PORT + L->qid;
                np_queue_t *q = &m->q[qi];
                if (q->bytes + L->len > q->threshold) {
                    q->st.drops++;
                    np_drop_h(m, L->h, NP_DROP_QM_THRESHOLD, NP_BLK_QM);
                    L->qid = NIL;
                } else {
                    m->desc[L->h].next = NIL;
                    if (q->tail == NIL) q->head = L->h; else m->desc[q->tail].next = L->h;
                    q->tail = L->h;
                    q->pkts++; q->bytes += L->len;
                    q->st.enq_pkts++; q->st.enq_bytes += L->len;
                    if (!q->active) q_activate(m, &m->port[L->port], qi);
                }
            }
            if (L->qid == NIL) {
                OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                continue;
            }
            OP_MEM(t, NP_MR_QDESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 16, 16);
            OP_SIGNAL(t, L->port);
        }
    }
    L->port_i = (uint32_t)t->idx - nenq;
    if ((int)L->port_i >= m->n_port) OP_HALT(t);          /* more threads than ports */
    for (;;) {                                              /* scheduler thread for port_i */
        t->pkt = NP_NO_PKT;
        while (m->port[L->port_i].act_head == NIL) OP_WAIT_SIG(t, L->port_i);
        if (m->port[L->port_i].qm_next_sub > m->now * NP_SUB)
            OP_WAIT_UNTIL(t, (m->port[L->port_i].qm_next_sub + NP_SUB - 1) / NP_SUB);
        if (m->port[L->port_i].act_head == NIL) continue;
        {
            uint32_t visits;
            np_port_t *p = &m->port[L->port_i];
            L->h = wdrr_dequeue(m, (int)L->port_i, &visits);
            L->len = m->desc[L->h].len;
            t->pkt = m->desc[L->h].pkt;
            COMPUTE(t, m->cost[NP_C_QM_DEQ] + m->cost[NP_C_QM_SCHED_VISIT] * visits);
            uint64_t base = p->qm_next_sub > m->now * NP_SUB ? p->qm_next_sub : m->now * NP_SUB;
            p->qm_next_sub = base + np_pace_sub(m, (int)L->port_i, L->len);
        }
        /* transmit credit: the frame must fit in the port's TBUF [flow control] */
        while (m->port[L->port_i].tx_inflight
               && m->port[L->port_i].tx_inflight + np_fx_tbuf_need(m, L->len) > m->p.tbuf_elements)
            OP_WAIT_SIG(t, NP_SIG_TXCREDIT + L->port_i);
        m->port[L->port_i].tx_inflight += np_fx_tbuf_need(m, L->len);
        OP_MEM(t, NP_MR_QDESC, 0, (uint64_t)L->h * 16, 16);
        OP_RING_PUT(t, NP_ROLE_QM_HF, 0, L->h, L->port_i);
        if (m->desc[L->h].stats && m->role_ring[NP_ROLE_STATS] >= 0)
            OP_RING_PUT(t, NP_ROLE_STATS, NP_OPF_POSTED | NP_OPF_TRY, m->desc[L->h].stats, L->len, 1);
    }
    PT_END(t);
}
