"""Machine: the Python handle on the compiled core's machine state.

A machine is built (servers, memories, rings, MEs, ports), started, and
then driven by an engine -- the compiled one (CEngine) or the pure-Python
reference (PyEngine). Building it is the router's job (np_model.assemblies).
"""
from __future__ import annotations

from enum import IntEnum
from typing import Iterable

import numpy as np

from ..core import CoreError, ffi, lib

__all__ = ["Machine", "Block", "Role", "MemRole", "MemKind", "RingKind", "DROP_REASONS",
           "EXC_REASONS", "COST_NAMES", "SUB"]

SUB = lib.NP_SUB


class Block(IntEnum):
    """Microcode an ME can run (np_model/core/blocks/)."""
    RX = lib.NP_BLK_RX
    MUX = lib.NP_BLK_MUX
    PLC = lib.NP_BLK_PLC
    QM = lib.NP_BLK_QM
    HDRFMT = lib.NP_BLK_HF
    TX = lib.NP_BLK_TX
    STATS = lib.NP_BLK_STATS
    FREELIST = lib.NP_BLK_FREELIST
    XSCALE = lib.NP_BLK_XSCALE
    IDLE = lib.NP_BLK_IDLE
    SYNTH = lib.NP_BLK_SYNTH
    PLUGIN = lib.NP_BLK_PLUGIN


class Role(IntEnum):
    """How blocks find the rings a router wires between them."""
    RBUF = lib.NP_ROLE_RBUF
    RX_MUX = lib.NP_ROLE_RX_MUX
    XS_MUX = lib.NP_ROLE_XS_MUX
    PLUG_MUX = lib.NP_ROLE_PLUG_MUX
    MUX_PLC = lib.NP_ROLE_MUX_PLC
    PLC_QM = lib.NP_ROLE_PLC_QM
    QM_HF = lib.NP_ROLE_QM_HF
    HF_TX = lib.NP_ROLE_HF_TX
    EXC = lib.NP_ROLE_EXC
    LD = lib.NP_ROLE_LD
    ERR = lib.NP_ROLE_ERR
    STATS = lib.NP_ROLE_STATS
    FREE = lib.NP_ROLE_FREE
    BUFQ = lib.NP_ROLE_BUFQ
    HOST_IN = lib.NP_ROLE_HOST_IN
    TXDONE = lib.NP_ROLE_TXDONE
    PLUGIN0 = lib.NP_ROLE_PLUGIN0
    PLUGIN1 = lib.NP_ROLE_PLUGIN1
    PLUGIN2 = lib.NP_ROLE_PLUGIN2
    PLUGIN3 = lib.NP_ROLE_PLUGIN3
    PLUGIN4 = lib.NP_ROLE_PLUGIN4
    PLMSG0 = lib.NP_ROLE_PLMSG0
    PLMSG1 = lib.NP_ROLE_PLMSG1
    PLMSG2 = lib.NP_ROLE_PLMSG2
    PLMSG3 = lib.NP_ROLE_PLMSG3
    PLMSG4 = lib.NP_ROLE_PLMSG4


class MemRole(IntEnum):
    """Which memory a block's data lives in (descriptors, packet data, ...)."""
    SCRATCH = lib.NP_MR_SCRATCH
    DESC = lib.NP_MR_DESC
    QPARAM = lib.NP_MR_QPARAM
    QDESC = lib.NP_MR_QDESC
    RESULT = lib.NP_MR_RESULT
    STATS = lib.NP_MR_STATS
    PKT = lib.NP_MR_PKT
    TCAM = lib.NP_MR_TCAM
    PLUGIN = lib.NP_MR_PLUGIN


class MemKind(IntEnum):
    SCRATCH = lib.NP_MEM_SCRATCH
    SRAM = lib.NP_MEM_SRAM
    DRAM = lib.NP_MEM_DRAM
    TCAM = lib.NP_MEM_TCAM


class RingKind(IntEnum):
    MEM = lib.NP_RING_MEM      # in scratch or SRAM: gets and puts are memory references
    NN = lib.NP_RING_NN        # next-neighbour registers: no memory reference
    PUSH = lib.NP_RING_PUSH    # hardware pushes entries to waiting threads (RBUF status)


