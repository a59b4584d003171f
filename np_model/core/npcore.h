/* npcore.h -- internal structures of the compiled core (not parsed by cffi).
 *
 * Read npcore_api.h first: it states the split between machine, blocks
 * and engine. This header holds the machine's layout, the names tables
 * (X-macros, one source of truth for C and Python) and the protothread
 * macros in which the NPR microcode is written.
 */
#ifndef NPCORE_H
#define NPCORE_H

#include <stdint.h>
#include <stddef.h>
#include "npcore_api.h"

/* ------------------------------------------------------------------ */
/* Name tables                                                         */
/* ------------------------------------------------------------------ */

/* Why a packet was dropped. Every packet ends transmitted, delivered to
 * the host, or counted under exactly one of these. */
#define NP_DROP_REASONS(X)                                                  \
    X(RUNT, "runt")                     /* MSF: shorter than an Ethernet header */ \
    X(GIANT, "giant")                   /* MSF: longer than MTU + L2 header */ \
    X(RBUF_FULL, "rbuf_full")           /* MSF: no receive buffer element free */ \
    X(NO_BUFFER, "no_buffer")           /* Rx: packet-buffer free list empty */ \
    X(L2_NOT_FOR_ROUTER, "l2_not_for_router") /* PLC: unicast MAC of another station */ \
    X(IP_BAD_VERSION, "ip_bad_version") /* RFC 1812 5.2.2 */             \
    X(IP_BAD_IHL, "ip_bad_ihl")                                            \
    X(IP_BAD_LENGTH, "ip_bad_length")                                      \
    X(IP_BAD_CHECKSUM, "ip_bad_checksum")                                  \
    X(FILTER_DROP, "filter_drop")       /* a filter's action was drop */   \
    X(MCAST_NO_PORTS, "mcast_no_ports") /* multicast with no port but the input one */ \
    X(NO_PLUGIN, "no_plugin")           /* filter names a plug-in ME with no plug-in */ \
    X(PLUGIN_RING_FULL, "plugin_ring_full")                                \
    X(EXC_RING_FULL, "exc_ring_full")   /* exception ring to the control processor full */ \
    X(QM_THRESHOLD, "qm_threshold")     /* queue over its threshold */     \
    X(HOST_IN_FULL, "host_in_full")     /* host -> control processor queue full */ \
    X(HOST_NO_BUFFER, "host_no_buffer") /* control processor found no free buffer */ \
    X(PLUGIN_DROP, "plugin_drop")       /* a plug-in dropped it */           \
    X(PLUGIN_BUDGET, "plugin_budget")   /* its plug-in call exceeded the cycle budget */ \
    X(PLUGIN_CRASH, "plugin_crash")     /* its plug-in call faulted */        \
    X(PLUGIN_UNLOADED, "plugin_unloaded") /* held by a plug-in that was unloaded */

#define NP_EXC_REASONS(X)                                                   \
    X(NONE, "none")                                                         \
    X(TTL, "ttl_expired")                                                   \
    X(OPTIONS, "ip_options")                                                \
    X(NO_ROUTE, "no_route")                                                 \
    X(NON_IP, "non_ip")                                                     \
    X(ARP_NEEDED, "arp_needed")                                             \
    X(NH_INVALID, "nh_invalid")                                             \
    X(LOCAL, "local_delivery")                                              \
    X(FILTER, "filter_to_host")                                             \
    X(PLUGIN, "plugin_to_host")                                             \
    X(MTU, "mtu_exceeded")      /* larger than the output port's MTU: the host fragments or answers */

/* Microcode costs in ME cycles. Defaults are set by the router from the
 * profile (np_model/profile.py), where each carries its source. */
#define NP_COSTS(X)                                                          \
    X(RX_BASE)          X(RX_PER_MPKT)                                       \
    X(MUX_BASE)                                                              \
    X(PLC_BASE)         X(PLC_PARSE)     X(PLC_LOOKUP)   X(PLC_DECIDE)        \
    X(PLC_TTL)          X(PLC_COPY)      X(PLC_EXC)                           \
    X(QM_ENQ)           X(QM_DEQ)        X(QM_SCHED_VISIT)                    \
    X(HF_BASE)          X(TX_BASE)       X(TX_DONE)      X(STATS_BASE)   X(FREE_BASE) \
    X(XS_RX)            X(XS_TX)                                              \
    X(SYNTH_COMPUTE)    X(SYNTH_REFS)    X(SYNTH_MEM)                         \
    X(QM_ENQ_THREADS)   X(QM_RATE_OVERHEAD)                                  \
    X(MUX_Q_RX)         X(MUX_Q_PLUGIN)  X(MUX_Q_XSCALE)

