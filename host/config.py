"""The router configuration file (YAML) and its validation.

A configuration describes one NPR; every section but ``ports`` is optional::

    router:                     # how to build the model
      engine: c                 # c (compiled) | py (reference)
      seed: 1
      buffers: 229376           # packet buffers
      threads: {plc: 8}         # threads per ME by block
      fib_install_us: 300       # modelled TCAM write per route/filter
    ports:                      # 1..5 ports; port i is the i-th entry
      - address: 10.0.1.1/24    # interface address with prefix
        mac: 02:00:00:00:00:01
        rate: 1G                # wire rate, b/s: a number or 100M, 1G ...
        mtu: 1500               # 68..1646
        qm_rate_kbps: 500000    # optional QM (scheduler) rate
    routes:
      - {prefix: 192.168.1.0/24, port: 0, next_hop: 10.0.1.2}
        # optional: mac, qid, stats, priority (0..60), in_port, multicast_ports
    arp:                        # static entries
      - {ip: 10.0.1.2, mac: 02:00:00:00:01:02}
    filters:
      - {dst: 10.0.2.0/24, proto: udp, dport: 53, action: queue, port: 1, qid: 64}
        # match: dst, src, proto, sport, dport, in_port, ptag, tcp_flags: [value, mask]
        # action: queue | drop | plugin | multicast | host, with port, qid,
        #   plugin, ports, next_hop, mac, stats; priority (0..63), aux, sample
    queues:
      - {port: 1, qid: 64, threshold: 65536, quantum: 1500}
    plugins:
      - {file: my/count.c, me: 0, name: mycount, args: ""}   # .c relative to this file
      - {file: delay, me: 1}    # or the name of a shipped plug-in (plugins/*.c)
    nic:                        # SmartNIC front-end (np_model.nic): backend + VMDq keys
      backend: model
      mode: 32x4
    slow_path:                  # host.slowpath.SlowPathConfig
      queue: 64
      cost_us: {icmp_error: 15}
      icmp_rate: 1000
      icmp_burst: 50
      arp_retries: 3
      arp_retry_ms: 5000
      arp_max_age_s: 300
      icmp_error_len: 576       # longest ICMP error datagram (RFC 1812 4.3.2.3), 68..1500
      redirects: true           # ICMP host redirects (RFC 1812 5.2.7.2)
      source_route: drop        # drop | reject | accept (RFC 7126 4.3/4.4: drop)
      reasm_timeout_s: 60       # reassembly of datagrams to the router (RFC 1122 3.3.2)
      reasm_max_bytes: 262144   # fragment data held at most
      answer_echo: true         # answer ICMP echo requests (RFC 1812 4.3.3.6)
      address_mask_reply: true  # answer ICMP address mask requests (RFC 1812 4.3.3.9)

Unknown keys, duplicate keys, wrong types, non-finite numbers and
inconsistent values (a route out of a port that does not exist,
overlapping interface subnets, an interface address that is not a unicast
host address -- 0/8, 127/8, 224/4, 240/4, 255.255.255.255, its subnet's
network or broadcast address --, an all-zero or group port MAC, two static
ARP entries for one address, a plug-in file that does not compile, ...)
raise ``ConfigError`` naming the file, line and key, with the valid
choices. A file that is not UTF-8 text (a binary given by mistake) is
named as such.
"""
from __future__ import annotations

import inspect
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from np_model.limits import Limit, npr_limits, port_rate_limit
from np_model.profile import IXP2800

__all__ = ["ConfigError", "RouterConfig", "load_config", "parse_config", "validate_config", "load_yaml", "SECTIONS"]

