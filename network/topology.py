"""The topology file (YAML): routers, hosts, switches, links, tools, events.

::

    network:                       # optional
      seed: 1                      # link losses
      window_ns: 1000              # synchronisation window (default and
                                   # maximum: the smallest link delay)
      capture: true                # a pcapng per link (default true)
    routers:                       # NPRs (host.router.build_router)
      r1: {config: r1.yaml}        # a router configuration file, relative to this one
      r2:
        router:                    # or inline (host/config.py schema)
          ports: [...]
    hosts:
      h1: {address: 10.0.1.2/24, mac: "02:00:00:00:01:02", gateway: 10.0.1.1}
          # optional: stack_ns, arp_retries, arp_retry_ms, arp_max_age_s, tx_queue
    switches:
      s1:
        ports:                     # port i is the i-th entry (or a count: access, VLAN 1)
          - {mode: access, vlan: 10}
          - {mode: trunk, vlans: [10, 20], native: 1}
        latency_ns: 1000           # per-frame cost model (network.switch)
        ageing_s: 300
        queue: 1000                # frames per output queue
    links:
      - {endpoints: [h1, "r1:0"], rate: 1G, delay_us: 5, mtu: 1500, loss: 0.0, name: l1}
        # an endpoint is a host, or node:port; delay_us or delay_ns (>= 0.1 us)
    tools:
      - {tool: ping, host: h1, dst: h2, at_ms: 1, count: 4, interval_ms: 1, size: 56}
      - {tool: traceroute, host: h1, dst: 10.0.2.2, at_ms: 5, max_ttl: 16, probes: 3, timeout_ms: 50}
      - {tool: udp, host: h1, dst: h2, dport: 5001, at_ms: 10, rate: 100M, size: 1000, duration_ms: 5}
      - {tool: replay, host: h1, pcap: in.pcapng, at_ms: 0, rate_pps: 1000}
    events:
      - {at_ms: 20, link: l1, action: down}        # or up
      - {at_ms: 30, node: r2, action: down}        # or up
      - {at_ms: 40, node: r1, control: add_route, args: {prefix: 10.9.0.0/16, port: 1, next_hop: 10.0.2.2}}

A tool's ``dst`` is a host's name or an IPv4 address. Errors name the file,
line and key, with the valid choices: unknown names, a port used twice,
VLAN ids outside 1..4094, loops of switches (this substrate runs no STP:
a loop would flood broadcasts forever), a link delay below the smallest
allowed (and why), a link rate different from its router port's rate.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from host.config import (ConfigError, RouterConfig, _kl, _Map, _show, _V, load_config, load_yaml,
                         parse_rate, validate_config)

from .host import Host
from .assembly_node import AssemblyNode
from .router import RouterNode
from .spp_topology import TUNNEL_KEYS, parse_spps, parse_tunnel_tool
from .sim import MIN_DELAY_NS, Network
from .switch import Switch, SwitchPort
from .tools import Ping, Replay, Traceroute, UdpFlow

__all__ = ["Topology", "load_topology", "parse_topology", "ConfigError", "CONTROL_CALLS"]

SECTIONS = ("network", "routers", "spps", "hosts", "switches", "links", "tools", "events")
NETWORK_KEYS = ("seed", "window_ns", "capture")
ROUTER_KEYS = ("config", "router")
HOST_KEYS = ("address", "mac", "gateway", "stack_ns", "arp_retries", "arp_retry_ms", "arp_max_age_s", "tx_queue",
             "arp")
SWITCH_KEYS = ("ports", "latency_ns", "ageing_s", "queue")
SWITCH_PORT_KEYS = ("mode", "vlan", "vlans", "native")
LINK_KEYS = ("endpoints", "rate", "delay_us", "delay_ns", "mtu", "loss", "name")
TOOL_KEYS = {
    "ping": ("tool", "host", "dst", "at_ms", "count", "interval_ms", "size", "name"),
    "traceroute": ("tool", "host", "dst", "at_ms", "max_ttl", "probes", "timeout_ms", "name"),
    "udp": ("tool", "host", "dst", "dport", "at_ms", "rate", "size", "duration_ms", "name"),
    "replay": ("tool", "host", "pcap", "at_ms", "rate_pps", "name"),
    "tunnel": TUNNEL_KEYS,
}
EVENT_KEYS = ("at_ms", "link", "node", "action", "control", "args")
#: control-plane calls an event may make (host.control.ControlPlane methods)
CONTROL_CALLS = ("add_route", "del_route", "add_filter", "del_filter", "set_queue", "set_port_rate", "set_arp",
                 "del_arp")
LINK_MTU = (68, 9000)


@dataclass
class Topology:
    """A built network and what runs on it."""

    source: str
    network: Network
    tools: list[Any] = field(default_factory=list)
    window_ns: float | None = None
    capture: bool = True
    routers: dict[str, RouterConfig] = field(default_factory=dict)
    spps: dict[str, Any] = field(default_factory=dict)
    sinks: dict[tuple[str, int], Any] = field(default_factory=dict)     # tunnel ends: (host, port) -> TunnelSink


def load_topology(path: str | os.PathLike, **router_kw: Any) -> Topology:
    """Read, validate and build a topology file (``router_kw``: NPR overrides, e.g. engine)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the topology: {e.strerror}") from None
    return parse_topology(text, source=path, base_dir=os.path.dirname(os.path.abspath(path)), **router_kw)


