"""The ``spps:`` section of a topology file, and the ``tunnel`` tool.

::

    spps:
      spp1:
        interfaces:                    # external interfaces: spp1:0, spp1:1 ... in links
          - {address: 64.57.23.210/30, mac: "02:5b:00:00:00:01", rate: 1G, type: internet,
             peer: 64.57.23.209, peer_mac: "02:00:00:00:09:01"}
        npes: 1
        gpes: [{cores: 2, cost_us: 10, per_byte_ns: 2}]     # or a count
        fabric: {delay_ns: 100, latency_ns: 500}   # links at the boards' 10 Gb/s
        port_range: [1024, 65535]      # UDP ports for endpoints
        mac_base: "02:53:50:00:00"     # board MACs: mac_base:01 (line card), :02 ...
        slices:
          alice:
            gpe_share: 0.5             # cores of a GPE reserved for the slow path
            slowpath: {class: ipv4, args: {routes: [...]}, queue: 256}
                                       # class: ipv4 | sink | file.py:ClassName
            endpoints: ["64.57.23.210:30000"]
            pl_ifbw: [{iface: 0, rate: 1M}]
            fastpath:                  # alloc_fastpath's resources, then its configuration
              copt: ipv4
              firm: 202M               # b/s (kb/s inside the SRM)
              soft: 0
              fltrs: 6
              qs: 4
              stats: 8
              buffs: 1000
              sram: 4096
              dram: 0
              mis:
                - {mi: 0, rate: 2M}
                - {mi: 1, endpoint: "64.57.23.210:30000", rate: 100M}
              queues:
                - {qid: 0, mi: 1, threshold: 65536, weight: 1}
              filters:
                - {key: {...}, result: {...}}   # fields per code option

    tools:
      - {tool: tunnel, host: h1, sport: 5000, to: "64.57.23.210:30000", receiver: h2, rport: 6000,
         overlay: ipv4, inner_src: 10.1.0.1, inner_dst: 10.2.0.1, at_ms: 0, rate: 10M, size: 200,
         duration_ms: 5}
        # overlay: ipv4 | i3 (i3_id: hex, up to 64 digits, zero-filled) | raw

Every request goes through the slice's RMP, so a configuration that the
SRM or the slice interface refuses (a reservation beyond capacity, an
unknown code option, a filter naming a queue that is not the slice's, ...)
is a ``ConfigError`` at the file, line and key of the entry, with the
SRM's message (the resource and what is left).
"""
from __future__ import annotations

import ipaddress
import os
from typing import Any, Callable

from host.config import _kl, _show, _V, parse_rate
from host.spp.slowpaths import load_slowpath_class
from host.spp.srm import AccessError, SppError

from .host import Host
from .overlay import OVERLAYS, TunnelFlow, TunnelSink
from .sim import Network

__all__ = ["parse_spps", "parse_tunnel_tool", "SPP_KEYS", "SLICE_KEYS", "FASTPATH_KEYS", "TUNNEL_KEYS"]

SPP_KEYS = ("interfaces", "npes", "gpes", "fabric", "port_range", "mac_base", "slices")
IFACE_KEYS = ("address", "mac", "rate", "type", "peer", "peer_mac")
GPE_KEYS = ("cores", "cost_us", "per_byte_ns")
FABRIC_KEYS = ("delay_ns", "latency_ns")
SLICE_KEYS = ("gpe_share", "gpe", "slowpath", "endpoints", "pl_ifbw", "fastpath")
SLOWPATH_KEYS = ("class", "args", "queue")
FASTPATH_KEYS = ("copt", "firm", "soft", "fltrs", "qs", "stats", "buffs", "sram", "dram", "mis", "queues", "filters")
MI_KEYS = ("mi", "endpoint", "rate")
QUEUE_KEYS = ("qid", "mi", "threshold", "weight")
FILTER_KEYS = ("key", "result")
TUNNEL_KEYS = ("tool", "host", "sport", "to", "receiver", "rport", "overlay", "inner_src", "inner_dst", "inner_dport",
               "i3_id", "at_ms", "rate", "size", "duration_ms", "name")


