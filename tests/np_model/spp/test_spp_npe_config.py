"""The NPE's slice-facing configuration: what exceeds its capacity is refused
with an error naming the resource and what is left; a slice's filters,
queues, counters and MIs are its own (naming another slice's is refused);
bad values name the valid choices."""
from __future__ import annotations

import pytest

from np_model.assemblies.spp_common import CapacityError
from np_model.assemblies.spp_npe import NPE
from np_model.profile import IXP2850
from tests.np_model.spp.spp_helpers import GPE_MAC, LC_MAC, ep, worked_example

SMALL = IXP2850.replace({"npe_fastpaths": 2, "npe_filter_entries": 10, "npe_queues": 8, "npe_stats_counters": 6,
                         "npe_fastpath_sram_bytes": 1000, "npe_fastpath_dram_bytes": 5000})


def fp(n: NPE, s: int, **kw):
    args = dict(queues=2, filters=2, stats=2, buffers=10, sram_bytes=100, dram_bytes=100, kbps=1000)
    args.update(kw)
    n.add_fastpath(s, "ipv4", **args)


@pytest.mark.parametrize("kw,msg", [
    (dict(filters=9), "npe: filters: asked 9, 8 of 10 left"),
    (dict(queues=7), r"npe: queues \(contiguous\): asked 7, 6 of 8 left"),
    (dict(stats=5), r"npe: stats counters \(contiguous\): asked 5, 4 of 6 left"),
    (dict(sram_bytes=901), "npe: SRAM: asked 901 B, 900 B of 1000 B left"),
    (dict(dram_bytes=4901), "npe: DRAM: asked 4901 B, 4900 B of 5000 B left"),
    (dict(kbps=9_999_001), "npe: bandwidth: asked 9999001 Kb/s, 9999000 Kb/s of 10000000 Kb/s left"),
    (dict(buffers=1014), "npe: packet buffers: asked 1014, 1013 of 1023 left"),
])
def test_reservations_beyond_the_npe_are_refused_naming_what_is_left(kw, msg):
    n = NPE(SMALL, buffers=1024)
    fp(n, 1)
    with pytest.raises(CapacityError, match=msg):
        fp(n, 2, **kw)
    assert n.fastpaths == [1]
    fp(n, 2)                                        # what fits still fits: nothing leaked


def test_the_number_of_fast_paths_is_bounded():
    n = NPE(SMALL, buffers=1024)
    fp(n, 1)
    fp(n, 2, sram_bytes=0)
    with pytest.raises(CapacityError, match="npe: fast paths: asked 1, 0 of 2 left"):
        fp(n, 3, sram_bytes=0)


def test_mi_bandwidths_never_exceed_the_fast_paths(engine):
    """SPP ARCH rule 1: the sum of MI bandwidths <= the fast path's."""
    n = NPE(engine=engine, buffers=512)
    n.add_fastpath(1, "ipv4", queues=4, filters=6, buffers=10, kbps=202_000)
    n.add_meta_interface(1, 0, kbps=2000, board_mac=GPE_MAC, vid=1)
    n.add_meta_interface(1, 1, endpoint=ep(1, 1), kbps=100_000, board_mac=LC_MAC, vid=2)
    with pytest.raises(CapacityError, match=r"npe: slice 1: fast-path bandwidth for MIs: asked 100001 Kb/s, "
                                            r"100000 Kb/s of 202000 Kb/s left"):
        n.add_meta_interface(1, 2, endpoint=ep(1, 2), kbps=100_001, board_mac=LC_MAC, vid=3)
    n.add_meta_interface(1, 2, endpoint=ep(1, 2), kbps=100_000, board_mac=LC_MAC, vid=3)


def test_filters_beyond_the_slices_reservation_are_refused():
    n = NPE(buffers=512)
    worked_example(n, 1)
    for k in range(6):
        n.add_filter(1, {"dst": f"10.0.{k}.0/24"}, {"queue": 0})
    with pytest.raises(CapacityError, match=r"npe: slice 1: reserved filters: asked 1, 0 of 6 left"):
        n.add_filter(1, {"dst": "10.0.9.0/24"}, {"queue": 0})


