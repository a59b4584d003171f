"""Run a topology and write its outputs (``vrouter-hil net``).

Outputs in ``out_dir``:

* ``links/<link>.pcapng``: every frame each end sent, one interface per
  link end (network.capture), when ``capture`` is on;
* ``results.json``: each tool's result (ping, traceroute, UDP flow
  receiver reports, replays);
* ``nodes/<node>/stats.json``: each node's statistics and ledger (a
  router's: the NPR's statistics, its slow path's and control plane's
  counters and its own conservation check);
* ``summary.json``: run, synchronisation, events, results and the
  network's conservation account.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Callable

from .assembly_node import AssemblyNode
from .capture import LinkCapture
from .router import RouterNode
from .topology import Topology

__all__ = ["run_topology", "summary_text"]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def run_topology(topo: Topology, duration_ms: float, out_dir: str | os.PathLike | None = None, *,
                 window_ns: float | None = None, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Run ``topo`` for ``duration_ms`` of simulated time; write the outputs
    to ``out_dir`` (if given) and return the summary."""
    net = topo.network
    if out_dir is not None and topo.capture:
        os.makedirs(os.path.join(out_dir, "links"), exist_ok=True)
        for lk in net.links:
            lk.capture = LinkCapture(os.path.join(out_dir, "links", f"{_safe(lk.name)}.pcapng"),
                                     list(lk.end_names), f"link {lk.name}: {lk.rate_bps:g} b/s, "
                                     f"{lk.delay_ns:g} ns, MTU {lk.mtu}")
    try:
        net.run(duration_ms * 1e6, window_ns=window_ns or topo.window_ns, progress=progress)
    finally:
        net.close()
    results = [t.result() for t in topo.tools]
    cons = net.conservation()
    accounts = {n: node.npr_account() for n, node in net.nodes.items() if isinstance(node, RouterNode)}
    accounts.update({n: node.account() for n, node in net.nodes.items() if isinstance(node, AssemblyNode)})
    # a router's own check is exact at rest; in flight it may scan a frame twice (RouterNode.npr_account)
    routers_ok = {n: (a["ok"] if a["at_rest"] else a["double_ends"] == 0) for n, a in accounts.items()}
    summary = {
        "topology": topo.source, "duration_ms": duration_ms, "simulated_ns": net.now,
        "window_ns": window_ns or topo.window_ns or net.min_delay_ns, "windows": net.windows,
        "wall_s": round(net.wall_s, 3), "sync_overhead": round(net.sync_overhead(), 4), "capture": topo.capture,
        "nodes": {n: node.kind for n, node in net.nodes.items()},
        "links": {lk.name: lk.stats() for lk in net.links},
        "events": net.event_log, "results": results,
        "spps": {n: spp.report() for n, spp in topo.spps.items()},
        "conservation": {**cons.as_dict(), "routers_ok": routers_ok, "routers": accounts},
        "ok": cons.ok and all(routers_ok.values()),
    }
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        for n, node in net.nodes.items():
            d = os.path.join(out_dir, "nodes", _safe(n))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "stats.json"), "w") as f:
                json.dump(node.stats(), f, indent=1, default=str)
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
        with open(os.path.join(out_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
    return summary


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f} ms"


def summary_text(s: dict[str, Any], out_dir: str | None = None) -> str:
    """One screen: the run, each tool's result, drops, conservation."""
    lines = [f"network {s['topology']}: {len(s['nodes'])} nodes, {len(s['links'])} links, "
             f"{s['duration_ms']:g} ms simulated in {s['wall_s']:.2f} s wall "
             f"({s['windows']} windows of {s['window_ns']:g} ns, synchronisation overhead "
             f"{100 * s['sync_overhead']:.1f} %)"]
    for r in s["results"]:
        if r["tool"] == "ping":
            rt = r["rtt_ms"]
            lines.append(f"  ping {r['host']} -> {r['dst']}: {r['sent']} sent, {r['received']} received, "
                         f"{r['loss_pct']:g} % loss" + (f", rtt min/avg/max {rt['min']:.3f}/{rt['avg']:.3f}/"
                                                        f"{rt['max']:.3f} ms" if rt else ""))
        elif r["tool"] == "traceroute":
            lines.append(f"  traceroute {r['host']} -> {r['dst']}: " + ("reached" if r["reached"] else "NOT reached"))
            for h in r["hops"]:
                rtts = " ".join(_ms(p["rtt_ms"]) if p["rtt_ms"] is not None else "*" for p in h["probes"])
                lines.append(f"    {h['ttl']:>2}  {h['addr'] or '*':<15} {rtts}")
        elif r["tool"] == "udp":
            head = f"  udp {r['src']} -> {r['dst']}:{r['dport']} {r['rate_bps'] / 1e6:g} Mb/s x {r['size']} B: " \
                   f"{r['sent']} sent"
            if r.get("receiver") is None:
                lines.append(head + " (no receiver in the network)")
            else:
                lat = r["latency_ns"]
                lines.append(head + f", {r['received']} received ({r['loss_pct']:g} % loss), "
                             f"{r['throughput_bps'] / 1e6:.2f} Mb/s, reordered {r['reordered']}"
                             + (f", one-way latency p50 {lat['p50'] / 1e3:.2f} us p99 {lat['p99'] / 1e3:.2f} us"
                                if lat else ""))
        elif r["tool"] == "tunnel":
            head = f"  tunnel {r['name']} {r['src']} -> {r['to']} ({r['overlay']}) {r['rate_bps'] / 1e6:g} Mb/s x " \
                   f"{r['size']} B: {r['sent']} sent"
            if r.get("receiver") is None:
                lines.append(head + " (no receiver)")
            else:
                lat = r["latency_ns"]
                lines.append(head + f", {r['received']} received at {r['receiver']} ({r['loss_pct']:g} % loss), "
                             f"{r['throughput_bps'] / 1e6:.2f} Mb/s"
                             + (f", one-way latency p50 {lat['p50'] / 1e3:.2f} us p99 {lat['p99'] / 1e3:.2f} us"
                                if lat else ""))
        else:
            lines.append(f"  replay {r['host']}: {r['sent']} of {r['frames']} frames sent from {r['file']}")
    for e in s["events"]:
        what = e.get("link") or e.get("node")
        res = f" -> {e['error']}" if "error" in e else ""
        lines.append(f"  event at {e['t_ns'] / 1e6:g} ms: {what} {e['action']}{res}")
    for n, sp in s.get("spps", {}).items():
        for sl, v in sp["srm"]["slices"].items():
            lines.append(f"  spp {n} slice {sl}: gpe{v['gpe']} x{v['gpe_share']:g} cores, endpoints "
                         f"{', '.join(v['endpoints']) or 'none'}, fast paths {v['fastpaths'] or 'none'}")
    c = s["conservation"]
    if c["drops"]:
        lines.append("  drops: " + ", ".join(f"{k} {v}" for k, v in sorted(c["drops"].items())))
    lines.append(f"  conservation: created {c['created']} = delivered {c['delivered']} + dropped {c['dropped']} "
                 f"+ held {c['held']}: {'OK' if s['ok'] else 'VIOLATED ' + ', '.join(c['unbalanced'])}")
    if out_dir:
        lines.append(f"  outputs in {out_dir}: summary.json, results.json, nodes/*/stats.json"
                     + (", links/*.pcapng" if s.get("capture") else ""))
    return "\n".join(lines)
