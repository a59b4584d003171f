/* machine.c -- the functional state every engine shares.
 *
 * Construction and wiring (servers, memories, rings, block instances, MEs,
 * ports), the memory images (descriptors in SRAM, packet buffers in DRAM),
 * traffic in and out, packet accounting and statistics. Nothing here
 * advances time: that is the engine's job (engine.c, or the Python
 * reference engine).
 */
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <sys/mman.h>
#include "npcore.h"

/* ---- names ---- */
#define NP_STR2(id, s) s,
static const char *const drop_names[] = { NP_DROP_REASONS(NP_STR2) };
static const char *const exc_names[] = { NP_EXC_REASONS(NP_STR2) };
static const char *const op_names[NP_OP_COUNT] = {
    "none", "mem", "ring_get", "ring_put", "wait_any", "wait_until", "signal", "wait_sig",
    "tx", "rbuf_free", "host", "halt"
};

#ifndef NPCORE_SRC_HASH
#define NPCORE_SRC_HASH "unknown"
#endif
const char *np_src_hash(void) { return NPCORE_SRC_HASH; }

int np_n_drops(void) { return NP_DROP_COUNT; }
const char *np_drop_name(int i) { return (i >= 0 && i < NP_DROP_COUNT) ? drop_names[i] : NULL; }
int np_n_excs(void) { return NP_EXC_COUNT; }
const char *np_exc_name(int i) { return (i >= 0 && i < NP_EXC_COUNT) ? exc_names[i] : NULL; }
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

/* grow an array of elements of size esz to hold n + 1 */
static int grow(void **p, int *cap, int n, size_t esz) {
    if (n < *cap) return 0;
    int nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, (size_t)nc * esz);
    if (!q) return -1;
    memset((char *)q + (size_t)*cap * esz, 0, (size_t)(nc - *cap) * esz);
    *p = q; *cap = nc;
    return 0;
}
#define GROW(arr, cap, n) grow((void **)&(arr), &(cap), (n), sizeof *(arr))

int np_fail(np_t *m, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return -1;
}
#define fail np_fail
const char *np_error(np_t *m) { return m->err; }

/* ---- construction ---- */
np_t *np_new(const np_params_t *p) {
    np_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->p = *p;
    if (m->p.n_buffers < 16) m->p.n_buffers = 16;
    if (m->p.max_frame == 0 || m->p.max_frame > NP_BUF_SIZE - NP_BUF_DATA_OFFSET) m->p.max_frame = NP_MAX_FRAME;
    if (m->p.stats_blocks == 0) m->p.stats_blocks = 65536;
    for (int i = 0; i < NP_HW_COUNT; i++) m->hw_ring[i] = -1;
    m->rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ULL;
    m->heap_cap = 4096;
    m->heap = malloc(m->heap_cap * sizeof *m->heap);
    /* The buffer pool is mapped lazily: pages are touched only when used. */
    size_t dram_sz = (size_t)m->p.n_buffers * NP_BUF_SIZE;
    m->dram = mmap(NULL, dram_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->dram == MAP_FAILED) m->dram = NULL;
    m->desc = calloc(m->p.n_buffers, sizeof *m->desc);
    m->slot_stack = malloc(m->p.n_buffers * sizeof *m->slot_stack);
    m->rbuf = calloc(m->p.rbuf_elements ? m->p.rbuf_elements : 1, sizeof *m->rbuf);
    m->rbuf_free_elems = m->p.rbuf_elements;
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
    np_vec_init(&m->ring_out, sizeof(np_ringtrace_rec_t));
    if (!m->heap || !m->dram || !m->desc || !m->slot_stack || !m->rbuf || !m->injq) {
        np_free(m);
        return NULL;
    }
    return m;
}

static void wq_free(np_wq_t *q) { free(q->buf); q->buf = NULL; }

void np_free(np_t *m) {
    if (!m) return;
    np_plugin_free_all(m);
    for (int i = 0; i < m->n_inst; i++) {
        np_inst_t *x = m->inst[i];
        if (x->d->fini && m->started) x->d->fini(m, x);
        free(x->ring); free(x->mem); free(x->table); free(x->param); free(x->ctr); free(x->state); free(x);
    }
    free(m->inst);
    for (int i = 0; i < m->n_tbl; i++) { np_tbl_free(m->tbl[i]); free(m->tbl[i]); }
    free(m->tbl);
    for (int i = 0; i < m->n_ring; i++) { free(m->ring[i].buf); wq_free(&m->ring[i].getw); wq_free(&m->ring[i].putw); }
    for (int p = 0; p < m->n_port; p++) {
        np_port_t *pt = &m->port[p];
        for (uint32_t k = 0; k < pt->inq_n; k++) free(pt->inq[(pt->inq_head + k) % pt->inq_cap].data);  /* pooled or not */
        free(pt->inq);
        wq_free(&pt->txwait);
    }
    if (m->rbuf) for (uint32_t i = 0; i < m->p.rbuf_elements; i++) if (m->rbuf[i].used) free(m->rbuf[i].data);
    for (uint32_t k = 0; k < m->injq_n; k++) free(m->injq[(m->injq_head + k) % m->injq_cap].data);
    np_inj_t *hi = m->host_in.p;
    for (uint64_t k = 0; k < m->host_in.n; k++) free(hi[k].data);
    if (m->dram) munmap(m->dram, (size_t)m->p.n_buffers * NP_BUF_SIZE);
    free(m->heap); free(m->desc); free(m->slot_stack); free(m->rbuf); free(m->injq);
    for (int i = 0; i < m->n_thr; i++) free(m->thr[i].local);
    free(m->srv); free(m->mem); free(m->ring); free(m->ring_vis); free(m->me); free(m->thr);
    free(m->any_waiters); free(m->sig); free(m->sig_waiter); free(m->port); free(m->plugin); free(m->plugin_inst);
    np_vec_free(&m->host_in); np_vec_free(&m->tx_out); np_vec_free(&m->tx_cap);
    np_vec_free(&m->host_out); np_vec_free(&m->host_cap); np_vec_free(&m->drop_out);
    np_vec_free(&m->trace_out); np_vec_free(&m->ring_out);
    free(m);
}

