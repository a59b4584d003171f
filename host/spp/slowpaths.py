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

import importlib.util
import ipaddress
import os
import sys
from typing import Any

from .gpe import SlowPacket, SlowPath
from .srm import SppError, endpoint_tuple

__all__ = ["IPv4SlowPath", "SinkSlowPath", "SHIPPED", "ipv4_forward", "load_slowpath_class"]


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


class I3SlowPath(SlowPath):
    """An i3 server's slow path (virtual_routers.md §1.6): it keeps the
    triggers (identifier prefix -> receiver's (ip, port)) and, when the slice
    has a fast path, writes each as a filter there (key: the identifier's
    first 128 bits; result: ``result`` plus the trigger's address as
    ``next_hop``). Control packets (i3 flag bit 0) insert or remove a trigger:
    their data is op (1 insert, 2 remove), the receiver's IPv4 address and
    UDP port. A data packet with no matching trigger is dropped
    (``no_trigger``; a single i3 server, no Chord routing); with one it is
    sent to the trigger's address from ``via``.

    Args:
        via: the slice's endpoint the slow path sends from ("ip:port").
        triggers: ``[{id: hex, to: "ip:port"}]`` installed at setup.
        result: the fast-path filter result for triggers (``{mi: 1, queue: 0}``).
    """

    def __init__(self, via: str, triggers: list[dict[str, Any]] | None = None,
                 result: dict[str, Any] | None = None, cost_us: float | None = None):
        self.via = endpoint_tuple(via)
        self.result = dict(result or {})
        self.triggers: dict[bytes, tuple[str, int]] = {}
        self._filters: dict[bytes, int] = {}
        self._initial = []
        for i, t in enumerate(triggers or []):
            if not isinstance(t, dict) or set(t) != {"id", "to"}:
                raise SppError(f"triggers[{i}]: give id and to, got {t!r}")
            self._initial.append((_i3_prefix(t["id"]), endpoint_tuple(t["to"])))
        if cost_us is not None:
            self.cost_us = float(cost_us)

    def setup(self) -> None:
        for pid, to in self._initial:
            self.insert(pid, to)

    def _fastpath(self) -> int | None:
        fps = getattr(self.api, "state", None)
        return min(fps) if fps else None

    def insert(self, prefix: bytes, to: tuple[str, int]) -> None:
        self.triggers[prefix] = to
        fp = self._fastpath()
        if fp is not None and self.result:
            if prefix in self._filters:
                self.api.delete_fltr(fp, self._filters.pop(prefix))
            self._filters[prefix] = self.api.write_fltr(fp, {"id": "0x" + prefix.hex()},
                                                        {**self.result, "next_hop": f"{to[0]}:{to[1]}"})
        self.ctx.count("trigger_inserted")

    def remove(self, prefix: bytes) -> None:
        if self.triggers.pop(prefix, None) is None:
            self.ctx.count("trigger_unknown")
            return
        fp = self._fastpath()
        if fp is not None and prefix in self._filters:
            self.api.delete_fltr(fp, self._filters.pop(prefix))
        self.ctx.count("trigger_removed")

    def handle(self, p: bytes) -> None:
        if len(p) < 36 or p[0] != 1:
            self.ctx.count("bad_header")
            return
        prefix = p[4:20]
        if p[1] & 1:                                       # control: trigger insertion or removal
            if len(p) < 43 or p[36] not in (1, 2):
                self.ctx.count("bad_control")
                return
            if p[36] == 1:
                self.insert(prefix, (str(ipaddress.IPv4Address(p[37:41])), p[41] << 8 | p[42]))
            else:
                self.remove(prefix)
            return
        to = self.triggers.get(prefix)
        if to is None:
            self.ctx.count("no_trigger")
            return
        self.ctx.send(self.via, to, p)
        self.ctx.count("forwarded")

    def on_packet(self, pkt: SlowPacket) -> None:
        self.handle(pkt.payload)

    def on_exception(self, pkt: SlowPacket) -> None:
        self.ctx.count(f"exception.{pkt.reason}")
        self.handle(pkt.payload)


def _i3_prefix(x: Any) -> bytes:
    s = str(x)
    s = s[2:] if s.lower().startswith("0x") else s
    try:
        b = bytes.fromhex(s)
    except ValueError:
        raise SppError(f"i3 identifier {x!r} is not hex") from None
    if not 1 <= len(b) <= 32:
        raise SppError(f"i3 identifier {x!r}: 1..32 bytes")
    return (b + bytes(32))[:16]


SHIPPED["i3"] = I3SlowPath


def load_slowpath_class(spec: str, base_dir: str = ".") -> type[SlowPath]:
    """A SlowPath subclass from ``file.py:ClassName`` (relative to ``base_dir``)
    or the name of a shipped one (``ipv4``, ``i3``, ``sink``)."""
    if spec in SHIPPED:
        return SHIPPED[spec]
    file, _, cls = spec.rpartition(":")
    if not file or not cls:
        raise SppError(f"slow path {spec!r}: give file.py:ClassName or a shipped one "
                       f"({', '.join(SHIPPED)})")
    full = file if os.path.isabs(file) else os.path.join(base_dir, file)
    if not os.path.isfile(full):
        raise SppError(f"slow path file {full} does not exist")
    name = f"_slowpath_{abs(hash(full))}"
    try:
        mspec = importlib.util.spec_from_file_location(name, full)
        mod = importlib.util.module_from_spec(mspec)         # type: ignore[arg-type]
        sys.modules[name] = mod
        mspec.loader.exec_module(mod)                        # type: ignore[union-attr]
    except Exception as ex:                                  # noqa: BLE001 -- the user's file
        raise SppError(f"slow path file {full} failed to load: {type(ex).__name__}: {ex}") from None
    c = getattr(mod, cls, None)
    if not (isinstance(c, type) and issubclass(c, SlowPath)):
        found = [k for k, x in vars(mod).items() if isinstance(x, type) and issubclass(x, SlowPath) and x is not SlowPath]
        raise SppError(f"{full} has no SlowPath subclass {cls!r}; it has: {', '.join(found) or 'none'}")
    return c
