"""Bandwidth isolation (issue 12 §5): slice A offered 10x its reservation
leaves slice B within 5 % of B's reserved rate and latency -- relations
against the reservations (MIs of 100 Mb/s), measured as B's throughput and
median one-way latency with A's flood and without."""
from __future__ import annotations

import numpy as np

from network.overlay import TunnelFlow, TunnelSink
from tests.spp.conftest import IF0, Node

MI_KBPS = 100_000
SIZE = 500


def run_b(flood: bool) -> tuple[TunnelFlow, TunnelFlow | None, Node]:
    n = Node(rate=10e9)
    n.ipv4_slice("a", 30001, mi_kbps=MI_KBPS)
    n.ipv4_slice("b", 30002, mi_kbps=MI_KBPS)
    # B at 90 % of its reservation, counting the tunnel packet's bytes on the wire
    b_rate = 0.9 * MI_KBPS * 1000 * SIZE / (14 + 28 + SIZE + 24)
    b = TunnelFlow(n.h1, (IF0, 30002), sport=30002, start_ns=10_000, rate_bps=b_rate, size=SIZE, duration_ms=4,
                   flow_id=2, inner_src="10.1.0.5", inner_dst="10.2.0.5", sink=TunnelSink(n.h2, 30002))
    a = None
    if flood:
        a = TunnelFlow(n.h1, (IF0, 30001), sport=30001, start_ns=10_000, rate_bps=10 * MI_KBPS * 1000, size=SIZE,
                       duration_ms=4, flow_id=1, inner_src="10.1.0.5", inner_dst="10.2.0.5",
                       sink=TunnelSink(n.h2, 30001))
    n.net.run(duration_ns=6e6)
    assert n.net.conservation().ok
    return b, a, n


def test_flood_of_one_slice_leaves_the_other_its_rate_and_latency():
    import pytest
    pytest.importorskip("np_model.assemblies.spp_linecard")
    alone, _, _ = run_b(False)
    with_flood, a, n = run_b(True)
    reserved_bps = MI_KBPS * 1000
    dev = abs(with_flood.received - alone.received) * SIZE * 8 / 4e-3 / reserved_bps
    assert alone.received == alone.sent                       # within its reservation: nothing lost
    assert dev <= 0.05
    lat_ratio = np.median(with_flood.latencies_ns()) / np.median(alone.latencies_ns())
    assert lat_ratio <= 1.05
    # A got no more than its reservation through (counting its tunnel packets' bytes on the wire);
    # its excess was dropped in its own queue
    a_bps = a.rate_pps(skip=10) * (14 + 28 + SIZE + 24) * 8
    assert a_bps <= reserved_bps * 1.05 and a.received < a.sent
    assert n.net.conservation().drops() .get("spp.npe0: qm_threshold", 0) > 0
