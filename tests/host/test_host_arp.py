"""ARP on the slow path: answering, resolving with held packets, retries, bounds, ageing."""
from __future__ import annotations

from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from tests.helpers import host_ip, host_mac, port_ip, port_mac, routed, udp_frame
from tests.host.hostlab import HOST_QID, arp_reply_from, arp_request, icmp_error, make_lab

NEW_IP, NEW_MAC = "10.0.3.50", "02:00:00:00:03:50"


def _who_has(port: int, target: str, sender_ip: str, sender_mac: str) -> Ether:
    return Ether(dst="ff:ff:ff:ff:ff:ff", src=sender_mac) / ARP(op=1, hwsrc=sender_mac, psrc=sender_ip, pdst=target) \
        / Raw(b"\0" * 18)                             # padded to 60 bytes, as on the wire


def test_request_for_router_address_is_answered_and_sender_learnt():
    lab = make_lab()
    lab.send(_who_has(2, port_ip(2), NEW_IP, NEW_MAC), 2)
    lab.run_us(100)
    reply = Ether(dst=NEW_MAC, src=port_mac(2)) / ARP(op=2, hwsrc=port_mac(2), psrc=port_ip(2), hwdst=NEW_MAC,
                                                      pdst=NEW_IP)
    assert lab.out() == [bytes(reply)]
    [t] = lab.r.transmitted()
    assert (t.from_host, t.queue) == (True, HOST_QID)
    # learnt from the request: traffic to it goes straight out, no ARP request
    f = udp_frame(0, NEW_IP)
    lab.send(f, 0)
    lab.run_us(100)
    assert lab.out(2) == [bytes(reply), routed(f, 2, NEW_MAC)]
    assert (lab.c("arp.learned"), lab.c("arp.requests_sent")) == (1, 0)
    lab.r.check_conservation()


def test_requests_for_other_addresses_are_not_answered():
    lab = make_lab()
    lab.send(_who_has(2, "10.0.3.99", NEW_IP, NEW_MAC), 2)          # another host's address
    lab.send(_who_has(2, port_ip(1), NEW_IP, NEW_MAC), 2)           # the router's address on another port
    lab.run_us(100)
    assert lab.out() == []
    assert lab.c("arp.ignored") == 2
    assert lab.cp.list_arp() == [e for e in lab.cp.list_arp() if e["static"]]
    lab.r.check_conservation()


def test_resolution_holds_packets_and_releases_them_in_order():
    lab = make_lab()
    frames = [udp_frame(0, NEW_IP, ipid=i, size=80 + i) for i in range(3)]
    for k, f in enumerate(frames):
        lab.send(f, 0, at_ns=k * 1000.0)
    lab.run_us(100)
    assert lab.out() == [arp_request(2, NEW_IP)]                   # one request for three packets
    assert (lab.c("arp.held"), lab.cp.read("host.arp.pending")) == (3, 1)
    lab.send(arp_reply_from(2, NEW_IP, NEW_MAC), 2)
    lab.run_us(100)
    assert lab.out(2) == [arp_request(2, NEW_IP)] + [routed(f, 2, NEW_MAC) for f in frames]
    assert (lab.c("arp.resolved"), lab.c("arp.released")) == (1, 3)
    [entry] = [e for e in lab.cp.list_arp() if e["ip"] == NEW_IP]
    assert (entry["mac"], entry["port"], entry["static"]) == (NEW_MAC, 2, False)
    lab.r.check_conservation()


def test_unanswered_requests_retry_then_host_unreachable():
    lab = make_lab(arp_retries=3, arp_retry_ms=1.0)
    f = udp_frame(1, NEW_IP, size=120)
    lab.send(f, 1)
    lab.run_us(5000)
    reqs = [t for t in lab.r.transmitted(2)]
    assert [t.data for t in reqs] == [arp_request(2, NEW_IP)] * 3
    gaps = [b.t_start_ns - a.t_start_ns for a, b in zip(reqs, reqs[1:])]
    assert all(abs(g - 1e6) < 5_000 for g in gaps), gaps                # 1 ms apart
    # after the third interval the held packet is dropped and its source told
    assert lab.out(1) == [icmp_error(bytes(f[IP]), in_port=1, to_port=1, icmp=ICMP(type=3, code=1))]
    assert lab.r.transmitted(1)[0].t_start_ns > reqs[-1].t_start_ns + 0.99e6
    assert (lab.c("arp.failed"), lab.c("arp.timeout_drops"), lab.c("icmp.unreach_host")) == (1, 1, 1)
    assert lab.sp.idle
    lab.r.check_conservation()


