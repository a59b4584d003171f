/* Plug-in ME -- runs a user plug-in (NPR: 5 MEs, one plug-in each).
 *
 * In:  the plug-in's input ring (NPR layout, from PLC, Mux-bypassing
 *      plug-ins and other plug-ins); its message ring (text relayed by the
 *      control processor).
 * Out: PLC -> QM ring, plug-ins -> Mux ring, other plug-in rings, the
 *      exception ring, the free ring.
 * Threads 0-5 handle packets, thread 6 control messages, thread 7 the
 * periodic computation [C NPR-tour]. Each runs the plug-in's code for one
 * call (plugin_rt.c records what the call did and what it cost) and then
 * replays the record as ops: ALU cycles, memory references with their
 * latency, ring puts for the exits.
 * Drops: no_plugin, plugin_drop, plugin_budget, plugin_crash,
 *        plugin_hang, plugin_syscall, plugin_restart, plugin_unloaded,
 *        plugin_ring_full, exc_ring_full, no_buffer.
 * Packets a plug-in held when its worker was replaced are dropped by the
 * runtime (plugin_restart) and listed in P->purge; whichever thread
 * finishes a call next returns their buffers to the free list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../npcore.h"

enum { K_PKT = 1, K_MSG, K_PER, K_UNLOAD };

static const char UNLOAD[] = "\x01unload";

void np_blk_plugin(np_t *m, np_thread_t *t) {
    np_pl_l *L = &t->u.pl;
    int id = m->me[t->me].arg;
    np_plugin_t *P = m->plugin[id];
    np_plrec_t *R = P ? &P->recs[t->idx] : NULL;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        L->kind = 0;
        if (t->idx < NP_PL_PKT_THREADS) {                        /* packet thread */
            OP_RING_GET(t, NP_ROLE_PLUGIN0 + id, 0);
            L->h = NP_MUX_H(t->xin);
            t->pkt = m->desc[L->h].pkt;
            P = m->plugin[id];
            if (!P || !P->active) {
                np_drop_h(m, L->h, NP_DROP_NO_PLUGIN, NP_BLK_PLUGIN);
                OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                continue;
            }
            L->kind = K_PKT;
            np_pl_call_pkt(m, P, t->idx, L->h);
        } else if (t->idx == NP_PL_PKT_THREADS) {                /* message thread */
            OP_RING_GET(t, NP_ROLE_PLMSG0 + id, 0);
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
                m->plugin_on[id] = 0;
                while (P->npurge) {
                    L->h = P->purge[--P->npurge];
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                    P = m->plugin[id];
                }
                for (L->k = 1; L->k < m->p.n_buffers; L->k++) {
                    if (!(P->held[L->k >> 3] >> (L->k & 7) & 1)) continue;
                    P->held[L->k >> 3] &= (uint8_t)~(1 << (L->k & 7));
                    P->nheld--;
                    np_drop_h(m, L->k, NP_DROP_PLUGIN_UNLOADED, NP_BLK_PLUGIN);
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->k);
                }
                snprintf(P->replies[P->reply_head % NP_PL_REPLIES], NP_PL_MSG, "unloaded");
                P->reply_t[P->reply_head % NP_PL_REPLIES] = m->now;
                P->reply_head++;
                continue;
            }
        } else {                                                 /* periodic thread */
            P = m->plugin[id];
            if (!P || !P->active || !P->period) {
                OP_WAIT_SIG(t, NP_SIG_PLUGIN + id);
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
        /* replay the call's record */
        P = m->plugin[id];
        R = &P->recs[t->idx];
        for (L->k = 0; L->k < (uint32_t)R->n; L->k++) {
            COMPUTE(t, R->op[L->k].compute);
            if (R->op[L->k].kind == NP_PLR_MEM) {
                OP_MEM(t, R->op[L->k].mrole, R->op[L->k].flags, R->op[L->k].addr, R->op[L->k].bytes);
            } else if (R->op[L->k].kind == NP_PLR_ALLOC) {
                OP_RING_GET(t, NP_ROLE_BUFQ, NP_OPF_TRY);
                P = m->plugin[id];
                R = &P->recs[t->idx];
                np_pl_materialize(m, P, R, R->op[L->k].h, t->result == NP_R_OK ? t->xin[0] : 0);
            } else if (R->op[L->k].kind == NP_PLR_SIGNAL) {
                OP_SIGNAL(t, NP_SIG_PLUGIN + id);
            } else {                                             /* an exit */
                L->h = np_pl_real(R, R->op[L->k].h);
                if (!L->h) continue;                             /* its buffer could not be had */
                if (R->op[L->k].sub != VRH_X_DROP || R->op[L->k].a == NP_DROP_PLUGIN_DROP)
                    P->st.exits[R->op[L->k].sub]++;              /* exits the plug-in chose */
                if (R->op[L->k].sub == VRH_X_QM) {
                    np_desc_t *d = &m->desc[L->h];
                    d->out_port = (uint8_t)R->op[L->k].a;
                    d->qid = (uint16_t)R->op[L->k].b;
                    OP_RING_PUT(t, NP_ROLE_PLC_QM, NP_OPF_POSTED, L->h | (uint32_t)R->op[L->k].a << 24,
                                (uint32_t)R->op[L->k].b, m->desc[L->h].len);
                } else if (R->op[L->k].sub == VRH_X_MUX) {
                    if (R->op[L->k].a >= 0) m->desc[L->h].ptag = (uint8_t)R->op[L->k].a;
                    m->desc[L->h].flags &= (uint8_t)~NP_DF_PASSTHRU;
                    OP_RING_PUT(t, NP_ROLE_PLUG_MUX, NP_OPF_POSTED, L->h);
                } else if (R->op[L->k].sub == VRH_X_PLUGIN) {
                    L->slot = (uint32_t)R->op[L->k].a;
                    if (!m->plugin_on[L->slot] || m->role_ring[NP_ROLE_PLUGIN0 + L->slot] < 0) {
                        np_drop_h(m, L->h, NP_DROP_NO_PLUGIN, NP_BLK_PLUGIN);
                        OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                        continue;
                    }
                    {
                        np_desc_t *d = &m->desc[L->h];
                        uint32_t e[3];
                        np_fmt_mux(e, L->h, d->out_port, NP_SRC_PLUGIN, 0, d->ptag, d->in_port, d->qid, d->stats, d->len);
                        OP_RING_PUT(t, NP_ROLE_PLUGIN0 + L->slot, NP_OPF_POSTED | NP_OPF_TRY, e[0], e[1], e[2]);
                    }
                    if (t->result == NP_R_FULL) {
                        np_drop_h(m, L->h, NP_DROP_PLUGIN_RING_FULL, NP_BLK_PLUGIN);
                        OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                    }
                } else if (R->op[L->k].sub == VRH_X_XSCALE) {
                    {
                        np_desc_t *d = &m->desc[L->h];
                        uint32_t e[3];
                        np_fmt_mux(e, L->h, d->out_port, NP_SRC_PLUGIN, 0, d->ptag, d->in_port, d->qid, 0, d->len);
                        OP_RING_PUT(t, NP_ROLE_EXC, NP_OPF_POSTED | NP_OPF_TRY, e[0], NP_EXC_PLUGIN, e[2], 0, 0, 0x0800);
                    }
                    if (t->result == NP_R_FULL) {
                        np_drop_h(m, L->h, NP_DROP_EXC_RING_FULL, NP_BLK_PLUGIN);
                        OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
                    }
                } else if (R->op[L->k].sub == VRH_X_DROP) {
                    np_drop_h(m, L->h, R->op[L->k].a, NP_BLK_PLUGIN);
                    OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
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
            OP_RING_PUT(t, NP_ROLE_FREE, NP_OPF_POSTED, L->h);
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