SECTIONS = ("router", "ports", "routes", "arp", "filters", "queues", "plugins", "nic", "slow_path")
ROUTER_KEYS = ("engine", "seed", "buffers", "threads", "fib_install_us")
PORT_KEYS = ("address", "mac", "rate", "mtu", "qm_rate_kbps")
ROUTE_KEYS = ("prefix", "port", "next_hop", "mac", "qid", "stats", "priority", "in_port", "multicast_ports")
ARP_KEYS = ("ip", "mac")
FILTER_MATCH = ("dst", "src", "proto", "sport", "dport", "in_port", "ptag", "tcp_flags")
FILTER_ACTION = ("action", "port", "qid", "plugin", "ports", "next_hop", "mac", "stats", "priority", "aux", "sample")
QUEUE_KEYS = ("port", "qid", "threshold", "quantum")
PLUGIN_KEYS = ("file", "me", "name", "args")
SLOW_PATH_KEYS = ("queue", "cost_us", "icmp_rate", "icmp_burst", "icmp_ttl", "arp_retries", "arp_retry_ms",
                  "arp_max_age_s", "arp_hold_per_nh", "arp_hold_total", "host_qid", "icmp_error_len", "redirects",
                  "source_route", "reasm_timeout_s", "reasm_max_bytes", "answer_echo", "address_mask_reply")
SLOW_PATH_INTS = {"queue": (0, 1_000_000), "icmp_burst": (1, 1_000_000), "icmp_ttl": (1, 255), "arp_retries": (1, 100),
                  "arp_hold_per_nh": (1, 1_000_000), "arp_hold_total": (1, 10_000_000), "host_qid": (0, 8191)}
SLOW_PATH_NUMS = {"icmp_rate": 1e9, "arp_retry_ms": 3_600_000.0, "arp_max_age_s": 31_536_000.0}   # (0, max]
MAX_CONFIG_BYTES = 16 << 20                 # larger is not a hand-written router configuration
_RATE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)(?:b/?s|bps)?\s*$")


class ConfigError(ValueError):
    """An invalid configuration; the message names file, line and key."""


# ------------------------------------------------------------------------------------------
# YAML with line numbers


class _Map(dict):
    line: int = 0
    key_lines: dict


class _Seq(list):
    line: int = 0
    item_lines: list


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    m = _Map()
    m.line, m.key_lines = node.start_mark.line + 1, {}
    for k_node, v_node in node.value:
        k = loader.construct_object(k_node, deep=True)
        if isinstance(k, (list, dict)):
            raise ConfigError(f"{loader.name}:{k_node.start_mark.line + 1}: a key must be a name, got a "
                              f"{'list' if isinstance(k, list) else 'mapping'}")
        if k in m:
            raise ConfigError(f"{loader.name}:{k_node.start_mark.line + 1}: duplicate key {k!r} "
                              f"(first on line {m.key_lines[k]})")
        m[k] = loader.construct_object(v_node, deep=True)
        m.key_lines[k] = k_node.start_mark.line + 1
    return m


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    s = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    s.line, s.item_lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    return s


# YAML 1.1 reads 10:20:30:40:50:01 as a base-60 integer: keep such scalars (MACs) strings.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*))$"), list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


# ------------------------------------------------------------------------------------------
# the validated configuration


@dataclass
class Entry:
    """One list item of a section, with where it came from."""

    path: str                                 # e.g. "routes[2]"
    line: int
    values: dict[str, Any]
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class RouterConfig:
    """A validated configuration (plain values, each entry with its line)."""

    source: str
    base_dir: str
    router: dict[str, Any]
    ports: list[Entry]
    routes: list[Entry]
    arp: list[Entry]
    filters: list[Entry]
    queues: list[Entry]
    plugins: list[Entry]
    nic: Any
    nic_line: int
    slow_path: dict[str, Any]
    slow_path_line: int

    def where(self, line: int, path: str) -> str:
        return f"{self.source}:{line}: {path}"


