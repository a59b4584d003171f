"""A flood of exceptions saturates the slow path; the fast path keeps forwarding."""
from __future__ import annotations

from np_model.traffic import Stream, build
from tests.helpers import host_ip, port_mac
from tests.host.hostlab import make_lab


def test_exception_flood_is_shed_and_counted_while_fast_path_forwards_at_line_rate():
    lab = make_lab(queue=16, icmp_rate=1000, icmp_burst=20)
    cp, r = lab.cp, lab.r
    for p in range(5):
        cp.add_route(f"192.168.{p + 1}.0/24", p, host_ip(p), immediate=True)
    flood = Stream(0, "192.168.4.0/24", "192.168.1.0/24", port_mac(0), load=1.0, ttl=1)          # 1.49 Mpps of TTL 1
    transit = Stream(1, "192.168.3.0/24", "192.168.2.0/24", port_mac(1), load=1.0)               # line rate, 64 B
    duration_ns = 1e6
    b = build([flood, transit], duration_ns, f_me_hz=r.f_me)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    n_flood, n_transit = int((b.ports == 0).sum()), int((b.ports == 1).sum())
    assert n_flood > 1400 and n_transit > 1400
    r.run(duration_ns=duration_ns + 2e6)
    st = r.stats()
    # every transit frame left port 2, and the last one within a few microseconds of its arrival
    assert st["ports"]["port2"]["tx_pkts"] == n_transit
    tx2 = r.transmitted(2)
    assert tx2[-1].t_start_ns - tx2[-1].t_rx_ns < 20_000
    assert st["ports"]["port2"]["latency_ns"]["p99"] < 20_000
    # the excess is shed at the exception ring (core) and at the host queue, each counted by name
    drops = r.drops()
    assert set(drops) == {"exc_ring_full"} and drops["exc_ring_full"] > 0
    to_host = r.exceptions()["ttl_expired"]
    assert drops["exc_ring_full"] + to_host == n_flood
    h = lab.sp.counters
    assert h["slowpath.queue_full_drops"] > 0
    assert h["slowpath.received"] == to_host
    assert h["slowpath.processed"] + h["slowpath.queue_full_drops"] == to_host
    assert h["slowpath.queue_hwm"] == 16
    # what the host did process was answered within the ICMP rate limit
    assert h["icmp.time_exceeded"] + h["icmp.rate_limited"] == h["slowpath.processed"]
    assert 20 <= h["icmp.time_exceeded"] <= 20 + 3
    assert len(r.transmitted(0)) == h["icmp.time_exceeded"]
    r.check_conservation()
