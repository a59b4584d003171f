"""The whole SPP data path across its two NP boards: a tunnel packet enters the
line card from R1, crosses the fabric to the NPE, is routed by the slice's
IPv4 code option, crosses back and leaves the line card toward R2 -- byte
for byte what scapy builds; packets no filter takes reach the GPE by the
default filter. The boards are joined here by handing each one's
transmitted frames to the other at their first-bit times (the network
substrate does this with links and a switch)."""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from np_model.assemblies.spp_linecard import LineCard
from np_model.assemblies.spp_npe import NPE
from np_model.assemblies.types import PortConfig
from np_model.spp_formats import internal_frame, tunnel
from tests.np_model.spp.spp_helpers import GPE_MAC, IF1, IF2, NPE_MAC, ep, lc_vid, overlay, peer, routed, worked_example

R1, R2 = "02:00:00:00:0a:01", "02:00:00:00:0a:02"


def _pass(src, dst, port: int, keep) -> list:
    """Hand src's frames for which keep(t) holds to dst's port, at their first-bit times."""
    sent = [t for t in src.transmitted() if keep(t)]
    if sent:
        dst.send([t.data for t in sent], port, at_ns=[t.t_start_ns for t in sent])
        dst.run_until_idle()
    return sent


def test_a_tunnel_packet_crosses_line_card_npe_line_card(engine):
    lc = LineCard(engine=engine, ports=[PortConfig(f"{IF1}/24", "02:5c:00:00:01:01"),
                                        PortConfig(f"{IF2}/24", "02:5c:00:00:01:02")], buffers=2048)
    npe = NPE(engine=engine, mac=NPE_MAC, buffers=2048)
    worked_example(npe, 1)
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1})
    for mi in (1, 2):
        lc.add_endpoint_filter(*ep(1, mi), to="npe", board_mac=NPE_MAC, vid=1)
        lc.set_egress_queue(mi - 1, 10 + mi, kbps=100_000, vid=lc_vid(1, mi))
    lc.set_next_hop(0, R1)
    lc.set_next_hop(1, R2)
    lc.set_default_to_gpe(board_mac=GPE_MAC, vid=300)
    inner = overlay("192.168.1.5", "192.168.2.7", size=300)
    ext = Ether(dst="02:5c:00:00:01:01", src=R1) / IP(src=peer(1, 1)[0], dst=ep(1, 1)[0], ttl=60, id=11) / \
        UDP(sport=peer(1, 1)[1], dport=ep(1, 1)[1]) / inner
    stray = Ether(dst="02:5c:00:00:01:01", src=R1) / IP(src=peer(1, 1)[0], dst=IF1) / UDP(sport=5, dport=22)
    lc.send([bytes(ext), bytes(stray)], 0, at_ns=[0, 500])
    lc.run_until_idle()
    to_npe = _pass(lc, npe, 0, lambda t: t.port == 2 and t.data[:6] == bytes.fromhex(NPE_MAC.replace(":", "")))
    _pass(npe, lc, 2, lambda t: True)
    for r in (lc, npe):
        r.check_conservation()
    out = lc.transmitted(1)
    assert len(to_npe) == 1
    assert [t.data for t in out] == [bytes(Ether(dst=R2, src="02:5c:00:00:01:02") /
                                           tunnel(ep(1, 2), peer(1, 2), routed(inner)))]
    to_gpe = [t for t in lc.transmitted(2) if t.data[:6] == bytes.fromhex(GPE_MAC.replace(":", ""))]
    assert [t.data for t in to_gpe] == [internal_frame(GPE_MAC, "02:5c:00:00:00:01", 300, Ether(bytes(stray))[IP])]
    # the datagram left after it came in, later by at least both boards' pipelines
    assert out[0].t_start_ns > to_npe[0].t_start_ns > 0