int np_add_server(np_t *m, uint32_t lat, uint32_t unit, uint64_t occ_sub, uint64_t cmd_sub) {
    if (m->started) return fail(m, "machine already started");
    if (unit == 0) return fail(m, "server access unit must be > 0 bytes");
    if (GROW(m->srv, m->cap_srv, m->n_srv)) return fail(m, "out of memory");
    np_srv_t *s = &m->srv[m->n_srv];
    memset(s, 0, sizeof *s);
    s->lat = lat; s->unit = unit; s->occ_sub = occ_sub; s->cmd_sub = cmd_sub;
    return m->n_srv++;
}

int np_add_mem(np_t *m, int kind, int srv_rd, int srv_wr, int nsrv, int shift) {
    if (m->started) return fail(m, "machine already started");
    if (kind < NP_MEM_SCRATCH || kind > NP_MEM_TCAM) return fail(m, "bad memory kind %d", kind);
    if (nsrv < 1 || srv_rd < 0 || srv_wr < 0 || srv_rd + nsrv > m->n_srv || srv_wr + nsrv > m->n_srv)
        return fail(m, "memory refers to servers that do not exist");
    if (GROW(m->mem, m->cap_mem, m->n_mem)) return fail(m, "out of memory");
    np_mem_t *x = &m->mem[m->n_mem];
    memset(x, 0, sizeof *x);
    x->kind = kind; x->srv_rd = srv_rd; x->srv_wr = srv_wr; x->nsrv = nsrv; x->shift = shift;
    return m->n_mem++;
}

static int pow2(uint32_t x) { return x && !(x & (x - 1)); }

int np_add_ring(np_t *m, int kind, int mem, int entry_words, uint32_t words, uint32_t nn_lat,
                const char *name, const char *format) {
    if (m->started) return fail(m, "machine already started");
    if (!name) name = "ring";
    if (entry_words < 1 || entry_words > NP_XWORDS) return fail(m, "ring %s: entry words must be 1..%d", name, NP_XWORDS);
    if (format && *format) {
        int f = np_format_find(format);
        if (f < 0) return fail(m, "ring %s: unknown record format '%s'", name, format);
        if (np_format_words(f) > entry_words)
            return fail(m, "ring %s: format %s needs %d words per entry, the ring holds %d", name, format,
                        np_format_words(f), entry_words);
    }
    if (kind == NP_RING_MEM) {
        if (mem < 0 || mem >= m->n_mem) return fail(m, "ring %s: unknown memory %d", name, mem);
        int mk = m->mem[mem].kind;
        if (mk == NP_MEM_SCRATCH) {
            /* [HRM p.57] scratch rings are 128, 256, 512 or 1,024 words, 16 of them */
            if (words != 128 && words != 256 && words != 512 && words != 1024)
                return fail(m, "ring %s: a scratch ring is 128, 256, 512 or 1024 words, not %u", name, words);
            if (m->scratch_rings + 1 > m->p.scratch_rings_max)
                return fail(m, "ring %s: the scratchpad has %u rings and all are in use", name, m->p.scratch_rings_max);
            if (m->mem[mem].ring_words + words > m->p.scratch_ring_words_total)
                return fail(m, "ring %s: %u words do not fit in the scratchpad (%u of %u words used by rings)", name,
                            words, m->mem[mem].ring_words, m->p.scratch_ring_words_total);
        } else if (mk == NP_MEM_SRAM) {
            /* [HRM p.216] SRAM rings are 512 .. 64K longwords */
            if (words < 512 || words > 65536 || !pow2(words))
                return fail(m, "ring %s: an SRAM ring is 512, 1K, 2K, 4K, 8K, 16K, 32K or 64K words, not %u", name, words);
        } else return fail(m, "ring %s: rings live in scratch or SRAM", name);
    } else if (kind == NP_RING_QUEUE) {
        if (mem < 0 || mem >= m->n_mem || m->mem[mem].kind != NP_MEM_SRAM)
            return fail(m, "ring %s: a hardware queue lives in SRAM", name);
    } else if (kind == NP_RING_NN) {
        if (words < (uint32_t)entry_words || words > m->p.nn_ring_words)
            return fail(m, "ring %s: a next-neighbour ring is at most %u registers, not %u", name, m->p.nn_ring_words, words);
    } else if (kind != NP_RING_PUSH) return fail(m, "ring %s: bad kind %d", name, kind);
    uint32_t cap = words / (uint32_t)entry_words;
    if (cap < 1) return fail(m, "ring %s: %u words hold no %d-word entry", name, words, entry_words);
    if (GROW(m->ring, m->cap_ring, m->n_ring)) return fail(m, "out of memory");
    np_ring_t *r = &m->ring[m->n_ring];
    memset(r, 0, sizeof *r);
    r->kind = kind; r->mem = mem; r->words = entry_words; r->cap = cap; r->size_words = words; r->nn_lat = nn_lat;
    r->buf = malloc((size_t)cap * entry_words * sizeof(uint32_t));
    if (!r->buf) return fail(m, "ring %s: out of memory", name);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->format, sizeof r->format, "%s", format ? format : "");
    if (kind == NP_RING_MEM || kind == NP_RING_QUEUE) {
        m->mem[mem].ring_words += words;
        if (m->mem[mem].kind == NP_MEM_SCRATCH) m->scratch_rings++;
    }
    return m->n_ring++;
}

int np_set_hw_ring(np_t *m, int which, int ring) {
    if (which < 0 || which >= NP_HW_COUNT) return fail(m, "bad hardware ring %d", which);
    if (ring < 0 || ring >= m->n_ring) return fail(m, "bad ring %d", ring);
    m->hw_ring[which] = ring;
    return 0;
}

int np_add_port(np_t *m, uint64_t wire_bps, uint64_t mac, uint32_t ip, uint32_t mtu) {
    if (m->started) return fail(m, "machine already started");
    if (wire_bps == 0) return fail(m, "port rate must be > 0");
    if (m->n_port >= 255) return fail(m, "too many ports (max 255)");
    if (GROW(m->port, m->cap_port, m->n_port)) return fail(m, "out of memory");
    np_port_t *p = &m->port[m->n_port];
    memset(p, 0, sizeof *p);
    p->wire_bps = wire_bps; p->mac[0] = mac & 0xFFFFFFFFFFFFULL; p->n_mac = 1; p->ip = ip; p->mtu = mtu;
    p->inq_cap = 1024;
    p->inq = calloc(p->inq_cap, sizeof *p->inq);
    p->sig_credit = -1;
    if (!p->inq) return fail(m, "out of memory");
    return m->n_port++;
}

