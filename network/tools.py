"""The tools people run on end hosts: ping, traceroute, UDP flows (iperf -u)
and pcap replay. Each is started at a simulated time and reports
``result()`` as plain data (times in ms unless named _ns).
"""
from __future__ import annotations

import struct
from array import array
from typing import Any

import numpy as np

from .host import Host
from .wire import checksum, ip_bytes, ipv4_header

__all__ = ["Ping", "Traceroute", "UdpFlow", "Replay"]

_TS = struct.Struct("!d")


def _ip(b: bytes) -> str:
    return ".".join(str(x) for x in b)


class Ping:
    """ICMP echo (RFC 792): ``count`` requests ``interval_ms`` apart with
    ``size`` data bytes (the first 8 carry the send time); RTT from the
    request leaving the tool to the reply reaching it. A request with no
    reply by the end of the run is lost."""

    def __init__(self, host: Host, dst: str, *, start_ns: float, count: int = 4, interval_ms: float = 1.0,
                 size: int = 56, name: str = "ping"):
        if size < 8:
            raise ValueError(f"ping size must be >= 8 bytes (the send time), got {size}")
        self.host, self.dst, self.name = host, ip_bytes(dst), name
        self.count, self.interval_ns, self.size = count, interval_ms * 1e6, size
        self.ident = host.new_ident()
        self.sent: dict[int, float] = {}
        self.rtt: dict[int, float] = {}
        self.dups = 0
        host.echo_handlers[self.ident] = self._reply
        host.schedule(start_ns, self._send, 0)

    def _send(self, seq: int) -> None:
        h = self.host
        self.sent[seq] = h.now
        data = _TS.pack(h.now) + bytes(self.size - 8)
        body = struct.pack("!BBHHH", 8, 0, 0, self.ident, seq) + data
        body = body[:2] + checksum(body).to_bytes(2, "big") + body[4:]
        h.send_ip(self.dst, 1, body)
        if seq + 1 < self.count:
            h.schedule(h.now + self.interval_ns, self._send, seq + 1)

    def _reply(self, src: bytes, t: int, code: int, m: bytes, now: float) -> None:
        seq = m[6] << 8 | m[7]
        if seq in self.rtt:
            self.dups += 1
        elif seq in self.sent:
            self.rtt[seq] = now - self.sent[seq]

    def result(self) -> dict[str, Any]:
        r = [self.rtt[s] / 1e6 for s in sorted(self.rtt)]
        n = len(self.sent)
        return {"tool": "ping", "name": self.name, "host": self.host.name, "dst": _ip(self.dst), "sent": n,
                "received": len(r), "loss_pct": round(100.0 * (n - len(r)) / n, 3) if n else 0.0,
                "duplicates": self.dups,
                "rtt_ms": {"min": min(r), "avg": sum(r) / len(r), "max": max(r)} if r else None,
                "replies": [{"seq": s, "rtt_ms": self.rtt[s] / 1e6} for s in sorted(self.rtt)]}


class Traceroute:
    """UDP traceroute (as Van Jacobson's): ``probes`` datagrams per TTL to
    ports 33434, 33435, ...; a router answers time exceeded (ICMP 11) from
    the interface the probe came in on, the destination port unreachable
    (ICMP 3/3), which ends the trace. Probes are sent one at a time: the next
    leaves when the previous is answered or ``timeout_ms`` has passed."""

    def __init__(self, host: Host, dst: str, *, start_ns: float, max_ttl: int = 16, probes: int = 3,
                 timeout_ms: float = 50.0, name: str = "traceroute"):
        self.host, self.dst, self.name = host, ip_bytes(dst), name
        self.max_ttl, self.probes, self.timeout_ns = max_ttl, probes, timeout_ms * 1e6
        self.sport = host.ephemeral_port()
        self.hops: dict[int, list[dict[str, Any]]] = {}
        self.reached = False
        self.done = False
        self._n = 0
        self._out: dict[int, tuple[int, float]] = {}
        host.error_handlers[(17, self.sport)] = self._error
        host.schedule(start_ns, self._probe, 1, 0)

    def _probe(self, ttl: int, i: int) -> None:
        if self.done:
            return
        if i >= self.probes:
            if self.reached or ttl >= self.max_ttl:
                self.done = True
                return
            ttl, i = ttl + 1, 0
        n = self._n
        self._n += 1
        dport = 33434 + n
        self._out[dport] = (ttl, self.host.now)
        self.hops.setdefault(ttl, []).append({"addr": None, "rtt_ms": None})
        self.host.send_udp(self.dst, self.sport, dport, bytes(12), ttl=ttl)
        self.host.schedule(self.host.now + self.timeout_ns, self._timeout, dport, ttl, i)

    def _timeout(self, dport: int, ttl: int, i: int) -> None:
        if self._out.pop(dport, None) is not None:
            self._probe(ttl, i + 1)

    def _error(self, src: bytes, t: int, code: int, m: bytes, now: float) -> None:
        q = m[8:]
        qihl = (q[0] & 15) * 4
        dport = q[qihl + 2] << 8 | q[qihl + 3]
        sent = self._out.pop(dport, None)
        if sent is None:
            return
        ttl, t0 = sent
        probe = self.hops[ttl][-1]
        probe["addr"], probe["rtt_ms"] = _ip(src), (now - t0) / 1e6
        if t == 3:
            probe["unreachable_code"] = code
            if src == self.dst or code == 3:
                self.reached = True
        self._probe(ttl, len(self.hops[ttl]))

    def result(self) -> dict[str, Any]:
        hops = []
        for ttl in sorted(self.hops):
            addrs = [p["addr"] for p in self.hops[ttl] if p["addr"]]
            hops.append({"ttl": ttl, "addr": addrs[0] if addrs else None, "probes": self.hops[ttl]})
        return {"tool": "traceroute", "name": self.name, "host": self.host.name, "dst": _ip(self.dst),
                "reached": self.reached, "hops": hops}


