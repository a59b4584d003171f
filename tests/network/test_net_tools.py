"""End hosts and their tools across routers: ping, traceroute, UDP flows,
pcap replay -- results checked against the topology's delays and against
scapy-built packets."""
from __future__ import annotations

import os

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether

from host.pcap import read_capture, write_pcap
from network.run import run_topology
from network.topology import load_topology, parse_topology
from network.wire import wire_ns

CHAIN_DELAYS_US = (10, 50, 50, 10)                   # examples/net/chain3.yaml, h1 -> h2


@pytest.fixture(scope="module")
def chain_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("chain3")
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net", "chain3.yaml")
    s = run_topology(load_topology(path), 27, str(out))
    return s, out


def test_ping_rtt_is_at_least_delays_plus_serialisation(chain_run):
    """RFC 792 echo across three NPRs: every RTT is at least the round trip's
    propagation delays plus the serialisation of request and reply on each of
    the 8 link crossings (98-byte frames at 1 Gb/s); the first pays for ARP."""
    s, _ = chain_run
    ping = s["results"][0]
    assert ping["sent"] == ping["received"] == 5 and ping["loss_pct"] == 0
    floor_ms = (2 * sum(CHAIN_DELAYS_US) * 1e3 + 8 * wire_ns(14 + 20 + 8 + 56, 1e9)) / 1e6
    rtts = [r["rtt_ms"] for r in ping["replies"]]
    assert min(rtts) >= floor_ms
    assert max(rtts[1:]) < floor_ms + 0.1                # later pings: only the routers' own latency on top
    assert rtts[0] > max(rtts[1:])                       # ARP resolution on the first


