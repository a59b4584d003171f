"""RFC 1812 classes on the slow path, byte for byte against scapy: ICMP error
source and quote, redirects, source routes, reassembly, options in echo
replies, martians; behaviour the RFCs leave open as configuration tests.

Addressing as tests/helpers.py (port p: 10.0.{p+1}.1/24, neighbour .2).
"""
from __future__ import annotations

import pytest
from scapy.layers.inet import (ICMP, IP, UDP, IPOption_LSRR, IPOption_RR, IPOption_SSRR, IPOption_Timestamp,
                               fragment)
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from host.config import ConfigError, parse_config
from host.packet import parse_ipv4
from host.slowpath import SlowPathConfig
from np_model.assemblies.types import HostPacket
from tests.helpers import host_ip, host_mac, port_ip, port_mac, routed, udp_frame
from tests.host.hostlab import icmp_error, make_lab

GW, GW_MAC = "10.0.1.3", "02:00:00:00:01:03"          # a second router on port 0's subnet


def _lab(**kw):
    lab = make_lab(**kw)
    lab.cp.set_arp(GW, GW_MAC)
    lab.cp.add_route("192.168.9.0/24", 0, GW, immediate=True)
    return lab


def _frame(p_in: int, src: str, dst: str, *, ttl: int = 64, options=(), payload: bytes = b"d" * 40,
           proto_layer=None, ident: int = 77) -> Ether:
    l4 = proto_layer if proto_layer is not None else UDP(sport=4000, dport=5000)
    return Ether(bytes(Ether(dst=port_mac(p_in), src=host_mac(p_in))
                       / IP(src=src, dst=dst, ttl=ttl, id=ident, options=list(options)) / l4 / Raw(payload)))


def _ping(p_in: int, dst: str, *, options=(), payload: bytes = b"ping" * 8, src: str | None = None) -> Ether:
    return _frame(p_in, src or host_ip(p_in), dst, options=options, payload=payload,
                  proto_layer=ICMP(type=8, id=0x42, seq=7))


# ------------------------------------------------------------------------------------------
# ICMP error source address and quote (RFC 1812 4.3.2.3, 4.3.2.4)


def test_error_source_is_the_interface_it_leaves_by():
    """RFC 1812 4.3.2.4 (MUST): the source of an ICMP error is an address of
    the interface it is sent from. The probe's source is behind port 3 but it
    came in on port 0: the time exceeded leaves by port 3, from 10.0.4.1."""
    lab = make_lab()
    lab.cp.add_route("192.168.4.0/24", 3, host_ip(3), immediate=True)
    f = _frame(0, "192.168.4.9", host_ip(2), ttl=1)
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=3, icmp=ICMP(type=11, code=0))]
    assert Ether(lab.out()[0])[IP].src == port_ip(3)


def test_error_quotes_as_much_as_fits_in_576_bytes():
    """RFC 1812 4.3.2.3: the error SHOULD carry as much of the original as fits
    without the ICMP datagram exceeding 576 bytes."""
    lab = make_lab()
    f = udp_frame(0, "172.16.0.1", size=1014)                 # a 1000-byte datagram, no route
    lab.send(f, 0)
    lab.run_us(200)
    [out] = lab.out()
    assert out == icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=0))
    assert len(out) - 14 == 576 and out[14 + 28:] == bytes(f[IP])[:548]


def test_error_never_quotes_link_padding():
    """RFC 1812 4.3.2.3: the quote is of the datagram (Total Length bytes), not
    the Ethernet trailer or padding it arrived with."""
    lab = make_lab()
    f = udp_frame(0, "172.16.0.1", size=70)
    lab.send(Ether(bytes(f) + b"\xee" * 100), 0)
    lab.run_us(200)
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=0))]
    assert bytes(Ether(lab.out()[0])[ICMP].payload) == bytes(f[IP])


