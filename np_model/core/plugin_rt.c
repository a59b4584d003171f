/* plugin_rt.c -- running user C plug-ins on the plug-in MEs.
 *
 * COST MODEL. A plug-in call (handle_pkt_user, handle_msg,
 * plugin_periodic_user) runs to completion when its thread is dispatched,
 * while the runtime *records* what it would cost on the ME
 * (plugin_worker.c):
 *   - ALU cycles: gcc instruments every basic block of the user's code
 *     (-fsanitize-coverage=trace-pc); each block executed adds its
 *     instruction count (read from the linked object with objdump, one
 *     cycle per instruction, as the MEv2 issues one per cycle);
 *   - each API call adds a few cycles of its own (VRHW_COST_*), and each
 *     memory reference it makes -- packet bytes in DRAM, plug-in SRAM,
 *     scratch, counters, a new buffer -- is recorded in order with the ALU
 *     cycles spent before it;
 *   - each exit (to QM, Mux, another plug-in, the control processor, drop)
 *     is recorded as the ring put it is.
 * The plug-in ME's microcode (blocks/plugin.c) then *replays* the record
 * as ops: the thread computes, swaps out on every waited reference for
 * that memory's (contended) latency, and puts the packet on its ring -- so
 * a plug-in costs the ME what its code and its memory traffic cost.
 * Functional effects (bytes written, counters, plug-in memory) happen when
 * the call runs; onl_api_timestamp() adds the cycles recorded so far.
 *
 * CONTAINMENT. Each loaded plug-in runs in its own worker process
 * (plugins/runtime/worker.c): its address space holds the plug-in, the
 * API runtime and one shared region (plugin_worker.h) -- the plug-in's
 * SRAM, scratch and counters, the packets it holds, and a mailbox -- and
 * nothing of the simulator; a seccomp filter turns any system call into
 * SIGSYS. A call copies the packet (metadata and all its buffer's bytes)
 * into the mailbox, wakes the worker, waits (spinning briefly, then on a
 * futex), copies the record out and checks every count, handle, offset,
 * exit and length before applying it; a worker that writes nonsense is
 * treated as crashed. A call is abandoned, its packet dropped and counted:
 *   plugin_budget   it used more than its cycle budget (or 511 references);
 *   plugin_crash    it faulted (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
 *                   SIGTRAP), its worker died, or its record failed the checks;
 *   plugin_syscall  it attempted a system call (exit, fork, kill, sleep,
 *                   open, write, close, mmap/brk for a large malloc, ...);
 *   plugin_hang     it did not finish within the wall-clock watchdog (a
 *                   loop with no instrumented block) -- the only result
 *                   that depends on wall-clock time.
 * After a fault, system call, hang, death or bad record the worker is
 * replaced (killed; a new one runs plugin_init_user again before the next
 * call): its globals start afresh, SRAM, scratch and counters survive, and
 * the packets it held are dropped as plugin_restart. A call over budget or
 * one that divided by zero (SIGFPE) corrupted nothing and keeps its worker.
 * The cycle budget stays the primary, deterministic limit; RNG state and
 * time go in and out with each call, so a well-behaved plug-in simulates
 * exactly as it would in-process.
 *
 * UNSAFE IN-PROCESS MODE (opt-in: no worker program given): the same
 * runtime runs inside the simulator; faults are caught with signal
 * handlers and the budget holds, but a hang hangs the simulator, and
 * system calls and wild writes reach it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "npcore.h"
#include "plugin_worker.h"
#include "copt_abi.h"

_Static_assert(VRHW_MAX_FRAME == NP_MAX_FRAME, "frame size");
_Static_assert(VRHW_MAX_OPS == NP_PL_MAX_OPS && VRHW_MAX_NEW == NP_PL_MAX_NEW && VRHW_MAX_EXITS == NP_PL_MAX_EXITS,
               "record sizes");
_Static_assert(VRHW_SRAM == NP_PL_SRAM && VRHW_SCRATCH == NP_PL_SCRATCH && VRHW_COUNTERS == NP_PL_COUNTERS,
               "plug-in memory sizes");
_Static_assert(NP_PL_MSG <= VRHW_REPLY, "replies");
_Static_assert(VRHW_QID_PORT_SHIFT == NP_QID_PORT_SHIFT, "QID encoding");
_Static_assert(VRHW_ARGS == COPT_ARGS && VRHW_RETS == COPT_RETS && COPT_A_COUNT <= COPT_ARGS && COPT_R_COUNT <= COPT_RETS,
               "code-option call words");
_Static_assert(VRHW_OP_MEM == NP_PLR_MEM && VRHW_OP_ALLOC == NP_PLR_ALLOC && VRHW_OP_EXIT == NP_PLR_EXIT
               && VRHW_OP_SIGNAL == NP_PLR_SIGNAL, "op kinds");

#if defined(__x86_64__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() do { } while (0)
#endif

#define PSEUDO VRHW_PSEUDO
#define SPIN_NS 20000ull                 /* each side polls at most this long before it sleeps ... */
#define PROBE_EVERY 64                   /* ... halving that after a wait the poll did not catch, and
                                            trying again every 64 waits once it reached 0: spinning
                                            pays when the other side has a core of its own, and only then */
#define SLICE_NS 10000000ull             /* a sleeping simulator checks its worker is alive this often */
#define START_NS 10000000000ull          /* a worker has this long to start (or the watchdog if longer) */
#define MAX_CHARGE 65536u                /* most one charge can add: a block's weight or an API cost */

/* the plug-in's entry points, in the worker's entry table */
enum { E_PKT = 0, E_MSG, E_PER, E_INIT, E_COUNT };
static const vrhw_entry_t ENTRIES[E_COUNT] = {
    { "handle_pkt_user", VRHW_SIG_PKT }, { "handle_msg", VRHW_SIG_MSG },
    { "plugin_periodic_user", VRHW_SIG_VOID }, { "plugin_init_user", VRHW_SIG_STR },
};
/* an SPP code option's (code_option.h): Parse and Header Format on a packet,
 * init at load; E_INIT keeps its index so worker restarts run it the same way */
enum { E_COPT_HF = E_COUNT, E_COPT_COUNT };
static const vrhw_entry_t COPT_ENTRIES[E_COPT_COUNT] = {
    { "copt_parse", VRHW_SIG_PKT }, { "", VRHW_SIG_VOID }, { "", VRHW_SIG_VOID }, { "copt_init", VRHW_SIG_STR },
    { "copt_hf", VRHW_SIG_PKT },
};

