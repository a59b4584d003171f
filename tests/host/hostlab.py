"""A router with its host software, and scapy builders of what it must send.

Ports and neighbours as in tests/helpers.py: port p is 10.0.{p+1}.1/24
(MAC 02:00:00:00:00:0{p+1}), its neighbour 10.0.{p+1}.2 (MAC
02:00:00:00:0{p+1}:02), known by static ARP through the control plane.
The expected frames are built here with scapy, independently of the
slow path's own struct-based encoders.
"""
from __future__ import annotations

from dataclasses import dataclass

from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from host.control import ControlPlane
from host.slowpath import SlowPath, SlowPathConfig
from np_model.assemblies import NPR
from tests.helpers import host_ip, host_mac, port_ip, port_mac

HOST_QID = 0x1FFF


@dataclass
class Lab:
    r: NPR
    sp: SlowPath
    cp: ControlPlane

    def send(self, frame, port: int, at_ns: float | None = None) -> None:
        self.r.send([bytes(frame)], port=port, at_ns=None if at_ns is None else [at_ns])

    def run_us(self, us: float) -> None:
        self.r.run(duration_ns=us * 1e3)

    def out(self, port: int | None = None) -> list[bytes]:
        return [t.data for t in self.r.transmitted(port)]

    def c(self, name: str) -> int:
        return self.cp.read(f"host.{name}")


def make_lab(engine: str = "c", ports=None, fib_install_us: float = 300.0, arp: bool = True, **sp_kw) -> Lab:
    r = NPR(engine=engine, buffers=8192, ports=ports)
    sp = SlowPath(r, config=SlowPathConfig(**sp_kw))
    cp = ControlPlane(r, sp, fib_install_us=fib_install_us)
    if arp:
        for p in range(len(r.ports)):
            cp.set_arp(host_ip(p), host_mac(p))
    return Lab(r, sp, cp)


def icmp_error(orig_ip: bytes, *, in_port: int, to_port: int, icmp: ICMP, src: str | None = None,
               ip_id: int = 1, dst_mac: str | None = None, max_len: int = 576) -> bytes:
    """The ICMP error frame the router must send about ``orig_ip`` (the IPv4
    datagram as received), out of ``to_port`` to the neighbour there: from
    ``to_port``'s address (RFC 1812 4.3.2.4) unless ``src`` says otherwise,
    quoting as much of the datagram (its Total Length bytes) as fits in a
    ``max_len``-byte error and at least its header + 8 bytes (4.3.2.3)."""
    o = IP(orig_ip)
    orig_ip = orig_ip[:o.len]
    quote = orig_ip[:max(o.ihl * 4 + 8, max_len - 28)]
    return bytes(Ether(dst=dst_mac or host_mac(to_port), src=port_mac(to_port))
                 / IP(src=src or port_ip(to_port), dst=o.src, id=ip_id, tos=0xC0, ttl=64, flags=0)
                 / icmp / Raw(quote))


def arp_request(port: int, target: str) -> bytes:
    return bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=port_mac(port))
                 / ARP(op=1, hwsrc=port_mac(port), psrc=port_ip(port), hwdst="00:00:00:00:00:00", pdst=target))


def arp_reply_from(port: int, ip: str, mac: str) -> bytes:
    """A neighbour's ARP reply to the router's request on ``port``."""
    return bytes(Ether(dst=port_mac(port), src=mac)
                 / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=port_mac(port), pdst=port_ip(port)))