@pytest.mark.parametrize("max_len", [68, 200, 1500])
def test_quote_length_is_configurable(max_len):
    """Configuration: ``icmp_error_len`` bounds the error datagram; at least the
    header and 8 bytes are quoted (RFC 792), the whole datagram at most."""
    lab = make_lab(icmp_error_len=max_len)
    opts = [IPOption_RR(routers=["0.0.0.0"] * 9)]              # a 60-byte header
    f = _frame(0, host_ip(0), host_ip(1), ttl=1, options=opts, payload=b"q" * 600)
    lab.send(f, 0)
    lab.run_us(300)
    [out] = lab.out()
    assert out == icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=11, code=0), max_len=max_len)
    quoted = len(out) - 14 - 28
    assert quoted == {68: 60 + 8, 200: 200 - 28, 1500: len(f[IP])}[max_len]


# ------------------------------------------------------------------------------------------
# redirects (RFC 1812 5.2.7.2, 4.3.3.2)


def _redirect(orig: Ether, gw: str = GW, ip_id: int = 1) -> bytes:
    return icmp_error(bytes(orig[IP]), in_port=0, to_port=0, icmp=ICMP(type=5, code=1, gw=gw), ip_id=ip_id)


def test_host_redirect_and_the_packet_forwarded():
    """RFC 1812 5.2.7.2: a packet forwarded back out of the interface it came
    in on, to a next hop on its source's subnet, is forwarded and its source
    gets a Redirect for Host (code 1, never network codes 0/2) naming that
    next hop, from the interface's address, quoting the datagram as received."""
    lab = _lab()
    f = udp_frame(0, "192.168.9.20", size=120)
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.out(0) == [routed(f, 0, GW_MAC), _redirect(f)]
    assert lab.c("icmp.redirect") == 1 and lab.r.exceptions() == {"redirect": 1}
    lab.r.check_conservation()


def test_redirect_to_a_neighbour_on_the_same_subnet():
    """A host sending to a neighbour on its own subnet through the router is
    redirected to the neighbour itself."""
    lab = _lab()
    f = udp_frame(0, GW, size=80)
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.out(0) == [routed(f, 0, GW_MAC), _redirect(f, gw=GW)]


def test_redirects_can_be_turned_off():
    """Configuration: ``redirects: false`` -- the packet is still forwarded."""
    lab = _lab(redirects=False)
    f = udp_frame(0, "192.168.9.20")
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.out(0) == [routed(f, 0, GW_MAC)]
    assert (lab.c("icmp.redirect"), lab.c("icmp.redirects_off")) == (0, 1)


def test_redirects_share_the_icmp_rate_limit():
    """RFC 1812 4.3.2.8: redirects are rate limited with the other ICMP errors
    (one token bucket): with a burst of 2, a time exceeded and a redirect are
    sent, the next redirect is not; every packet is still forwarded."""
    lab = _lab(icmp_burst=2, icmp_rate=1)
    ttl1 = udp_frame(0, host_ip(1), ttl=1, ipid=1)
    fs = [udp_frame(0, "192.168.9.20", ipid=2 + k) for k in range(2)]
    for k, f in enumerate([ttl1] + fs):
        lab.send(f, 0, at_ns=k * 50_000.0)
    lab.run_us(400)
    assert (lab.c("icmp.time_exceeded"), lab.c("icmp.redirect"), lab.c("icmp.rate_limited")) == (1, 1, 1)
    assert [Ether(b)[IP].id for b in lab.out(0) if Ether(b)[IP].proto == 17] == [2, 3]


def test_options_path_sends_the_redirect_too():
    """A datagram the host forwards (it has options) back out of its port gets
    the same redirect; a source-routed one never does (5.2.7.2)."""
    lab = _lab()
    rr = [IPOption_RR(routers=["0.0.0.0"])]
    f = _frame(0, host_ip(0), "192.168.9.20", ttl=9, options=rr)
    lab.send(f, 0)
    lab.run_us(300)
    fwd = bytes(Ether(dst=GW_MAC, src=port_mac(0))
                / IP(src=host_ip(0), dst="192.168.9.20", ttl=8, id=77, options=[IPOption_RR(pointer=8,
                                                                                            routers=[port_ip(0)])])
                / UDP(sport=4000, dport=5000) / Raw(b"d" * 40))
    assert lab.out(0) == [_redirect(f), fwd]


# ------------------------------------------------------------------------------------------
# source routes (RFC 1812 5.2.4.1, 5.3.13.4; RFC 7126 4.3, 4.4)


