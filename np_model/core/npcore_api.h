/* npcore_api.h -- the compiled core's public interface.
 *
 * This header is parsed by cffi (np_model/core/build_core.py), so it holds
 * plain declarations only: integer #defines, enums, structs and prototypes.
 *
 * The core is split the way the hardware is:
 *   - the *machine*: functional state shared by every engine -- DRAM/SRAM
 *     images, TCAM tables, queue-manager state, counters, inputs and outputs;
 *   - the *blocks*: NPR microcode (Rx, Mux, PLC, QM, HdrFmt, Tx, Stats,
 *     FreeList, XScale) written as protothreads that compute and then yield
 *     one hardware *op* (memory reference, ring get/put, wait, ...);
 *   - the *engine*: executes ops in simulated time -- event queue, ME thread
 *     arbitration, memory-channel contention, ring timing, ports.
 * The C engine (np_run) and the pure-Python reference engine
 * (np_model/engine/pyengine.py) drive the same machine and blocks.
 */

#define NP_SUB 1024                /* sub-cycle resolution of servers and wires */
#define NP_MAX_ME 17               /* 16 microengines + the control processor */
#define NP_THREADS_PER_ME 8
#define NP_MAX_THREADS 136
#define NP_MAX_RINGS 64
#define NP_MAX_SERVERS 48
#define NP_MAX_MEMS 16
#define NP_MAX_PORTS 8
#define NP_MAX_PLUGINS 5
#define NP_XWORDS 8
#define NP_QUEUES_PER_PORT 8192
#define NP_DATAGRAM_QUEUES 64
#define NP_BUF_SIZE 2048           /* DRAM buffer stride [D: (handle<<8)+0x180 with 32-B descriptors] */
#define NP_BUF_DATA_OFFSET 384     /* 0x180, data offset of XScale-built packets [C-code nprd_arp.cc] */
#define NP_MAX_FRAME 1664          /* NP_BUF_SIZE - NP_BUF_DATA_OFFSET */
#define NP_NO_PKT 0xFFFFFFFFFFFFFFFF

/* ---- blocks (microcode) ---- */
enum np_block {
    NP_BLK_NONE = 0, NP_BLK_RX, NP_BLK_MUX, NP_BLK_PLC, NP_BLK_QM, NP_BLK_HF,
    NP_BLK_TX, NP_BLK_STATS, NP_BLK_FREELIST, NP_BLK_XSCALE, NP_BLK_IDLE,
    NP_BLK_SYNTH, NP_BLK_PLUGIN, NP_BLK_COUNT
};

/* ---- ops a block yields to the engine ---- */
enum np_opkind {
    NP_OP_NONE = 0,
    NP_OP_MEM,         /* memory reference: target = memory id, addr, bytes; WRITE/POSTED flags */
    NP_OP_RING_GET,    /* target = ring; blocks while empty unless TRY (then result = NP_R_EMPTY) */
    NP_OP_RING_PUT,    /* target = ring, words; blocks while full unless TRY (result = NP_R_FULL) */
    NP_OP_WAIT_ANY,    /* addr = mask of rings; continue when any has a visible entry */
    NP_OP_WAIT_UNTIL,  /* addr = absolute cycle */
    NP_OP_SIGNAL,      /* target = signal id: set it / wake its waiter */
    NP_OP_WAIT_SIG,    /* target = signal id: wait until set, then clear */
    NP_OP_TX,          /* target = port, words[0] = handle, bytes = length: into TBUF (waits for room) */
    NP_OP_RBUF_FREE,   /* target = RBUF slot: release the receive buffer elements */
    NP_OP_HOST,        /* words = host record (see np_host_rec_t): deliver the packet to the host */
    NP_OP_HALT,        /* the thread stops for good */
    NP_OP_COUNT
};
#define NP_OPF_WRITE 1
#define NP_OPF_POSTED 2    /* do not wait for completion (no context swap) */
#define NP_OPF_TRY 4       /* do not block: report NP_R_EMPTY / NP_R_FULL */

#define NP_R_OK 0
#define NP_R_EMPTY 1
#define NP_R_FULL 2

enum np_memkind { NP_MEM_SCRATCH = 0, NP_MEM_SRAM, NP_MEM_DRAM, NP_MEM_TCAM };
enum np_ringkind { NP_RING_MEM = 0, NP_RING_NN, NP_RING_PUSH };

enum np_tstate {
    NP_TS_READY = 0, NP_TS_RUNNING, NP_TS_WAIT_MEM, NP_TS_WAIT_WORK, NP_TS_WAIT_BP, NP_TS_HALTED
};