/* how a call ended */
enum { PL_OK = 0, PL_BUDGET, PL_CRASH, PL_SYSCALL, PL_HANG, PL_DIED, PL_BAD, PL_BROKEN };

struct np_plw {
    int worker;                          /* 1: a worker process; 0: unsafe in-process */
    int copt;                            /* an SPP code option (no exits, new packets or signals) */
    uint32_t n_entries;                  /* of its entry table */
    uint32_t gen;                        /* the process generation that started the worker (see pl_ours) */
    int memfd, so_fd;
    uint8_t *map;
    uint64_t size;
    vrhw_hdr_t *H;
    vrhw_t *inproc;                      /* in-process: the call side */
    void *dl;                            /* in-process: the loaded object */
    char *program, *so_path, *args;
    pid_t pid;                           /* the worker (0: none running) */
    uint32_t seq, present;
    uint64_t watchdog_ns;
    uint64_t spin_ns;                    /* current poll before sleeping (adaptive) */
    uint32_t waits;
    uint32_t *slot_of;                   /* handle -> held-store slot + 1 (authoritative copy) */
    uint32_t *free_slots, nfree, slot_hw;
    int broken;
    char why[256];
    char ended[64];                      /* how the last worker ended */
};

static int pl_err(np_t *m, const char *fmt, const char *a, const char *b) {
    snprintf(m->err, sizeof m->err, fmt, a, b);
    return -1;
}

static uint64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static long futex(uint32_t *w, int op, uint32_t v, const struct timespec *t) {
    return syscall(SYS_futex, w, op, v, t, NULL, 0);
}

/* Polls of the worker's idle loop that take about SPIN_NS (measured once). */
static uint32_t spin_polls(void) {
    static uint32_t polls;
    if (!polls) {
        volatile uint32_t sink = 0;
        uint64_t t0 = mono_ns();
        for (uint32_t i = 0; i < 4096; i++) { sink += i; cpu_relax(); }
        uint64_t dt = mono_ns() - t0;
        uint64_t p = dt ? SPIN_NS * 4096 / dt : 4096;
        polls = (uint32_t)(p < 256 ? 256 : p > (1u << 24) ? (1u << 24) : p);
        (void)sink;
    }
    return polls;
}

/* ---- the worker process ---- */
/* A forked copy of the simulator shares the mailbox mapping with its
 * parent: it must neither talk to nor kill the parent's workers. */
static uint32_t g_gen = 1;
static void pl_forked(void) { g_gen++; }
static int pl_ours(struct np_plw *w) {
    static int registered;
    if (!registered) { pthread_atfork(NULL, NULL, pl_forked); registered = 1; }
    return w->gen == g_gen;
}

static int pl_reap(struct np_plw *w, int block) {
    if (!w->pid) return 1;
    if (!pl_ours(w)) { w->pid = 0; return 1; }
    int status = 0;
    pid_t pid = w->pid, r = waitpid(pid, &status, block ? 0 : WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
        w->pid = 0;
        if (r == pid && WIFSIGNALED(status)) snprintf(w->ended, sizeof w->ended, "killed by signal %d", WTERMSIG(status));
        else if (r > 0) snprintf(w->ended, sizeof w->ended, "exited with status %d", WEXITSTATUS(status));
        else snprintf(w->ended, sizeof w->ended, "reaped elsewhere");
        return 1;
    }
    return 0;
}

static void pl_kill(struct np_plw *w) {
    if (!w->pid) return;
    if (!pl_ours(w)) { w->pid = 0; return; }
    kill(w->pid, SIGKILL);
    pl_reap(w, 1);
}

enum { WT_OK = 0, WT_TIMEOUT, WT_DIED };

/* Wait until the worker finished request seq, it died, or limit_ns passed. */
static int pl_wait(struct np_plw *w, uint32_t seq, uint64_t limit_ns) {
    vrhw_hdr_t *H = w->H;
    uint64_t t0 = mono_ns();
    uint64_t spin = w->spin_ns ? w->spin_ns : (++w->waits % PROBE_EVERY ? 0 : SPIN_NS / 8);
    for (uint32_t i = 0; spin; i++) {
        if (__atomic_load_n(&H->done, __ATOMIC_ACQUIRE) == seq) {
            if (!w->spin_ns) w->spin_ns = spin;
            return WT_OK;
        }
        cpu_relax();
        if ((i & 15) == 15 && mono_ns() - t0 > spin) break;
    }
    w->spin_ns /= 2;
    if (w->spin_ns < 500) w->spin_ns = 0;
    for (;;) {
        __atomic_store_n(&H->s_sleep, 1, __ATOMIC_SEQ_CST);
        uint32_t v = __atomic_load_n(&H->done, __ATOMIC_SEQ_CST);
        if (v == seq) { __atomic_store_n(&H->s_sleep, 0, __ATOMIC_SEQ_CST); return WT_OK; }
        uint64_t el = mono_ns() - t0;
        if (el >= limit_ns) { __atomic_store_n(&H->s_sleep, 0, __ATOMIC_SEQ_CST); return WT_TIMEOUT; }
        uint64_t left = limit_ns - el < SLICE_NS ? limit_ns - el : SLICE_NS;
        struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
        long r = futex(&H->done, FUTEX_WAIT, v, &ts);
        int e = errno;
        __atomic_store_n(&H->s_sleep, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&H->done, __ATOMIC_ACQUIRE) == seq) return WT_OK;
        if (r && e == ETIMEDOUT && pl_reap(w, 0)) return WT_DIED;
    }
}