def _name_ok(v: _V, name: Any, line: int, path: str) -> str:
    if not isinstance(name, str) or not name or any(c in name for c in ": /\\") or name.startswith("."):
        raise v.err(line, path, f"node name {name!r} must be a non-empty string without ':', '/' or spaces")
    return name


def _time_ns(v: _V, m: Any, key: str, line: int, path: str) -> float:
    return v.num(m, key, line, path, 0) * 1e6


def parse_topology(text: str, *, source: str = "<topology>", base_dir: str = ".", **router_kw: Any) -> Topology:
    """Validate topology text and build its network (see module doc)."""
    root = load_yaml(text, source)
    v = _V(source)
    if root is None:
        raise ConfigError(f"{source}:1: the topology is empty; it needs links: and nodes")
    root = v.mapping(root, 1, "", SECTIONS)

    def section(name: str) -> _Map:
        s = root.get(name)
        line = _kl(root, name, 1)
        if s is None:
            return _Map()
        if not isinstance(s, dict):
            raise v.err(line, name, f"expected a mapping of names to settings, got {_show(s)}")
        return s

    netm = v.mapping(root.get("network") or _Map(), _kl(root, "network", 1), "network", NETWORK_KEYS)
    nl = _kl(root, "network", 1)
    seed = v.int_(netm, "seed", _kl(netm, "seed", nl), "network", 0, 2**31 - 1) if "seed" in netm else 1
    window = v.num(netm, "window_ns", _kl(netm, "window_ns", nl), "network", 0) if "window_ns" in netm else None
    capture = netm.get("capture", True)
    if not isinstance(capture, bool):
        raise v.err(_kl(netm, "capture", nl), "network.capture", f"must be true or false, got {_show(capture)}")
    net = Network(seed=seed)
    topo = Topology(source, net, window_ns=window, capture=capture)
    where: dict[str, str] = {}                     # node name -> its section (for messages)
    macs: dict[str, str] = {}

    def claim_mac(mac: str, line: int, path: str) -> None:
        if mac in macs:
            raise v.err(line, path, f"MAC {mac} is also {macs[mac]}'s")
        macs[mac] = path

    def new_name(name: Any, line: int, sec: str) -> str:
        name = _name_ok(v, name, line, sec)
        if name in where:
            raise v.err(line, f"{sec}.{name}", f"the name {name!r} is already used by {where[name]}")
        where[name] = f"{sec}.{name}"
        return name

    # -- routers
    routers = section("routers")
    for name, spec in routers.items():
        line = _kl(routers, name, 1)
        name = new_name(name, line, "routers")
        path = f"routers.{name}"
        spec = v.mapping(spec, line, path, ROUTER_KEYS)
        if ("config" in spec) == ("router" in spec):
            raise v.err(getattr(spec, "line", line), path, "give exactly one of config (a file) and router (inline)")
        if "config" in spec:
            f = v.str_(spec, "config", _kl(spec, "config", line), path)
            full = f if os.path.isabs(f) else os.path.join(base_dir, f)
            if not os.path.isfile(full):
                raise v.err(_kl(spec, "config", line), f"{path}.config", f"router configuration {full} does not exist")
            cfg = load_config(full)
        else:
            rl = _kl(spec, "router", line)
            cfg = validate_config(spec["router"], source=source, base_dir=base_dir, prefix=f"{path}.router", line=rl)
            for sec in ("ports", "routes", "arp", "filters", "queues", "plugins"):
                for e in getattr(cfg, sec):
                    e.path = f"{path}.router.{e.path}"
        for e in cfg.ports:
            claim_mac(e.values["mac"], e.line if "router" in spec else line, f"{path} {e.path}")
        from host.router import build_router
        kw = {"keep_records": False, **router_kw}
        node = RouterNode(name, build_router(cfg, **kw))
        net.add_node(node)
        topo.routers[name] = cfg

    # -- SPP nodes (network.spp_topology)
    topo.spps = parse_spps(v, root, net, base_dir=base_dir, new_name=new_name, claim_mac=claim_mac,
                           **{k: x for k, x in router_kw.items() if k == "engine"})
    net.aliases.update(topo.spps)

    # -- hosts
    hosts = section("hosts")
    host_ips: dict[str, str] = {}
    for name, spec in hosts.items():
        line = _kl(hosts, name, 1)
        name = new_name(name, line, "hosts")
        path = f"hosts.{name}"
        spec = v.mapping(spec, line, path, HOST_KEYS, ("address", "mac"))
        kl = lambda k: _kl(spec, k, line)                                       # noqa: E731
        try:
            itf = ipaddress.IPv4Interface(spec["address"])
        except ValueError:
            raise v.err(kl("address"), f"{path}.address",
                        f"{spec['address']!r} is not an interface address like 10.0.1.2/24") from None
        if itf.network.prefixlen < 31 and itf.ip in (itf.network.network_address, itf.network.broadcast_address):
            raise v.err(kl("address"), f"{path}.address", f"{itf} is the subnet's network or broadcast address")
        if str(itf.ip) in host_ips:
            raise v.err(kl("address"), f"{path}.address", f"{itf.ip} is also {host_ips[str(itf.ip)]}'s address")
        host_ips[str(itf.ip)] = name
        try:
            from host.control import parse_mac
            mac = parse_mac(spec["mac"], "host MAC")
        except ValueError as ex:
            raise v.err(kl("mac"), f"{path}.mac", str(ex)) from None
        claim_mac(mac, kl("mac"), f"{path}.mac")
        gw = spec.get("gateway")
        if gw is not None:
            try:
                gwa = ipaddress.IPv4Address(gw)
            except ValueError:
                raise v.err(kl("gateway"), f"{path}.gateway", f"{gw!r} is not an IPv4 address") from None
            if gwa not in itf.network or gwa == itf.ip:
                raise v.err(kl("gateway"), f"{path}.gateway", f"{gwa} is not another address on {itf.network}")
            gw = str(gwa)
        kw: dict[str, Any] = {}
        for k, lo, hi in (("arp_retries", 1, 100), ("tx_queue", 1, 10**6)):
            if k in spec:
                kw[k] = v.int_(spec, k, kl(k), path, lo, hi)
        for k in ("stack_ns", "arp_retry_ms", "arp_max_age_s"):
            if k in spec:
                kw[k] = v.num(spec, k, kl(k), path, 0)
        host = net.add_node(Host(name, str(itf), mac, gw, **kw))
        for x, _ in (_arp_entries(v, spec, kl("arp") if "arp" in spec else line, f"{path}.arp")):
            host.arp[x[0]] = (x[1], float("inf"))

    # -- switches
    switches = section("switches")
    sw_ports: dict[str, list[SwitchPort]] = {}
    for name, spec in switches.items():
        line = _kl(switches, name, 1)
        name = new_name(name, line, "switches")
        path = f"switches.{name}"
        spec = v.mapping(spec, line, path, SWITCH_KEYS, ("ports",))
        pl = _kl(spec, "ports", line)
        ports_spec = spec["ports"]
        ports: list[SwitchPort] = []
        if isinstance(ports_spec, int) and not isinstance(ports_spec, bool):
            v.int_(spec, "ports", pl, path, 1, 1024)
            ports = [SwitchPort() for _ in range(ports_spec)]
        else:
            seq = v.seq(ports_spec, pl, f"{path}.ports")
            if not seq:
                raise v.err(pl, f"{path}.ports", "a switch needs at least one port (a list, or a count)")
            for i, ps in enumerate(seq):
                il = seq.item_lines[i] if hasattr(seq, "item_lines") else pl
                ports.append(_switch_port(v, ps, il, f"{path}.ports[{i}]"))
        kw = {}
        for k in ("latency_ns", "ageing_s"):
            if k in spec:
                kw[k] = v.num(spec, k, _kl(spec, k, line), path, 0)
        if "queue" in spec:
            kw["queue"] = v.int_(spec, "queue", _kl(spec, "queue", line), path, 1, 10**6)
        net.add_node(Switch(name, ports, **kw))
        sw_ports[name] = ports

    # -- links
    lroot = root.get("links")
    lline = _kl(root, "links", 1)
    links = v.seq(lroot, lline, "links")
    if not links:
        raise v.err(lline, "links", "the topology has no links; each needs endpoints, rate and delay_us")
    used: dict[tuple[str, int], str] = {}
    names: dict[str, str] = {}
    vlan_graphs: dict[int, nx.MultiGraph] = {}
    for i, lk in enumerate(links):
        il = links.item_lines[i] if hasattr(links, "item_lines") else lline
        path = f"links[{i}]"
        lk = v.mapping(lk, il, path, LINK_KEYS, ("endpoints", "rate"))
        kl = lambda k: _kl(lk, k, il)                                           # noqa: E731
        eps = lk["endpoints"]
        if not isinstance(eps, list) or len(eps) != 2:
            raise v.err(kl("endpoints"), f"{path}.endpoints",
                        f"must be two endpoints like [h1, \"r1:0\"], got {_show(eps)}")
        ends = [_endpoint(v, net, x, kl("endpoints"), f"{path}.endpoints") for x in eps]
        for (n, p) in ends:
            if (n, p) in used:
                raise v.err(kl("endpoints"), f"{path}.endpoints", f"port {n}:{p} is already used by {used[(n, p)]}")
        if ends[0][0] == ends[1][0]:
            raise v.err(kl("endpoints"), f"{path}.endpoints", f"a link joins two nodes; both ends are {ends[0][0]}")
        try:
            rate = parse_rate(lk["rate"])
        except ValueError as ex:
            raise v.err(kl("rate"), f"{path}.rate", str(ex)) from None
        if not 1_000_000 <= rate <= 100_000_000_000:
            raise v.err(kl("rate"), f"{path}.rate", f"must be 1M..100G b/s, got {rate}")
        for (n, p) in ends:
            node = net.nodes[n]
            if isinstance(node, (RouterNode, AssemblyNode)) and node.port_rate(p) != rate:
                raise v.err(kl("rate"), f"{path}.rate",
                            f"{rate} b/s differs from router {n} port {p}'s rate ({node.port_rate(p)} b/s); "
                            "a link runs at its router ports' rate")
        if ("delay_us" in lk) == ("delay_ns" in lk):
            raise v.err(il, path, "give exactly one of delay_us and delay_ns (the propagation delay)")
        dk = "delay_us" if "delay_us" in lk else "delay_ns"
        dv = lk[dk]
        if isinstance(dv, bool) or not isinstance(dv, (int, float)):
            raise v.err(kl(dk), f"{path}.{dk}", f"must be a number, got {_show(dv)}")
        delay = float(dv) * (1000.0 if dk == "delay_us" else 1.0)
        if not delay >= MIN_DELAY_NS:
            raise v.err(kl(dk), f"{path}.{dk}",
                        f"{dv:g} is below the smallest allowed link delay, {MIN_DELAY_NS:g} ns "
                        f"({MIN_DELAY_NS / 1000:g} us): nodes advance together in windows no longer than the "
                        "smallest link delay (the lookahead of conservative synchronisation), so a zero delay "
                        "leaves no window to advance by and shorter delays cost more in synchronisation "
                        "than in simulation")
        mtu = v.int_(lk, "mtu", kl("mtu"), path, *LINK_MTU) if "mtu" in lk else 1500
        loss = 0.0
        if "loss" in lk:
            loss = lk["loss"]
            if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0 <= loss < 1:
                raise v.err(kl("loss"), f"{path}.loss", f"must be a fraction in [0, 1), got {_show(loss)}")
        name = lk.get("name") or f"{ends[0][0]}:{ends[0][1]}-{ends[1][0]}:{ends[1][1]}"
        if not isinstance(name, str):
            raise v.err(kl("name"), f"{path}.name", f"must be a string, got {_show(name)}")
        if name in names:
            raise v.err(kl("name") if "name" in lk else il, f"{path}.name",
                        f"link name {name!r} is also {names[name]}'s")
        names[name] = path
        for (n, p) in ends:
            used[(n, p)] = f"{path} ({name})"
        if all(e[0] in sw_ports for e in ends):
            _check_loop(v, vlan_graphs, sw_ports, ends, name, kl("endpoints"), path)
        net.add_link(ends[0][0], ends[0][1], ends[1][0], ends[1][1], name=name, rate_bps=rate, delay_ns=delay,
                     mtu=mtu, loss=float(loss))
    if window is not None and not 0 < window <= net.min_delay_ns:
        raise v.err(_kl(netm, "window_ns", nl), "network.window_ns",
                    f"must be in (0, {net.min_delay_ns:g}] ns: at most the smallest link delay")

    # -- tools
    _tools(v, root, topo, host_ips, base_dir)
    # -- events
    _events(v, root, topo)
    return topo