#define NP_ENUM_DROP(id, s) NP_DROP_##id,
enum np_drop { NP_DROP_REASONS(NP_ENUM_DROP) NP_DROP_COUNT };
#define NP_ENUM_EXC(id, s) NP_EXC_##id,
enum np_exc { NP_EXC_REASONS(NP_ENUM_EXC) NP_EXC_COUNT };
#define NP_ENUM_COST(id) NP_C_##id,
enum np_cost { NP_COSTS(NP_ENUM_COST) NP_C_COUNT };

/* Mux -> PLC ring flags [C DeHart-rings: Src 2b (00 Rx, 01 XScale, 10 plugin), PT 1b] */
#define NP_SRC_RX 0
#define NP_SRC_XSCALE 1
#define NP_SRC_PLUGIN 2

/* ------------------------------------------------------------------ */
/* Machine state                                                       */
/* ------------------------------------------------------------------ */

/* Buffer descriptor: SRAM image (32 B on the NPR [C-code nprd_types.h]).
 * The model keeps the fields a C struct can hold conveniently; the
 * timing of reading/writing them is what the microcode's ops charge. */
typedef struct np_desc {
    uint64_t pkt;          /* packet id */
    uint64_t t_rx;         /* cycle fully received / injected */
    uint64_t nh_mac;       /* next-hop MAC (bit 48 valid) */
    uint32_t len;          /* frame length */
    uint32_t data;         /* handle whose DRAM buffer holds the bytes (copies share) */
    uint32_t slot;         /* on the data owner: where the bytes are stored (see np_pkt_data) */
    uint32_t next;         /* queue link */
    uint32_t meta;         /* NIC front-end metadata */
    uint32_t nh_ip;
    uint16_t qid;
    uint8_t in_port, out_port;
    uint8_t refcnt;        /* on the data owner: descriptors sharing the buffer */
    uint8_t ptag;
    uint8_t flags;         /* NP_DF_* */
    uint8_t src;
    uint16_t stats;
    uint8_t l2[14];        /* Ethernet header written by HdrFmt */
} np_desc_t;
#define NP_DF_COPY 1
#define NP_DF_HOST 2
#define NP_DF_KEEP_L2 4
#define NP_DF_PASSTHRU 8
#define NP_DF_LIVE 0x80      /* the descriptor holds a packet that has not ended */

/* ---- ring entry formats ------------------------------------------------
 * Mux -> PLC and PLC -> plug-in entries follow the NPR layout
 * [C DeHart-rings]: w0 = buffer handle 24 | out port 4 | rsv 4;
 * w1 = flags 8 (src 2, PT 1) | plugin tag 5 | in port 3 | QID 16;
 * w2 = stats index 16 | packet length 16.  PLC -> XScale adds w3..w5:
 * next-hop MAC 48, unicast/multicast bits 16, EtherType 16; the model keeps
 * the exception reason in the flags' reserved bits (w1 bits 3..7).
 */
static inline void np_fmt_mux(uint32_t *w, uint32_t h, uint32_t out_port, uint32_t src, uint32_t pt,
                              uint32_t ptag, uint32_t in_port, uint32_t qid, uint32_t stats, uint32_t len) {
    w[0] = (h & 0xFFFFFF) | (out_port & 0xF) << 24;
    w[1] = (src & 3) | (pt & 1) << 2 | (ptag & 0x1F) << 8 | (in_port & 7) << 13 | (qid & 0xFFFF) << 16;
    w[2] = (stats & 0xFFFF) | (len & 0xFFFF) << 16;
}
#define NP_MUX_H(w) ((w)[0] & 0xFFFFFF)
#define NP_MUX_OUT(w) (((w)[0] >> 24) & 0xF)
#define NP_MUX_SRC(w) ((w)[1] & 3)
#define NP_MUX_PT(w) (((w)[1] >> 2) & 1)
#define NP_MUX_REASON(w) (((w)[1] >> 3) & 0x1F)
#define NP_MUX_PTAG(w) (((w)[1] >> 8) & 0x1F)
#define NP_MUX_INPORT(w) (((w)[1] >> 13) & 7)
#define NP_MUX_QID(w) ((w)[1] >> 16)
#define NP_MUX_STATS(w) ((w)[2] & 0xFFFF)
#define NP_MUX_LEN(w) ((w)[2] >> 16)

