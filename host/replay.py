"""Replay captures through a configured router (``vrouter-hil run``).

Which port a frame enters (the multi-port convention):

* ``PORT=FILE`` -- every frame of FILE enters port PORT;
* ``FILE`` in pcapng -- the interface a frame was captured on is its port
  (the "port column"): an interface named ``portN``, ``ethN``, ``ifN`` or
  ``N`` is port N, any other name is the interface's index in the file;
* ``FILE`` in classic pcap -- port 0.

Timing: by default each frame arrives at its capture time less the
earliest capture time of all inputs (frames that overlap on one wire are
serialised at the port's rate); ``rate_pps`` instead offers the frames in
time order at that many frames per second in all.

Outputs in the output folder: ``port<N>.pcap`` per port (nanosecond pcap,
time = first bit on the wire), ``host.pcapng`` (frames the control
processor handed to the host, time = hand-over, comment = reason and
ports), and ``stats.json`` (per port, queue, ME, ring, memory, exception,
drop and slow-path figures, and the conservation check). Output times are
the input's time base plus simulated time.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .pcap import Capture, CaptureError, read_capture, write_pcap, write_pcapng
from .router import Router

__all__ = ["ReplayInput", "ReplayError", "parse_input", "load_inputs", "replay", "summary"]

_PORT_NAME = re.compile(r"^(?:port|eth|if)?(\d+)$")
MAX_FRAME = 16384


class ReplayError(ValueError):
    """Inputs that cannot be replayed through this router."""


@dataclass(frozen=True)
class ReplayInput:
    path: str
    port: int | None = None

    def __str__(self) -> str:
        return self.path if self.port is None else f"{self.port}={self.path}"


def parse_input(arg: str) -> ReplayInput:
    """``FILE`` or ``PORT=FILE``."""
    m = re.match(r"^(\d+)=(.+)$", arg)
    return ReplayInput(m.group(2), int(m.group(1))) if m else ReplayInput(arg)


@dataclass
class Frames:
    """All input frames merged in time order."""

    t_ns: np.ndarray                  # relative to t0_ns
    ports: np.ndarray
    frames: list[bytes]
    t0_ns: int
    per_input: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)


def _ports_of(cap: Capture, inp: ReplayInput, n_ports: int) -> list[int]:
    if inp.port is not None:
        return [inp.port] * len(cap)
    if cap.fmt != "pcapng":
        return [0] * len(cap)
    mapping = []
    for i, name in enumerate(cap.iface_names):
        m = _PORT_NAME.match(name)
        mapping.append(int(m.group(1)) if m else i)
    return [mapping[k] for k in cap.ifaces]


def load_inputs(inputs: Sequence[ReplayInput], n_ports: int, *, rate_pps: float | None = None) -> Frames:
    """Read, assign ports, merge in time order and time the frames."""
    if not inputs:
        raise ReplayError("no input capture given")
    times: list[int] = []
    ports: list[int] = []
    frames: list[bytes] = []
    info = []
    for inp in inputs:
        if inp.port is not None and not 0 <= inp.port < n_ports:
            raise ReplayError(f"{inp}: port {inp.port} does not exist; valid ports: 0..{n_ports - 1}")
        try:
            cap = read_capture(inp.path)
        except CaptureError as e:
            raise ReplayError(str(e)) from None
        ps = _ports_of(cap, inp, n_ports)
        for k, (p, f) in enumerate(zip(ps, cap.frames)):
            if not 0 <= p < n_ports:
                name = cap.iface_names[cap.ifaces[k]]
                raise ReplayError(f"{inp.path}: frame {k} was captured on interface {name!r}, which maps to "
                                  f"port {p}; the router has ports 0..{n_ports - 1} (give PORT={inp.path})")
            if len(f) > MAX_FRAME:
                raise ReplayError(f"{inp.path}: frame {k} has {len(f)} bytes, more than any Ethernet frame")
        counts = np.bincount(np.asarray(ps, dtype=np.int64), minlength=n_ports) if ps else np.zeros(n_ports, int)
        info.append({"file": inp.path, "format": cap.fmt, "frames": len(cap),
                     "port": inp.port if inp.port is not None else ("interface" if cap.fmt == "pcapng" else 0),
                     "per_port": {f"port{i}": int(c) for i, c in enumerate(counts) if c}})
        times += cap.times_ns
        ports += ps
        frames += cap.frames
    t = np.asarray(times, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t0 = int(t.min()) if len(t) else 0
    t_rel = (t[order] - t0).astype(np.float64)
    if rate_pps is not None:
        if not rate_pps > 0:
            raise ReplayError(f"rate must be > 0 frames/s, got {rate_pps}")
        t_rel = np.arange(len(t), dtype=np.float64) * (1e9 / rate_pps)
    return Frames(t_rel, np.asarray(ports, dtype=np.int64)[order], [frames[i] for i in order], t0, info)


def replay(router: Router, frames: Frames, *, out_dir: str | None = None, drain_ms: float | None = None,
           chunk: int = 4096, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the frames through the router, then until it has nothing left to do
    (at most ``drain_ms`` after the last frame; default: long enough for ARP to
    give up); write the outputs to ``out_dir``. Returns the statistics."""
    r, sp = router.npr, router.slow_path
    r.record_drops(True)
    wall0 = time.perf_counter()
    n = len(frames)
    start_ns = r.now_ns
    fed = 0
    while fed < n:
        hi = min(n, fed + chunk)
        r.send(frames.frames[fed:hi], port=frames.ports[fed:hi], at_ns=frames.t_ns[fed:hi] + start_ns)
        nxt = frames.t_ns[hi] + start_ns if hi < n else None
        if nxt is not None:
            _run_reporting(r, nxt, frames, start_ns, progress)
        fed = hi
    last = float(frames.t_ns[-1]) + start_ns if n else r.now_ns
    # + the longest frame's time on the slowest wire, so the last frame has fully arrived
    slowest = min(pc.rate_bps for pc in r.ports)
    _run_reporting(r, last + (MAX_FRAME + 24) * 8e9 / slowest, frames, start_ns, progress)
    if drain_ms is None:
        cfg = sp.cfg
        drain_ms = cfg.arp_retries * cfg.arp_retry_ms + router.control.fib_install_ns / 1e6 * 4 + 50.0
    deadline = last + drain_ms * 1e6
    while r.engine.now < r.ns_to_cycles(deadline):
        busy = r.conservation().in_flight > 0 or not sp.idle or router.control.fib_pending
        if not busy:
            break
        in_core = r.conservation().in_flight > 0 or sp._busy or sp._queue
        step = 100_000.0 if in_core else min(sp.cfg.arp_retry_interval_ns / 4, 1e9)
        r.run(until_ns=min(deadline, r.now_ns + step))
    r.run(duration_ns=10_000)                       # let the last frames leave the wires
    wall = time.perf_counter() - wall0
    st = router.stats()
    st["replay"] = {"inputs": frames.per_input, "frames": n, "t0_ns": frames.t0_ns,
                    "input_span_ns": float(frames.t_ns[-1]) if n else 0.0, "simulated_ns": r.now_ns,
                    "wall_s": round(wall, 3), "drained": r.conservation().in_flight == 0 and sp.idle,
                    "drops_by_port": _drops_by_port(r)}
    if out_dir is not None:
        st["replay"]["outputs"] = write_outputs(router, frames.t0_ns - int(start_ns), out_dir, st)
    return st


