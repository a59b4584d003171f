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

/* ---- SPP line card and NPE [model: this project's layouts; np_model/spp_formats.py] ---- */
/* NPE Substrate Decap -> Parse: the packet, its fast path (slot) and input
 * meta-interface, where its outer IPv4 header starts, the frame's VID */
#define NP_FMT_spp_pkt(F)                                                          \
    F(handle, 0, 0, 24) F(l3off, 0, 24, 8) F(fp, 1, 0, 16) F(mi, 1, 16, 16)        \
    F(len, 2, 0, 16) F(vid, 2, 16, 12)
/* NPE Parse -> Lookup: kind SPP_K_LOOKUP with the code option's 128-bit key,
 * or an exception the code option raised (kind SPP_K_EXC_COPT, its code) */
#define NP_FMT_spp_key(F)                                                          \
    F(handle, 0, 0, 24) F(kind, 0, 24, 8) F(fp, 1, 0, 16) F(mi, 1, 16, 16)         \
    F(len, 2, 0, 16) F(l3off, 2, 16, 8) F(code, 2, 24, 8)                          \
    F(k0, 3, 0, 32) F(k1, 4, 0, 32) F(k2, 5, 0, 32) F(k3, 6, 0, 32)
/* NPE Lookup -> Header Format: what to do (SPP_K_*), the filter's result */
#define NP_FMT_spp_res(F)                                                          \
    F(handle, 0, 0, 24) F(kind, 0, 24, 8) F(fp, 1, 0, 16) F(in_mi, 1, 16, 16)      \
    F(len, 2, 0, 16) F(l3off, 2, 16, 8) F(code, 2, 24, 8)                          \
    F(out_mi, 3, 0, 16) F(queue, 3, 16, 16) F(stats, 4, 0, 16) F(nh_port, 4, 16, 16) \
    F(nh_ip, 5, 0, 32) F(arg, 6, 0, 32)
/* LC Key Extract -> Lookup: dir 0 ingress (key: dst IP, protocol, UDP port),
 * 1 egress (key: the VID; daddr: the datagram's destination, for its next hop) */
#define NP_FMT_lc_key(F)                                                           \
    F(handle, 0, 0, 24) F(in_port, 0, 24, 8) F(len, 1, 0, 16) F(dir, 1, 16, 1)     \
    F(proto, 1, 24, 8) F(daddr, 2, 0, 32) F(dport, 3, 0, 16) F(vid, 3, 16, 12)
/* LC Lookup -> Header Format: queue, VID and MAC of the next board (ingress)
 * or of the next hop, and the output port (egress) */
#define NP_FMT_lc_res(F)                                                           \
    F(handle, 0, 0, 24) F(in_port, 0, 24, 8) F(len, 1, 0, 16) F(dir, 1, 16, 1)     \
    F(kind, 1, 24, 8) F(qid, 2, 0, 16) F(vid, 2, 16, 12)                           \
    F(mac_hi, 3, 0, 32) F(mac_lo, 4, 0, 16) F(out_port, 4, 16, 8)
/* LC endpoint filter key: destination address, UDP port, protocol */
#define NP_FMT_lc_filter_key(F) F(daddr, 0, 0, 32) F(dport, 1, 0, 16) F(proto, 1, 16, 8)
/* NPE filter key: the fast path (slot) and the code option's 128-bit key */
#define NP_FMT_spp_filter_key(F)                                                   \
    F(fp, 0, 0, 16) F(k0, 1, 0, 32) F(k1, 2, 0, 32) F(k2, 3, 0, 32) F(k3, 4, 0, 32)
/* NPE fast-path record (array table, by slot): code-option slot, VID, slice,
 * exception queue (0: none), stats range, the slice's SRAM window */
#define NP_FMT_spp_fp_rec(F)                                                       \
    F(valid, 0, 0, 1) F(copt, 0, 1, 7) F(vid, 0, 8, 12) F(slice, 1, 0, 16)         \
    F(exc_queue, 1, 16, 16) F(stats_base, 2, 0, 16) F(n_stats, 2, 16, 16)          \
    F(sram_base, 3, 0, 32) F(sram_size, 4, 0, 32)
