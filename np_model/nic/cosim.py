"""Cycle timing: the Verilated VMDq classifier clocked in the NP's simulated time.

With ``nic: {backend: rtl, timing: cycle}`` the router's receive side is::

    wire (per port) -> MAC receive buffer -> RTL s_axis | RTL | m_axis -> NIC-to-NP bus -> RBUF

- **Wires and MAC.** Each port's frames are serialised on its input wire at
  the port rate (the core's own wire rule, ``np_fx_wire_sub``: FCS, minimum
  frame, preamble and gap). A frame whose last bit has arrived enters the
  NIC's MAC receive buffer (one NIC and one buffer for every port,
  ``rx_buffer_bytes``; frames queue in the order their last bit arrives,
  ties in the order they were offered), or is dropped as ``nic_rx_missed`` when it does not fit (the 82599 counts
  these in MPC) or as ``nic_giant`` when it is longer than the port's MTU
  + 18 (the limit the NP's MSF applies; the MAC enforces it here so a frame
  is never larger than RBUF).
- **Classifier.** The buffer's head frame streams into ``s_axis`` at one
  beat per NIC cycle while ``s_axis_tready`` is high; the RTL holds it low
  when its frame FIFO is full -- that is the RTL's own back-pressure, and the
  MAC buffer absorbs it. Frames leave ``m_axis`` in order with their
  classification on ``tuser`` (read on the first beat): a dropped frame is
  consumed and counted (``nic_<reason>``); any other is carried over the bus.
- **Bus into RBUF.** The NIC-to-NP bus is flow-controlled (unlike a wire):
  a beat transfers only when the NP's receive buffer has an element for it
  (credit per RBUF element, ``rbuf_element_bytes``), so ``m_axis_tready``
  is the RBUF's room and a frame waits instead of being dropped as
  ``rbuf_full``. A frame enters RBUF (``np_feed`` on a bus-fed port,
  ``np_port_set_bus``) in the cycle its last beat crosses, whole, tagged
  with its pool and queue. A frame for several pools is carried once per
  pool: the copies after the first cross the bus back to back from the
  NIC's buffer (bus time, not wire time), with ``m_axis_tready`` low meanwhile.

The co-simulation advances the RTL cycle by cycle (``cosim_kernel.c``: the
per-edge pin work in C, through the pyverilator wrapper's own accessors; its
state is the ``hk_nic`` struct of ``cosim_kernel.h``, compiled with gcc on
first use and cached next to the Verilated models) and the NP engine in
windows from Python: the RTL runs ahead while the room it last read from the NP still
covers its next beat (room only grows while the NP runs, so that is safe),
and the NP catches up at the window's end; while RBUF is too full, both step
one NIC cycle at a time, the NP reading the exact room each cycle -- and
once the RTL is frozen (stalled both ways, its pipeline drained), the NP
runs alone until Rx releases RBUF elements (the engine's ``stop_on_rbuf``)
and the NIC's clock jumps to the first cycle that can see them. With a
host handler (``stop_on_host``) a window is at most the wire time of a
minimum frame, so a frame the host sends can never reach the NIC in the past.
When nothing is in the NIC, its clock stops and the NP runs alone.

:class:`CycleNic` takes the engine's place in the assembly
(``Assembly.engine``): ``run``, ``now``, ``events``, ``name``, ``line_trace``.
"""
from __future__ import annotations

import collections
import ctypes
import functools
import hashlib
import heapq
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from cffi import FFI

from ..core import CoreError, ffi as core_ffi, lib
from .result import REASONS, unpack_tuser

if TYPE_CHECKING:  # pragma: no cover
    from ..assemblies.base import Assembly
    from .rtl_backend import RtlNic

__all__ = ["CycleNic", "TIMINGS", "DEFAULT_CLOCK_HZ", "DEFAULT_RX_BUFFER_BYTES", "CYCLE_PARAMS",
           "NIC_DROP_REASONS"]