def _switch_port(v: _V, ps: Any, line: int, path: str) -> SwitchPort:
    ps = v.mapping(ps, line, path, SWITCH_PORT_KEYS, ("mode",))
    kl = lambda k: _kl(ps, k, line)                                             # noqa: E731
    mode = ps["mode"]
    if mode not in ("access", "trunk"):
        raise v.err(kl("mode"), f"{path}.mode", f"{mode!r} is not a port mode; valid: access, trunk")
    if mode == "access":
        if "vlans" in ps or "native" in ps:
            bad = "vlans" if "vlans" in ps else "native"
            raise v.err(kl(bad), f"{path}.{bad}", "an access port has one VLAN: give vlan, not vlans or native")
        vid = v.int_(ps, "vlan", kl("vlan"), path, 1, 4094) if "vlan" in ps else 1
        return SwitchPort("access", frozenset({vid}), vid)
    if "vlan" in ps:
        raise v.err(kl("vlan"), f"{path}.vlan", "a trunk port takes vlans (a list) and optionally native")
    if "vlans" not in ps:
        raise v.err(line, path, "missing key 'vlans' (the VLANs the trunk carries tagged)")
    seq = v.seq(ps["vlans"], kl("vlans"), f"{path}.vlans")
    vids = []
    for x in seq:
        if isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= 4094:
            raise v.err(kl("vlans"), f"{path}.vlans", f"VLAN id {x!r} is outside 1..4094 (0 and 4095 are reserved)")
        vids.append(x)
    native = v.int_(ps, "native", kl("native"), path, 1, 4094) if "native" in ps else None
    return SwitchPort("trunk", frozenset(vids), native)