typedef struct np_op {
    uint32_t kind;
    uint32_t flags;
    uint32_t target;
    uint32_t bytes;
    uint64_t addr;
    uint32_t compute;       /* ME cycles of computation before the op issues */
    uint32_t nwords;
    uint32_t words[8];
    uint64_t pkt;           /* packet the op works for (trace); NP_NO_PKT if none */
} np_op_t;

/* ---- ring roles: how blocks find the rings a router wires between them ---- */
enum np_role {
    NP_ROLE_RBUF = 0, NP_ROLE_RX_MUX, NP_ROLE_XS_MUX, NP_ROLE_PLUG_MUX, NP_ROLE_MUX_PLC,
    NP_ROLE_PLC_QM, NP_ROLE_QM_HF, NP_ROLE_HF_TX, NP_ROLE_EXC, NP_ROLE_LD, NP_ROLE_ERR,
    NP_ROLE_STATS, NP_ROLE_FREE, NP_ROLE_BUFQ, NP_ROLE_HOST_IN, NP_ROLE_TXDONE,
    NP_ROLE_PLUGIN0, NP_ROLE_PLUGIN1, NP_ROLE_PLUGIN2, NP_ROLE_PLUGIN3, NP_ROLE_PLUGIN4,
    NP_ROLE_PLMSG0, NP_ROLE_PLMSG1, NP_ROLE_PLMSG2, NP_ROLE_PLMSG3, NP_ROLE_PLMSG4,
    NP_ROLE_COUNT
};
/* memory roles */
enum np_mrole {
    NP_MR_SCRATCH = 0, NP_MR_DESC, NP_MR_QPARAM, NP_MR_QDESC, NP_MR_RESULT, NP_MR_STATS,
    NP_MR_PKT, NP_MR_TCAM, NP_MR_PLUGIN, NP_MR_COUNT
};

/* ---- machine construction ---- */
typedef struct np_params {
    uint64_t f_me_hz;         /* ME clock */
    uint32_t n_buffers;       /* packet buffers (descriptor + 2 KB DRAM buffer each) */
    uint32_t swap_cycles;     /* context-swap cost, ~ a taken branch */
    uint32_t rbuf_elements;   /* MSF receive buffer elements */
    uint32_t rbuf_element_bytes;
    uint32_t tbuf_elements;   /* per-port transmit buffer elements */
    uint32_t wire_overhead;   /* preamble + IFG bytes per frame on the wire */
    uint32_t fcs_bytes;       /* FCS bytes not present in the frame data */
    uint32_t min_frame;       /* minimum frame on the wire incl. FCS */
    uint64_t seed;
} np_params_t;

typedef struct np np_t;

np_t *np_new(const np_params_t *p);
void np_free(np_t *m);
const char *np_error(np_t *m);
int np_add_server(np_t *m, uint32_t lat, uint32_t unit, uint64_t occ_sub, uint64_t cmd_sub);
int np_add_mem(np_t *m, int kind, int srv_rd, int srv_wr, int nsrv, int interleave_shift);
int np_add_ring(np_t *m, int kind, int mem, int words, uint32_t cap, uint32_t nn_lat, const char *name);
int np_set_role_ring(np_t *m, int role, int ring);
int np_set_role_mem(np_t *m, int mrole, int mem);
int np_add_me(np_t *m, int block, int nthreads, const char *name);
int np_set_cost(np_t *m, const char *name, uint32_t value);
int np_add_port(np_t *m, uint64_t wire_bps, uint64_t mac, uint32_t ip, uint32_t mtu);
int np_start(np_t *m);

/* ---- names (single source of truth for Python) ---- */
int np_n_costs(void);
const char *np_cost_name(int i);
uint32_t np_get_cost(np_t *m, int i);
int np_n_drops(void);
const char *np_drop_name(int i);
int np_n_excs(void);
const char *np_exc_name(int i);
const char *np_block_name(int b);
const char *np_op_name(int k);
const char *np_src_hash(void);

/* ---- traffic in ---- */
int np_feed(np_t *m, int n, const uint64_t *t_cycles, const uint8_t *ports,
            const uint32_t *lens, const uint64_t *offsets, const uint8_t *data,
            const uint32_t *meta, uint64_t first_id);
/* A port fed by a flow-controlled NIC bus instead of an Ethernet wire (the
 * SmartNIC front-end in cycle timing, np_model/nic/cosim.py): its frames are
 * not serialised on an input wire -- each enters the MSF whole at the cycle
 * it was fed for (the NIC's last beat); the NIC asks np_rbuf_free for room
 * first, so the MSF never has to drop one as rbuf_full. Set before feeding. */
