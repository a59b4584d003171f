"""RFC 1812 checks of the fast path (PLC microcode), on both engines, byte for byte.

Addressing as tests/helpers.py: port p is 10.0.{p+1}.1/24, its neighbour
10.0.{p+1}.2. The slow path is not attached here: what the fast path hands
the control processor is read from ``host_packets()``.
"""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

from np_model.assemblies import FilterAction
from np_model.engine.machine import DROP_REASONS
from np_model.profile import IXP2800
from tests.helpers import host_ip, host_mac, make_npr, port_ip, port_mac, routed


def _run(r, frames, port: int = 0, ns: float = 100_000):
    r.send([bytes(f) for f in frames], port=port)
    r.run(duration_ns=ns)
    r.check_conservation()


def _udp(p_in: int, src: str, dst: str, *, l2_dst: str | None = None, ttl: int = 64,
         payload: bytes = b"m" * 30) -> Ether:
    return Ether(bytes(Ether(dst=l2_dst or port_mac(p_in), src=host_mac(p_in))
                       / IP(src=src, dst=dst, ttl=ttl, id=9) / UDP(sport=1000, dport=2000) / Raw(payload)))


def _pad60(b: bytes) -> bytes:
    return b.ljust(60, b"\0")


# ------------------------------------------------------------------------------------------
# martian addresses


@pytest.mark.parametrize("src", ["0.1.2.3", "0.0.0.0", "127.0.0.1", "224.1.2.3", "239.255.0.1", "240.0.0.1",
                                 "255.255.255.255", "169.254.7.7"])
def test_martian_source_is_dropped(engine, src):
    """RFC 1812 5.3.7 (with 4.2.2.11) and RFC 1122 3.2.1.3: a source on 0/8 or
    127/8, or one that is not unicast (class D, class E, limited broadcast), is
    not forwarded; RFC 3927 s7: nor a link-local 169.254/16 source."""
    r = make_npr(engine)
    r.record_drops(True)
    r.add_route("0.0.0.0/0", port=1, next_hop=host_ip(1))
    _run(r, [_udp(0, src, host_ip(2))])
    assert r.transmitted() == [] and r.host_packets() == []
    assert r.drops() == {"martian_src": 1}
    [rec] = r.drop_records()                     # 5.3.7: the input interface is recorded with the drop
    assert (DROP_REASONS[rec["reason"]], int(rec["port"])) == ("martian_src", 0)


@pytest.mark.parametrize("dst", ["0.0.0.9", "127.0.0.1", "127.255.255.255", "169.254.1.1", "240.0.0.1",
                                 "250.9.9.9", "255.255.255.254"])
def test_martian_destination_is_dropped(engine, dst):
    """RFC 1812 5.3.7: 0/8, 127/8 and class E (240/4 but 255.255.255.255) are
    invalid destinations even with a default route that would carry them --
    class E included, as the RFC says (Linux forwards 240/4); RFC 3927 s7:
    169.254/16 is never forwarded."""
    r = make_npr(engine)
    r.add_route("0.0.0.0/0", port=1, next_hop=host_ip(1))
    _run(r, [_udp(0, host_ip(0), dst)])
    assert r.transmitted() == [] and r.host_packets() == []
    assert r.drops() == {"martian_dst": 1}


def test_unspecified_source_to_limited_broadcast_is_received(engine):
    """RFC 1812 4.2.2.11 (a): 0.0.0.0 is a legal source while a host learns its
    address (BOOTP/DHCP to 255.255.255.255): the router receives it."""
    r = make_npr(engine)
    f = _udp(0, "0.0.0.0", "255.255.255.255", l2_dst="ff:ff:ff:ff:ff:ff")
    _run(r, [f])
    [hp] = r.host_packets()
    assert hp.reason == "local_delivery" and hp.data == bytes(f)
    assert r.drops() == {}


def test_reserved_bits_are_not_checked_and_pass_unchanged(engine):
    """RFC 1812 4.2.2.3 / 5.2.5: a router MUST NOT drop a packet because a
    reserved bit (the flags' first bit, TOS's low bit) is set, and passes them
    through unchanged."""
    r = make_npr(engine)
    f = Ether(bytes(Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(1), flags=4, tos=0x01)
                    / UDP() / Raw(b"r" * 30)))
    _run(r, [f])
    assert [t.data for t in r.transmitted()] == [routed(f, 1, host_mac(1))]
    assert r.transmitted()[0].data[20] & 0x80 and r.transmitted()[0].data[15] == 0x01


