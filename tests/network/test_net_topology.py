"""The topology file: every bad input the issue lists is a clear error naming
file, line and key (with the valid choices), never a traceback."""
from __future__ import annotations

import pytest

from network.sim import MIN_DELAY_NS
from network.topology import ConfigError, parse_topology

BASE = """\
routers:
  r1:
    router:
      ports:
        - {address: 10.0.1.1/24, mac: "02:00:00:00:01:01"}
        - {address: 10.0.2.1/24, mac: "02:00:00:00:02:01"}
hosts:
  h1: {address: 10.0.1.2/24, mac: "02:00:00:00:01:02", gateway: 10.0.1.1}
  h2: {address: 10.0.2.2/24, mac: "02:00:00:00:02:02", gateway: 10.0.2.1}
switches:
  s1: {ports: [{mode: access, vlan: 10}, {mode: trunk, vlans: [10, 20]}, {mode: trunk, vlans: [10]}]}
  s2: {ports: [{mode: trunk, vlans: [10, 20]}, {mode: trunk, vlans: [10]}, {mode: access, vlan: 10}]}
  s3: {ports: [{mode: trunk, vlans: [20]}, {mode: trunk, vlans: [20]}]}
links:
  - {endpoints: [h1, "r1:0"], rate: 1G, delay_us: 5}
  - {endpoints: ["r1:1", "s1:0"], rate: 1G, delay_us: 5}
  - {endpoints: [h2, "s2:2"], rate: 1G, delay_us: 5}
  - {endpoints: ["s1:1", "s2:0"], rate: 1G, delay_us: 5}
"""
LINKS_AT = BASE.count("\n") + 1          # the line a link appended to BASE is on