int np_port_set_bus(np_t *m, int port, int on);
int np_port_bus(np_t *m, int port);                  /* 1 bus-fed, 0 wire-fed, -1 no such port */
uint32_t np_rbuf_free(np_t *m);                      /* free MSF receive-buffer elements */
#define NP_INJ_PASSTHRU 1
#define NP_INJ_KEEP_L2 2
#define NP_INJ_MSG 4         /* a control message for plug-in out_port (data: the text) */
int np_inject(np_t *m, uint64_t t_cycle, const uint8_t *data, uint32_t len,
              uint32_t flags, int in_port, int out_port, uint32_t qid, uint32_t ptag);

/* ---- the C engine ---- */
#define NP_RUN_TIME 0        /* reached 'until' */
#define NP_RUN_HOST 1        /* a host record is waiting (stop_on_host) */
#define NP_RUN_IDLE 2        /* nothing left to do */
#define NP_RUN_FULL 3        /* an output buffer needs draining */
#define NP_RUN_RBUF 4        /* receive-buffer elements were released (NP_STOP_RBUF) */
#define NP_STOP_HOST 1       /* flags: return when a packet reaches the host */
#define NP_IDLE_STAY 2       /* flags: when nothing is left, stay at the last event's cycle */
#define NP_STOP_RBUF 4       /* flags: return after an event that released RBUF elements (a
                                flow-controlled NIC waiting for room, np_model/nic/cosim.py) */
int np_run(np_t *m, uint64_t until, int flags);
uint64_t np_now(np_t *m);
uint64_t np_events(np_t *m);
void np_set_trace(np_t *m, int on);
void np_set_capture(np_t *m, int on);
void np_set_record_drops(np_t *m, int on);
int np_line_trace(np_t *m, char *buf, int len);

/* ---- outputs ---- */
typedef struct np_tx_rec {
    uint64_t pkt;        /* packet id (input order; host injections and copies get ids too) */
    uint64_t t_rx;       /* cycle the frame was fully received (or injected) */
    uint64_t t_start;    /* first bit on the output wire */
    uint64_t t_end;      /* last bit on the output wire */
    uint64_t cap_off;    /* offset of the captured bytes in the capture arena */
    uint32_t len;
    uint16_t port;
    uint16_t flags;      /* bit0: copy; bit1: came from host; bit2: captured */
    uint32_t meta;       /* rx metadata (NIC front-end) */
    uint32_t qid;
} np_tx_rec_t;

typedef struct np_host_rec {
    uint64_t pkt;
    uint64_t t_rx;
    uint64_t t_host;     /* cycle the control processor delivered it to the host */
    uint64_t cap_off;
    uint64_t nh_mac;
    uint32_t len;
    uint32_t reason;     /* exception reason index (np_exc_name) */
    uint32_t nh_ip;
    uint32_t meta;
    uint16_t in_port;
    uint16_t out_port;
    uint16_t ptag;
    uint16_t src;        /* source of the packet: 0 Rx, 1 XScale, 2 plugin */
} np_host_rec_t;

typedef struct np_drop_rec {
    uint64_t pkt;
    uint64_t t;
    uint32_t reason;
    uint16_t port;
    uint16_t block;
} np_drop_rec_t;

typedef struct np_trace_rec {
    uint64_t pkt;
    uint64_t t_issue;
    uint64_t t_done;     /* completion (memory ops); = t_issue for others */
    uint32_t unloaded;   /* the op's latency on an idle machine */
    uint16_t me;
    uint8_t thread;
    uint8_t block;
    uint8_t op;
    uint8_t flags;
    uint16_t target;
} np_trace_rec_t;

int np_take_tx(np_t *m, np_tx_rec_t **recs, uint8_t **cap, uint64_t *cap_len);
int np_take_host(np_t *m, np_host_rec_t **recs, uint8_t **cap, uint64_t *cap_len);
int np_take_drops(np_t *m, np_drop_rec_t **recs);
int np_take_trace(np_t *m, np_trace_rec_t **recs);
void np_clear_outputs(np_t *m);

/* ---- tables (the TCAM and the queue manager) ---- */
#define NP_RT_LOCAL 1       /* the router's own address: local delivery */
#define NP_RT_ONLINK 2      /* directly connected: next hop = destination */
#define NP_RT_MCAST 4       /* deliver a copy to every port in port_mask */
typedef struct np_route {
    uint32_t prefix;
    uint8_t plen;
    int8_t in_port;         /* -1: any input port */
    uint8_t out_port;
    uint8_t prio;           /* route-table priority (lower wins against filters) */
    uint32_t flags;
    uint32_t nh_ip;
    uint64_t nh_mac;        /* bit 48 set: valid */
    uint32_t port_mask;
    uint16_t qid;           /* 0: datagram queue chosen by address hash */
    uint16_t stats;
} np_route_t;

