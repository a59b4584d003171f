"""The tunnel tool (network.overlay) between two hosts, no SPP: the tunnel
packet is IPv4/UDP carrying an IPv4/UDP meta-net datagram (RFC 791/768),
compared field by field with scapy; the sink credits its flow."""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from network import Host, Network
from network.overlay import FLOW_HDR, TunnelFlow, TunnelSink


def test_ipv4_overlay_packet_bytes_and_sink_report():
    net = Network()
    a = net.add_node(Host("a", "10.9.0.1/24", "02:00:00:00:09:01"))
    b = net.add_node(Host("b", "10.9.0.2/24", "02:00:00:00:09:02"))
    net.add_link("a", 0, "b", 0, rate_bps=1e9, delay_ns=1000)
    sink = TunnelSink(b, 6000, "ipv4")
    f = TunnelFlow(a, ("10.9.0.2", 6000), sport=5000, start_ns=0, rate_bps=10e6, size=100, duration_ms=0.5,
                   flow_id=7, inner_src="192.168.1.1", inner_dst="192.168.2.2", inner_dport=9001, sink=sink)
    seen = []
    link = net.links[0]
    orig = link.carry
    link.carry = lambda d, ts, te, fr: (seen.append(fr), orig(d, ts, te, fr))[1]
    net.run(duration_ns=1e6)
    data = [Ether(x) for x in seen if Ether(x).haslayer(UDP)]
    p = data[0]
    assert (p[IP].src, p[IP].dst, p[UDP].sport, p[UDP].dport) == ("10.9.0.1", "10.9.0.2", 5000, 6000)
    inner = IP(bytes(p[UDP].payload))
    assert (inner.src, inner.dst, inner.ttl, inner[UDP].dport, len(inner)) == ("192.168.1.1", "192.168.2.2", 64, 9001,
                                                                                100)
    assert bytes(inner) == bytes(IP(bytes(inner)))                  # checksum as scapy computes it
    seq, _, fid = FLOW_HDR.unpack_from(bytes(inner[UDP].payload))
    assert (seq, fid) == (0, 7)
    r = f.result()
    assert r["sent"] == f.n == r["received"] and r["inner_ttl"] == {64: f.n} and r["lost"] == 0
    assert net.conservation().ok
