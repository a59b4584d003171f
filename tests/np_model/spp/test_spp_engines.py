"""The SPP blocks run on both engines: the compiled event loop and the
pure-Python reference produce the same simulation of the line card and the
NPE -- every frame's bytes and first-bit time, drops, host packets, block
counters, ME busy cycles, event counts (the scenario of test_spp_profile)."""
from __future__ import annotations

from np_model.profile import IXP2850
from tests.np_model.spp.test_spp_profile import fingerprint


def test_the_c_and_python_engines_agree_on_both_boards(tmp_path):
    c = fingerprint(IXP2850, tmp_path, "c")
    py = fingerprint(IXP2850, tmp_path, "py")
    assert len(c[0][0]) > 50 and len(c[1][0]) > 50          # both boards sent traffic
    assert c == py
