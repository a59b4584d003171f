/* npcore.h -- internal structures of the compiled core (not parsed by cffi).
 *
 * Read npcore_api.h first: it states the split between machine, blocks and
 * engine. This header holds the machine's layout, the names tables
 * (X-macros, one source of truth for C and Python), the block contract
 * (np_block_desc_t) and the instance a contract becomes in an assembly.
 * Blocks include blocks/block.h, which adds the protothread and op macros.
 */
#ifndef NPCORE_H
#define NPCORE_H

#include <stdint.h>
#include <stddef.h>
#include "npcore_api.h"
#include "formats.h"

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
    X(PORT_BUFFERS, "port_buffers")     /* Rx: the input port's buffer share is used up */ \
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
    X(QM_PORT_LIMIT, "qm_port_limit")   /* the output port's buffer limit reached */ \
    X(BAD_QID, "bad_qid")               /* a QID naming a port the QM does not serve */ \
    X(HOST_IN_FULL, "host_in_full")     /* host -> control processor queue full */ \
    X(HOST_NO_BUFFER, "host_no_buffer") /* control processor found no free buffer */ \
    X(PLUGIN_DROP, "plugin_drop")       /* a plug-in dropped it */           \
    X(PLUGIN_BUDGET, "plugin_budget")   /* its plug-in call exceeded the cycle budget */ \
    X(PLUGIN_CRASH, "plugin_crash")     /* its plug-in call faulted, or the plug-in's worker died */ \
    X(PLUGIN_UNLOADED, "plugin_unloaded") /* held by a plug-in that was unloaded */ \
    X(PLUGIN_HANG, "plugin_hang")       /* its plug-in call overran the wall-clock watchdog */ \
    X(PLUGIN_SYSCALL, "plugin_syscall") /* its plug-in call attempted a system call */ \
    X(PLUGIN_RESTART, "plugin_restart") /* held by a plug-in whose worker was replaced */ \
    X(MARTIAN_SRC, "martian_src")       /* PLC: invalid source, RFC 1812 5.3.7, RFC 3927 s7 */ \
    X(MARTIAN_DST, "martian_dst")       /* PLC: invalid destination, RFC 1812 5.3.7, 4.2.3.1 */ \
    X(L2_BCAST_UNICAST, "l2_bcast_unicast") /* PLC: unicast IP in an Ethernet broadcast, RFC 1812 5.3.4 */ \
    X(L2_MCAST_UNICAST, "l2_mcast_unicast") /* PLC: unicast IP in an Ethernet group frame, RFC 1812 5.3.4 */ \
    X(MCAST_NO_ROUTE, "mcast_no_route") /* PLC: class D destination without a multicast route */ \
    X(MCAST_LINK_LOCAL, "mcast_link_local") /* PLC: 224.0.0.0/24 is never forwarded (RFC 5771) */ \
    /* SPP line card and NPE (np_model/spp_formats.py defines the internal frames) */ \
    X(SUBSTRATE_BAD_HEADER, "substrate_bad_header")   /* an internal frame that is not Ether/802.1Q/[meta]/IPv4/UDP as defined */ \
    X(SUBSTRATE_UNKNOWN_ENDPOINT, "substrate_unknown_endpoint") /* NPE: (dst IP, UDP port) is no fast path's endpoint */ \
    X(SUBSTRATE_CONTEXT_MISMATCH, "substrate_context_mismatch") /* NPE: the VID or meta header names another fast path */ \
    X(SUBSTRATE_UNKNOWN_CONTEXT, "substrate_unknown_context")   /* LC egress / NPE: no context has the frame's VID */ \
    X(LC_NO_FILTER, "lc_no_filter")     /* LC ingress: no endpoint filter matched and there is no default filter */ \
    X(LC_NO_NEXT_HOP, "lc_no_next_hop") /* LC egress: no MAC for the next hop (ARP entry or interface next hop) */ \
    X(LC_MTU_EXCEEDED, "lc_mtu_exceeded") /* LC egress: datagram longer than the external port's MTU */ \
    X(NO_FASTPATH, "no_fastpath")       /* NPE: its fast path was freed while the packet was in flight */ \
    X(FASTPATH_NO_MI, "fastpath_no_mi") /* NPE: the output meta-interface does not exist */ \
    X(FASTPATH_NO_QUEUE, "fastpath_no_queue") /* NPE: no queue to send it to (exceptions: none bound to MI 0) */ \
    X(FASTPATH_NO_NEXT_HOP, "fastpath_no_next_hop") /* NPE: neither the filter nor the output MI names a next hop */ \
    X(FASTPATH_BUFFERS, "fastpath_buffers") /* QM: the fast path's reserved packet buffers are all queued */ \
    X(COPT_DROP, "copt_drop")           /* a code option dropped it (its own reason: code_option_stats) */ \
    X(COPT_BUDGET, "copt_budget")       /* its code-option call exceeded the cycle budget */ \
    X(COPT_CRASH, "copt_crash")         /* its code-option call faulted, or the code option's worker died */ \
    X(COPT_HANG, "copt_hang")           /* its code-option call overran the wall-clock watchdog */ \
    X(COPT_SYSCALL, "copt_syscall")     /* its code-option call attempted a system call */