class _V:
    """Validation context: raises ConfigError at a line, naming the key."""

    def __init__(self, source: str, prefix: str = ""):
        self.source = source
        self.prefix = prefix

    def err(self, line: int, path: str, msg: str) -> ConfigError:
        path = f"{self.prefix}.{path}" if self.prefix and path else (self.prefix or path)
        return ConfigError(f"{self.source}:{line}: {path}: {msg}")

    def mapping(self, v: Any, line: int, path: str, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> _Map:
        if not isinstance(v, dict):
            raise self.err(line, path, f"expected a mapping with keys {', '.join(keys)}, got {_show(v)}")
        for k in v:
            if k not in keys:
                raise self.err(_kl(v, k, line), f"{path}.{k}" if path else str(k),
                               f"unknown key; valid keys: {', '.join(keys)}")
        for k in required:
            if k not in v:
                raise self.err(getattr(v, "line", line), path, f"missing key {k!r}")
        return v

    def seq(self, v: Any, line: int, path: str) -> list:
        if v is None:
            return _Seq()
        if not isinstance(v, list):
            raise self.err(line, path, f"expected a list, got {_show(v)}")
        return v

    def int_(self, m: Mapping, k: str, line: int, path: str, lo: int, hi: int) -> int:
        v = m[k]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.err(_kl(m, k, line), f"{path}.{k}", f"must be an integer {lo}..{hi}, got {_show(v)}")
        return v

    def limit(self, m: Mapping, k: str, line: int, path: str, lim: Limit) -> int:
        """An integer checked against the router's validation schema (np_model.limits)."""
        return self.int_(m, k, line, path, lim.lo, lim.hi)

    def num(self, m: Mapping, k: str, line: int, path: str, lo: float, hi: float = math.inf,
            lo_open: bool = False) -> float:
        v = m[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or not (v > lo if lo_open else v >= lo) or v > hi:
            rng = (f"{'>' if lo_open else '>='} {lo:.15g}" if hi == math.inf
                   else f"in {'(' if lo_open else '['}{lo:.15g}, {hi:.15g}]")
            raise self.err(_kl(m, k, line), f"{path}.{k}", f"must be a finite number {rng}, got {_show(v)}")
        return float(v)

    def str_(self, m: Mapping, k: str, line: int, path: str) -> str:
        v = m[k]
        if not isinstance(v, str):
            raise self.err(_kl(m, k, line), f"{path}.{k}", f"must be a string, got {_show(v)}")
        return v


def _kl(m: Any, k: str, default: int) -> int:
    return getattr(m, "key_lines", {}).get(k, default)


def _show(v: Any) -> str:
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"{type(v).__name__} {v!r}"


def _items(v: _V, root: Mapping, sec: str, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> list[Entry]:
    line = _kl(root, sec, 1)
    out = []
    seq = v.seq(root.get(sec), line, sec)
    for i, item in enumerate(seq):
        il = seq.item_lines[i] if hasattr(seq, "item_lines") else line
        m = v.mapping(item, il, f"{sec}[{i}]", keys, required)
        out.append(Entry(f"{sec}[{i}]", getattr(m, "line", il), dict(m), dict(getattr(m, "key_lines", {}))))
    return out


def parse_rate(value: Any) -> int:
    """A rate in b/s from 1000000000, "1G", "100M", "500k" or "1Gb/s"."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a rate")
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        m = _RATE_RE.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a rate like 1G, 100M or 1000000000")
        x = float(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m.group(2).lower()]
    if not math.isfinite(x):
        raise ValueError(f"{value!r} is not a finite rate")
    return int(x)


def load_config(path: str | os.PathLike) -> RouterConfig:
    """Read and validate a configuration file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a directory; give the configuration file (YAML)")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the configuration: {e.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; not a router configuration")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {e.start} is {raw[e.start:e.start + 1].hex()}); "
                          "the configuration is a YAML text file -- a binary file was given?") from None
    return parse_config(text, source=path, base_dir=os.path.dirname(os.path.abspath(path)))


def load_yaml(text: str, source: str) -> Any:
    """YAML text as plain values whose mappings and lists know their lines
    (``line``, ``key_lines``, ``item_lines``); duplicate keys, syntax errors and
    binary input raise ``ConfigError`` naming file and line."""
    if "\0" in text:
        line = text[:text.index("\0")].count("\n") + 1
        raise ConfigError(f"{source}:{line}: a NUL character; the configuration is a YAML text file "
                          "-- a binary file was given?")
    try:
        loader = _Loader(text)
        loader.name = source
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"{source}:{mark.line + 1 if mark else '?'}: YAML syntax: {e.problem}") from None
    except yaml.reader.ReaderError as e:
        line = text[:e.position].count("\n") + 1
        raise ConfigError(f"{source}:{line}: not YAML text: {e.reason} (character {e.character!r})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a router configuration") from None


