"""The plug-ins shipped in plugins/, each doing what NPR's namesake did."""
from __future__ import annotations

import numpy as np
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from np_model.assemblies import FilterAction
from tests.helpers import host_ip, host_mac, make_npr, port_mac, routed, udp_frame


def unrouted(frame: Ether, out_port: int) -> bytes:
    """A packet a plug-in sent straight to QM: new Ethernet header, IP untouched."""
    return bytes(Ether(dst=host_mac(out_port), src=port_mac(out_port), type=0x0800) / IP(bytes(frame[IP])))


def with_plugin(engine, name, me=1, args="", **filt):
    r = make_npr(engine)
    r.load_plugin(name, me, args=args)
    r.add_filter(FilterAction("plugin", plugin=me), **filt)
    return r


def test_null_forwards_on_the_route_tables_choice(engine):
    r = with_plugin(engine, "null", me=2, dport=7)
    a, b = udp_frame(0, host_ip(3), dport=7), udp_frame(1, host_ip(4), dport=8)
    r.send([bytes(a)], port=0)
    r.send([bytes(b)], port=1)
    r.run(duration_ns=100_000)
    out = {t.port: t.data for t in r.transmitted()}
    assert out == {3: unrouted(a, 3), 4: routed(b, 4, host_mac(4))}      # only dport 7 went through null
    st = r.plugin_stats("null")
    assert st["packets"] == 1 and st["exits"]["qm"] == 1 and 0 < st["cycles_min"] == st["cycles_max"]
    r.check_conservation()


def test_count_counts_aux_copies_by_protocol(engine):
    r = make_npr(engine)
    r.load_plugin("count", 0)
    r.add_filter(FilterAction("plugin", plugin=0), aux=True, dst=f"{host_ip(1)}/32")
    base = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(1))
    frames = [base / ICMP()] * 3 + [base / TCP()] * 4 + [base / UDP()] * 5
    r.send([bytes(f / Raw(b"z" * 20)) for f in frames], port=0)
    r.run(duration_ns=200_000)
    assert len(r.transmitted(port=1)) == 12                  # originals forwarded
    assert r.plugin_counters("count")[:3] == [3, 4, 5]
    assert r.drops() == {"plugin_drop": 12}                   # copies dropped
    assert r.plugin_message("count", "=counts") == "3 4 5"
    assert r.plugin_message("count", "reset") == "ok"
    assert r.plugin_counters("count")[:3] == [0, 0, 0]
    r.check_conservation()


def test_delay_holds_packets_for_the_configured_time(engine):
    r = with_plugin(engine, "delay", me=1, args="delay=200", dport=9)
    r.send([bytes(udp_frame(0, host_ip(2), dport=9, ipid=i)) for i in range(10)], port=0,
           at_ns=[i * 10_000.0 for i in range(10)])
    r.run(duration_ns=450_000)
    out = r.transmitted()
    assert len(out) == 10
    lat = np.array([t.latency_ns for t in out])
    assert (lat >= 200_000).all() and (lat <= 200_000 + 1_000 + 5_000).all()   # + one period + the path
    assert [Ether(t.data)[IP].id for t in out] == list(range(10))                # order kept
    assert r.plugin_message("delay", "delay=50") == "delay 50 us"
    r.send([bytes(udp_frame(0, host_ip(2), dport=9))], port=0)
    r.run(duration_ns=100_000)
    assert 50_000 <= r.transmitted()[-1].latency_ns <= 56_000
    npkts, maxinq, ndrops, ninq = (int(x) for x in r.plugin_message("delay", "=counts").split())
    assert (npkts, ndrops, ninq) == (11, 0, 0) and maxinq >= 10
    r.check_conservation()


def test_drop_delay_drops_the_configured_share():
    r = with_plugin("c", "drop_delay", me=0, args="drop=300 delay=20", dport=9)
    n = 1000
    r.send([bytes(udp_frame(0, host_ip(2), dport=9))] * n, port=0, at_ns=[i * 2000.0 for i in range(n)])
    r.run(duration_ns=n * 2000.0 + 100_000)
    out = r.transmitted()
    dropped = r.drops()["plugin_drop"]
    assert len(out) + dropped == n
    assert abs(dropped / n - 0.3) < 0.05
    assert min(t.latency_ns for t in out) >= 20_000
    assert r.plugin_counters("drop_delay")[4] == dropped
    r.check_conservation()