# ------------------------------------------------------------------------------------------
# link-layer broadcasts and multicasts, IP broadcasts


@pytest.mark.parametrize("l2,reason", [("ff:ff:ff:ff:ff:ff", "l2_bcast_unicast"),
                                       ("01:00:5e:01:02:03", "l2_mcast_unicast"),
                                       ("33:33:00:00:00:01", "l2_mcast_unicast")])
@pytest.mark.parametrize("dst", [host_ip(1), port_ip(0)], ids=["transit", "to_router"])
def test_unicast_datagram_in_group_frame_is_dropped(engine, l2, reason, dst):
    """RFC 1812 5.3.4: a router MUST NOT forward a packet received as a link
    broadcast or multicast unless its IP destination is multicast, and SHOULD
    silently discard a link broadcast whose IP destination is neither an IP
    broadcast nor multicast -- to the router's own address included."""
    r = make_npr(engine)
    _run(r, [_udp(0, host_ip(0), dst, l2_dst=l2)])
    assert r.transmitted() == [] and r.host_packets() == []
    assert r.drops() == {reason: 1}


@pytest.mark.parametrize("l2", [None, "ff:ff:ff:ff:ff:ff"], ids=["l2_unicast", "l2_broadcast"])
def test_connected_subnet_broadcast_is_received_not_forwarded(engine, l2):
    """RFC 1812 4.2.3.1: {prefix, -1} of a connected subnet is an IP broadcast
    the router receives; RFC 2644: directed broadcasts are not forwarded by
    default. The subnet of the receiving port and another port's alike."""
    r = make_npr(engine)
    frames = [_udp(1, host_ip(1), "10.0.2.255", l2_dst=l2), _udp(1, host_ip(1), "10.0.4.255", l2_dst=l2)]
    _run(r, frames, port=1)
    assert r.transmitted() == [] and r.drops() == {}
    assert [(h.reason, h.data) for h in r.host_packets()] == [("local_delivery", bytes(f)) for f in frames]


def test_zero_host_part_of_connected_subnet_is_discarded(engine):
    """RFC 1812 4.2.3.1: a packet to {prefix, 0} SHOULD be silently discarded."""
    r = make_npr(engine)
    _run(r, [_udp(0, host_ip(0), "10.0.3.0")])
    assert r.transmitted() == [] and r.host_packets() == []
    assert r.drops() == {"martian_dst": 1}


# ------------------------------------------------------------------------------------------
# multicast


def test_class_d_without_multicast_route_is_not_forwarded(engine):
    """RFC 1812 5.2.1.3 / RFC 1112: a class D destination is forwarded only by
    multicast routing; a unicast (default) route does not carry it to a
    neighbour's unicast MAC, and no route is no ICMP either (4.3.2.7)."""
    r = make_npr(engine)
    r.add_route("0.0.0.0/0", port=1, next_hop=host_ip(1))
    _run(r, [_udp(0, host_ip(0), "239.1.2.3", l2_dst="01:00:5e:01:02:03")])
    assert r.transmitted() == [] and r.host_packets() == []
    assert r.drops() == {"mcast_no_route": 1}
    r2 = make_npr(engine)
    _run(r2, [_udp(0, host_ip(0), "239.1.2.3")])
    assert r2.host_packets() == [] and r2.drops() == {"mcast_no_route": 1}


@pytest.mark.parametrize("how", ["route", "filter"])
def test_local_network_control_block_is_never_forwarded(engine, how):
    """RFC 5771 s4: 224.0.0.0/24 is link-local; a multicast route or filter
    that covers it does not forward it."""
    r = make_npr(engine)
    if how == "route":
        r.add_route("224.0.0.0/4", multicast_ports=[1, 2])
    else:
        r.add_filter(FilterAction("multicast", ports=(1, 2)), dst="224.0.0.0/8")
    good = _udp(0, host_ip(0), "224.1.1.1", l2_dst="01:00:5e:01:01:01")
    _run(r, [_udp(0, host_ip(0), "224.0.0.5", l2_dst="01:00:5e:00:00:05"), good])
    assert sorted((t.port, t.data) for t in r.transmitted()) == [
        (p, routed(good, p, "01:00:5e:01:01:01")) for p in (1, 2)]
    assert r.drops() == {"mcast_link_local": 1}


