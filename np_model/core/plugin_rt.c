/* plugin_rt.c -- running user C plug-ins on the plug-in MEs.
 *
 * COST MODEL. A plug-in call (handle_pkt_user, handle_msg,
 * plugin_periodic_user) runs to completion when its thread is dispatched,
 * while the runtime *records* what it would cost on the ME:
 *   - ALU cycles: gcc instruments every basic block of the user's code
 *     (-fsanitize-coverage=trace-pc); each block executed adds its
 *     instruction count (read from the linked object with objdump, one
 *     cycle per instruction, as the MEv2 issues one per cycle);
 *   - each API call adds a few cycles of its own (NP_PL_COST_*), and each
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
 * SAFETY. A call that exceeds its cycle budget is abandoned (longjmp from
 * the basic-block hook): its record is discarded and its packet dropped as
 * plugin_budget. A call that faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) is abandoned the same way (plugin_crash); the handler runs on an
 * alternate stack, so runaway recursion is caught too, and faults outside
 * plug-in code go to the previous handler. Packets, the machine's memory
 * and counters are reachable only through the API, which checks every
 * handle, offset and length: a refused access does nothing and is counted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "npcore.h"
#include "vrh_plugin_abi.h"

/* API costs in ME cycles [estimate: instructions of the NPR API's macros] */
#define NP_PL_COST_META 2
#define NP_PL_COST_MEM 4
#define NP_PL_COST_EXIT 6
#define NP_PL_COST_ALLOC 10
#define NP_PL_COST_LOCAL 3

#define PL_BUDGET 1
#define PL_CRASH 16                       /* + signal number */
#define PSEUDO 0x80000000u                /* handle bit of packets created in this call */

static __thread np_plugin_t *g_in;        /* the plug-in whose code is running */
static struct sigaction g_old[32];
static int g_handlers;

static void pl_fault(int sig, siginfo_t *si, void *uc) {
    np_plugin_t *P = g_in;
    if (P) {
        g_in = NULL;
        siglongjmp(P->jmp, PL_CRASH + sig);
    }
    struct sigaction *o = &g_old[sig];        /* not ours: the previous handler */
    if (o->sa_flags & SA_SIGINFO) { if (o->sa_sigaction) o->sa_sigaction(sig, si, uc); return; }
    if (o->sa_handler == SIG_IGN) return;
    if (o->sa_handler == SIG_DFL) { signal(sig, SIG_DFL); raise(sig); return; }
    o->sa_handler(sig);
}

static void pl_install_handlers(void) {
    if (g_handlers) return;
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
        ss.ss_size = 1 << 16;
        ss.ss_sp = malloc(ss.ss_size);
        ss.ss_flags = 0;
        if (ss.ss_sp) sigaltstack(&ss, NULL);
    }
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = pl_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, &g_old[sigs[i]]);
    }
    g_handlers = 1;
}

/* ---- the record ---- */
static np_plop_t *pl_op(np_plugin_t *P, int kind) {
    np_plrec_t *R = P->rec;
    if (R->n >= NP_PL_MAX_OPS - 1)            /* too many references (one slot kept for the default exit) */
        siglongjmp(P->jmp, PL_BUDGET);
    np_plop_t *o = &R->op[R->n++];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    o->compute = (uint32_t)P->cyc;
    P->cyc = 0;
    return o;
}

static void pl_charge(np_plugin_t *P, uint32_t c) {
    P->cyc += c;
    P->total += c;
    if (P->total > P->budget) siglongjmp(P->jmp, PL_BUDGET);
}

static void pl_mem(np_plugin_t *P, int mrole, int write, uint64_t addr, uint32_t bytes, uint32_t unloaded) {
    np_plop_t *o = pl_op(P, NP_PLR_MEM);
    o->mrole = (uint8_t)mrole;
    o->flags = write ? (NP_OPF_WRITE | NP_OPF_POSTED) : 0;
    o->addr = addr;
    o->bytes = bytes;
    if (!write) P->lat += unloaded;           /* waited: the time a timestamp sees */
}

/* The basic-block hook: the instruction count of the block just entered. */
static void api_bb(void *ctx, uintptr_t pc) {
    np_plugin_t *P = ctx;
    uint32_t key = (uint32_t)(pc - P->base), w = P->wdefault;
    if (P->wcap) {
        uint32_t i = (key * 2654435761u) & (P->wcap - 1);
        while (P->wk[i]) {
            if (P->wk[i] == key + 1) { w = P->wv[i]; break; }
            i = (i + 1) & (P->wcap - 1);
        }
    }
    pl_charge(P, w);
}

