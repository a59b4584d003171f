"""pcapng per link: one interface per link end, nanosecond timestamps.

Each frame is written once, on the interface of the end that sent it, at
the time its first bit left; a frame the link lost carries the reason as
its packet comment (opt_comment). Written as the run goes (bounded memory).
"""
from __future__ import annotations

import os
import struct

from host.pcap import pcapng_block, pcapng_option

__all__ = ["LinkCapture"]

_SHB, _IDB, _EPB = 0x0A0D0D0A, 1, 6


class LinkCapture:
    """A pcapng file with the given interface names (link ends)."""

    def __init__(self, path: str | os.PathLike, ifaces: list[str], link_comment: str = ""):
        self.path = os.fspath(path)
        self.f = open(self.path, "wb", buffering=1 << 20)
        shb_opts = (pcapng_option(1, link_comment.encode()) + pcapng_option(0, b"")) if link_comment else b""
        self.f.write(pcapng_block(_SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts))
        for name in ifaces:
            self.f.write(pcapng_block(_IDB, struct.pack("<HHI", 1, 0, 65535) + pcapng_option(2, name.encode())
                                + pcapng_option(9, bytes([9])) + pcapng_option(0, b"")))
        self.frames = 0

    def write(self, iface: int, t_ns: float, frame: bytes, comment: str | None = None) -> None:
        t = int(round(t_ns))
        opts = (pcapng_option(1, comment.encode()) + pcapng_option(0, b"")) if comment else b""
        n = len(frame)
        body = struct.pack("<IIIII", iface, t >> 32, t & 0xFFFFFFFF, n, n) + frame + b"\0" * (-n % 4) + opts
        ln = len(body) + 12
        self.f.write(struct.pack("<II", _EPB, ln) + body + struct.pack("<I", ln))
        self.frames += 1

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()
