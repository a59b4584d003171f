#!/usr/bin/env python3
"""Write traffic for the example configurations: examples/<name>.pcapng.

Each file has one interface per router port (named port0, port1, ...), so
a frame's interface is its input port; replay one with

    vrouter-hil run examples/<name>.yaml --pcap examples/<name>.pcapng --out out/

    python examples/make_pcap.py [--out DIR] [NAME ...]     (default: all)

five_port (4 ms):
* UDP between the five sites (192.168.i.0/24 <-> 192.168.j.0/24), 100 B .. 1400 B;
* a ping of the router (10.0.2.1) from port 1's neighbour;
* traceroute-style UDP probes from 192.168.3.10 to 192.168.5.9 with TTL 1, 2;
* a 1450-byte datagram toward port 4 (MTU 1400) with DF set (fragmentation
  needed) and one without (fragmented);
* a datagram for 10.0.3.77, an on-link host the router must ARP for, and that
  host's ARP reply 1 ms later (the held datagram is then sent);
* an ARP request for the router's port-3 address;
* an IPv6 frame (counted and dropped) and a datagram with no route;
* DNS queries to site 2 (the filter's reserved queue 64).

two_port_lab (1 ms of frames; the router then waits 3 x 10 ms for an ARP reply):
* hosts A (192.0.2.10, port 0) and B (192.0.2.140, port 1) ask for their
  gateway by ARP (the router answers and learns them), then exchange UDP;
* A pings the router; a 1000-byte datagram from A to B crosses port 1's
  576-byte MTU (fragmented), and one with DF set (fragmentation needed);
* A sends to 192.0.2.200, which never answers ARP (ICMP host unreachable
  after the third request), and a TTL-1 datagram (time exceeded).

nic_frontend (1 ms):
* UDP between the three neighbours (10.1.i.2), many flows (RSS spreads
  them over the pool's queues);
* a broadcast ARP request for 10.1.2.1 (replicated to every pool);
* a frame for a MAC no filter names (default pool 0; the router drops it
  as not addressed to it) and a ping of 10.1.3.1.

nic_frontend_rtl: the same frames as nic_frontend (its configuration is the
same router with the Verilated RTL clocked in the loop).
"""
from __future__ import annotations

import argparse
import os
import random
import sys

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcapng

T0 = 1_700_000_000.0        # capture start (s since the epoch)


EXAMPLES = ("five_port", "two_port_lab", "nic_frontend", "nic_frontend_rtl")


def rmac(p: int) -> str:
    return f"02:00:00:00:00:{p + 1:02x}"


def nmac(p: int) -> str:
    return f"02:00:00:00:{p + 1:02x}:02"


class _Capture(list):
    """Frames with capture times (us from T0) and the port (interface) each entered."""

    def add(self, t_us: float, port: int, pkt) -> None:
        raw = bytes(pkt)
        pkt = Ether(raw + b"\0" * (60 - len(raw)))          # padded to the 60-byte minimum, as on the wire
        pkt.time = T0 + t_us * 1e-6
        pkt.sniffed_on = f"port{port}"
        self.append(pkt)

    def sorted(self) -> list:
        return sorted(self, key=lambda p: p.time)


def five_port() -> list:
    """Traffic for five_port.yaml (see the module doc)."""
    rnd = random.Random(5)
    out = _Capture()
    add = out.add
    for k in range(600):                      # site-to-site UDP
        i = k % 5
        j = (i + 1 + rnd.randrange(4)) % 5
        size = rnd.choice((100, 100, 100, 600, 1400 if j != 4 else 1300))
        hdr = Ether(dst=rmac(i), src=nmac(i)) / IP(src=f"192.168.{i + 1}.{10 + k % 50}", dst=f"192.168.{j + 1}.20",
                                                   id=k) / UDP(sport=4000 + k % 100, dport=5001)
        add(k * 6.0 + rnd.random(), i, hdr / Raw(b"\x5a" * (size - len(hdr))))
    add(100, 1, Ether(dst=rmac(1), src=nmac(1)) / IP(src="10.0.2.2", dst="10.0.2.1", id=900)
        / ICMP(id=0x4242, seq=1) / Raw(b"ping payload 0123456789"))
    for ttl in (1, 2):
        add(200 + ttl, 2, Ether(dst=rmac(2), src=nmac(2))
            / IP(src="192.168.3.10", dst="192.168.5.9", ttl=ttl, id=950 + ttl)
            / UDP(sport=40000, dport=33433 + ttl) / Raw(b"\0" * 24))
    for df in (True, False):
        hdr = Ether(dst=rmac(3), src=nmac(3)) / IP(src="192.168.4.10", dst="192.168.5.7", id=970 + df,
                                                   flags="DF" if df else 0) / UDP(sport=7, dport=7)
        add(300 + df, 3, hdr / Raw(b"\x33" * (1450 + 14 - len(hdr))))
    add(400, 0, Ether(dst=rmac(0), src=nmac(0)) / IP(src="192.168.1.10", dst="10.0.3.77", id=980)
        / UDP(sport=1, dport=2) / Raw(b"held for ARP"))
    add(1400, 2, Ether(dst=rmac(2), src="02:00:00:00:03:77")
        / ARP(op=2, hwsrc="02:00:00:00:03:77", psrc="10.0.3.77", hwdst=rmac(2), pdst="10.0.3.1"))
    add(500, 3, Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:04:09")
        / ARP(op=1, hwsrc="02:00:00:00:04:09", psrc="10.0.4.9", pdst="10.0.4.1"))
    add(600, 4, Ether(dst=rmac(4), src=nmac(4)) / IPv6(src="fe80::2", dst="fe80::1") / UDP() / Raw(b"v6"))
    add(700, 1, Ether(dst=rmac(1), src=nmac(1)) / IP(src="192.168.2.10", dst="172.16.0.1", id=990)
        / UDP(sport=1, dport=2) / Raw(b"nowhere"))
    for k in range(5):                        # DNS to site 2: the filter's reserved queue (port 1, qid 64)
        add(800 + 50 * k, 0, Ether(dst=rmac(0), src=nmac(0)) / IP(src="192.168.1.30", dst="192.168.2.53", id=1000 + k)
            / UDP(sport=5300 + k, dport=53) / Raw(b"\x12\x34\x01\x00" + b"\0" * 20))
    return out.sorted()


