"""Capture files: classic pcap (micro- or nanosecond) and pcapng, Ethernet only.

Read and written with ``struct``, a record at a time, so a capture of any
size is replayed in bounded memory at under a microsecond per frame.
Times are integers in nanoseconds since the epoch.

Why not scapy's ``RawPcapReader``/``RawPcapNgReader`` or dpkt's readers:
on a file cut inside a record, or a pcapng block with a bad length, scapy
logs a warning and returns a short frame or silently stops, so a damaged
capture would replay as if it were whole; dpkt's readers give float
timestamps (a nanosecond pcap loses its nanoseconds) and raise
``NeedData`` on short records. This reader checks every length against the
file and raises ``CaptureError`` naming the file, the record and its byte
offset; the tests read scapy-written files with it and read its output
with scapy.

Limits checked: a record's captured length at most ``MAX_CAPLEN``
(262,144 bytes, libpcap's maximum snap length); a pcapng block at most
``MAX_BLOCK`` (16 MiB) unless skipped unread; block lengths multiples of 4
and repeated at the block's end.
"""
from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple

__all__ = ["CaptureError", "Capture", "Record", "CaptureReader", "read_capture", "PcapWriter", "PcapngWriter",
           "write_pcap", "write_pcapng", "LINKTYPE_ETHERNET", "MAX_CAPLEN", "MAX_PCAP_SECONDS"]

LINKTYPE_ETHERNET = 1
MAX_CAPLEN = 262_144                  # libpcap's MAXIMUM_SNAPLEN
MAX_BLOCK = 16 << 20                  # a pcapng block this reader will hold in memory
MAX_PCAP_SECONDS = 2**32 - 1          # classic pcap: 32-bit seconds (up to 2106-02-07)
_PCAP_MAGIC = {0xA1B2C3D4: 1000, 0xA1B23C4D: 1}          # ns per timestamp fraction unit
_SHB, _IDB, _SPB, _EPB = 0x0A0D0D0A, 1, 3, 6
_BOM = 0x1A2B3C4D
_CHUNK = 1 << 20                       # bytes read at a time from a classic pcap


class CaptureError(ValueError):
    """A capture file that cannot be replayed (format, link type, damage); the
    message names the file, and for damage the record and its byte offset."""


class Record(NamedTuple):
    """One frame of a capture.

    ``t_ns``: capture time, ns since the epoch; ``data``: the captured bytes;
    ``orig_len``: the frame's length on the wire (more than ``len(data)`` when
    the snap length cut it); ``iface``: pcapng interface number (counted over
    the whole file), None in a classic pcap; ``index``: the frame's number in
    the file, from 0.
    """

    t_ns: int
    data: bytes
    orig_len: int
    iface: int | None
    index: int

    @property
    def truncated(self) -> bool:
        return self.orig_len > len(self.data)


