#!/usr/bin/env python3
"""Benchmark of the NPR model: the simulator's own speed and the modelled router.

1. Simulator speed: 64-byte IPv4/UDP forwarding across all 5 ports at full
   offered load (5 x 1.488 Mpps), cycle-level; reports simulated packets per
   wall-second and engine events per wall-second. Traffic is generated
   before the clock starts; the timed part is the engine plus the Python
   that collects its output.
   The same run with 0, 1,024, 10,240 and 32,768 primary filters installed
   (none matching the traffic, five mask shapes, so every packet is looked
   up in the full TCAM): the model's TCAM answers in constant simulated
   time, and the simulator's own cost should stay near flat too.
2. Modelled forwarding rate for frame sizes 64..1518 bytes offered at
   5 x 1 Gb/s: Mpps, Gb/s, share of line rate, mean latency, the busiest ME.

The last line printed is one JSON object (sim_pps, events_per_s,
modelled_mpps, ...) so runs can be compared over time.

    python benchmarks/bench_npr.py [--packets N] [--filter-packets N] [--engine c|py]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from np_model.assemblies import NPR, FilterAction  # noqa: E402
from np_model.traffic import Stream, build, wire_bytes  # noqa: E402

SIZES = (64, 128, 256, 512, 1024, 1280, 1518)       # on the wire, with FCS


def neighbours(r: NPR) -> None:
    for i in range(5):
        r.set_arp(f"10.0.{i + 1}.2", f"02:00:00:00:{i + 1:02x}:02")
        r.add_route(f"192.168.{i + 1}.0/24", port=i, next_hop=f"10.0.{i + 1}.2")


def streams(frame: int) -> list[Stream]:
    return [Stream(p, f"192.168.{(p + 1) % 5 + 1}.0/24", f"192.168.{p + 1}.0/24", f"02:00:00:00:00:{p + 1:02x}",
                   sizes=((frame - 4, 1.0),)) for p in range(5)]


FILTER_COUNTS = (0, 1024, 10240, 32768)


def install_filters(r: NPR, n: int) -> None:
    """``n`` drop filters on 172.16/12 sources (the traffic uses 192.168/16), in five
    mask shapes as a filter set has: /32 host pairs, /24 with a port, protocol, ..."""
    for i in range(n):
        a, b, c = 16 + (i >> 16) % 16, (i >> 8) & 255, i & 255
        shape = i % 5
        if shape == 0:
            r.add_filter(FilterAction("drop"), src=f"172.{a}.{b}.{c}/32", dst=f"192.168.{c % 5 + 1}.{b}/32")
        elif shape == 1:
            r.add_filter(FilterAction("drop"), src=f"172.{a}.{b}.0/24", dport=i & 0xFFFF)
        elif shape == 2:
            r.add_filter(FilterAction("drop"), src=f"172.{a}.{b}.{c}/32", proto=6)
        elif shape == 3:
            r.add_filter(FilterAction("drop"), src=f"172.{a}.{b}.{c}/32", sport=i & 0xFFFF, dport=80)
        else:
            r.add_filter(FilterAction("drop"), src=f"172.{a}.{b}.{c}/32", in_port=i % 5)
    assert r.filter_count() == n


def sim_speed(packets: int, engine: str, filters: int = 0) -> dict:
    r = NPR(engine=engine, keep_records=False, capture=False)
    neighbours(r)
    install_filters(r, filters)
    chunk_ns = 5e5 if engine == "c" else 2e4
    pkt_ns = 84 * 8 / 1e9 * 1e9                      # 64-B frame on 1 GbE: 672 ns
    total_ns = packets / 5 * pkt_ns
    chunks, t = [], 0.0
    while t < total_ns:
        dur = min(chunk_ns, total_ns - t)
        chunks.append(build(streams(64), dur, start_ns=t, seed=len(chunks) + 1, first_ipid=len(chunks) * 7919))
        t += dur
    n = sum(len(c) for c in chunks)
    ev0 = r.engine.events
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for c in chunks:
        r.feed_arrays(c.t_cycles, c.ports, c.lens, c.offsets, c.data)
        r.run(until_ns=c.end_cycle / 1.4)
    r.run(duration_ns=100_000)                       # drain
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    cons = r.check_conservation()
    assert cons.transmitted == n, f"{n - cons.transmitted} packets not forwarded with {filters} filters"
    ev = r.engine.events - ev0
    return {"engine": engine, "packets": n, "transmitted": cons.transmitted, "wall_s": wall, "cpu_s": cpu,
            "sim_pps": n / wall, "events": ev, "events_per_s": ev / wall, "events_per_packet": ev / n,
            "sim_seconds": r.now_ns * 1e-9}


def modelled(frame: int, engine: str = "c") -> dict:
    r = NPR(engine=engine, keep_records=True, capture=False)
    neighbours(r)
    line_pps = 1e9 / (wire_bytes(frame - 4) * 8)
    dur_ns = max(1.0e6, 12000 / (5 * line_pps) * 1e9)     # at least ~12k packets
    b = build(streams(frame), dur_ns)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=dur_ns + 200_000)
    rec = r.tx_records()
    t = rec["t_start"] / 1.4
    lo, hi = 0.2 * dur_ns, dur_ns
    win = (t >= lo) & (t < hi)
    pps = win.sum() / ((hi - lo) * 1e-9)
    st = r.stats()
    busiest = max((k for k, v in st["mes"].items() if v["block"] != "idle"), key=lambda k: st["mes"][k]["busy_pct"])
    lat = (rec["t_start"][win] - rec["t_rx"][win]) / 1.4
    return {"frame": frame, "offered_mpps": 5 * line_pps / 1e6, "mpps": pps / 1e6,
            "gbps": pps * frame * 8 / 1e9, "line_rate_pct": 100 * pps / (5 * line_pps),
            "latency_us": float(lat.mean() / 1e3) if len(lat) else 0.0, "busiest": busiest,
            "busiest_pct": st["mes"][busiest]["busy_pct"], "dropped": sum(st["drops"].values())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=600_000, help="packets for the speed run (default 600k)")
    ap.add_argument("--engine", choices=("c", "py"), default="c")
    ap.add_argument("--filter-packets", type=int, default=200_000,
                    help="packets for each run with filters installed (default 200k)")
    args = ap.parse_args()

    s = sim_speed(args.packets if args.engine == "c" else min(args.packets, 20_000), args.engine)
    print(f"simulator speed ({s['engine']} engine), 64-B IPv4 forwarding on 5 x 1 GbE at full load:")
    print(f"  {s['packets']:,} packets ({s['sim_seconds'] * 1e3:.2f} ms simulated) in {s['wall_s']:.2f} s wall "
          f"({s['cpu_s']:.2f} s CPU, one process)")
    print(f"  {s['sim_pps']:,.0f} simulated packets per wall-second")
    print(f"  {s['events_per_s']:,.0f} engine events per wall-second ({s['events_per_packet']:.1f} events/packet)")
    by_filters = {}
    for nf in FILTER_COUNTS:
        f = s if nf == 0 else sim_speed(args.filter_packets, args.engine, nf)
        by_filters[str(nf)] = round(f["sim_pps"])
    print("  with primary filters installed (none matching): "
          + ", ".join(f"{k}: {v:,} pkt/s" for k, v in by_filters.items()))
    print()
    print("modelled forwarding rate, 5 x 1 Gb/s offered:")
    print(f"  {'frame':>6} {'offered':>9} {'forwarded':>10} {'Gb/s':>6} {'line %':>7} {'latency':>9}  busiest ME")
    rows = []
    for f in SIZES:
        m = modelled(f)
        rows.append(m)
        print(f"  {f:>5}B {m['offered_mpps']:>7.3f}Mp {m['mpps']:>8.3f}Mp {m['gbps']:>6.2f} {m['line_rate_pct']:>6.1f}%"
              f" {m['latency_us']:>7.2f}us  {m['busiest']} {m['busiest_pct']:.0f}%")
    out = {"sim_pps": round(s["sim_pps"]), "events_per_s": round(s["events_per_s"]),
           "events_per_packet": round(s["events_per_packet"], 1), "engine": s["engine"], "packets": s["packets"],
           "wall_s": round(s["wall_s"], 3), "sim_pps_by_filters": by_filters,
           "modelled_mpps": {str(m["frame"]): round(m["mpps"], 4) for m in rows},
           "modelled_gbps": {str(m["frame"]): round(m["gbps"], 3) for m in rows},
           "line_rate_pct": {str(m["frame"]): round(m["line_rate_pct"], 2) for m in rows}}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
