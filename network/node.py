"""What every node of the network is: the message interface.

Nodes share nothing but time-stamped frames: the coordinator (network.sim)
hands a node the frames that arrive on its ports (``deliver``: first-bit and
last-bit arrival times, ns, and the bytes), lets it run up to a window bound
(``advance``), and takes what it transmitted (``take_output``: port,
first-bit and last-bit departure times, bytes). A node could run in another
process behind this interface.

``EventNode`` is the base of the Python nodes (hosts, switches): an event
heap ordered by (time, arrivals before timers, port and arrival order, or
scheduling order) -- a key that does not depend on the window size -- and
one FIFO transmitter per port at the link's rate. While all its links run
in the network's compiled fabric, what it transmits goes into a box of
records for the fabric instead of ``take_output``'s list, and the frames
the fabric delivers are pushed into its heap by the window loop, as
``deliver`` would (network.sim).
"""
from __future__ import annotations

import bisect
import heapq
import struct
from collections import deque
from time import perf_counter
from typing import Any, Callable

from .ledger import Ledger
from .wire import wire_ns

__all__ = ["Node", "EventNode", "Schedule", "Output"]

_TIMES = struct.Struct("<ddI").pack          # the tail of np_model.engine.fabric.SEND_HEADER

#: (port, first bit out ns, last bit out ns incl. inter-frame gap, frame bytes)
Output = tuple[int, float, float, bytes]


class Schedule:
    """Down intervals of a node or link, from scheduled down/up events (ns)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, bool]] = []        # (time, down?) sorted
        self._t: list[float] = []
        self._down: list[bool] = []

    def set(self, t_ns: float, down: bool) -> None:
        self.events.append((float(t_ns), down))
        self.events.sort(key=lambda e: e[0])
        self._t = [e[0] for e in self.events]
        self._down = [e[1] for e in self.events]

    def at(self, t: float) -> bool:
        """Down at time t?"""
        if not self._t:
            return False
        i = bisect.bisect_right(self._t, t) - 1
        return i >= 0 and self._down[i]

    def during(self, t0: float, t1: float) -> bool:
        """Down at any time in [t0, t1]?"""
        if not self._t:
            return False
        if self.at(t0):
            return True
        i = bisect.bisect_right(self._t, t0)
        while i < len(self._t) and self._t[i] <= t1:
            if self._down[i]:
                return True
            i += 1
        return False


class Node:
    """Base of every node: name, ports, down schedule, ledger, output."""

    kind = "node"
    #: wall time (s) in the node's own work (see network.sim)
    busy_s: float = 0.0

    def __init__(self, name: str, n_ports: int):
        self.name = name
        self.n_ports = n_ports
        self.rate = [0.0] * n_ports           # b/s of the link on each port (0: unconnected)
        self.mtu = [0] * n_ports
        self.down = Schedule()
        self.ledger = Ledger(name)
        self.now = 0.0
        self._out: list[Output] = []

    def attach(self, port: int, rate_bps: float, mtu: int) -> None:
        self.rate[port] = float(rate_bps)
        self.mtu[port] = int(mtu)

    def deliver(self, port: int, t_first: float, t_last: float, frame: bytes) -> None:
        raise NotImplementedError

    def advance(self, until_ns: float) -> None:
        raise NotImplementedError

    def take_output(self) -> list[Output]:
        out = self._out
        if out:
            self._out = []
        return out

    def settle(self) -> Ledger:
        """The ledger with ``held`` brought up to date."""
        return self.ledger

    def stats(self) -> dict[str, Any]:
        return {"kind": self.kind, "ledger": self.settle().as_dict()}


class EventNode(Node):
    """A Python node driven by an event heap, with one FIFO transmitter per port.

    Args:
        tx_queue: frames that may wait for each port's transmitter; one more
            is dropped (``tx_queue_full``).
    """

    def __init__(self, name: str, n_ports: int, *, tx_queue: int = 1000):
        super().__init__(name, n_ports)
        self.busy_s = 0.0
        self._heap: list[tuple] = []
        self._seq = 0
        self._arr = [0] * n_ports
        self._busy = [0.0] * n_ports
        self._waiting: list[deque] = [deque() for _ in range(n_ports)]
        self.tx_queue = tx_queue
        #: while the node's links all run in the network's compiled fabric (network.sim): what it
        #: transmits, as np_fab_send_box records (a header per frame from ``_fab_pfx[port]``, then
        #: the frame), instead of ``_out``
        self._fab_box: list[bytes] | None = None
        self._fab_pfx: list[bytes | None] = []

    # -- time
    def schedule(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        """Call ``fn(*args)`` at simulated time ``t`` (ns)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(t, self.now), 1, self._seq, 0, fn, args))

    def deliver(self, port: int, t_first: float, t_last: float, frame: bytes) -> None:
        # an arrival is (t_last, 0, port, its number on the port, frame); a timer (t, 1, seq, 0, fn, args)
        self.ledger.received += 1
        a = self._arr
        n = a[port] = a[port] + 1
        heapq.heappush(self._heap, (t_last, 0, port, n, frame))

    def _arrive(self, port: int, frame: bytes) -> None:
        if self.down.at(self.now):
            self.ledger.drop("node_down")
            return
        self.receive(port, frame)

    def receive(self, port: int, frame: bytes) -> None:
        """A whole frame arrived on ``port`` at ``self.now``."""
        raise NotImplementedError

    def advance(self, until_ns: float) -> None:
        h = self._heap
        if h and h[0][0] < until_ns:
            self.run_due(until_ns)
        self.now = until_ns

    def run_due(self, until_ns: float) -> None:
        """``advance`` when an event is due before ``until_ns`` (network.sim reads
        ``_heap``: it skips an idle node and calls this for a busy one)."""
        t0 = perf_counter()
        h = self._heap
        pop = heapq.heappop
        arrive = self._arrive
        while h and h[0][0] < until_ns:
            ev = pop(h)
            self.now = ev[0]
            if ev[1]:
                ev[4](*ev[5])
            else:
                arrive(ev[2], ev[4])
        self.now = until_ns
        self.busy_s += perf_counter() - t0

    # -- transmit
    def transmit(self, port: int, frame: bytes) -> bool:
        """Queue ``frame`` for ``port``'s wire now; False if it was dropped."""
        t = self.now
        if not self.rate[port]:
            self.ledger.drop("port_unconnected")
            return False
        if self.down.at(t):
            self.ledger.drop("node_down")
            return False
        w = self._waiting[port]
        while w and w[0] <= t:
            w.popleft()
        if len(w) >= self.tx_queue:
            self.ledger.drop("tx_queue_full")
            return False
        start = self._busy[port] if self._busy[port] > t else t
        end = start + wire_ns(len(frame), self.rate[port])
        self._busy[port] = end
        if start > t:
            w.append(start)
        box = self._fab_box
        if box is None:
            self._out.append((port, start, end, frame))
        else:
            box.append(self._fab_pfx[port] + _TIMES(start, end, len(frame)))
            box.append(frame)
        self.ledger.sent += 1
        return True

    def settle(self) -> Ledger:
        self.ledger.held = sum(1 for ev in self._heap if ev[1] == 0)
        return self.ledger
