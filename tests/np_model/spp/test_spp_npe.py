"""The SPP NPE with the IPv4 code option: tunnel packets in, tunnel packets out,
compared byte for byte with what scapy builds; exceptions and local delivery
to MI 0; addressing isolation between slices; named drops for bad internal
frames. Conservation holds in every test."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, IPOption_RR
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from np_model.assemblies.spp_npe import NPE
from np_model.spp_formats import SppMeta, decode_internal, internal_frame, meta_reason
from tests.np_model.spp.spp_helpers import (GPE_MAC, LC_MAC, NPE_MAC, ep, expected_exception, expected_out, from_lc,
                                            gpe_vid, overlay, peer, routed, worked_example)


@pytest.fixture
def npe(engine):
    n = NPE(engine=engine, buffers=4096)
    worked_example(n, 1)
    return n


def _run(n: NPE, frames, at=None):
    n.send(frames, 0, at_ns=at)
    n.run_until_idle()
    n.check_conservation()
    return n.transmitted()


def test_transit_router_forwards_tunnel_to_tunnel_byte_for_byte(npe):
    """RFC 1812 5.3.1 / RFC 1624: an overlay datagram from R1 (MI 1) to a
    prefix behind R2 leaves MI 2 with TTL - 1 and its checksum updated, in a new
    outer IPv4/UDP header from MI 2's endpoint to R2 (RFC 791, RFC 768:
    checksum 0), to the line card with MI 2's egress context; and back."""
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1, "stats": 0})
    npe.add_filter(1, {"dst": "192.168.1.0/24"}, {"queue": 0, "stats": 1})
    a = overlay("192.168.1.5", "192.168.2.7", size=120)
    b = overlay("192.168.2.9", "192.168.1.3", size=400, ttl=2)
    got = _run(npe, [from_lc(1, 1, a), from_lc(1, 2, b)], at=[0, 10_000])
    assert [t.data for t in got] == [expected_out(1, 2, routed(a)), expected_out(1, 1, routed(b))]
    assert npe.stats_counters(1, 0)["post_pkts"] == 1 and npe.stats_counters(1, 1)["post_pkts"] == 1
    assert npe.drops() == {}


def test_a_filter_next_hop_overrides_the_mi_peer(npe):
    npe.add_filter(1, {"dst": "10.9.0.0/16"}, {"queue": 1, "next_hop": ("64.57.23.77", 4789)})
    a = overlay("192.168.1.5", "10.9.1.1")
    got = _run(npe, [from_lc(1, 1, a)])
    assert [t.data for t in got] == [expected_out(1, 2, routed(a), nh=("64.57.23.77", 4789))]


def test_longest_prefix_wins_and_flow_fields_match(npe):
    """Among filters of one priority the one with more key bits wins (a /24
    over a /16); a filter may name the whole flow (protocol and ports)."""
    npe.add_filter(1, {"dst": "192.168.0.0/16"}, {"queue": 0})
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1})
    npe.add_filter(1, {"dst": "192.168.3.3", "proto": 17, "dport": 53, "in_mi": 1}, {"queue": 1})
    a, b, c = overlay("1.1.1.1", "192.168.2.1"), overlay("1.1.1.1", "192.168.9.1"), \
        overlay("1.1.1.1", "192.168.3.3", dport=53)
    got = _run(npe, [from_lc(1, 1, a), from_lc(1, 1, b), from_lc(1, 1, c)], at=[0, 5000, 10_000])
    assert [t.data for t in got] == [expected_out(1, 2, routed(a)), expected_out(1, 1, routed(b)),
                                     expected_out(1, 2, routed(c))]