/* ---- custody: which packets this call may act on ---- */
static int pl_exited(np_plrec_t *R, uint32_t h) {
    for (int i = 0; i < R->nexit; i++) if (R->exited[i] == h) return 1;
    return 0;
}

/* 1 the call's packet, 2 a held packet, 3 a packet created in this call */
static int pl_owns(np_plugin_t *P, uint32_t h) {
    np_plrec_t *R = P->rec;
    if (!R || pl_exited(R, h)) return 0;
    if (h & PSEUDO) return (h & ~PSEUDO) < (uint32_t)R->nnew ? 3 : 0;
    if (h && h == R->cur) return 1;
    if (h && h < P->m->p.n_buffers && (P->held[h >> 3] >> (h & 7) & 1)) return 2;
    return 0;
}

static int pl_refuse(np_plugin_t *P) { P->st.refused++; return -1; }

static int api_pkt_get(void *ctx, uint32_t h, int f) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_META);
    int own = pl_owns(P, h);
    if (!own) return pl_refuse(P);
    if (own == 3) {
        np_plnew_t *n = &P->rec->nw[h & ~PSEUDO];
        switch (f) {
        case VRH_F_LEN: return (int)n->len;
        case VRH_F_IN_PORT: return -1;
        case VRH_F_OUT_PORT: return n->out_port;
        case VRH_F_QID: return n->qid;
        case VRH_F_PTAG: return n->ptag;
        case VRH_F_FLAGS: return NP_SRC_PLUGIN;
        }
        return pl_refuse(P);
    }
    np_desc_t *d = &P->m->desc[h];
    switch (f) {
    case VRH_F_LEN: return (int)d->len;
    case VRH_F_IN_PORT: return d->in_port;
    case VRH_F_OUT_PORT: return d->out_port;
    case VRH_F_QID: return d->qid;
    case VRH_F_PTAG: return d->ptag;
    case VRH_F_FLAGS: return d->src;
    }
    return pl_refuse(P);
}

static int api_pkt_set(void *ctx, uint32_t h, int f, int v) {
    np_plugin_t *P = ctx;
    np_t *m = P->m;
    pl_charge(P, NP_PL_COST_META);
    int own = pl_owns(P, h);
    if (!own) return pl_refuse(P);
    /* a QID is encoded (queue | (port+1) << 13, the NPR's form) or a bare queue
     * number of the packet's output port */
    if (f == VRH_F_QID && v >= 0 && v < NP_QUEUES_PER_PORT) {
        int port = own == 3 ? P->rec->nw[h & ~PSEUDO].out_port : m->desc[h].out_port;
        v = (int)np_qid((uint32_t)port, (uint32_t)v);
    }
    int ok = (f == VRH_F_OUT_PORT && v >= 0 && v < m->n_port)
             || (f == VRH_F_QID && v >= NP_QUEUES_PER_PORT && v <= 0xFFFF && np_qid_port((uint32_t)v) < m->n_port)
             || (f == VRH_F_PTAG && v >= 0 && v < 32) || (f == VRH_F_LEN && v >= 14 && v <= (int)m->p.max_frame);
    if (!ok) return pl_refuse(P);
    if (own == 3) {
        np_plnew_t *n = &P->rec->nw[h & ~PSEUDO];
        if (f == VRH_F_OUT_PORT) n->out_port = (uint8_t)v;
        else if (f == VRH_F_QID) n->qid = (uint16_t)v;
        else if (f == VRH_F_PTAG) n->ptag = (uint8_t)v;
        else n->len = (uint32_t)v;
        return 0;
    }
    np_desc_t *d = &m->desc[h];
    if (f == VRH_F_LEN && (d->flags & NP_DF_COPY)) return pl_refuse(P);   /* shares its buffer */
    if (f == VRH_F_OUT_PORT) d->out_port = (uint8_t)v;
    else if (f == VRH_F_QID) d->qid = (uint16_t)v;
    else if (f == VRH_F_PTAG) d->ptag = (uint8_t)v;
    else d->len = (uint32_t)v;
    return 0;
}

