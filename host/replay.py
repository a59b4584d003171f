"""Replay captures through a configured router (``vrouter-hil run``), streaming.

Which port a frame enters (the multi-port convention):

* ``PORT=FILE`` -- every frame of FILE enters port PORT;
* ``FILE`` in pcapng -- the interface a frame was captured on is its port
  (the "port column"): an interface named ``portN``, ``ethN``, ``ifN`` or
  ``N`` is port N, any other name is the interface's index in the file;
* ``FILE`` in classic pcap -- port 0.

Timing: by default each frame arrives at its capture time less the
earliest capture time of all inputs (frames that overlap on one wire are
serialised at the port's rate); ``rate_pps`` instead offers the frames in
time order at that many frames per second in all. Each file is read in
time order within a window of ``REORDER_WINDOW`` frames; a frame further
out of order than that is offered at its predecessor's time and counted
(``late``). The inputs are merged in time order as they are read.

Streaming: files are read a record at a time, fed to the router a chunk
at a time, and outputs are written as the router produces them (the
router keeps no records: ``keep_records=False``), so memory does not grow
with the number of frames. Simulated time the router spends idle costs
nothing: the engine is event-driven and the replay runs straight to the
next frame, host timer or deadline. The router's clock covers about 74
days (``MAX_CYCLES``), so an idle gap longer than 10 minutes -- nothing in
the router, no host work, no host timer set (ARP entries have aged out) --
is simulated as 60 s: the rest is cut (``idle_cut_ns`` in the statistics),
and output times still follow the capture. A plug-in's periodic work is
not run in the time cut.

Input drops (outside the router, so not in its conservation account):
``truncated_capture`` -- a record the snap length cut (captured length <
length on the wire), unless ``truncated="keep"`` offers the short frame;
``oversize_frame`` -- a record longer than ``MAX_FRAME`` bytes (no
Ethernet port receives it; e.g. a segment a NIC's offload coalesced).

Outputs in the output folder: ``port<N>.pcap`` per port (nanosecond pcap,
time = first bit on the wire), ``host.pcapng`` (frames the control
processor handed to the host, time = hand-over, comment = reason and
ports), and ``stats.json`` (per port, queue, ME, ring, memory, exception,
drop and slow-path figures, the inputs, and the conservation check).
Output times are the input's time base plus simulated time.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import json
import math
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .pcap import MAX_PCAP_SECONDS, CaptureError, CaptureReader, PcapngWriter, PcapWriter
from .router import Router

__all__ = ["ReplayInput", "ReplayError", "Inputs", "parse_input", "load_inputs", "check_out_dir", "replay",
           "summary", "TRUNCATED_CHOICES", "RATE_RANGE", "DRAIN_MS_MAX", "REORDER_WINDOW", "MAX_FRAME"]

_PORT_NAME = re.compile(r"^(?:port|eth|if)?(\d+)$")
MAX_FRAME = 16384                     # the core's largest frame
REORDER_WINDOW = 1024                 # frames per file sorted by time before they are offered
TRUNCATED_CHOICES = ("drop", "keep")
RATE_RANGE = (1e-3, 1e10)             # --rate, frames/s
DRAIN_MS_MAX = 86_400_000.0           # --drain-ms at most one simulated day
# The core keeps wire and memory-server times in 1/NP_SUB cycles in 64 bits (NP_SUB = 1024), so its
# clock is good for 2**64 / 1024 cycles (about 152 days at 1.4 GHz); a replay uses at most half of that.
MAX_CYCLES = 2**53
IDLE_CUT_NS = 600 * 10**9             # an idle gap longer than 10 minutes ...
IDLE_KEEP_NS = 60 * 10**9             # ... is simulated as 60 s (see _idle)


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


class _Source:
    """One input file: its reader, port mapping, time-order window and counts."""

    def __init__(self, inp: ReplayInput, idx: int, n_ports: int, truncated: str):
        self.inp, self.idx, self.n_ports, self.truncated_policy = inp, idx, n_ports, truncated
        try:
            self.reader = CaptureReader(inp.path)
        except CaptureError as e:
            raise ReplayError(str(e)) from None
        self.read = 0
        self.per_port = [0] * n_ports
        self.truncated = 0
        self.dropped: collections.Counter[str] = collections.Counter()
        self.late = 0

    @property
    def path(self) -> str:
        return self.inp.path

    def _iface_port(self, iface: int, index: int) -> int:
        name = self.reader.iface_names[iface]
        m = _PORT_NAME.match(name)
        p = int(m.group(1)) if m else iface
        if not 0 <= p < self.n_ports:
            raise ReplayError(f"{self.path}: frame {index} was captured on interface {name!r}, which maps to "
                              f"port {p}; the router has ports 0..{self.n_ports - 1} (give PORT={self.path})")
        return p

    def frames(self) -> Iterator[tuple[int, int, int, int, bytes, int]]:
        """(time ns, input, order, port, frame, index in file), time non-decreasing."""
        heap: list[tuple[int, int, int, bytes]] = []
        keep_truncated = self.truncated_policy == "keep"
        fixed = self.inp.port if self.inp.port is not None else (0 if self.reader.fmt == "pcap" else None)
        ports: dict[int, int] = {}                 # pcapng interface -> port
        push, pushpop, pop = heapq.heappush, heapq.heappushpop, heapq.heappop
        dropped = self.dropped
        per_port = self.per_port
        idx = self.idx
        last = None
        k = 0
        try:
            for t, data, orig, iface, index in self.reader:
                self.read += 1
                n = len(data)
                if orig > n:
                    self.truncated += 1
                    if not keep_truncated:
                        dropped["truncated_capture"] += 1
                        continue
                if n > MAX_FRAME:
                    dropped["oversize_frame"] += 1
                    continue
                if fixed is not None:
                    port = fixed
                else:
                    port = ports.get(iface)
                    if port is None:
                        port = ports[iface] = self._iface_port(iface, index)
                item = (t, index, port, data)
                if len(heap) < REORDER_WINDOW:
                    push(heap, item)
                    continue
                t, index, port, data = pushpop(heap, item)
                if last is not None and t < last:
                    self.late += 1
                    t = last
                last = t
                k += 1
                per_port[port] += 1
                yield t, idx, k, port, data, index
        except CaptureError as e:
            raise ReplayError(str(e)) from None
        while heap:
            t, index, port, data = pop(heap)
            if last is not None and t < last:
                self.late += 1
                t = last
            last = t
            k += 1
            per_port[port] += 1
            yield t, idx, k, port, data, index

    @property
    def offered(self) -> int:
        return sum(self.per_port)

    def info(self) -> dict[str, Any]:
        fmt = self.reader.fmt
        return {"file": self.path, "format": fmt,
                "port": self.inp.port if self.inp.port is not None else ("interface" if fmt == "pcapng" else 0),
                "frames": self.read, "offered": self.offered, "truncated": self.truncated,
                "truncated_policy": self.truncated_policy, "dropped": dict(self.dropped), "late": self.late,
                "per_port": {f"port{i}": c for i, c in enumerate(self.per_port) if c}}


class Inputs:
    """Opened captures, merged in time order as they are read (see module doc).

    Opening reads the file headers and the first ``REORDER_WINDOW`` frames of
    each, so format errors are found before the run starts.
    """

    def __init__(self, sources: list[_Source], rate_pps: float | None):
        self.sources = sources
        self.rate_pps = rate_pps
        heads: list[tuple[tuple, Iterator]] = []
        for s in sources:
            it = s.frames()
            first = next(it, None)
            if first is not None:
                heads.append((first, it))
        self.t0_ns = min((h[0][0] for h in heads), default=0)
        its = [itertools.chain([first], it) for first, it in heads]
        self._merged: Iterator = its[0] if len(its) == 1 else heapq.merge(*its) if its else iter(())

    def __iter__(self) -> Iterator[tuple[int, int, int, int, bytes, int]]:
        return self._merged

    @property
    def bytes_total(self) -> int | None:
        sizes = [s.reader.size for s in self.sources]
        return None if any(x is None for x in sizes) else sum(sizes)

    @property
    def bytes_read(self) -> int:
        return sum(s.reader.pos for s in self.sources)

    def close(self) -> None:
        for s in self.sources:
            s.reader.close()

    def info(self) -> list[dict[str, Any]]:
        return [s.info() for s in self.sources]


def load_inputs(inputs: Sequence[ReplayInput], n_ports: int, *, rate_pps: float | None = None,
                truncated: str = "drop") -> Inputs:
    """Open the captures (checking ports, rate and formats); frames are read as the replay consumes them."""
    if not inputs:
        raise ReplayError("no input capture given")
    if truncated not in TRUNCATED_CHOICES:
        raise ReplayError(f"truncated records: {truncated!r} unknown; valid: {', '.join(TRUNCATED_CHOICES)}")
    if rate_pps is not None:
        lo, hi = RATE_RANGE
        if isinstance(rate_pps, bool) or not isinstance(rate_pps, (int, float)) or not lo <= rate_pps <= hi:
            raise ReplayError(f"rate must be {lo:g}..{hi:g} frames/s, got {rate_pps!r}")
    for inp in inputs:
        if not inp.path:
            raise ReplayError(f"--pcap {inp}: no file name")
        if inp.port is not None and not 0 <= inp.port < n_ports:
            raise ReplayError(f"{inp}: port {inp.port} does not exist; valid ports: 0..{n_ports - 1}")
    sources: list[_Source] = []
    try:
        for k, inp in enumerate(inputs):
            sources.append(_Source(inp, k, n_ports, truncated))
        return Inputs(sources, rate_pps)
    except BaseException:
        for s in sources:
            s.reader.close()
        raise


def check_out_dir(out_dir: str) -> None:
    """Create the output folder, or fail now (ReplayError) if it cannot hold the outputs."""
    if not out_dir:
        raise ReplayError("--out: no directory name")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ReplayError(f"--out {out_dir}: exists and is not a directory")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise ReplayError(f"--out {out_dir}: cannot create the directory: {e.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ReplayError(f"--out {out_dir}: the directory is not writable")


class _Outputs:
    """port<N>.pcap and host.pcapng, written as frames come out."""

    def __init__(self, out_dir: str, n_ports: int, f_me: int, t_base_ns: int):
        check_out_dir(out_dir)
        self.dir, self.f_me, self.t_base_ns = out_dir, f_me, t_base_ns
        self.ports: list[PcapWriter] = []
        # an earlier run into this folder with more ports left port<N>.pcap files this run would
        # not overwrite: they would read as this router's output, so they go
        for f in os.listdir(out_dir):
            m = re.fullmatch(r"port(\d+)\.pcap", f)
            if m and int(m.group(1)) >= n_ports:
                os.remove(os.path.join(out_dir, f))
        try:
            for p in range(n_ports):
                self.ports.append(PcapWriter(os.path.join(out_dir, f"port{p}.pcap")))
            self.host = PcapngWriter(os.path.join(out_dir, "host.pcapng"))
        except CaptureError as e:
            self.close()
            raise ReplayError(f"--out {out_dir}: {e}") from None

    def ns(self, cycles: np.ndarray) -> np.ndarray:
        """Exact output times (ns since the epoch) of cycle counts."""
        c = cycles.astype(np.uint64)
        f = np.uint64(self.f_me)
        sec, rem = c // f, c % f
        return sec * np.uint64(10**9) + (rem * np.uint64(10**9) + f // np.uint64(2)) // f

    def tx(self, batch) -> None:
        """Write a TxBatch: per port, records in order of their first bit, as one block of pcap records."""
        recs = batch.records
        cap = np.frombuffer(batch.capture, dtype=np.uint8)
        t = self.ns(recs["t_start"])
        base = self.t_base_ns
        lo, hi = base + int(t.min()), base + int(t.max())
        if lo < 0 or hi >= (MAX_PCAP_SECONDS + 1) * 10**9:
            bad = lo if lo < 0 else hi
            raise ReplayError(f"{self.dir}: an output frame's time, {bad} ns since the epoch, is outside what a "
                              "classic pcap holds (0 .. 2**32 s): the capture's times are out of that range")
        t = t + np.uint64(base)
        ports = recs["port"]
        lens = np.where((recs["flags"] & 4) != 0, recs["len"], 0).astype(np.int64)
        for p in np.unique(ports):
            idx = np.flatnonzero(ports == p)
            idx = idx[np.argsort(t[idx], kind="stable")]
            try:
                self.ports[int(p)].write_many(t[idx], cap, recs["cap_off"][idx].astype(np.int64), lens[idx])
            except CaptureError as e:
                raise ReplayError(str(e)) from None

    def host_packet(self, hp) -> None:
        comment = (f"reason={hp.reason} in_port={hp.in_port}"
                   + (f" out_port={hp.out_port}" if hp.reason in ("arp_needed", "mtu_exceeded") else "")
                   + (f" next_hop={hp.nh_ip}" if hp.reason == "arp_needed" else ""))
        try:
            self.host.write(self.t_base_ns + int(round(hp.t_host_ns)), hp.data, comment)
        except CaptureError as e:
            raise ReplayError(str(e)) from None

    def files(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"port{p}.pcap": w.n for p, w in enumerate(self.ports)}
        out["host.pcapng"] = self.host.n
        return out

    def close(self) -> None:
        for w in self.ports:
            w.close()
        if hasattr(self, "host"):
            self.host.close()


def replay(router: Router, inputs: Inputs, *, out_dir: str | None = None, drain_ms: float | None = None,
           chunk: int = 4096, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run the inputs through the router, then until it has nothing left to do
    (at most ``drain_ms`` after the last frame; default: long enough for ARP to
    give up), writing the outputs to ``out_dir`` as they come. Returns the
    statistics (``router.stats()`` plus ``replay``). ``progress(bytes_read,
    frames_offered)`` is called after every chunk.

    Build the router with ``keep_records=False`` for a long replay: the
    outputs are streamed, and records kept besides cost memory.
    """
    wall0 = time.perf_counter()
    r, sp, cp = router.npr, router.slow_path, router.control
    if drain_ms is not None:
        if isinstance(drain_ms, bool) or not isinstance(drain_ms, (int, float)) \
                or not 0 <= drain_ms <= DRAIN_MS_MAX:
            raise ReplayError(f"drain must be 0..{DRAIN_MS_MAX:.0f} ms, got {drain_ms!r}")
    start_ns = r.now_ns
    max_sim_ns = r.cycles_to_ns(MAX_CYCLES) - DRAIN_MS_MAX * 1e6
    outs = _Outputs(out_dir, len(r.ports), r.f_me, inputs.t0_ns - int(start_ns)) if out_dir is not None else None
    drops_by_port = np.zeros(len(r.ports), dtype=np.int64)

    def count_drops(recs: np.ndarray) -> None:
        np.add.at(drops_by_port, recs["port"].astype(np.intp), 1)

    prev_handler, prev_sink, prev_drop_sink = r.host_handler, r.tx_sink, r.drop_sink
    if outs is not None:
        r.tx_sink = outs.tx

        def on_host(rr, hp) -> None:
            outs.host_packet(hp)
            if prev_handler is not None:
                prev_handler(rr, hp)
        r.host_handler = on_host
    r.drop_sink = count_drops
    r.record_drops(True)
    n = 0
    last_ns = start_ns                # simulated time of the last frame offered
    last_rel = 0.0                    # its time in the capture, from the first frame
    cut = 0                           # idle time not simulated, ns (integer: output times stay exact)
    arrived0 = r.conservation().arrived
    t0 = inputs.t0_ns
    rate = inputs.rate_pps
    src = inputs.sources
    try:
        stream = iter(inputs)
        pending = next(stream, None)
        while pending is not None:
            ts: list[float] = []
            ps: list[int] = []
            fs: list[bytes] = []
            while pending is not None and len(fs) < chunk:
                t, k, _, port, data, index = pending
                rel = (t - t0) if rate is None else n * (1e9 / rate)
                if fs and rel - last_rel > IDLE_CUT_NS:
                    break                     # a long gap ends the chunk: it may be cut below
                sim = start_ns + (rel - cut)
                if sim > max_sim_ns:
                    raise ReplayError(f"{src[k].path}: frame {index} arrives {rel / 1e9:.6g} s after the first "
                                      f"frame ({(sim - start_ns) / 1e9:.6g} s of router time once idle gaps are cut); "
                                      f"the router's clock reaches {max_sim_ns / 1e9:.6g} s at most")
                ts.append(sim)
                ps.append(port)
                fs.append(data)
                last_rel = rel
                n += 1
                pending = next(stream, None)
            _feed(r, ts, ps, fs)
            last_ns = ts[-1]
            if pending is not None:
                t = pending[0]
                rel = (t - t0) if rate is None else n * (1e9 / rate)
                nxt = start_ns + (rel - cut)
                if rel - last_rel > IDLE_CUT_NS and _idle(router, last_ns, nxt, arrived0 + n):
                    c = int(rel - cut - math.ceil(r.now_ns - start_ns) - IDLE_KEEP_NS)   # exact for integer times
                    if c > 0:
                        cut += c
                        nxt = start_ns + (rel - cut)
                        if outs is not None:
                            outs.t_base_ns += c
                _run_to(r, nxt)
            if progress is not None:
                progress(inputs.bytes_read, n)
        # + the longest frame's time on the slowest wire, so the last frame has fully arrived
        slowest = min(pc.rate_bps for pc in r.ports)
        _run_to(r, last_ns + (MAX_FRAME + 24) * 8e9 / slowest)
        if drain_ms is None:
            cfg = sp.cfg
            drain_ms = min(DRAIN_MS_MAX, cfg.arp_retries * cfg.arp_retry_ms + cp.fib_install_ns / 1e6 * 4 + 50.0)
        drained = _drain(router, last_ns + drain_ms * 1e6)
        r.run(duration_ns=10_000)                       # let the last frames leave the wires
    finally:
        r.tx_sink, r.host_handler, r.drop_sink = prev_sink, prev_handler, prev_drop_sink
        inputs.close()
        if outs is not None:
            outs.close()
    st = router.stats()
    infos = inputs.info()
    input_drops: collections.Counter[str] = collections.Counter()
    for i in infos:
        input_drops.update(i["dropped"])
    st["replay"] = {"inputs": infos, "frames_read": sum(i["frames"] for i in infos), "frames": n,
                    "input_drops": dict(input_drops), "truncated": sum(i["truncated"] for i in infos),
                    "t0_ns": t0, "input_span_ns": float(last_rel), "simulated_ns": r.now_ns, "idle_cut_ns": cut,
                    "drained": drained, "drops_by_port": {f"port{p}": int(c) for p, c in enumerate(drops_by_port)}}
    if outs is not None:
        files = outs.files()
        files["stats.json"] = os.path.join(out_dir, "stats.json")
        st["replay"]["outputs"] = files
        st["replay"]["wall_s"] = round(time.perf_counter() - wall0, 3)
        try:
            with open(files["stats.json"], "w") as f:
                json.dump(st, f, indent=1, default=_json_default)
        except OSError as e:
            raise ReplayError(f"{files['stats.json']}: cannot write: {e.strerror}") from None
    else:
        st["replay"]["wall_s"] = round(time.perf_counter() - wall0, 3)
    return st


