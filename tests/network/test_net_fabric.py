"""The compiled fabric (np_model.engine.fabric) drives the routers and carries
their links exactly as the Python window loop does: the same topology run both
ways gives identical link captures, tool results, node statistics and ledgers."""
from __future__ import annotations

import glob
import json
import os

import pytest

from host.pcap import read_capture
from network.run import run_topology
from network.topology import load_topology, parse_topology

# h1 -- s1 -- r1 ==(MTU 600)== r2 --(loss 5 %)-- r3 --(goes down)-- r4 (goes down) -- h2
#                              r2:2 unconnected (a route points out of it)
MIXED = """
network: {seed: 3}
routers:
  r1:
    router:
      ports:
        - {address: 10.0.1.1/24, mac: "02:00:00:01:00:01"}
        - {address: 10.1.12.1/24, mac: "02:00:00:01:00:02"}
      routes:
        - {prefix: 10.0.4.0/24, port: 1, next_hop: 10.1.12.2}
        - {prefix: 10.1.23.0/24, port: 1, next_hop: 10.1.12.2}
        - {prefix: 10.1.34.0/24, port: 1, next_hop: 10.1.12.2}
        - {prefix: 10.9.0.0/16, port: 1, next_hop: 10.1.12.2}
      slow_path: {arp_retry_ms: 1}
  r2:
    router:
      ports:
        - {address: 10.1.12.2/24, mac: "02:00:00:02:00:01"}
        - {address: 10.1.23.2/24, mac: "02:00:00:02:00:02"}
        - {address: 10.2.0.2/24, mac: "02:00:00:02:00:03"}
      routes:
        - {prefix: 10.0.1.0/24, port: 0, next_hop: 10.1.12.1}
        - {prefix: 10.0.4.0/24, port: 1, next_hop: 10.1.23.3}
        - {prefix: 10.1.34.0/24, port: 1, next_hop: 10.1.23.3}
        - {prefix: 10.9.0.0/16, port: 2, next_hop: 10.2.0.9}
      arp:
        - {ip: 10.2.0.9, mac: "02:00:00:00:09:09"}
      slow_path: {arp_retry_ms: 1}
  r3:
    router:
      ports:
        - {address: 10.1.23.3/24, mac: "02:00:00:03:00:01"}
        - {address: 10.1.34.3/24, mac: "02:00:00:03:00:02"}
      routes:
        - {prefix: 10.0.1.0/24, port: 0, next_hop: 10.1.23.2}
        - {prefix: 10.1.12.0/24, port: 0, next_hop: 10.1.23.2}
        - {prefix: 10.0.4.0/24, port: 1, next_hop: 10.1.34.4}
      slow_path: {arp_retry_ms: 1}
  r4:
    router:
      ports:
        - {address: 10.1.34.4/24, mac: "02:00:00:04:00:01"}
        - {address: 10.0.4.1/24, mac: "02:00:00:04:00:02"}
      routes:
        - {prefix: 10.0.1.0/24, port: 0, next_hop: 10.1.34.3}
        - {prefix: 10.1.12.0/24, port: 0, next_hop: 10.1.34.3}
        - {prefix: 10.1.23.0/24, port: 0, next_hop: 10.1.34.3}
      slow_path: {arp_retry_ms: 1}
hosts:
  h1: {address: 10.0.1.2/24, mac: "02:00:00:00:01:02", gateway: 10.0.1.1}
  h2: {address: 10.0.4.2/24, mac: "02:00:00:00:04:02", gateway: 10.0.4.1}
switches:
  s1: {ports: 2}
links:
  - {name: h1-s1, endpoints: [h1, "s1:0"], rate: 1G, delay_us: 3}
  - {name: s1-r1, endpoints: ["s1:1", "r1:0"], rate: 1G, delay_us: 4}
  - {name: r1-r2, endpoints: ["r1:1", "r2:0"], rate: 1G, delay_us: 5, mtu: 600}
  - {name: r2-r3, endpoints: ["r2:1", "r3:0"], rate: 1G, delay_us: 6, loss: 0.05}
  - {name: r3-r4, endpoints: ["r3:1", "r4:0"], rate: 1G, delay_us: 7}
  - {name: r4-h2, endpoints: ["r4:1", h2], rate: 1G, delay_us: 3}
tools:
  - {tool: ping, host: h1, dst: h2, at_ms: 0.1, count: 4, interval_ms: 0.5}
  - {tool: ping, host: h1, dst: 10.1.12.2, at_ms: 0.3, count: 3, interval_ms: 0.5}
  - {tool: traceroute, host: h1, dst: h2, at_ms: 2.5, max_ttl: 6, probes: 2, timeout_ms: 1}
  - {tool: udp, host: h1, dst: h2, dport: 5001, at_ms: 4, rate: 300M, size: 400, duration_ms: 3}
  - {tool: udp, host: h1, dst: h2, dport: 5002, at_ms: 4, rate: 50M, size: 1000, duration_ms: 2}
  - {tool: udp, host: h1, dst: 10.9.9.9, dport: 5003, at_ms: 4.5, rate: 20M, size: 200, duration_ms: 1}
events:
  - {at_ms: 3.8, node: r2, control: add_route, args: {prefix: 10.8.0.0/16, port: 1, next_hop: 10.1.23.3}}
  - {at_ms: 5.5, link: r3-r4, action: down}
  - {at_ms: 5.9, link: r3-r4, action: up}
  - {at_ms: 6.5, node: r4, action: down}
  - {at_ms: 6.7, node: r4, action: up}
"""


