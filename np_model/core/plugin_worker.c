/* plugin_worker.c -- the plug-in API, run where the plug-in's code runs.
 *
 * This is the call side of plugin_rt.c's cost model: a call runs to
 * completion while every basic block it enters adds its instruction count
 * (api_bb), every API call adds its own cost (VRHW_COST_*), and every
 * memory reference, allocation and exit is appended to the call's record
 * with the ALU cycles spent before it. It works only on the shared region
 * (plugin_worker.h): the call's packet, the held store, the plug-in's SRAM,
 * scratch and counters -- never on the simulator's machine.
 *
 * Compiled into the worker program (plugins/runtime/worker.c), where a
 * system-call filter makes any system call the plug-in attempts raise
 * SIGSYS, and into the core for the opt-in unsafe in-process mode.
 * A call is abandoned (siglongjmp back to vrhw_serve) when it exceeds its
 * cycle budget or its record is full (VRHW_BUDGET), faults (SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGABRT, SIGTRAP: VRHW_FAULT) or attempts a system call
 * (SIGSYS: VRHW_SYSCALL). The handlers run on an alternate stack, so
 * runaway recursion is caught too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "plugin_worker.h"

/* API costs in ME cycles [estimate: instructions of the NPR API's macros] */
#define VRHW_COST_META 2
#define VRHW_COST_MEM 4
#define VRHW_COST_EXIT 6
#define VRHW_COST_ALLOC 10
#define VRHW_COST_LOCAL 3

#define PSEUDO VRHW_PSEUDO

/* ---- layout ---- */
static uint64_t up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static uint64_t layout(uint64_t off[7], uint32_t n_buffers, uint32_t wcap) {
    uint64_t o = up(sizeof(vrhw_hdr_t), 4096);
    off[0] = o; o = up(o + VRHW_SRAM, 64);                               /* SRAM */
    off[1] = o; o = up(o + VRHW_SCRATCH, 64);                            /* scratch */
    off[2] = o; o = up(o + VRHW_COUNTERS * 4u, 64);                      /* counters */
    off[3] = o; o = up(o + (uint64_t)wcap * 4u, 64);                     /* cost table keys */
    off[4] = o; o = up(o + (uint64_t)wcap * 2u, 4096);                   /* cost table values */
    off[5] = o; o = up(o + (uint64_t)n_buffers * 4u, 4096);              /* slot_of */
    off[6] = o; o = up(o + (uint64_t)n_buffers * sizeof(vrhw_pkt_t), 4096);   /* held store */
    return o;
}

uint64_t vrhw_layout(vrhw_hdr_t *H, uint32_t n_buffers, uint32_t wcap) {
    uint64_t off[7];
    H->size = layout(off, n_buffers, wcap);
    H->off_sram = off[0]; H->off_scratch = off[1]; H->off_ctr = off[2]; H->off_wk = off[3];
    H->off_wv = off[4]; H->off_slot_of = off[5]; H->off_store = off[6];
    H->n_buffers = n_buffers; H->wcap = wcap;
    return H->size;
}

uint64_t vrhw_region_size(uint32_t n_buffers, uint32_t wcap) {
    uint64_t off[7];
    return layout(off, n_buffers, wcap);
}

int vrhw_attach(vrhw_t *W, void *region, uint64_t size, char *err, size_t errlen) {
    vrhw_hdr_t *H = region;
    uint64_t off[7];
    memset(W, 0, sizeof *W);
    if (size < sizeof *H || H->magic != VRHW_MAGIC || H->version != VRHW_VERSION) {
        snprintf(err, errlen, "the shared region is not a plug-in mailbox of version %u", VRHW_VERSION);
        return -1;
    }
    uint32_t nb = H->n_buffers, wcap = H->wcap;
    if (!wcap || (wcap & (wcap - 1)) || H->n_entries > VRHW_MAX_ENTRIES || layout(off, nb, wcap) != H->size
        || H->size > size || off[0] != H->off_sram || off[1] != H->off_scratch || off[2] != H->off_ctr
        || off[3] != H->off_wk || off[4] != H->off_wv || off[5] != H->off_slot_of || off[6] != H->off_store) {
        snprintf(err, errlen, "the shared region's layout does not match this runtime");
        return -1;
    }
    uint8_t *b = region;
    W->H = H;
    W->sram = b + off[0]; W->scratch = b + off[1]; W->ctr = (uint32_t *)(b + off[2]);
    W->wk = (uint32_t *)(b + off[3]); W->wv = (uint16_t *)(b + off[4]);
    W->slot_of = (uint32_t *)(b + off[5]); W->store = (vrhw_pkt_t *)(b + off[6]);
    W->n_buffers = nb; W->wcap = wcap; W->wdefault = H->wdefault; W->id = H->id; W->n_entries = H->n_entries;
    for (uint32_t i = 0; i < W->n_entries; i++) {
        W->sig[i] = H->entry[i].sig;
        if (W->sig[i] >= VRHW_SIG_COUNT) { snprintf(err, errlen, "entry %u has an unknown signature", i); return -1; }
    }
    return 0;
}