static int pl_spawn(struct np_plw *w, char *err, size_t errlen) {
    vrhw_hdr_t *H = w->H;
    H->present = 0;
    H->error[0] = 0;
    H->w_sleep = H->s_sleep = 0;
    __atomic_store_n(&H->done, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&H->req, 1, __ATOMIC_SEQ_CST);
    w->seq = 1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, w->memfd, 3);
    posix_spawn_file_actions_adddup2(&fa, w->so_fd, 4);
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char ppid[24];
    snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
    char *argv[] = { "vrh-plugin-worker", "3", "4", w->so_path, ppid, NULL };
    char *envp[] = { NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, w->program, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc) { snprintf(err, errlen, "cannot start the plug-in worker %s: %s", w->program, strerror(rc)); return -1; }
    w->pid = pid;
    pl_ours(w);
    w->gen = g_gen;
    uint64_t limit = w->watchdog_ns > START_NS ? w->watchdog_ns : START_NS;
    int how = pl_wait(w, 1, limit);
    if (how == WT_OK && !H->error[0]) {
        w->present = H->present & ((1u << w->n_entries) - 1);
        return 0;
    }
    if (how == WT_OK) {
        char e[sizeof H->error];
        memcpy(e, H->error, sizeof e);
        e[sizeof e - 1] = 0;
        snprintf(err, errlen, "%s", e);
    } else if (how == WT_TIMEOUT) snprintf(err, errlen, "its worker did not start within %.1f s", limit / 1e9);
    else snprintf(err, errlen, "its worker (%s) ended before it was ready", w->program);
    pl_kill(w);
    return -1;
}

/* ---- held store ---- */
static void pl_fill(np_t *m, vrhw_pkt_t *c, uint32_t h) {
    np_desc_t *d = &m->desc[h];
    memset(&c->m, 0, sizeof c->m);
    c->m.h = h; c->m.len = d->len; c->m.addr = np_pkt_addr(m, h); c->m.nh_mac = d->nh_mac; c->m.qid = d->qid;
    c->m.in_port = d->in_port; c->m.out_port = d->out_port; c->m.ptag = d->ptag; c->m.src = (uint8_t)d->src;
    c->m.copy = (d->flags & NP_DF_COPY) != 0;
    c->m.lo = VRHW_MAX_FRAME; c->m.hi = 0;
    memcpy(c->data, np_pkt_data(m, h), NP_MAX_FRAME);
}

static void pl_slot_take(np_t *m, np_plugin_t *P, uint32_t h) {
    struct np_plw *w = P->w;
    uint32_t s = w->nfree ? w->free_slots[--w->nfree] : w->slot_hw++;
    pl_fill(m, &((vrhw_pkt_t *)(w->map + w->H->off_store))[s], h);
    w->slot_of[h] = s + 1;
    ((uint32_t *)(w->map + w->H->off_slot_of))[h] = s + 1;
}

static void pl_slot_give(np_plugin_t *P, uint32_t h) {
    struct np_plw *w = P->w;
    uint32_t s = w->slot_of[h];
    if (!s) return;
    w->free_slots[w->nfree++] = s - 1;
    w->slot_of[h] = 0;
    ((uint32_t *)(w->map + w->H->off_slot_of))[h] = 0;
}

/* The worker was replaced: what the plug-in held is dropped (plugin_restart);
 * blocks/plugin.c returns the buffers to the free list. */
static void pl_purge(np_t *m, np_plugin_t *P) {
    if (!P->nheld) return;
    if (!P->purge) P->purge = malloc(sizeof *P->purge * m->p.n_buffers);
    for (uint32_t h = 1; h < m->p.n_buffers && P->nheld; h++) {
        if (!(P->held[h >> 3] >> (h & 7) & 1)) continue;
        P->held[h >> 3] &= (uint8_t)~(1 << (h & 7));
        P->nheld--;
        pl_slot_give(P, h);
        np_drop_h(m, h, NP_DROP_PLUGIN_RESTART, P->inst->id);
        if (P->purge) P->purge[P->npurge++] = h;
    }
    P->nheld = 0;
}

/* ---- one exchange with the call side ---- */
static int pl_exchange(np_t *m, np_plugin_t *P, int e, uint32_t cur, const char *text, uint64_t budget, int rlen,
                       const uint32_t *args) {
    struct np_plw *w = P->w;
    vrhw_hdr_t *H = w->H;
    vrhw_req_t *q = &H->q;
    if (args) memcpy(q->arg, args, sizeof q->arg); else memset(q->arg, 0, sizeof q->arg);
    q->entry = (uint32_t)e; q->cur = cur; q->n_port = (uint32_t)m->n_port; q->n_queues = NP_QUEUES_PER_PORT;
    q->n_plugins = (uint32_t)m->n_plugin;
    q->nheld = P->nheld; q->reply_size = (uint32_t)rlen;
    q->now = m->now; q->rng = m->rng; q->period = P->period; q->budget = budget;
    q->cycles_per_us = m->p.f_me_hz / 1000000;
    q->lat[VRHW_MEM_PKT] = m->srv[m->mem[P->inst->mem[NP_PLM_PKT]].srv_rd].lat;
    q->lat[VRHW_MEM_SRAM] = m->srv[m->mem[P->inst->mem[NP_PLM_SRAM]].srv_rd].lat;
    q->lat[VRHW_MEM_SCRATCH] = m->srv[m->mem[P->inst->mem[NP_PLM_SCRATCH]].srv_rd].lat;
    if (cur) pl_fill(m, &H->cur, cur);
    if (text) snprintf(H->text, VRHW_TEXT, "%s", text);
    if (!w->worker) { vrhw_serve(w->inproc); return WT_OK; }
    uint32_t seq = ++w->seq;
    __atomic_store_n(&H->req, seq, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&H->w_sleep, __ATOMIC_SEQ_CST)) futex(&H->req, FUTEX_WAKE, 1, NULL);
    return pl_wait(w, seq, w->watchdog_ns);
}

static int pl_start(np_t *m, np_plugin_t *P, np_plrec_t *R);

/* Read and check the record's header: its status, and the RNG state and
 * period it leaves (*rng, *period; applied only once the whole record is
 * accepted). Returns PL_* (PL_BAD: nonsense). */
static int pl_outcome(np_plugin_t *P, np_plrec_t *R, uint64_t budget, uint64_t *rng, uint64_t *period) {
    vrhw_rec_t *S = &P->w->H->r;
    uint32_t status = S->status, info = S->info;
    uint64_t cycles = S->cycles, tail = S->tail;
    *rng = S->rng;
    *period = S->period;
    if (status > VRHW_SYSCALL || !*rng) return PL_BAD;
    P->st.refused += S->refused;
    P->st.oob += S->oob;
    if (status == VRHW_OK && (cycles > budget || tail > cycles)) return PL_BAD;
    R->cycles = cycles < budget + MAX_CHARGE ? cycles : budget + MAX_CHARGE;
    R->tail = (uint32_t)(tail < R->cycles ? tail : R->cycles);
    if (status == VRHW_FAULT) P->st.last_signal = info;
    if (status == VRHW_SYSCALL) P->st.last_syscall = info;
    return status == VRHW_OK ? PL_OK : status == VRHW_BUDGET ? PL_BUDGET : status == VRHW_FAULT ? PL_CRASH : PL_SYSCALL;
}