TIMINGS = ("functional", "cycle")
#: 10GBASE-R's 64-bit data path runs at 156.25 MHz (IEEE 802.3 clause 49: 10.3125 GBd 64b/66b = 156.25 M
#: blocks of 64 bits per second); the classifier's DATA_WIDTH = 64 build targets it (rtl/README).
DEFAULT_CLOCK_HZ = 156_250_000
#: 82599 receive packet buffer: 512 KB [U: Intel 82599 datasheet, not in the project's reference notes].
DEFAULT_RX_BUFFER_BYTES = 512 * 1024
#: backend parameters that only cycle timing uses
CYCLE_PARAMS = ("clock_hz", "rx_buffer_bytes")
#: what the NIC drops, counted as nic_<reason>: the classifier's reasons and the MAC's
NIC_DROP_REASONS = tuple(r for r in REASONS if r) + ("rx_missed", "giant")

_SUB = lib.NP_SUB
_RUN_HOST, _RUN_FULL, _RUN_TIME, _RUN_RBUF = lib.NP_RUN_HOST, lib.NP_RUN_FULL, lib.NP_RUN_TIME, lib.NP_RUN_RBUF
#: Clock edges after the last beat the RTL accepted by which its classification pipeline (5 stages
#: after the dispatching beat, rtl/README.md) has drained: with no new input beat and a stalled
#: output, later edges change nothing the ports show, so a stalled NIC's clock can be skipped.
_QUIET_CYCLES = 12
_FOREVER = (1 << 64) - 1
_MAX_FEED_LEN = 16384           # np_feed's limit
_ARR_CAP = 4096                 # arrivals handed to the kernel per call
_EV_CAP = 1 << 14
# cosim_kernel.c's stop reasons and event kinds
_STOP_LIMIT, _STOP_IDLE, _STOP_SYNC, _STOP_FROZEN, _STOP_EVFULL, _STOP_ARRIVALS = range(6)
_EV_GIANT, _EV_MISSED, _EV_RTL_DROP, _EV_COPY = 1, 2, 3, 4
_HERE = Path(__file__).resolve().parent


@functools.cache
def _kernel() -> tuple[FFI, Any]:
    """cosim_kernel.c compiled (gcc, cached by content) and loaded with cffi."""
    from ..resources import sim_build_dir

    src, hdr = _HERE / "cosim_kernel.c", _HERE / "cosim_kernel.h"
    flags = ["-std=gnu11", "-O2", "-fPIC", "-shared", "-Wall"]
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    key = hashlib.sha256(src.read_bytes() + hdr.read_bytes() + " ".join(flags + [gcc]).encode()).hexdigest()[:16]
    out_dir = sim_build_dir() / "hil"
    so = out_dir / f"cosim_kernel_{key}.so"
    if not so.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=".kernel-"))
        try:
            p = subprocess.run(["gcc", *flags, "-I", str(_HERE), "-o", str(tmp / so.name), str(src)],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"{src} does not compile:\n{p.stderr}")
            os.replace(tmp / so.name, so)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    kffi = FFI()
    kffi.cdef(re.sub(r"/\*.*?\*/", "", hdr.read_text(), flags=re.S))
    return kffi, kffi.dlopen(str(so))


class _Frame:
    """One frame inside the NIC."""

    __slots__ = ("port", "data", "pkt", "pools", "queue")

    def __init__(self, port: int, data: bytes, pkt: int):
        self.port, self.data, self.pkt = port, data, pkt
        self.pools: list[int] = []                   # its classification, once its first copy is out
        self.queue = 0


