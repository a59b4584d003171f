/* QM -- queue manager and scheduler (NPR: 1 ME).
 *
 * Per port 8,192 FIFO queues [C NPR-queues], addressed by encoded QIDs
 * (queue | (port + 1) << 13 [C-code]): QIDs 0-63 of a port are its datagram
 * queues, 64-8191 reserved flow queues. Per queue a threshold in bytes
 * (arrivals that would exceed it are dropped) and a quantum; the queues
 * with packets are served by weighted deficit round robin, and each port
 * is paced at its configured rate and flow-controlled by the room left in
 * its transmit buffer (credits returned by Tx). Optionally a port may hold
 * at most `port_buffers` queued packets (0: no limit, the NPR's behaviour).
 * Threads 0 .. enq_threads-1 enqueue; each further thread schedules one port.
 * Drops: qm_threshold, qm_port_limit, bad_qid.
 */
#include <stdlib.h>
#include "block.h"

enum { R_IN, R_OUT, R_STATS, R_FREE, R_N };
enum { M_QPARAM, M_QDESC, M_N };
enum { P_COST_ENQ, P_COST_DEQ, P_COST_VISIT, P_ENQ_THREADS, P_FRAMING, P_THRESHOLD, P_QUANTUM,
       P_PORT_BASE, P_PORTS, P_PORT_BUFFERS, P_N };
enum { C_ENQ, C_DEQ, C_THRESHOLD, C_PORT_LIMIT, C_BAD_QID, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "plc_qm", "packets to queue (PLC, plug-ins)"),
    [R_OUT] = NP_OUT("out", "qm_hf", "scheduled packets to HdrFmt"),
    [R_STATS] = NP_OUT_OPT("stats", "stats_upd", "post-queue counter updates"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_QPARAM] = { "qparam", "queue parameters, 16 B per QID (SRAM bank 1 [C-code])" },
    [M_QDESC] = { "qdesc", "queue descriptors and links (SRAM bank 2 [C-code])" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_ENQ] = NP_COST("cost_enq", 40, "QM: enqueue"),
    [P_COST_DEQ] = NP_COST("cost_deq", 50, "QM: dequeue"),
    [P_COST_VISIT] = NP_COST("cost_sched_visit", 8, "QM: per queue visited by WDRR"),
    [P_ENQ_THREADS] = NP_PARAM("enq_threads", 3, 1, 7, "threads", "estimate",
                               "QM ME: enqueue threads; one scheduling thread per port follows"),
    [P_FRAMING] = NP_PARAM("rate_counts_framing", 1, 0, 1, "bool", "estimate",
                           "pace on wire bytes (FCS + preamble + IFG) so 1 Gb/s is line rate"),
    [P_THRESHOLD] = NP_PARAM("threshold", 524288, 0, 0xFFFFFFFFLL, "B", "code",
                             "ONLdaemons DEF_Q_THRESHOLD 0x80000; RLI default 524288"),
    [P_QUANTUM] = NP_PARAM("quantum", 256, 1, 0xFFFFFFFFLL, "B", "code",
                           "ONLdaemons DEF_Q_QUANTUM 0x100 (RLI shows 346); unit bytes [U]"),
    [P_PORT_BASE] = NP_PARAM("port_base", 0, 0, 254, "port", "wiring", "first MSF port it serves"),
    [P_PORTS] = NP_PARAM("ports", 0, 0, 7, "ports", "wiring",
                         "ports served (0: all from port_base; QM_NUM_PORTS = 5 on the NPR; the QID encoding allows 7)"),
    [P_PORT_BUFFERS] = NP_PARAM("port_buffers", 0, 0, 1 << 24, "packets", "code",
                                "NPR: no per-port limit (0); a limit keeps one congested port from holding every buffer"),
};
static const np_named_t counters[C_N] = {
    [C_ENQ] = { "enqueued", "packets queued" }, [C_DEQ] = { "dequeued", "packets scheduled" },
    [C_THRESHOLD] = { "threshold_drops", "arrivals over their queue's threshold" },
    [C_PORT_LIMIT] = { "port_limit_drops", "arrivals over their port's buffer limit" },
    [C_BAD_QID] = { "bad_qid_drops", "QIDs naming a port this QM does not serve" },
};

#define NIL 0xFFFFFFFFu

typedef struct qm_queue {
    uint32_t head, tail, pkts, bytes;
    uint32_t threshold, quantum;
    int64_t deficit;
    uint32_t next_active;
    uint8_t active, visited;
    np_queue_stats_t st;
} qm_queue_t;