def test_a_slice_names_only_its_own_resources():
    """Administration isolation at the NPE: queues, counters, filters and MIs are
    numbered per fast path; another slice's are out of range or refused."""
    n = NPE(buffers=512)
    worked_example(n, 1)
    worked_example(n, 2)
    f2 = n.add_filter(2, {}, {"queue": 0})
    with pytest.raises(ValueError, match=r"slice 1 has queues 0..3, not 4 \(a filter names only its own slice's queues\)"):
        n.add_filter(1, {}, {"queue": 4})
    with pytest.raises(ValueError, match="slice 1 has stats counters 0..3, not 7"):
        n.add_filter(1, {}, {"queue": 0, "stats": 7})
    with pytest.raises(KeyError, match=f"filter {f2} is not one of slice 1's filters"):
        n.del_filter(1, f2)
    with pytest.raises(ValueError, match="endpoint 64.57.23.210:30021 is slice 2's MI 1"):
        n.add_meta_interface(1, 3, endpoint=ep(2, 1), kbps=0, board_mac=LC_MAC, vid=5)
    with pytest.raises(ValueError, match="VID 2 is slice 2's fast path's"):
        n.add_fastpath(3, "ipv4", queues=1, filters=1, buffers=1, kbps=1, vid=2)
    with pytest.raises(KeyError, match=r"slice 5 has no fast path; fast paths: \[1, 2\]"):
        n.stats_counters(5, 0)
    assert n.filters(2) == [f2]


@pytest.mark.parametrize("call,exc,msg", [
    (lambda n: n.add_filter(1, {"dst": "10.0.0.0/33"}, {"queue": 0}), ValueError, r"prefix length 33 out of range 0..32"),
    (lambda n: n.add_filter(1, {"dest": "10.0.0.1"}, {"queue": 0}), KeyError,
     r"no key field 'dest'; valid: in_mi, dst, src, proto, sport, dport"),
    (lambda n: n.add_filter(1, {"proto": 300}, {"queue": 0}), ValueError, r"'proto' \(8 bits\): 300 does not fit"),
    (lambda n: n.add_filter(1, {}, {"queue": 0, "to": 1}), KeyError,
     r"unknown filter result field 'to'; valid: action, mi, queue, stats, next_hop, arg"),
    (lambda n: n.add_filter(1, {}, {"action": "redirect"}), ValueError, "valid: forward, drop, exception, local"),
    (lambda n: n.add_filter(1, {}, {}), ValueError, "a forwarding filter names its queue"),
    (lambda n: n.add_filter(1, {}, {"queue": 0, "mi": 2}), ValueError, "queue 0 is bound to MI 1, not MI 2"),
    (lambda n: n.add_filter(1, {}, {"queue": 0}, priority=64), ValueError, "priority must be 0..63"),
    (lambda n: n.add_filter(1, {}, {"action": "local", "queue": 0}), ValueError, "local delivery goes to MI 0"),
    (lambda n: n.add_meta_interface(1, 0, kbps=0, board_mac=GPE_MAC, vid=1), ValueError, "already has MI 0"),
    (lambda n: n.add_meta_interface(1, 3, kbps=0, board_mac=LC_MAC, vid=1), ValueError, "MI 3 needs an endpoint"),
    (lambda n: n.add_meta_interface(1, 256, kbps=0, board_mac=LC_MAC, vid=1), ValueError, r"MI must be 0..255"),
    (lambda n: n.bind_queue(1, 9, 1), ValueError, "slice 1 has queues 0..3, not 9"),
    (lambda n: n.bind_queue(1, 0, 7), KeyError, r"slice 1 has no MI 7; MIs: \[0, 1, 2\]"),
    (lambda n: n.add_fastpath(0, "ipv4", queues=1, filters=1, buffers=1, kbps=1), ValueError, "slice id must be 1..4094"),
    (lambda n: n.add_fastpath(1, "ipv4", queues=1, filters=1, buffers=1, kbps=1), ValueError, "already has a fast path"),
    (lambda n: n.add_fastpath(9, "ipv4", queues=0, filters=1, buffers=1, kbps=1), ValueError, "at least one queue"),
    (lambda n: n.add_fastpath(9, "ipv4", queues=1, filters=-1, buffers=1, kbps=1), ValueError,
     "filters must be an integer >= 0"),
])
def test_bad_values_name_the_valid_choices(call, exc, msg):
    n = NPE(buffers=512)
    worked_example(n, 1)
    with pytest.raises(exc, match=msg):
        call(n)


def test_a_filter_without_a_next_hop_needs_an_mi_peer():
    n = NPE(buffers=512)
    n.add_fastpath(1, "ipv4", queues=2, filters=2, buffers=10, kbps=1000)
    n.add_meta_interface(1, 1, endpoint=ep(1, 1), kbps=0, board_mac=LC_MAC, vid=2)
    n.bind_queue(1, 0, 1)
    with pytest.raises(ValueError, match="MI 1 has no peer: give the filter a next_hop"):
        n.add_filter(1, {}, {"queue": 0})
    n.add_filter(1, {}, {"queue": 0, "next_hop": "198.51.100.1:7"})
