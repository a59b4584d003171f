"""What the SPP's line card and NPE share: their NP's machine and memories,
capacity errors, range allocation, the hierarchical QM's Python side."""
from __future__ import annotations

from typing import Any

from ..core import CoreError, ffi, lib
from ..engine.machine import SUB, Machine, MemKind
from ..profile import Profile

__all__ = ["CapacityError", "Ranges", "spp_machine", "hqm_queue", "hqm_set_queue", "hqm_queue_stats",
           "hqm_active_queues"]


class CapacityError(ValueError):
    """A request beyond what the board has; names the resource, what was asked and what is left."""

    def __init__(self, board: str, resource: str, asked: int, left: int, total: int, unit: str = ""):
        u = f" {unit}" if unit else ""
        super().__init__(f"{board}: {resource}: asked {asked}{u}, {left}{u} of {total}{u} left")
        self.resource, self.asked, self.left, self.total = resource, asked, left, total


class Ranges:
    """Contiguous ranges of [lo, hi) handed out first fit (queues, stats indices, SRAM)."""

    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.used: list[tuple[int, int]] = []          # sorted (start, end)

    @property
    def total(self) -> int:
        return self.hi - self.lo

    def left(self) -> int:
        return self.total - sum(e - s for s, e in self.used)

    def take(self, n: int) -> int | None:
        """The start of a free run of n (n = 0: lo), or None."""
        if n <= 0:
            return self.lo
        at = self.lo
        for i, (s, e) in enumerate(self.used):
            if s - at >= n:
                self.used.insert(i, (at, at + n))
                return at
            at = max(at, e)
        if self.hi - at >= n:
            self.used.append((at, at + n))
            return at
        return None

    def give(self, start: int, n: int) -> None:
        if n > 0:
            self.used.remove((start, start + n))


def spp_machine(p: Profile, *, n_buffers: int, seed: int) -> tuple[Machine, dict[str, int]]:
    """One SPP NP (IXP2850): the machine and its memories -- scratch, the SRAM
    channels the profile gives (the boards use sram0..sram2), the DRAM
    channels, the TCAM -- each a server with the profile's latency and rate."""
    f = p.value("me_clock_hz")
    m = Machine(f_me_hz=f, n_buffers=n_buffers, swap_cycles=p.value("ctx_swap_cycles"),
                rbuf_elements=p.value("rbuf_elements"), rbuf_element_bytes=p.value("rbuf_element_bytes"),
                tbuf_elements=p.value("tbuf_elements_per_port"), wire_overhead=p.value("wire_overhead_bytes"),
                fcs_bytes=p.value("fcs_bytes"), min_frame=p.value("min_frame_bytes"),
                scratch_ring_words=p.value("scratch_bytes") // 4, scratch_rings=p.value("scratch_rings"),
                seed=seed)                          # (no next-neighbour rings on the SPP boards)

    def occ(cycles: float) -> int:
        return int(round(cycles * SUB))

    scr = m.add_server(p.value("scratch_latency"), 4, occ(4 / p.value("scratch_bytes_per_cycle")))
    mems = {"scratch": m.add_mem(MemKind.SCRATCH, scr, scr)}
    word = f / p.value("sram_clock_hz")
    unit = p.value("sram_bytes_per_transfer")
    n_sram = p.value("sram_channels")
    if n_sram < 3:
        raise ValueError(f"an SPP board uses 3 SRAM channels (sram0..sram2); the profile has {n_sram}")
    for i in range(n_sram):
        rd = m.add_server(p.value("sram_latency"), unit, occ(word), occ(p.value("sram_cmd_cycles")))
        wr = m.add_server(p.value("sram_latency"), unit, occ(word), occ(p.value("sram_cmd_cycles")))
        mems[f"sram{i}"] = m.add_mem(MemKind.SRAM, rd, wr)
    du = p.value("dram_min_access")
    d0 = None
    for _ in range(p.value("dram_channels")):
        s = m.add_server(p.value("dram_latency"), du, occ(du * f / p.value("dram_bytes_per_s")))
        d0 = s if d0 is None else d0
    mems["dram"] = m.add_mem(MemKind.DRAM, d0, d0, p.value("dram_channels"),
                             int(p.value("dram_interleave_bytes")).bit_length() - 1)
    tcs = m.add_server(p.value("tcam_latency"), p.value("tcam_search_bytes"), occ(f / p.value("tcam_searches_per_s")))
    mems["tcam"] = m.add_mem(MemKind.TCAM, tcs, tcs)
    return m, mems


def _check(m: Machine, rc: int) -> int:
    if rc < 0:
        raise CoreError(ffi.string(lib.np_error(m.ptr)).decode())
    return rc


def hqm_set_queue(m: Machine, inst: int, qid: int, *, threshold: int, quantum: int, kbps: int, node: int) -> None:
    """Configure queue ``qid`` (encoded) of an HQM instance."""
    _check(m, lib.np_hqm_queue_set(m.ptr, inst, qid, threshold, quantum, kbps, node))


def hqm_queue(m: Machine, inst: int, qid: int) -> dict[str, Any]:
    """A queue's parameters and what it holds now."""
    th, qu, pk, by = (ffi.new("uint32_t *") for _ in range(4))
    kb, nd = ffi.new("uint64_t *"), ffi.new("int32_t *")
    _check(m, lib.np_hqm_queue_get(m.ptr, inst, qid, th, qu, kb, nd, pk, by))
    return {"qid": qid, "threshold": th[0], "quantum": qu[0], "kbps": kb[0], "node": nd[0], "pkts": pk[0],
            "bytes": by[0]}


def hqm_queue_stats(m: Machine, inst: int, qid: int) -> dict[str, int]:
    qs = ffi.new("np_queue_stats_t *")
    _check(m, lib.np_hqm_queue_stats(m.ptr, inst, qid, qs))
    return {"enq_pkts": qs.enq_pkts, "enq_bytes": qs.enq_bytes, "deq_pkts": qs.deq_pkts, "deq_bytes": qs.deq_bytes,
            "drops": qs.drops, "pkts": qs.pkts, "bytes": qs.bytes}


def hqm_active_queues(m: Machine, inst: int) -> dict[str, dict[str, int]]:
    """Every queue that has seen a packet: "port<p>.q<n>" -> its statistics."""
    qids = ffi.new("uint32_t[]", 65536)
    n = _check(m, lib.np_hqm_active_queues(m.ptr, inst, qids, 65536))
    return {f"port{(int(qids[k]) >> 13) - 1}.q{int(qids[k]) & 0x1FFF}": {"qid": int(qids[k]),
                                                                       **hqm_queue_stats(m, inst, int(qids[k]))}
            for k in range(n)}