int np_port_add_mac(np_t *m, int port, uint64_t mac) {
    if (port < 0 || port >= m->n_port) return fail(m, "port %d does not exist (0..%d)", port, m->n_port - 1);
    np_port_t *p = &m->port[port];
    mac &= 0xFFFFFFFFFFFFULL;
    if (np_port_has_mac(p, mac)) return 0;
    if (p->n_mac >= NP_PORT_MACS) return fail(m, "port %d already answers to %d MAC addresses", port, NP_PORT_MACS);
    p->mac[p->n_mac++] = mac;
    return 0;
}

int np_port_del_mac(np_t *m, int port, uint64_t mac) {
    if (port < 0 || port >= m->n_port) return fail(m, "port %d does not exist (0..%d)", port, m->n_port - 1);
    np_port_t *p = &m->port[port];
    mac &= 0xFFFFFFFFFFFFULL;
    for (int i = 1; i < p->n_mac; i++)
        if (p->mac[i] == mac) { p->mac[i] = p->mac[--p->n_mac]; return 0; }
    return fail(m, "port %d has no additional MAC %012llx (its own MAC cannot be removed)", port, (unsigned long long)mac);
}

/* ---- block instances ---- */
static int ring_slots(const np_block_desc_t *d) { return d->n_rings; }

int np_add_block(np_t *m, const char *type, const char *name) {
    if (m->started) return fail(m, "machine already started");
    int ty = np_block_type_find(type);
    if (ty < 0) {
        char valid[512] = "";
        for (int i = 0; i < np_n_block_types(); i++) {
            if (i) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
            strncat(valid, np_block_type_name(i), sizeof valid - strlen(valid) - 1);
        }
        return fail(m, "unknown block type '%s'; valid: %s", type, valid);
    }
    const np_block_desc_t *d = np_block_types[ty];
    if (d->locals > NP_LOCAL_BYTES) return fail(m, "block %s: locals of %zu bytes exceed %d", type, d->locals, NP_LOCAL_BYTES);
    for (int i = 0; i < m->n_inst; i++)
        if (strcmp(m->inst[i]->name, name) == 0) return fail(m, "a block instance named '%s' exists already", name);
    if (GROW(m->inst, m->cap_inst, m->n_inst)) return fail(m, "out of memory");
    np_inst_t *x = calloc(1, sizeof *x);
    if (!x) return fail(m, "out of memory");
    x->id = m->n_inst; x->type = ty; x->d = d;
    snprintf(x->name, sizeof x->name, "%s", name);
    x->ring = malloc((size_t)(ring_slots(d) + 1) * sizeof(int));
    x->mem = malloc((size_t)(d->n_mems + 1) * sizeof(int));
    x->table = malloc((size_t)(d->n_tables + 1) * sizeof(int));
    x->param = calloc((size_t)d->n_params + 1, sizeof(int64_t));
    x->ctr = calloc((size_t)d->n_counters + 1, sizeof(uint64_t));
    x->state = d->state ? calloc(1, d->state) : NULL;
    if (!x->ring || !x->mem || !x->table || !x->param || !x->ctr || (d->state && !x->state)) {
        free(x->ring); free(x->mem); free(x->table); free(x->param); free(x->ctr); free(x->state); free(x);
        return fail(m, "out of memory");
    }
    for (int i = 0; i < ring_slots(d); i++) x->ring[i] = -1;
    for (int i = 0; i < d->n_mems; i++) x->mem[i] = -1;
    for (int i = 0; i < d->n_tables; i++) x->table[i] = -1;
    for (int i = 0; i < d->n_params; i++) x->param[i] = d->params[i].def;
    m->inst[m->n_inst] = x;
    return m->n_inst++;
}

static np_inst_t *inst_get(np_t *m, int inst) {
    if (inst < 0 || inst >= m->n_inst) { fail(m, "block instance %d does not exist", inst); return NULL; }
    return m->inst[inst];
}

/* The slot of ring port "name" or "name.i"; -1 with m->err set. */
static int ring_slot(np_t *m, np_inst_t *x, const char *port) {
    const np_block_desc_t *d = x->d;
    char base[NP_NAME];
    int idx = 0, has_idx = 0;
    const char *dot = strchr(port, '.');
    size_t bl = dot ? (size_t)(dot - port) : strlen(port);
    if (bl >= sizeof base) bl = sizeof base - 1;
    memcpy(base, port, bl); base[bl] = 0;
    if (dot) { char *end; idx = (int)strtol(dot + 1, &end, 10); has_idx = 1; if (*end || idx < 0) idx = -1; }
    for (int i = 0; i < d->n_rings; i++) {
        const np_ring_port_t *rp = &d->rings[i];
        if (!rp->name || strcmp(rp->name, base)) continue;
        if (rp->count > 1 && !has_idx) return fail(m, "%s: ring port %s is an array of %d: give %s.0 .. %s.%d",
                                                   x->name, base, rp->count, base, base, rp->count - 1);
        if (rp->count == 1 && has_idx) return fail(m, "%s: ring port %s is not an array", x->name, base);
        if (idx < 0 || idx >= rp->count) return fail(m, "%s: %s index must be 0..%d", x->name, base, rp->count - 1);
        return i + idx;
    }
    char valid[512] = "";
    for (int i = 0; i < d->n_rings; i++) if (d->rings[i].name) {
        if (*valid) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
        strncat(valid, d->rings[i].name, sizeof valid - strlen(valid) - 1);
    }
    return fail(m, "%s (%s) has no ring port '%s'; valid: %s", x->name, d->name, port, valid);
}

static const np_ring_port_t *slot_port(const np_block_desc_t *d, int slot, int *idx) {
    for (int i = slot; i >= 0; i--) if (d->rings[i].name) { *idx = slot - i; return &d->rings[i]; }
    return NULL;
}