@pytest.mark.parametrize("case", ["ttl", "options"])
def test_ttl_expiry_and_options_go_to_the_slow_path_unchanged(npe, case):
    """RFC 1812 5.3.1 (TTL) and 5.2.4 (options): the IPv4 code option raises an
    exception; the tunnel packet goes unchanged to the slice's GPE on MI 0 (its
    exception queue, the highest-numbered bound to MI 0) behind a meta header
    naming the reason and the input MI."""
    npe.add_filter(1, {}, {"queue": 1})
    inner = overlay("192.168.1.5", "192.168.2.7", ttl=1) if case == "ttl" else \
        overlay("192.168.1.5", "192.168.2.7", options=[IPOption_RR(length=7)])
    f = from_lc(1, 1, inner)
    got = _run(npe, [f])
    code = 1 if case == "ttl" else 2
    assert [t.data for t in got] == [expected_exception(1, f, reason="code_option", code=code, mi=1)]
    d = decode_internal(got[0].data)
    assert meta_reason(d, npe.code_options["ipv4"]) == ("ttl_expired" if case == "ttl" else "ip_options")
    assert npe.code_option_stats("ipv4")["exceptions"] == {("ttl_expired" if case == "ttl" else "ip_options"): 1}
    assert npe.queue_stats(1, 3)["deq_pkts"] == 1                 # q3: MI 0's highest


def test_no_matching_filter_is_an_exception_to_mi0(npe):
    f = from_lc(1, 2, overlay("192.168.1.5", "172.16.0.1"))
    got = _run(npe, [f])
    assert [t.data for t in got] == [expected_exception(1, f, reason="no_match", mi=2)]
    assert Ether(got[0].data)[SppMeta].slice == 1


def test_a_filter_to_mi0_is_local_delivery(npe):
    """Packets for the slice itself go to its slow path, unchanged (no TTL
    decrement: they are not forwarded), in the filter's MI-0 queue."""
    npe.add_filter(1, {"dst": "192.168.0.1"}, {"queue": 2, "stats": 2})
    f = from_lc(1, 1, overlay("192.168.1.5", "192.168.0.1", ttl=1))
    npe.add_filter(1, {"dst": "192.168.0.2"}, {"action": "exception"})
    g = from_lc(1, 1, overlay("192.168.1.5", "192.168.0.2"))
    npe.add_filter(1, {"dst": "192.168.0.3"}, {"action": "drop"})
    h = from_lc(1, 1, overlay("192.168.1.5", "192.168.0.3"))
    got = _run(npe, [f, g, h], at=[0, 5000, 10_000])
    # TTL 1 to the slice itself: Parse's TTL check comes first (an exception, not local delivery)
    assert [t.data for t in got] == [expected_exception(1, f, reason="code_option", code=1),
                                     expected_exception(1, g, reason="filter")]
    f2 = from_lc(1, 1, overlay("192.168.1.5", "192.168.0.1"))
    got = _run(npe, [f2])[2:]
    assert [t.data for t in got] == [expected_exception(1, f2, kind="local")]
    assert npe.queue_stats(1, 2)["deq_pkts"] == 1 and npe.stats_counters(1, 2)["post_pkts"] == 1
    assert npe.drops() == {"filter_drop": 1}


def test_two_slices_with_the_same_overlay_addresses_stay_apart(engine):
    """Addressing isolation: two slices route the same prefix to different
    next hops; each slice's packets leave only through its own MIs and
    endpoints, and a slice's filter never matches the other's packets."""
    n = NPE(engine=engine, buffers=4096)
    worked_example(n, 1)
    worked_example(n, 2)
    n.add_filter(1, {"dst": "10.0.0.0/8"}, {"queue": 1})
    n.add_filter(2, {"dst": "10.0.0.0/8"}, {"queue": 0})
    a = overlay("10.1.1.1", "10.2.2.2")
    got = _run(n, [from_lc(1, 1, a), from_lc(2, 2, a)], at=[0, 5000])
    assert [t.data for t in got] == [expected_out(1, 2, routed(a)), expected_out(2, 1, routed(a))]
    # slice 2 has no filter for 172.16/12: its packet is its own exception, not slice 1's
    n.add_filter(1, {"dst": "172.16.0.0/12"}, {"queue": 1})
    f = from_lc(2, 1, overlay("10.1.1.1", "172.16.5.5"))
    got = _run(n, [f])[2:]
    assert [t.data for t in got] == [expected_exception(2, f, reason="no_match", mi=1)]


