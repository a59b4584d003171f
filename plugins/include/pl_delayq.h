/* pl_delayq.h -- a release-time queue in plug-in SRAM, for plug-ins that
 * hold packets (delay, drop_delay, emulink). Entries are appended in
 * release order; the periodic thread sends those whose time has come.
 *
 * Counters, as NPR's delay plug-in names them: 0 npkts, 1 maxinq,
 * 2 ndrops, 3 ninq.
 */
#ifndef VRH_PL_DELAYQ_H
#define VRH_PL_DELAYQ_H

#include "plugin_api.h"

#define DQ_ENTRY 16u
#define DQ_SLOTS (PLUGIN_SRAM_BYTES / DQ_ENTRY)
#define C_NPKTS 0
#define C_MAXINQ 1
#define C_NDROPS 2
#define C_NINQ 3

struct dq_entry { uint32_t pkt; uint32_t pad; uint64_t release; };

static uint32_t dq_head, dq_tail;        /* in local memory: 8 bytes */

static inline void dq_note_len(void) {
    uint32_t n = dq_tail - dq_head;
    onl_api_counter_add(C_NINQ, n - onl_api_counter_get(C_NINQ));
    if (n > onl_api_counter_get(C_MAXINQ)) onl_api_counter_add(C_MAXINQ, n - onl_api_counter_get(C_MAXINQ));
}

/* Hold pkt until `release` (cycles); drops it when the queue is full. */
static inline void dq_push(pkt_t pkt, uint64_t release) {
    struct dq_entry e = { pkt, 0, release };
    if (dq_tail - dq_head >= DQ_SLOTS) {
        onl_api_counter_add(C_NDROPS, 1);
        onl_api_drop(pkt);
        return;
    }
    onl_api_sram_write((dq_tail % DQ_SLOTS) * DQ_ENTRY, &e, sizeof e);
    dq_tail++;
    onl_api_hold(pkt);
    dq_note_len();
}

/* Send every held packet whose release time has passed, on its own port and queue. */
static inline void dq_release(void) {
    uint64_t now = onl_api_timestamp();
    while (dq_head != dq_tail) {
        struct dq_entry e;
        onl_api_sram_read((dq_head % DQ_SLOTS) * DQ_ENTRY, &e, sizeof e);
        if (e.release > now) break;
        onl_api_send_qm(e.pkt, onl_api_pkt_out_port(e.pkt), onl_api_pkt_qid(e.pkt));
        dq_head++;
    }
    dq_note_len();
}

#endif