def test_filter_sending_a_group_to_one_port_uses_the_group_mac(engine):
    """RFC 1112 6.4: an IP multicast datagram goes to the 01:00:5e group MAC,
    also when a queue filter (not a multicast route) sends it to a port."""
    r = make_npr(engine)
    r.add_filter(FilterAction("queue", port=3), dst="239.9.0.0/16")
    f = _udp(0, host_ip(0), "239.9.200.1", l2_dst="01:00:5e:09:c8:01")
    _run(r, [f])
    assert [(t.port, t.data) for t in r.transmitted()] == [(3, routed(f, 3, "01:00:5e:09:c8:01"))]


# ------------------------------------------------------------------------------------------
# datagram length


def test_trailer_after_total_length_is_not_forwarded(engine):
    """RFC 791 Total Length: a 40-byte datagram in a 200-byte frame leaves as a
    60-byte frame -- the datagram, then zeros to the Ethernet minimum (RFC
    894); a 160-byte datagram with a trailer leaves without the trailer."""
    r = make_npr(engine)
    small = _udp(0, host_ip(0), host_ip(1), payload=b"s" * 12)            # 40-byte datagram
    big = _udp(0, host_ip(0), host_ip(2), payload=b"b" * 132)             # 160-byte datagram
    frames = [Ether(bytes(small) + b"\xee" * 146), Ether(bytes(big) + b"\x77" * 40)]
    _run(r, frames)
    got = {t.port: t.data for t in r.transmitted()}
    assert got == {1: _pad60(routed(small, 1, host_mac(1))), 2: routed(big, 2, host_mac(2))}
    assert len(got[1]) == 60 and len(got[2]) == 14 + 160


def test_short_frame_and_nonzero_padding_leave_zero_padded(engine):
    """RFC 894: frames shorter than the minimum are padded -- with zeros, not
    the bytes that padded the received frame."""
    r = make_npr(engine)
    short = _udp(0, host_ip(0), host_ip(1), payload=b"")                  # 42-byte frame
    dirty = Ether(bytes(_udp(0, host_ip(0), host_ip(2), payload=b"x")) + b"\xab" * 17)   # 60 bytes, junk pad
    _run(r, [short, dirty])
    got = {t.port: t.data for t in r.transmitted()}
    assert got == {1: _pad60(routed(short, 1, host_mac(1))),
                   2: _pad60(routed(_udp(0, host_ip(0), host_ip(2), payload=b"x"), 2, host_mac(2)))}


def test_host_gets_the_datagram_without_the_trailer(engine):
    """What the control processor receives is cut at the total length too."""
    r = make_npr(engine)
    f = _udp(0, host_ip(0), "172.30.0.1", payload=b"q" * 100)
    _run(r, [Ether(bytes(f) + b"\x99" * 50)])
    [hp] = r.host_packets()
    assert hp.reason == "no_route" and hp.data == bytes(f)


# ------------------------------------------------------------------------------------------
# 802.1Q priority tags


def test_priority_tagged_frame_is_routed_as_untagged(engine):
    """IEEE 802.1Q: VID 0 carries only a priority; on this untagged port the
    frame is handled as untagged -- routed, and sent untagged."""
    r = make_npr(engine)
    inner = IP(src=host_ip(0), dst=host_ip(3), ttl=9, id=4) / UDP(sport=5, dport=6) / Raw(b"p" * 40)
    tagged = Ether(dst=port_mac(0), src=host_mac(0)) / Dot1Q(prio=5, vlan=0) / inner
    plain = Ether(bytes(Ether(dst=port_mac(0), src=host_mac(0)) / inner))
    _run(r, [tagged])
    assert [(t.port, t.data) for t in r.transmitted()] == [(3, routed(plain, 3, host_mac(3)))]
    assert r.drops() == {} and r.exceptions() == {}


def test_priority_tagged_arp_reaches_the_host_untagged(engine):
    """IEEE 802.1Q: a priority-tagged ARP request reaches the slow path untagged."""
    r = make_npr(engine)
    arp = ARP(op=1, hwsrc=host_mac(2), psrc=host_ip(2), pdst=port_ip(2))
    _run(r, [Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(2)) / Dot1Q(prio=3, vlan=0) / arp], port=2)
    [hp] = r.host_packets()
    assert hp.reason == "non_ip"
    assert hp.data == bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(2)) / arp)      # the tag removed


