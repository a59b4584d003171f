/* formats.h -- every ring-entry and table-record format, declared once.
 *
 * Like scapy's fields_desc: a format is a list of fields F(name, word, lsb,
 * width) over 32-bit words (a field never crosses a word). From this one
 * declaration the core gets, per format, a struct np_<fmt>_t, np_pack_<fmt>()
 * and np_unpack_<fmt>(); Python gets the same layout through np_format_*()
 * (np_model/formats.py builds its encoders and decoders from it), so the C
 * packing and the Python decoder cannot disagree.
 *
 * Sources: [C DeHart-rings] for the Mux->PLC, PLC->plug-in and PLC->XScale
 * layouts (the order of the fields inside a word is the model's: LSB first);
 * [C-code npr_tcam.ini] for the TCAM keys and the result record. Formats the
 * sources do not give are the model's own and say so ([U]).
 */
#ifndef NP_FORMATS_H
#define NP_FORMATS_H

#include <stdint.h>
#include <string.h>

/* ---- ring entries ---- */
#define NP_FMT_buf(F) F(handle, 0, 0, 24)
#define NP_FMT_rbuf_status(F) F(element, 0, 0, 16) F(port, 0, 16, 8) F(len, 1, 0, 16)
#define NP_FMT_txdone(F) F(handle, 0, 0, 24) F(port, 0, 24, 8)
#define NP_FMT_host_in(F) F(slot, 0, 0, 32)
#define NP_FMT_rx_mux(F) F(handle, 0, 0, 24) F(in_port, 0, 24, 8) F(len, 1, 0, 16)
#define NP_FMT_mux_plc(F)                                                          \
    F(handle, 0, 0, 24) F(out_port, 0, 24, 4) F(rsv, 0, 28, 4)                     \
    F(src, 1, 0, 2) F(pt, 1, 2, 1) F(flags_rsv, 1, 3, 5) F(ptag, 1, 8, 5)          \
    F(in_port, 1, 13, 3) F(qid, 1, 16, 16)                                         \
    F(stats, 2, 0, 16) F(len, 2, 16, 16)
/* PLC -> XScale (and plug-in -> XScale): the Mux->PLC fields with the flags
 * byte holding the exception bit vector (NP_XB_*), plus next-hop MAC, the
 * unicast/multicast bits and the EtherType [C DeHart-rings]. `ext` (the
 * reserved nibble of word 0) carries the model's reasons the NPR's six bits
 * do not name (NP_XE_*). */
#define NP_FMT_exc(F)                                                              \
    F(handle, 0, 0, 24) F(out_port, 0, 24, 4) F(ext, 0, 28, 4)                     \
    F(exc_bits, 1, 0, 8) F(ptag, 1, 8, 5) F(in_port, 1, 13, 3) F(qid, 1, 16, 16)   \
    F(stats, 2, 0, 16) F(len, 2, 16, 16)                                           \
    F(nh_mac_hi, 3, 0, 32) F(nh_mac_lo, 4, 0, 16) F(ucmc, 4, 16, 16)               \
    F(ethertype, 5, 0, 16)
#define NP_FMT_plc_qm(F) F(handle, 0, 0, 24) F(qid, 1, 0, 16) F(len, 1, 16, 16) F(stats, 2, 0, 16)
#define NP_FMT_qm_hf(F) F(handle, 0, 0, 24) F(port, 0, 24, 8)
#define NP_FMT_hf_tx(F) F(handle, 0, 0, 24) F(port, 0, 24, 8) F(len, 1, 0, 16)
#define NP_FMT_stats_upd(F) F(index, 0, 0, 16) F(len, 1, 0, 16) F(post, 2, 0, 1)
#define NP_FMT_plmsg(F) F(slot, 0, 0, 32)

/* ---- table records ---- */
/* route database key, 72 bits: destination, source, plug-in tag, input port */
#define NP_FMT_route_key(F) F(daddr, 0, 0, 32) F(saddr, 1, 0, 32) F(ptag, 2, 0, 5) F(port, 2, 5, 3)
/* filter databases key, 144 bits (140 used) */
#define NP_FMT_filter_key(F)                                                       \
    F(daddr, 0, 0, 32) F(saddr, 1, 0, 32) F(ptag, 2, 0, 5) F(port, 2, 5, 3)        \
    F(proto, 2, 8, 8) F(dport, 2, 16, 16) F(sport, 3, 0, 16) F(exceptions, 3, 16, 16) \
    F(tcp_flags, 4, 0, 12)
