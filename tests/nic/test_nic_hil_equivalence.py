"""Hardware in the loop: the Verilated classifier (pyverilator) against the golden model.

The same configuration (through the register interface) and the same
frames go through ``make_nic("rtl")`` and ``make_nic("model")``; pool,
queue, hash and drop reason must agree on every frame.
"""

import random

import pytest

from np_model.nic import make_nic, nic_from_router_config
from testbench.traffic import random_config, random_frames, strip_hints

# (data_width, mode, configurations, frames per configuration)
CASES = [(64, "32x4", 3, 1000), (512, "64x2", 2, 500)]


@pytest.mark.rtl
@pytest.mark.parametrize(("data_width", "mode", "configs", "frames"), CASES,
                         ids=[f"dw{c[0]}-{c[1]}" for c in CASES])
def test_rtl_and_model_agree(data_width, mode, configs, frames):
    rng = random.Random(data_width)
    total = 0
    for _ in range(configs):
        cfg = random_config(rng, mode)
        traffic = random_frames(rng, cfg, frames) + [b"", b"\xff" * 13]
        config = strip_hints(cfg)
        rtl = make_nic("rtl", config, data_width=data_width)
        model = make_nic("model", config)
        try:
            assert rtl.backend == "rtl"
            got = rtl.classify(traffic)
            want = model.classify(traffic)
            assert len(got) == len(want) == len(traffic)
            diffs = [(i, len(traffic[i]), g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
            assert not diffs, f"{len(diffs)} of {len(traffic)} frames differ, first: {diffs[:3]}"
            total += len(traffic)
        finally:
            rtl.close()
    assert total >= configs * frames


@pytest.mark.rtl
def test_router_switches_between_model_and_rtl():
    config = {"mode": "32x4", "mac_filters": [{"mac": "02:00:00:00:00:07", "pools": [4, 6]}],
              "broadcast": [1]}
    frames = random_frames(random.Random(3), {**config, "_vlans": [1]}, 200)
    results = {}
    for backend in ("model", "rtl"):
        nic = nic_from_router_config({"backend": backend, **config})
        assert nic.backend == backend
        results[backend] = nic.classify(frames)
        nic.close()
    assert results["rtl"] == results["model"]
    assert any(r.pool_list() == [4, 6] for r in results["rtl"])
