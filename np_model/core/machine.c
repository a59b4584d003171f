/* machine.c -- the functional state every engine shares.
 *
 * Construction and wiring (servers, memories, rings, MEs, ports), the
 * memory images (descriptors in SRAM, packet buffers in DRAM), traffic in
 * and out, packet accounting and statistics. Nothing here advances time:
 * that is the engine's job (engine.c, or the Python reference engine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/mman.h>
#include "npcore.h"

/* ---- names ---- */
#define NP_STR2(id, s) s,
static const char *const drop_names[] = { NP_DROP_REASONS(NP_STR2) };
static const char *const exc_names[] = { NP_EXC_REASONS(NP_STR2) };
#define NP_STR1(id) #id,
static const char *const cost_names[] = { NP_COSTS(NP_STR1) };
static const char *const block_names[NP_BLK_COUNT] = {
    "none", "rx", "mux", "plc", "qm", "hdrfmt", "tx", "stats", "freelist", "xscale", "idle", "synth", "plugin"
};
static const char *const op_names[NP_OP_COUNT] = {
    "none", "mem", "ring_get", "ring_put", "wait_any", "wait_until", "signal", "wait_sig",
    "tx", "rbuf_free", "host", "halt"
};

#ifndef NPCORE_SRC_HASH
#define NPCORE_SRC_HASH "unknown"
#endif
const char *np_src_hash(void) { return NPCORE_SRC_HASH; }

int np_n_costs(void) { return NP_C_COUNT; }
const char *np_cost_name(int i) { return (i >= 0 && i < NP_C_COUNT) ? cost_names[i] : NULL; }
uint32_t np_get_cost(np_t *m, int i) { return (i >= 0 && i < NP_C_COUNT) ? m->cost[i] : 0; }
int np_n_drops(void) { return NP_DROP_COUNT; }
const char *np_drop_name(int i) { return (i >= 0 && i < NP_DROP_COUNT) ? drop_names[i] : NULL; }
int np_n_excs(void) { return NP_EXC_COUNT; }
const char *np_exc_name(int i) { return (i >= 0 && i < NP_EXC_COUNT) ? exc_names[i] : NULL; }
const char *np_block_name(int b) { return (b >= 0 && b < NP_BLK_COUNT) ? block_names[b] : NULL; }
const char *np_op_name(int k) { return (k >= 0 && k < NP_OP_COUNT) ? op_names[k] : NULL; }

/* ---- small growable vectors ---- */
void np_vec_init(np_vec_t *v, uint64_t esz) { v->p = NULL; v->n = v->cap = 0; v->esz = esz; }
void *np_vec_push(np_vec_t *v, uint64_t n) {
    if (v->n + n > v->cap) {
        uint64_t nc = v->cap ? v->cap * 2 : 1024;
        while (nc < v->n + n) nc *= 2;
        void *np = realloc(v->p, nc * v->esz);
        if (!np) return NULL;
        v->p = np; v->cap = nc;
    }
    void *r = (char *)v->p + v->n * v->esz;
    v->n += n;
    return r;
}
void np_vec_free(np_vec_t *v) { free(v->p); v->p = NULL; v->n = v->cap = 0; }

static int fail(np_t *m, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return -1;
}
const char *np_error(np_t *m) { return m->err; }

/* ---- construction ---- */
np_t *np_new(const np_params_t *p) {
    np_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->p = *p;
    if (m->p.n_buffers < 16) m->p.n_buffers = 16;
    for (int i = 0; i < NP_ROLE_COUNT; i++) m->role_ring[i] = -1;
    for (int i = 0; i < NP_MR_COUNT; i++) m->role_mem[i] = -1;
    m->rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ULL;
    m->heap_cap = 4096;
    m->heap = malloc(m->heap_cap * sizeof *m->heap);
    /* The buffer pool is mapped lazily: pages are touched only when used. */
    size_t dram_sz = (size_t)m->p.n_buffers * NP_BUF_SIZE;
    m->dram = mmap(NULL, dram_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->dram == MAP_FAILED) m->dram = NULL;
    m->desc = calloc(m->p.n_buffers, sizeof *m->desc);
    m->slot_stack = malloc(m->p.n_buffers * sizeof *m->slot_stack);
    m->rbuf = calloc(m->p.rbuf_elements ? m->p.rbuf_elements : 1, sizeof *m->rbuf);
    m->rbuf_free_elems = m->p.rbuf_elements;
    m->stats_idx = calloc(65536, sizeof *m->stats_idx);
    m->injq_cap = 256;
    m->injq = calloc(m->injq_cap, sizeof *m->injq);
    m->next_host_id = 1ULL << 62;
    np_vec_init(&m->host_in, sizeof(np_inj_t));
    np_vec_init(&m->tx_out, sizeof(np_tx_rec_t));
    np_vec_init(&m->tx_cap, 1);
    np_vec_init(&m->host_out, sizeof(np_host_rec_t));
    np_vec_init(&m->host_cap, 1);
    np_vec_init(&m->drop_out, sizeof(np_drop_rec_t));
    np_vec_init(&m->trace_out, sizeof(np_trace_rec_t));
    for (int i = 0; i < NP_MAX_THREADS; i++) m->sig_waiter[i] = -1;
    if (!m->heap || !m->dram || !m->desc || !m->slot_stack || !m->rbuf || !m->stats_idx || !m->injq || np_tbl_init(m)) {
        np_free(m);
        return NULL;
    }
    return m;
}

