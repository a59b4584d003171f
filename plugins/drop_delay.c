/* drop_delay -- drop a share of the packets at random, delay the rest
 * (NPR's drop-delay).
 *
 * Arguments / messages: "drop=<per mille>" (default 0), "delay=<us>"
 * (default 0), "=counts" -> "npkts maxinq ndrops ninq"; random drops count
 * in PluginCounter 4.
 */
#include "plugin_api.h"
#include "pl_delayq.h"

#define C_RDROPS 4

static uint64_t delay_cycles;
static uint32_t drop_permille;

static int configure(const char *s, char *reply, int size) {
    const char *v;
    int ok = 0;
    uint64_t x;
    if ((v = onl_api_after(s, "delay=")) && (x = onl_api_atou(v, &ok), ok)) {
        delay_cycles = x * onl_api_cycles_per_us();
        onl_api_cat(reply, size, "ok");
        return 1;
    }
    if ((v = onl_api_after(s, "drop=")) && (x = onl_api_atou(v, &ok), ok) && x <= 1000) {
        drop_permille = (uint32_t)x;
        onl_api_cat(reply, size, "ok");
        return 1;
    }
    return 0;
}

void plugin_init_user(const char *args) {
    char tmp[32], r[32];
    onl_api_set_period(onl_api_cycles_per_us());
    while (args && onl_api_next_word(&args, tmp, sizeof tmp)) {     /* "key=value key=value" */
        r[0] = 0;
        configure(tmp, r, sizeof r);
    }
}

void handle_pkt_user(pkt_t pkt) {
    onl_api_counter_add(C_NPKTS, 1);
    if (onl_api_random() % 1000 < drop_permille) {
        onl_api_counter_add(C_RDROPS, 1);
        onl_api_drop(pkt);
        return;
    }
    dq_push(pkt, onl_api_timestamp() + delay_cycles);
}

void plugin_periodic_user(void) { dq_release(); }

void handle_msg(const char *msg, char *reply, int size) {
    reply[0] = 0;
    if (configure(msg, reply, size)) return;
    if (onl_api_streq(msg, "=counts")) {
        onl_api_reply_counters(reply, size, 0, 5);
        return;
    }
    onl_api_cat(reply, size, "usage: drop=<permil>|delay=<us>");
}