/* ---- the record ---- */
static vrhw_op_t *rec_op(vrhw_t *W, int kind) {
    vrhw_rec_t *R = &W->H->r;
    if (R->n >= VRHW_MAX_OPS - 1)             /* too many references (one slot kept for the default exit) */
        siglongjmp(W->jmp, VRHW_BUDGET);
    vrhw_op_t *o = &R->op[R->n++];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    o->compute = (uint32_t)W->cyc;
    W->cyc = 0;
    return o;
}

static void charge(vrhw_t *W, uint32_t c) {
    W->cyc += c;
    W->total += c;
    if (W->total > W->q.budget) siglongjmp(W->jmp, VRHW_BUDGET);
}

static void rec_mem(vrhw_t *W, int mem, int write, uint64_t addr, uint32_t bytes) {
    vrhw_op_t *o = rec_op(W, VRHW_OP_MEM);
    o->mem = (uint8_t)mem;
    o->flags = write ? 1 : 0;
    o->addr = addr;
    o->bytes = bytes;
    if (!write) W->lat += W->q.lat[mem];      /* waited: the time a timestamp sees */
}

/* The basic-block hook: the instruction count of the block just entered. */
static void api_bb(void *ctx, uintptr_t pc) {
    vrhw_t *W = ctx;
    uint32_t key = (uint32_t)(pc - W->base), w = W->wdefault;
    uint32_t mask = W->wcap - 1;
    uint32_t i = (key * 2654435761u) & mask;
    for (uint32_t probes = 0; W->wk[i] && probes < W->wcap; probes++) {
        if (W->wk[i] == key + 1) { w = W->wv[i]; break; }
        i = (i + 1) & mask;
    }
    charge(W, w);
}

/* ---- custody: which packets this call may act on ---- */
static int exited(vrhw_rec_t *R, uint32_t h) {
    uint32_t n = R->nexit < VRHW_MAX_EXITS ? R->nexit : VRHW_MAX_EXITS;
    for (uint32_t i = 0; i < n; i++) if (R->exited[i] == h) return 1;
    return 0;
}

/* 1 the call's packet, 2 a held packet, 3 a packet created in this call, 0 none */
static int owns(vrhw_t *W, uint32_t h, vrhw_pkt_t **pk) {
    vrhw_rec_t *R = &W->H->r;
    if (!h || exited(R, h)) return 0;
    if (h & PSEUDO) return (h & ~PSEUDO) < R->nnew && (h & ~PSEUDO) < VRHW_MAX_NEW ? 3 : 0;
    if (h == W->q.cur) { *pk = &W->H->cur; return 1; }
    if (h < W->n_buffers) {
        uint32_t s = W->slot_of[h];
        if (s && s <= W->n_buffers) { *pk = &W->store[s - 1]; return 2; }
    }
    return 0;
}

static int refuse(vrhw_t *W) { W->H->r.refused++; return -1; }

static int api_pkt_get(void *ctx, uint32_t h, int f) {
    vrhw_t *W = ctx;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_META);
    int own = owns(W, h, &pk);
    if (!own) return refuse(W);
    if (own == 3) {
        vrhw_new_t *n = &W->H->r.nw[h & ~PSEUDO];
        switch (f) {
        case VRH_F_LEN: return (int)n->len;
        case VRH_F_IN_PORT: return -1;
        case VRH_F_OUT_PORT: return n->out_port;
        case VRH_F_QID: return n->qid;
        case VRH_F_PTAG: return n->ptag;
        case VRH_F_FLAGS: return 2;                 /* NP_SRC_PLUGIN */
        }
        return refuse(W);
    }
    vrhw_meta_t *d = &pk->m;
    switch (f) {
    case VRH_F_LEN: return (int)d->len;
    case VRH_F_IN_PORT: return d->in_port;
    case VRH_F_OUT_PORT: return d->out_port;
    case VRH_F_QID: return d->qid;
    case VRH_F_PTAG: return d->ptag;
    case VRH_F_FLAGS: return d->src;
    }
    return refuse(W);
}