def _rate_kbps(v: _V, m: Any, k: str, line: int, path: str) -> int:
    try:
        r = parse_rate(m[k])
    except ValueError as ex:
        raise v.err(_kl(m, k, line), f"{path}.{k}", str(ex)) from None
    if r < 0 or r % 1000:
        raise v.err(_kl(m, k, line), f"{path}.{k}", f"must be a whole number of kb/s >= 0, got {_show(m[k])}")
    return r // 1000


def _items(v: _V, m: Any, k: str, line: int, path: str) -> list[tuple[Any, int, str]]:
    seq = v.seq(m.get(k), _kl(m, k, line), f"{path}.{k}")
    lines = getattr(seq, "item_lines", [_kl(m, k, line)] * len(seq))
    return [(x, lines[i], f"{path}.{k}[{i}]") for i, x in enumerate(seq)]


def parse_spps(v: _V, root: Any, net: Network, *, base_dir: str, new_name: Callable[[Any, int, str], str],
               claim_mac: Callable[[str, int, str], None], **np_kw: Any) -> dict[str, Any]:
    """Build every SPP of the ``spps`` section into ``net``; returns name -> SPP."""
    from .spp import SPP, ExternalInterface, GPESpec
    sec = root.get("spps")
    if sec is None:
        return {}
    sl = _kl(root, "spps", 1)
    if not isinstance(sec, dict):
        raise v.err(sl, "spps", f"expected a mapping of SPP names to settings, got {_show(sec)}")
    out = {}
    for name, spec in sec.items():
        line = _kl(sec, name, sl)
        name = new_name(name, line, "spps")
        path = f"spps.{name}"
        spec = v.mapping(spec, line, path, SPP_KEYS, ("interfaces",))
        kl = lambda k: _kl(spec, k, line)                                       # noqa: E731
        itfs = []
        for x, il, ip in _items(v, spec, "interfaces", line, path):
            x = v.mapping(x, il, ip, IFACE_KEYS, ("address", "mac"))
            try:
                itf = ipaddress.IPv4Interface(x["address"])
            except ValueError:
                raise v.err(_kl(x, "address", il), f"{ip}.address",
                            f"{x['address']!r} is not an interface address like 64.57.23.210/30") from None
            from host.control import parse_mac
            try:
                mac = parse_mac(x["mac"], "interface MAC")
                peer_mac = parse_mac(x["peer_mac"], "peer MAC") if "peer_mac" in x else None
            except ValueError as ex:
                raise v.err(il, ip, str(ex)) from None
            claim_mac(mac, _kl(x, "mac", il), f"{ip}.mac")
            rate = 1_000_000_000
            if "rate" in x:
                rate = _rate_kbps(v, x, "rate", il, ip) * 1000
            typ = x.get("type", "internet")
            if typ not in ("internet", "peering"):
                raise v.err(_kl(x, "type", il), f"{ip}.type", f"{typ!r}; valid: internet, peering")
            peer = x.get("peer")
            if peer is not None:
                try:
                    peer = str(ipaddress.IPv4Address(peer))
                except ValueError:
                    raise v.err(_kl(x, "peer", il), f"{ip}.peer", f"{peer!r} is not an IPv4 address") from None
            itfs.append(ExternalInterface(str(itf), mac, rate, typ, peer, peer_mac))
        if not itfs:
            raise v.err(kl("interfaces"), f"{path}.interfaces", "an SPP needs at least one external interface")
        npes = v.int_(spec, "npes", kl("npes"), path, 1, 4) if "npes" in spec else 1
        gpes: list[GPESpec] = []
        g = spec.get("gpes", 1)
        if isinstance(g, int) and not isinstance(g, bool):
            gpes = [GPESpec() for _ in range(v.int_(spec, "gpes", kl("gpes"), path, 1, 8))]
        else:
            for x, il, ip in _items(v, spec, "gpes", line, path):
                x = v.mapping(x, il, ip, GPE_KEYS)
                gpes.append(GPESpec(**{k: v.num(x, k, _kl(x, k, il), ip, 0, lo_open=(k == "cores"))
                                       for k in GPE_KEYS if k in x}))
            if not gpes:
                raise v.err(kl("gpes"), f"{path}.gpes", "an SPP needs at least one GPE")
        kw: dict[str, Any] = {}
        if "fabric" in spec:
            fl = kl("fabric")
            fm = v.mapping(spec["fabric"], fl, f"{path}.fabric", FABRIC_KEYS)
            if "delay_ns" in fm:
                kw["fabric_delay_ns"] = v.num(fm, "delay_ns", _kl(fm, "delay_ns", fl), f"{path}.fabric", 100)
            if "latency_ns" in fm:
                kw["switch_latency_ns"] = v.num(fm, "latency_ns", _kl(fm, "latency_ns", fl), f"{path}.fabric", 0)
        if "port_range" in spec:
            pr = spec["port_range"]
            if (not isinstance(pr, list) or len(pr) != 2 or not all(isinstance(p, int) and not isinstance(p, bool)
                                                                    for p in pr) or not 1 <= pr[0] <= pr[1] <= 65535):
                raise v.err(kl("port_range"), f"{path}.port_range", f"must be [low, high] within 1..65535, got "
                                                                    f"{_show(pr)}")
            kw["port_range"] = (pr[0], pr[1])
        if "mac_base" in spec:
            mb = spec["mac_base"]
            if not isinstance(mb, str) or len(mb.split(":")) != 5:
                raise v.err(kl("mac_base"), f"{path}.mac_base", f"five bytes like 02:53:50:00:00, got {_show(mb)}")
            kw["mac_base"] = mb
        try:
            spp = SPP(net, name, itfs, npes=npes, gpes=gpes, **kw, **np_kw)
        except (SppError, ValueError) as ex:
            raise v.err(line, path, f"the SPP could not be built: {ex}") from None
        for m in spp.board_macs:
            claim_mac(m, kl("mac_base") if "mac_base" in spec else line, f"{path} board MAC")
        sls = spec.get("slices") or {}
        if not isinstance(sls, dict):
            raise v.err(kl("slices"), f"{path}.slices", f"expected a mapping of slice names, got {_show(sls)}")
        for sname, sspec in sls.items():
            _slice(v, spp, sls, sname, sspec, _kl(sls, sname, kl("slices")), f"{path}.slices.{sname}", base_dir)
        try:
            spp.boot()
        except SppError as ex:
            raise v.err(kl("slices"), f"{path}.slices", str(ex)) from None
        out[name] = spp
    return out