def test_source_route_reject_sends_source_route_failed():
    """Configuration ``source_route: reject``: ICMP destination unreachable,
    source route failed (3/5), in transit and to the router alike."""
    lab = make_lab(source_route="reject")
    transit = _frame(0, host_ip(0), host_ip(1), options=[IPOption_LSRR(routers=["10.0.2.9"])])
    to_router = _frame(0, host_ip(0), port_ip(0), options=[IPOption_SSRR(routers=[host_ip(1)])], ident=78)
    lab.send(transit, 0)
    lab.send(to_router, 0, at_ns=50_000)
    lab.run_us(300)
    assert lab.out() == [icmp_error(bytes(transit[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=5)),
                         icmp_error(bytes(to_router[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=5), ip_id=2)]
    assert lab.c("options.source_route_rejected") == 2


def test_source_route_drop_is_the_default_and_covers_the_router():
    """RFC 7126 4.3.4 / 4.4.4: drop by default -- also a route addressed to the
    router, which used to be answered with port unreachable."""
    assert SlowPathConfig().source_route == "drop"
    lab = make_lab()
    lab.send(_frame(0, host_ip(0), port_ip(0), options=[IPOption_LSRR(routers=[host_ip(1)])]), 0)
    lab.run_us(200)
    assert lab.out() == [] and lab.c("options.source_route_drops") == 1


@pytest.mark.parametrize("opt", [IPOption_LSRR, IPOption_SSRR], ids=["lsrr", "ssrr"])
def test_source_route_accept_follows_the_route(opt):
    """``accept``: at the router (the datagram's destination) the next address
    becomes the destination and the outgoing interface's address takes its
    place in the route, pointer + 4 (RFC 791 3.1, RFC 1812 5.2.4.1)."""
    lab = make_lab(source_route="accept")
    f = _frame(0, host_ip(0), port_ip(0), options=[opt(routers=[host_ip(1), "10.0.2.77"])], ttl=9)
    lab.send(f, 0)
    lab.run_us(300)
    fwd = bytes(Ether(dst=host_mac(1), src=port_mac(1))
                / IP(src=host_ip(0), dst=host_ip(1), ttl=8, id=77,
                     options=[opt(pointer=8, routers=[port_ip(1), "10.0.2.77"])])
                / UDP(sport=4000, dport=5000) / Raw(b"d" * 40))
    assert lab.out() == [fwd]
    assert lab.c("options.source_route_followed") == 1


def test_strict_route_to_a_non_neighbour_fails():
    """RFC 791: a strict route's next address must be directly reachable."""
    lab = _lab(source_route="accept")
    f = _frame(0, host_ip(0), port_ip(0), options=[IPOption_SSRR(routers=["192.168.9.1"])])
    lab.send(f, 0)
    lab.run_us(300)
    assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=5))]
    assert lab.c("options.source_route_failed") == 1


@pytest.mark.parametrize("opt,dst,forwarded", [
    (IPOption_LSRR, "192.168.5.5", True),       # loose, not this router's turn: forwarded unchanged
    (IPOption_SSRR, host_ip(2), True),          # strict to a neighbour of this router
    (IPOption_SSRR, "192.168.5.5", False),      # strict, but through a gateway: source route failed
])
def test_source_route_in_transit_with_accept(opt, dst, forwarded):
    """RFC 791 3.1 / RFC 1812 5.2.4.1 with ``accept``: not this router's turn --
    a loose route is forwarded unchanged (TTL - 1), a strict one only to a
    directly connected destination, else 3/5."""
    lab = make_lab(source_route="accept")
    lab.cp.add_route("192.168.5.0/24", 2, host_ip(2), immediate=True)
    route = opt(routers=["10.9.9.9"])
    f = _frame(0, host_ip(0), dst, options=[route], ttl=5)
    lab.send(f, 0)
    lab.run_us(300)
    if forwarded:
        assert lab.out() == [bytes(Ether(dst=host_mac(2), src=port_mac(2))
                                   / IP(src=host_ip(0), dst=dst, ttl=4, id=77, options=[route])
                                   / UDP(sport=4000, dport=5000) / Raw(b"d" * 40))]
    else:
        assert lab.out() == [icmp_error(bytes(f[IP]), in_port=0, to_port=0, icmp=ICMP(type=3, code=5))]


