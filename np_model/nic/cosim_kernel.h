/* cosim_kernel.h -- the cycle-timed NIC's per-cycle state, shared by the C stepper
 * (cosim_kernel.c) and the Python reference stepper (np_model/nic/cosim.py, _step_py).
 *
 * This header is parsed by cffi (plain declarations only: no macros with values,
 * no includes). np_model/nic/cosim.py documents the model; both steppers run the
 * NIC's clock cycle by cycle on this state and write what happened to an event
 * list the co-simulation then hands to the NP (deliveries) and the counters.
 */

/* the pyverilator wrapper's accessor of one top-level port */
typedef struct hk_port {
    void *get;                /* uint32_t (*)(top) | uint64_t (*)(top) | uint32_t (*)(top, int word) */
    void *set;                /* int (*)(top, uint32_t) | int (*)(top, uint64_t) | int (*)(top, int, uint64_t) */
    int width;                /* bits */
} hk_port;

/* a frame inside the NIC, by slot (the slot table is owned by Python) */
typedef struct hk_frame {
    const uint8_t *data;
    uint32_t len;
    uint32_t port;
} hk_frame;

/* what happened in a cycle, in order */
typedef struct hk_event {
    uint32_t kind;            /* HK_EV_* (cosim.py) */
    uint32_t slot;
    uint64_t cycle;           /* the NIC cycle whose closing edge it happened at (admissions: the cycle) */
    uint32_t copy;            /* deliveries: copy index (0 the first) */
    uint32_t elems;           /* deliveries: RBUF elements the copy holds */
    uint32_t user[4];         /* the frame's m_axis_tuser, 32-bit words, low first */
} hk_event;

typedef struct hk_nic {
    /* ---- configuration (set once by Python) */
    void *top;
    void *eval;               /* int (*)(top) */
    hk_port clk, s_data, s_keep, s_last, s_valid, s_ready, m_data, m_keep, m_last, m_valid, m_ready, m_user;
    int32_t beat_bytes;       /* B: bytes per beat */
    int32_t elem_bytes;       /* E: bytes per RBUF element (one bus credit) */
    uint64_t f_me, f_nic;     /* NIC cycle c starts at ME cycle ceil(c * f_me / f_nic) */
    int64_t rx_buffer_bytes;
    uint32_t max_frame[16];   /* per port: longest frame the MAC takes (MTU + 18) */
    int32_t skip_frozen, quiet_cycles;
    hk_frame *frames;         /* slot table */
    uint32_t *buf;            /* MAC buffer: ring of slots, capacity buf_cap */
    uint32_t *rtlq;           /* frames started into the RTL, in order: ring of slots, capacity buf_cap */
    uint32_t buf_cap;
    hk_event *ev;             /* event list, capacity ev_cap */
    uint32_t ev_cap;
    /* ---- per call (set by Python before each step) */
    uint64_t *arr_cycle;      /* arrivals due, sorted by (cycle, order): the NIC cycle their last bit is in by */
    uint32_t *arr_slot;
    uint32_t arr_n, arr_i;
    uint64_t stop_cycle;      /* do not simulate this cycle or later (arrivals not handed over yet) */
    int64_t limit;            /* do not simulate a cycle starting after this ME cycle */
    int64_t exact_at;         /* the NP's RBUF room is exact for this cycle (-1: for none) */
    uint32_t ev_n;            /* events written (Python resets it after reading them) */
    /* ---- state */
    uint64_t c;               /* next NIC cycle to simulate */
    uint32_t buf_head, buf_n;
    int64_t buf_bytes;
    int64_t cur_in;           /* slot streaming into s_axis, -1 none */
    uint32_t bi;              /* its next beat */
    uint32_t rtlq_head, rtlq_n;
    int64_t out_slot;         /* frame leaving m_axis, -1 none */
    uint32_t out_user[4];
    int32_t out_drop;
    uint32_t out_done;        /* its bytes out so far */
    int64_t repl_slot;        /* frame whose further copies cross the bus, -1 none */
    uint32_t repl_left, repl_copy, repl_done;
    uint64_t beats_in, beats_out;
    uint64_t quiet;           /* clock edges since the RTL last accepted a beat */
    int32_t s_valid_pin, m_ready_pin;
    int64_t room;             /* RBUF elements the bus may take without asking the NP again */
    int64_t held;             /* elements reserved by the copy on the bus */
    /* ---- counters */
    uint64_t ticks, received, late_arrivals, s_stall, m_stall, bus_wait, bus_beats, fifo_max, buf_max;
    int32_t mismatch;         /* the RTL changed a frame's bytes (slot + 1 of the first) */
} hk_nic;

/* Run NIC cycles from n->c; returns why it stopped (HK_STOP_* in cosim.py). */
int hk_step(hk_nic *n);
/* Admit the arrivals handed over that are due before cycle `before`; returns how many. */
int hk_admit(hk_nic *n, uint64_t before);