def _arp_entries(v: _V, spec: Any, line: int, path: str) -> list[tuple[tuple[bytes, bytes], int]]:
    """A host's static ARP entries (``arp: {10.0.1.1: "02:..."}``), never aged."""
    m = spec.get("arp")
    if m is None:
        return []
    if not isinstance(m, dict):
        raise v.err(line, path, f"expected a mapping of IPv4 address to MAC, got {_show(m)}")
    from host.control import parse_mac
    from .wire import mac_bytes
    out = []
    for ip, mac in m.items():
        il = _kl(m, ip, line)
        try:
            a = ipaddress.IPv4Address(ip).packed
            out.append(((a, mac_bytes(parse_mac(mac, "ARP MAC"))), il))
        except ValueError as ex:
            raise v.err(il, f"{path}.{ip}", str(ex)) from None
    return out


def _endpoint(v: _V, net: Network, x: Any, line: int, path: str) -> tuple[str, int]:
    if not isinstance(x, str):
        raise v.err(line, path, f"an endpoint is a host name or node:port, got {_show(x)}")
    name, _, port = x.partition(":")
    spp = getattr(net, "aliases", {}).get(name)
    if spp is not None:
        n = len(spp.interfaces)
        if not port or not port.isdigit() or not 0 <= int(port) < n:
            raise v.err(line, path, f"{x!r}: SPP {name} has external interfaces 0..{n - 1}; say which, like {name}:0")
        return spp.port(int(port))
    if name not in net.nodes:
        raise v.err(line, path, f"{x!r}: no node named {name!r}; nodes: {', '.join(net.nodes) or 'none'}")
    node = net.nodes[name]
    if not port:
        if node.n_ports != 1:
            raise v.err(line, path, f"{x!r}: {name} has {node.n_ports} ports; say which, like {name}:0")
        return name, 0
    if not port.isdigit() or not 0 <= int(port) < node.n_ports:
        raise v.err(line, path, f"{x!r}: {name} has no port {port}; valid: 0..{node.n_ports - 1}")
    return name, int(port)