def _feed(r, ts: list[float], ps: list[int], fs: list[bytes]) -> None:
    """Offer frames already in time order (so in order per port) in one bulk call."""
    lens = np.fromiter(map(len, fs), dtype=np.uint32, count=len(fs))
    offs = np.zeros(len(fs), dtype=np.uint64)
    np.cumsum(lens[:-1], dtype=np.uint64, out=offs[1:])
    r.feed_arrays(r.ns_to_cycles(np.asarray(ts, dtype=np.float64)), np.asarray(ps, dtype=np.uint8), lens, offs,
                  np.frombuffer(b"".join(fs), dtype=np.uint8))


def _idle(router: Router, last_ns: float, next_ns: float, fed: int) -> bool:
    """Whether the rest of the gap before the frame due at ``next_ns`` can go unsimulated.

    First the router runs on: its timers fire at their times (the engine skips
    the idle time between them). The rest of the gap, less ``IDLE_KEEP_NS``,
    can be cut when nothing can happen in it: every frame fed has arrived, none
    is in the router, the host has no work, ARP resolution or FIB write
    pending, and no host timer is set (ARP entries that age out have done so).
    """
    r, sp, cp = router.npr, router.slow_path, router.control
    slowest = min(pc.rate_bps for pc in r.ports)
    _run_to(r, min(next_ns, last_ns + (MAX_FRAME + 24) * 8e9 / slowest + 1e6))
    while True:
        nt = r.next_timer_ns()
        if nt is None or nt >= next_ns - IDLE_KEEP_NS:
            break
        _run_to(r, nt)
    if nt is not None or sp.processing or sp.arp.pending or cp.fib_pending:
        return False
    c = r.conservation()
    return c.in_flight == 0 and c.arrived >= fed