def test_the_slow_path_sends_through_mi0(npe):
    """A GPE hands its fast path a tunnel packet behind a meta header of kind
    inject: it enters on MI 0 (filters may name in_mi 0) and leaves like any other."""
    npe.add_filter(1, {"in_mi": 0, "dst": "192.168.2.0/24"}, {"queue": 1})
    inner = overlay("192.168.0.1", "192.168.2.7")
    outer = IP(src="10.255.0.9", dst="10.255.0.2") / UDP(sport=1, dport=2) / inner
    f = internal_frame(NPE_MAC, GPE_MAC, 1, IP(bytes(outer)), kind="inject", slice_id=1, mi=0)
    got = _run(npe, [f])
    assert [t.data for t in got] == [expected_out(1, 2, routed(inner))]


def _frame(**kw) -> bytes:
    """A tunnel frame to slice 1's MI 1 with one thing changed."""
    inner = overlay("192.168.1.5", "192.168.2.7")
    ip = IP(src=peer(1, 1)[0], dst=kw.pop("dst", ep(1, 1)[0]), flags=kw.pop("flags", 0), frag=kw.pop("frag", 0),
            options=kw.pop("options", []), proto=kw.pop("proto", 17))
    udp = UDP(sport=peer(1, 1)[1], dport=kw.pop("dport", ep(1, 1)[1]))
    outer = IP(bytes(ip / udp / inner))
    if kw.pop("bad_csum", False):
        outer.chksum ^= 0x1111
    raw = bytes(outer)
    if kw.pop("untagged", False):
        return bytes(Ether(dst=NPE_MAC, src=LC_MAC)) + raw
    return bytes(Ether(dst=kw.pop("eth_dst", NPE_MAC), src=LC_MAC) / Dot1Q(vlan=kw.pop("vid", 1),
                                                                            type=kw.pop("type", 0x0800))) + raw


@pytest.mark.parametrize("kw,reason", [
    (dict(untagged=True), "substrate_bad_header"),
    (dict(type=0x86DD), "substrate_bad_header"),
    (dict(bad_csum=True), "substrate_bad_header"),
    (dict(options=[IPOption_RR(length=7)]), "substrate_bad_header"),
    (dict(flags="MF"), "substrate_bad_header"),
    (dict(frag=10), "substrate_bad_header"),
    (dict(proto=6), "substrate_bad_header"),
    (dict(dport=31999), "substrate_unknown_endpoint"),
    (dict(dst="64.57.23.99"), "substrate_unknown_endpoint"),
    (dict(vid=2), "substrate_context_mismatch"),
    (dict(eth_dst="02:5e:00:00:00:99"), "l2_not_for_router"),
])
def test_bad_internal_frames_are_named_drops_and_the_rest_forwards(npe, kw, reason):
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1})
    good = from_lc(1, 1, overlay("192.168.1.5", "192.168.2.7"))
    got = _run(npe, [_frame(**kw), good], at=[0, 5000])
    assert npe.drops() == {reason: 1}
    assert len(got) == 1 and got[0].data == expected_out(1, 2, routed(overlay("192.168.1.5", "192.168.2.7")))