typedef struct np_srv {
    uint64_t free_sub;
    uint32_t lat, unit;
    uint64_t occ_sub, cmd_sub;
    np_srv_stats_t st;
} np_srv_t;

typedef struct np_mem {
    int kind, srv_rd, srv_wr, nsrv, shift;
} np_mem_t;

typedef struct np_wq {           /* FIFO of waiting thread ids */
    uint16_t buf[NP_MAX_THREADS + 1];
    int head, n;
} np_wq_t;

typedef struct np_ring {
    int kind, mem, words;
    uint32_t cap, nn_lat;
    uint32_t head, count, nvis;
    uint32_t *buf;               /* cap * words */
    np_wq_t getw, putw;
    np_ring_stats_t st;
    char name[32];
} np_ring_t;

/* Per-block thread-local state ("GPRs"): one union member per block. */
typedef struct { uint32_t slot, port, len, h, meta; } np_rx_l;
typedef struct { int r; uint32_t e[NP_XWORDS]; } np_mux_l;
typedef struct np_plc_out {
    uint8_t kind, port;          /* kind: NP_PO_* */
    uint16_t qid;
    uint32_t arg;                /* drop reason / exception reason / plug-in */
    uint32_t nh_ip;
    uint16_t stats;
    uint64_t mac;
} np_plc_out_t;
enum { NP_PO_DROP = 0, NP_PO_QM, NP_PO_PLUGIN, NP_PO_EXC, NP_PO_LD };
typedef struct {
    uint32_t h, c, in_port, len, src, pt, ptag, nout, i, k, ntcam, ttl_dec;
    uint32_t e[6];
    np_plc_out_t out[12];
} np_plc_l;
typedef struct { uint32_t h, port, qid, len, port_i; } np_qm_l;
typedef struct { uint32_t h, port, len; } np_hf_l;
typedef struct { uint32_t h, port, len; } np_tx_l;
typedef struct { uint32_t e[4]; } np_st_l;
typedef struct { uint32_t h, len, r, e[NP_XWORDS]; } np_xs_l;
typedef struct { uint32_t i, n; } np_sy_l;
typedef struct { uint32_t h, k, kind, slot; uint64_t next; } np_pl_l;
typedef struct { uint32_t h, o, n, i, ret[2]; } np_fl2_l;

typedef struct np_thread {
    int id, me, idx, block, state, pc;
    np_op_t op;
    int op_pending;
    uint32_t xin[NP_XWORDS];
    int32_t result;
    uint64_t pkt;
    uint64_t wait_mask;          /* WAIT_ANY */
    union {
        np_rx_l rx; np_mux_l mux; np_plc_l plc; np_qm_l qm; np_hf_l hf;
        np_tx_l tx; np_st_l st; np_fl2_l fl; np_xs_l xs; np_sy_l sy; np_pl_l pl;
    } u;
} np_thread_t;

typedef struct np_me {
    int block, nthreads, tid0;
    int arg;                     /* block argument (plug-in ME: its plug-in number) */
    int running;                 /* thread index or -1 */
    int swapping;                /* in a swap until EV_ME_FREE */
    int last;                    /* last thread dispatched (round robin) */
    int n_memwait;
    uint64_t acct_t;             /* start of the current accounting interval */
    int acct_state;              /* 0 idle, 1 busy */
    np_me_stats_t st;
    char name[24];
} np_me_t;

#define NP_MAX_TBUF 256
#define NP_SIG_TXCREDIT 8   /* signal 8 + port: transmit credit returned to QM */