def test_martian_next_address_of_a_source_route_is_dropped():
    """RFC 1812 5.3.7 on the slow path: a route whose next address is
    127.0.0.1 is not followed (a classic way round the fast path's check)."""
    lab = make_lab(source_route="accept")
    lab.send(_frame(0, host_ip(0), port_ip(0), options=[IPOption_LSRR(routers=["127.0.0.1"])]), 0)
    lab.run_us(200)
    assert lab.out() == [] and lab.c("martian.dst_drops") == 1


def test_slow_path_drops_martians_it_is_handed():
    """The slow path applies the fast path's martian rule to what it forwards
    itself, whoever hands it the packet (here: a HostPacket given directly)."""
    lab = make_lab()
    f = _frame(0, "127.0.0.1", host_ip(1), options=[IPOption_RR(routers=["0.0.0.0"])])
    hp = HostPacket(pkt=1, reason="ip_options", data=bytes(f), in_port=0, out_port=1, nh_ip="0.0.0.0",
                    t_rx_ns=0.0, t_host_ns=0.0, ptag=0, src=0)
    lab.sp._process(hp)
    lab.run_us(100)
    assert lab.out() == [] and lab.c("martian.src_drops") == 1


# ------------------------------------------------------------------------------------------
# reassembly (RFC 1122 3.3.2, RFC 1812 4.2.2.8, RFC 5722)


def _frags(ip_pkt: IP, size: int = 1480, p_in: int = 0) -> list[Ether]:
    return [Ether(bytes(Ether(dst=port_mac(p_in), src=host_mac(p_in)) / f)) for f in fragment(ip_pkt, fragsize=size)]


