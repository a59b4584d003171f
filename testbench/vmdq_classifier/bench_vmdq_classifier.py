"""cocotb throughput measurement of the classifier (run by benchmarks/bench_rtl.py, not by pytest).

Streams random traffic through the DUT with cocotbext-axi, every frame
scored against the golden model as in the tests, and writes the frames
per wall-second to the JSON file named by ``VMDQ_BENCH_FILE``.
"""

from __future__ import annotations

import json
import os
import random
import time

import cocotb

from testbench.traffic import random_config, random_frames, strip_hints
from testbench.vmdq_classifier.test_vmdq_classifier import TB


async def run_bench(dut, frames: int = 1000):
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(11)
    cfg = random_config(rng, tb.mode, tb.num_mac_filters)
    await tb.program(strip_hints(cfg))
    traffic = [f for f in random_frames(rng, cfg, frames) if f]
    start = time.perf_counter()
    await tb.send_and_check(traffic)
    wall = time.perf_counter() - start
    out = {"frames": len(traffic), "wall_s": wall, "fps": len(traffic) / wall,
           "data_width": tb.data_width, "mode": tb.mode}
    tb.log.info("cocotb throughput: %s", out)
    path = os.environ.get("VMDQ_BENCH_FILE")
    if path:
        with open(path, "w") as f:
            json.dump(out, f)
    await tb.finish()


if getattr(cocotb, "top", None) is not None:

    @cocotb.test()
    async def bench_throughput(dut):
        await run_bench(dut, int(os.environ.get("VMDQ_BENCH_FRAMES", 1000)))