def _names(n: int, fn) -> tuple[str, ...]:
    return tuple(ffi.string(fn(i)).decode() for i in range(n))


DROP_REASONS = _names(lib.np_n_drops(), lib.np_drop_name)
EXC_REASONS = _names(lib.np_n_excs(), lib.np_exc_name)
COST_NAMES = _names(lib.np_n_costs(), lib.np_cost_name)


class Machine:
    """Owns one ``np_t``: construction calls, tables, traffic, outputs."""

    def __init__(self, *, f_me_hz: int, n_buffers: int, swap_cycles: int, rbuf_elements: int,
                 rbuf_element_bytes: int, tbuf_elements: int, wire_overhead: int, fcs_bytes: int,
                 min_frame: int, seed: int = 1):
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
        p.seed = seed
        m = lib.np_new(p)
        if m == ffi.NULL:
            raise MemoryError("could not allocate the machine")
        self.ptr = ffi.gc(m, lib.np_free)
        self.f_me_hz = f_me_hz
        self.n_buffers = n_buffers
        self.ring_names: list[str] = []
        self.me_names: list[str] = []

    # -- construction --------------------------------------------------------------------
    def _check(self, rc: int) -> int:
        if rc < 0:
            raise CoreError(ffi.string(lib.np_error(self.ptr)).decode())
        return rc

    def add_server(self, lat: int, unit: int, occ_sub: int, cmd_sub: int = 0) -> int:
        return self._check(lib.np_add_server(self.ptr, lat, unit, occ_sub, cmd_sub))

    def add_mem(self, kind: MemKind, srv_rd: int, srv_wr: int, nsrv: int = 1, shift: int = 0) -> int:
        return self._check(lib.np_add_mem(self.ptr, kind, srv_rd, srv_wr, nsrv, shift))

    def add_ring(self, name: str, kind: RingKind, mem: int, words: int, cap: int, nn_lat: int = 0) -> int:
        r = self._check(lib.np_add_ring(self.ptr, kind, mem, words, cap, nn_lat, name.encode()))
        self.ring_names.append(name)
        return r

    def set_role_ring(self, role: Role, ring: int) -> None:
        self._check(lib.np_set_role_ring(self.ptr, role, ring))

    def set_role_mem(self, role: MemRole, mem: int) -> None:
        self._check(lib.np_set_role_mem(self.ptr, role, mem))

    def add_me(self, name: str, block: Block, threads: int) -> int:
        e = self._check(lib.np_add_me(self.ptr, block, threads, name.encode()))
        self.me_names.append(name)
        return e

    def set_me_arg(self, me: int, arg: int) -> None:
        """The argument an ME's block reads (a plug-in ME: its plug-in number)."""
        self._check(lib.np_set_me_arg(self.ptr, me, arg))

    def set_cost(self, name: str, value: int) -> None:
        if name not in COST_NAMES:
            raise KeyError(f"unknown microcode cost {name!r}; valid: {', '.join(COST_NAMES)}")
        self._check(lib.np_set_cost(self.ptr, name.encode(), int(value)))

    def cost(self, name: str) -> int:
        return lib.np_get_cost(self.ptr, COST_NAMES.index(name))

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
                                      ("nh_mac", "u8"), ("len", "u4"), ("reason", "u4"), ("nh_ip", "u4"),
                                      ("meta", "u4"), ("in_port", "u2"), ("out_port", "u2"), ("ptag", "u2"),
                                      ("src", "u2")])
DROP_DTYPE = _dtype("np_drop_rec_t", [("pkt", "u8"), ("t", "u8"), ("reason", "u4"), ("port", "u2"),
                                      ("block", "u2")])
TRACE_DTYPE = _dtype("np_trace_rec_t", [("pkt", "u8"), ("t_issue", "u8"), ("t_done", "u8"),
                                        ("unloaded", "u4"), ("me", "u2"), ("thread", "u1"), ("block", "u1"),
                                        ("op", "u1"), ("flags", "u1"), ("target", "u2")])


def _records(ptr, n: int, dtype: np.dtype) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(ffi.buffer(ptr, n * dtype.itemsize), dtype=dtype).copy()
