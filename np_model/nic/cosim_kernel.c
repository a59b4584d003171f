/* cosim_kernel.c -- the cycle-timed NIC's clock, edge by edge (np_model/nic/cosim.py).
 *
 * hk_step runs the NIC from cycle n->c: frames due enter the MAC buffer (or are
 * dropped: giant, rx_missed), the buffer's head frame streams into the Verilated
 * classifier's s_axis, m_axis beats cross the bus into RBUF while the RBUF credit
 * (n->room, one per element) covers them, further copies of a replicated frame
 * cross after it, and every admission drop, classifier drop and copy delivered
 * is written to the event list. It stops at the window's end, when the NIC is
 * idle, when a beat needs more room than the NP last reported (unless the room is
 * exact for that cycle: then the beat waits, or the NIC is frozen and it stops),
 * or when the event list is full. It never calls the NP: cosim.py runs the NP
 * engine between calls and turns events into np_feed calls and counters.
 *
 * The ports are driven through the pyverilator wrapper's own accessors (function
 * pointers handed over by Python), one clock edge = clk 0, eval, clk 1, eval, as
 * np_model/nic/rtl_backend.py does.
 */
#include <stdint.h>
#include <string.h>
#include "cosim_kernel.h"

enum { HK_STOP_LIMIT = 0, HK_STOP_IDLE, HK_STOP_SYNC, HK_STOP_FROZEN, HK_STOP_EVFULL, HK_STOP_ARRIVALS };
enum { HK_EV_GIANT = 1, HK_EV_MISSED, HK_EV_RTL_DROP, HK_EV_COPY };

typedef uint32_t (*get32_t)(void *);
typedef uint64_t (*get64_t)(void *);
typedef uint32_t (*getw_t)(void *, int);
typedef int (*set32_t)(void *, uint32_t);
typedef int (*set64_t)(void *, uint64_t);
typedef int (*setw_t)(void *, int, uint64_t);
typedef int (*eval_t)(void *);

static inline uint64_t pget(void *top, const hk_port *p) {          /* ports up to 64 bits */
    return p->width <= 32 ? ((get32_t)p->get)(top) : ((get64_t)p->get)(top);
}
static inline uint32_t pget_word(void *top, const hk_port *p, int w) {
    if (p->width > 64) return ((getw_t)p->get)(top, w);
    return (uint32_t)(pget(top, p) >> (32 * w));
}
static inline void pset(void *top, const hk_port *p, uint64_t v) {  /* ports up to 64 bits */
    if (p->width <= 32) ((set32_t)p->set)(top, (uint32_t)v);
    else ((set64_t)p->set)(top, v);
}

static inline uint64_t tme(const hk_nic *n, uint64_t c) {          /* ME cycle NIC cycle c starts at */
    unsigned __int128 x = (unsigned __int128)c * n->f_me;
    return (uint64_t)((x + n->f_nic - 1) / n->f_nic);
}

static inline uint32_t credits(uint32_t done, uint32_t nb, uint32_t e) {  /* elements a beat opens */
    return (done + nb + e - 1) / e - (done + e - 1) / e;
}

static inline int popcount_keep(uint64_t keep) { return __builtin_popcountll(keep); }

static int pools_of(const uint32_t *user) {                        /* destination pools: tuser[43 +: NUM_POOLS] */
    int k = 0;
    for (int w = 1; w < 4; w++) {
        uint32_t v = user[w];
        if (w == 1) v >>= 11;                                          /* bit 43 = word 1, bit 11 */
        k += __builtin_popcount(v);
    }
    return k;
}

static int idle(const hk_nic *n) {
    return n->cur_in < 0 && !n->buf_n && !n->rtlq_n && n->out_slot < 0 && n->repl_slot < 0;
}

static hk_event *event(hk_nic *n, uint32_t kind, uint32_t slot, uint64_t cycle) {
    hk_event *e = &n->ev[n->ev_n++];
    memset(e, 0, sizeof *e);
    e->kind = kind; e->slot = slot; e->cycle = cycle;
    return e;
}

/* The frame in slot s has its last bit in: into the MAC buffer, or dropped. */
static void admit(hk_nic *n, uint32_t s, uint64_t c) {
    const hk_frame *f = &n->frames[s];
    n->received++;
    if (f->len > n->max_frame[f->port]) { event(n, HK_EV_GIANT, s, c); return; }
    if (n->buf_bytes + f->len > n->rx_buffer_bytes) { event(n, HK_EV_MISSED, s, c); return; }
    n->buf[(n->buf_head + n->buf_n) % n->buf_cap] = s;
    n->buf_n++;
    n->buf_bytes += f->len;
    if ((uint64_t)n->buf_bytes > n->buf_max) n->buf_max = (uint64_t)n->buf_bytes;
}

