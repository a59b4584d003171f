/* HQM -- queue manager with rate-limited scheduling nodes (SPP: LC and NPE).
 *
 * The NPR's QM (qm.c) with a hierarchy above the queues, as the SPP needs
 * it: per-slice queues bound to meta-interfaces with per-MI and per-fast-
 * path rate limits on the NPE, per-interface queues with per-slice rates
 * on the line card's egress [C virtual_routers.md 1.3/1.4: MI and fast-path
 * bandwidths; LC-egress queues "set output rate per interface"].
 *
 * Per port 8,192 FIFO queues addressed by encoded QIDs (queue | (port + 1)
 * << 13, as the NPR's), each with a threshold in bytes, a WDRR quantum in
 * bytes, an optional rate (Kb/s) and an optional parent *node*. A node has
 * an optional rate, an optional packet limit (the packets queued below it:
 * an SPP fast path's reserved packet buffers) and an optional parent node
 * (an MI node's parent is its fast path's node). A queue may send when it,
 * and every node above it, is within its rate: each is paced like the port
 * (the time a frame takes at the rate, wire bytes counted with
 * rate_counts_framing), so a rate is an upper bound with no burst
 * allowance. Among the queues that may send, weighted deficit round robin;
 * when every queue with packets is held back by a rate, the port's
 * scheduler sleeps until the first may send again, at most `poll_cycles`
 * (it then looks again, so a packet arriving in an idle queue waits at most
 * that long). Ports are paced at their rate and flow-controlled by transmit
 * credits, as in qm.c. Output entries go straight to Tx (hf_tx): the SPP's
 * header format runs before queueing and writes whole frames.
 * Threads 0 .. enq_threads-1 enqueue; each further thread schedules one port.
 * Drops: qm_threshold, fastpath_buffers, bad_qid.
 */
#include <stdlib.h>
#include "block.h"

enum { R_IN, R_IN_PT, R_OUT, R_STATS, R_FREE, R_N };
enum { M_QPARAM, M_QDESC, M_N };
enum { P_COST_ENQ, P_COST_DEQ, P_COST_VISIT, P_COST_NODE, P_ENQ_THREADS, P_FRAMING, P_THRESHOLD, P_QUANTUM,
       P_POLL, P_PORT_BASE, P_PORTS, P_NODES, P_N };
enum { C_ENQ, C_DEQ, C_THRESHOLD, C_NODE_LIMIT, C_BAD_QID, C_HELD, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "plc_qm", "packets to queue"),
    [R_IN_PT] = NP_IN_OPT("in_pt", "buf", "packets whose descriptor names their QID (the control processor's)"),
    [R_OUT] = NP_OUT("out", "hf_tx", "scheduled frames to Tx"),
    [R_STATS] = NP_OUT_OPT("stats", "stats_upd", "post-queue counter updates"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_QPARAM] = { "qparam", "queue and node parameters, 16 B each (SRAM)" },
    [M_QDESC] = { "qdesc", "queue descriptors and links (SRAM)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_ENQ] = NP_COST("cost_enq", 40, "HQM: enqueue (as the NPR QM)"),
    [P_COST_DEQ] = NP_COST("cost_deq", 50, "HQM: dequeue (as the NPR QM)"),
    [P_COST_VISIT] = NP_COST("cost_sched_visit", 8, "HQM: per queue visited by WDRR"),
    [P_COST_NODE] = NP_COST("cost_node", 6, "HQM: per scheduling node tested or updated (rate, limit)"),
    [P_ENQ_THREADS] = NP_PARAM("enq_threads", 2, 1, 7, "threads", "estimate",
                               "enqueue threads; one scheduling thread per port follows"),
    [P_FRAMING] = NP_PARAM("rate_counts_framing", 1, 0, 1, "bool", "estimate",
                           "pace on wire bytes (FCS + preamble + IFG) so a rate is a wire rate"),
    [P_THRESHOLD] = NP_PARAM("threshold", 524288, 0, 0xFFFFFFFFLL, "B", "estimate",
                             "default queue threshold (the NPR's DEF_Q_THRESHOLD)"),
    [P_QUANTUM] = NP_PARAM("quantum", 1600, 1, 0xFFFFFFFFLL, "B", "estimate",
                           "WDRR quantum of a weight-1 queue: a maximum-size frame per round"),
    [P_POLL] = NP_PARAM("poll_cycles", 140, 1, 1 << 24, "cycles", "estimate",
                        "longest a scheduler sleeps while every backlogged queue is held by a rate (~100 ns)"),
    [P_PORT_BASE] = NP_PARAM("port_base", 0, 0, 254, "port", "wiring", "first MSF port it serves"),
    [P_PORTS] = NP_PARAM("ports", 0, 0, 7, "ports", "wiring", "ports served (0: all from port_base; at most 7)"),
    [P_NODES] = NP_PARAM("nodes", 0, 0, 1 << 20, "nodes", "wiring", "scheduling nodes (rates, packet limits)"),
};
static const np_named_t counters[C_N] = {
    [C_ENQ] = { "enqueued", "packets queued" }, [C_DEQ] = { "dequeued", "packets scheduled" },
    [C_THRESHOLD] = { "threshold_drops", "arrivals over their queue's threshold" },
    [C_NODE_LIMIT] = { "node_limit_drops", "arrivals over a node's packet limit (fastpath_buffers)" },
    [C_BAD_QID] = { "bad_qid_drops", "QIDs naming a port this QM does not serve" },
    [C_HELD] = { "rate_waits", "times every backlogged queue of a port was held by a rate" },
};