/* Is a packet's metadata, as the call left it, acceptable? Each field
 * unchanged or valid; a copy (which shares its buffer) keeps its length and bytes. */
static int pl_meta_ok(np_t *m, const vrhw_meta_t *c, uint32_t h) {
    np_desc_t *d = &m->desc[h];
    int copy = (d->flags & NP_DF_COPY) != 0;
    if (c->len != d->len && (copy || c->len < 14 || c->len > NP_MAX_FRAME)) return 0;
    if (c->out_port != d->out_port && c->out_port >= m->n_port) return 0;
    if (c->qid != d->qid && !vrhw_qid_ok(c->qid, (uint32_t)m->n_port)) return 0;
    if (c->ptag != d->ptag && c->ptag >= 32) return 0;
    if (c->hi > NP_MAX_FRAME || (copy && c->lo < c->hi)) return 0;
    return 1;
}

static void pl_writeback(np_t *m, const vrhw_pkt_t *c, const vrhw_meta_t *cm, uint32_t h) {
    np_desc_t *d = &m->desc[h];
    d->out_port = cm->out_port; d->qid = cm->qid; d->ptag = cm->ptag; d->nh_mac = cm->nh_mac;
    if (d->flags & NP_DF_COPY) return;
    d->len = cm->len;
    if (cm->lo < cm->hi) memcpy(np_pkt_data(m, h) + cm->lo, c->data + cm->lo, cm->hi - cm->lo);
}

static int held(np_plugin_t *P, uint32_t h) { return P->held[h >> 3] >> (h & 7) & 1; }

/* Check a finished call's record completely, then apply it: R gets the ops
 * (for blocks/plugin.c to replay) and the created packets, the call's packet
 * and the held packets it sent on get their bytes and metadata back. */
static int pl_accept(np_t *m, np_plugin_t *P, np_plrec_t *R, uint32_t cur) {
    struct np_plw *w = P->w;
    vrhw_hdr_t *H = w->H;
    vrhw_rec_t *S = &H->r;
    uint32_t n = S->n, nnew = S->nnew, nb = m->p.n_buffers;
    if (n > NP_PL_MAX_OPS - 1 || nnew > NP_PL_MAX_NEW) return PL_BAD;
    uint64_t sum = R->tail;
    uint32_t allocs = 0, nex = 0;
    uint32_t ex[NP_PL_MAX_EXITS];
    if (w->copt && nnew) return PL_BAD;
    for (uint32_t i = 0; i < n; i++) {
        vrhw_op_t o = S->op[i];
        np_plop_t *d = &R->op[i];
        if (w->copt && o.kind != VRHW_OP_MEM) return PL_BAD;   /* a code option has no exits, packets or timers */
        memset(d, 0, sizeof *d);
        d->compute = o.compute;
        sum += o.compute;
        if (o.kind == VRHW_OP_MEM) {
            static const uint32_t lim[VRHW_MEM_COUNT] = { NP_MAX_FRAME, NP_PL_SRAM, NP_PL_SCRATCH };
            static const uint8_t role[VRHW_MEM_COUNT] = { NP_PLM_PKT, NP_PLM_SRAM, NP_PLM_SCRATCH };
            if (o.mem >= VRHW_MEM_COUNT || o.flags > 1 || !o.bytes || o.bytes > lim[o.mem]) return PL_BAD;
            d->kind = NP_PLR_MEM; d->mrole = role[o.mem];
            d->flags = o.flags ? (NP_OPF_WRITE | NP_OPF_POSTED) : 0;
            d->addr = o.addr; d->bytes = o.bytes;
        } else if (o.kind == VRHW_OP_ALLOC) {
            if (allocs >= nnew || o.h != (PSEUDO | allocs)) return PL_BAD;
            allocs++;
            d->kind = NP_PLR_ALLOC; d->h = o.h;
        } else if (o.kind == VRHW_OP_EXIT) {
            uint32_t h = o.h;
            int ok = (h & PSEUDO) ? (h & ~PSEUDO) < allocs : h && ((h == cur) || (h < nb && held(P, h)));
            if (!ok || o.sub >= VRH_X_COUNT || nex >= NP_PL_MAX_EXITS) return PL_BAD;
            for (uint32_t k = 0; k < nex; k++) if (ex[k] == h) return PL_BAD;
            if (o.sub == VRH_X_QM && (o.a < 0 || o.a >= m->n_port || o.b < 0 || !vrhw_qid_ok((uint32_t)o.b, (uint32_t)m->n_port)
                                      || np_qid_port((uint32_t)o.b) != o.a)) return PL_BAD;
            if (o.sub == VRH_X_PLUGIN && (o.a < 0 || o.a >= m->n_plugin)) return PL_BAD;
            if (o.sub == VRH_X_MUX && o.a >= 32) return PL_BAD;
            if (!(h & PSEUDO) && h != cur) {                   /* a held packet leaves: its metadata too */
                if (!w->slot_of[h]) return PL_BAD;
                vrhw_meta_t cm = ((vrhw_pkt_t *)(w->map + H->off_store))[w->slot_of[h] - 1].m;
                if (!pl_meta_ok(m, &cm, h)) return PL_BAD;
            }
            ex[nex++] = h;
            d->kind = NP_PLR_EXIT; d->h = h; d->sub = o.sub; d->a = o.a; d->b = o.b;
            if (o.sub == VRH_X_DROP) d->a = NP_DROP_PLUGIN_DROP;
        } else if (o.kind == VRHW_OP_SIGNAL) {
            d->kind = NP_PLR_SIGNAL;
        } else return PL_BAD;
    }
    if (allocs != nnew || sum != R->cycles) return PL_BAD;
    for (uint32_t k = 0; k < nnew; k++) {                      /* created packets */
        vrhw_new_t *s = &S->nw[k];
        uint32_t len = s->len, src = s->src_h;
        uint8_t out_port = s->out_port, ptag = s->ptag;
        uint16_t qid = s->qid;
        if (len < 14 || len > NP_MAX_FRAME || out_port >= m->n_port || (qid && !vrhw_qid_ok(qid, (uint32_t)m->n_port))
            || ptag >= 32)
            return PL_BAD;
        np_plnew_t *n = &R->nw[k];
        if (src & PSEUDO) { if ((src & ~PSEUDO) >= k) return PL_BAD; n->in_port = R->nw[src & ~PSEUDO].in_port; }
        else if (src) { if (src != cur && !(src < nb && held(P, src))) return PL_BAD; n->in_port = m->desc[src].in_port; }
        else n->in_port = 0;
        n->len = len; n->out_port = out_port; n->qid = qid; n->ptag = ptag; n->nh_mac = s->nh_mac; n->real = 0;
        memcpy(n->data, s->data, len);
    }
    vrhw_meta_t cm;
    if (cur) {
        cm = H->cur.m;
        if (!pl_meta_ok(m, &cm, cur)) return PL_BAD;
    }
    /* checked: apply */
    R->n = (int)n; R->nnew = (int)nnew; R->nexit = (int)nex;
    memcpy(R->exited, ex, nex * sizeof *ex);
    if (cur) pl_writeback(m, &H->cur, &cm, cur);
    for (uint32_t k = 0; k < nex; k++) {
        uint32_t h = ex[k];
        if ((h & PSEUDO) || h == cur) continue;
        vrhw_pkt_t *c = &((vrhw_pkt_t *)(w->map + H->off_store))[w->slot_of[h] - 1];
        vrhw_meta_t hm = c->m;
        if (pl_meta_ok(m, &hm, h)) pl_writeback(m, c, &hm, h);   /* (checked above; read again) */
    }
    return PL_OK;
}

