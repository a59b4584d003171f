"""A router node: the configured NPR (host.router.build_router: the NP
model, its slow path and control plane) behind the message interface.

Frames arriving on a link are offered to the NPR at their first-bit time
(times rounded to cycles as ``NPR.send`` does); the NPR runs to each window
bound; what it transmits leaves on the port's link at its first-bit time.
The NPR reports a frame when its last bit has left, so a frame may reach the
next router after its first bit was due there: the NP core accepts it as
long as its reception is not over (np_model/core np_feed), which
conservative synchronisation guarantees when the link rate equals the
ports' rate (network.topology checks it).

Two ways to drive it, with identical results:

* on its own (``advance``): ``NPR.feed_arrays`` with the window's arrivals,
  ``NPR.run(until_ns=)``, transmitted frames back through ``NPR.tx_sink``;
* in the network's compiled fabric (``join_fabric``; np_model.engine.fabric,
  used for NPRs on the compiled engine without a NIC front-end or a down
  schedule): the fabric runs it with the other fabric routers in one call
  per window and carries its links that have neither loss draws nor down
  times (network.sim hands frames to and from the nodes at their other
  ends); frames it sends on any other link come back staged and pass
  ``fabric_output`` (ledger, unconnected ports), frames such a link brings
  are offered at once (``deliver``).

Its own work (``busy_s``, network.sim) is ``NPR.sim_wall_s``: the engine's
event loop and the slow path's handlers and timers.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from host.router import Router
from np_model.core import lib

from .ledger import Ledger
from .node import Node

__all__ = ["RouterNode"]

_fab_feed = lib.np_fab_feed


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
        self._busy0 = self.npr.sim_wall_s
        self._fab: Any = None                 # the network's compiled fabric while in it
        self._fab_i = -1
        self._capture = self.npr.capture      # the NPR's capture setting outside the fabric

    @property
    def busy_s(self) -> float:               # type: ignore[override]
        """Wall time of the router's own work: ``NPR.sim_wall_s`` since it became a node."""
        return self.npr.sim_wall_s - self._busy0

    def port_rate(self, port: int) -> int:
        return self.npr.ports[port].rate_bps

    # ------------------------------------------------------------------ the compiled fabric
    def fabric_eligible(self) -> bool:
        """Can the compiled fabric drive it: the C engine, no NIC front-end (its
        classifier runs in Python), no scheduled down time (checked in Python)?"""
        return self.npr.engine.name == "c" and self.npr.nic is None and not self.down._t

    def join_fabric(self, fab: Any) -> int:
        """Become a node of the fabric; returns its index."""
        if self._in_frames:
            self._feed()                      # arrivals of the last window before the fabric
        self._fab = fab
        self._fab_i = i = fab.add(self.npr.m, stop_on_host=self.npr.host_handler is not None)
        self.npr.tx_sink = None               # the fabric's transmit hook takes every frame
        self._capture = self.npr.capture
        if self.npr.keep_records == 0:        # no kept frame, no sink: the bytes are not needed
            self.npr.set_capture(False)
        self.npr.watch_timers(lambda c: fab.set_timer(i, c))
        return i

    def leave_fabric(self, now: float) -> None:
        """Take the fabric's counts into the ledger and drive the NPR on its own again."""
        fab, i = self._fab, self._fab_i
        fed, sent = fab.node_counts(i)
        self.fed += fed
        self.ledger.received += fed
        self.ledger.sent += sent
        self.npr.watch_timers(None)
        self.npr.flush_outputs()              # records kept since the last drain (tx_sink unset)
        self.npr.set_capture(self._capture)
        self.npr.tx_sink = self._tx
        self._fab, self._fab_i = None, -1
        self.now = now

    # ------------------------------------------------------------------ messages
    def deliver(self, port: int, t_first: float, t_last: float, frame: bytes) -> None:
        self.ledger.received += 1
        if self.down._t and self.down.at(t_first):
            self.ledger.drop("node_down")
            return
        fab = self._fab
        if fab is not None:
            if _fab_feed(fab.ptr, self._fab_i, port, t_first, frame, len(frame)) < 0:
                fab.raise_error()
            self.fed += 1
            return
        self._in_frames.append(frame)
        self._in_ports.append(port)
        self._in_t.append(t_first)

    def call_at(self, t_ns: float, fn: Callable[[], None]) -> None:
        self.npr.call_at(t_ns, fn)

    def advance(self, until_ns: float) -> None:
        if self._in_frames:
            self._feed()
        self.npr.run(until_ns=until_ns)
        self.now = until_ns

    def fabric_output(self, port: int, t_start: float) -> bool:
        """A frame the fabric staged for ``port`` (first bit at ``t_start``): does it
        leave on the port's link (counted sent) or is it dropped here?"""
        if self.down._t and self.down.at(t_start):
            self.ledger.drop("node_down")
            return False
        if not self.rate[port]:
            self.ledger.drop("port_unconnected")
            return False
        self.ledger.sent += 1
        return True

    def _feed(self) -> None:
        """Offer the window's arrivals (per port in time order, as links deliver
        them) in one call: ``NPR.feed_arrays`` with first-bit times rounded to
        cycles by np_model.timebase's rule (up, tolerant of float noise)."""
        f = self.npr.f_me
        frames = self._in_frames
        cyc = [max(math.ceil(t * f / 1e9 - 1e-6), 0) for t in self._in_t]
        lens = [len(x) for x in frames]
        offs = [0] * len(lens)
        for i in range(1, len(lens)):
            offs[i] = offs[i - 1] + lens[i - 1]
        self.npr.feed_arrays(np.array(cyc, dtype=np.uint64), np.array(self._in_ports, dtype=np.uint8),
                             np.array(lens, dtype=np.uint32), np.array(offs, dtype=np.uint64),
                             np.frombuffer(b"".join(frames), dtype=np.uint8))
        self.fed += len(frames)
        self._in_frames, self._in_ports, self._in_t = [], [], []

    def _tx(self, batch: Any) -> None:
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

    def settle(self) -> Ledger:
        # Finish the current instant: a slow-path timer that fired at the window bound
        # may have queued an injection the engine takes at the next run; the NPR's
        # account counts it in flight but not yet injected until then.
        self.npr.run(until_ns=self.now)
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
        # Held: packets inside the NPR by its counters (its scan of buffers, c.in_flight, counts a
        # frame twice while Rx moves it from RBUF to its buffer, so it is exact only at rest; see
        # npr_account), frames offered but not yet received by its MSF, and this window's arrivals.
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        led.held = inside + (self.fed - c.arrived) + len(self._in_frames)
        return led

    def stats(self) -> dict[str, Any]:
        st = self.router.stats()
        st["kind"] = self.kind
        st["ledger"] = self.settle().as_dict()
        st["npr_account"] = self.npr_account()
        return st

    def npr_account(self) -> dict[str, Any]:
        """The NPR's own conservation check (host.router / np_model): its scan of
        buffers against its counters. ``at_rest``: nothing inside, where the scan is
        exact; in flight, a frame moving from RBUF to its buffer is scanned twice."""
        c = self.npr.conservation()
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        return {"ok": c.ok, "at_rest": inside == 0, "scanned_in_flight": c.in_flight, "counted_in_flight": inside,
                "double_ends": c.double_ends, "account": str(c)}