void np_free(np_t *m) {
    if (!m) return;
    np_plugin_free_all(m);
    for (int i = 0; i < m->n_ring; i++) free(m->ring[i].buf);
    for (int p = 0; p < m->n_port; p++) {
        np_port_t *pt = &m->port[p];
        for (uint32_t k = 0; k < pt->inq_n; k++) free(pt->inq[(pt->inq_head + k) % pt->inq_cap].data);
        free(pt->inq);
    }
    if (m->rbuf) for (uint32_t i = 0; i < m->p.rbuf_elements; i++) if (m->rbuf[i].used) free(m->rbuf[i].data);
    for (uint32_t k = 0; k < m->injq_n; k++) free(m->injq[(m->injq_head + k) % m->injq_cap].data);
    np_inj_t *hi = m->host_in.p;
    for (uint64_t k = 0; k < m->host_in.n; k++) free(hi[k].data);
    if (m->dram) munmap(m->dram, (size_t)m->p.n_buffers * NP_BUF_SIZE);
    free(m->heap); free(m->desc); free(m->slot_stack); free(m->rbuf); free(m->stats_idx); free(m->injq); free(m->q);
    np_tbl_free(m);
    np_vec_free(&m->host_in); np_vec_free(&m->tx_out); np_vec_free(&m->tx_cap);
    np_vec_free(&m->host_out); np_vec_free(&m->host_cap); np_vec_free(&m->drop_out);
    np_vec_free(&m->trace_out);
    free(m);
}

int np_add_server(np_t *m, uint32_t lat, uint32_t unit, uint64_t occ_sub, uint64_t cmd_sub) {
    if (m->started) return fail(m, "machine already started");
    if (m->n_srv >= NP_MAX_SERVERS) return fail(m, "too many servers (max %d)", NP_MAX_SERVERS);
    if (unit == 0) return fail(m, "server access unit must be > 0 bytes");
    np_srv_t *s = &m->srv[m->n_srv];
    memset(s, 0, sizeof *s);
    s->lat = lat; s->unit = unit; s->occ_sub = occ_sub; s->cmd_sub = cmd_sub;
    return m->n_srv++;
}

int np_add_mem(np_t *m, int kind, int srv_rd, int srv_wr, int nsrv, int shift) {
    if (m->started) return fail(m, "machine already started");
    if (m->n_mem >= NP_MAX_MEMS) return fail(m, "too many memories (max %d)", NP_MAX_MEMS);
    if (kind < NP_MEM_SCRATCH || kind > NP_MEM_TCAM) return fail(m, "bad memory kind %d", kind);
    if (nsrv < 1 || srv_rd < 0 || srv_wr < 0 || srv_rd + nsrv > m->n_srv || srv_wr + nsrv > m->n_srv)
        return fail(m, "memory refers to servers that do not exist");
    np_mem_t *x = &m->mem[m->n_mem];
    x->kind = kind; x->srv_rd = srv_rd; x->srv_wr = srv_wr; x->nsrv = nsrv; x->shift = shift;
    return m->n_mem++;
}

int np_add_ring(np_t *m, int kind, int mem, int words, uint32_t cap, uint32_t nn_lat, const char *name) {
    if (m->started) return fail(m, "machine already started");
    if (m->n_ring >= NP_MAX_RINGS) return fail(m, "too many rings (max %d)", NP_MAX_RINGS);
    if (words < 1 || words > NP_XWORDS) return fail(m, "ring %s: entry words must be 1..%d", name, NP_XWORDS);
    if (cap < 1) return fail(m, "ring %s: capacity must be >= 1 entry", name);
    if (kind == NP_RING_MEM && (mem < 0 || mem >= m->n_mem)) return fail(m, "ring %s: unknown memory %d", name, mem);
    np_ring_t *r = &m->ring[m->n_ring];
    memset(r, 0, sizeof *r);
    r->kind = kind; r->mem = mem; r->words = words; r->cap = cap; r->nn_lat = nn_lat;
    r->buf = malloc((size_t)cap * words * sizeof(uint32_t));
    if (!r->buf) return fail(m, "ring %s: out of memory", name);
    snprintf(r->name, sizeof r->name, "%s", name ? name : "ring");
    return m->n_ring++;
}

int np_set_role_ring(np_t *m, int role, int ring) {
    if (role < 0 || role >= NP_ROLE_COUNT) return fail(m, "bad ring role %d", role);
    if (ring < 0 || ring >= m->n_ring) return fail(m, "bad ring %d", ring);
    m->role_ring[role] = ring;
    return 0;
}

int np_set_role_mem(np_t *m, int mrole, int mem) {
    if (mrole < 0 || mrole >= NP_MR_COUNT) return fail(m, "bad memory role %d", mrole);
    if (mem < 0 || mem >= m->n_mem) return fail(m, "bad memory %d", mem);
    m->role_mem[mrole] = mem;
    return 0;
}