def test_vlan_tagged_frame_is_not_untagged(engine):
    """Only VID 0 means 'no VLAN': a frame of VLAN 7 stays tagged and goes to
    the host as non-IP, as before."""
    r = make_npr(engine)
    f = Ether(dst=port_mac(0), src=host_mac(0)) / Dot1Q(vlan=7) / IP(src=host_ip(0), dst=host_ip(1)) / UDP()
    _run(r, [f])
    [hp] = r.host_packets()
    assert hp.reason == "non_ip" and hp.data == bytes(f)


# ------------------------------------------------------------------------------------------
# redirects


def test_packet_back_out_of_its_port_is_forwarded_and_copied_for_a_redirect(engine):
    """RFC 1812 5.2.7.2: a packet forwarded out of the interface it came in on,
    to a next hop on the same subnet as its source, is forwarded and the
    control processor gets a copy (exception ``redirect``) naming the better
    next hop."""
    r = make_npr(engine)
    r.set_arp("10.0.1.3", "02:00:00:00:01:03")
    r.add_route("192.168.9.0/24", port=0, next_hop="10.0.1.3")
    via_gw = _udp(0, host_ip(0), "192.168.9.9")
    on_link = _udp(0, host_ip(0), "10.0.1.3")
    _run(r, [via_gw, on_link])
    assert [t.data for t in r.transmitted(port=0)] == [routed(via_gw, 0, "02:00:00:00:01:03"),
                                                         routed(on_link, 0, "02:00:00:00:01:03")]
    hps = r.host_packets()
    assert [(h.reason, h.out_port, h.nh_ip) for h in hps] == [("redirect", 0, "10.0.1.3")] * 2
    # the copy shares the original's buffer: its Ethernet header as received, the IP header as forwarded
    assert hps[0].data == bytes(via_gw)[:14] + routed(via_gw, 0, "02:00:00:00:01:03")[14:]
    assert r.check_conservation().copies == 2


@pytest.mark.parametrize("case", ["other_port", "source_off_subnet", "next_hop_is_source", "ttl_1"])
def test_no_redirect(engine, case):
    """RFC 1812 5.2.7.2: no redirect unless the packet leaves by its input
    interface and its source is on the next hop's subnet; nor one that would
    name the source itself; an expiring packet gets time exceeded instead."""
    r = make_npr(engine)
    r.set_arp("10.0.1.3", "02:00:00:00:01:03")
    r.add_route("192.168.9.0/24", port=0, next_hop="10.0.1.3")
    r.add_route("172.16.0.0/16", port=0, next_hop="10.0.1.3")
    f = {"other_port": _udp(0, host_ip(0), host_ip(1)),
         "source_off_subnet": _udp(0, "172.16.5.5", "192.168.9.9"),
         "next_hop_is_source": _udp(0, "10.0.1.3", "192.168.9.9"),
         "ttl_1": _udp(0, host_ip(0), "192.168.9.9", ttl=1)}[case]
    _run(r, [f])
    assert [h.reason for h in r.host_packets()] == (["ttl_expired"] if case == "ttl_1" else [])
    assert len(r.transmitted()) == (0 if case == "ttl_1" else 1)


# ------------------------------------------------------------------------------------------
# costs: each check's ALU cycles are spent where the check runs


def _min_latency_ns(engine: str, frame: Ether, costs: dict | None = None) -> float:
    r = make_npr(engine, profile=IXP2800.replace(costs) if costs else IXP2800)
    r.set_arp("10.0.1.7", "02:00:00:00:01:07")
    r.add_route("239.1.0.0/16", multicast_ports=[2])
    _run(r, [frame])
    return min(t.latency_ns for t in r.transmitted())


_FRAMES = {
    "plain": lambda: _udp(0, host_ip(0), host_ip(1)),
    "tagged": lambda: Ether(dst=port_mac(0), src=host_mac(0)) / Dot1Q(vlan=0)
    / IP(src=host_ip(0), dst=host_ip(1)) / UDP() / Raw(b"t" * 30),
    "trailer": lambda: Ether(bytes(_udp(0, host_ip(0), host_ip(1))) + b"\xee" * 30),
    "hairpin": lambda: _udp(0, host_ip(0), "10.0.1.7"),
    "group": lambda: _udp(0, host_ip(0), "239.1.1.1", l2_dst="01:00:5e:01:01:01"),
}


