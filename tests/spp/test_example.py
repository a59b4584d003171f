"""examples/spp/two_sites.yaml runs with ``vrouter-hil net``: every tunnel
flow of both IPv4 slices and of the i3 slice reaches its receiver, the two
IPv4 slices (same overlay addresses) each receive only from their own
endpoints, and the network balances."""
from __future__ import annotations

import os

import pytest

from tests.spp.conftest import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "spp", "two_sites.yaml")


def test_two_sites_example(tmp_path):
    pytest.importorskip("np_model.assemblies.spp_linecard")
    from network.run import run_topology
    from network.topology import load_topology
    topo = load_topology(EXAMPLE)
    s = run_topology(topo, 12.0, str(tmp_path))
    assert s["ok"], s["conservation"]["unbalanced"]
    res = {r["name"]: r for r in s["results"]}
    assert set(res) == {"alice_1to2", "alice_2to1", "bob_1to2", "bob_2to1", "carol_i3"}
    for name, r in res.items():
        assert r["sent"] > 0 and r["received"] == r["sent"], (name, r)
    # each slice's packets come from that slice's own endpoint only
    assert res["alice_1to2"]["from"] == {"64.57.23.214:30001": res["alice_1to2"]["received"]}
    assert res["bob_1to2"]["from"] == {"64.57.23.214:30002": res["bob_1to2"]["received"]}
    assert res["carol_i3"]["from"] == {"64.57.23.214:30003": res["carol_i3"]["received"]}
    # the IPv4 fast path decremented the meta-net TTL once
    assert res["alice_1to2"]["inner_ttl"] == {63: res["alice_1to2"]["received"]}
    assert os.path.isfile(tmp_path / "summary.json")


def test_cli_runs_the_example(tmp_path):
    pytest.importorskip("np_model.assemblies.spp_linecard")
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "host.cli", "net", EXAMPLE, "--duration-ms", "3", "--out",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "conservation" in r.stdout and "OK" in r.stdout
