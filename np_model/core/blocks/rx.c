/* Rx -- receive (NPR: 2 MEs).
 *
 * Per frame: take a free buffer (SRAM dequeue), move the frame RBUF -> DRAM,
 * release the RBUF elements, write the descriptor, hand the packet to Mux.
 * A frame whose input port already holds `port_buffers` packet buffers is
 * dropped (port_buffers) so one congested port cannot take every buffer;
 * 0 means no limit, the NPR's shared pool.
 * Drops: no_buffer, port_buffers.
 */
#include "block.h"

enum { R_IN, R_BUFQ, R_OUT, R_N };
enum { M_PKT, M_DESC, M_N };
enum { P_COST_BASE, P_COST_PER_MPKT, P_PORT_BUFFERS, P_N };
enum { C_FRAMES, C_BYTES, C_NO_BUFFER, C_PORT_BUFFERS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "rbuf_status", "receive status the MSF pushes"),
    [R_BUFQ] = NP_IN("bufq", "buf", "the buffer free list"),
    [R_OUT] = NP_OUT("out", "rx_mux", "to Mux"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 60, "Rx: RBUF status, buffer setup"),
    [P_COST_PER_MPKT] = NP_COST("cost_per_mpkt", 20, "Rx: per 64-B mpacket moved"),
    [P_PORT_BUFFERS] = NP_PARAM("port_buffers", 0, 0, 1 << 24, "buffers", "code",
                                "NPR: one shared pool, no per-port limit (0); a limit protects other ports"),
};
static const np_named_t counters[C_N] = {
    [C_FRAMES] = { "frames", "frames moved into buffers" }, [C_BYTES] = { "bytes", "their bytes" },
    [C_NO_BUFFER] = { "no_buffer", "frames dropped: free list empty" },
    [C_PORT_BUFFERS] = { "port_buffers", "frames dropped: input port's buffer share used up" },
};

typedef struct { uint32_t slot, port, len, h; } rx_l;

static void rx_fill(np_t *m, uint32_t h, const np_rbuf_slot_t *s) {
    np_desc_t *d = &m->desc[h];
    memset(d, 0, sizeof *d);
    d->pkt = s->id; d->t_rx = s->t_end; d->len = s->len; d->data = h; d->refcnt = 1; d->off = NP_BUF_DATA_OFFSET;
    d->in_port = s->port; d->meta = s->meta; d->src = NP_SRC_RX; d->flags = NP_DF_LIVE;
    d->slot = np_slot_alloc(m);
    memcpy(np_pkt_data(m, h), s->data, s->len);
}

static void rx_run(np_t *m, np_thread_t *t) {
    rx_l *L = LOCALS(rx_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_rbuf_status_t st;
            np_unpack_rbuf_status(t->xin, &st);
            L->slot = st.element; L->port = st.port; L->len = st.len;
        }
        t->pkt = m->rbuf[L->slot].id;
        COMPUTE(t, PARAM(P_COST_BASE) + PARAM(P_COST_PER_MPKT) * np_fx_rbuf_elems(m, L->len));
        if (PARAM(P_PORT_BUFFERS) && m->port[L->port].bufs_held >= (uint64_t)PARAM(P_PORT_BUFFERS)) {
            COUNT(C_PORT_BUFFERS, 1);
            np_count_drop(m, NP_DROP_PORT_BUFFERS, t->pkt, (int)L->port, I->id);
            OP_RBUF_FREE(t, L->slot);
            continue;
        }
        OP_RING_GET(t, R_BUFQ, NP_OPF_TRY);
        if (t->result != NP_R_OK) {
            COUNT(C_NO_BUFFER, 1);
            np_count_drop(m, NP_DROP_NO_BUFFER, t->pkt, (int)L->port, I->id);
            OP_RBUF_FREE(t, L->slot);
            continue;
        }
        L->h = t->xin[0] & 0xFFFFFF;
        rx_fill(m, L->h, &m->rbuf[L->slot]);
        m->rbuf[L->slot].used = 2;          /* the packet is in its buffer now; the elements free soon */
        np_buf_taken(m, L->h);
        COUNT(C_FRAMES, 1); COUNT(C_BYTES, L->len);
        OP_MEM(t, M_PKT, NP_OPF_WRITE, np_pkt_addr(m, L->h), L->len);
        OP_RBUF_FREE(t, L->slot);
        OP_MEM(t, M_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32, 32);
        {
            np_rx_mux_t e = { .handle = L->h, .in_port = L->port, .len = L->len };
            OP_RING_PUT_REC(t, R_OUT, NP_OPF_POSTED, rx_mux, e);
        }
    }
    PT_END(t);
}

NP_BLOCK(rx, .doc = "Receive: RBUF to a DRAM buffer and a descriptor, then to Mux",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(rx_l), .run = rx_run);
