"""The spps: section and the tunnel tool reject bad input with file:line:key
errors naming the valid choices (the parts checked before any board is built)."""
from __future__ import annotations

import pytest

from network.topology import ConfigError, parse_topology

HOSTS = """
hosts:
  h1: {address: 10.0.0.1/24, mac: "02:00:00:00:00:11"}
  h2: {address: 10.0.0.2/24, mac: "02:00:00:00:00:12", arp: {10.0.0.1: "02:00:00:00:00:11"}}
links:
  - {endpoints: [h1, h2], rate: 1G, delay_us: 1}
"""


@pytest.mark.parametrize("spp,line,msg", [
    ("spps:\n  s1: {interfaces: [], colour: red}\n", 2, "spps.s1.colour: unknown key; valid keys: interfaces"),
    ("spps:\n  s1:\n    interfaces:\n      - {address: 10.1.1.300/24, mac: '02:5b:00:00:00:01'}\n", 4,
     "spps.s1.interfaces[0].address: '10.1.1.300/24' is not an interface address"),
    ("spps:\n  s1:\n    interfaces:\n      - {address: 10.1.1.1/24, mac: '02:5b:00:00:00:01', type: wifi}\n", 4,
     "spps.s1.interfaces[0].type: 'wifi'; valid: internet, peering"),
    ("spps:\n  s1:\n    interfaces: []\n", 3, "spps.s1.interfaces: an SPP needs at least one external interface"),
])
def test_spp_section_errors(spp, line, msg):
    with pytest.raises(ConfigError) as ei:
        parse_topology(spp + HOSTS, source="t.yaml")
    assert str(ei.value).startswith(f"t.yaml:{line}: ") and msg in str(ei.value)


@pytest.mark.parametrize("tool,msg", [
    ("{tool: tunnel, host: h1, sport: 5000, to: '10.0.0.2:6000', at_ms: 0, rate: 1M, size: 100, duration_ms: 1, "
     "overlay: ipv6}", "tools[0].overlay: 'ipv6'; valid: ipv4, i3, raw"),
    ("{tool: tunnel, host: h1, sport: 5000, to: '10.0.0.2', at_ms: 0, rate: 1M, size: 100, duration_ms: 1}",
     "tools[0].to: give the tunnel end as 'ip:port'"),
    ("{tool: tunnel, host: h1, sport: 5000, to: '10.0.0.2:6000', at_ms: 0, rate: 1M, size: 100, duration_ms: 1, "
     "overlay: i3, i3_id: xyz}", "tools[0].i3_id: an i3 identifier is 1..32 bytes of hex"),
    ("{tool: tunnel, host: h1, sport: 5000, to: '10.0.0.2:6000', at_ms: 0, rate: 1M, size: 10, duration_ms: 1}",
     "a ipv4 overlay packet is at least 48 bytes"),
    ("{tool: tunnel, host: h1, sport: 5000, to: '10.0.0.2:6000', receiver: h2, at_ms: 0, rate: 1M, size: 100, "
     "duration_ms: 1}", "a receiver needs rport"),
])
def test_tunnel_tool_errors(tool, msg):
    with pytest.raises(ConfigError) as ei:
        parse_topology(HOSTS + f"tools:\n  - {tool}\n", source="t.yaml")
    assert str(ei.value).startswith("t.yaml:8: ") and msg in str(ei.value)


def test_tunnel_between_hosts_with_static_arp_runs():
    from network.run import run_topology
    topo = parse_topology(HOSTS + "tools:\n  - {tool: tunnel, host: h2, sport: 5000, to: '10.0.0.1:6000', "
                          "receiver: h1, rport: 6000, at_ms: 0, rate: 10M, size: 100, duration_ms: 1}\n",
                          source="t.yaml")
    s = run_topology(topo, 2.0)
    r = s["results"][0]
    assert r["received"] == r["sent"] > 0 and s["ok"]
    # h2's static entry: it sent no ARP request (h1 answered none)
    assert topo.network.nodes["h2"].counters["arp.requests_sent"] == 0
