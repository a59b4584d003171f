"""Capture files: classic pcap (micro- or nanosecond) and pcapng, Ethernet only.

Read and written with ``struct`` so that replaying a large capture costs
a few microseconds per frame; scapy reads everything written here.
Times are integers in nanoseconds since the epoch.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["CaptureError", "Capture", "read_capture", "write_pcap", "write_pcapng", "LINKTYPE_ETHERNET"]

LINKTYPE_ETHERNET = 1
_PCAP_MAGIC = {0xA1B2C3D4: 1000, 0xA1B23C4D: 1}          # ns per timestamp fraction unit
_SHB, _IDB, _SPB, _EPB = 0x0A0D0D0A, 1, 3, 6


class CaptureError(ValueError):
    """A capture file that cannot be replayed (format, link type)."""


@dataclass
class Capture:
    """Frames of one file: times (ns), bytes, and the pcapng interface of each
    (None for classic pcap) with the interfaces' names."""

    path: str
    times_ns: list[int] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    ifaces: list[int | None] = field(default_factory=list)
    iface_names: list[str] = field(default_factory=list)
    fmt: str = "pcap"

    def __len__(self) -> int:
        return len(self.frames)


def read_capture(path: str | os.PathLike) -> Capture:
    """Read a classic pcap or a pcapng file of Ethernet frames."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CaptureError(f"{path}: cannot read: {e.strerror}") from None
    if len(data) < 4:
        raise CaptureError(f"{path}: not a capture file (too short)")
    head = struct.unpack("<I", data[:4])[0]
    if head == _SHB:
        return _read_pcapng(path, data)
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in _PCAP_MAGIC:
            return _read_pcap(path, data, endian, _PCAP_MAGIC[magic])
    raise CaptureError(f"{path}: not a pcap or pcapng file (magic {data[:4].hex()})")


def _read_pcap(path: str, data: bytes, e: str, unit_ns: int) -> Capture:
    if len(data) < 24:
        raise CaptureError(f"{path}: truncated pcap header")
    linktype = struct.unpack_from(e + "I", data, 20)[0] & 0x0FFFFFFF
    if linktype != LINKTYPE_ETHERNET:
        raise CaptureError(f"{path}: link type {linktype}; only Ethernet (1) can be replayed")
    cap = Capture(path, fmt="pcap")
    off, n = 24, len(data)
    rec = struct.Struct(e + "IIII")
    while off + 16 <= n:
        sec, frac, incl, _orig = rec.unpack_from(data, off)
        off += 16
        if off + incl > n:
            raise CaptureError(f"{path}: frame {len(cap)} is truncated")
        cap.times_ns.append(sec * 1_000_000_000 + frac * unit_ns)
        cap.frames.append(data[off:off + incl])
        cap.ifaces.append(None)
        off += incl
    return cap


def _read_pcapng(path: str, data: bytes) -> Capture:
    cap = Capture(path, fmt="pcapng")
    off, n = 0, len(data)
    e = "<"
    resol: list[tuple[int, int]] = []              # per interface: (numerator ns, denominator)
    while off + 12 <= n:
        btype = struct.unpack_from(e + "I", data, off)[0]
        if btype == _SHB:
            bom = data[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else ""
            if not e:
                raise CaptureError(f"{path}: bad pcapng byte-order magic")
            resol = []                             # a new section restarts interface numbering
            base = len(cap.iface_names)
        blen = struct.unpack_from(e + "I", data, off + 4)[0]
        if blen < 12 or off + blen > n:
            raise CaptureError(f"{path}: truncated pcapng block at byte {off}")
        body = data[off + 8:off + blen - 4]
        if btype == _IDB:
            linktype = struct.unpack_from(e + "H", body, 0)[0]
            if linktype != LINKTYPE_ETHERNET:
                raise CaptureError(f"{path}: interface {len(resol)} has link type {linktype}; "
                                   "only Ethernet (1) can be replayed")
            name, ts = f"if{len(resol)}", (1000, 1)
            for code, val in _options(body[8:], e):
                if code == 2:
                    name = val.rstrip(b"\0").decode("utf-8", "replace")
                elif code == 9 and val:
                    r = val[0]
                    ts = (10 ** 9, 10 ** (r & 0x7F)) if not r & 0x80 else (10 ** 9, 2 ** (r & 0x7F))
            resol.append(ts)
            cap.iface_names.append(name)
        elif btype == _EPB:
            iface, hi, lo, caplen = struct.unpack_from(e + "IIII", body, 0)
            if iface >= len(resol):
                raise CaptureError(f"{path}: frame {len(cap)} names interface {iface}, which is not described")
            num, den = resol[iface]
            cap.times_ns.append(((hi << 32) | lo) * num // den)
            cap.frames.append(body[20:20 + caplen])
            cap.ifaces.append(base + iface)
        elif btype == _SPB:
            if not resol:
                raise CaptureError(f"{path}: simple packet block before any interface")
            orig = struct.unpack_from(e + "I", body, 0)[0]
            cap.times_ns.append(cap.times_ns[-1] if cap.times_ns else 0)
            cap.frames.append(body[4:4 + orig])
            cap.ifaces.append(base)
        off += blen
    return cap


def _options(buf: bytes, e: str) -> Iterable[tuple[int, bytes]]:
    off = 0
    while off + 4 <= len(buf):
        code, ln = struct.unpack_from(e + "HH", buf, off)
        if code == 0:
            return
        yield code, buf[off + 4:off + 4 + ln]
        off += 4 + ln + (-ln % 4)


def write_pcap(path: str | os.PathLike, packets: Iterable[tuple[int, bytes]]) -> int:
    """Write (time ns, frame) pairs as a nanosecond-resolution pcap; returns the count."""
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for t, frame in packets:
            f.write(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(frame), len(frame)))
            f.write(frame)
            n += 1
    return n


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    ln = len(body) + 12
    return struct.pack("<II", btype, ln) + body + struct.pack("<I", ln)


def _opt(code: int, val: bytes) -> bytes:
    return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def write_pcapng(path: str | os.PathLike, packets: Iterable[tuple[int, bytes, str]],
                 iface_name: str = "host") -> int:
    """Write (time ns, frame, comment) triples as pcapng, one interface with
    nanosecond timestamps; the comment (opt_comment) says why; returns the count."""
    n = 0
    with open(path, "wb") as f:
        f.write(_block(_SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(_block(_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 65535)
                       + _opt(2, iface_name.encode()) + _opt(9, bytes([9])) + _opt(0, b"")))
        for t, frame, comment in packets:
            opts = (_opt(1, comment.encode()) + _opt(0, b"")) if comment else b""
            f.write(_block(_EPB, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), len(frame))
                           + frame + b"\0" * (-len(frame) % 4) + opts))
            n += 1
    return n