#define NIL 0xFFFFFFFFu
#define NODE_DEPTH 4

typedef struct hq_queue {
    uint32_t head, tail, pkts, bytes;
    uint32_t threshold, quantum;
    int64_t deficit;
    uint64_t kbps, next_sub;
    int32_t node;                /* parent node, -1 none */
    uint32_t next_active;
    uint8_t active, visited;
    np_queue_stats_t st;
} hq_queue_t;

typedef struct hq_node {
    uint64_t kbps, next_sub;
    uint32_t limit, queued;      /* packet limit (0: none), packets queued below it */
    int32_t parent;
    uint64_t enq_pkts, deq_pkts, deq_bytes, drops;
} hq_node_t;

typedef struct hq_port {
    uint64_t kbps, next_sub;
    uint32_t act_head, act_tail, n_active;
    int sig;
} hq_port_t;

typedef struct { hq_queue_t *q; hq_port_t *p; hq_node_t *nd; int base, n, nnodes; } hq_state;
typedef struct { uint32_t h, qid, len, pi, qi, stats, pt; } hq_l;

static int hqm_init(np_t *m, np_inst_t *x) {
    hq_state *S = x->state;
    S->base = (int)x->param[P_PORT_BASE];
    S->n = x->param[P_PORTS] ? (int)x->param[P_PORTS] : m->n_port - S->base;
    if (S->n < 1 || S->n > 7 || S->base + S->n > m->n_port)
        return np_fail(m, "%s: serves ports %d..%d but the machine has ports 0..%d (and a QM at most 7)",
                       x->name, S->base, S->base + S->n - 1, m->n_port - 1);
    int need = (int)x->param[P_ENQ_THREADS] + S->n;
    if (x->threads < need)
        return np_fail(m, "%s: needs at least %d threads: %lld enqueue threads and one scheduler per port (%d ports)",
                       x->name, need, (long long)x->param[P_ENQ_THREADS], S->n);
    S->nnodes = (int)x->param[P_NODES];
    S->q = calloc((size_t)S->n * NP_QUEUES_PER_PORT, sizeof *S->q);
    S->p = calloc((size_t)S->n, sizeof *S->p);
    S->nd = calloc((size_t)(S->nnodes ? S->nnodes : 1), sizeof *S->nd);
    if (!S->q || !S->p || !S->nd) return np_fail(m, "%s: out of memory", x->name);
    for (int i = 0; i < S->n * NP_QUEUES_PER_PORT; i++) {
        S->q[i].head = S->q[i].tail = NIL;
        S->q[i].threshold = (uint32_t)x->param[P_THRESHOLD];
        S->q[i].quantum = (uint32_t)x->param[P_QUANTUM];
        S->q[i].node = -1;
    }
    for (int i = 0; i < S->nnodes; i++) S->nd[i].parent = -1;
    int sig = np_sig_alloc(m, S->n);
    if (sig < 0) return -1;
    for (int i = 0; i < S->n; i++) {
        S->p[i].act_head = S->p[i].act_tail = NIL;
        S->p[i].kbps = m->port[S->base + i].wire_bps / 1000;
        S->p[i].sig = sig + i;
    }
    return 0;
}
static void hqm_fini(np_t *m, np_inst_t *x) { (void)m; hq_state *S = x->state; free(S->q); free(S->p); free(S->nd); }