int np_bind_ring(np_t *m, int inst, const char *port, int ring) {
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    if (m->started) return fail(m, "machine already started");
    if (ring < 0 || ring >= m->n_ring) return fail(m, "%s: ring %d does not exist", x->name, ring);
    int s = ring_slot(m, x, port);
    if (s < 0) return -1;
    int k;
    const np_ring_port_t *rp = slot_port(x->d, s, &k);
    np_ring_t *r = &m->ring[ring];
    if (rp->format && *rp->format && *r->format && strcmp(rp->format, r->format))
        return fail(m, "%s: port %s carries %s entries but ring %s holds %s", x->name, port, rp->format, r->name, r->format);
    if (rp->format && *rp->format) {
        int f = np_format_find(rp->format);
        if (f >= 0 && np_format_words(f) > r->words)
            return fail(m, "%s: port %s needs %d-word entries, ring %s has %d", x->name, port, np_format_words(f), r->name, r->words);
    }
    x->ring[s] = ring;
    return 0;
}

static int named_index(np_t *m, np_inst_t *x, const np_named_t *arr, int n, const char *name, const char *what) {
    for (int i = 0; i < n; i++) if (arr[i].name && strcmp(arr[i].name, name) == 0) return i;
    char valid[512] = "";
    for (int i = 0; i < n; i++) if (arr[i].name) {
        if (*valid) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
        strncat(valid, arr[i].name, sizeof valid - strlen(valid) - 1);
    }
    return fail(m, "%s (%s) has no %s '%s'; valid: %s", x->name, x->d->name, what, name, *valid ? valid : "none");
}

int np_bind_mem(np_t *m, int inst, const char *port, int mem) {
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    if (mem < 0 || mem >= m->n_mem) return fail(m, "%s: memory %d does not exist", x->name, mem);
    int i = named_index(m, x, x->d->mems, x->d->n_mems, port, "memory port");
    if (i < 0) return -1;
    x->mem[i] = mem;
    return 0;
}

int np_bind_table(np_t *m, int inst, const char *port, int table) {
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    if (table < 0 || table >= m->n_tbl) return fail(m, "%s: table %d does not exist", x->name, table);
    int i = named_index(m, x, x->d->tables, x->d->n_tables, port, "table port");
    if (i < 0) return -1;
    x->table[i] = table;
    return 0;
}

static int param_index(np_t *m, np_inst_t *x, const char *name) {
    const np_block_desc_t *d = x->d;
    for (int i = 0; i < d->n_params; i++) if (d->params[i].name && strcmp(d->params[i].name, name) == 0) return i;
    char valid[768] = "";
    for (int i = 0; i < d->n_params; i++) if (d->params[i].name) {
        if (*valid) strncat(valid, ", ", sizeof valid - strlen(valid) - 1);
        strncat(valid, d->params[i].name, sizeof valid - strlen(valid) - 1);
    }
    return fail(m, "%s (%s) has no parameter '%s'; valid: %s", x->name, d->name, name, *valid ? valid : "none");
}

int np_set_param(np_t *m, int inst, const char *name, int64_t value) {
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    if (m->started) return fail(m, "%s: parameters are set before the machine starts", x->name);
    int i = param_index(m, x, name);
    if (i < 0) return -1;
    const np_param_desc_t *pd = &x->d->params[i];
    if (value < pd->min || value > pd->max)
        return fail(m, "%s: %s = %lld is out of range %lld..%lld %s", x->name, name, (long long)value,
                    (long long)pd->min, (long long)pd->max, pd->unit ? pd->unit : "");
    x->param[i] = value;
    return 0;
}

int np_get_param(np_t *m, int inst, const char *name, int64_t *value) {
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    int i = param_index(m, x, name);
    if (i < 0) return -1;
    *value = x->param[i];
    return 0;
}

int np_add_me(np_t *m, int inst, int nthreads, const char *name) {
    if (m->started) return fail(m, "machine already started");
    np_inst_t *x = inst_get(m, inst);
    if (!x) return -1;
    if (nthreads < 1 || nthreads > NP_THREADS_PER_ME_MAX)
        return fail(m, "ME %s: threads must be 1..%d, got %d", name, NP_THREADS_PER_ME_MAX, nthreads);
    if (GROW(m->me, m->cap_me, m->n_me)) return fail(m, "out of memory");
    np_me_t *e = &m->me[m->n_me];
    memset(e, 0, sizeof *e);
    e->inst = inst; e->nthreads = nthreads; e->tid0 = m->n_thr; e->running = -1; e->last = nthreads - 1;
    snprintf(e->name, sizeof e->name, "%s", name ? name : x->name);
    np_thread_t *nt = realloc(m->thr, (size_t)(m->n_thr + nthreads) * sizeof *nt);
    if (!nt) return fail(m, "out of memory");
    m->thr = nt;
    for (int i = 0; i < nthreads; i++) {
        np_thread_t *t = &m->thr[m->n_thr];
        memset(t, 0, sizeof *t);
        t->id = m->n_thr; t->me = m->n_me; t->idx = i; t->inst = x; t->run = x->d->run;
        t->local = calloc(1, x->d->locals ? x->d->locals : 8);
        if (!t->local) return fail(m, "out of memory");
        t->state = NP_TS_READY; t->pkt = NP_NO_PKT;
        m->n_thr++;
    }
    x->threads += nthreads;
    return m->n_me++;
}

/* Signals are allocated at start-up (block init, ports); ids are dense. */
int np_sig_alloc(np_t *m, int n) {
    int base = m->n_sig;
    int need = m->n_sig + n;
    if (need > m->cap_sig) {
        int nc = m->cap_sig ? m->cap_sig : 64;
        while (nc < need) nc *= 2;
        uint8_t *s = realloc(m->sig, (size_t)nc);
        int *w = realloc(m->sig_waiter, (size_t)nc * sizeof(int));
        if (!s || !w) { free(s == m->sig ? NULL : s); return fail(m, "out of memory"); }
        m->sig = s; m->sig_waiter = w; m->cap_sig = nc;
    }
    for (int i = base; i < need; i++) { m->sig[i] = 0; m->sig_waiter[i] = -1; }
    m->n_sig = need;
    return base;
}

static int wq_init(np_wq_t *q, int cap) {
    q->buf = calloc((size_t)cap + 1, sizeof *q->buf);
    q->head = q->n = 0; q->cap = cap + 1;
    return q->buf ? 0 : -1;
}