class CaptureReader:
    """A capture file read one record at a time (iterate it for ``Record``s).

    Opening reads and checks the file header (``CaptureError`` if it is not
    a pcap or pcapng of Ethernet frames). ``iface_names`` grows as pcapng
    interface blocks are met; ``pos`` is the number of bytes consumed and
    ``size`` the file's size (None for a pipe or device).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise CaptureError(f"{self.path}: is a directory, not a capture file")
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except OSError as e:
            raise CaptureError(f"{self.path}: cannot read: {e.strerror}") from None
        try:
            st = os.fstat(self._f.fileno())
            self.size: int | None = st.st_size if stat.S_ISREG(st.st_mode) else None
            self.pos = 0
            self.iface_names: list[str] = []
            self._n = 0
            head = self._read(4)
            if len(head) < 4:
                raise CaptureError(f"{self.path}: not a capture file (only {len(head)} bytes)")
            if struct.unpack("<I", head)[0] == _SHB:
                self.fmt = "pcapng"
                self._head = head
            else:
                self.fmt = "pcap"
                self._open_pcap(head)
        except BaseException:
            self._f.close()
            raise

    # ------------------------------------------------------------------ plumbing
    def _read(self, n: int) -> bytes:
        b = self._f.read(n)
        self.pos += len(b)
        return b

    def _skip(self, n: int) -> int:
        """Skip ``n`` bytes without holding them; returns how many were there."""
        if self._f.seekable() and self.size is not None:
            k = min(n, self.size - self.pos)
            self._f.seek(k, os.SEEK_CUR)
            self.pos += k
            return k
        done = 0
        while done < n:
            b = self._read(min(1 << 20, n - done))
            if not b:
                break
            done += len(b)
        return done

    def _err(self, what: str, at: int, n: int | None = None) -> CaptureError:
        n = self._n if n is None else n
        if self.fmt == "pcap":
            return CaptureError(f"{self.path}: record {n} (byte {at}): {what}")
        return CaptureError(f"{self.path}: block at byte {at} (after {n} frames): {what}")

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "CaptureReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        return self._pcap() if self.fmt == "pcap" else self._pcapng()

    # ------------------------------------------------------------------ classic pcap
    def _open_pcap(self, head: bytes) -> None:
        for e in "<>":
            magic = struct.unpack(e + "I", head)[0]
            if magic in _PCAP_MAGIC:
                self._e, self._unit = e, _PCAP_MAGIC[magic]
                break
        else:
            raise CaptureError(f"{self.path}: not a pcap or pcapng file (magic {head.hex()})")
        rest = self._read(20)
        if len(rest) < 20:
            raise CaptureError(f"{self.path}: truncated pcap file header ({4 + len(rest)} of 24 bytes)")
        linktype = struct.unpack_from(self._e + "I", rest, 16)[0] & 0x0FFFFFFF
        if linktype != LINKTYPE_ETHERNET:
            raise CaptureError(f"{self.path}: link type {linktype}; only Ethernet (1) can be replayed")

    def _pcap(self) -> Iterator[Record]:
        unpack = struct.Struct(self._e + "IIII").unpack_from
        unit = self._unit
        frac_max = 1_000_000_000 // unit
        read = self._f.read
        buf, off, base = b"", 0, self.pos          # base: file offset of buf[0]
        n = 0
        while True:
            have = len(buf) - off
            if have < 16:
                more = read(_CHUNK)
                if not more:
                    self.pos = base + len(buf)
                    if have:
                        raise self._err(f"the file ends inside the record header ({have} of 16 bytes)",
                                        base + off, n)
                    return
                buf, base, off = buf[off:] + more, base + off, 0
                continue
            sec, frac, incl, orig = unpack(buf, off)
            end = off + 16 + incl
            if end > len(buf):
                if incl > MAX_CAPLEN:
                    raise self._err(f"captured length {incl} exceeds {MAX_CAPLEN} bytes (corrupt or not a pcap)",
                                    base + off, n)
                more = read(max(_CHUNK, end - len(buf)))
                if not more:
                    self.pos = base + len(buf)
                    raise self._err(f"the file ends inside the frame ({have - 16} of {incl} bytes)", base + off, n)
                buf, base, off = buf[off:] + more, base + off, 0
                continue
            if frac >= frac_max:
                raise self._err(f"timestamp fraction {frac} is not below {frac_max} (corrupt)", base + off, n)
            if incl > MAX_CAPLEN:
                raise self._err(f"captured length {incl} exceeds {MAX_CAPLEN} bytes (corrupt or not a pcap)",
                                base + off, n)
            self.pos = base + end
            yield Record(sec * 1_000_000_000 + frac * unit, buf[off + 16:end], orig if orig > incl else incl,
                         None, n)
            n += 1
            off = end

    # ------------------------------------------------------------------ pcapng
    def _pcapng(self) -> Iterator[Record]:
        e = "<"
        resol: list[tuple[int, int, int]] = []     # per interface of the section: (num, den, offset ns)
        base = 0
        last_t = 0
        first = True
        while True:
            at = self.pos
            head = self._head if first else self._read(4)
            first = False
            if not head:
                return
            ln = self._read(4)
            if len(head) + len(ln) < 8:
                raise self._err(f"the file ends inside a block header ({len(head) + len(ln)} of 8 bytes)", at)
            btype = struct.unpack(e + "I", head)[0]
            if btype == _SHB:                      # the section header fixes the byte order
                bom = self._read(4)
                if len(bom) < 4:
                    raise self._err("the file ends inside the section header", at)
                if struct.unpack("<I", bom)[0] == _BOM:
                    e = "<"
                elif struct.unpack(">I", bom)[0] == _BOM:
                    e = ">"
                else:
                    raise self._err(f"bad pcapng byte-order magic {bom.hex()}", at)
                blen = struct.unpack(e + "I", ln)[0]
                self._check_len(blen, 28, at)
                rest = self._body(blen - 12, at)
                if struct.unpack_from(e + "I", rest, len(rest) - 4)[0] != blen:
                    raise self._err(f"block length {blen} is not repeated at the block's end", at)
                base, resol = len(self.iface_names), []          # a new section restarts interface numbers
                continue
            blen = struct.unpack(e + "I", ln)[0]
            if btype in (_IDB, _EPB, _SPB):
                self._check_len(blen, {_IDB: 20, _EPB: 32, _SPB: 16}[btype], at)
                body = self._body(blen - 8, at)
            else:                                  # other block types: skipped unread
                self._check_len(blen, 12, at, limit=False)
                if self._skip(blen - 12) < blen - 12:
                    raise self._err(f"the file ends inside a {blen}-byte block", at)
                self._trailer(blen, e, at)
                continue
            if struct.unpack_from(e + "I", body, len(body) - 4)[0] != blen:
                raise self._err(f"block length {blen} is not repeated at the block's end", at)
            body = body[:-4]
            if btype == _IDB:
                linktype = struct.unpack_from(e + "H", body, 0)[0]
                if linktype != LINKTYPE_ETHERNET:
                    raise self._err(f"interface {len(resol)} has link type {linktype}; "
                                    "only Ethernet (1) can be replayed", at)
                name, num, den, off = f"if{len(resol)}", 1000, 1, 0
                for code, val in self._options(body[8:], e, at):
                    if code == 2:
                        name = val.rstrip(b"\0").decode("utf-8", "replace")
                    elif code == 9 and val:
                        r = val[0]
                        num, den = (10**9, 10 ** (r & 0x7F)) if not r & 0x80 else (10**9, 2 ** (r & 0x7F))
                    elif code == 14 and len(val) == 8:
                        off = struct.unpack(e + "q", val)[0] * 1_000_000_000
                resol.append((num, den, off))
                self.iface_names.append(name)
            elif btype == _EPB:
                iface, hi, lo, caplen, orig = struct.unpack_from(e + "IIIII", body, 0)
                if iface >= len(resol):
                    raise self._err(f"frame names interface {iface}, which is not described "
                                    f"(the section has {len(resol)})", at)
                if 20 + caplen > len(body):
                    raise self._err(f"captured length {caplen} runs past the {blen}-byte block", at)
                num, den, off = resol[iface]
                last_t = ((hi << 32) | lo) * num // den + off
                yield Record(last_t, body[20:20 + caplen], max(orig, caplen), base + iface, self._n)
                self._n += 1
            else:                                  # simple packet block: interface 0, no timestamp
                if not resol:
                    raise self._err("simple packet block before any interface description", at)
                orig = struct.unpack_from(e + "I", body, 0)[0]
                data = body[4:4 + orig]
                yield Record(last_t, data, max(orig, len(data)), base, self._n)   # the previous frame's time
                self._n += 1

    def _check_len(self, blen: int, least: int, at: int, limit: bool = True) -> None:
        if blen % 4:
            raise self._err(f"block length {blen} is not a multiple of 4", at)
        if blen < least:
            raise self._err(f"block length {blen} is shorter than the {least} bytes this block needs", at)
        if limit and blen > MAX_BLOCK:
            raise self._err(f"block length {blen} exceeds {MAX_BLOCK} bytes (corrupt)", at)

    def _body(self, n: int, at: int) -> bytes:
        b = self._read(n)
        if len(b) < n:
            raise self._err(f"the file ends inside the block ({len(b)} of {n} bytes after its header)", at)
        return b

    def _trailer(self, blen: int, e: str, at: int) -> None:
        t = self._read(4)
        if len(t) < 4:
            raise self._err("the file ends before the block's closing length", at)
        if struct.unpack(e + "I", t)[0] != blen:
            raise self._err(f"block length {blen} is not repeated at the block's end", at)

    def _options(self, buf: bytes, e: str, at: int) -> Iterator[tuple[int, bytes]]:
        off = 0
        while off + 4 <= len(buf):
            code, ln = struct.unpack_from(e + "HH", buf, off)
            if code == 0:
                return
            if off + 4 + ln > len(buf):
                raise self._err(f"option {code} ({ln} bytes) runs past its block", at)
            yield code, buf[off + 4:off + 4 + ln]
            off += 4 + ln + (-ln % 4)


@dataclass
class Capture:
    """A whole (small) capture in memory: times (ns), bytes, the pcapng
    interface of each frame (None for classic pcap) and the interfaces' names."""

    path: str
    times_ns: list[int]
    frames: list[bytes]
    ifaces: list[int | None]
    iface_names: list[str]
    fmt: str = "pcap"
    orig_lens: list[int] | None = None

    def __len__(self) -> int:
        return len(self.frames)


