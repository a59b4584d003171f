"""Cycle timing: the Verilated VMDq classifier clocked in the NP's simulated time.

With ``nic: {backend: rtl, timing: cycle}`` the router's receive side is::

    wire (per port) -> MAC receive buffer -> RTL s_axis | RTL | m_axis -> NIC-to-NP bus -> RBUF

- **Wires and MAC.** Each port's frames are serialised on its input wire at
  the port rate (the core's own wire rule, ``np_fx_wire_sub``: FCS, minimum
  frame, preamble and gap). A frame whose last bit has arrived enters the
  NIC's MAC receive buffer (one buffer for every port, ``rx_buffer_bytes``),
  or is dropped as ``nic_rx_missed`` when it does not fit (the 82599 counts
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

The co-simulation advances the RTL cycle by cycle and the NP engine in
windows: the RTL runs ahead while the room it last read from the NP still
covers its next beat (room only grows while the NP runs, so that is safe),
and the NP catches up at the window's end; while RBUF is too full, both step
one NIC cycle at a time, the NP reading the exact room each cycle. With a
host handler (``stop_on_host``) a window is at most the wire time of a
minimum frame, so a frame the host sends can never reach the NIC in the past.
When nothing is in the NIC, its clock stops and the NP runs alone.

:class:`CycleNic` takes the engine's place in the assembly
(``Assembly.engine``): ``run``, ``now``, ``events``, ``name``, ``line_trace``.
"""
from __future__ import annotations

import collections
import heapq
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..core import CoreError, ffi, lib
from .result import REASONS, unpack_tuser

if TYPE_CHECKING:  # pragma: no cover
    from ..assemblies.base import Assembly
    from .rtl_backend import RtlNic

__all__ = ["CycleNic", "TIMINGS", "DEFAULT_CLOCK_HZ", "DEFAULT_RX_BUFFER_BYTES", "CYCLE_PARAMS"]

TIMINGS = ("functional", "cycle")
#: 10GBASE-R's 64-bit data path runs at 156.25 MHz (IEEE 802.3 clause 49: 10.3125 GBd 64b/66b = 156.25 M
#: blocks of 64 bits per second); the classifier's DATA_WIDTH = 64 build targets it (rtl/README).
DEFAULT_CLOCK_HZ = 156_250_000
#: 82599 receive packet buffer: 512 KB [U: Intel 82599 datasheet, not in the project's reference notes].
DEFAULT_RX_BUFFER_BYTES = 512 * 1024
#: backend parameters that only cycle timing uses
CYCLE_PARAMS = ("clock_hz", "rx_buffer_bytes")

_SUB = lib.NP_SUB
_RUN_HOST, _RUN_FULL, _RUN_TIME, _RUN_RBUF = lib.NP_RUN_HOST, lib.NP_RUN_FULL, lib.NP_RUN_TIME, lib.NP_RUN_RBUF
#: Clock edges after the last beat the RTL accepted by which its classification pipeline (5 stages
#: after the dispatching beat, rtl/README.md) has drained: with no new input beat and a stalled
#: output, later edges change nothing the ports show, so a stalled NIC's clock can be skipped.
_QUIET_CYCLES = 12
_FOREVER = (1 << 64) - 1
_MAX_FEED_LEN = 16384           # np_feed's limit


