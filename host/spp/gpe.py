"""The GPE: a general-purpose server hosting each slice's slow path.

Each slice's slow path is Python code the slice supplies: a ``SlowPath``
subclass with hooks for the packets the node hands it --

* ``on_packet``: a tunnel packet for one of the slice's endpoints that no
  fast-path filter took (the line card's default filter, or an endpoint of
  a GPE-only slice);
* ``on_exception``: a packet the slice's fast path could not handle
  (meta-interface 0, exception traffic), with the fast path's reason;
* ``on_local``: a packet the fast path delivers to the slice itself
  (meta-interface 0, local-delivery traffic);

-- and ``setup``, called once when the node boots, with ``self.api`` (the
slice's RMP: its slice interface, e.g. to write fast-path filters) and
``self.ctx`` (send tunnel packets out of the node, hand packets to the fast
path, the time, counters).

The server model (this project's; the sources give no GPE timings): a GPE
has ``cores``; each slice reserves a share of them (the SRM admits the
shares). A slice's slow path is a FIFO server of speed ``share`` cores with
a bounded queue of ``queue`` packets (one more is dropped,
``gpe_queue_full``); a packet costs ``cost_us`` + ``per_byte_ns`` x its
length of one core's time (``SlowPath.cost_us`` overrides the GPE's
default), so at share s a packet takes that cost / s. The hook runs when the
packet's service ends; what it sends leaves then. A hook that raises is
contained: the packet is dropped (``slowpath_fault``, the exception kept in
``faults``) and the slice goes on. Shares are reservations: one slice's
load does not slow another's slow path (no contention for caches or memory
is modelled).

Accounting: every packet a slow path receives ends ``consumed`` by its hook
(what the hook sends is counted as created), or dropped with a named reason
(``gpe_queue_full``, ``slowpath_fault``).
"""
from __future__ import annotations

import ipaddress
import os
import struct
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..packet import ipv4_header
from .srm import AccessError, Endpoint, SppError, endpoint_tuple

__all__ = ["SlowPath", "SlowPacket", "SliceContext", "GPEServer", "DEFAULT_COST_US", "DEFAULT_PER_BYTE_NS",
           "udp_datagram"]

#: per-packet slow-path cost on one core, µs (estimate: a user-space socket
#: round trip through a vServer; the SPP sources give no figure)
DEFAULT_COST_US = 10.0
#: per-byte copy cost, ns (estimate)
DEFAULT_PER_BYTE_NS = 2.0


@dataclass
class SlowPacket:
    """A packet handed to a slow path.

    ``ip``: the whole outer IPv4 datagram (tunnel packet) as it reached the
    node; ``src``/``dst``: its remote and local (ip, UDP port); ``payload``:
    the UDP payload (the overlay packet); ``kind``: packet | exception |
    local; ``reason``: the fast path's exception reason (or ``default_filter``);
    ``mi``: the meta-interface it came in on, when the fast path says;
    ``t_rx_ns``: when it reached the GPE."""

    ip: bytes
    src: Endpoint
    dst: Endpoint
    payload: bytes
    kind: str
    reason: str
    mi: int | None
    t_rx_ns: float


class SlowPath:
    """Base of a slice's slow path: override the hooks (see module doc)."""

    #: per-packet cost on one core (µs); None: the GPE's default
    cost_us: float | None = None

    api: Any = None
    ctx: "SliceContext" = None  # type: ignore[assignment]

    def setup(self) -> None:
        """Called once at boot, after ``api`` and ``ctx`` are set."""

    def on_packet(self, pkt: SlowPacket) -> None:
        """A tunnel packet no fast-path filter took. Default: consumed, counted."""
        self.ctx.count("unhandled_packet")

    def on_exception(self, pkt: SlowPacket) -> None:
        """An exception from the fast path. Default: consumed, counted."""
        self.ctx.count(f"exception.{pkt.reason}")

    def on_local(self, pkt: SlowPacket) -> None:
        """Local delivery from the fast path. Default: consumed, counted."""
        self.ctx.count("local")