static int api_pkt_set(void *ctx, uint32_t h, int f, int v) {
    vrhw_t *W = ctx;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_META);
    int own = owns(W, h, &pk);
    if (!own) return refuse(W);
    /* a QID is encoded (queue | (port+1) << 13, the NPR's form) or a bare queue of
     * the packet's output port */
    if (f == VRH_F_QID && v >= 0) {
        uint32_t port = own == 3 ? W->H->r.nw[h & ~PSEUDO].out_port : pk->m.out_port;
        v = (int)vrhw_qid_encode((uint32_t)v, port, W->q.n_queues);
    }
    int ok = (f == VRH_F_OUT_PORT && v >= 0 && (uint32_t)v < W->q.n_port)
             || (f == VRH_F_QID && v >= 0 && vrhw_qid_ok((uint32_t)v, W->q.n_port))
             || (f == VRH_F_PTAG && v >= 0 && v < 32) || (f == VRH_F_LEN && v >= 14 && v <= VRHW_MAX_FRAME);
    if (!ok) return refuse(W);
    if (own == 3) {
        vrhw_new_t *n = &W->H->r.nw[h & ~PSEUDO];
        if (f == VRH_F_OUT_PORT) n->out_port = (uint8_t)v;
        else if (f == VRH_F_QID) n->qid = (uint16_t)v;
        else if (f == VRH_F_PTAG) n->ptag = (uint8_t)v;
        else n->len = (uint32_t)v;
        return 0;
    }
    vrhw_meta_t *d = &pk->m;
    if (f == VRH_F_LEN && d->copy) return refuse(W);       /* shares its buffer */
    if (f == VRH_F_OUT_PORT) d->out_port = (uint8_t)v;
    else if (f == VRH_F_QID) d->qid = (uint16_t)v;
    else if (f == VRH_F_PTAG) d->ptag = (uint8_t)v;
    else d->len = (uint32_t)v;
    return 0;
}

static int api_pkt_set_nh_mac(void *ctx, uint32_t h, const uint8_t *mac) {
    vrhw_t *W = ctx;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_META);
    int own = owns(W, h, &pk);
    if (!own || !mac) return refuse(W);
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v = v << 8 | mac[i];
    if (own == 3) W->H->r.nw[h & ~PSEUDO].nh_mac = v | (1ULL << 48);
    else pk->m.nh_mac = v | (1ULL << 48);
    return 0;
}

static int api_pkt_rw(void *ctx, uint32_t h, int write, unsigned off, void *buf, unsigned len) {
    vrhw_t *W = ctx;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_MEM);
    int own = owns(W, h, &pk);
    if (!own || !buf) return refuse(W);
    uint8_t *data;
    uint32_t plen;
    uint64_t addr = 0;
    if (own == 3) { data = W->H->r.nw[h & ~PSEUDO].data; plen = W->H->r.nw[h & ~PSEUDO].len; }
    else {
        if (write && pk->m.copy) return refuse(W);         /* shares its buffer */
        data = pk->data; plen = pk->m.len; addr = pk->m.addr;
    }
    if (plen > VRHW_MAX_FRAME) plen = VRHW_MAX_FRAME;
    if ((uint64_t)off + len > plen) { W->H->r.oob++; return -1; }
    if (!len) return 0;
    if (write) {
        memcpy(data + off, buf, len);
        if (own != 3) {
            if (off < pk->m.lo) pk->m.lo = off;
            if (off + len > pk->m.hi) pk->m.hi = off + len;
        }
    } else memcpy(buf, data + off, len);
    rec_mem(W, VRHW_MEM_PKT, write, addr + off, len);
    return (int)len;
}