/* Reasons a packet reaches the control processor: the NPR's six exception
 * bits first (NP_XB_*, in bit order), then the model's extension codes (the
 * exc format's ext field, NP_XE_* = index - NP_EXC_EXT0 + 1). */
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
    X(MTU, "mtu_exceeded")      /* larger than the output port's MTU: the host fragments or answers */ \
    X(REDIRECT, "redirect")     /* a copy of a packet forwarded out of its input port: ICMP redirect */
#define NP_EXC_EXT0 NP_EXC_LOCAL

#define NP_ENUM_DROP(id, s) NP_DROP_##id,
enum np_drop { NP_DROP_REASONS(NP_ENUM_DROP) NP_DROP_COUNT };
#define NP_ENUM_EXC(id, s) NP_EXC_##id,
enum np_exc { NP_EXC_REASONS(NP_ENUM_EXC) NP_EXC_COUNT };
#define NP_XE(reason) ((uint32_t)((reason) - NP_EXC_EXT0 + 1))   /* the exc format's ext code */

/* Mux -> PLC ring flags [C DeHart-rings: Src 2b (00 Rx, 01 XScale, 10 plugin), PT 1b] */
#define NP_SRC_RX 0
#define NP_SRC_XSCALE 1
#define NP_SRC_PLUGIN 2

#define NP_INST_MSF 0xFFFF   /* drop records: the MSF (no block instance) */

/* ------------------------------------------------------------------ */
/* Block contracts and instances                                       */
/* ------------------------------------------------------------------ */
typedef struct np_thread np_thread_t;
typedef struct np_inst np_inst_t;

/* A block type's contract, as a Click element declares itself. Ports,
 * memories, tables, parameters and counters are arrays indexed by the
 * block's own enums (designated initialisers: the index is the slot); a
 * ring port with count n occupies slots [i, i + n) and the slots after the
 * first are left empty. */
typedef struct np_block_desc {
    const char *name, *doc;
    const np_ring_port_t *rings; int n_rings;
    const np_named_t *mems; int n_mems;
    const np_named_t *tables; int n_tables;
    const np_param_desc_t *params; int n_params;
    const np_named_t *counters; int n_counters;
    size_t locals;               /* per-thread state (its "GPRs") */
    size_t state;                /* per-instance state */
    int (*init)(np_t *m, np_inst_t *inst);     /* at np_start: check, allocate; -1 with m->err */
    void (*fini)(np_t *m, np_inst_t *inst);
    void (*run)(np_t *m, np_thread_t *t);      /* the hot routine: one protothread step */
} np_block_desc_t;