def udp_datagram(src: Endpoint, dst: Endpoint, payload: bytes, *, ttl: int = 64) -> bytes:
    """An IPv4/UDP datagram (RFC 791/768; DF set, ID 0, UDP checksum 0)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    return ipv4_header(src=ipaddress.IPv4Address(src[0]).packed, dst=ipaddress.IPv4Address(dst[0]).packed, proto=17,
                       payload_len=len(udp), ident=0, ttl=ttl, flags=2) + udp


class SliceContext:
    """What a slow path may do besides its slice API: send, hand to its fast path, count.

    ``send(src, dst, payload)``: a tunnel packet from one of the slice's own
    endpoints ``src`` to the remote ``dst`` (ip, port), out of the node's
    interface that owns ``src`` (another slice's endpoint: ``AccessError``).
    ``to_fastpath(ip)``: an IPv4/UDP datagram into the slice's fast path
    through meta-interface 0."""

    def __init__(self, gpe: "GPEServer", slice_: str):
        self.gpe, self.slice = gpe, slice_
        self.counters: Counter = Counter()

    @property
    def now_ns(self) -> float:
        return self.gpe.now_ns()

    def count(self, what: str, n: int = 1) -> None:
        self.counters[what] += n

    def send(self, src: Any, dst: Any, payload: bytes, *, ttl: int = 64) -> None:
        src, dst = endpoint_tuple(src), endpoint_tuple(dst)
        owner = self.gpe.endpoint_owner(src)
        if owner != self.slice:
            raise AccessError(f"slice {self.slice} cannot send from {src[0]}:{src[1]}: "
                              + ("another slice's endpoint" if owner else "not an allocated endpoint"))
        self.counters["sent"] += 1
        self.gpe.emit(self.slice, "out", udp_datagram(src, dst, bytes(payload), ttl=ttl))

    def send_ip(self, ip: bytes) -> None:
        """Send a whole IPv4/UDP datagram whose source is one of the slice's endpoints."""
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            raise SppError("send_ip takes an IPv4/UDP datagram")
        ihl = (ip[0] & 15) * 4
        src = (str(ipaddress.IPv4Address(ip[12:16])), ip[ihl] << 8 | ip[ihl + 1])
        if self.gpe.endpoint_owner(src) != self.slice:
            raise AccessError(f"slice {self.slice} cannot send from {src[0]}:{src[1]}")
        self.counters["sent"] += 1
        self.gpe.emit(self.slice, "out", bytes(ip))

    def to_fastpath(self, ip: bytes) -> None:
        self.counters["to_fastpath"] += 1
        self.gpe.emit(self.slice, "fastpath", bytes(ip))


@dataclass
class _Hosted:
    name: str
    sp: SlowPath
    ctx: SliceContext
    share: float
    queue: int
    cost_ns: float
    q: deque = field(default_factory=deque)
    busy_until: float = 0.0
    busy_ns: float = 0.0
    counters: Counter = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    latency_ns: list[float] = field(default_factory=list)
    ready: bool = False


class GPEServer:
    """One GPE (see module doc).

    Args:
        name: e.g. ``spp1.gpe0``.
        cores: processor cores (the SRM admits slices' shares against them).
        cost_us, per_byte_ns: default per-packet cost on one core.
        schedule: ``schedule(t_ns, fn, *args)`` -- the node's event scheduler.
        now: ``now() -> ns``.
        emit: ``emit(slice, where, ip_datagram)`` -- ``where`` is ``out`` (an
            external interface) or ``fastpath`` (the slice's MI 0); the node
            encodes and transmits it.
        endpoint_owner: ``(ip, port) -> slice | None`` (the SRM's table).
    """

    def __init__(self, name: str, *, cores: float, schedule: Callable[..., None], now: Callable[[], float],
                 emit: Callable[[str, str, bytes], None], endpoint_owner: Callable[[Endpoint], str | None],
                 cost_us: float = DEFAULT_COST_US, per_byte_ns: float = DEFAULT_PER_BYTE_NS):
        if not cores > 0 or not cost_us >= 0 or not per_byte_ns >= 0:
            raise SppError("a GPE needs cores > 0 and costs >= 0")
        self.name, self.cores = name, float(cores)
        self.cost_us, self.per_byte_ns = float(cost_us), float(per_byte_ns)
        self._schedule, self.now_ns, self._emit, self.endpoint_owner = schedule, now, emit, endpoint_owner
        self.slices: dict[str, _Hosted] = {}
        self.counters: Counter = Counter()
        self.fault_limit = 20

    def host(self, slice_: str, sp: SlowPath, api: Any, *, share: float, queue: int = 256) -> SliceContext:
        """Host a slice's slow path with ``share`` cores and a queue of ``queue`` packets."""
        if slice_ in self.slices:
            raise SppError(f"{self.name} already hosts slice {slice_}")
        if not isinstance(sp, SlowPath):
            raise SppError(f"slice {slice_}: the slow path must be a SlowPath instance, got {type(sp).__name__}")
        if isinstance(queue, bool) or not isinstance(queue, int) or queue < 1:
            raise SppError(f"slice {slice_}: the slow-path queue must be >= 1 packets, got {queue!r}")
        used = sum(h.share for h in self.slices.values())
        if share > self.cores - used + 1e-12:
            raise SppError(f"{self.name}: gpe cores: asked {share:g}, {self.cores - used:g} left")
        cost = self.cost_us if sp.cost_us is None else float(sp.cost_us)
        if not cost >= 0:
            raise SppError(f"slice {slice_}: cost_us must be >= 0, got {sp.cost_us!r}")
        ctx = SliceContext(self, slice_)
        sp.api, sp.ctx = api, ctx
        self.slices[slice_] = _Hosted(slice_, sp, ctx, float(share), int(queue), cost * 1000.0)
        return ctx

    def setup(self) -> None:
        """Run ``setup`` of every hosted slow path not set up yet; a failing setup is
        an error naming the slice."""
        for h in self.slices.values():
            if h.ready:
                continue
            h.ready = True
            try:
                h.sp.setup()
            except Exception as ex:                  # noqa: BLE001 -- the slice's code; report it by name
                raise SppError(f"slice {h.name}: its slow path's setup failed: {type(ex).__name__}: {ex}") from None

    def service_ns(self, h: _Hosted, n_bytes: int) -> float:
        """How long one packet of ``n_bytes`` takes the slice's slow path."""
        return (h.cost_ns + self.per_byte_ns * n_bytes) / h.share

    # ------------------------------------------------------------------ packets
    def offer(self, slice_: str, pkt: SlowPacket) -> str | None:
        """A packet for the slice's slow path, now. Returns a drop reason or None (queued)."""
        h = self.slices.get(slice_)
        if h is None:
            return "gpe_slice_not_hosted"
        if len(h.q) >= h.queue:
            h.counters["dropped.gpe_queue_full"] += 1
            return "gpe_queue_full"
        now = self.now_ns()
        h.q.append(pkt)
        h.counters[f"received.{pkt.kind}"] += 1
        if len(h.q) == 1:
            self._start(h, now)
        return None

    def _start(self, h: _Hosted, now: float) -> None:
        pkt = h.q[0]
        d = self.service_ns(h, len(pkt.ip))
        h.busy_ns += d
        self._schedule(now + d, self._done, h)

    def _done(self, h: _Hosted) -> None:
        pkt = h.q.popleft()
        now = self.now_ns()
        h.latency_ns.append(now - pkt.t_rx_ns)
        if len(h.latency_ns) > 100_000:
            del h.latency_ns[:50_000]
        hook = {"packet": h.sp.on_packet, "exception": h.sp.on_exception, "local": h.sp.on_local}[pkt.kind]
        try:
            hook(pkt)
            h.counters["consumed"] += 1
            self.counters["consumed"] += 1
        except Exception as ex:                       # noqa: BLE001 -- contained: the slice's own code faulted
            h.counters["dropped.slowpath_fault"] += 1
            self.counters["dropped.slowpath_fault"] += 1
            if len(h.faults) < self.fault_limit:
                tb = traceback.extract_tb(ex.__traceback__)
                where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else "?"
                h.faults.append(f"{type(ex).__name__}: {ex} ({where})")
        if h.q:
            self._start(h, now)

    def emit(self, slice_: str, where: str, ip: bytes) -> None:
        self.slices[slice_].counters[f"emitted.{where}"] += 1
        self._emit(slice_, where, ip)

    # ------------------------------------------------------------------ results
    def held(self) -> int:
        return sum(len(h.q) for h in self.slices.values())

    def drops(self) -> dict[str, int]:
        out: Counter = Counter()
        for h in self.slices.values():
            for k, n in h.counters.items():
                if k.startswith("dropped."):
                    out[k[8:]] += n
        return dict(out)

    def consumed(self) -> int:
        return sum(h.counters["consumed"] for h in self.slices.values())

    def stats(self) -> dict[str, Any]:
        now = self.now_ns()
        out = {}
        for h in self.slices.values():
            lat = sorted(h.latency_ns)
            out[h.name] = {"share_cores": h.share, "queue": h.queue, "cost_us": h.cost_ns / 1000.0,
                           "queued": len(h.q), "utilisation": round(h.busy_ns / now, 4) if now else 0.0,
                           "counters": dict(sorted(h.counters.items())),
                           "slowpath_counters": dict(sorted(h.ctx.counters.items())), "faults": h.faults,
                           "latency_us": ({"p50": lat[len(lat) // 2] / 1e3, "max": lat[-1] / 1e3} if lat else None)}
        return {"cores": self.cores, "cost_us": self.cost_us, "per_byte_ns": self.per_byte_ns, "slices": out}
