"""The SPP line card: endpoint filters to the NPE, the default filter to the
GPE, egress contexts and next hops, per-slice egress rates, ARP, and named
drops -- frames compared byte for byte, conservation in every test."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

from np_model.assemblies.spp_common import CapacityError
from np_model.assemblies.spp_linecard import CONTROL_QID, LineCard
from np_model.assemblies.types import PortConfig
from np_model.spp_formats import internal_frame

NPE_MAC, GPE_MAC = "02:5e:00:00:00:01", "02:6e:00:00:00:01"
HOST = ["02:00:00:00:01:02", "02:00:00:00:02:02"]          # the neighbour on each external port


@pytest.fixture
def lc(engine):
    c = LineCard(engine=engine, n_external=2, buffers=4096)
    c.add_endpoint_filter("10.0.1.1", 30001, to="npe", board_mac=NPE_MAC, vid=1)
    c.set_default_to_gpe(board_mac=GPE_MAC, vid=300)
    for p in (0, 1):
        c.set_next_hop(p, HOST[p])
    return c


def _run(c: LineCard, frames, port, at=None):
    c.send(frames, port, at_ns=at)
    c.run_until_idle()
    c.check_conservation()
    return c.transmitted()


def ext(p: int, l4, *, dst: str = "10.0.1.1", size: int = 80) -> bytes:
    hdr = Ether(dst=f"02:5c:00:00:01:{p + 1:02x}", src=HOST[p]) / IP(src=f"10.0.{p + 1}.2", dst=dst, id=5) / l4
    return bytes(hdr / Raw(b"\x33" * max(0, size - len(hdr))))


def test_an_endpoint_filter_sends_the_datagram_unchanged_to_its_npe(lc):
    """The tunnel packet for a fast path's endpoint goes to the NPE as an
    internal frame: the board's MAC, the fabric port's, VID 1, the datagram
    unchanged (no TTL decrement: the line card is not a router hop)."""
    f = ext(0, UDP(sport=40001, dport=30001), size=200)
    got = _run(lc, [f], 0)
    assert [(t.port, t.data) for t in got] == [(2, internal_frame(NPE_MAC, lc.ports[2].mac, 1, Ether(f)[IP]))]


@pytest.mark.parametrize("l4", [UDP(sport=9, dport=30002), TCP(dport=22), ICMP()])
def test_everything_else_goes_to_the_gpe_by_the_default_filter(lc, l4):
    f = ext(0, l4)
    got = _run(lc, [f], 0)
    assert [(t.port, t.data) for t in got] == [(2, internal_frame(GPE_MAC, lc.ports[2].mac, 300, Ether(f)[IP]))]
    assert lc.stats()["blocks"]["lookup"]["default"] == 1


def test_without_a_default_filter_unmatched_frames_are_dropped(lc):
    lc.clear_default()
    _run(lc, [ext(0, UDP(dport=7)), ext(0, UDP(sport=40001, dport=30001))], 0, at=[0, 2000])
    assert lc.drops() == {"lc_no_filter": 1} and len(lc.transmitted()) == 1


def test_ethernet_padding_is_not_carried_inside(lc):
    """RFC 894 / RFC 791: the datagram is Total Length bytes; a short frame's
    padding stays outside the internal frame."""
    f = bytes(Ether(dst="02:5c:00:00:01:01", src=HOST[0]) / IP(src="10.0.1.2", dst="10.0.1.1") /
              UDP(sport=40001, dport=30001)) + b"\x00" * 18
    got = _run(lc, [f], 0)
    assert got[0].data == internal_frame(NPE_MAC, lc.ports[2].mac, 1, f[14:14 + 28])


def test_egress_contexts_pick_the_port_and_queue_and_the_next_hop(lc):
    """An internal frame's VID names the external port and queue; the frame
    leaves with the datagram unchanged, to the port's next hop, or to the
    destination's ARP entry when it has one."""
    lc.set_egress_queue(1, 5, kbps=100_000, vid=111)
    lc.set_egress_queue(0, 6, kbps=100_000, vid=112)
    lc.set_arp("10.0.1.77", "02:00:00:00:01:77")
    d1 = IP(src="10.0.2.1", dst="198.51.100.9", id=3) / UDP(sport=30002, dport=40002) / Raw(b"z" * 30)
    d2 = IP(src="10.0.1.1", dst="10.0.1.77", id=4) / UDP(sport=30001, dport=40001) / Raw(b"w" * 30)
    got = _run(lc, [internal_frame(lc.ports[2].mac, NPE_MAC, 111, d1), internal_frame(lc.ports[2].mac, NPE_MAC, 112, d2)],
               2, at=[0, 1000])
    assert sorted((t.port, t.data) for t in got) == sorted([
        (1, bytes(Ether(dst=HOST[1], src=lc.ports[1].mac) / IP(bytes(d1)))),
        (0, bytes(Ether(dst="02:00:00:00:01:77", src=lc.ports[0].mac) / IP(bytes(d2))))])
    assert lc.queue_stats(1, 5)["deq_pkts"] == 1 and lc.queue_stats(0, 6)["deq_pkts"] == 1


