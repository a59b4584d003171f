"""Assembly: the router base class every assembly of blocks on one NP reuses.

An *assembly* wires blocks onto a machine (which ME runs which block, which
rings join them, in which memories they live) and offers its own table API
(the NPR's routes and filters, an SPP NPE's slice filters, ...). Everything
else an experimenter does with a router is the same for every assembly and
lives here: the engine, packets in (``send``, ``inject``, the NIC
front-end), time (``run``, ``run_until_idle``, host timers), packets out
(records kept up to a bound, or streamed to a sink), statistics, drops,
exceptions, the conservation check and the traces.

Memory is bounded by default: at most ``keep_records`` transmitted frames
and host packets are kept for ``transmitted()`` / ``host_packets()`` (the
oldest go first; running statistics keep counting). A long run streams its
outputs instead: set ``tx_sink`` (called with each batch of transmitted
frames as the engine hands them over) and ``host_handler``.
"""
from __future__ import annotations

import collections
import heapq
import ipaddress
import itertools
import math
from time import perf_counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..core import CoreError, ffi, lib
from ..engine import make_engine
from ..engine.cengine import FOREVER, RUN_FULL, RUN_HOST, RUN_IDLE
from ..blocks import BLOCK_TYPES
from ..engine.machine import (DROP_DTYPE, DROP_REASONS, EXC_REASONS, RINGTRACE_DTYPE, TRACE_DTYPE, TX_DTYPE,
                              HwRing, Machine, RingKind, TableKind)
from ..formats import EXC_BITS, FORMATS, exc_reasons
from ..timebase import ns_to_cycles
from .types import NIC_META, Conservation, ConservationError, HostPacket, PortConfig, TxPacket

__all__ = ["Assembly", "TxBatch", "LatencyStats", "DEFAULT_KEEP_RECORDS", "Wiring", "RingSpec", "TableSpec",
           "BlockSpec", "MESpec"]

DEFAULT_KEEP_RECORDS = 100_000


@dataclass(frozen=True)
class TxBatch:
    """Frames transmitted since the previous batch, as the engine hands them over.

    ``records``: numpy structured array (``TX_DTYPE``: times in ME cycles,
    ``cap_off`` into ``capture``); ``capture``: their bytes (empty when the
    assembly does not capture); ``f_me``: the ME clock, to turn cycles into ns.
    """

    records: np.ndarray
    capture: bytes
    f_me: int

    def __len__(self) -> int:
        return len(self.records)

    def packets(self) -> list[TxPacket]:
        """The batch as ``TxPacket`` objects, in the engine's order."""
        return [_tx_packet(r, self.capture, self.f_me) for r in self.records]


def _tx_packet(r: np.void, cap: bytes, f_me: int) -> TxPacket:
    k = 1e9 / f_me
    data = cap[int(r["cap_off"]):int(r["cap_off"]) + int(r["len"])] if r["flags"] & 4 else b""
    return TxPacket(pkt=int(r["pkt"]), port=int(r["port"]), data=data, t_rx_ns=float(int(r["t_rx"]) * k),
                    t_start_ns=float(int(r["t_start"]) * k), t_end_ns=float(int(r["t_end"]) * k),
                    copy=bool(r["flags"] & 1), from_host=bool(r["flags"] & 2), qid=int(r["qid"]),
                    meta=int(r["meta"]))


# ------------------------------------------------------------------------------------------
# wiring: what an assembly puts on the machine, as data


@dataclass
class RingSpec:
    """A ring: kind, the memory it lives in (a name in ``Assembly.mems``, or None),
    words per entry, size in 32-bit words, record format, and the hardware
    role it plays if any (np_model.engine.machine.HwRing)."""

    kind: RingKind
    mem: str | None
    entry_words: int
    words: int
    fmt: str = ""
    hw: HwRing | None = None


@dataclass
class TableSpec:
    kind: TableKind
    capacity: int
    fmt: str = ""


@dataclass
class BlockSpec:
    """A block instance: its type (blocks.def) and what its ports are bound to,
    by name (rings, ``Assembly.mems`` memories, tables); ``params`` override the
    profile's ``<type>.<param>`` values."""

    type: str
    rings: dict[str, str] = field(default_factory=dict)
    mems: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)


@dataclass
class MESpec:
    name: str
    inst: str
    threads: int