static int pl_exited(np_plrec_t *R, uint32_t h) {
    for (int i = 0; i < R->nexit; i++) if (R->exited[i] == h) return 1;
    return 0;
}

/* Custody after an accepted call: packets it held start (or stop) being held. */
static void pl_commit(np_t *m, np_plugin_t *P, np_plrec_t *R) {
    for (int i = 0; i < R->n; i++) {
        np_plop_t *o = &R->op[i];
        if (o->kind != NP_PLR_EXIT || (o->h & PSEUDO)) continue;
        uint32_t h = o->h;
        int was = held(P, h);
        if (o->sub == VRH_X_HOLD && !was) {
            P->held[h >> 3] |= (uint8_t)(1 << (h & 7)); P->nheld++;
            pl_slot_take(m, P, h);
        } else if (o->sub != VRH_X_HOLD && was) {
            P->held[h >> 3] &= (uint8_t)~(1 << (h & 7)); P->nheld--;
            pl_slot_give(P, h);
        }
    }
}

/* Run entry e. On PL_OK, R is the checked record; otherwise the call was abandoned. */
static int pl_call(np_t *m, np_plugin_t *P, int e, uint32_t cur, const char *text, uint64_t budget,
                   np_plrec_t *R, char *reply, int rlen, const uint32_t *args) {
    struct np_plw *w = P->w;
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = cur; R->status = 0; R->tail = 0; R->cycles = 0;
    if (w->worker && w->pid && !pl_ours(w)) {
        w->broken = 1;
        snprintf(w->why, sizeof w->why, "this process is a fork of the one that loaded the plug-in: load "
                 "plug-ins after forking");
        w->pid = 0;
    }
    if (w->broken) return PL_BROKEN;
    if (w->worker && !w->pid && pl_start(m, P, R)) return PL_BROKEN;
    R->cur = cur;
    uint64_t t0 = mono_ns();
    int how = pl_exchange(m, P, e, cur, text, budget, rlen, args);
    P->st.wall_ns += mono_ns() - t0;
    P->st.calls++;
    uint64_t rng, period;
    int st = how == WT_OK ? pl_outcome(P, R, budget, &rng, &period) : how == WT_TIMEOUT ? PL_HANG : PL_DIED;
    if (st == PL_OK) st = pl_accept(m, P, R, cur);
    if (st <= PL_SYSCALL) { m->rng = rng; P->period = period; }   /* the call ran, its record is sound */
    if (st == PL_OK && reply) {
        memcpy(reply, w->H->r.reply, (size_t)rlen);
        reply[rlen - 1] = 0;
    }
    if (st == PL_HANG) { R->cycles = budget; R->tail = (uint32_t)(budget < UINT32_MAX ? budget : UINT32_MAX); }
    if (st >= PL_DIED) R->cycles = R->tail = 0;
    if (st == PL_BAD) P->st.bad_records++;
    int clean = st == PL_BUDGET || (st == PL_CRASH && P->st.last_signal == SIGFPE);   /* nothing corrupted */
    if (st != PL_OK && !clean && w->worker) {            /* replace the worker; what it held is lost */
        pl_kill(w);
        pl_purge(m, P);
    }
    return st;
}

/* The default next block, the custody changes, or the abandoned call's drop. */
static void pl_end(np_t *m, np_plugin_t *P, np_plrec_t *R, int st) {
    if (st == PL_OK) {
        pl_commit(m, P, R);
        R->status = 0;
        return;
    }
    static const int reason[] = { 0, NP_DROP_PLUGIN_BUDGET, NP_DROP_PLUGIN_CRASH, NP_DROP_PLUGIN_SYSCALL,
                                  NP_DROP_PLUGIN_HANG, NP_DROP_PLUGIN_CRASH, NP_DROP_PLUGIN_CRASH, NP_DROP_PLUGIN_CRASH };
    R->n = 0; R->nnew = 0; R->nexit = 0;
    if (R->cur) {                                     /* the call's packet is dropped */
        np_plop_t *o = &R->op[R->n++];
        memset(o, 0, sizeof *o);
        o->kind = NP_PLR_EXIT; o->sub = VRH_X_DROP; o->h = R->cur; o->a = reason[st];
    }
    if (st == PL_BUDGET) P->st.budget++;
    else if (st == PL_SYSCALL) P->st.syscalls++;
    else if (st == PL_HANG) P->st.hangs++;
    else P->st.crashes++;
    R->status = st;
}

static const char *pl_what(int st) {
    switch (st) {
    case PL_BUDGET: return "budget";
    case PL_CRASH: return "crash";
    case PL_SYSCALL: return "syscall";
    case PL_HANG: return "hang";
    case PL_DIED: return "worker died";
    case PL_BAD: return "bad record";
    default: return "not running";
    }
}

