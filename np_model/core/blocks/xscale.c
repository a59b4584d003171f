/* XScale -- the control processor's side of the data path.
 *
 * Thread 0 (receive) polls the error, local-delivery and exception rings in
 * that order [C-code nprd_datapathconn.cc], copies each packet out to the
 * host and frees its buffer. Thread 1 (transmit) takes packets the host
 * injects, places them in a buffer and sends them to Mux: pass-through
 * packets (their port and QID given) on the XScale -> QM input, the others
 * on the input that is classified; control messages for plug-ins are
 * relayed to the plug-in's message ring [C NPR-msg].
 * Drops: host_no_buffer.
 */
#include <stdlib.h>
#include "block.h"

#define XS_PLUGINS 16
enum { R_ERR, R_LD, R_EXC, R_HOST_IN, R_TO_MUX, R_TO_MUX_QM, R_FREE, R_BUFQ, R_PLMSG, R_N = R_PLMSG + XS_PLUGINS };
enum { M_PKT, M_DESC, M_N };
enum { P_COST_RX, P_COST_TX, P_N };
enum { C_TO_HOST, C_FROM_HOST, C_MESSAGES, C_NO_BUFFER, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_ERR] = NP_IN_OPT("err", "exc", "errors (polled first)"),
    [R_LD] = NP_IN("ld", "exc", "local delivery"),
    [R_EXC] = NP_IN("exc", "exc", "exceptions"),
    [R_HOST_IN] = NP_IN_OPT("host_in", "host_in", "frames and messages the host sends"),
    [R_TO_MUX] = NP_OUT_OPT("to_mux", "buf", "host frames to classify"),
    [R_TO_MUX_QM] = NP_OUT_OPT("to_mux_qm", "buf", "host frames for a given queue (pass-through)"),
    [R_FREE] = NP_OUT("free", "buf", "buffers to FreeList"),
    [R_BUFQ] = NP_IN_OPT("bufq", "buf", "the buffer free list"),
    [R_PLMSG] = NP_OUT_ARRAY("plmsg", XS_PLUGINS, "plmsg", "control messages, by plug-in slot"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_RX] = NP_COST("cost_rx", 2800, "control processor: ~2 us per packet to the host"),
    [P_COST_TX] = NP_COST("cost_tx", 2800, "control processor: ~2 us per packet from the host"),
};
static const np_named_t counters[C_N] = {
    [C_TO_HOST] = { "to_host", "packets handed to the host" }, [C_FROM_HOST] = { "from_host", "host packets sent into Mux" },
    [C_MESSAGES] = { "messages", "control messages relayed" }, [C_NO_BUFFER] = { "no_buffer", "host packets with no free buffer" },
};

typedef struct { uint32_t h, len, r, slot, e[NP_XWORDS]; } xs_l;

static int xs_pick(np_t *m, np_thread_t *t) {
    static const int order[3] = { R_ERR, R_LD, R_EXC };
    for (int i = 0; i < 3; i++) if (RING_READY(RING(order[i]))) return order[i];
    return -1;
}

static void xs_fill(np_t *m, uint32_t h, np_inj_t *j) {
    np_desc_t *d = &m->desc[h];
    memset(d, 0, sizeof *d);
    d->pkt = j->id; d->t_rx = m->now; d->len = j->len; d->data = h; d->refcnt = 1; d->off = NP_BUF_DATA_OFFSET;
    d->in_port = (uint8_t)(j->in_port < 0 ? 0 : j->in_port);
    d->out_port = (uint8_t)(j->out_port < 0 ? 0 : j->out_port);
    d->qid = (uint16_t)j->qid; d->ptag = (uint8_t)j->ptag; d->src = NP_SRC_XSCALE;
    d->flags = NP_DF_LIVE | NP_DF_HOST;
    d->slot = np_slot_alloc(m);
    if (j->flags & NP_INJ_PASSTHRU) d->flags |= NP_DF_PASSTHRU;
    if (j->flags & NP_INJ_KEEP_L2) d->flags |= NP_DF_KEEP_L2;
    memcpy(np_pkt_data(m, h), j->data, j->len);
}

