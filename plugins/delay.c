/* delay -- hold every packet for a fixed time, then forward it (NPR's delay).
 *
 * Packets wait in a release-time queue in plug-in SRAM; the periodic
 * thread sends those whose time has come, on the port and queue the route
 * table chose. Default delay 50 ms [ONL tutorial, Predefined Plugins].
 * Arguments / messages: "delay=<us>" sets the delay, "period=<ns>" the
 * periodic thread's period (the delay's resolution, default 1 us),
 * "=counts" -> "npkts maxinq ndrops ninq" (PluginCounters 0..3).
 */
#include "plugin_api.h"
#include "pl_delayq.h"

static uint64_t delay_cycles;

static int configure(const char *s, char *reply, int size) {
    const char *v;
    int ok = 0;
    uint64_t x;
    if ((v = onl_api_after(s, "delay=")) && (x = onl_api_atou(v, &ok), ok)) {
        delay_cycles = x * onl_api_cycles_per_us();
        onl_api_cat(reply, size, "delay ");
        onl_api_cat_u(reply, size, (uint32_t)x);
        onl_api_cat(reply, size, " us");
        return 1;
    }
    if ((v = onl_api_after(s, "period=")) && (x = onl_api_atou(v, &ok), ok) && x > 0) {
        onl_api_set_period(x * onl_api_cycles_per_us() / 1000 + 1);
        onl_api_cat(reply, size, "ok");
        return 1;
    }
    return 0;
}

void plugin_init_user(const char *args) {
    char tmp[32], r[32];
    delay_cycles = 50000 * onl_api_cycles_per_us();
    onl_api_set_period(onl_api_cycles_per_us());
    while (args && onl_api_next_word(&args, tmp, sizeof tmp)) {     /* "key=value key=value" */
        r[0] = 0;
        configure(tmp, r, sizeof r);
    }
}

void handle_pkt_user(pkt_t pkt) {
    onl_api_counter_add(C_NPKTS, 1);
    dq_push(pkt, onl_api_timestamp() + delay_cycles);
}

void plugin_periodic_user(void) { dq_release(); }

void handle_msg(const char *msg, char *reply, int size) {
    reply[0] = 0;
    if (configure(msg, reply, size)) return;
    if (onl_api_streq(msg, "=counts")) {
        onl_api_reply_counters(reply, size, 0, 4);
        return;
    }
    onl_api_cat(reply, size, "usage: delay=<us>|=counts");
}