def test_arp_requests_for_a_port_address_are_answered(lc):
    """RFC 826: a request for the port's address gets a reply from the port's
    MAC; a request for another address gets none (the frame is the host's)."""
    req = Ether(dst="ff:ff:ff:ff:ff:ff", src=HOST[0]) / ARP(op=1, hwsrc=HOST[0], psrc="10.0.1.2", pdst="10.0.1.1")
    other = Ether(dst="ff:ff:ff:ff:ff:ff", src=HOST[0]) / ARP(op=1, hwsrc=HOST[0], psrc="10.0.1.2", pdst="10.0.1.9")
    got = _run(lc, [bytes(req), bytes(other)], 0, at=[0, 1000])
    assert [(t.port, t.data) for t in got] == [(0, bytes(Ether(dst=HOST[0], src="02:5c:00:00:01:01") /
                                                         ARP(op=2, hwsrc="02:5c:00:00:01:01", psrc="10.0.1.1",
                                                             hwdst=HOST[0], pdst="10.0.1.2")))]
    assert lc.exceptions() == {"non_ip": 2} and lc.queue_stats(0, CONTROL_QID)["deq_pkts"] == 1


@pytest.mark.parametrize("frame,port,reason", [
    (lambda c: ext(0, UDP(sport=40001, dport=30001))[:24] + b"\x00\x00" + ext(0, UDP(sport=40001, dport=30001))[26:],
     0, "ip_bad_checksum"),
    (lambda c: bytes(Ether(dst="02:5c:00:00:01:09", src=HOST[0]) / IP(dst="10.0.1.1") / UDP()), 0,
     "l2_not_for_router"),
    (lambda c: bytes(Ether(dst=c.ports[2].mac, src=NPE_MAC) / IP(dst="10.9.9.9") / UDP()), 2, "substrate_bad_header"),
    (lambda c: internal_frame(c.ports[2].mac, NPE_MAC, 999, IP(dst="10.9.9.9") / UDP()), 2,
     "substrate_unknown_context"),
    (lambda c: internal_frame(c.ports[2].mac, NPE_MAC, 111, IP(dst="10.9.9.9") / UDP(), kind="exception"), 2,
     "substrate_bad_header"),
    (lambda c: internal_frame(c.ports[2].mac, NPE_MAC, 113, IP(dst="10.9.9.9") / UDP()), 2, "lc_no_next_hop"),
    (lambda c: internal_frame(c.ports[2].mac, NPE_MAC, 111, IP(dst="10.9.9.9") / UDP() / Raw(b"j" * 1500)), 2,
     "lc_mtu_exceeded"),
])
def test_bad_frames_are_named_drops(engine, frame, port, reason):
    c = LineCard(engine=engine, n_external=2, ports=[PortConfig("10.0.1.1/24", "02:5c:00:00:01:01"),
                                                     PortConfig("10.0.2.1/24", "02:5c:00:00:01:02", mtu=1500),
                                                     PortConfig("10.0.3.1/24", "02:5c:00:00:01:03")][:2],
                 buffers=1024)
    c.add_endpoint_filter("10.0.1.1", 30001, board_mac=NPE_MAC, vid=1)
    c.set_egress_queue(1, 5, kbps=0, vid=111)
    c.set_egress_queue(0, 5, kbps=0, vid=113)
    c.set_next_hop(1, HOST[1])
    _run(c, [frame(c)], port)
    assert c.drops() == {reason: 1} and c.transmitted() == []


def wire_kbps(sent) -> float:
    """The rate of a run of frames on the wire (FCS, preamble and gap counted),
    first bit of the first to first bit of the last, in Kb/s."""
    bits = sum((len(t.data) + 24) * 8 for t in sent[:-1])
    return bits / (sent[-1].t_start_ns - sent[0].t_start_ns) * 1e6


