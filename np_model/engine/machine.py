"""Machine: the Python handle on the compiled core's machine state.

A machine is built -- servers, memories, rings, tables, ports, block
instances bound to them, MEs running the instances -- started, and then
driven by an engine: the compiled one (CEngine) or the pure-Python
reference (PyEngine). Building it is an assembly's job (np_model/assemblies).
"""
from __future__ import annotations

from enum import IntEnum
from typing import Iterable, Mapping

import numpy as np

from ..core import CoreError, ffi, lib

__all__ = ["Machine", "MemKind", "RingKind", "HwRing", "TableKind", "DROP_REASONS", "EXC_REASONS", "SUB",
           "TX_DTYPE", "HOST_DTYPE", "DROP_DTYPE", "TRACE_DTYPE", "RINGTRACE_DTYPE", "MSF"]

SUB = lib.NP_SUB
MSF = 0xFFFF        # drop records: dropped by the MSF (no block instance)


class MemKind(IntEnum):
    SCRATCH = lib.NP_MEM_SCRATCH
    SRAM = lib.NP_MEM_SRAM
    DRAM = lib.NP_MEM_DRAM
    TCAM = lib.NP_MEM_TCAM


class RingKind(IntEnum):
    MEM = lib.NP_RING_MEM      # in scratch or SRAM: gets and puts are memory references
    NN = lib.NP_RING_NN        # next-neighbour registers: no memory reference
    PUSH = lib.NP_RING_PUSH    # the hardware pushes entries to waiting threads (RBUF status)
    QUEUE = lib.NP_RING_QUEUE  # an SRAM hardware queue (e.g. the buffer free list): any length


class HwRing(IntEnum):
    """Rings the hardware itself fills or drains (not a block's)."""
    RBUF = lib.NP_HW_RBUF        # MSF receive status -> Rx
    TXDONE = lib.NP_HW_TXDONE    # MSF transmit completions -> Tx
    HOST_IN = lib.NP_HW_HOST_IN  # host -> control processor
    BUFQ = lib.NP_HW_BUFQ        # the buffer free list (starts full)


class TableKind(IntEnum):
    TCAM = lib.NP_TBL_TCAM
    HASH = lib.NP_TBL_HASH
    ARRAY = lib.NP_TBL_ARRAY     # records of a format, by index (configuration blocks read)


def _names(n: int, fn) -> tuple[str, ...]:
    return tuple(ffi.string(fn(i)).decode() for i in range(n))


DROP_REASONS = _names(lib.np_n_drops(), lib.np_drop_name)
EXC_REASONS = _names(lib.np_n_excs(), lib.np_exc_name)


