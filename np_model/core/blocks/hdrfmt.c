/* HdrFmt -- header format (NPR: 1 ME).
 *
 * Writes the outgoing Ethernet header (next-hop MAC, the port's MAC,
 * EtherType IPv4) into the descriptor, from where Tx puts it in front of
 * the packet; copies that share one buffer thus each get their own header.
 * Frames the control processor built whole (KEEP_L2) are left as they are.
 */
#include "block.h"

enum { R_IN, R_OUT, R_N };
enum { M_DESC, M_N };
enum { P_COST_BASE, P_N };
enum { C_PKTS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "qm_hf", "from QM"), [R_OUT] = NP_OUT("out", "hf_tx", "to Tx"),
};
static const np_named_t mems[M_N] = { [M_DESC] = { "desc", "buffer descriptors (SRAM)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "HdrFmt: Ethernet header build"),
};
static const np_named_t counters[C_N] = { [C_PKTS] = { "packets", "headers written" } };

typedef struct { uint32_t h, port, len; } hf_l;

static void put_mac(uint8_t *p, uint64_t mac) {
    for (int i = 5; i >= 0; i--) { p[i] = (uint8_t)mac; mac >>= 8; }
}

static void hdrfmt_run(np_t *m, np_thread_t *t) {
    hf_l *L = LOCALS(hf_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_qm_hf_t e;
            np_unpack_qm_hf(t->xin, &e);
            L->h = e.handle; L->port = e.port;
        }
        t->pkt = m->desc[L->h].pkt;
        L->len = m->desc[L->h].len;
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_DESC, 0, (uint64_t)L->h * 32, 16);
        {
            np_desc_t *d = &m->desc[L->h];
            if (!(d->flags & NP_DF_KEEP_L2)) {
                put_mac(d->l2, d->nh_mac & 0xFFFFFFFFFFFFULL);
                put_mac(d->l2 + 6, m->port[L->port].mac[0]);
                d->l2[12] = 0x08; d->l2[13] = 0x00;
                d->l2len = 14;
            }
            COUNT(C_PKTS, 1);
        }
        OP_MEM(t, M_DESC, NP_OPF_WRITE | NP_OPF_POSTED, (uint64_t)L->h * 32 + 16, 16);
        {
            np_hf_tx_t e = { .handle = L->h, .port = L->port, .len = L->len };
            OP_RING_PUT_REC(t, R_OUT, 0, hf_tx, e);
        }
    }
    PT_END(t);
}

NP_BLOCK(hdrfmt, .doc = "Header format: the outgoing Ethernet header into the descriptor",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(hf_l), .run = hdrfmt_run);
