"""Non-IP frames, local services and packets filters send to the host: counted
and dropped unless a handler claims them."""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from tests.helpers import host_ip, host_mac, port_ip, port_mac, udp_frame
from tests.host.hostlab import make_lab


def _v6(p: int) -> Ether:
    return Ether(dst=port_mac(p), src=host_mac(p)) / IPv6(src="fe80::2", dst="fe80::1") / UDP() / Raw(b"6" * 20)


def test_non_ip_counted_and_dropped_unless_claimed():
    lab = make_lab()
    lldp = Ether(dst="01:80:c2:00:00:0e", src=host_mac(1), type=0x88CC) / Raw(b"\x02\x07" + b"l" * 40)
    seen = []
    lab.sp.claim_ethertype(0x88CC, lambda sp, hp: seen.append((hp.in_port, hp.data)) or True)
    lab.send(_v6(0), 0)
    lab.send(lldp, 1)
    lab.run_us(100)
    assert lab.out() == []
    assert seen == [(1, bytes(lldp))]
    assert (lab.c("non_ip.drops"), lab.c("non_ip.ethertype.0x86dd"), lab.c("non_ip.claimed")) == (1, 1, 1)
    assert lab.r.exceptions() == {"non_ip": 2}
    lab.r.check_conservation()


def test_local_udp_service_claims_its_port_and_can_answer():
    lab = make_lab()

    def echo_service(sp, hp):                       # a UDP echo service on the router, port 7
        q = IP(hp.data[14:])
        sp.originate(bytes(IP(src=q.dst, dst=q.src, id=500) / UDP(sport=7, dport=q[UDP].sport) / Raw(q[Raw].load)))
        return True
    lab.sp.claim_local(17, 7, echo_service)
    lab.send(udp_frame(3, port_ip(3), sport=1111, dport=7, size=70), 3)
    lab.run_us(200)
    q = udp_frame(3, port_ip(3), sport=1111, dport=7, size=70)
    exp = Ether(dst=host_mac(3), src=port_mac(3)) / IP(src=port_ip(3), dst=host_ip(3), id=500) \
        / UDP(sport=7, dport=1111) / Raw(q[Raw].load)
    assert lab.out() == [bytes(exp)]
    assert lab.c("local.claimed") == 1


def test_filter_to_host_consumed_or_claimed():
    lab = make_lab()
    lab.cp.add_filter(action="host", dst=f"{host_ip(1)}/32", proto="udp", dport=53, immediate=True)
    got = []
    lab.send(udp_frame(0, host_ip(1), dport=53), 0)
    lab.run_us(100)
    lab.sp.on_to_host(lambda sp, hp: got.append(hp.reason) or True)
    lab.send(udp_frame(0, host_ip(1), dport=53), 0)
    lab.run_us(100)
    assert got == ["filter_to_host"]
    assert (lab.c("to_host.consumed"), lab.c("to_host.claimed")) == (1, 1)
    assert lab.out() == []
    lab.r.check_conservation()


def test_udp_broadcast_to_router_is_not_answered():
    lab = make_lab()
    f = Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(0)) / IP(src=host_ip(0), dst="255.255.255.255") \
        / UDP(sport=68, dport=67) / Raw(b"d" * 30)
    lab.send(f, 0)
    lab.run_us(100)
    assert lab.out() == []
    assert lab.c("local.broadcast_drops") == 1
