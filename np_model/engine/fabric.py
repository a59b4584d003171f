"""Fabric: machines on the compiled engine joined by point-to-point links,
advanced one synchronisation window per call (np_model/core/fabric.c).

A network under conservative synchronisation (network.sim) runs every node
to a window bound and then carries the frames each sent. For compiled
machines the fabric does both in one call: ``run(until_ns)`` runs every
machine to the bound and carries the frames sent on fabric links. A fabric
link has a machine at one end at least; the other end may be *external*
(a node the caller runs, numbered by the caller: ``-1 - ext``): frames for
it are staged with their arrival times (kind 2: ``np_fab_dl_t`` records one
after another in an arena, ``delivery_arena``), frames from it enter with
``send``, or several at once as records (``send_box``; np_fab_step sends
them and then runs). Frames a machine sent on a port on no fabric
link are staged (kind 0), as are copies of a captured link's frames (kind
1); the caller reads them with ``deliveries`` and ``staged`` (the network's
loop reads the arena and the C arrays itself: np_model/core/npcore_api.h).
A machine
that needs its caller before the bound (a host timer, a packet for the
host, outputs to take) is stopped there and reported; the caller finishes
its window (``Assembly.finish_run``) and calls ``carry``.

The fabric sets a transmit hook on each machine; ``close`` removes it (and
must be called before the machines go away).
"""
from __future__ import annotations

import struct
from typing import Any, Iterator

from ..core import CoreError, ffi, lib
from .cengine import FOREVER
from .machine import Machine

__all__ = ["Fabric", "StagedFrame", "Delivery", "DL_HEADER", "SEND_HEADER"]

#: (kind, port, t_start cycles, t_end cycles, bytes, link, direction, lost to the MTU)
StagedFrame = tuple[int, int, int, int, bytes, int, int, bool]
#: (external end, its port, first bit ns, last bit ns, bytes)
Delivery = tuple[int, int, float, float, bytes]
#: np_fab_dl_t, the header of a delivery: (last bit ns, its number on the port, first bit ns, the
#: frame's start and end offsets in the arena, the next record's offset, port, external end);
#: the frame follows it, padded to 8 bytes (npcore_api.h)
DL_HEADER = struct.Struct("<dQdQQQH2xi")
assert DL_HEADER.size == ffi.sizeof("np_fab_dl_t")
#: the header of a record for ``send_box`` / np_fab_send_box: (link, direction, first bit out ns,
#: last bit out ns, length); the frame follows it (npcore_api.h)
SEND_HEADER = struct.Struct("<iiddI")


