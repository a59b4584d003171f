"""Reassembly of IPv4 datagrams addressed to the router (RFC 791 3.2, RFC 1122
3.3.2, RFC 1812 4.2.2.8).

Fragments the fast path delivers locally are kept per datagram -- the key is
(source, destination, protocol, identification), RFC 791 -- until every byte
from offset 0 to the end the last fragment (MF = 0) names has arrived; the
whole datagram is then handed on as if it had arrived in one piece.

- **Memory** is bounded: at most ``max_bytes`` of fragment data is held over
  all datagrams. A fragment that would exceed it is dropped and counted
  (``reasm.full_drops``); the datagram it belongs to may still complete if
  the fragment is sent again.
- **Timeout** (RFC 1122 3.3.2): a datagram not complete ``timeout_ns`` after
  its first fragment arrived is discarded (``reasm.timeouts``) and, if its
  fragment zero was received, ICMP time exceeded, fragment reassembly time
  exceeded (11/1) is sent to its source, quoting fragment zero.
- **Overlaps** (RFC 5722, written for IPv6 and applied here to IPv4 as the
  issue asks): a fragment that overlaps data already held, other than an
  exact duplicate, discards the whole datagram (``reasm.overlap_drops``) and
  every later fragment of it until its timeout (``reasm.discarded_fragments``);
  no ICMP is sent. Exact duplicates (same offset, length and bytes) are
  ignored (``reasm.duplicates``), as Linux does.
- **Malformed**: a non-last fragment whose data is not a multiple of 8 bytes,
  fragments past the end the last fragment set, two different ends, or a
  datagram longer than 65,535 bytes discard the datagram (``reasm.malformed``,
  ``reasm.too_big``).

The reassembled datagram takes fragment zero's header (its options are the
datagram's: RFC 791 puts every option in the first fragment) with MF and the
offset cleared, the total length of the whole, and a new checksum.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .packet import IPv4, parse_ipv4, set_ipv4_checksum

if TYPE_CHECKING:
    from .handlers import Counters

__all__ = ["Reassembler", "REASM_COUNTERS", "MAX_DATAGRAM"]

MAX_DATAGRAM = 65535
REASM_COUNTERS = ("reasm.fragments", "reasm.datagrams", "reasm.full_drops", "reasm.overlap_drops",
                  "reasm.discarded_fragments", "reasm.duplicates", "reasm.timeouts", "reasm.malformed",
                  "reasm.too_big", "reasm.held_bytes_hwm")

Key = tuple[bytes, bytes, int, int]


@dataclass
class _Datagram:
    deadline_ns: float
    in_port: int
    pieces: dict[int, bytes] = field(default_factory=dict)     # byte offset -> data
    first: IPv4 | None = None                                  # fragment zero, as received
    end: int | None = None                                     # data length, once MF = 0 was seen
    held: int = 0
    dead: bool = False                                         # discarded: later fragments dropped


class Reassembler:
    """Reassembly buffers of one router.

    Args:
        counters: where the ``reasm.*`` counters live (declared by the slow path).
        max_bytes: fragment data held at most, over all datagrams.
        timeout_ns: how long a datagram may take to complete.
        call_at: schedules a timer at a simulated time (``Assembly.call_at``).
        on_timeout: called with fragment zero (or None) and the input port when
            a datagram times out -- the slow path sends ICMP 11/1 from there.
    """

    def __init__(self, counters: "Counters", *, max_bytes: int, timeout_ns: float,
                 call_at: Callable[[float, Callable[[], None]], None],
                 on_timeout: Callable[[IPv4 | None, int], None]):
        self.c = counters
        self.max_bytes = max_bytes
        self.timeout_ns = timeout_ns
        self._call_at = call_at
        self._on_timeout = on_timeout
        self._dgrams: dict[Key, _Datagram] = {}
        self.held = 0

    @property
    def pending(self) -> int:
        """Datagrams being reassembled (discarded ones waiting for their timeout not counted)."""
        return sum(1 for d in self._dgrams.values() if not d.dead)

    def add(self, frag: IPv4, in_port: int, now_ns: float) -> IPv4 | None:
        """Take one fragment; returns the whole datagram when this one completed it."""
        c = self.c
        c.add("reasm.fragments")
        key = (frag.src, frag.dst, frag.proto, frag.ident)
        d = self._dgrams.get(key)
        if d is None:
            d = self._dgrams[key] = _Datagram(now_ns + self.timeout_ns, in_port)
            self._call_at(d.deadline_ns, lambda: self._expire(key, d))
        if d.dead:
            c.add("reasm.discarded_fragments")
            return None
        off, data = frag.frag_offset * 8, frag.payload
        if frag.mf and (len(data) % 8 or not data):
            return self._bad(d, "reasm.malformed")
        if frag.ihl * 4 + off + len(data) > MAX_DATAGRAM:
            return self._bad(d, "reasm.too_big")
        end = d.end
        if not frag.mf:
            if end is not None and end != off + len(data):
                return self._bad(d, "reasm.malformed")
            end = off + len(data)
        if end is not None and (off + len(data) > end or any(o + len(p) > end for o, p in d.pieces.items())):
            return self._bad(d, "reasm.malformed")
        if d.pieces.get(off) == data:
            c.add("reasm.duplicates")
            return None
        if any(off < o + len(p) and o < off + len(data) for o, p in d.pieces.items()):
            return self._bad(d, "reasm.overlap_drops")
        if self.held + len(data) > self.max_bytes:
            c.add("reasm.full_drops")
            return None
        d.end = end
        d.pieces[off] = data
        d.held += len(data)
        self.held += len(data)
        c.max("reasm.held_bytes_hwm", self.held)
        if off == 0:
            d.first = frag
        if d.end is None or d.first is None:
            return None
        pos = 0
        for o in sorted(d.pieces):
            if o != pos:
                return None
            pos += len(d.pieces[o])
        if pos != d.end:
            return None
        whole = self._build(d)
        self._release(d)
        del self._dgrams[key]
        c.add("reasm.datagrams")
        return whole

    def _build(self, d: _Datagram) -> IPv4:
        first = d.first
        assert first is not None
        hdr = bytearray(first.header)
        total = len(hdr) + d.end
        hdr[2:4] = total.to_bytes(2, "big")
        hdr[6:8] = (int.from_bytes(hdr[6:8], "big") & 0x4000).to_bytes(2, "big")    # keep DF; MF = 0, offset 0
        set_ipv4_checksum(hdr)
        raw = bytes(hdr) + b"".join(d.pieces[o] for o in sorted(d.pieces))
        ip = parse_ipv4(raw, 0)
        assert ip is not None
        return ip

    def _release(self, d: _Datagram) -> None:
        self.held -= d.held
        d.held = 0
        d.pieces.clear()

    def _bad(self, d: _Datagram, counter: str) -> None:
        self.c.add(counter)
        self._discard(d)

    def _discard(self, d: _Datagram) -> None:
        self._release(d)
        d.dead = True
        d.first = None

    def _expire(self, key: Key, d: _Datagram) -> None:
        if self._dgrams.get(key) is not d:          # completed (and maybe a new one started since)
            return
        del self._dgrams[key]
        if d.dead:
            return
        self.c.add("reasm.timeouts")
        first = d.first
        self._release(d)
        self._on_timeout(first, d.in_port)
