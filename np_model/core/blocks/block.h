/* block.h -- what a block's C file includes: the contract macros, the
 * protothread macros in which microcode is written, and the ops.
 *
 * A block is one C file (as a Click element is one class): its contract
 * first -- ports, memories, tables, parameters, counters, each an array
 * indexed by the block's own enum -- then its configuration check (init),
 * then its one hot routine (run), then NP_BLOCK(name, ...). Register it with
 * one line in blocks.def. Nothing else in the core or in Python names it:
 * Python reads the contract through np_block_type_*().
 *
 * Inside run(), `t` is the thread, `I` its block instance, and:
 *   RING(slot)  the ring bound to a ring port   MEM(port)   a memory port
 *   TABLE(port) a table port                    PARAM(p)    a parameter
 *   COUNT(c, n) add to a counter                L           the thread's locals
 */
#ifndef NP_BLOCK_H
#define NP_BLOCK_H

#include <string.h>
#include "../npcore.h"

#define NP_ARRAY(a) (a), (int)(sizeof(a) / sizeof((a)[0]))

/* The contract's entries. */
#define NP_IN(name_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_IN, .count = 1, .format = (fmt_), .doc = (doc_) }
#define NP_OUT(name_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_OUT, .count = 1, .format = (fmt_), .doc = (doc_) }
#define NP_OUT_OPT(name_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_OUT, .count = 1, .optional = 1, .format = (fmt_), .doc = (doc_) }
#define NP_IN_OPT(name_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_IN, .count = 1, .optional = 1, .format = (fmt_), .doc = (doc_) }
#define NP_OUT_ARRAY(name_, n_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_OUT, .count = (n_), .optional = 1, .format = (fmt_), .doc = (doc_) }
#define NP_IN_ARRAY(name_, n_, fmt_, doc_) { .name = (name_), .dir = NP_PORT_IN, .count = (n_), .optional = 1, .format = (fmt_), .doc = (doc_) }
#define NP_PARAM(name_, def_, min_, max_, unit_, status_, source_) \
    { .name = (name_), .def = (def_), .min = (min_), .max = (max_), .unit = (unit_), .status = (status_), .source = (source_) }
#define NP_COST(name_, def_, source_) NP_PARAM(name_, def_, 0, 1000000, "cycles", "estimate", source_)

#define NP_BLOCK(nm, ...) const np_block_desc_t np_block_##nm = { .name = #nm, __VA_ARGS__ }

/* ---- inside run() ---- */
#define I ((t)->inst)
#define RING(slot) (I->ring[(slot)])
#define MEM(port) (I->mem[(port)])
#define TABLE(port) (I->table[(port)])
#define PARAM(p) (I->param[(p)])
#define COUNT(c, n) (I->ctr[(c)] += (uint64_t)(n))
#define STATE(type) ((type *)I->state)
#define LOCALS(type) ((type *)(t)->local)
#define RING_READY(ri) ((ri) >= 0 && m->ring_vis[(ri)] > 0)

/* A block is a protothread: its locals live in t->local, its resume point in
 * t->pc. Each op macro fills t->op and returns to the engine, which executes
 * the op in simulated time and calls the block again. COMPUTE only
 * accumulates ALU cycles: they are spent before the next op issues. */
#define PT_BEGIN(t) switch ((t)->pc) { case 0:
#define PT_END(t) } (t)->pc = -1; np_op_set((t), NP_OP_HALT, 0, 0); return
#define PT_YIELD(t) do { (t)->pc = __LINE__; return; case __LINE__:; } while (0)

static inline void np_op_set(np_thread_t *t, uint32_t kind, uint32_t flags, uint32_t target) {
    t->op.kind = kind; t->op.flags = flags; t->op.target = target;
    t->op.bytes = 0; t->op.addr = 0; t->op.nwords = 0; t->op.pkt = t->pkt;
}
#define COMPUTE(t, n) ((t)->op.compute += (uint32_t)(n))
#define OP_MEM(t, mport, flags_, addr_, bytes_) do {                          \
        np_op_set((t), NP_OP_MEM, (flags_), (uint32_t)MEM(mport));            \
        (t)->op.addr = (addr_); (t)->op.bytes = (bytes_); PT_YIELD(t); } while (0)