static void q_activate(hq_state *S, hq_port_t *p, uint32_t qi) {
    hq_queue_t *q = &S->q[qi];
    q->active = 1; q->visited = 0; q->next_active = NIL;
    if (p->act_tail == NIL) p->act_head = qi; else S->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
    p->n_active++;
}
static void q_rotate(hq_state *S, hq_port_t *p) {
    uint32_t qi = p->act_head;
    if (S->q[qi].next_active == NIL) return;
    p->act_head = S->q[qi].next_active;
    S->q[qi].next_active = NIL;
    S->q[p->act_tail].next_active = qi;
    p->act_tail = qi;
}
static void q_remove_head(hq_state *S, hq_port_t *p) {
    uint32_t qi = p->act_head;
    p->act_head = S->q[qi].next_active;
    if (p->act_head == NIL) p->act_tail = NIL;
    S->q[qi].active = 0; S->q[qi].next_active = NIL;
    p->n_active--;
}

/* The earliest sub-cycle the queue and every node above it are within their rates. */
static uint64_t q_eligible(hq_state *S, const hq_queue_t *q, uint32_t *nodes) {
    uint64_t t = q->kbps ? q->next_sub : 0;
    int32_t n = q->node;
    for (int d = 0; n >= 0 && n < S->nnodes && d < NODE_DEPTH; d++, n = S->nd[n].parent) {
        (*nodes)++;
        if (S->nd[n].kbps && S->nd[n].next_sub > t) t = S->nd[n].next_sub;
    }
    return t;
}

/* A frame of len bytes left the queue: charge its rate and every node's. */
static void q_charge(np_t *m, hq_state *S, hq_queue_t *q, uint32_t len, int framing, uint32_t *nodes) {
    uint64_t now = m->now * NP_SUB;
    if (q->kbps) q->next_sub = (q->next_sub > now ? q->next_sub : now) + np_pace_sub(m, q->kbps, len, framing);
    int32_t n = q->node;
    for (int d = 0; n >= 0 && n < S->nnodes && d < NODE_DEPTH; d++, n = S->nd[n].parent) {
        hq_node_t *nd = &S->nd[n];
        (*nodes)++;
        if (nd->kbps) nd->next_sub = (nd->next_sub > now ? nd->next_sub : now) + np_pace_sub(m, nd->kbps, len, framing);
        if (nd->queued) nd->queued--;
        nd->deq_pkts++; nd->deq_bytes += len;
    }
}

/* WDRR over the queues that may send (Shreedhar & Varghese), one packet per
 * call. A queue held by a rate is passed over with its deficit kept; after
 * a whole round of held queues it returns NIL with *t_next the first time
 * one may send. */
