"""ICMP from the slow path (RFC 792, RFC 1122, RFC 1812), byte for byte."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from np_model.assemblies.npr import PortConfig, default_ports
from tests.helpers import host_ip, host_mac, port_ip, port_mac, routed, udp_frame
from tests.host.hostlab import icmp_error, make_lab


def _ping(p_in: int, dst: str, *, ident: int = 0x1234, seq: int = 1, ttl: int = 64, tos: int = 0,
          payload: bytes = b"abcdefgh" * 4, src: str | None = None, l2_dst: str | None = None) -> Ether:
    return Ether(dst=l2_dst or port_mac(p_in), src=host_mac(p_in)) / IP(src=src or host_ip(p_in), dst=dst, ttl=ttl,
                                                                          tos=tos, id=77) \
        / ICMP(type=8, id=ident, seq=seq) / Raw(payload)


def _echo_reply(p_out: int, request: Ether, ip_id: int = 1) -> bytes:
    q = request[IP]
    return bytes(Ether(dst=host_mac(p_out), src=port_mac(p_out))
                 / IP(src=q.dst, dst=q.src, id=ip_id, ttl=64, tos=q.tos)
                 / ICMP(type=0, id=q[ICMP].id, seq=q[ICMP].seq) / Raw(q[Raw].load))


def test_ping_router_on_both_engines(engine):
    lab = make_lab(engine)
    req = _ping(2, port_ip(2), tos=0x28)
    lab.send(req, 2)
    lab.run_us(200)
    assert lab.out() == [_echo_reply(2, req)]
    assert lab.c("icmp.echo_replies") == 1
    lab.r.check_conservation()


def test_ping_another_port_address_replies_from_that_address():
    lab = make_lab()
    reqs = [_ping(0, port_ip(3), seq=s) for s in (1, 2, 3)]
    for k, q in enumerate(reqs):
        lab.send(q, 0, at_ns=k * 50_000.0)
    lab.run_us(300)
    # RFC 1122 3.2.2.6: the reply comes from the address pinged, back out of the port it came in
    assert lab.out(0) == [_echo_reply(0, q, ip_id=k + 1) for k, q in enumerate(reqs)]
    assert lab.out(3) == []
    lab.r.check_conservation()


@pytest.mark.parametrize("kind", ["broadcast", "bad_checksum"])
def test_pings_not_answered(kind):
    lab = make_lab()
    if kind == "broadcast":
        req = _ping(1, "255.255.255.255", l2_dst="ff:ff:ff:ff:ff:ff")
    else:
        req = _ping(1, port_ip(1))
        req = Ether(bytes(req)[:-1] + bytes([bytes(req)[-1] ^ 1]))      # payload corrupted, checksum not
    lab.send(req, 1)
    lab.run_us(200)
    assert lab.out() == []
    assert lab.r.exceptions() == {"local_delivery": 1}
    assert lab.c({"broadcast": "icmp.echo_broadcast_ignored", "bad_checksum": "icmp.bad_checksum"}[kind]) == 1
    lab.r.check_conservation()


def test_traceroute_probes():
    """What traceroute sees: each hop's time exceeded from the interface the
    probe came in on, then the destination's answer."""
    lab = make_lab()
    lab.cp.add_route("192.168.5.0/24", 4, "10.0.5.2", immediate=True)
    probes = [udp_frame(2, "192.168.5.9", src="192.168.3.10", ttl=ttl, dport=33434 + ttl, ipid=100 + ttl, size=60)
              for ttl in (1, 2)]
    to_router = udp_frame(2, port_ip(4), src="192.168.3.10", ttl=1, dport=33440, ipid=200, size=60)
    lab.cp.add_route("192.168.3.0/24", 2, host_ip(2), immediate=True)
    for k, f in enumerate(probes + [to_router]):
        lab.send(f, 2, at_ns=k * 100_000.0)
    lab.run_us(500)
    # TTL 1: time exceeded, from the interface it leaves by (towards the prober), quoting the probe
    # TTL 2: forwarded with TTL 1; to the router's own address: port unreachable -- also from the
    # interface it leaves by, not the address probed (RFC 1812 4.3.2.4 is a MUST)
    assert lab.out(2) == [
        icmp_error(bytes(probes[0][IP]), in_port=2, to_port=2, icmp=ICMP(type=11, code=0), ip_id=1),
        icmp_error(bytes(to_router[IP]), in_port=2, to_port=2, icmp=ICMP(type=3, code=3), ip_id=2),
    ]
    assert lab.out(4) == [routed(probes[1], 4, host_mac(4))]
    assert (lab.c("icmp.time_exceeded"), lab.c("icmp.unreach_port")) == (1, 1)
    lab.r.check_conservation()


def test_no_route_is_network_unreachable():
    lab = make_lab()
    f = udp_frame(1, "172.16.1.1", size=90)
    lab.send(f, 1)
    lab.run_us(200)
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=1, to_port=1, icmp=ICMP(type=3, code=0))]
    lab.r.check_conservation()


def test_unusable_next_hop_is_host_unreachable():
    lab = make_lab()
    lab.r.add_route("192.168.8.0/24", port=1, next_hop="0.0.0.0")      # no address, no MAC
    f = udp_frame(0, "192.168.8.1")
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.r.exceptions() == {"nh_invalid": 1}
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=1))]