static void xscale_run(np_t *m, np_thread_t *t) {
    xs_l *L = LOCALS(xs_l);
    PT_BEGIN(t);
    if (t->idx == 0) {
        for (;;) {                                       /* receive path */
            t->pkt = NP_NO_PKT;
            OP_WAIT_ANY(t, &RING(R_ERR), 3);
            L->r = (uint32_t)xs_pick(m, t);
            if ((int)L->r < 0) continue;
            OP_RING_GET(t, L->r, NP_OPF_TRY);
            if (t->result != NP_R_OK) continue;
            memcpy(L->e, t->xin, sizeof L->e);
            L->h = L->e[0] & 0xFFFFFF;
            t->pkt = m->desc[L->h].pkt;
            L->len = m->desc[L->h].len;
            COMPUTE(t, PARAM(P_COST_RX));
            COUNT(C_TO_HOST, 1);
            OP_MEM(t, M_PKT, 0, np_pkt_addr(m, L->h), L->len);
            OP_HOST(t, RING(L->r), L->e);
            OP_FREE(t, R_FREE, L->h);
        }
    }
    if (t->idx != 1 || RING(R_HOST_IN) < 0) OP_HALT(t);
    for (;;) {                                           /* transmit path */
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_HOST_IN, 0);
        {
            np_host_in_t e;
            np_unpack_host_in(t->xin, &e);
            L->r = e.slot;
        }
        COMPUTE(t, PARAM(P_COST_TX));
        if (((np_inj_t *)m->host_in.p)[L->r].flags & NP_INJ_MSG) {
            /* a control message: relay it to the plug-in's message ring */
            L->slot = (uint32_t)((np_inj_t *)m->host_in.p)[L->r].out_port;
            L->e[0] = L->r;
            t->result = NP_R_FULL;
            if (L->slot < XS_PLUGINS && RING(R_PLMSG + L->slot) >= 0) {
                COUNT(C_MESSAGES, 1);
                OP_RING_PUT(t, R_PLMSG + L->slot, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_plmsg);
            }
            if (t->result == NP_R_FULL) {
                np_inj_t *j = (np_inj_t *)m->host_in.p + L->r;
                free(j->data); j->data = NULL;
            }
            continue;
        }
        t->pkt = ((np_inj_t *)m->host_in.p)[L->r].id;
        OP_RING_GET(t, R_BUFQ, NP_OPF_TRY);
        {
            np_inj_t *j = (np_inj_t *)m->host_in.p + L->r;
            if (t->result != NP_R_OK) {
                COUNT(C_NO_BUFFER, 1);
                np_count_drop(m, NP_DROP_HOST_NO_BUFFER, j->id, j->in_port < 0 ? 0 : j->in_port, I->id);
                free(j->data); j->data = NULL;
                continue;
            }
            L->h = t->xin[0] & 0xFFFFFF;
            xs_fill(m, L->h, j);
            np_buf_taken(m, L->h);
            L->len = j->len;
            L->slot = (j->flags & NP_INJ_PASSTHRU) ? R_TO_MUX_QM : R_TO_MUX;
            free(j->data); j->data = NULL;
        }
        COUNT(C_FROM_HOST, 1);
        OP_MEM(t, M_PKT, NP_OPF_WRITE, np_pkt_addr(m, L->h), L->len);
        OP_MEM(t, M_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32, 32);
        OP_FREE(t, L->slot, L->h);        /* a buffer handle onto the chosen Mux input */
    }
    PT_END(t);
}

NP_BLOCK(xscale, .doc = "Control processor: exceptions and local delivery to the host; host packets into Mux; plug-in messages",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(xs_l), .run = xscale_run);
