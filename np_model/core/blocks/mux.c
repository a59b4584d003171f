/* Mux -- merge new, control-processor and plug-in packets (NPR: 1 ME).
 *
 * In:  Rx -> Mux, plug-ins -> Mux, XScale -> Mux rings {handle, ...}.
 * Out: Mux -> PLC ring in the NPR layout (see np_fmt_mux).
 * Inputs are served by deficit round robin with per-input quanta in
 * packets (cost keys MUX_Q_RX, MUX_Q_PLUGIN, MUX_Q_XSCALE; the NPR daemon's
 * DEF_MUX_*_QUANTUM are 256 : 128 : 16 [C-code], the unit is [U]).
 */
#include "../npcore.h"

static const int mux_roles[3] = { NP_ROLE_RX_MUX, NP_ROLE_PLUG_MUX, NP_ROLE_XS_MUX };

static int mux_nonempty(np_t *m, int i) {
    int ri = m->role_ring[mux_roles[i]];
    return ri >= 0 && ((m->ring_nonempty >> ri) & 1);
}

static uint64_t mux_mask(np_t *m) {
    uint64_t mask = 0;
    for (int i = 0; i < 3; i++) if (m->role_ring[mux_roles[i]] >= 0) mask |= 1ULL << m->role_ring[mux_roles[i]];
    return mask;
}

/* Deficit round robin over the inputs that have packets. */
static int mux_pick(np_t *m) {
    const uint32_t quantum[3] = { m->cost[NP_C_MUX_Q_RX], m->cost[NP_C_MUX_Q_PLUGIN], m->cost[NP_C_MUX_Q_XSCALE] };
    for (int k = 0; k < 7; k++) {
        int i = m->mux_cur;
        if (mux_nonempty(m, i)) {
            if (m->mux_deficit[i] > 0) { m->mux_deficit[i]--; return mux_roles[i]; }
        } else m->mux_deficit[i] = 0;
        m->mux_cur = (i + 1) % 3;
        if (mux_nonempty(m, m->mux_cur)) m->mux_deficit[m->mux_cur] += (int32_t)(quantum[m->mux_cur] ? quantum[m->mux_cur] : 1);
    }
    return -1;
}

void np_blk_mux(np_t *m, np_thread_t *t) {
    np_mux_l *L = &t->u.mux;
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_WAIT_ANY(t, mux_mask(m));
        L->r = mux_pick(m);
        if (L->r < 0) continue;
        COMPUTE(t, m->cost[NP_C_MUX_BASE]);
        OP_RING_GET(t, L->r, NP_OPF_TRY);
        if (t->result != NP_R_OK) continue;
        {
            uint32_t h = t->xin[0];
            np_desc_t *d = &m->desc[h];
            uint32_t src = L->r == NP_ROLE_RX_MUX ? NP_SRC_RX : L->r == NP_ROLE_XS_MUX ? NP_SRC_XSCALE : NP_SRC_PLUGIN;
            t->pkt = d->pkt;
            d->src = (uint8_t)src;
            np_fmt_mux(L->e, h, d->out_port, src, (d->flags & NP_DF_PASSTHRU) != 0, d->ptag,
                       d->in_port, d->qid, d->stats, d->len);
        }
        OP_RING_PUT(t, NP_ROLE_MUX_PLC, NP_OPF_POSTED, L->e[0], L->e[1], L->e[2]);
    }
    PT_END(t);
}
