/* npcore_api.h -- the compiled core's public interface.
 *
 * This header is parsed by cffi (np_model/core/build_core.py), so it holds
 * plain declarations only: integer #defines, enums, structs and prototypes.
 *
 * The core models ONE network processor, split the way the hardware is:
 *   - the *machine*: servers (memory channels), memories, rings, microengines
 *     and their threads, signals, MSF ports (wires, RBUF, TBUF), the packet
 *     buffer pool (descriptors in SRAM, buffers in DRAM), tables (TCAM
 *     databases, hash tables), counters, inputs and outputs;
 *   - the *blocks*: microcode written as protothreads that compute and then
 *     yield one hardware *op* at a time. Each block type declares a contract
 *     (np_block_desc_t: its ring, memory and table ports, parameters with
 *     default/unit/source, counters) and is registered in blocks/blocks.def;
 *     an *assembly* (np_model/assemblies/) creates block *instances*, binds
 *     their ports to rings, memories and tables, and puts them on MEs --
 *     the same block type may be instantiated any number of times;
 *   - the *engine*: executes ops in simulated time -- event queue, ME thread
 *     arbitration, memory-channel contention, ring timing, ports.
 * The C engine (np_run) and the pure-Python reference engine
 * (np_model/engine/pyengine.py) drive the same machine and blocks.
 */

#define NP_SUB 1024                /* sub-cycle resolution of servers and wires */
#define NP_THREADS_PER_ME_MAX 8    /* hardware contexts an ME can have (IXP2800: 8) */
#define NP_XWORDS 8                /* transfer registers a ring entry can fill */
#define NP_WAIT_MAX 8              /* rings one WAIT_ANY can name */
#define NP_QUEUES_PER_PORT 8192    /* [C-code] queues per QM port; QIDs are encoded per np_qid() */
#define NP_QID_PORT_SHIFT 13       /* encoded QID = queue | (port + 1) << 13 [C-code nprd_configuration.cc] */
#define NP_DATAGRAM_QUEUES 64
#define NP_BUF_SIZE 2048           /* DRAM buffer stride [D: (handle<<8)+0x180 with 32-B descriptors] */
#define NP_BUF_DATA_OFFSET 384     /* 0x180, data offset of packets in their buffer [C-code nprd_arp.cc] */
#define NP_MAX_FRAME 1664          /* NP_BUF_SIZE - NP_BUF_DATA_OFFSET: bytes from the default offset */
#define NP_PORT_MACS 4             /* MAC addresses one port answers to (its own + e.g. VRRP) */
#define NP_NO_PKT 0xFFFFFFFFFFFFFFFF
#define NP_NAME 32
#define NP_PL_SCRATCH 256          /* scratch bytes each plug-in may use (taken off the scratchpad) */

