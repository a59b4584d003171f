"""The System Resource Manager (SRM): the SPP node's resources and
admission control (the CP's top-level controller, virtual_routers.md §1.2).

The node's resources:

* **external interfaces** (the line card's ports): number, type (Internet
  or peering), IPv4 address, peer, bandwidth in kb/s. An interface's
  bandwidth is shared by the meta-interfaces bound to endpoints on it and by
  the slices' GPE-path reservations (``resrv_pl_ifbw``);
* **endpoint space**: (interface address, UDP port) pairs, each owned by at
  most one slice (the local end of a UDP tunnel);
* **NPE resources**, per NPE: filters (TCAM entries), queues, statistics
  counters, packet buffers, SRAM and DRAM bytes, fast-path bandwidth (kb/s),
  and the number of fast paths it can hold;
* **GPE capacity**, per GPE: processor cores; each slice's slow path
  reserves a share of one GPE's cores (a vServer with a CPU reservation --
  this project's model of PlanetLab's proportional-share scheduling).

Admission rules (ARCH worked example, virtual_routers.md §1.3): the sum of
reservations never exceeds the node (per NPE, per interface, per GPE); the
meta-interface bandwidths of a fast path never exceed its firm bandwidth.
A refused request raises ``AdmissionError`` naming the resource, what was
asked and what is left; nothing is reserved by a refused request. Every
call names the slice making it: a request on another slice's endpoint or
fast path raises ``AccessError`` (administration isolation).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["AdmissionError", "AccessError", "SppError", "Interface", "NPECapacity", "GPECapacity", "FastPath",
           "SliceRecord", "SRM", "FASTPATH_RESOURCES", "Endpoint"]

#: (resource name in alloc_fastpath, NPECapacity field, unit)
FASTPATH_RESOURCES = (("fltrs", "filters", "filters"), ("qs", "queues", "queues"), ("stats", "stats", "counters"),
                      ("buffs", "buffers", "buffers"), ("sram", "sram_bytes", "bytes of SRAM"),
                      ("dram", "dram_bytes", "bytes of DRAM"), ("firm_kbps", "kbps", "kb/s"))

Endpoint = tuple[str, int]


class SppError(ValueError):
    """A slice-interface request that is malformed or names nothing (the message says what)."""


class AdmissionError(SppError):
    """A reservation beyond what the node has left.

    Attributes: ``resource`` (its name), ``asked``, ``left`` (same unit), ``where`` (e.g. ``npe0``)."""

    def __init__(self, resource: str, asked: float, left: float, where: str, unit: str = ""):
        self.resource, self.asked, self.left, self.where = resource, asked, left, where
        u = f" {unit}" if unit else ""
        super().__init__(f"{resource}: asked {asked:g}{u}, {left:g}{u} left on {where}")


class AccessError(PermissionError):
    """A slice named a resource it does not own (administration isolation)."""


@dataclass(frozen=True)
class Interface:
    """An external interface of the node (a line-card port)."""

    num: int
    ip: str
    kbps: int
    type: str = "internet"            # internet | peering
    peer: str | None = None           # the IPv4 address at the far end (peering links)

    def __post_init__(self) -> None:
        if self.type not in ("internet", "peering"):
            raise SppError(f"interface {self.num}: type {self.type!r}; valid: internet, peering")
        if self.kbps <= 0:
            raise SppError(f"interface {self.num}: bandwidth must be > 0 kb/s, got {self.kbps}")


@dataclass(frozen=True)
class NPECapacity:
    """What one NPE offers to fast paths (the SRM admits against it)."""

    filters: int = 4096
    queues: int = 1024
    stats: int = 4096
    buffers: int = 65536
    sram_bytes: int = 4 << 20
    dram_bytes: int = 256 << 20
    kbps: int = 10_000_000
    fastpaths: int = 64


@dataclass(frozen=True)
class GPECapacity:
    """One GPE server: its processor cores (shares of them are reserved per slice)."""

    cores: float = 2.0


@dataclass
class FastPath:
    """A fast path the SRM admitted: its NPE and firm resources."""

    fpid: int
    slice: str
    npe: int
    copt: str
    firm_kbps: int
    soft_kbps: int
    fltrs: int
    qs: int
    stats: int
    buffs: int
    sram: int
    dram: int
    mi_kbps: dict[int, int] = field(default_factory=dict)         # MI -> reserved kb/s
    mi_iface: dict[int, int | None] = field(default_factory=dict)  # MI -> interface (None: MI 0, inside the node)

    def resources(self) -> dict[str, int]:
        return {k: getattr(self, k) for k, _, _ in FASTPATH_RESOURCES}


@dataclass
class SliceRecord:
    """A slice known to the SRM: its id, GPE and everything it holds."""

    name: str
    sid: int
    gpe: int
    gpe_share: float
    endpoints: set[Endpoint] = field(default_factory=set)
    fastpaths: set[int] = field(default_factory=set)
    pl_ifbw: dict[int, int] = field(default_factory=dict)          # interface -> GPE-path kb/s


class SRM:
    """The node's resources and their reservations (see module doc).

    Args:
        interfaces: the external interfaces (numbers 0..K-1 in order).
        npes: one capacity per NPE.
        gpes: one capacity per GPE.
        code_options: the names a fast path may ask for (besides a C file, ``*.c``,
            which the NPE builds).
        port_range: UDP ports available for endpoints (inclusive).
    """

    def __init__(self, interfaces: Iterable[Interface], npes: Iterable[NPECapacity], gpes: Iterable[GPECapacity],
                 code_options: Iterable[str], *, port_range: tuple[int, int] = (1024, 65535)):
        self.interfaces = list(interfaces)
        for i, itf in enumerate(self.interfaces):
            if itf.num != i:
                raise SppError(f"interface numbers must be 0..{len(self.interfaces) - 1} in order; got {itf.num} at {i}")
        ips = [itf.ip for itf in self.interfaces]
        if len(set(ips)) != len(ips):
            raise SppError(f"two interfaces share an address: {ips}")
        self.npes = list(npes)
        self.gpes = list(gpes)
        if not self.npes or not self.gpes:
            raise SppError("a node needs at least one NPE and one GPE")
        self.code_options = tuple(code_options)
        lo, hi = port_range
        if not 1 <= lo <= hi <= 65535:
            raise SppError(f"port range {port_range} is not within 1..65535")
        self.port_range = (lo, hi)
        self.slices: dict[str, SliceRecord] = {}
        self.fastpaths: dict[int, FastPath] = {}
        self.endpoint_owner: dict[Endpoint, str] = {}
        self._mi_ep: dict[tuple[int, int], Endpoint] = {}     # (fast path, MI) -> its endpoint
        self._next_fp = 1
        self._next_sid = 1

    # ------------------------------------------------------------------ slices
    def add_slice(self, name: str, *, gpe_share: float = 0.5, gpe: int | None = None) -> SliceRecord:
        """Admit a slice and its slow path's share of a GPE's cores (the SRM picks
        the GPE with the most cores left unless ``gpe`` is given)."""
        if not isinstance(name, str) or not name:
            raise SppError(f"a slice name is a non-empty string, got {name!r}")
        if name in self.slices:
            raise SppError(f"slice {name!r} already exists")
        if not gpe_share > 0:
            raise SppError(f"slice {name}: gpe_share must be > 0 cores, got {gpe_share}")
        if gpe is not None and not 0 <= gpe < len(self.gpes):
            raise SppError(f"slice {name}: no GPE {gpe}; valid: 0..{len(self.gpes) - 1}")
        cands = [gpe] if gpe is not None else sorted(range(len(self.gpes)), key=lambda g: -self.gpe_left(g))
        g = cands[0]
        if gpe_share > self.gpe_left(g) + 1e-12:
            raise AdmissionError("gpe cores", gpe_share, self.gpe_left(g), f"gpe{g}", "cores")
        rec = SliceRecord(name, self._next_sid, g, float(gpe_share))
        self._next_sid += 1
        self.slices[name] = rec
        return rec

    def remove_slice(self, name: str) -> None:
        """Free everything the slice holds, then the slice."""
        rec = self.slice(name)
        for fp in sorted(rec.fastpaths):
            self.free_fastpath(name, fp)
        for ep in sorted(rec.endpoints):
            self.free_endpoint(name, ep)
        del self.slices[name]

    def slice(self, name: str) -> SliceRecord:
        if name not in self.slices:
            raise SppError(f"no slice {name!r}; slices: {', '.join(self.slices) or 'none'}")
        return self.slices[name]

    def gpe_left(self, g: int) -> float:
        return self.gpes[g].cores - sum(s.gpe_share for s in self.slices.values() if s.gpe == g)

    # ------------------------------------------------------------------ interfaces
    def iface_used(self, num: int) -> int:
        """kb/s of interface ``num`` reserved by meta-interfaces and GPE paths."""
        mi = sum(k for fp in self.fastpaths.values() for m, k in fp.mi_kbps.items() if fp.mi_iface.get(m) == num)
        return mi + sum(s.pl_ifbw.get(num, 0) for s in self.slices.values())

    def iface_left(self, num: int) -> int:
        return self.interfaces[num].kbps - self.iface_used(num)

    def interface(self, num: Any) -> Interface:
        if isinstance(num, bool) or not isinstance(num, int) or not 0 <= num < len(self.interfaces):
            raise SppError(f"no interface {num!r}; valid: 0..{len(self.interfaces) - 1}")
        return self.interfaces[num]

    def iface_of(self, ip: str) -> Interface:
        for itf in self.interfaces:
            if itf.ip == ip:
                return itf
        raise SppError(f"{ip} is not an address of this node; interfaces: "
                       + ", ".join(f"{i.num}={i.ip}" for i in self.interfaces))

    def resrv_pl_ifbw(self, slice_: str, num: int, kbps: int) -> None:
        """Reserve (replace) the slice's GPE-path bandwidth on interface ``num``, kb/s."""
        rec = self.slice(slice_)
        self.interface(num)
        kbps = _count(kbps, "kbps")
        left = self.iface_left(num) + rec.pl_ifbw.get(num, 0)
        if kbps > left:
            raise AdmissionError("interface bandwidth", kbps, left, f"interface {num}", "kb/s")
        if kbps:
            rec.pl_ifbw[num] = kbps
        else:
            rec.pl_ifbw.pop(num, None)

    # ------------------------------------------------------------------ endpoints
    def alloc_endpoint(self, slice_: str, ip: str, port: int | None = None) -> Endpoint:
        """Reserve (ip, UDP port) for the slice; ``port=None`` takes the lowest free port."""
        rec = self.slice(slice_)
        ip = _ip(ip)
        self.iface_of(ip)
        lo, hi = self.port_range
        if port is None:
            port = next((p for p in range(lo, hi + 1) if (ip, p) not in self.endpoint_owner), None)
            if port is None:
                raise AdmissionError("endpoint ports", 1, 0, f"address {ip}", "ports")
        elif isinstance(port, bool) or not isinstance(port, int) or not lo <= port <= hi:
            raise SppError(f"UDP port {port!r} is outside the endpoint range {lo}..{hi}")
        ep = (ip, port)
        owner = self.endpoint_owner.get(ep)
        if owner == slice_:
            raise SppError(f"endpoint {ip}:{port} is already this slice's")
        if owner is not None:
            raise AccessError(f"endpoint {ip}:{port} belongs to another slice")
        self.endpoint_owner[ep] = slice_
        rec.endpoints.add(ep)
        return ep

    def check_endpoint(self, slice_: str, ep: Any) -> Endpoint:
        """The endpoint as (ip, port) if the slice owns it; else AccessError/SppError."""
        ep = endpoint_tuple(ep)
        owner = self.endpoint_owner.get(ep)
        if owner is None:
            raise SppError(f"endpoint {ep[0]}:{ep[1]} is not allocated")
        if owner != slice_:
            raise AccessError(f"endpoint {ep[0]}:{ep[1]} belongs to another slice")
        return ep

    def free_endpoint(self, slice_: str, ep: Any) -> None:
        rec = self.slice(slice_)
        ep = self.check_endpoint(slice_, ep)
        for (fp, m), e in self._mi_ep.items():
            if e == ep:
                raise SppError(f"endpoint {ep[0]}:{ep[1]} is in use by meta-interface {m} of fast path {fp}")
        del self.endpoint_owner[ep]
        rec.endpoints.discard(ep)

    # ------------------------------------------------------------------ fast paths
    def fastpath(self, slice_: str, fpid: Any) -> FastPath:
        """The slice's fast path ``fpid``; AccessError if another slice's."""
        if isinstance(fpid, bool) or not isinstance(fpid, int) or fpid not in self.fastpaths:
            raise SppError(f"no fast path {fpid!r}")
        fp = self.fastpaths[fpid]
        if fp.slice != slice_:
            raise AccessError(f"fast path {fpid} belongs to another slice")
        return fp

    def npe_used(self, n: int) -> dict[str, int]:
        used = {k: 0 for k, _, _ in FASTPATH_RESOURCES}
        for fp in self.fastpaths.values():
            if fp.npe == n:
                for k, v in fp.resources().items():
                    used[k] += v
        return used

    def npe_left(self, n: int) -> dict[str, int]:
        used, cap = self.npe_used(n), self.npes[n]
        left = {k: getattr(cap, f) - used[k] for k, f, _ in FASTPATH_RESOURCES}
        left["fastpaths"] = cap.fastpaths - sum(1 for fp in self.fastpaths.values() if fp.npe == n)
        return left

    def alloc_fastpath(self, slice_: str, copt: str, *, firm_kbps: int, soft_kbps: int = 0, fltrs: int, qs: int,
                       stats: int, buffs: int, sram: int, dram: int = 0, npe: int | None = None) -> FastPath:
        """Admit a fast path on an NPE with room for all its firm resources
        (``npe=None``: the first that has room)."""
        rec = self.slice(slice_)
        if not isinstance(copt, str) or (copt not in self.code_options and not copt.endswith(".c")):
            raise SppError(f"unknown code option {copt!r}; valid: {', '.join(self.code_options)}, "
                           "or a code option's C file (name.c)")
        if rec.fastpaths:
            raise SppError(f"slice {slice_} already has fast path {min(rec.fastpaths)}; a slice has one fast path")
        ask = {"firm_kbps": _count(firm_kbps, "firm_kbps"), "fltrs": _count(fltrs, "fltrs"), "qs": _count(qs, "qs"),
               "stats": _count(stats, "stats"), "buffs": _count(buffs, "buffs"), "sram": _count(sram, "sram"),
               "dram": _count(dram, "dram")}
        soft = _count(soft_kbps, "soft_kbps")
        if ask["qs"] < 1:
            raise SppError("qs: a fast path needs at least one queue (for meta-interface 0)")
        if npe is not None and not 0 <= npe < len(self.npes):
            raise SppError(f"no NPE {npe}; valid: 0..{len(self.npes) - 1}")
        short: list[AdmissionError] = []
        for n in ([npe] if npe is not None else range(len(self.npes))):
            left = self.npe_left(n)
            bad = None
            if left["fastpaths"] < 1:
                bad = AdmissionError("fast paths", 1, left["fastpaths"], f"npe{n}", "fast paths")
            for k, _, unit in FASTPATH_RESOURCES:
                if bad is None and ask[k] > left[k]:
                    bad = AdmissionError(k, ask[k], left[k], f"npe{n}", unit)
            if bad is None:
                fp = FastPath(self._next_fp, slice_, n, copt, soft_kbps=soft, **ask)
                self._next_fp += 1
                self.fastpaths[fp.fpid] = fp
                rec.fastpaths.add(fp.fpid)
                return fp
            short.append(bad)
        raise short[0]

    def free_fastpath(self, slice_: str, fpid: int) -> FastPath:
        fp = self.fastpath(slice_, fpid)
        del self.fastpaths[fpid]
        self.slices[slice_].fastpaths.discard(fpid)
        for k in [k for k in self._mi_ep if k[0] == fpid]:
            del self._mi_ep[k]
        return fp

    # ------------------------------------------------------------------ meta-interfaces
    def reserve_mi(self, slice_: str, fpid: int, mi: int, ep: Endpoint | None, kbps: int) -> None:
        """Reserve ``kbps`` for meta-interface ``mi`` of the fast path: within the fast
        path's firm bandwidth (rule 1) and, for an MI on an endpoint, the endpoint
        interface's bandwidth left. MI 0 (local delivery and exceptions) has no endpoint."""
        fp = self.fastpath(slice_, fpid)
        kbps = _count(kbps, "kbps")
        if mi in fp.mi_kbps:
            raise SppError(f"meta-interface {mi} of fast path {fpid} already exists")
        if (mi == 0) != (ep is None):
            raise SppError("meta-interface 0 is the local-delivery/exception path to the GPE and has no endpoint"
                           if mi == 0 else f"meta-interface {mi} needs an endpoint")
        fp_left = fp.firm_kbps - sum(fp.mi_kbps.values())
        if kbps > fp_left:
            raise AdmissionError("fast-path bandwidth", kbps, fp_left, f"fast path {fpid}", "kb/s")
        num = None
        if ep is not None:
            ep = self.check_endpoint(slice_, ep)
            if ep in self._mi_ep.values():
                raise SppError(f"endpoint {ep[0]}:{ep[1]} already carries a meta-interface")
            num = self.iface_of(ep[0]).num
            if kbps > self.iface_left(num):
                raise AdmissionError("interface bandwidth", kbps, self.iface_left(num), f"interface {num}", "kb/s")
        fp.mi_kbps[mi] = kbps
        fp.mi_iface[mi] = num
        if ep is not None:
            self._mi_ep[(fpid, mi)] = ep

    def release_mi(self, slice_: str, fpid: int, mi: int) -> None:
        fp = self.fastpath(slice_, fpid)
        if mi not in fp.mi_kbps:
            raise SppError(f"fast path {fpid} has no meta-interface {mi}")
        del fp.mi_kbps[mi]
        del fp.mi_iface[mi]
        self._mi_ep.pop((fpid, mi), None)

    # ------------------------------------------------------------------ reports
    def get_ifaces(self) -> list[dict[str, Any]]:
        """Every interface: number, type, IP address, peer, total and available kb/s."""
        return [{"num": i.num, "type": i.type, "ip": i.ip, "peer": i.peer, "kbps": i.kbps,
                 "available_kbps": self.iface_left(i.num)} for i in self.interfaces]

    def report(self) -> dict[str, Any]:
        """Reservations and what is left, per resource (for stats.json)."""
        return {"interfaces": self.get_ifaces(),
                "npes": [{"used": self.npe_used(n), "left": self.npe_left(n)} for n in range(len(self.npes))],
                "gpes": [{"cores": g.cores, "left": self.gpe_left(i)} for i, g in enumerate(self.gpes)],
                "slices": {s.name: {"sid": s.sid, "gpe": s.gpe, "gpe_share": s.gpe_share,
                                    "endpoints": [f"{ip}:{p}" for ip, p in sorted(s.endpoints)],
                                    "fastpaths": sorted(s.fastpaths), "pl_ifbw": dict(s.pl_ifbw)}
                           for s in self.slices.values()}}


def _count(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise SppError(f"{name} must be a whole number >= 0, got {v!r}")
    return v


def _ip(ip: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(ip))
    except (ValueError, TypeError):
        raise SppError(f"{ip!r} is not an IPv4 address") from None


def endpoint_tuple(ep: Any) -> Endpoint:
    """``(ip, port)``, ``[ip, port]`` or ``"ip:port"`` as ``(ip, port)``."""
    if isinstance(ep, str) and ":" in ep:
        ip, _, p = ep.rpartition(":")
        if not p.isdigit():
            raise SppError(f"endpoint {ep!r} is not ip:port")
        ep = (ip, int(p))
    if not isinstance(ep, (tuple, list)) or len(ep) != 2:
        raise SppError(f"an endpoint is (ip, UDP port) or 'ip:port', got {ep!r}")
    ip, port = _ip(ep[0]), ep[1]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SppError(f"endpoint port {port!r} is not a UDP port 1..65535")
    return (ip, port)