static int api_pkt_set_nh_mac(void *ctx, uint32_t h, const uint8_t *mac) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_META);
    int own = pl_owns(P, h);
    if (!own || !mac) return pl_refuse(P);
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v = v << 8 | mac[i];
    if (own == 3) P->rec->nw[h & ~PSEUDO].nh_mac = v | (1ULL << 48);
    else P->m->desc[h].nh_mac = v | (1ULL << 48);
    return 0;
}

static int api_pkt_rw(void *ctx, uint32_t h, int write, unsigned off, void *buf, unsigned len) {
    np_plugin_t *P = ctx;
    np_t *m = P->m;
    pl_charge(P, NP_PL_COST_MEM);
    int own = pl_owns(P, h);
    if (!own || !buf) return pl_refuse(P);
    uint8_t *data;
    uint32_t plen;
    uint64_t addr = 0;
    if (own == 3) { data = P->rec->nw[h & ~PSEUDO].data; plen = P->rec->nw[h & ~PSEUDO].len; }
    else {
        np_desc_t *d = &m->desc[h];
        if (write && (d->flags & NP_DF_COPY)) return pl_refuse(P);        /* shares its buffer */
        data = np_pkt_data(m, h); plen = d->len; addr = np_pkt_addr(m, h);
    }
    if ((uint64_t)off + len > plen) { P->st.oob++; return -1; }
    if (!len) return 0;
    if (write) memcpy(data + off, buf, len); else memcpy(buf, data + off, len);
    pl_mem(P, NP_PLM_PKT, write, addr + off, len, m->srv[m->mem[P->inst->mem[NP_PLM_PKT]].srv_rd].lat);
    return (int)len;
}

static uint32_t api_pkt_alloc(void *ctx, unsigned len, uint32_t copy_of) {
    np_plugin_t *P = ctx;
    np_plrec_t *R = P->rec;
    pl_charge(P, NP_PL_COST_ALLOC);
    if (!R || R->nnew >= NP_PL_MAX_NEW) { pl_refuse(P); return 0; }
    int src = copy_of ? pl_owns(P, copy_of) : 0;
    if (copy_of && !src) { pl_refuse(P); return 0; }
    if (!copy_of && (len < 14 || len > P->m->p.max_frame)) { pl_refuse(P); return 0; }
    np_plnew_t *n = &R->nw[R->nnew];
    memset(n, 0, offsetof(np_plnew_t, data));
    if (copy_of) {
        if (src == 3) { np_plnew_t *s = &R->nw[copy_of & ~PSEUDO]; *n = *s; }
        else {
            np_desc_t *d = &P->m->desc[copy_of];
            n->len = d->len; n->out_port = d->out_port; n->qid = d->qid; n->ptag = d->ptag; n->nh_mac = d->nh_mac;
            n->in_port = d->in_port;
            memcpy(n->data, np_pkt_data(P->m, copy_of), d->len);
            pl_mem(P, NP_PLM_PKT, 0, np_pkt_addr(P->m, copy_of), d->len,
                   P->m->srv[P->m->mem[P->inst->mem[NP_PLM_PKT]].srv_rd].lat);
        }
    } else {
        n->len = len;
        memset(n->data, 0, len);
    }
    n->real = 0;
    uint32_t h = PSEUDO | (uint32_t)R->nnew++;
    np_plop_t *o = pl_op(P, NP_PLR_ALLOC);
    o->h = h;
    return h;
}

static int api_send(void *ctx, uint32_t h, int ex, int a, int b) {
    np_plugin_t *P = ctx;
    np_t *m = P->m;
    pl_charge(P, NP_PL_COST_EXIT);
    np_plrec_t *R = P->rec;
    if (!R || !pl_owns(P, h) || ex < 0 || ex >= VRH_X_COUNT) return pl_refuse(P);
    if (ex == VRH_X_QM) {
        /* b: an encoded QID (its port must be a, or a < 0) or a queue number of port a */
        if (b >= NP_QUEUES_PER_PORT && b <= 0xFFFF && a < 0) a = np_qid_port((uint32_t)b);
        if (a < 0 || a >= m->n_port || b < 0 || b > 0xFFFF) return pl_refuse(P);
        if (b < NP_QUEUES_PER_PORT) b = (int)np_qid((uint32_t)a, (uint32_t)b);
        else if (np_qid_port((uint32_t)b) != a) return pl_refuse(P);
    }
    if (ex == VRH_X_PLUGIN && (a < 0 || a >= m->n_plugin)) return pl_refuse(P);
    if (ex == VRH_X_MUX && a >= 32) return pl_refuse(P);
    if (R->nexit >= NP_PL_MAX_EXITS) return pl_refuse(P);
    R->exited[R->nexit++] = h;
    np_plop_t *o = pl_op(P, NP_PLR_EXIT);
    o->h = h; o->sub = (uint8_t)ex; o->a = a; o->b = b;
    if (ex == VRH_X_DROP) o->a = NP_DROP_PLUGIN_DROP;
    return 0;
}

