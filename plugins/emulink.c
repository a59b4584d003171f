/* emulink -- emulate a link of rate R and propagation delay L (NPR's emulink).
 *
 * Each packet departs after the ones before it, taking len*8/R on the
 * emulated link, and arrives L later: release = max(now, last departure)
 * + len*8/R + L. Packets that would make the backlog exceed the queue
 * limit are dropped, as a real link's queue would. The periodic thread
 * sends packets when they arrive at the far end.
 * Arguments / messages: "rate=<kb/s>" (default 10000), "delay=<us>"
 * (default 0), "limit=<bytes>" (default 100000), "=counts" -> "npkts
 * maxinq ndrops ninq" (PluginCounters 0..3; backlog bytes in 4).
 */
#include "plugin_api.h"
#include "pl_delayq.h"

#define C_BACKLOG 4

static uint64_t rate_kbps = 10000, delay_cycles, limit_bytes = 100000, last_depart;

static int configure(const char *s, char *reply, int size) {
    const char *v;
    int ok = 0;
    uint64_t x;
    if ((v = onl_api_after(s, "rate=")) && (x = onl_api_atou(v, &ok), ok) && x > 0) rate_kbps = x;
    else if ((v = onl_api_after(s, "delay=")) && (x = onl_api_atou(v, &ok), ok)) delay_cycles = x * onl_api_cycles_per_us();
    else if ((v = onl_api_after(s, "limit=")) && (x = onl_api_atou(v, &ok), ok)) limit_bytes = x;
    else return 0;
    onl_api_cat(reply, size, "ok");
    return 1;
}

void plugin_init_user(const char *args) {
    char tmp[32], r[32];
    onl_api_set_period(onl_api_cycles_per_us() / 2);
    while (args && onl_api_next_word(&args, tmp, sizeof tmp)) {     /* "key=value key=value" */
        r[0] = 0;
        configure(tmp, r, sizeof r);
    }
}

void handle_pkt_user(pkt_t pkt) {
    uint64_t now = onl_api_timestamp();
    uint64_t len = onl_api_pkt_len(pkt);
    uint64_t per_us = onl_api_cycles_per_us();
    /* serialisation time in cycles: len*8 bits at rate_kbps (bits per ms) */
    uint64_t tx = (len * 8 * 1000 * per_us + rate_kbps - 1) / rate_kbps;
    uint64_t start = last_depart > now ? last_depart : now;
    uint64_t backlog_bytes = (start - now) * rate_kbps / (8 * 1000 * per_us);
    onl_api_counter_add(C_NPKTS, 1);
    if (backlog_bytes + len > limit_bytes) {
        onl_api_counter_add(C_NDROPS, 1);
        onl_api_drop(pkt);
        return;
    }
    last_depart = start + tx;
    onl_api_counter_add(C_BACKLOG, (uint32_t)(backlog_bytes + len) - onl_api_counter_get(C_BACKLOG));
    dq_push(pkt, last_depart + delay_cycles);
}

void plugin_periodic_user(void) { dq_release(); }

void handle_msg(const char *msg, char *reply, int size) {
    reply[0] = 0;
    if (configure(msg, reply, size)) return;
    if (onl_api_streq(msg, "=counts")) {
        onl_api_reply_counters(reply, size, 0, 4);
        return;
    }
    onl_api_cat(reply, size, "usage: rate=|delay=|limit=");
}