def test_egress_queues_give_each_slice_its_rate_share(engine):
    """LC egress: two slices' queues on one 1 GbE port, paced at 100 and 300
    Mb/s, both offered far more: each gets at most its rate and close to it
    (within 10 %), so the port's share follows the reservations."""
    c = LineCard(engine=engine, n_external=1, buffers=8192)
    c.set_next_hop(0, HOST[0])
    c.set_egress_queue(0, 1, kbps=100_000, threshold=1 << 20, vid=101)
    c.set_egress_queue(0, 2, kbps=300_000, threshold=1 << 20, vid=102)
    n, gap = 1500, 1200.0                        # two 1000-byte frames per 1.2 us = 13 Gb/s offered
    d = IP(src="10.0.1.1", dst="10.0.1.2") / UDP() / Raw(b"r" * 972)
    frames = [internal_frame(c.ports[1].mac, NPE_MAC, 101 + (k % 2), d) for k in range(2 * n)]
    c.send(frames, 1, at_ns=[gap * (k // 2) for k in range(2 * n)])
    c.run(until_ns=gap * n)
    c.check_conservation()
    wire = {q: wire_kbps([t for t in c.transmitted(0) if t.qid & 0x1FFF == q]) for q in (1, 2)}
    assert 90_000 <= wire[1] <= 100_100 and 270_000 <= wire[2] <= 300_300, wire
    assert c.drops().get("qm_threshold", 0) > 0
    c.run_until_idle()
    c.check_conservation()


def test_configuration_errors_name_what_is_wrong(lc):
    with pytest.raises(ValueError, match="10.0.1.1:30001 already has filter"):
        lc.add_endpoint_filter("10.0.1.1", 30001, board_mac=NPE_MAC, vid=1)
    with pytest.raises(ValueError, match="to must be 'npe' or 'gpe'"):
        lc.add_endpoint_filter("10.0.1.1", 30009, to="cp", board_mac=NPE_MAC, vid=1)
    with pytest.raises(ValueError, match="VID 0 out of range 1..4094"):
        lc.add_endpoint_filter("10.0.1.1", 30009, board_mac=NPE_MAC, vid=0)
    with pytest.raises(ValueError, match=r"external port 2 does not exist \(0..1\)"):
        lc.set_egress_queue(2, 1, kbps=1)
    lc.set_egress_queue(0, 1, kbps=1, vid=50)
    with pytest.raises(ValueError, match="VID 50 is already the egress context of port 0 queue 1"):
        lc.set_egress_queue(1, 1, kbps=1, vid=50)
    with pytest.raises(KeyError, match="10.0.1.1:1 has no filter"):
        lc.del_endpoint_filter("10.0.1.1", 1)
    with pytest.raises(ValueError, match="a line card has 1..6 external ports"):
        LineCard(n_external=7)


def test_the_filter_table_refuses_what_it_cannot_hold(engine):
    from np_model.profile import IXP2850
    c = LineCard(IXP2850.replace({"lc_filter_entries": 3}), engine=engine, n_external=1, buffers=256)
    c.set_default_to_gpe(board_mac=GPE_MAC, vid=300)
    c.add_endpoint_filter("10.0.1.1", 1, board_mac=NPE_MAC, vid=1)
    c.add_endpoint_filter("10.0.1.1", 2, board_mac=NPE_MAC, vid=1)
    with pytest.raises(CapacityError, match="line card: endpoint filters: asked 1, 0 of 2 left"):
        c.add_endpoint_filter("10.0.1.1", 3, board_mac=NPE_MAC, vid=1)


def test_removing_filters_contexts_and_arp_entries(lc):
    """Without its endpoint filter an endpoint's datagrams go by the default
    filter; without its context a VID's frames are dropped; without an ARP
    entry a destination gets the port's next hop."""
    lc.set_egress_queue(0, 3, kbps=0, vid=77)
    lc.set_arp("10.0.1.50", "02:00:00:00:01:50")
    lc.del_endpoint_filter("10.0.1.1", 30001)
    lc.del_arp("10.0.1.50")
    d = IP(src="10.0.1.1", dst="10.0.1.50") / UDP() / Raw(b"q" * 20)
    got = _run(lc, [ext(0, UDP(sport=40001, dport=30001))], 0)
    got += _run(lc, [internal_frame(lc.ports[2].mac, NPE_MAC, 77, d)], 2)[1:]
    assert got[0].data[:6] == bytes.fromhex(GPE_MAC.replace(":", ""))
    assert got[1].data == bytes(Ether(dst=HOST[0], src=lc.ports[0].mac) / IP(bytes(d)))
    lc.del_egress_context(77)
    _run(lc, [internal_frame(lc.ports[2].mac, NPE_MAC, 77, d)], 2)
    assert lc.drops() == {"substrate_unknown_context": 1}


def test_ingress_queues_can_be_paced(engine):
    """An ingress queue's rate bounds what it sends to the fabric (LC ingress
    queues meter traffic into the NPE, virtual_routers.md 1.4)."""
    c = LineCard(engine=engine, n_external=1, buffers=4096)
    c.add_endpoint_filter("10.0.1.1", 30001, board_mac=NPE_MAC, vid=1, qid=4)
    c.set_ingress_queue(4, kbps=50_000, threshold=1 << 22)
    f = ext(0, UDP(sport=40001, dport=30001), size=500)
    c.send([f] * 40, 0, at_ns=[4200.0 * k for k in range(40)])          # ~950 Mb/s offered
    c.run_until_idle()
    c.check_conservation()
    sent = c.transmitted(1)
    assert len(sent) == 40 and 45_000 <= wire_kbps(sent) <= 50_050