int np_start(np_t *m) {
    if (m->started) return fail(m, "machine already started");
    if (m->p.tbuf_elements < 1 || m->p.tbuf_elements >= NP_MAX_TBUF)
        return fail(m, "TBUF elements per port must be 1..%d", NP_MAX_TBUF - 1);
    if (m->hw_ring[NP_HW_BUFQ] < 0) return fail(m, "the buffer free list (hardware ring bufq) is not wired");
    if (m->ring[m->hw_ring[NP_HW_BUFQ]].cap < m->p.n_buffers)
        return fail(m, "buffer free queue smaller than the buffer count");
    if (m->n_thr > 65535) return fail(m, "too many threads");
    /* every instance: required ring ports bound, memory and table ports bound */
    for (int i = 0; i < m->n_inst; i++) {
        np_inst_t *x = m->inst[i];
        const np_block_desc_t *d = x->d;
        for (int s = 0; s < d->n_rings; s++) {
            const np_ring_port_t *rp = &d->rings[s];
            if (rp->name && !rp->optional && x->ring[s] < 0)
                return fail(m, "%s (%s): ring port %s is not bound", x->name, d->name, rp->name);
        }
        for (int k = 0; k < d->n_mems; k++)
            if (d->mems[k].name && x->mem[k] < 0) return fail(m, "%s (%s): memory port %s is not bound", x->name, d->name, d->mems[k].name);
        for (int k = 0; k < d->n_tables; k++)
            if (d->tables[k].name && x->table[k] < 0) return fail(m, "%s (%s): table port %s is not bound", x->name, d->name, d->tables[k].name);
    }
    m->ring_vis = calloc((size_t)(m->n_ring ? m->n_ring : 1), sizeof *m->ring_vis);
    m->any_waiters = calloc((size_t)(m->n_thr ? m->n_thr : 1), sizeof *m->any_waiters);
    if (!m->ring_vis || !m->any_waiters) return fail(m, "out of memory");
    for (int i = 0; i < m->n_ring; i++)
        if (wq_init(&m->ring[i].getw, m->n_thr) || wq_init(&m->ring[i].putw, m->n_thr)) return fail(m, "out of memory");
    for (int p = 0; p < m->n_port; p++) {
        if (wq_init(&m->port[p].txwait, m->n_thr)) return fail(m, "out of memory");
        m->port[p].sig_credit = np_sig_alloc(m, 1);
        if (m->port[p].sig_credit < 0) return -1;
    }
    m->started = 1;                     /* instances' init may rely on it (no more wiring) */
    for (int i = 0; i < m->n_inst; i++) {
        np_inst_t *x = m->inst[i];
        if (x->d->init && x->d->init(m, x) < 0) { m->started = 0; return -1; }
    }
    if (m->n_sig == 0 && np_sig_alloc(m, 1) < 0) { m->started = 0; return -1; }
    /* The buffer free queue starts full (handle 0 is never used: 0 means none). */
    int bqi = m->hw_ring[NP_HW_BUFQ];
    np_ring_t *bq = &m->ring[bqi];
    for (uint32_t h = 1; h < m->p.n_buffers; h++) {
        bq->buf[(bq->head + bq->count) % bq->cap * bq->words] = h;
        bq->count++;
    }
    m->ring_vis[bqi] = bq->count;
    bq->st.count = bq->count;
    bq->st.hwm = bq->count;           /* the free queue's high-water mark starts at its fill */
    m->n_free_bufs = m->p.n_buffers - 1;
    return 0;
}

int np_fx_bufq_fill(np_t *m, uint32_t *handles, int max) {
    int n = 0;
    for (uint32_t h = 1; h < m->p.n_buffers && n < max; h++) handles[n++] = h;
    return n;
}

/* ---- buffers: per-port accounting (input-port buffer shares) ---- */
void np_buf_taken(np_t *m, uint32_t h) {
    m->n_free_bufs--;
    np_desc_t *d = &m->desc[h];
    if (d->src == NP_SRC_RX && d->in_port < m->n_port) m->port[d->in_port].bufs_held++;
}
void np_buf_returned(np_t *m, uint32_t h) {
    m->n_free_bufs++;
    np_desc_t *d = &m->desc[h];
    if (d->src == NP_SRC_RX && d->in_port < m->n_port && m->port[d->in_port].bufs_held) m->port[d->in_port].bufs_held--;
}

/* ---- traffic in ---- */
/* One frame into its port's input queue; `data` is the frame's malloc'd copy,
 * which the queue takes (freed here on error). `i` names it in errors. */
static int feed_one(np_t *m, int i, uint64_t t, uint8_t port, uint32_t len, uint32_t meta, uint64_t id,
                    uint8_t *data) {
    const char *why = NULL;
    if (port >= m->n_port) { np_in_free(data, len); return fail(m, "frame %d: port %d does not exist (ports 0..%d)", i, port, m->n_port - 1); }
    /* A frame whose first bit arrived in the past may still be offered while its
     * reception is not over (first bit + wire time >= now): a receiver that
     * learns of a frame only when its sender finished it (conservative network
     * synchronisation) gives it its true arrival time. A bus-fed port's frame
     * (np_port_set_bus) is received whole at its cycle: never in the past. */
    uint64_t w = m->port[port].rx_bus ? 0 : np_fx_wire_sub(m, port, len);
    if (t < m->now && (t * NP_SUB + w + NP_SUB - 1) / NP_SUB < m->now) {
        np_in_free(data, len);
        return fail(m, "frame %d: arrival cycle %llu is before the current cycle %llu and its reception "
                    "would have ended already", i, (unsigned long long)t, (unsigned long long)m->now);
    }
    if (len > 16384) { np_in_free(data, len); return fail(m, "frame %d: %u bytes is longer than any Ethernet frame", i, len); }
    np_port_t *p = &m->port[port];
    if (p->inq_n) {
        np_inframe_t *last = &p->inq[(p->inq_head + p->inq_n - 1) % p->inq_cap];
        if (t < last->t) { np_in_free(data, len); return fail(m, "frame %d: port %d times must not decrease", i, port); }
    }
    if (p->inq_n == p->inq_cap) {
        np_inframe_t *nq = calloc(p->inq_cap * 2, sizeof *nq);
        if (!nq) why = "out of memory";
        else {
            for (uint32_t k = 0; k < p->inq_n; k++) nq[k] = p->inq[(p->inq_head + k) % p->inq_cap];
            free(p->inq); p->inq = nq; p->inq_head = 0; p->inq_cap *= 2;
        }
    }
    if (why) { np_in_free(data, len); return fail(m, "%s", why); }
    np_inframe_t *f = &p->inq[(p->inq_head + p->inq_n) % p->inq_cap];
    f->t = t; f->len = len; f->meta = meta; f->id = id; f->data = data;
    p->inq_n++;
    if (id + 1 > m->next_id) m->next_id = id + 1;
    return 0;
}