/* a reference to a memory given by id (not a port: e.g. a plug-in's record) */
#define OP_MEM_ID(t, mem_, flags_, addr_, bytes_) do {                        \
        np_op_set((t), NP_OP_MEM, (flags_), (uint32_t)(mem_));                \
        (t)->op.addr = (addr_); (t)->op.bytes = (bytes_); PT_YIELD(t); } while (0)
#define OP_GET_RING(t, ring_, flags_) do {                                    \
        np_op_set((t), NP_OP_RING_GET, (flags_), (uint32_t)(ring_));          \
        PT_YIELD(t); } while (0)
#define OP_RING_GET(t, slot, flags_) OP_GET_RING(t, RING(slot), flags_)
/* put words[0..n-1] on a ring given by id */
#define OP_PUT_RING(t, ring_, flags_, w_, n_) do {                            \
        np_op_set((t), NP_OP_RING_PUT, (flags_), (uint32_t)(ring_));          \
        (t)->op.nwords = (uint32_t)(n_);                                      \
        memcpy((t)->op.words, (w_), (size_t)(n_) * sizeof(uint32_t));         \
        PT_YIELD(t); } while (0)
#define OP_RING_PUT(t, slot, flags_, w_, n_) OP_PUT_RING(t, RING(slot), flags_, w_, n_)
/* put one record of format fmt (np_<fmt>_t rec) on a ring port */
#define OP_RING_PUT_REC(t, slot, flags_, fmt, rec) do {                       \
        uint32_t w__[NP_W_##fmt]; np_pack_##fmt(w__, &(rec));                 \
        OP_RING_PUT(t, slot, flags_, w__, NP_W_##fmt); } while (0)
/* wait until any of the rings r[0..n-1] has a visible entry */
#define OP_WAIT_ANY(t, r_, n_) do {                                           \
        np_op_set((t), NP_OP_WAIT_ANY, 0, 0); (t)->op.nwords = 0;             \
        for (int i__ = 0; i__ < (n_); i__++)                                  \
            if ((r_)[i__] >= 0) (t)->op.words[(t)->op.nwords++] = (uint32_t)(r_)[i__]; \
        PT_YIELD(t); } while (0)
#define OP_WAIT_UNTIL(t, when) do {                                           \
        np_op_set((t), NP_OP_WAIT_UNTIL, 0, 0); (t)->op.addr = (when); PT_YIELD(t); } while (0)
#define OP_SIGNAL(t, s) do { np_op_set((t), NP_OP_SIGNAL, 0, (uint32_t)(s)); PT_YIELD(t); } while (0)
#define OP_WAIT_SIG(t, s) do { np_op_set((t), NP_OP_WAIT_SIG, 0, (uint32_t)(s)); PT_YIELD(t); } while (0)
#define OP_TX(t, port_, h_, len_) do {                                        \
        np_op_set((t), NP_OP_TX, 0, (port_)); (t)->op.words[0] = (h_);        \
        (t)->op.nwords = 1; (t)->op.bytes = (len_); PT_YIELD(t); } while (0)
#define OP_RBUF_FREE(t, slot) do {                                            \
        np_op_set((t), NP_OP_RBUF_FREE, 0, (slot)); PT_YIELD(t); } while (0)
/* hand the packet to the host: w_ = its exc entry (NP_W_exc words), ring_ = where it came from */
#define OP_HOST(t, ring_, w_) do {                                            \
        np_op_set((t), NP_OP_HOST, 0, (uint32_t)(ring_));                     \
        (t)->op.nwords = NP_W_exc;                                            \
        memcpy((t)->op.words, (w_), NP_W_exc * sizeof(uint32_t)); PT_YIELD(t); } while (0)
#define OP_HALT(t) do { np_op_set((t), NP_OP_HALT, 0, 0); PT_YIELD(t); } while (0)

/* A buffer handle on its way back to the free list (np_fmt buf). */
#define OP_FREE(t, slot, h_) do { uint32_t b__ = (h_) & 0xFFFFFF;              \
        OP_RING_PUT(t, slot, NP_OPF_POSTED, &b__, 1); } while (0)

#endif