def _run_reporting(r, until_ns: float, frames: Frames, start_ns: float, progress) -> None:
    """Run to ``until_ns`` in slices, telling ``progress`` how many frames have arrived."""
    while r.engine.now < r.ns_to_cycles(until_ns):          # in cycles: ns round-trips are inexact
        r.run(until_ns=min(until_ns, r.now_ns + 1_000_000.0))
        if progress is not None:
            progress(int(np.searchsorted(frames.t_ns + start_ns, r.now_ns, side="right")))


def _drops_by_port(r) -> dict[str, int]:
    recs = r.drop_records()
    out: dict[str, int] = {}
    for p in range(len(r.ports)):
        out[f"port{p}"] = int((recs["port"] == p).sum()) if len(recs) else 0
    return out


def write_outputs(router: Router, t_base_ns: int, out_dir: str, st: dict[str, Any]) -> dict[str, Any]:
    """port<N>.pcap, host.pcapng and stats.json in ``out_dir``."""
    r = router.npr
    os.makedirs(out_dir, exist_ok=True)
    files: dict[str, Any] = {}
    tx = r.transmitted()
    for p in range(len(r.ports)):
        path = os.path.join(out_dir, f"port{p}.pcap")
        files[f"port{p}.pcap"] = write_pcap(path, ((t_base_ns + int(round(t.t_start_ns)), t.data)
                                                   for t in tx if t.port == p))
    path = os.path.join(out_dir, "host.pcapng")
    files["host.pcapng"] = write_pcapng(path, (
        (t_base_ns + int(round(h.t_host_ns)), h.data,
         f"reason={h.reason} in_port={h.in_port}"
         + (f" out_port={h.out_port}" if h.reason in ("arp_needed", "mtu_exceeded") else "")
         + (f" next_hop={h.nh_ip}" if h.reason == "arp_needed" else ""))
        for h in r.host_packets()))
    files["stats.json"] = os.path.join(out_dir, "stats.json")
    st.setdefault("replay", {})["outputs"] = files
    with open(files["stats.json"], "w") as f:
        json.dump(st, f, indent=1, default=_json_default)
    return files


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    return str(x)