static unsigned api_held(void *ctx) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_META);
    return P->nheld;
}

static int api_mem(void *ctx, int space, int write, unsigned off, void *buf, unsigned len) {
    np_plugin_t *P = ctx;
    np_t *m = P->m;
    pl_charge(P, NP_PL_COST_MEM);
    uint8_t *base = space == VRH_M_SRAM ? P->sram : P->scratch;
    uint32_t size = space == VRH_M_SRAM ? NP_PL_SRAM : NP_PL_SCRATCH;
    if ((space != VRH_M_SRAM && space != VRH_M_SCRATCH) || !buf) return pl_refuse(P);
    if ((uint64_t)off + len > size) { P->st.oob++; return -1; }
    if (!len) return 0;
    if (write) memcpy(base + off, buf, len); else memcpy(buf, base + off, len);
    int role = space == VRH_M_SRAM ? NP_PLM_SRAM : NP_PLM_SCRATCH;
    if (P->rec) pl_mem(P, role, write, (uint64_t)P->id * NP_PL_SRAM + off, len,
                       m->srv[m->mem[P->inst->mem[role]].srv_rd].lat);
    return (int)len;
}

static void api_counter_add(void *ctx, unsigned i, uint32_t v) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_META);
    if (i >= NP_PL_COUNTERS) { pl_refuse(P); return; }
    P->ctr[i] += v;
    if (P->rec) pl_mem(P, NP_PLM_SRAM, 1, (uint64_t)P->id * NP_PL_SRAM + NP_PL_SRAM - 64 + i * 4, 4, 0);
}

static uint32_t api_counter_get(void *ctx, unsigned i) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_META);
    if (i >= NP_PL_COUNTERS) { pl_refuse(P); return 0; }
    return P->ctr[i];
}

static uint64_t api_timestamp(void *ctx) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_LOCAL);
    return P->m->now + P->total + P->lat;
}

static uint64_t api_cycles_per_us(void *ctx) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_LOCAL);
    return P->m->p.f_me_hz / 1000000;
}

static uint32_t api_random(void *ctx) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_LOCAL);
    return np_rand(P->m);
}

static void api_set_period(void *ctx, uint64_t cycles) {
    np_plugin_t *P = ctx;
    pl_charge(P, NP_PL_COST_LOCAL);
    int was = P->period != 0;
    P->period = cycles;
    if (!was && cycles && P->rec) pl_op(P, NP_PLR_SIGNAL);     /* wake the periodic thread */
}

/* ---- calls ---- */
static void pl_begin(np_t *m, np_plugin_t *P, np_plrec_t *R, uint32_t cur) {
    R->n = 0; R->nnew = 0; R->nexit = 0; R->cur = cur; R->status = 0; R->tail = 0; R->cycles = 0;
    P->m = m; P->rec = R; P->cyc = 0; P->total = 0; P->lat = 0;
}

/* Commit the call's custody changes (or, if it was abandoned, drop its packet). */
static void pl_end(np_plugin_t *P, np_plrec_t *R, int status) {
    if (status) {
        R->n = 0; R->nnew = 0; R->nexit = 0;
        if (R->cur) {                                 /* the call's packet is dropped */
            np_plop_t *o = &R->op[R->n++];
            memset(o, 0, sizeof *o);
            o->kind = NP_PLR_EXIT; o->sub = VRH_X_DROP; o->h = R->cur;
            o->a = status == PL_BUDGET ? NP_DROP_PLUGIN_BUDGET : NP_DROP_PLUGIN_CRASH;
        }
        if (status == PL_BUDGET) P->st.budget++; else P->st.crashes++;
        P->st.last_signal = status >= PL_CRASH ? status - PL_CRASH : 0;
    } else {
        for (int i = 0; i < R->n; i++) {
            np_plop_t *o = &R->op[i];
            if (o->kind != NP_PLR_EXIT || (o->h & PSEUDO)) continue;
            uint32_t h = o->h;
            int was = P->held[h >> 3] >> (h & 7) & 1;
            if (o->sub == VRH_X_HOLD && !was) { P->held[h >> 3] |= (uint8_t)(1 << (h & 7)); P->nheld++; }
            else if (o->sub != VRH_X_HOLD && was) { P->held[h >> 3] &= (uint8_t)~(1 << (h & 7)); P->nheld--; }
        }
    }
    R->status = status;
    R->tail = (uint32_t)P->cyc;
    R->cycles = P->total;
    P->rec = NULL;
}

