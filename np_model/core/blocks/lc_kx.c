/* LC Key Extract -- the SPP line card's first stage after Rx.
 *
 * Ingress (a frame from an external port): the frame must be addressed to
 * the port (its MAC, or a group address); an IPv4 datagram is checked as a
 * router must (RFC 1812 5.2.2: version, header length, total length,
 * checksum), cut to its total length, and its key taken: destination
 * address, protocol and -- UDP or TCP, first fragment -- destination port
 * [SPP "Line Card Key Extract", virtual_routers.md 1.4]. Other EtherTypes
 * (ARP) go to the line card's control processor (exception non_ip).
 * Egress (a frame from the fabric port): an internal frame (spp.h) without
 * a meta header carrying a valid IPv4 datagram; its key is the VID (the
 * egress context) and the datagram's destination (for its next hop).
 * Drops: l2_not_for_router, ip_bad_version, ip_bad_ihl, ip_bad_length,
 *        ip_bad_checksum, substrate_bad_header, exc_ring_full.
 */
#include "spp.h"

enum { R_IN, R_OUT, R_EXC, R_FREE, R_N };
enum { M_PKT, M_DESC, M_N };
enum { P_COST_BASE, P_COST_CHECK, P_FABRIC, P_N };
enum { C_INGRESS, C_EGRESS, C_TO_HOST, C_DROPS, C_N };

static const np_ring_port_t rings[R_N] = {
    [R_IN] = NP_IN("in", "rx_mux", "frames from Rx"),
    [R_OUT] = NP_OUT("out", "lc_key", "to Lookup"),
    [R_EXC] = NP_OUT_OPT("exc", "exc", "non-IPv4 frames to the control processor"),
    [R_FREE] = NP_OUT("free", "buf", "dropped buffers to FreeList"),
};
static const np_named_t mems[M_N] = {
    [M_PKT] = { "pkt", "packet buffers (DRAM)" }, [M_DESC] = { "desc", "buffer descriptors (SRAM)" },
};
static const np_param_desc_t params[P_N] = {
    [P_COST_BASE] = NP_COST("cost_base", 40, "Key Extract: ring entry, descriptor"),
    [P_COST_CHECK] = NP_COST("cost_check", 60, "Key Extract: Ethernet, IPv4 checks, key build"),
    [P_FABRIC] = NP_PARAM("fabric_port", 0, 0, 254, "port", "wiring", "the port to the fabric switch"),
};
static const np_named_t counters[C_N] = {
    [C_INGRESS] = { "ingress", "frames from external ports keyed" }, [C_EGRESS] = { "egress", "frames from the fabric keyed" },
    [C_TO_HOST] = { "to_host", "non-IPv4 frames to the control processor" }, [C_DROPS] = { "drops", "frames dropped" },
};

typedef struct { uint32_t h, port, len, reason; uint32_t e[NP_XWORDS]; } kx_l;

/* RFC 1812 5.2.2 on the datagram at ip (avail bytes): 0 or the drop reason. */
static int ip_reason(const uint8_t *ip, uint32_t avail) {
    if (avail < 20) return NP_DROP_IP_BAD_LENGTH;
    if ((ip[0] >> 4) != 4) return NP_DROP_IP_BAD_VERSION;
    if ((ip[0] & 15) < 5) return NP_DROP_IP_BAD_IHL;
    uint32_t ihl = (ip[0] & 15) * 4u, tot = spp_rd16(ip + 2);
    if (tot < ihl || tot > avail) return NP_DROP_IP_BAD_LENGTH;
    if (!spp_csum_ok(ip, (int)ihl)) return NP_DROP_IP_BAD_CHECKSUM;
    return 0;
}

