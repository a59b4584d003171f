"""One validation schema (issue 9, item 3): a value is refused the same way,
with the same words, whichever door it comes through -- the router's Python
API (np_model.assemblies.NPR), the control plane (host.control) or the
configuration file (host.config). The ranges live in np_model/limits.py."""
from __future__ import annotations

import re

import pytest

from host.config import ConfigError, parse_config
from host.control import ControlError, ControlPlane
from host.router import build_router
from np_model.assemblies import NPR, FilterAction
from np_model.limits import npr_limits, port_rate_limit
from np_model.profile import IXP2800

L = npr_limits(IXP2800)

BASE = """\
ports:
  - {address: 10.0.1.1/24, mac: "02:00:00:00:00:01"}
  - {address: 10.0.2.1/24, mac: "02:00:00:00:00:02"}
"""

# (limit, a value just outside it, NPR call, control-plane call, configuration text)
CASES = [
    ("route_priority", L["route_priority"].hi + 1,
     lambda r, x: r.add_route("192.168.7.0/24", port=1, priority=x),
     lambda cp, x: cp.add_route("192.168.7.0/24", 1, priority=x),
     "routes:\n  - {{prefix: 192.168.7.0/24, port: 1, priority: {x}}}\n"),
    ("filter_priority", L["filter_priority"].hi + 1,
     lambda r, x: r.add_filter(FilterAction("drop"), dport=9, priority=x),
     lambda cp, x: cp.add_filter(action="drop", dport=9, priority=x),
     "filters:\n  - {{action: drop, dport: 9, priority: {x}}}\n"),
    ("stats_index", L["stats_index"].hi + 1,
     lambda r, x: r.add_route("192.168.7.0/24", port=1, stats=x),
     lambda cp, x: cp.add_route("192.168.7.0/24", 1, stats=x),
     "routes:\n  - {{prefix: 192.168.7.0/24, port: 1, stats: {x}}}\n"),
    ("plugin_tag", L["plugin_tag"].hi + 1,
     lambda r, x: r.add_filter(FilterAction("drop"), ptag=x),
     lambda cp, x: cp.add_filter(action="drop", ptag=x),
     "filters:\n  - {{action: drop, ptag: {x}}}\n"),
    ("l4_port", 65536,
     lambda r, x: r.add_filter(FilterAction("drop"), dport=x),
     lambda cp, x: cp.add_filter(action="drop", dport=x),
     "filters:\n  - {{action: drop, dport: {x}}}\n"),
    ("plugin_me", L["plugin_me"].hi + 1,
     lambda r, x: r.load_plugin("count", x),
     lambda cp, x: cp.load_plugin("count", x),
     "plugins:\n  - {{file: count, me: {x}}}\n"),
    ("queue_threshold", 0,
     lambda r, x: r.set_queue(1, 64, threshold=x),
     lambda cp, x: cp.set_queue(1, 64, threshold=x),
     "queues:\n  - {{port: 1, qid: 64, threshold: {x}}}\n"),
    ("queue_quantum", 1 << 24,
     lambda r, x: r.set_queue(1, 64, quantum=x),
     lambda cp, x: cp.set_queue(1, 64, quantum=x),
     "queues:\n  - {{port: 1, qid: 64, quantum: {x}}}\n"),
]


def _range_words(limit: str) -> str:
    lim = L[limit]
    return re.escape(f"must be an integer {lim.lo}..{lim.hi}{lim.unit}")


@pytest.mark.parametrize("limit,x,npr_call,cp_call,cfg", CASES, ids=[c[0] for c in CASES])
def test_the_same_range_through_every_door(limit, x, npr_call, cp_call, cfg):
    words = _range_words(limit)
    r = NPR(ports=None)
    with pytest.raises(ValueError, match=words):
        npr_call(r, x)
    cp = ControlPlane(NPR())
    with pytest.raises(ControlError, match=words):
        cp_call(cp, x)
    with pytest.raises(ConfigError, match=words):
        build_router(parse_config(BASE + cfg.format(x=x)))
    lo_ok = L[limit].hi if x > L[limit].hi else L[limit].lo       # the bound itself is accepted by all three
    if limit not in ("plugin_me",):                                # (a plug-in build is slow; the range is shown)
        npr_call(NPR(), lo_ok)
        cp_call(ControlPlane(NPR()), lo_ok)


def test_router_level_ranges_through_the_api_and_the_file():
    """MTU, buffers, threads and port rates: the NPR constructor and the file agree."""
    lim = L["mtu"]
    from np_model.assemblies.types import PortConfig
    with pytest.raises(ValueError, match=re.escape(f"port 0 MTU must be an integer {lim.lo}..{lim.hi} bytes")):
        NPR(ports=[PortConfig("10.0.1.1/24", "02:00:00:00:00:01", mtu=lim.hi + 1)])
    with pytest.raises(ConfigError, match=re.escape(f"mtu: must be an integer {lim.lo}..{lim.hi}")):
        parse_config(BASE.replace('"02:00:00:00:00:02"}', f'"02:00:00:00:00:02", mtu: {lim.hi + 1}}}'))
    for key, limit in (("buffers", "buffers"), ("seed", "seed")):
        bad = L[limit].hi + 1
        with pytest.raises(ValueError, match=re.escape(f"{key} must be an integer {L[limit].lo}..{L[limit].hi}")):
            NPR(**{key: bad})
        with pytest.raises(ConfigError, match=re.escape(f"router.{key}: must be an integer {L[limit].lo}..")):
            parse_config(BASE + f"router: {{{key}: {bad}}}\n")
    with pytest.raises(ValueError, match="threads for plc must be an integer 1..8"):
        NPR(threads={"plc": 9})
    with pytest.raises(ConfigError, match="router.threads.plc: must be an integer 1..8"):
        parse_config(BASE + "router: {threads: {plc: 9}}\n")
    rate = port_rate_limit(IXP2800, 1, IXP2800.value("port_rate_bps"))
    with pytest.raises(ValueError, match=re.escape(f"port 1 rate must be an integer {rate.lo}..{rate.hi} Kb/s")):
        NPR().set_port_rate(1, rate.hi + 1)
    with pytest.raises(ControlError, match=re.escape(f"port 1 rate must be an integer {rate.lo}..{rate.hi} Kb/s")):
        ControlPlane(NPR()).set_port_rate(1, rate.hi + 1)
    with pytest.raises(ConfigError, match=re.escape(f"qm_rate_kbps: must be an integer {rate.lo}..{rate.hi}")):
        parse_config(BASE.replace('"02:00:00:00:00:02"}', f'"02:00:00:00:00:02", qm_rate_kbps: {rate.hi + 1}}}'))