@pytest.mark.parametrize("cost,charged,spared", [
    ("plc.cost_martian", "plain", None), ("plc.cost_l2_check", "plain", None),
    ("plc.cost_prio_tag", "tagged", "plain"), ("plc.cost_len_fix", "trailer", "plain"),
    ("plc.cost_redirect", "hairpin", "plain"), ("plc.cost_mcast", "group", "plain"),
])
def test_each_check_costs_its_profile_cycles(engine, cost, charged, spared):
    """A check's profile cost adds its cycles to the latency of the packets it
    runs on (20,000 cycles = 14.3 us at 1.4 GHz), and nothing to the others.
    (martian and link-layer checks run on every IPv4 packet.)"""
    extra = 20_000 / IXP2800.value("me_clock_hz") * 1e9
    f = _FRAMES[charged]()
    assert _min_latency_ns(engine, f, {cost: 20_000}) - _min_latency_ns(engine, f) >= 0.99 * extra
    if spared is not None:
        g = _FRAMES[spared]()
        assert _min_latency_ns(engine, g, {cost: 20_000}) == _min_latency_ns(engine, g)


def test_priority_tags_behind_the_nic_front_end(engine):
    """With the SmartNIC VMDq front-end the 82599's rule applies first: a
    priority-tagged frame is VLAN 0 to the classifier (rtl/README.md, Priority
    tags). Pools that accept VLAN 0 (as Linux programs the 82599) pass it and
    the router routes it untagged; with only the untagged rule it is dropped
    by the NIC, named."""
    inner = IP(src=host_ip(0), dst=host_ip(2), id=8) / UDP(sport=1, dport=2) / Raw(b"n" * 40)
    tagged = bytes(Ether(dst=port_mac(0), src=host_mac(0)) / Dot1Q(prio=4, vlan=0) / inner)
    plain = Ether(bytes(Ether(dst=port_mac(0), src=host_mac(0)) / inner))
    base = {"mode": "32x4", "mac_filters": [{"mac": port_mac(0), "pools": [1]}], "disable_default_pool": True}
    r = make_npr(engine, nic={"backend": "model", **base, "pool_vlans": [{"vlan": 0, "pools": [1]}]})
    _run(r, [tagged])
    assert [(t.port, t.data, t.pool) for t in r.transmitted()] == [(2, routed(plain, 2, host_mac(2)), 1)]
    r2 = make_npr(engine, nic={"backend": "model", **base})
    _run(r2, [tagged])
    assert r2.transmitted() == [] and r2.drops() == {"nic_pool_vlan": 1}


def test_group_packet_steered_to_a_plugin_gets_no_unicast_default(engine):
    """Plug-in path, RFC 1112 6.4: a class D packet a filter gives a plug-in
    does not inherit a unicast route's next hop as its default exit; its
    default is the filter's port and the group MAC."""
    r = make_npr(engine)
    r.add_route("0.0.0.0/0", port=1, next_hop=host_ip(1))
    r.load_plugin("null", 0)
    r.add_filter(FilterAction("plugin", plugin=0, port=3), dst="239.0.0.0/8")
    f = _udp(0, host_ip(0), "239.1.2.3", l2_dst="01:00:5e:01:02:03")
    _run(r, [f])
    [t] = r.transmitted()
    assert (t.port, Ether(t.data).dst) == (3, "01:00:5e:01:02:03")


def test_auxiliary_filters_copy_no_refused_packet(engine):
    """RFC 1812 5.3.4 / 5.2.1.3: a packet the checks refuse is not forwarded by
    an auxiliary filter's copy either; packets that pass are still copied."""
    r = make_npr(engine)
    r.add_filter(FilterAction("queue", port=4, mac=host_mac(4)), aux=True, proto=17)
    bad = [_udp(0, host_ip(0), host_ip(1), l2_dst="ff:ff:ff:ff:ff:ff"),
           _udp(0, host_ip(0), "224.0.0.9", l2_dst="01:00:5e:00:00:09"), _udp(0, host_ip(0), "239.9.9.9")]
    good = _udp(0, host_ip(0), host_ip(2))
    _run(r, bad + [good])
    assert sorted((t.port, t.copy) for t in r.transmitted()) == [(2, False), (4, True)]
    assert r.drops() == {"l2_bcast_unicast": 1, "mcast_no_route": 2}