typedef struct qm_port {
    uint64_t kbps, next_sub;     /* configured rate; pacing: next dequeue allowed */
    uint32_t act_head, act_tail, n_active, queued;
    int sig;                     /* work for its scheduler */
} qm_port_t;

typedef struct { qm_queue_t *q; qm_port_t *p; int base, n; } qm_state;
typedef struct { uint32_t h, qid, len, pi, qi; } qm_l;

static int qm_init(np_t *m, np_inst_t *x) {
    qm_state *S = x->state;
    S->base = (int)x->param[P_PORT_BASE];
    S->n = x->param[P_PORTS] ? (int)x->param[P_PORTS] : m->n_port - S->base;
    if (S->n < 1 || S->n > 7 || S->base + S->n > m->n_port)
        return np_fail(m, "%s: serves ports %d..%d but the machine has ports 0..%d (and a QM at most 7)",
                       x->name, S->base, S->base + S->n - 1, m->n_port - 1);
    int need = (int)x->param[P_ENQ_THREADS] + S->n;
    if (x->threads < need)
        return np_fail(m, "%s: needs at least %d threads: %lld enqueue threads and one scheduler per port (%d ports)",
                       x->name, need, (long long)x->param[P_ENQ_THREADS], S->n);
    S->q = calloc((size_t)S->n * NP_QUEUES_PER_PORT, sizeof *S->q);
    S->p = calloc((size_t)S->n, sizeof *S->p);
    if (!S->q || !S->p) return np_fail(m, "%s: out of memory", x->name);
    for (int i = 0; i < S->n * NP_QUEUES_PER_PORT; i++) {
        S->q[i].head = S->q[i].tail = NIL;
        S->q[i].threshold = (uint32_t)x->param[P_THRESHOLD];
        S->q[i].quantum = (uint32_t)x->param[P_QUANTUM];
    }
    int sig = np_sig_alloc(m, S->n);
    if (sig < 0) return -1;
    for (int i = 0; i < S->n; i++) {
        S->p[i].act_head = S->p[i].act_tail = NIL;
        S->p[i].kbps = m->port[S->base + i].wire_bps / 1000;
        S->p[i].sig = sig + i;
    }
    return 0;
}
static void qm_fini(np_t *m, np_inst_t *x) { (void)m; qm_state *S = x->state; free(S->q); free(S->p); }

static void q_activate(qm_state *S, qm_port_t *p, uint32_t qi) {
    qm_queue_t *q = &S->q[qi];
    q->active = 1; q->visited = 0; q->next_active = NIL;
    if (p->act_tail == NIL) p->act_head = qi; else S->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
    p->n_active++;
}
static void q_rotate(qm_state *S, qm_port_t *p) {           /* head to tail */
    uint32_t qi = p->act_head;
    if (S->q[qi].next_active == NIL) return;
    p->act_head = S->q[qi].next_active;
    S->q[qi].next_active = NIL;
    S->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
}
static void q_remove_head(qm_state *S, qm_port_t *p) {
    uint32_t qi = p->act_head;
    p->act_head = S->q[qi].next_active;
    if (p->act_head == NIL) p->act_tail = NIL;
    S->q[qi].active = 0; S->q[qi].next_active = NIL;
    p->n_active--;
}

/* Weighted deficit round robin (Shreedhar & Varghese), one packet per call:
 * a queue reaching the head of the active list earns its quantum once per
 * round and sends while its head packet fits in its deficit. Returns the
 * handle; *visits counts queue visits (scheduler work). */
static uint32_t wdrr_dequeue(np_t *m, qm_state *S, qm_port_t *p, uint32_t *visits) {
    *visits = 0;
    while (p->act_head != NIL) {
        uint32_t qi = p->act_head;
        qm_queue_t *q = &S->q[qi];
        (*visits)++;
        if (!q->visited) { q->deficit += q->quantum; q->visited = 1; }
        uint32_t h = q->head, len = m->desc[h].len;
        if ((int64_t)len <= q->deficit) {
            q->deficit -= len;
            q->head = m->desc[h].next;
            if (q->head == NIL) q->tail = NIL;
            q->pkts--; q->bytes -= len;
            q->st.deq_pkts++; q->st.deq_bytes += len;
            p->queued--;
            if (!q->pkts) { q->deficit = 0; q_remove_head(S, p); }
            return h;
        }
        q->visited = 0;
        q_rotate(S, p);
    }
    return NIL;
}

