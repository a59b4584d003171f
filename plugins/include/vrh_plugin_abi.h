/* vrh_plugin_abi.h -- how the plug-in runtime and a compiled plug-in talk (internal).
 *
 * A plug-in .so holds the user's code (compiled with basic-block
 * instrumentation) and runtime/stub.c (not instrumented), which defines the
 * onl_api_* functions as calls through this table (an SPP code option:
 * runtime/copt_stub.c and the copt_* functions). The runtime
 * (np_model/core/plugin_worker.c, in the plug-in's worker process or, in
 * the unsafe in-process mode, in the simulator) fills the table and hands
 * it over with vrh_plugin_bind() after dlopen(), so the .so needs no
 * symbol from the simulator.
 */
#ifndef VRH_PLUGIN_ABI_H
#define VRH_PLUGIN_ABI_H

#include <stdint.h>

#define VRH_ABI_VERSION 2

/* metadata fields for pkt_get / pkt_set */
enum { VRH_F_LEN = 0, VRH_F_IN_PORT, VRH_F_OUT_PORT, VRH_F_QID, VRH_F_PTAG, VRH_F_FLAGS };
/* exits */
enum { VRH_X_QM = 0, VRH_X_MUX, VRH_X_PLUGIN, VRH_X_XSCALE, VRH_X_DROP, VRH_X_HOLD, VRH_X_COUNT };
/* memory spaces */
enum { VRH_M_SRAM = 0, VRH_M_SCRATCH };

struct vrh_api {
    uint32_t version;
    void *ctx;
    void (*bb)(void *ctx, uintptr_t ret_pc);                      /* every basic block */
    int (*pkt_get)(void *ctx, uint32_t pkt, int field);
    int (*pkt_set)(void *ctx, uint32_t pkt, int field, int value);
    int (*pkt_set_nh_mac)(void *ctx, uint32_t pkt, const uint8_t *mac);
    int (*pkt_rw)(void *ctx, uint32_t pkt, int write, unsigned off, void *buf, unsigned len);
    uint32_t (*pkt_alloc)(void *ctx, unsigned len, uint32_t copy_of);
    int (*send)(void *ctx, uint32_t pkt, int exit, int a, int b);
    unsigned (*held)(void *ctx);
    int (*mem)(void *ctx, int space, int write, unsigned off, void *buf, unsigned len);
    void (*counter_add)(void *ctx, unsigned i, uint32_t v);
    uint32_t (*counter_get)(void *ctx, unsigned i);
    uint64_t (*timestamp)(void *ctx);
    uint64_t (*cycles_per_us)(void *ctx);
    uint32_t (*random)(void *ctx);
    void (*set_period)(void *ctx, uint64_t cycles);
    /* a module's call arguments and results (SPP code options: code_option.h) */
    uint32_t (*arg)(void *ctx, unsigned i);                       /* argument i of this call (0 past the end) */
    int (*ret)(void *ctx, unsigned i, uint32_t v);                /* set result word i */
};

#endif