def summary(router: Router, st: dict[str, Any], config_path: str, out_dir: str | None) -> str:
    """One screen: what went in, what came out, what the host did, conservation."""
    r = router.npr
    rp = st["replay"]
    lines = [f"vrouter-hil run {config_path}: {len(r.ports)}-port NPR ({st['engine']} engine), "
             f"{rp['frames']} frames over {rp['input_span_ns'] / 1e6:.3f} ms, "
             f"simulated {rp['simulated_ns'] / 1e6:.3f} ms in {rp['wall_s']:.2f} s"]
    for i in rp["inputs"]:
        pp = ", ".join(f"{k} {v}" for k, v in i["per_port"].items()) or "no frames"
        lines.append(f"  input {i['file']} ({i['format']}, port {i['port']}): {pp}")
    lines += ["", f"{'port':<5}{'address':<19}{'rx pkts':>9}{'tx pkts':>9}{'tx Mb/s':>9}"
                  f"{'lat mean':>10}{'lat p99':>9}{'drops':>7}"]
    span = max(rp["input_span_ns"], 1e3)            # rates over the input's duration
    for i, pc in enumerate(r.ports):
        p = st["ports"][f"port{i}"]
        lat = p["latency_ns"]
        lines.append(f"{i:<5}{pc.address:<19}{p['rx_pkts']:>9}{p['tx_pkts']:>9}{p['tx_bytes'] * 8e3 / span:>9.1f}"
                     f"{lat['mean'] / 1e3:>8.2f}us{lat['p99'] / 1e3:>7.2f}us{rp['drops_by_port'][f'port{i}']:>7}")
    h = st["host"]
    icmp = {k[5:]: v for k, v in h.items() if k.startswith("icmp.") and v and not k.startswith("icmp.suppressed")
            and k not in ("icmp.rate_limited", "icmp.bad_checksum", "icmp.echo_broadcast_ignored")}
    lines += ["", "exceptions: " + (", ".join(f"{k} {v}" for k, v in st["exceptions"].items()) or "none"),
              f"slow path: received {h['slowpath.received']}, processed {h['slowpath.processed']}, "
              f"queue-full drops {h['slowpath.queue_full_drops']}, busy {h['slowpath.busy_ns'] / 1e6:.3f} ms",
              "  ICMP sent: " + (", ".join(f"{k} {v}" for k, v in icmp.items()) or "none")
              + f"; rate-limited {h['icmp.rate_limited']}, suppressed "
              + str(sum(v for k, v in h.items() if k.startswith("icmp.suppressed"))),
              f"  ARP: requests sent {h['arp.requests_sent']}, replies sent {h['arp.replies_sent']}, "
              f"resolved {h['arp.resolved']}, failed {h['arp.failed']}, held {h['arp.held']}, "
              f"released {h['arp.released']}, dropped {h['arp.timeout_drops'] + h['arp.hold_overflow_drops']}",
              f"  non-IP dropped {h['non_ip.drops']}, options forwarded {h['options.forwarded']}, "
              f"fragmented {h['frag.datagrams']}",
              "drops: " + (", ".join(f"{k} {v}" for k, v in st["drops"].items()) or "none")]
    c = st["conservation"]
    lines.append(f"conservation: arrived {c['arrived']} + injected {c['injected']} + copies {c['copies']} = "
                 f"transmitted {c['transmitted']} + to host {c['to_host']} + dropped {c['dropped']} + in flight "
                 f"{c['in_flight']}  " + ("[ok]" if c["ok"] else "[VIOLATED]"))
    if not rp.get("drained", True):
        lines.append("note: the router still had work when the drain time ran out (raise --drain-ms)")
    if out_dir is not None:
        outs = rp.get("outputs", {})
        lines.append(f"outputs in {out_dir}: " + ", ".join(
            f"{k} ({v})" for k, v in outs.items() if k != "stats.json") + ", stats.json")
    return "\n".join(lines)