/* ---- ops a block yields to the engine ---- */
enum np_opkind {
    NP_OP_NONE = 0,
    NP_OP_MEM,         /* memory reference: target = memory id, addr, bytes; WRITE/POSTED flags */
    NP_OP_RING_GET,    /* target = ring; blocks while empty unless TRY (then result = NP_R_EMPTY) */
    NP_OP_RING_PUT,    /* target = ring, words; blocks while full unless TRY (result = NP_R_FULL) */
    NP_OP_WAIT_ANY,    /* words[0..nwords-1] = rings; continue when any has a visible entry */
    NP_OP_WAIT_UNTIL,  /* addr = absolute cycle */
    NP_OP_SIGNAL,      /* target = signal id: set it / wake its waiter */
    NP_OP_WAIT_SIG,    /* target = signal id: wait until set, then clear */
    NP_OP_TX,          /* target = port, words[0] = handle, bytes = length: into TBUF (waits for room) */
    NP_OP_RBUF_FREE,   /* target = RBUF slot: release the receive buffer elements */
    NP_OP_HOST,        /* words = the exception entry (format exc): deliver the packet to the host */
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
/* ring kinds: MEM = a scratch or SRAM ring (its gets and puts are memory references);
 * QUEUE = an SRAM linked-list hardware queue (Q_array, e.g. the buffer free list: any
 * length, references like MEM); NN = next-neighbour registers; PUSH = filled by the
 * hardware and pushed to waiting threads (no reference). */
enum np_ringkind { NP_RING_MEM = 0, NP_RING_NN, NP_RING_PUSH, NP_RING_QUEUE };

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

/* ---- rings the hardware itself fills or drains (not a block's port) ---- */
enum np_hwring {
    NP_HW_RBUF = 0,    /* MSF receive status pushed to Rx threads (format rbuf_status) */
    NP_HW_TXDONE,      /* MSF transmit completion pushed to Tx threads (format txdone) */
    NP_HW_HOST_IN,     /* host -> control processor transmit queue (format host_in) */
    NP_HW_BUFQ,        /* the buffer free list: an SRAM hardware queue, starts full (format buf) */
    NP_HW_COUNT
};

/* ---- block contracts (read-only descriptions; see blocks/block.h) ---- */
#define NP_PORT_IN 0
#define NP_PORT_OUT 1
typedef struct np_ring_port {
    const char *name;
    int dir;                /* NP_PORT_IN / NP_PORT_OUT */
    int count;              /* an array of this many ports (name.0, name.1, ...) */
    int optional;           /* may be left unbound */
    const char *format;     /* record format of its entries (np_format_*) */
    const char *doc;
} np_ring_port_t;
typedef struct np_param_desc {
    const char *name;
    int64_t def, min, max;
    const char *unit;
    const char *status;     /* confirmed, code, derived, estimate; wiring: set per instance by the assembly */
    const char *source;
} np_param_desc_t;
typedef struct np_named {
    const char *name;
    const char *doc;
} np_named_t;

int np_n_block_types(void);
int np_block_type_find(const char *name);
const char *np_block_type_name(int type);
const char *np_block_type_doc(int type);
int np_block_type_counts(int type, int *n_rings, int *n_mems, int *n_tables, int *n_params, int *n_counters);
const np_ring_port_t *np_block_type_ring(int type, int i);
const np_named_t *np_block_type_mem(int type, int i);
const np_named_t *np_block_type_table(int type, int i);
const np_param_desc_t *np_block_type_param(int type, int i);
const np_named_t *np_block_type_counter(int type, int i);

/* ---- record formats (one declaration: formats.def) ---- */
typedef struct np_field_desc {
    const char *name;
    int word, lsb, width;
} np_field_desc_t;
int np_n_formats(void);
int np_format_find(const char *name);
const char *np_format_name(int f);
const char *np_format_doc(int f);
int np_format_words(int f);
int np_format_nfields(int f);
const np_field_desc_t *np_format_field(int f, int i);

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
    uint32_t max_frame;       /* largest frame a buffer holds (bytes of data from its offset) */
    uint32_t scratch_ring_words_total;  /* scratchpad words rings may use */
    uint32_t scratch_rings_max;         /* hardware scratch rings */
    uint32_t nn_ring_words;             /* next-neighbour registers per ME */
    uint32_t stats_blocks;              /* counter blocks of the Stats block's array */
    uint64_t seed;
} np_params_t;

typedef struct np np_t;

np_t *np_new(const np_params_t *p);
void np_free(np_t *m);
const char *np_error(np_t *m);
int np_add_server(np_t *m, uint32_t lat, uint32_t unit, uint64_t occ_sub, uint64_t cmd_sub);
int np_add_mem(np_t *m, int kind, int srv_rd, int srv_wr, int nsrv, int interleave_shift);
/* A ring of `words` 32-bit words holding entries of `entry_words` words (capacity
 * words / entry_words). Scratch rings must be 128, 256, 512 or 1024 words [HRM p.57];
 * SRAM rings 512 .. 65536 words, a power of two [HRM p.216]; NN rings at most the ME's
 * next-neighbour registers; push rings (filled by the hardware) any size. */
int np_add_ring(np_t *m, int kind, int mem, int entry_words, uint32_t words, uint32_t nn_lat,
                const char *name, const char *format);
int np_set_hw_ring(np_t *m, int which, int ring);
int np_add_port(np_t *m, uint64_t wire_bps, uint64_t mac, uint32_t ip, uint32_t mtu);
int np_port_add_mac(np_t *m, int port, uint64_t mac);
int np_port_del_mac(np_t *m, int port, uint64_t mac);
/* Block instances: create, bind ports (by name; "name.i" for arrays), set parameters
 * (by name), then put the instance on MEs. */
