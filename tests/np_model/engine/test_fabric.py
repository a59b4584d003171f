"""The compiled fabric (np_model/core/fabric.c) on its own: two NPRs joined by a
link, an external end on each side. A frame enters from outside, is forwarded
by both routers and leaves to the other outside end at the time the link's
delay says; a link MTU too small for it loses it with a count."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from np_model.assemblies import NPR
from np_model.engine.fabric import Fabric

# default NPR ports: port i is 10.0.{i+1}.1/24 with MAC 02:00:00:00:00:0{i+1}
R2_PORT0_MAC = "02:00:00:00:00:01"
NEXT_HOP_MAC = "02:00:00:00:99:99"


def _routers() -> tuple[NPR, NPR]:
    r1, r2 = NPR(keep_records=True), NPR(keep_records=True)
    r1.set_arp("10.0.2.2", R2_PORT0_MAC)                       # r2's port 0 answers to its own MAC
    r1.add_route("192.168.0.0/16", port=1, next_hop="10.0.2.2")
    r2.set_arp("10.0.2.2", NEXT_HOP_MAC)
    r2.add_route("192.168.0.0/16", port=1, next_hop="10.0.2.2")
    return r1, r2


def _frame(size: int) -> bytes:
    return bytes(Ether(dst="02:00:00:00:00:01", src="02:00:00:00:01:02") / IP(src="10.0.1.2", dst="192.168.7.9", ttl=9)
                 / UDP(sport=4000, dport=5001) / (b"x" * size))


def _run(mtu: int, size: int):
    r1, r2 = _routers()
    fab = Fabric()
    try:
        n1, n2 = fab.add(r1.m, stop_on_host=False), fab.add(r2.m, stop_on_host=False)
        into = fab.link(-1, 0, n1, 0, delay_ns=500.0, mtu=1500, capture=False)        # outside end 0 -> r1:0
        mid = fab.link(n1, 1, n2, 0, delay_ns=1000.0, mtu=mtu, capture=False)         # r1:1 -> r2:0
        fab.link(n2, 1, -2, 3, delay_ns=700.0, mtu=1500, capture=False)               # r2:1 -> outside end 1, port 3
        assert fab.send(into, 0, 0.0, _frame(size))
        out = []
        for k in range(1, 201):                                # windows of 500 ns (the smallest delay)
            assert fab.run(k * 500.0) == 0                      # nobody needs Python: no host, no timers
            out.extend(fab.deliveries())
        counts = {"into": fab.link_counts(into, 0), "mid": fab.link_counts(mid, 0), "r2": fab.node_counts(n2)}
    finally:
        fab.close()
    r2.flush_outputs()
    return r1, r2, out, counts


def test_a_frame_crosses_two_routers_and_leaves_at_its_time():
    """RFC 1812 5.3.1: each router decrements the TTL; the far end gets the frame
    the link's delay after r2's first bit left (r2's record), on its port."""
    r1, r2, out, counts = _run(mtu=1500, size=200)
    assert len(out) == 1
    ext, port, t_first, t_last, frame = out[0]
    tx = r2.transmitted()
    assert len(tx) == 1
    assert (ext, port) == (1, 3)
    assert t_first == tx[0].t_start_ns + 700.0 and t_last == tx[0].t_end_ns + 700.0
    assert frame == tx[0].data
    pkt = Ether(frame)
    assert pkt[IP].ttl == 7 and pkt.dst == NEXT_HOP_MAC and pkt[IP].dst == "192.168.7.9"
    assert counts["into"] == (1, 1, 0) and counts["mid"] == (1, 1, 0)
    assert counts["r2"] == (1, 1)                               # offered to r2 by the fabric, sent on a fabric link
    assert r1.check_conservation().transmitted == 1 and r2.check_conservation().transmitted == 1


def test_a_link_mtu_too_small_loses_the_frame_with_a_count():
    """Bytes after the Ethernet header above the link MTU: lost on the link, counted."""
    r1, r2, out, counts = _run(mtu=200, size=400)
    assert out == []
    assert counts["mid"] == (1, 0, 1)
    assert r1.check_conservation().transmitted == 1 and r2.conservation().arrived == 0


def test_fabric_errors_are_clear():
    """Misuse of the fabric is refused with a message naming what is wrong."""
    from np_model.core import CoreError
    r = NPR(keep_records=False)
    fab = Fabric()
    try:
        i = fab.add(r.m, stop_on_host=False)
        with pytest.raises(CoreError, match="already in a fabric"):
            fab.add(r.m, stop_on_host=False)
        with pytest.raises(CoreError, match="has no port 9"):
            fab.link(i, 9, -1, 0, delay_ns=100.0, mtu=1500, capture=False)
        with pytest.raises(CoreError, match="machine at one end"):
            fab.link(-1, 0, -2, 0, delay_ns=100.0, mtu=1500, capture=False)
        li = fab.link(i, 0, -1, 0, delay_ns=100.0, mtu=1500, capture=False)
        with pytest.raises(CoreError, match="does not run from an external end"):
            fab.send(li, 0, 0.0, b"\x00" * 60)
    finally:
        fab.close()
    r.run(duration_ns=1000)                  # the machine runs on its own again