class Machine:
    """Owns one ``np_t``: construction calls, traffic, outputs."""

    def __init__(self, *, f_me_hz: int, n_buffers: int, swap_cycles: int, rbuf_elements: int,
                 rbuf_element_bytes: int, tbuf_elements: int, wire_overhead: int, fcs_bytes: int,
                 min_frame: int, max_frame: int = 0, scratch_ring_words: int = 4096, scratch_rings: int = 16,
                 nn_ring_words: int = 128, seed: int = 1):
        p = ffi.new("np_params_t *")
        p.f_me_hz = f_me_hz
        p.n_buffers = n_buffers
        p.swap_cycles = swap_cycles
        p.rbuf_elements = rbuf_elements
        p.rbuf_element_bytes = rbuf_element_bytes
        p.tbuf_elements = tbuf_elements
        p.wire_overhead = wire_overhead
        p.fcs_bytes = fcs_bytes
        p.min_frame = min_frame
        p.max_frame = max_frame
        p.scratch_ring_words_total = scratch_ring_words
        p.scratch_rings_max = scratch_rings
        p.nn_ring_words = nn_ring_words
        p.seed = seed
        m = lib.np_new(p)
        if m == ffi.NULL:
            raise MemoryError("could not allocate the machine")
        self.ptr = ffi.gc(m, lib.np_free)
        self.f_me_hz = f_me_hz
        self.n_buffers = n_buffers
        self.ring_names: list[str] = []
        self.me_names: list[str] = []
        self.insts: dict[str, int] = {}
        self.tables: dict[str, int] = {}

    # -- construction --------------------------------------------------------------------
    def _check(self, rc: int) -> int:
        if rc < 0:
            raise CoreError(ffi.string(lib.np_error(self.ptr)).decode())
        return rc

    def add_server(self, lat: int, unit: int, occ_sub: int, cmd_sub: int = 0) -> int:
        return self._check(lib.np_add_server(self.ptr, lat, unit, occ_sub, cmd_sub))

    def add_mem(self, kind: MemKind, srv_rd: int, srv_wr: int, nsrv: int = 1, shift: int = 0) -> int:
        return self._check(lib.np_add_mem(self.ptr, kind, srv_rd, srv_wr, nsrv, shift))

    def add_ring(self, name: str, kind: RingKind, mem: int, entry_words: int, words: int, *, fmt: str = "",
                 nn_lat: int = 0) -> int:
        """A ring of ``words`` 32-bit words holding ``entry_words``-word entries of format ``fmt``."""
        r = self._check(lib.np_add_ring(self.ptr, kind, mem, entry_words, words, nn_lat, name.encode(), fmt.encode()))
        self.ring_names.append(name)
        return r

    def set_hw_ring(self, which: HwRing, ring: int) -> None:
        self._check(lib.np_set_hw_ring(self.ptr, which, ring))

    def add_table(self, name: str, kind: TableKind, capacity: int, fmt: str = "") -> int:
        t = self._check(lib.np_add_table(self.ptr, kind, name.encode(), fmt.encode(), capacity))
        self.tables[name] = t
        return t

    def add_block(self, type_: str, name: str, *, rings: Mapping[str, int] = {}, mems: Mapping[str, int] = {},
                  tables: Mapping[str, int] = {}, params: Mapping[str, int] = {}) -> int:
        """Instantiate block type ``type_`` as ``name`` and bind its ports (by name;
        array ports as ``name.i``) and parameters. Returns the instance id."""
        i = self._check(lib.np_add_block(self.ptr, type_.encode(), name.encode()))
        self.insts[name] = i
        for port, ring in rings.items():
            self._check(lib.np_bind_ring(self.ptr, i, port.encode(), ring))
        for port, mem in mems.items():
            self._check(lib.np_bind_mem(self.ptr, i, port.encode(), mem))
        for port, tbl in tables.items():
            self._check(lib.np_bind_table(self.ptr, i, port.encode(), tbl))
        for k, v in params.items():
            self.set_param(i, k, v)
        return i

    def set_param(self, inst: int, name: str, value: int) -> None:
        self._check(lib.np_set_param(self.ptr, inst, name.encode(), int(value)))

    def param(self, inst: int, name: str) -> int:
        v = ffi.new("int64_t *")
        self._check(lib.np_get_param(self.ptr, inst, name.encode(), v))
        return int(v[0])

    def add_me(self, name: str, inst: int, threads: int) -> int:
        e = self._check(lib.np_add_me(self.ptr, inst, threads, name.encode()))
        self.me_names.append(name)
        return e

    def add_port(self, wire_bps: int, mac: int, ip: int, mtu: int) -> int:
        return self._check(lib.np_add_port(self.ptr, wire_bps, mac, ip, mtu))

    def start(self) -> None:
        self._check(lib.np_start(self.ptr))

    # -- traffic -------------------------------------------------------------------------
    def feed(self, t_cycles: np.ndarray, ports: np.ndarray, lens: np.ndarray, offsets: np.ndarray,
             data: bytes | np.ndarray, meta: np.ndarray | None, first_id: int) -> None:
        n = len(t_cycles)
        if n == 0:
            return
        t = np.ascontiguousarray(t_cycles, dtype=np.uint64)
        pt = np.ascontiguousarray(ports, dtype=np.uint8)
        ln = np.ascontiguousarray(lens, dtype=np.uint32)
        of = np.ascontiguousarray(offsets, dtype=np.uint64)
        buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else data
        buf = np.ascontiguousarray(buf, dtype=np.uint8)
        mt = ffi.NULL if meta is None else ffi.from_buffer("uint32_t[]", np.ascontiguousarray(meta, dtype=np.uint32))
        self._check(lib.np_feed(self.ptr, n, ffi.from_buffer("uint64_t[]", t), ffi.from_buffer("uint8_t[]", pt),
                                ffi.from_buffer("uint32_t[]", ln), ffi.from_buffer("uint64_t[]", of),
                                ffi.from_buffer("uint8_t[]", buf) if len(buf) else ffi.new("uint8_t[1]"),
                                mt, first_id))

    def inject(self, t_cycle: int, frame: bytes, *, passthru: bool, keep_l2: bool, in_port: int,
               out_port: int, qid: int, ptag: int, message: bool = False) -> None:
        flags = ((lib.NP_INJ_PASSTHRU if passthru else 0) | (lib.NP_INJ_KEEP_L2 if keep_l2 else 0)
                 | (lib.NP_INJ_MSG if message else 0))
        self._check(lib.np_inject(self.ptr, t_cycle, frame, len(frame), flags, in_port, out_port, qid, ptag))

    # -- outputs -------------------------------------------------------------------------
    def take_outputs(self) -> dict[str, np.ndarray | bytes]:
        """Copy out and clear what the engine produced since the last call."""
        out: dict[str, np.ndarray | bytes] = {}
        recs = ffi.new("np_tx_rec_t **")
        cap = ffi.new("uint8_t **")
        cap_len = ffi.new("uint64_t *")
        n = lib.np_take_tx(self.ptr, recs, cap, cap_len)
        out["tx"] = _records(recs[0], n, TX_DTYPE)
        out["tx_cap"] = bytes(ffi.buffer(cap[0], cap_len[0])) if cap_len[0] else b""
        hrecs = ffi.new("np_host_rec_t **")
        n = lib.np_take_host(self.ptr, hrecs, cap, cap_len)
        out["host"] = _records(hrecs[0], n, HOST_DTYPE)
        out["host_cap"] = bytes(ffi.buffer(cap[0], cap_len[0])) if cap_len[0] else b""
        drecs = ffi.new("np_drop_rec_t **")
        n = lib.np_take_drops(self.ptr, drecs)
        out["drops"] = _records(drecs[0], n, DROP_DTYPE)
        trecs = ffi.new("np_trace_rec_t **")
        n = lib.np_take_trace(self.ptr, trecs)
        out["trace"] = _records(trecs[0], n, TRACE_DTYPE)
        rrecs = ffi.new("np_ringtrace_rec_t **")
        n = lib.np_take_ring_trace(self.ptr, rrecs)
        out["rings"] = _records(rrecs[0], n, RINGTRACE_DTYPE)
        lib.np_clear_outputs(self.ptr)
        return out


