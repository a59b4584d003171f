"""The default scenario ``vrouter-hil demo`` runs.

A 5-port NPR as a core router between five neighbours: port i is
10.0.i.1/24, its neighbour 10.0.i.2 (static ARP) leads to 192.168.i.0/24.
Each input port offers IMIX traffic spread over the other four networks,
plus a little traffic the fast path cannot forward (TTL 1, no route) and
a few frames with a bad IPv4 checksum -- so the report shows forwarding,
exceptions to the control processor and named drops side by side.
"""
from __future__ import annotations

import time
from typing import Any

from .assemblies import NPR
from .traffic import IMIX, Stream, build

__all__ = ["build_demo_router", "run_demo"]


def build_demo_router(engine: str = "c") -> NPR:
    r = NPR(engine=engine)
    for i in range(5):
        r.set_arp(f"10.0.{i + 1}.2", f"02:00:00:00:{i + 1:02x}:02")
        r.add_route(f"192.168.{i + 1}.0/24", port=i, next_hop=f"10.0.{i + 1}.2")
    r.record_drops(True)
    return r


def demo_streams(load: float) -> list[Stream]:
    streams = []
    for i in range(5):
        mac = f"02:00:00:00:00:{i + 1:02x}"
        src = f"192.168.{i + 1}.0/24"
        for k in range(1, 5):
            streams.append(Stream(i, f"192.168.{(i + k) % 5 + 1}.0/24", src, mac, load=load * 0.97 / 4,
                                  sizes=IMIX, bad_checksum=0.002))
        streams.append(Stream(i, f"192.168.{(i + 1) % 5 + 1}.0/24", src, mac, load=load * 0.015, ttl=1))
        streams.append(Stream(i, "172.16.0.0/16", src, mac, load=load * 0.015))
    return streams


def run_demo(duration_ms: float = 10.0, load: float = 0.8, engine: str = "c", seed: int = 1) -> dict[str, Any]:
    """Run the demo; ``duration_ms`` of traffic in (0, 1000], ``load`` in (0, 1],
    ``seed`` 0..2**32-1 (``ValueError`` names the bad value and the range)."""
    for name, v, lo, hi in (("duration_ms", duration_ms, 0.0, 1000.0), ("load", load, 0.0, 1.0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v <= hi:
            raise ValueError(f"{name} must be a number in ({lo:g}, {hi:g}], got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer 0..{2**32 - 1}, got {seed!r}")
    if engine not in ("c", "py"):
        raise ValueError(f"engine must be c or py, got {engine!r}")
    r = build_demo_router(engine)
    batch = build(demo_streams(load), duration_ms * 1e6, seed=seed)
    r.feed_arrays(batch.t_cycles, batch.ports, batch.lens, batch.offsets, batch.data)
    t0 = time.perf_counter()
    r.run(duration_ns=duration_ms * 1e6)
    r.run_until_idle()                                  # drain: stop when the last packet is out
    wall = time.perf_counter() - t0
    st = r.stats()
    st["wall_s"] = round(wall, 3)
    st["sim_pps"] = round(len(batch) / wall) if wall else 0
    return {"stats": st, "text": _report(r, st, duration_ms, load, len(batch), wall)}


def _report(r: NPR, st: dict[str, Any], duration_ms: float, load: float, n: int, wall: float) -> str:
    drops_by_port = [0] * len(r.ports)
    for d in r.drop_records():
        drops_by_port[int(d["port"])] += 1
    lines = [f"NPR on a cycle-level IXP2800 ({st['engine']} engine): 5 x 1 Gb/s, IMIX at {load:.0%} "
             f"offered load, {duration_ms:g} ms simulated",
             "",
             f"{'port':<5}{'address':<15}{'rx pkts':>9}{'tx pkts':>9}{'tx Mb/s':>9}"
             f"{'lat mean':>10}{'lat p99':>9}{'drops':>7}"]
    for i, pc in enumerate(r.ports):
        p = st["ports"][f"port{i}"]
        lat = p["latency_ns"]
        mbps = p["tx_bytes"] * 8 / (duration_ms * 1e3)
        lines.append(f"{i:<5}{pc.address:<15}{p['rx_pkts']:>9}{p['tx_pkts']:>9}{mbps:>9.1f}"
                     f"{lat['mean'] / 1e3:>8.2f}us{lat['p99'] / 1e3:>7.2f}us{drops_by_port[i]:>7}")
    lines.append("")
    lines.append("exceptions to the control processor: "
                 + (", ".join(f"{k} {v}" for k, v in st["exceptions"].items()) or "none"))
    lines.append("drops: " + (", ".join(f"{k} {v}" for k, v in st["drops"].items()) or "none"))
    busy = ", ".join(f"{k} {v['busy_pct']:.0f}%" for k, v in st["mes"].items() if v["block"] not in ("idle",))
    lines.append(f"ME busy: {busy}")
    c = st["conservation"]
    lines.append(f"conservation: arrived {c['arrived']} = transmitted {c['transmitted']} + to host "
                 f"{c['to_host']} + dropped {c['dropped']} + in flight {c['in_flight']}  "
                 + ("[ok]" if c["ok"] else "[VIOLATED]"))
    lines.append(f"simulator: {n} packets in {wall:.2f} s wall = {n / wall:,.0f} simulated packets/s, "
                 f"{st['events'] / wall:,.0f} events/s" if wall else "")
    return "\n".join(lines)