def _call(v: _V, line: int, path: str, fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
    try:
        return fn(*a, **k)
    except (SppError, AccessError) as ex:
        raise v.err(line, path, str(ex)) from None


def _slice(v: _V, spp: Any, sls: Any, sname: Any, spec: Any, line: int, path: str, base_dir: str) -> None:
    if not isinstance(sname, str) or not sname or not sname.replace("_", "").replace("-", "").isalnum():
        raise v.err(line, path, f"slice name {sname!r}: letters, digits, '-' and '_'")
    spec = v.mapping(spec, line, path, SLICE_KEYS, ("slowpath",))
    kl = lambda k: _kl(spec, k, line)                                           # noqa: E731
    spl = kl("slowpath")
    sp = spec["slowpath"]
    if isinstance(sp, str):
        sp = {"class": sp}
    sp = v.mapping(sp, spl, f"{path}.slowpath", SLOWPATH_KEYS, ("class",))
    cls = _call(v, _kl(sp, "class", spl), f"{path}.slowpath.class", load_slowpath_class, str(sp["class"]), base_dir)
    args = sp.get("args") or {}
    if not isinstance(args, dict):
        raise v.err(_kl(sp, "args", spl), f"{path}.slowpath.args", f"must be a mapping, got {_show(args)}")
    try:
        inst = cls(**{str(k): x for k, x in args.items()})
    except (TypeError, ValueError) as ex:
        raise v.err(_kl(sp, "args", spl), f"{path}.slowpath.args", f"{cls.__name__}: {ex}") from None
    queue = v.int_(sp, "queue", _kl(sp, "queue", spl), f"{path}.slowpath", 1, 1_000_000) if "queue" in sp else 256
    share = v.num(spec, "gpe_share", kl("gpe_share"), path, 0, lo_open=True) if "gpe_share" in spec else 0.5
    gpe = v.int_(spec, "gpe", kl("gpe"), path, 0, len(spp.gpe_nodes) - 1) if "gpe" in spec else None
    api = _call(v, line, path, spp.add_slice, sname, inst, gpe_share=share, queue=queue, gpe=gpe)
    for x, il, ip in _items(v, spec, "endpoints", line, path):
        _call(v, il, ip, api.alloc_endpoint, *_ep(v, x, il, ip))
    for x, il, ip in _items(v, spec, "pl_ifbw", line, path):
        x = v.mapping(x, il, ip, ("iface", "rate"), ("iface", "rate"))
        _call(v, il, ip, api.resrv_pl_ifbw, x["iface"], _rate_kbps(v, x, "rate", il, ip))
    if "fastpath" not in spec:
        return
    fl = kl("fastpath")
    fpath = f"{path}.fastpath"
    f = v.mapping(spec["fastpath"], fl, fpath, FASTPATH_KEYS, ("copt", "firm", "fltrs", "qs", "stats", "buffs", "sram"))
    res = {k: v.int_(f, k, _kl(f, k, fl), fpath, 0, 2**40) for k in ("fltrs", "qs", "stats", "buffs", "sram", "dram")
           if k in f}
    copt = f["copt"]
    if isinstance(copt, str) and copt.endswith(".c") and not os.path.isabs(copt):
        copt = os.path.join(base_dir, copt)
    fp = _call(v, _kl(f, "copt", fl), fpath, api.alloc_fastpath, copt, firm=_rate_kbps(v, f, "firm", fl, fpath),
               soft=_rate_kbps(v, f, "soft", fl, fpath) if "soft" in f else 0, **res)
    for x, il, ip in _items(v, f, "mis", fl, fpath):
        x = v.mapping(x, il, ip, MI_KEYS, ("mi", "rate"))
        ep = _ep(v, x["endpoint"], _kl(x, "endpoint", il), f"{ip}.endpoint") if "endpoint" in x else None
        _call(v, il, ip, api.create_mi, fp, x["mi"], ep, kbps=_rate_kbps(v, x, "rate", il, ip))
    for x, il, ip in _items(v, f, "queues", fl, fpath):
        x = v.mapping(x, il, ip, QUEUE_KEYS, ("qid", "mi"))
        kw = {k: x[k] for k in ("threshold", "weight") if k in x}
        _call(v, il, ip, api.bind_queue, fp, x["qid"], x["mi"], **kw)
    for x, il, ip in _items(v, f, "filters", fl, fpath):
        x = v.mapping(x, il, ip, FILTER_KEYS, FILTER_KEYS)
        _call(v, il, ip, api.write_fltr, fp, dict(x["key"] or {}), dict(x["result"] or {}))


def _ep(v: _V, x: Any, line: int, path: str) -> tuple[str, int | None]:
    if isinstance(x, str) and ":" in x:
        ip, _, p = x.rpartition(":")
        if p.isdigit():
            return ip, int(p)
    if isinstance(x, str):
        return x, None
    raise v.err(line, path, f"an endpoint is 'ip:port' (or 'ip' for any free port), got {_show(x)}")


def parse_tunnel_tool(v: _V, t: Any, il: int, path: str, net: Network, sinks: dict, flow_id: int) -> TunnelFlow:
    """A ``tunnel`` tool entry (see module doc)."""
    t = v.mapping(t, il, path, TUNNEL_KEYS, ("host", "sport", "to", "at_ms", "rate", "size", "duration_ms"))
    kl = lambda k: _kl(t, k, il)                                                # noqa: E731
    hosts = [n for n, x in net.nodes.items() if isinstance(x, Host)]

    def host(k: str) -> Host:
        h = t[k]
        if h not in net.nodes or not isinstance(net.nodes[h], Host):
            raise v.err(kl(k), f"{path}.{k}", f"{h!r} is not a host; hosts: {', '.join(hosts) or 'none'}")
        return net.nodes[h]
    src = host("host")
    sport = v.int_(t, "sport", kl("sport"), path, 1, 65535)
    to = _ep(v, t["to"], kl("to"), f"{path}.to")
    if to[1] is None:
        raise v.err(kl("to"), f"{path}.to", "give the tunnel end as 'ip:port'")
    overlay = t.get("overlay", "ipv4")
    if overlay not in OVERLAYS:
        raise v.err(kl("overlay"), f"{path}.overlay", f"{overlay!r}; valid: {', '.join(OVERLAYS)}")
    sink = None
    if "receiver" in t:
        rh = host("receiver")
        if "rport" not in t:
            raise v.err(il, path, "a receiver needs rport (its UDP port where the tunnel ends)")
        rport = v.int_(t, "rport", kl("rport"), path, 1, 65535)
        sink = sinks.get((rh.name, rport))
        if sink is None:
            if rport in rh.udp:
                raise v.err(kl("rport"), f"{path}.rport", f"{rh.name} already uses UDP port {rport}")
            sink = sinks[(rh.name, rport)] = TunnelSink(rh, rport, overlay)
        elif sink.overlay != overlay:
            raise v.err(kl("overlay"), f"{path}.overlay", f"{rh.name}:{rport} receives {sink.overlay} tunnels")
    try:
        rate = parse_rate(t["rate"])
    except ValueError as ex:
        raise v.err(kl("rate"), f"{path}.rate", str(ex)) from None
    kw = {}
    for k in ("inner_src", "inner_dst"):
        if k in t:
            try:
                kw[k] = str(ipaddress.IPv4Address(t[k]))
            except ValueError:
                raise v.err(kl(k), f"{path}.{k}", f"{t[k]!r} is not an IPv4 address") from None
    if "i3_id" in t:
        x = t["i3_id"]
        try:
            b = bytes.fromhex(str(x)[2:] if str(x).lower().startswith("0x") else str(x))
        except ValueError:
            b = b""
        if not 1 <= len(b) <= 32:
            raise v.err(kl("i3_id"), f"{path}.i3_id", f"an i3 identifier is 1..32 bytes of hex, got {_show(x)}")
        kw["i3_id"] = b + bytes(32 - len(b))
    if "inner_dport" in t:
        kw["inner_dport"] = v.int_(t, "inner_dport", kl("inner_dport"), path, 1, 65535)
    try:
        return TunnelFlow(src, to, sport=sport, start_ns=v.num(t, "at_ms", kl("at_ms"), path, 0) * 1e6,
                          rate_bps=rate, size=v.int_(t, "size", kl("size"), path, 1, 1472),
                          duration_ms=v.num(t, "duration_ms", kl("duration_ms"), path, 1e-6), flow_id=flow_id,
                          overlay=overlay, sink=sink, name=t.get("name", f"tunnel{flow_id}"), **kw)
    except ValueError as ex:
        raise v.err(il, path, str(ex)) from None
