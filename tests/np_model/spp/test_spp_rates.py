"""NPE bandwidth: each MI's and each fast path's reserved rate bounds what its
queues send, a fast path's packet buffers bound what it queues, and a slice
flooding far beyond its reservation leaves another slice its rate. Relations
against the reservations, never numbers copied from a run."""
from __future__ import annotations

import pytest
from scapy.packet import Raw

from np_model.assemblies.spp_npe import NPE
from tests.np_model.spp.spp_helpers import GPE_MAC, LC_MAC, ep, from_lc, gpe_vid, lc_vid, overlay, peer, worked_example

SIZE = 1000                  # overlay datagram bytes; the frame out is 18 + 28 + SIZE


def wire_kbps(sent) -> float:
    """Rate of a run of frames on the wire (FCS, preamble, gap), first bit of
    the first to first bit of the last, Kb/s."""
    bits = sum((len(t.data) + 24) * 8 for t in sent[:-1])
    return bits / (sent[-1].t_start_ns - sent[0].t_start_ns) * 1e6


def flood(n: NPE, flows, *, gap_ns: float, count: int) -> None:
    """``flows``: (slice, in MI, overlay destination); each sends ``count``
    datagrams, one every ``gap_ns``, interleaved."""
    frames, at = [], []
    for k in range(count):
        for j, (s, mi, dst) in enumerate(flows):
            frames.append(from_lc(s, mi, overlay("10.0.0.1", dst, size=SIZE)))
            at.append(k * gap_ns + j)
    n.send(frames, 0, at_ns=at)


def out_of(n: NPE, slice_id: int, mi: int):
    vid = lc_vid(slice_id, mi)
    return [t for t in n.transmitted() if int.from_bytes(t.data[14:16], "big") & 0xFFF == vid]


def test_each_mi_sends_at_most_its_rate(engine):
    """Slice 1's MI 1 (100 Mb/s) and MI 2 (100 Mb/s) are each offered 800 Mb/s:
    each leaves at its rate (within 10 % below, 0.1 % above); the excess is
    dropped at the queues' thresholds."""
    n = NPE(engine=engine, buffers=8192)
    worked_example(n, 1, thresholds=64_000, buffers=4000)
    n.add_filter(1, {"dst": "10.2.0.0/16"}, {"queue": 1})
    n.add_filter(1, {"dst": "10.1.0.0/16"}, {"queue": 0})
    flood(n, [(1, 1, "10.2.0.1"), (1, 2, "10.1.0.1")], gap_ns=SIZE * 8 / 0.8, count=250)
    n.run_until_idle()
    n.check_conservation()
    for mi in (1, 2):
        r = wire_kbps(out_of(n, 1, mi))
        assert 90_000 <= r <= 100_100, (mi, r)
    assert n.drops().get("qm_threshold", 0) > 0
    assert n.rate_stats(1, 1)["sent_pkts"] == len(out_of(n, 1, 1))


def test_the_fast_path_rate_bounds_its_mis_together(engine):
    """MIs without a rate of their own (0) share the fast path's 150 Mb/s: both
    flooded, together they leave at most at the fast path's rate, and near it."""
    n = NPE(engine=engine, buffers=8192)
    worked_example(n, 1, kbps=(2000, 0, 0), thresholds=64_000, buffers=4000)
    n.free_fastpath(1)
    n.add_fastpath(1, "ipv4", queues=4, filters=6, stats=0, buffers=4000, kbps=150_000)
    n.add_meta_interface(1, 0, kbps=2000, board_mac=GPE_MAC, vid=gpe_vid(1))
    for mi in (1, 2):
        n.add_meta_interface(1, mi, endpoint=ep(1, mi), kbps=0, board_mac=LC_MAC, vid=lc_vid(1, mi),
                             peer=peer(1, mi))
    for q, mi in ((0, 1), (1, 2), (3, 0)):
        n.bind_queue(1, q, mi, threshold=64_000)
    n.add_filter(1, {"dst": "10.2.0.0/16"}, {"queue": 1})
    n.add_filter(1, {"dst": "10.1.0.0/16"}, {"queue": 0})
    flood(n, [(1, 1, "10.2.0.1"), (1, 2, "10.1.0.1")], gap_ns=SIZE * 8 / 0.8, count=250)
    n.run_until_idle()
    n.check_conservation()
    both = sorted(out_of(n, 1, 1) + out_of(n, 1, 2), key=lambda t: t.t_start_ns)
    r = wire_kbps(both)
    assert 135_000 <= r <= 150_150, r
    assert abs(len(out_of(n, 1, 1)) - len(out_of(n, 1, 2))) <= 0.1 * len(both)     # WDRR: equal weights


