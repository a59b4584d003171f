"""PyEngine: the pure-Python reference engine.

It executes the same NPR microcode (the C blocks, stepped through
``np_block_step``) on the same machine as the compiled engine, and is a
line-by-line reimplementation of ``np_model/core/engine.c`` (``np_run``):
read the two side by side. The equivalence test
(tests/np_model/engine/test_engine_equivalence.py) checks that both produce
the same simulation event for event. The semantics mirrored:

- Events are ordered by (cycle, insertion sequence); every event is pushed
  at the point, and therefore in the order, engine.c pushes it.
- An ME runs one thread at a time. A thread runs its block until the block
  yields an op; the op's ALU cycles (``op.compute``) pass first, holding the
  ME (an EV_ISSUE event); then the op issues. An op that waits swaps the
  thread out: the ME is busy ``swap_cycles`` more (EV_ME_FREE), then picks
  the next READY thread round-robin after the one dispatched last. A thread
  made ready while its ME idles starts at once (recursively, as in C).
- A server is a FIFO in 1/NP_SUB cycle units: start = max(issue, free);
  free = start + occ; done = ceil(start + occ - occ_min + lat), with
  occ = cmd + units * occ_unit. DRAM accesses are split at interleave
  boundaries over the channels; the access completes with its latest piece.
- A ring put takes a slot at issue; the entry becomes visible when its
  write completes (EV_RING_VIS). A get takes the oldest visible entry at
  issue (memory rings and hardware queues charge a read). Blocked getters
  are served FIFO when an entry becomes visible, blocked putters FIFO when a
  slot frees; WAIT_ANY waiters whose list names the ring are all woken.
- Ports: frames arrive serialised on the input wire (EV_RX at the last
  bit), or, on a port fed by a flow-controlled NIC bus (np_port_set_bus),
  whole at the cycle they were fed for; the MSF accepts them into RBUF and
  pushes a status entry. Tx ops
  place frames in the port's TBUF (waiting only for room); the wire sends
  the TBUF head (EV_TX_DONE), which pushes a TXDONE entry to Tx.
- Host injections are staged one at a time (EV_INJECT) into HOST_IN.

The machine (memory images, tables, queue manager, counters, outputs) is
shared and is touched only through the ``np_fx_*`` / ``np_thread_*`` hooks
of npcore_api.h; every piece of *timing* state engine.c keeps in the C
structs (events, thread states, ME arbitration and accounting, servers,
ring contents and waiters, signals, wire and TBUF state) lives here, one
class per hardware component, each with a PyMTL-style ``line_trace()``.
Statistics are pushed back into the machine after every ``run`` so
``NPR.stats()`` reads them the same way for both engines.

It is a reference, written to be read: correct first, not fast.
"""
from __future__ import annotations

import heapq
from collections import deque
from time import perf_counter
from typing import Any

from ..core import CoreError, ffi, lib
from ..formats import FORMATS
from .cengine import FOREVER, RUN_FULL, RUN_HOST, RUN_IDLE, RUN_RBUF, RUN_TIME
from .machine import Machine

__all__ = ["PyEngine", "Server", "Memory", "Ring", "MicroEngine", "Thread", "Port"]

SUB = lib.NP_SUB
NO_PKT = lib.NP_NO_PKT
MAX_TBUF = 256                # NP_MAX_TBUF in npcore.h: frame slots per port's TBUF list
TX_OUT_FULL = 1 << 20         # np_run stops (RUN_FULL) when this many tx records wait

# event kinds, in engine.c's order (only the (cycle, seq) order matters)
EV_ISSUE, EV_WAKE, EV_ME_FREE, EV_RING_VIS, EV_TIMER, EV_RX, EV_TX_DONE, EV_INJECT = range(8)

# thread states (enum np_tstate)
TS_READY = lib.NP_TS_READY
TS_RUNNING = lib.NP_TS_RUNNING
TS_WAIT_MEM = lib.NP_TS_WAIT_MEM
TS_WAIT_WORK = lib.NP_TS_WAIT_WORK
TS_WAIT_BP = lib.NP_TS_WAIT_BP
TS_HALTED = lib.NP_TS_HALTED
_STATE_CHAR = {TS_READY: "r", TS_RUNNING: "X", TS_WAIT_MEM: "m", TS_WAIT_WORK: ".",
               TS_WAIT_BP: "b", TS_HALTED: "-"}

OPF_WRITE = lib.NP_OPF_WRITE
OPF_POSTED = lib.NP_OPF_POSTED
OPF_TRY = lib.NP_OPF_TRY
R_OK, R_EMPTY, R_FULL = lib.NP_R_OK, lib.NP_R_EMPTY, lib.NP_R_FULL
RING_MEM = lib.NP_RING_MEM
RING_QUEUE = lib.NP_RING_QUEUE
_TXDONE = FORMATS["txdone"]