int np_add_me(np_t *m, int block, int nthreads, const char *name) {
    if (m->started) return fail(m, "machine already started");
    if (m->n_me >= NP_MAX_ME) return fail(m, "too many MEs (max %d)", NP_MAX_ME);
    if (block <= NP_BLK_NONE || block >= NP_BLK_COUNT) return fail(m, "bad block %d", block);
    if (nthreads < 1 || nthreads > NP_THREADS_PER_ME)
        return fail(m, "ME %s: threads must be 1..%d, got %d", name, NP_THREADS_PER_ME, nthreads);
    np_me_t *e = &m->me[m->n_me];
    memset(e, 0, sizeof *e);
    e->block = block; e->nthreads = nthreads; e->tid0 = m->n_thr; e->running = -1; e->last = nthreads - 1;
    snprintf(e->name, sizeof e->name, "%s", name ? name : block_names[block]);
    for (int i = 0; i < nthreads; i++) {
        np_thread_t *t = &m->thr[m->n_thr];
        memset(t, 0, sizeof *t);
        t->id = m->n_thr; t->me = m->n_me; t->idx = i; t->block = block;
        t->state = NP_TS_READY; t->pkt = NP_NO_PKT;
        m->n_thr++;
    }
    return m->n_me++;
}

int np_set_cost(np_t *m, const char *name, uint32_t value) {
    for (int i = 0; i < NP_C_COUNT; i++)
        if (strcmp(cost_names[i], name) == 0) { m->cost[i] = value; return 0; }
    return fail(m, "unknown cost '%s'", name);
}

int np_add_port(np_t *m, uint64_t wire_bps, uint64_t mac, uint32_t ip, uint32_t mtu) {
    if (m->started) return fail(m, "machine already started");
    if (m->n_port >= NP_MAX_PORTS) return fail(m, "too many ports (max %d)", NP_MAX_PORTS);
    if (wire_bps == 0) return fail(m, "port rate must be > 0");
    np_port_t *p = &m->port[m->n_port];
    memset(p, 0, sizeof *p);
    p->wire_bps = wire_bps; p->mac = mac; p->ip = ip; p->mtu = mtu;
    p->inq_cap = 1024;
    p->inq = calloc(p->inq_cap, sizeof *p->inq);
    p->qm_kbps = wire_bps / 1000;
    p->act_head = p->act_tail = UINT32_MAX;
    if (!p->inq) return fail(m, "out of memory");
    return m->n_port++;
}