/* The functional work: the key entry in L->e, 1 for the control processor, or -reason. */
static int kx(np_t *m, np_thread_t *t, kx_l *L) {
    uint8_t *f = np_pkt_data(m, L->h);
    np_lc_key_t k = { .handle = L->h, .in_port = L->port };
    if (L->len < 14) return -NP_DROP_SUBSTRATE_BAD_HEADER;
    uint64_t dst = spp_rd_mac(f);
    if ((int)L->port == (int)PARAM(P_FABRIC)) {                          /* egress */
        if (!np_port_has_mac(&m->port[L->port], dst)) return -NP_DROP_L2_NOT_FOR_ROUTER;
        if (L->len < SPP_L2 + 20 || spp_rd16(f + 12) != SPP_TPID || spp_rd16(f + 16) != 0x0800)
            return -NP_DROP_SUBSTRATE_BAD_HEADER;
        if (ip_reason(f + SPP_L2, L->len - SPP_L2)) return -NP_DROP_SUBSTRATE_BAD_HEADER;
        uint32_t tot = spp_rd16(f + SPP_L2 + 2);
        if (SPP_L2 + tot < L->len) { L->len = SPP_L2 + tot; m->desc[L->h].len = L->len; }
        k.dir = 1; k.vid = spp_rd16(f + 14) & 0xFFF; k.daddr = spp_rd32(f + SPP_L2 + 16);
        COUNT(C_EGRESS, 1);
    } else {                                                              /* ingress */
        if (!np_port_has_mac(&m->port[L->port], dst) && !(f[0] & 1)) return -NP_DROP_L2_NOT_FOR_ROUTER;
        if (spp_rd16(f + 12) != 0x0800) return 1;
        const uint8_t *ip = f + 14;
        int r = ip_reason(ip, L->len - 14);
        if (r) return -r;
        uint32_t ihl = (ip[0] & 15) * 4u, tot = spp_rd16(ip + 2);
        if (14 + tot < L->len) { L->len = 14 + tot; m->desc[L->h].len = L->len; }
        k.daddr = spp_rd32(ip + 16); k.proto = ip[9];
        if ((spp_rd16(ip + 6) & 0x1FFF) == 0 && (ip[9] == 17 || ip[9] == 6) && tot >= ihl + 4)
            k.dport = spp_rd16(ip + ihl + 2);
        COUNT(C_INGRESS, 1);
    }
    k.len = L->len;
    np_pack_lc_key(L->e, &k);
    return 0;
}

static void lc_kx_run(np_t *m, np_thread_t *t) {
    kx_l *L = LOCALS(kx_l);
    PT_BEGIN(t);
    for (;;) {
        t->pkt = NP_NO_PKT;
        OP_RING_GET(t, R_IN, 0);
        {
            np_rx_mux_t e;
            np_unpack_rx_mux(t->xin, &e);
            L->h = e.handle; L->port = e.in_port; L->len = e.len;
        }
        t->pkt = m->desc[L->h].pkt;
        COMPUTE(t, PARAM(P_COST_BASE));
        OP_MEM(t, M_PKT, 0, np_pkt_addr(m, L->h), L->len < 64 ? L->len : 64);
        COMPUTE(t, PARAM(P_COST_CHECK));
        L->reason = (uint32_t)kx(m, t, L);
        if (L->reason == 1) {                               /* to the control processor */
            if (RING(R_EXC) < 0) L->reason = (uint32_t)-NP_DROP_EXC_RING_FULL;
            else {
                np_exc_t x = { .handle = L->h, .exc_bits = NP_XB_NON_IP, .in_port = L->port & 7, .len = L->len,
                               .ethertype = spp_rd16(np_pkt_data(m, L->h) + 12) };
                np_pack_exc(L->e, &x);
                OP_RING_PUT(t, R_EXC, NP_OPF_POSTED | NP_OPF_TRY, L->e, NP_W_exc);
                if (t->result == NP_R_OK) { COUNT(C_TO_HOST, 1); continue; }
                L->reason = (uint32_t)-NP_DROP_EXC_RING_FULL;
            }
        }
        if (L->reason) {
            COUNT(C_DROPS, 1);
            np_drop_h(m, L->h, -(int)L->reason, I->id);
            OP_FREE(t, R_FREE, L->h);
            continue;
        }
        OP_RING_PUT(t, R_OUT, NP_OPF_POSTED, L->e, NP_W_lc_key);
    }
    PT_END(t);
}

NP_BLOCK(lc_kx, .doc = "SPP LC Key Extract: external frames -> (dst IP, protocol, port); fabric frames -> VID",
         .rings = NP_ARRAY(rings), .mems = NP_ARRAY(mems), .params = NP_ARRAY(params),
         .counters = NP_ARRAY(counters), .locals = sizeof(kx_l), .run = lc_kx_run);
