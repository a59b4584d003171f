/* Mux -- merge new, plug-in and control-processor packets (NPR: 1 ME).
 *
 * Four inputs served by deficit round robin with per-input quanta in
 * packets: Rx, plug-ins, XScale -> QM (pass-through) and XScale -> the
 * classifying path; the NPR daemon's DEF_MUX_*_QUANTUM are 256 : 128 : 16 :
 * 16 [C-code] (that the unit is packets is [U]). Every packet leaves in the
 * NPR's Mux -> PLC layout, Src and PassThrough flags set.
 */
#include "block.h"

enum { R_IN_RX, R_IN_PLUGIN, R_IN_XS_QM, R_IN_XS, R_OUT, R_N };
enum { P_COST_BASE, P_Q_RX, P_Q_PLUGIN, P_Q_XS_QM, P_Q_XS, P_N };
enum { C_RX, C_PLUGIN, C_XS_QM, C_XS, C_N };
#define N_IN 4

static const np_ring_port_t rings[R_N] = {
    [R_IN_RX] = NP_IN("in_rx", "rx_mux", "new packets from Rx"),
    [R_IN_PLUGIN] = NP_IN_OPT("in_plugin", "buf", "packets plug-ins send back to be classified"),
    [R_IN_XS_QM] = NP_IN_OPT("in_xs_qm", "buf", "control-processor packets for a queue (pass-through)"),
    [R_IN_XS] = NP_IN_OPT("in_xs", "buf", "control-processor packets to classify"),
    [R_OUT] = NP_OUT("out", "mux_plc", "to PLC"),
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 30, "Mux: arbitration and entry build"),
    [P_Q_RX] = NP_PARAM("quantum_rx", 256, 1, 1 << 20, "packets", "code", "ONLdaemons DEF_MUX_RX_QUANTUM (unit [U])"),
    [P_Q_PLUGIN] = NP_PARAM("quantum_plugin", 128, 1, 1 << 20, "packets", "code", "ONLdaemons DEF_MUX_PLUGIN_QUANTUM (unit [U])"),
    [P_Q_XS_QM] = NP_PARAM("quantum_xs_qm", 16, 1, 1 << 20, "packets", "code", "ONLdaemons DEF_MUX_XSCALE_QM_QUANTUM (unit [U])"),
    [P_Q_XS] = NP_PARAM("quantum_xs", 16, 1, 1 << 20, "packets", "code", "ONLdaemons DEF_MUX_XSCALE_PLUGIN_QUANTUM (unit [U])"),
};
static const np_named_t counters[C_N] = {
    [C_RX] = { "from_rx", "packets taken from Rx" }, [C_PLUGIN] = { "from_plugin", "from plug-ins" },
    [C_XS_QM] = { "from_xs_qm", "pass-through from the control processor" },
    [C_XS] = { "from_xs", "from the control processor, to classify" },
};

typedef struct { int32_t deficit[N_IN]; int cur; } mux_state;
typedef struct { int in; uint32_t e[NP_W_mux_plc]; } mux_l;

static const uint32_t src_of[N_IN] = { NP_SRC_RX, NP_SRC_PLUGIN, NP_SRC_XSCALE, NP_SRC_XSCALE };

/* Deficit round robin over the inputs that have packets. */
static int mux_pick(np_t *m, np_thread_t *t) {
    mux_state *S = STATE(mux_state);
    for (int k = 0; k < 2 * N_IN + 1; k++) {
        int i = S->cur;
        if (RING_READY(RING(R_IN_RX + i))) {
            if (S->deficit[i] > 0) { S->deficit[i]--; return i; }
        } else S->deficit[i] = 0;
        S->cur = (i + 1) % N_IN;
        if (RING_READY(RING(R_IN_RX + S->cur))) S->deficit[S->cur] += (int32_t)PARAM(P_Q_RX + S->cur);
    }
    return -1;
}

static void mux_run(np_t *m, np_thread_t *t) {
    mux_l *L = LOCALS(mux_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_WAIT_ANY(t, &RING(R_IN_RX), N_IN);
        L->in = mux_pick(m, t);
        if (L->in < 0) continue;
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_RING_GET(t, R_IN_RX + L->in, NP_OPF_TRY);
        if (t->result != NP_R_OK) continue;
        {
            uint32_t h = t->xin[0] & 0xFFFFFF;
            np_desc_t *d = &m->desc[h];
            t->pkt = d->pkt;
            d->src = (uint8_t)src_of[L->in];
            COUNT(C_RX + L->in, 1);
            np_mux_plc_t e = { .handle = h, .out_port = d->out_port, .src = d->src,
                               .pt = (d->flags & NP_DF_PASSTHRU) != 0, .ptag = d->ptag, .in_port = d->in_port,
                               .qid = d->qid, .stats = d->stats, .len = d->len };
            np_pack_mux_plc(L->e, &e);
        }
        OP_RING_PUT(t, R_OUT, NP_OPF_POSTED, L->e, NP_W_mux_plc);
    }
    PT_END(t);
}

NP_BLOCK(mux, .doc = "Merge Rx, plug-in and control-processor packets by DRR into the Mux -> PLC ring",
         .rings = NP_ARRAY(rings), .params = NP_ARRAY(params), .counters = NP_ARRAY(counters),
         .locals = sizeof(mux_l), .state = sizeof(mux_state), .run = mux_run);