int np_start(np_t *m) {
    if (m->started) return fail(m, "machine already started");
    static const int needed[] = { NP_ROLE_RBUF, NP_ROLE_BUFQ, NP_ROLE_FREE };
    if (m->p.tbuf_elements < 1 || m->p.tbuf_elements >= NP_MAX_TBUF)
        return fail(m, "TBUF elements per port must be 1..%d", NP_MAX_TBUF - 1);
    for (unsigned i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (m->role_ring[needed[i]] < 0) return fail(m, "ring role %d is not wired", needed[i]);
    if (m->ring[m->role_ring[NP_ROLE_BUFQ]].cap < m->p.n_buffers)
        return fail(m, "buffer free queue smaller than the buffer count");
    m->q = calloc((size_t)(m->n_port ? m->n_port : 1) * NP_QUEUES_PER_PORT, sizeof *m->q);
    if (!m->q) return fail(m, "out of memory for queues");
    for (int i = 0; i < m->n_port * NP_QUEUES_PER_PORT; i++) {
        m->q[i].head = m->q[i].tail = UINT32_MAX;
        m->q[i].threshold = 524288;        /* DEF_Q_THRESHOLD [C-code] */
        m->q[i].quantum = 256;             /* DEF_Q_QUANTUM [C-code] */
    }
    /* The buffer free queue starts full (handle 0 is never used: 0 means none). */
    np_ring_t *bq = &m->ring[m->role_ring[NP_ROLE_BUFQ]];
    for (uint32_t h = 1; h < m->p.n_buffers; h++) {
        bq->buf[(bq->head + bq->count) % bq->cap * bq->words] = h;
        bq->count++; bq->nvis++;
    }
    bq->st.count = bq->count;
    bq->st.hwm = bq->count;           /* the free queue's high-water mark starts at its fill */
    m->n_free_bufs = m->p.n_buffers - 1;
    m->ring_nonempty |= 1ULL << m->role_ring[NP_ROLE_BUFQ];
    m->started = 1;
    return 0;
}

int np_fx_bufq_fill(np_t *m, uint32_t *handles, int max) {
    int n = 0;
    for (uint32_t h = 1; h < m->p.n_buffers && n < max; h++) handles[n++] = h;
    return n;
}

/* ---- traffic in ---- */
int np_feed(np_t *m, int n, const uint64_t *t, const uint8_t *ports, const uint32_t *lens,
            const uint64_t *offs, const uint8_t *data, const uint32_t *meta, uint64_t first_id) {
    for (int i = 0; i < n; i++) {
        if (t[i] < m->now) return fail(m, "frame %d: arrival cycle %llu is before the current cycle %llu",
                                       i, (unsigned long long)t[i], (unsigned long long)m->now);
        if (ports[i] >= m->n_port) return fail(m, "frame %d: port %d does not exist (ports 0..%d)", i, ports[i], m->n_port - 1);
        if (lens[i] > 16384) return fail(m, "frame %d: %u bytes is longer than any Ethernet frame", i, lens[i]);
        np_port_t *p = &m->port[ports[i]];
        if (p->inq_n) {
            np_inframe_t *last = &p->inq[(p->inq_head + p->inq_n - 1) % p->inq_cap];
            if (t[i] < last->t) return fail(m, "frame %d: port %d times must not decrease", i, ports[i]);
        }
        if (p->inq_n == p->inq_cap) {
            np_inframe_t *nq = calloc(p->inq_cap * 2, sizeof *nq);
            if (!nq) return fail(m, "out of memory");
            for (uint32_t k = 0; k < p->inq_n; k++) nq[k] = p->inq[(p->inq_head + k) % p->inq_cap];
            free(p->inq); p->inq = nq; p->inq_head = 0; p->inq_cap *= 2;
        }
        np_inframe_t *f = &p->inq[(p->inq_head + p->inq_n) % p->inq_cap];
        f->t = t[i]; f->len = lens[i]; f->meta = meta ? meta[i] : 0; f->id = first_id + (uint64_t)i;
        f->data = malloc(lens[i] ? lens[i] : 1);
        if (!f->data) return fail(m, "out of memory");
        memcpy(f->data, data + offs[i], lens[i]);
        p->inq_n++;
    }
    return 0;
}

int np_port_set_bus(np_t *m, int port, int on) {
    if (port < 0 || port >= m->n_port) return fail(m, "port %d does not exist (0..%d)", port, m->n_port - 1);
    np_port_t *p = &m->port[port];
    if (p->inq_n || p->rx_pending) return fail(m, "port %d has frames waiting: set its input before feeding it", port);
    p->rx_bus = on ? 1 : 0;
    return 0;
}
int np_port_bus(np_t *m, int port) { return (port >= 0 && port < m->n_port) ? m->port[port].rx_bus : -1; }
uint32_t np_rbuf_free(np_t *m) { return m->rbuf_free_elems; }

int np_inject(np_t *m, uint64_t t, const uint8_t *data, uint32_t len, uint32_t flags,
              int in_port, int out_port, uint32_t qid, uint32_t ptag) {
    if (flags & NP_INJ_MSG) {
        if (out_port < 0 || out_port >= NP_MAX_PLUGINS || len >= NP_PL_MSG)
            return fail(m, "a plug-in message needs a plug-in 0..%d and at most %d characters", NP_MAX_PLUGINS - 1, NP_PL_MSG - 1);
    } else if (len < 14 || len > NP_MAX_FRAME) return fail(m, "injected frame of %u bytes: must be 14..%d", len, NP_MAX_FRAME);
    if (!(flags & NP_INJ_MSG) && (out_port >= m->n_port || in_port >= m->n_port))
        return fail(m, "injected frame names a port that does not exist");
    if ((flags & NP_INJ_PASSTHRU) && (out_port < 0 || qid >= NP_QUEUES_PER_PORT))
        return fail(m, "a pass-through injection needs an output port and a queue id < %d", NP_QUEUES_PER_PORT);
    if (t < m->now) return fail(m, "injection at cycle %llu is in the past (now %llu)",
                                (unsigned long long)t, (unsigned long long)m->now);
    if (m->injq_n == m->injq_cap) {
        np_inj_t *nq = calloc(m->injq_cap * 2, sizeof *nq);
        if (!nq) return fail(m, "out of memory");
        for (uint32_t k = 0; k < m->injq_n; k++) nq[k] = m->injq[(m->injq_head + k) % m->injq_cap];
        free(m->injq); m->injq = nq; m->injq_head = 0; m->injq_cap *= 2;
    }
    /* keep the queue in time order (stable): the host may schedule ahead */
    uint32_t pos = m->injq_n;
    while (pos > 0 && m->injq[(m->injq_head + pos - 1) % m->injq_cap].t > t) {
        m->injq[(m->injq_head + pos) % m->injq_cap] = m->injq[(m->injq_head + pos - 1) % m->injq_cap];
        pos--;
    }
    np_inj_t *j = &m->injq[(m->injq_head + pos) % m->injq_cap];
    j->t = t; j->len = len; j->flags = flags; j->in_port = in_port; j->out_port = out_port;
    j->qid = qid; j->ptag = ptag; j->id = m->next_host_id++;
    j->data = malloc(len + 1);
    if (!j->data) return fail(m, "out of memory");
    memcpy(j->data, data, len);
    j->data[len] = 0;
    m->injq_n++;
    return 0;
}

int np_fx_next_inject(np_t *m, uint64_t *t) {
    if (!m->injq_n) return 0;
    *t = m->injq[m->injq_head].t;
    return 1;
}

/* Move the next injection into the staging table; its index is the
 * HOST_IN ring entry the control processor's transmit thread will get. */
int np_fx_take_inject(np_t *m, uint32_t *entry) {
    if (!m->injq_n) return -1;
    np_inj_t j = m->injq[m->injq_head];
    m->injq_head = (m->injq_head + 1) % m->injq_cap; m->injq_n--;
    np_inj_t *hi = m->host_in.p;
    uint64_t slot = m->host_in.n;
    for (uint64_t k = 0; k < m->host_in.n; k++) if (!hi[k].data) { slot = k; break; }
    if (slot == m->host_in.n) { hi = np_vec_push(&m->host_in, 1); if (!hi) return -1; hi = m->host_in.p; }
    hi[slot] = j;
    if (!(j.flags & NP_INJ_MSG)) m->ctr.injected++;      /* a control message is not a packet */
    entry[0] = (uint32_t)slot;
    return 1;
}

int np_fx_next_arrival(np_t *m, int port, uint64_t *t, uint32_t *len) {
    np_port_t *p = &m->port[port];
    if (!p->inq_n) return 0;
    *t = p->inq[p->inq_head].t; *len = p->inq[p->inq_head].len;
    return 1;
}

/* Bytes a frame of len data bytes occupies: FCS, padding to the minimum frame,
 * and (with_gap) preamble + inter-frame gap. */
static uint64_t frame_bytes(np_t *m, uint32_t len, int with_gap) {
    uint64_t bytes = len + m->p.fcs_bytes;
    if (bytes < m->p.min_frame) bytes = m->p.min_frame;
    return bytes + (with_gap ? m->p.wire_overhead : 0);
}

/* Sub-cycles bytes take at bps, rounded up. */
static uint64_t bytes_sub(np_t *m, uint64_t bytes, uint64_t bps) {
    unsigned __int128 num = (unsigned __int128)bytes * 8 * m->p.f_me_hz * NP_SUB;
    return (uint64_t)((num + bps - 1) / bps);
}

uint64_t np_fx_wire_sub(np_t *m, int port, uint32_t len) {
    return bytes_sub(m, frame_bytes(m, len, 1), m->port[port].wire_bps);
}

uint32_t np_fx_tbuf_need(np_t *m, uint32_t len) { return np_fx_rbuf_elems(m, len); }

uint32_t np_fx_rbuf_elems(np_t *m, uint32_t len) {
    uint32_t e = m->p.rbuf_element_bytes ? m->p.rbuf_element_bytes : 64;
    return (len + e - 1) / e ? (len + e - 1) / e : 1;
}

/* The MSF finished receiving the port's head frame at t_end: check it,
 * place it in receive-buffer elements, return the RBUF status entry. */
int np_fx_rx_accept(np_t *m, int port, uint64_t t_end, uint32_t *entry) {
    np_port_t *p = &m->port[port];
    if (!p->inq_n) return -1;
    np_inframe_t f = p->inq[p->inq_head];
    p->inq_head = (p->inq_head + 1) % p->inq_cap; p->inq_n--;
    m->ctr.arrived++;
    p->st.rx_pkts++; p->st.rx_bytes += f.len;
    int reason = -1;
    uint32_t ne = np_fx_rbuf_elems(m, f.len);
    if (f.len < 14) reason = NP_DROP_RUNT;
    else if (f.len > p->mtu + 18 || f.len > NP_MAX_FRAME) reason = NP_DROP_GIANT;
    else if (ne > m->rbuf_free_elems) reason = NP_DROP_RBUF_FULL;
    if (reason >= 0) {
        p->st.rx_drops++;
        m->now = t_end;
        np_count_drop(m, reason, f.id, port, NP_BLK_RX);
        free(f.data);
        return -1;
    }
    uint32_t slot = 0;
    while (m->rbuf[slot].used) slot++;     /* there are as many slots as elements */
    np_rbuf_slot_t *s = &m->rbuf[slot];
    s->used = 1; s->data = f.data; s->len = f.len; s->meta = f.meta; s->id = f.id;
    s->port = (uint8_t)port; s->elems = ne; s->t_end = t_end;
    m->rbuf_free_elems -= ne;
    entry[0] = slot; entry[1] = (uint32_t)port; entry[2] = f.len;
    return 3;
}

void np_fx_rbuf_release(np_t *m, uint32_t slot) {
    np_rbuf_slot_t *s = &m->rbuf[slot];
    if (!s->used) return;
    free(s->data); s->data = NULL;
    m->rbuf_free_elems += s->elems;
    s->used = 0;
    m->rbuf_released = 1;
}

/* ---- packet endings ---- */
/* A packet ends exactly once: on the wire, at the host, or dropped. */
void np_end_pkt(np_t *m, uint32_t h) {
    if (!(m->desc[h].flags & NP_DF_LIVE)) m->double_end++;
    m->desc[h].flags &= (uint8_t)~NP_DF_LIVE;
}

void np_drop_h(np_t *m, uint32_t h, int reason, int block) {
    np_end_pkt(m, h);
    np_count_drop(m, reason, m->desc[h].pkt, m->desc[h].in_port, block);
}

/* Queue-manager pacing: the time a frame takes at the port's configured
 * rate, counting the same wire bytes as the link (FCS, minimum frame,
 * preamble and inter-frame gap) so a port at line rate is paced exactly
 * at line rate. */
uint64_t np_pace_sub(np_t *m, int port, uint32_t len) {
    return bytes_sub(m, frame_bytes(m, len, m->cost[NP_C_QM_RATE_OVERHEAD] != 0), m->port[port].qm_kbps * 1000);
}

void np_count_drop(np_t *m, int reason, uint64_t pkt, int port, int block) {
    m->drops[reason]++;
    m->ctr.dropped++;
    if (m->record_drops) {
        np_drop_rec_t *d = np_vec_push(&m->drop_out, 1);
        if (d) { d->pkt = pkt; d->t = m->now; d->reason = (uint32_t)reason; d->port = (uint16_t)port; d->block = (uint16_t)block; }
    }
}

void np_fx_tx_done(np_t *m, int port, uint32_t h, uint32_t len, uint64_t t_start, uint64_t t_end) {
    np_desc_t *d = &m->desc[h];
    np_port_t *p = &m->port[port];
    p->st.tx_pkts++; p->st.tx_bytes += len;
    m->ctr.transmitted++;
    np_end_pkt(m, h);
    np_tx_rec_t *r = np_vec_push(&m->tx_out, 1);
    if (!r) return;
    r->pkt = d->pkt; r->t_rx = d->t_rx; r->t_start = t_start; r->t_end = t_end; r->len = len;
    r->port = (uint16_t)port; r->meta = d->meta; r->qid = d->qid;
    r->flags = (uint16_t)(((d->flags & NP_DF_COPY) ? 1 : 0) | ((d->flags & NP_DF_HOST) ? 2 : 0));
    r->cap_off = 0;
    if (m->capture_on) {
        uint8_t *c = np_vec_push(&m->tx_cap, len);
        if (c) {
            const uint8_t *pd = np_pkt_data(m, h);
            r->cap_off = (uint64_t)(c - (uint8_t *)m->tx_cap.p);
            if (d->flags & NP_DF_KEEP_L2) memcpy(c, pd, len);
            else { memcpy(c, d->l2, 14); memcpy(c + 14, pd + 14, len - 14); }
            r->flags |= 4;
        }
    }
}

/* The control processor hands the packet in handle h to the host. */
void np_host_record(np_t *m, uint32_t h, uint32_t reason, uint64_t now) {
    np_desc_t *d = &m->desc[h];
    np_end_pkt(m, h);
    m->ctr.to_host++;
    if (reason < NP_EXC_COUNT) m->excs[reason]++;
    np_host_rec_t *r = np_vec_push(&m->host_out, 1);
    uint8_t *c = np_vec_push(&m->host_cap, d->len);
    if (!r || !c) return;
    r = (np_host_rec_t *)m->host_out.p + m->host_out.n - 1;   /* host_out may have moved */
    memcpy(c, np_pkt_data(m, h), d->len);
    r->pkt = d->pkt; r->t_rx = d->t_rx; r->t_host = now; r->len = d->len; r->reason = reason;
    r->cap_off = (uint64_t)(c - (uint8_t *)m->host_cap.p);
    r->nh_mac = d->nh_mac; r->nh_ip = d->nh_ip; r->meta = d->meta;
    r->in_port = d->in_port; r->out_port = d->out_port; r->ptag = d->ptag; r->src = d->src;
    m->host_pending = 1;
}

void np_fx_host(np_t *m, const uint32_t *words, uint64_t now) {
    m->now = now;
    np_host_record(m, words[0], words[1], now);
}

void np_fx_set_now(np_t *m, uint64_t now) { m->now = now; }
int np_fx_rbuf_released(np_t *m, int clear) {
    int v = m->rbuf_released;
    if (clear) m->rbuf_released = 0;
    return v;
}
int np_fx_host_pending(np_t *m, int clear) {
    int v = m->host_pending;
    if (clear) m->host_pending = 0;
    return v;
}
/* The host -> control processor queue was full: the staged injection is dropped. */
void np_fx_host_in_drop(np_t *m, uint32_t slot) {
    np_inj_t *hi = (np_inj_t *)m->host_in.p + slot;
    np_count_drop(m, NP_DROP_HOST_IN_FULL, hi->id, hi->in_port < 0 ? 0 : hi->in_port, NP_BLK_XSCALE);
    free(hi->data); hi->data = NULL;
}

void np_fx_trace(np_t *m, int tid, const np_op_t *op, uint64_t t_issue, uint64_t t_done, uint32_t unloaded) {
    np_trace_rec_t *r = np_vec_push(&m->trace_out, 1);
    if (!r) return;
    np_thread_t *t = &m->thr[tid];
    r->pkt = op->pkt; r->t_issue = t_issue; r->t_done = t_done; r->unloaded = unloaded;
    r->me = (uint16_t)t->me; r->thread = (uint8_t)t->idx; r->block = (uint8_t)t->block;
    r->op = (uint8_t)op->kind; r->flags = (uint8_t)op->flags; r->target = (uint16_t)op->target;
}

/* ---- outputs ---- */
void np_set_trace(np_t *m, int on) { m->trace_on = on; }
void np_set_capture(np_t *m, int on) { m->capture_on = on; }
void np_set_record_drops(np_t *m, int on) { m->record_drops = on; }

int np_take_tx(np_t *m, np_tx_rec_t **recs, uint8_t **cap, uint64_t *cap_len) {
    *recs = m->tx_out.p; *cap = m->tx_cap.p; *cap_len = m->tx_cap.n;
    return (int)m->tx_out.n;
}
int np_take_host(np_t *m, np_host_rec_t **recs, uint8_t **cap, uint64_t *cap_len) {
    *recs = m->host_out.p; *cap = m->host_cap.p; *cap_len = m->host_cap.n;
    return (int)m->host_out.n;
}
int np_take_drops(np_t *m, np_drop_rec_t **recs) { *recs = m->drop_out.p; return (int)m->drop_out.n; }
int np_take_trace(np_t *m, np_trace_rec_t **recs) { *recs = m->trace_out.p; return (int)m->trace_out.n; }
void np_clear_outputs(np_t *m) {
    m->tx_out.n = m->tx_cap.n = m->host_out.n = m->host_cap.n = m->drop_out.n = m->trace_out.n = 0;
    m->host_pending = 0;
}

/* ---- statistics ---- */
void np_get_counters(np_t *m, np_counters_t *c) {
    *c = m->ctr;
    c->double_end = m->double_end;
    c->in_flight_hint = m->ctr.arrived + m->ctr.injected + m->ctr.copies
                        - m->ctr.transmitted - m->ctr.to_host - m->ctr.dropped;
}
uint64_t np_drop_count(np_t *m, int r) { return (r >= 0 && r < NP_DROP_COUNT) ? m->drops[r] : 0; }
uint64_t np_exc_count(np_t *m, int r) { return (r >= 0 && r < NP_EXC_COUNT) ? m->excs[r] : 0; }
void np_port_stats(np_t *m, int p, np_port_stats_t *s) { *s = m->port[p].st; }
void np_me_stats(np_t *m, int e, np_me_stats_t *s) { *s = m->me[e].st; }
void np_ring_stats(np_t *m, int r, np_ring_stats_t *s) { *s = m->ring[r].st; }
void np_srv_stats(np_t *m, int v, np_srv_stats_t *s) { *s = m->srv[v].st; }
int np_queue_stats(np_t *m, int port, int qid, np_queue_stats_t *s) {
    if (port < 0 || port >= m->n_port || qid < 0 || qid >= NP_QUEUES_PER_PORT || !m->q) return -1;
    np_queue_t *q = &m->q[port * NP_QUEUES_PER_PORT + qid];
    *s = q->st; s->pkts = q->pkts; s->bytes = q->bytes;
    return 0;
}
int np_active_queues(np_t *m, int port, uint16_t *qids, int max) {
    int n = 0;
    if (!m->q) return 0;
    for (int i = 0; i < NP_QUEUES_PER_PORT && n < max; i++)
        if (m->q[port * NP_QUEUES_PER_PORT + i].st.enq_pkts) qids[n++] = (uint16_t)i;
    return n;
}
void np_stats_index(np_t *m, int idx, uint64_t *out4) {
    for (int i = 0; i < 4; i++) out4[i] = m->stats_idx[idx & 0xFFFF][i];
}
int np_n_mes(np_t *m) { return m->n_me; }
int np_n_rings(np_t *m) { return m->n_ring; }
int np_n_servers(np_t *m) { return m->n_srv; }
int np_n_ports(np_t *m) { return m->n_port; }
const char *np_ring_name(np_t *m, int r) { return (r >= 0 && r < m->n_ring) ? m->ring[r].name : NULL; }
const char *np_me_name(np_t *m, int e) { return (e >= 0 && e < m->n_me) ? m->me[e].name : NULL; }
int np_me_block(np_t *m, int e) { return m->me[e].block; }
int np_me_threads(np_t *m, int e) { return m->me[e].nthreads; }
uint64_t np_buffers_free(np_t *m) { return m->n_free_bufs; }

/* An independent count of the packets still inside the router: frames in
 * receive buffers, staged injections, and descriptors holding a live packet. */
uint64_t np_packets_in_flight(np_t *m) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < m->p.rbuf_elements; i++) n += m->rbuf[i].used;
    np_inj_t *hi = m->host_in.p;
    for (uint64_t k = 0; k < m->host_in.n; k++) n += hi[k].data != NULL && !(hi[k].flags & NP_INJ_MSG);
    for (uint32_t h = 1; h < m->p.n_buffers; h++) n += (m->desc[h].flags & NP_DF_LIVE) != 0;
    return n;
}