static int pl_invoke(np_plugin_t *P, int what, uint32_t h, const char *msg, char *reply, int rlen) {
    int st = sigsetjmp(P->jmp, 0);
    if (st == 0) {
        g_in = P;
        if (what == 0) P->f_pkt(h);
        else if (what == 1) P->f_msg(msg, reply, rlen);
        else if (what == 2) P->f_per();
        else P->f_init(msg);
    }
    g_in = NULL;
    return st;
}

void np_pl_call_pkt(np_t *m, np_plugin_t *P, int tidx, uint32_t h) {
    np_plrec_t *R = &P->recs[tidx];
    pl_begin(m, P, R, h);
    int st = pl_invoke(P, 0, h, NULL, NULL, 0);
    if (!st && !pl_exited(R, h)) {                    /* default next block: QM */
        np_desc_t *d = &m->desc[h];
        np_plop_t *o = &R->op[R->n++];                /* pl_op keeps this slot free */
        memset(o, 0, sizeof *o);
        o->kind = NP_PLR_EXIT; o->sub = VRH_X_QM; o->h = h; o->a = d->out_port; o->b = d->qid;
        o->compute = (uint32_t)P->cyc; P->cyc = 0;
    }
    pl_end(P, R, st);
    P->st.pkts++;
    if (R->cycles < P->st.cyc_min || P->st.pkts == 1) P->st.cyc_min = R->cycles;
    if (R->cycles > P->st.cyc_max) P->st.cyc_max = R->cycles;
    P->st.cyc_sum += R->cycles;
}

void np_pl_call_msg(np_t *m, np_plugin_t *P, int tidx, const char *msg, char *reply, int rlen) {
    np_plrec_t *R = &P->recs[tidx];
    pl_begin(m, P, R, 0);
    reply[0] = 0;
    int st = P->f_msg ? pl_invoke(P, 1, 0, msg, reply, rlen) : 0;
    if (!P->f_msg) snprintf(reply, (size_t)rlen, "no handler");
    if (st) snprintf(reply, (size_t)rlen, st == PL_BUDGET ? "error: budget" : "error: crash");
    reply[rlen - 1] = 0;
    pl_end(P, R, st);
    P->st.msgs++;
}