int np_feed(np_t *m, int n, const uint64_t *t, const uint8_t *ports, const uint32_t *lens,
            const uint64_t *offs, const uint8_t *data, const uint32_t *meta, uint64_t first_id) {
    /* NP_NO_PKT: number the frames from the machine's own count (np_next_id) */
    uint64_t first = first_id == NP_NO_PKT ? m->next_id : first_id;
    for (int i = 0; i < n; i++) {
        uint8_t *d = np_in_alloc(lens[i]);
        if (!d) return fail(m, "out of memory");
        if (lens[i] <= 16384) memcpy(d, data + offs[i], lens[i]);
        if (feed_one(m, i, t[i], ports[i], lens[i], meta ? meta[i] : 0, first + (uint64_t)i, d) < 0) return -1;
    }
    return 0;
}

/* The spare buffers: one stack per thread (a thread runs its machines one at a time), most recently
 * released first -- a frame's bytes are copied into memory the cache still holds. Freed at the
 * thread's exit (pool_key's destructor). */
static __thread struct { uint8_t *buf[NP_IN_POOL]; uint32_t n; } *in_pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_free(void *p) {
    __typeof__(in_pool) q = p;
    for (uint32_t k = 0; k < q->n; k++) free(q->buf[k]);
    free(q);
}
static void pool_key_make(void) { pthread_key_create(&pool_key, pool_free); }

uint8_t *np_in_alloc(uint32_t len) {
    if (len > NP_BUF_SIZE) return malloc(len);
    if (in_pool && in_pool->n) return in_pool->buf[--in_pool->n];
    return malloc(NP_BUF_SIZE);
}

void np_in_free(uint8_t *data, uint32_t len) {
    if (!data) return;
    if (len > NP_BUF_SIZE) { free(data); return; }
    if (!in_pool) {
        pthread_once(&pool_once, pool_key_make);
        if (!(in_pool = calloc(1, sizeof *in_pool))) { free(data); return; }
        pthread_setspecific(pool_key, in_pool);
    }
    if (in_pool->n < NP_IN_POOL) in_pool->buf[in_pool->n++] = data;
    else free(data);
}

int np_feed_owned(np_t *m, uint64_t t, uint8_t port, uint32_t len, uint8_t *data) {
    return feed_one(m, 0, t, port, len, 0, m->next_id, data);
}

uint64_t np_next_id(np_t *m) { return m->next_id; }
uint64_t np_take_ids(np_t *m, uint64_t n) { uint64_t f = m->next_id; m->next_id += n; return f; }
/* np_ticks -> ns: the TSC's rate against CLOCK_MONOTONIC, measured from the
 * first run to now (an invariant TSC keeps one rate; a longer span, a more
 * exact ratio). Without a TSC np_ticks are ns already. */
static struct { int set; uint64_t ns0, t0; } calib;
static uint64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}
void np_ticks_calibrate(void) {
    if (!calib.set) { calib.ns0 = mono_ns(); calib.t0 = np_ticks(); calib.set = 1; }
}
static double ns_per_tick(void) {
#if defined(__x86_64__) || defined(__i386__)
    uint64_t ns = mono_ns(), t = np_ticks();
    if (!calib.set || t <= calib.t0 || ns <= calib.ns0) return 0.0;
    return (double)(ns - calib.ns0) / (double)(t - calib.t0);
#else
    return 1.0;
#endif
}

uint64_t np_run_wall_ns(np_t *m) {
    uint64_t ticks = m->run_ticks > m->hook_ticks ? m->run_ticks - m->hook_ticks : 0;
    return (uint64_t)((double)ticks * ns_per_tick());
}
void np_set_tx_hook(np_t *m, np_tx_hook_fn fn, void *ctx) { m->tx_hook = fn; m->tx_hook_ctx = ctx; }

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
        if (out_port < 0 || out_port >= m->n_plugin || len >= NP_PL_MSG)
            return fail(m, "a plug-in message needs a plug-in slot 0..%d and at most %d characters", m->n_plugin - 1, NP_PL_MSG - 1);
    } else if (len < 14 || len > m->p.max_frame) return fail(m, "injected frame of %u bytes: must be 14..%u", len, m->p.max_frame);
    if (!(flags & NP_INJ_MSG) && (out_port >= m->n_port || in_port >= m->n_port))
        return fail(m, "injected frame names a port that does not exist");
    if ((flags & NP_INJ_PASSTHRU) && (out_port < 0 || np_qid_port(qid) != out_port))
        return fail(m, "a pass-through injection needs an output port and a QID encoded for it (qid | (port+1) << 13)");
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
 * HOST_IN ring entry the control processor's transmit thread will get.
 * Free staging slots are kept on a list threaded through their flags. */
