"""Scheduled events: a node down and up, a control-plane call at a time; and
the ``vrouter-hil net`` command."""
from __future__ import annotations

import json
import os

from host.cli import main
from network.run import run_topology
from network.topology import parse_topology

EX = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "net")
CHAIN = open(os.path.join(EX, "chain3.yaml")).read().split("tools:")[0]


def _chain(tools_events: str):
    return parse_topology(CHAIN + tools_events, source="chain.yaml", base_dir=EX)


def test_router_down_loses_exactly_the_pings_sent_while_down():
    """r2 is down from 3 to 6 ms: pings every ms from 0.5 ms lose those whose
    request or reply would cross r2 in that time, at r2, as node_down."""
    topo = _chain("""tools:
  - {tool: ping, host: h1, dst: h2, at_ms: 0.5, count: 9, interval_ms: 1}
events:
  - {at_ms: 3, node: r2, action: down}
  - {at_ms: 6, node: r2, action: up}
""")
    s = run_topology(topo, 11, None)
    got = {r["seq"] for r in s["results"][0]["replies"]}
    # request at 0.5 + seq ms reaches r2 about 60 us later: seqs 3, 4, 5 arrive while it is down
    assert got == {0, 1, 2, 6, 7, 8}
    assert s["conservation"]["drops"] == {"r2: node_down": 3}
    assert s["ok"]


def test_control_plane_call_at_a_time_takes_effect_then():
    """r1 deletes its route to h2's subnet at 2.55 ms: pings before are answered,
    later ones draw ICMP unreachable (RFC 792 3/0) from r1; the call and its
    result are in the event log."""
    topo = _chain("""tools:
  - {tool: ping, host: h1, dst: h2, at_ms: 0.5, count: 5, interval_ms: 1}
events:
  - {at_ms: 2.55, node: r1, control: del_route, args: {prefix: 10.0.3.0/24, immediate: true}}
  - {at_ms: 2.6, node: r1, control: del_route, args: {prefix: 10.99.0.0/16}}
""")
    s = run_topology(topo, 6, None)
    assert {r["seq"] for r in s["results"][0]["replies"]} == {0, 1, 2}
    assert topo.network.nodes["r1"].router.slow_path.counters.as_dict()["icmp.unreach_net"] == 2
    log = s["events"]
    assert log[0]["action"].startswith("del_route") and "error" not in log[0]
    assert "error" in log[1] and "10.99.0.0/16" in log[1]["error"]


def test_cli_net_runs_and_writes_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["net", os.path.join(EX, "chain3.yaml"), "--duration-ms", "8", "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "ping h1 -> 10.0.3.2: 5 sent, 5 received" in text and "conservation: " in text and "OK" in text
    assert sorted(os.listdir(out / "links")) == ["h1-r1.pcapng", "r1-r2.pcapng", "r2-r3.pcapng", "r3-h2.pcapng"]
    assert sorted(os.listdir(out / "nodes")) == ["h1", "h2", "r1", "r2", "r3"]
    st = json.load(open(out / "nodes" / "r2" / "stats.json"))
    assert st["kind"] == "router" and st["ports"]["port0"]["rx_pkts"] > 0
    summary = json.load(open(out / "summary.json"))
    assert summary["ok"] and summary["duration_ms"] == 8
    assert json.load(open(out / "results.json"))[0]["tool"] == "ping"


def test_cli_net_bad_input_exits_2_with_the_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts:\n  a: {address: 10.0.0.1/24, mac: \"02:00:00:00:00:01\"}\nlinks:\n"
                   "  - {endpoints: [a, b], rate: 1G, delay_us: 1}\n")
    assert main(["net", str(bad), "--duration-ms", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vrouter-hil net: {bad}:4: links[0].endpoints: 'b': no node named 'b'")
    assert main(["net", os.path.join(EX, "chain3.yaml"), "--duration-ms", "1", "--window-ns", "20000",
                 "--no-progress"]) == 2
    assert "--window-ns must be in (0, 10000]" in capsys.readouterr().err