int np_add_block(np_t *m, const char *type, const char *name);
int np_bind_ring(np_t *m, int inst, const char *port, int ring);
int np_bind_mem(np_t *m, int inst, const char *port, int mem);
int np_bind_table(np_t *m, int inst, const char *port, int table);
int np_set_param(np_t *m, int inst, const char *name, int64_t value);
int np_get_param(np_t *m, int inst, const char *name, int64_t *value);
int np_add_me(np_t *m, int inst, int nthreads, const char *name);
int np_start(np_t *m);

/* ---- names ---- */
int np_n_drops(void);
const char *np_drop_name(int i);
int np_n_excs(void);
const char *np_exc_name(int i);
const char *np_op_name(int k);
const char *np_src_hash(void);

/* ---- traffic in ---- */
/* first_id NP_NO_PKT: the frames are numbered from np_next_id (which every
 * np_feed keeps above the ids it gave). */
int np_feed(np_t *m, int n, const uint64_t *t_cycles, const uint8_t *ports,
            const uint32_t *lens, const uint64_t *offsets, const uint8_t *data,
            const uint32_t *meta, uint64_t first_id);
uint64_t np_next_id(np_t *m);
/* Reserve n packet ids for frames fed later with explicit ids (a NIC front-end
 * that holds frames numbers them when they are offered); returns the first. */
uint64_t np_take_ids(np_t *m, uint64_t n);
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
uint64_t np_run_wall_ns(np_t *m);   /* wall-clock ns spent simulating inside np_run so far
                                     * (less the time in a transmit hook: np_fab_*) */
uint64_t np_now(np_t *m);
uint64_t np_events(np_t *m);
void np_set_trace(np_t *m, int on);
void np_set_capture(np_t *m, int on);
void np_set_record_drops(np_t *m, int on);
void np_set_ring_trace(np_t *m, int on);
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
    uint32_t qid;        /* encoded QID the packet was queued in */
} np_tx_rec_t;

typedef struct np_host_rec {
    uint64_t pkt;
    uint64_t t_rx;
    uint64_t t_host;     /* cycle the control processor delivered it to the host */
    uint64_t cap_off;
    uint32_t len;
    uint32_t ring;       /* ring the control processor took it from */
    uint32_t meta;
    uint32_t nh_ip;      /* next-hop address PLC chose (descriptor) */
    uint16_t src;        /* who sent the packet into Mux: 0 Rx, 1 XScale, 2 plug-in */
    uint16_t pad;
    uint32_t entry[8];   /* the ring entry (format exc), as written by the block that sent it */
} np_host_rec_t;

typedef struct np_drop_rec {
    uint64_t pkt;
    uint64_t t;
    uint32_t reason;
    uint16_t port;
    uint16_t inst;       /* block instance that dropped it (0xFFFF: the MSF) */
} np_drop_rec_t;

typedef struct np_trace_rec {
    uint64_t pkt;
    uint64_t t_issue;
    uint64_t t_done;     /* completion (memory ops); = t_issue for others */
    uint32_t unloaded;   /* the op's latency on an idle machine */
    uint16_t me;
    uint8_t thread;
    uint8_t op;
    uint16_t inst;
    uint8_t flags;
    uint8_t pad;
    uint32_t target;
} np_trace_rec_t;

typedef struct np_ringtrace_rec {
    uint64_t t;
    uint32_t ring;
    uint32_t nwords;
    uint32_t words[8];
} np_ringtrace_rec_t;

int np_take_tx(np_t *m, np_tx_rec_t **recs, uint8_t **cap, uint64_t *cap_len);
int np_take_host(np_t *m, np_host_rec_t **recs, uint8_t **cap, uint64_t *cap_len);
int np_take_drops(np_t *m, np_drop_rec_t **recs);
int np_take_trace(np_t *m, np_trace_rec_t **recs);
int np_take_ring_trace(np_t *m, np_ringtrace_rec_t **recs);
void np_clear_outputs(np_t *m);
uint64_t np_outputs_pending(np_t *m);   /* records of any kind not yet cleared */