/* NPE meta-interface record (array table, slot * mis_per_fastpath + mi): its
 * endpoint, the board (MAC) and VID its frames go to, its default next hop */
#define NP_FMT_spp_mi_rec(F)                                                       \
    F(valid, 0, 0, 1) F(vid, 0, 8, 12) F(ip, 1, 0, 32) F(port, 2, 0, 16)           \
    F(mac_hi, 3, 0, 32) F(mac_lo, 4, 0, 16) F(peer_port, 4, 16, 16) F(peer_ip, 5, 0, 32)

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
    X(tcam_result, 4, "TCAM result record, 16 B [C-code nprd_configuration.h]") \
    X(spp_pkt, 3, "NPE Substrate Decap -> Parse [model]")                            \
    X(spp_key, 7, "NPE Parse -> Lookup: the code option's key or exception [model]")  \
    X(spp_res, 7, "NPE Lookup -> Header Format: the filter's result [model]")         \
    X(lc_key, 4, "LC Key Extract -> Lookup [model]")                                 \
    X(lc_res, 5, "LC Lookup -> Header Format [model]")                               \
    X(lc_filter_key, 2, "LC endpoint filter key, 56 bits [model]")                   \
    X(spp_filter_key, 5, "NPE filter key: fast path + 128-bit code-option key [model]") \
    X(spp_fp_rec, 5, "NPE fast-path record [model]")                                 \
    X(spp_mi_rec, 6, "NPE meta-interface record [model]")

/* exception bits of the exc format's flags byte [C DeHart-rings] */
#define NP_XB_TTL 0x01
#define NP_XB_OPTIONS 0x02
#define NP_XB_NO_ROUTE 0x04
#define NP_XB_NON_IP 0x08
#define NP_XB_ARP_NEEDED 0x10
#define NP_XB_NH_INVALID 0x20

/* what an NPE packet is doing between Parse, Lookup and Header Format (spp_key.kind, spp_res.kind) */
#define SPP_K_LOOKUP 0       /* spp_key: search the filters */
#define SPP_K_FORWARD 0      /* spp_res: out of out_mi through the code option's Header Format */
#define SPP_K_EXC_NO_MATCH 1 /* exception to MI 0: no filter matched */
#define SPP_K_EXC_COPT 2     /* exception to MI 0: the code option raised it (code) */
#define SPP_K_LOCAL 3        /* local delivery to MI 0: a filter sent it there */
#define SPP_K_EXC_FILTER 4   /* exception to MI 0: a filter's action */
/* an NPE filter's action (np_result_t.kind of its TCAM entry) */
#define SPP_FA_FORWARD 0     /* out of the result's MI through the code option's Header Format */
#define SPP_FA_DROP 1        /* dropped (filter_drop) */
#define SPP_FA_EXCEPTION 2   /* to the slow path as an exception (reason filter) */
#define SPP_FA_LOCAL 3       /* to the slow path: local delivery */
/* the meta header on NPE <-> GPE frames (EtherType SPP_ETHERTYPE_META inside the 802.1Q tag) */
#define SPP_ETHERTYPE_META 0x88B5  /* IEEE 802 local experimental EtherType 1 */
#define SPP_META_BYTES 10
#define SPP_META_EXCEPTION 1       /* kind: NPE -> GPE, an exception */
#define SPP_META_LOCAL 2           /* kind: NPE -> GPE, local delivery */
#define SPP_META_INJECT 3          /* kind: GPE -> NPE, into the fast path's MI 0 */
#define SPP_REASON_NO_MATCH 1      /* reason of an exception: no filter matched */
#define SPP_REASON_CODE_OPTION 2   /* ... the code option raised it (code: its reason) */
#define SPP_REASON_FILTER 3        /* ... a filter's action */

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