/* ---- reference-engine hooks ---- */
np_op_t *np_thread_op(np_t *m, int tid) { return &m->thr[tid].op; }
uint32_t *np_thread_xin(np_t *m, int tid) { return m->thr[tid].xin; }
void np_thread_set_result(np_t *m, int tid, int32_t r) { m->thr[tid].result = r; }
int np_thread_me(np_t *m, int tid) { return m->thr[tid].me; }
int np_me_first_thread(np_t *m, int e) { return m->me[e].tid0; }
uint64_t *np_ring_nonempty(np_t *m) { return &m->ring_nonempty; }
void np_block_step(np_t *m, int tid, uint64_t now) {
    np_thread_t *t = &m->thr[tid];
    m->now = now;
    t->op.compute = 0;
    np_blocks[t->block](m, t);
}
int np_ring_info(np_t *m, int r, int *kind, int *mem, int *words, uint32_t *cap, uint32_t *nn_lat) {
    if (r < 0 || r >= m->n_ring) return -1;
    np_ring_t *x = &m->ring[r];
    *kind = x->kind; *mem = x->mem; *words = x->words; *cap = x->cap; *nn_lat = x->nn_lat;
    return 0;
}
int np_mem_info(np_t *m, int i, int *kind, int *rd, int *wr, int *nsrv, int *shift) {
    if (i < 0 || i >= m->n_mem) return -1;
    np_mem_t *x = &m->mem[i];
    *kind = x->kind; *rd = x->srv_rd; *wr = x->srv_wr; *nsrv = x->nsrv; *shift = x->shift;
    return 0;
}
int np_srv_info(np_t *m, int i, uint32_t *lat, uint32_t *unit, uint64_t *occ, uint64_t *cmd) {
    if (i < 0 || i >= m->n_srv) return -1;
    np_srv_t *s = &m->srv[i];
    *lat = s->lat; *unit = s->unit; *occ = s->occ_sub; *cmd = s->cmd_sub;
    return 0;
}
int np_port_info(np_t *m, int p, uint64_t *wire_bps) {
    if (p < 0 || p >= m->n_port) return -1;
    *wire_bps = m->port[p].wire_bps;
    return 0;
}
void np_fx_me_account(np_t *m, int e, uint64_t busy, uint64_t stall, uint64_t idle, uint64_t disp) {
    m->me[e].st.busy = busy; m->me[e].st.stall = stall; m->me[e].st.idle = idle; m->me[e].st.dispatches = disp;
}
void np_fx_ring_account(np_t *m, int r, uint64_t puts, uint64_t gets, uint64_t full, uint64_t hwm, uint64_t count) {
    np_ring_stats_t *s = &m->ring[r].st;
    s->puts = puts; s->gets = gets; s->full = full; s->hwm = hwm; s->count = count;
}
void np_fx_srv_account(np_t *m, int v, uint64_t ops, uint64_t units, uint64_t busy, uint64_t wait, uint64_t maxw) {
    np_srv_stats_t *s = &m->srv[v].st;
    s->ops = ops; s->units = units; s->busy_sub = busy; s->wait_sub = wait; s->max_wait_sub = maxw;
}
void np_fx_port_busy(np_t *m, int p, uint64_t busy) { m->port[p].st.tx_busy_sub = busy; }
int np_role_ring(np_t *m, int role) { return (role >= 0 && role < NP_ROLE_COUNT) ? m->role_ring[role] : -1; }
void np_get_params(np_t *m, np_params_t *p) { *p = m->p; }
int np_fx_trace_on(np_t *m) { return m->trace_on; }
int np_started(np_t *m) { return m->started; }

