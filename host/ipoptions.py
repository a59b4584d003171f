"""IPv4 options as the slow path handles them (RFC 791, RFC 1812 5.2.4, RFC 7126).

The fast path hands every forwarded datagram with options (IHL > 5) to the
control processor. The slow path walks the options in place:

==================  ======  ===============================================
option              type    what the router does
==================  ======  ===============================================
End of list, NOP    0, 1    skipped
Record Route        7       processed: the outgoing interface's address is
                            recorded at the pointer, pointer += 4; a full
                            option is forwarded unchanged (RFC 791)
Timestamp           68      processed, flags 0 (timestamp), 1 (address +
                            timestamp, outgoing interface's address) and 3
                            (prespecified: only when the next address is one
                            of the router's); full -> overflow count + 1;
                            overflow of the count -> parameter problem
Router Alert        148     forwarded unchanged (RFC 2113; no daemon here
                            wants the packets)
Security, Stream    130,    forwarded unchanged (obsolete, RFC 6814)
ID, unknown types   136, *  (RFC 1122 3.2.1.8: ignore unknown options)
Loose / Strict      131,    the operator's choice, ``slow_path.source_route``
source route        137     (``host.slowpath``): ``drop`` (default, RFC 7126
                            4.3/4.4), ``reject`` (ICMP 3/5) or ``accept``
                            (followed as RFC 791 / RFC 1812 5.2.4.1,
                            5.3.13.4 say: see ``source_route``,
                            ``follow_source_route``); ``process_options``
                            leaves them as they are
malformed option    any     parameter problem pointing at the bad octet
                            (length < 2 or past the header, pointer below
                            its minimum or misaligned, timestamp flag 2 or
                            > 3, entry that does not fit)
==================  ======  ===============================================

Timestamps are the simulated time in milliseconds with the high-order bit
set: RFC 791 asks for that bit when the value is not milliseconds since
midnight UT, which simulated time is not.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["OptionResult", "process_options", "copied_options", "SourceRoute", "source_route", "follow_source_route",
           "reverse_source_route", "echo_options", "pad_options", "OPT_EOL", "OPT_NOP", "OPT_RR", "OPT_TS",
           "OPT_LSRR", "OPT_SSRR", "OPT_RA"]

OPT_EOL, OPT_NOP, OPT_RR, OPT_TS, OPT_LSRR, OPT_SSRR, OPT_RA = 0, 1, 7, 68, 131, 137, 148
_SOURCE_ROUTES = {OPT_LSRR: "loose source route", OPT_SSRR: "strict source route"}


@dataclass
class OptionResult:
    """What processing did: ``problem`` is the parameter-problem pointer
    (offset in the IPv4 header) when the datagram must be refused."""

    processed: list[str] = field(default_factory=list)
    problem: int | None = None
    why: str = ""


def process_options(header: bytearray, *, out_addr: bytes, router_addrs: frozenset[bytes] | set[bytes],
                    now_ms: int) -> OptionResult:
    """Process the options of an IPv4 ``header`` in place (not its checksum).

    Args:
        header: the whole IPv4 header (20 bytes + options).
        out_addr: the address of the interface the datagram leaves by.
        router_addrs: every address of the router (prespecified timestamps).
        now_ms: simulated time in milliseconds.
    """
    res = OptionResult()
    end = len(header)
    i = 20
    while i < end:
        t = header[i]
        if t == OPT_EOL:
            break
        if t == OPT_NOP:
            i += 1
            continue
        if i + 1 >= end:
            return _bad(res, i, "option type with no length octet")
        ln = header[i + 1]
        if ln < 2 or i + ln > end:
            return _bad(res, i + 1, f"option {t} length {ln} does not fit the header")
        if t in _SOURCE_ROUTES:                  # the slow path's source_route setting decides
            err = _source_route_format(header, i, ln)
            if err is not None:
                return _bad(res, *err)
            res.processed.append("source_route")
        elif t == OPT_RR:
            err = _record_route(header, i, ln, out_addr)
            if err is not None:
                return _bad(res, *err)
            res.processed.append("record_route")
        elif t == OPT_TS:
            err = _timestamp(header, i, ln, out_addr, router_addrs, now_ms)
            if err is not None:
                return _bad(res, *err)
            res.processed.append("timestamp")
        else:
            res.processed.append("router_alert" if t == OPT_RA else "passed")
        i += ln
    return res


def _bad(res: OptionResult, pointer: int, why: str) -> OptionResult:
    res.problem, res.why = pointer, why
    return res


def _source_route_format(h: bytearray, i: int, ln: int) -> tuple[int, str] | None:
    if ln < 3:
        return i + 1, "source route shorter than 3 octets"
    ptr = h[i + 2]
    if ptr < 4 or (ptr - 4) % 4:
        return i + 2, f"source route pointer {ptr} is not 4 + 4k"
    if ptr <= ln and ptr + 3 > ln:
        return i + 2, "source route pointer leaves no room for an address"
    return None


@dataclass(frozen=True)
class SourceRoute:
    """A loose or strict source route option found in a header."""

    offset: int                 # of the option's type octet in the header
    kind: int                   # OPT_LSRR or OPT_SSRR
    length: int
    pointer: int

    @property
    def strict(self) -> bool:
        return self.kind == OPT_SSRR

    @property
    def name(self) -> str:
        return _SOURCE_ROUTES[self.kind]

    @property
    def exhausted(self) -> bool:
        """No address left: the datagram is at its final destination (RFC 791)."""
        return self.pointer > self.length

    def next_address(self, header: bytes | bytearray) -> bytes:
        at = self.offset + self.pointer - 1
        return bytes(header[at:at + 4])


def source_route(header: bytes | bytearray) -> SourceRoute | None:
    """The first loose or strict source route option of an IPv4 ``header``
    (None if it has none, or its options are malformed before one)."""
    i, end = 20, len(header)
    while i < end:
        t = header[i]
        if t == OPT_EOL:
            return None
        if t == OPT_NOP:
            i += 1
            continue
        if i + 1 >= end:
            return None
        ln = header[i + 1]
        if ln < 2 or i + ln > end:
            return None
        if t in _SOURCE_ROUTES and ln >= 3:
            return SourceRoute(i, t, ln, header[i + 2])
        i += ln
    return None


def follow_source_route(header: bytearray, sr: SourceRoute, out_addr: bytes) -> bytes:
    """RFC 791 3.1 / RFC 1812 5.2.4.1: at the datagram's current destination,
    the next address of the route becomes the destination and is replaced by
    the address of the interface the datagram leaves by (``out_addr``); the
    pointer advances. Changes ``header`` in place (not its checksum);
    returns the new destination."""
    nxt = sr.next_address(header)
    at = sr.offset + sr.pointer - 1
    header[at:at + 4] = out_addr
    header[sr.offset + 2] = sr.pointer + 4
    header[16:20] = nxt
    return nxt


def reverse_source_route(header: bytes, sr: SourceRoute, orig_src: bytes) -> tuple[bytes, bytes]:
    """RFC 1122 3.2.1.8 (c) / 3.2.2.6: the return route of a source route that
    reached its destination -- the recorded addresses reversed, the original
    source last. Returns (the option, not padded; the first hop, which
    becomes the reply's destination)."""
    addrs = [bytes(header[sr.offset + 3 + 4 * k:sr.offset + 7 + 4 * k]) for k in range((sr.length - 3) // 4)]
    if not addrs:
        return b"", orig_src
    route = addrs[::-1]
    first, rest = route[0], route[1:] + [orig_src]
    return bytes([sr.kind, 3 + 4 * len(rest), 4]) + b"".join(rest), first


def echo_options(header: bytes) -> bytes:
    """The Record Route and Timestamp options of an echo request, in their
    order and unchanged, for the echo reply (RFC 1122 3.2.2.6: the reply
    carries them, updated by the replier), not padded. Other options are
    not echoed (a source route is reversed instead: reverse_source_route)."""
    out = bytearray()
    i, end = 20, len(header)
    while i < end:
        t = header[i]
        if t == OPT_EOL:
            break
        if t == OPT_NOP:
            i += 1
            continue
        ln = header[i + 1] if i + 1 < end else 0
        if ln < 2 or i + ln > end:
            break
        if t in (OPT_RR, OPT_TS):
            out += header[i:i + ln]
        i += ln
    return bytes(out)


def pad_options(options: bytes) -> bytes:
    """Options padded with End-of-list octets to a multiple of 4 (RFC 791)."""
    return options + b"\0" * (-len(options) % 4)


def _record_route(h: bytearray, i: int, ln: int, out_addr: bytes) -> tuple[int, str] | None:
    if ln < 3:
        return i + 1, "record route shorter than 3 octets"
    ptr = h[i + 2]
    if ptr < 4 or (ptr - 4) % 4:
        return i + 2, f"record route pointer {ptr} is not 4 + 4k"
    if ptr > ln:                                  # full: forward unchanged
        return None
    if ptr + 3 > ln:
        return i + 2, "record route pointer leaves no room for an address"
    h[i + ptr - 1:i + ptr + 3] = out_addr
    h[i + 2] = ptr + 4
    return None


def _timestamp(h: bytearray, i: int, ln: int, out_addr: bytes, mine, now_ms: int) -> tuple[int, str] | None:
    if ln < 4:
        return i + 1, "timestamp option shorter than 4 octets"
    ptr, oflw, flg = h[i + 2], h[i + 3] >> 4, h[i + 3] & 15
    if flg not in (0, 1, 3):
        return i + 3, f"timestamp flag {flg} is not 0, 1 or 3"
    size = 4 if flg == 0 else 8
    if ptr < 5 or (ptr - 5) % size:
        return i + 2, f"timestamp pointer {ptr} is not 5 + {size}k"
    if ptr > ln:                                  # full: count the overflow
        if oflw == 15:
            return i + 3, "timestamp overflow count overflowed"
        h[i + 3] = ((oflw + 1) << 4) | flg
        return None
    if ptr + size - 1 > ln:
        return i + 2, "timestamp pointer leaves no room for an entry"
    stamp = struct.pack("!I", 0x80000000 | (now_ms & 0x7FFFFFFF))
    at = i + ptr - 1
    if flg == 0:
        h[at:at + 4] = stamp
    elif flg == 1:
        h[at:at + 8] = out_addr + stamp
    else:
        if bytes(h[at:at + 4]) not in mine:       # not our turn: pass on
            return None
        h[at + 4:at + 8] = stamp
    h[i + 2] = ptr + size
    return None


def copied_options(options: bytes) -> bytes:
    """The options a non-first fragment carries: those with the copy flag
    (RFC 791 p. 15), padded with End-of-list to a multiple of 4 octets."""
    out = bytearray()
    i = 0
    while i < len(options):
        t = options[i]
        if t == OPT_EOL:
            break
        if t == OPT_NOP:
            i += 1
            continue
        ln = options[i + 1] if i + 1 < len(options) else 0
        if ln < 2:
            break
        if t & 0x80:
            out += options[i:i + ln]
        i += ln
    out += b"\0" * (-len(out) % 4)
    return bytes(out)
