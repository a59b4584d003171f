/* copt_abi.h -- argument and result words of an SPP code-option call (internal).
 *
 * The NPE's Parse and Header Format blocks (np_model/core/blocks/spp_parse.c,
 * spp_hf.c) fill the arguments; the code-option stub (plugins/runtime/
 * copt_stub.c) reads them for the copt_* functions and writes the results.
 */
#ifndef VRH_COPT_ABI_H
#define VRH_COPT_ABI_H

#define COPT_ARGS 16                  /* argument words of a call (VRHW_ARGS) */
#define COPT_RETS 8                   /* result words (VRHW_RETS) */

/* arguments */
enum {
    COPT_A_SLICE = 0, COPT_A_IN_MI, COPT_A_IP_OFF, COPT_A_OUT_MI, COPT_A_SRC_IP, COPT_A_SRC_PORT,
    COPT_A_DST_IP, COPT_A_DST_PORT, COPT_A_RESULT_ARG, COPT_A_SRAM_BASE, COPT_A_SRAM_SIZE, COPT_A_COUNT
};
/* results: the verdict (COPT_V_* | code << 8) and the key */
enum { COPT_R_VERDICT = 0, COPT_R_KEY0, COPT_R_KEY1, COPT_R_KEY2, COPT_R_KEY3, COPT_R_COUNT };
#define COPT_V_CONTINUE 0
#define COPT_V_EXCEPTION 1
#define COPT_V_DROP 2

#endif
