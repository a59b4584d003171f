"""Wire formats the slow path reads and writes: Ethernet, ARP, IPv4, ICMP, TCP.

Built with ``struct`` rather than scapy on purpose: the slow path runs for
every exception of a replay, and the tests build the expected frames with
scapy, so the two are independent implementations of the same RFCs.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = ["ETH_IPV4", "ETH_ARP", "BROADCAST_MAC", "checksum", "mac_bytes", "mac_str", "ip_bytes", "ip_str",
           "ether", "arp_packet", "ArpPacket", "parse_arp", "IPv4", "parse_ipv4", "ipv4_header",
           "set_ipv4_checksum", "icmp_packet", "tcp_rst", "ICMP_QUERY_TYPES", "martian_src", "martian_dst"]

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
BROADCAST_MAC = b"\xff" * 6
# RFC 792/950/1256: informational (query) messages; every other type is an error
ICMP_QUERY_TYPES = frozenset({0, 8, 9, 10, 13, 14, 15, 16, 17, 18})


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac: str | bytes) -> bytes:
    """``02:00:00:00:00:01`` (or with dashes) as 6 bytes; ValueError if it is not a MAC."""
    if isinstance(mac, bytes):
        return mac
    parts = mac.replace("-", ":").split(":")
    try:
        if len(parts) != 6:
            raise ValueError
        return bytes(int(x, 16) for x in parts)
    except ValueError:
        raise ValueError(f"{mac!r} is not a MAC address like 02:00:00:00:00:01") from None


def mac_str(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def ip_bytes(ip: str | int | bytes) -> bytes:
    if isinstance(ip, bytes):
        return ip
    return ipaddress.IPv4Address(ip).packed


def ip_str(ip: bytes | int) -> str:
    return str(ipaddress.IPv4Address(ip))


def ether(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


# ------------------------------------------------------------------------------------------
# ARP (RFC 826), Ethernet/IPv4 only


@dataclass(frozen=True)
class ArpPacket:
    op: int
    sha: bytes
    spa: bytes
    tha: bytes
    tpa: bytes


def arp_packet(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    """The 28-byte ARP body for Ethernet/IPv4."""
    return struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, op) + sha + spa + tha + tpa


def parse_arp(frame: bytes) -> ArpPacket | None:
    """An Ethernet/IPv4 ARP packet, or None if the frame is not one."""
    if len(frame) < 14 + 28:
        return None
    htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", frame, 14)
    if (htype, ptype, hlen, plen) != (1, ETH_IPV4, 6, 4):
        return None
    b = frame[22:42]
    return ArpPacket(op, b[0:6], b[6:10], b[10:16], b[16:20])


# ------------------------------------------------------------------------------------------
# IPv4 (RFC 791)


@dataclass
class IPv4:
    """A parsed IPv4 datagram (header fields plus the raw bytes)."""

    raw: bytes                  # the datagram, header and payload, total_length bytes
    ihl: int
    tos: int
    total_length: int
    ident: int
    flags: int                  # 3 bits: reserved, DF, MF
    frag_offset: int            # in 8-byte units
    ttl: int
    proto: int
    src: bytes
    dst: bytes

    @property
    def header(self) -> bytes:
        return self.raw[:self.ihl * 4]

    @property
    def options(self) -> bytes:
        return self.raw[20:self.ihl * 4]

    @property
    def payload(self) -> bytes:
        return self.raw[self.ihl * 4:]

    @property
    def df(self) -> bool:
        return bool(self.flags & 2)

    @property
    def mf(self) -> bool:
        return bool(self.flags & 1)

    @property
    def is_fragment(self) -> bool:
        return self.mf or self.frag_offset != 0


def parse_ipv4(frame: bytes, offset: int = 14) -> IPv4 | None:
    """The IPv4 datagram in ``frame`` at ``offset`` (trailing padding cut off), or None."""
    if len(frame) < offset + 20:
        return None
    vihl, tos, tot, ident, ff, ttl, proto, _ck = struct.unpack_from("!BBHHHBBH", frame, offset)
    ihl = vihl & 15
    if vihl >> 4 != 4 or ihl < 5 or tot < ihl * 4 or offset + tot > len(frame):
        return None
    return IPv4(raw=bytes(frame[offset:offset + tot]), ihl=ihl, tos=tos, total_length=tot, ident=ident,
                flags=ff >> 13, frag_offset=ff & 0x1FFF, ttl=ttl, proto=proto,
                src=bytes(frame[offset + 12:offset + 16]), dst=bytes(frame[offset + 16:offset + 20]))


def martian_src(src: bytes, dst: bytes) -> bool:
    """An invalid source (RFC 1812 5.3.7, 4.2.2.11; RFC 1122 3.2.1.3; RFC 3927
    s7): 0/8 (but 0.0.0.0 to 255.255.255.255), 127/8, class D, class E,
    255.255.255.255, 169.254/16. The same rule as the fast path (PLC)."""
    if src[0] == 0:
        return not (src == b"\0\0\0\0" and dst == b"\xff\xff\xff\xff")
    return src[0] == 127 or src[0] >= 224 or src[:2] == b"\xa9\xfe"


def martian_dst(dst: bytes) -> bool:
    """An invalid destination (RFC 1812 5.3.7, 4.2.2.11; RFC 3927 s7): 0/8,
    127/8, 169.254/16, class E but 255.255.255.255. As the fast path."""
    if dst == b"\xff\xff\xff\xff":
        return False
    return dst[0] in (0, 127) or dst[0] >= 240 or dst[:2] == b"\xa9\xfe"


def ipv4_header(*, src: bytes, dst: bytes, proto: int, payload_len: int, ident: int, ttl: int = 64,
                tos: int = 0, flags: int = 0, frag_offset: int = 0, options: bytes = b"") -> bytes:
    """An IPv4 header with its checksum; ``options`` must be a multiple of 4 bytes."""
    if len(options) % 4:
        raise ValueError("IPv4 options must be padded to a multiple of 4 bytes")
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + payload_len, ident & 0xFFFF,
                    (flags << 13) | frag_offset, ttl, proto, 0, src, dst) + options
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


def set_ipv4_checksum(header: bytearray) -> None:
    """Recompute the checksum of an IPv4 header in place."""
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", checksum(bytes(header)))


# ------------------------------------------------------------------------------------------
# ICMP (RFC 792) and TCP reset (RFC 793)


def icmp_packet(icmp_type: int, code: int, rest: bytes, body: bytes) -> bytes:
    """An ICMP message: type, code, checksum, the 4-byte ``rest`` of the header, ``body``."""
    m = struct.pack("!BBH", icmp_type, code, 0) + rest + body
    return m[:2] + struct.pack("!H", checksum(m)) + m[4:]


def tcp_rst(seg: IPv4) -> bytes | None:
    """The TCP segment answering ``seg`` (a segment to a closed port) per RFC 793
    p. 36 ("If the state is CLOSED"), or None when ``seg`` itself is a reset."""
    p = seg.payload
    if len(p) < 20:
        return None
    sport, dport, seq, ack, off_flags = struct.unpack_from("!HHIIH", p, 0)
    flags = off_flags & 0x3F
    if flags & 0x04:                              # RST: never answer a reset
        return None
    if flags & 0x10:                              # ACK set: <SEQ=SEG.ACK><CTL=RST>
        rseq, rack, rflags = ack, 0, 0x04
    else:                                         # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        data_len = len(p) - ((off_flags >> 12) * 4)
        seg_len = data_len + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)
        rseq, rack, rflags = 0, (seq + seg_len) & 0xFFFFFFFF, 0x14
    t = struct.pack("!HHIIHHHH", dport, sport, rseq, rack, (5 << 12) | rflags, 0, 0, 0)
    pseudo = seg.dst + seg.src + struct.pack("!BBH", 0, 6, len(t))
    return t[:16] + struct.pack("!H", checksum(pseudo + t)) + t[18:]