def test_held_packets_are_bounded():
    lab = make_lab(arp_hold_per_nh=2, arp_retries=1, arp_retry_ms=0.5)
    frames = [udp_frame(0, NEW_IP, ipid=i) for i in range(5)]
    for k, f in enumerate(frames):
        lab.send(f, 0, at_ns=k * 100.0)
    lab.run_us(2000)
    assert (lab.c("arp.held"), lab.c("arp.hold_overflow_drops"), lab.c("arp.held_hwm")) == (2, 3, 2)
    assert (lab.c("arp.holding"), lab.c("arp.timeout_drops"), lab.c("arp.released")) == (0, 2, 0)
    # only the two held packets get a host unreachable
    assert lab.out(0) == [icmp_error(bytes(frames[i][IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=1),
                                     ip_id=i + 1) for i in range(2)]
    lab.r.check_conservation()


def test_dynamic_entries_age_out_and_are_resolved_again():
    lab = make_lab(arp_max_age_s=0.001)
    lab.send(_who_has(2, port_ip(2), NEW_IP, NEW_MAC), 2)
    lab.run_us(100)
    assert lab.cp.read("host.arp.entries") == 6
    lab.run_us(2000)
    assert (lab.c("arp.aged_out"), lab.cp.read("host.arp.entries")) == (1, 5)
    lab.send(udp_frame(0, NEW_IP), 0)
    lab.run_us(100)
    assert lab.out(2)[-1] == arp_request(2, NEW_IP)
    # static entries never age
    assert all(e["static"] for e in lab.cp.list_arp())


def test_static_entries_are_not_changed_by_arp():
    lab = make_lab()
    lab.send(_who_has(1, port_ip(1), host_ip(1), "02:66:66:66:66:66"), 1)     # a spoofed neighbour
    lab.run_us(100)
    f = udp_frame(0, host_ip(1))
    lab.send(f, 0)
    lab.run_us(100)
    assert lab.out(1)[-1] == routed(f, 1, host_mac(1))


def test_directed_broadcast_is_not_forwarded():
    """RFC 2644 / RFC 1812 4.2.3.1: the broadcast of a connected subnet is
    received by the router (an IP broadcast: never answered) and not forwarded;
    no ARP request for it."""
    lab = make_lab()
    lab.send(udp_frame(0, "10.0.3.255"), 0)
    lab.run_us(100)
    assert lab.out() == []
    assert lab.r.exceptions() == {"local_delivery": 1}
    assert (lab.c("local.broadcast_drops"), lab.c("arp.requests_sent")) == (1, 0)
    lab.r.check_conservation()


def test_echo_reply_to_unknown_neighbour_waits_for_arp():
    lab = make_lab()
    req = Ether(dst=port_mac(2), src=NEW_MAC) / IP(src=NEW_IP, dst=port_ip(2), id=3) / ICMP(id=9, seq=4) / Raw(b"hi")
    lab.send(req, 2)
    lab.run_us(100)
    assert lab.out() == [arp_request(2, NEW_IP)]
    lab.send(arp_reply_from(2, NEW_IP, NEW_MAC), 2)
    lab.run_us(100)
    reply = Ether(dst=NEW_MAC, src=port_mac(2)) / IP(src=port_ip(2), dst=NEW_IP, id=1) / ICMP(type=0, id=9, seq=4) \
        / Raw(b"hi")
    assert lab.out(2) == [arp_request(2, NEW_IP), bytes(reply)]
    lab.r.check_conservation()