void np_pl_call_pkt(np_t *m, np_plugin_t *P, int tidx, uint32_t h) {
    np_plrec_t *R = &P->recs[tidx];
    int st = pl_call(m, P, E_PKT, h, NULL, P->budget, R, NULL, 0, NULL);
    if (st == PL_OK && !pl_exited(R, h)) {            /* default next block: QM */
        np_desc_t *d = &m->desc[h];
        np_plop_t *o = &R->op[R->n++];                /* the runtime keeps this slot free */
        memset(o, 0, sizeof *o);
        o->kind = NP_PLR_EXIT; o->sub = VRH_X_QM; o->h = h; o->a = d->out_port; o->b = d->qid;
        o->compute = R->tail; R->tail = 0;
    }
    pl_end(m, P, R, st);
    P->st.pkts++;
    if (R->cycles < P->st.cyc_min || P->st.pkts == 1) P->st.cyc_min = R->cycles;
    if (R->cycles > P->st.cyc_max) P->st.cyc_max = R->cycles;
    P->st.cyc_sum += R->cycles;
}

void np_pl_call_msg(np_t *m, np_plugin_t *P, int tidx, const char *msg, char *reply, int rlen) {
    np_plrec_t *R = &P->recs[tidx];
    int st = PL_OK;
    reply[0] = 0;
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = 0; R->status = 0; R->tail = 0; R->cycles = 0;
    if (P->w->present & (1u << E_MSG) && !P->w->broken) st = pl_call(m, P, E_MSG, 0, msg, P->budget, R, reply, rlen, NULL);
    else snprintf(reply, (size_t)rlen, P->w->broken ? "error: not running" : "no handler");
    if (st) snprintf(reply, (size_t)rlen, "error: %s", pl_what(st));
    reply[rlen - 1] = 0;
    pl_end(m, P, R, st);
    P->st.msgs++;
}

void np_pl_call_periodic(np_t *m, np_plugin_t *P, int tidx) {
    np_plrec_t *R = &P->recs[tidx];
    int st = PL_OK;
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = 0; R->status = 0; R->tail = 0; R->cycles = 0;
    if (P->w->present & (1u << E_PER) && !P->w->broken) st = pl_call(m, P, E_PER, 0, NULL, P->budget, R, NULL, 0, NULL);
    pl_end(m, P, R, st);
    P->st.periodic++;
}

/* Replay helpers: make a packet created in the call real, or count it lost. */
void np_pl_materialize(np_t *m, np_plugin_t *P, np_plrec_t *R, uint32_t pseudo, uint32_t h) {
    np_plnew_t *n = &R->nw[pseudo & ~PSEUDO];
    m->ctr.created++;
    P->st.created++;
    if (!h) {
        n->real = 0;
        np_count_drop(m, NP_DROP_NO_BUFFER, m->next_host_id++, 0, P->inst->id);
        return;
    }
    np_desc_t *d = &m->desc[h];
    memset(d, 0, sizeof *d);
    d->pkt = m->next_host_id++; d->t_rx = m->now; d->len = n->len; d->data = h; d->refcnt = 1;
    d->slot = np_slot_alloc(m); d->off = NP_BUF_DATA_OFFSET;
    d->in_port = n->in_port; d->out_port = n->out_port; d->qid = n->qid; d->ptag = n->ptag;
    d->nh_mac = n->nh_mac; d->src = NP_SRC_PLUGIN; d->flags = NP_DF_LIVE;
    memcpy(np_pkt_data(m, h), n->data, n->len);
    n->real = h;
    np_buf_taken(m, h);
}

uint32_t np_pl_real(np_plrec_t *R, uint32_t h) {
    return (h & PSEUDO) ? R->nw[h & ~PSEUDO].real : h;
}

/* ---- loading ---- */
static void pl_free(np_plugin_t *P) {
    struct np_plw *w = P->w;
    if (w) {
        pl_kill(w);
        if (w->map) munmap(w->map, w->size);
        if (w->memfd >= 0) close(w->memfd);
        if (w->so_fd >= 0) close(w->so_fd);
        if (w->dl) dlclose(w->dl);
        free(w->inproc); free(w->program); free(w->so_path); free(w->args);
        free(w->slot_of); free(w->free_slots);
        free(w);
    }
    free(P->held); free(P->purge); free(P);
}

static int high_fd(int fd) {                          /* clear of the worker's fds 0-4 */
    if (fd < 0 || fd >= 10) return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return h;
}

/* Run plugin_init_user (if any) with a hundred times the call budget, as at load. */
static int pl_init(np_t *m, np_plugin_t *P, np_plrec_t *R, char *err, size_t errlen) {
    struct np_plw *w = P->w;
    if (!(w->present & (1u << E_INIT))) return 0;
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = 0;
    int how = pl_exchange(m, P, E_INIT, 0, w->args, P->budget * 100, 0, NULL);
    uint64_t rng, period;
    int st = how == WT_OK ? pl_outcome(P, R, P->budget * 100, &rng, &period) : how == WT_TIMEOUT ? PL_HANG : PL_DIED;
    if (st <= PL_SYSCALL) { m->rng = rng; P->period = period; }
    R->n = 0; R->nnew = 0; R->nexit = 0; R->tail = 0; R->cycles = 0;
    if (st == PL_OK) return 0;
    if (st == PL_CRASH) snprintf(err, errlen, "plugin_init_user of '%s' crashed (signal %u)", P->name,
                                 (unsigned)P->st.last_signal);
    else if (st == PL_SYSCALL)
        snprintf(err, errlen, "plugin_init_user of '%s' attempted system call %u; a plug-in may use only the "
                 "plug-in API and computation", P->name, (unsigned)P->st.last_syscall);
    else if (st == PL_HANG) snprintf(err, errlen, "plugin_init_user of '%s' did not return within the %g ms watchdog",
                                     P->name, w->watchdog_ns / 1e6);
    else if (st == PL_BUDGET) snprintf(err, errlen, "plugin_init_user of '%s' exceeded its cycle budget", P->name);
    else snprintf(err, errlen, "plugin_init_user of '%s' failed (%s)", P->name, pl_what(st));
    if (w->copt && !strncmp(err, "plugin_init_user", 16)) {      /* name the code option's entry */
        char e2[256];
        snprintf(e2, sizeof e2, "copt_init%s", err + 16);
        snprintf(err, errlen, "%s", e2);
    }
    pl_kill(w);
    return -1;
}

