"""The control plane's routing information base.

The core's TCAM has no route listing, so the host keeps every route it
installs, with its state (``installed`` once the modelled FIB write is
done). Lookups mirror the fast path (``np_tbl_route``): longest prefix
first, and at equal length a route bound to the input port before one for
any port.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Iterator

__all__ = ["Route", "Rib"]


@dataclass(frozen=True)
class Route:
    """One route as the control plane knows it.

    ``origin`` is ``connected`` (a port's subnet, on-link), ``local`` (a
    router address, delivered to the host) or ``static`` (configured).
    """

    prefix: ipaddress.IPv4Network
    port: int | None = None
    next_hop: str | None = None
    mac: str | None = None
    qid: int = 0
    stats: int = 0
    priority: int | None = None
    in_port: int | None = None
    local: bool = False
    multicast_ports: tuple[int, ...] = ()
    origin: str = "static"
    installed: bool = False

    @property
    def key(self) -> tuple[ipaddress.IPv4Network, int | None]:
        return self.prefix, self.in_port

    def as_dict(self) -> dict:
        d = {"prefix": str(self.prefix), "port": self.port, "next_hop": self.next_hop, "mac": self.mac,
             "qid": self.qid, "stats": self.stats, "priority": self.priority, "in_port": self.in_port,
             "local": self.local, "multicast_ports": list(self.multicast_ports), "origin": self.origin,
             "installed": self.installed}
        return {k: v for k, v in d.items() if v not in (None, (), [], 0) or k in ("port", "installed", "qid")}


@dataclass
class Rib:
    routes: dict[tuple[ipaddress.IPv4Network, int | None], Route] = field(default_factory=dict)
    # prefix length -> number of routes of that length (lookups visit only lengths in use)
    _lens: dict[int, int] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Route]:
        return iter(sorted(self.routes.values(), key=lambda r: (-r.prefix.prefixlen, int(r.prefix.network_address),
                                                                 -1 if r.in_port is None else r.in_port)))

    def __len__(self) -> int:
        return len(self.routes)

    def get(self, prefix: ipaddress.IPv4Network, in_port: int | None = None) -> Route | None:
        return self.routes.get((prefix, in_port))

    def put(self, route: Route) -> None:
        if route.key not in self.routes:
            n = route.prefix.prefixlen
            self._lens[n] = self._lens.get(n, 0) + 1
        self.routes[route.key] = route

    def remove(self, prefix: ipaddress.IPv4Network, in_port: int | None = None) -> Route:
        r = self.routes.pop((prefix, in_port))
        n = prefix.prefixlen
        self._lens[n] -= 1
        if not self._lens[n]:
            del self._lens[n]
        return r

    def mark_installed(self, key: tuple[ipaddress.IPv4Network, int | None], route: Route) -> None:
        """Flag the route as in the FIB, if it is still the RIB's route for that key."""
        if self.routes.get(key) is route:
            self.routes[key] = replace(route, installed=True)

    def lookup(self, dst: str | bytes | int, in_port: int | None = None, *,
               installed_only: bool = True) -> Route | None:
        """The route the fast path would pick for ``dst`` (longest prefix; port-bound first)."""
        a = int(ipaddress.IPv4Address(dst))
        for plen in sorted(self._lens, reverse=True):
            net = ipaddress.IPv4Network((a & (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF, plen))
            for key in ((net, in_port), (net, None)) if in_port is not None else ((net, None),):
                r = self.routes.get(key)
                if r is not None and (r.installed or not installed_only):
                    return r
        return None