def _big_ping(n: int = 2972, ident: int = 500) -> IP:
    return IP(src=host_ip(0), dst=port_ip(0), id=ident) / ICMP(type=8, id=9, seq=1) / Raw(bytes(range(256)) * (n // 256)
                                                                                         + b"z" * (n % 256))


def _reply_frames(req: IP, ip_id: int = 1) -> list[bytes]:
    reply = IP(src=req.dst, dst=req.src, id=ip_id, ttl=64) / ICMP(type=0, id=req[ICMP].id, seq=req[ICMP].seq) \
        / Raw(req[Raw].load)
    return [bytes(Ether(dst=host_mac(0), src=port_mac(0)) / f) for f in fragment(IP(bytes(reply)), fragsize=1480)]


@pytest.mark.parametrize("order", ["in_order", "reversed", "with_duplicate"])
def test_fragmented_ping_is_reassembled_and_answered(order):
    """RFC 1122 3.3.2 / RFC 1812 4.2.2.8: datagrams addressed to the router are
    reassembled, in any order; an exact duplicate fragment is ignored."""
    lab = make_lab()
    req = _big_ping()
    fr = _frags(req)
    if order == "reversed":
        fr = fr[::-1]
    elif order == "with_duplicate":
        fr = [fr[0], fr[1], fr[1], fr[2]]
    for k, f in enumerate(fr):
        lab.send(f, 0, at_ns=k * 20_000.0)
    lab.run_us(400)
    assert lab.out() == _reply_frames(IP(bytes(req)))
    assert (lab.c("reasm.datagrams"), lab.c("reasm.duplicates")) == (1, 1 if order == "with_duplicate" else 0)


def test_fragmented_udp_gets_port_unreachable_about_the_whole_datagram():
    """RFC 1122 3.3.2: the reassembled datagram is what the transport sees; the
    port unreachable (RFC 1812 4.3.3.1) quotes it (4.3.2.3)."""
    lab = make_lab()
    dg = IP(src=host_ip(0), dst=port_ip(0), id=600) / UDP(sport=1, dport=9) / Raw(b"u" * 2000)
    for f in _frags(dg, 1000):
        lab.send(f, 0)
    lab.run_us(300)
    assert lab.out() == [icmp_error(bytes(IP(bytes(dg))), in_port=0, to_port=0, icmp=ICMP(type=3, code=3))]


def test_overlapping_fragments_discard_the_datagram():
    """RFC 5722 (applied to IPv4): an overlapping fragment discards the whole
    datagram, the fragments still to come included, silently."""
    lab = make_lab()
    req = _big_ping(ident=501)
    fr = _frags(req)
    ov = IP(bytes(fr[1][IP]))
    ov.frag -= 1                                              # 8 bytes into the first fragment's data
    del ov.chksum
    for k, f in enumerate([fr[0], Ether(bytes(fr[1])[:14]) / ov, fr[1], fr[2]]):
        lab.send(f, 0, at_ns=k * 20_000.0)
    lab.run_us(400)
    assert lab.out() == []
    assert (lab.c("reasm.overlap_drops"), lab.c("reasm.discarded_fragments"), lab.c("reasm.datagrams")) == (1, 2, 0)


def test_timeout_sends_time_exceeded_when_fragment_zero_came():
    """RFC 1122 3.3.2: an incomplete datagram is discarded at the timeout and,
    if fragment zero was received, ICMP time exceeded, reassembly (11/1) goes
    to its source quoting fragment zero; without fragment zero, nothing."""
    lab = make_lab(reasm_timeout_s=0.001)
    a, b = _frags(_big_ping(ident=502)), _frags(_big_ping(ident=503))
    lab.send(a[0], 0)
    lab.send(b[1], 0)
    lab.run_us(1500)
    assert lab.out() == [icmp_error(bytes(a[0][IP]), in_port=0, to_port=0, icmp=ICMP(type=11, code=1))]
    assert (lab.c("reasm.timeouts"), lab.c("icmp.reasm_time_exceeded")) == (2, 1)


def test_reassembly_memory_is_bounded():
    """Configuration ``reasm_max_bytes``: fragments beyond it are dropped and
    counted; the datagram never completes, nothing else is lost."""
    lab = make_lab(reasm_max_bytes=2000)
    for f in _frags(_big_ping(ident=504)):
        lab.send(f, 0)
    ok = _ping(0, port_ip(0))
    lab.send(ok, 0, at_ns=100_000)
    lab.run_us(300)
    assert lab.c("reasm.full_drops") == 1 and lab.c("reasm.datagrams") == 0
    assert len(lab.out()) == 1 and Ether(lab.out()[0])[ICMP].type == 0          # the small ping still answered
    lab.r.check_conservation()


# ------------------------------------------------------------------------------------------
# echo replies with options (RFC 1122 3.2.2.6)


def test_echo_reply_carries_record_route_and_timestamp_updated():
    """RFC 1122 3.2.2.6: Record Route and Timestamp options of an echo request
    are updated to include the replier and returned in the reply, so the
    recorded route is the whole round trip."""
    lab = make_lab()
    rr = IPOption_RR(pointer=8, routers=["10.9.9.9", "0.0.0.0", "0.0.0.0"])
    ts = IPOption_Timestamp(flg=0, pointer=5, timestamp=0)
    req = _ping(0, port_ip(0), options=[rr, ts])
    lab.send(req, 0, at_ns=3.0e6)
    lab.run_us(3300)
    q = req[IP]
    reply = Ether(dst=host_mac(0), src=port_mac(0)) / IP(
        src=q.dst, dst=q.src, id=1, ttl=64,
        options=[IPOption_RR(pointer=12, routers=["10.9.9.9", port_ip(0), "0.0.0.0"]),
                 IPOption_Timestamp(flg=0, pointer=9, timestamp=0x80000003)]) \
        / ICMP(type=0, id=q[ICMP].id, seq=q[ICMP].seq) / Raw(q[Raw].load)
    assert lab.out() == [bytes(reply)]
    assert lab.c("icmp.echo_options") == 1


def test_echo_reply_to_a_source_routed_request_reverses_the_route():
    """RFC 1122 3.2.2.6 / 3.2.1.8(c): a completed source route is reversed for
    the reply: the last recorded hop first, the original source last."""
    lab = make_lab(source_route="accept")
    lab.cp.set_arp(GW, GW_MAC)
    srr = IPOption_LSRR(pointer=12, routers=["172.16.0.1", GW])      # recorded by two routers, exhausted
    req = _ping(0, port_ip(0), options=[srr], src="192.168.50.5")
    lab.send(req, 0)
    lab.run_us(300)
    q = req[IP]
    reply = Ether(dst=GW_MAC, src=port_mac(0)) / IP(
        src=q.dst, dst=GW, id=1, ttl=64, options=[IPOption_LSRR(pointer=4, routers=["172.16.0.1", "192.168.50.5"])]) \
        / ICMP(type=0, id=q[ICMP].id, seq=q[ICMP].seq) / Raw(q[Raw].load)
    assert lab.out() == [bytes(reply)]


def test_priority_tagged_ping_is_answered_untagged():
    """IEEE 802.1Q VID 0 on the untagged port: handled as untagged end to end."""
    lab = make_lab()
    req = Ether(dst=port_mac(1), src=host_mac(1)) / Dot1Q(prio=5, vlan=0) \
        / IP(src=host_ip(1), dst=port_ip(1), id=3) / ICMP(id=1, seq=1) / Raw(b"tagged")
    lab.send(req, 1)
    lab.run_us(200)
    reply = Ether(dst=host_mac(1), src=port_mac(1)) / IP(src=port_ip(1), dst=host_ip(1), id=1, ttl=64) \
        / ICMP(type=0, id=1, seq=1) / Raw(b"tagged")
    assert lab.out() == [bytes(reply)]


def test_echo_requests_can_be_ignored():
    """RFC 1812 4.3.3.6: an option to ignore all echo requests, default off."""
    assert SlowPathConfig().answer_echo is True
    lab = make_lab(answer_echo=False)
    lab.send(_ping(0, port_ip(0)), 0)
    lab.run_us(200)
    assert lab.out() == [] and lab.c("icmp.echo_ignored") == 1


@pytest.mark.parametrize("src", [host_ip(2), "0.0.0.0"], ids=["unicast", "unknown_source"])
def test_address_mask_reply(src):
    """RFC 1812 4.3.3.9 (MUST) / RFC 950: an address mask request is answered
    with the receiving interface's mask; a requester that does not know its
    address (0.0.0.0, to the limited broadcast) gets the reply broadcast."""
    lab = make_lab()
    dst = port_ip(2) if src != "0.0.0.0" else "255.255.255.255"
    req = Ether(dst=port_mac(2) if src != "0.0.0.0" else "ff:ff:ff:ff:ff:ff", src=host_mac(2)) \
        / IP(src=src, dst=dst, id=4) / ICMP(type=17, id=5, seq=6)
    lab.send(req, 2)
    lab.run_us(200)
    reply_ip = IP(src=port_ip(2), dst=src if src != "0.0.0.0" else "255.255.255.255", id=1, ttl=64) \
        / ICMP(type=18, id=5, seq=6, addr_mask="255.255.255.0")
    l2 = host_mac(2) if src != "0.0.0.0" else "ff:ff:ff:ff:ff:ff"
    assert lab.out() == [bytes(Ether(dst=l2, src=port_mac(2)) / reply_ip)]
    assert lab.c("icmp.address_mask_replies") == 1


def test_fragments_keep_the_reserved_flag():
    """RFC 1812 5.2.5: reserved bits pass unchanged, into every fragment."""
    from host.slowpath import fragment
    dg = bytearray(bytes(IP(src=host_ip(0), dst=host_ip(1), id=3, flags=4) / UDP() / Raw(b"r" * 100)))
    pieces = fragment(bytes(dg), 68)
    assert len(pieces) > 2 and all(p[6] & 0x80 for p in pieces)


@pytest.mark.parametrize("icmp", [ICMP(type=4), ICMP(type=5, code=1, gw="10.0.1.9"), ICMP(type=0, id=1),
                                  ICMP(type=15), ICMP(type=42)],
                         ids=["source_quench", "redirect", "echo_reply", "information_request", "unknown_type"])
def test_icmp_messages_the_router_does_not_answer(icmp):
    """RFC 1812 4.3.2.1 (unknown types silently discarded), 4.3.3.2 (a router
    MAY ignore redirects: this one does), 4.3.3.3 (source quench never sent,
    ignored), 4.3.3.7 (information request not answered)."""
    lab = make_lab()
    f = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=port_ip(0)) / icmp / Raw(b"x" * 28)
    lab.send(f, 0)
    lab.run_us(200)
    assert lab.out() == [] and lab.c("local.icmp_consumed") == 1
    assert lab.r.exceptions() == {"local_delivery": 1}


