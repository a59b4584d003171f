#!/usr/bin/env python3
"""Benchmark of the shipped plug-ins: modelled cost and simulator speed.

For each plug-in in plugins/: a 5-port NPR at full load (128-byte frames on
every port); the traffic entering port 0 is steered through the plug-in on
plug-in ME 0 (count gets auxiliary copies; ip_hdr chains to null on ME 1).
Printed per plug-in: the modelled ALU cycles per packet it executed (min /
mean / max), the plug-in ME's busy share, packets through the plug-in, the
simulator's own speed with the plug-in in the path (simulated packets per
wall-second), and the wall-clock time one plug-in call takes -- in its
worker process (the default) and in the unsafe in-process mode -- as the
core measures it around each call (copying the packet in, running the
code, checking and applying the record). The last line is one JSON object
keyed by plug-in name, plus "call_cost_us": the null plug-in's wall time per
call in-process and in a worker, and the difference (what containment costs
per call; it depends on whether the simulator and the worker each have a
core: on a machine where they must share one, each call waits for the
scheduler to switch processes).

Each plug-in runs --repeat times in each mode, alternating, and the fastest
run of each is kept (the machine's other load only ever slows a run down).

    python benchmarks/bench_plugins.py [--ms 20] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from np_model.plugin_loader import build, shipped  # noqa: E402
from np_model.assemblies import NPR, FilterAction  # noqa: E402
from np_model.traffic import Stream, build as traffic  # noqa: E402

ARGS = {"delay": "delay=100", "drop_delay": "drop=100 delay=50", "emulink": "rate=950000 delay=50 limit=2000000",
        "ip_hdr": "next=1"}


def run(name: str, ms: float, unsafe: bool = False) -> dict:
    r = NPR(keep_records=False, capture=False)
    for i in range(5):
        r.set_arp(f"10.0.{i + 1}.2", f"02:00:00:00:{i + 1:02x}:02")
        r.add_route(f"192.168.{i + 1}.0/24", port=i, next_hop=f"10.0.{i + 1}.2")
    r.load_plugin(name, 0, args=ARGS.get(name, ""), unsafe_in_process=unsafe)
    if name == "ip_hdr":
        r.load_plugin("null", 1, unsafe_in_process=unsafe)
    if name == "count":
        r.add_filter(FilterAction("plugin", plugin=0), aux=True, in_port=0)
    else:
        r.add_filter(FilterAction("plugin", plugin=0), in_port=0, ptag=0)
    streams = [Stream(p, f"192.168.{(p + 1) % 5 + 1}.0/24", f"192.168.{p + 1}.0/24",
                      f"02:00:00:00:00:{p + 1:02x}", sizes=((124, 1.0),), tos=0xB8) for p in range(5)]
    b = traffic(streams, ms * 1e6)
    # string_sub has something to rewrite: "HELLO" in every UDP payload
    payload_at = 14 + 20 + 8 + 10
    for k in range(5):
        b.data[b.offsets + payload_at + k] = ord("HELLO"[k])
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    t0 = time.perf_counter()
    r.run(duration_ns=ms * 1e6 + 300_000)
    wall = time.perf_counter() - t0
    c = r.check_conservation()
    st = r.plugin_stats(name)
    rt = r.plugin_runtime(name)
    me = r.stats()["mes"]["plugin0"]
    return {"cycles_min": st["cycles_min"], "cycles_mean": st["cycles_mean"], "cycles_max": st["cycles_max"],
            "plugin_packets": st["packets"], "me_busy_pct": me["busy_pct"], "packets": len(b),
            "transmitted": c.transmitted, "dropped": c.dropped, "sim_pps": round(len(b) / wall),
            "wall_s": round(wall, 3), "calls": rt["calls"], "call_us": rt["call_wall_us"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ms", type=float, default=20.0, help="simulated milliseconds per plug-in (default 20)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per plug-in and mode, the fastest kept (default 3)")
    args = ap.parse_args()
    names = list(shipped())
    for n in names:
        build(n)                                  # compile outside the timed part
    print(f"plug-ins in the path of port 0's traffic, 5 x 1 GbE at full load, 128-B frames, {args.ms:g} ms simulated")
    print(f"  {'plug-in':<11} {'cycles/pkt min/mean/max':>25} {'ME busy':>8} {'through':>9} "
          f"{'sim pkts/s':>11} {'in-process':>11} {'us/call worker':>15} {'in-process':>11}")
    out: dict = {}
    for n in names:
        best: dict[bool, dict] = {}
        for _ in range(args.repeat):                 # alternate the modes; keep each one's fastest run
            for unsafe in (False, True):
                x = run(n, args.ms, unsafe)
                if unsafe not in best or x["wall_s"] < best[unsafe]["wall_s"]:
                    best[unsafe] = x
        m, u = best[False], best[True]
        for k in ("cycles_min", "cycles_mean", "cycles_max", "plugin_packets", "transmitted", "dropped"):
            assert m[k] == u[k], f"{n}: {k} differs between the worker ({m[k]}) and in-process ({u[k]})"
        m["sim_pps_in_process"], m["call_us_in_process"] = u["sim_pps"], u["call_us"]
        out[n] = m
        print(f"  {n:<11} {m['cycles_min']:>7} {m['cycles_mean']:>8.1f} {m['cycles_max']:>7} "
              f"{m['me_busy_pct']:>7.1f}% {m['plugin_packets']:>9} {m['sim_pps']:>11,} {u['sim_pps']:>11,} "
              f"{m['call_us']:>15.2f} {u['call_us']:>11.2f}")
    import statistics
    worker = statistics.median(out[n]["call_us"] for n in names)
    inproc = statistics.median(out[n]["call_us_in_process"] for n in names)
    diff = statistics.median(out[n]["call_us"] - out[n]["call_us_in_process"] for n in names)
    out["call_cost_us"] = {"in_process": round(inproc, 3), "worker": round(worker, 3), "containment": round(diff, 3),
                           "over": "median of the shipped plug-ins", "cpus": os.cpu_count(),
                           "load_avg_1min": round(os.getloadavg()[0], 2)}
    print(f"containment costs {diff:.2f} us per call (median over the {len(names)} shipped plug-ins: "
          f"{inproc:.2f} us in-process, {worker:.2f} us in its worker; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