/* The RTL cannot move until RBUF has room: no beat can enter it and its pipeline has drained. */
static int frozen(hk_nic *n) {
    if (!n->skip_frozen || n->quiet < (uint64_t)n->quiet_cycles) return 0;
    if (n->cur_in >= 0) return !pget(n->top, &n->s_ready);
    return !n->buf_n;
}

/* Admit the arrivals handed over that are due before cycle `before` (the NIC's clock jumps
 * there while frozen: they can only wait in the MAC buffer). Returns how many. */
int hk_admit(hk_nic *n, uint64_t before) {
    int k = 0;
    while (n->arr_i < n->arr_n && n->arr_cycle[n->arr_i] < before && n->ev_n + 1 < n->ev_cap) {
        uint64_t c = n->arr_cycle[n->arr_i];
        admit(n, n->arr_slot[n->arr_i++], c);
        k++;
    }
    return k;
}

int hk_step(hk_nic *n) {
    void *top = n->top;
    eval_t ev = (eval_t)n->eval;
    const uint32_t B = (uint32_t)n->beat_bytes, E = (uint32_t)n->elem_bytes;
    const int data_words = (n->s_data.width + 31) / 32;
    uint64_t c = n->c;
    int why = HK_STOP_LIMIT;
    for (;; c++) {
        if (c >= n->stop_cycle) { why = HK_STOP_ARRIVALS; break; }
        if ((int64_t)tme(n, c) > n->limit) { why = HK_STOP_LIMIT; break; }
        if (n->ev_n + 4 > n->ev_cap) { why = HK_STOP_EVFULL; break; }
        /* frames whose last bit is in by this cycle enter the MAC buffer */
        while (n->arr_i < n->arr_n && n->arr_cycle[n->arr_i] <= c) {
            if (n->ev_n + 4 > n->ev_cap) break;
            if (n->arr_cycle[n->arr_i] < c) n->late_arrivals++;
            admit(n, n->arr_slot[n->arr_i++], c);
        }
        if (n->ev_n + 4 > n->ev_cap) { why = HK_STOP_EVFULL; break; }
        if (idle(n) && (n->arr_i >= n->arr_n || n->arr_cycle[n->arr_i] > c)) { why = HK_STOP_IDLE; break; }

        /* --- the bus into RBUF: this cycle's transfer, from the room known */
        uint32_t bus_need = 0, r_bytes = 0, nb = 0;
        int m_ready = 1, r_wait = 0;
        int m_valid = (int)pget(top, &n->m_valid);
        if (n->repl_slot >= 0) {
            m_ready = 0;
            uint32_t len = n->frames[n->repl_slot].len;
            r_bytes = len - n->repl_done < B ? len - n->repl_done : B;
            bus_need = credits(n->repl_done, r_bytes, E);
            if ((int64_t)bus_need > n->room) {
                if (n->exact_at != (int64_t)c) { why = HK_STOP_SYNC; break; }
                if (frozen(n)) { why = HK_STOP_FROZEN; break; }
                r_wait = 1;
            }
        } else if (m_valid) {
            if (n->out_slot < 0) {                                   /* a frame starts: its result */
                n->out_slot = n->rtlq[n->rtlq_head];
                n->rtlq_head = (n->rtlq_head + 1) % n->buf_cap;
                n->rtlq_n--;
                for (int w = 0; w < 4; w++) n->out_user[w] = w < (n->m_user.width + 31) / 32 ? pget_word(top, &n->m_user, w) : 0;
                n->out_drop = (n->out_user[0] >> 3) & 1;
                n->out_done = 0;
            }
            if (!n->out_drop) {
                nb = (uint32_t)popcount_keep(pget(top, &n->m_keep));
                bus_need = credits(n->out_done, nb, E);
                if ((int64_t)bus_need > n->room) {
                    if (n->exact_at != (int64_t)c) { why = HK_STOP_SYNC; break; }
                    if (frozen(n)) { why = HK_STOP_FROZEN; break; }
                    m_ready = 0;
                }
            }
        }
        /* --- the MAC buffer into the RTL */
        if (n->cur_in < 0 && n->buf_n) {
            n->cur_in = n->buf[n->buf_head];
            n->buf_head = (n->buf_head + 1) % n->buf_cap;
            n->buf_n--;
            n->bi = 0;
        }
        int s_fire = 0, last_in = 0;
        if (n->cur_in >= 0) {
            const hk_frame *f = &n->frames[n->cur_in];
            uint32_t off = n->bi * B;
            uint32_t nbytes = f->len > off ? (f->len - off < B ? f->len - off : B) : 0;
            last_in = off + B >= f->len;
            uint8_t beat[64] = { 0 };
            if (nbytes) memcpy(beat, f->data + off, nbytes);
            if (data_words > 2) {
                for (int w = 0; w < data_words; w++) {
                    uint32_t word;
                    memcpy(&word, beat + 4 * w, 4);
                    ((setw_t)n->s_data.set)(top, w, word);
                }
            } else {
                uint64_t v = 0;
                memcpy(&v, beat, B < 8 ? B : 8);
                pset(top, &n->s_data, v);
            }
            pset(top, &n->s_keep, nbytes >= 64 ? ~0ULL : (1ULL << nbytes) - 1);
            pset(top, &n->s_last, (uint64_t)last_in);
            if (!n->s_valid_pin) { pset(top, &n->s_valid, 1); n->s_valid_pin = 1; }
            s_fire = (int)pget(top, &n->s_ready);
            if (!s_fire) n->s_stall++;
        } else if (n->s_valid_pin) {
            pset(top, &n->s_valid, 0);
            n->s_valid_pin = 0;
        }
        /* --- the m_axis beat, read before the edge */
        int m_fire = m_valid && m_ready, m_last = 0;
        uint8_t mbeat[64];
        if (m_valid && !m_ready) n->m_stall++;
        if (m_fire) {
            nb = (uint32_t)popcount_keep(pget(top, &n->m_keep));
            m_last = (int)pget(top, &n->m_last);
            if (data_words > 2) {
                for (int w = 0; w < data_words; w++) {
                    uint32_t word = ((getw_t)n->m_data.get)(top, w);
                    memcpy(mbeat + 4 * w, &word, 4);
                }
            } else {
                uint64_t v = pget(top, &n->m_data);
                memcpy(mbeat, &v, 8);
            }
        }
        if (m_ready != n->m_ready_pin) { pset(top, &n->m_ready, (uint64_t)m_ready); n->m_ready_pin = m_ready; }
        /* --- the clock edge */
        pset(top, &n->clk, 0);
        ev(top);
        pset(top, &n->clk, 1);
        ev(top);
        n->ticks++;
        /* --- what crossed at this edge */
        if (s_fire) {
            n->quiet = 0;
            if (n->bi == 0) {
                n->rtlq[(n->rtlq_head + n->rtlq_n) % n->buf_cap] = (uint32_t)n->cur_in;
                n->rtlq_n++;
            }
            n->beats_in++;
            n->bi++;
            if (last_in) {
                n->buf_bytes -= n->frames[n->cur_in].len;
                n->cur_in = -1;
            }
        } else {
            n->quiet++;
        }
        if (m_fire) {
            const hk_frame *f = &n->frames[n->out_slot];
            n->beats_out++;
            if (n->out_done + nb > f->len || memcmp(mbeat, f->data + n->out_done, nb)) {
                if (!n->mismatch) n->mismatch = (int32_t)n->out_slot + 1;
            }
            n->out_done += nb;
            if (!n->out_drop) {
                n->room -= bus_need;
                n->held += bus_need;
                n->bus_beats++;
            }
            if (m_last) {
                uint32_t s = (uint32_t)n->out_slot;
                if (n->out_done != f->len && !n->mismatch) n->mismatch = (int32_t)s + 1;
                hk_event *e = event(n, n->out_drop ? HK_EV_RTL_DROP : HK_EV_COPY, s, c);
                memcpy(e->user, n->out_user, sizeof e->user);
                if (!n->out_drop) {
                    e->copy = 0;
                    e->elems = (uint32_t)n->held;
                    n->held = 0;
                    int k = pools_of(n->out_user);
                    if (k > 1) {
                        n->repl_slot = s; n->repl_left = (uint32_t)(k - 1); n->repl_copy = 1; n->repl_done = 0;
                    }
                }
                n->out_slot = -1;
            }
        } else if (n->repl_slot >= 0) {
            if (r_wait) {
                n->bus_wait++;
            } else {
                n->room -= bus_need;
                n->held += bus_need;
                n->bus_beats++;
                n->repl_done += r_bytes;
                if (n->repl_done == n->frames[n->repl_slot].len) {
                    hk_event *e = event(n, HK_EV_COPY, (uint32_t)n->repl_slot, c);
                    memcpy(e->user, n->out_user, sizeof e->user);
                    e->copy = n->repl_copy;
                    e->elems = (uint32_t)n->held;
                    n->held = 0;
                    n->repl_copy++;
                    n->repl_done = 0;
                    if (--n->repl_left == 0) n->repl_slot = -1;
                }
            }
        }
        uint64_t occ = n->beats_in - n->beats_out;
        if (occ > n->fifo_max) n->fifo_max = occ;
    }
    n->c = c;
    return why;
}