typedef struct np_fkey {
    uint32_t daddr, daddr_mask, saddr, saddr_mask;
    uint16_t dport, dport_mask, sport, sport_mask;
    uint16_t tcp_flags, tcp_flags_mask;
    uint8_t proto, proto_mask;
    uint8_t ptag, ptag_mask;
    int8_t in_port;         /* -1: any */
} np_fkey_t;

enum np_faction_kind { NP_FA_QUEUE = 0, NP_FA_DROP, NP_FA_PLUGIN, NP_FA_MCAST, NP_FA_XSCALE };
typedef struct np_faction {
    uint8_t kind;
    uint8_t port;
    uint8_t plugin;
    uint8_t prio;           /* 0..63, lower matches first */
    uint16_t qid;
    uint16_t stats;
    uint32_t port_mask;
    uint32_t nh_ip;         /* 0: the packet's destination */
    uint64_t nh_mac;        /* bit 48 set: valid */
    uint16_t sample;        /* aux filters: copy when rand16 <= sample (0xFFFF = always) */
} np_faction_t;

int np_route_add(np_t *m, const np_route_t *r);
int np_route_del(np_t *m, uint32_t prefix, int plen, int in_port);
int np_route_count(np_t *m);
int np_filter_add(np_t *m, int aux, const np_fkey_t *k, const np_faction_t *a);
int np_filter_del(np_t *m, int aux, int id);
int np_filter_count(np_t *m, int aux);
int np_arp_set(np_t *m, uint32_t ip, uint64_t mac);
int np_arp_del(np_t *m, uint32_t ip);
int np_arp_get(np_t *m, uint32_t ip, uint64_t *mac);          /* 1 found, 0 not */
int np_arp_list(np_t *m, uint32_t *ips, uint64_t *macs, int max);
int np_queue_set(np_t *m, int port, int qid, uint32_t threshold, uint32_t quantum);
int np_queue_get(np_t *m, int port, int qid, uint32_t *threshold, uint32_t *quantum,
                 uint32_t *pkts, uint32_t *bytes);
int np_port_rate(np_t *m, int port, uint64_t kbps);
int np_plugin_enable(np_t *m, int plugin, int on);
int np_set_me_arg(np_t *m, int me, int arg);

/* ---- plug-ins (plugin_rt.c) ---- */
typedef struct np_plugin_stats {
    uint64_t pkts, cyc_min, cyc_max, cyc_sum;     /* packet calls and their ALU cycles */
    uint64_t msgs, periodic, created, held;
    uint64_t budget, crashes, oob, refused;       /* contained misbehaviour */
    uint64_t exits[6];                            /* qm, mux, plugin, xscale, drop, hold */
    uint64_t last_signal;
} np_plugin_stats_t;
int np_plugin_load(np_t *m, int id, const char *path, const char *name, const uint32_t *offs,
                   const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args);
int np_plugin_release(np_t *m, int id);
int np_plugin_loaded(np_t *m, int id);            /* 0 none, 1 running, 2 unloaded (release it) */
int np_plugin_stats(np_t *m, int id, np_plugin_stats_t *s);
int np_plugin_counters(np_t *m, int id, uint32_t *out);
int np_plugin_reply(np_t *m, int id, char *buf, int len, uint64_t *t);

/* ---- statistics ---- */
typedef struct np_port_stats {
    uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, rx_drops, tx_busy_sub;
} np_port_stats_t;
typedef struct np_me_stats {
    uint64_t busy, stall, idle, dispatches;
} np_me_stats_t;
typedef struct np_ring_stats {
    uint64_t puts, gets, full, hwm, count;
} np_ring_stats_t;
typedef struct np_srv_stats {
    uint64_t ops, units, busy_sub, wait_sub, max_wait_sub;
} np_srv_stats_t;
typedef struct np_queue_stats {
    uint64_t enq_pkts, enq_bytes, deq_pkts, deq_bytes, drops;
    uint32_t pkts, bytes;
} np_queue_stats_t;
typedef struct np_counters {
    uint64_t arrived, injected, copies, transmitted, to_host, dropped, in_flight_hint;
    uint64_t synth_iters, double_end, created;
} np_counters_t;