/* Start a worker for P (after a crash, hang or bad record): a fresh process
 * runs plugin_init_user again. On failure the plug-in stops running. */
static int pl_start(np_t *m, np_plugin_t *P, np_plrec_t *R) {
    struct np_plw *w = P->w;
    char err[256];
    if (pl_spawn(w, err, sizeof err) || pl_init(m, P, R, err, sizeof err)) {
        w->broken = 1;
        snprintf(w->why, sizeof w->why, "%s", err);
        return -1;
    }
    P->st.restarts++;
    return 0;
}

static int module_load(np_t *m, int id, int copt, const char *path, const char *name, const uint32_t *offs,
                       const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                       const char *worker, uint64_t watchdog_us);

int np_plugin_load(np_t *m, int id, const char *path, const char *name, const uint32_t *offs,
                   const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                   const char *worker, uint64_t watchdog_us) {
    char nid[16];
    snprintf(nid, sizeof nid, "%d", id);
    if (id < 0 || id >= m->n_plugin || !m->plugin_inst[id]) return pl_err(m, "plug-in slot %s has no plug-in ME", nid, "");
    if (m->plugin[id]) return pl_err(m, "plug-in slot %s already runs '%s'", nid, m->plugin[id]->name);
    return module_load(m, id, 0, path, name, offs, weights, nweights, wdefault, budget, args, worker, watchdog_us);
}

/* Loading an SPP code option: a module slot of its own (after the plug-in
 * slots), whose memory references are charged to the memories of block
 * instance `inst` (its ports pkt, sram, scratch, as a plug-in ME's). */
int np_copt_load(np_t *m, int inst, const char *path, const char *name, const uint32_t *offs,
                 const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                 const char *worker, uint64_t watchdog_us) {
    if (inst < 0 || inst >= m->n_inst) return np_fail(m, "block instance %d does not exist", inst);
    np_inst_t *x = m->inst[inst];
    if (x->d->n_mems < NP_PLM_COUNT) return np_fail(m, "%s has no pkt, sram and scratch memory ports", x->name);
    int id = -1;
    for (int i = 0; i < m->n_plugin; i++) if (!m->plugin[i] && m->plugin_inst[i] == x) { id = i; break; }
    if (id < 0) {
        int n = m->n_plugin + 1;
        np_plugin_t **p = realloc(m->plugin, (size_t)n * sizeof *p);
        if (!p) return np_fail(m, "out of memory");
        m->plugin = p;
        np_inst_t **q = realloc(m->plugin_inst, (size_t)n * sizeof *q);
        if (!q) return np_fail(m, "out of memory");
        m->plugin_inst = q;
        id = m->n_plugin;
        m->plugin[id] = NULL; m->plugin_inst[id] = x;
        m->n_plugin = n;
    }
    if (module_load(m, id, 1, path, name, offs, weights, nweights, wdefault, budget, args, worker, watchdog_us) < 0)
        return -1;
    return id;
}

static int module_load(np_t *m, int id, int copt, const char *path, const char *name, const uint32_t *offs,
                       const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                       const char *worker, uint64_t watchdog_us) {
    char err[256];
    if (!args) args = "";
    if (strlen(args) >= VRHW_TEXT) return pl_err(m, "the arguments of plug-in '%s' are longer than %s characters", name, "65535");
    if (nweights < 0) nweights = 0;
    np_plugin_t *P = calloc(1, sizeof *P);
    struct np_plw *w = P ? calloc(1, sizeof *w) : NULL;
    if (!w) { free(P); return pl_err(m, "out of memory loading %s%s", name, ""); }
    P->w = w;
    w->memfd = w->so_fd = -1;
    w->worker = worker && worker[0];
    w->copt = copt;
    w->n_entries = copt ? E_COPT_COUNT : E_COUNT;
    w->watchdog_ns = watchdog_us ? watchdog_us * 1000ull : 1000000000ull;
    w->spin_ns = SPIN_NS;
    P->id = id; P->budget = budget; P->inst = m->plugin_inst[id];
    snprintf(P->name, sizeof P->name, "%s", name);
    uint32_t nb = m->p.n_buffers, wcap = 1;
    while (wcap < 2 * (uint32_t)nweights + 2) wcap <<= 1;
    w->size = vrhw_region_size(nb, wcap);
    w->program = worker ? strdup(worker) : NULL;
    w->so_path = strdup(path);
    w->args = strdup(args);
    P->held = calloc((nb + 7) / 8, 1);
    w->slot_of = calloc(nb, sizeof *w->slot_of);
    w->free_slots = malloc(sizeof *w->free_slots * nb);
    if (!w->so_path || !w->args || !P->held || !w->slot_of || !w->free_slots || (w->worker && !w->program)) {
        pl_free(P);
        return pl_err(m, "out of memory loading %s%s", name, "");
    }
    if (w->worker) {
        w->memfd = high_fd((int)syscall(SYS_memfd_create, "vrh-plugin", 1u /* MFD_CLOEXEC */));
        if (w->memfd < 0 || ftruncate(w->memfd, (off_t)w->size)) {
            pl_free(P);
            return pl_err(m, "cannot create the shared memory of plug-in '%s': %s", name, strerror(errno));
        }
        w->map = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, w->memfd, 0);
        w->so_fd = high_fd(open(path, O_RDONLY | O_CLOEXEC));
        if (w->so_fd < 0) { pl_free(P); return pl_err(m, "cannot open %s: %s", path, strerror(errno)); }
    } else {
        w->map = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (w->map == MAP_FAILED) {
        w->map = NULL;
        pl_free(P);
        return pl_err(m, "cannot map the shared memory of plug-in '%s': %s", name, strerror(errno));
    }
    vrhw_hdr_t *H = w->H = (vrhw_hdr_t *)w->map;
    H->magic = VRHW_MAGIC; H->version = VRHW_VERSION;
    vrhw_layout(H, nb, wcap);
    H->wdefault = wdefault; H->id = (uint32_t)id; H->n_entries = w->n_entries; H->spin = spin_polls();
    if (copt) memcpy(H->entry, COPT_ENTRIES, sizeof COPT_ENTRIES); else memcpy(H->entry, ENTRIES, sizeof ENTRIES);
    uint32_t *wk = (uint32_t *)(w->map + H->off_wk);
    uint16_t *wv = (uint16_t *)(w->map + H->off_wv);
    for (int k = 0; k < nweights; k++) {
        uint32_t i = (offs[k] * 2654435761u) & (wcap - 1);
        while (wk[i]) i = (i + 1) & (wcap - 1);
        wk[i] = offs[k] + 1; wv[i] = weights[k];
    }
    if (w->worker) {
        if (pl_spawn(w, err, sizeof err)) {
            pl_free(P);
            return pl_err(m, "%s: %s", path, err);
        }
    } else {
        w->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!w->dl) { snprintf(err, sizeof err, "%s", dlerror()); pl_free(P); return pl_err(m, "cannot load %s: %s", path, err); }
        w->inproc = calloc(1, sizeof *w->inproc);
        if (!w->inproc || vrhw_attach(w->inproc, w->map, w->size, err, sizeof err)
            || vrhw_bind(w->inproc, w->dl, err, sizeof err)) {
            if (!w->inproc) snprintf(err, sizeof err, "out of memory");
            pl_free(P);
            return pl_err(m, copt ? "%s is not a code option of this version (needs copt_parse, copt_hf and the "
                          "code-option stub): %s" : "%s is not a plug-in of this version (needs handle_pkt_user and "
                          "the runtime stub): %s", path, err);
        }
        w->present = H->present & ((1u << w->n_entries) - 1);
        vrhw_install_handlers(0);
    }
    uint32_t need = copt ? (1u << E_PKT | 1u << E_COPT_HF) : 1u << E_PKT;
    if ((w->present & need) != need) {
        pl_free(P);
        return pl_err(m, copt ? "%s is not a code option of this version (needs copt_parse, copt_hf and the "
                      "code-option stub)%s" : "%s is not a plug-in of this version (needs handle_pkt_user and the "
                      "runtime stub)%s", path, "");
    }
    P->active = 1;
    m->plugin[id] = P;
    if (pl_init(m, P, &P->recs[0], err, sizeof err)) {       /* functional only: before time runs */
        m->plugin[id] = NULL;
        pl_free(P);
        return pl_err(m, "%s%s", err, "");
    }
    return 0;
}

