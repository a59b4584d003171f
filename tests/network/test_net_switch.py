"""The 802.1Q learning switch: VLAN isolation across two switches and a
router, tagging on trunks, learning, flooding, ageing, filtering -- frames
built with scapy and compared byte for byte."""
from __future__ import annotations

import os

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether

from host.pcap import read_capture
from network import Switch, SwitchPort
from network.run import run_topology
from network.topology import load_topology

MAC = {"h1": "02:00:00:00:0a:0b", "h3": "02:00:00:00:0a:0d", "h2": "02:00:00:00:14:0c",
       "h4": "02:00:00:00:14:0e", "r1.0": "02:00:00:00:0a:01", "r1.1": "02:00:00:00:14:01"}


@pytest.fixture(scope="module")
def vlan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vlans")
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net", "vlans.yaml")
    return run_topology(load_topology(path), 16, str(out)), out


def _frames(out, link):
    cap = read_capture(os.path.join(out, "links", f"{link}.pcapng"))
    return [(i, Ether(f)) for f, i in zip(cap.frames, cap.ifaces)]


def test_a_vlan10_host_never_sees_vlan20_frames(vlan_run):
    """802.1Q: VLAN 20's broadcasts and unicasts (its hosts' and the router's
    VLAN 20 port's MACs, ARP for 10.0.20.0/24) never reach the links of the
    VLAN 10 hosts, though VLAN 20 is busy and h1 talks to h4 through r1."""
    s, out = vlan_run
    v20 = {MAC["h2"], MAC["h4"], MAC["r1.1"]}
    seen = 0
    for link in ("h1-s1", "h3-s2"):
        for iface, e in _frames(out, link):
            if iface == 1:                                   # frames the switch delivered to the host
                seen += 1
                assert e.src not in v20 and e.dst not in v20
                assert Dot1Q not in e
                if ARP in e:
                    assert e[ARP].pdst.startswith("10.0.10.") and e[ARP].psrc.startswith("10.0.10.")
    assert seen >= 12                                       # replies, ARP: the hosts did receive
    v20_frames = sum(1 for _, e in _frames(out, "h2-s1") + _frames(out, "h4-s2") if e.src in v20)
    assert v20_frames > 50                                  # VLAN 20 really was busy


def test_same_vlan_at_l2_across_switches_other_vlan_only_through_the_router(vlan_run):
    """h1 and h3 (VLAN 10) talk over the trunk without the router; h1 reaches
    h4 (VLAN 20) only through r1, which rewrites the MACs."""
    s, out = vlan_run
    ping13, ping24, ping14 = s["results"][:3]
    assert ping13["received"] == ping24["received"] == ping14["received"] == 3
    r1_frames = _frames(out, "s1-r1") + _frames(out, "s2-r1")
    assert not any({e.src, e.dst} == {MAC["h1"], MAC["h3"]} for _, e in r1_frames)
    trunk = _frames(out, "s1-s2")
    assert any(Dot1Q in e and e[Dot1Q].vlan == 10 and {e.src, e.dst} == {MAC["h1"], MAC["h3"]} for _, e in trunk)
    at_h4 = [e for i, e in _frames(out, "h4-s2") if i == 1 and IP in e and e[IP].src == "10.0.10.11"]
    assert at_h4 and all(e.src == MAC["r1.1"] for e in at_h4)
    tr = s["results"][3]
    assert [h["addr"] for h in tr["hops"]] == ["10.0.10.1", "10.0.20.12"]


def test_trunk_carries_only_tagged_frames_of_its_vlans(vlan_run):
    """A trunk without a native VLAN carries every frame tagged (802.1Q 8.1),
    with VIDs 10 and 20 only."""
    _, out = vlan_run
    trunk = _frames(out, "s1-s2")
    assert trunk and all(Dot1Q in e for _, e in trunk)
    assert {e[Dot1Q].vlan for _, e in trunk} == {10, 20}


# ------------------------------------------------------------------------------------------ unit


def _switch(**kw) -> Switch:
    sw = Switch("s", [SwitchPort("access", frozenset({10}), 10), SwitchPort("access", frozenset({10}), 10),
                      SwitchPort("access", frozenset({20}), 20), SwitchPort("trunk", frozenset({10, 20}), None)],
                **kw)
    for p in range(4):
        sw.attach(p, 1e9, 1500)
    return sw