class Fabric:
    """See the module doc. Nodes and links are numbered in the order added."""

    def __init__(self) -> None:
        p = lib.np_fab_new()
        if p == ffi.NULL:
            raise MemoryError("could not allocate the fabric")
        self.ptr = p
        self.machines: list[Machine] = []       # kept alive while the fabric refers to them
        self._recs = ffi.new("np_fab_rec_t **")
        self._data = ffi.new("char **")
        self._c = ffi.new("uint64_t[3]")
        self.timers = self.rc = self.nstaged = ffi.NULL
        #: [frames for external ends since the last run, their bytes, arena generation, arena bytes,
        #: machines the last run stopped early] (np_fab_state)
        self.state = lib.np_fab_state(p)
        self._dl_gen = 0
        self._dl_buf: Any = None

    def _check(self, rc: int) -> int:
        if rc < 0:
            self.raise_error()
        return rc

    def raise_error(self) -> None:
        """Raise the fabric's last error (a call returned -1)."""
        raise CoreError(ffi.string(lib.np_fab_error(self.ptr)).decode())

    def _arrays(self) -> None:
        # the per-node arrays move when nodes are added
        self.timers = lib.np_fab_timers(self.ptr)
        self.rc = lib.np_fab_rc(self.ptr)
        self.nstaged = lib.np_fab_nstaged(self.ptr)

    def add(self, machine: Machine, *, stop_on_host: bool) -> int:
        """Add a started machine; returns its node index."""
        i = self._check(lib.np_fab_add(self.ptr, machine.ptr, lib.NP_STOP_HOST if stop_on_host else 0))
        self.machines.append(machine)
        self._arrays()
        return i

    def link(self, a: int, a_port: int, b: int, b_port: int, *, delay_ns: float, mtu: int, capture: bool) -> int:
        """Join node ``a``'s port to node ``b``'s (``-1 - ext``: an external end);
        returns the link index (direction 0: from ``a``)."""
        return self._check(lib.np_fab_link(self.ptr, a, a_port, b, b_port, float(delay_ns), int(mtu),
                                           1 if capture else 0))

    def set_timer(self, node: int, cycle: int) -> None:
        """The cycle of node ``node``'s next host timer (FOREVER: none)."""
        self.timers[node] = min(int(cycle), FOREVER)

    def run(self, until_ns: float) -> int:
        """Run every machine to ``until_ns`` and carry the fabric links' frames;
        returns how many machines stopped early (``rc[i] >= 0``: np_run's code)."""
        return self._check(lib.np_fab_run(self.ptr, until_ns))

    def carry(self) -> None:
        """Offer the frames sent since the last carry to the far ends of their links."""
        self._check(lib.np_fab_carry(self.ptr))

    def send(self, link: int, direction: int, t_start_ns: float, frame: bytes) -> bool:
        """A frame the external end of ``link`` sent (first bit at ``t_start_ns``);
        False if the link lost it to its MTU."""
        return not self._check(lib.np_fab_send(self.ptr, link, direction, t_start_ns, frame, len(frame)))

    def send_box(self, records: bytes) -> int:
        """``send`` for frames packed as ``SEND_HEADER`` records, each followed by
        its bytes, in order; returns how many the links lost to their MTU."""
        return self._check(lib.np_fab_send_box(self.ptr, records, len(records)))

    def feed(self, node: int, port: int, t_first_ns: float, frame: bytes) -> None:
        """Offer a frame arriving from outside the fabric (first bit at ``t_first_ns``)."""
        self._check(lib.np_fab_feed(self.ptr, node, port, t_first_ns, frame, len(frame)))

    def staged(self, node: int) -> Iterator[StagedFrame]:
        """Frames node ``node`` staged since the last ``run`` (kinds 0, 1), in the order sent."""
        n = lib.np_fab_staged(self.ptr, node, self._recs, self._data)
        recs, data, unpack = self._recs[0], self._data[0], ffi.unpack
        for i in range(n):
            r = recs[i]
            yield r.kind, r.port, r.t_start, r.t_end, unpack(data + r.off, r.len), r.link, r.dir, bool(r.lost)

    def set_arrival_base(self, link: int, direction: int, base: int) -> None:
        """Number the frames link ``link`` passes in ``direction`` to its external
        end from ``base + 1`` on (``delivery_arena``'s ``seq``)."""
        self._check(lib.np_fab_link_base(self.ptr, link, direction, base))

    def delivery_arena(self) -> Any:
        """The frames for external ends since the last ``run`` as a buffer of
        ``np_fab_dl_t`` records (``DL_HEADER``, then the frame padded to 8 bytes),
        ``state[0]`` of them in ``state[1]`` bytes: the same buffer object
        as long as the arena has not moved (``state[2]``, its generation)."""
        st = self.state
        if st[2] != self._dl_gen:
            self._dl_gen = st[2]
            self._dl_buf = ffi.buffer(lib.np_fab_deliveries(self.ptr), st[3])
        return self._dl_buf

    def deliveries(self) -> Iterator[Delivery]:
        """Frames for external ends since the last ``run`` (kind 2), in the order sent."""
        buf = self.delivery_arena()
        off, hdr = 0, DL_HEADER.unpack_from
        for _ in range(self.state[0]):
            t_last, _seq, t_first, a, b, off, port, ext = hdr(buf, off)
            yield ext, port, t_first, t_last, buf[a:b]

    def node_counts(self, node: int) -> tuple[int, int]:
        """(frames the fabric offered to the node, frames the node sent on fabric links)."""
        c = self._c
        lib.np_fab_node_counts(self.ptr, node, c, c + 1)
        return int(c[0]), int(c[1])

    def link_counts(self, link: int, direction: int) -> tuple[int, int, int]:
        """(frames received from the sender, passed to the far end, lost to the MTU)."""
        c = self._c
        lib.np_fab_link_counts(self.ptr, link, direction, c, c + 1, c + 2)
        return int(c[0]), int(c[1]), int(c[2])

    def close(self) -> None:
        """Remove the machines' transmit hooks and free the fabric (idempotent)."""
        if self.ptr is not None:
            lib.np_fab_free(self.ptr)
            self.ptr = None
            self.timers = self.rc = self.nstaged = self.state = ffi.NULL
            self._dl_buf = None
