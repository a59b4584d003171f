"""Overlay traffic through UDP tunnels (the SPP's meta-network packets).

A ``TunnelFlow`` sends, from a host's UDP port, tunnel packets to a
remote tunnel end (an SPP endpoint): IPv4(src=host, dst=endpoint ip) /
UDP(sport, dport=endpoint port) / overlay packet. The overlay packet is
built by the flow's ``overlay`` kind:

* ``ipv4``: an IPv4/UDP datagram (RFC 791/768) from ``inner_src`` to
  ``inner_dst`` (UDP port ``inner_dport``), TTL 64, whose data carries the
  flow header (sequence number, send time ns, flow id) -- the meta-net
  packet the IPv4 code option forwards;
* ``i3``: an i3 packet in this project's encoding (np_model.spp_formats
  ``I3``: version 1, flags 0, 2 reserved bytes, the 256-bit identifier
  ``i3_id``) whose data is the flow header -- what the i3 code option forwards;
* ``raw``: the flow header alone (for a slice whose slow path reads it).

A ``TunnelSink`` is a host's UDP port where tunnel packets end: it parses
the overlay packet by its kind, finds the flow header and credits the flow
(received, one-way latency from send to arrival of the last bit, reordering
per RFC 4737, duplicates, the inner TTL seen). Overlay packets it cannot
parse are counted (``unparsed``).
"""
from __future__ import annotations

import struct
from array import array
from collections import Counter
from typing import Any, Callable

import numpy as np

from .host import Host
from .wire import checksum, ip_bytes, ipv4_header

__all__ = ["TunnelFlow", "TunnelSink", "OVERLAYS", "FLOW_HDR"]

FLOW_HDR = struct.Struct("!QdI")


def _ipv4_overlay(flow: "TunnelFlow", body: bytes) -> bytes:
    udp = struct.pack("!HHHH", 7000, flow.inner_dport, 8 + len(body), 0) + body
    return ipv4_header(flow.inner_src, flow.inner_dst, 17, len(udp), ttl=64) + udp


def _ipv4_parse(p: bytes) -> tuple[bytes, int] | None:
    if len(p) < 28 or p[0] >> 4 != 4 or p[9] != 17:
        return None
    ihl = (p[0] & 15) * 4
    if ihl < 20 or checksum(p[:ihl]) != 0:
        return None
    return p[ihl + 8:], p[8]


I3_HDR = 36


def _i3_overlay(flow: "TunnelFlow", body: bytes) -> bytes:
    return struct.pack("!BBH", 1, 0, 0) + flow.i3_id + body


def _i3_parse(p: bytes) -> tuple[bytes, int] | None:
    if len(p) < I3_HDR or p[0] != 1:
        return None
    return p[I3_HDR:], -1


#: overlay kind -> (build(flow, body) -> overlay packet, header bytes before the body,
#:                  parse(overlay) -> (body, inner ttl or -1) | None)
OVERLAYS: dict[str, tuple[Callable[["TunnelFlow", bytes], bytes], int, Callable[[bytes], Any]]] = {
    "ipv4": (_ipv4_overlay, 28, _ipv4_parse),
    "i3": (_i3_overlay, I3_HDR, _i3_parse),
    "raw": (lambda f, b: b, 0, lambda p: (p, -1)),
}


class TunnelSink:
    """A host's UDP port where tunnel packets of one overlay kind end (see module doc)."""

    def __init__(self, host: Host, port: int, overlay: str = "ipv4"):
        if overlay not in OVERLAYS:
            raise ValueError(f"overlay {overlay!r}; valid: {', '.join(OVERLAYS)}")
        self.host, self.port, self.overlay = host, port, overlay
        self.flows: dict[int, "TunnelFlow"] = {}
        self.counters: Counter = Counter()
        host.bind_udp(port, self._rx)

    def _rx(self, src: bytes, sport: int, data: bytes, now: float) -> None:
        r = OVERLAYS[self.overlay][2](data)
        if r is None or len(r[0]) < FLOW_HDR.size:
            self.counters["unparsed"] += 1
            return
        body, ttl = r
        seq, t, fid = FLOW_HDR.unpack_from(body)
        f = self.flows.get(fid)
        if f is None:
            self.counters["unknown_flow"] += 1
            return
        f._rx(seq, t, now, len(data), ttl, src, sport)