class CycleNic:
    """The RTL NIC front-end co-simulated with an assembly's engine (see the module doc).

    Args:
        asm: the assembly (its machine, ports, engine, packet ids and NIC counters).
        rtl: the Verilated classifier (:class:`np_model.nic.rtl_backend.RtlNic`), programmed;
            its ``clock_hz`` and ``rx_buffer_bytes`` set the NIC clock and MAC buffer.

    Raises:
        ValueError: a port's largest frame (MTU + 18) needs more RBUF elements than RBUF has,
            or a parameter is out of range.
        CoreError: a port already has frames queued (the NIC must be attached first).
    """

    def __init__(self, asm: "Assembly", rtl: "RtlNic"):
        self.asm, self.rtl, self.inner = asm, rtl, asm.engine
        m = self._m = asm.m.ptr
        p = core_ffi.new("np_params_t *")
        lib.np_get_params(m, p)
        self.f_me = int(p.f_me_hz)
        self.f_nic = int(getattr(rtl, "clock_hz", DEFAULT_CLOCK_HZ))
        self.rx_buffer_bytes = int(getattr(rtl, "rx_buffer_bytes", DEFAULT_RX_BUFFER_BYTES))
        if not 1_000_000 <= self.f_nic <= self.f_me:
            raise ValueError(f"NIC clock_hz must be in 1 MHz..the ME clock ({self.f_me} Hz), got {self.f_nic}")
        self.elem = int(p.rbuf_element_bytes) or 64
        self.rbuf_elements = int(p.rbuf_elements)
        n_ports = len(asm.ports)
        self.max_frame = [pc.mtu + 18 for pc in asm.ports]
        need = max(-(-mf // self.elem) for mf in self.max_frame)
        if need > self.rbuf_elements:
            raise ValueError(f"a {max(self.max_frame)}-byte frame (MTU + 18) needs {need} RBUF elements of "
                             f"{self.elem} B, RBUF has {self.rbuf_elements}: raise rbuf_elements or lower the MTU")
        if self.rx_buffer_bytes < max(self.max_frame):
            raise ValueError(f"NIC rx_buffer_bytes must hold one {max(self.max_frame)}-byte frame, "
                             f"got {self.rx_buffer_bytes}")
        for port in range(n_ports):
            if lib.np_port_set_bus(m, port, 1) < 0:
                raise CoreError(core_ffi.string(lib.np_error(m)).decode())
        self._np_done = -1                           # the NP has completed every event up to this cycle
        # wires (Python) and arrivals not handed to the kernel yet
        self._wire_free = [0] * n_ports              # sub-cycles
        self._last_offer = [0] * n_ports
        self._arrivals: list[tuple[int, int, _Frame]] = []   # heap of (NIC cycle available, seq, frame)
        self._seq = 0
        # the longest window with a host handler: a minimum frame's wire time on the fastest port,
        # less one NIC cycle, so a frame sent at the NP's time arrives after the NIC's last cycle
        min_wire = min(int(lib.np_fx_wire_sub(m, port, 0)) // _SUB for port in range(n_ports))
        self._window = max(1, min_wire - -(-self.f_me // self.f_nic))
        # RBUF credit: frames fed to the NP but not yet in RBUF
        self._pending: collections.deque[int] = collections.deque()
        self._pending_elems = 0
        self._fed = self._fed_seen = 0
        self._ctr = core_ffi.new("np_counters_t *")
        self._feed_bufs = (core_ffi.new("uint64_t[1]"), core_ffi.new("uint8_t[1]"), core_ffi.new("uint32_t[1]"),
                           core_ffi.new("uint64_t[1]"), core_ffi.new("uint32_t[1]"))
        self._qpp = rtl.queues_per_pool
        self.st = {"delivered": 0, "replicas": 0, "np_syncs": 0, "frozen_cycles": 0}
        self._received_seen = 0
        self._build_kernel(n_ports)
        self._sync()

    # ------------------------------------------------------------------ the kernel's state
    def _build_kernel(self, n_ports: int) -> None:
        kffi, self._k = _kernel()
        self._kffi = kffi
        n = self.n = kffi.new("hk_nic *")
        r = self.rtl
        sim_lib = r._sim.lib

        def addr(name: str) -> Any:
            return kffi.cast("void *", ctypes.cast(getattr(sim_lib, name), ctypes.c_void_p).value)

        n.top = kffi.cast("void *", r._model.value)
        n.eval = addr("eval")
        for field, port, is_input in (("clk", "clk", True), ("s_data", "s_axis_tdata", True),
                                      ("s_keep", "s_axis_tkeep", True), ("s_last", "s_axis_tlast", True),
                                      ("s_valid", "s_axis_tvalid", True), ("s_ready", "s_axis_tready", False),
                                      ("m_data", "m_axis_tdata", False), ("m_keep", "m_axis_tkeep", False),
                                      ("m_last", "m_axis_tlast", False), ("m_valid", "m_axis_tvalid", False),
                                      ("m_ready", "m_axis_tready", True), ("m_user", "m_axis_tuser", False)):
            hp = getattr(n, field)
            hp.get = addr(f"get_{port}")
            hp.set = addr(f"set_{port}") if is_input else kffi.NULL
            hp.width = r._ports[port].width
        if n.m_user.width > 128 or n.s_data.width > 512:
            raise ValueError("the cycle-timed NIC handles tuser up to 128 bits and tdata up to 512")
        n.beat_bytes = r.bytes_per_beat
        n.elem_bytes = self.elem
        n.f_me, n.f_nic = self.f_me, self.f_nic
        n.rx_buffer_bytes = self.rx_buffer_bytes
        for i, mf in enumerate(self.max_frame):
            n.max_frame[i] = mf
        n.skip_frozen, n.quiet_cycles = 1, _QUIET_CYCLES
        n.cur_in = n.out_slot = n.repl_slot = -1
        n.exact_at = -1
        n.stop_cycle = _FOREVER
        self._ev = kffi.new("hk_event[]", _EV_CAP)
        n.ev, n.ev_cap = self._ev, _EV_CAP
        self._arr_cycle = kffi.new("uint64_t[]", 2 * _ARR_CAP)
        self._arr_slot = kffi.new("uint32_t[]", 2 * _ARR_CAP)
        n.arr_cycle, n.arr_slot = self._arr_cycle, self._arr_slot
        self._slots: dict[int, tuple[_Frame, Any]] = {}
        self._free: list[int] = []
        self._cap = 0
        self._grow(4096)
        r._set("s_axis_tvalid", 0)
        r._set("m_axis_tready", 1)
        n.s_valid_pin, n.m_ready_pin = 0, 1
        r._eval(r._model)

    def _grow(self, cap: int) -> None:
        """Slot table and the kernel's rings at capacity ``cap`` (between kernel calls only)."""
        kffi, n, old = self._kffi, self.n, self._cap
        frames = kffi.new("hk_frame[]", cap)
        buf, rtlq = kffi.new("uint32_t[]", cap), kffi.new("uint32_t[]", cap)
        if old:
            kffi.memmove(frames, self._frames, kffi.sizeof("hk_frame") * old)
            for i in range(n.buf_n):
                buf[i] = self._buf[(n.buf_head + i) % old]
            for i in range(n.rtlq_n):
                rtlq[i] = self._rtlq[(n.rtlq_head + i) % old]
            n.buf_head = n.rtlq_head = 0
        self._frames, self._buf, self._rtlq = frames, buf, rtlq
        n.frames, n.buf, n.rtlq, n.buf_cap = frames, buf, rtlq, cap
        self._free.extend(range(cap - 1, old - 1, -1))
        self._cap = cap

    @property
    def skip_frozen(self) -> bool:
        """Skip the clock of a NIC stalled both ways (see ``_QUIET_CYCLES``); off: every edge is evaluated."""
        return bool(self.n.skip_frozen)

    @skip_frozen.setter
    def skip_frozen(self, on: bool) -> None:
        self.n.skip_frozen = 1 if on else 0

    # ------------------------------------------------------------------ time
    def _tme(self, c: int) -> int:
        """ME cycle at which NIC cycle ``c`` starts."""
        return -(-c * self.f_me // self.f_nic)

    def _cycle_at(self, t: int) -> int:
        """The first NIC cycle starting at or after ME cycle ``t``."""
        c = t * self.f_nic // self.f_me
        while self._tme(c) < t:
            c += 1
        while c > 0 and self._tme(c - 1) >= t:
            c -= 1
        return c

    @property
    def c(self) -> int:
        """The next NIC cycle to simulate."""
        return int(self.n.c)

    # ------------------------------------------------------------------ traffic in
    def offer(self, raw: Sequence[bytes], ports: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Frames starting on the ports' input wires at ME cycles ``t``; returns their packet ids
        (caller order; a frame the NIC replicates keeps its id on its first copy).

        Raises:
            ValueError: a time in the past, times decreasing on a port, a frame over 16,384 bytes.
        """
        n = len(raw)
        now = self.inner.now
        t = np.asarray(t, dtype=np.uint64)
        for i in range(n):
            if int(t[i]) < now:
                raise ValueError(f"frame {i}: arrival cycle {int(t[i])} is before the current cycle {now}")
            if len(raw[i]) > _MAX_FEED_LEN:
                raise ValueError(f"frame {i}: {len(raw[i])} bytes is longer than any Ethernet frame")
        order = np.lexsort((np.arange(n), t, ports))
        last = list(self._last_offer)
        for i in order:
            p, ti = int(ports[i]), int(t[i])
            if ti < last[p]:
                raise ValueError(f"frame {int(i)}: port {p} times must not decrease")
            last[p] = ti
        self._last_offer = last
        first = int(lib.np_take_ids(self._m, n))
        ids = np.arange(first, first + n, dtype=np.uint64)
        m = self._m
        for i in order:
            p, ti, data = int(ports[i]), int(t[i]), raw[i]
            start = max(ti * _SUB, self._wire_free[p], now * _SUB)
            self._wire_free[p] = start + int(lib.np_fx_wire_sub(m, p, len(data)))
            avail = -(-self._wire_free[p] // _SUB)
            heapq.heappush(self._arrivals, (self._cycle_at(avail), self._seq, _Frame(p, data, int(ids[i]))))
            self._seq += 1
        return ids

    def _hand_over(self, bound: int) -> None:
        """Give the kernel the arrivals due by NIC cycle ``bound``: appended to its arrival list
        (``arr_cycle``/``arr_slot``, consumed from ``arr_i``), at most _ARR_CAP waiting at once."""
        n, arrivals, kffi = self.n, self._arrivals, self._kffi
        if n.arr_i == n.arr_n:
            n.arr_i = n.arr_n = 0
        elif n.arr_n + _ARR_CAP > 2 * _ARR_CAP and n.arr_i:        # compact: keep what is left at the front
            k = n.arr_n - n.arr_i
            kffi.memmove(self._arr_cycle, self._arr_cycle + n.arr_i, 8 * k)
            kffi.memmove(self._arr_slot, self._arr_slot + n.arr_i, 4 * k)
            n.arr_i, n.arr_n = 0, k
        i = n.arr_n
        while arrivals and arrivals[0][0] <= bound and i - n.arr_i < _ARR_CAP:
            cyc, _, f = heapq.heappop(arrivals)
            if not self._free:
                self._grow(2 * self._cap)
            slot = self._free.pop()
            cdata = kffi.from_buffer("uint8_t[]", f.data) if f.data else kffi.new("uint8_t[1]")
            self._slots[slot] = (f, cdata)
            fr = self._frames[slot]
            fr.data, fr.len, fr.port = cdata, len(f.data), f.port
            self._arr_cycle[i], self._arr_slot[i] = cyc, slot
            i += 1
        n.arr_n = i
        n.stop_cycle = arrivals[0][0] if arrivals and arrivals[0][0] <= bound else _FOREVER

    def _next_arrival(self) -> int | None:
        n = self.n
        if n.arr_i < n.arr_n:
            return int(self._arr_cycle[n.arr_i])
        return self._arrivals[0][0] if self._arrivals else None

    # ------------------------------------------------------------------ NP side
    def _sync(self) -> None:
        """Room from the NP's state now: free RBUF elements less frames fed but not yet in RBUF
        and the elements the copy on the bus holds."""
        m = self._m
        lib.np_get_counters(m, self._ctr)
        arrived = int(self._ctr.arrived)
        while self._fed_seen < self._fed and self._fed_seen < arrived:
            self._pending_elems -= self._pending.popleft()
            self._fed_seen += 1
        self.n.room = int(lib.np_rbuf_free(m)) - self._pending_elems - self.n.held
        self.st["np_syncs"] += 1

    def _deliver(self, f: _Frame, pool: int, queue: int, t: int, pkt: int, elems: int) -> None:
        """One copy's last beat crossed the bus: into the port's RBUF at ME cycle t."""
        tb, pb, lb, ob, mb = self._feed_bufs
        tb[0], pb[0], lb[0], ob[0] = t, f.port, len(f.data), 0
        mb[0] = self.asm.NIC_META | pool << 8 | queue
        if lib.np_feed(self._m, 1, tb, pb, lb, ob, f.data or b"\0", mb, pkt) < 0:
            raise CoreError(core_ffi.string(lib.np_error(self._m)).decode())
        nic = self.asm._nic
        nic["pools"][pool] += 1
        nic["queues"][f"{pool}.{queue}"] += 1
        self._pending.append(elems)
        self._pending_elems += elems
        self._fed += 1

    def _events(self) -> None:
        """What the kernel did: drops counted, copies fed to the NP, slots freed."""
        n, nic, st = self.n, self.asm._nic, self.st
        if n.mismatch:
            f = self._slots[n.mismatch - 1][0]
            raise RuntimeError(f"the RTL changed the bytes of frame {f.pkt} ({len(f.data)} bytes in)")
        received = int(n.received)
        nic["frames"] += received - self._received_seen
        self._received_seen = received
        ev = self._ev
        for i in range(n.ev_n):
            e = ev[i]
            kind, slot = e.kind, e.slot
            f = self._slots[slot][0]
            if kind == _EV_COPY:
                if e.copy == 0:
                    tuser = e.user[0] | e.user[1] << 32 | e.user[2] << 64 | e.user[3] << 96
                    res = unpack_tuser(tuser, self._qpp)
                    f.pools, f.queue = res.pool_list(), res.queue
                    pkt = f.pkt
                    st["delivered"] += 1
                else:
                    pkt = int(lib.np_take_ids(self._m, 1))
                    nic["replicas"] += 1
                    st["replicas"] += 1
                self._deliver(f, f.pools[e.copy], f.queue, self._tme(e.cycle + 1), pkt, e.elems)
                if e.copy < len(f.pools) - 1:
                    continue                             # more copies to cross the bus
            elif kind == _EV_RTL_DROP:
                nic["drops"][REASONS[e.user[0] & 7]] += 1
            else:
                nic["drops"]["giant" if kind == _EV_GIANT else "rx_missed"] += 1
            del self._slots[slot]
            self._free.append(slot)
        n.ev_n = 0

    # ------------------------------------------------------------------ the co-simulation
    @property
    def idle(self) -> bool:
        """Nothing in the NIC: no frame in the MAC buffer, the RTL or on the bus."""
        n = self.n
        return n.cur_in < 0 and n.buf_n == 0 and n.rtlq_n == 0 and n.out_slot < 0 and n.repl_slot < 0

    @property
    def held(self) -> int:
        """Frames the NIC's MAC has received whose first copy has not reached RBUF yet (and that
        are not dropped): in the MAC buffer, in the RTL, or crossing the bus."""
        nic_drops = sum(self.asm._nic["drops"].values())
        return int(self.n.received) - nic_drops - self.st["delivered"]

    def run(self, until: int, stop_on_host: bool = False, idle_stay: bool = False) -> int:
        """Advance the NIC and the NP to ME cycle ``until`` (the engine's ``run`` contract:
        returns RUN_TIME, RUN_HOST, RUN_IDLE or RUN_FULL)."""
        inner, n = self.inner, self.n
        until = min(int(until), _FOREVER)
        if until < inner.now:
            return inner.run(until)                  # the engine's own error
        while True:
            if self.idle:
                nxt = self._next_arrival()
                if nxt is None:                      # the NIC's clock stops: the NP alone
                    rc = inner.run(until, stop_on_host, idle_stay)
                    if rc not in (_RUN_HOST, _RUN_FULL):
                        self._np_done = inner.now
                    self._sync()
                    return rc
                n.c = max(n.c, nxt)
            t_c = self._tme(n.c)
            if self._np_done < min(t_c, until):      # the NP catches up with the NIC's next cycle
                target = min(t_c, until)
                rc = inner.run(target, stop_on_host, False)
                self._sync()
                if rc in (_RUN_HOST, _RUN_FULL):
                    return rc
                self._np_done = target
            if t_c > until:
                return _RUN_TIME
            limit = min(until, t_c + self._window) if stop_on_host else until
            if self._step(limit) == _STOP_FROZEN:
                rc = self._wait_for_room(limit, stop_on_host)
                if rc in (_RUN_HOST, _RUN_FULL):
                    return rc

    def _step(self, limit: int) -> int:
        """Run the kernel from the NIC's next cycle while cycles start at or before ME cycle
        ``limit``; hand over arrivals and process events as needed. Returns why it stopped:
        the window's end, idle, or a cycle the NP must catch up to (sync) or wait in (frozen)."""
        n = self.n
        bound = self._cycle_at(limit + 1)            # the first cycle starting after limit
        n.limit = limit
        n.exact_at = n.c if self._np_done >= self._tme(n.c) else -1
        while True:
            self._hand_over(bound)
            why = self._k.hk_step(n)
            self._events()
            if why not in (_STOP_EVFULL, _STOP_ARRIVALS):
                return why

    def _wait_for_room(self, limit: int, stop_on_host: bool) -> int:
        """The bus waits for RBUF room and the RTL is frozen (stalled on both sides, pipeline
        drained): run the NP alone until it releases RBUF elements (or to ``limit``, or to the
        next frame's arrival when the RTL's input is idle), then move the NIC's clock to the
        first cycle starting at or after that moment -- the first it can see the new room in --
        or at least past the cycle found waiting (its room was exact: it waits)."""
        inner, n, st = self.inner, self.n, self.st
        c = int(n.c)
        wake = limit
        nxt = self._next_arrival()
        if n.cur_in < 0 and n.buf_n == 0 and nxt is not None:
            wake = min(wake, self._tme(nxt))
        rc = inner.run(wake, stop_on_host, False, stop_on_rbuf=True)
        self._sync()
        if rc not in (_RUN_HOST, _RUN_FULL, _RUN_RBUF):
            self._np_done = wake
        c2 = max(c + 1, self._cycle_at(inner.now))  # cycle c itself was decided: it waits
        while True:                                  # frames due meanwhile wait in the MAC buffer
            self._hand_over(c2 - 1)
            k = self._k.hk_admit(n, c2)
            self._events()
            if not k or self._next_arrival() is None or self._next_arrival() >= c2:
                break
        skipped = c2 - c                             # count the waits as the edges would have
        st["frozen_cycles"] += skipped
        if n.repl_slot >= 0:
            n.bus_wait += skipped
        if self.rtl._get("m_axis_tvalid"):
            n.m_stall += skipped
        if n.cur_in >= 0:
            n.s_stall += skipped
        n.quiet += skipped
        n.c = c2
        return rc

    # ------------------------------------------------------------------ engine interface
    @property
    def now(self) -> int:
        return self.inner.now

    @property
    def events(self) -> int:
        return self.inner.events

    @property
    def name(self) -> str:
        return self.inner.name

    def line_trace(self) -> str:
        """The engine's line trace, then the NIC: MAC buffer, RTL FIFO, bus."""
        n = self.n
        bus = "r" if n.repl_slot >= 0 else ("o" if n.out_slot >= 0 else "-")
        return (f"{self.inner.line_trace()} nic@{n.c}:buf={n.buf_n}/{n.buf_bytes}B"
                f" fifo={n.beats_in - n.beats_out} bus={bus} room={n.room}")

    def stats(self) -> dict[str, Any]:
        """Cycle-timing counters (NIC cycles unless named otherwise):

        - ``cycles``: NIC clock cycles elapsed (its clock stops while the NIC is empty);
          ``ticks`` of them were evaluated edge by edge, ``frozen_cycles`` skipped (stalled
          both ways, see ``_QUIET_CYCLES``);
        - ``received``: frames fully received by the MAC; ``delivered``: frames whose first copy
          entered RBUF; ``replicas``: further copies; ``in_flight``: frames inside the NIC;
        - ``s_axis_stall_cycles``: a beat waited at the RTL's input (its FIFO full);
          ``m_axis_stall_cycles``: a beat waited at its output for RBUF room;
          ``bus_wait_cycles``: a replica's beat waited for RBUF room; ``bus_beats``: beats into RBUF;
        - ``fifo_max_beats``: the RTL frame FIFO's high-water mark (beats in, not yet out);
          ``rx_buffer_max_bytes``: the MAC buffer's; ``np_syncs``: times the NP engine was run.
        """
        n = self.n
        return {"timing": "cycle", "clock_hz": self.f_nic, "rx_buffer_bytes": self.rx_buffer_bytes,
                "cycles": int(n.c), "in_flight": self.held, "ticks": int(n.ticks), "received": int(n.received),
                "delivered": self.st["delivered"], "replicas": self.st["replicas"], "bus_beats": int(n.bus_beats),
                "s_axis_stall_cycles": int(n.s_stall), "m_axis_stall_cycles": int(n.m_stall),
                "bus_wait_cycles": int(n.bus_wait), "fifo_max_beats": int(n.fifo_max),
                "rx_buffer_max_bytes": int(n.buf_max), "np_syncs": self.st["np_syncs"],
                "late_arrivals": int(n.late_arrivals), "frozen_cycles": self.st["frozen_cycles"]}

    def __getattr__(self, name: str) -> Any:
        # anything else an engine offers (reference-engine internals for tests, ...)
        return getattr(self.inner, name)
