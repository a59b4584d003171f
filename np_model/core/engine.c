/* engine.c -- the compiled engine: executes the microcode's ops in time.
 *
 * Time is counted in ME cycles. Servers (memory channels, wires) keep
 * their busy-until in 1/NP_SUB cycle so bandwidths need not divide the
 * clock; events fire on whole cycles (rounded up).
 *
 * Semantics (the Python reference engine implements exactly these; the
 * equivalence test compares the two event for event):
 *  - Events are ordered by (cycle, insertion sequence).
 *  - An ME runs one thread at a time. A thread runs its block until the
 *    block yields an op. ALU cycles (op.compute) pass first, holding the
 *    ME; then the op issues. An op that waits (memory read, blocking get or
 *    put, wait) swaps the thread out: the ME is busy swap_cycles more, then
 *    picks the next ready thread round-robin after the one that ran last.
 *    A thread made ready while its ME idles starts at once.
 *  - A server is a FIFO: start = max(issue, free); free = start + occ;
 *    done = start + occ - occ_min + lat, occ = cmd + units * occ_unit.
 *    DRAM accesses are split at interleave boundaries over the channels.
 *  - Ports: a wire-fed port serialises its input frames at the wire rate
 *    (EV_RX at the last bit); a bus-fed port (np_port_set_bus: the NIC
 *    front-end's flow-controlled bus) takes each frame whole at its cycle.
 *  - A ring put takes a slot at issue and the entry becomes visible when the
 *    write completes; a get takes the oldest visible entry at issue (memory
 *    rings charge a read). Blocked getters are served in FIFO order when an
 *    entry becomes visible, blocked putters when a slot frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "npcore.h"

enum { EV_ISSUE = 0, EV_WAKE, EV_ME_FREE, EV_RING_VIS, EV_TIMER, EV_RX, EV_TX_DONE, EV_INJECT };

#define RING_MEMREF(r) ((r)->kind == NP_RING_MEM || (r)->kind == NP_RING_QUEUE)
#define CEIL_SUB(x) (((x) + NP_SUB - 1) / NP_SUB)

/* ---- event heap ordered by (t, seq) ---- */
static inline int ev_lt(const np_ev_t *a, const np_ev_t *b) {
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}
static void ev_push(np_t *m, uint64_t t, uint32_t kind, uint32_t arg) {
    if (m->heap_n == m->heap_cap) {
        m->heap_cap *= 2;
        m->heap = realloc(m->heap, m->heap_cap * sizeof *m->heap);
    }
    np_ev_t e = { t, m->seq++, kind, arg };
    uint32_t i = m->heap_n++;
    while (i) {
        uint32_t p = (i - 1) >> 1;
        if (!ev_lt(&e, &m->heap[p])) break;
        m->heap[i] = m->heap[p];
        i = p;
    }
    m->heap[i] = e;
}
static np_ev_t ev_pop(np_t *m) {
    np_ev_t top = m->heap[0];
    np_ev_t last = m->heap[--m->heap_n];
    uint32_t i = 0, n = m->heap_n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && ev_lt(&m->heap[c + 1], &m->heap[c])) c++;
        if (!ev_lt(&m->heap[c], &last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = last;
    return top;
}

/* ---- wait queues ---- */
static void wq_push(np_wq_t *q, int tid) {
    q->buf[(q->head + q->n) % q->cap] = (uint16_t)tid;
    q->n++;
}
static int wq_pop(np_wq_t *q) {
    int v = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return v;
}

/* ---- ME accounting ---- */
static void me_acct(np_t *m, np_me_t *e, uint64_t now) {
    uint64_t d = now - e->acct_t;
    if (e->acct_state) e->st.busy += d;
    else if (e->n_memwait) e->st.stall += d;
    else e->st.idle += d;
    e->acct_t = now;
}

static void thr_set_state(np_t *m, np_thread_t *t, int st, uint64_t now) {
    np_me_t *e = &m->me[t->me];
    int was = t->state == NP_TS_WAIT_MEM, will = st == NP_TS_WAIT_MEM;
    if (was != will) {
        if (!e->acct_state) me_acct(m, e, now);
        e->n_memwait += will - was;
    }
    t->state = st;
}

static void thread_run(np_t *m, np_thread_t *t, uint64_t now);

static void me_dispatch(np_t *m, np_me_t *e, uint64_t now) {
    for (int k = 1; k <= e->nthreads; k++) {
        int idx = (e->last + k) % e->nthreads;
        np_thread_t *t = &m->thr[e->tid0 + idx];
        if (t->state != NP_TS_READY) continue;
        if (!e->acct_state) { me_acct(m, e, now); e->acct_state = 1; }
        e->running = idx; e->last = idx; e->st.dispatches++;
        t->state = NP_TS_RUNNING;
        thread_run(m, t, now);
        return;
    }
    if (e->acct_state) { me_acct(m, e, now); e->acct_state = 0; }
}

static void thr_ready(np_t *m, np_thread_t *t, uint64_t now) {
    thr_set_state(m, t, NP_TS_READY, now);
    np_me_t *e = &m->me[t->me];
    if (e->running < 0 && !e->swapping) me_dispatch(m, e, now);
}

/* ---- servers and memories ---- */
static uint64_t srv_access(np_t *m, int si, uint32_t bytes, uint64_t now, uint32_t *unloaded) {
    np_srv_t *s = &m->srv[si];
    uint64_t units = (bytes + s->unit - 1) / s->unit;
    if (!units) units = 1;
    uint64_t occ = s->cmd_sub + units * s->occ_sub, occ_min = s->cmd_sub + s->occ_sub;
    uint64_t now_sub = now * NP_SUB;
    uint64_t start = s->free_sub > now_sub ? s->free_sub : now_sub;
    s->free_sub = start + occ;
    uint64_t done_sub = start + occ - occ_min + (uint64_t)s->lat * NP_SUB;
    uint64_t wait = start - now_sub;
    s->st.ops++; s->st.units += units; s->st.busy_sub += occ; s->st.wait_sub += wait;
    if (wait > s->st.max_wait_sub) s->st.max_wait_sub = wait;
    uint32_t u = s->lat + (uint32_t)CEIL_SUB(occ - occ_min);
    if (u > *unloaded) *unloaded = u;
    return CEIL_SUB(done_sub);
}

static uint64_t mem_access(np_t *m, int mi, int write, uint64_t addr, uint32_t bytes, uint64_t now, uint32_t *unloaded) {
    np_mem_t *x = &m->mem[mi];
    int base = write ? x->srv_wr : x->srv_rd;
    *unloaded = 0;
    if (x->nsrv == 1) return srv_access(m, base, bytes, now, unloaded);
    /* interleaved: split at (1 << shift)-byte boundaries */
    uint64_t done = now, a = addr, end = addr + (bytes ? bytes : 1);
    uint64_t blk = 1ULL << x->shift;
    while (a < end) {
        uint64_t nb = (a | (blk - 1)) + 1;
        if (nb > end) nb = end;
        int si = base + (int)((a >> x->shift) % (uint64_t)x->nsrv);
        uint64_t d = srv_access(m, si, (uint32_t)(nb - a), now, unloaded);
        if (d > done) done = d;
        a = nb;
    }
    return done;
}

static void trace_op(np_t *m, np_thread_t *t, uint64_t now, uint64_t done, uint32_t unloaded) {
    if (m->trace_on && t->op.pkt != NP_NO_PKT) np_fx_trace(m, t->id, &t->op, now, done, unloaded);
}

/* ---- rings ---- */
static void ring_pop(np_t *m, int ri, uint32_t *out) {
    np_ring_t *r = &m->ring[ri];
    memcpy(out, &r->buf[(size_t)r->head * r->words], r->words * sizeof(uint32_t));
    r->head = (r->head + 1) % r->cap;
    r->count--; m->ring_vis[ri]--; r->st.gets++; r->st.count = r->count;
}

/* Append an entry; returns when it becomes visible. */
static uint64_t ring_append(np_t *m, int ri, const uint32_t *w, uint32_t nw, uint64_t now, uint32_t *unloaded) {
    np_ring_t *r = &m->ring[ri];
    uint32_t *dst = &r->buf[(size_t)((r->head + r->count) % r->cap) * r->words];
    memset(dst, 0, r->words * sizeof(uint32_t));
    memcpy(dst, w, (nw < (uint32_t)r->words ? nw : (uint32_t)r->words) * sizeof(uint32_t));
    if (m->ring_trace_on) np_fx_ring_put(m, ri, dst, (uint32_t)r->words, now);
    r->count++; r->st.puts++; r->st.count = r->count;
    if (r->count > r->st.hwm) r->st.hwm = r->count;
    *unloaded = r->nn_lat;
    if (RING_MEMREF(r)) return mem_access(m, r->mem, 1, 0, (uint32_t)r->words * 4, now, unloaded);
    return now + r->nn_lat;
}

/* Issue thread t's pending put (a slot is known to be free). Returns 1 if
 * the thread may go on (posted write or register ring), 0 if it waits. */
static int ring_put_issue(np_t *m, int ri, np_thread_t *t, uint64_t now) {
    np_ring_t *r = &m->ring[ri];
    uint32_t unl;
    uint64_t done = ring_append(m, ri, t->op.words, t->op.nwords, now, &unl);
    int posted = (t->op.flags & NP_OPF_POSTED) || !RING_MEMREF(r);
    trace_op(m, t, now, done, unl);
    ev_push(m, done, EV_RING_VIS, (uint32_t)ri | (posted ? 0u : (uint32_t)(t->id + 1) << 16));
    return posted;
}

static void ring_space(np_t *m, int ri, uint64_t now) {
    np_ring_t *r = &m->ring[ri];
    while (r->putw.n && r->count < r->cap) {
        np_thread_t *w = &m->thr[wq_pop(&r->putw)];
        w->result = NP_R_OK;
        if (ring_put_issue(m, ri, w, now)) thr_ready(m, w, now);
        else thr_set_state(m, w, NP_TS_WAIT_MEM, now);
    }
}

/* Deliver the head entry to a thread that was waiting for one. */
static void ring_deliver(np_t *m, int ri, np_thread_t *w, uint64_t now) {
    np_ring_t *r = &m->ring[ri];
    ring_pop(m, ri, w->xin);
    w->result = NP_R_OK;
    if (RING_MEMREF(r)) {
        uint32_t unl;
        uint64_t done = mem_access(m, r->mem, 0, 0, (uint32_t)r->words * 4, now, &unl);
        thr_set_state(m, w, NP_TS_WAIT_MEM, now);
        ev_push(m, done, EV_WAKE, (uint32_t)w->id);
    } else {
        thr_ready(m, w, now);
    }
    ring_space(m, ri, now);
}

static int waits_on(const np_thread_t *w, int ri) {
    for (uint32_t i = 0; i < w->nwait; i++) if (w->wait[i] == (uint32_t)ri) return 1;
    return 0;
}

static void ring_visible(np_t *m, int ri, int putter, uint64_t now) {
    np_ring_t *r = &m->ring[ri];
    m->ring_vis[ri]++;
    if (putter >= 0) thr_ready(m, &m->thr[putter], now);
    while (m->ring_vis[ri] && r->getw.n) ring_deliver(m, ri, &m->thr[wq_pop(&r->getw)], now);
    /* r->anyw counts the WAIT_ANY threads that name this ring: most rings have
     * none, and then the waiter list need not be walked */
    if (m->ring_vis[ri] && r->anyw) {
        int k = 0;
        for (int i = 0; i < m->n_any; i++) {
            np_thread_t *w = &m->thr[m->any_waiters[i]];
            if (waits_on(w, ri)) {
                for (uint32_t j = 0; j < w->nwait; j++) m->ring[w->wait[j]].anyw--;
                thr_ready(m, w, now);
            } else m->any_waiters[k++] = m->any_waiters[i];
        }
        m->n_any = k;
    }
}

/* ---- ports ---- */
/* at_run_start: a frame np_feed took after its first bit (offered late, see
 * np_feed) keeps that first-bit time; its reception only never ends in the past. */
static void rx_schedule(np_t *m, int pi, int at_run_start) {
    np_port_t *p = &m->port[pi];
    uint64_t t; uint32_t len;
    if (p->rx_pending || !np_fx_next_arrival(m, pi, &t, &len)) return;
    if (p->rx_bus) {             /* from a flow-controlled NIC bus: the frame enters whole at t */
        uint64_t at = t < m->now ? m->now : t;
        p->rx_free_sub = at * NP_SUB;   /* its reception ends at `at`: rx_complete takes it in that round */
        p->rx_pending = 1;
        ev_push(m, at, EV_RX, (uint32_t)pi);
        return;
    }
    uint64_t start = t * NP_SUB, w = np_fx_wire_sub(m, pi, len);
    if (start < p->rx_free_sub) start = p->rx_free_sub;
    uint64_t lo = at_run_start ? (m->now * NP_SUB > w ? m->now * NP_SUB - w : 0) : m->now * NP_SUB;
    if (start < lo) start = lo;
    p->rx_free_sub = start + w;
    p->rx_pending = 1;
    ev_push(m, CEIL_SUB(p->rx_free_sub), EV_RX, (uint32_t)pi);
}

/* EV_RX: frames whose last bit arrived this cycle. The MSF accepts every port
 * that completed at `now` in one round, starting at a pointer that moves on
 * one port per round, so when several ports finish together (line-rate
 * sources in phase) no port number always goes first: a fixed order made
 * freed buffers go to the lowest-numbered port and losses fall by port number
 * (issue 13). The events of the other ports in the round find nothing left. */
static void rx_complete(np_t *m, int pi, uint64_t now) {
    np_port_t *p = &m->port[pi];
    if (!p->rx_pending || CEIL_SUB(p->rx_free_sub) != now) return;     /* served earlier this round */
    int n = m->n_port, first = m->rx_rr;
    m->rx_rr = (m->rx_rr + 1) % n;
    for (int k = 0; k < n; k++) {
        int q = (first + k) % n;
        np_port_t *pq = &m->port[q];
        if (!pq->rx_pending || CEIL_SUB(pq->rx_free_sub) != now) continue;
        uint32_t entry[NP_XWORDS] = { 0 };
        pq->rx_pending = 0;
        int nw = np_fx_rx_accept(m, q, now, entry);
        if (nw > 0) {
            int ri = m->hw_ring[NP_HW_RBUF];
            uint32_t unl;
            uint64_t vis = ring_append(m, ri, entry, (uint32_t)nw, now, &unl);
            ev_push(m, vis, EV_RING_VIS, (uint32_t)ri);
        }
        rx_schedule(m, q, 0);
    }
}

/* Start the head TBUF frame on the wire if the wire is free. */
static void tx_next(np_t *m, int pi, uint64_t now) {
    np_port_t *p = &m->port[pi];
    if (p->wire_busy || !p->txf_n) return;
    uint64_t start = now * NP_SUB;
    if (start < p->tx_free_sub) start = p->tx_free_sub;
    uint64_t w = np_fx_wire_sub(m, pi, p->txf_len[p->txf_head]);
    p->tx_free_sub = start + w;
    p->st.tx_busy_sub += w;
    p->wire_busy = 1;
    p->tx_cur_start = CEIL_SUB(start);
    ev_push(m, CEIL_SUB(p->tx_free_sub), EV_TX_DONE, (uint32_t)pi);
}

/* Place a frame in the port's TBUF if it fits (an empty TBUF takes any). */
static int tx_admit(np_t *m, int pi, uint32_t h, uint32_t len, uint64_t now) {
    np_port_t *p = &m->port[pi];
    uint32_t need = np_fx_tbuf_need(m, len);
    if (p->txf_n && (p->tbuf_used + need > m->p.tbuf_elements || p->txf_n >= NP_MAX_TBUF)) return 0;
    int k = (p->txf_head + p->txf_n) % NP_MAX_TBUF;
    p->txf_h[k] = h; p->txf_len[k] = len;
    p->txf_n++;
    p->tbuf_used += need;
    tx_next(m, pi, now);
    return 1;
}

/* ---- op execution ---- */
static int op_exec(np_t *m, np_thread_t *t, uint64_t now) {
    np_op_t *op = &t->op;
    uint32_t unl = 0;
    switch (op->kind) {
    case NP_OP_MEM: {
        uint64_t done = mem_access(m, (int)op->target, op->flags & NP_OPF_WRITE, op->addr, op->bytes, now, &unl);
        trace_op(m, t, now, done, unl);
        if (op->flags & NP_OPF_POSTED) return 1;
        thr_set_state(m, t, NP_TS_WAIT_MEM, now);
        ev_push(m, done, EV_WAKE, (uint32_t)t->id);
        return 0;
    }
    case NP_OP_RING_GET: {
        int ri = (int)op->target;
        np_ring_t *r = &m->ring[ri];
        if (m->ring_vis[ri]) {
            ring_pop(m, ri, t->xin);
            t->result = NP_R_OK;
            ring_space(m, ri, now);
            if (!RING_MEMREF(r)) return 1;
            uint64_t done = mem_access(m, r->mem, 0, 0, (uint32_t)r->words * 4, now, &unl);
            trace_op(m, t, now, done, unl);
            thr_set_state(m, t, NP_TS_WAIT_MEM, now);
            ev_push(m, done, EV_WAKE, (uint32_t)t->id);
            return 0;
        }
        if (op->flags & NP_OPF_TRY) {
            t->result = NP_R_EMPTY;
            if (!RING_MEMREF(r)) return 1;
            uint64_t done = mem_access(m, r->mem, 0, 0, 4, now, &unl);
            thr_set_state(m, t, NP_TS_WAIT_MEM, now);
            ev_push(m, done, EV_WAKE, (uint32_t)t->id);
            return 0;
        }
        wq_push(&r->getw, t->id);
        thr_set_state(m, t, NP_TS_WAIT_WORK, now);
        return 0;
    }
    case NP_OP_RING_PUT: {
        int ri = (int)op->target;
        np_ring_t *r = &m->ring[ri];
        if (r->count >= r->cap) {
            r->st.full++;
            if (op->flags & NP_OPF_TRY) { t->result = NP_R_FULL; return 1; }
            wq_push(&r->putw, t->id);
            thr_set_state(m, t, NP_TS_WAIT_BP, now);
            return 0;
        }
        t->result = NP_R_OK;
        if (ring_put_issue(m, ri, t, now)) return 1;
        thr_set_state(m, t, NP_TS_WAIT_MEM, now);
        return 0;
    }
    case NP_OP_WAIT_ANY:
        for (uint32_t i = 0; i < op->nwords; i++) if (m->ring_vis[op->words[i]]) return 1;
        t->nwait = op->nwords < NP_WAIT_MAX ? op->nwords : NP_WAIT_MAX;
        memcpy(t->wait, op->words, t->nwait * sizeof(uint32_t));
        for (uint32_t i = 0; i < t->nwait; i++) m->ring[t->wait[i]].anyw++;
        m->any_waiters[m->n_any++] = t->id;
        thr_set_state(m, t, NP_TS_WAIT_WORK, now);
        return 0;
    case NP_OP_WAIT_UNTIL:
        if (op->addr <= now) return 1;
        thr_set_state(m, t, NP_TS_WAIT_WORK, now);
        ev_push(m, op->addr, EV_TIMER, (uint32_t)t->id);
        return 0;
    case NP_OP_SIGNAL: {
        int s = (int)op->target;
        if (m->sig_waiter[s] >= 0) {
            np_thread_t *w = &m->thr[m->sig_waiter[s]];
            m->sig_waiter[s] = -1;
            thr_ready(m, w, now);
        } else m->sig[s] = 1;
        return 1;
    }
    case NP_OP_WAIT_SIG: {
        int s = (int)op->target;
        if (m->sig[s]) { m->sig[s] = 0; return 1; }
        m->sig_waiter[s] = t->id;
        thr_set_state(m, t, NP_TS_WAIT_WORK, now);
        return 0;
    }
    case NP_OP_TX: {
        /* Into the port's transmit buffer; the thread waits only for room. */
        int pi = (int)op->target;
        trace_op(m, t, now, now, 0);
        if (!m->port[pi].txwait.n && tx_admit(m, pi, op->words[0], op->bytes, now)) return 1;
        wq_push(&m->port[pi].txwait, t->id);
        thr_set_state(m, t, NP_TS_WAIT_BP, now);
        return 0;
    }
    case NP_OP_RBUF_FREE:
        np_fx_rbuf_release(m, op->target);
        return 1;
    case NP_OP_HOST:
        trace_op(m, t, now, now, 0);
        np_fx_host(m, op, now);
        return 1;
    case NP_OP_HALT:
        thr_set_state(m, t, NP_TS_HALTED, now);
        return 0;
    default:
        snprintf(m->err, sizeof m->err, "thread %d issued unknown op %u", t->id, op->kind);
        thr_set_state(m, t, NP_TS_HALTED, now);
        return 0;
    }
}

static void thread_run(np_t *m, np_thread_t *t, uint64_t now) {
    for (;;) {
        if (!t->op_pending) {
            t->op.compute = 0;
            m->now = now;
            t->run(m, t);
            t->op_pending = 1;
        }
        if (t->op.compute) {
            uint64_t c = t->op.compute;
            t->op.compute = 0;
            ev_push(m, now + c, EV_ISSUE, (uint32_t)t->id);
            return;
        }
        t->op_pending = 0;
        if (!op_exec(m, t, now)) {
            np_me_t *e = &m->me[t->me];
            e->running = -1; e->swapping = 1;
            ev_push(m, now + m->p.swap_cycles, EV_ME_FREE, (uint32_t)t->me);
            return;
        }
    }
}

/* EV_TX_DONE: the head frame is sent. The MSF pushes its transmit status
 * to the Tx threads (TXDONE ring); frames waiting for room are admitted. */
static void tx_done(np_t *m, int pi, uint64_t now) {
    np_port_t *p = &m->port[pi];
    uint32_t h = p->txf_h[p->txf_head], len = p->txf_len[p->txf_head];
    p->txf_head = (p->txf_head + 1) % NP_MAX_TBUF;
    p->txf_n--;
    p->wire_busy = 0;
    p->tbuf_used -= np_fx_tbuf_need(m, len);
    m->now = now;
    np_fx_tx_done(m, pi, h, len, p->tx_cur_start, now);
    int ri = m->hw_ring[NP_HW_TXDONE];
    if (ri >= 0) {
        uint32_t entry[NP_W_txdone], unl;
        np_txdone_t e = { .handle = h, .port = (uint32_t)pi };
        np_pack_txdone(entry, &e);
        uint64_t vis = ring_append(m, ri, entry, NP_W_txdone, now, &unl);
        ev_push(m, vis, EV_RING_VIS, (uint32_t)ri);
    }
    while (p->txwait.n) {
        np_thread_t *w = &m->thr[p->txwait.buf[p->txwait.head]];
        if (!tx_admit(m, pi, w->op.words[0], w->op.bytes, now)) break;
        wq_pop(&p->txwait);
        thr_ready(m, w, now);
    }
    tx_next(m, pi, now);
}

static void inject_schedule(np_t *m) {
    uint64_t t;
    if (!m->inj_pending && np_fx_next_inject(m, &t)) {
        m->inj_pending = 1;
        ev_push(m, t < m->now ? m->now : t, EV_INJECT, 0);
    }
}

static void boot(np_t *m) {
    for (int i = 0; i < m->n_me; i++) {
        m->me[i].acct_t = m->now;
        me_dispatch(m, &m->me[i], m->now);
    }
}

static int run_loop(np_t *m, uint64_t until, int flags);

/* The event loop, timed: np_run_wall_ns is the wall-clock time the machine
 * spent simulating (what a network counts as a node's own work). Timed with
 * np_ticks, cheap enough to take around every run. */
int np_run(np_t *m, uint64_t until, int flags) {
    np_ticks_calibrate();
    uint64_t ta = np_ticks();
    int rc = run_loop(m, until, flags);
    m->run_ticks += np_ticks() - ta;
    return rc;
}

static int run_loop(np_t *m, uint64_t until, int flags) {
    int stop_on_host = flags & NP_STOP_HOST;
    if (!m->started) { snprintf(m->err, sizeof m->err, "machine not started"); return -1; }
    /* Time never runs backwards: a past 'until' used to set m->now back (the
     * RUN_TIME exit) and underflow the ME accounting intervals. */
    if (until < m->now) {
        snprintf(m->err, sizeof m->err, "run until cycle %llu is before the current cycle %llu",
                 (unsigned long long)until, (unsigned long long)m->now);
        return -1;
    }
    if (!m->booted) { m->booted = 1; boot(m); }
    for (int p = 0; p < m->n_port; p++) rx_schedule(m, p, 1);
    inject_schedule(m);
    m->host_pending = 0;
    m->rbuf_released = 0;
    while (m->heap_n) {
        if (m->heap[0].t > until) { m->now = until; goto out_time; }
        np_ev_t ev = ev_pop(m);
        uint64_t now = ev.t;
        m->now = now;
        m->events++;
        switch (ev.kind) {
        case EV_ISSUE:
            thread_run(m, &m->thr[ev.arg], now);
            break;
        case EV_WAKE:
        case EV_TIMER:
            thr_ready(m, &m->thr[ev.arg], now);
            break;
        case EV_ME_FREE: {
            np_me_t *e = &m->me[ev.arg];
            e->swapping = 0;
            me_dispatch(m, e, now);
            break;
        }
        case EV_RING_VIS:
            ring_visible(m, (int)(ev.arg & 0xFFFF), (int)(ev.arg >> 16) - 1, now);
            break;
        case EV_RX:
            rx_complete(m, (int)ev.arg, now);
            break;
        case EV_TX_DONE:
            tx_done(m, (int)ev.arg, now);
            break;
        case EV_INJECT: {
            m->inj_pending = 0;
            uint32_t entry[NP_XWORDS] = { 0 };
            int ri = m->hw_ring[NP_HW_HOST_IN];
            int nw = np_fx_take_inject(m, entry);
            if (nw > 0) {
                if (ri < 0 || m->ring[ri].count >= m->ring[ri].cap) {
                    np_fx_host_in_drop(m, entry[0]);
                    if (ri >= 0) m->ring[ri].st.full++;
                } else {
                    uint32_t unl;
                    uint64_t vis = ring_append(m, ri, entry, (uint32_t)nw, now, &unl);
                    ev_push(m, vis, EV_RING_VIS, (uint32_t)ri);
                }
            }
            inject_schedule(m);
            break;
        }
        }
        if (stop_on_host && m->host_pending) goto out_host;
        if ((flags & NP_STOP_RBUF) && m->rbuf_released) goto out_rbuf;
        if (m->tx_out.n >= (1u << 20)) goto out_full;
    }
    if (!(flags & NP_IDLE_STAY) && until != UINT64_MAX && until > m->now) m->now = until;
    for (int i = 0; i < m->n_me; i++) me_acct(m, &m->me[i], m->now);
    return NP_RUN_IDLE;
out_time:
    for (int i = 0; i < m->n_me; i++) me_acct(m, &m->me[i], m->now);
    return NP_RUN_TIME;
out_host:
    for (int i = 0; i < m->n_me; i++) me_acct(m, &m->me[i], m->now);
    return NP_RUN_HOST;
out_full:
    for (int i = 0; i < m->n_me; i++) me_acct(m, &m->me[i], m->now);
    return NP_RUN_FULL;
out_rbuf:
    for (int i = 0; i < m->n_me; i++) me_acct(m, &m->me[i], m->now);
    return NP_RUN_RBUF;
}

uint64_t np_now(np_t *m) { return m->now; }
uint64_t np_events(np_t *m) { return m->events; }

static char state_char(int s) {
    static const char c[] = { 'r', 'X', 'm', '.', 'b', '-' };
    return (s >= 0 && s <= NP_TS_HALTED) ? c[s] : '?';
}

/* One line of the whole machine's state: per ME a char per thread
 * (X running, r ready, m waiting on memory, . waiting for work,
 *  b back-pressured, - halted), then ring occupancies. */
int np_line_trace(np_t *m, char *buf, int len) {
    int n = snprintf(buf, (size_t)len, "%10llu", (unsigned long long)m->now);
    for (int i = 0; i < m->n_me && n < len; i++) {
        np_me_t *e = &m->me[i];
        n += snprintf(buf + n, (size_t)(len - n), " %s:", e->name);
        for (int k = 0; k < e->nthreads && n < len - 1; k++) buf[n++] = state_char(m->thr[e->tid0 + k].state);
        buf[n] = 0;
    }
    for (int i = 0; i < m->n_ring && n < len; i++) {
        if (i == m->hw_ring[NP_HW_BUFQ]) continue;
        n += snprintf(buf + n, (size_t)(len - n), " %s=%u", m->ring[i].name, m->ring[i].count);
    }
    return n;
}
