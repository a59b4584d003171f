/* plugin_worker.h -- the plug-in runtime's shared region and its call side.
 *
 * A loaded plug-in's code runs in a WORKER process (plugins/runtime/worker.c)
 * whose address space holds the plug-in, this runtime and one shared memory
 * region -- nothing of the simulator. The region (a memfd the simulator
 * creates and maps too) holds:
 *   - a mailbox: control words the two sides wait on with futexes, the
 *     request (which entry point, the call's packet, the machine's time,
 *     RNG state, period, budget, memory latencies), the call's record (the
 *     ops it made, what they cost, its exits, packets it created), the
 *     call's packet (metadata and bytes), and text (arguments, messages);
 *   - the plug-in's memory: 1 MB of SRAM, scratch, counters;
 *   - the basic-block cost table (instructions per block);
 *   - the held store: the bytes and metadata of packets the plug-in holds,
 *     a slot per held packet; slot_of[handle] names it (simulator-kept).
 * The entry points are a table of (symbol, signature) the simulator fills,
 * so the same worker serves other compiled modules (SPP code options,
 * plugin_rt.c np_copt_*) with other entry points (an empty name: none),
 * arguments (q.arg) and results (r.ret).
 *
 * Everything the worker writes is UNTRUSTED: the simulator copies the record
 * out and checks every count, handle, offset, exit and length before it
 * applies anything (plugin_rt.c). vrhw_serve() below runs one request; it is
 * compiled into the worker and, for the opt-in unsafe in-process mode, into
 * the simulator's core.
 */
#ifndef NP_PLUGIN_WORKER_H
#define NP_PLUGIN_WORKER_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include "vrh_plugin_abi.h"

#define VRHW_MAGIC 0x57485256u        /* "VRHW" */
#define VRHW_VERSION 1u
#define VRHW_MAX_FRAME 1664           /* bytes of a packet buffer (NP_MAX_FRAME) */
#define VRHW_MAX_OPS 512              /* ops one call may record (NP_PL_MAX_OPS) */
#define VRHW_MAX_NEW 8                /* packets one call may create (NP_PL_MAX_NEW) */
#define VRHW_MAX_EXITS 64             /* exits one call may make (NP_PL_MAX_EXITS) */
#define VRHW_SRAM (1u << 20)          /* plug-in SRAM bytes (NP_PL_SRAM) */
#define VRHW_SCRATCH 256u
#define VRHW_COUNTERS 16u
#define VRHW_MAX_PLUGINS 16           /* plug-in slots (the plug-in block's slot range) */
#define VRHW_QID_PORT_SHIFT 13        /* encoded QID = queue | (port + 1) << 13 (NP_QID_PORT_SHIFT) */
#define VRHW_REPLY 64                 /* reply buffer of a message call */
#define VRHW_TEXT 65536               /* arguments / message text, NUL included */
#define VRHW_MAX_ENTRIES 8
#define VRHW_ARGS 16                  /* argument words of a module call (code options) */
#define VRHW_RETS 8                   /* result words of a module call */
#define VRHW_NAME 48
#define VRHW_PSEUDO 0x80000000u       /* handle bit of packets created in this call */
#define VRHW_EXIT_CODE 0x5652         /* the only exit_group status the worker's filter allows */

/* An encoded QID (queue | (port + 1) << 13) naming one of n_port ports. */
static inline int vrhw_qid_ok(uint32_t qid, uint32_t n_port) {
    return qid <= 0xFFFF && (qid >> VRHW_QID_PORT_SHIFT) >= 1 && (qid >> VRHW_QID_PORT_SHIFT) - 1 < n_port;
}
/* A QID as a plug-in may give it: encoded, or a bare queue (< n_queues) of port. */
static inline uint32_t vrhw_qid_encode(uint32_t qid, uint32_t port, uint32_t n_queues) {
    return qid < n_queues ? (qid | (port + 1) << VRHW_QID_PORT_SHIFT) : qid;
}

/* entry-point signatures */
enum { VRHW_SIG_VOID = 0, VRHW_SIG_PKT, VRHW_SIG_STR, VRHW_SIG_MSG, VRHW_SIG_COUNT };
/* call status (record) */
enum { VRHW_OK = 0, VRHW_BUDGET, VRHW_FAULT, VRHW_SYSCALL, VRHW_NOENTRY };
/* record ops (same numbering as NP_PLR_*) */
enum { VRHW_OP_MEM = 0, VRHW_OP_ALLOC, VRHW_OP_EXIT, VRHW_OP_SIGNAL };
/* memory a MEM op refers to */
enum { VRHW_MEM_PKT = 0, VRHW_MEM_SRAM, VRHW_MEM_SCRATCH, VRHW_MEM_COUNT };

typedef struct vrhw_entry {
    char name[VRHW_NAME];
    uint32_t sig;
} vrhw_entry_t;

typedef struct vrhw_meta {            /* a packet as a call sees it */
    uint32_t h, len;                  /* handle; length in bytes */
    uint64_t addr;                    /* DRAM address of its first byte (memory references) */
    uint64_t nh_mac;                  /* next-hop MAC, bit 48 set when given */
    uint16_t qid;
    uint8_t in_port, out_port, ptag, src, copy, pad;
    uint32_t lo, hi;                  /* bytes written since it came in: [lo, hi) */
} vrhw_meta_t;

