/* plugin_api.h -- the plug-in API of vrouter-hil's NPR.
 *
 * Modelled on the ONL NPR plug-in framework (plugin_api.h, plugin_dl.h):
 * a plug-in is C code bound to one of the five plug-in microengines. Its
 * eight hardware threads are used as on the NPR: six handle packets
 * (handle_pkt_user), one handles control messages (handle_msg), one runs
 * a periodic computation (plugin_periodic_user). Filters steer packets to
 * a plug-in ME; the plug-in decides where each goes next.
 *
 * Everything outside the plug-in's own variables is reached through these
 * functions, which check bounds and are charged as the ME would be: the
 * ALU cycles of the code the plug-in actually executes (every basic block
 * is counted at run time) plus, for each memory reference, that memory's
 * latency with the thread swapped out. See np_model/core/plugin_rt.c.
 *
 * The plug-in's global variables play the part of the ME's local memory
 * and registers: together they may not exceed 2,560 bytes (640 words of
 * local memory); larger state belongs in the plug-in's 1 MB of SRAM.
 *
 * The code runs in a worker process that may make no system call: a call
 * that reaches the kernel (printf, file I/O, sleep, exit, fork, signals, a
 * malloc that needs more memory) is abandoned and its packet dropped
 * (plugin_syscall); so is one that faults (plugin_crash), exceeds its cycle
 * budget (plugin_budget) or does not return within the wall-clock watchdog
 * (plugin_hang). Constructors, destructors and IFUNC resolvers are refused
 * at build. Computation, these functions and libc functions that need no
 * kernel (memcpy, snprintf into a buffer, ...) are what a plug-in uses.
 * README.md "Plug-ins" says what is contained and what is not.
 */
#ifndef VRH_PLUGIN_API_H
#define VRH_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#define PLUGIN_API_VERSION 1

/* A packet handle (a buffer descriptor). PKT_NONE is no packet. */
typedef uint32_t pkt_t;
#define PKT_NONE 0u

/* Next blocks, as NPR's plugin_dl.h numbers them. */
#define QM 0
#define MUX 1
#define XSCALE 2
#define PACKET_IN_RING_0 6          /* plug-in 0's input; plug-in n is PACKET_IN_RING_0 + n */

/* Flags of a packet (onl_api_pkt_flags): where it came from. */
#define PKT_SRC_RX 0
#define PKT_SRC_XSCALE 1
#define PKT_SRC_PLUGIN 2

/* Sizes */
#define PLUGIN_SRAM_BYTES (1u << 20)   /* 1 MB of SRAM per plug-in ME [ONL nprd_configuration.h] */
#define PLUGIN_SCRATCH_BYTES 256u
#define PLUGIN_COUNTERS 16u
#define PLUGIN_MSG_CHARS 28            /* control messages and replies [ONL tutorial] */

/* ---------------------------------------------------------------------------
 * Entry points a plug-in defines (handle_pkt_user is required).
 * ------------------------------------------------------------------------- */
void plugin_init_user(const char *args);                        /* once, when loaded */
void handle_pkt_user(pkt_t pkt);                                /* each packet */
void handle_msg(const char *msg, char *reply, int reply_size);  /* each control message */
void plugin_periodic_user(void);                                /* every period, if set */

/* ---------------------------------------------------------------------------
 * Packet metadata. A packet handle_pkt_user does not send anywhere goes to
 * the queue manager with its current output port and QID (NPR's default
 * dlNextBlock = QM).
 * ------------------------------------------------------------------------- */
unsigned onl_api_pkt_len(pkt_t pkt);
int onl_api_pkt_in_port(pkt_t pkt);
int onl_api_pkt_out_port(pkt_t pkt);
int onl_api_pkt_qid(pkt_t pkt);
int onl_api_pkt_ptag(pkt_t pkt);
int onl_api_pkt_flags(pkt_t pkt);
int onl_api_pkt_set_out_port(pkt_t pkt, int port);
int onl_api_pkt_set_qid(pkt_t pkt, int qid);
int onl_api_pkt_set_ptag(pkt_t pkt, int ptag);
int onl_api_pkt_set_len(pkt_t pkt, unsigned len);         /* within the 1,664-B buffer */
int onl_api_pkt_set_nh_mac(pkt_t pkt, const uint8_t mac[6]);

/* Packet bytes (offset 0 is the first byte of the Ethernet header).
 * Return the bytes copied, or -1 when the range is outside the packet: the
 * access is refused and counted, nothing is read or written. */
int onl_api_pkt_read(pkt_t pkt, unsigned off, void *buf, unsigned len);
int onl_api_pkt_write(pkt_t pkt, unsigned off, const void *buf, unsigned len);

/* New packets: a fresh buffer (zeroed) or a copy of a packet. PKT_NONE
 * when the plug-in already holds too many new packets in this call. */
pkt_t onl_api_pkt_alloc(unsigned len);
pkt_t onl_api_pkt_copy(pkt_t pkt);

