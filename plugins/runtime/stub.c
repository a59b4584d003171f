/* stub.c -- linked into every plug-in, built WITHOUT instrumentation.
 *
 * Defines the plug-in API (plugin_api.h) as calls through the table the
 * runtime binds (plugin_worker.c), and the basic-block hook gcc's
 * -fsanitize-coverage=trace-pc calls at the start of every basic block of
 * the user's code.
 */
#include "plugin_api.h"
#include "vrh_plugin_abi.h"

/* built with -fvisibility=hidden: only the three symbols below are exported */

static const struct vrh_api *A;

__attribute__((visibility("default"))) uint32_t vrh_plugin_abi_version = VRH_ABI_VERSION;

__attribute__((visibility("default"))) void vrh_plugin_bind(const struct vrh_api *api) { A = api; }

__attribute__((visibility("default"))) void __sanitizer_cov_trace_pc(void) {
    A->bb(A->ctx, (uintptr_t)__builtin_return_address(0));
}

unsigned onl_api_pkt_len(pkt_t p) { return (unsigned)A->pkt_get(A->ctx, p, VRH_F_LEN); }
int onl_api_pkt_in_port(pkt_t p) { return A->pkt_get(A->ctx, p, VRH_F_IN_PORT); }
int onl_api_pkt_out_port(pkt_t p) { return A->pkt_get(A->ctx, p, VRH_F_OUT_PORT); }
int onl_api_pkt_qid(pkt_t p) { return A->pkt_get(A->ctx, p, VRH_F_QID); }
int onl_api_pkt_ptag(pkt_t p) { return A->pkt_get(A->ctx, p, VRH_F_PTAG); }
int onl_api_pkt_flags(pkt_t p) { return A->pkt_get(A->ctx, p, VRH_F_FLAGS); }
int onl_api_pkt_set_out_port(pkt_t p, int v) { return A->pkt_set(A->ctx, p, VRH_F_OUT_PORT, v); }
int onl_api_pkt_set_qid(pkt_t p, int v) { return A->pkt_set(A->ctx, p, VRH_F_QID, v); }
int onl_api_pkt_set_ptag(pkt_t p, int v) { return A->pkt_set(A->ctx, p, VRH_F_PTAG, v); }
int onl_api_pkt_set_len(pkt_t p, unsigned v) { return A->pkt_set(A->ctx, p, VRH_F_LEN, (int)v); }
int onl_api_pkt_set_nh_mac(pkt_t p, const uint8_t mac[6]) { return A->pkt_set_nh_mac(A->ctx, p, mac); }
int onl_api_pkt_read(pkt_t p, unsigned off, void *buf, unsigned len) {
    return A->pkt_rw(A->ctx, p, 0, off, buf, len);
}
int onl_api_pkt_write(pkt_t p, unsigned off, const void *buf, unsigned len) {
    return A->pkt_rw(A->ctx, p, 1, off, (void *)buf, len);
}
pkt_t onl_api_pkt_alloc(unsigned len) { return A->pkt_alloc(A->ctx, len, PKT_NONE); }
pkt_t onl_api_pkt_copy(pkt_t p) { return A->pkt_alloc(A->ctx, 0, p); }
int onl_api_send_qm(pkt_t p, int port, int qid) { return A->send(A->ctx, p, VRH_X_QM, port, qid); }
int onl_api_send_mux(pkt_t p, int ptag) { return A->send(A->ctx, p, VRH_X_MUX, ptag, 0); }
int onl_api_send_plugin(pkt_t p, int n) { return A->send(A->ctx, p, VRH_X_PLUGIN, n, 0); }
int onl_api_send_xscale(pkt_t p) { return A->send(A->ctx, p, VRH_X_XSCALE, 0, 0); }
int onl_api_drop(pkt_t p) { return A->send(A->ctx, p, VRH_X_DROP, 0, 0); }
int onl_api_hold(pkt_t p) { return A->send(A->ctx, p, VRH_X_HOLD, 0, 0); }
unsigned onl_api_held(void) { return A->held(A->ctx); }
int onl_api_sram_read(unsigned off, void *buf, unsigned len) { return A->mem(A->ctx, VRH_M_SRAM, 0, off, buf, len); }
int onl_api_sram_write(unsigned off, const void *buf, unsigned len) {
    return A->mem(A->ctx, VRH_M_SRAM, 1, off, (void *)buf, len);
}
int onl_api_scratch_read(unsigned off, void *buf, unsigned len) {
    return A->mem(A->ctx, VRH_M_SCRATCH, 0, off, buf, len);
}
int onl_api_scratch_write(unsigned off, const void *buf, unsigned len) {
    return A->mem(A->ctx, VRH_M_SCRATCH, 1, off, (void *)buf, len);
}
void onl_api_counter_add(unsigned i, uint32_t v) { A->counter_add(A->ctx, i, v); }
uint32_t onl_api_counter_get(unsigned i) { return A->counter_get(A->ctx, i); }
uint64_t onl_api_timestamp(void) { return A->timestamp(A->ctx); }
uint64_t onl_api_cycles_per_us(void) { return A->cycles_per_us(A->ctx); }
uint32_t onl_api_random(void) { return A->random(A->ctx); }
void onl_api_set_period(uint64_t cycles) { A->set_period(A->ctx, cycles); }
