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

NP assemblies on the compiled engine (NPRs, SPP line cards and NPEs,
network.machine_node; without a NIC front-end or a down schedule) run in a
compiled fabric (np_model.engine.fabric): one call per window runs them all
to the bound and carries every link with such a machine at an end and
neither loss draws nor down times -- to another fabric machine in C; to
another node as records in one arena per window, which this loop reads
through one buffer, pushing each frame's arrival straight into an
EventNode's event heap (numbered in C as ``EventNode.deliver`` numbers
them) or calling the node's ``deliver``. An EventNode whose links all run
in the fabric (and are not captured) transmits into a box of records
(``EventNode._fab_box``; neighbours in node order share one) that goes into
the fabric in one call -- the last box with the fabric's next run, as
nothing else reaches the fabric in between; another node's frames go in
with one C call each. Captures of fabric links are written here from staged
copies; all other links are carried here as above. The results are the
same as with every node and link driven from here (``compiled=False``;
tests/network/test_net_fabric.py and tests/spp/test_spp_fabric.py compare
them); ``compiled_last`` names what ran compiled.

Synchronisation overhead is the share of the run's wall time spent outside
the nodes' own work (``Node.busy_s``): a router's (or any NP assembly's) is
its engine's event loop (np_run, timed inside the core) and its host
handler's and timers' callbacks, a host's or switch's its event processing
(``EventNode.run_due``: popping its events, receiving, building and
transmitting frames -- into its box too). Everything else counts as
overhead: the window loop, links, messages, captures, offering frames to
machines and taking what they sent, reading the fabric's deliveries into
the nodes' event heaps, the fabric's carrying of frames (its transmit
hook's time is taken out of the machine's; docs/network_sync.md).
"""
from __future__ import annotations

import heapq
import random
import time
from typing import Any, Callable

from np_model.core import CoreError, ffi, lib
from np_model.engine.fabric import DL_HEADER, SEND_HEADER, Fabric

from .capture import LinkCapture
from .ledger import Ledger, NetworkConservation
from .node import EventNode, Node, Schedule
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

    def __init__(self, seed: int = 1, *, compiled: bool = True):
        self.seed = seed
        #: drive eligible routers and the links between them in the compiled fabric
        self.compiled = compiled
        self._fabric: Fabric | None = None
        self._fabric_stale = False
        #: the routers and links the compiled fabric carried in the last run (names)
        self.compiled_last: dict[str, list[str]] = {"nodes": [], "links": []}
        self._staged_ptrs = (ffi.new("np_fab_rec_t **"), ffi.new("char **"))
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
        self._fabric_stale = True             # the link's frames must now cross here
        self.event_log.append({"t_ns": at_ns, "link": name, "action": "up" if up else "down"})

    def set_node(self, name: str, at_ns: float, up: bool) -> None:
        """Take a node down (or up) at a time: while down it neither receives
        nor sends (frames dropped as ``node_down``); its state is kept."""
        self._future(at_ns, f"node {name} {'up' if up else 'down'}")
        if name not in self.nodes:
            raise SimError(f"no node named {name!r}; nodes: {', '.join(self.nodes)}")
        node = self.nodes[name]
        node.down.set(at_ns, not up)
        self._fabric_stale = True
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
        self._compiled_seen: tuple[set, set] = (set(), set())
        t0 = time.perf_counter()
        pending = b""                            # the last box group's records, for the fabric's next run
        fab = None
        k = done = 0
        start = now = self.now
        try:
            fab_step, fab_send, fab_send_box, push = lib.np_fab_step, lib.np_fab_send, lib.np_fab_send_box, heapq.heappush
            join, hdr = b"".join, DL_HEADER.unpack_from
            self._fabric_stale = True
            while now < end:
                if self._fabric_stale:                # (re)build the fabric: a down schedule changed
                    if pending and fab is not None:
                        fab.send_box(pending)
                        pending = b""
                    self._fabric_close()
                    stepped, fab, carriers = self._fabric_open(nodes)
                    # EventNodes (skipped while idle) apart from the nodes always advanced: the order
                    # in which nodes advance within a window does not matter (they share nothing)
                    evented = [(n, h) for n, h in stepped if h is not None]
                    driven = [n for n, h in stepped if h is None]
                    if fab is not None:
                        fptr, st, staged = fab.ptr, fab.state, fab.nstaged
                        ext_heap, ext_deliver = self._fabric_ext_heap, self._fabric_ext
                        dlbuf = fab.delivery_arena()
                        all_heaps = None not in ext_heap
                # window bounds are multiples of w from the run's start (no drift from repeated sums)
                k += 1
                tn = start + k * w
                if tn > end:
                    tn = end
                for node in driven:
                    node.advance(tn)
                for node, heap in evented:
                    if heap and heap[0][0] < tn:       # an event due
                        node.run_due(tn)
                    else:                              # idle: what its advance would do
                        node.now = tn
                if fab is not None:
                    # last window's records from boxed nodes, then the run; the frames for
                    # nodes outside the fabric, or -2: a machine stopped early or the arena moved
                    nd = fab_step(fptr, pending, len(pending), tn)
                    pending = b""
                    if nd < 0:
                        if nd == -1:
                            fab.raise_error()
                        if st[4]:
                            self._fabric_finish(fab, tn, st[4])
                        dlbuf = fab.delivery_arena()
                        nd = st[0]
                    if nd:                            # np_fab_dl_t records in the arena
                        off = 0
                        if all_heaps:                  # EventNode.deliver's arrival events, numbered in C
                            for _ in range(nd):
                                t_last, seq, t_first, a, b, off, port, e = hdr(dlbuf, off)
                                push(ext_heap[e], (t_last, 0, port, seq, dlbuf[a:b]))
                        else:
                            for _ in range(nd):
                                t_last, seq, t_first, a, b, off, port, e = hdr(dlbuf, off)
                                h = ext_heap[e]
                                if h is not None:
                                    push(h, (t_last, 0, port, seq, dlbuf[a:b]))
                                else:
                                    ext_deliver[e](port, t_first, t_last, dlbuf[a:b])
                for node, plinks, fi in carriers:
                    if fi <= -3:                       # boxed nodes (see _fabric_open): their records at once
                        box = plinks
                        if box:
                            if fi == -4:               # the last carrier: nothing else reaches the fabric
                                pending = join(box)    # before its next run, which takes them first
                            else:
                                data = join(box)
                                if fab_send_box(fptr, data, len(data)) < 0:
                                    fab.raise_error()
                            box.clear()
                        continue
                    if fi >= 0 and staged[fi]:
                        self._fabric_staged(fab, fi, node, plinks)
                    if fi == -2:
                        out = node.take_output()
                    else:                              # Node.take_output, inline
                        out = node._out
                        if not out:
                            continue
                        node._out = []
                    for port, ts, te, frame in out:
                        lk = plinks[port]
                        if lk is None:
                            node.ledger.drop("port_unconnected")
                            node.ledger.sent -= 1
                        elif lk[0] is None:            # into the fabric (link lk[1], direction lk[2])
                            if fab_send(fptr, lk[1], lk[2], ts, frame, len(frame)) < 0:
                                fab.raise_error()
                        else:
                            lk[0](lk[1], ts, te, frame)
                now = self.now = tn
                done = k
                if progress is not None:
                    progress(tn)
            if pending:
                fab.send_box(pending)
                pending = b""
        finally:
            if pending and self._fabric is not None:     # an error ended the run: the frames still go
                try:
                    self._fabric.send_box(pending)
                except CoreError:
                    pass
            self.windows += done
            self._fabric_close()
            self.wall_s += time.perf_counter() - t0
            seen_n, seen_l = self._compiled_seen
            self.compiled_last = {"nodes": [n.name for n in nodes if n in seen_n],
                                  "links": [x.name for x in self.links if x in seen_l]}

    # -- the compiled fabric
    def _fabric_open(self, nodes: list[Node]) -> tuple[list[Node], Fabric | None, list[tuple[Node, list, int]]]:
        """Put the eligible routers in a fabric, with every link that has one at
        an end and neither loss draws nor down times (np_model.engine.fabric).
        Returns the nodes advanced one by one (with an EventNode's heap, to skip it
        while idle), the fabric, and the nodes whose
        outputs cross here, in node order (a link's capture keeps its order),
        each with its ports' (carry function, direction) -- or (None, fabric link,
        direction): into the fabric with ``np_fab_send`` -- and its fabric index
        (-1: not in the fabric, outputs in ``Node._out``; -2: its own ``take_output``)."""
        self._fabric_stale = False
        members = [n for n in nodes if self.compiled and getattr(n, "fabric_eligible", None) and n.fabric_eligible()]
        send: dict[tuple[Node, int], tuple[Callable, int]] = {}

        def plinks(n: Node) -> list:
            out = []
            for p in range(n.n_ports):
                lk = self._port_link.get((n.name, p))
                out.append(None if lk is None else send.get((n, p)) or (lk[0].carry, lk[1]))
            return out

        def kind(n: Node) -> int:             # -1: outputs in Node._out; -2: its own take_output
            return -1 if type(n).take_output is Node.take_output else -2
        if not members:
            return [(n, self._heap_of(n)) for n in nodes], None, [(n, plinks(n), kind(n)) for n in nodes]
        fab = Fabric()
        self._fabric = fab
        self._fabric_nodes = members
        self._fabric_links: list[Link] = []
        self._fabric_ext: list[Callable] = []      # external end -> its node's deliver
        self._fabric_ext_heap: list[list | None] = []   # -> its EventNode's heap (deliver not overridden)
        self._fabric_arrivals: list[tuple[int, int, EventNode, int, int]] = []  # (link, dir, node, port, base)
        idx = {n: n.join_fabric(fab) for n in members}
        ext: dict[Node, int] = {}
        staging: set[Node] = set()
        for lk in self.links:
            if lk.loss or lk.down._t or not (lk.ends[0][0] in idx or lk.ends[1][0] in idx):
                staging.update(n for n, _ in lk.ends if n in idx)
                continue
            ends = []
            for n, p in lk.ends:
                if n in idx:
                    ends.append(idx[n])
                else:
                    if n not in ext:
                        ext[n] = len(self._fabric_ext)
                        self._fabric_ext.append(n.deliver)
                        self._fabric_ext_heap.append(self._arrival_heap(n))
                    ends.append(-1 - ext[n])
            li = fab.link(ends[0], lk.ends[0][1], ends[1], lk.ends[1][1], delay_ns=lk.delay_ns, mtu=lk.mtu,
                          capture=lk.capture is not None)
            for e, (n, p) in enumerate(lk.ends):        # frames to an EventNode's port continue its numbering
                if n not in idx and self._fabric_ext_heap[ext[n]] is not None:
                    fab.set_arrival_base(li, 1 - e, n._arr[p])
                    self._fabric_arrivals.append((li, 1 - e, n, p, n._arr[p]))
            self._fabric_links.append(lk)
            for d, (n, p) in enumerate(lk.ends):
                if n in idx:
                    if lk.capture is not None:
                        staging.add(n)
                elif lk.capture is None:              # the loop calls np_fab_send itself
                    send[(n, p)] = (None, li, d)
                else:
                    send[(n, p)] = (self._fabric_sender(fab, li, lk), d)
        for n in members:                          # ports on no link: frames dropped here
            if any((n.name, p) not in self._port_link for p in range(n.n_ports)):
                staging.add(n)
        stepped = [(n, self._heap_of(n)) for n in nodes if n not in idx]
        # EventNodes whose links all run in the fabric transmit into a box (np_fab_send_box records);
        # boxed nodes next to each other in node order share one box, handed over in one call
        self._fabric_boxed: list[EventNode] = []
        carriers: list[tuple[Any, Any, int]] = []
        for n in nodes:
            if n in idx and n not in staging:
                continue
            if n not in idx and self._box_accepts(n, send):
                if not carriers or carriers[-1][2] != -3:
                    carriers.append((None, [], -3))
                self._box_open(n, send, carriers[-1][1])
                self._fabric_boxed.append(n)
            else:
                carriers.append((n, plinks(n), idx[n] if n in idx else kind(n)))
        if carriers and carriers[-1][2] == -3:     # the last: its records go with the next run
            carriers[-1] = (None, carriers[-1][1], -4)
        self._compiled_seen[0].update(members)
        self._compiled_seen[1].update(self._fabric_links)
        return stepped, fab, carriers

    def _box_accepts(self, n: Node, send: dict) -> bool:
        """Is ``n`` an EventNode (with its own ``transmit``) whose links all run in the fabric, uncaptured?"""
        if not isinstance(n, EventNode) or type(n).transmit is not EventNode.transmit:
            return False
        ports = [p for p in range(n.n_ports) if (n.name, p) in self._port_link]
        return bool(ports) and all((send.get((n, p)) or (1,))[0] is None for p in ports)

    def _box_open(self, n: EventNode, send: dict, box: list[bytes]) -> None:
        """``n`` transmits into ``box`` (``EventNode._fab_box``: np_fab_send_box records,
        handed over in one call per window) from now on; frames it queued before go there first."""
        pfx: list[bytes | None] = [None] * n.n_ports
        for p in range(n.n_ports):
            if (n, p) in send:
                _, li, d = send[(n, p)]
                pfx[p] = SEND_HEADER.pack(li, d, 0.0, 0.0, 0)[:8]
        for port, ts, te, frame in n._out:
            _, li, d = send[(n, port)]
            box.append(SEND_HEADER.pack(li, d, ts, te, len(frame)))
            box.append(frame)
        n._out = []
        n._fab_pfx, n._fab_box = pfx, box

    @staticmethod
    def _box_close(nodes: list[EventNode]) -> None:
        """Back to ``_out``: records not handed over yet (an error ended the window) return
        to the nodes that sent them."""
        boxes = {id(n._fab_box): n._fab_box for n in nodes if n._fab_box}
        for n in nodes:
            n._fab_box = None
        for box in boxes.values():
            for i in range(0, len(box), 2):          # a (link, direction) prefix names one node's port
                sender = next(x for x in nodes if box[i][:8] in x._fab_pfx)
                _, _, ts, te, _ = SEND_HEADER.unpack(box[i])
                sender._out.append((sender._fab_pfx.index(box[i][:8]), ts, te, box[i + 1]))
            box.clear()

    @staticmethod
    def _arrival_heap(n: Node) -> list | None:
        """The heap the window loop pushes a fabric frame's arrival event into
        (EventNode.deliver's, numbered by the fabric: ``_fabric_arrivals``), or None:
        call the node's ``deliver``."""
        return n._heap if isinstance(n, EventNode) and type(n).deliver is EventNode.deliver else None

    @staticmethod
    def _heap_of(n: Node) -> list | None:
        """An EventNode's event heap (its ``advance`` does nothing but set the time
        while no event is due before the bound), or None: always call ``advance``."""
        return n._heap if isinstance(n, EventNode) and type(n).advance is EventNode.advance else None

    @staticmethod
    def _fabric_sender(fab: Fabric, li: int, lk: Link) -> Callable[[int, float, float, bytes], None]:
        """``Link.carry`` for a frame from the external end of fabric link ``li``."""
        send, ptr, cap = lib.np_fab_send, fab.ptr, lk.capture

        def carry(direction: int, t_start: float, t_end: float, frame: bytes) -> None:
            if send(ptr, li, direction, t_start, frame, len(frame)) < 0:
                fab.raise_error()

        def carry_captured(direction: int, t_start: float, t_end: float, frame: bytes) -> None:
            lost = send(ptr, li, direction, t_start, frame, len(frame))
            if lost < 0:
                fab.raise_error()
            cap.write(direction, t_start, frame, "lost: mtu_exceeded" if lost else None)
        return carry if cap is None else carry_captured

    def _fabric_staged(self, fab: Fabric, fi: int, node: Any, plinks: list) -> None:
        """Frames fabric node ``fi`` staged this window, in the order sent."""
        pr, pd = self._staged_ptrs
        n = lib.np_fab_staged(fab.ptr, fi, pr, pd)
        recs, data = pr[0], pd[0]
        k, unpack = node._ns_per_cycle, ffi.unpack
        for j in range(n):
            r = recs[j]
            frame = unpack(data + r.off, r.len)
            if r.kind == 1:                        # a copy of a captured fabric link's frame
                self._fabric_links[r.link].capture.write(r.dir, r.t_start * k, frame,
                                                         "lost: mtu_exceeded" if r.lost else None)
            else:                                  # on a link carried here
                p, ts = r.port, r.t_start * k
                if node.fabric_output(p, ts):
                    lk = plinks[p]
                    lk[0](lk[1], ts, r.t_end * k, frame)

    def _fabric_finish(self, fab: Fabric, tn: float, n_att: int) -> None:
        """Routers the fabric stopped before ``tn`` finish their window here."""
        if n_att < 0:
            fab.raise_error()
        rc = fab.rc
        for i, node in enumerate(self._fabric_nodes):
            if rc[i] >= 0:
                node.fabric_finish(tn, rc[i])
        fab.carry()

    def _fabric_close(self) -> None:
        fab = self._fabric
        if fab is None:
            return
        try:
            for li, d, n, p, base in self._fabric_arrivals:   # what EventNode.deliver would have counted
                passed = fab.link_counts(li, d)[1]
                n.ledger.received += passed
                n._arr[p] = base + passed
            for i, lk in enumerate(self._fabric_links):
                for d in (0, 1):
                    received, sent, mtu_lost = fab.link_counts(i, d)
                    led = lk.ledgers[d]
                    led.received += received
                    led.sent += sent
                    if mtu_lost:
                        led.drop("mtu_exceeded", mtu_lost)
            self._box_close(self._fabric_boxed)
            for n in self._fabric_nodes:
                n.leave_fabric(self.now)
        finally:
            fab.close()
            self._fabric = None

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