def test_slow_path_frames_must_name_their_own_fast_path(npe):
    inner = overlay("192.168.0.1", "192.168.2.7")
    outer = IP(bytes(IP(src="10.255.0.9", dst="10.255.0.2") / UDP(sport=1, dport=2) / inner))
    frames = [internal_frame(NPE_MAC, GPE_MAC, 1, outer, kind="inject", slice_id=2, mi=0),   # another slice
              internal_frame(NPE_MAC, GPE_MAC, 9, outer, kind="inject", slice_id=9, mi=0),   # no such fast path
              internal_frame(NPE_MAC, GPE_MAC, 1, outer, kind="inject", slice_id=1, mi=1),   # not MI 0
              internal_frame(NPE_MAC, GPE_MAC, 1, outer, kind="exception", slice_id=1, mi=0)]  # not an injection
    _run(npe, frames, at=[0, 2000, 4000, 6000])
    assert npe.drops() == {"substrate_context_mismatch": 1, "substrate_unknown_context": 1,
                           "substrate_bad_header": 2}


@pytest.mark.parametrize("mangle,code", [
    (lambda b: bytes([0x65]) + b[1:], "bad_version"),
    (lambda b: b[:2] + (len(b) + 20).to_bytes(2, "big") + b[4:], "bad_length"),
    (lambda b: b[:10] + bytes([b[10] ^ 0xFF]) + b[11:], "bad_checksum"),
])
def test_malformed_overlay_datagrams_are_dropped_with_the_code_options_reason(npe, mangle, code):
    """RFC 1812 5.2.2: the IPv4 code option drops datagrams that fail the
    header checks (copt_drop), counted under its own reason names."""
    npe.add_filter(1, {}, {"queue": 1})
    inner = Raw(mangle(bytes(overlay("192.168.1.5", "192.168.2.7"))))
    _run(npe, [from_lc(1, 1, inner)])
    assert npe.drops() == {"copt_drop": 1}
    assert npe.code_option_stats("ipv4")["drops"] == {code: 1}


def test_freeing_a_fast_path_removes_its_endpoints_filters_and_reservations(npe):
    before = npe.capacity()
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1})
    worked_example(npe, 2)
    npe.free_fastpath(1)
    assert npe.fastpaths == [2]
    f = from_lc(1, 1, overlay("192.168.1.5", "192.168.2.7"))
    _run(npe, [f])
    assert npe.drops() == {"substrate_unknown_endpoint": 1}
    npe.free_fastpath(2)
    left = npe.capacity()
    assert all(v["left"] == v["total"] for k, v in left.items() if k != "code options")   # ipv4 stays loaded
    assert left["code options"]["left"] == left["code options"]["total"] - 1
    assert before["filters"]["left"] == left["filters"]["left"] - 6
    worked_example(npe, 1)                     # everything can be had again
    assert npe.filters(1) == []


def test_freeing_a_fast_path_with_packets_in_flight_accounts_for_every_one(npe):
    """Packets of a freed fast path still in the pipeline are dropped
    (no_fastpath); those already queued leave; none is lost."""
    npe.add_filter(1, {}, {"queue": 1})
    a = overlay("192.168.1.5", "192.168.2.7", size=1000)
    npe.send([from_lc(1, 1, a)] * 40, 0, at_ns=[100.0 * k for k in range(40)])
    npe.run(duration_ns=12_000)
    npe.free_fastpath(1)
    npe.run_until_idle()
    c = npe.check_conservation()
    d = npe.drops()
    assert set(d) <= {"no_fastpath", "substrate_unknown_endpoint"} and d
    assert c.transmitted + sum(d.values()) == 40 and c.transmitted > 0


def test_a_deleted_mi_stops_taking_and_sending_packets(npe):
    npe.add_filter(1, {"dst": "192.168.2.0/24"}, {"queue": 1})
    npe.del_meta_interface(1, 2)
    _run(npe, [from_lc(1, 2, overlay("1.1.1.1", "192.168.2.7")), from_lc(1, 1, overlay("1.1.1.1", "192.168.2.7"))],
         at=[0, 3000])
    assert npe.drops() == {"substrate_unknown_endpoint": 1, "fastpath_no_mi": 1}
    assert npe.queue(1, 1)["mi"] == 2 and npe.fastpath(1)["mis"].keys() == {0, 1}