def _run_to(r, until_ns: float) -> None:
    if r.ns_to_cycles(until_ns) > r.engine.now:
        r.run(until_ns=until_ns)


def _drain(router: Router, deadline_ns: float) -> bool:
    """Run until nothing is left to do or ``deadline_ns``; True if idle.

    Busy = packets in the core, the host processing or queueing, ARP
    resolutions or FIB writes pending. While the host has work or waits,
    run to its next timer (the engine skips idle time); when only the core
    may hold packets, count them (a scan of every buffer, so it is done
    with steps that double from 0.1 ms to 100 ms).
    """
    r, sp, cp = router.npr, router.slow_path, router.control
    end = r.ns_to_cycles(deadline_ns)
    step = 1e5
    while r.engine.now < end:
        if sp.processing or sp.arp.pending or cp.fib_pending:
            nt = r.next_timer_ns()
            target = deadline_ns if nt is None else min(deadline_ns, nt)
            step = 1e5
        else:
            if r.conservation().in_flight == 0:
                return True
            target = min(deadline_ns, r.now_ns + step)
            step = min(step * 2, 1e8)
        _run_to(r, target)
    return r.conservation().in_flight == 0 and sp.idle and not cp.fib_pending


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    return str(x)


def _fmt_ns(ns: float) -> str:
    """A latency with a unit that keeps it short: 812ns, 12.34us, 3.21ms, 1.50s."""
    if ns < 1e3:
        return f"{ns:.0f}ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f}us"
    if ns < 1e9:
        return f"{ns / 1e6:.2f}ms"
    return f"{ns / 1e9:.2f}s"