@dataclass
class Wiring:
    """An assembly's wiring diagram: rings, tables, block instances, and which ME
    runs which instance, in order. ``Assembly._materialize`` puts it on a machine;
    an assembly's ``rewire`` hook may change it first (insert a block, ...)."""

    rings: dict[str, RingSpec] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    insts: dict[str, BlockSpec] = field(default_factory=dict)
    mes: list[MESpec] = field(default_factory=list)

    def insert_between(self, ring: str, name: str, block: BlockSpec, me: MESpec, *,
                       producer_ports: list[tuple[str, str]], ring_spec: RingSpec | None = None) -> None:
        """Put a block on a ring: a new ring ``<ring>.<name>`` (like ``ring``, or
        ``ring_spec``) takes what the producers (instance, port) wrote to ``ring``;
        ``block`` reads it (its port "in") and writes ``ring`` (its port "out")."""
        new = f"{ring}.{name}"
        spec = self.rings[ring]
        self.rings[new] = ring_spec or RingSpec(spec.kind, spec.mem, spec.entry_words, spec.words, spec.fmt)
        for inst, port in producer_ports:
            if self.insts[inst].rings.get(port) != ring:
                raise ValueError(f"{inst}.{port} does not write ring {ring}")
            self.insts[inst].rings[port] = new
        block.rings.setdefault("in", new)
        block.rings.setdefault("out", ring)
        self.insts[name] = block
        self.mes.append(me)


class LatencyStats:
    """Running per-port latency and throughput figures (constant work per batch).

    Percentiles come from the first ``max_samples`` samples (store-and-forward
    latency, RFC 1242: last bit in to first bit out, in ns). Latencies given in
    whole cycles (``add_cycles``) are summed exactly, so the mean does not
    depend on how the frames were batched.
    """

    def __init__(self, max_samples: int = 1_000_000, ns_per_cycle: float = 0.0):
        self.n = 0
        self.bytes = 0
        self._ns = 0.0                  # sum of latencies added in ns (add)
        self._cycles = 0                # exact sum of latencies added in cycles (add_cycles)
        self._k = ns_per_cycle
        self.min = float("inf")
        self.max = 0.0
        self.max_samples = max_samples
        self._kept = 0
        self.samples: list[np.ndarray] = []

    @property
    def sum(self) -> float:
        """Sum of the latencies (ns)."""
        return self._ns + self._cycles * self._k

    def add(self, lat_ns: np.ndarray, lens: np.ndarray) -> None:
        self._ns += float(lat_ns.sum())
        self._add(lat_ns, lens)

    def add_cycles(self, cycles: np.ndarray, lat_ns: np.ndarray, lens: np.ndarray) -> None:
        """Latencies in whole cycles (integers) and the same in ns."""
        self._cycles += int(cycles.sum())
        self._add(lat_ns, lens)

    def _add(self, lat_ns: np.ndarray, lens: np.ndarray) -> None:
        self.n += len(lat_ns)
        self.bytes += int(lens.sum())
        self.min = min(self.min, float(lat_ns.min()))
        self.max = max(self.max, float(lat_ns.max()))
        if self._kept < self.max_samples:
            take = lat_ns[:self.max_samples - self._kept].astype(np.float32)
            self.samples.append(take)
            self._kept += len(take)

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else 0.0

    def percentile(self, q: float) -> float:
        if not self.samples:
            return 0.0
        if len(self.samples) > 1:                     # merge once, so repeated calls stay cheap
            self.samples = [np.concatenate(self.samples)]
        return float(np.percentile(self.samples[0], q))


class _Kept:
    """Records kept for inspection, at most ``cap`` of them (oldest dropped first)."""

    def __init__(self, cap: int | None):
        self.cap = cap
        self.batches: collections.deque[tuple[np.ndarray, bytes]] = collections.deque()
        self.n = 0
        self.discarded = 0

    def add(self, recs: np.ndarray, cap: bytes) -> None:
        if self.cap == 0 or not len(recs):
            self.discarded += len(recs) if self.cap == 0 else 0
            return
        self.batches.append((recs, cap))
        self.n += len(recs)
        while self.cap is not None and self.n > self.cap:
            recs0, cap0 = self.batches[0]
            excess = self.n - self.cap
            if excess >= len(recs0):
                self.batches.popleft()
                self.n -= len(recs0)
                self.discarded += len(recs0)
            else:
                self.batches[0] = (recs0[excess:], cap0)
                self.n -= excess
                self.discarded += excess

    def records(self, dtype: np.dtype) -> np.ndarray:
        return np.concatenate([b[0] for b in self.batches]) if self.batches else np.zeros(0, dtype=dtype)