def two_port_lab() -> list:
    """Traffic for two_port_lab.yaml (see the module doc)."""
    r0, r1 = "02:00:00:00:aa:01", "02:00:00:00:aa:02"
    a_ip, a_mac, b_ip, b_mac = "192.0.2.10", "02:00:00:00:0a:0a", "192.0.2.140", "02:00:00:00:0b:0b"
    out = _Capture()
    add = out.add
    add(0, 0, Ether(dst="ff:ff:ff:ff:ff:ff", src=a_mac) / ARP(op=1, hwsrc=a_mac, psrc=a_ip, pdst="192.0.2.1"))
    add(10, 1, Ether(dst="ff:ff:ff:ff:ff:ff", src=b_mac) / ARP(op=1, hwsrc=b_mac, psrc=b_ip, pdst="192.0.2.129"))
    for k in range(40):                       # A <-> B, 200-byte UDP
        a_to_b = k % 2 == 0
        hdr = (Ether(dst=r0, src=a_mac) / IP(src=a_ip, dst=b_ip, id=k) if a_to_b
               else Ether(dst=r1, src=b_mac) / IP(src=b_ip, dst=a_ip, id=k)) / UDP(sport=6000 + k, dport=7000)
        add(100 + 10 * k, 0 if a_to_b else 1, hdr / Raw(b"\x42" * (200 - len(hdr))))
    add(520, 0, Ether(dst=r0, src=a_mac) / IP(src=a_ip, dst="192.0.2.1", id=500) / ICMP(id=7, seq=1)
        / Raw(b"lab ping"))
    for df in (False, True):                  # 1000 bytes toward port 1's 576-byte MTU
        hdr = Ether(dst=r0, src=a_mac) / IP(src=a_ip, dst=b_ip, id=600 + df, flags="DF" if df else 0) / UDP(
            sport=9, dport=9)
        add(600 + 10 * df, 0, hdr / Raw(b"\x66" * (1014 - len(hdr))))
    add(700, 0, Ether(dst=r0, src=a_mac) / IP(src=a_ip, dst="192.0.2.200", id=700) / UDP(sport=1, dport=2)
        / Raw(b"nobody home"))
    add(800, 0, Ether(dst=r0, src=a_mac) / IP(src=a_ip, dst=b_ip, id=800, ttl=1) / UDP(sport=3, dport=33434)
        / Raw(b"ttl 1"))
    return out.sorted()


def nic_frontend() -> list:
    """Traffic for nic_frontend.yaml (see the module doc)."""
    rnd = random.Random(7)
    rm = [f"02:00:00:00:10:0{p + 1}" for p in range(3)]
    nm = [f"02:00:00:00:1{p + 1}:02" for p in range(3)]
    out = _Capture()
    add = out.add
    for k in range(90):                       # neighbour to neighbour, many flows
        i = k % 3
        j = (i + 1 + rnd.randrange(2)) % 3
        hdr = Ether(dst=rm[i], src=nm[i]) / IP(src=f"10.1.{i + 1}.2", dst=f"10.1.{j + 1}.2", id=k) / UDP(
            sport=10000 + rnd.randrange(50000), dport=rnd.choice((53, 80, 443, 5001)))
        add(k * 10.0, i, hdr / Raw(b"\x77" * (rnd.choice((64, 300, 1000)) - len(hdr))))
    add(300, 1, Ether(dst="ff:ff:ff:ff:ff:ff", src=nm[1]) / ARP(op=1, hwsrc=nm[1], psrc="10.1.2.2", pdst="10.1.2.1"))
    add(400, 0, Ether(dst="02:00:00:00:99:99", src=nm[0]) / IP(src="10.1.1.2", dst="10.1.2.2", id=400)
        / UDP(sport=1, dport=2) / Raw(b"to a MAC no filter names"))
    add(500, 2, Ether(dst=rm[2], src=nm[2]) / IP(src="10.1.3.2", dst="10.1.3.1", id=500) / ICMP(id=3, seq=1)
        / Raw(b"nic ping"))
    return out.sorted()


def nic_frontend_rtl() -> list:
    """Traffic for nic_frontend_rtl.yaml: nic_frontend's."""
    return nic_frontend()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Write traffic for the example configurations (examples/<name>.pcapng).")
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"which: {', '.join(EXAMPLES)} (default: all)")
    ap.add_argument("--out", metavar="DIR", default=os.path.dirname(os.path.abspath(__file__)),
                    help="where to write them (default: next to this script)")
    args = ap.parse_args(argv[1:])
    for name in args.names:
        if name not in EXAMPLES:
            ap.error(f"unknown example {name!r}; valid: {', '.join(EXAMPLES)}")
    os.makedirs(args.out, exist_ok=True)
    for name in args.names or EXAMPLES:
        fs = globals()[name]()
        path = os.path.join(args.out, f"{name}.pcapng")
        wrpcapng(path, fs)
        print(f"wrote {len(fs)} frames to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