def _check_loop(v: _V, graphs: dict[int, nx.MultiGraph], sw_ports: dict[str, list[SwitchPort]],
                ends: list[tuple[str, int]], name: str, line: int, path: str) -> None:
    (a, ap), (b, bp) = ends
    shared = sw_ports[a][ap].vlans & sw_ports[b][bp].vlans
    for vid in sorted(shared):
        g = graphs.setdefault(vid, nx.MultiGraph())
        if a in g and b in g and nx.has_path(g, a, b):
            route = nx.shortest_path(g, a, b)
            via = [g.get_edge_data(x, y)[0]["name"] for x, y in zip(route, route[1:])]
            raise v.err(line, f"{path}.endpoints",
                        f"link {name} closes a loop of switches {' - '.join(route + [a])} in VLAN {vid} "
                        f"(with {', '.join(via)}): the topology needs STP, which this substrate does not run -- "
                        "a loop would flood broadcasts forever; remove a link or take the VLAN off a trunk")
        g.add_edge(a, b, name=name)


def _resolve_dst(v: _V, topo: Topology, host_ips: dict[str, str], x: Any, line: int,
                 path: str) -> tuple[str, Host | None]:
    net = topo.network
    if isinstance(x, str) and x in net.nodes:
        node = net.nodes[x]
        if not isinstance(node, Host):
            raise v.err(line, path, f"{x!r} is a {node.kind}; give a host's name or an IPv4 address")
        return str(node.itf.ip), node
    try:
        ip = str(ipaddress.IPv4Address(x))
    except ValueError:
        hosts = [n for n, node in net.nodes.items() if isinstance(node, Host)]
        raise v.err(line, path, f"{x!r} is neither a host ({', '.join(hosts) or 'none'}) nor an IPv4 address") from None
    h = host_ips.get(ip)
    return ip, (net.nodes[h] if h else None)