def _pkt(src: str, dst: str) -> Ether:
    return Ether(src=src, dst=dst) / IP(src="10.0.10.1", dst="10.0.10.2") / UDP(sport=5, dport=6) / (b"x" * 20)


def _run(sw: Switch, port: int, frame: bytes, t: float) -> list:
    sw.deliver(port, t, t + 100.0, frame)
    sw.advance(t + 1e6)
    return sw.take_output()


def test_tagged_in_untagged_out_and_back_byte_for_byte():
    """A VID-10 frame from the trunk leaves the VLAN-10 access ports untagged
    (flooded: destination unknown), and the answer goes back tagged to the
    learned trunk port only."""
    sw = _switch(latency_ns=0)
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    tagged = Ether(src=a, dst=b) / Dot1Q(vlan=10) / IP(src="10.0.10.1", dst="10.0.10.2") / UDP() / (b"x" * 20)
    out = _run(sw, 3, bytes(tagged), 0.0)
    want = bytes(Ether(src=a, dst=b) / IP(src="10.0.10.1", dst="10.0.10.2") / UDP() / (b"x" * 20))
    assert sorted(p for p, *_ in out) == [0, 1]                # VLAN 10 members but the ingress
    assert all(f == want for *_, f in out)
    back = _run(sw, 1, bytes(Ether(src=b, dst=a) / IP(src="10.0.10.2", dst="10.0.10.1") / UDP() / (b"y" * 20)), 1e6)
    assert [p for p, *_ in back] == [3]
    assert back[0][3] == bytes(Ether(src=b, dst=a) / Dot1Q(vlan=10) / IP(src="10.0.10.2", dst="10.0.10.1")
                               / UDP() / (b"y" * 20))
    assert sw.mac_table() == {10: {a: 3, b: 1}}


def test_ingress_filtering_and_reserved_vids():
    """802.1Q 6.9/8.6.2: a tagged frame on an access port, a VID the trunk
    does not carry, VID 4095 and an untagged frame on a trunk without a native
    VLAN are dropped with their reasons."""
    sw = _switch()
    base = Ether(src="02:00:00:00:00:0a", dst="ff:ff:ff:ff:ff:ff")
    body = IP() / UDP()
    assert _run(sw, 0, bytes(base / Dot1Q(vlan=10) / body), 0) == []
    assert _run(sw, 3, bytes(base / Dot1Q(vlan=30) / body), 1e6) == []
    assert _run(sw, 3, bytes(base / Dot1Q(vlan=4095) / body), 2e6) == []
    assert _run(sw, 3, bytes(base / body), 3e6) == []
    assert dict(sw.ledger.dropped) == {"tagged_on_access": 1, "vlan_not_member": 1, "vid_reserved": 1,
                                       "untagged_on_trunk": 1}


def test_learning_ageing_and_same_port_filtering():
    """A learned destination is forwarded to its port only; a frame whose
    destination sits on its ingress port is filtered; after the ageing time
    the entry is gone and the frame is flooded again (802.1D 7.9.2)."""
    sw = _switch(ageing_s=0.001)
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    _run(sw, 0, bytes(_pkt(a, "ff:ff:ff:ff:ff:ff")), 0.0)            # learn a on port 0
    assert [p for p, *_ in _run(sw, 1, bytes(_pkt(b, a)), 1e5)] == [0]
    assert _run(sw, 1, bytes(_pkt("02:00:00:00:00:0c", b)), 2e5) == []   # b is on port 1 itself
    assert sw.ledger.dropped["same_port"] == 1
    later = _run(sw, 1, bytes(_pkt(b, a)), 5e6)                       # a aged out after 1 ms
    assert sorted(p for p, *_ in later) == [0, 3]
    assert sw.counters["aged_out"] == 1


def test_store_and_forward_cost_model():
    """A frame leaves latency_ns after its last bit arrived, and a second frame
    for the same port waits for the first one's serialisation."""
    sw = _switch(latency_ns=800.0)
    f = bytes(_pkt("02:00:00:00:00:0a", "ff:ff:ff:ff:ff:ff"))
    sw.deliver(0, 0.0, 1000.0, f)
    sw.deliver(2, 0.0, 1000.0, bytes(_pkt("02:00:00:00:00:0c", "ff:ff:ff:ff:ff:ff")))   # VLAN 20
    sw.advance(1e6)
    out = sw.take_output()
    to3 = sorted(o for o in out if o[0] == 3)
    assert to3[0][1] == 1800.0
    assert to3[1][1] == to3[0][2]                                       # queued behind the first