static void qm_run(np_t *m, np_thread_t *t) {
    qm_l *L = LOCALS(qm_l);
    qm_state *S = STATE(qm_state);
    uint32_t nenq = (uint32_t)PARAM(P_ENQ_THREADS);
    PT_BEGIN(t);
    if ((uint32_t)t->idx < nenq) {
        for (;;) {                                          /* enqueue thread */
            t->pkt = NP_NO_PKT;
            OP_RING_GET(t, R_IN, 0);
            {
                np_plc_qm_t e;
                np_unpack_plc_qm(t->xin, &e);
                L->h = e.handle; L->qid = e.qid; L->len = e.len;
            }
            t->pkt = m->desc[L->h].pkt;
            COMPUTE(t, PARAM(P_COST_ENQ));
            L->pi = (uint32_t)(np_qid_port(L->qid) - S->base);
            if (np_qid_port(L->qid) < S->base || L->pi >= (uint32_t)S->n) {
                COUNT(C_BAD_QID, 1);
                np_drop_h(m, L->h, NP_DROP_BAD_QID, I->id);
                OP_FREE(t, R_FREE, L->h);
                continue;
            }
            L->qi = L->pi * NP_QUEUES_PER_PORT + np_qid_queue(L->qid);
            OP_MEM(t, M_QPARAM, 0, (uint64_t)L->qi * 16, 16);
            {
                qm_queue_t *q = &S->q[L->qi];
                qm_port_t *p = &S->p[L->pi];
                int reason = -1;
                if (q->bytes + L->len > q->threshold) { reason = NP_DROP_QM_THRESHOLD; q->st.drops++; COUNT(C_THRESHOLD, 1); }
                else if (PARAM(P_PORT_BUFFERS) && p->queued >= (uint64_t)PARAM(P_PORT_BUFFERS)) {
                    reason = NP_DROP_QM_PORT_LIMIT; q->st.drops++; COUNT(C_PORT_LIMIT, 1);
                }
                if (reason >= 0) {
                    np_drop_h(m, L->h, reason, I->id);
                    L->qid = NIL;
                } else {
                    m->desc[L->h].next = NIL;
                    m->desc[L->h].qid = (uint16_t)L->qid;
                    if (q->tail == NIL) q->head = L->h; else m->desc[q->tail].next = L->h;
                    q->tail = L->h;
                    q->pkts++; q->bytes += L->len; p->queued++;
                    q->st.enq_pkts++; q->st.enq_bytes += L->len;
                    COUNT(C_ENQ, 1);
                    if (!q->active) q_activate(S, p, L->qi);
                }
            }
            if (L->qid == NIL) {
                OP_FREE(t, R_FREE, L->h);
                continue;
            }
            OP_MEM(t, M_QDESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 16, 16);
            OP_SIGNAL(t, S->p[L->pi].sig);
        }
    }
    L->pi = (uint32_t)t->idx - nenq;
    if ((int)L->pi >= S->n) OP_HALT(t);                    /* more threads than ports */
    for (;;) {                                              /* scheduler thread for port pi */
        t->pkt = NP_NO_PKT;
        while (S->p[L->pi].act_head == NIL) OP_WAIT_SIG(t, S->p[L->pi].sig);
        if (S->p[L->pi].next_sub > m->now * NP_SUB)
            OP_WAIT_UNTIL(t, (S->p[L->pi].next_sub + NP_SUB - 1) / NP_SUB);
        if (S->p[L->pi].act_head == NIL) continue;
        {
            uint32_t visits;
            qm_port_t *p = &S->p[L->pi];
            L->h = wdrr_dequeue(m, S, p, &visits);
            L->len = m->desc[L->h].len;
            t->pkt = m->desc[L->h].pkt;
            COMPUTE(t, PARAM(P_COST_DEQ) + PARAM(P_COST_VISIT) * visits);
            COUNT(C_DEQ, 1);
            uint64_t base = p->next_sub > m->now * NP_SUB ? p->next_sub : m->now * NP_SUB;
            p->next_sub = base + np_pace_sub(m, p->kbps, L->len, PARAM(P_FRAMING) != 0);
        }
        /* transmit credit: the frame must fit in the port's TBUF [flow control] */
        while (m->port[S->base + L->pi].tx_inflight
               && m->port[S->base + L->pi].tx_inflight + np_fx_tbuf_need(m, L->len) > m->p.tbuf_elements)
            OP_WAIT_SIG(t, m->port[S->base + L->pi].sig_credit);
        m->port[S->base + L->pi].tx_inflight += np_fx_tbuf_need(m, L->len);
        OP_MEM(t, M_QDESC, 0, (uint64_t)L->h * 16, 16);
        {
            np_qm_hf_t e = { .handle = L->h, .port = (uint32_t)S->base + L->pi };
            OP_RING_PUT_REC(t, R_OUT, 0, qm_hf, e);
        }
        if (m->desc[L->h].stats && RING(R_STATS) >= 0) {
            np_stats_upd_t u = { .index = m->desc[L->h].stats, .len = L->len, .post = 1 };
            OP_RING_PUT_REC(t, R_STATS, NP_OPF_POSTED | NP_OPF_TRY, stats_upd, u);
        }
    }
    PT_END(t);
}

