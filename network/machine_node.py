"""What a network node built on an NP assembly (np_model.assemblies.base.
Assembly: an NPR, an SPP line card, an NPE) does behind the message
interface, whichever assembly it is (network.router, network.assembly_node).

Frames arriving on a link are offered to the assembly at their first-bit
time (times rounded to cycles as ``Assembly.send`` does); the assembly runs
to each window bound; what it transmits leaves on the port's link at its
first-bit time. The assembly reports a frame when its last bit has left, so
a frame may reach the next machine after its first bit was due there: the NP
core accepts it as long as its reception is not over (np_model/core
np_feed), which conservative synchronisation guarantees when the link rate
equals the ports' rate (network.topology checks it).

Two ways to drive it, with identical results:

* on its own (``advance``): ``Assembly.feed_arrays`` with the window's
  arrivals, ``Assembly.run(until_ns=)``, transmitted frames back through
  ``Assembly.tx_sink``;
* in the network's compiled fabric (``join_fabric``; np_model.engine.fabric,
  used for assemblies on the compiled engine without a NIC front-end or a
  down schedule): the fabric runs it with the other fabric machines in one
  call per window and carries its links that have neither loss draws nor
  down times (network.sim hands frames to and from the nodes at their other
  ends); frames it sends on any other link come back staged and pass
  ``fabric_output`` (ledger, unconnected ports), frames such a link brings
  are offered at once (``deliver``); a machine the fabric stops before the
  bound (a host packet, a host timer, records to take) is finished by
  ``fabric_finish``.

Its own work (``busy_s``, network.sim) is ``Assembly.sim_wall_s``: the
engine's event loop (timed inside the core) and the host handler's and host
timers' callbacks.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from np_model.core import lib

from .node import Node

__all__ = ["MachineNode"]

_fab_feed = lib.np_fab_feed


class MachineNode(Node):
    """An NP assembly as a network node (see module doc); ``asm`` is the assembly."""

    def __init__(self, name: str, asm: Any):
        super().__init__(name, len(asm.ports))
        self.asm = asm
        asm.tx_sink = self._tx
        self._ns_per_cycle = 1e9 / asm.f_me
        self._in_frames: list[bytes] = []
        self._in_ports: list[int] = []
        self._in_t: list[float] = []
        self.fed = 0
        self._busy0 = asm.sim_wall_s
        self._fab: Any = None                 # the network's compiled fabric while in it
        self._fab_i = -1
        self._capture = asm.capture           # the assembly's capture setting outside the fabric

    @property
    def busy_s(self) -> float:               # type: ignore[override]
        """Wall time of the node's own work: ``Assembly.sim_wall_s`` since it became a node."""
        return self.asm.sim_wall_s - self._busy0

    def port_rate(self, port: int) -> int:
        return self.asm.ports[port].rate_bps

    # ------------------------------------------------------------------ the compiled fabric
    def fabric_eligible(self) -> bool:
        """Can the compiled fabric drive it: the C engine, no NIC front-end (its
        classifier runs in Python), no scheduled down time (checked in Python)?"""
        return self.asm.engine.name == "c" and self.asm.nic is None and not self.down._t

    def join_fabric(self, fab: Any) -> int:
        """Become a node of the fabric; returns its index."""
        asm = self.asm
        if self._in_frames:
            self._feed()                      # arrivals of the last window before the fabric
        self._fab = fab
        self._fab_i = i = fab.add(asm.m, stop_on_host=asm.host_handler is not None)
        asm.tx_sink = None                    # the fabric's transmit hook takes every frame
        self._capture = asm.capture
        if asm.keep_records == 0:             # no kept frame, no sink: the bytes are not needed
            asm.set_capture(False)
        asm.watch_timers(lambda c: fab.set_timer(i, c))
        return i

    def leave_fabric(self, now: float) -> None:
        """Take the fabric's counts into the ledger and drive the assembly on its own again."""
        fab, i, asm = self._fab, self._fab_i, self.asm
        fed, sent = fab.node_counts(i)
        self.fed += fed
        self.ledger.received += fed
        self.ledger.sent += sent
        asm.watch_timers(None)
        asm.flush_outputs()                   # records kept since the last drain (tx_sink unset)
        asm.set_capture(self._capture)
        asm.tx_sink = self._tx
        self._fab, self._fab_i = None, -1
        self.now = now

    def fabric_finish(self, until_ns: float, rc: int) -> None:
        """The fabric stopped the machine before ``until_ns`` with np_run's code ``rc``:
        finish its window (``Assembly.finish_run``)."""
        self.asm.finish_run(until_ns, rc)

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
        self.asm.call_at(t_ns, fn)

    def advance(self, until_ns: float) -> None:
        if self._in_frames:
            self._feed()
        self.asm.run(until_ns=until_ns)
        self.now = until_ns

    def _feed(self) -> None:
        """Offer the window's arrivals (per port in time order, as links deliver
        them) in one call: ``Assembly.feed_arrays`` with first-bit times rounded to
        cycles by np_model.timebase's rule (up, tolerant of float noise)."""
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