typedef struct np_inframe {
    uint64_t t;                  /* arrival start (cycles) */
    uint64_t id;
    uint8_t *data;
    uint32_t len, meta;
} np_inframe_t;

typedef struct np_port {
    uint64_t wire_bps, mac;
    uint32_t ip, mtu;
    uint64_t rx_free_sub;        /* input wire busy until */
    uint64_t tx_free_sub;        /* output wire busy until */
    np_inframe_t *inq;           /* circular FIFO of frames not yet received */
    uint32_t inq_head, inq_n, inq_cap;
    /* transmit side (C engine state): frames in TBUF in order, and the
     * threads waiting for TBUF room */
    uint32_t tbuf_used;
    uint32_t txf_h[NP_MAX_TBUF], txf_len[NP_MAX_TBUF];
    int txf_head, txf_n;
    np_wq_t txwait;
    int wire_busy, rx_pending;
    int rx_bus;                  /* fed by a flow-controlled NIC bus: no input-wire serialisation */
    uint64_t tx_cur_start;
    uint32_t tx_inflight;        /* QM's view: TBUF elements of frames dequeued, not yet sent */
    /* queue manager per-port state */
    uint64_t qm_kbps;
    uint64_t qm_next_sub;        /* pacing: next dequeue allowed */
    uint32_t act_head, act_tail, n_active;
    np_port_stats_t st;
} np_port_t;

typedef struct np_queue {
    uint32_t head, tail, pkts, bytes;
    uint32_t threshold, quantum;
    int64_t deficit;
    uint32_t next_active;
    uint8_t active, visited;
    np_queue_stats_t st;
} np_queue_t;

typedef struct np_rbuf_slot {
    uint8_t *data;
    uint64_t id, t_end;
    uint32_t len, meta, elems;
    uint8_t port, used;
} np_rbuf_slot_t;

typedef struct np_inj {
    uint64_t t, id;
    uint8_t *data;
    uint32_t len, flags, qid, ptag;
    int in_port, out_port;
} np_inj_t;

typedef struct np_ev { uint64_t t, seq; uint32_t kind, arg; } np_ev_t;

/* TCAM */
typedef struct np_rtent {
    np_route_t r;
    int used;
} np_rtent_t;
typedef struct np_filt {
    np_fkey_t k;
    np_faction_t a;
    int id, used;
    uint64_t hits;
} np_filt_t;
typedef struct np_arpent { uint32_t ip; uint64_t mac; int used; } np_arpent_t;

#define NP_RT_CAP 16384      /* [C-code npr_tcam.ini] route DB entries */
#define NP_PF_CAP 32768      /* primary filter DB */
#define NP_AF_CAP 16384      /* auxiliary filter DB */
#define NP_ARP_CAP 16384     /* ARP DB */

typedef struct np_vec { void *p; uint64_t n, cap, esz; } np_vec_t;

/* ---- plug-ins (plugin_rt.c) ---- */
#define NP_PL_PKT_THREADS 6          /* NPR: 6 packet threads, 1 message, 1 periodic [C NPR-tour] */
#define NP_PL_MAX_OPS 512            /* memory references and exits one call may record */
#define NP_PL_MAX_NEW 8              /* packets one call may create */
#define NP_PL_MAX_EXITS 64
#define NP_PL_SRAM (1u << 20)        /* 1 MB SRAM per plug-in ME [C-code ONL_ROUTER_PLUGIN_n_SIZE] */
#define NP_PL_SCRATCH 256
#define NP_PL_COUNTERS 16
#define NP_PL_MSG 29                 /* 28 characters + NUL [C ONL-ctrlmsg] */
#define NP_PL_REPLIES 64
#define NP_SIG_PLUGIN 16             /* signal 16 + plug-in: its periodic thread */
enum { NP_PLR_MEM = 0, NP_PLR_ALLOC, NP_PLR_EXIT, NP_PLR_SIGNAL };

typedef struct np_plop {             /* one recorded reference or exit */
    uint32_t compute;                /* ALU cycles before it */
    uint8_t kind, sub, flags, mrole;
    uint32_t bytes, h;
    int32_t a, b;
    uint64_t addr;
} np_plop_t;