/* ---- fabric (fabric.c): machines joined by point-to-point links, one call per window ----
 * A network of several machines under conservative synchronisation runs in
 * windows: every machine runs to the window bound, then the frames each sent
 * cross their links and are offered to the far end (np_feed) before the next
 * window. np_fab_run does both for all its machines in one call. A link with
 * a machine at one end or both (np_fab_link; an end that is not a machine is
 * an "external" end, numbered by the caller: node -1 - ext) is carried here:
 * first bit out + delay is the far end's first-bit arrival (for a machine,
 * rounded up to its cycles as np_model.timebase does); a frame longer than
 * the link MTU (bytes after the Ethernet header and its 802.1Q tag) is lost,
 * counted per direction. Frames for an external end are staged for the
 * caller (kind 2, all nodes' together: np_fab_deliveries) with their arrival times; frames an external end sends
 * enter with np_fab_send. A machine port on no fabric link has its frames
 * staged (kind 0), and a captured link's frames from a machine are staged as
 * copies (kind 1). A machine stops early when the caller must act -- a host
 * timer is due by the bound (np_fab_timers), a packet reached the host (flags
 * NP_STOP_HOST), other outputs wait, or NP_FAB_DRAIN_RECS transmit records
 * or NP_FAB_DRAIN_BYTES captured bytes are kept: its np_fab_rc entry is then
 * the np_run code, else -1; the caller finishes its window and calls
 * np_fab_carry. */
#define NP_FAB_DRAIN_RECS 65536
#define NP_FAB_DRAIN_BYTES 4194304
#define NP_FAB_DL_ARENA 262144      /* bytes first set aside for the frames of a window to external ends */
typedef struct np_fab np_fab_t;
typedef struct np_fab_rec {
    uint64_t t_start, t_end;   /* the sending machine's cycles: first bit, last bit out */
    uint64_t off;              /* the frame's bytes in the node's staging arena */
    uint32_t len;
    uint16_t port;             /* the sender's port */
    uint8_t kind;              /* 0: carry it; 1: a copy of a captured link's frame */
    uint8_t lost;              /* kind 1: 1 if the link lost it to its MTU */
    int32_t link, dir;         /* kind 1: the fabric link and its direction (0: from end a) */
} np_fab_rec_t;
typedef struct np_fab_dl {     /* a frame for an external end (kind 2): this header, then its len bytes,
                                  padded to a multiple of 8 (the next header follows) */
    double t_last;             /* last bit at the far end, ns */
    uint64_t seq;              /* its number among the frames that arrived on that port: the link
                                  direction's base (np_fab_link_base) + frames it passed so far */
    double t_first;            /* first bit at the far end, ns */
    uint64_t start, end;       /* the frame's bytes in the arena: [start, end) */
    uint64_t next;             /* where the next record starts */
    uint16_t port;             /* the far end's port */
    uint16_t pad;
    int32_t ext;               /* the external end */
} np_fab_dl_t;
np_fab_t *np_fab_new(void);
void np_fab_free(np_fab_t *f);           /* also stops every machine's transmit hook */
const char *np_fab_error(np_fab_t *f);
int np_fab_add(np_fab_t *f, np_t *m, int flags);          /* node index; flags: NP_STOP_HOST */
int np_fab_link(np_fab_t *f, int a, int pa, int b, int pb, double delay_ns, int32_t mtu, int capture);
uint64_t *np_fab_timers(np_fab_t *f);    /* per node: cycle of its next host timer, UINT64_MAX none */
int32_t *np_fab_rc(np_fab_t *f);         /* per node, after np_fab_run: -1 done, else the np_run code */
uint32_t *np_fab_nstaged(np_fab_t *f);   /* per node: staged records (kinds 0, 1) since np_fab_run */
uint64_t *np_fab_state(np_fab_t *f);     /* [0] frames for external ends (kind 2) since np_fab_run,
                                            [1] their records' bytes, [2] the arena's generation (it
                                            changes when the arena moves), [3] the arena's capacity,
                                            [4] machines the last run stopped early (its result) */
char *np_fab_deliveries(np_fab_t *f);    /* those frames, in the order sent: np_fab_dl_t records one after
                                            another (the arena: valid while the generation stays) */