def _run(topo, out, ms: float, window_ns=None, compiled=True):
    topo.network.compiled = compiled
    s = run_topology(topo, ms, str(out), window_ns=window_ns)
    caps = {}
    for f in sorted(glob.glob(os.path.join(out, "links", "*.pcapng"))):
        c = read_capture(f)
        caps[os.path.basename(f)] = (c.times_ns, c.frames, c.ifaces)
    nodes = {}
    for f in sorted(glob.glob(os.path.join(out, "nodes", "*", "stats.json"))):
        nodes[f.split(os.sep)[-2]] = json.load(open(f))
    for k in ("wall_s", "sync_overhead", "compiled"):
        s.pop(k)
    return s, caps, nodes, topo.network


@pytest.mark.parametrize("windows", [(None, None), (None, 1_700.0)])
def test_compiled_fabric_equals_the_python_loop(tmp_path, windows):
    """Every kind of link the fabric meets -- router to router (with frames lost
    to a link MTU), switch to router (an external end), router to router with
    loss draws or a down time (carried in Python), a router with a down time
    (driven from Python), a router port on no link -- plus slow-path replies,
    a control-plane call and ARP timers: the compiled run and the Python-driven
    run (also with another window) give the same captures, tool results, every
    node's statistics and ledger, and the same links' counts."""
    a = _run(parse_topology(MIXED, source="mixed.yaml"), tmp_path / "c", 9, windows[0], compiled=True)
    b = _run(parse_topology(MIXED, source="mixed.yaml"), tmp_path / "p", 9, windows[1], compiled=False)
    s_a, caps_a, nodes_a, net_a = a
    s_b, caps_b, nodes_b, net_b = b
    # the fabric really ran: r1..r3 in it (r4 has a down time), r1-r2 and s1-r1 carried in C
    assert net_a.compiled_last == {"nodes": ["r1", "r2", "r3"], "links": ["s1-r1", "r1-r2"]}
    assert net_b.compiled_last == {"nodes": [], "links": []}
    assert s_a.pop("windows") != s_b.pop("windows") or windows[1] is None
    s_a.pop("window_ns"), s_b.pop("window_ns")
    assert s_a == s_b
    assert caps_a == caps_b
    assert nodes_a == nodes_b
    assert s_a["ok"], s_a["conservation"]["unbalanced"]
    # what the run exercised
    drops = s_a["conservation"]["drops"]
    assert any("r1-r2" in k and k.endswith("mtu_exceeded") for k in drops)        # lost in the fabric
    assert any("r2-r3" in k and k.endswith("link_loss") for k in drops)
    assert any("r3-r4" in k and k.endswith("link_down") for k in drops)
    assert drops.get("r2: port_unconnected", 0) > 0
    flows = {r.get("dport"): r for r in s_a["results"] if r["tool"] == "udp"}
    assert flows[5001]["received"] > 0 and flows[5002]["received"] == 0           # 1000-B datagrams > MTU 600
    pings = [r for r in s_a["results"] if r["tool"] == "ping"]
    assert pings[1]["received"] == 3                                            # r2's slow path answered
    assert "result" in s_a["events"][0]                                         # the control call ran
    assert drops.get("r4: node_down", 0) > 0


def test_compiled_fabric_equals_the_python_loop_on_the_example(chain3, tmp_path):
    """chain3.yaml (every link in the fabric, captured): identical outputs both ways."""
    a = _run(load_topology(chain3), tmp_path / "c", 16)
    b = _run(load_topology(chain3), tmp_path / "p", 16, compiled=False)
    assert a[3].compiled_last == {"nodes": ["r1", "r2", "r3"], "links": ["h1-r1", "r1-r2", "r2-r3", "r3-h2"]}
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
    assert sum(len(c[1]) for c in a[1].values()) > 500             # the UDP flow crossed every link