/* ---------------------------------------------------------------------------
 * Exits: each packet leaves exactly once. 0 on success, -1 if refused
 * (not a packet this plug-in holds, bad port/QID/plug-in).
 * ------------------------------------------------------------------------- */
int onl_api_send_qm(pkt_t pkt, int port, int qid);  /* to a queue of an output port */
int onl_api_send_mux(pkt_t pkt, int ptag);          /* back to Mux to be classified again;
                                                       ptag < 0 keeps the plug-in tag */
int onl_api_send_plugin(pkt_t pkt, int plugin);     /* to another plug-in ME (0..4) */
int onl_api_send_xscale(pkt_t pkt);                 /* to the control processor */
int onl_api_drop(pkt_t pkt);
int onl_api_hold(pkt_t pkt);                        /* keep it; send it later from any entry point */
unsigned onl_api_held(void);                        /* packets this plug-in holds */

/* ---------------------------------------------------------------------------
 * Plug-in memory: 1 MB of SRAM and a small scratch area, plus numbered
 * counters the control plane reads (NPR's PluginCounters).
 * ------------------------------------------------------------------------- */
int onl_api_sram_read(unsigned off, void *buf, unsigned len);
int onl_api_sram_write(unsigned off, const void *buf, unsigned len);
int onl_api_scratch_read(unsigned off, void *buf, unsigned len);
int onl_api_scratch_write(unsigned off, const void *buf, unsigned len);
void onl_api_counter_add(unsigned counter, uint32_t value);
uint32_t onl_api_counter_get(unsigned counter);

/* ---------------------------------------------------------------------------
 * Time, randomness, the periodic thread.
 * ------------------------------------------------------------------------- */
uint64_t onl_api_timestamp(void);            /* ME cycles since the router started */
uint64_t onl_api_cycles_per_us(void);
uint32_t onl_api_random(void);
void onl_api_set_period(uint64_t cycles);    /* plugin_periodic_user every `cycles`; 0 stops it */

/* ---------------------------------------------------------------------------
 * Helpers (ordinary code: charged like the plug-in's own).
 * ------------------------------------------------------------------------- */
static inline uint16_t onl_api_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t onl_api_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void onl_api_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Internet checksum (RFC 1071) of len bytes, folded, not complemented. */
static inline uint32_t onl_api_csum_add(uint32_t sum, const uint8_t *p, unsigned len) {
    for (unsigned i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return sum;
}
/* RFC 1624 eqn. 3: the checksum after a 16-bit word changes from old to new. */
static inline uint16_t onl_api_csum_update(uint16_t ck, uint16_t old, uint16_t new_) {
    uint32_t s = (uint16_t)~ck + (uint32_t)(uint16_t)~old + new_;
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* Integer to decimal text (NPR's onl_api_int2str); returns the length. */
static inline int onl_api_int2str(uint32_t v, char *out) {
    char tmp[11];
    int n = 0, k = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) out[k++] = tmp[--n];
    out[k] = 0;
    return k;
}

/* Text helpers for control messages (NPR's strcmp_lmem, atoi, strcat_lmem). */
static inline int onl_api_streq(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}
/* The rest of s after prefix, or 0 if s does not start with it. */
static inline const char *onl_api_after(const char *s, const char *prefix) {
    while (*prefix) if (*s++ != *prefix++) return 0;
    return s;
}
/* Decimal digits at s (stops at the first non-digit); *ok = 0 when there are none. */
static inline uint64_t onl_api_atou(const char *s, int *ok) {
    uint64_t v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9') { v = v * 10 + (uint64_t)(*s++ - '0'); n++; }
    if (ok) *ok = n > 0;
    return v;
}
/* Append text, then a number, to dst (size bytes, kept NUL-terminated). */
static inline void onl_api_cat(char *dst, int size, const char *text) {
    int n = 0;
    while (n < size - 1 && dst[n]) n++;
    while (n < size - 1 && *text) dst[n++] = *text++;
    dst[n] = 0;
}
static inline void onl_api_cat_u(char *dst, int size, uint32_t v) {
    char tmp[12];
    onl_api_int2str(v, tmp);
    onl_api_cat(dst, size, tmp);
}
/* The next space-separated word of *s into word (size bytes); 0 at the end. */
static inline int onl_api_next_word(const char **s, char *word, int size) {
    int n = 0;
    while (**s == ' ') (*s)++;
    while (**s && **s != ' ') { if (n < size - 1) word[n++] = **s; (*s)++; }
    word[n] = 0;
    return n;
}
/* Reply with counters first .. first+count-1, space separated ("=counts"). */
static inline void onl_api_reply_counters(char *reply, int size, unsigned first, unsigned count) {
    reply[0] = 0;
    for (unsigned i = 0; i < count; i++) {
        if (i) onl_api_cat(reply, size, " ");
        onl_api_cat_u(reply, size, onl_api_counter_get(first + i));
    }
}

#endif