def _tools(v: _V, root: Any, topo: Topology, host_ips: dict[str, str], base_dir: str) -> None:
    tl = _kl(root, "tools", 1)
    seq = v.seq(root.get("tools"), tl, "tools")
    net = topo.network
    for i, t in enumerate(seq):
        il = seq.item_lines[i] if hasattr(seq, "item_lines") else tl
        path = f"tools[{i}]"
        if not isinstance(t, dict) or t.get("tool") not in TOOL_KEYS:
            got = t.get("tool") if isinstance(t, dict) else t
            raise v.err(_kl(t, "tool", il) if isinstance(t, dict) else il, f"{path}.tool",
                        f"{got!r} is not a tool; valid: {', '.join(TOOL_KEYS)}")
        kind = t["tool"]
        if kind == "tunnel":
            topo.tools.append(parse_tunnel_tool(v, t, il, path, net, topo.sinks, i + 1))
            continue
        t = v.mapping(t, il, path, TOOL_KEYS[kind], ("host", "at_ms") + (("dst",) if kind != "replay" else ("pcap",)))
        kl = lambda k: _kl(t, k, il)                                            # noqa: E731
        hn = t["host"]
        if hn not in net.nodes or not isinstance(net.nodes[hn], Host):
            hosts = [n for n, node in net.nodes.items() if isinstance(node, Host)]
            raise v.err(kl("host"), f"{path}.host", f"{hn!r} is not a host; hosts: {', '.join(hosts) or 'none'}")
        host = net.nodes[hn]
        at = _time_ns(v, t, "at_ms", kl("at_ms"), path)
        name = t.get("name", f"{kind}{i}")
        try:
            if kind == "replay":
                f = v.str_(t, "pcap", kl("pcap"), path)
                full = f if os.path.isabs(f) else os.path.join(base_dir, f)
                if not os.path.isfile(full):
                    raise v.err(kl("pcap"), f"{path}.pcap", f"capture {full} does not exist")
                rate = v.num(t, "rate_pps", kl("rate_pps"), path, 1e-9) if "rate_pps" in t else None
                topo.tools.append(Replay(host, full, start_ns=at, rate_pps=rate, name=name))
                continue
            dst, dhost = _resolve_dst(v, topo, host_ips, t["dst"], kl("dst"), f"{path}.dst")
            if kind == "ping":
                kw = {}
                if "count" in t:
                    kw["count"] = v.int_(t, "count", kl("count"), path, 1, 10**6)
                if "interval_ms" in t:
                    kw["interval_ms"] = v.num(t, "interval_ms", kl("interval_ms"), path, 1e-6)
                if "size" in t:
                    kw["size"] = v.int_(t, "size", kl("size"), path, 8, 65507 - 8)
                topo.tools.append(Ping(host, dst, start_ns=at, name=name, **kw))
            elif kind == "traceroute":
                kw = {}
                if "max_ttl" in t:
                    kw["max_ttl"] = v.int_(t, "max_ttl", kl("max_ttl"), path, 1, 255)
                if "probes" in t:
                    kw["probes"] = v.int_(t, "probes", kl("probes"), path, 1, 10)
                if "timeout_ms" in t:
                    kw["timeout_ms"] = v.num(t, "timeout_ms", kl("timeout_ms"), path, 1e-6)
                topo.tools.append(Traceroute(host, dst, start_ns=at, name=name, **kw))
            else:
                for k in ("dport", "rate", "size", "duration_ms"):
                    if k not in t:
                        raise v.err(il, path, f"missing key {k!r}")
                dport = v.int_(t, "dport", kl("dport"), path, 1, 65535)
                try:
                    rate = parse_rate(t["rate"])
                except ValueError as ex:
                    raise v.err(kl("rate"), f"{path}.rate", str(ex)) from None
                if rate <= 0:
                    raise v.err(kl("rate"), f"{path}.rate", f"must be > 0 b/s, got {rate}")
                size = v.int_(t, "size", kl("size"), path, UdpFlow.HDR.size, 65507)
                dur = v.num(t, "duration_ms", kl("duration_ms"), path, 1e-6)
                if dhost is not None and dport in dhost.udp:
                    raise v.err(kl("dport"), f"{path}.dport", f"{dhost.name} already has a flow on UDP port {dport}")
                topo.tools.append(UdpFlow(host, dst, dport, start_ns=at, rate_bps=rate, size=size, duration_ms=dur,
                                          receiver=dhost, flow_id=i + 1, name=name))
        except ValueError as ex:
            if isinstance(ex, ConfigError):
                raise
            raise v.err(il, path, str(ex)) from None


