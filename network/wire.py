"""Ethernet wire time and the frame bytes the network's Python nodes build.

Wire time follows IEEE 802.3 exactly as the NP model counts it
(np_model.profile): a frame of ``n`` data bytes (without FCS) occupies
``max(n + 4, 64) + 8 + 12`` byte times -- FCS, padding to the 64-byte
minimum, preamble/SFD and the inter-frame gap -- so a host, a switch and an
NPR port at the same rate serialise a frame in the same time.
"""
from __future__ import annotations


from host.packet import checksum, ip_bytes, mac_bytes, mac_str
from host.packet import ipv4_header as _ipv4_header

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


def ipv4_header(src: bytes, dst: bytes, proto: int, payload_len: int, *, ident: int = 0, ttl: int = 64,
                df: bool = True, tos: int = 0) -> bytes:
    """A 20-byte IPv4 header with its checksum (RFC 791), DF set unless ``df`` is false."""
    return _ipv4_header(src=src, dst=dst, proto=proto, payload_len=payload_len, ident=ident, ttl=ttl, tos=tos,
                        flags=2 if df else 0)