void np_pl_call_periodic(np_t *m, np_plugin_t *P, int tidx) {
    np_plrec_t *R = &P->recs[tidx];
    pl_begin(m, P, R, 0);
    int st = P->f_per ? pl_invoke(P, 2, 0, NULL, NULL, 0) : 0;
    pl_end(P, R, st);
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
int np_plugin_load(np_t *m, int id, const char *path, const char *name, const uint32_t *offs,
                   const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args) {
    if (id < 0 || id >= m->n_plugin || !m->plugin_inst[id]) {
        snprintf(m->err, sizeof m->err, "plug-in slot %d has no plug-in ME (slots 0..%d)", id, m->n_plugin - 1); return -1;
    }
    if (m->plugin[id]) { snprintf(m->err, sizeof m->err, "plug-in slot %d already runs '%s'", id, m->plugin[id]->name); return -1; }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) { snprintf(m->err, sizeof m->err, "cannot load %s: %s", path, dlerror()); return -1; }
    np_plugin_t *P = calloc(1, sizeof *P);
    uint32_t *ver = dlsym(dl, "vrh_plugin_abi_version");
    void (*bind)(const struct vrh_api *) = (void (*)(const struct vrh_api *))dlsym(dl, "vrh_plugin_bind");
    P->f_pkt = (void (*)(uint32_t))dlsym(dl, "handle_pkt_user");
    P->f_init = (void (*)(const char *))dlsym(dl, "plugin_init_user");
    P->f_msg = (void (*)(const char *, char *, int))dlsym(dl, "handle_msg");
    P->f_per = (void (*)(void))dlsym(dl, "plugin_periodic_user");
    if (!P || !ver || *ver != VRH_ABI_VERSION || !bind || !P->f_pkt) {
        snprintf(m->err, sizeof m->err, "%s is not a plug-in of this version (needs handle_pkt_user and the runtime stub)", path);
        free(P); dlclose(dl);
        return -1;
    }
    Dl_info info;
    if (!dladdr((void *)P->f_pkt, &info)) { snprintf(m->err, sizeof m->err, "cannot locate %s in memory", path); free(P); dlclose(dl); return -1; }
    P->base = (uintptr_t)info.dli_fbase;
    P->dl = dl; P->id = id; P->m = m; P->budget = budget; P->wdefault = wdefault; P->inst = m->plugin_inst[id];
    snprintf(P->name, sizeof P->name, "%s", name);
    P->sram = calloc(1, NP_PL_SRAM);
    P->held = calloc((m->p.n_buffers + 7) / 8, 1);
    P->wcap = 1;
    while (P->wcap < 2 * (uint32_t)nweights + 2) P->wcap <<= 1;
    P->wk = calloc(P->wcap, sizeof *P->wk);
    P->wv = calloc(P->wcap, sizeof *P->wv);
    if (!P->sram || !P->held || !P->wk || !P->wv) {
        snprintf(m->err, sizeof m->err, "out of memory loading %s", name);
        free(P->sram); free(P->held); free(P->wk); free(P->wv); free(P); dlclose(dl);
        return -1;
    }
    for (int k = 0; k < nweights; k++) {
        uint32_t i = (offs[k] * 2654435761u) & (P->wcap - 1);
        while (P->wk[i]) i = (i + 1) & (P->wcap - 1);
        P->wk[i] = offs[k] + 1; P->wv[i] = weights[k];
    }
    P->api.version = VRH_ABI_VERSION; P->api.ctx = P; P->api.bb = api_bb;
    P->api.pkt_get = api_pkt_get; P->api.pkt_set = api_pkt_set; P->api.pkt_set_nh_mac = api_pkt_set_nh_mac;
    P->api.pkt_rw = api_pkt_rw; P->api.pkt_alloc = api_pkt_alloc; P->api.send = api_send; P->api.held = api_held;
    P->api.mem = api_mem; P->api.counter_add = api_counter_add; P->api.counter_get = api_counter_get;
    P->api.timestamp = api_timestamp; P->api.cycles_per_us = api_cycles_per_us; P->api.random = api_random;
    P->api.set_period = api_set_period;
    bind(&P->api);
    pl_install_handlers();
    P->active = 1;
    m->plugin[id] = P;
    if (P->f_init) {                                  /* functional only: before time runs */
        np_plrec_t *R = &P->recs[0];
        pl_begin(m, P, R, 0);
        P->budget = budget * 100;
        int st = pl_invoke(P, 3, 0, args ? args : "", NULL, 0);
        P->budget = budget;
        R->n = 0; P->rec = NULL;
        if (st) {
            snprintf(m->err, sizeof m->err, "plugin_init_user of '%s' %s", name,
                     st == PL_BUDGET ? "exceeded its cycle budget" : "crashed");
            m->plugin[id] = NULL;
            free(P->sram); free(P->held); free(P->wk); free(P->wv); free(P); dlclose(dl);
            return -1;
        }
    }
    return 0;
}

/* After the plug-in ME confirmed the unload (it dropped what it held). */
int np_plugin_release(np_t *m, int id) {
    if (id < 0 || id >= m->n_plugin || !m->plugin[id]) { snprintf(m->err, sizeof m->err, "no plug-in in slot %d", id); return -1; }
    np_plugin_t *P = m->plugin[id];
    if (P->nheld || P->active) { snprintf(m->err, sizeof m->err, "plug-in '%s' is still running", P->name); return -1; }
    m->plugin[id] = NULL;
    dlclose(P->dl);
    free(P->sram); free(P->held); free(P->wk); free(P->wv); free(P);
    return 0;
}

void np_plugin_free_all(np_t *m) {
    for (int i = 0; i < m->n_plugin; i++) {
        np_plugin_t *P = m->plugin[i];
        if (!P) continue;
        dlclose(P->dl);
        free(P->sram); free(P->held); free(P->wk); free(P->wv); free(P);
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
    memcpy(out, m->plugin[id]->ctr, sizeof m->plugin[id]->ctr);
    return NP_PL_COUNTERS;
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
