"""Slow paths shipped with the project (``slowpath: ipv4`` in a topology).

* ``IPv4SlowPath``: an IPv4 meta-router in the slow path (the role of the
  SPP's ``ip_fpd`` daemon for local delivery and exceptions, and the whole
  router for a GPE-only slice). Routes map overlay prefixes to a next hop
  (the remote tunnel end) and the local endpoint to send from. A datagram
  is checked (RFC 791 version, header length, total length, header
  checksum; bad ones dropped ``ip_malformed``), its TTL decremented (TTL
  <= 1: dropped ``ttl_expired``, RFC 1812 5.3.1), its checksum updated, and
  it is sent in a new tunnel packet by longest-prefix match (no route:
  ``no_route``); datagrams for the slice's own ``local`` addresses are
  consumed (``local_delivery``).
* ``SinkSlowPath``: consumes and counts everything (a slice whose traffic
  must all be handled by its fast path).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from .gpe import SlowPacket, SlowPath
from .srm import SppError, endpoint_tuple

__all__ = ["IPv4SlowPath", "SinkSlowPath", "SHIPPED", "ipv4_forward"]


def _csum(h: bytes) -> int:
    s = 0
    for i in range(0, len(h), 2):
        s += h[i] << 8 | h[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_forward(d: bytes) -> tuple[bytes | None, str]:
    """Check an overlay IPv4 datagram and decrement its TTL: (datagram, "") or (None, drop reason)."""
    if len(d) < 20 or d[0] >> 4 != 4:
        return None, "ip_malformed"
    ihl = (d[0] & 15) * 4
    tot = d[2] << 8 | d[3]
    if ihl < 20 or tot < ihl or len(d) < tot or _csum(d[:ihl]) != 0:
        return None, "ip_malformed"
    if d[8] <= 1:
        return None, "ttl_expired"
    h = bytearray(d[:ihl])
    h[8] -= 1
    h[10:12] = b"\0\0"
    h[10:12] = _csum(bytes(h)).to_bytes(2, "big")
    return bytes(h) + d[ihl:tot], ""


class IPv4SlowPath(SlowPath):
    """An IPv4 overlay router in the slow path (see module doc).

    Args:
        routes: ``[{prefix: 10.1.0.0/16, next_hop: "ip:port", via: "ip:port"}]`` --
            ``next_hop`` the remote tunnel end, ``via`` one of the slice's endpoints.
        local: overlay addresses of the slice itself (their datagrams are consumed).
        cost_us: per-packet cost on one core (default: the GPE's).
    """

    def __init__(self, routes: list[dict[str, Any]] | None = None, local: list[str] | None = None,
                 cost_us: float | None = None):
        self.routes: list[tuple[ipaddress.IPv4Network, tuple[str, int], tuple[str, int]]] = []
        for i, r in enumerate(routes or []):
            if not isinstance(r, dict) or set(r) - {"prefix", "next_hop", "via"} or len(r) != 3:
                raise SppError(f"routes[{i}]: give prefix, next_hop and via, got {r!r}")
            try:
                net = ipaddress.IPv4Network(r["prefix"])
            except ValueError as ex:
                raise SppError(f"routes[{i}].prefix: {ex}") from None
            self.routes.append((net, endpoint_tuple(r["next_hop"]), endpoint_tuple(r["via"])))
        self.routes.sort(key=lambda x: -x[0].prefixlen)
        self.local = {ipaddress.IPv4Address(a).packed for a in (local or [])}
        if cost_us is not None:
            self.cost_us = float(cost_us)

    def lookup(self, dst: bytes) -> tuple[tuple[str, int], tuple[str, int]] | None:
        a = ipaddress.IPv4Address(dst)
        for net, nh, via in self.routes:
            if a in net:
                return nh, via
        return None

    def forward(self, payload: bytes) -> None:
        ctx = self.ctx
        if len(payload) >= 20 and payload[16:20] in self.local:
            ctx.count("local_delivery")
            return
        d, why = ipv4_forward(payload)
        if d is None:
            ctx.count(why)
            return
        r = self.lookup(d[16:20])
        if r is None:
            ctx.count("no_route")
            return
        ctx.send(r[1], r[0], d)
        ctx.count("forwarded")

    def on_packet(self, pkt: SlowPacket) -> None:
        self.forward(pkt.payload)

    def on_exception(self, pkt: SlowPacket) -> None:
        self.ctx.count(f"exception.{pkt.reason}")
        self.forward(pkt.payload)

    def on_local(self, pkt: SlowPacket) -> None:
        self.ctx.count("local_delivery")


class SinkSlowPath(SlowPath):
    """Consumes and counts every packet (by kind and reason)."""

    def __init__(self, cost_us: float | None = None):
        if cost_us is not None:
            self.cost_us = float(cost_us)

    def on_packet(self, pkt: SlowPacket) -> None:
        self.ctx.count("packet")

    def on_exception(self, pkt: SlowPacket) -> None:
        self.ctx.count(f"exception.{pkt.reason}")

    def on_local(self, pkt: SlowPacket) -> None:
        self.ctx.count("local")


SHIPPED: dict[str, type[SlowPath]] = {"ipv4": IPv4SlowPath, "sink": SinkSlowPath}
