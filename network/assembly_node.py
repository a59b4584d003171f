"""Any NP assembly (np_model.assemblies.base.Assembly: an SPP line card,
an NPE, ...) behind the network's message interface, as network.router
puts an NPR there: arrivals are offered at their first-bit times
(``Assembly.feed_arrays``), the assembly runs to each window bound, what it
transmits comes back through ``tx_sink`` and leaves on the port's link.
Packets its control processor takes (``host_handler``) are counted as
delivered (``control_processor``); its ledger follows the assembly's own
conservation account.
"""
from __future__ import annotations

import math
from collections import Counter
from time import perf_counter
from typing import Any, Callable

import numpy as np

from .ledger import Ledger
from .node import Node

__all__ = ["AssemblyNode"]


class AssemblyNode(Node):
    """An Assembly as a network node (see module doc)."""

    kind = "assembly"

    def __init__(self, name: str, asm: Any, *, kind: str | None = None):
        super().__init__(name, len(asm.ports))
        self.asm = asm
        if kind:
            self.kind = kind
        asm.tx_sink = self._tx
        if asm.host_handler is None:
            asm.host_handler = self._host
        self.host_packets: Counter = Counter()
        self._ns_per_cycle = 1e9 / asm.f_me
        self._in_frames: list[bytes] = []
        self._in_ports: list[int] = []
        self._in_t: list[float] = []
        self.fed = 0
        self.sink_s = 0.0

    def port_rate(self, port: int) -> int:
        return self.asm.ports[port].rate_bps

    def _host(self, asm: Any, hp: Any) -> None:
        self.host_packets[hp.reason] += 1

    def deliver(self, port: int, t_first: float, t_last: float, frame: bytes) -> None:
        self.ledger.received += 1
        if self.down._t and self.down.at(t_first):
            self.ledger.drop("node_down")
            return
        self._in_frames.append(frame)
        self._in_ports.append(port)
        self._in_t.append(t_first)

    def call_at(self, t_ns: float, fn: Callable[[], None]) -> None:
        self.asm.call_at(t_ns, fn)

    def advance(self, until_ns: float) -> None:
        t0 = perf_counter()
        if self._in_frames:
            self._feed()
        s0 = self.sink_s
        self.asm.run(until_ns=until_ns)
        self.busy_s += perf_counter() - t0 - (self.sink_s - s0)
        self.now = until_ns

    def _feed(self) -> None:
        f = self.asm.f_me
        frames = self._in_frames
        cyc = [max(math.ceil(t * f / 1e9 - 1e-6), 0) for t in self._in_t]
        lens = [len(x) for x in frames]
        offs = [0] * len(lens)
        for i in range(1, len(lens)):
            offs[i] = offs[i - 1] + lens[i - 1]
        self.asm.feed_arrays(np.array(cyc, dtype=np.uint64), np.array(self._in_ports, dtype=np.uint8),
                             np.array(lens, dtype=np.uint32), np.array(offs, dtype=np.uint64),
                             np.frombuffer(b"".join(frames), dtype=np.uint8))
        self.fed += len(frames)
        self._in_frames, self._in_ports, self._in_t = [], [], []

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
        self.asm.run(until_ns=self.now)
        c = self.asm.conservation()
        led = self.ledger
        led.created = c.injected + c.copies + c.created
        led.delivered = Counter({"control_processor": c.to_host} if c.to_host else {})
        keep = {r: n for r, n in led.dropped.items() if r in ("node_down", "port_unconnected")}
        led.dropped = Counter(keep)
        for r, n in self.asm.drops().items():
            if n:
                led.dropped[r] += n
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        led.held = inside + (self.fed - c.arrived) + len(self._in_frames)
        return led

    def account(self) -> dict[str, Any]:
        """The assembly's own conservation check (exact at rest, see network.router)."""
        c = self.asm.conservation()
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        return {"ok": c.ok, "at_rest": inside == 0, "double_ends": c.double_ends, "account": str(c)}

    def stats(self) -> dict[str, Any]:
        st = self.asm.stats()
        st["kind"] = self.kind
        st["ledger"] = self.settle().as_dict()
        st["account"] = self.account()
        if self.host_packets:
            st["host_packets"] = dict(self.host_packets)
        return st