struct np_inst {
    int id, type;
    const np_block_desc_t *d;
    char name[NP_NAME];
    int *ring;                   /* slot -> ring id, -1 unbound */
    int *mem;                    /* memory port -> memory id */
    int *table;                  /* table port -> table id */
    int64_t *param;
    uint64_t *ctr;
    void *state;
    int threads;                 /* threads running it (all its MEs) */
};

extern const np_block_desc_t *const np_block_types[];
extern const int np_n_block_types_;

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
    uint16_t qid;          /* encoded QID */
    uint16_t off;          /* data offset in the buffer (headroom to prepend headers) */
    uint16_t stats;
    uint16_t vlan;         /* 802.1Q TCI of the frame (valid with NP_DF_VLAN) */
    uint8_t in_port, out_port;
    uint8_t refcnt;        /* on the data owner: descriptors sharing the buffer */
    uint8_t ptag;
    uint8_t flags;         /* NP_DF_* */
    uint8_t src;
    uint8_t l2len;         /* bytes of l2 HdrFmt wrote */
    uint8_t l2[22];        /* Ethernet header written by HdrFmt (room for an 802.1Q tag) */
} np_desc_t;
#define NP_DF_COPY 1
#define NP_DF_HOST 2
#define NP_DF_KEEP_L2 4
#define NP_DF_PASSTHRU 8
#define NP_DF_VLAN 16
#define NP_DF_LIVE 0x80      /* the descriptor holds a packet that has not ended */

typedef struct np_srv {
    uint64_t free_sub;
    uint32_t lat, unit;
    uint64_t occ_sub, cmd_sub;
    np_srv_stats_t st;
} np_srv_t;

typedef struct np_mem {
    int kind, srv_rd, srv_wr, nsrv, shift;
    uint32_t ring_words;         /* words of rings placed in it */
} np_mem_t;

typedef struct np_wq {           /* FIFO of waiting thread ids */
    uint16_t *buf;
    int head, n, cap;
} np_wq_t;

typedef struct np_ring {
    int kind, mem, words;        /* words: of one entry */
    uint32_t cap, size_words, nn_lat;
    uint32_t head, count;        /* visible entries: m->ring_vis[ring] */
    uint32_t anyw;               /* WAIT_ANY threads naming this ring (C engine) */
    uint32_t *buf;               /* cap * words */
    np_wq_t getw, putw;
    np_ring_stats_t st;
    char name[NP_NAME];
    char format[NP_NAME];
} np_ring_t;

#define NP_LOCAL_BYTES 4096      /* per-thread locals a block may use at most */

struct np_thread {
    int id, me, idx, state, pc;
    np_inst_t *inst;
    void (*run)(np_t *m, struct np_thread *t);   /* its instance's hot routine */
    void *local;                 /* its block's locals (the block's `locals` bytes) */
    np_op_t op;
    int op_pending;
    uint32_t xin[NP_XWORDS];
    int32_t result;
    uint64_t pkt;
    uint32_t nwait;              /* WAIT_ANY: rings it waits on */
    uint32_t wait[NP_WAIT_MAX];
};

typedef struct np_me {
    int inst, nthreads, tid0;
    int running;                 /* thread index or -1 */
    int swapping;                /* in a swap until EV_ME_FREE */
    int last;                    /* last thread dispatched (round robin) */
    int n_memwait;
    uint64_t acct_t;             /* start of the current accounting interval */
    int acct_state;              /* 0 idle, 1 busy */
    np_me_stats_t st;
    char name[NP_NAME];
} np_me_t;

#define NP_MAX_TBUF 256

typedef struct np_inframe {
    uint64_t t;                  /* arrival start (cycles) */
    uint64_t id;
    uint8_t *data;
    uint32_t len, meta;
} np_inframe_t;