@pytest.mark.parametrize("opt", [b"\x9e\x04\xab\xcd", b"\x88\x04\x00\x07"], ids=["unknown", "stream_id"])
def test_unrecognised_and_obsolete_options_pass_unchanged(opt):
    """RFC 1812 4.2.2.6 / 5.3.13.1: unrecognised options are passed through
    unchanged; 5.3.13.3: the Stream ID option is ignored."""
    lab = make_lab()
    ip = IP(src=host_ip(0), dst=host_ip(1), ttl=7, id=12, options=[]) / UDP(sport=3, dport=4) / Raw(b"o" * 20)
    raw = bytearray(bytes(ip))
    raw = bytearray(raw[:20] + opt + raw[20:])
    raw[0] = 0x46
    raw[2:4] = len(raw).to_bytes(2, "big")
    f = Ether(dst=port_mac(0), src=host_mac(0)) / IP(bytes(_ck(raw)))
    lab.send(f, 0)
    lab.run_us(300)
    out = bytearray(raw)
    out[8] -= 1
    assert lab.out() == [bytes(Ether(dst=host_mac(1), src=port_mac(1), type=0x0800)) + _ck(out)]


def _ck(h: bytearray) -> bytes:
    h[10:12] = b"\0\0"
    ihl = (h[0] & 15) * 4
    s = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, ihl, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    h[10:12] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(h)