class UdpFlow:
    """A UDP flow like ``iperf -u``: datagrams of ``size`` payload bytes at
    ``rate`` b/s of payload for ``duration_ms`` from ``src`` to ``dst_ip``:
    ``dport``; each carries a sequence number, the send time and a flow id.

    The receiver report (``result``): datagrams sent and received, lost
    (sent - distinct received), throughput (received payload bits over the
    flow's duration), one-way latency (send to arrival of the last bit, ns)
    p50/p99/min/max/mean, reordered datagrams (RFC 4737: a sequence number
    below the next expected one), duplicates.
    """

    HDR = struct.Struct("!QdI")

    def __init__(self, src: Host, dst_ip: str, dport: int, *, start_ns: float, rate_bps: float, size: int,
                 duration_ms: float, receiver: Host | None, flow_id: int = 1, name: str = "udp"):
        if size < self.HDR.size:
            raise ValueError(f"UDP flow payload must be >= {self.HDR.size} bytes, got {size}")
        if rate_bps <= 0:
            raise ValueError(f"UDP flow rate must be > 0 b/s, got {rate_bps}")
        self.src, self.dst, self.dport, self.name = src, ip_bytes(dst_ip), dport, name
        self.size, self.rate_bps, self.flow_id = size, float(rate_bps), flow_id
        self.interval_ns = size * 8e9 / rate_bps
        self.duration_ns = duration_ms * 1e6
        self.n = int(self.duration_ns // self.interval_ns) or 1
        self.start_ns = start_ns
        self.sport = src.ephemeral_port()
        self.sent = 0
        self.receiver = receiver
        self._pad = bytes(size - self.HDR.size)
        self._hdr = struct.pack("!HHHH", self.sport, dport, 8 + size, 0)
        self._iphdr = ipv4_header(src.ip, self.dst, 17, 8 + size, ttl=src.ttl)
        # receiver state
        self.received = 0
        self.dups = 0
        self.reordered = 0
        self.bytes = 0
        self._next_exp = 0
        self._seen = bytearray(self.n)
        self._lat = array("d")
        if receiver is not None:
            receiver.bind_udp(dport, self._rx)
        src.schedule(start_ns, self._send)

    def _send(self) -> None:
        h = self.src
        seq = self.sent
        h.send_ip(self.dst, 17, self._hdr + self.HDR.pack(seq, h.now, self.flow_id) + self._pad, header=self._iphdr)
        self.sent = seq + 1
        if self.sent < self.n:
            h.schedule(self.start_ns + self.sent * self.interval_ns, self._send)

    def _rx(self, src: bytes, sport: int, data: bytes, now: float) -> None:
        seq, t_send, fid = self.HDR.unpack_from(data)
        if fid != self.flow_id or seq >= self.n:
            return
        if self._seen[seq]:
            self.dups += 1
            return
        self._seen[seq] = 1
        self.received += 1
        self.bytes += len(data)
        self._lat.append(now - t_send)
        if seq < self._next_exp:
            self.reordered += 1
        else:
            self._next_exp = seq + 1

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": "udp", "name": self.name, "src": self.src.name, "dst": _ip(self.dst),
                               "dport": self.dport, "size": self.size, "rate_bps": self.rate_bps,
                               "duration_ms": self.duration_ns / 1e6, "sent": self.sent}
        if self.receiver is None:
            out["receiver"] = None
            return out
        lat = np.frombuffer(self._lat, dtype=np.float64) if len(self._lat) else None
        out.update({"receiver": self.receiver.name, "received": self.received, "lost": self.sent - self.received,
                    "loss_pct": round(100.0 * (self.sent - self.received) / self.sent, 3) if self.sent else 0.0,
                    "throughput_bps": self.bytes * 8e9 / self.duration_ns, "reordered": self.reordered,
                    "duplicates": self.dups,
                    "latency_ns": None if lat is None else {
                        "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
                        "min": float(lat.min()), "max": float(lat.max()), "mean": float(lat.mean())}})
        return out


class Replay:
    """Send the frames of a capture from a host, as they are, at their
    capture times relative to the first (from ``start_ns``), or at
    ``rate_pps``."""

    def __init__(self, host: Host, path: str, *, start_ns: float, rate_pps: float | None = None,
                 name: str = "replay"):
        from host.pcap import read_capture
        cap = read_capture(path)
        self.host, self.path, self.name = host, path, name
        t0 = cap.times_ns[0] if cap.times_ns else 0
        self.times = ([start_ns + i * 1e9 / rate_pps for i in range(len(cap))] if rate_pps
                      else [start_ns + (t - t0) for t in cap.times_ns])
        self.frames = cap.frames
        self.sent = 0
        if self.frames:
            host.schedule(self.times[0], self._send, 0)

    def _send(self, i: int) -> None:
        self.host.send_frame(self.frames[i])
        self.sent += 1
        if i + 1 < len(self.frames):
            self.host.schedule(self.times[i + 1], self._send, i + 1)

    def result(self) -> dict[str, Any]:
        return {"tool": "replay", "name": self.name, "host": self.host.name, "file": self.path,
                "frames": len(self.frames), "sent": self.sent}
