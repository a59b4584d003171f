#!/usr/bin/env python3
"""Benchmark of the SPP node: fast path vs slow path, isolation, simulator speed.

    h1 --- spp:0 [line card | NPE | GPE | fabric] spp:1 --- h2     external links 10 Gb/s

1. Forwarding rate and latency, per overlay packet size (the meta-net IPv4
   datagram inside the UDP tunnel: 64 .. 1472 bytes, 1472 being the largest
   that fits a 1500-byte MTU with the 28-byte tunnel header): one slice,
   an IPv4 overlay router, forwards h1's tunnel packets to h2
   * in its **fast path** (the IPv4 code option on the NPE), and
   * in its **GPE slow path only** (no fast path: the line card sends its
     endpoints to the GPE, host.spp.slowpaths.IPv4SlowPath forwards), with
     one core reserved.
   The slice reserves the NPE's whole bandwidth for its output MI, so the
   reservation does not pace it. The rate is the receiver's (packets per
   second between its first and last arrival) with h1 offering the whole
   10 Gb/s wire (the slow path: 400,000 packets/s); the latency is the
   median one-way latency (h1 to h2) at 1 % of that rate. ``speedup`` is the
   fast path's rate over the slow path's -- the shape of the SPP paper's
   headline comparison (the model's GPE costs are estimates, docs/spp.md).
2. Isolation: two slices with the ARCH example's reservations (MIs of 100
   Mb/s). Slice B sends at 90 % of its reservation, alone and while slice A
   offers 10x its own; ``bandwidth_deviation`` is |B's throughput with A's
   flood - B's alone| / B's reserved rate, ``latency_ratio`` B's median
   latency with the flood over alone.
3. ``sim_pps``: packets the NPE forwarded (and hosts sent and received) per
   wall-second in the fast-path runs.

The last line printed is JSON with ``fastpath_mpps``, ``gpe_mpps``,
``speedup``, ``fastpath_latency_us``, ``gpe_latency_us`` (maps from size to
number), ``isolation`` {``bandwidth_deviation``, ``latency_ratio``, ...}
and ``sim_pps``.

    python benchmarks/bench_spp.py [--sim-ms T] [--sizes 64,128,...]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from host.spp.slowpaths import IPv4SlowPath, SinkSlowPath  # noqa: E402
from network import Host, Network  # noqa: E402
from network.overlay import TunnelFlow, TunnelSink  # noqa: E402
from network.spp import SPP, ExternalInterface, GPESpec  # noqa: E402
from network.wire import wire_bytes  # noqa: E402

IF0, IF1, H1, H2 = "64.57.23.210", "64.57.23.214", "64.57.23.209", "64.57.23.213"
H1_MAC, H2_MAC = "02:00:00:00:01:02", "02:00:00:00:02:02"
SIZES = (64, 128, 256, 512, 1024, 1472)
#: the forwarding slice's output MI: all the NPE's bandwidth but its MI 0's and input MI's
OUT_KBPS = 10_000_000 - 2000 - 10_000


def node(rate: float = 10e9) -> tuple[Network, SPP, Host, Host]:
    net = Network()
    spp = SPP(net, "spp", [ExternalInterface(f"{IF0}/30", "02:5b:00:00:00:01", int(rate), peer=H1, peer_mac=H1_MAC),
                           ExternalInterface(f"{IF1}/30", "02:5b:00:00:00:02", int(rate), peer=H2, peer_mac=H2_MAC)],
              gpes=[GPESpec(cores=2.0)])
    h1 = net.add_node(Host("h1", f"{H1}/30", H1_MAC, tx_queue=100_000))
    h2 = net.add_node(Host("h2", f"{H2}/30", H2_MAC, tx_queue=100_000))
    h1.arp[bytes(map(int, IF0.split(".")))] = (bytes.fromhex("025b00000001"), float("inf"))
    h2.arp[bytes(map(int, IF1.split(".")))] = (bytes.fromhex("025b00000002"), float("inf"))
    net.add_link("h1", 0, *spp.port(0), rate_bps=rate, delay_ns=1000)
    net.add_link("h2", 0, *spp.port(1), rate_bps=rate, delay_ns=1000)
    return net, spp, h1, h2


def ipv4_slice(spp: SPP, name: str, port: int, *, fastpath: bool, mi_kbps: int, share: float = 1.0,
               out_kbps: int | None = None):
    """A slice forwarding site 1's overlay prefix 10.2.0.0/16 to h2 (its fast path, or its slow path)."""
    sp = IPv4SlowPath(routes=[{"prefix": "10.2.0.0/16", "next_hop": f"{H2}:{port}", "via": f"{IF1}:{port}"}])
    api = spp.add_slice(name, sp if not fastpath else SinkSlowPath(), gpe_share=share, queue=1024)
    e1, e2 = api.alloc_endpoint(IF0, port), api.alloc_endpoint(IF1, port)
    if not fastpath:                       # what the slow path sends leaves at the GPE-path rate it reserved
        api.resrv_pl_ifbw(1, 2 * mi_kbps)
    if fastpath:
        in_kbps = mi_kbps if out_kbps is None else 10_000          # MI rates pace what leaves by the MI
        out = mi_kbps if out_kbps is None else out_kbps
        fp = api.alloc_fastpath("ipv4", firm=in_kbps + out + 2000, fltrs=4, qs=4, stats=4, buffs=4096, sram=4096)
        api.create_mi(fp, 0, kbps=2000)
        api.create_mi(fp, 1, e1, kbps=in_kbps)
        api.create_mi(fp, 2, e2, kbps=out)
        for q, mi in ((0, 1), (1, 2), (2, 0), (3, 0)):
            api.bind_queue(fp, q, mi, threshold=1 << 20)
        api.write_fltr(fp, {"in_mi": 1, "dst": "10.2.0.0/16"}, {"mi": 2, "queue": 1, "stats": 0,
                                                                 "next_hop": f"{H2}:{port}"})
    spp.boot()
    return api


