#!/usr/bin/env python3
"""Write examples/five_port.pcapng: traffic for examples/five_port.yaml.

One pcapng, one interface per router port (named port0..port4, so each
frame's interface is its input port). Over 4 ms it holds:

* UDP between the five sites (192.168.i.0/24 <-> 192.168.j.0/24), 100 B .. 1400 B;
* a ping of the router (10.0.2.1) from port 1's neighbour;
* traceroute-style UDP probes from 192.168.3.10 to 192.168.5.9 with TTL 1, 2;
* a 1450-byte datagram toward port 4 (MTU 1400) with DF set (fragmentation
  needed) and one without (fragmented);
* a datagram for 10.0.3.77, an on-link host the router must ARP for, and that
  host's ARP reply 1 ms later (the held datagram is then sent);
* an ARP request for the router's port-3 address;
* an IPv6 frame (counted and dropped) and a datagram with no route.

    python examples/make_pcap.py [OUT.pcapng]
"""
from __future__ import annotations

import os
import random
import sys

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcapng

T0 = 1_700_000_000.0        # capture start (s since the epoch)


def rmac(p: int) -> str:
    return f"02:00:00:00:00:{p + 1:02x}"


def nmac(p: int) -> str:
    return f"02:00:00:00:{p + 1:02x}:02"


def frames() -> list:
    rnd = random.Random(5)
    out = []

    def add(t_us: float, port: int, pkt) -> None:
        raw = bytes(pkt)
        pkt = Ether(raw + b"\0" * (60 - len(raw)))          # padded to the 60-byte minimum, as on the wire
        pkt.time = T0 + t_us * 1e-6
        pkt.sniffed_on = f"port{port}"
        out.append(pkt)

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
    out.sort(key=lambda p: p.time)
    return out


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "five_port.pcapng")
    fs = frames()
    wrpcapng(path, fs)
    print(f"wrote {len(fs)} frames to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