static uint32_t hdrr_dequeue(np_t *m, hq_state *S, hq_port_t *p, uint32_t *visits, uint32_t *nodes, uint64_t *t_next) {
    uint64_t now = m->now * NP_SUB;
    uint32_t held = 0;
    *visits = 0; *t_next = UINT64_MAX;
    while (p->act_head != NIL) {
        uint32_t qi = p->act_head;
        hq_queue_t *q = &S->q[qi];
        (*visits)++;
        uint64_t t = q_eligible(S, q, nodes);
        if (t > now) {
            if (t < *t_next) *t_next = t;
            if (++held >= p->n_active) return NIL;
            q_rotate(S, p);
            continue;
        }
        held = 0;
        if (!q->visited) { q->deficit += q->quantum; q->visited = 1; }
        uint32_t h = q->head, len = m->desc[h].len;
        if ((int64_t)len <= q->deficit) {
            q->deficit -= len;
            q->head = m->desc[h].next;
            if (q->head == NIL) q->tail = NIL;
            q->pkts--; q->bytes -= len;
            q->st.deq_pkts++; q->st.deq_bytes += len;
            if (!q->pkts) { q->deficit = 0; q_remove_head(S, p); }
            return h;
        }
        q->visited = 0;
        q_rotate(S, p);
    }
    return NIL;
}

/* Does the queue, or a node above it, hold its packet limit? */
static int over_limit(hq_state *S, const hq_queue_t *q, uint32_t *nodes) {
    int32_t n = q->node;
    for (int d = 0; n >= 0 && n < S->nnodes && d < NODE_DEPTH; d++, n = S->nd[n].parent) {
        (*nodes)++;
        if (S->nd[n].limit && S->nd[n].queued >= S->nd[n].limit) { S->nd[n].drops++; return 1; }
    }
    return 0;
}