def test_a_flooding_slice_leaves_the_other_its_rate(engine):
    """Bandwidth isolation at the NPE: slice A offered 10x its 100 Mb/s MI, slice
    B offered exactly its 100 Mb/s: B gets what it was offered (within 5 %) and
    its packets wait no longer than when A is idle (within 5 %)."""
    def run(flood_a: bool) -> tuple[float, float]:
        n = NPE(engine=engine, buffers=8192)
        worked_example(n, 1, thresholds=32_000, buffers=2000)
        worked_example(n, 2, thresholds=32_000, buffers=2000)
        n.add_filter(1, {}, {"queue": 1})
        n.add_filter(2, {}, {"queue": 1})
        b_gap = (18 + 28 + SIZE + 24) * 8 / 0.1 * 1.02          # B at 98 % of its 100 Mb/s, on the wire
        frames = [(k * b_gap, from_lc(2, 1, overlay("10.0.0.1", "10.9.0.1", size=SIZE))) for k in range(120)]
        if flood_a:
            frames += [(k * b_gap / 10 + 1, from_lc(1, 1, overlay("10.0.0.1", "10.9.0.1", size=SIZE)))
                       for k in range(1200)]
        frames.sort(key=lambda x: x[0])
        n.send([f for _, f in frames], 0, at_ns=[t for t, _ in frames])
        n.run_until_idle()
        n.check_conservation()
        b = out_of(n, 2, 2)
        return len(b) / 120, sum(t.latency_ns for t in b) / len(b)

    alone, flooded = run(False), run(True)
    assert alone[0] == 1.0 and flooded[0] >= 0.95
    assert flooded[1] <= alone[1] * 1.05, (alone, flooded)


def test_a_fast_path_queues_at_most_its_packet_buffers(engine):
    """alloc_fastpath's buffers bound what the fast path holds in its queues
    (SPP V2: a per-slice packet limit); arrivals beyond are dropped
    fastpath_buffers, the other slice unaffected."""
    n = NPE(engine=engine, buffers=8192)
    worked_example(n, 1, buffers=10, thresholds=1 << 24)
    worked_example(n, 2)
    n.add_filter(1, {}, {"queue": 1})
    n.add_filter(2, {}, {"queue": 1})
    flood(n, [(1, 1, "10.9.0.1"), (2, 1, "10.9.0.1")], gap_ns=100, count=40)
    n.run(duration_ns=5_000)
    assert n.rate_stats(1)["queued"] <= 10
    n.run_until_idle()
    n.check_conservation()
    assert n.drops().get("fastpath_buffers", 0) > 0 and n.rate_stats(1)["limit_drops"] == n.drops()["fastpath_buffers"]
    assert n.queue_stats(2, 1)["drops"] == 0 or n.drops().get("qm_threshold", 0) == n.queue_stats(2, 1)["drops"]


def test_exceptions_are_paced_at_mi0s_rate(engine):
    """MI 0's reservation (2 Mb/s in the worked example) bounds the exception
    traffic a slice's packets make, protecting the slow path."""
    n = NPE(engine=engine, buffers=8192)
    worked_example(n, 1, thresholds=64_000, buffers=4000)
    frames = [from_lc(1, 1, overlay("10.0.0.1", "10.9.9.9", size=SIZE)) for _ in range(60)]   # no filter: no_match
    n.send(frames, 0, at_ns=[k * 200.0 for k in range(60)])
    n.run_until_idle()
    n.check_conservation()
    exc = [t for t in n.transmitted() if int.from_bytes(t.data[14:16], "big") & 0xFFF == gpe_vid(1)]
    assert len(exc) >= 2 and wire_kbps(exc) <= 2000 * 1.001
