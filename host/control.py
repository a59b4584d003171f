"""Control plane: the API an experimenter (or the RLI) uses to configure a
running NPR -- routes, filters, queues, port rates, plug-ins, ARP entries --
and to read its statistics by name.

Every request is validated against the router and the control plane's own
tables *before* anything is written, so a rejected request (``ControlError``,
whose message says what is wrong and what is valid) changes nothing.

Route and filter writes go to the TCAM through one writer that takes
``fib_install_us`` per entry (a few hundred microseconds, as on real line
cards): a route added at time t forwards from t + delay (later if writes
are queued). ``immediate=True`` skips the delay (the boot configuration).
Queue and rate settings (QM parameters in SRAM) and ARP entries apply at
once.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Sequence

from np_model.engine.machine import DROP_REASONS, EXC_REASONS
from np_model.assemblies.npr import FilterAction
from np_model.assemblies.stats import flatten
from np_model.limits import Limit, port_rate_limit

from .handlers import Counters, HandlerRegistry
from .rib import Rib, Route

if TYPE_CHECKING:
    from np_model.assemblies.npr import NPR

    from .slowpath import SlowPath

__all__ = ["ControlPlane", "ControlError", "connected_rib", "FILTER_ACTIONS", "PROTOCOLS", "SAMPLE_RATES",
           "parse_mac"]

FILTER_ACTIONS = tuple(FilterAction.KINDS)
PROTOCOLS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "ospf": 89}
SAMPLE_RATES = (1.0, 0.5, 0.25, 0.125)          # aux-filter sampling types [C-code]
_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


class ControlError(ValueError):
    """A control request was rejected; nothing was changed."""


def parse_mac(mac: Any, what: str = "MAC") -> str:
    """A unicast MAC as ``aa:bb:cc:dd:ee:ff`` (lower case)."""
    if not isinstance(mac, str) or not _MAC_RE.match(mac):
        raise ControlError(f"{what} {mac!r} is not a MAC address like 02:00:00:00:00:01")
    if int(mac[:2], 16) & 1:
        raise ControlError(f"{what} {mac} is a group (multicast) address; a unicast MAC is needed")
    return mac.lower()


def connected_rib(router: "NPR") -> Rib:
    """The routes ``NPR(connected_routes=True)`` installs: each port's subnet
    on-link and its address delivered locally."""
    rib = Rib()
    for i, pc in enumerate(router.ports):
        itf = pc.interface
        rib.put(Route(itf.network, port=i, origin="connected", installed=True))
        rib.put(Route(ipaddress.IPv4Network(f"{itf.ip}/32"), port=i, local=True, origin="local", installed=True))
    return rib


@dataclass(frozen=True)
class _Filter:
    fid: int
    spec: dict[str, Any]
    core_id: int | None = None
    installed: bool = False


class ControlPlane:
    """Configure a running router and read its figures.

    Args:
        router: the NPR.
        slow_path: the host's slow path (shares the RIB and the ARP cache);
            None for a router without one.
        fib_install_us: modelled TCAM write time per route or filter entry.
    """

    def __init__(self, router: "NPR", slow_path: "SlowPath | None" = None, *, fib_install_us: float = 300.0):
        if fib_install_us < 0:
            raise ControlError(f"fib_install_us must be >= 0, got {fib_install_us}")
        self.r = router
        self.sp = slow_path
        self.rib = slow_path.rib if slow_path is not None else connected_rib(router)
        self.fib_install_ns = fib_install_us * 1e3
        self._writer_free_ns = 0.0
        self._pending_writes = 0
        self._filters: dict[int, _Filter] = {}
        self._n_filters = {False: 0, True: 0}      # primary, auxiliary: kept so adding a filter is O(1) here
        self._next_fid = 1
        self._queues: dict[tuple[int, int], dict[str, int]] = {}
        self._plugins: dict[int, dict[str, Any]] = {}
        self._static_arp: dict[str, str] = {}
        self.counters = Counters(("requests", "rejected", "fib_writes"))
        self.handlers = HandlerRegistry()
        self._register_handlers()

    # ------------------------------------------------------------------ validation helpers
    def _reject(self, msg: str) -> ControlError:
        self.counters.add("rejected")
        return ControlError(msg)

    def _port(self, port: Any, what: str = "port") -> int:
        n = len(self.r.ports)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < n:
            raise self._reject(f"{what} {port!r} does not exist; valid ports: 0..{n - 1}")
        return port

    def _int(self, v: Any, limit: str | Limit, what: str | None = None) -> int:
        """Check ``v`` against the router's validation schema (np_model.limits)."""
        lim = self.r.limits[limit] if isinstance(limit, str) else limit
        try:
            return lim.check(v, what)
        except ValueError as e:
            raise self._reject(str(e)) from None

    def _prefix(self, prefix: Any, what: str = "prefix") -> ipaddress.IPv4Network:
        try:
            return ipaddress.IPv4Network(prefix)
        except ValueError as e:
            if "host bits set" in str(e):
                fix = ipaddress.IPv4Network(prefix, strict=False)
                raise self._reject(f"{what} {prefix} has host bits set; did you mean {fix}?") from None
            raise self._reject(f"{what} {prefix!r} is not an IPv4 prefix like 10.1.0.0/16") from None

    def _addr(self, a: Any, what: str) -> ipaddress.IPv4Address:
        try:
            return ipaddress.IPv4Address(a)
        except ValueError:
            raise self._reject(f"{what} {a!r} is not an IPv4 address") from None

    def _mac(self, mac: Any, what: str = "MAC") -> str:
        try:
            return parse_mac(mac, what)
        except ControlError:
            self.counters.add("rejected")
            raise

    def _proto(self, proto: Any) -> int | None:
        if proto is None:
            return None
        if isinstance(proto, str):
            if proto.lower() not in PROTOCOLS:
                raise self._reject(f"protocol {proto!r} unknown; give a number 0..255 or one of "
                                   f"{', '.join(PROTOCOLS)}")
            return PROTOCOLS[proto.lower()]
        return self._int(proto, "protocol")

    def port_of(self, ip: ipaddress.IPv4Address) -> int | None:
        for i, pc in enumerate(self.r.ports):
            if ip in pc.interface.network:
                return i
        return None

    # ------------------------------------------------------------------ TCAM writer
    def _write(self, fn, immediate: bool) -> float:
        """Apply ``fn`` now or when the TCAM writer gets to it; returns the time it applies."""
        self.counters.add("fib_writes")
        if immediate or self.fib_install_ns == 0:
            fn()
            return self.r.now_ns
        t = max(self.r.now_ns, self._writer_free_ns) + self.fib_install_ns
        self._writer_free_ns = t
        self._pending_writes += 1

        def apply() -> None:
            self._pending_writes -= 1
            fn()
        self.r.call_at(t, apply)
        return t

    @property
    def fib_pending(self) -> int:
        """Route and filter writes not yet in the TCAM."""
        return self._pending_writes

    # ------------------------------------------------------------------ routes
    def add_route(self, prefix: str, port: int | None = None, next_hop: str | None = None, *,
                  mac: str | None = None, qid: int = 0, stats: int = 0, priority: int | None = None,
                  in_port: int | None = None, multicast_ports: Sequence[int] = (), replace_existing: bool = False,
                  immediate: bool = False) -> Route:
        """Add a static route out of ``port`` via ``next_hop`` (None: on-link),
        or to several ports (``multicast_ports``). Returns the RIB entry."""
        self.counters.add("requests")
        net = self._prefix(prefix)
        mports = tuple(multicast_ports)
        if mports:
            if port is not None or next_hop is not None:
                raise self._reject("a multicast route names multicast_ports only, not port or next_hop")
            for p in mports:
                self._port(p, "multicast port")
            if len(set(mports)) != len(mports):
                raise self._reject(f"multicast_ports {list(mports)} lists a port twice")
        else:
            if port is None:
                raise self._reject(f"route {net} needs an output port (0..{len(self.r.ports) - 1})")
            self._port(port, "output port")
        if next_hop is not None:
            nh = self._addr(next_hop, "next hop")
            itf = self.r.ports[port].interface
            if nh not in itf.network:
                raise self._reject(f"next hop {nh} is not on port {port}'s subnet {itf.network}")
            if nh == itf.ip:
                raise self._reject(f"next hop {nh} is the router's own address on port {port}")
            if itf.network.prefixlen < 31 and nh in (itf.network.network_address, itf.network.broadcast_address):
                raise self._reject(f"next hop {nh} is the network or broadcast address of {itf.network}")
            next_hop = str(nh)
        if mac is not None:
            mac = self._mac(mac, "next-hop MAC")
        self._int(qid, "queue_id")
        self._int(stats, "stats_index")
        if priority is not None:
            self._int(priority, "route_priority")
        if in_port is not None:
            self._port(in_port, "input port")
        old = self.rib.get(net, in_port)
        if old is not None and old.origin != "static":
            raise self._reject(f"{net} is the {old.origin} route of port {old.port}; it cannot be replaced")
        if old is not None and not replace_existing:
            raise self._reject(f"a route for {net}" + (f" from port {in_port}" if in_port is not None else "")
                               + " exists; delete it first or pass replace_existing=True")
        if old is None:
            kind = "multicast" if mports else "unicast"
            cap = self.r.profile.value(f"route_entries_{kind}")
            if sum(1 for r in self.rib if bool(r.multicast_ports) == bool(mports)) >= cap:
                raise self._reject(f"{kind} route table full ({cap} entries)")
        route = Route(net, port=None if mports else port, next_hop=next_hop, mac=mac, qid=qid, stats=stats,
                      priority=priority, in_port=in_port, multicast_ports=mports, origin="static")
        self.rib.put(route)

        def install() -> None:
            self.r.add_route(str(net), port=port or 0, next_hop=next_hop, mac=mac, qid=qid, stats=stats,
                             priority=priority, in_port=in_port, multicast_ports=mports)
            self.rib.mark_installed(route.key, route)
        self._write(install, immediate)
        return self.rib.get(net, in_port) or route

    def del_route(self, prefix: str, in_port: int | None = None, *, immediate: bool = False) -> Route:
        """Delete a static route; returns what was deleted."""
        self.counters.add("requests")
        net = self._prefix(prefix)
        if in_port is not None:
            self._port(in_port, "input port")
        old = self.rib.get(net, in_port)
        if old is None:
            raise self._reject(f"no route for {net}" + (f" from port {in_port}" if in_port is not None else "")
                               + "; list_routes() shows the routes")
        if old.origin != "static":
            raise self._reject(f"{net} is the {old.origin} route of port {old.port}; it cannot be deleted")
        self.rib.remove(net, in_port)
        self._write(lambda: self.r.del_route(str(net), in_port), immediate)
        return old

    def list_routes(self) -> list[dict[str, Any]]:
        """Every route, longest prefix first, with its origin and install state."""
        return [r.as_dict() for r in self.rib]

    # ------------------------------------------------------------------ filters
    def add_filter(self, *, action: str = "queue", port: int = 0, qid: int = 0, plugin: int = 0,
                   ports: Sequence[int] = (), next_hop: str | None = None, mac: str | None = None, stats: int = 0,
                   priority: int | None = None, aux: bool = False, sample: float = 1.0,
                   dst: str = "0.0.0.0/0", src: str = "0.0.0.0/0", proto: int | str | None = None,
                   dport: int | None = None, sport: int | None = None, in_port: int | None = None,
                   ptag: int | None = None, tcp_flags: tuple[int, int] | None = None,
                   immediate: bool = False) -> int:
        """Add a primary (or ``aux`` copy) filter; returns its id.

        ``action``: queue (to ``port``/``qid``), drop, plugin (ME ``plugin``),
        multicast (``ports``) or host (to the control processor).
        """
        self.counters.add("requests")
        if action not in FILTER_ACTIONS:
            raise self._reject(f"filter action {action!r} unknown; valid: {', '.join(FILTER_ACTIONS)}")
        if action == "queue":
            self._port(port, "filter output port")
        if action == "plugin":
            self._int(plugin, "plugin_me")
        if action == "multicast":
            if not ports:
                raise self._reject("a multicast filter needs ports")
            for p in ports:
                self._port(p, "multicast port")
        self._int(qid, "queue_id")
        self._int(stats, "stats_index")
        if next_hop is not None:
            next_hop = str(self._addr(next_hop, "next hop"))
        if mac is not None:
            mac = self._mac(mac, "next-hop MAC")
        if priority is not None:
            self._int(priority, "filter_priority")
        if aux:
            if sample not in SAMPLE_RATES:
                raise self._reject(f"aux-filter sample {sample!r} not offered; valid: "
                                   f"{', '.join(str(s) for s in SAMPLE_RATES)}")
        elif sample != 1.0:
            raise self._reject("only auxiliary filters sample; a primary filter has sample 1")
        dst_n, src_n = self._prefix(dst, "dst"), self._prefix(src, "src")
        proto_n = self._proto(proto)
        for v, what in ((dport, "dport"), (sport, "sport")):
            if v is not None:
                self._int(v, "l4_port", what)
        if in_port is not None:
            self._port(in_port, "input port")
        if ptag is not None:
            self._int(ptag, "plugin_tag")
        if tcp_flags is not None:
            if not (isinstance(tcp_flags, (tuple, list)) and len(tcp_flags) == 2):
                raise self._reject(f"tcp_flags must be (value, mask), got {tcp_flags!r}")
            self._int(tcp_flags[0], "tcp_flags", "tcp_flags value")
            self._int(tcp_flags[1], "tcp_flags", "tcp_flags mask")
            tcp_flags = (tcp_flags[0], tcp_flags[1])
        n_now = self._n_filters[bool(aux)]
        cap = self.r.profile.value("aux_filter_entries" if aux else "primary_filter_entries")
        if n_now >= cap:
            raise self._reject(f"{'auxiliary' if aux else 'primary'} filter table full ({cap} entries)")
        spec = dict(action=action, port=port, qid=qid, plugin=plugin, ports=tuple(ports), next_hop=next_hop,
                    mac=mac, stats=stats, priority=priority, aux=aux, sample=sample, dst=str(dst_n),
                    src=str(src_n), proto=proto_n, dport=dport, sport=sport, in_port=in_port, ptag=ptag,
                    tcp_flags=tcp_flags)
        fid = self._next_fid
        self._next_fid += 1
        self._filters[fid] = _Filter(fid, spec)
        self._n_filters[bool(aux)] += 1

        def install() -> None:
            f = self._filters.get(fid)
            if f is None or f.installed:
                return
            core = self.r.add_filter(FilterAction(action, port, qid, plugin, tuple(ports), next_hop, mac, stats),
                                     priority=priority, aux=aux, dst=str(dst_n), src=str(src_n), proto=proto_n,
                                     dport=dport, sport=sport, in_port=in_port, ptag=ptag, tcp_flags=tcp_flags,
                                     sample=sample)
            self._filters[fid] = replace(f, core_id=core, installed=True)
        self._write(install, immediate)
        return fid

    def del_filter(self, fid: int, *, immediate: bool = False) -> dict[str, Any]:
        """Delete a filter by the id ``add_filter`` returned; returns its spec."""
        self.counters.add("requests")
        f = self._filters.get(fid)
        if f is None:
            raise self._reject(f"no filter {fid!r}; ids in use: {sorted(self._filters) or 'none'}")
        del self._filters[fid]
        self._n_filters[bool(f.spec["aux"])] -= 1

        def remove() -> None:
            if f.installed:
                self.r.del_filter(f.core_id, aux=f.spec["aux"])
            else:                                 # deleted before its install ran: the install sees it gone
                pass
        self._write(remove, immediate or not f.installed)
        return dict(f.spec)

    def list_filters(self) -> list[dict[str, Any]]:
        return [{"id": f.fid, "installed": f.installed, **f.spec} for f in self._filters.values()]

    # ------------------------------------------------------------------ queues and port rates
    def set_queue(self, port: int, qid: int, *, threshold: int | None = None, quantum: int | None = None) -> None:
        """Set a queue's threshold (bytes) and/or WDRR quantum (bytes)."""
        self.counters.add("requests")
        self._port(port)
        self._int(qid, "queue_id")
        if threshold is None and quantum is None:
            raise self._reject("set_queue needs a threshold, a quantum or both")
        if threshold is not None:
            self._int(threshold, "queue_threshold")
        if quantum is not None:
            self._int(quantum, "queue_quantum")
        self.r.set_queue(port, qid, threshold=threshold, quantum=quantum)
        q = self._queues.setdefault((port, qid), {})
        q.update({k: v for k, v in (("threshold", threshold), ("quantum", quantum)) if v is not None})

    def list_queues(self) -> list[dict[str, int]]:
        """Queues whose settings were changed through the control plane."""
        return [{"port": p, "qid": q, **v} for (p, q), v in sorted(self._queues.items())]

    def set_port_rate(self, port: int, kbps: int) -> int:
        """Set a port's QM rate; returns the rate applied (a multiple of 683 Kb/s)."""
        self.counters.add("requests")
        self._port(port)
        self._int(kbps, port_rate_limit(self.r.profile, port, self.r.ports[port].rate_bps))
        return self.r.set_port_rate(port, kbps)

    # ------------------------------------------------------------------ plug-ins
    def _plugin_api(self, name: str):
        fn = getattr(self.r, name, None)
        if fn is None:
            raise self._reject(f"this router model has no plug-in support (NPR.{name} is missing)")
        return fn

    def load_plugin(self, source: str, me: int, *, name: str | None = None, args: str = "") -> str:
        """Compile a C plug-in (a .c file, or the name of a shipped plug-in) and
        run it on plug-in ME ``me`` (0..4); returns its name."""
        self.counters.add("requests")
        self._int(me, "plugin_me")
        if me in self._plugins:
            raise self._reject(f"plug-in ME {me} already runs {self._plugins[me]['name']}; unload it first")
        fn = self._plugin_api("load_plugin")
        try:
            from np_model.plugin_loader import resolve
            resolve(source)
        except ImportError:
            if not os.path.isfile(source):
                raise self._reject(f"plug-in file {source!r} does not exist") from None
        except FileNotFoundError as e:
            raise self._reject(str(e)) from None
        try:
            loaded = fn(source, me, name=name, args=args)
        except Exception as e:                    # compile errors name the file and line
            self.counters.add("rejected")
            raise ControlError(f"plug-in {source} did not load on ME {me}: {e}") from e
        loaded = loaded or name or os.path.splitext(os.path.basename(source))[0]
        self._plugins[me] = {"source": str(source), "name": loaded}
        return loaded

    def unload_plugin(self, me: int) -> None:
        self.counters.add("requests")
        self._int(me, "plugin_me")
        if me not in self._plugins:
            raise self._reject(f"no plug-in on ME {me}; loaded: {sorted(self._plugins) or 'none'}")
        self._plugin_api("unload_plugin")(me)
        del self._plugins[me]

    def plugin_message(self, me: int, text: str) -> str:
        """Send a control message to a plug-in; returns its reply."""
        self.counters.add("requests")
        self._int(me, "plugin_me")
        if me not in self._plugins:
            raise self._reject(f"no plug-in on ME {me}; loaded: {sorted(self._plugins) or 'none'}")
        if not isinstance(text, str) or not text.isascii() or len(text) > self.r.limits['plugin_message'].hi:
            raise self._reject(f"a plug-in message is ASCII text of at most {self.r.limits['plugin_message'].hi} characters, got {text!r}")
        return self._plugin_api("plugin_message")(me, text)

    def list_plugins(self) -> list[dict[str, Any]]:
        return [{"me": me, **v} for me, v in sorted(self._plugins.items())]

    # ------------------------------------------------------------------ ARP
    def set_arp(self, ip: str, mac: str) -> None:
        """A static ARP entry (never aged, not changed by ARP packets)."""
        self.counters.add("requests")
        a = self._addr(ip, "ARP address")
        port = self.port_of(a)
        if port is None:
            raise self._reject(f"ARP address {a} is on no port's subnet "
                               f"({', '.join(str(pc.interface.network) for pc in self.r.ports)})")
        net = self.r.ports[port].interface
        if a == net.ip:
            raise self._reject(f"ARP address {a} is the router's own address on port {port}")
        if net.network.prefixlen < 31 and a in (net.network.network_address, net.network.broadcast_address):
            raise self._reject(f"ARP address {a} is the network or broadcast address of {net.network}")
        mac = self._mac(mac)
        if self.sp is not None:
            self.sp.arp.set_entry(a.packed, bytes.fromhex(mac.replace(":", "")), port, static=True)
        else:
            self.r.set_arp(str(a), mac)
        self._static_arp[str(a)] = mac

    def del_arp(self, ip: str) -> None:
        self.counters.add("requests")
        a = self._addr(ip, "ARP address")
        if self.sp is not None:
            if not self.sp.arp.delete(a.packed):
                raise self._reject(f"no ARP entry for {a}")
        else:
            if str(a) not in self._static_arp:
                raise self._reject(f"no ARP entry for {a}")
            self.r.del_arp(str(a))
        self._static_arp.pop(str(a), None)

    def list_arp(self) -> list[dict[str, Any]]:
        if self.sp is None:
            return [{"ip": ip, "mac": mac, "static": True} for ip, mac in sorted(self._static_arp.items())]
        out = []
        for e in self.sp.arp.entries.values():
            out.append({"ip": str(ipaddress.IPv4Address(e.ip)), "mac": ":".join(f"{b:02x}" for b in e.mac),
                        "port": e.port, "static": e.static, "age_s": round((self.r.now_ns - e.updated_ns) / 1e9, 6)})
        return sorted(out, key=lambda d: ipaddress.IPv4Address(d["ip"]))

    # ------------------------------------------------------------------ statistics (handlers)
    def _register_handlers(self) -> None:
        h = self.handlers
        h.add_read("control.routes", lambda: len(self.rib))
        h.add_read("control.filters", lambda: len(self._filters))
        h.add_read("control.fib_pending", lambda: self._pending_writes)
        for k in self.counters:
            h.add_read(f"control.{k}", lambda k=k: self.counters[k])
        for name in DROP_REASONS:
            h.add_read(f"drops.{name}", lambda name=name: self.r.drops().get(name, 0))
        for name in EXC_REASONS[1:]:
            h.add_read(f"exceptions.{name}", lambda name=name: self.r.exceptions().get(name, 0))
        h.add_group("", lambda: flatten(self.r.stats()))
        if self.sp is not None:
            sp = self.sp
            h.add_group("host.", sp.counters.as_dict)
            h.add_read("host.arp.entries", lambda: len(sp.arp.entries))
            h.add_read("host.arp.pending", lambda: len(sp.arp.pending))
            h.add_read("host.arp.holding", lambda: sp.arp.n_held)
            h.add_read("host.queue", lambda: len(sp._queue))
            h.add_write("host.reset", lambda _v: sp.counters.reset())
        h.add_write("control.reset", lambda _v: self.counters.reset())

    def read(self, name: str) -> Any:
        """One figure by name (``ports.port0.tx_pkts``, ``host.arp.requests_sent``, ...)."""
        return self.handlers.read(name)

    def names(self) -> list[str]:
        return self.handlers.names()

    def read_all(self) -> dict[str, Any]:
        return self.handlers.read_all()

    def write(self, name: str, value: Any = None) -> None:
        self.handlers.write(name, value)