def read_capture(path: str | os.PathLike) -> Capture:
    """Read a whole classic pcap or pcapng file of Ethernet frames (for small
    files; ``CaptureReader`` streams)."""
    with CaptureReader(path) as rd:
        recs = list(rd)
        return Capture(rd.path, [r.t_ns for r in recs], [r.data for r in recs], [r.iface for r in recs],
                       list(rd.iface_names), rd.fmt, [r.orig_len for r in recs])


# ------------------------------------------------------------------------------------------
# writers


def _open_w(path: str | os.PathLike) -> BinaryIO:
    try:
        return open(path, "wb")
    except OSError as e:
        raise CaptureError(f"{os.fspath(path)}: cannot write: {e.strerror}") from None


class PcapWriter:
    """A nanosecond-resolution pcap written a frame at a time (scapy and
    Wireshark read it). Times are ns since the epoch, below 2**32 s."""

    def __init__(self, path: str | os.PathLike, snaplen: int = 65535):
        self.path = os.fspath(path)
        self.n = 0
        self._f = _open_w(path)
        self._f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        self._rec = struct.Struct("<IIII")

    def write(self, t_ns: int, frame: bytes) -> None:
        sec, ns = divmod(int(t_ns), 1_000_000_000)
        if not 0 <= sec <= MAX_PCAP_SECONDS:
            raise CaptureError(f"{self.path}: time {t_ns} ns is outside what a classic pcap holds "
                               f"(0 .. 2**32 s since the epoch)")
        self._f.write(self._rec.pack(sec, ns, len(frame), len(frame)))
        self._f.write(frame)
        self.n += 1

    def write_many(self, t_ns: Any, buf: Any, offs: Any, lens: Any) -> None:
        """Write n frames at once: times (uint64 ns), and frame i = ``buf[offs[i]:offs[i] + lens[i]]``
        (numpy arrays; the records are assembled with numpy, not a Python loop)."""
        import numpy as np

        n = len(t_ns)
        if n == 0:
            return
        sec = t_ns // np.uint64(1_000_000_000)
        if int(sec.max()) > MAX_PCAP_SECONDS:
            raise CaptureError(f"{self.path}: time {int(t_ns.max())} ns is outside what a classic pcap holds "
                               f"(0 .. 2**32 s since the epoch)")
        hdr = np.empty((n, 4), dtype="<u4")
        hdr[:, 0] = sec
        hdr[:, 1] = t_ns % np.uint64(1_000_000_000)
        hdr[:, 2] = hdr[:, 3] = lens
        size = 16 + lens
        start = np.zeros(n, dtype=np.int64)
        np.cumsum(size[:-1], out=start[1:])
        out = np.empty(int(start[-1] + size[-1]), dtype=np.uint8)
        out[(start[:, None] + np.arange(16)).ravel()] = hdr.view(np.uint8).ravel()
        total = int(lens.sum())
        if total:
            first = np.repeat(np.cumsum(lens) - lens, lens)          # where each byte's frame starts, in data
            k = np.arange(total, dtype=np.int64) - first
            out[np.repeat(start + 16, lens) + k] = buf[np.repeat(offs, lens) + k]
        self._f.write(out.tobytes())
        self.n += n

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pcapng_block(btype: int, body: bytes) -> bytes:
    """One pcapng block: type, total length, body padded to 32 bits, total length."""
    body += b"\0" * (-len(body) % 4)
    ln = len(body) + 12
    return struct.pack("<II", btype, ln) + body + struct.pack("<I", ln)


