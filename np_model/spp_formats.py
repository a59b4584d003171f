"""The SPP node's frames: outside (UDP tunnels, i3) and inside (the internal substrate).

Outside the node, overlay packets travel in **UDP tunnels** (virtual_routers.md
1.4): ``Ether / IPv4(src=remote endpoint, dst=the node's external address) /
UDP(sport=remote port, dport=the slice's endpoint port) / overlay payload``.
An endpoint (external IPv4 address, UDP port) belongs to one slice; a
meta-interface (MI) of a fast path is bound to one. The IPv4 code option's
payload is an IPv4 datagram; the i3 code option's an i3 packet (``I3``).

Inside the node (line card, NPEs and GPEs over the fabric switch) this
project uses **internal frames**::

    Ether(dst=receiving board's MAC, src=sending board's MAC, type=0x8100)
    / Dot1Q(prio=0, vlan=VID, type=0x0800 | 0x88B5)
    / [SppMeta (EtherType 0x88B5): NPE <-> GPE only]
    / the IPv4 datagram

The datagram is the tunnel packet as it arrived (unchanged), or as the
NPE's code option rewrote it for the next hop. The **VID names the context
at the receiving board**: on an NPE, the fast path that owns the destination
endpoint (``NPE.add_fastpath(vid=)``, by default the slice id); on the line
card's egress, an egress queue context -- the external port and queue the
frame leaves by (``LineCard.set_egress_queue(vid=)``); on a GPE, whatever the
node assigned (a slice's vServer, the default context). SPP phase 0 used no
substrate header at all (IP in Ethernet, [C LCS]); an 802.1Q tag is added here
because the fabric is an 802.1Q switch and a VID lets every board demultiplex
on one field without a table of its peers' addresses.

``SppMeta`` (10 bytes, EtherType 0x88B5, IEEE 802's local experimental
EtherType 1) travels only between an NPE and a GPE, on MI 0: NPE -> GPE it
says why the packet left the fast path (kind ``exception`` with a reason --
no filter matched, the code option raised it with its code, a filter's
action -- or kind ``local``: a filter delivered it to the slice) and on which
MI it arrived; GPE -> NPE (kind ``inject``) it hands a packet to the fast
path's MI 0. The datagram behind it is the tunnel packet unchanged.

Sizes: an internal frame is the datagram plus 18 bytes (28 with SppMeta), so
the fabric's links and ports must carry datagrams of the external MTU plus
10 bytes (the profile's ``spp_fabric_mtu``, 1600 by default).

``I3`` is this project's encoding of an i3 header (the sources give no wire
format): version (1), flags (bit 0: control -- trigger insertion or
removal), 2 reserved bytes, a 256-bit identifier; data follows. Filters
match the identifier's first 128 bits.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Any

from scapy.fields import ByteEnumField, ByteField, FlagsField, ShortField, XShortField, XStrFixedLenField
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet, bind_layers

__all__ = ["ETHERTYPE_META", "META_BYTES", "KIND", "REASON", "SppMeta", "I3", "Internal", "internal_frame",
           "decode_internal", "tunnel", "meta_reason"]

ETHERTYPE_META = 0x88B5
META_BYTES = 10
#: SppMeta kinds
KIND = {1: "exception", 2: "local", 3: "inject"}
#: SppMeta reasons of an exception
REASON = {0: "none", 1: "no_match", 2: "code_option", 3: "filter"}


class SppMeta(Packet):
    """The meta header on NPE <-> GPE frames (this project's, see module doc)."""

    name = "SPP meta"
    fields_desc = [ByteEnumField("kind", 1, KIND), ByteEnumField("reason", 0, REASON), ByteField("code", 0),
                   ByteField("reserved", 0), ShortField("slice", 0), ShortField("mi", 0), XShortField("type", 0x0800)]


bind_layers(Dot1Q, SppMeta, type=ETHERTYPE_META)
bind_layers(SppMeta, IP, type=0x0800)


class I3(Packet):
    """An i3 header in this project's encoding (see module doc)."""

    name = "i3"
    fields_desc = [ByteField("version", 1), FlagsField("flags", 0, 8, ["control"]), ShortField("reserved", 0),
                   XStrFixedLenField("id", b"\x00" * 32, 32)]


@dataclass(frozen=True)
class Internal:
    """A decoded internal frame: board MACs, VID, the meta header's fields (or
    None) and the IPv4 datagram (cut to its total length)."""

    dst: str
    src: str
    vid: int
    ip: bytes
    kind: str | None = None
    reason: str | None = None
    code: int = 0
    slice: int = 0
    mi: int = 0


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def internal_frame(dst: str, src: str, vid: int, ip: bytes | Packet, *, kind: str | None = None,
                   reason: str = "none", code: int = 0, slice_id: int = 0, mi: int = 0) -> bytes:
    """An internal frame carrying the IPv4 datagram ``ip`` (bytes or a scapy
    packet), with a meta header when ``kind`` is given ("exception", "local",
    "inject"). Raises ValueError for a VID outside 1..4094 or unknown names."""
    if not 1 <= int(vid) <= 4094:
        raise ValueError(f"VID {vid} out of range 1..4094")
    raw = bytes(ip)
    if kind is None:
        return bytes(Ether(dst=dst, src=src) / Dot1Q(vlan=vid, type=0x0800)) + raw
    kinds = {v: k for k, v in KIND.items()}
    reasons = {v: k for k, v in REASON.items()}
    if kind not in kinds or reason not in reasons:
        raise ValueError(f"meta kind must be one of {', '.join(kinds)} and reason one of {', '.join(reasons)}")
    meta = SppMeta(kind=kinds[kind], reason=reasons[reason], code=code, slice=slice_id, mi=mi)
    return bytes(Ether(dst=dst, src=src) / Dot1Q(vlan=vid, type=ETHERTYPE_META) / meta) + raw


def decode_internal(frame: bytes) -> Internal | str:
    """An internal frame's parts, or the drop reason ``substrate_bad_header``
    when it is not one (no 802.1Q tag, another EtherType, a bad meta header, or
    an IPv4 header that fails RFC 1812 5.2.2's checks)."""
    if len(frame) < 18 + 20 or frame[12:14] != b"\x81\x00":
        return "substrate_bad_header"
    vid = struct.unpack_from("!H", frame, 14)[0] & 0xFFF
    etype = struct.unpack_from("!H", frame, 16)[0]
    off, meta = 18, None
    if etype == ETHERTYPE_META:
        if len(frame) < 28 + 20:
            return "substrate_bad_header"
        kind, reason, code, _rsv, sl, mi, t = struct.unpack_from("!BBBBHHH", frame, 18)
        if kind not in KIND or reason not in REASON or t != 0x0800:
            return "substrate_bad_header"
        meta = (KIND[kind], REASON[reason], code, sl, mi)
        off = 28
    elif etype != 0x0800:
        return "substrate_bad_header"
    ip = frame[off:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack_from("!H", ip, 2)[0]
    if ip[0] >> 4 != 4 or ihl < 20 or tot < ihl or tot > len(ip) or _csum(ip[:ihl]) != 0xFFFF:
        return "substrate_bad_header"
    common = dict(dst=_mac(frame[0:6]), src=_mac(frame[6:12]), vid=vid, ip=bytes(ip[:tot]))
    if meta is None:
        return Internal(**common)
    return Internal(**common, kind=meta[0], reason=meta[1], code=meta[2], slice=meta[3], mi=meta[4])


def tunnel(src: tuple[str, int], dst: tuple[str, int], payload: bytes | Packet, *, ttl: int = 64) -> Packet:
    """A tunnel packet as the NPE's code options write it (scapy): IPv4 from
    ``src`` to ``dst`` (address, UDP port), DF set, identification 0, ``ttl``;
    UDP checksum 0 (none, RFC 768)."""
    return IP(src=src[0], dst=dst[0], ttl=ttl, flags="DF", id=0) / UDP(sport=src[1], dport=dst[1], chksum=0) / payload


def meta_reason(d: Internal, code_option: Any = None) -> str:
    """A readable reason for a frame from an NPE: ``local``, ``no_match``,
    ``filter``, or the code option's name for its code (``ttl_expired``;
    ``code<n>`` without the code option)."""
    if d.kind == "local":
        return "local"
    if d.reason == "code_option":
        return code_option.reason(d.code) if code_option is not None else f"code{d.code}"
    return d.reason or "none"


def _csum(b: bytes) -> int:
    s = 0
    for i in range(0, len(b) - 1, 2):
        s += b[i] << 8 | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def endpoint(ep: Any) -> tuple[str, int]:
    """(IPv4 address, UDP port) from a pair or "a.b.c.d:port"; ValueError otherwise."""
    if isinstance(ep, str):
        host, _, port = ep.rpartition(":")
        ep = (host, int(port) if port.isdigit() else -1)
    if not (isinstance(ep, (tuple, list)) and len(ep) == 2):
        raise ValueError(f"an endpoint is (IPv4 address, UDP port), got {ep!r}")
    ip, port = str(ipaddress.IPv4Address(ep[0])), int(ep[1])
    if not 1 <= port <= 65535:
        raise ValueError(f"endpoint port {ep[1]} out of range 1..65535")
    return ip, port