/* ARP database key: the next hop's address */
#define NP_FMT_arp_key(F) F(ip, 0, 0, 32)
/* a TCAM entry's result record, 16 bytes of SRAM: valid bits, unicast/multicast
 * port bits, QID, stats index, next-hop MAC */
#define NP_FMT_tcam_result(F)                                                           \
    F(valid, 0, 0, 4) F(ucmc, 0, 4, 12) F(qid, 0, 16, 16)                          \
    F(stats, 1, 0, 16) F(nh_mac_hi, 1, 16, 16) F(nh_mac_lo, 2, 0, 32) F(rsv, 3, 0, 32)

/* name, words, description */
#define NP_FORMATS(X)                                                              \
    X(buf, 1, "a buffer handle: free list, free ring, plug-ins and XScale to Mux [U]") \
    X(rbuf_status, 2, "MSF receive status pushed to an Rx thread [U: the HRM's layout simplified]") \
    X(txdone, 1, "MSF transmit completion pushed to a Tx thread [U]")              \
    X(host_in, 1, "host -> control processor transmit queue: a staged injection [model]") \
    X(rx_mux, 2, "Rx -> Mux [U]")                                                  \
    X(mux_plc, 3, "Mux -> PLC and PLC -> plug-in [C DeHart-rings]")                \
    X(exc, 6, "PLC/plug-in -> XScale: exception, local delivery, error [C DeHart-rings]") \
    X(plc_qm, 3, "PLC/plug-in -> QM, QID encoded [U]")                             \
    X(qm_hf, 1, "QM -> HdrFmt [U]")                                                \
    X(hf_tx, 2, "HdrFmt -> Tx [U]")                                                \
    X(stats_upd, 3, "counter updates to Stats [U]")                                \
    X(plmsg, 1, "XScale -> plug-in control message: a staged text [model]")        \
    X(route_key, 3, "route database key, 72 bits [C-code npr_tcam.ini]")          \
    X(filter_key, 5, "primary/auxiliary filter database key, 144 bits [C-code npr_tcam.ini]") \
    X(arp_key, 1, "ARP database key [C-code npr_tcam.ini]")                        \
    X(tcam_result, 4, "TCAM result record, 16 B [C-code nprd_configuration.h]")

/* exception bits of the exc format's flags byte [C DeHart-rings] */
#define NP_XB_TTL 0x01
#define NP_XB_OPTIONS 0x02
#define NP_XB_NO_ROUTE 0x04
#define NP_XB_NON_IP 0x08
#define NP_XB_ARP_NEEDED 0x10
#define NP_XB_NH_INVALID 0x20

/* ---- generated: structs, pack, unpack ---- */
#define NP_FMASK(w) ((w) >= 32 ? 0xFFFFFFFFu : ((1u << (w)) - 1u))
#define NP_GEN_SFIELD(n, w, l, b) uint32_t n;
#define NP_GEN_STRUCT(fmt, nw, doc) typedef struct { NP_FMT_##fmt(NP_GEN_SFIELD) } np_##fmt##_t;
NP_FORMATS(NP_GEN_STRUCT)
#define NP_GEN_PFIELD(n, w, l, b) W[w] |= (r->n & NP_FMASK(b)) << (l);
#define NP_GEN_UFIELD(n, w, l, b) r->n = (W[w] >> (l)) & NP_FMASK(b);
#define NP_GEN_PACK(fmt, nw, doc)                                                  \
    static inline void np_pack_##fmt(uint32_t *W, const np_##fmt##_t *r) {        \
        memset(W, 0, (nw) * sizeof(uint32_t)); NP_FMT_##fmt(NP_GEN_PFIELD) }       \
    static inline void np_unpack_##fmt(const uint32_t *W, np_##fmt##_t *r) {       \
        NP_FMT_##fmt(NP_GEN_UFIELD) }                                              \
    enum { NP_W_##fmt = (nw) };
NP_FORMATS(NP_GEN_PACK)

#endif
