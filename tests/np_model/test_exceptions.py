"""Packets the fast path hands to the control processor, and named drops."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, IPOption_RR
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from np_model.assemblies import FilterAction
from tests.helpers import host_ip, host_mac, make_npr, port_ip, port_mac, routed, udp_frame


def _one_to_host(r, frame: bytes, port: int):
    r.send([frame], port=port)
    r.run(duration_ns=100_000)
    assert r.transmitted() == []
    hp = r.host_packets()
    assert len(hp) == 1
    assert hp[0].data == frame                       # the host sees the frame as received
    assert hp[0].in_port == port
    r.check_conservation()
    return hp[0]


@pytest.mark.parametrize("ttl", [0, 1])
def test_ttl_expired(engine, ttl):
    r = make_npr(engine)
    hp = _one_to_host(r, bytes(udp_frame(2, host_ip(4), ttl=ttl)), 2)
    assert hp.reason == "ttl_expired"
    assert r.exceptions() == {"ttl_expired": 1}


def test_ip_options(engine):
    r = make_npr(engine)
    f = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(1), options=[IPOption_RR()]) \
        / UDP() / Raw(b"o" * 30)
    assert f[IP].ihl is None and len(bytes(f[IP])) > 20
    assert _one_to_host(r, bytes(f), 0).reason == "ip_options"


def test_no_route(engine):
    r = make_npr(engine)
    assert _one_to_host(r, bytes(udp_frame(1, "8.8.8.8")), 1).reason == "no_route"


@pytest.mark.parametrize("kind", ["arp", "ipv6"])
def test_non_ip(engine, kind):
    r = make_npr(engine)
    if kind == "arp":
        f = Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(3)) / ARP(op=1, hwsrc=host_mac(3), psrc=host_ip(3),
                                                                  pdst=port_ip(3))
    else:
        f = Ether(dst=port_mac(3), src=host_mac(3)) / IPv6(src="fe80::2", dst="fe80::1") / UDP() / Raw(b"6" * 20)
    assert _one_to_host(r, bytes(f), 3).reason == "non_ip"


def test_arp_needed_names_next_hop_and_port(engine):
    r = make_npr(engine)
    r.add_route("192.168.9.0/24", port=1, next_hop="10.0.2.77")
    hp = _one_to_host(r, bytes(udp_frame(0, "192.168.9.1")), 0)
    assert (hp.reason, hp.nh_ip, hp.out_port) == ("arp_needed", "10.0.2.77", 1)


def test_arp_needed_on_link_names_destination(engine):
    r = make_npr(engine)
    hp = _one_to_host(r, bytes(udp_frame(0, "10.0.3.50")), 0)       # on-link, no ARP entry for .50
    assert (hp.reason, hp.nh_ip, hp.out_port) == ("arp_needed", "10.0.3.50", 2)


def test_next_hop_invalid(engine):
    r = make_npr(engine)
    r.add_route("192.168.8.0/24", port=1, next_hop="0.0.0.0")
    assert _one_to_host(r, bytes(udp_frame(0, "192.168.8.1")), 0).reason == "nh_invalid"


@pytest.mark.parametrize("dst,ttl", [(port_ip(2), 64), (port_ip(4), 1), ("255.255.255.255", 1)])
def test_local_delivery_beats_ttl(engine, dst, ttl):
    r = make_npr(engine)
    hp = _one_to_host(r, bytes(udp_frame(2, dst, ttl=ttl)), 2)
    assert hp.reason == "local_delivery"


def test_filter_to_host(engine):
    r = make_npr(engine)
    r.add_filter(FilterAction("host"), dst=f"{host_ip(1)}/32", proto=17, dport=53)
    assert _one_to_host(r, bytes(udp_frame(0, host_ip(1), dport=53)), 0).reason == "filter_to_host"


def _bad_ip(mutate) -> bytes:
    b = bytearray(bytes(udp_frame(0, host_ip(1), size=80)))
    mutate(b)
    return bytes(b)


def _fix_ck(b: bytearray) -> None:
    b[24:26] = b"\0\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(14, 34, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[24:26] = (~s & 0xFFFF).to_bytes(2, "big")


def _set(b, i, v, fix=True):
    b[i] = v
    if fix:
        _fix_ck(b)


@pytest.mark.parametrize("reason,frame", [
    ("runt", bytes(udp_frame(0, host_ip(1)))[:10]),
    ("giant", bytes(udp_frame(0, host_ip(1), size=1600))),
    ("ip_bad_version", _bad_ip(lambda b: _set(b, 14, 0x65))),
    ("ip_bad_ihl", _bad_ip(lambda b: _set(b, 14, 0x44))),
    ("ip_bad_length", _bad_ip(lambda b: (b.__setitem__(slice(16, 18), (200).to_bytes(2, "big")), _fix_ck(b)))),
    ("ip_bad_length", bytes(udp_frame(0, host_ip(1)))[:30]),
    ("ip_bad_checksum", _bad_ip(lambda b: _set(b, 25, b[25] ^ 0xFF, fix=False))),
    ("l2_not_for_router", bytes(Ether(dst="02:99:99:99:99:99") / udp_frame(0, host_ip(1))[IP])),
])
def test_malformed_frames_dropped_with_reason(engine, reason, frame):
    r = make_npr(engine)
    good = udp_frame(0, host_ip(1), ttl=9)
    r.send([frame, bytes(good)], port=0)
    r.run(duration_ns=100_000)
    assert r.drops() == {reason: 1}
    assert [t.port for t in r.transmitted()] == [1]          # nothing else lost
    assert r.host_packets() == []
    r.check_conservation()


def test_larger_than_output_mtu_goes_to_host(engine):
    from np_model.assemblies.npr import PortConfig, default_ports
    ports = default_ports()
    ports[1] = PortConfig(ports[1].address, ports[1].mac, mtu=576)
    r = make_npr(engine, ports=ports)
    big, small = udp_frame(0, host_ip(1), size=14 + 577), udp_frame(0, host_ip(1), size=14 + 576)
    r.send([bytes(big), bytes(small)], port=0)
    r.run(duration_ns=100_000)
    [hp] = r.host_packets()
    assert (hp.reason, hp.out_port, hp.data) == ("mtu_exceeded", 1, bytes(big))
    assert [t.data for t in r.transmitted()] == [routed(small, 1, host_mac(1))]