/* ---- queue manager and plug-in configuration ---- */
int np_queue_set(np_t *m, int port, int qid, uint32_t threshold, uint32_t quantum) {
    if (!m->q) return fail(m, "machine not started");
    if (port < 0 || port >= m->n_port) return fail(m, "port %d does not exist (0..%d)", port, m->n_port - 1);
    if (qid < 0 || qid >= NP_QUEUES_PER_PORT) return fail(m, "queue id %d out of range 0..%d", qid, NP_QUEUES_PER_PORT - 1);
    if (quantum < 1) return fail(m, "quantum must be >= 1 byte");
    np_queue_t *q = &m->q[port * NP_QUEUES_PER_PORT + qid];
    q->threshold = threshold; q->quantum = quantum;
    return 0;
}
int np_queue_get(np_t *m, int port, int qid, uint32_t *threshold, uint32_t *quantum, uint32_t *pkts, uint32_t *bytes) {
    if (!m->q || port < 0 || port >= m->n_port || qid < 0 || qid >= NP_QUEUES_PER_PORT) return -1;
    np_queue_t *q = &m->q[port * NP_QUEUES_PER_PORT + qid];
    *threshold = q->threshold; *quantum = q->quantum; *pkts = q->pkts; *bytes = q->bytes;
    return 0;
}
int np_port_rate(np_t *m, int port, uint64_t kbps) {
    if (port < 0 || port >= m->n_port) return fail(m, "port %d does not exist (0..%d)", port, m->n_port - 1);
    if (kbps == 0) return fail(m, "port rate must be > 0 Kb/s");
    m->port[port].qm_kbps = kbps;
    return 0;
}
int np_set_me_arg(np_t *m, int me, int arg) {
    if (me < 0 || me >= m->n_me) return fail(m, "ME %d does not exist", me);
    m->me[me].arg = arg;
    return 0;
}

int np_plugin_enable(np_t *m, int plugin, int on) {
    if (plugin < 0 || plugin >= NP_MAX_PLUGINS) return fail(m, "plug-in ME %d does not exist (0..%d)", plugin, NP_MAX_PLUGINS - 1);
    m->plugin_on[plugin] = on;
    return 0;
}
