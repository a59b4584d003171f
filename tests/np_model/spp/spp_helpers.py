"""Helpers for the SPP NP tests: an NPE set up as the ARL worked example
(virtual_routers.md 1.3: per slice 1 fast path, MIs m0-m2, queues q0-q3,
6 filters, 202 Mb/s = m0 2 + m1 100 + m2 100), tunnel frames built with
scapy, and the frames the NPE must send for them.

Addresses: the node's external interfaces are 64.57.23.210 (MI 1 endpoints)
and 64.57.23.214 (MI 2); slice s's endpoints use UDP ports 30000 + 10 s + mi;
the peers (the overlay neighbours R1, R2) are 64.57.23.1:40000+s and
64.57.23.5:40000+s.
"""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from np_model.assemblies.spp_npe import NPE
from np_model.spp_formats import internal_frame, tunnel

LC_MAC = "02:5c:00:00:00:01"
GPE_MAC = "02:6e:00:00:00:01"
NPE_MAC = "02:5e:00:00:00:01"
IF1, IF2 = "64.57.23.210", "64.57.23.214"


def ep(slice_id: int, mi: int) -> tuple[str, int]:
    """Slice ``slice_id``'s endpoint of MI ``mi`` (1 or 2)."""
    return (IF1 if mi == 1 else IF2, 30000 + 10 * slice_id + mi)


def peer(slice_id: int, mi: int) -> tuple[str, int]:
    return ("64.57.23.1" if mi == 1 else "64.57.23.5", 40000 + slice_id)


def lc_vid(slice_id: int, mi: int) -> int:
    """The line card's egress context of the slice's MI."""
    return 100 + 10 * slice_id + mi


def gpe_vid(slice_id: int) -> int:
    return 200 + slice_id


def worked_example(npe: NPE, slice_id: int, code_option: str = "ipv4", *, kbps: tuple[int, int, int] = (2000, 100_000, 100_000),
                   buffers: int = 200, thresholds: int | None = None) -> None:
    """The ARL example's fast path for one slice: q0 on m1, q1 on m2, q2-q3 on m0."""
    npe.add_fastpath(slice_id, code_option, queues=4, filters=6, stats=4, buffers=buffers, kbps=sum(kbps))
    npe.add_meta_interface(slice_id, 0, kbps=kbps[0], board_mac=GPE_MAC, vid=gpe_vid(slice_id))
    for mi in (1, 2):
        npe.add_meta_interface(slice_id, mi, endpoint=ep(slice_id, mi), kbps=kbps[mi], board_mac=LC_MAC,
                               vid=lc_vid(slice_id, mi), peer=peer(slice_id, mi))
    for q, mi in ((0, 1), (1, 2), (2, 0), (3, 0)):
        npe.bind_queue(slice_id, q, mi, threshold=thresholds)


def overlay(src: str, dst: str, *, size: int = 100, ttl: int = 64, sport: int = 1000, dport: int = 2000,
            options=None) -> IP:
    """An overlay IPv4/UDP datagram of ``size`` bytes."""
    p = IP(src=src, dst=dst, ttl=ttl, id=7, options=options or []) / UDP(sport=sport, dport=dport)
    return IP(bytes(p / Raw(b"\x5a" * max(0, size - len(p)))))


def from_lc(slice_id: int, mi: int, payload, *, vid: int | None = None, src=None) -> bytes:
    """The internal frame the line card hands the NPE for a tunnel packet from
    the MI's peer to the slice's endpoint."""
    outer = IP(src=(src or peer(slice_id, mi))[0], dst=ep(slice_id, mi)[0], ttl=50, id=99) / \
        UDP(sport=(src or peer(slice_id, mi))[1], dport=ep(slice_id, mi)[1]) / payload
    return internal_frame(NPE_MAC, LC_MAC, slice_id if vid is None else vid, IP(bytes(outer)))


def routed(inner: IP) -> IP:
    """The overlay datagram after one IPv4 hop: TTL - 1, checksum recomputed."""
    ip = IP(bytes(inner))
    ip.ttl -= 1
    del ip.chksum
    return IP(bytes(ip))


def expected_out(slice_id: int, mi: int, payload, *, nh: tuple[str, int] | None = None) -> bytes:
    """What the NPE sends for a packet forwarded out of the slice's MI ``mi``:
    the outer header from the MI's endpoint to the next hop (default the MI's
    peer), to the line card with the MI's egress context."""
    return internal_frame(LC_MAC, NPE_MAC, lc_vid(slice_id, mi), tunnel(ep(slice_id, mi), nh or peer(slice_id, mi),
                                                                         payload))


def expected_exception(slice_id: int, frame_in: bytes, *, kind: str = "exception", reason: str = "none",
                       code: int = 0, mi: int = 1) -> bytes:
    """What the NPE sends to the slice's GPE for ``frame_in``: the tunnel packet
    unchanged behind a meta header."""
    e = Ether(frame_in)
    return internal_frame(GPE_MAC, NPE_MAC, gpe_vid(slice_id), bytes(e[IP]), kind=kind, reason=reason, code=code,
                          slice_id=slice_id, mi=mi)
