"""A router node: the configured NPR (host.router.build_router: the NP
model, its slow path and control plane) behind the message interface.

Frames arriving on a link are offered to the NPR at their first-bit time
(``NPR.send(..., at_ns=)``); the NPR runs to each window bound
(``NPR.run(until_ns=)``); what it transmits comes back through
``NPR.tx_sink`` and leaves on the port's link at its first-bit time. The
NPR reports a frame when its last bit has left, so a frame may reach the
next router after its first bit was due there: the NP core accepts it as
long as its reception is not over (np_model/core np_feed), which
conservative synchronisation guarantees when the link rate equals the
ports' rate (network.topology checks it).
"""
from __future__ import annotations

from time import perf_counter
from typing import Any, Callable

import numpy as np

from host.router import Router

from .ledger import Ledger
from .node import Node

__all__ = ["RouterNode"]


class RouterNode(Node):
    """An NPR with its slow path and control plane as a network node."""

    kind = "router"

    def __init__(self, name: str, router: Router):
        super().__init__(name, len(router.npr.ports))
        self.router = router
        self.npr = router.npr
        self.npr.tx_sink = self._tx
        self._ns_per_cycle = 1e9 / self.npr.f_me
        self._in_frames: list[bytes] = []
        self._in_ports: list[int] = []
        self._in_t: list[float] = []
        self.fed = 0
        self.sink_s = 0.0

    def port_rate(self, port: int) -> int:
        return self.npr.ports[port].rate_bps

    def deliver(self, port: int, t_first: float, t_last: float, frame: bytes) -> None:
        self.ledger.received += 1
        if self.down._t and self.down.at(t_first):
            self.ledger.drop("node_down")
            return
        self._in_frames.append(frame)
        self._in_ports.append(port)
        self._in_t.append(t_first)

    def call_at(self, t_ns: float, fn: Callable[[], None]) -> None:
        self.npr.call_at(t_ns, fn)

    def advance(self, until_ns: float) -> None:
        t0 = perf_counter()
        if self._in_frames:
            self.npr.send(self._in_frames, self._in_ports, at_ns=self._in_t)
            self.fed += len(self._in_frames)
            self._in_frames, self._in_ports, self._in_t = [], [], []
        t1 = perf_counter()
        s0 = self.sink_s
        self.npr.run(until_ns=until_ns)
        self.busy_s += perf_counter() - t1 - (self.sink_s - s0)
        self.now = until_ns

    def _tx(self, batch: Any) -> None:
        t0 = perf_counter()
        recs, cap = batch.records, batch.capture
        k = self._ns_per_cycle
        ts = (recs["t_start"] * k).tolist()
        te = (recs["t_end"] * k).tolist()
        ports = recs["port"].tolist()
        offs = recs["cap_off"].tolist()
        lens = recs["len"].tolist()
        out, led, rate, down = self._out, self.ledger, self.rate, self.down
        for i in range(len(ports)):
            p = ports[i]
            if down._t and down.at(ts[i]):
                led.drop("node_down")
            elif not rate[p]:
                led.drop("port_unconnected")
            else:
                out.append((p, ts[i], te[i], cap[offs[i]:offs[i] + lens[i]]))
                led.sent += 1
        self.sink_s += perf_counter() - t0

    def settle(self) -> Ledger:
        c = self.npr.conservation()
        led = self.ledger
        sp = self.router.slow_path.counters.as_dict()
        qfull = int(sp.get("slowpath.queue_full_drops", 0))
        led.created = c.injected + c.copies + c.created
        led.delivered = type(led.delivered)({"control_processor": c.to_host - qfull} if c.to_host - qfull else {})
        keep = {r: n for r, n in led.dropped.items() if r in ("node_down", "port_unconnected")}
        led.dropped = type(led.dropped)(keep)
        for r, n in self.npr.drops().items():
            led.dropped[f"npr.{r}"] += n
        if qfull:
            led.dropped["slowpath_queue_full"] += qfull
        led.held = c.in_flight + (self.fed - c.arrived)
        return led

    def stats(self) -> dict[str, Any]:
        st = self.router.stats()
        st["kind"] = self.kind
        st["ledger"] = self.settle().as_dict()
        st["router_conservation"] = {"ok": self.npr.conservation().ok, "account": str(self.npr.conservation())}
        return st