def test_ping_rtt_grows_by_the_added_propagation_delay(tmp_path):
    """Doubling one link's delay adds twice the difference to the round trip
    (the relation, not a number from a run)."""
    base = open(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net", "chain3.yaml")).read()
    longer = base.replace("r1-r2, endpoints: [\"r1:1\", \"r2:0\"], rate: 1G, delay_us: 50",
                          "r1-r2, endpoints: [\"r1:1\", \"r2:0\"], rate: 1G, delay_us: 100")
    assert longer != base
    d = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net")
    r0 = run_topology(parse_topology(base, source="a.yaml", base_dir=d), 6)["results"][0]
    r1 = run_topology(parse_topology(longer, source="b.yaml", base_dir=d), 6)["results"][0]
    for a, b in zip(r0["replies"][1:], r1["replies"][1:]):
        assert b["rtt_ms"] - a["rtt_ms"] == pytest.approx(0.1, abs=2e-3)


def test_traceroute_lists_each_router_address(chain_run):
    """Each router answers time exceeded (RFC 792, type 11) from the interface
    the probe arrived on (NPR slow path, RFC 1812 4.3.2.4 allows any; the NPR
    uses the receiving interface); the destination answers port unreachable."""
    s, _ = chain_run
    tr = s["results"][1]
    assert tr["reached"]
    assert [h["addr"] for h in tr["hops"]] == ["10.0.1.1", "10.1.12.2", "10.1.23.3", "10.0.3.2"]
    for h in tr["hops"]:
        assert len(h["probes"]) == 3 and all(p["addr"] == h["addr"] for p in h["probes"])
    rtt = [h["probes"][1]["rtt_ms"] for h in tr["hops"]]
    assert rtt == sorted(rtt)                                # farther hops answer later
    assert rtt[1] >= 2 * (10 + 50) / 1e3


def test_udp_flow_receiver_report(chain_run):
    """iperf -u style: 200 Mb/s of 1000-byte datagrams for 15 ms arrive complete
    and in order; one-way latency is at least the path's delays plus
    serialisation on each of its four links."""
    s, _ = chain_run
    f = s["results"][2]
    assert f["sent"] == int(15e-3 * 200e6 // 8000) == f["received"]
    assert f["lost"] == 0 and f["reordered"] == 0 and f["duplicates"] == 0
    assert f["throughput_bps"] == pytest.approx(200e6, rel=1e-3)
    floor = sum(CHAIN_DELAYS_US) * 1e3 + 4 * wire_ns(14 + 20 + 8 + 1000, 1e9)
    assert f["latency_ns"]["min"] >= floor
    assert f["latency_ns"]["p50"] <= f["latency_ns"]["p99"] <= f["latency_ns"]["max"]


def test_echo_reply_bytes_match_scapy(chain_run):
    """The reply h2 sends is the RFC 792 echo reply scapy builds for the
    request: same identifier, sequence and data; IPv4 with DF, ID 0, TTL 64."""
    _, out = chain_run
    cap = read_capture(os.path.join(out, "links", "r3-h2.pcapng"))
    reqs = [f for f, i in zip(cap.frames, cap.ifaces) if i == 0 and ICMP in Ether(f) and Ether(f)[ICMP].type == 8]
    reps = [f for f, i in zip(cap.frames, cap.ifaces) if i == 1 and ICMP in Ether(f) and Ether(f)[ICMP].type == 0]
    assert len(reqs) == len(reps) == 5
    q = Ether(reqs[0])
    want = (Ether(dst=q.src, src=q.dst) / IP(src=q[IP].dst, dst=q[IP].src, id=0, flags="DF", ttl=64)
            / ICMP(type=0, id=q[ICMP].id, seq=q[ICMP].seq) / bytes(q[ICMP].payload))
    assert reps[0] == bytes(want)


def test_udp_to_a_closed_port_gets_port_unreachable(tmp_path):
    """RFC 1122 3.2.2.1: a datagram for a port nobody listens on is answered
    with ICMP port unreachable quoting its header."""
    text = """
hosts:
  a: {address: 10.0.0.1/24, mac: "02:00:00:00:00:01"}
  b: {address: 10.0.0.2/24, mac: "02:00:00:00:00:02"}
links:
  - {name: ab, endpoints: [a, b], rate: 1G, delay_us: 1}
tools:
  - {tool: udp, host: a, dst: 10.0.0.2, dport: 4000, at_ms: 0, rate: 1M, size: 100, duration_ms: 0.9}
"""
    topo = parse_topology(text, source="t.yaml")
    topo.network.nodes["b"].udp.clear()                       # nobody listens on b
    s = run_topology(topo, 2, str(tmp_path))
    cap = read_capture(tmp_path / "links" / "ab.pcapng")
    errs = [Ether(f) for f, i in zip(cap.frames, cap.ifaces) if i == 1 and ICMP in Ether(f)]
    assert len(errs) == s["results"][0]["sent"] > 0
    e = errs[0]
    assert (e[ICMP].type, e[ICMP].code) == (3, 3)
    quoted = IP(bytes(e[ICMP].payload))
    assert quoted.dst == "10.0.0.2" and quoted[UDP].dport == 4000


def test_replay_sends_the_capture_as_is(tmp_path):
    """pcap replay from a host: the frames leave unchanged, at their capture
    times relative to the first (after the start time)."""
    frames = [bytes(Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / IP(src="10.0.0.1", dst="10.0.0.255")
                    / UDP(sport=1, dport=2) / bytes([i] * 30)) for i in range(5)]
    write_pcap(tmp_path / "in.pcap", [(1_000_000_000 + i * 20_000, f) for i, f in enumerate(frames)])
    text = f"""
hosts:
  a: {{address: 10.0.0.1/24, mac: "02:00:00:00:00:01"}}
  b: {{address: 10.0.0.2/24, mac: "02:00:00:00:00:02"}}
links:
  - {{name: ab, endpoints: [a, b], rate: 1G, delay_us: 1}}
tools:
  - {{tool: replay, host: a, pcap: {tmp_path / 'in.pcap'}, at_ms: 0.5}}
"""
    s = run_topology(parse_topology(text, source="t.yaml"), 1, str(tmp_path / "out"))
    assert s["results"][0]["sent"] == 5
    cap = read_capture(tmp_path / "out" / "links" / "ab.pcapng")
    assert cap.frames == frames
    assert cap.times_ns == [500_000 + i * 20_000 for i in range(5)]
    assert s["conservation"]["places"]["b"]["delivered"] == {"udp_broadcast_no_socket": 5}
