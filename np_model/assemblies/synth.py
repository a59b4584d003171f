"""A synthetic assembly for measuring the engine's timing relations.

MEs running the ``synth`` block loop forever: ``compute`` ALU cycles, then
``refs`` waited references to one memory. Nothing else runs, so the
iteration rate shows in isolation how threads hide memory latency and how a
shared memory channel saturates.
"""
from __future__ import annotations

from ..core import ffi, lib
from ..engine import make_engine
from ..engine.machine import SUB, HwRing, Machine, MemKind, RingKind
from ..profile import IXP2800, Profile

__all__ = ["SynthBench"]


class SynthBench:
    """``mes`` MEs x ``threads`` threads doing compute + refs on one memory channel.

    Args:
        compute: ALU cycles per iteration.
        refs: memory references per iteration (each waited for).
        memory: "sram" (one QDR channel's read port) or "dram".
    """

    def __init__(self, *, mes: int = 1, threads: int = 8, compute: int = 40, refs: int = 1,
                 memory: str = "sram", profile: Profile = IXP2800, engine: str = "c"):
        if memory not in ("sram", "dram"):
            raise ValueError(f"memory must be 'sram' or 'dram', got {memory!r}")
        p = profile
        f = p.value("me_clock_hz")
        m = Machine(f_me_hz=f, n_buffers=16, swap_cycles=p.value("ctx_swap_cycles"), rbuf_elements=4,
                    rbuf_element_bytes=64, tbuf_elements=4, wire_overhead=20, fcs_bytes=4, min_frame=64)
        if memory == "sram":
            word = f / p.value("sram_clock_hz")
            rd = m.add_server(p.value("sram_latency"), p.value("sram_bytes_per_transfer"), round(word * SUB),
                              round(p.value("sram_cmd_cycles") * SUB))
            wr = m.add_server(p.value("sram_latency"), p.value("sram_bytes_per_transfer"), round(word * SUB),
                              round(p.value("sram_cmd_cycles") * SUB))
            mem = m.add_mem(MemKind.SRAM, rd, wr)
        else:
            unit = p.value("dram_min_access")
            s = m.add_server(p.value("dram_latency"), unit, round(unit * f / p.value("dram_bytes_per_s") * SUB))
            mem = m.add_mem(MemKind.DRAM, s, s)
        # the machine needs its buffer free list even when no packet flows
        m.set_hw_ring(HwRing.BUFQ, m.add_ring("bufq", RingKind.PUSH, -1, 1, 16, fmt="buf"))
        inst = m.add_block("synth", "synth", mems={"mem": mem}, params={"compute": compute, "refs": refs})
        for i in range(mes):
            m.add_me(f"synth{i}", inst, threads)
        m.start()
        self.m = m
        self.mem = mem
        self.server = rd if memory == "sram" else s
        self.engine = make_engine(engine, m)
        self.f_me = f

    def run(self, cycles: int) -> None:
        self.engine.run(self.engine.now + cycles)

    @property
    def iterations(self) -> int:
        c = ffi.new("np_counters_t *")
        lib.np_get_counters(self.m.ptr, c)
        return c.synth_iters

    def me_busy(self, me: int = 0) -> float:
        s = ffi.new("np_me_stats_t *")
        lib.np_me_stats(self.m.ptr, me, s)
        total = s.busy + s.stall + s.idle
        return s.busy / total if total else 0.0

    def server_stats(self) -> dict[str, float]:
        s = ffi.new("np_srv_stats_t *")
        lib.np_srv_stats(self.m.ptr, self.server, s)
        return {"ops": s.ops, "mean_wait": s.wait_sub / SUB / s.ops if s.ops else 0.0,
                "util": s.busy_sub / SUB / self.engine.now if self.engine.now else 0.0}
