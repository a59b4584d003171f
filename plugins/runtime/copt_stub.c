/* copt_stub.c -- linked into every SPP code option, built WITHOUT instrumentation.
 *
 * Defines the code-option API (code_option.h) as calls through the table
 * the runtime binds (np_model/core/plugin_worker.c), and the basic-block
 * hook gcc's -fsanitize-coverage=trace-pc calls in the code option's code.
 * The call's context arrives as argument words and its results leave as
 * result words (the layout below is shared with np_model/core/blocks/
 * spp_parse.c and spp_hf.c: COPT_A_* and COPT_R_*).
 */
#include "code_option.h"
#include "vrh_plugin_abi.h"
#include "copt_abi.h"

static const struct vrh_api *A;

__attribute__((visibility("default"))) uint32_t vrh_plugin_abi_version = VRH_ABI_VERSION;

__attribute__((visibility("default"))) void vrh_plugin_bind(const struct vrh_api *api) { A = api; }

__attribute__((visibility("default"))) void __sanitizer_cov_trace_pc(void) {
    A->bb(A->ctx, (uintptr_t)__builtin_return_address(0));
}

static uint32_t arg(unsigned i) { return A->arg(A->ctx, i); }

unsigned copt_slice(void) { return arg(COPT_A_SLICE); }
unsigned copt_in_mi(void) { return arg(COPT_A_IN_MI); }
unsigned copt_ip_offset(void) { return arg(COPT_A_IP_OFF); }
unsigned copt_payload_offset(void) { return arg(COPT_A_IP_OFF) + 28; }
unsigned copt_out_mi(void) { return arg(COPT_A_OUT_MI); }
uint32_t copt_src_ip(void) { return arg(COPT_A_SRC_IP); }
unsigned copt_src_port(void) { return arg(COPT_A_SRC_PORT); }
uint32_t copt_dst_ip(void) { return arg(COPT_A_DST_IP); }
unsigned copt_dst_port(void) { return arg(COPT_A_DST_PORT); }
uint32_t copt_result_arg(void) { return arg(COPT_A_RESULT_ARG); }

void copt_key(const uint32_t key[4]) {
    for (unsigned i = 0; i < 4; i++) A->ret(A->ctx, COPT_R_KEY0 + i, key[i]);
}
void copt_exception(unsigned code) { A->ret(A->ctx, COPT_R_VERDICT, COPT_V_EXCEPTION | (code & 0xFF) << 8); }
void copt_drop(unsigned code) { A->ret(A->ctx, COPT_R_VERDICT, COPT_V_DROP | (code & 0xFF) << 8); }

unsigned copt_len(pkt_t p) { return (unsigned)A->pkt_get(A->ctx, p, VRH_F_LEN); }
int copt_read(pkt_t p, unsigned off, void *buf, unsigned len) { return A->pkt_rw(A->ctx, p, 0, off, buf, len); }
int copt_write(pkt_t p, unsigned off, const void *buf, unsigned len) {
    return A->pkt_rw(A->ctx, p, 1, off, (void *)buf, len);
}
int copt_set_len(pkt_t p, unsigned len) { return A->pkt_set(A->ctx, p, VRH_F_LEN, (int)len); }

/* the slice's window [base, base + size) of the code option's SRAM */
unsigned copt_sram_size(void) { return arg(COPT_A_SRAM_SIZE); }
int copt_sram_read(unsigned off, void *buf, unsigned len) {
    uint32_t size = arg(COPT_A_SRAM_SIZE);
    if ((uint64_t)off + len > size) return -1;
    return A->mem(A->ctx, VRH_M_SRAM, 0, arg(COPT_A_SRAM_BASE) + off, buf, len);
}
int copt_sram_write(unsigned off, const void *buf, unsigned len) {
    uint32_t size = arg(COPT_A_SRAM_SIZE);
    if ((uint64_t)off + len > size) return -1;
    return A->mem(A->ctx, VRH_M_SRAM, 1, arg(COPT_A_SRAM_BASE) + off, (void *)buf, len);
}
void copt_counter_add(unsigned i, uint32_t v) { A->counter_add(A->ctx, i, v); }
uint64_t copt_timestamp(void) { return A->timestamp(A->ctx); }
uint32_t copt_random(void) { return A->random(A->ctx); }
