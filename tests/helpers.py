"""Helpers for NPR tests: an NPR with five neighbours, scapy frames in and out.

Port p of the router is 10.0.{p+1}.1/24 with MAC 02:00:00:00:00:{p+1};
its neighbour host is 10.0.{p+1}.2 with MAC 02:00:00:00:{p+1}:02.
"""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from np_model.assemblies import NPR


def port_mac(p: int) -> str:
    return f"02:00:00:00:00:{p + 1:02x}"


def port_ip(p: int) -> str:
    return f"10.0.{p + 1}.1"


def host_mac(p: int) -> str:
    return f"02:00:00:00:{p + 1:02x}:02"


def host_ip(p: int) -> str:
    return f"10.0.{p + 1}.2"


def make_npr(engine: str = "c", arp: bool = True, **kw) -> NPR:
    kw.setdefault("buffers", 8192)
    r = NPR(engine=engine, **kw)
    if arp:
        for p in range(len(r.ports)):
            r.set_arp(host_ip(p), host_mac(p))
    return r


def udp_frame(p_in: int, dst: str, *, src: str | None = None, ttl: int = 64, size: int = 100,
              sport: int = 1234, dport: int = 5678, tos: int = 0, ipid: int = 1) -> Ether:
    """A UDP/IPv4 frame of ``size`` bytes (without FCS) entering port ``p_in``."""
    hdr = Ether(dst=port_mac(p_in), src=host_mac(p_in)) / IP(src=src or host_ip(p_in), dst=dst, ttl=ttl, tos=tos, id=ipid) \
        / UDP(sport=sport, dport=dport)
    return Ether(bytes(hdr / Raw(b"\xa5" * max(0, size - len(hdr)))))


def routed(frame: Ether, out_port: int, nh_mac: str) -> bytes:
    """What the router must send for ``frame``: new Ethernet header, TTL - 1,
    header checksum recomputed (scapy computes it from scratch)."""
    ip = IP(bytes(frame[IP]))
    ip.ttl -= 1
    del ip.chksum
    return bytes(Ether(dst=nh_mac, src=port_mac(out_port), type=0x0800) / IP(bytes(ip)))
