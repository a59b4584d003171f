"""A configured router: the NPR model with its slow path and control plane.

``build_router`` turns a validated configuration into a running router:
the NPR (ports, engine, NIC front-end), the slow path (its host handler),
the control plane, then the boot configuration -- routes, static ARP,
filters, queues, port rates, plug-ins -- applied through the control plane
with no FIB delay. A request the control plane rejects is reported as a
``ConfigError`` at the entry's line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from np_model.assemblies import NPR, PortConfig

from .config import ConfigError, Entry, RouterConfig, load_config, npr_accepts
from .control import ControlError, ControlPlane
from .slowpath import SlowPath, SlowPathConfig

__all__ = ["Router", "build_router"]


@dataclass
class Router:
    """What ``build_router`` returns."""

    npr: NPR
    slow_path: SlowPath
    control: ControlPlane
    config: RouterConfig | None = None

    def stats(self) -> dict[str, Any]:
        """The router's statistics plus the host's counters (``host``) and the
        control plane's (``control``)."""
        st = self.npr.stats()
        st["host"] = self.slow_path.stats()
        st["control"] = {"routes": len(self.control.rib), "filters": len(self.control.list_filters()),
                         "fib_pending": self.control.fib_pending, **self.control.counters.as_dict()}
        return st


def build_router(config: RouterConfig | str | os.PathLike, **npr_kw: Any) -> Router:
    """Build a router from a configuration (object or file path).

    ``npr_kw`` overrides NPR constructor arguments (e.g. ``keep_records``).
    """
    cfg = config if isinstance(config, RouterConfig) else load_config(config)
    ports = []
    for e in cfg.ports:
        p = e.values
        ports.append(PortConfig(p["address"], p["mac"], int(p.get("rate", 1_000_000_000)), int(p.get("mtu", 1500))))
    kw: dict[str, Any] = {"ports": ports}
    ro = cfg.router
    for k in ("engine", "seed", "buffers", "threads"):
        if k in ro:
            kw[k] = dict(ro[k]) if k == "threads" else ro[k]
    if cfg.nic is not None:
        if not npr_accepts("nic"):
            raise ConfigError(f"{cfg.source}:{cfg.nic_line}: nic: this router model has no NIC front-end "
                              "(NPR takes no nic argument)")
        kw["nic"] = cfg.nic
    kw.update(npr_kw)
    try:
        r = NPR(**kw)
    except (ValueError, KeyError) as ex:
        raise ConfigError(f"{cfg.source}:1: the router could not be built: {ex}") from None
    sp = SlowPath(r, config=SlowPathConfig(**cfg.slow_path))
    cp = ControlPlane(r, sp, fib_install_us=float(ro.get("fib_install_us", 300.0)))

    def apply(e: Entry, fn, *a, **k) -> Any:
        try:
            return fn(*a, **k)
        except ControlError as ex:
            raise ConfigError(f"{cfg.source}:{e.line}: {e.path}: {ex}") from None

    for e in cfg.ports:
        if "qm_rate_kbps" in e.values:
            apply(e, cp.set_port_rate, int(e.path[6:-1]), e.values["qm_rate_kbps"])
    for e in cfg.arp:
        apply(e, cp.set_arp, str(e.values["ip"]), e.values["mac"])
    for e in cfg.routes:
        v = dict(e.values)
        apply(e, cp.add_route, str(v.pop("prefix")), v.pop("port", None), v.pop("next_hop", None),
              multicast_ports=tuple(v.pop("multicast_ports", ())), immediate=True, **v)
    for e in cfg.queues:
        v = dict(e.values)
        apply(e, cp.set_queue, v.pop("port"), v.pop("qid"), **v)
    for e in cfg.plugins:
        apply(e, cp.load_plugin, e.values["file"], e.values["me"], name=e.values.get("name"),
              args=e.values.get("args", ""))
    for e in cfg.filters:
        apply(e, cp.add_filter, immediate=True, **e.values)
    return Router(r, sp, cp, cfg)