def _err(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse_topology(text, source="topo.yaml")
    return str(e.value)


def test_the_base_is_valid():
    topo = parse_topology(BASE, source="topo.yaml")
    assert len(topo.network.links) == 4


@pytest.mark.parametrize("extra,key,needles", [
    ('  - {endpoints: [h1, "rx:0"], rate: 1G, delay_us: 5}\n', "links[4].endpoints",
     ["no node named 'rx'", "nodes: r1, h1, h2, s1, s2, s3"]),
    ('  - {endpoints: [h2, "r1:1"], rate: 1G, delay_us: 5}\n', "links[4].endpoints",
     ["port h2:0 is already used by links[2]"]),
    ('  - {endpoints: ["s3:0", "r1:7"], rate: 1G, delay_us: 5}\n', "links[4].endpoints",
     ["r1 has no port 7", "valid: 0..1"]),
    ('  - {endpoints: ["s1:2", "s2:1"], rate: 1G, delay_us: 5}\n', "links[4].endpoints",
     ["closes a loop of switches s1 - s2 - s1 in VLAN 10", "needs STP"]),
    ('  - {endpoints: ["s3:0", "s3:1"], rate: 1G, delay_us: 5}\n', "links[4].endpoints",
     ["both ends are s3"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: 1G, delay_us: 0}\n', "links[4].delay_us",
     [f"smallest allowed link delay, {MIN_DELAY_NS:g} ns", "conservative synchronisation", "no window"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: 1G, delay_ns: 0}\n', "links[4].delay_ns",
     ["smallest allowed link delay"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: 1G}\n', "links[4]", ["exactly one of delay_us and delay_ns"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: 1G, delay_us: 1, colour: red}\n', "links[4].colour",
     ["unknown key", "valid keys: endpoints, rate, delay_us"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: fast, delay_us: 1}\n', "links[4].rate", ["like 1G, 100M"]),
    ('  - {endpoints: ["s3:0", "s2:1"], rate: 1G, delay_us: 1, loss: 1.5}\n', "links[4].loss", ["[0, 1)"]),
])
def test_bad_links(extra, key, needles):
    """Unknown node names, a port used twice, a missing port, switch loops, a
    link to itself, zero delay (with the smallest allowed and why), unknown keys."""
    msg = _err(BASE + extra)
    assert msg.startswith(f"topo.yaml:{LINKS_AT}: {key}: "), msg
    for n in needles:
        assert n in msg, msg


def test_loop_through_a_third_switch_in_another_vlan():
    """A ring s1 - s2 - s3 - s1 in VLAN 20: refused at the link that closes it."""
    text = BASE.replace("{mode: trunk, vlans: [10]}]}\n  s2", "{mode: trunk, vlans: [20]}]}\n  s2") \
               .replace("{mode: trunk, vlans: [10]}, {mode: access, vlan: 10}]}",
                        "{mode: trunk, vlans: [20]}, {mode: access, vlan: 10}]}")
    text += '  - {endpoints: ["s2:1", "s3:0"], rate: 1G, delay_us: 5}\n'
    text += '  - {endpoints: ["s3:1", "s1:2"], rate: 1G, delay_us: 5}\n'
    msg = _err(text)
    assert msg.startswith(f"topo.yaml:{LINKS_AT + 1}: links[5].endpoints: "), msg
    assert "VLAN 20" in msg and "STP" in msg


def test_parallel_trunks_are_a_loop_but_disjoint_vlans_are_not():
    ok = BASE.replace('{mode: trunk, vlans: [10]}]}\n  s2', '{mode: trunk, vlans: [30]}]}\n  s2') \
             .replace('{mode: trunk, vlans: [10]}, {mode: access', '{mode: trunk, vlans: [30]}, {mode: access')
    topo = parse_topology(ok + '  - {endpoints: ["s1:2", "s2:1"], rate: 1G, delay_us: 5}\n', source="topo.yaml")
    assert len(topo.network.links) == 5


@pytest.mark.parametrize("port,needle", [
    ("{mode: access, vlan: 0}", "must be an integer 1..4094, got int 0"),
    ("{mode: access, vlan: 4095}", "must be an integer 1..4094, got int 4095"),
    ("{mode: trunk, vlans: [10, 5000]}", "VLAN id 5000 is outside 1..4094"),
    ("{mode: trunk, vlans: [10], native: 4095}", "must be an integer 1..4094"),
    ("{mode: hybrid, vlan: 3}", "'hybrid' is not a port mode; valid: access, trunk"),
    ("{mode: access, vlans: [3]}", "an access port has one VLAN"),
])
def test_bad_vlans(port, needle):
    """VLAN ids outside 1..4094 (0 and 4095 are reserved by 802.1Q) and bad port modes."""
    text = BASE.replace("s3: {ports: [{mode: trunk, vlans: [20]}, ", f"s3: {{ports: [{port}, ")
    msg = _err(text)
    line = BASE.splitlines().index(next(x for x in BASE.splitlines() if x.startswith("  s3:"))) + 1
    assert msg.startswith(f"topo.yaml:{line}: switches.s3.ports[0]"), msg
    assert needle in msg, msg


@pytest.mark.parametrize("old,new,line_of,key,needle", [
    ("  h2: {address", "  h1: {address", "  h1: {address: 10.0.1.2", "", "duplicate key 'h1'"),
    ("  s3: {ports", "  h2: {ports", "  h2: {ports", "switches.h2", "already used by hosts.h2"),
    ("gateway: 10.0.2.1}", "gateway: 10.0.9.1}", "  h2:", "hosts.h2.gateway", "not another address on 10.0.2.0/24"),
    ('mac: "02:00:00:00:02:02"', 'mac: "02:00:00:00:01:02"', "  h2:", "hosts.h2.mac", "also hosts.h1.mac"),
    ("{address: 10.0.2.1/24, mac", "{address: 10.0.2.1/33, mac", "        - {address: 10.0.2.1",
     "routers.r1.router.ports[1].address", "not an interface address"),
    ("  h1: {address", "  h1: {adress", "  h1:", "hosts.h1.adress", "valid keys: address, mac"),
])
def test_bad_nodes(old, new, line_of, key, needle):
    """Node errors, inline router configurations included, name the topology
    file's line and the key's full path."""
    text = BASE.replace(old, new, 1)
    msg = _err(text)
    lines = text.splitlines()
    start = line_of.replace(old, new) if old in line_of else line_of
    want = [i + 1 for i, x in enumerate(lines) if x.startswith(start)]
    if key == "":
        assert msg.startswith("topo.yaml:"), msg
    else:
        assert any(msg.startswith(f"topo.yaml:{n}: {key}: ") for n in want), msg
    assert needle in msg, msg


def test_router_rate_must_match_the_link():
    msg = _err(BASE.replace('[h1, "r1:0"], rate: 1G', '[h1, "r1:0"], rate: 100M'))
    assert msg.startswith(f"topo.yaml:{LINKS_AT - 4}: links[0].rate: "), msg
    assert "router r1 port 0's rate (1000000000 b/s)" in msg


@pytest.mark.parametrize("section,key,needle", [
    ("tools:\n  - {tool: nmap, host: h1, at_ms: 1}\n", "tools[0].tool", "valid: ping, traceroute, udp, replay"),
    ("tools:\n  - {tool: ping, host: r1, dst: h2, at_ms: 1}\n", "tools[0].host", "'r1' is not a host; hosts: h1, h2"),
    ("tools:\n  - {tool: ping, host: h1, dst: s1, at_ms: 1}\n", "tools[0].dst", "'s1' is a switch"),
    ("tools:\n  - {tool: ping, host: h1, dst: 10.0.2.300, at_ms: 1}\n", "tools[0].dst", "neither a host"),
    ("tools:\n  - {tool: udp, host: h1, dst: h2, dport: 5, at_ms: 1, rate: 1M, size: 4, duration_ms: 1}\n",
     "tools[0].size", "must be an integer 20..65507"),
    ("events:\n  - {at_ms: 1, link: nolink, action: down}\n", "events[0].link", "no link named 'nolink'"),
    ("events:\n  - {at_ms: 1, node: h1, action: reboot}\n", "events[0].action", "down or up"),
    ("events:\n  - {at_ms: 1, node: h1, control: add_route}\n", "events[0].node", "control-plane calls go to routers"),
    ("events:\n  - {at_ms: 1, node: r1, control: flush}\n", "events[0].control", "valid: add_route, del_route"),
    ("events:\n  - {at_ms: 1, node: r1, control: add_route, args: {prefx: 1}}\n", "events[0].args",
     "add_route takes prefix, port, next_hop"),
    ("network: {window_ns: 50000}\n", "network.window_ns", "at most the smallest link delay"),
])
def test_bad_tools_and_events(section, key, needle):
    text = BASE + section
    msg = _err(text)
    line = LINKS_AT + 1 if not section.startswith("network") else LINKS_AT
    assert msg.startswith(f"topo.yaml:{line}: {key}: "), msg
    assert needle in msg, msg


def test_empty_and_unknown_sections():
    assert _err("").startswith("topo.yaml:1: the topology is empty")
    msg = _err(BASE + "routes: []\n")
    assert msg.startswith(f"topo.yaml:{LINKS_AT}: routes: unknown key; valid keys: network, routers"), msg
