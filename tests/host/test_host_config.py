"""The router configuration file: examples build, errors name file, line and key."""
from __future__ import annotations

import os
import textwrap

import pytest

from host.config import ConfigError, load_config, parse_config
from host.router import build_router
from tests.helpers import routed, udp_frame

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")

BASE = """\
ports:
  - {address: 10.0.1.1/24, mac: "02:00:00:00:00:01"}
  - {address: 10.0.2.1/24, mac: "02:00:00:00:00:02", mtu: 1400}
routes:
  - {prefix: 192.168.2.0/24, port: 1, next_hop: 10.0.2.2}
arp:
  - {ip: 10.0.2.2, mac: "02:00:00:00:02:02"}
"""


@pytest.mark.parametrize("name", ["five_port.yaml", "two_port_lab.yaml", "nic_frontend.yaml"])
def test_examples_build(name):
    rt = build_router(os.path.join(EXAMPLES, name))
    assert rt.npr.check_conservation().ok
    assert len(rt.control.list_routes()) >= 2 * len(rt.npr.ports)


def test_five_port_example_is_what_it_says():
    rt = build_router(os.path.join(EXAMPLES, "five_port.yaml"))
    r, cp = rt.npr, rt.control
    assert [p.address for p in r.ports] == [f"10.0.{i}.1/24" for i in range(1, 6)]
    assert r.ports[4].mtu == 1400
    assert {d["prefix"]: d.get("next_hop") for d in cp.list_routes() if d["origin"] == "static"} \
        == {f"192.168.{i}.0/24": f"10.0.{i}.2" for i in range(1, 6)}
    assert cp.list_filters()[0]["qid"] == 64 and cp.list_queues()[0]["quantum"] == 3000
    f = udp_frame(0, "192.168.3.7")
    r.send([bytes(f)], port=0)
    r.run(duration_ns=50_000)
    assert [t.data for t in r.transmitted()] == [routed(f, 2, "02:00:00:00:03:02")]


def test_values_are_applied():
    cfg = parse_config(BASE + textwrap.dedent("""\
        router: {engine: py, seed: 3, buffers: 4096, fib_install_us: 100}
        slow_path: {queue: 8, cost_us: {echo: 4}, arp_retry_ms: 10}
        queues:
          - {port: 1, qid: 64, threshold: 4000}
        """))
    rt = build_router(cfg)
    assert rt.npr.engine.name == "py" and rt.npr.m.n_buffers == 4096
    assert (rt.slow_path.cfg.queue, rt.slow_path.cfg.cost_us["echo"], rt.slow_path.cfg.arp_retry_ms) == (8, 4, 10)
    assert rt.control.fib_install_ns == 100e3
    assert rt.control.list_queues() == [{"port": 1, "qid": 64, "threshold": 4000}]


def test_unquoted_mac_is_a_mac():
    cfg = parse_config("ports:\n  - {address: 10.0.1.1/24, mac: 12:34:56:00:00:01}\n")
    assert cfg.ports[0].values["mac"] == "12:34:56:00:00:01"


@pytest.mark.parametrize("extra,line,message", [
    ("nat: {}\n", 9, r"nat: unknown key; valid keys: router, ports, routes"),
    ("routes:\n", 9, "duplicate key 'routes' \\(first on line 4\\)"),
    ("filters:\n  - {dst: 10.0.9.0/24, action: forward}\n", 10,
     "filters\\[0\\]: filter action 'forward' unknown; valid: queue, drop, plugin, multicast, host"),
    ("filters:\n  - {dst: 10.0.9.0/24, action: queue, port: 4}\n", 10,
     "filters\\[0\\].port: filter output port 4 does not exist; valid ports: 0..1"),
    ("queues:\n  - {port: 0, qid: 9000, threshold: 10}\n", 10, "queues\\[0\\]: queue id must be an integer 0..8191"),
    ("slow_path: {icmp_burst: 0}\n", 9, "slow_path.icmp_burst: must be an integer 1..1000000, got int 0"),
    ("slow_path:\n  cost_us: {ping: 3}\n", 10,
     "slow_path.cost_us.ping: unknown key; valid keys: arp, arp_needed, echo"),
    ("plugins:\n  - {file: missing.c, me: 0}\n", 10, "plugins\\[0\\].file: plug-in file .*missing.c does not exist"),
    ("plugins:\n  - {file: x.c, me: 5}\n", 10, "plugins\\[0\\].me: must be an integer 0..4, got int 5"),
    ("nic:\n  backend: model\n  mode: 7x7\n", 11, "nic.mode: mode: '7x7' is not a VMDq mode; valid modes: 64x2"),
    ("router: {engine: fast}\n", 9, "router.engine: must be c or py, got 'fast'"),
    ("ports2: []\n", 9, "ports2: unknown key"),
])
def test_errors_name_line_and_key(extra, line, message):
    with pytest.raises(ConfigError, match=f"^cfg.yaml:{line}: {message}"):
        build_router(parse_config(BASE + "\n" + extra, source="cfg.yaml"))