class TunnelFlow:
    """Overlay packets of ``size`` bytes (the overlay packet, tunnel payload)
    at ``rate_bps`` (of overlay bytes) for ``duration_ms`` from ``host``'s UDP
    port ``sport`` to the tunnel end ``to`` = (ip, port)."""

    def __init__(self, host: Host, to: tuple[str, int], *, sport: int, start_ns: float, rate_bps: float, size: int,
                 duration_ms: float, flow_id: int, overlay: str = "ipv4", inner_src: str = "10.0.0.1",
                 inner_dst: str = "10.0.0.2", inner_dport: int = 9000, sink: TunnelSink | None = None,
                 i3_id: bytes = bytes(32), name: str = "tunnel"):
        if overlay not in OVERLAYS:
            raise ValueError(f"overlay {overlay!r}; valid: {', '.join(OVERLAYS)}")
        build, hdr, _ = OVERLAYS[overlay]
        if size < hdr + FLOW_HDR.size:
            raise ValueError(f"a {overlay} overlay packet is at least {hdr + FLOW_HDR.size} bytes, got {size}")
        if not rate_bps > 0:
            raise ValueError(f"rate must be > 0 b/s, got {rate_bps}")
        self.host, self.to, self.sport, self.name = host, (str(to[0]), int(to[1])), sport, name
        self.size, self.rate_bps, self.flow_id, self.overlay = size, float(rate_bps), flow_id, overlay
        self.inner_src, self.inner_dst, self.inner_dport = ip_bytes(inner_src), ip_bytes(inner_dst), inner_dport
        self._build = build
        if len(i3_id) != 32:
            raise ValueError(f"an i3 identifier is 256 bits (32 bytes), got {len(i3_id)} bytes")
        self.i3_id = bytes(i3_id)
        self._pad = bytes(size - hdr - FLOW_HDR.size)
        self.interval_ns = size * 8e9 / rate_bps
        self.duration_ns = duration_ms * 1e6
        self.n = int(self.duration_ns // self.interval_ns) or 1
        self.start_ns = start_ns
        self.sent = 0
        self.sink = sink
        self.received = self.dups = self.reordered = self.bytes = 0
        self.ttls: Counter = Counter()
        self.from_: Counter = Counter()
        self._next_exp = 0
        self._seen = bytearray(self.n)
        self._lat = array("d")
        self._arr = array("d")
        if sink is not None:
            if flow_id in sink.flows:
                raise ValueError(f"flow id {flow_id} already ends at {sink.host.name}:{sink.port}")
            sink.flows[flow_id] = self
        host.schedule(start_ns, self._send)

    def packet(self, seq: int, t_ns: float) -> bytes:
        """The overlay packet of sequence number ``seq`` sent at ``t_ns``."""
        return self._build(self, FLOW_HDR.pack(seq, t_ns, self.flow_id) + self._pad)

    def _send(self) -> None:
        h = self.host
        h.send_udp(ip_bytes(self.to[0]), self.sport, self.to[1], self.packet(self.sent, h.now))
        self.sent += 1
        if self.sent < self.n:
            h.schedule(self.start_ns + self.sent * self.interval_ns, self._send)

    def _rx(self, seq: int, t_send: float, now: float, n: int, ttl: int, src: bytes, sport: int) -> None:
        if seq >= self.n:
            return
        if self._seen[seq]:
            self.dups += 1
            return
        self._seen[seq] = 1
        self.received += 1
        self.bytes += n
        self.ttls[ttl] += 1
        self.from_[f"{'.'.join(map(str, src))}:{sport}"] += 1
        self._lat.append(now - t_send)
        self._arr.append(now)
        if seq < self._next_exp:
            self.reordered += 1
        else:
            self._next_exp = seq + 1

    def latencies_ns(self) -> np.ndarray:
        return np.frombuffer(self._lat, dtype=np.float64).copy()

    def arrivals_ns(self) -> np.ndarray:
        """When each received packet arrived (ns, in arrival order)."""
        return np.frombuffer(self._arr, dtype=np.float64).copy()

    def rate_pps(self, skip: int = 0) -> float:
        """Received packets per second between the first arrival after ``skip``
        packets and the last (the receiver's view of the forwarding rate)."""
        a = self.arrivals_ns()[skip:]
        return (len(a) - 1) * 1e9 / (a[-1] - a[0]) if len(a) > 1 and a[-1] > a[0] else 0.0

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": "tunnel", "name": self.name, "src": f"{self.host.name}:{self.sport}",
                               "to": f"{self.to[0]}:{self.to[1]}", "overlay": self.overlay, "size": self.size,
                               "rate_bps": self.rate_bps, "duration_ms": self.duration_ns / 1e6, "sent": self.sent}
        if self.sink is None:
            out["receiver"] = None
            return out
        lat = self.latencies_ns() if len(self._lat) else None
        out.update({"receiver": f"{self.sink.host.name}:{self.sink.port}", "received": self.received,
                    "lost": self.sent - self.received,
                    "loss_pct": round(100.0 * (self.sent - self.received) / self.sent, 3) if self.sent else 0.0,
                    "throughput_bps": self.bytes * 8e9 / self.duration_ns, "reordered": self.reordered,
                    "duplicates": self.dups, "inner_ttl": dict(self.ttls), "from": dict(self.from_),
                    "latency_ns": None if lat is None else {
                        "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
                        "min": float(lat.min()), "max": float(lat.max()), "mean": float(lat.mean())}})
        return out