def flow(h1: Host, h2: Host, port: int, size: int, rate: float, ms: float, fid: int, sink=None,
         start_ns: float = 10_000) -> TunnelFlow:
    sink = sink or TunnelSink(h2, port, "ipv4")
    return TunnelFlow(h1, (IF0, port), sport=port, start_ns=start_ns, rate_bps=rate, size=size, duration_ms=ms,
                      flow_id=fid, inner_src="10.1.0.5", inner_dst="10.2.0.5", sink=sink)


def wire_rate(size: int, rate: float) -> float:
    """Overlay-byte rate that fills a wire of ``rate`` b/s with tunnel packets of ``size`` overlay bytes."""
    return rate * size / wire_bytes(14 + 28 + size)


def forwarding(size: int, fastpath: bool, ms: float) -> dict:
    net, spp, h1, h2 = node()
    ipv4_slice(spp, "s", 30000, fastpath=fastpath, mi_kbps=4_900_000, out_kbps=OUT_KBPS)
    full = wire_rate(size, 10e9)
    f = flow(h1, h2, 30000, size, full if fastpath else min(full, 8 * size * 400_000), ms, 1)
    t0 = time.perf_counter()
    net.run(duration_ns=ms * 1e6 + 2e6)
    wall = time.perf_counter() - t0
    rate = f.rate_pps(skip=min(100, f.received // 10))
    net2, spp2, g1, g2 = node()
    ipv4_slice(spp2, "s", 30000, fastpath=fastpath, mi_kbps=4_900_000, out_kbps=OUT_KBPS)
    light = flow(g1, g2, 30000, size, max(rate, 1.0) * size * 8 * 0.01, 2.0 if fastpath else 20.0, 1)
    net2.run(duration_ns=(2.0 if fastpath else 20.0) * 1e6 + 2e6)
    lat = light.latencies_ns()
    assert net.conservation().ok and net2.conservation().ok, "conservation violated"
    events = f.sent + f.received + spp.npe_nodes[0].asm.conservation().transmitted
    return {"mpps": rate / 1e6, "latency_us": float(sorted(lat)[len(lat) // 2]) / 1e3 if len(lat) else None,
            "sent": f.sent, "received": f.received, "wall_s": wall, "events": events}


def isolation(ms: float) -> dict:
    res = {}
    for flood in (False, True):
        net, spp, h1, h2 = node()
        ipv4_slice(spp, "a", 30001, fastpath=True, mi_kbps=100_000, share=0.5)
        ipv4_slice(spp, "b", 30002, fastpath=True, mi_kbps=100_000, share=0.5)
        size = 500
        reserved_bps = 100e6
        b = flow(h1, h2, 30002, size, 0.9 * reserved_bps * size / (14 + 28 + size + 24), ms, 2)
        if flood:
            flow(h1, h2, 30001, size, 10 * reserved_bps, ms, 1)
        net.run(duration_ns=ms * 1e6 + 2e6)
        assert net.conservation().ok
        lat = b.latencies_ns()
        res[flood] = {"throughput_bps": b.received * size * 8 / (ms * 1e-3), "received": b.received,
                      "sent": b.sent, "latency_us": float(sorted(lat)[len(lat) // 2]) / 1e3}
    dev = abs(res[True]["throughput_bps"] - res[False]["throughput_bps"]) / 100e6
    return {"bandwidth_deviation": round(dev, 4),
            "latency_ratio": round(res[True]["latency_us"] / res[False]["latency_us"], 4),
            "b_alone": res[False], "b_with_flood": res[True]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sim-ms", type=float, default=2.0, help="simulated ms of offered load per run")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    fp, gpe, fpl, gpel = {}, {}, {}, {}
    events = wall = 0.0
    for s in sizes:
        r = forwarding(s, True, a.sim_ms)
        g = forwarding(s, False, a.sim_ms)
        fp[s], gpe[s] = round(r["mpps"], 4), round(g["mpps"], 6)
        fpl[s], gpel[s] = r["latency_us"], g["latency_us"]
        events += r["events"]
        wall += r["wall_s"]
        print(f"{s:5d} B  fast path {r['mpps']:.3f} Mpps, {r['latency_us']:.1f} us   "
              f"GPE {g['mpps'] * 1e3:.1f} kpps, {g['latency_us']:.1f} us   "
              f"speedup {r['mpps'] / g['mpps'] if g['mpps'] else float('nan'):.0f}x")
    iso = isolation(a.sim_ms * 5)
    print(f"isolation: B's throughput moved by {100 * iso['bandwidth_deviation']:.2f} % of its reservation, "
          f"latency x{iso['latency_ratio']:.3f} under A's 10x flood")
    out = {"fastpath_mpps": fp, "gpe_mpps": gpe, "speedup": {s: round(fp[s] / gpe[s], 2) if gpe[s] else None for s in sizes},
           "fastpath_latency_us": fpl, "gpe_latency_us": gpel, "isolation": iso,
           "sim_pps": round(events / wall) if wall else None}
    if out["sim_pps"]:
        print(f"simulator: {out['sim_pps']:,} simulated packets per wall-second")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