static uint32_t api_pkt_alloc(void *ctx, unsigned len, uint32_t copy_of) {
    vrhw_t *W = ctx;
    vrhw_rec_t *R = &W->H->r;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_ALLOC);
    if (R->nnew >= VRHW_MAX_NEW) { refuse(W); return 0; }
    int src = copy_of ? owns(W, copy_of, &pk) : 0;
    if (copy_of && !src) { refuse(W); return 0; }
    if (!copy_of && (len < 14 || len > VRHW_MAX_FRAME)) { refuse(W); return 0; }
    vrhw_new_t *n = &R->nw[R->nnew];
    memset(n, 0, offsetof(vrhw_new_t, data));
    if (src == 3) {
        vrhw_new_t *s = &R->nw[copy_of & ~PSEUDO];
        *n = *s;
    } else if (src) {
        vrhw_meta_t *d = &pk->m;
        n->len = d->len > VRHW_MAX_FRAME ? VRHW_MAX_FRAME : d->len;
        n->out_port = d->out_port; n->qid = d->qid; n->ptag = d->ptag; n->nh_mac = d->nh_mac;
        n->src_h = copy_of;
        memcpy(n->data, pk->data, n->len);
        rec_mem(W, VRHW_MEM_PKT, 0, d->addr, n->len);
    } else {
        n->len = len;
        memset(n->data, 0, len);
    }
    uint32_t h = PSEUDO | R->nnew++;
    vrhw_op_t *o = rec_op(W, VRHW_OP_ALLOC);
    o->h = h;
    return h;
}

static int api_send(void *ctx, uint32_t h, int ex, int a, int b) {
    vrhw_t *W = ctx;
    vrhw_rec_t *R = &W->H->r;
    vrhw_pkt_t *pk = NULL;
    charge(W, VRHW_COST_EXIT);
    if (!owns(W, h, &pk) || ex < 0 || ex >= VRH_X_COUNT) return refuse(W);
    if (ex == VRH_X_QM) {
        /* b: an encoded QID (its port must be a, or a < 0) or a queue number of port a */
        if (b >= 0 && (uint32_t)b >= W->q.n_queues && a < 0) a = (int)((uint32_t)b >> VRHW_QID_PORT_SHIFT) - 1;
        if (a < 0 || (uint32_t)a >= W->q.n_port || b < 0) return refuse(W);
        b = (int)vrhw_qid_encode((uint32_t)b, (uint32_t)a, W->q.n_queues);
        if (!vrhw_qid_ok((uint32_t)b, W->q.n_port) || ((uint32_t)b >> VRHW_QID_PORT_SHIFT) - 1 != (uint32_t)a)
            return refuse(W);
    }
    if (ex == VRH_X_PLUGIN && (a < 0 || (uint32_t)a >= W->q.n_plugins || a >= VRHW_MAX_PLUGINS)) return refuse(W);
    if (ex == VRH_X_MUX && a >= 32) return refuse(W);
    if (R->nexit >= VRHW_MAX_EXITS) return refuse(W);
    R->exited[R->nexit++] = h;
    vrhw_op_t *o = rec_op(W, VRHW_OP_EXIT);
    o->h = h; o->sub = (uint8_t)ex; o->a = a; o->b = b;
    if (ex == VRH_X_DROP) o->a = 0;
    return 0;
}

static unsigned api_held(void *ctx) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_META);
    return W->q.nheld;
}

static int api_mem(void *ctx, int space, int write, unsigned off, void *buf, unsigned len) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_MEM);
    if ((space != VRH_M_SRAM && space != VRH_M_SCRATCH) || !buf) return refuse(W);
    uint8_t *base = space == VRH_M_SRAM ? W->sram : W->scratch;
    uint32_t size = space == VRH_M_SRAM ? VRHW_SRAM : VRHW_SCRATCH;
    if ((uint64_t)off + len > size) { W->H->r.oob++; return -1; }
    if (!len) return 0;
    if (write) memcpy(base + off, buf, len); else memcpy(buf, base + off, len);
    rec_mem(W, space == VRH_M_SRAM ? VRHW_MEM_SRAM : VRHW_MEM_SCRATCH, write,
            (uint64_t)W->id * VRHW_SRAM + off, len);
    return (int)len;
}

static void api_counter_add(void *ctx, unsigned i, uint32_t v) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_META);
    if (i >= VRHW_COUNTERS) { refuse(W); return; }
    W->ctr[i] += v;
    rec_mem(W, VRHW_MEM_SRAM, 1, (uint64_t)W->id * VRHW_SRAM + VRHW_SRAM - 64 + i * 4, 4);
}

static uint32_t api_counter_get(void *ctx, unsigned i) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_META);
    if (i >= VRHW_COUNTERS) { refuse(W); return 0; }
    return W->ctr[i];
}

