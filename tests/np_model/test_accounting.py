"""Every packet accounted for; statistics, trace and errors a user relies on."""
from __future__ import annotations

import numpy as np
import pytest

from np_model.core import CoreError
from np_model.profile import IXP2800
from np_model.assemblies import NPR, FilterAction
from np_model.traffic import Stream, build
from tests.helpers import host_ip, host_mac, make_npr, port_mac, udp_frame


def _all_to(r, dst_port: int, ms: float, size: int = 60, ttl: int = 64, ports=range(5)) -> int:
    streams = [Stream(p, f"{host_ip(dst_port)}/32", f"10.0.{p + 1}.0/24", port_mac(p), sizes=((size, 1.0),),
                      ttl=ttl) for p in ports]
    b = build(streams, ms * 1e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    return len(b)


def test_conservation_when_buffers_run_out(engine):
    r = make_npr(engine, buffers=512)
    # four ports into port 0 (port 0's own hosts would be redirected: RFC 1812 5.2.7.2)
    n = _all_to(r, 0, 0.3 if engine == "py" else 2.0, ports=(1, 2, 3, 4))
    r.run(duration_ns=0.25e6)                        # mid-run: packets in every stage
    c = r.check_conservation()
    assert c.in_flight > 0
    assert r.drops().get("no_buffer", 0) > 0
    r.run(duration_ns=50e6)                          # drain: everything ends
    c = r.check_conservation()
    assert c.in_flight == 0
    assert c.transmitted + c.dropped == n


def test_conservation_with_queue_thresholds_and_copies():
    r = make_npr("c")
    r.add_filter(FilterAction("queue", port=0, qid=300, mac=host_mac(0)), dst=f"{host_ip(0)}/32")
    r.add_filter(FilterAction("queue", port=3, qid=301, mac=host_mac(3)), aux=True, proto=17)
    r.set_queue(0, 300, threshold=20_000)
    n = _all_to(r, 0, 1.0, size=200, ports=(1, 2, 4))
    r.run(duration_ns=5e6)
    c = r.check_conservation()
    d = r.drops()
    assert c.in_flight == 0 and c.copies == n
    assert d.get("qm_threshold", 0) > 0
    assert c.transmitted + c.dropped == n + c.copies
    assert sum(d.values()) == c.dropped


def test_exception_flood_is_shed_while_fast_path_keeps_line_rate():
    r = make_npr("c")
    flood = _all_to(r, 1, 2.0, ttl=1, ports=(0,))
    b = build([Stream(2, f"{host_ip(3)}/32", "10.0.3.0/24", port_mac(2))], 2e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=3e6)
    assert r.drops().get("exc_ring_full", 0) > flood // 2
    assert len(r.transmitted(port=3)) == len(b)      # every fast-path packet forwarded
    r.check_conservation()


def test_statistics_are_consistent():
    r = make_npr("c")
    n = _all_to(r, 2, 0.5, ports=(0, 1))
    r.run(duration_ns=2e6)
    st = r.stats()
    tx = r.transmitted()
    assert st["ports"]["port2"]["tx_pkts"] == len(tx) == n
    assert st["ports"]["port0"]["rx_pkts"] + st["ports"]["port1"]["rx_pkts"] == n
    lat = st["ports"]["port2"]["latency_ns"]
    lats = [t.latency_ns for t in tx]
    assert lat["min"] == pytest.approx(min(lats), abs=0.1) and lat["max"] == pytest.approx(max(lats), abs=0.1)
    recs = r.tx_records()                            # the same latency in cycles
    by_pkt = {t.pkt: t.latency_ns for t in tx}
    cyc = (recs["t_start"] - recs["t_rx"]).astype(float)
    assert np.allclose(cyc * 1e9 / IXP2800.value("me_clock_hz"), [by_pkt[int(p)] for p in recs["pkt"]])
    for name, me in st["mes"].items():
        assert me["busy_pct"] + me["waiting_pct"] + me["idle_pct"] == pytest.approx(100, abs=0.1), name
    assert st["mes"]["plc0"]["busy_pct"] > 0 and st["mes"]["plugin0"]["busy_pct"] == 0
    for name, ring in st["rings"].items():
        assert ring["hwm"] <= ring["capacity"], name
        assert ring["gets"] <= ring["puts"] or name == "bufq", name
    assert st["rings"]["mux_plc"]["puts"] == n and st["rings"]["mux_plc"]["hwm"] >= 1
    q = {k: v for k, v in st["queues"].items() if k.startswith("port2.")}
    assert sum(v["deq_pkts"] for v in q.values()) == n
    assert st["conservation"]["ok"]


def test_trace_switches_on_and_off_at_run_time():
    r = make_npr("c")
    f = bytes(udp_frame(0, host_ip(1)))
    before = r.send([f], port=0)
    r.run(duration_ns=50_000)
    r.set_trace(True)
    during = r.send([f], port=0)
    r.run(duration_ns=50_000)
    r.set_trace(False)
    after = r.send([f], port=0)
    r.run(duration_ns=50_000)
    tr = r.trace_records()
    assert set(tr["pkt"]) == {int(during[0])}
    assert len(r.transmitted()) == 3 and not {int(before[0]), int(after[0])} & set(tr["pkt"])
    blocks = {int(x) for x in tr["inst"]}
    assert {r.insts[b] for b in ("rx", "plc", "qm", "hdrfmt", "tx")} <= blocks
    assert (tr["t_done"] >= tr["t_issue"]).all()
    me_names = r.m.me_names
    assert {me_names[i] for i in tr["me"]} >= {"plc0", "qm", "tx"} or {me_names[i] for i in tr["me"]} >= {"qm", "tx"}


def test_line_trace_shows_every_me_and_ring():
    r = make_npr("c")
    line = r.line_trace()
    for name in ("rx0", "plc2", "qm", "hdrfmt", "tx", "xscale", "mux_plc=", "plc_qm="):
        assert name in line


def test_bad_configuration_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="threads for plc must be an integer 1..8, got 9"):
        make_npr("c", threads={"plc": 9})
    with pytest.raises(ValueError, match="threads for qm must be at least 8: 3 enqueue threads and one scheduler"):
        make_npr("c", threads={"qm": 7})
    with pytest.raises(KeyError, match="valid: rx, mux, plc"):
        make_npr("c", threads={"lookup": 2})
    with pytest.raises(ValueError, match="unknown engine 'fast'; valid: c, py"):
        NPR(engine="fast")
    with pytest.raises(KeyError, match="no parameter 'sram_latncy'"):
        IXP2800.replace(sram_latncy=5)


