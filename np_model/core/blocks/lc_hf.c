/* LC Header Format -- the SPP line card's substrate header.
 *
 * Ingress: the frame becomes an internal frame (spp.h): Ethernet to the
 * board Lookup chose, from the fabric port, and an 802.1Q tag with the VID
 * of its context there, in front of the datagram (unchanged); it goes to
 * the line-card ingress queue Lookup chose. Egress: the tag comes off, the
 * Ethernet header goes to the next hop from the external port, and the
 * frame goes to the egress queue of its context -- unless its datagram is
 * longer than the port's MTU.
 * Drops: lc_mtu_exceeded.
 */
#include "spp.h"

enum { R_IN, R_OUT_IN, R_OUT_EG, R_FREE, R_N };
enum { M_PKT, M_N };
enum { P_COST_BASE, P_FABRIC, P_N };
enum { C_INGRESS, C_EGRESS, C_DROPS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "lc_res", "from Lookup"),
    [R_OUT_IN] = NP_OUT("out_ingress", "plc_qm", "internal frames to the ingress queue manager"),
    [R_OUT_EG] = NP_OUT("out_egress", "plc_qm", "external frames to the egress queue manager"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = { [M_PKT] = { "pkt", "packet buffers (DRAM)" } };
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Header Format: the substrate or Ethernet header"),
    [P_FABRIC] = NP_PARAM("fabric_port", 0, 0, 254, "port", "wiring", "the port to the fabric switch"),
};
static const np_named_t counters[C_N] = {
    [C_INGRESS] = { "ingress", "internal frames built" }, [C_EGRESS] = { "egress", "external frames built" },
    [C_DROPS] = { "drops", "datagrams longer than the port's MTU" },
};

typedef struct { uint32_t h, dir, qid, len, drop; } hf_l;

static void lc_hf_run(np_t *m, np_thread_t *t) {
    hf_l *L = LOCALS(hf_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_lc_res_t r;
            np_unpack_lc_res(t->xin, &r);
            L->h = r.handle; L->dir = r.dir; L->qid = r.qid; L->drop = 0;
            t->pkt = m->desc[L->h].pkt;
            uint64_t mac = (uint64_t)r.mac_hi << 16 | r.mac_lo;
            if (!r.dir) {
                spp_reframe(m, L->h, -4);
                spp_wr_l2(np_pkt_data(m, L->h), mac, m->port[PARAM(P_FABRIC)].mac[0], r.vid, 0x0800);
                COUNT(C_INGRESS, 1);
            } else if (m->desc[L->h].len - SPP_L2 > m->port[r.out_port].mtu) {
                L->drop = 1;
            } else {
                uint8_t *f;
                spp_reframe(m, L->h, 4);
                f = np_pkt_data(m, L->h);
                spp_wr_mac(f, mac);
                spp_wr_mac(f + 6, m->port[r.out_port].mac[0]);
                spp_wr16(f + 12, 0x0800);
                COUNT(C_EGRESS, 1);
            }
            m->desc[L->h].flags |= NP_DF_KEEP_L2;
            L->len = m->desc[L->h].len;
        }
        COMPUTE(t, PARAM(P_COST_BASE));
        if (L->drop) {
            COUNT(C_DROPS, 1);
            np_drop_h(m, L->h, NP_DROP_LC_MTU_EXCEEDED, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        OP_MEM(t, M_PKT, NP_OPF_WRITE | NP_OPF_POSTED, np_pkt_addr(m, L->h), L->dir ? 14 : SPP_L2);
        {
            np_plc_qm_t e = { .handle = L->h, .qid = L->qid, .len = L->len };
            OP_RING_PUT_REC(t, L->dir ? R_OUT_EG : R_OUT_IN, NP_OPF_POSTED, plc_qm, e);
        }
    }
    PT_END(t);
}

NP_BLOCK(lc_hf, .doc = "SPP LC Header Format: 802.1Q internal header in (ingress), Ethernet to the next hop (egress)",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(hf_l), .run = lc_hf_run);