def ceil_sub(x: int) -> int:
    """Sub-cycles to whole cycles, rounded up (CEIL_SUB in engine.c)."""
    return (x + SUB - 1) // SUB


# ------------------------------------------------------------------------------------------
# hardware components


class Server:
    """A FIFO server: one memory channel (or direction of one), in sub-cycles."""

    def __init__(self, index: int, lat: int, unit: int, occ_sub: int, cmd_sub: int):
        self.index = index
        self.lat, self.unit, self.occ_sub, self.cmd_sub = lat, unit, occ_sub, cmd_sub
        self.free_sub = 0
        # statistics (np_srv_stats_t)
        self.ops = self.units = self.busy_sub = self.wait_sub = self.max_wait_sub = 0

    def access(self, nbytes: int, now: int) -> tuple[int, int]:
        """One access issued at cycle ``now``: (completion cycle, unloaded latency).
        Mirrors srv_access."""
        units = max(1, (nbytes + self.unit - 1) // self.unit)
        occ = self.cmd_sub + units * self.occ_sub
        occ_min = self.cmd_sub + self.occ_sub
        now_sub = now * SUB
        start = max(self.free_sub, now_sub)
        self.free_sub = start + occ
        done_sub = start + occ - occ_min + self.lat * SUB
        wait = start - now_sub
        self.ops += 1
        self.units += units
        self.busy_sub += occ
        self.wait_sub += wait
        self.max_wait_sub = max(self.max_wait_sub, wait)
        unloaded = (self.lat + ceil_sub(occ - occ_min)) & 0xFFFFFFFF
        return ceil_sub(done_sub), unloaded

    def line_trace(self) -> str:
        return f"srv{self.index}:free@{self.free_sub / SUB:.1f},ops={self.ops}"


class Memory:
    """A memory: its read and write servers; interleaved over channels if nsrv > 1."""

    def __init__(self, index: int, kind: int, rd: list[Server], wr: list[Server], shift: int):
        self.index, self.kind, self.rd, self.wr, self.shift = index, kind, rd, wr, shift

    def access(self, write: bool, addr: int, nbytes: int, now: int) -> tuple[int, int]:
        """(completion cycle, unloaded latency) of an access. Mirrors mem_access."""
        servers = self.wr if write else self.rd
        if len(servers) == 1:
            return servers[0].access(nbytes, now)
        # interleaved: split at (1 << shift)-byte boundaries, done with the last piece
        done, unloaded = now, 0
        a, end, blk = addr, addr + (nbytes if nbytes else 1), 1 << self.shift
        while a < end:
            nb = min((a | (blk - 1)) + 1, end)
            d, u = servers[(a >> self.shift) % len(servers)].access(nb - a, now)
            done, unloaded = max(done, d), max(unloaded, u)
            a = nb
        return done, unloaded

    def line_trace(self) -> str:
        return f"mem{self.index}:" + "|".join(s.line_trace() for s in self.rd)


class Ring:
    """A ring: entries in FIFO order (the first ``nvis`` visible), waiting threads."""

    def __init__(self, index: int, name: str, kind: int, mem: Memory | None, words: int, cap: int,
                 nn_lat: int):
        self.index, self.name, self.kind, self.mem = index, name, kind, mem
        self.words, self.cap, self.nn_lat = words, cap, nn_lat
        self.memref = kind in (RING_MEM, RING_QUEUE)       # gets and puts are memory references
        self.entries: deque[tuple[int, ...]] = deque()
        self.nvis = 0
        self.getw: deque[int] = deque()     # threads blocked in a get (FIFO)
        self.putw: deque[int] = deque()     # threads blocked in a put (FIFO)
        # statistics (np_ring_stats_t; 'count' is always len(entries))
        self.puts = self.gets = self.full = self.hwm = 0

    @property
    def count(self) -> int:
        return len(self.entries)

    def line_trace(self) -> str:
        return (f"{self.name}:{self.count}/{self.cap}(vis {self.nvis})"
                + (f" g{len(self.getw)}" if self.getw else "") + (f" p{len(self.putw)}" if self.putw else ""))


class Thread:
    """One hardware context; its block's state lives in the machine."""

    def __init__(self, tid: int, me: "MicroEngine", idx: int, op: Any, xin: Any):
        self.tid, self.me, self.idx = tid, me, idx
        self.state = TS_READY
        self.op_pending = False     # the block has yielded an op not yet executed
        self.wait: tuple[int, ...] = ()   # WAIT_ANY: the rings it waits on
        self.op = op                # np_op_t * in the machine (the block writes it)
        self.xin = xin              # uint32_t[NP_XWORDS] transfer registers

    def line_trace(self) -> str:
        return _STATE_CHAR.get(self.state, "?")


class MicroEngine:
    """An ME: runs one thread at a time; busy/stall/idle accounting."""

    def __init__(self, index: int, name: str):
        self.index, self.name = index, name
        self.threads: list[Thread] = []
        self.running = -1           # index of the running thread, -1 if none
        self.swapping = False       # in a context swap until EV_ME_FREE
        self.last = 0               # last thread dispatched (round robin)
        self.n_memwait = 0          # threads waiting on memory (stall vs idle)
        self.acct_t = 0
        self.acct_state = 0         # 0 idle, 1 busy
        self.busy = self.stall = self.idle = self.dispatches = 0

    def account(self, now: int) -> None:
        """Close the accounting interval at ``now`` (me_acct)."""
        d = now - self.acct_t
        if self.acct_state:
            self.busy += d
        elif self.n_memwait:
            self.stall += d
        else:
            self.idle += d
        self.acct_t = now

    def line_trace(self) -> str:
        return f"{self.name}:" + "".join(t.line_trace() for t in self.threads)


class Port:
    """A port's wires and MSF buffers: input serialisation, TBUF frames, output wire."""

    def __init__(self, index: int):
        self.index = index
        self.rx_free_sub = 0        # input wire busy until
        self.rx_pending = False     # an EV_RX is scheduled
        self.tx_free_sub = 0        # output wire busy until
        self.wire_busy = False
        self.tx_cur_start = 0       # first-bit cycle of the frame on the wire
        self.tbuf: deque[tuple[int, int]] = deque()   # (handle, len) in send order
        self.tbuf_used = 0          # TBUF elements held
        self.txwait: deque[int] = deque()             # threads waiting for TBUF room
        self.tx_busy_sub = 0        # statistics: output wire busy time
        self.tbuf_waits = 0         # Tx ops that had to wait for TBUF room (reference-only count)

    def line_trace(self) -> str:
        return (f"p{self.index}:rx{'*' if self.rx_pending else '-'}"
                f" tx{'*' if self.wire_busy else '-'} tbuf {len(self.tbuf)}f/{self.tbuf_used}e"
                + (f" w{len(self.txwait)}" if self.txwait else "") + f" tbuf_waits={self.tbuf_waits}")


# ------------------------------------------------------------------------------------------
# the engine


class PyEngine:
    """The reference engine: engine.c's ``np_run`` in Python, same interface as CEngine."""

    name = "py"

    def __init__(self, machine: Machine):
        self.m = machine
        self.ptr = machine.ptr
        self.wall_s = 0.0
        self._now = int(lib.np_now(self.ptr))
        self._events = 0
        self._heap: list[tuple[int, int, int, Any]] = []
        self._seq = 0
        self._rx_rr = 0             # MSF receive round pointer (np_t.rx_rr)
        self._booted = False
        self._inj_pending = False
        self._trace_on = False
        self._built = False
        # scratch cdata for hook out-parameters
        self._u64 = ffi.new("uint64_t *")
        self._u32 = ffi.new("uint32_t *")
        self._entry = ffi.new("uint32_t[]", lib.NP_XWORDS)
        self._tx_recs = ffi.new("np_tx_rec_t **")
        self._tx_cap = ffi.new("uint8_t **")
        self._tx_cap_len = ffi.new("uint64_t *")
        if lib.np_started(self.ptr):
            self._build()

    # -- construction: mirror the machine's wiring ---------------------------------------
    def _build(self) -> None:
        """Read the machine's servers, memories, rings, MEs and ports; start state
        as np_start leaves the C engine's (the buffer free queue full)."""
        p, m = ffi.new("np_params_t *"), self.ptr
        lib.np_get_params(m, p)
        self.swap_cycles = int(p.swap_cycles)
        self.tbuf_elements = int(p.tbuf_elements)
        self.n_buffers = int(p.n_buffers)
        lat, unit, occ, cmd = (ffi.new("uint32_t *"), ffi.new("uint32_t *"), ffi.new("uint64_t *"),
                               ffi.new("uint64_t *"))
        self.servers = []
        for i in range(lib.np_n_servers(m)):
            lib.np_srv_info(m, i, lat, unit, occ, cmd)
            self.servers.append(Server(i, lat[0], unit[0], occ[0], cmd[0]))
        kind, rd, wr, nsrv, shift = (ffi.new("int *") for _ in range(5))
        self.memories = []
        while lib.np_mem_info(m, len(self.memories), kind, rd, wr, nsrv, shift) == 0:
            self.memories.append(Memory(len(self.memories), kind[0],
                                        self.servers[rd[0]:rd[0] + nsrv[0]],
                                        self.servers[wr[0]:wr[0] + nsrv[0]], shift[0]))
        words, cap, nnl = ffi.new("int *"), ffi.new("uint32_t *"), ffi.new("uint32_t *")
        self.rings = []
        for i in range(lib.np_n_rings(m)):
            lib.np_ring_info(m, i, kind, rd, words, cap, nnl)
            mem = self.memories[rd[0]] if kind[0] in (RING_MEM, RING_QUEUE) else None
            self.rings.append(Ring(i, ffi.string(lib.np_ring_name(m, i)).decode(), kind[0], mem,
                                   words[0], cap[0], nnl[0]))
        self.hw_ring = [lib.np_hw_ring(m, r) for r in range(lib.NP_HW_COUNT)]
        self.mes, self.threads = [], []
        for e in range(lib.np_n_mes(m)):
            me = MicroEngine(e, ffi.string(lib.np_me_name(m, e)).decode())
            tid0, n = lib.np_me_first_thread(m, e), lib.np_me_threads(m, e)
            for k in range(n):
                tid = tid0 + k
                assert tid == len(self.threads) and lib.np_thread_me(m, tid) == e
                t = Thread(tid, me, k, lib.np_thread_op(m, tid), lib.np_thread_xin(m, tid))
                me.threads.append(t)
                self.threads.append(t)
            me.last = n - 1
            self.mes.append(me)
        self.ports = [Port(i) for i in range(lib.np_n_ports(m))]
        self.any_waiters: list[int] = []                 # WAIT_ANY threads, in wait order
        self.sig = [0] * lib.np_n_signals(m)             # signals set with no waiter
        self.sig_waiter = [-1] * lib.np_n_signals(m)
        # the buffer free queue starts full, every handle visible (np_start)
        bq = self.rings[self.hw_ring[lib.NP_HW_BUFQ]]
        handles = ffi.new("uint32_t[]", self.n_buffers)
        n = lib.np_fx_bufq_fill(m, handles, self.n_buffers)
        pad = (0,) * (bq.words - 1)
        bq.entries.extend((handles[i],) + pad for i in range(n))
        bq.nvis = n
        bq.hwm = n
        # the blocks read how many entries each ring has visible: keep the machine's array exact
        self._vis = lib.np_ring_vis(m)
        for r in self.rings:
            self._vis[r.index] = r.nvis
        self._ring_trace = False
        self._built = True
        self._publish_stats()

    # -- small helpers -------------------------------------------------------------------
    def _push(self, t: int, kind: int, arg: Any) -> None:
        """ev_push: events fire in (cycle, insertion sequence) order."""
        heapq.heappush(self._heap, (t, self._seq, kind, arg))
        self._seq += 1

    def _set_now(self, now: int) -> None:
        """engine.c's ``m->now = now``: the machine's notion of time for the hooks."""
        self._now = now
        lib.np_fx_set_now(self.ptr, now)


    def _trace(self, t: Thread, now: int, done: int, unloaded: int) -> None:
        """trace_op: record the op a thread issues (only ops working for a packet)."""
        if self._trace_on and t.op.pkt != NO_PKT:
            lib.np_fx_trace(self.ptr, t.tid, t.op, now, done, unloaded)

    # -- ME arbitration (thr_set_state, me_dispatch, thr_ready) --------------------------
    def _thr_set_state(self, t: Thread, st: int, now: int) -> None:
        e = t.me
        was, will = t.state == TS_WAIT_MEM, st == TS_WAIT_MEM
        if was != will:
            if not e.acct_state:
                e.account(now)
            e.n_memwait += int(will) - int(was)
        t.state = st

    def _me_dispatch(self, e: MicroEngine, now: int) -> None:
        n = len(e.threads)
        for k in range(1, n + 1):
            idx = (e.last + k) % n
            t = e.threads[idx]
            if t.state != TS_READY:
                continue
            if not e.acct_state:
                e.account(now)
                e.acct_state = 1
            e.running = idx
            e.last = idx
            e.dispatches += 1
            t.state = TS_RUNNING
            self._thread_run(t, now)
            return
        if e.acct_state:
            e.account(now)
            e.acct_state = 0

    def _thr_ready(self, t: Thread, now: int) -> None:
        self._thr_set_state(t, TS_READY, now)
        e = t.me
        if e.running < 0 and not e.swapping:
            self._me_dispatch(e, now)

    def _thread_run(self, t: Thread, now: int) -> None:
        """Run the block until an op waits (swap out) or has ALU cycles to spend."""
        while True:
            if not t.op_pending:
                lib.np_block_step(self.ptr, t.tid, now)    # sets m->now, clears op.compute
                t.op_pending = True
            c = t.op.compute
            if c:
                t.op.compute = 0
                self._push(now + c, EV_ISSUE, t.tid)
                return
            t.op_pending = False
            if not self._op_exec(t, now):
                e = t.me
                e.running = -1
                e.swapping = True
                self._push(now + self.swap_cycles, EV_ME_FREE, e.index)
                return

    # -- rings (ring_pop, ring_append, ring_put_issue, ring_space, ring_deliver, ring_visible)
    def _ring_pop(self, r: Ring, t: Thread) -> None:
        entry = r.entries.popleft()
        for i, w in enumerate(entry):
            t.xin[i] = w
        r.nvis -= 1
        self._vis[r.index] = r.nvis
        r.gets += 1

    def _ring_append(self, r: Ring, words: list[int], now: int) -> tuple[int, int]:
        """Take a slot; returns (cycle the entry becomes visible, unloaded latency)."""
        entry = tuple(words[:r.words]) + (0,) * (r.words - min(len(words), r.words))
        if r.count >= r.cap:   # engine.c would overwrite the ring's oldest slot
            raise CoreError(f"ring {r.name}: append to a full ring ({r.cap} entries)")
        r.entries.append(entry)
        if self._ring_trace:
            lib.np_fx_ring_put(self.ptr, r.index, list(entry), r.words, now)
        r.puts += 1
        r.hwm = max(r.hwm, r.count)
        if r.memref:
            return r.mem.access(True, 0, r.words * 4, now)
        return now + r.nn_lat, r.nn_lat

    def _op_words(self, t: Thread) -> list[int]:
        op = t.op
        return [op.words[i] for i in range(op.nwords)]

    def _ring_put_issue(self, r: Ring, t: Thread, now: int) -> bool:
        """Issue t's pending put (a slot is free); True if the thread goes on."""
        done, unl = self._ring_append(r, self._op_words(t), now)
        posted = bool(t.op.flags & OPF_POSTED) or not r.memref
        self._trace(t, now, done, unl)
        self._push(done, EV_RING_VIS, (r.index, -1 if posted else t.tid))
        return posted

    def _ring_space(self, r: Ring, now: int) -> None:
        """A slot freed: blocked putters issue, in FIFO order."""
        while r.putw and r.count < r.cap:
            w = self.threads[r.putw.popleft()]
            lib.np_thread_set_result(self.ptr, w.tid, R_OK)
            if self._ring_put_issue(r, w, now):
                self._thr_ready(w, now)
            else:
                self._thr_set_state(w, TS_WAIT_MEM, now)

    def _ring_deliver(self, r: Ring, w: Thread, now: int) -> None:
        """Hand the head entry to a thread blocked in a get."""
        self._ring_pop(r, w)
        lib.np_thread_set_result(self.ptr, w.tid, R_OK)
        if r.memref:
            done, _ = r.mem.access(False, 0, r.words * 4, now)
            self._thr_set_state(w, TS_WAIT_MEM, now)
            self._push(done, EV_WAKE, w.tid)
        else:
            self._thr_ready(w, now)
        self._ring_space(r, now)

    def _ring_visible(self, r: Ring, putter: int, now: int) -> None:
        """EV_RING_VIS: an entry's write completed."""
        r.nvis += 1
        self._vis[r.index] = r.nvis
        if putter >= 0:
            self._thr_ready(self.threads[putter], now)
        while r.nvis and r.getw:
            self._ring_deliver(r, self.threads[r.getw.popleft()], now)
        if r.nvis and self.any_waiters:
            # As engine.c: walk the list by index while threads woken (and run at
            # once) may append themselves again; those are visited too.
            k, i = 0, 0
            while i < len(self.any_waiters):
                w = self.threads[self.any_waiters[i]]
                if r.index in w.wait:
                    self._thr_ready(w, now)
                else:
                    self.any_waiters[k] = w.tid
                    k += 1
                i += 1
            del self.any_waiters[k:]

    # -- ports (rx_schedule, tx_next, tx_admit, tx_done) ---------------------------------
    def _rx_schedule(self, p: Port, at_run_start: bool = False) -> None:
        if p.rx_pending or not lib.np_fx_next_arrival(self.ptr, p.index, self._u64, self._u32):
            return
        if lib.np_port_bus(self.ptr, p.index) == 1:
            # fed by a flow-controlled NIC bus (np_port_set_bus): the frame enters whole at its cycle,
            # its reception ending then (rx_complete takes it in that cycle's round)
            at = max(self._u64[0], self._now)
            p.rx_free_sub = at * SUB
            p.rx_pending = True
            self._push(at, EV_RX, p.index)
            return
        w = lib.np_fx_wire_sub(self.ptr, p.index, self._u32[0])
        # at a run's start a frame np_feed took late keeps its first-bit time (engine.c rx_schedule)
        start = max(self._u64[0] * SUB, p.rx_free_sub, self._now * SUB - w if at_run_start else self._now * SUB)
        p.rx_free_sub = start + w
        p.rx_pending = True
        self._push(ceil_sub(p.rx_free_sub), EV_RX, p.index)

    def _tx_next(self, p: Port, now: int) -> None:
        """Start the head TBUF frame on the wire if the wire is free."""
        if p.wire_busy or not p.tbuf:
            return
        start = max(now * SUB, p.tx_free_sub)
        w = lib.np_fx_wire_sub(self.ptr, p.index, p.tbuf[0][1])
        p.tx_free_sub = start + w
        p.tx_busy_sub += w
        p.wire_busy = True
        p.tx_cur_start = ceil_sub(start)
        self._push(ceil_sub(p.tx_free_sub), EV_TX_DONE, p.index)

    def _tx_admit(self, p: Port, h: int, length: int, now: int) -> bool:
        """Place a frame in the TBUF if it fits (an empty TBUF takes any frame)."""
        need = lib.np_fx_tbuf_need(self.ptr, length)
        if p.tbuf and (p.tbuf_used + need > self.tbuf_elements or len(p.tbuf) >= MAX_TBUF):
            return False
        p.tbuf.append((h, length))
        p.tbuf_used += need
        self._tx_next(p, now)
        return True

    def _tx_done(self, p: Port, now: int) -> None:
        """EV_TX_DONE: the head frame left the wire; push TXDONE, admit waiters."""
        h, length = p.tbuf.popleft()
        p.wire_busy = False
        p.tbuf_used -= lib.np_fx_tbuf_need(self.ptr, length)
        self._set_now(now)
        lib.np_fx_tx_done(self.ptr, p.index, h, length, p.tx_cur_start, now)
        ri = self.hw_ring[lib.NP_HW_TXDONE]
        if ri >= 0:
            vis, _ = self._ring_append(self.rings[ri], _TXDONE.encode(handle=h, port=p.index), now)
            self._push(vis, EV_RING_VIS, (ri, -1))
        while p.txwait:
            w = self.threads[p.txwait[0]]
            if not self._tx_admit(p, w.op.words[0], w.op.bytes, now):
                break
            p.txwait.popleft()
            self._thr_ready(w, now)
        self._tx_next(p, now)

    # -- op execution (op_exec) ----------------------------------------------------------
    def _op_exec(self, t: Thread, now: int) -> bool:
        """Execute t's op at ``now``; True if the thread goes on without a swap."""
        op = t.op
        kind = op.kind
        if kind == lib.NP_OP_MEM:
            done, unl = self.memories[op.target].access(bool(op.flags & OPF_WRITE), op.addr, op.bytes, now)
            self._trace(t, now, done, unl)
            if op.flags & OPF_POSTED:
                return True
            self._thr_set_state(t, TS_WAIT_MEM, now)
            self._push(done, EV_WAKE, t.tid)
            return False
        if kind == lib.NP_OP_RING_GET:
            r = self.rings[op.target]
            if r.nvis:
                self._ring_pop(r, t)
                lib.np_thread_set_result(self.ptr, t.tid, R_OK)
                self._ring_space(r, now)
                if not r.memref:
                    return True
                done, unl = r.mem.access(False, 0, r.words * 4, now)
                self._trace(t, now, done, unl)
                self._thr_set_state(t, TS_WAIT_MEM, now)
                self._push(done, EV_WAKE, t.tid)
                return False
            if op.flags & OPF_TRY:
                lib.np_thread_set_result(self.ptr, t.tid, R_EMPTY)
                if not r.memref:
                    return True
                done, _ = r.mem.access(False, 0, 4, now)
                self._thr_set_state(t, TS_WAIT_MEM, now)
                self._push(done, EV_WAKE, t.tid)
                return False
            r.getw.append(t.tid)
            self._thr_set_state(t, TS_WAIT_WORK, now)
            return False
        if kind == lib.NP_OP_RING_PUT:
            r = self.rings[op.target]
            if r.count >= r.cap:
                r.full += 1
                if op.flags & OPF_TRY:
                    lib.np_thread_set_result(self.ptr, t.tid, R_FULL)
                    return True
                r.putw.append(t.tid)
                self._thr_set_state(t, TS_WAIT_BP, now)
                return False
            lib.np_thread_set_result(self.ptr, t.tid, R_OK)
            if self._ring_put_issue(r, t, now):
                return True
            self._thr_set_state(t, TS_WAIT_MEM, now)
            return False
        if kind == lib.NP_OP_WAIT_ANY:
            rings = tuple(op.words[i] for i in range(op.nwords))
            if any(self._vis[ri] for ri in rings):
                return True
            t.wait = rings[:lib.NP_WAIT_MAX]
            self.any_waiters.append(t.tid)
            self._thr_set_state(t, TS_WAIT_WORK, now)
            return False
        if kind == lib.NP_OP_WAIT_UNTIL:
            if op.addr <= now:
                return True
            self._thr_set_state(t, TS_WAIT_WORK, now)
            self._push(op.addr, EV_TIMER, t.tid)
            return False
        if kind == lib.NP_OP_SIGNAL:
            s = op.target
            if self.sig_waiter[s] >= 0:
                w = self.threads[self.sig_waiter[s]]
                self.sig_waiter[s] = -1
                self._thr_ready(w, now)
            else:
                self.sig[s] = 1
            return True
        if kind == lib.NP_OP_WAIT_SIG:
            s = op.target
            if self.sig[s]:
                self.sig[s] = 0
                return True
            self.sig_waiter[s] = t.tid
            self._thr_set_state(t, TS_WAIT_WORK, now)
            return False
        if kind == lib.NP_OP_TX:
            # into the port's transmit buffer; the thread waits only for room
            p = self.ports[op.target]
            self._trace(t, now, now, 0)
            if not p.txwait and self._tx_admit(p, op.words[0], op.bytes, now):
                return True
            p.txwait.append(t.tid)
            p.tbuf_waits += 1
            self._thr_set_state(t, TS_WAIT_BP, now)
            return False
        if kind == lib.NP_OP_RBUF_FREE:
            lib.np_fx_rbuf_release(self.ptr, op.target)
            return True
        if kind == lib.NP_OP_HOST:
            self._trace(t, now, now, 0)
            lib.np_fx_host(self.ptr, op, now)                # sets m->now = now
            return True
        if kind == lib.NP_OP_HALT:
            self._thr_set_state(t, TS_HALTED, now)
            return False
        # engine.c records the error and halts the thread; a reference engine is loud
        self._thr_set_state(t, TS_HALTED, now)
        raise CoreError(f"thread {t.tid} issued unknown op {kind}")

    # -- host injections (inject_schedule) -----------------------------------------------
    def _inject_schedule(self) -> None:
        if not self._inj_pending and lib.np_fx_next_inject(self.ptr, self._u64):
            self._inj_pending = True
            self._push(max(self._u64[0], self._now), EV_INJECT, 0)

    def _inject(self, now: int) -> None:
        """EV_INJECT: stage the next host injection into the HOST_IN ring."""
        self._inj_pending = False
        entry = self._entry
        for i in range(lib.NP_XWORDS):
            entry[i] = 0
        ri = self.hw_ring[lib.NP_HW_HOST_IN]
        nw = lib.np_fx_take_inject(self.ptr, entry)
        if nw > 0:
            r = self.rings[ri] if ri >= 0 else None
            if r is None or r.count >= r.cap:
                lib.np_fx_host_in_drop(self.ptr, entry[0])
                if r is not None:
                    r.full += 1
            else:
                vis, _ = self._ring_append(r, [entry[i] for i in range(nw)], now)
                self._push(vis, EV_RING_VIS, (ri, -1))
        self._inject_schedule()

    def _rx(self, p: Port, now: int) -> None:
        """EV_RX (engine.c rx_complete): every port whose frame ended at ``now`` is
        accepted in one round, starting at a pointer that moves on one port per
        round, so simultaneous arrivals are not always served in port order."""
        if not p.rx_pending or ceil_sub(p.rx_free_sub) != now:
            return                                  # served earlier in this round
        n = len(self.ports)
        first = self._rx_rr
        self._rx_rr = (first + 1) % n
        entry = self._entry
        for k in range(n):
            q = self.ports[(first + k) % n]
            if not q.rx_pending or ceil_sub(q.rx_free_sub) != now:
                continue
            q.rx_pending = False
            for i in range(lib.NP_XWORDS):
                entry[i] = 0
            nw = lib.np_fx_rx_accept(self.ptr, q.index, now, entry)
            if nw > 0:
                ri = self.hw_ring[lib.NP_HW_RBUF]
                vis, _ = self._ring_append(self.rings[ri], [entry[i] for i in range(nw)], now)
                self._push(vis, EV_RING_VIS, (ri, -1))
            self._rx_schedule(q)

    # -- the event loop (np_run) ---------------------------------------------------------
    def _boot(self) -> None:
        for e in self.mes:
            e.acct_t = self._now
            self._me_dispatch(e, self._now)

    def _tx_out_count(self) -> int:
        return lib.np_take_tx(self.ptr, self._tx_recs, self._tx_cap, self._tx_cap_len)

    def run(self, until: int, stop_on_host: bool = False, idle_stay: bool = False,
            stop_on_rbuf: bool = False) -> int:
        """Simulate up to cycle ``until``; returns RUN_TIME, RUN_HOST, RUN_IDLE, RUN_FULL or RUN_RBUF.
        ``idle_stay``: when nothing is left, stay at the last event (np_run's NP_IDLE_STAY);
        ``stop_on_rbuf``: return after an event that released RBUF elements (NP_STOP_RBUF).
        ``wall_s`` adds up the wall-clock time spent here (np_run_wall_ns for the C engine)."""
        t0 = perf_counter()
        try:
            return self._run(until, stop_on_host, idle_stay, stop_on_rbuf)
        finally:
            self.wall_s += perf_counter() - t0

    def _run(self, until: int, stop_on_host: bool, idle_stay: bool, stop_on_rbuf: bool) -> int:
        if not lib.np_started(self.ptr):
            raise CoreError("machine not started")
        if not self._built:
            self._build()
        until = min(int(until), FOREVER)
        if until < self._now:
            raise CoreError(f"run until cycle {until} is before the current cycle {self._now}")
        # np_set_trace is a Python call, so the switch cannot change inside a run
        self._trace_on = bool(lib.np_fx_trace_on(self.ptr))
        self._ring_trace = bool(lib.np_fx_ring_trace_on(self.ptr))
        if not self._booted:
            self._booted = True
            self._boot()
        for p in self.ports:
            self._rx_schedule(p, True)
        self._inject_schedule()
        lib.np_fx_host_pending(self.ptr, 1)
        lib.np_fx_rbuf_released(self.ptr, 1)
        rc = RUN_IDLE
        while self._heap:
            if self._heap[0][0] > until:
                self._set_now(until)
                rc = RUN_TIME
                break
            now, _, kind, arg = heapq.heappop(self._heap)
            self._set_now(now)
            self._events += 1
            self._dispatch(kind, arg, now)
            if stop_on_host and lib.np_fx_host_pending(self.ptr, 0):
                rc = RUN_HOST
                break
            if stop_on_rbuf and lib.np_fx_rbuf_released(self.ptr, 0):
                rc = RUN_RBUF
                break
            if self._tx_out_count() >= TX_OUT_FULL:
                rc = RUN_FULL
                break
        else:
            if not idle_stay and until != FOREVER and until > self._now:
                self._set_now(until)
        for e in self.mes:
            e.account(self._now)
        self._publish_stats()
        return rc

    def _dispatch(self, kind: int, arg: Any, now: int) -> None:
        """One event, as the switch in np_run."""
        if kind == EV_ISSUE:                # a thread's ALU cycles are spent: issue its op
            self._thread_run(self.threads[arg], now)
        elif kind in (EV_WAKE, EV_TIMER):   # memory reference done / WAIT_UNTIL reached
            self._thr_ready(self.threads[arg], now)
        elif kind == EV_ME_FREE:            # the context swap is over
            e = self.mes[arg]
            e.swapping = False
            self._me_dispatch(e, now)
        elif kind == EV_RING_VIS:           # a ring entry's write completed
            ri, putter = arg
            self._ring_visible(self.rings[ri], putter, now)
        elif kind == EV_RX:
            self._rx(self.ports[arg], now)
        elif kind == EV_TX_DONE:
            self._tx_done(self.ports[arg], now)
        elif kind == EV_INJECT:
            self._inject(now)
        else:
            raise AssertionError(f"unknown event kind {kind}")

    def _publish_stats(self) -> None:
        """Write ME, ring, server and wire statistics into the machine (NPR.stats reads them)."""
        m = self.ptr
        for e in self.mes:
            lib.np_fx_me_account(m, e.index, e.busy, e.stall, e.idle, e.dispatches)
        for r in self.rings:
            lib.np_fx_ring_account(m, r.index, r.puts, r.gets, r.full, r.hwm, r.count)
        for s in self.servers:
            lib.np_fx_srv_account(m, s.index, s.ops, s.units, s.busy_sub, s.wait_sub, s.max_wait_sub)
        for p in self.ports:
            lib.np_fx_port_busy(m, p.index, p.tx_busy_sub)

    # -- interface shared with CEngine ---------------------------------------------------
    @property
    def now(self) -> int:
        return self._now

    @property
    def events(self) -> int:
        return self._events

    def line_trace(self) -> str:
        """The whole machine in one line, in np_line_trace's format: per ME a char
        per thread (X running, r ready, m memory, . work, b back-pressure, - halted),
        then ring occupancies (but the buffer free queue's)."""
        if not self._built:
            return f"{self._now:10d}"
        bq = self.hw_ring[lib.NP_HW_BUFQ]
        return (f"{self._now:10d}" + "".join(f" {e.line_trace()}" for e in self.mes)
                + "".join(f" {r.name}={r.count}" for r in self.rings if r.index != bq))

    def components_trace(self) -> str:
        """Every component's line_trace (servers, rings with waiters, ports), for debugging."""
        parts = [p.line_trace() for p in self.ports]
        parts += [r.line_trace() for r in self.rings if r.count or r.getw or r.putw]
        parts += [s.line_trace() for s in self.servers]
        return f"{self._now:10d} " + " | ".join(parts)