def parse_config(text: str, *, source: str = "<config>", base_dir: str = ".") -> RouterConfig:
    """Parse and validate configuration text (see module doc for the schema)."""
    root = load_yaml(text, source)
    if root is None:
        raise ConfigError(f"{source}:1: the configuration is empty; it needs at least a ports: section")
    return validate_config(root, source=source, base_dir=base_dir)


def validate_config(root: Any, *, source: str, base_dir: str, prefix: str = "", line: int = 1) -> RouterConfig:
    """Validate a configuration already read by ``load_yaml`` -- a whole file,
    or a mapping inside another file (a topology's inline router), whose key
    paths then start with ``prefix`` and whose errors name that file's lines."""
    v = _V(source, prefix)
    root = v.mapping(root, line, "", SECTIONS, ("ports",))
    L = npr_limits(IXP2800)

    router = dict(v.mapping(root.get("router") or _Map(), _kl(root, "router", 1), "router", ROUTER_KEYS))
    rl = _kl(root, "router", 1)
    rmap = root.get("router") or _Map()
    if "engine" in router and router["engine"] not in ("c", "py"):
        raise v.err(_kl(rmap, "engine", rl), "router.engine", f"must be c or py, got {router['engine']!r}")
    if "seed" in router:
        v.limit(router, "seed", rl, "router", L["seed"])
    if "buffers" in router:
        v.limit(rmap, "buffers", rl, "router", L["buffers"])
    if "fib_install_us" in router:
        v.num(rmap, "fib_install_us", rl, "router", 0, 1e6)
    if "threads" in router:
        blocks = ("rx", "mux", "plc", "qm", "hdrfmt", "tx", "stats", "freelist", "xscale")
        t = v.mapping(rmap["threads"], _kl(rmap, "threads", rl), "router.threads", blocks)
        for k in t:
            v.limit(t, k, _kl(rmap, "threads", rl), "router.threads", L["xscale_threads" if k == "xscale" else "threads"])

    ports = _items(v, root, "ports", PORT_KEYS, ("address", "mac"))
    if not L["ports"].lo <= len(ports) <= L["ports"].hi:
        raise v.err(_kl(root, "ports", 1), "ports", f"an NPR has {L['ports'].lo}..{L['ports'].hi} ports, got {len(ports)}")
    seen_mac: dict[str, str] = {}
    nets: list[tuple[ipaddress.IPv4Network, str]] = []
    for e in ports:
        p, kl = e.values, e.key_lines
        if not isinstance(p["address"], str):
            raise v.err(kl.get("address", e.line), f"{e.path}.address",
                        f"must be a string like 10.0.1.1/24, got {_show(p['address'])}")
        try:
            itf = ipaddress.IPv4Interface(p["address"])
        except ValueError:
            raise v.err(kl.get("address", e.line), f"{e.path}.address",
                        f"{p['address']!r} is not an interface address like 10.0.1.1/24") from None
        if itf.network.prefixlen > 30:
            raise v.err(kl.get("address", e.line), f"{e.path}.address",
                        f"{itf}: the subnet must be /30 or larger (prefix length 0..30)")
        bad = _bad_interface_address(itf)
        if bad:
            raise v.err(kl.get("address", e.line), f"{e.path}.address",
                        f"{itf.ip} is {bad}; an interface needs a unicast host address (not in 0/8, 127/8, "
                        "169.254/16, 224/4, 240/4, nor its subnet's network or broadcast address)")
        for other, opath in nets:
            if itf.network.overlaps(other):
                raise v.err(kl.get("address", e.line), f"{e.path}.address",
                            f"subnet {itf.network} overlaps {opath} ({other})")
        nets.append((itf.network, f"{e.path}.address"))
        p["address"] = str(itf)
        try:
            from .control import parse_mac
            p["mac"] = parse_mac(p["mac"], "port MAC")
        except ValueError as ex:
            raise v.err(kl.get("mac", e.line), f"{e.path}.mac", str(ex)) from None
        if p["mac"] == "00:00:00:00:00:00":
            raise v.err(kl.get("mac", e.line), f"{e.path}.mac", "00:00:00:00:00:00 is not a port MAC; "
                        "give a unicast address such as 02:00:00:00:00:01")
        if p["mac"] in seen_mac:
            raise v.err(kl.get("mac", e.line), f"{e.path}.mac", f"{p['mac']} is also {seen_mac[p['mac']]}'s MAC")
        seen_mac[p["mac"]] = e.path
        if "rate" in p:
            try:
                p["rate"] = parse_rate(p["rate"])
            except ValueError as ex:
                raise v.err(kl.get("rate", e.line), f"{e.path}.rate", str(ex)) from None
            if not 1_000_000 <= p["rate"] <= 10_000_000_000:
                raise v.err(kl.get("rate", e.line), f"{e.path}.rate",
                            f"must be 1M..10G b/s, got {p['rate']}")
        if "mtu" in p:
            v.limit(p, "mtu", kl.get("mtu", e.line), e.path, L["mtu"])
        if "qm_rate_kbps" in p:
            v.limit(p, "qm_rate_kbps", kl.get("qm_rate_kbps", e.line), e.path,
                    port_rate_limit(IXP2800, len(nets) - 1, p.get("rate", IXP2800.value("port_rate_bps"))))
    n = len(ports)

    def port_ref(e: Entry, k: str, what: str = "port") -> None:
        if k in e.values:
            x = e.values[k]
            if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < n:
                raise v.err(e.key_lines.get(k, e.line), f"{e.path}.{k}",
                            f"{what} {x!r} does not exist; valid ports: 0..{n - 1}")

    def strings(e: Entry, keys: tuple[str, ...], example: str) -> None:
        for k in keys:
            if k in e.values and e.values[k] is not None and not isinstance(e.values[k], str):
                raise v.err(e.key_lines.get(k, e.line), f"{e.path}.{k}",
                            f"must be a string like {example}, got {_show(e.values[k])}")

    routes = _items(v, root, "routes", ROUTE_KEYS, ("prefix",))
    for e in routes:
        strings(e, ("prefix",), "192.168.1.0/24")
        strings(e, ("next_hop",), "10.0.1.2")
        port_ref(e, "port")
        port_ref(e, "in_port", "input port")
        if "multicast_ports" in e.values:
            mp = v.seq(e.values["multicast_ports"], e.key_lines.get("multicast_ports", e.line),
                       f"{e.path}.multicast_ports")
            for x in mp:
                if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < n:
                    raise v.err(e.key_lines.get("multicast_ports", e.line), f"{e.path}.multicast_ports",
                                f"port {x!r} does not exist; valid ports: 0..{n - 1}")
        elif "port" not in e.values:
            raise v.err(e.line, e.path, f"missing key 'port' (the output port, 0..{n - 1})")
    arp = _items(v, root, "arp", ARP_KEYS, ("ip", "mac"))
    seen_arp: dict[str, str] = {}
    for e in arp:
        kl = e.key_lines
        strings(e, ("ip",), "10.0.1.2")
        try:
            ip = ipaddress.IPv4Address(e.values["ip"])
        except ValueError:
            raise v.err(kl.get("ip", e.line), f"{e.path}.ip",
                        f"{e.values['ip']!r} is not an IPv4 address like 10.0.1.2") from None
        if str(ip) in seen_arp:
            raise v.err(kl.get("ip", e.line), f"{e.path}.ip",
                        f"{ip} already has a static entry ({seen_arp[str(ip)]}); one entry per address")
        seen_arp[str(ip)] = e.path
        e.values["ip"] = str(ip)
        mac = e.values["mac"]
        if isinstance(mac, str) and mac.replace(":", "").replace("-", "") == "0" * 12:
            raise v.err(kl.get("mac", e.line), f"{e.path}.mac", "00:00:00:00:00:00 is not a neighbour's MAC")
    filters = _items(v, root, "filters", FILTER_MATCH + FILTER_ACTION)
    for e in filters:
        strings(e, ("dst", "src"), "10.0.2.0/24")
        strings(e, ("next_hop",), "10.0.1.2")
        if "aux" in e.values and not isinstance(e.values["aux"], bool):
            raise v.err(e.key_lines.get("aux", e.line), f"{e.path}.aux",
                        f"must be true or false, got {_show(e.values['aux'])}")
        port_ref(e, "in_port", "input port")
        if e.values.get("action", "queue") == "queue":
            port_ref(e, "port", "filter output port")
        if "tcp_flags" in e.values:
            tf = e.values["tcp_flags"]
            if not (isinstance(tf, list) and len(tf) == 2):
                raise v.err(e.key_lines.get("tcp_flags", e.line), f"{e.path}.tcp_flags",
                            f"must be [value, mask], got {_show(tf)}")
            e.values["tcp_flags"] = tuple(tf)
        if "ports" in e.values:
            e.values["ports"] = tuple(v.seq(e.values["ports"], e.key_lines.get("ports", e.line), f"{e.path}.ports"))
    queues = _items(v, root, "queues", QUEUE_KEYS, ("port", "qid"))
    for e in queues:
        port_ref(e, "port")
    plugins = _items(v, root, "plugins", PLUGIN_KEYS, ("file", "me"))
    mes: dict[int, str] = {}
    for e in plugins:
        v.limit(e.values, "me", e.key_lines.get("me", e.line), e.path, L["plugin_me"])
        me = e.values["me"]
        if me in mes:
            raise v.err(e.key_lines.get("me", e.line), f"{e.path}.me", f"ME {me} is also used by {mes[me]}")
        mes[me] = e.path
        f = v.str_(e.values, "file", e.line, e.path)
        if f.endswith(".c") or "/" in f or os.sep in f:
            full = f if os.path.isabs(f) else os.path.join(base_dir, f)
            if not os.path.isfile(full):
                raise v.err(e.key_lines.get("file", e.line), f"{e.path}.file", f"plug-in file {full} does not exist")
            e.values["file"] = full
        else:                                     # the name of a shipped plug-in (plugins/<name>.c)
            shipped = _shipped_plugins()
            if f not in shipped:
                raise v.err(e.key_lines.get("file", e.line), f"{e.path}.file",
                            f"{f!r} is neither a .c file nor a shipped plug-in ({', '.join(shipped) or 'none'})")
        for k in ("name", "args"):
            if k in e.values:
                v.str_(e.values, k, e.line, e.path)
    for e in filters:                          # a filter may send only to a plug-in the file loads
        if e.values.get("action") == "plugin" and isinstance(e.values.get("plugin", 0), int) \
                and not isinstance(e.values.get("plugin", 0), bool) and e.values.get("plugin", 0) not in mes:
            raise v.err(e.key_lines.get("plugin", e.line), f"{e.path}.plugin",
                        f"no plug-in is loaded on ME {e.values.get('plugin', 0)}; plugins: loads "
                        + (", ".join(f"ME {m}" for m in sorted(mes)) or "none"))

    nic = root.get("nic")
    nic_line = _kl(root, "nic", 1)
    if nic is not None:
        nic = _check_nic(v, nic, nic_line)

    sp_map = v.mapping(root.get("slow_path") or _Map(), _kl(root, "slow_path", 1), "slow_path", SLOW_PATH_KEYS)
    sp_line = _kl(root, "slow_path", 1)
    slow_path = dict(sp_map)
    if "cost_us" in sp_map:
        from .slowpath import DEFAULT_COSTS_US
        cl = _kl(sp_map, "cost_us", sp_line)
        cm = v.mapping(sp_map["cost_us"], cl, "slow_path.cost_us", tuple(DEFAULT_COSTS_US))
        for k in cm:
            v.num(cm, k, cl, "slow_path.cost_us", 0, 1e6)
        slow_path["cost_us"] = dict(cm)
    for k, (lo, hi) in SLOW_PATH_INTS.items():
        if k in sp_map:
            v.int_(sp_map, k, sp_line, "slow_path", lo, hi)
    for k, hi in SLOW_PATH_NUMS.items():
        if k in sp_map:
            v.num(sp_map, k, sp_line, "slow_path", 0, hi, lo_open=True)
    try:
        from .slowpath import SlowPathConfig
        SlowPathConfig(**slow_path)
    except (ValueError, TypeError) as ex:
        key = next((k for k in sp_map if k in str(ex)), None)
        raise v.err(_kl(sp_map, key, sp_line) if key else sp_line, f"slow_path.{key}" if key else "slow_path",
                    str(ex)) from None
    return RouterConfig(source=source, base_dir=base_dir, router=router, ports=ports, routes=routes, arp=arp,
                        filters=filters, queues=queues, plugins=plugins, nic=nic, nic_line=nic_line,
                        slow_path=slow_path, slow_path_line=sp_line)