int np_fab_link_base(np_fab_t *f, int link, int dir, uint64_t base);  /* np_fab_dl_t.seq's base */
int np_fab_run(np_fab_t *f, double until_ns);            /* nodes the caller must finish, or -1 */
int np_fab_carry(np_fab_t *f);
/* a frame the external end of `link` (direction dir) sent: 0 passed on, 1 lost to the MTU, -1 error */
int np_fab_send(np_fab_t *f, int link, int dir, double t_start_ns, const uint8_t *data, uint32_t len);
/* np_fab_send for several frames, in order: records of int32 link, int32 dir, double t_start_ns,
 * double t_end_ns (not used here), uint32 len (little-endian, unaligned: 28 bytes), each followed by
 * its len bytes. Returns the frames the links lost to their MTU, or -1. */
int np_fab_send_box(np_fab_t *f, const uint8_t *data, uint64_t nbytes);
/* np_fab_send_box (nbytes 0: nothing), then np_fab_run; returns the frames for external ends (state[0])
 * when no machine stopped early and the arena did not move since the last step, else -2 (read state),
 * or -1 (an error). */
int np_fab_step(np_fab_t *f, const uint8_t *data, uint64_t nbytes, double until_ns);
int np_fab_feed(np_fab_t *f, int node, int port, double t_first_ns, const uint8_t *data, uint32_t len);
/* node's staged frames (kinds 0, 1), in the order sent */
int np_fab_staged(np_fab_t *f, int node, np_fab_rec_t **recs, char **data);
void np_fab_node_counts(np_fab_t *f, int node, uint64_t *fed, uint64_t *sent);
void np_fab_link_counts(np_fab_t *f, int link, int dir, uint64_t *received, uint64_t *sent, uint64_t *mtu_lost);

/* ---- tables ----
 * A TCAM database holds (value, mask) keys of up to NP_KEY_WORDS 32-bit words and
 * answers with its best-ranked matching entry (lowest rank; a TCAM's order). Its
 * search costs the same simulated time whatever it holds (the block charges one
 * TCAM op); the simulator's own cost grows with the number of distinct masks, not
 * with the entries (tuple-space search). A hash table maps a 64-bit key to a value
 * (open addressing with backward-shift deletion: deletions leave no tombstones). */
#define NP_KEY_WORDS 5
/* An array table holds `capacity` records of its format (np_format_*), by index
 * (an all-zero record is empty): configuration a block reads per packet. */
enum np_tblkind { NP_TBL_TCAM = 0, NP_TBL_HASH, NP_TBL_ARRAY };
typedef struct np_result {      /* a TCAM entry's result record (format result, + model fields) */
    uint8_t kind;               /* assembly-defined (NPR: np_faction_kind / route kinds) */
    uint8_t prio;               /* priority against other databases (lower wins) */
    uint16_t flags;
    uint16_t qid;               /* encoded QID, 0: chosen by the block */
    uint16_t stats;             /* stats index */
    uint32_t ports;             /* output port or port mask (unicast/multicast bits) */
    uint32_t nh_ip;
    uint64_t nh_mac;            /* bit 48 set: valid */
    uint32_t arg;               /* plug-in number, ... */
    uint32_t aux;               /* auxiliary filters: copy when rand16 <= aux (0xFFFF: always) */
} np_result_t;
/* NPR result kinds (np_result_t.kind): routes ... */
enum np_route_kind { NP_RK_NEXTHOP = 0, NP_RK_ONLINK, NP_RK_LOCAL, NP_RK_MCAST };
/* ... and filter actions */
enum np_faction_kind { NP_FA_QUEUE = 0, NP_FA_DROP, NP_FA_PLUGIN, NP_FA_MCAST, NP_FA_XSCALE };
typedef struct np_tcam_stats {
    uint64_t entries, groups, searches, hits, probes, max_chain;
} np_tcam_stats_t;

int np_add_table(np_t *m, int kind, const char *name, const char *format, uint32_t capacity);
int np_table_count(np_t *m, int table);
/* TCAM: add returns an entry id (>= 1); an entry with the same value/mask is replaced
 * when `replace` is set (its id is kept). */
int np_tcam_add(np_t *m, int table, const uint32_t *value, const uint32_t *mask, uint64_t rank,
                const np_result_t *res, int replace);
int np_tcam_del(np_t *m, int table, int id);
int np_tcam_find(np_t *m, int table, const uint32_t *value, const uint32_t *mask);    /* id or 0 */
int np_tcam_get(np_t *m, int table, int id, uint32_t *value, uint32_t *mask, uint64_t *rank,
                np_result_t *res, uint64_t *hits);