class _Frame:
    """One frame inside the NIC."""

    __slots__ = ("port", "data", "pkt", "t_offer")

    def __init__(self, port: int, data: bytes, pkt: int, t_offer: int):
        self.port, self.data, self.pkt, self.t_offer = port, data, pkt, t_offer


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
        p = ffi.new("np_params_t *")
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
                raise CoreError(ffi.string(lib.np_error(m)).decode())
        # time: NIC cycle c starts at ME cycle ceil(c * f_me / f_nic)
        self.c = 0                                   # next NIC cycle to simulate
        self._np_done = -1                           # the NP has completed every event up to this cycle
        # wires and the MAC
        self._wire_free = [0] * n_ports              # sub-cycles
        self._last_offer = [0] * n_ports
        self._arrivals: list[tuple[int, int, _Frame]] = []   # heap of (NIC cycle available, seq, frame)
        self._seq = 0
        self._buf: collections.deque[_Frame] = collections.deque()
        self._buf_bytes = 0
        # min-frame wire time on the fastest port: the longest window with a host handler
        self._window = max(1, min(int(lib.np_fx_wire_sub(m, port, 0)) // _SUB for port in range(n_ports)))
        # the RTL
        self._cur_in: _Frame | None = None
        self._beats: list[tuple[Any, int, int]] = []
        self._bi = 0
        self._rtl_q: collections.deque[_Frame] = collections.deque()   # frames started into the RTL
        self._out: list[Any] | None = None           # [frame, result, bytearray, bytes so far]
        self._repl: list[Any] | None = None          # [frame, pools left, queue, bytes sent of this copy]
        self._beats_in = self._beats_out = 0
        self._quiet = 0                              # edges since the RTL last accepted a beat
        self.skip_frozen = True                      # skip a stalled NIC's clock (see _QUIET_CYCLES)
        # RBUF credit: room the NIC may use without asking the NP again
        self._held = 0                               # elements reserved by the copy on the bus
        self._pending: collections.deque[int] = collections.deque()   # elements of frames fed, not yet in RBUF
        self._pending_elems = 0
        self._fed = self._fed_seen = 0
        self._ctr = ffi.new("np_counters_t *")
        self._room = 0
        self._feed_bufs = (ffi.new("uint64_t[1]"), ffi.new("uint8_t[1]"), ffi.new("uint32_t[1]"),
                           ffi.new("uint64_t[1]"), ffi.new("uint32_t[1]"))
        # counters (the RTL's back-pressure and the NP's)
        self.st = {"ticks": 0, "received": 0, "delivered": 0, "replicas": 0, "bus_beats": 0,
                   "s_axis_stall_cycles": 0, "m_axis_stall_cycles": 0, "bus_wait_cycles": 0,
                   "fifo_max_beats": 0, "rx_buffer_max_bytes": 0, "np_syncs": 0, "late_arrivals": 0,
                   "frozen_cycles": 0}
        self._bind_rtl()
        self._sync()

    # ------------------------------------------------------------------ RTL ports
    def _bind_rtl(self) -> None:
        r = self.rtl
        ports = r._ports
        self._model, self._eval = r._model, r._eval
        self._clk = ports["clk"].set
        self._B = r.bytes_per_beat
        self._wide = ports["s_axis_tdata"].words > 2
        self._p = {k: ports[k] for k in ("s_axis_tdata", "s_axis_tkeep", "s_axis_tlast", "s_axis_tvalid",
                                         "s_axis_tready", "m_axis_tdata", "m_axis_tkeep", "m_axis_tlast",
                                         "m_axis_tvalid", "m_axis_tready", "m_axis_tuser")}
        self._qpp = r.queues_per_pool
        self._set_m_ready = ports["m_axis_tready"].set
        self._set_m_ready(self._model, 1)
        ports["s_axis_tvalid"].set(self._model, 0)
        self._s_valid = 0
        self._m_ready = 1
        self._eval(self._model)

    def _get_wide(self, name: str) -> int:
        port = self._p[name]
        if port.words > 2:
            return sum(port.get(self._model, w) << (32 * w) for w in range(port.words))
        return port.get(self._model)

    def _make_beats(self, data: bytes) -> list[tuple[Any, int, int]]:
        n = self._B
        chunks = [data[i:i + n] for i in range(0, len(data), n)] or [b""]
        out = []
        for i, chunk in enumerate(chunks):
            value = int.from_bytes(chunk, "little")
            v = [(value >> (32 * w)) & 0xFFFF_FFFF for w in range(n // 4)] if self._wide else value
            out.append((v, (1 << len(chunk)) - 1, int(i == len(chunks) - 1)))
        return out

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

    # ------------------------------------------------------------------ traffic in
    def offer(self, raw: Sequence[bytes], ports: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Frames starting on the ports' input wires at ME cycles ``t``; returns their packet ids
        (caller order; a frame the NIC replicates keeps its id on its first copy)."""
        n = len(raw)
        now = self.inner.now
        asm = self.asm
        t = np.asarray(t, dtype=np.uint64)
        for i in range(n):
            if int(t[i]) < now:
                raise ValueError(f"frame {i}: arrival cycle {int(t[i])} is before the current cycle {now}")
            if len(raw[i]) > _MAX_FEED_LEN:
                raise ValueError(f"frame {i}: {len(raw[i])} bytes is longer than any Ethernet frame")
        first = asm._next_id
        asm._next_id += n
        ids = np.arange(first, first + n, dtype=np.uint64)
        order = np.lexsort((np.arange(n), t, ports))
        last = list(self._last_offer)
        for i in order:
            p, ti = int(ports[i]), int(t[i])
            if ti < last[p]:
                raise ValueError(f"frame {int(i)}: port {p} times must not decrease")
            last[p] = ti
        self._last_offer = last
        m = self._m
        for i in order:
            p, ti, data = int(ports[i]), int(t[i]), raw[i]
            start = max(ti * _SUB, self._wire_free[p], now * _SUB)
            self._wire_free[p] = start + int(lib.np_fx_wire_sub(m, p, len(data)))
            avail = -(-self._wire_free[p] // _SUB)
            heapq.heappush(self._arrivals, (self._cycle_at(avail), self._seq, _Frame(p, data, int(ids[i]), ti)))
            self._seq += 1
        return ids

    def _admit(self, f: _Frame) -> None:
        """The frame's last bit is in: into the MAC receive buffer, or dropped."""
        st, nic = self.st, self.asm._nic
        st["received"] += 1
        nic["frames"] += 1
        n = len(f.data)
        if n > self.max_frame[f.port]:
            nic["drops"]["giant"] += 1
        elif self._buf_bytes + n > self.rx_buffer_bytes:
            nic["drops"]["rx_missed"] += 1
        else:
            self._buf.append(f)
            self._buf_bytes += n
            if self._buf_bytes > st["rx_buffer_max_bytes"]:
                st["rx_buffer_max_bytes"] = self._buf_bytes

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
        self._room = int(lib.np_rbuf_free(m)) - self._pending_elems - self._held
        self.st["np_syncs"] += 1

    def _deliver(self, f: _Frame, pool: int, queue: int, t: int, pkt: int) -> None:
        """One copy's last beat crossed the bus: into the port's RBUF at ME cycle t."""
        tb, pb, lb, ob, mb = self._feed_bufs
        tb[0], pb[0], lb[0], ob[0] = t, f.port, len(f.data), 0
        mb[0] = self.asm.NIC_META | pool << 8 | queue
        data = f.data or b"\0"
        if lib.np_feed(self._m, 1, tb, pb, lb, ob, data, mb, pkt) < 0:
            raise CoreError(ffi.string(lib.np_error(self._m)).decode())
        nic = self.asm._nic
        nic["pools"][pool] += 1
        nic["queues"][f"{pool}.{queue}"] += 1
        self._pending.append(self._held)
        self._pending_elems += self._held
        self._held = 0
        self._fed += 1

    # ------------------------------------------------------------------ the co-simulation
    @property
    def idle(self) -> bool:
        """Nothing in the NIC: no frame in the MAC buffer, the RTL or on the bus."""
        return (self._cur_in is None and not self._buf and not self._rtl_q and self._out is None
                and self._repl is None)

    @property
    def held(self) -> int:
        """Frames the NIC's MAC has received whose first copy has not reached RBUF yet (and that
        are not dropped): in the MAC buffer, in the RTL, or crossing the bus."""
        nic_drops = sum(self.asm._nic["drops"].values())
        return self.st["received"] - nic_drops - self.st["delivered"]

    def run(self, until: int, stop_on_host: bool = False, idle_stay: bool = False) -> int:
        """Advance the NIC and the NP to ME cycle ``until`` (the engine's ``run`` contract:
        returns RUN_TIME, RUN_HOST, RUN_IDLE or RUN_FULL)."""
        inner = self.inner
        until = min(int(until), _FOREVER)
        if until < inner.now:
            return inner.run(until)                  # the engine's own error
        while True:
            if self.idle:
                if not self._arrivals:               # the NIC's clock stops: the NP alone
                    rc = inner.run(until, stop_on_host, idle_stay)
                    if rc not in (_RUN_HOST, _RUN_FULL):
                        self._np_done = inner.now
                    self._sync()
                    return rc
                self.c = max(self.c, self._arrivals[0][0])
            t_c = self._tme(self.c)
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
            if self._step(limit) == "frozen":
                rc = self._wait_for_room(limit, stop_on_host)
                if rc in (_RUN_HOST, _RUN_FULL):
                    return rc

    def _wait_for_room(self, limit: int, stop_on_host: bool) -> int:
        """The bus waits for RBUF room and the RTL is frozen (stalled on both sides, pipeline
        drained): run the NP alone until it releases RBUF elements (or to ``limit``, or to the
        next frame's arrival when the RTL's input is idle), then move the NIC's clock to the
        first cycle starting at or after that moment -- the first it can see the new room in."""
        inner, st = self.inner, self.st
        c = self.c
        wake = limit
        input_idle = self._cur_in is None and not self._buf
        if input_idle and self._arrivals:
            wake = min(wake, self._tme(self._arrivals[0][0]))
        rc = inner.run(wake, stop_on_host, False, stop_on_rbuf=True)
        self._sync()
        if rc not in (_RUN_HOST, _RUN_FULL, _RUN_RBUF):
            self._np_done = wake
        c2 = max(c, self._cycle_at(inner.now))
        while self._arrivals and self._arrivals[0][0] < c2:    # into the MAC buffer (the RTL cannot take them)
            self._admit(heapq.heappop(self._arrivals)[2])
        skipped = c2 - c
        st["frozen_cycles"] += skipped
        st["bus_wait_cycles" if self._repl is not None else "m_axis_stall_cycles"] += skipped
        if self._cur_in is not None:
            st["s_axis_stall_cycles"] += skipped
        self._quiet += skipped
        self.c = c2
        return rc

    def _step(self, limit: int) -> str:
        """Simulate NIC cycles from ``self.c`` while they start at or before ME cycle ``limit``;
        stop early at a cycle the RBUF room last read does not cover (``"sync"``: the NP must
        catch up first), when the NIC falls idle (``"idle"``), or at a cycle where the bus must
        wait for room while the RTL is frozen (``"frozen"``). Returns why it stopped."""
        st = self.st
        model, ev, clk = self._model, self._eval, self._clk
        P = self._p
        set_sv, set_sd, set_sk, set_sl = (P["s_axis_tvalid"].set, P["s_axis_tdata"].set, P["s_axis_tkeep"].set,
                                          P["s_axis_tlast"].set)
        get_sr = P["s_axis_tready"].get
        get_mv, get_mk, get_ml = P["m_axis_tvalid"].get, P["m_axis_tkeep"].get, P["m_axis_tlast"].get
        set_mr = self._set_m_ready
        wide = self._wide
        E, B = self._elem_bytes(), self._B
        tme = self._tme
        exact_at = self.c if self._np_done >= tme(self.c) else -1
        arrivals = self._arrivals
        c = self.c
        s_valid = self._s_valid                      # the pin as last driven (kept between calls)
        why = "limit"
        while True:
            t_c = tme(c)
            if t_c > limit:
                break
            # frames whose last bit is in by this cycle enter the MAC buffer
            while arrivals and arrivals[0][0] <= c:
                ca, _, f = heapq.heappop(arrivals)
                if ca < c:
                    st["late_arrivals"] += 1
                self._admit(f)
            if self.idle and (not arrivals or arrivals[0][0] > c):
                why = "idle"
                break
            # --- the bus into RBUF: decide this cycle's transfer from the room known
            repl, out = self._repl, self._out
            bus_need = 0
            r_bytes = 0
            m_ready = 1
            m_valid = get_mv(model)
            if repl is not None:
                m_ready = 0
                f = repl[0]
                done = repl[3]
                r_bytes = min(B, len(f.data) - done)
                bus_need = -(-(done + r_bytes) // E) - (-(-done // E))
                if bus_need > self._room:
                    if exact_at != c:
                        why = "sync"                 # the NP must catch up to this cycle first
                        break
                    if self._frozen(get_sr):
                        why = "frozen"
                        break
                    r_bytes = -1                     # waits for RBUF
            elif m_valid:
                if out is None:
                    tuser = self._get_wide("m_axis_tuser")
                    out = self._out = [self._rtl_q.popleft(), unpack_tuser(tuser, self._qpp), bytearray(), 0]
                res = out[1]
                if not res.drop:
                    nb = bin(get_mk(model)).count("1")
                    done = out[3]
                    bus_need = -(-(done + nb) // E) - (-(-done // E))
                    if bus_need > self._room:
                        if exact_at != c:
                            why = "sync"
                            break
                        if self._frozen(get_sr):
                            why = "frozen"
                            break
                        m_ready = 0
            # --- the MAC buffer into the RTL
            if self._cur_in is None and self._buf:
                f = self._buf.popleft()
                self._cur_in = f
                self._beats = self._make_beats(f.data)
                self._bi = 0
            if self._cur_in is not None:
                v, keep, last = self._beats[self._bi]
                if wide:
                    for w, word in enumerate(v):
                        set_sd(model, w, word)
                else:
                    set_sd(model, v)
                set_sk(model, keep)
                set_sl(model, last)
                if not s_valid:
                    set_sv(model, 1)
                    s_valid = 1
                s_fire = get_sr(model)
                if not s_fire:
                    st["s_axis_stall_cycles"] += 1
            else:
                if s_valid:
                    set_sv(model, 0)
                    s_valid = 0
                s_fire = 0
            # --- the m_axis beat, read before the edge
            m_fire = m_valid and m_ready
            if m_valid and not m_ready:
                st["m_axis_stall_cycles"] += 1
            if m_fire:
                m_keep = get_mk(model)
                m_last = get_ml(model)
                m_data = self._get_wide("m_axis_tdata")
            if m_ready != self._m_ready:
                set_mr(model, m_ready)
                self._m_ready = m_ready
            # --- the clock edge
            clk(model, 0)
            ev(model)
            clk(model, 1)
            ev(model)
            st["ticks"] += 1
            t_end = tme(c + 1)
            # --- what crossed at this edge
            if s_fire:
                self._quiet = 0
                if self._bi == 0:
                    self._rtl_q.append(self._cur_in)
                self._beats_in += 1
                self._bi += 1
                if self._bi == len(self._beats):
                    self._buf_bytes -= len(self._cur_in.data)
                    self._cur_in = None
            if m_fire:
                self._beats_out += 1
                nb = bin(m_keep).count("1")
                f, res, got, done = out
                got += m_data.to_bytes(B, "little")[:nb]
                out[3] = done + nb
                if not res.drop:
                    self._room -= bus_need
                    self._held += bus_need
                    st["bus_beats"] += 1
                if m_last:
                    self._out = None
                    if bytes(got) != f.data:
                        raise RuntimeError(f"the RTL changed frame {f.pkt}: {len(f.data)} bytes in, "
                                           f"{len(got)} out")
                    if res.drop:
                        self.asm._nic["drops"][res.reason] += 1
                    else:
                        pools = res.pool_list()
                        self._deliver(f, pools[0], res.queue, t_end, f.pkt)
                        st["delivered"] += 1
                        if len(pools) > 1:
                            self._repl = [f, pools[1:], res.queue, 0]
            elif repl is not None:
                if r_bytes < 0:
                    st["bus_wait_cycles"] += 1
                else:
                    self._room -= bus_need
                    self._held += bus_need
                    st["bus_beats"] += 1
                    repl[3] += r_bytes
                    if repl[3] == len(repl[0].data):
                        pool = repl[1].pop(0)
                        asm = self.asm
                        self._deliver(repl[0], pool, repl[2], t_end, asm._next_id)
                        asm._next_id += 1
                        asm._nic["replicas"] += 1
                        st["replicas"] += 1
                        repl[3] = 0
                        if not repl[1]:
                            self._repl = None
            else:
                self._quiet += 1
            occ = self._beats_in - self._beats_out
            if occ > st["fifo_max_beats"]:
                st["fifo_max_beats"] = occ
            c += 1
        self._s_valid = s_valid
        self.c = c
        return why

    def _frozen(self, get_sr: Any) -> bool:
        """The RTL cannot move until RBUF has room: no input beat can enter (its input is idle
        with no frame due this cycle, or its frame FIFO is full) and its pipeline has drained."""
        if not self.skip_frozen or self._quiet < _QUIET_CYCLES:
            return False
        if self._cur_in is not None:
            return not get_sr(self._model)
        return not self._buf

    def _elem_bytes(self) -> int:
        return self.elem

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
        return (f"{self.inner.line_trace()} nic@{self.c}:buf={len(self._buf)}/{self._buf_bytes}B"
                f" fifo={self._beats_in - self._beats_out} bus={'r' if self._repl else ('o' if self._out else '-')}"
                f" room={self._room}")

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
        return {"timing": "cycle", "clock_hz": self.f_nic, "rx_buffer_bytes": self.rx_buffer_bytes,
                "cycles": self.c, "in_flight": self.held, **self.st}

    def __getattr__(self, name: str) -> Any:
        # anything else an engine offers (reference-engine internals for tests, ...)
        return getattr(self.inner, name)


# keep REASONS importable from here for messages naming the NIC's drop reasons
NIC_DROP_REASONS = tuple(r for r in REASONS if r) + ("rx_missed", "giant")
