"""Links and the one simulated time base: conservative synchronisation.

Every node runs up to the next window bound; the frames it transmitted
cross their links as time-stamped messages and are handed to the far end
before the next window. The window is at most the smallest link delay, so
a frame sent in one window arrives (first bit) no earlier than the next
one: no node ever receives a frame in its past. Results do not depend on
the window size: nodes order simultaneous events by a key of their own
(network.node), links draw their losses from their own seeded streams in
frame order.

A link is full duplex, point to point: each direction has the link's rate
(the senders serialise at it), propagation delay, MTU (bytes after the
Ethernet header and its 802.1Q tag) and an optional seeded loss rate. A
frame is lost if the link is down at any time between its first bit
leaving and its last bit arriving (``link_down``), if it exceeds the MTU
(``mtu_exceeded``), or by the loss draw (``link_loss``).

Synchronisation overhead is what the wall clock spends outside the nodes'
own work (``Node.busy_s``: an NPR's ``run``, a host's or switch's event
processing): window loop, links, messages, captures, feeding and
collecting router frames.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from .capture import LinkCapture
from .ledger import Ledger, NetworkConservation
from .node import Node, Schedule
from .wire import l3_len

__all__ = ["Link", "Network", "MIN_DELAY_NS", "SimError"]

#: The smallest link delay (ns). Conservative synchronisation advances all
#: nodes in windows no longer than the smallest link delay (the lookahead):
#: a zero delay leaves no window to advance by, and windows much shorter
#: than the time a frame takes on the wire cost a run more in
#: synchronisation than in simulation. 100 ns is about 20 m of fibre.
MIN_DELAY_NS = 100.0


class SimError(ValueError):
    """A network that cannot be built or run as asked."""


class Link:
    """A full-duplex point-to-point link between (node, port) ends."""

    def __init__(self, name: str, index: int, a: tuple[Node, int], b: tuple[Node, int], *, rate_bps: float,
                 delay_ns: float, mtu: int = 1500, loss: float = 0.0, seed: int = 1):
        if not delay_ns >= MIN_DELAY_NS:
            raise SimError(f"link {name}: delay {delay_ns:g} ns is below the smallest allowed, {MIN_DELAY_NS:g} ns")
        if not 0.0 <= loss < 1.0:
            raise SimError(f"link {name}: loss must be in [0, 1), got {loss}")
        self.name, self.index = name, index
        self.ends = (a, b)
        self.rate_bps, self.delay_ns, self.mtu, self.loss = float(rate_bps), float(delay_ns), int(mtu), float(loss)
        self.down = Schedule()
        an, bn = f"{a[0].name}:{a[1]}", f"{b[0].name}:{b[1]}"
        self.end_names = (an, bn)
        self.ledgers = (Ledger(f"link {name} {an}->{bn}"), Ledger(f"link {name} {bn}->{an}"))
        self._rng = (random.Random(seed * 1_000_003 + 2 * index), random.Random(seed * 1_000_003 + 2 * index + 1))
        self.capture: LinkCapture | None = None
        a[0].attach(a[1], rate_bps, mtu)
        b[0].attach(b[1], rate_bps, mtu)

    def carry(self, direction: int, t_start: float, t_end: float, frame: bytes) -> None:
        """A frame left end ``direction`` (0: a, 1: b) at ``t_start``; pass it on or lose it."""
        led = self.ledgers[direction]
        led.received += 1
        d = self.delay_ns
        reason = None
        if self.down._t and self.down.during(t_start, t_end + d):
            reason = "link_down"
        elif l3_len(frame) > self.mtu:
            reason = "mtu_exceeded"
        elif self.loss and self._rng[direction].random() < self.loss:
            reason = "link_loss"
        if self.capture is not None:
            self.capture.write(direction, t_start, frame, f"lost: {reason}" if reason else None)
        if reason:
            led.drop(reason)
            return
        led.sent += 1
        node, port = self.ends[1 - direction]
        node.deliver(port, t_start + d, t_end + d, frame)

    def stats(self) -> dict[str, Any]:
        return {"ends": list(self.end_names), "rate_bps": self.rate_bps, "delay_ns": self.delay_ns, "mtu": self.mtu,
                "loss": self.loss, "directions": {led.place: led.as_dict() for led in self.ledgers}}


class Network:
    """Nodes, links and the window loop (see module doc)."""

    def __init__(self, seed: int = 1):
        self.seed = seed
        self.nodes: dict[str, Node] = {}
        self.aliases: dict[str, Any] = {}          # a name standing for several nodes (an SPP: network.spp)
        self.links: list[Link] = []
        self._port_link: dict[tuple[str, int], tuple[Link, int]] = {}
        self.now = 0.0
        self.wall_s = 0.0
        self.windows = 0
        self.event_log: list[dict[str, Any]] = []

    # -- building
    def add_node(self, node: Node) -> Node:
        if node.name in self.nodes:
            raise SimError(f"a node named {node.name!r} already exists")
        self.nodes[node.name] = node
        return node

    def add_link(self, a: str, a_port: int, b: str, b_port: int, *, name: str | None = None, rate_bps: float,
                 delay_ns: float, mtu: int = 1500, loss: float = 0.0) -> Link:
        ends = []
        for n, p in ((a, a_port), (b, b_port)):
            if n not in self.nodes:
                raise SimError(f"no node named {n!r}; nodes: {', '.join(self.nodes)}")
            node = self.nodes[n]
            if not 0 <= p < node.n_ports:
                raise SimError(f"{n} has no port {p} (0..{node.n_ports - 1})")
            if (n, p) in self._port_link:
                raise SimError(f"{n}:{p} is already on link {self._port_link[(n, p)][0].name}")
            ends.append((node, p))
        link = Link(name or f"{a}:{a_port}-{b}:{b_port}", len(self.links), ends[0], ends[1], rate_bps=rate_bps,
                    delay_ns=delay_ns, mtu=mtu, loss=loss, seed=self.seed)
        self.links.append(link)
        self._port_link[(a, a_port)] = (link, 0)
        self._port_link[(b, b_port)] = (link, 1)
        return link

    def link(self, name: str) -> Link:
        for x in self.links:
            if x.name == name:
                return x
        raise SimError(f"no link named {name!r}; links: {', '.join(x.name for x in self.links)}")

    @property
    def min_delay_ns(self) -> float:
        return min((x.delay_ns for x in self.links), default=1e6)

    # -- events
    def _future(self, t_ns: float, what: str) -> None:
        if t_ns < self.now:
            raise SimError(f"{what} at {t_ns:g} ns is in the past (now {self.now:g} ns)")

    def set_link(self, name: str, at_ns: float, up: bool) -> None:
        """Take a link down (or up) at a time."""
        self._future(at_ns, f"link {name} {'up' if up else 'down'}")
        self.link(name).down.set(at_ns, not up)
        self.event_log.append({"t_ns": at_ns, "link": name, "action": "up" if up else "down"})

    def set_node(self, name: str, at_ns: float, up: bool) -> None:
        """Take a node down (or up) at a time: while down it neither receives
        nor sends (frames dropped as ``node_down``); its state is kept."""
        self._future(at_ns, f"node {name} {'up' if up else 'down'}")
        if name not in self.nodes:
            raise SimError(f"no node named {name!r}; nodes: {', '.join(self.nodes)}")
        node = self.nodes[name]
        node.down.set(at_ns, not up)
        if hasattr(node, "on_down_change"):
            node.on_down_change(at_ns, not up)
        self.event_log.append({"t_ns": at_ns, "node": name, "action": "up" if up else "down"})

    def call_at(self, name: str, at_ns: float, fn: Callable[[], Any], what: str) -> None:
        """Run ``fn`` in node ``name``'s time at ``at_ns`` (a control-plane call);
        its result or error goes to the event log."""
        self._future(at_ns, what)
        node = self.nodes[name]
        rec: dict[str, Any] = {"t_ns": at_ns, "node": name, "action": what}
        self.event_log.append(rec)

        def run() -> None:
            try:
                res = fn()
                rec["result"] = res if isinstance(res, (int, float, str, bool, type(None))) else str(res)
            except Exception as ex:           # a rejected request is a result, not a crash
                rec["error"] = f"{type(ex).__name__}: {ex}"
        node.call_at(at_ns, run)

    # -- running
    def run(self, duration_ns: float | None = None, *, until_ns: float | None = None,
            window_ns: float | None = None, progress: Callable[[float], None] | None = None) -> None:
        """Advance every node to ``until_ns`` (or by ``duration_ns``) in windows
        of ``window_ns`` (default and maximum: the smallest link delay)."""
        if (duration_ns is None) == (until_ns is None):
            raise SimError("give exactly one of duration_ns and until_ns")
        end = self.now + duration_ns if until_ns is None else float(until_ns)
        if end < self.now:
            raise SimError(f"until {end:g} ns is before now ({self.now:g} ns)")
        w = self.min_delay_ns if window_ns is None else float(window_ns)
        if not 0 < w <= self.min_delay_ns:
            raise SimError(f"the window must be in (0, {self.min_delay_ns:g}] ns -- at most the smallest link "
                           f"delay, or a frame could arrive in a node's past -- got {w:g}")
        nodes = list(self.nodes.values())
        port_link = {(n, p): v for (name, p), v in self._port_link.items() for n in (self.nodes[name],)}
        t0 = time.perf_counter()
        k = 0
        start = self.now
        while self.now < end:
            # window bounds are multiples of w from the run's start (no drift from repeated sums)
            k += 1
            tn = min(start + k * w, end)
            for node in nodes:
                node.advance(tn)
            for node in nodes:
                out = node.take_output()
                for port, ts, te, frame in out:
                    lk = port_link.get((node, port))
                    if lk is None:
                        node.ledger.drop("port_unconnected")
                        node.ledger.sent -= 1
                        continue
                    lk[0].carry(lk[1], ts, te, frame)
            self.now = tn
            self.windows += 1
            if progress is not None:
                progress(tn)
        self.wall_s += time.perf_counter() - t0

    # -- results
    def conservation(self) -> NetworkConservation:
        return NetworkConservation.of((n.settle() for n in self.nodes.values()),
                                      (led for x in self.links for led in x.ledgers))

    def sync_overhead(self) -> float:
        """Fraction of the run's wall time spent outside the nodes' own work."""
        busy = sum(n.busy_s for n in self.nodes.values())
        return max(0.0, 1.0 - busy / self.wall_s) if self.wall_s else 0.0

    def close(self) -> None:
        for x in self.links:
            if x.capture is not None:
                x.capture.close()
