"""The SPP node's line card and NPE run in the network's compiled fabric
(network.machine_node): the same topology driven from Python gives the same
link captures, tool results, every board's statistics and ledger."""
from __future__ import annotations

import glob
import json
import os

import pytest

from tests.spp.conftest import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "spp", "two_sites.yaml")


def _run(out, compiled: bool, capture: bool):
    from host.pcap import read_capture
    from network.run import run_topology
    from network.topology import load_topology
    topo = load_topology(EXAMPLE)
    topo.network.compiled = compiled
    topo.capture = capture
    s = run_topology(topo, 4.0, str(out))
    caps = {os.path.basename(f): (c.times_ns, c.frames, c.ifaces)
            for f in sorted(glob.glob(os.path.join(out, "links", "*.pcapng"))) for c in [read_capture(f)]}
    nodes = {f.split(os.sep)[-2]: json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "nodes", "*",
                                                                                              "stats.json")))}
    for copt in nodes["spp1.npe0"]["code_options"].values():
        copt.pop("call_wall_us")                       # wall-clock time per call, not a simulated figure
    compiled_last = s.pop("compiled")
    for k in ("wall_s", "sync_overhead"):
        s.pop(k)
    return s, caps, nodes, compiled_last


@pytest.mark.parametrize("capture", [True, False])
def test_spp_boards_in_the_fabric_equal_the_python_loop(tmp_path, capture):
    """Both IPv4 slices' and the i3 slice's tunnel flows through the line card,
    the NPE's fast paths, the fabric switch and the GPE's slow paths: identical
    outputs with the line card and NPE in the compiled fabric and driven from
    Python (with link captures, and without: then the hosts hand their frames
    to the fabric as records)."""
    pytest.importorskip("np_model.assemblies.spp_linecard")
    a = _run(tmp_path / "c", True, capture)
    b = _run(tmp_path / "p", False, capture)
    assert a[3] == {"nodes": ["spp1.lc", "spp1.npe0"], "links": ["spp1.fabric:0", "spp1.fabric:1", "site1", "site2"]}
    assert b[3] == {"nodes": [], "links": []}
    assert a[0] == b[0]
    assert a[1] == b[1]
    assert a[2] == b[2]
    s = a[0]
    assert s["ok"], s["conservation"]["unbalanced"]
    assert all(r["received"] > 0 for r in s["results"] if "received" in r)
    assert bool(a[1]) == capture
