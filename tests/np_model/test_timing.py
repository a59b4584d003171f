"""Timing claims as relations: bottlenecks bound throughput, threads hide
latency until the ALU saturates, latency is at least the memory latencies on
the path and grows with load. Bounds come from the profile, not from runs."""
from __future__ import annotations

import numpy as np
import pytest

from np_model.profile import IXP2800
from np_model.assemblies.synth import SynthBench
from np_model.traffic import Stream, build
from tests.helpers import host_ip, make_npr, port_mac

F = IXP2800.value("me_clock_hz")
SWAP = IXP2800.value("ctx_swap_cycles")
SRAM_LAT = IXP2800.value("sram_latency")
SRAM_WORD = F / IXP2800.value("sram_clock_hz") + IXP2800.value("sram_cmd_cycles")   # cycles per 4-B access
CYCLES = 2_000_000


def _rate(threads: int, compute: int, mes: int = 1, refs: int = 1, engine: str = "c") -> SynthBench:
    b = SynthBench(mes=mes, threads=threads, compute=compute, refs=refs, engine=engine)
    b.run(CYCLES if engine == "c" else CYCLES // 20)
    return b


def test_threads_hide_memory_latency_until_the_alu_saturates(engine):
    C = 40
    rates, busy = [], []
    for n in range(1, 9):
        b = _rate(n, C, engine=engine)
        rates.append(b.iterations / b.engine.now)
        busy.append(b.me_busy())
    one = 1 / (C + SRAM_LAT)                  # one thread: compute, then wait the full latency
    alu = 1 / (C + SWAP)                      # the ALU bound: compute plus the swap
    assert rates[0] == pytest.approx(one, rel=0.03)
    for n, r in enumerate(rates, start=1):
        assert r == pytest.approx(min(n * one, alu), rel=0.05), n
    assert all(b2 >= b1 * 0.999 for b1, b2 in zip(rates, rates[1:]))     # more threads never hurt
    assert busy[-1] > 0.95 and busy[0] < 0.5


def test_a_shared_channel_queues_and_bounds_throughput():
    waits, rates = [], []
    for mes in (1, 2, 4, 8):
        b = _rate(8, 0, mes=mes)
        s = b.server_stats()
        waits.append(s["mean_wait"])
        rates.append(s["ops"] / b.engine.now)
    assert all(w2 > w1 for w1, w2 in zip(waits, waits[1:]))      # latency grows with load
    assert waits[0] < SRAM_WORD * 8 < waits[-1]
    assert max(rates) <= 1 / SRAM_WORD * 1.001                   # the channel's bandwidth bounds it
    assert rates[-1] == pytest.approx(1 / SRAM_WORD, rel=0.02)


def _line_rate_64(r, ms: float) -> int:
    streams = [Stream(p, f"{host_ip((p + 1) % 5)}/32", f"10.0.{p + 1}.0/24", port_mac(p)) for p in range(5)]
    b = build(streams, ms * 1e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    return len(b)


def _pps(r, t0_ns: float, t1_ns: float) -> float:
    ts = np.array([t.t_start_ns for t in r.transmitted()])
    return ((ts >= t0_ns) & (ts < t1_ns)).sum() / ((t1_ns - t0_ns) * 1e-9)


def test_throughput_is_bounded_by_the_slowest_block():
    cost = 1500                                       # HdrFmt: one ME, 1500 ALU cycles a packet
    r = make_npr("c", profile=IXP2800.replace({"hdrfmt.cost_base": cost}), buffers=65536)
    _line_rate_64(r, 1.0)
    r.run(duration_ns=1.0e6)
    bound = F / cost                                  # packets/s one ME can give HdrFmt
    got = _pps(r, 0.2e6, 1.0e6)
    assert got <= bound
    assert got >= 0.9 * bound
    mes = r.stats()["mes"]
    assert mes["hdrfmt"]["busy_pct"] > 97
    assert max(mes, key=lambda k: mes[k]["busy_pct"]) == "hdrfmt"


def test_plc_threads_hide_latency_until_line_rate():
    offered = 5 * 1e9 / (84 * 8)                      # 64-B frames on 5 x 1 GbE: 7.44 Mpps
    got = []
    for n in (1, 2, 4, 8):
        r = make_npr("c", threads={"plc": n}, buffers=65536)
        _line_rate_64(r, 0.6)
        r.run(duration_ns=0.6e6)
        got.append(_pps(r, 0.2e6, 0.6e6))
    assert got[0] < 0.8 * offered                                    # one thread per ME: latency-bound
    assert got[1] > got[0] * 1.2                                     # a second thread hides latency
    assert all(b >= a * 0.999 for a, b in zip(got, got[1:]))
    assert got[-1] == pytest.approx(offered, rel=0.01)                # enough threads: line rate


def test_latency_is_at_least_the_memory_latencies_on_the_path(engine):
    r = make_npr(engine)
    r.set_trace(True)
    streams = [Stream(p, f"{host_ip((p + 2) % 5)}/32", f"10.0.{p + 1}.0/24", port_mac(p), load=0.05,
                      sizes=((60, 1), (700, 1))) for p in range(5)]
    b = build(streams, 2e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=2.1e6)
    tr = r.trace_records()
    waited = tr[(tr["op"] == 1) & ((tr["flags"] & 2) == 0)]        # memory references a thread waited for
    recs = r.tx_records()
    assert len(recs) == len(b) > 20
    for rec in recs:
        ops = waited[waited["pkt"] == rec["pkt"]]
        assert {int(x) for x in ops["inst"]} >= {r.insts[b] for b in ("rx", "plc", "qm", "hdrfmt", "tx")}
        assert int(rec["t_start"] - rec["t_rx"]) >= int(ops["unloaded"].sum())


def test_latency_grows_with_load():
    means = []
    for load in (0.1, 0.5, 0.95):
        r = make_npr("c", buffers=65536)
        streams = [Stream(p, f"{host_ip(4)}/32", f"10.0.{p + 1}.0/24", port_mac(p), load=load / 2,
                          sizes=((60, 3), (1514, 1))) for p in range(2)]
        b = build(streams, 2e6)
        r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
        r.run(duration_ns=2.5e6)
        means.append(r.latency(4).mean)
    assert means[0] < means[1] < means[2]


@pytest.mark.parametrize("frame", [64, 1518])
def test_the_wire_is_the_bottleneck_at_full_load(frame):
    """5 x 1 GbE offered at line rate: the router keeps up, so output = line rate
    and no queue grows (latency stays within a few frame times)."""
    r = make_npr("c", buffers=65536)
    streams = [Stream(p, f"{host_ip((p + 1) % 5)}/32", f"10.0.{p + 1}.0/24", port_mac(p),
                      sizes=((frame - 4, 1.0),)) for p in range(5)]
    b = build(streams, 1.5e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=1.5e6)
    frame_ns = (frame + 20) * 8
    line = 5 * 1e9 / frame_ns
    assert _pps(r, 0.3e6, 1.5e6) == pytest.approx(line, rel=0.01)
    assert max(r.latency(p).max for p in range(5)) < 8 * frame_ns + 5000