def _bad_interface_address(itf: ipaddress.IPv4Interface) -> str | None:
    """Why ``itf`` cannot be a router interface address (RFC 1812 4.2.2.11,
    5.3.7; RFC 1122 3.2.1.3), or None."""
    a = itf.ip
    if a in _THIS_NET:
        return "in 0.0.0.0/8 ('this network', RFC 1122 3.2.1.3)"
    if a.is_loopback:
        return "a loopback address (127.0.0.0/8)"
    if a == ipaddress.IPv4Address("255.255.255.255"):
        return "the limited broadcast address"
    if a.is_multicast:
        return "a multicast address (224.0.0.0/4)"
    if a in _CLASS_E:
        return "in the reserved 240.0.0.0/4 (class E)"
    if a.is_link_local:
        return "a link-local address (169.254.0.0/16, RFC 3927: never forwarded)"
    if a == itf.network.network_address:
        return f"the network address of {itf.network}"
    if a == itf.network.broadcast_address:
        return f"the broadcast address of {itf.network}"
    return None


_THIS_NET = ipaddress.IPv4Network("0.0.0.0/8")
_CLASS_E = ipaddress.IPv4Network("240.0.0.0/4")


def _shipped_plugins() -> list[str]:
    try:
        from np_model.plugin_loader import shipped
    except ImportError:                           # a build without plug-in support
        return []
    return sorted(shipped())