int np_tcam_search(np_t *m, int table, const uint32_t *key, np_result_t *res);       /* id or 0 */
int np_tcam_ids(np_t *m, int table, int32_t *ids, int max);
void np_tcam_stats(np_t *m, int table, np_tcam_stats_t *s);
int np_hash_set(np_t *m, int table, uint64_t key, uint64_t value);
int np_hash_del(np_t *m, int table, uint64_t key);
int np_hash_get(np_t *m, int table, uint64_t key, uint64_t *value);                  /* 1 found */
int np_hash_list(np_t *m, int table, uint64_t *keys, uint64_t *values, int max);
int np_hash_probe_stats(np_t *m, int table, uint64_t *probes, uint64_t *lookups, uint32_t *max_probe);
int np_hash_set_many(np_t *m, int table, const uint64_t *keys, const uint64_t *values, int n);
int np_hash_del_many(np_t *m, int table, const uint64_t *keys, int n);
int np_hash_get_many(np_t *m, int table, const uint64_t *keys, uint64_t *values, uint8_t *found, int n);
int np_array_set(np_t *m, int table, uint32_t index, const uint32_t *words);     /* the format's words */
int np_array_get(np_t *m, int table, uint32_t index, uint32_t *words);

/* ---- queue managers (state of a QM block instance) ---- */
int np_queue_set(np_t *m, int qm, uint32_t qid, uint32_t threshold, uint32_t quantum);
int np_queue_get(np_t *m, int qm, uint32_t qid, uint32_t *threshold, uint32_t *quantum,
                 uint32_t *pkts, uint32_t *bytes);
int np_port_rate(np_t *m, int qm, int port, uint64_t kbps);

/* ---- plug-ins (plugin_rt.c); `slot` is the plug-in number PLC and exits use ---- */
typedef struct np_plugin_stats {
    uint64_t pkts, cyc_min, cyc_max, cyc_sum;     /* packet calls and their ALU cycles */
    uint64_t msgs, periodic, created, held;
    uint64_t budget, crashes, oob, refused;       /* contained misbehaviour */
    uint64_t exits[6];                            /* qm, mux, plugin, xscale, drop, hold */
    uint64_t last_signal;
    uint64_t hangs, syscalls, restarts, bad_records, last_syscall;
    uint64_t calls, wall_ns;                      /* calls made and the wall-clock time they took */
} np_plugin_stats_t;
/* slot: the plug-in number filters and exits use; worker: the plug-in worker
 * program (NULL or "": run the plug-in inside this process, unsafe);
 * watchdog_us: wall-clock limit of one call. */
int np_plugin_load(np_t *m, int slot, const char *path, const char *name, const uint32_t *offs,
                   const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                   const char *worker, uint64_t watchdog_us);
/* 1 in a worker, 0 in-process, -1 none; pid of its worker (0: none now); why it stopped
 * running (or ""); how its last worker ended (or ""). */
int np_plugin_runtime(np_t *m, int slot, int *pid, char *why, int len, char *ended, int elen);
int np_plugin_release(np_t *m, int slot);
int np_plugin_loaded(np_t *m, int slot);          /* 0 none, 1 running, 2 unloaded (release it) */
int np_plugin_stats(np_t *m, int slot, np_plugin_stats_t *s);
int np_plugin_counters(np_t *m, int slot, uint32_t *out);
int np_plugin_reply(np_t *m, int slot, char *buf, int len, uint64_t *t);
int np_n_plugin_slots(np_t *m);
/* SPP code options (plugin_rt.c): a module with copt_parse / copt_hf entries, run
 * in a worker like a plug-in; its memory references are charged to instance
 * `inst`'s memories. Returns its slot (np_plugin_stats / np_plugin_runtime take it). */
int np_copt_load(np_t *m, int inst, const char *path, const char *name, const uint32_t *offs,
                 const uint16_t *weights, int nweights, uint32_t wdefault, uint64_t budget, const char *args,
                 const char *worker, uint64_t watchdog_us);
/* The codes code option `slot` gave in an spp_parse or spp_hf instance: out[0..255]
 * packets dropped with code i, out[256..511] exceptions raised with code i. */