def test_emulink_serialises_at_its_rate_and_adds_its_delay(engine):
    r = with_plugin(engine, "emulink", me=3, args="rate=10000 delay=100 limit=6000", dport=9)
    f = bytes(udp_frame(0, host_ip(1), dport=9, size=1000))
    r.send([f] * 12, port=0)                                       # a burst at 1 Gb/s into a 10 Mb/s link
    r.run(duration_ns=6e6)
    out = r.transmitted()
    tx_ns = 1000 * 8 / 10e6 * 1e9                                  # 800 us per frame at 10 Mb/s
    starts = np.array([t.t_start_ns for t in out])
    assert len(out) == 6                                           # 6,000-B queue limit: the rest dropped
    assert r.drops() == {"plugin_drop": 6}
    assert np.allclose(np.diff(starts), tx_ns, atol=1_500)
    assert out[0].latency_ns == pytest.approx(tx_ns + 100_000, abs=3_000)
    r.check_conservation()


def test_tos_tag_reclassifies_by_precedence(engine):
    r = make_npr(engine)
    r.load_plugin("tos_tag", 4)
    r.add_filter(FilterAction("plugin", plugin=4), ptag=0, dport=5000)
    r.add_filter(FilterAction("queue", port=3, qid=80, mac=host_mac(3)), ptag=6)    # precedence 5 (EF)
    r.add_filter(FilterAction("queue", port=2, qid=81, mac=host_mac(2)), ptag=1)    # precedence 0
    ef, be = udp_frame(0, host_ip(1), dport=5000, tos=0xB8), udp_frame(0, host_ip(1), dport=5000, tos=0)
    r.send([bytes(ef), bytes(be)], port=0)
    r.run(duration_ns=200_000)
    out = {t.port: t for t in r.transmitted()}
    assert out[3].data == routed(ef, 3, host_mac(3)) and out[3].queue == 80     # TTL decremented once
    assert out[2].data == routed(be, 2, host_mac(2)) and out[2].queue == 81
    assert r.plugin_counters("tos_tag")[:8] == [1, 0, 0, 0, 0, 1, 0, 0]


def test_string_sub_rewrites_payload_and_fixes_checksums(engine):
    r = with_plugin(engine, "string_sub", me=0, dst=f"{host_ip(1)}/32")
    u = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(1)) / UDP(sport=1, dport=2) \
        / Raw(b"say HELLO to HELLO!")
    t = Ether(dst=port_mac(0), src=host_mac(0)) / IP(src=host_ip(0), dst=host_ip(1)) / TCP(sport=3, dport=4) \
        / Raw(b"HELLOHELLO")
    u, t = Ether(bytes(u)), Ether(bytes(t))
    r.send([bytes(u), bytes(t)], port=0)
    r.run(duration_ns=100_000)
    got = sorted(x.data for x in r.transmitted())

    def expect(f, new):
        ip = IP(bytes(f[IP]))
        ip[Raw].load = new
        del ip[UDP if UDP in ip else TCP].chksum
        return unrouted(Ether(dst=port_mac(0)) / IP(bytes(ip)), 1)

    assert got == sorted([expect(u, b"say WORLD to WORLD!"), expect(t, b"WORLDWORLD")])
    assert r.plugin_message("string_sub", "sub=say/hey") == "ok"
    assert r.plugin_message("string_sub", "sub=ab/xyz") == "error: equal lengths 1..12"
    assert r.plugin_counters("string_sub")[:2] == [2, 4]


def test_ip_hdr_chains_to_another_plugin(engine):
    r = make_npr(engine)
    r.load_plugin("ip_hdr", 0, args="next=2")
    r.load_plugin("null", 2)
    r.add_filter(FilterAction("plugin", plugin=0), dport=33434)
    f = udp_frame(0, host_ip(4), dport=33434, ttl=3, size=128)
    r.send([bytes(f)] * 4, port=0)
    r.run(duration_ns=100_000)
    assert [t.data for t in r.transmitted()] == [unrouted(f, 4)] * 4
    assert r.plugin_stats("ip_hdr")["exits"]["plugin"] == 4 and r.plugin_stats("null")["packets"] == 4
    assert r.plugin_counters("ip_hdr")[:4] == [4, 0, 4, 4 * (128 - 14 - 20)]