def _check_nic(v: _V, nic: Any, line: int) -> Any:
    """Validate the ``nic:`` section with the NIC package's own parser, without building a device."""
    try:
        from np_model.nic import check_router_config
        from np_model.nic.config import ConfigError as NicConfigError
    except ImportError as ex:                     # pragma: no cover - the NIC package ships with np_model
        raise v.err(line, "nic", f"the NIC front-end is not available: {ex}") from None
    if isinstance(nic, str):
        try:
            check_router_config(nic)
        except NicConfigError as ex:
            raise v.err(line, "nic", str(ex).removeprefix("nic: ")) from None
        return nic
    if not isinstance(nic, dict):
        raise v.err(line, "nic", f"expected a backend name or a mapping, got {_show(nic)}")
    try:
        check_router_config(nic)                  # backend, timing, params and the VMDq keys
    except (NicConfigError, ValueError, TypeError) as ex:
        msg = str(ex)
        named = re.match(r"nic\.(\w+): ", msg)          # the NIC package names its key first
        key = named.group(1) if named and named.group(1) in nic else \
            next((k for k in nic if re.search(rf"\b{re.escape(str(k))}\b", msg)), None)
        msg = re.sub(rf"^nic\.{re.escape(str(key))}: ", "", msg) if key else msg
        raise v.err(_kl(nic, key, line) if key else line, f"nic.{key}" if key else "nic", msg) from None
    return _plain(nic)


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(y) for k, y in x.items()}
    if isinstance(x, list):
        return [_plain(y) for y in x]
    return x


def npr_accepts(name: str) -> bool:
    """Whether this build's NPR constructor takes keyword ``name`` (e.g. nic)."""
    from np_model.assemblies.npr import NPR
    return name in inspect.signature(NPR.__init__).parameters