def test_bad_traffic_is_refused_and_loses_nothing():
    r = make_npr("c")
    f = bytes(udp_frame(0, host_ip(1)))
    r.send([f], port=0)
    with pytest.raises(ValueError, match="each in 0..4"):
        r.send([f], port=5)
    r.run(duration_ns=100_000)
    with pytest.raises(CoreError, match="before the current cycle"):
        r.send([f], port=0, at_ns=10.0)
    assert len(r.transmitted()) == 1
    r.check_conservation()


def test_host_timers_fire_in_simulated_time_order():
    r = make_npr("c")
    seen = []
    r.call_at(30_000, lambda: seen.append(("b", r.now_ns)))
    r.call_at(10_000, lambda: (seen.append(("a", r.now_ns)),
                               r.call_after(5_000, lambda: seen.append(("c", r.now_ns)))))
    r.call_at(30_000, lambda: seen.append(("d", r.now_ns)))
    r.run(duration_ns=25_000)
    assert [s[0] for s in seen] == ["a", "c"]
    r.run(duration_ns=25_000)
    assert seen == [("a", 10_000), ("c", 15_000), ("b", 30_000), ("d", 30_000)]


def test_a_timer_can_inject_a_frame_that_is_forwarded():
    r = make_npr("c")
    f = bytes(udp_frame(0, host_ip(2)))
    r.call_at(20_000, lambda: r.inject(f, in_port=0))
    r.run(duration_ns=100_000)
    [t] = r.transmitted()
    assert t.port == 2 and t.from_host and t.t_rx_ns >= 20_000
    r.check_conservation()


def test_run_until_idle_stops_when_the_last_packet_is_done(engine):
    r = make_npr(engine)
    r.send([bytes(udp_frame(0, host_ip(1)))], port=0)
    r.run_until_idle(max_ns=1e9)
    [t] = r.transmitted()
    assert t.t_end_ns <= r.now_ns < t.t_end_ns + 5_000     # stopped at the end, not 1 s later
    busy = r.stats()["mes"]["tx"]["busy_pct"]
    assert busy > 1                                         # ME shares over the active time only


def test_run_reaches_the_requested_time_exactly_or_just_past():
    r = make_npr("c")
    for x in (1.0, 333.3, 1000.7, 2500.5):
        r.run(until_ns=x)
        assert x <= r.now_ns < x + 1.0


def test_injections_may_be_scheduled_in_any_time_order():
    r = make_npr("c")
    a, b = bytes(udp_frame(0, host_ip(1), ipid=1)), bytes(udp_frame(0, host_ip(1), ipid=2))
    r.inject(a, at_ns=30_000, in_port=0)
    r.inject(b, at_ns=10_000, in_port=0)
    r.run(duration_ns=100_000)
    assert [t.t_rx_ns < 20_000 for t in r.transmitted()] == [True, False]
    r.check_conservation()


def test_arp_table_lookup_and_listing():
    r = make_npr("c", arp=False)
    r.set_arp("10.0.2.9", "0a:00:00:00:00:09")
    assert r.arp_lookup("10.0.2.9") == "0a:00:00:00:00:09" and r.arp_lookup("10.0.2.8") is None
    assert r.arp_entries() == {"10.0.2.9": "0a:00:00:00:00:09"}
