"""IPv4 forwarding through the NPR, byte for byte against scapy."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from tests.helpers import host_ip, host_mac, make_npr, port_mac, routed, udp_frame


def test_udp_forwarded_to_every_port_byte_for_byte(engine):
    r = make_npr(engine)
    sent = []
    for p_in in range(5):
        for p_out in range(5):
            if p_in == p_out:
                continue
            f = udp_frame(p_in, host_ip(p_out), ttl=10 + p_out, size=64 + 37 * p_out)
            r.send([bytes(f)], port=p_in)
            sent.append((f, p_out))
    r.run(duration_ns=100_000)
    out = {(t.port, t.data) for t in r.transmitted()}
    expected = {(p_out, routed(f, p_out, host_mac(p_out))) for f, p_out in sent}
    assert out == expected
    r.check_conservation()


@pytest.mark.parametrize("size", [60, 64, 128, 511, 1024, 1514])
def test_sizes_tcp_and_icmp(engine, size):
    r = make_npr(engine)
    tcp = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(3), ttl=33) \
        / TCP(sport=80, dport=4000, flags="PA", seq=12345)
    tcp = Ether(bytes(tcp / Raw(b"t" * max(0, size - len(tcp)))))
    icmp = Ether(dst=port_mac(2), src=host_mac(2)) / IP(src=host_ip(2), dst=host_ip(4), ttl=2) / ICMP(id=7, seq=1)
    icmp = Ether(bytes(icmp / Raw(b"i" * max(0, size - len(icmp)))))
    r.send([bytes(tcp)], port=0)
    r.send([bytes(icmp)], port=2)
    r.run(duration_ns=200_000)
    got = {t.port: t.data for t in r.transmitted()}
    assert got == {3: routed(tcp, 3, host_mac(3)), 4: routed(icmp, 4, host_mac(4))}


def test_route_via_next_hop_and_longest_prefix(engine):
    r = make_npr(engine)
    r.add_route("192.168.0.0/16", port=1, next_hop=host_ip(1))
    r.add_route("192.168.7.0/24", port=4, next_hop=host_ip(4))
    a = udp_frame(0, "192.168.3.9")
    b = udp_frame(0, "192.168.7.9")
    r.send([bytes(a), bytes(b)], port=0)
    r.run(duration_ns=100_000)
    got = sorted((t.port, t.data) for t in r.transmitted())
    assert got == sorted([(1, routed(a, 1, host_mac(1))), (4, routed(b, 4, host_mac(4)))])


def test_route_with_pinned_mac_needs_no_arp(engine):
    r = make_npr(engine, arp=False)
    r.add_route("172.20.0.0/16", port=2, next_hop="10.0.3.99", mac="0a:0b:0c:0d:0e:0f")
    f = udp_frame(1, "172.20.1.1")
    r.send([bytes(f)], port=1)
    r.run(duration_ns=50_000)
    assert [t.data for t in r.transmitted()] == [routed(f, 2, "0a:0b:0c:0d:0e:0f")]


def test_checksum_update_is_exact_for_many_headers(engine):
    """RFC 1624 incremental update == full recomputation, over varied headers."""
    r = make_npr(engine)
    frames = [udp_frame(0, host_ip(1), ttl=ttl, tos=tos, sport=sp, size=60 + sp % 50)
              for ttl, tos, sp in [(t, (t * 7) % 256, 1000 + 13 * t) for t in range(2, 255, 3)]]
    r.send([bytes(f) for f in frames], port=0)
    r.run(duration_ns=400_000)
    got = [t.data for t in r.transmitted()]
    assert sorted(got) == sorted(routed(f, 1, host_mac(1)) for f in frames)
    for d in got:
        ip = Ether(d)[IP]
        c = ip.chksum
        del ip.chksum
        assert IP(bytes(ip)).chksum == c


def test_per_flow_order_preserved_at_light_load(engine):
    r = make_npr(engine)
    frames = [udp_frame(0, host_ip(1), sport=9, size=200, ipid=i) for i in range(50)]
    ids = r.send([bytes(f) for f in frames], port=0, at_ns=[i * 5_000.0 for i in range(50)])
    r.run(duration_ns=400_000)
    out = r.transmitted(port=1)
    assert [t.pkt for t in out] == list(ids)
    assert [Ether(t.data)[IP].id for t in out] == list(range(50))