def _events(v: _V, root: Any, topo: Topology) -> None:
    el = _kl(root, "events", 1)
    seq = v.seq(root.get("events"), el, "events")
    net = topo.network
    for i, e in enumerate(seq):
        il = seq.item_lines[i] if hasattr(seq, "item_lines") else el
        path = f"events[{i}]"
        e = v.mapping(e, il, path, EVENT_KEYS, ("at_ms",))
        kl = lambda k: _kl(e, k, il)                                            # noqa: E731
        at = _time_ns(v, e, "at_ms", kl("at_ms"), path)
        if ("link" in e) == ("node" in e):
            raise v.err(il, path, "an event names exactly one link or one node")
        if "link" in e:
            names = [x.name for x in net.links]
            if e["link"] not in names:
                raise v.err(kl("link"), f"{path}.link", f"no link named {e['link']!r}; links: {', '.join(names)}")
            if e.get("action") not in ("down", "up"):
                raise v.err(kl("action") if "action" in e else il, f"{path}.action",
                            f"{e.get('action')!r}; a link event's action is down or up")
            net.set_link(e["link"], at, e["action"] == "up")
            continue
        n = e["node"]
        if n not in net.nodes:
            raise v.err(kl("node"), f"{path}.node", f"no node named {n!r}; nodes: {', '.join(net.nodes)}")
        if "control" in e:
            if "action" in e:
                raise v.err(kl("action"), f"{path}.action", "a control event has control and args, no action")
            node = net.nodes[n]
            if not isinstance(node, RouterNode):
                raise v.err(kl("node"), f"{path}.node", f"{n} is a {node.kind}; control-plane calls go to routers")
            call = e["control"]
            if call not in CONTROL_CALLS:
                raise v.err(kl("control"), f"{path}.control", f"{call!r}; valid: {', '.join(CONTROL_CALLS)}")
            args = e.get("args") or {}
            if not isinstance(args, dict):
                raise v.err(kl("args"), f"{path}.args", f"must be a mapping of keyword arguments, got {_show(args)}")
            args = {str(k): (list(x) if isinstance(x, list) else x) for k, x in args.items()}
            fn = getattr(node.router.control, call)
            import inspect
            try:
                inspect.signature(fn).bind(**args)
            except TypeError as ex:
                params = [p for p in inspect.signature(fn).parameters]
                raise v.err(kl("args"), f"{path}.args", f"{ex}; {call} takes {', '.join(params)}") from None
            net.call_at(n, at, lambda fn=fn, args=args: fn(**args), f"{call}({args})")
        else:
            if e.get("action") not in ("down", "up"):
                raise v.err(kl("action") if "action" in e else il, f"{path}.action",
                            f"{e.get('action')!r}; a node event's action is down or up, or give control")
            net.set_node(n, at, e["action"] == "up")
