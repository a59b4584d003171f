/* Plug-in ME -- runs a user plug-in (NPR: 5 MEs, one plug-in each).
 *
 * Threads 0-5 handle packets, thread 6 control messages, thread 7 the
 * periodic computation [C NPR-tour]. Each runs the plug-in's code for one
 * call (plugin_rt.c records what the call did and what it cost) and then
 * replays the record as ops: ALU cycles, memory references with their
 * latency, ring puts for the exits. `slot` is the plug-in number filters,
 * PLC and other plug-ins use to reach it.
 * Drops: no_plugin, plugin_drop, plugin_budget, plugin_crash,
 *        plugin_hang, plugin_syscall, plugin_restart, plugin_unloaded,
 *        plugin_ring_full, exc_ring_full, no_buffer.
 * Packets a plug-in held when its worker was replaced are dropped by the
 * runtime (plugin_restart) and listed in P->purge; whichever thread
 * finishes a call next returns their buffers to the free list.
 */
#include <stdio.h>
#include <stdlib.h>
#include "block.h"

#define PL_PLUGINS 16
enum { R_IN, R_MSG, R_QM, R_MUX, R_EXC, R_FREE, R_BUFQ, R_PLUGIN, R_N = R_PLUGIN + PL_PLUGINS };
enum { P_SLOT, P_N };
enum { C_CALLS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "mux_plc", "packets for the plug-in (PLC, other plug-ins)"),
    [R_MSG] = NP_IN_OPT("msg", "plmsg", "control messages the control processor relays"),
    [R_QM] = NP_OUT("qm", "plc_qm", "exit: to the queue manager"),
    [R_MUX] = NP_OUT("mux", "buf", "exit: back to Mux to be classified again"),
    [R_EXC] = NP_OUT("exc", "exc", "exit: to the control processor"),
    [R_FREE] = NP_OUT("free", "buf", "exit: drop"),
    [R_BUFQ] = NP_IN("bufq", "buf", "the buffer free list (new packets)"),
    [R_PLUGIN] = NP_OUT_ARRAY("plugin", PL_PLUGINS, "mux_plc", "exit: another plug-in's input, by slot"),
};
static const np_named_t mems[NP_PLM_COUNT] = {
    [NP_PLM_PKT] = { "pkt", "packet buffers (DRAM)" }, [NP_PLM_SRAM] = { "sram", "the plug-in's 1 MB of SRAM" },
    [NP_PLM_SCRATCH] = { "scratch", "scratch memory" },
};
static const np_param_desc_t params[P_N] = {
    [P_SLOT] = NP_PARAM("slot", 0, 0, PL_PLUGINS - 1, "slot", "wiring", "the plug-in number (NPR: plug-in MEs 0-4)"),
};
static const np_named_t counters[C_N] = { [C_CALLS] = { "calls", "plug-in calls replayed" } };

enum { K_PKT = 1, K_MSG, K_PER, K_UNLOAD };
static const char UNLOAD[] = "\x01unload";

typedef struct { uint32_t h, k, kind, slot; uint64_t next; uint32_t e[NP_XWORDS]; } pl_l;

static int plugin_init(np_t *m, np_inst_t *x) {
    int slot = (int)x->param[P_SLOT];
    if (slot >= m->n_plugin) {
        int n = slot + 1;
        np_plugin_t **p = realloc(m->plugin, (size_t)n * sizeof *p);
        if (!p) return np_fail(m, "out of memory");
        m->plugin = p;
        np_inst_t **q = realloc(m->plugin_inst, (size_t)n * sizeof *q);
        if (!q) return np_fail(m, "out of memory");
        m->plugin_inst = q;
        for (int i = m->n_plugin; i < n; i++) { m->plugin[i] = NULL; m->plugin_inst[i] = NULL; }
        m->n_plugin = n;
    }
    if (m->plugin_inst[slot]) return np_fail(m, "%s: plug-in slot %d is taken by %s", x->name, slot, m->plugin_inst[slot]->name);
    m->plugin_inst[slot] = x;
    return 0;
}

int np_n_plugin_slots(np_t *m) { return m->n_plugin; }

static int slot_ok(np_t *m, uint32_t s) { return (int)s < m->n_plugin && m->plugin[s] && m->plugin[s]->active; }