typedef struct np_port {
    uint64_t wire_bps;
    uint64_t mac[NP_PORT_MACS];  /* mac[0]: its own; the others answered too (VRRP ...) */
    int n_mac;
    uint32_t ip, mtu;
    uint64_t rx_free_sub;        /* input wire busy until (bus-fed: the pending frame's cycle) */
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
    int sig_credit;              /* signal: transmit credit returned (Tx -> QM scheduler) */
    uint32_t bufs_held;          /* packet buffers holding frames received on this port */
    np_port_stats_t st;
} np_port_t;

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

typedef struct np_vec { void *p; uint64_t n, cap, esz; } np_vec_t;

/* A frame the machine transmitted: its record and its bytes (valid during the call). */
typedef void (*np_tx_hook_fn)(void *ctx, np_t *m, const np_tx_rec_t *rec, const uint8_t *frame);

/* ---- tables (tables.c) ---- */
typedef struct np_hmap {         /* uint64 -> uint64, linear probing, backward-shift deletion */
    uint64_t *keys, *vals;
    uint8_t *used;
    uint32_t cap, n;
    uint64_t probes, lookups;
    uint32_t max_probe;
} np_hmap_t;

typedef struct np_tgroup np_tgroup_t;
typedef struct np_tentry {
    uint32_t value[NP_KEY_WORDS], mask[NP_KEY_WORDS];
    uint64_t rank;
    np_result_t res;
    uint64_t hits;
    np_tgroup_t *g;
    int32_t next;                /* chain of entries with the same masked-key hash, by rank */
    int32_t id;                  /* 0: free */
} np_tentry_t;

typedef struct np_table {
    int kind;
    char name[NP_NAME];
    char format[NP_NAME];
    uint32_t capacity;
    /* TCAM */
    np_tentry_t *e;              /* by id (index 0 unused) */
    int32_t *free_ids; uint32_t n_free, next_id;
    np_tgroup_t **groups; uint32_t n_groups, groups_cap;
    uint64_t searches, hits, probes, max_chain;
    uint32_t n;
    /* hash */
    np_hmap_t h;
    /* array */
    uint32_t *arr;
    int words;
} np_table_t;

/* ---- plug-ins (plugin_rt.c) ---- */
#define NP_PL_PKT_THREADS 6          /* NPR: 6 packet threads, 1 message, 1 periodic [C NPR-tour] */
#define NP_PL_MAX_OPS 512            /* memory references and exits one call may record */
#define NP_PL_MAX_NEW 8              /* packets one call may create */
#define NP_PL_MAX_EXITS 64
#define NP_PL_SRAM (1u << 20)        /* 1 MB SRAM per plug-in ME [C-code ONL_ROUTER_PLUGIN_n_SIZE] */
#define NP_PL_COUNTERS 16
#define NP_PL_MSG 29                 /* 28 characters + NUL [C ONL-ctrlmsg] */
#define NP_PL_REPLIES 64
enum { NP_PLR_MEM = 0, NP_PLR_ALLOC, NP_PLR_EXIT, NP_PLR_SIGNAL };
/* memory a recorded reference goes to (the plug-in ME block's memory ports) */
enum { NP_PLM_PKT = 0, NP_PLM_SRAM, NP_PLM_SCRATCH, NP_PLM_COUNT };

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

#include "vrh_plugin_abi.h"
struct np_plw;                       /* the runtime's own state (plugin_rt.c) */
typedef struct np_plugin {
    int id, active;
    char name[64];
    uint64_t period, budget;
    np_inst_t *inst;                 /* the plug-in ME block running it */
    uint8_t *held;                   /* bitmap of handles in this plug-in's custody */
    uint32_t nheld;
    uint32_t *purge, npurge;         /* dropped when its worker was replaced; blocks/plugin.c frees them */
    np_plrec_t recs[NP_THREADS_PER_ME_MAX];
    char replies[NP_PL_REPLIES][NP_PL_MSG];
    uint64_t reply_t[NP_PL_REPLIES];
    uint32_t reply_head, reply_tail;
    np_plugin_stats_t st;
    struct np_plw *w;
} np_plugin_t;