typedef struct np_plnew {            /* a packet created in a call, until replay gives it a buffer */
    uint32_t len, real;
    uint8_t out_port, in_port, ptag;
    uint16_t qid;
    uint64_t nh_mac;
    uint8_t data[NP_MAX_FRAME];
} np_plnew_t;

typedef struct np_plrec {            /* what one call did, for its thread to replay */
    np_plop_t op[NP_PL_MAX_OPS];
    int n, nnew, nexit, status;
    uint32_t cur, tail;
    uint64_t cycles;
    uint32_t exited[NP_PL_MAX_EXITS];
    np_plnew_t nw[NP_PL_MAX_NEW];
} np_plrec_t;

#include <setjmp.h>
#include "vrh_plugin_abi.h"
typedef struct np_plugin {
    int id, active;
    char name[64];
    void *dl;
    void (*f_init)(const char *);
    void (*f_pkt)(uint32_t);
    void (*f_msg)(const char *, char *, int);
    void (*f_per)(void);
    struct vrh_api api;
    uintptr_t base;
    uint32_t *wk; uint16_t *wv; uint32_t wcap, wdefault;   /* block weights by return address */
    uint8_t *sram;
    uint8_t scratch[NP_PL_SCRATCH];
    uint32_t ctr[NP_PL_COUNTERS];
    uint64_t period, budget;
    np_t *m;
    np_plrec_t *rec;                 /* the call being recorded */
    uint64_t cyc, total, lat;
    sigjmp_buf jmp;
    uint8_t *held;                   /* bitmap of handles in this plug-in's custody */
    uint32_t nheld;
    np_plrec_t recs[NP_THREADS_PER_ME];
    char replies[NP_PL_REPLIES][NP_PL_MSG];
    uint64_t reply_t[NP_PL_REPLIES];
    uint32_t reply_head, reply_tail;
    np_plugin_stats_t st;
} np_plugin_t;

void np_pl_call_pkt(np_t *m, np_plugin_t *P, int tidx, uint32_t h);
void np_pl_call_msg(np_t *m, np_plugin_t *P, int tidx, const char *msg, char *reply, int rlen);
void np_pl_call_periodic(np_t *m, np_plugin_t *P, int tidx);
void np_pl_materialize(np_t *m, np_plugin_t *P, np_plrec_t *R, uint32_t pseudo, uint32_t h);
uint32_t np_pl_real(np_plrec_t *R, uint32_t h);
void np_plugin_free_all(np_t *m);

struct np {
    np_params_t p;
    char err[256];
    int started;
    uint64_t now, seq, events;
    /* event heap */
    np_ev_t *heap;
    uint32_t heap_n, heap_cap;
    /* hardware */
    np_srv_t srv[NP_MAX_SERVERS]; int n_srv;
    np_mem_t mem[NP_MAX_MEMS]; int n_mem;
    np_ring_t ring[NP_MAX_RINGS]; int n_ring;
    int role_ring[NP_ROLE_COUNT];
    int role_mem[NP_MR_COUNT];
    uint64_t ring_nonempty;
    np_me_t me[NP_MAX_ME]; int n_me;
    np_thread_t thr[NP_MAX_THREADS]; int n_thr;
    int any_waiters[NP_MAX_THREADS]; int n_any;
    uint8_t sig[NP_MAX_THREADS]; int sig_waiter[NP_MAX_THREADS];
    np_port_t port[NP_MAX_PORTS]; int n_port;
    uint32_t cost[NP_C_COUNT];
    /* memory images */
    np_desc_t *desc;                 /* SRAM descriptors */
    uint8_t *dram;                   /* packet bytes: NP_BUF_SIZE slots, mapped lazily */
    uint32_t *slot_stack, slot_top, slot_hw;   /* free storage slots (LIFO), slots ever used */
    uint32_t n_free_bufs;
    /* MSF */
    np_rbuf_slot_t *rbuf;
    uint32_t rbuf_free_elems;
    /* host side */
    np_inj_t *injq; uint32_t injq_head, injq_n, injq_cap;
    np_vec_t host_in;                /* staged injections, by HOST_IN entry index */
    uint64_t next_host_id;
    /* queue manager */
    np_queue_t *q;                   /* n_port * NP_QUEUES_PER_PORT */
    /* mux DRR */
    int32_t mux_deficit[3]; int mux_cur;
    /* TCAM */
    np_rtent_t *rt; int n_rt;        /* route entries (slot array) */
    int32_t *rt_hash; uint32_t rt_hash_cap;  /* open addressing -> rt index */
    uint64_t rt_lens;                /* bitmap of prefix lengths present (0..32) */
    np_filt_t *pf, *af; int n_pf, n_af, pf_next_id, af_next_id;
    np_arpent_t *arp; uint32_t arp_cap; int n_arp;
    int plugin_on[NP_MAX_PLUGINS];
    np_plugin_t *plugin[NP_MAX_PLUGINS];
    uint64_t rng;
    /* stats */
    uint64_t drops[NP_DROP_COUNT];
    uint64_t excs[NP_EXC_COUNT];
    np_counters_t ctr;
    uint64_t (*stats_idx)[4];        /* 65,536 counter blocks [C-code] */
    /* outputs */
    int trace_on, capture_on, record_drops, host_pending;
    int rbuf_released;               /* set when RBUF elements are released (NP_STOP_RBUF) */
    int booted, inj_pending;
    uint64_t double_end;             /* internal check: a packet ended twice */
    np_vec_t tx_out, tx_cap, host_out, host_cap, drop_out, trace_out;
};

