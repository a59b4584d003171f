"""Ethernet wire time and the frame bytes the network's Python nodes build.

Wire time follows IEEE 802.3 exactly as the NP model counts it
(np_model.profile): a frame of ``n`` data bytes (without FCS) occupies
``max(n + 4, 64) + 8 + 12`` byte times -- FCS, padding to the 64-byte
minimum, preamble/SFD and the inter-frame gap -- so a host, a switch and an
NPR port at the same rate serialise a frame in the same time.
"""
from __future__ import annotations

import ipaddress
import struct

from host.packet import checksum

__all__ = ["FCS", "MIN_FRAME", "WIRE_OVERHEAD", "wire_bytes", "wire_ns", "ETH_IPV4", "ETH_ARP", "ETH_VLAN",
           "BROADCAST", "mac_bytes", "mac_str", "ip_bytes", "checksum", "ipv4_header", "l3_len"]

FCS = 4
MIN_FRAME = 64
WIRE_OVERHEAD = 20          # preamble + SFD (8) and inter-frame gap (12)
ETH_IPV4, ETH_ARP, ETH_VLAN = 0x0800, 0x0806, 0x8100
BROADCAST = b"\xff" * 6


def wire_bytes(n: int) -> int:
    """Byte times a frame of ``n`` data bytes (no FCS) takes on the wire."""
    return max(n + FCS, MIN_FRAME) + WIRE_OVERHEAD


def wire_ns(n: int, rate_bps: float) -> float:
    """Serialisation time (ns) of a frame of ``n`` data bytes at ``rate_bps``."""
    return wire_bytes(n) * 8e9 / rate_bps


def l3_len(frame: bytes) -> int:
    """Bytes after the Ethernet header (and its 802.1Q tag): what a link MTU limits."""
    return len(frame) - (18 if frame[12:14] == b"\x81\x00" else 14)


def mac_bytes(mac: str | bytes) -> bytes:
    if isinstance(mac, bytes):
        return mac
    parts = mac.split(":")
    if len(parts) != 6:
        raise ValueError(f"{mac!r} is not a MAC address like 02:00:00:00:00:01")
    return bytes(int(x, 16) for x in parts)


def mac_str(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def ip_bytes(ip: str | bytes | ipaddress.IPv4Address) -> bytes:
    return ip if isinstance(ip, bytes) else ipaddress.IPv4Address(ip).packed




def ipv4_header(src: bytes, dst: bytes, proto: int, payload_len: int, *, ident: int = 0, ttl: int = 64,
                df: bool = True, tos: int = 0) -> bytes:
    """A 20-byte IPv4 header with its checksum (RFC 791)."""
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + payload_len, ident, 0x4000 if df else 0, ttl,
                              proto, 0, src, dst))
    h[10:12] = checksum(bytes(h)).to_bytes(2, "big")
    return bytes(h)