def summary(router: Router, st: dict[str, Any], config_path: str, out_dir: str | None,
            wall_s: float | None = None) -> str:
    """One screen: what went in, what came out, what the host did, conservation.

    ``wall_s``: the wall time to report (default: the replay's own, from
    opening the outputs to writing stats.json)."""
    r = router.npr
    rp = st["replay"]
    wall = rp["wall_s"] if wall_s is None else wall_s
    lines = [f"vrouter-hil run {config_path}: {len(r.ports)}-port NPR ({st['engine']} engine), "
             f"{rp['frames']} frames over {rp['input_span_ns'] / 1e6:.3f} ms, "
             f"simulated {rp['simulated_ns'] / 1e6:.3f} ms; wall time {wall:.2f} s "
             f"(configuration, reading, simulation and writing)"]
    for i in rp["inputs"]:
        pp = ", ".join(f"{k} {v}" for k, v in i["per_port"].items()) or "no frames"
        extra = ""
        if i["truncated"]:
            extra += (f"; {i['truncated']} truncated by the snap length ("
                      + ("dropped" if i["truncated_policy"] == "drop" else "offered short") + ")")
        if i["dropped"].get("oversize_frame"):
            extra += f"; {i['dropped']['oversize_frame']} longer than {MAX_FRAME} B (dropped)"
        if i["late"]:
            extra += f"; {i['late']} out of time order (offered late)"
        lines.append(f"  input {i['file']} ({i['format']}, port {i['port']}): {i['frames']} read: {pp}{extra}")
    cols = [("port", "<", 5), ("address", "<", 19), ("rx pkts", ">", 12), ("tx pkts", ">", 12),
            ("tx Mb/s", ">", 9), ("lat mean", ">", 10), ("lat p99", ">", 10), ("drops", ">", 12)]
    lines += ["", "".join(f"{name:{a}{w}}" for name, a, w in cols)]
    span = max(rp["input_span_ns"], 1e3)            # rates over the input's duration
    for i, pc in enumerate(r.ports):
        p = st["ports"][f"port{i}"]
        lat = p["latency_ns"]
        vals = [i, pc.address, p["rx_pkts"], p["tx_pkts"], f"{p['tx_bytes'] * 8e3 / span:.1f}", _fmt_ns(lat["mean"]),
                _fmt_ns(lat["p99"]), rp["drops_by_port"][f"port{i}"]]
        lines.append("".join(f" {str(v):{a}{w - 1}}" if a == ">" else f"{str(v):{a}{w}}"
                             for v, (_, a, w) in zip(vals, cols)))
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
    if rp["frames_read"] != rp["frames"] or rp["input_drops"]:
        lines.append(f"input: read {rp['frames_read']} = offered {rp['frames']} + dropped before the router "
                     + str(sum(rp["input_drops"].values())) + " ("
                     + (", ".join(f"{k} {v}" for k, v in rp["input_drops"].items()) or "none") + ")")
    c = st["conservation"]
    lines.append(f"conservation: arrived {c['arrived']} + injected {c['injected']} + copies {c['copies']} + created "
                 f"{c['created']} = transmitted {c['transmitted']} + to host {c['to_host']} + dropped "
                 f"{c['dropped']} + in flight {c['in_flight']}  " + ("[ok]" if c["ok"] else "[VIOLATED]"))
    if rp.get("idle_cut_ns"):
        lines.append(f"note: {rp['idle_cut_ns'] / 1e9:.6g} s of idle gaps (over 10 minutes each, router empty) "
                     "were not simulated; output times follow the capture")
    if not rp.get("drained", True):
        lines.append("note: the router still had work when the drain time ran out (raise --drain-ms)")
    if out_dir is not None:
        outs = rp.get("outputs", {})
        lines.append(f"outputs in {out_dir}: " + ", ".join(
            f"{k} ({v})" for k, v in outs.items() if k != "stats.json") + ", stats.json")
    return "\n".join(lines)