void np_pl_call_pkt(np_t *m, np_plugin_t *P, int tidx, uint32_t h);
void np_pl_call_msg(np_t *m, np_plugin_t *P, int tidx, const char *msg, char *reply, int rlen);
void np_pl_call_periodic(np_t *m, np_plugin_t *P, int tidx);
void np_pl_materialize(np_t *m, np_plugin_t *P, np_plrec_t *R, uint32_t pseudo, uint32_t h);
uint32_t np_pl_real(np_plrec_t *R, uint32_t h);
void np_plugin_free_all(np_t *m);
int np_copt_call(np_t *m, int slot, int hf, uint32_t h, const uint32_t *args, np_plrec_t *R, uint32_t *ret);

struct np {
    np_params_t p;
    char err[256];
    int started;
    uint64_t now, seq, events;
    /* event heap */
    np_ev_t *heap;
    uint32_t heap_n, heap_cap;
    /* hardware (grown while the machine is built; fixed once started) */
    np_srv_t *srv; int n_srv, cap_srv;
    np_mem_t *mem; int n_mem, cap_mem;
    np_ring_t *ring; int n_ring, cap_ring;
    uint32_t *ring_vis;          /* visible entries per ring (blocks read, engines write) */
    int hw_ring[NP_HW_COUNT];
    uint32_t scratch_rings;
    np_me_t *me; int n_me, cap_me;
    np_thread_t *thr; int n_thr;
    int *any_waiters; int n_any;
    uint8_t *sig; int *sig_waiter; int n_sig, cap_sig;
    np_port_t *port; int n_port, cap_port;
    int rx_rr;                   /* MSF receive round: the port served first next (engine.c rx_complete) */
    np_inst_t **inst; int n_inst, cap_inst;
    np_table_t **tbl; int n_tbl, cap_tbl;
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
    /* plug-ins, by slot */
    np_plugin_t **plugin; np_inst_t **plugin_inst; int n_plugin;   /* by plug-in slot */
    uint64_t rng;
    /* stats */
    uint64_t drops[NP_DROP_COUNT];
    uint64_t excs[NP_EXC_COUNT];
    np_counters_t ctr;
    /* outputs */
    int trace_on, capture_on, record_drops, ring_trace_on, host_pending;
    int rbuf_released;               /* set when RBUF elements are released (NP_STOP_RBUF) */
    int booted, inj_pending;
    uint64_t double_end;             /* internal check: a packet ended twice */
    np_vec_t tx_out, tx_cap, host_out, host_cap, drop_out, trace_out, ring_out;
    /* time inside np_run and, of it, in the transmit hook (np_ticks):
     * np_run_wall_ns is the difference, in ns */
    uint64_t run_ticks, hook_ticks;
    /* the id np_feed gives the next frame when asked to number it (np_next_id) */
    uint64_t next_id;
    /* called for every transmitted frame, as np_fx_tx_done records it (np_set_tx_hook) */
    np_tx_hook_fn tx_hook;
    void *tx_hook_ctx;
};

/* ------------------------------------------------------------------ */
/* Helpers shared by machine, engine and blocks                        */
/* ------------------------------------------------------------------ */
/* A cheap clock for timing short sections: the TSC where there is one (its
 * ticks are converted to ns with its rate against CLOCK_MONOTONIC, measured
 * from the first np_ticks_calibrate to the conversion: np_run_wall_ns), else
 * CLOCK_MONOTONIC in ns. */
void np_ticks_calibrate(void);
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t np_ticks(void) { return __rdtsc(); }
#else
#include <time.h>
static inline uint64_t np_ticks(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}
#endif
/* A buffer for a frame of len bytes offered to m's ports, and its release: a frame of at most
 * NP_BUF_SIZE bytes gets a buffer of NP_BUF_SIZE bytes, kept for the next when released (up to
 * NP_IN_POOL of them per thread), a longer one its own malloc'd buffer. */