# ------------------------------------------------------------------------------------------
# configuration: every choice a validated slow_path key with the RFC's default


def test_defaults_are_the_rfcs():
    """Defaults: 576 (RFC 1812 4.3.2.3), redirects on (5.2.7.2), drop source
    routes (RFC 7126 4.3.4), 60 s reassembly (RFC 1122 3.3.2)."""
    c = SlowPathConfig()
    assert (c.icmp_error_len, c.redirects, c.source_route, c.reasm_timeout_s) == (576, True, "drop", 60.0)


_BASE = "ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01'}\nslow_path:\n"


@pytest.mark.parametrize("line,err", [
    ("  source_route: forward", "slow_path.source_route must be one of drop, reject, accept"),
    ("  redirects: maybe", "slow_path.redirects must be true or false"),
    ("  answer_echo: 1", "slow_path.answer_echo must be true or false"),
    ("  address_mask_reply: no_thanks", "slow_path.address_mask_reply must be true or false"),
    ("  icmp_error_len: 40", "slow_path.icmp_error_len must be an integer 68..1500"),
    ("  reasm_timeout_s: 0", "slow_path.reasm_timeout_s must be a number > 0"),
    ("  reasm_max_bytes: 100", "slow_path.reasm_max_bytes must be an integer >= 576"),
    ("  reassembly: on", "unknown key; valid keys:"),
])
def test_bad_values_name_file_line_key_and_choices(line, err):
    """Configuration errors name file:line:key and the valid choices."""
    with pytest.raises(ConfigError) as e:
        parse_config(_BASE + line + "\n", source="r.yaml")
    assert str(e.value).startswith("r.yaml:4: slow_path.") and err in str(e.value)


def test_keys_reach_the_slow_path(tmp_path):
    """Each new ``slow_path`` key is applied by build_router."""
    from host.router import build_router
    cfg = parse_config(_BASE + "  source_route: accept\n  redirects: false\n  icmp_error_len: 100\n"
                              "  reasm_timeout_s: 90\n  reasm_max_bytes: 100000\n")
    sp = build_router(cfg).slow_path
    assert (sp.cfg.source_route, sp.cfg.redirects, sp.cfg.icmp_error_len) == ("accept", False, 100)
    assert (sp.reasm.timeout_ns, sp.reasm.max_bytes) == (90e9, 100000)


def test_parse_ipv4_cuts_padding():
    """RFC 791: the host's parser takes Total Length bytes, never link padding."""
    f = bytes(udp_frame(0, host_ip(1), size=50)) + b"\xff" * 20
    ip = parse_ipv4(f)
    assert ip is not None and ip.total_length == 36 and ip.raw == f[14:50]