@pytest.mark.parametrize("text,line,message", [
    (BASE.replace("port: 1, next_hop", "port: 3, next_hop"), 5,
     r"routes\[0\].port: port 3 does not exist; valid ports: 0..1"),
    (BASE.replace("next_hop: 10.0.2.2", "next_hop: 10.0.1.2"), 5,
     r"routes\[0\]: next hop 10.0.1.2 is not on port 1's subnet 10.0.2.0/24"),
    (BASE.replace("10.0.2.1/24", "10.0.1.200/16"), 3,
     r"ports\[1\].address: subnet 10.0.0.0/16 overlaps ports\[0\].address \(10.0.1.0/24\)"),
    (BASE.replace('"02:00:00:00:00:02"', '"02:00:00:00:00:01"'), 3,
     r"ports\[1\].mac: 02:00:00:00:00:01 is also ports\[0\]'s MAC"),
    (BASE.replace('"02:00:00:00:00:02"', '"02:00:00:00:02"'), 3, r"ports\[1\].mac: port MAC '02:00:00:00:02' is not"),
    (BASE.replace("mtu: 1400", "mtu: 9000"), 3, r"ports\[1\].mtu: must be an integer 68..1646, got int 9000"),
    (BASE.replace("mtu: 1400", "mtu: 1400, speed: 1G"), 3, r"ports\[1\].speed: unknown key; valid keys: address"),
    (BASE.replace("10.0.2.2, mac", "10.7.2.2, mac"), 7, r"arp\[0\]: ARP address 10.7.2.2 is on no port's subnet"),
    (BASE.replace("10.0.2.1/24", "127.0.2.1/24"), 3,
     r"ports\[1\].address: 127.0.2.1 is a loopback address \(127.0.0.0/8\); an interface needs a unicast host address"),
    (BASE.replace("10.0.2.1/24", "169.254.2.1/24"), 3, r"ports\[1\].address: 169.254.2.1 is a link-local address"),
    ("ports: []\n", 1, "ports: an NPR has 1..5 ports, got 0"),
    ("ports:\n  - {address: 10.0.1.1/24}\n", 2, r"ports\[0\]: missing key 'mac'"),
    ("ports:\n  - {address: 10.0.1.1/24, mac: [1\n", 3, "YAML syntax"),
    ("", 1, "the configuration is empty"),
])
def test_inconsistent_values_name_line_and_key(text, line, message):
    with pytest.raises(ConfigError, match=f"^cfg.yaml:{line}: {message}"):
        build_router(parse_config(text, source="cfg.yaml"))


def test_missing_file_is_an_error():
    with pytest.raises(ConfigError, match="no_such.yaml: cannot read the configuration"):
        load_config("no_such.yaml")


def test_plugin_that_does_not_compile_names_entry_file_and_line(tmp_path):
    (tmp_path / "bad.c").write_text('#include "plugin_api.h"\nvoid handle_pkt_user(pkt_t pkt) {\n    oops\n}\n')
    text = BASE + "plugins:\n  - {file: bad.c, me: 0}\n"
    (tmp_path / "cfg.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"cfg.yaml:9: plugins\[0\]: plug-in .*bad.c did not load on ME 0: "
                                          r".*bad.c:3: .*oops"):
        build_router(tmp_path / "cfg.yaml")


def test_shipped_plugin_bound_by_configuration_counts_copies():
    text = BASE + ("plugins:\n  - {file: count, me: 1}\n"
                   "filters:\n  - {proto: udp, action: plugin, plugin: 1, aux: true}\n")
    rt = build_router(parse_config(text))
    f = udp_frame(0, "192.168.2.7")
    rt.npr.send([bytes(f)] * 3, port=0)
    rt.npr.run(duration_ns=100_000)
    assert [t.data for t in rt.npr.transmitted()] == [routed(f, 1, "02:00:00:00:02:02")] * 3
    assert rt.control.plugin_message(1, "=counts") == "0 0 3"
    assert rt.control.list_plugins() == [{"me": 1, "source": "count", "name": "count"}]
    with pytest.raises(ConfigError, match=r"plugins\[0\].file: 'countz' is neither a .c file nor a shipped plug-in"):
        parse_config(BASE + "plugins:\n  - {file: countz, me: 1}\n")
    rt.npr.check_conservation()


def test_a_filter_to_a_plug_in_the_file_does_not_load_is_an_error():
    """A `plugin` filter to an ME with no plug-in would drop every match (no_plugin)
    at run time: the file is refused instead, naming the line and what is loaded."""
    text = BASE + "plugins:\n  - {file: count, me: 1}\nfilters:\n  - {action: plugin, plugin: 2, dport: 9}\n"
    with pytest.raises(ConfigError, match=r"^cfg.yaml:11: filters\[0\].plugin: no plug-in is loaded on ME 2; "
                                          r"plugins: loads ME 1"):
        parse_config(text, source="cfg.yaml")
    parse_config(text.replace("plugin: 2", "plugin: 1"), source="cfg.yaml")