int np_fx_take_inject(np_t *m, uint32_t *entry) {
    if (!m->injq_n) return -1;
    np_inj_t j = m->injq[m->injq_head];
    m->injq_head = (m->injq_head + 1) % m->injq_cap; m->injq_n--;
    np_inj_t *hi = m->host_in.p;
    uint64_t slot = m->host_in.n;
    /* reuse the oldest free slot at the end of the table first (cheap, bounded) */
    while (m->host_in.n && !hi[m->host_in.n - 1].data) m->host_in.n--;
    slot = m->host_in.n;
    if (!np_vec_push(&m->host_in, 1)) return -1;
    hi = m->host_in.p;
    hi[slot] = j;
    if (!(j.flags & NP_INJ_MSG)) m->ctr.injected++;      /* a control message is not a packet */
    np_host_in_t e = { .slot = (uint32_t)slot };
    np_pack_host_in(entry, &e);
    return NP_W_host_in;
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
 * place it in receive-buffer elements, return the RBUF status entry.
 * Oversize: a frame's data (without FCS) may hold the port's MTU plus the
 * 14-byte Ethernet header, plus 4 bytes if it carries an 802.1Q tag. */
int np_fx_rx_accept(np_t *m, int port, uint64_t t_end, uint32_t *entry) {
    np_port_t *p = &m->port[port];
    if (!p->inq_n) return -1;
    np_inframe_t f = p->inq[p->inq_head];
    p->inq_head = (p->inq_head + 1) % p->inq_cap; p->inq_n--;
    m->ctr.arrived++;
    p->st.rx_pkts++; p->st.rx_bytes += f.len;
    int reason = -1;
    uint32_t ne = np_fx_rbuf_elems(m, f.len);
    int tagged = f.len >= 18 && f.data[12] == 0x81 && f.data[13] == 0x00;
    if (f.len < 14) reason = NP_DROP_RUNT;
    else if (f.len > p->mtu + 14 + (tagged ? 4 : 0) || f.len > m->p.max_frame) reason = NP_DROP_GIANT;
    else if (ne > m->rbuf_free_elems) reason = NP_DROP_RBUF_FULL;
    if (reason >= 0) {
        p->st.rx_drops++;
        m->now = t_end;
        np_count_drop(m, reason, f.id, port, NP_INST_MSF);
        np_in_free(f.data, f.len);
        return -1;
    }
    uint32_t slot = 0;
    while (m->rbuf[slot].used) slot++;     /* there are as many slots as elements */
    np_rbuf_slot_t *s = &m->rbuf[slot];
    s->used = 1; s->data = f.data; s->len = f.len; s->meta = f.meta; s->id = f.id;
    s->port = (uint8_t)port; s->elems = ne; s->t_end = t_end;
    m->rbuf_free_elems -= ne;
    np_rbuf_status_t st = { .element = slot, .port = (uint32_t)port, .len = f.len };
    np_pack_rbuf_status(entry, &st);
    return NP_W_rbuf_status;
}

void np_fx_rbuf_release(np_t *m, uint32_t slot) {
    np_rbuf_slot_t *s = &m->rbuf[slot];
    if (!s->used) return;
    np_in_free(s->data, s->len); s->data = NULL;
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

void np_drop_h(np_t *m, uint32_t h, int reason, int inst) {
    np_end_pkt(m, h);
    np_count_drop(m, reason, m->desc[h].pkt, m->desc[h].in_port, inst);
}

/* Queue-manager pacing: the time a frame takes at a configured rate,
 * counting (with framing) the same wire bytes as the link (FCS, minimum
 * frame, preamble and inter-frame gap) so a port at line rate is paced
 * exactly at line rate. */
uint64_t np_pace_sub(np_t *m, uint64_t kbps, uint32_t len, int framing) {
    return bytes_sub(m, frame_bytes(m, len, framing), kbps * 1000);
}

void np_count_drop(np_t *m, int reason, uint64_t pkt, int port, int inst) {
    m->drops[reason]++;
    m->ctr.dropped++;
    if (m->record_drops) {
        np_drop_rec_t *d = np_vec_push(&m->drop_out, 1);
        if (d) { d->pkt = pkt; d->t = m->now; d->reason = (uint32_t)reason; d->port = (uint16_t)port; d->inst = (uint16_t)inst; }
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
    uint8_t *c = NULL;
    if (m->capture_on) {
        c = np_vec_push(&m->tx_cap, len);
        if (c) {
            r->cap_off = (uint64_t)(c - (uint8_t *)m->tx_cap.p);
            r->flags |= 4;
        }
    }
    uint8_t tmp[NP_BUF_SIZE];               /* a frame lives in one buffer: at most NP_BUF_SIZE bytes */
    if (!c && m->tx_hook && len <= NP_BUF_SIZE) c = tmp;   /* the hook needs the bytes even when not captured */
    if (c) {
        const uint8_t *pd = np_pkt_data(m, h);
        if (d->flags & NP_DF_KEEP_L2) memcpy(c, pd, len);
        else { memcpy(c, d->l2, 14); memcpy(c + 14, pd + 14, len - 14); }
    }
    if (m->tx_hook && c) {
        /* the hook hands the frame to another node: message passing, not this
         * machine's simulation, so its time is taken out of np_run_wall_ns */
        uint64_t a = np_ticks();
        m->tx_hook(m->tx_hook_ctx, m, r, c);
        m->hook_ticks += np_ticks() - a;
    }
}

/* The control processor hands a packet to the host: op->words is the ring
 * entry it took (format exc), op->target the ring. */
static void host_record(np_t *m, const np_op_t *op, uint64_t now) {
    np_exc_t e;
    np_unpack_exc(op->words, &e);
    uint32_t h = e.handle;
    np_desc_t *d = &m->desc[h];
    np_end_pkt(m, h);
    m->ctr.to_host++;
    /* the primary reason: the lowest exception bit set, else the extension code */
    int reason = NP_EXC_NONE;
    for (int b = 0; b < 6; b++) if (e.exc_bits & (1u << b)) { reason = NP_EXC_TTL + b; break; }
    if (reason == NP_EXC_NONE && e.ext) reason = NP_EXC_EXT0 + (int)e.ext - 1;
    if (reason >= NP_EXC_COUNT) reason = NP_EXC_NONE;
    m->excs[reason]++;
    np_host_rec_t *r = np_vec_push(&m->host_out, 1);
    uint8_t *c = np_vec_push(&m->host_cap, d->len);
    if (!r || !c) return;
    r = (np_host_rec_t *)m->host_out.p + m->host_out.n - 1;   /* host_out may have moved */
    memcpy(c, np_pkt_data(m, h), d->len);
    memset(r, 0, sizeof *r);
    r->pkt = d->pkt; r->t_rx = d->t_rx; r->t_host = now; r->len = d->len;
    r->cap_off = (uint64_t)(c - (uint8_t *)m->host_cap.p);
    r->ring = op->target; r->meta = d->meta; r->nh_ip = d->nh_ip; r->src = d->src;
    memcpy(r->entry, op->words, NP_W_exc * sizeof(uint32_t));
    m->host_pending = 1;
}

void np_fx_host(np_t *m, const np_op_t *op, uint64_t now) {
    m->now = now;
    host_record(m, op, now);
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
    if (!(hi->flags & NP_INJ_MSG))
        np_count_drop(m, NP_DROP_HOST_IN_FULL, hi->id, hi->in_port < 0 ? 0 : hi->in_port, NP_INST_MSF);
    free(hi->data); hi->data = NULL;
}

void np_fx_trace(np_t *m, int tid, const np_op_t *op, uint64_t t_issue, uint64_t t_done, uint32_t unloaded) {
    np_trace_rec_t *r = np_vec_push(&m->trace_out, 1);
    if (!r) return;
    np_thread_t *t = &m->thr[tid];
    memset(r, 0, sizeof *r);
    r->pkt = op->pkt; r->t_issue = t_issue; r->t_done = t_done; r->unloaded = unloaded;
    r->me = (uint16_t)t->me; r->thread = (uint8_t)t->idx; r->inst = (uint16_t)t->inst->id;
    r->op = (uint8_t)op->kind; r->flags = (uint8_t)op->flags; r->target = op->target;
}

void np_fx_ring_put(np_t *m, int ring, const uint32_t *words, uint32_t nwords, uint64_t now) {
    np_ringtrace_rec_t *r = np_vec_push(&m->ring_out, 1);
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->t = now; r->ring = (uint32_t)ring; r->nwords = nwords > 8 ? 8 : nwords;
    memcpy(r->words, words, r->nwords * sizeof(uint32_t));
}

/* ---- outputs ---- */
void np_set_trace(np_t *m, int on) { m->trace_on = on; }
void np_set_capture(np_t *m, int on) { m->capture_on = on; }
void np_set_record_drops(np_t *m, int on) { m->record_drops = on; }
void np_set_ring_trace(np_t *m, int on) { m->ring_trace_on = on; }

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
int np_take_ring_trace(np_t *m, np_ringtrace_rec_t **recs) { *recs = m->ring_out.p; return (int)m->ring_out.n; }
uint64_t np_outputs_pending(np_t *m) {
    return m->tx_out.n + m->host_out.n + m->drop_out.n + m->trace_out.n + m->ring_out.n;
}
void np_clear_outputs(np_t *m) {
    m->tx_out.n = m->tx_cap.n = m->host_out.n = m->host_cap.n = m->drop_out.n = m->trace_out.n = m->ring_out.n = 0;
    m->host_pending = 0;
}

/* ---- statistics ---- */
void np_get_counters(np_t *m, np_counters_t *c) {
    *c = m->ctr;
    c->double_end = m->double_end;
    c->in_flight_hint = m->ctr.arrived + m->ctr.injected + m->ctr.copies + m->ctr.created
                        - m->ctr.transmitted - m->ctr.to_host - m->ctr.dropped;
}
uint64_t np_drop_count(np_t *m, int r) { return (r >= 0 && r < NP_DROP_COUNT) ? m->drops[r] : 0; }
uint64_t np_exc_count(np_t *m, int r) { return (r >= 0 && r < NP_EXC_COUNT) ? m->excs[r] : 0; }
void np_port_stats(np_t *m, int p, np_port_stats_t *s) { *s = m->port[p].st; }
void np_me_stats(np_t *m, int e, np_me_stats_t *s) { *s = m->me[e].st; }
void np_ring_stats(np_t *m, int r, np_ring_stats_t *s) { *s = m->ring[r].st; }
void np_srv_stats(np_t *m, int v, np_srv_stats_t *s) { *s = m->srv[v].st; }
int np_inst_counters(np_t *m, int inst, uint64_t *out, int max) {
    if (inst < 0 || inst >= m->n_inst) return -1;
    np_inst_t *x = m->inst[inst];
    int n = x->d->n_counters < max ? x->d->n_counters : max;
    for (int i = 0; i < n; i++) out[i] = x->ctr[i];
    return n;
}
int np_n_mes(np_t *m) { return m->n_me; }
int np_n_rings(np_t *m) { return m->n_ring; }
int np_n_servers(np_t *m) { return m->n_srv; }
int np_n_mems(np_t *m) { return m->n_mem; }
int np_n_ports(np_t *m) { return m->n_port; }
int np_n_insts(np_t *m) { return m->n_inst; }
const char *np_ring_name(np_t *m, int r) { return (r >= 0 && r < m->n_ring) ? m->ring[r].name : NULL; }
const char *np_ring_format(np_t *m, int r) { return (r >= 0 && r < m->n_ring) ? m->ring[r].format : NULL; }
const char *np_me_name(np_t *m, int e) { return (e >= 0 && e < m->n_me) ? m->me[e].name : NULL; }
int np_me_inst(np_t *m, int e) { return (e >= 0 && e < m->n_me) ? m->me[e].inst : -1; }
int np_me_threads(np_t *m, int e) { return m->me[e].nthreads; }
const char *np_inst_name(np_t *m, int i) { return (i >= 0 && i < m->n_inst) ? m->inst[i]->name : NULL; }
int np_inst_type(np_t *m, int i) { return (i >= 0 && i < m->n_inst) ? m->inst[i]->type : -1; }
uint64_t np_buffers_free(np_t *m) { return m->n_free_bufs; }
void *np_inst_state(np_t *m, int inst, int type) {
    if (inst < 0 || inst >= m->n_inst || m->inst[inst]->type != type) return NULL;
    return m->inst[inst]->state;
}

/* An independent count of the packets still inside the router: frames in
 * receive buffers, staged injections, and descriptors holding a live packet. */
uint64_t np_packets_in_flight(np_t *m) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < m->p.rbuf_elements; i++) n += m->rbuf[i].used == 1;   /* 2: Rx moved it to a buffer */
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
uint32_t *np_ring_vis(np_t *m) { return m->ring_vis; }
int np_n_signals(np_t *m) { return m->n_sig; }
void np_block_step(np_t *m, int tid, uint64_t now) {
    np_thread_t *t = &m->thr[tid];
    m->now = now;
    t->op.compute = 0;
    t->run(m, t);
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
int np_hw_ring(np_t *m, int which) { return (which >= 0 && which < NP_HW_COUNT) ? m->hw_ring[which] : -1; }
void np_get_params(np_t *m, np_params_t *p) { *p = m->p; }
int np_fx_trace_on(np_t *m) { return m->trace_on; }
int np_fx_ring_trace_on(np_t *m) { return m->ring_trace_on; }
int np_started(np_t *m) { return m->started; }