#define NP_IN_POOL 512
uint8_t *np_in_alloc(uint32_t len);
void np_in_free(uint8_t *data, uint32_t len);
/* np_feed of one frame numbered np_next_id, taking `data` (from np_in_alloc(len); released on error). */
int np_feed_owned(np_t *m, uint64_t t, uint8_t port, uint32_t len, uint8_t *data);
/* Call fn(ctx, m, record, bytes) for every frame transmitted from now on (NULL: stop). */
void np_set_tx_hook(np_t *m, np_tx_hook_fn fn, void *ctx);
void np_vec_init(np_vec_t *v, uint64_t esz);
void *np_vec_push(np_vec_t *v, uint64_t n);
void np_vec_free(np_vec_t *v);
int np_fail(np_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where a packet's bytes are. The modelled DRAM address of buffer h is
 * np_pkt_addr (it decides channel interleaving and timing); the bytes live
 * in a storage slot taken LIFO, so a long run touches only as much host
 * memory as packets are ever alive at once, whatever order the (FIFO)
 * buffer free queue hands out handles in. */
static inline uint8_t *np_pkt_data(np_t *m, uint32_t h) {
    np_desc_t *d = &m->desc[h];
    return m->dram + (uint64_t)m->desc[d->data].slot * NP_BUF_SIZE + d->off;
}
static inline uint32_t np_slot_alloc(np_t *m) {
    return m->slot_top ? m->slot_stack[--m->slot_top] : m->slot_hw++;
}
static inline void np_slot_free(np_t *m, uint32_t s) { m->slot_stack[m->slot_top++] = s; }
static inline uint64_t np_pkt_addr(np_t *m, uint32_t h) {
    return (uint64_t)m->desc[h].data * NP_BUF_SIZE + m->desc[h].off;
}
static inline uint32_t np_rand(np_t *m) {      /* xorshift64*: deterministic */
    uint64_t x = m->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    m->rng = x;
    return (uint32_t)((x * 2685821657736338717ULL) >> 32);
}
/* Encoded QIDs [C-code]: queue | (port + 1) << 13. */
static inline uint32_t np_qid(uint32_t port, uint32_t queue) {
    return (queue & (NP_QUEUES_PER_PORT - 1)) | (port + 1) << NP_QID_PORT_SHIFT;
}
static inline int np_qid_port(uint32_t qid) { return (int)(qid >> NP_QID_PORT_SHIFT) - 1; }
static inline uint32_t np_qid_queue(uint32_t qid) { return qid & (NP_QUEUES_PER_PORT - 1); }
static inline int np_port_has_mac(const np_port_t *p, uint64_t mac) {
    for (int i = 0; i < p->n_mac; i++) if (p->mac[i] == mac) return 1;
    return 0;
}
void np_count_drop(np_t *m, int reason, uint64_t pkt, int port, int inst);
void np_drop_h(np_t *m, uint32_t h, int reason, int inst);
void np_end_pkt(np_t *m, uint32_t h);
uint64_t np_pace_sub(np_t *m, uint64_t kbps, uint32_t len, int framing);
int np_sig_alloc(np_t *m, int n);
void np_buf_taken(np_t *m, uint32_t h);         /* a buffer left the free list */
void np_buf_returned(np_t *m, uint32_t h);      /* ... and came back */

/* tables.c */
/* An array table's record `idx` (NULL past its capacity); blocks charge the read. */
static inline const uint32_t *np_array_rec(np_t *m, int table, uint32_t idx) {
    np_table_t *t = m->tbl[table];
    return idx < t->capacity ? t->arr + (size_t)idx * (size_t)t->words : NULL;
}
int np_tbl_init_hmap(np_hmap_t *h, uint32_t cap);
void np_tbl_free(np_table_t *t);
const np_tentry_t *np_tcam_match(np_t *m, int table, const uint32_t *key);
int np_hmap_get(np_hmap_t *h, uint64_t key, uint64_t *val);
void *np_inst_state(np_t *m, int inst, int type);  /* an instance's state if it has that type */

#endif