typedef struct vrhw_pkt {
    vrhw_meta_t m;
    uint8_t data[VRHW_MAX_FRAME];
} vrhw_pkt_t;

typedef struct vrhw_op {              /* one recorded reference, allocation, exit or signal */
    uint32_t compute;                 /* ALU cycles before it */
    uint8_t kind, sub, flags, mem;    /* flags bit 0: write; mem: VRHW_MEM_* */
    uint32_t bytes, h;
    int32_t a, b;                     /* exit arguments; ALLOC: a = handle copied (0: none) */
    uint64_t addr;
} vrhw_op_t;

typedef struct vrhw_new {             /* a packet created in this call */
    uint32_t len, src_h;              /* src_h: the packet it copies (0: a fresh buffer) */
    uint8_t out_port, ptag;
    uint16_t qid;
    uint64_t nh_mac;
    uint8_t data[VRHW_MAX_FRAME];
} vrhw_new_t;

typedef struct vrhw_req {             /* simulator -> worker */
    uint32_t entry, cur;              /* entry index; the call's packet (0: none) */
    uint32_t n_port, n_queues, nheld, reply_size, n_plugins;
    uint64_t now, rng, period, budget, cycles_per_us;
    uint32_t lat[VRHW_MEM_COUNT];     /* unloaded read latency of each memory (cycles) */
    uint32_t arg[VRHW_ARGS];          /* a module call's arguments (zero for plug-ins) */
} vrhw_req_t;

typedef struct vrhw_rec {             /* worker -> simulator: what the call did */
    uint32_t seq, status, info;       /* info: the signal, or the system call's number */
    uint32_t n, nnew, nexit, refused, oob;
    uint64_t cycles, tail, rng, period;
    vrhw_op_t op[VRHW_MAX_OPS];
    uint32_t exited[VRHW_MAX_EXITS];
    vrhw_new_t nw[VRHW_MAX_NEW];
    char reply[VRHW_REPLY];
    uint32_t ret[VRHW_RETS];          /* a module call's results (untrusted: the caller checks them) */
} vrhw_rec_t;

typedef struct vrhw_hdr {
    uint32_t magic, version;
    uint64_t size;                    /* bytes of the whole region */
    uint64_t off_sram, off_scratch, off_ctr, off_wk, off_wv, off_slot_of, off_store;
    uint32_t n_buffers, wcap, wdefault, id;
    uint32_t n_entries, spin;         /* spin: idle polls before the worker sleeps */
    vrhw_entry_t entry[VRHW_MAX_ENTRIES];
    /* written by the worker when it is ready */
    uint32_t present;                 /* bit i: entry i was found */
    char error[256];
    _Alignas(64) uint32_t req;        /* simulator's request sequence number */
    uint32_t w_sleep;                 /* worker sleeps on req */
    _Alignas(64) uint32_t done;       /* last request the worker finished */
    uint32_t s_sleep;                 /* simulator sleeps on done */
    _Alignas(64) vrhw_req_t q;
    vrhw_rec_t r;
    vrhw_pkt_t cur;
    char text[VRHW_TEXT];
} vrhw_hdr_t;

/* The region's layout for a machine with n_buffers and a cost table of wcap
 * slots; fills H's offsets and returns the region's size in bytes. */
uint64_t vrhw_layout(vrhw_hdr_t *H, uint32_t n_buffers, uint32_t wcap);
uint64_t vrhw_region_size(uint32_t n_buffers, uint32_t wcap);

typedef struct vrhw {                 /* the call side's state (worker or in-process) */
    vrhw_hdr_t *H;
    uint8_t *sram, *scratch;
    uint32_t *ctr, *wk, *slot_of;
    uint16_t *wv;
    vrhw_pkt_t *store;
    uint32_t n_buffers, wcap, wdefault, id, n_entries;
    uintptr_t base;                   /* load address of the plug-in object */
    void *fn[VRHW_MAX_ENTRIES];
    uint32_t sig[VRHW_MAX_ENTRIES];
    struct vrh_api api;
    uint8_t *stack;                   /* the stack calls run on (NULL: the caller's) */
    size_t stack_size;
    /* the call in progress */
    vrhw_req_t q;
    uint64_t cyc, total, lat, rng, period;
    uint32_t info;
    sigjmp_buf jmp;
} vrhw_t;

/* Point W at a mapped region (checks magic, version, size and offsets). */
int vrhw_attach(vrhw_t *W, void *region, uint64_t size, char *err, size_t errlen);
/* Find the entry points in the loaded object dl and bind the plug-in API. */
int vrhw_bind(vrhw_t *W, void *dl, char *err, size_t errlen);
/* Catch faults (and, in the worker, SIGSYS from its system-call filter) in
 * plug-in code. worker=0: faults outside plug-in code go to the handlers
 * that were there before; worker=1: they end the worker. */
void vrhw_install_handlers(int worker);
/* Run the request in W->H->q and write the record W->H->r. */
void vrhw_serve(vrhw_t *W);

#endif