class Assembly:
    """Machine + engine + packet I/O + timers + records + statistics + conservation.

    A subclass builds its machine in ``_build`` (called by ``_setup``) and
    then calls ``_start_engine``. Subclasses own their table APIs.

    Args (for ``_setup``):
        ports: the MSF ports (address, MAC, rate, MTU).
        engine: ``"c"`` (compiled) or ``"py"`` (the pure-Python reference).
        keep_records: at most this many transmitted frames (and, separately,
            host packets) are kept for ``transmitted()``/``host_packets()``;
            ``True`` keeps all (memory grows with the run), ``False`` or 0 none.
        capture: keep the bytes of transmitted frames (for ``transmitted()``
            and ``tx_sink``), not only their records.
        nic: a receive-side SmartNIC front-end (see NPR).
    """

    #: called with each TxBatch as the engine hands transmitted frames over
    tx_sink: Callable[[TxBatch], None] | None = None
    #: called with each HostPacket the control processor hands to the host
    host_handler: Callable[["Assembly", HostPacket], None] | None = None
    #: when set, called with each batch of drop records (``DROP_DTYPE``, while
    #: ``record_drops`` is on) instead of keeping them for ``drop_records()``
    drop_sink: Callable[[np.ndarray], None] | None = None

    # ------------------------------------------------------------------ construction
    def _setup(self, ports: Sequence[PortConfig], *, keep_records: bool | int, capture: bool) -> None:
        self.ports = list(ports)
        if keep_records is True:
            cap: int | None = None
        elif keep_records is False:
            cap = 0
        else:
            cap = int(keep_records)
            if cap < 0:
                raise ValueError(f"keep_records must be >= 0, True or False, got {keep_records}")
        self.keep_records = cap
        self.capture = capture
        self.callback_s = 0.0              # wall time in host handlers and timers (see sim_wall_s)
        self._timer_watch: Callable[[int], None] | None = None
        self._tx_kept = _Kept(cap)
        self._host_kept: collections.deque[HostPacket] = collections.deque()
        self._host_discarded = 0
        self._drop_recs: list[np.ndarray] = []
        self._trace_recs: list[np.ndarray] = []
        self._ring_recs: list[np.ndarray] = []
        self._lat: dict[int, LatencyStats] = {}      # per port, made in _start_engine (needs the clock)
        self._timers: list[tuple[int, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._nic = {"frames": 0, "replicas": 0, "drops": collections.Counter(), "pools": collections.Counter(),
                     "queues": collections.Counter()}

    def _materialize(self, w: Wiring) -> None:
        """Put a wiring diagram on ``self.m`` (memories in ``self.mems``): rings,
        tables, block instances with their parameters from the profile, MEs."""
        m, p = self.m, self.profile
        nn = p.value("nn_ring_latency") if "nn_ring_latency" in p else 0
        self.rings: dict[str, int] = {}
        for name, r in w.rings.items():
            mem = -1 if r.mem is None else self.mems[r.mem]
            self.rings[name] = m.add_ring(name, r.kind, mem, r.entry_words, r.words, fmt=r.fmt,
                                          nn_lat=nn if r.kind == RingKind.NN else 0)
            if r.hw is not None:
                m.set_hw_ring(r.hw, self.rings[name])
        self.tables = {name: m.add_table(name, t.kind, t.capacity, t.fmt) for name, t in w.tables.items()}
        self.insts: dict[str, int] = {}
        for name, b in w.insts.items():
            if b.type not in BLOCK_TYPES:
                raise ValueError(f"instance {name}: unknown block type {b.type!r}; valid: {', '.join(BLOCK_TYPES)}")
            params = {prm.name: p.value(f"{b.type}.{prm.name}") for prm in BLOCK_TYPES[b.type].params
                      if prm.status != "wiring"}
            params.update(b.params)
            self.insts[name] = m.add_block(
                b.type, name, rings={k: self.rings[v] for k, v in b.rings.items()},
                mems={k: self.mems[v] for k, v in b.mems.items()},
                tables={k: self.tables[v] for k, v in b.tables.items()}, params=params)
        self.mes = {e.name: m.add_me(e.name, self.insts[e.inst], e.threads) for e in w.mes}
        self.wiring = w

    def rewire(self, w: Wiring) -> None:
        """Hook: change the wiring diagram before it is built (default: nothing)."""

    def _start_engine(self, m: Machine, engine: str) -> None:
        self.m = m
        self.f_me = m.f_me_hz
        self._lat = {p: LatencyStats(ns_per_cycle=1e9 / self.f_me) for p in range(len(self.ports))}
        self.engine = make_engine(engine, m)
        lib.np_set_capture(m.ptr, 1 if self.capture else 0)

    def _check(self, rc: int) -> int:
        if rc < 0:
            raise CoreError(ffi.string(lib.np_error(self.m.ptr)).decode())
        return rc

    def _port(self, port: int, what: str = "port") -> int:
        if not 0 <= int(port) < len(self.ports):
            raise ValueError(f"{what} {port} does not exist (0..{len(self.ports) - 1})")
        return int(port)

    # ------------------------------------------------------------------ time
    def ns_to_cycles(self, ns: float) -> int:
        """Simulated ns to ME cycles (np_model.timebase: rounded up)."""
        return ns_to_cycles(ns, self.f_me)

    def cycles_to_ns(self, cycles: float | np.ndarray) -> float | np.ndarray:
        return cycles * 1e9 / self.f_me

    @property
    def now_ns(self) -> float:
        return self.cycles_to_ns(self.engine.now)

    # ------------------------------------------------------------------ traffic in
    def send(self, frames: Sequence[bytes] | Sequence[Any], port: int | Sequence[int] = 0, *,
             at_ns: float | Sequence[float] | None = None, meta: Sequence[int] | None = None) -> np.ndarray:
        """Offer frames on input ports; returns their packet ids.

        ``frames``: bytes or scapy packets, each a whole Ethernet frame
        without FCS (a unicast frame must carry the port's MAC as its
        destination, or the router drops it as ``l2_not_for_router``).
        ``at_ns``: arrival start times (simulated ns, not in the past);
        default: now. Frames overlapping on one wire are serialised at its rate.
        """
        raw = [bytes(f) for f in frames]
        n = len(raw)
        if n == 0:
            return np.zeros(0, dtype=np.uint64)
        ports = np.full(n, port, dtype=np.int64) if np.isscalar(port) else np.asarray(port, dtype=np.int64)
        if len(ports) != n or (ports < 0).any() or (ports >= len(self.ports)).any():
            raise ValueError(f"ports must be one port or one per frame, each in 0..{len(self.ports) - 1}")
        if at_ns is None:
            t = np.full(n, self.engine.now, dtype=np.uint64)
        else:
            at = np.broadcast_to(np.asarray(at_ns, dtype=float), (n,))
            if not np.isfinite(at).all():
                raise ValueError("at_ns must be finite")
            t = np.atleast_1d(ns_to_cycles(at, self.f_me))
        if self._nic_cycle is not None:            # the RTL clocked in the loop: through its wire and MAC
            return self._nic_cycle.offer(raw, ports, t)
        if self.nic is not None:
            raw, ports, t, meta = self._through_nic(raw, ports, t)
            n = len(raw)
            if n == 0:
                return np.zeros(0, dtype=np.uint64)
        lens = np.array([len(f) for f in raw], dtype=np.uint32)
        offs = np.zeros(n, dtype=np.uint64)
        offs[1:] = np.cumsum(lens[:-1], dtype=np.uint64)
        order = np.lexsort((np.arange(n), t, ports))      # per port, by time, stable
        data = b"".join(raw)
        first = int(lib.np_next_id(self.m.ptr))
        ids = np.arange(first, first + n, dtype=np.uint64)
        # the core numbers frames in feed order; keep caller order in ids
        self.m.feed(t[order], ports[order], lens[order], offs[order], data,
                    None if meta is None else np.asarray(meta, dtype=np.uint32)[order], first)
        out = np.empty(n, dtype=np.uint64)
        out[order] = ids
        return out

    def feed_arrays(self, t_cycles: np.ndarray, ports: np.ndarray, lens: np.ndarray, offsets: np.ndarray,
                    data: np.ndarray, meta: np.ndarray | None = None) -> int:
        """Bulk traffic (already sorted per port by time); returns the first id."""
        if self._nic_cycle is not None:
            raw = [bytes(data[o:o + n]) for o, n in zip(offsets, lens)]
            return int(self._nic_cycle.offer(raw, np.asarray(ports), np.asarray(t_cycles))[0]) if raw else int(lib.np_next_id(self.m.ptr))
        if self.nic is not None:
            raw = [bytes(data[o:o + n]) for o, n in zip(offsets, lens)]
            raw, ports, t_cycles, meta = self._through_nic(raw, np.asarray(ports), np.asarray(t_cycles))
            lens = np.array([len(f) for f in raw], dtype=np.uint32)
            offsets = np.zeros(len(raw), dtype=np.uint64)
            offsets[1:] = np.cumsum(lens[:-1], dtype=np.uint64)
            data = np.frombuffer(b"".join(raw), dtype=np.uint8)
        first = int(lib.np_next_id(self.m.ptr))
        self.m.feed(t_cycles, ports, lens, offsets, data, meta, first)
        return first

    NIC_META = NIC_META
    _nic_fe: Any = None
    _nic_cycle: Any = None          # np_model.nic.cosim.CycleNic when the NIC runs in cycle timing

    @property
    def nic(self) -> Any:
        """The receive-side NIC front-end (np_model.nic), or None.

        Its ``timing`` attribute says how it sits in the loop: ``"functional"``
        (default) classifies each ``send`` batch at once and adds the profile's
        fixed ``nic_latency_ns``; ``"cycle"`` (the RTL backend only) clocks the
        Verilated classifier in the NP's simulated time (np_model/nic/cosim.py):
        then ``engine`` is the co-simulation, which drives the NP's engine.
        """
        return self._nic_fe

    @nic.setter
    def nic(self, fe: Any) -> None:
        if self._nic_cycle is not None:
            raise ValueError("this router's NIC runs in cycle timing; it cannot be replaced")
        timing = getattr(fe, "timing", "functional") if fe is not None else "functional"
        if timing == "cycle":
            from ..nic.cosim import CycleNic
            self._nic_cycle = CycleNic(self, fe)
            self.engine = self._nic_cycle
        elif timing != "functional":
            raise ValueError(f"unknown NIC timing {timing!r}; valid: functional, cycle")
        self._nic_fe = fe

    def _through_nic(self, raw: list[bytes], ports: np.ndarray, t: np.ndarray):
        """Functional timing: classify frames with the NIC front-end at once -- drop, replicate,
        tag with pool and queue -- and let them arrive ``nic_latency_ns`` later, each copy
        serialised on the port's wire."""
        res = self.nic.classify(raw)
        lat = self.ns_to_cycles(self.profile.value("nic_latency_ns"))
        out_f, out_p, out_t, out_m = [], [], [], []
        st = self._nic
        for f, p, tt, r in zip(raw, ports, t, res):
            st["frames"] += 1
            if r.drop:
                st["drops"][r.reason] += 1
                continue
            pools = [i for i in range(64) if (r.pools >> i) & 1]
            st["replicas"] += len(pools) - 1
            for pool in pools:
                st["pools"][pool] += 1
                st["queues"][f"{pool}.{r.queue}"] += 1
                out_f.append(f)
                out_p.append(p)
                out_t.append(int(tt) + lat)
                out_m.append(self.NIC_META | pool << 8 | r.queue)
        return (out_f, np.asarray(out_p, dtype=np.int64), np.asarray(out_t, dtype=np.uint64),
                np.asarray(out_m, dtype=np.uint32))

    def nic_stats(self) -> dict[str, Any]:
        """Frames the NIC front-end saw, dropped (by reason), replicated, per pool and queue; in
        cycle timing also the co-simulation's counters (np_model.nic.cosim.CycleNic.stats)."""
        st = self._nic
        out = {"backend": getattr(self.nic, "backend", None), "frames": st["frames"], "replicas": st["replicas"],
               "drops": dict(st["drops"]), "pools": dict(sorted(st["pools"].items())),
               "queues": dict(sorted(st["queues"].items())), "timing": "functional"}
        if self._nic_cycle is not None:
            out.update(self._nic_cycle.stats())
        return out

    # ------------------------------------------------------------------ running
    def run(self, duration_ns: float | None = None, *, until_ns: float | None = None) -> None:
        """Advance simulated time (by ``duration_ns`` or to ``until_ns``)."""
        if (duration_ns is None) == (until_ns is None):
            raise ValueError("give exactly one of duration_ns and until_ns")
        v = duration_ns if until_ns is None else until_ns
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{'duration_ns' if until_ns is None else 'until_ns'} must be finite and >= 0, got {v}")
        until = self.engine.now + self.ns_to_cycles(duration_ns) if until_ns is None else self.ns_to_cycles(until_ns)
        self._run_to(until)

    def run_until_idle(self, max_ns: float = 1e9) -> None:
        """Run until nothing is left to do -- no packet in flight, no timer due --
        and stop there (or after ``max_ns`` of simulated time). A plug-in with
        a periodic thread keeps the router busy, so then ``max_ns`` ends it."""
        self._run_to(self.engine.now + self.ns_to_cycles(max_ns), idle_ok=True)

    def call_at(self, t_ns: float, fn: Callable[[], None]) -> None:
        """Call ``fn()`` when simulated time reaches ``t_ns`` (host timers: ARP
        retries, ageing, delayed table installs). Calls due at the same time
        run in the order they were scheduled."""
        t = max(self.ns_to_cycles(t_ns), self.engine.now)
        heapq.heappush(self._timers, (t, next(self._timer_seq), fn))
        if self._timer_watch is not None:
            self._timer_watch(self._timers[0][0])

    def call_after(self, delay_ns: float, fn: Callable[[], None]) -> None:
        self.call_at(self.now_ns + delay_ns, fn)

    def next_timer_ns(self) -> float | None:
        """When the earliest host timer is due (None if none)."""
        return self.cycles_to_ns(self._timers[0][0]) if self._timers else None

    def _run_to(self, until: int, idle_ok: bool = False, rc: int | None = None) -> None:
        """Run to cycle ``until``: engine runs to the next host timer or ``until``,
        then outputs, host packets and due timers are handled. ``rc``: the engine
        already ran to that stop (np_fab_run) and returned ``rc``; go on from there."""
        while True:
            stay = idle_ok and not self._timers
            if rc is None:
                stop = min(until, self._timers[0][0]) if self._timers else until
                rc = self.engine.run(stop, stop_on_host=self.host_handler is not None, idle_stay=stay)
            self._drain()
            if rc in (RUN_HOST, RUN_FULL):
                rc = None
                continue
            if self._timers and self._timers[0][0] <= self.engine.now:
                t0 = perf_counter()
                while self._timers and self._timers[0][0] <= self.engine.now:
                    heapq.heappop(self._timers)[2]()
                self.callback_s += perf_counter() - t0
                if self._timer_watch is not None:
                    self._timer_watch(self._timers[0][0] if self._timers else FOREVER)
            if self.engine.now >= until or (stay and rc == RUN_IDLE):
                return
            rc = None

    # ------------------------------------------------------------------ driven from outside (np_fab_run)
    def finish_run(self, until_ns: float, rc: int) -> None:
        """The compiled fabric ran this router's engine and stopped it early
        with code ``rc`` (a host packet, a due timer, outputs waiting): do what
        ``run`` would have done next, and run on to ``until_ns``."""
        self._run_to(self.ns_to_cycles(until_ns), rc=rc)

    def flush_outputs(self) -> None:
        """Take what the engine produced so far (records, host packets, statistics)."""
        self._drain()

    def watch_timers(self, fn: Callable[[int], None] | None) -> None:
        """Call ``fn(cycle)`` whenever the earliest host timer changes (FOREVER: none),
        and once now; None stops it."""
        self._timer_watch = fn
        if fn is not None:
            fn(self._timers[0][0] if self._timers else FOREVER)

    @property
    def sim_wall_s(self) -> float:
        """Wall-clock seconds this router spent simulating: its engine's event
        loop (np_run or the Python engine's run, whoever called it) and its host
        handler and host timers (the control processor's software)."""
        return self.engine.wall_s + self.callback_s

    def _drain(self) -> None:
        if not lib.np_outputs_pending(self.m.ptr):      # the usual case of a short run: nothing to take
            return
        out = self.m.take_outputs()
        tx = out["tx"]
        if len(tx):
            ports, lens = tx["port"], tx["len"]
            d = tx["t_start"].astype(np.int64) - tx["t_rx"].astype(np.int64)     # cycles
            lat = self.cycles_to_ns(d.astype(np.float64))
            p0 = ports[0]
            if (ports == p0).all():                        # the usual batch: one port
                self._lat[int(p0)].add_cycles(d, lat, lens)
            else:
                for p in np.unique(ports):
                    sel = ports == p
                    self._lat[int(p)].add_cycles(d[sel], lat[sel], lens[sel])
            cap = out["tx_cap"] if self.capture else b""
            if self.tx_sink is not None:
                self.tx_sink(TxBatch(tx, cap, self.f_me))
            self._tx_kept.add(tx, cap)
        if len(out["drops"]):
            if self.drop_sink is not None:
                self.drop_sink(out["drops"])
            else:
                self._drop_recs.append(out["drops"])
        if len(out["trace"]):
            self._trace_recs.append(out["trace"])
        host, cap = out["host"], out["host_cap"]
        if len(host):
            e = FORMATS["exc"].decode_array(host["entry"])
            for k, r in enumerate(host):
                fields = {name: int(v[k]) for name, v in e.items()}
                reasons = exc_reasons(fields, EXC_REASONS[1 + len(EXC_BITS):])
                hp = HostPacket(pkt=int(r["pkt"]), reason=reasons[0] if reasons else "none",
                                data=cap[r["cap_off"]:r["cap_off"] + r["len"]], in_port=fields["in_port"],
                                out_port=fields["out_port"], nh_ip=str(ipaddress.IPv4Address(int(r["nh_ip"]))),
                                t_rx_ns=float(self.cycles_to_ns(int(r["t_rx"]))),
                                t_host_ns=float(self.cycles_to_ns(int(r["t_host"]))),
                                ptag=fields["ptag"], src=int(r["src"]), reasons=tuple(reasons), qid=fields["qid"])
                self._keep_host(hp)
                if self.host_handler is not None:
                    t0 = perf_counter()
                    self.host_handler(self, hp)
                    self.callback_s += perf_counter() - t0
        if len(out["rings"]):
            self._ring_recs.append(out["rings"])

    def _keep_host(self, hp: HostPacket) -> None:
        if self.keep_records == 0:
            self._host_discarded += 1
            return
        self._host_kept.append(hp)
        if self.keep_records is not None and len(self._host_kept) > self.keep_records:
            self._host_kept.popleft()
            self._host_discarded += 1

    # ------------------------------------------------------------------ results
    def tx_records(self) -> np.ndarray:
        """The kept transmitted frames' records (numpy structured array, cycles)."""
        return self._tx_kept.records(TX_DTYPE)

    @property
    def records_discarded(self) -> dict[str, int]:
        """Records not kept because of ``keep_records`` (statistics still count them)."""
        return {"tx": self._tx_kept.discarded, "host": self._host_discarded}

    def transmitted(self, port: int | None = None) -> list[TxPacket]:
        """Kept frames sent (see ``keep_records``), in order of their first bit on the wire."""
        out = []
        for recs, cap in self._tx_kept.batches:
            sel = recs if port is None else recs[recs["port"] == port]
            out.extend(_tx_packet(r, cap, self.f_me) for r in sel)
        out.sort(key=lambda t: (t.t_start_ns, t.port))
        return out

    def host_packets(self, reason: str | None = None) -> list[HostPacket]:
        """Kept packets the control processor handed to the host (see ``keep_records``)."""
        if reason is not None and reason not in EXC_REASONS:
            raise ValueError(f"unknown reason {reason!r}; valid: {', '.join(EXC_REASONS[1:])}")
        return [h for h in self._host_kept if reason is None or h.reason == reason]

    def drop_records(self) -> np.ndarray:
        """Per-drop records (packet, time, reason, port, block), when ``record_drops`` is on."""
        if len(self._drop_recs) > 1:
            self._drop_recs = [np.concatenate(self._drop_recs)]
        return self._drop_recs[0] if self._drop_recs else np.zeros(0, dtype=DROP_DTYPE)

    def drops(self) -> dict[str, int]:
        """Drop counts by reason (only reasons with drops)."""
        out = {f"nic_{k}": v for k, v in self._nic["drops"].items()}
        for i, name in enumerate(DROP_REASONS):
            c = lib.np_drop_count(self.m.ptr, i)
            if c:
                out[name] = int(c)
        return out

    def exceptions(self) -> dict[str, int]:
        """Packets handed to the control processor, by exception reason."""
        out = {}
        for i, name in enumerate(EXC_REASONS):
            c = lib.np_exc_count(self.m.ptr, i)
            if c:
                out[name] = int(c)
        return out

    def set_capture(self, on: bool) -> None:
        """Keep (or stop keeping) the bytes of frames transmitted from now on, for
        ``transmitted()`` and ``tx_sink`` (records and statistics are kept either way)."""
        self.capture = bool(on)
        lib.np_set_capture(self.m.ptr, 1 if on else 0)

    def record_drops(self, on: bool = True) -> None:
        """Keep a record of every drop (``drop_records``); off by default."""
        lib.np_set_record_drops(self.m.ptr, 1 if on else 0)

    def set_trace(self, on: bool = True) -> None:
        """Switch the per-packet trace (block, ME, thread, op, times) on or off."""
        lib.np_set_trace(self.m.ptr, 1 if on else 0)

    def trace_records(self) -> np.ndarray:
        if len(self._trace_recs) > 1:
            self._trace_recs = [np.concatenate(self._trace_recs)]
        return self._trace_recs[0] if self._trace_recs else np.zeros(0, dtype=TRACE_DTYPE)

    def set_ring_trace(self, on: bool = True) -> None:
        """Record every ring entry written (ring, time, words); ``ring_entries``
        decodes them with each ring's declared format."""
        lib.np_set_ring_trace(self.m.ptr, 1 if on else 0)

    def ring_trace_records(self) -> np.ndarray:
        if len(self._ring_recs) > 1:
            self._ring_recs = [np.concatenate(self._ring_recs)]
        return self._ring_recs[0] if self._ring_recs else np.zeros(0, dtype=RINGTRACE_DTYPE)

    def ring_entries(self, ring: str) -> list[dict[str, int]]:
        """The entries written to one ring while the ring trace was on, decoded
        with the ring's record format."""
        ri = self.m.ring_names.index(ring) if ring in self.m.ring_names else -1
        if ri < 0:
            raise ValueError(f"no ring {ring!r}; valid: {', '.join(self.m.ring_names)}")
        fmt = ffi.string(lib.np_ring_format(self.m.ptr, ri)).decode()
        recs = self.ring_trace_records()
        sel = recs[recs["ring"] == ri]
        if not fmt:
            return [{"words": list(map(int, r["words"][:r["nwords"]]))} for r in sel]
        return [FORMATS[fmt].decode(r["words"]) for r in sel]

    def in_flight(self) -> int:
        """Packets inside the router now, from the running counters (cheap; the
        conservation check counts them independently by scanning buffers)."""
        c = ffi.new("np_counters_t *")
        lib.np_get_counters(self.m.ptr, c)
        return int(c.in_flight_hint)

    def line_trace(self) -> str:
        """One line: every ME's threads and every ring's occupancy (PyMTL style)."""
        return self.engine.line_trace()

    def conservation(self) -> Conservation:
        c = ffi.new("np_counters_t *")
        lib.np_get_counters(self.m.ptr, c)
        nic = self._nic            # frames the NIC dropped never reached Rx; its replicas are copies
        nic_drops = sum(nic["drops"].values())
        # cycle timing: frames inside the NIC (MAC buffer, RTL, bus) have arrived and are in flight
        held = self._nic_cycle.held if self._nic_cycle is not None else 0
        return Conservation(arrived=c.arrived - nic["replicas"] + nic_drops + held, injected=c.injected,
                            copies=c.copies + nic["replicas"], created=c.created,
                            transmitted=c.transmitted, to_host=c.to_host, dropped=c.dropped + nic_drops,
                            in_flight=int(lib.np_packets_in_flight(self.m.ptr)) + held, double_ends=c.double_end)

    def check_conservation(self) -> Conservation:
        """The conservation account; raises ConservationError if a packet is unaccounted for."""
        c = self.conservation()
        if not c.ok:
            raise ConservationError(str(c))
        return c

    # ------------------------------------------------------------------ statistics
    def stats(self) -> dict[str, Any]:
        """Everything measurable, as plain data (JSON-friendly)."""
        from .stats import collect
        return collect(self)

    def latency(self, port: int) -> LatencyStats:
        return self._lat[self._port(port)]
