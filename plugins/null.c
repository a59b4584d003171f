/* null -- forward every packet unchanged (NPR's null plug-in).
 *
 * The packet leaves on the port, queue and next hop the route table chose
 * (PLC's default for packets a filter sends to a plug-in).
 */
#include "plugin_api.h"

void handle_pkt_user(pkt_t pkt) {
    onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
}