static void plugin_run(np_t *m, np_thread_t *t) {
    pl_l *L = LOCALS(pl_l);
    int id = (int)PARAM(P_SLOT);
    np_plugin_t *P = m->plugin[id];
    np_plrec_t *R = P ? &P->recs[t->idx] : NULL;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        L->kind = 0;
        if (t->idx < NP_PL_PKT_THREADS) {                        /* packet thread */
            OP_RING_GET(t, R_IN, 0);
            L->h = t->xin[0] & 0xFFFFFF;
            t->pkt = m->desc[L->h].pkt;
            P = m->plugin[id];
            if (!P || !P->active) {
                np_drop_h(m, L->h, NP_DROP_NO_PLUGIN, I->id);
                OP_FREE(t, R_FREE, L->h);
                continue;
            }
            L->kind = K_PKT;
            np_pl_call_pkt(m, P, t->idx, L->h);
        } else if (t->idx == NP_PL_PKT_THREADS) {                /* message thread */
            if (RING(R_MSG) < 0) OP_HALT(t);
            OP_RING_GET(t, R_MSG, 0);
            L->slot = t->xin[0];
            P = m->plugin[id];
            {
                np_inj_t *j = (np_inj_t *)m->host_in.p + L->slot;
                if (P && P->active && strcmp((const char *)j->data, UNLOAD) == 0) L->kind = K_UNLOAD;
                else if (P && P->active) {
                    L->kind = K_MSG;
                    np_pl_call_msg(m, P, t->idx, (const char *)j->data,
                                   P->replies[P->reply_head % NP_PL_REPLIES], NP_PL_MSG);
                }
                free(j->data); j->data = NULL;
            }
            if (!L->kind) continue;
            if (L->kind == K_UNLOAD) {
                /* stop taking packets, then drop what the plug-in holds */
                P->active = 0;
                while (P->npurge) {
                    L->h = P->purge[--P->npurge];
                    OP_FREE(t, R_FREE, L->h);
                    P = m->plugin[id];
                }
                for (L->k = 1; L->k < m->p.n_buffers; L->k++) {
                    if (!(P->held[L->k >> 3] >> (L->k & 7) & 1)) continue;
                    P->held[L->k >> 3] &= (uint8_t)~(1 << (L->k & 7));
                    P->nheld--;
                    np_drop_h(m, L->k, NP_DROP_PLUGIN_UNLOADED, I->id);
                    OP_FREE(t, R_FREE, L->k);
                }
                snprintf(P->replies[P->reply_head % NP_PL_REPLIES], NP_PL_MSG, "unloaded");
                P->reply_t[P->reply_head % NP_PL_REPLIES] = m->now;
                P->reply_head++;
                continue;
            }
        } else {                                                 /* periodic thread */
            P = m->plugin[id];
            if (!P || !P->active || !P->period) {
                OP_WAIT_SIG(t, STATE(int)[0]);
                continue;
            }
            if (L->next <= m->now) L->next = m->now + P->period;
            OP_WAIT_UNTIL(t, L->next);
            P = m->plugin[id];
            if (!P || !P->active) continue;
            L->next += P->period ? P->period : 1;
            L->kind = K_PER;
            np_pl_call_periodic(m, P, t->idx);
        }
        COUNT(C_CALLS, 1);
        /* replay the call's record */
        P = m->plugin[id];
        R = &P->recs[t->idx];
        for (L->k = 0; L->k < (uint32_t)R->n; L->k++) {
            COMPUTE(t, R->op[L->k].compute);
            if (R->op[L->k].kind == NP_PLR_MEM) {
                OP_MEM(t, R->op[L->k].mrole, R->op[L->k].flags, R->op[L->k].addr, R->op[L->k].bytes);
            } else if (R->op[L->k].kind == NP_PLR_ALLOC) {
                OP_RING_GET(t, R_BUFQ, NP_OPF_TRY);
                P = m->plugin[id];
                R = &P->recs[t->idx];
                np_pl_materialize(m, P, R, R->op[L->k].h, t->result == NP_R_OK ? (t->xin[0] & 0xFFFFFF) : 0);
            } else if (R->op[L->k].kind == NP_PLR_SIGNAL) {
                OP_SIGNAL(t, STATE(int)[0]);
            } else {                                             /* an exit */
                L->h = np_pl_real(R, R->op[L->k].h);
                if (!L->h) continue;                             /* its buffer could not be had */
                if (R->op[L->k].sub != VRH_X_DROP || R->op[L->k].a == NP_DROP_PLUGIN_DROP)
                    P->st.exits[R->op[L->k].sub]++;              /* exits the plug-in chose */
                if (R->op[L->k].sub == VRH_X_QM) {
                    np_desc_t *d = &m->desc[L->h];
                    d->out_port = (uint8_t)R->op[L->k].a;
                    d->qid = (uint16_t)R->op[L->k].b;
                    {
                        np_plc_qm_t e = { .handle = L->h, .qid = (uint32_t)R->op[L->k].b, .len = d->len, .stats = d->stats };
                        OP_RING_PUT_REC(t, R_QM, NP_OPF_POSTED, plc_qm, e);
                    }
                } else if (R->op[L->k].sub == VRH_X_MUX) {
                    if (R->op[L->k].a >= 0) m->desc[L->h].ptag = (uint8_t)R->op[L->k].a;
                    m->desc[L->h].flags &= (uint8_t)~NP_DF_PASSTHRU;
                    OP_FREE(t, R_MUX, L->h);                     /* a buffer handle onto Mux's plug-in input */
                } else if (R->op[L->k].sub == VRH_X_PLUGIN) {
                    L->slot = (uint32_t)R->op[L->k].a;
                    if (L->slot >= PL_PLUGINS || RING(R_PLUGIN + L->slot) < 0 || !slot_ok(m, L->slot)) {
                        np_drop_h(m, L->h, NP_DROP_NO_PLUGIN, I->id);
                        OP_FREE(t, R_FREE, L->h);
                        continue;
                    }
                    {
                        np_desc_t *d = &m->desc[L->h];
                        np_mux_plc_t e = { .handle = L->h, .out_port = d->out_port, .src = NP_SRC_PLUGIN, .ptag = d->ptag,
                                           .in_port = d->in_port, .qid = d->qid, .stats = d->stats, .len = d->len };
                        np_pack_mux_plc(L->e, &e);
                        OP_RING_PUT(t, R_PLUGIN + L->slot, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_mux_plc);
                    }
                    if (t->result == NP_R_FULL) {
                        np_drop_h(m, L->h, NP_DROP_PLUGIN_RING_FULL, I->id);
                        OP_FREE(t, R_FREE, L->h);
                    }
                } else if (R->op[L->k].sub == VRH_X_XSCALE) {
                    {
                        np_desc_t *d = &m->desc[L->h];
                        const uint8_t *f = np_pkt_data(m, L->h);
                        np_exc_t e = { .handle = L->h, .out_port = d->out_port, .ext = NP_XE(NP_EXC_PLUGIN),
                                       .ptag = d->ptag, .in_port = d->in_port, .qid = d->qid, .len = d->len,
                                       .ethertype = d->len >= 14 ? (uint32_t)(f[12] << 8 | f[13]) : 0 };
                        np_pack_exc(L->e, &e);
                        OP_RING_PUT(t, R_EXC, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_exc);
                    }
                    if (t->result == NP_R_FULL) {
                        np_drop_h(m, L->h, NP_DROP_EXC_RING_FULL, I->id);
                        OP_FREE(t, R_FREE, L->h);
                    }
                } else if (R->op[L->k].sub == VRH_X_DROP) {
                    np_drop_h(m, L->h, R->op[L->k].a, I->id);
                    OP_FREE(t, R_FREE, L->h);
                } else if (R->op[L->k].h & 0x80000000u) {         /* a new packet it holds */
                    P->held[L->h >> 3] |= (uint8_t)(1 << (L->h & 7));
                    P->nheld++;
                }
            }
            P = m->plugin[id];
            R = &P->recs[t->idx];
        }
        COMPUTE(t, R->tail);
        while (P->npurge) {                                      /* buffers of a replaced worker's packets */
            L->h = P->purge[--P->npurge];
            OP_FREE(t, R_FREE, L->h);
            P = m->plugin[id];
            R = &P->recs[t->idx];
        }
        if (L->kind == K_MSG) {
            P->reply_t[P->reply_head % NP_PL_REPLIES] = m->now + R->tail;
            P->reply_head++;
        }
    }
    PT_END(t);
}

static int plugin_init2(np_t *m, np_inst_t *x) {
    if (plugin_init(m, x)) return -1;
    int s = np_sig_alloc(m, 1);                 /* wakes the periodic thread */
    if (s < 0) return -1;
    *(int *)x->state = s;
    return 0;
}

NP_BLOCK(plugin, .doc = "A plug-in ME: runs user C code (plug-in API) and replays what each call cost",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(pl_l), .state = sizeof(int),
         .init = plugin_init2, .run = plugin_run);