static uint64_t api_timestamp(void *ctx) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    return W->q.now + W->total + W->lat;
}

static uint64_t api_cycles_per_us(void *ctx) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    return W->q.cycles_per_us;
}

static uint32_t api_random(void *ctx) {         /* the machine's xorshift64* (np_rand), state passed in and out */
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    uint64_t x = W->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    W->rng = x;
    return (uint32_t)((x * 2685821657736338717ULL) >> 32);
}

static void api_set_period(void *ctx, uint64_t cycles) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    int was = W->period != 0;
    W->period = cycles;
    if (!was && cycles) rec_op(W, VRHW_OP_SIGNAL);     /* wake the periodic thread */
}

static uint32_t api_arg(void *ctx, unsigned i) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    return i < VRHW_ARGS ? W->q.arg[i] : 0;
}

static int api_ret(void *ctx, unsigned i, uint32_t v) {
    vrhw_t *W = ctx;
    charge(W, VRHW_COST_LOCAL);
    if (i >= VRHW_RETS) return refuse(W);
    W->H->r.ret[i] = v;
    return 0;
}

int vrhw_bind(vrhw_t *W, void *dl, char *err, size_t errlen) {
    uint32_t *ver = dlsym(dl, "vrh_plugin_abi_version");
    void (*bind)(const struct vrh_api *) = (void (*)(const struct vrh_api *))dlsym(dl, "vrh_plugin_bind");
    if (!ver || *ver != VRH_ABI_VERSION || !bind) {
        snprintf(err, errlen, "it lacks the runtime stub of ABI version %d", VRH_ABI_VERSION);
        return -1;
    }
    Dl_info info;
    if (!dladdr((void *)bind, &info)) { snprintf(err, errlen, "cannot locate the plug-in in memory"); return -1; }
    W->base = (uintptr_t)info.dli_fbase;
    W->H->present = 0;
    for (uint32_t i = 0; i < W->n_entries; i++) {
        char name[VRHW_NAME];
        memcpy(name, W->H->entry[i].name, VRHW_NAME);
        name[VRHW_NAME - 1] = 0;
        if (!name[0]) continue;                       /* no such entry for this kind of module */
        void *f = dlsym(dl, name);
        Dl_info fi;                                   /* only the plug-in's own definitions count */
        if (f && dladdr(f, &fi) && (uintptr_t)fi.dli_fbase == W->base) {
            W->fn[i] = f;
            W->H->present |= 1u << i;
        }
    }
    memset(&W->api, 0, sizeof W->api);
    W->api.version = VRH_ABI_VERSION; W->api.ctx = W; W->api.bb = api_bb;
    W->api.pkt_get = api_pkt_get; W->api.pkt_set = api_pkt_set; W->api.pkt_set_nh_mac = api_pkt_set_nh_mac;
    W->api.pkt_rw = api_pkt_rw; W->api.pkt_alloc = api_pkt_alloc; W->api.send = api_send; W->api.held = api_held;
    W->api.mem = api_mem; W->api.counter_add = api_counter_add; W->api.counter_get = api_counter_get;
    W->api.timestamp = api_timestamp; W->api.cycles_per_us = api_cycles_per_us; W->api.random = api_random;
    W->api.set_period = api_set_period; W->api.arg = api_arg; W->api.ret = api_ret;
    bind(&W->api);
    return 0;
}

/* ---- faults ---- */
static __thread vrhw_t *g_in;        /* the runtime whose plug-in code is running */
static struct sigaction g_old[65];
static int g_handlers, g_worker;

static void vrhw_fault(int sig, siginfo_t *si, void *uc) {
    vrhw_t *W = g_in;
    if (W) {
        g_in = NULL;
        W->info = sig == SIGSYS ? (uint32_t)si->si_syscall : (uint32_t)sig;
        siglongjmp(W->jmp, sig == SIGSYS ? VRHW_SYSCALL : VRHW_FAULT);
    }
    if (g_worker) syscall(SYS_exit_group, VRHW_EXIT_CODE);    /* the worker itself is broken: end it */
    struct sigaction *o = &g_old[sig];            /* not ours: the previous handler */
    if (o->sa_flags & SA_SIGINFO) { if (o->sa_sigaction) o->sa_sigaction(sig, si, uc); return; }
    if (o->sa_handler == SIG_IGN) return;
    if (o->sa_handler == SIG_DFL) { signal(sig, SIG_DFL); raise(sig); return; }
    o->sa_handler(sig);
}