/* After the plug-in ME confirmed the unload (it dropped what it held). */
int np_plugin_release(np_t *m, int id) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) { snprintf(m->err, sizeof m->err, "no plug-in in slot %d", id); return -1; }
    np_plugin_t *P = m->plugin[id];
    if (P->nheld || P->npurge || P->active) { snprintf(m->err, sizeof m->err, "plug-in '%s' is still running", P->name); return -1; }
    m->plugin[id] = NULL;
    pl_free(P);
    return 0;
}

void np_plugin_free_all(np_t *m) {
    for (int i = 0; i < m->n_plugin; i++) {
        if (!m->plugin[i]) continue;
        pl_free(m->plugin[i]);
        m->plugin[i] = NULL;
    }
}

int np_plugin_stats(np_t *m, int id, np_plugin_stats_t *s) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) return -1;
    *s = m->plugin[id]->st;
    s->held = m->plugin[id]->nheld;
    return 0;
}

int np_plugin_counters(np_t *m, int id, uint32_t *out) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) return -1;
    struct np_plw *w = m->plugin[id]->w;
    memcpy(out, w->map + w->H->off_ctr, NP_PL_COUNTERS * sizeof *out);
    return NP_PL_COUNTERS;
}

int np_plugin_runtime(np_t *m, int id, int *pid, char *why, int len, char *ended, int elen) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) return -1;
    struct np_plw *w = m->plugin[id]->w;
    *pid = (int)w->pid;
    snprintf(why, (size_t)len, "%s", w->broken ? w->why : "");
    snprintf(ended, (size_t)elen, "%s", w->ended);
    return w->worker;
}

int np_plugin_reply(np_t *m, int id, char *buf, int len, uint64_t *t) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) return -1;
    np_plugin_t *P = m->plugin[id];
    if (P->reply_tail == P->reply_head) return 0;
    int k = P->reply_tail % NP_PL_REPLIES;
    snprintf(buf, (size_t)len, "%s", P->replies[k]);
    *t = P->reply_t[k];
    P->reply_tail++;
    return 1;
}

int np_plugin_loaded(np_t *m, int id) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) return 0;
    return m->plugin[id]->active ? 1 : 2;
}

/* ---- SPP code options ---- */
/* Call a code option's Parse (hf = 0) or Header Format (hf = 1) on packet h
 * with args[VRHW_ARGS]. R gets the checked record -- the memory references
 * for the calling block to replay, R->cycles and R->tail its ALU cycles --
 * and ret[VRHW_RETS] the call's result words (unchecked values: the caller
 * validates them). Returns 0, or the drop reason of an abandoned call
 * (copt_budget, copt_crash, copt_hang, copt_syscall; R->cycles is what it
 * cost the ME). The packet's bytes and length are written back on success. */
int np_copt_call(np_t *m, int slot, int hf, uint32_t h, const uint32_t *args, np_plrec_t *R, uint32_t *ret) {
    np_plugin_t *P = slot >= 0 && slot < m->n_plugin ? m->plugin[slot] : NULL;
    memset(ret, 0, VRHW_RETS * sizeof *ret);
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = h; R->status = 0; R->tail = 0; R->cycles = 0;
    if (!P || !P->w->copt) return NP_DROP_COPT_CRASH;
    int st = pl_call(m, P, hf ? E_COPT_HF : E_PKT, h, NULL, P->budget, R, NULL, 0, args);
    P->st.pkts++;
    if (st == PL_OK) {
        memcpy(ret, P->w->H->r.ret, VRHW_RETS * sizeof *ret);
        if (R->cycles < P->st.cyc_min || P->st.pkts == 1) P->st.cyc_min = R->cycles;
        if (R->cycles > P->st.cyc_max) P->st.cyc_max = R->cycles;
        P->st.cyc_sum += R->cycles;
        return 0;
    }
    R->n = 0;                                         /* nothing of an abandoned call is replayed but its cycles */
    if (st == PL_BUDGET) { P->st.budget++; return NP_DROP_COPT_BUDGET; }
    if (st == PL_SYSCALL) { P->st.syscalls++; return NP_DROP_COPT_SYSCALL; }
    if (st == PL_HANG) { P->st.hangs++; return NP_DROP_COPT_HANG; }
    P->st.crashes++;
    return NP_DROP_COPT_CRASH;
}