def pcapng_option(code: int, val: bytes) -> bytes:
    """One pcapng option: code, length, value padded to 32 bits."""
    return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


class PcapngWriter:
    """A pcapng with one interface and nanosecond timestamps, written a frame at
    a time; each frame may carry a comment (``opt_comment``) saying why."""

    def __init__(self, path: str | os.PathLike, iface_name: str = "host"):
        self.path = os.fspath(path)
        self.n = 0
        self._f = _open_w(path)
        self._f.write(pcapng_block(_SHB, struct.pack("<IHHq", _BOM, 1, 0, -1)))
        self._f.write(pcapng_block(_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 65535)
                             + pcapng_option(2, iface_name.encode()) + pcapng_option(9, bytes([9])) + pcapng_option(0, b"")))

    def write(self, t_ns: int, frame: bytes, comment: str = "") -> None:
        t = int(t_ns)
        if not 0 <= t < 2**64:
            raise CaptureError(f"{self.path}: time {t} ns is outside what pcapng holds (0 .. 2**64 ns)")
        opts = (pcapng_option(1, comment.encode()) + pcapng_option(0, b"")) if comment else b""
        self._f.write(pcapng_block(_EPB, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), len(frame))
                             + frame + b"\0" * (-len(frame) % 4) + opts))
        self.n += 1

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "PcapngWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_pcap(path: str | os.PathLike, packets: Iterable[tuple[int, bytes]]) -> int:
    """Write (time ns, frame) pairs as a nanosecond-resolution pcap; returns the count."""
    with PcapWriter(path) as w:
        for t, frame in packets:
            w.write(t, frame)
        return w.n


def write_pcapng(path: str | os.PathLike, packets: Iterable[tuple[int, bytes, str]],
                 iface_name: str = "host") -> int:
    """Write (time ns, frame, comment) triples as pcapng, one interface with
    nanosecond timestamps; the comment (opt_comment) says why; returns the count."""
    with PcapngWriter(path, iface_name) as w:
        for t, frame, comment in packets:
            w.write(t, frame, comment)
        return w.n
