/* tos_tag -- set the plug-in tag from the IP precedence and send the packet
 * back to be classified again (NPR's TOStag).
 *
 * tag = precedence + 1 (TOS bits 7..5, so tags 1..8), which filters can
 * match (ptag) to pick a queue or a path. The count of packets per
 * precedence is in PluginCounters 0..7.
 */
#include "plugin_api.h"

void handle_pkt_user(pkt_t pkt) {
    uint8_t h[16];
    int tag = 1;
    if (onl_api_pkt_read(pkt, 0, h, sizeof h) == sizeof h && onl_api_rd16(h + 12) == 0x0800) {
        tag = (h[15] >> 5) + 1;
        onl_api_counter_add((unsigned)tag - 1, 1);
    }
    onl_api_send_mux(pkt, tag);
}