void np_get_counters(np_t *m, np_counters_t *c);
uint64_t np_drop_count(np_t *m, int reason);
uint64_t np_exc_count(np_t *m, int reason);
void np_port_stats(np_t *m, int port, np_port_stats_t *s);
void np_me_stats(np_t *m, int me, np_me_stats_t *s);
void np_ring_stats(np_t *m, int ring, np_ring_stats_t *s);
void np_srv_stats(np_t *m, int srv, np_srv_stats_t *s);
int np_queue_stats(np_t *m, int port, int qid, np_queue_stats_t *s);
int np_active_queues(np_t *m, int port, uint16_t *qids, int max);
void np_stats_index(np_t *m, int idx, uint64_t *out4);
int np_n_mes(np_t *m);
int np_n_rings(np_t *m);
int np_n_servers(np_t *m);
int np_n_ports(np_t *m);
const char *np_ring_name(np_t *m, int ring);
const char *np_me_name(np_t *m, int me);
int np_me_block(np_t *m, int me);
int np_me_threads(np_t *m, int me);
uint64_t np_buffers_free(np_t *m);
uint64_t np_packets_in_flight(np_t *m);

/* ---- hooks for the pure-Python reference engine ---- */
/* The reference engine keeps its own events, thread states, rings and
 * servers, and uses these to run the same microcode on the same machine. */
np_op_t *np_thread_op(np_t *m, int tid);
uint32_t *np_thread_xin(np_t *m, int tid);
void np_thread_set_result(np_t *m, int tid, int32_t result);
void np_block_step(np_t *m, int tid, uint64_t now);
int np_thread_me(np_t *m, int tid);
int np_me_first_thread(np_t *m, int me);
uint64_t *np_ring_nonempty(np_t *m);
int np_ring_info(np_t *m, int ring, int *kind, int *mem, int *words, uint32_t *cap, uint32_t *nn_lat);
int np_mem_info(np_t *m, int mem, int *kind, int *srv_rd, int *srv_wr, int *nsrv, int *shift);
int np_srv_info(np_t *m, int srv, uint32_t *lat, uint32_t *unit, uint64_t *occ_sub, uint64_t *cmd_sub);
int np_port_info(np_t *m, int port, uint64_t *wire_bps);
int np_fx_bufq_fill(np_t *m, uint32_t *handles, int max);       /* initial free buffer handles */
int np_fx_next_arrival(np_t *m, int port, uint64_t *t_cycle, uint32_t *len);
int np_fx_rx_accept(np_t *m, int port, uint64_t t_end, uint32_t *entry);  /* -1 dropped, else words */
uint32_t np_fx_rbuf_elems(np_t *m, uint32_t len);
void np_fx_rbuf_release(np_t *m, uint32_t slot);
uint64_t np_fx_wire_sub(np_t *m, int port, uint32_t len);
void np_fx_tx_done(np_t *m, int port, uint32_t handle, uint32_t len, uint64_t t_start, uint64_t t_end);
uint32_t np_fx_tbuf_need(np_t *m, uint32_t len);
void np_fx_host(np_t *m, const uint32_t *words, uint64_t now);
int np_fx_next_inject(np_t *m, uint64_t *t_cycle);
int np_fx_take_inject(np_t *m, uint32_t *entry);
void np_fx_trace(np_t *m, int tid, const np_op_t *op, uint64_t t_issue, uint64_t t_done, uint32_t unloaded);
void np_fx_set_now(np_t *m, uint64_t now);
int np_fx_host_pending(np_t *m, int clear);
int np_fx_rbuf_released(np_t *m, int clear);        /* RBUF elements released since the flag was cleared */
void np_fx_host_in_drop(np_t *m, uint32_t slot);
void np_fx_me_account(np_t *m, int me, uint64_t busy, uint64_t stall, uint64_t idle, uint64_t dispatches);
void np_fx_ring_account(np_t *m, int ring, uint64_t puts, uint64_t gets, uint64_t full, uint64_t hwm, uint64_t count);
void np_fx_srv_account(np_t *m, int srv, uint64_t ops, uint64_t units, uint64_t busy_sub, uint64_t wait_sub, uint64_t max_wait_sub);
void np_fx_port_busy(np_t *m, int port, uint64_t busy_sub);
/* read-only getters the reference engine needs to mirror engine.c */
int np_role_ring(np_t *m, int role);                 /* ring wired to a role, -1 if none */
void np_get_params(np_t *m, np_params_t *p);         /* effective parameters (after np_new's clamps) */
int np_fx_trace_on(np_t *m);                         /* per-op trace switched on (np_set_trace) */
int np_started(np_t *m);                             /* np_start succeeded */
