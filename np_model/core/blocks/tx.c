/* Tx -- transmit (NPR: 1 ME).
 *
 * Every thread serves both: transmit completions first (free the buffer,
 * give the TBUF room back to the QM scheduler of that port), then new
 * frames (header from the descriptor and payload from DRAM into TBUF).
 */
#include "block.h"

enum { R_IN, R_TXDONE, R_FREE, R_N };
enum { M_PKT, M_DESC, M_N };
enum { P_COST_BASE, P_COST_DONE, P_N };
enum { C_FRAMES, C_DONE, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "hf_tx", "frames from HdrFmt"),
    [R_TXDONE] = NP_IN("txdone", "txdone", "transmit completions the MSF pushes"),
    [R_FREE] = NP_OUT("free", "buf", "sent buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Tx: TBUF element setup"),
    [P_COST_DONE] = NP_COST("cost_done", 20, "Tx: transmit status, buffer free, QM credit"),
};
static const np_named_t counters[C_N] = {
    [C_FRAMES] = { "frames", "frames placed in TBUF" }, [C_DONE] = { "completions", "transmit completions" },
};

typedef struct { uint32_t h, port, len; } tx_l;

static void tx_run(np_t *m, np_thread_t *t) {
    tx_l *L = LOCALS(tx_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_WAIT_ANY(t, &RING(R_IN), 2);             /* slots R_IN, R_TXDONE */
        if (RING_READY(RING(R_TXDONE))) {
            OP_RING_GET(t, R_TXDONE, NP_OPF_TRY);
            if (t->result != NP_R_OK) continue;
            {
                np_txdone_t e;
                np_unpack_txdone(t->xin, &e);
                L->h = e.handle; L->port = e.port;
            }
            COMPUTE(t, PARAM(P_COST_DONE));
            COUNT(C_DONE, 1);
            m->port[L->port].tx_inflight -= np_fx_tbuf_need(m, m->desc[L->h].len);
            OP_SIGNAL(t, m->port[L->port].sig_credit);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        OP_RING_GET(t, R_IN, NP_OPF_TRY);
        if (t->result != NP_R_OK) continue;
        {
            np_hf_tx_t e;
            np_unpack_hf_tx(t->xin, &e);
            L->h = e.handle; L->port = e.port; L->len = e.len;
        }
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, PARAM(P_COST_BASE));
        COUNT(C_FRAMES, 1);
        OP_MEM(t, M_DESC, 0, (uint64_t)L->h * 32 + 16, 16);
        OP_MEM(t, M_PKT, 0, np_pkt_addr(m, L->h) + 14, L->len > 14 ? L->len - 14 : 1);
        OP_TX(t, L->port, L->h, L->len);
    }
    PT_END(t);
}

NP_BLOCK(tx, .doc = "Transmit: header and payload into the port's TBUF; completions free the buffer",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(tx_l), .run = tx_run);