int np_spp_copt_codes(np_t *m, int inst, int slot, uint64_t *out);

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
int np_queue_stats(np_t *m, int qm, uint32_t qid, np_queue_stats_t *s);
/* ---- hierarchical queue managers (state of an HQM block instance, blocks/hqm.c) ---- */
/* node: the queue's parent scheduling node (-1: none); kbps 0: no rate; limit 0: no packet limit */
int np_hqm_queue_set(np_t *m, int hqm, uint32_t qid, uint32_t threshold, uint32_t quantum, uint64_t kbps, int32_t node);
int np_hqm_queue_get(np_t *m, int hqm, uint32_t qid, uint32_t *threshold, uint32_t *quantum, uint64_t *kbps,
                     int32_t *node, uint32_t *pkts, uint32_t *bytes);
int np_hqm_queue_stats(np_t *m, int hqm, uint32_t qid, np_queue_stats_t *s);
int np_hqm_active_queues(np_t *m, int hqm, uint32_t *qids, int max);
int np_hqm_node_set(np_t *m, int hqm, int32_t node, int32_t parent, uint64_t kbps, uint32_t limit);
/* out4: packets queued below it, dequeued, bytes dequeued, arrivals dropped at its limit */
int np_hqm_node_get(np_t *m, int hqm, int32_t node, int32_t *parent, uint64_t *kbps, uint32_t *limit,
                    uint32_t *queued, uint64_t *out4);
int np_hqm_port_rate(np_t *m, int hqm, int port, uint64_t kbps);
int np_active_queues(np_t *m, int qm, uint32_t *qids, int max);
int np_stats_index(np_t *m, int inst, int idx, uint64_t *out4);
int np_inst_counters(np_t *m, int inst, uint64_t *out, int max);
int np_n_mes(np_t *m);
int np_n_rings(np_t *m);
int np_n_servers(np_t *m);
int np_n_mems(np_t *m);
int np_n_ports(np_t *m);
int np_n_insts(np_t *m);
const char *np_ring_name(np_t *m, int ring);
const char *np_ring_format(np_t *m, int ring);
const char *np_me_name(np_t *m, int me);
int np_me_inst(np_t *m, int me);
int np_me_threads(np_t *m, int me);
const char *np_inst_name(np_t *m, int inst);
int np_inst_type(np_t *m, int inst);
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
uint32_t *np_ring_vis(np_t *m);                      /* visible entries per ring: blocks read it */
int np_n_signals(np_t *m);
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
void np_fx_host(np_t *m, const np_op_t *op, uint64_t now);   /* op: NP_OP_HOST (target = ring) */
int np_fx_next_inject(np_t *m, uint64_t *t_cycle);
int np_fx_take_inject(np_t *m, uint32_t *entry);
void np_fx_trace(np_t *m, int tid, const np_op_t *op, uint64_t t_issue, uint64_t t_done, uint32_t unloaded);
void np_fx_ring_put(np_t *m, int ring, const uint32_t *words, uint32_t nwords, uint64_t now);
void np_fx_set_now(np_t *m, uint64_t now);
int np_fx_host_pending(np_t *m, int clear);
int np_fx_rbuf_released(np_t *m, int clear);        /* RBUF elements released since the flag was cleared */
void np_fx_host_in_drop(np_t *m, uint32_t slot);
void np_fx_me_account(np_t *m, int me, uint64_t busy, uint64_t stall, uint64_t idle, uint64_t dispatches);
void np_fx_ring_account(np_t *m, int ring, uint64_t puts, uint64_t gets, uint64_t full, uint64_t hwm, uint64_t count);
void np_fx_srv_account(np_t *m, int srv, uint64_t ops, uint64_t units, uint64_t busy_sub, uint64_t wait_sub, uint64_t max_wait_sub);
void np_fx_port_busy(np_t *m, int port, uint64_t busy_sub);
/* read-only getters the reference engine needs to mirror engine.c */
int np_hw_ring(np_t *m, int which);                  /* ring wired to a hardware role, -1 if none */
void np_get_params(np_t *m, np_params_t *p);         /* effective parameters (after np_new's clamps) */
int np_fx_trace_on(np_t *m);                         /* per-op trace switched on (np_set_trace) */
int np_fx_ring_trace_on(np_t *m);
int np_started(np_t *m);                             /* np_start succeeded */