void vrhw_install_handlers(int worker) {
    if (g_handlers) return;
    g_worker = worker;
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
        ss.ss_size = 1 << 16;
        ss.ss_sp = malloc(ss.ss_size);
        ss.ss_flags = 0;
        if (ss.ss_sp) sigaltstack(&ss, NULL);
    }
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (!worker && (sigs[i] == SIGSYS || sigs[i] == SIGTRAP)) continue;   /* in-process: as before */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = vrhw_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, &g_old[sigs[i]]);
    }
    g_handlers = 1;
}

/* ---- calls ---- */
/* Run fn(arg) on the stack that ends at top (16-byte aligned). */
#if defined(__x86_64__)
void vrhw_on_stack(void (*fn)(void *), void *arg, void *top) __attribute__((visibility("hidden")));
__asm__(".text\n.p2align 4\n.globl vrhw_on_stack\n.hidden vrhw_on_stack\n.type vrhw_on_stack,@function\n"
        "vrhw_on_stack:\n"
        "  pushq %rbp\n  movq %rsp, %rbp\n  movq %rdx, %rsp\n  movq %rdi, %rax\n  movq %rsi, %rdi\n"
        "  callq *%rax\n  movq %rbp, %rsp\n  popq %rbp\n  ret\n"
        ".size vrhw_on_stack, .-vrhw_on_stack\n");
#define VRHW_HAVE_STACK_SWITCH 1
#elif defined(__aarch64__)
void vrhw_on_stack(void (*fn)(void *), void *arg, void *top) __attribute__((visibility("hidden")));
__asm__(".text\n.p2align 4\n.globl vrhw_on_stack\n.hidden vrhw_on_stack\n.type vrhw_on_stack,%function\n"
        "vrhw_on_stack:\n"
        "  stp x29, x30, [sp, #-16]!\n  mov x29, sp\n  mov sp, x2\n  mov x3, x0\n  mov x0, x1\n"
        "  blr x3\n  mov sp, x29\n  ldp x29, x30, [sp], #16\n  ret\n"
        ".size vrhw_on_stack, .-vrhw_on_stack\n");
#define VRHW_HAVE_STACK_SWITCH 1
#else
#define VRHW_HAVE_STACK_SWITCH 0
#endif

static void call_entry(void *arg) {
    vrhw_t *W = arg;
    uint32_t e = W->q.entry;
    void *f = W->fn[e];
    switch (W->sig[e]) {
    case VRHW_SIG_VOID: ((void (*)(void))f)(); break;
    case VRHW_SIG_PKT: ((void (*)(uint32_t))f)(W->q.cur); break;
    case VRHW_SIG_STR: ((void (*)(const char *))f)(W->H->text); break;
    case VRHW_SIG_MSG: ((void (*)(const char *, char *, int))f)(W->H->text, W->H->r.reply, (int)W->q.reply_size); break;
    }
}

void vrhw_serve(vrhw_t *W) {
    vrhw_hdr_t *H = W->H;
    vrhw_rec_t *R = &H->r;
    W->q = H->q;
    if (W->q.reply_size > VRHW_REPLY) W->q.reply_size = VRHW_REPLY;
    if (W->q.reply_size < 1) W->q.reply_size = 1;
    R->n = R->nnew = R->nexit = R->refused = R->oob = 0;
    R->reply[0] = 0;
    memset(R->ret, 0, sizeof R->ret);
    H->text[VRHW_TEXT - 1] = 0;
    W->cyc = W->total = W->lat = 0;
    W->rng = W->q.rng;
    W->period = W->q.period;
    W->info = 0;
    int st;
    if (W->q.entry >= W->n_entries || !W->fn[W->q.entry]) st = VRHW_NOENTRY;
    else {
        st = sigsetjmp(W->jmp, 0);
        if (st == 0) {
            g_in = W;
#if VRHW_HAVE_STACK_SWITCH
            if (W->stack) vrhw_on_stack(call_entry, W, W->stack + W->stack_size);
            else call_entry(W);
#else
            call_entry(W);
#endif
        }
        g_in = NULL;
    }
    R->status = (uint32_t)st;
    R->info = W->info;
    R->tail = W->cyc;
    R->cycles = W->total;
    R->rng = W->rng;
    R->period = W->period;
}
