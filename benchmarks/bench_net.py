#!/usr/bin/env python3
"""Benchmark of the network substrate: a chain of k NPRs with a host at each end.

    h1 -- r1 -- r2 -- ... -- rk -- h2        every link 1 Gb/s

h1 sends one UDP flow to h2 at full offered load (the frames fill h1's
1 Gb/s wire) for the simulated duration; every router forwards it. Reports,
for k = 1, 2, 4, 8:

* simulated packets per wall-second, in total (frames the routers
  forwarded, plus those the hosts sent and received) and per node;
* the synchronisation overhead at link delays of 1 us, 10 us and 1 ms (the
  window is the link delay): ``1 - (routers' work + hosts' work) / wall``
  over the timed run (``Network.sync_overhead``'s definition), where

  - a router's work is the wall time inside its engine's event loop:
    ``np_run``, timed by the core itself with the TSC (calibrated against
    CLOCK_MONOTONIC) around the loop, less the time its transmit hook
    spends handing frames to the network's fabric (timed the same way) --
    ``np_run_wall_ns``, whoever calls it (the compiled fabric or
    ``NPR.run``) -- plus its slow path's host handler and timer callbacks
    (``NPR.sim_wall_s``);
  - a host's work is the wall time of its event processing (taking its
    due events from its heap, building, sending -- into the records it
    hands the fabric, when its link runs there -- and receiving datagrams:
    ``EventNode.run_due``, timed with ``perf_counter`` inside).

  Everything else is overhead: the window loop, offering frames to routers
  and taking what they sent (copies, input queues), carrying frames over
  links in C or Python, reading the fabric's deliveries and pushing them
  into hosts' event queues, handing the hosts' records to the fabric,
  ledgers, taking the routers' records for their statistics. The columns
  "routers" and "hosts" give each share of the wall time.

The routers run in the network's compiled fabric (``Network(compiled=True)``,
the default); ``--python`` drives each router from Python instead (one
``NPR.run`` per router per window, links carried in Python) for comparison.
ARP along the chain is resolved by one ping before the timed part. Each
configuration runs ``--repeat`` times (a fresh network each time) and the
run with the median overhead is reported: the machine the benchmark runs on
may be shared.

No captures are written (the network's pcapng output is off). The last
line printed is one JSON object: ``sim_pps`` (total, k = 8, 10 us),
``sync_overhead`` {"1us", "10us", "1ms"} (k = 8, fractions of wall time),
and the figures for every k.

    python benchmarks/bench_net.py [--sim-ms T] [--size BYTES] [--repeat N] [--python]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from host.config import parse_config  # noqa: E402
from host.router import build_router  # noqa: E402
from network import Host, Network, Ping, RouterNode, UdpFlow  # noqa: E402
from network.wire import wire_bytes  # noqa: E402


def chain(k: int, delay_ns: float, compiled: bool = True) -> tuple[Network, Host, Host]:
    """h1 -- r1 -- ... -- rk -- h2; router i has 10.i.0.1/24 (left) and 10.i+1.0.2/24 (right)."""
    net = Network(compiled=compiled)
    h1 = net.add_node(Host("h1", "10.0.0.10/24", "02:00:00:00:00:0a", "10.0.0.1"))
    h2 = net.add_node(Host("h2", f"10.{k}.0.10/24", "02:00:00:00:ff:0a", f"10.{k}.0.2"))
    for i in range(k):
        left, right = f"10.{i}.0.1/24" if i == 0 else f"10.{i}.0.2/24", f"10.{i + 1}.0.1/24"
        if i == k - 1:
            right = f"10.{k}.0.2/24"
        routes = []
        if i < k - 1:
            routes.append(f"  - {{prefix: 10.{k}.0.0/24, port: 1, next_hop: 10.{i + 1}.0.2}}")
        if i > 0:
            routes.append(f"  - {{prefix: 10.0.0.0/24, port: 0, next_hop: 10.{i}.0.1}}")
        text = (f"ports:\n  - {{address: {left}, mac: \"02:00:00:{i + 1:02x}:00:01\"}}\n"
                f"  - {{address: {right}, mac: \"02:00:00:{i + 1:02x}:00:02\"}}\n"
                + ("routes:\n" + "\n".join(routes) + "\n" if routes else "")
                + "slow_path: {arp_retry_ms: 1}\n")
        net.add_node(RouterNode(f"r{i + 1}", build_router(parse_config(text, source=f"r{i + 1}"),
                                                          keep_records=False)))
    net.add_link("h1", 0, "r1", 0, rate_bps=1e9, delay_ns=delay_ns)
    for i in range(1, k):
        net.add_link(f"r{i}", 1, f"r{i + 1}", 0, rate_bps=1e9, delay_ns=delay_ns)
    net.add_link(f"r{k}", 1, "h2", 0, rate_bps=1e9, delay_ns=delay_ns)
    return net, h1, h2


def run(k: int, delay_ns: float, sim_ms: float, size: int, compiled: bool = True) -> dict:
    net, h1, h2 = chain(k, delay_ns, compiled)
    frame = 14 + 20 + 8 + size
    rate = 1e9 * size / wire_bytes(frame)                 # payload rate that fills the wire
    # warm-up (not timed): one ping resolves every ARP entry along the chain
    warm_ns = 2 * (k + 1) * delay_ns * 1.5 + (k + 1) * 100e3
    Ping(h1, str(h2.itf.ip), start_ns=0, count=1)
    net.run(until_ns=warm_ns)
    flow = UdpFlow(h1, str(h2.itf.ip), 5001, start_ns=warm_ns, rate_bps=rate * 0.999, size=size,
                   duration_ms=sim_ms, receiver=h2)
    rs = [n for n in net.nodes.values() if isinstance(n, RouterNode)]
    hs = [h1, h2]
    fwd0 = sum(n.npr.conservation().transmitted for n in rs)
    w0, n0 = net.wall_s, net.windows
    r0, hb0 = sum(n.busy_s for n in rs), sum(n.busy_s for n in hs)
    t0 = time.perf_counter()
    net.run(until_ns=warm_ns + sim_ms * 1e6 + (k + 1) * (delay_ns + 20e3))
    wall = time.perf_counter() - t0
    rbusy, hbusy = sum(n.busy_s for n in rs) - r0, sum(n.busy_s for n in hs) - hb0
    busy = rbusy + hbusy
    fwd = sum(n.npr.conservation().transmitted for n in rs) - fwd0
    res = flow.result()
    pkts = fwd + res["sent"] + res["received"]
    cons = net.conservation()
    assert cons.ok, str(cons)
    assert res["received"] == res["sent"], res
    run_wall = net.wall_s - w0
    return {"k": k, "delay_us": delay_ns / 1e3, "wall_s": round(wall, 3), "windows": net.windows - n0,
            "router_share": round(rbusy / run_wall, 4), "host_share": round(hbusy / run_wall, 4),
            "flow_sent": res["sent"], "flow_received": res["received"], "router_frames": fwd,
            "sim_pps": round(pkts / wall), "sim_pps_per_node": round(pkts / wall / (k + 2)),
            "sync_overhead": round(max(0.0, 1 - busy / (net.wall_s - w0)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim-ms", type=float, default=50.0, help="simulated flow duration per run (ms)")
    ap.add_argument("--size", type=int, default=1000, help="UDP payload bytes (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration; the median is reported")
    ap.add_argument("--python", action="store_true", help="drive each router from Python (no compiled fabric)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    rows = []
    print(f"chain of k NPRs, UDP flow of {args.size}-byte payloads filling a 1 Gb/s wire for {args.sim_ms:g} ms")
    print(f"{'k':>2} {'delay':>7} {'wall s':>7} {'windows':>8} {'fwd frames':>10} {'sim pps':>9} "
          f"{'pps/node':>9} {'routers':>8} {'hosts':>6} {'sync ovh':>8}")
    for delay in (1e3, 10e3, 1e6):
        for k in (1, 2, 4, 8):
            if delay != 10e3 and k != 8:
                continue
            runs = sorted((run(k, delay, args.sim_ms, args.size, compiled=not args.python)
                           for _ in range(args.repeat)), key=lambda x: x["sync_overhead"])
            r = runs[len(runs) // 2]
            r["sync_overhead_runs"] = [x["sync_overhead"] for x in runs]
            rows.append(r)
            print(f"{k:>2} {r['delay_us']:>5g}us {r['wall_s']:>7.2f} {r['windows']:>8} {r['router_frames']:>10} "
                  f"{r['sim_pps']:>9} {r['sim_pps_per_node']:>9} {100 * r['router_share']:>7.1f}% "
                  f"{100 * r['host_share']:>5.1f}% {100 * r['sync_overhead']:>7.1f}%")
    k8 = {f"{r['delay_us']:g}us" if r["delay_us"] < 1000 else f"{r['delay_us'] / 1000:g}ms": r
          for r in rows if r["k"] == 8}
    print(json.dumps({"sim_pps": k8["10us"]["sim_pps"], "sim_pps_per_node": k8["10us"]["sim_pps_per_node"],
                      "sync_overhead": {key: k8[key]["sync_overhead"] for key in ("1us", "10us", "1ms")},
                      "by_k_10us": {str(r["k"]): {"sim_pps": r["sim_pps"], "sim_pps_per_node": r["sim_pps_per_node"],
                                                  "sync_overhead": r["sync_overhead"]}
                                    for r in rows if r["delay_us"] == 10},
                      "sync_overhead_10us_runs": k8["10us"]["sync_overhead_runs"],
                      "size": args.size, "sim_ms": args.sim_ms, "repeat": args.repeat, "compiled": not args.python}))


if __name__ == "__main__":
    main()