def _dtype(cname: str, fields: Iterable[tuple[str, str]]) -> np.dtype:
    """A numpy dtype laid out exactly like the C struct (offsets from cffi)."""
    ctype = ffi.typeof(cname)
    names, formats, offsets = [], [], []
    for f, fmt in fields:
        names.append(f)
        formats.append(fmt)
        offsets.append(ffi.offsetof(cname, f))
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": ffi.sizeof(ctype)})


TX_DTYPE = _dtype("np_tx_rec_t", [("pkt", "u8"), ("t_rx", "u8"), ("t_start", "u8"), ("t_end", "u8"),
                                  ("cap_off", "u8"), ("len", "u4"), ("port", "u2"), ("flags", "u2"),
                                  ("meta", "u4"), ("qid", "u4")])
HOST_DTYPE = _dtype("np_host_rec_t", [("pkt", "u8"), ("t_rx", "u8"), ("t_host", "u8"), ("cap_off", "u8"),
                                      ("len", "u4"), ("ring", "u4"), ("meta", "u4"), ("nh_ip", "u4"),
                                      ("src", "u2"), ("entry", "(8,)u4")])
DROP_DTYPE = _dtype("np_drop_rec_t", [("pkt", "u8"), ("t", "u8"), ("reason", "u4"), ("port", "u2"),
                                      ("inst", "u2")])
TRACE_DTYPE = _dtype("np_trace_rec_t", [("pkt", "u8"), ("t_issue", "u8"), ("t_done", "u8"),
                                        ("unloaded", "u4"), ("me", "u2"), ("thread", "u1"), ("op", "u1"),
                                        ("inst", "u2"), ("flags", "u1"), ("target", "u4")])
RINGTRACE_DTYPE = _dtype("np_ringtrace_rec_t", [("t", "u8"), ("ring", "u4"), ("nwords", "u4"),
                                                ("words", "(8,)u4")])


def _records(ptr, n: int, dtype: np.dtype) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(ffi.buffer(ptr, n * dtype.itemsize), dtype=dtype).copy()