def test_protocol_unreachable_and_tcp_reset():
    lab = make_lab()
    gre = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=port_ip(0), proto=47, id=5) / Raw(b"g" * 12)
    syn = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=port_ip(0), id=6) \
        / TCP(sport=40000, dport=22, seq=1000, flags="S")
    lab.send(gre, 0)
    lab.send(syn, 0, at_ns=100_000)
    lab.run_us(300)
    rst = Ether(dst=host_mac(0), src=port_mac(0)) / IP(src=port_ip(0), dst=host_ip(0), id=2) \
        / TCP(sport=22, dport=40000, seq=0, ack=1001, flags="RA", window=0)
    assert lab.out() == [icmp_error(bytes(gre[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=2)),
                         bytes(rst)]
    lab.r.check_conservation()


def _mtu_lab():
    ports = default_ports()
    ports[1] = PortConfig(ports[1].address, ports[1].mac, mtu=576)
    return make_lab(ports=ports)


def test_fragmentation_needed_when_df_set():
    lab = _mtu_lab()
    f = Ether(bytes(udp_frame(0, host_ip(1), size=14 + 600)))
    f[IP].flags = "DF"
    del f[IP].chksum
    f = Ether(bytes(f))
    lab.send(f, 0)
    lab.run_us(200)
    # RFC 1191: the next-hop MTU in the low 16 bits of the "unused" word
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=4, nexthopmtu=576))]
    assert lab.c("icmp.frag_needed") == 1
    lab.r.check_conservation()


def test_fragmented_without_df():
    lab = _mtu_lab()
    f = udp_frame(0, host_ip(1), size=14 + 1200, ipid=4321)
    lab.send(f, 0)
    lab.run_us(300)
    data = bytes(f[IP].payload)                       # UDP header + payload, 1180 bytes
    expect = []
    for off, last in ((0, False), (552, False), (1104, True)):
        chunk = data[off:off + 552]
        ip = IP(src=host_ip(0), dst=host_ip(1), id=4321, ttl=63, proto=17, flags=0 if last else "MF", frag=off // 8)
        expect.append(bytes(Ether(dst=host_mac(1), src=port_mac(1)) / ip / Raw(chunk)))
    assert lab.out(1) == expect
    assert (lab.c("frag.datagrams"), lab.c("frag.fragments")) == (1, 3)
    lab.r.check_conservation()


def _ttl1(frame: Ether) -> Ether:
    frame[IP].ttl = 1
    del frame[IP].chksum
    return Ether(bytes(frame))


@pytest.mark.parametrize("case,counter", [
    ("icmp_error", "icmp.suppressed_icmp_error"),
    ("fragment", "icmp.suppressed_fragment"),
    ("multicast", "icmp.suppressed_broadcast"),
])
def test_no_icmp_error_about(case, counter):
    """RFC 1812 4.3.2.7: no ICMP error about an ICMP error, a non-first
    fragment, or a datagram to an IP multicast address."""
    lab = make_lab()
    base = Ether(dst=port_mac(0), src=host_mac(0))
    if case == "icmp_error":           # a time exceeded in transit whose own TTL runs out
        f = base / IP(src=host_ip(0), dst=host_ip(1), ttl=1) / ICMP(type=11) / Raw(b"q" * 28)
    elif case == "fragment":           # a non-first fragment
        f = base / IP(src=host_ip(0), dst=host_ip(1), ttl=1, frag=100, proto=17) / Raw(b"f" * 40)
    else:                              # a group with a multicast route, in its group frame
        lab.cp.add_route("224.5.1.0/24", multicast_ports=[1, 2], immediate=True)
        f = _ttl1(Ether(bytes(udp_frame(0, "224.5.1.1"))))
        f.dst = "01:00:5e:05:01:01"
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.r.exceptions() == {"ttl_expired": 1}
    assert lab.out() == []
    assert lab.c(counter) == 1
    lab.r.check_conservation()


def test_echo_request_in_transit_gets_time_exceeded():
    lab = make_lab()
    req = _ping(0, host_ip(3), ttl=1)                # an ICMP query, not an error: answered
    lab.send(req, 0)
    lab.run_us(200)
    assert lab.out() == [icmp_error(bytes(req[IP]), in_port=0, to_port=0, icmp=ICMP(type=11, code=0))]


def test_icmp_errors_are_rate_limited_echo_replies_are_not():
    lab = make_lab(icmp_rate=1000, icmp_burst=3)
    probes = [udp_frame(0, host_ip(2), ttl=1, ipid=i) for i in range(6)]
    for f in probes:
        lab.send(f, 0)
    lab.run_us(200)
    assert (lab.c("icmp.time_exceeded"), lab.c("icmp.rate_limited")) == (3, 3)
    # 2.5 ms later the bucket holds 2.5 tokens: two of three more are answered
    later = [udp_frame(0, host_ip(2), ttl=1, ipid=10 + i) for i in range(3)]
    for f in later:
        lab.send(f, 0, at_ns=2.7e6)
    lab.run_us(3000)
    assert (lab.c("icmp.time_exceeded"), lab.c("icmp.rate_limited")) == (5, 4)
    quoted_ids = [IP(bytes(Ether(b)[ICMP].payload)).id for b in lab.out(0)]
    assert quoted_ids == [0, 1, 2, 10, 11]
    pings = [_ping(0, port_ip(0), seq=s) for s in range(5)]
    for q in pings:
        lab.send(q, 0)
    lab.run_us(300)
    assert lab.c("icmp.echo_replies") == 5
    lab.r.check_conservation()
