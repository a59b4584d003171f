"""The i3 code option: a packet whose identifier matches a trigger goes to the
trigger's address (i3: "a packet matches a trigger when their ids share a
prefix of k bits and no trigger has a longer match", virtual_routers.md
1.6); no trigger or a control packet goes to the slice's slow path."""
from __future__ import annotations

import pytest
from scapy.packet import Raw

from np_model.assemblies.spp_npe import NPE
from np_model.spp_formats import I3, decode_internal, meta_reason
from tests.np_model.spp.spp_helpers import expected_exception, expected_out, from_lc, worked_example

ID_A = bytes(range(32))
ID_B = bytes(range(16)) + bytes(range(100, 116))          # shares ID_A's first 128 bits
ID_C = bytes(range(8)) + b"\xff" * 24                     # shares only the first 64 bits


@pytest.fixture
def npe(engine):
    n = NPE(engine=engine, buffers=2048)
    worked_example(n, 3, "i3")
    return n


def _run(n: NPE, frames):
    n.send(frames, 0, at_ns=[3000.0 * k for k in range(len(frames))])
    n.run_until_idle()
    n.check_conservation()
    return n.transmitted()


def test_a_trigger_sends_matching_packets_to_its_address(npe):
    """The trigger (id, R) is a filter on the id's first 128 bits with R as the
    next hop; the i3 packet leaves unchanged in a new tunnel header to R."""
    npe.add_filter(3, {"id": ID_A[:16]}, {"queue": 1, "next_hop": ("198.51.100.7", 5000)})
    pa, pb = I3(id=ID_A) / Raw(b"data-a"), I3(id=ID_B) / Raw(b"data-b")
    got = _run(npe, [from_lc(3, 1, pa), from_lc(3, 1, pb)])
    nh = ("198.51.100.7", 5000)
    assert [t.data for t in got] == [expected_out(3, 2, pa, nh=nh), expected_out(3, 2, pb, nh=nh)]


def test_the_longest_matching_prefix_wins(npe):
    """Anycast: receivers share a prefix; the longest match among triggers wins."""
    npe.add_filter(3, {"id": (ID_A[:8], 64)}, {"queue": 1, "next_hop": ("198.51.100.1", 1)})
    npe.add_filter(3, {"id": ID_A[:16]}, {"queue": 1, "next_hop": ("198.51.100.2", 2)})
    pa, pc = I3(id=ID_A), I3(id=ID_C)
    got = _run(npe, [from_lc(3, 1, pa), from_lc(3, 1, pc)])
    assert [t.data for t in got] == [expected_out(3, 2, pa, nh=("198.51.100.2", 2)),
                                     expected_out(3, 2, pc, nh=("198.51.100.1", 1))]


def test_no_trigger_and_control_packets_go_to_the_slow_path(npe):
    f1 = from_lc(3, 2, I3(id=ID_C) / Raw(b"x"))
    f2 = from_lc(3, 1, I3(id=ID_A, flags="control") / Raw(b"insert"))
    got = _run(npe, [f1, f2])
    assert [t.data for t in got] == [expected_exception(3, f1, reason="no_match", mi=2),
                                     expected_exception(3, f2, reason="code_option", code=1, mi=1)]
    assert meta_reason(decode_internal(got[1].data), npe.code_options["i3"]) == "i3_control"


@pytest.mark.parametrize("payload", [I3(version=2, id=ID_A), Raw(b"short")], ids=["version", "short"])
def test_malformed_i3_packets_are_dropped(npe, payload):
    npe.add_filter(3, {}, {"queue": 1})
    _run(npe, [from_lc(3, 1, payload)])
    assert npe.drops() == {"copt_drop": 1} and npe.code_option_stats("i3")["drops"] == {"bad_header": 1}


def test_i3_and_ipv4_slices_share_the_npe(engine):
    from tests.np_model.spp.spp_helpers import overlay, routed
    n = NPE(engine=engine, buffers=2048)
    worked_example(n, 1)
    worked_example(n, 3, "i3")
    n.add_filter(1, {}, {"queue": 1})
    n.add_filter(3, {}, {"queue": 0, "next_hop": ("198.51.100.9", 9)})
    a, b = overlay("10.0.0.1", "10.0.0.2"), I3(id=ID_A)
    got = _run(n, [from_lc(1, 1, a), from_lc(3, 2, b)])
    assert [t.data for t in got] == [expected_out(1, 2, routed(a)), expected_out(3, 1, b, nh=("198.51.100.9", 9))]