/* ------------------------------------------------------------------ */
/* Helpers shared by machine, engine and blocks                        */
/* ------------------------------------------------------------------ */
void np_vec_init(np_vec_t *v, uint64_t esz);
void *np_vec_push(np_vec_t *v, uint64_t n);
void np_vec_free(np_vec_t *v);

/* Where a packet's bytes are. The modelled DRAM address of buffer h is
 * np_pkt_addr (it decides channel interleaving and timing); the bytes live
 * in a storage slot taken LIFO, so a long run touches only as much host
 * memory as packets are ever alive at once, whatever order the (FIFO)
 * buffer free queue hands out handles in. */
static inline uint8_t *np_pkt_data(np_t *m, uint32_t h) {
    return m->dram + (uint64_t)m->desc[m->desc[h].data].slot * NP_BUF_SIZE + NP_BUF_DATA_OFFSET;
}
static inline uint32_t np_slot_alloc(np_t *m) {
    return m->slot_top ? m->slot_stack[--m->slot_top] : m->slot_hw++;
}
static inline void np_slot_free(np_t *m, uint32_t s) { m->slot_stack[m->slot_top++] = s; }
static inline uint64_t np_pkt_addr(np_t *m, uint32_t h) {
    return (uint64_t)m->desc[h].data * NP_BUF_SIZE + NP_BUF_DATA_OFFSET;
}
static inline uint32_t np_rand(np_t *m) {      /* xorshift64*: deterministic */
    uint64_t x = m->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    m->rng = x;
    return (uint32_t)((x * 2685821657736338717ULL) >> 32);
}
void np_count_drop(np_t *m, int reason, uint64_t pkt, int port, int block);
void np_drop_h(np_t *m, uint32_t h, int reason, int block);
void np_end_pkt(np_t *m, uint32_t h);
uint64_t np_pace_sub(np_t *m, int port, uint32_t len);
void np_host_record(np_t *m, uint32_t h, uint32_t reason, uint64_t now);

/* tables.c */
int np_tbl_init(np_t *m);
void np_tbl_free(np_t *m);
const np_route_t *np_tbl_route(np_t *m, uint32_t daddr, int in_port);
const np_filt_t *np_tbl_filter(np_t *m, int aux, const np_fkey_t *pkt);
int np_tbl_arp(np_t *m, uint32_t ip, uint64_t *mac);

/* blocks */
typedef void (*np_block_fn)(np_t *m, np_thread_t *t);
extern const np_block_fn np_blocks[NP_BLK_COUNT];
void np_blk_rx(np_t *m, np_thread_t *t);
void np_blk_mux(np_t *m, np_thread_t *t);
void np_blk_plc(np_t *m, np_thread_t *t);
void np_blk_qm(np_t *m, np_thread_t *t);
void np_blk_hf(np_t *m, np_thread_t *t);
void np_blk_tx(np_t *m, np_thread_t *t);
void np_blk_stats(np_t *m, np_thread_t *t);
void np_blk_freelist(np_t *m, np_thread_t *t);
void np_blk_xscale(np_t *m, np_thread_t *t);
void np_blk_idle(np_t *m, np_thread_t *t);
void np_blk_synth(np_t *m, np_thread_t *t);
void np_blk_plugin(np_t *m, np_thread_t *t);