static void hqm_run(np_t *m, np_thread_t *t) {
    hq_l *L = LOCALS(hq_l);
    hq_state *S = STATE(hq_state);
    uint32_t nenq = (uint32_t)PARAM(P_ENQ_THREADS);
    PT_BEGIN(t);
    if ((uint32_t)t->idx < nenq) {
        for (;;) {                                          /* enqueue thread */
            t->pkt = NP_NO_PKT;
            if (RING(R_IN_PT) >= 0) {
                OP_WAIT_ANY(t, &RING(R_IN), 2);             /* slots R_IN, R_IN_PT */
                L->pt = RING_READY(RING(R_IN_PT)) ? 1 : 0;
                OP_RING_GET(t, L->pt ? R_IN_PT : R_IN, NP_OPF_TRY);
                if (t->result != NP_R_OK) continue;
            } else {
                L->pt = 0;
                OP_RING_GET(t, R_IN, 0);
            }
            if (L->pt) {                                    /* the descriptor names the QID */
                L->h = t->xin[0] & 0xFFFFFF;
                L->qid = m->desc[L->h].qid; L->len = m->desc[L->h].len; L->stats = m->desc[L->h].stats;
            } else {
                np_plc_qm_t e;
                np_unpack_plc_qm(t->xin, &e);
                L->h = e.handle; L->qid = e.qid; L->len = e.len; L->stats = e.stats;
                m->desc[L->h].stats = (uint16_t)e.stats;
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
                hq_queue_t *q = &S->q[L->qi];
                hq_port_t *p = &S->p[L->pi];
                uint32_t nodes = 0;
                int reason = -1;
                if (q->bytes + L->len > q->threshold) { reason = NP_DROP_QM_THRESHOLD; COUNT(C_THRESHOLD, 1); }
                else if (over_limit(S, q, &nodes)) { reason = NP_DROP_FASTPATH_BUFFERS; COUNT(C_NODE_LIMIT, 1); }
                COMPUTE(t, PARAM(P_COST_NODE) * nodes);
                if (reason >= 0) {
                    q->st.drops++;
                    np_drop_h(m, L->h, reason, I->id);
                    L->qid = NIL;
                } else {
                    m->desc[L->h].next = NIL;
                    m->desc[L->h].qid = (uint16_t)L->qid;
                    if (q->tail == NIL) q->head = L->h; else m->desc[q->tail].next = L->h;
                    q->tail = L->h;
                    q->pkts++; q->bytes += L->len;
                    q->st.enq_pkts++; q->st.enq_bytes += L->len;
                    for (int32_t n = q->node, d = 0; n >= 0 && n < S->nnodes && d < NODE_DEPTH; d++, n = S->nd[n].parent) {
                        S->nd[n].queued++; S->nd[n].enq_pkts++;
                    }
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
            uint32_t visits, nodes = 0;
            uint64_t t_next;
            hq_port_t *p = &S->p[L->pi];
            L->h = hdrr_dequeue(m, S, p, &visits, &nodes, &t_next);
            COMPUTE(t, PARAM(P_COST_VISIT) * visits + PARAM(P_COST_NODE) * nodes);
            if (L->h == NIL) {                              /* every backlogged queue is held by a rate */
                uint64_t until = (t_next + NP_SUB - 1) / NP_SUB, poll = m->now + (uint64_t)PARAM(P_POLL);
                COUNT(C_HELD, 1);
                OP_WAIT_UNTIL(t, until < poll ? until : poll);
                continue;
            }
            L->len = m->desc[L->h].len;
            t->pkt = m->desc[L->h].pkt;
            nodes = 0;
            q_charge(m, S, &S->q[L->pi * NP_QUEUES_PER_PORT + np_qid_queue(m->desc[L->h].qid)], L->len,
                     PARAM(P_FRAMING) != 0, &nodes);
            COMPUTE(t, PARAM(P_COST_DEQ) + PARAM(P_COST_NODE) * nodes);
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
            np_hf_tx_t e = { .handle = L->h, .port = (uint32_t)S->base + L->pi, .len = L->len };
            OP_RING_PUT_REC(t, R_OUT, 0, hf_tx, e);
        }
        if (m->desc[L->h].stats && RING(R_STATS) >= 0) {
            np_stats_upd_t u = { .index = m->desc[L->h].stats, .len = L->len, .post = 1 };
            OP_RING_PUT_REC(t, R_STATS, NP_OPF_POSTED | NP_OPF_TRY, stats_upd, u);
        }
    }
    PT_END(t);
}

/* ---- configuration (control plane) ---- */
static hq_state *hqm_of(np_t *m, int inst) {
    hq_state *S = np_inst_state(m, inst, np_block_type_find("hqm"));
    if (!S || !S->q) { np_fail(m, "block instance %d is not a started hierarchical queue manager", inst); return NULL; }
    return S;
}
static hq_queue_t *hq_queue(np_t *m, hq_state *S, uint32_t qid) {
    int pi = np_qid_port(qid) - S->base;
    if (np_qid_port(qid) < S->base || pi >= S->n) {
        np_fail(m, "QID 0x%04x names port %d; this queue manager serves ports %d..%d (QID = queue | (port+1) << 13)",
                qid, np_qid_port(qid), S->base, S->base + S->n - 1);
        return NULL;
    }
    return &S->q[pi * NP_QUEUES_PER_PORT + np_qid_queue(qid)];
}
static int node_ok(np_t *m, hq_state *S, int32_t node) {      /* 1 if valid, else 0 with the error set */
    if (node >= -1 && node < S->nnodes) return 1;
    np_fail(m, "node %d does not exist (nodes 0..%d, -1: none)", node, S->nnodes - 1);
    return 0;
}
/* Move the packets a queue holds from one node chain to another. */
static void hq_rebind(hq_state *S, hq_queue_t *q, int32_t node) {
    for (int32_t n = q->node, d = 0; n >= 0 && d < NODE_DEPTH; d++, n = S->nd[n].parent)
        S->nd[n].queued -= q->pkts < S->nd[n].queued ? q->pkts : S->nd[n].queued;
    q->node = node;
    for (int32_t n = q->node, d = 0; n >= 0 && d < NODE_DEPTH; d++, n = S->nd[n].parent) S->nd[n].queued += q->pkts;
}
int np_hqm_queue_set(np_t *m, int inst, uint32_t qid, uint32_t threshold, uint32_t quantum, uint64_t kbps, int32_t node) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    hq_queue_t *q = hq_queue(m, S, qid);
    if (!q || !node_ok(m, S, node)) return -1;
    if (quantum < 1) return np_fail(m, "quantum must be >= 1 byte");
    q->threshold = threshold; q->quantum = quantum; q->kbps = kbps;
    if (q->node != node) hq_rebind(S, q, node);
    return 0;
}
int np_hqm_queue_get(np_t *m, int inst, uint32_t qid, uint32_t *threshold, uint32_t *quantum, uint64_t *kbps,
                     int32_t *node, uint32_t *pkts, uint32_t *bytes) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    hq_queue_t *q = hq_queue(m, S, qid);
    if (!q) return -1;
    *threshold = q->threshold; *quantum = q->quantum; *kbps = q->kbps; *node = q->node; *pkts = q->pkts; *bytes = q->bytes;
    return 0;
}
int np_hqm_queue_stats(np_t *m, int inst, uint32_t qid, np_queue_stats_t *s) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    hq_queue_t *q = hq_queue(m, S, qid);
    if (!q) return -1;
    *s = q->st; s->pkts = q->pkts; s->bytes = q->bytes;
    return 0;
}
int np_hqm_active_queues(np_t *m, int inst, uint32_t *qids, int max) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    int n = 0;
    for (int pi = 0; pi < S->n; pi++)
        for (int i = 0; i < NP_QUEUES_PER_PORT && n < max; i++)
            if (S->q[pi * NP_QUEUES_PER_PORT + i].st.enq_pkts || S->q[pi * NP_QUEUES_PER_PORT + i].st.drops)
                qids[n++] = np_qid((uint32_t)(S->base + pi), (uint32_t)i);
    return n;
}
int np_hqm_node_set(np_t *m, int inst, int32_t node, int32_t parent, uint64_t kbps, uint32_t limit) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    if (node < 0 || node >= S->nnodes) return np_fail(m, "node %d does not exist (nodes 0..%d)", node, S->nnodes - 1);
    if (!node_ok(m, S, parent)) return -1;
    for (int32_t n = parent, d = 0; n >= 0; d++, n = S->nd[n].parent)
        if (n == node || d + 2 > NODE_DEPTH) return np_fail(m, "node %d under node %d would make a loop or a chain "
                                                          "deeper than %d", node, parent, NODE_DEPTH);
    if (S->nd[node].parent != parent && S->nd[node].queued) {
        for (int32_t n = S->nd[node].parent, d = 0; n >= 0 && d < NODE_DEPTH; d++, n = S->nd[n].parent)
            S->nd[n].queued -= S->nd[node].queued < S->nd[n].queued ? S->nd[node].queued : S->nd[n].queued;
        for (int32_t n = parent, d = 0; n >= 0 && d < NODE_DEPTH; d++, n = S->nd[n].parent) S->nd[n].queued += S->nd[node].queued;
    }
    S->nd[node].parent = parent; S->nd[node].kbps = kbps; S->nd[node].limit = limit;
    return 0;
}
int np_hqm_node_get(np_t *m, int inst, int32_t node, int32_t *parent, uint64_t *kbps, uint32_t *limit,
                    uint32_t *queued, uint64_t *out4) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    if (node < 0 || node >= S->nnodes) return np_fail(m, "node %d does not exist (nodes 0..%d)", node, S->nnodes - 1);
    hq_node_t *n = &S->nd[node];
    *parent = n->parent; *kbps = n->kbps; *limit = n->limit; *queued = n->queued;
    out4[0] = n->enq_pkts; out4[1] = n->deq_pkts; out4[2] = n->deq_bytes; out4[3] = n->drops;
    return 0;
}
int np_hqm_port_rate(np_t *m, int inst, int port, uint64_t kbps) {
    hq_state *S = hqm_of(m, inst);
    if (!S) return -1;
    if (port < S->base || port >= S->base + S->n)
        return np_fail(m, "port %d is not served by this queue manager (ports %d..%d)", port, S->base, S->base + S->n - 1);
    if (kbps == 0) return np_fail(m, "port rate must be > 0 Kb/s");
    S->p[port - S->base].kbps = kbps;
    return 0;
}

NP_BLOCK(hqm, .doc = "Queue manager with rate-limited scheduling nodes (SPP: MIs, fast paths, LC egress shares)",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(hq_l), .state = sizeof(hq_state),
         .init = hqm_init, .fini = hqm_fini, .run = hqm_run);