def test_router_work_is_its_engine_time(tmp_path):
    """A router's share of the wall time (``busy_s``) is its NPR's simulation time
    (``NPR.sim_wall_s``: the engine's event loop and the slow path's callbacks),
    and all the nodes' work is less than the run's wall time."""
    topo = load_topology(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net", "chain3.yaml"))
    net = topo.network
    r1 = net.nodes["r1"]
    w0, e0 = r1.busy_s, r1.npr.sim_wall_s
    run_topology(topo, 3, None)
    assert r1.busy_s - w0 == pytest.approx(r1.npr.sim_wall_s - e0)
    assert 0 < sum(n.busy_s for n in net.nodes.values()) < net.wall_s
    assert 0 < net.sync_overhead() < 1


# h1 -- r1 -- s1 -- r2 -- h2, h3 on s1 too: every link has a fabric router at an end, no captures,
# so the hosts and the switch hand their frames to the fabric as records, once per window
UNCAPTURED = """
network: {seed: 5, capture: false}
routers:
  r1:
    router:
      ports:
        - {address: 10.0.1.1/24, mac: "02:00:00:01:00:01"}
        - {address: 10.1.12.1/24, mac: "02:00:00:01:00:02"}
      routes:
        - {prefix: 10.0.2.0/24, port: 1, next_hop: 10.1.12.2}
      slow_path: {arp_retry_ms: 1}
  r2:
    router:
      ports:
        - {address: 10.1.12.2/24, mac: "02:00:00:02:00:01"}
        - {address: 10.0.2.1/24, mac: "02:00:00:02:00:02"}
      routes:
        - {prefix: 10.0.1.0/24, port: 0, next_hop: 10.1.12.1}
      slow_path: {arp_retry_ms: 1}
hosts:
  h1: {address: 10.0.1.2/24, mac: "02:00:00:00:01:02", gateway: 10.0.1.1}
  h2: {address: 10.0.2.2/24, mac: "02:00:00:00:02:02", gateway: 10.0.2.1}
switches:
  s1: {ports: 2}
links:
  - {name: h1-r1, endpoints: [h1, "r1:0"], rate: 1G, delay_us: 3}
  - {name: r1-s1, endpoints: ["r1:1", "s1:0"], rate: 1G, delay_us: 4}
  - {name: s1-r2, endpoints: ["s1:1", "r2:0"], rate: 1G, delay_us: 5, mtu: 900}
  - {name: r2-h2, endpoints: ["r2:1", h2], rate: 1G, delay_us: 2}
tools:
  - {tool: ping, host: h1, dst: h2, at_ms: 0.1, count: 3, interval_ms: 0.4}
  - {tool: traceroute, host: h1, dst: h2, at_ms: 1.5, max_ttl: 5, probes: 2, timeout_ms: 1}
  - {tool: udp, host: h1, dst: h2, dport: 5001, at_ms: 2.5, rate: 400M, size: 700, duration_ms: 2}
  - {tool: udp, host: h2, dst: h1, dport: 5002, at_ms: 2.6, rate: 100M, size: 1000, duration_ms: 1}
events:
  - {at_ms: 2.0, node: r1, control: add_route, args: {prefix: 10.8.0.0/16, port: 1, next_hop: 10.1.12.2}}
"""


@pytest.mark.parametrize("window_ns", [None, 900.0])
def test_compiled_fabric_equals_the_python_loop_without_captures(tmp_path, window_ns):
    """With no link captured, every link has a fabric router at an end: the hosts
    and the switch hand what they send to the fabric as records, one call per
    window, and take what it delivers straight into their event queues. Tool
    results, every node's statistics and ledger and the links' counts are those
    of the Python-driven run; 1000-byte datagrams exceed the s1-r2 MTU of 900
    (RFC 791: DF set, so they are lost on the link, counted)."""
    a = _run(parse_topology(UNCAPTURED, source="u.yaml"), tmp_path / "c", 5, window_ns, compiled=True)
    b = _run(parse_topology(UNCAPTURED, source="u.yaml"), tmp_path / "p", 5, None, compiled=False)
    s_a, caps_a, nodes_a, net_a = a
    s_b, caps_b, nodes_b, net_b = b
    assert net_a.compiled_last == {"nodes": ["r1", "r2"], "links": ["h1-r1", "r1-s1", "s1-r2", "r2-h2"]}
    assert caps_a == caps_b == {}
    for s in (s_a, s_b):
        s.pop("windows"), s.pop("window_ns")
    assert s_a == s_b
    assert nodes_a == nodes_b
    assert s_a["ok"], s_a["conservation"]["unbalanced"]
    flows = {r.get("dport"): r for r in s_a["results"] if r["tool"] == "udp"}
    assert flows[5001]["received"] == flows[5001]["sent"] > 100
    assert flows[5002]["received"] == 0 and s_a["links"]["s1-r2"]["directions"]["link s1-r2 s1:1->r2:0"]["sent"] > 0
    assert s_a["conservation"]["drops"].get("link s1-r2 r2:0->s1:1: mtu_exceeded", 0) == flows[5002]["sent"]
    assert [h["addr"] for h in next(r for r in s_a["results"] if r["tool"] == "traceroute")["hops"]] == \
        ["10.0.1.1", "10.1.12.2", "10.0.2.2"]