/* ---- configuration (control plane) ---- */
static qm_state *qm_of(np_t *m, int inst) {
    qm_state *S = np_inst_state(m, inst, np_block_type_find("qm"));
    if (!S || !S->q) { np_fail(m, "block instance %d is not a started queue manager", inst); return NULL; }
    return S;
}
static qm_queue_t *queue_of(np_t *m, qm_state *S, uint32_t qid) {
    int pi = np_qid_port(qid) - S->base;
    if (np_qid_port(qid) < S->base || pi >= S->n) {
        np_fail(m, "QID 0x%04x names port %d; this queue manager serves ports %d..%d (QID = queue | (port+1) << 13)",
                qid, np_qid_port(qid), S->base, S->base + S->n - 1);
        return NULL;
    }
    return &S->q[pi * NP_QUEUES_PER_PORT + np_qid_queue(qid)];
}
int np_queue_set(np_t *m, int inst, uint32_t qid, uint32_t threshold, uint32_t quantum) {
    qm_state *S = qm_of(m, inst);
    if (!S) return -1;
    qm_queue_t *q = queue_of(m, S, qid);
    if (!q) return -1;
    if (quantum < 1) return np_fail(m, "quantum must be >= 1 byte");
    q->threshold = threshold; q->quantum = quantum;
    return 0;
}
int np_queue_get(np_t *m, int inst, uint32_t qid, uint32_t *threshold, uint32_t *quantum, uint32_t *pkts, uint32_t *bytes) {
    qm_state *S = qm_of(m, inst);
    if (!S) return -1;
    qm_queue_t *q = queue_of(m, S, qid);
    if (!q) return -1;
    *threshold = q->threshold; *quantum = q->quantum; *pkts = q->pkts; *bytes = q->bytes;
    return 0;
}
int np_queue_stats(np_t *m, int inst, uint32_t qid, np_queue_stats_t *s) {
    qm_state *S = qm_of(m, inst);
    if (!S) return -1;
    qm_queue_t *q = queue_of(m, S, qid);
    if (!q) return -1;
    *s = q->st; s->pkts = q->pkts; s->bytes = q->bytes;
    return 0;
}
int np_active_queues(np_t *m, int inst, uint32_t *qids, int max) {
    qm_state *S = qm_of(m, inst);
    if (!S) return -1;
    int n = 0;
    for (int pi = 0; pi < S->n; pi++)
        for (int i = 0; i < NP_QUEUES_PER_PORT && n < max; i++)
            if (S->q[pi * NP_QUEUES_PER_PORT + i].st.enq_pkts || S->q[pi * NP_QUEUES_PER_PORT + i].st.drops)
                qids[n++] = np_qid((uint32_t)(S->base + pi), (uint32_t)i);
    return n;
}
int np_port_rate(np_t *m, int inst, int port, uint64_t kbps) {
    qm_state *S = qm_of(m, inst);
    if (!S) return -1;
    if (port < S->base || port >= S->base + S->n)
        return np_fail(m, "port %d is not served by this queue manager (ports %d..%d)", port, S->base, S->base + S->n - 1);
    if (kbps == 0) return np_fail(m, "port rate must be > 0 Kb/s");
    S->p[port - S->base].kbps = kbps;
    return 0;
}
NP_BLOCK(qm, .doc = "Queue manager: per-port encoded-QID queues, thresholds, WDRR, port rate, TBUF credits",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(qm_l), .state = sizeof(qm_state),
         .init = qm_init, .fini = qm_fini, .run = qm_run);
