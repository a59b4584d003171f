"""The SPP node on the substrate: tunnel packets through the line card and a
slice's fast path (NPE) or slow path (GPE), compared byte for byte with
scapy; the default filter and MI 0; traffic and addressing isolation;
named drops for bad input while other slices keep forwarding; network-wide
conservation in every test."""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from tests.spp.conftest import H1, H2, H2_MAC, IF0, IF1, LC1_MAC


def overlay(dst: str = "10.2.0.5", ttl: int = 64, n: int = 40) -> bytes:
    return bytes(IP(src="10.1.0.5", dst=dst, ttl=ttl) / UDP(sport=7000, dport=9000) / (b"m" * n))


def send(node, payload: bytes, port: int, sport: int | None = None, dst_ip: str = IF0) -> None:
    h = node.h1
    h.schedule(1000.0, h.send_udp, bytes(map(int, dst_ip.split("."))), sport or port, port, payload)


def expected(payload: bytes, port: int) -> bytes:
    """RFC 791/1812: the meta-net datagram with TTL - 1 and its checksum updated,
    in a new tunnel from the slice's endpoint on interface 1 to h2's (DF, ID 0,
    TTL 64, UDP checksum 0), from the line card's interface MAC to h2's."""
    inner = IP(payload)
    inner.ttl -= 1
    del inner.chksum
    return bytes(Ether(dst=H2_MAC, src=LC1_MAC) / IP(src=IF1, dst=H2, ttl=64, flags="DF", id=0)
                 / UDP(sport=port, dport=port, chksum=0) / IP(bytes(inner)))


def test_fastpath_forwards_tunnel_packet_byte_for_byte(node):
    node.ipv4_slice("alice", 30001)
    p = overlay()
    send(node, p, 30001)
    node.net.run(duration_ns=200_000)
    out = node.to_host("site2")
    assert out == [expected(p, 30001)]
    api = node.spp.slice_api("alice")
    assert api.read_stats(next(iter(api.state)), 0)["post_pkts"] == 1
    assert node.net.conservation().ok


def test_gpe_only_slice_forwards_the_same_bytes_slower(node):
    """The same slice forwarding in its slow path only (the SPP baseline) sends
    the same packet, later."""
    node.ipv4_slice("alice", 30001, fastpath=False)
    p = overlay()
    send(node, p, 30001)
    node.net.run(duration_ns=500_000)
    assert node.to_host("site2") == [expected(p, 30001)]
    gpe = node.spp.gpe_nodes[0].server.slices["alice"]
    assert gpe.ctx.counters["forwarded"] == 1 and gpe.counters["received.packet"] == 1
    assert node.net.conservation().ok


def test_no_matching_filter_is_an_exception_to_the_slow_path(node):
    """A datagram no filter matches leaves the fast path on MI 0 as an exception
    (no_match); the slice's slow path (its own routes) forwards it."""
    node.ipv4_slice("alice", 30001)
    api = node.spp.slice_api("alice")
    fp = next(iter(api.state))
    for fid in list(api.get_fltrs(fp)):
        api.delete_fltr(fp, fid)
    p = overlay()
    send(node, p, 30001)
    node.net.run(duration_ns=500_000)
    gpe = node.spp.gpe_nodes[0].server.slices["alice"]
    assert gpe.counters["received.exception"] == 1
    assert any(k.startswith("exception.") for k in gpe.ctx.counters)
    assert node.to_host("site2") == [expected(p, 30001)]
    assert node.net.conservation().ok


def test_two_slices_same_overlay_addresses_stay_apart(node):
    """Traffic and addressing isolation: alice and bob route the same prefixes;
    each slice's packets leave only through its own endpoints."""
    node.ipv4_slice("alice", 30001)
    node.ipv4_slice("bob", 30002)
    pa, pb = overlay(n=40), overlay(n=60)
    send(node, pa, 30001)
    send(node, pb, 30002)
    node.net.run(duration_ns=300_000)
    out = sorted(node.to_host("site2"))
    assert out == sorted([expected(pa, 30001), expected(pb, 30002)])
    gpes = node.spp.gpe_nodes[0].server.slices
    assert not any(gpes[s].counters for s in ("alice", "bob"))        # no slow path saw the other's packet
    assert node.net.conservation().ok


def test_unknown_endpoint_and_malformed_tunnel_are_named_drops(node):
    """A tunnel packet for an endpoint no slice holds goes by the default filter
    to the GPE, which drops it (gpe_unknown_endpoint); a meta-net datagram with a
    bad header is the code option's named drop or exception; the other slice
    forwards throughout."""
    node.ipv4_slice("alice", 30001)
    send(node, overlay(), 39999)
    bad = bytearray(overlay())
    bad[10] ^= 0xFF                                    # header checksum broken
    send(node, bytes(bad), 30001)
    good = overlay(n=50)
    send(node, good, 30001)
    node.net.run(duration_ns=500_000)
    cons = node.net.conservation()
    assert cons.ok
    drops = cons.drops()
    assert any("gpe_unknown_endpoint" in k for k in drops)
    assert expected(good, 30001) in node.to_host("site2")
    assert len(node.to_host("site2")) == 1


def test_slice_cannot_send_from_another_slices_endpoint(node):
    import pytest
    from host.spp.srm import AccessError
    node.ipv4_slice("alice", 30001)
    node.ipv4_slice("bob", 30002)
    ctx = node.spp.gpe_nodes[0].server.slices["alice"].ctx
    with pytest.raises(AccessError, match="another slice's endpoint"):
        ctx.send((IF1, 30002), (H2, 1), b"spoof")
    with pytest.raises(AccessError, match="belongs to another slice"):
        node.spp.slice_api("alice").free_endpoint((IF1, 30002))