/* ------------------------------------------------------------------ */
/* Microcode macros                                                    */
/* ------------------------------------------------------------------ */
/* A block is a protothread: its locals live in t->u, its resume point in
 * t->pc. Each op macro fills t->op and returns to the engine, which
 * executes the op in simulated time and calls the block again. COMPUTE
 * only accumulates ALU cycles: they are spent before the next op issues. */
#define PT_BEGIN(t) switch ((t)->pc) { case 0:
#define PT_END(t) } (t)->pc = -1; np_op_set((t), NP_OP_HALT, 0, 0); return
#define PT_YIELD(t) do { (t)->pc = __LINE__; return; case __LINE__:; } while (0)

static inline void np_op_set(np_thread_t *t, uint32_t kind, uint32_t flags, uint32_t target) {
    t->op.kind = kind; t->op.flags = flags; t->op.target = target;
    t->op.bytes = 0; t->op.addr = 0; t->op.nwords = 0; t->op.pkt = t->pkt;
}
#define COMPUTE(t, n) ((t)->op.compute += (uint32_t)(n))
#define OP_MEM(t, memrole, flags_, addr_, bytes_) do {                        \
        np_op_set((t), NP_OP_MEM, (flags_), (uint32_t)m->role_mem[memrole]);  \
        (t)->op.addr = (addr_); (t)->op.bytes = (bytes_); PT_YIELD(t); } while (0)
#define OP_RING_GET(t, role, flags_) do {                                     \
        np_op_set((t), NP_OP_RING_GET, (flags_), (uint32_t)m->role_ring[role]); \
        PT_YIELD(t); } while (0)
#define OP_RING_PUT(t, role, flags_, ...) do {                                \
        uint32_t w__[] = { __VA_ARGS__ };                                     \
        np_op_set((t), NP_OP_RING_PUT, (flags_), (uint32_t)m->role_ring[role]); \
        (t)->op.nwords = (uint32_t)(sizeof(w__) / sizeof(w__[0]));            \
        for (uint32_t i__ = 0; i__ < (t)->op.nwords; i__++) (t)->op.words[i__] = w__[i__]; \
        PT_YIELD(t); } while (0)
#define OP_WAIT_ANY(t, mask) do {                                             \
        np_op_set((t), NP_OP_WAIT_ANY, 0, 0); (t)->op.addr = (mask); PT_YIELD(t); } while (0)
#define OP_WAIT_UNTIL(t, when) do {                                           \
        np_op_set((t), NP_OP_WAIT_UNTIL, 0, 0); (t)->op.addr = (when); PT_YIELD(t); } while (0)
#define OP_SIGNAL(t, s) do { np_op_set((t), NP_OP_SIGNAL, 0, (s)); PT_YIELD(t); } while (0)
#define OP_WAIT_SIG(t, s) do { np_op_set((t), NP_OP_WAIT_SIG, 0, (s)); PT_YIELD(t); } while (0)
#define OP_TX(t, port_, h_, len_) do {                                        \
        np_op_set((t), NP_OP_TX, 0, (port_)); (t)->op.words[0] = (h_);        \
        (t)->op.nwords = 1; (t)->op.bytes = (len_); PT_YIELD(t); } while (0)
#define OP_RBUF_FREE(t, slot) do {                                            \
        np_op_set((t), NP_OP_RBUF_FREE, 0, (slot)); PT_YIELD(t); } while (0)
#define OP_HOST(t, h_, reason_) do {                                          \
        np_op_set((t), NP_OP_HOST, 0, 0); (t)->op.words[0] = (h_);            \
        (t)->op.words[1] = (reason_); (t)->op.nwords = 2; PT_YIELD(t); } while (0)

#define OP_HALT(t) do { np_op_set((t), NP_OP_HALT, 0, 0); PT_YIELD(t); } while (0)

#define RING_MASK(role) (1ULL << m->role_ring[role])

#endif
