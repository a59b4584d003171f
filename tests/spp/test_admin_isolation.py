"""Administration isolation (issue 12 §5): every slice-interface call that
names another slice's resource is refused, call by call, and leaves that
slice's reservations and configuration as they were."""
from __future__ import annotations

import copy

import pytest

from host.spp import RMP, SRM, AccessError, GPECapacity, Interface, NPECapacity, SppError

IF0, IF1 = "64.57.23.210", "64.57.23.214"


@pytest.fixture
def two():
    s = SRM([Interface(0, IF0, 1_000_000), Interface(1, IF1, 1_000_000)], [NPECapacity()], [GPECapacity()],
            ["ipv4", "i3"])
    apis = {}
    for n, port in (("a", 30000), ("b", 30001)):
        s.add_slice(n, gpe_share=0.5)
        api = apis[n] = RMP(s, n)
        e1, e2 = api.alloc_endpoint(IF0, port), api.alloc_endpoint(IF1, port)
        fp = api.alloc_fastpath("ipv4", firm=202_000, fltrs=6, qs=4, stats=8, buffs=100, sram=4096)
        api.create_mi(fp, 0, kbps=2000)
        api.create_mi(fp, 1, e1, kbps=100_000)
        api.create_mi(fp, 2, e2, kbps=100_000)
        for q, mi in ((0, 1), (1, 2), (2, 0), (3, 0)):
            api.bind_queue(fp, q, mi)
        api.write_fltr(fp, {"dst": "10.2.0.0/16"}, {"mi": 2, "queue": 1, "stats": 1})
        api.alloc_endpoint(IF0, port + 100)                 # a spare endpoint, no MI
    return s, apis


def b_ids(apis):
    b = apis["b"]
    fp = next(iter(b.state))
    return fp, (IF0, 30001), (IF0, 30101)


CALLS = {
    "free_endpoint": lambda a, fp, ep, spare: a.free_endpoint(spare),
    "create_mi(other fastpath)": lambda a, fp, ep, spare: a.create_mi(fp, 3, None, kbps=1),
    "create_mi(other endpoint)": lambda a, fp, ep, spare: a.create_mi(next(iter(a.state)), 3, spare, kbps=1),
    "delete_mi": lambda a, fp, ep, spare: a.delete_mi(fp, 1),
    "bind_queue": lambda a, fp, ep, spare: a.bind_queue(fp, 3, 1),
    "set_queue_params": lambda a, fp, ep, spare: a.set_queue_params(fp, 0, threshold=1),
    "write_fltr": lambda a, fp, ep, spare: a.write_fltr(fp, {"dst": "10.9.0.0/16"}, {"mi": 1, "queue": 0}),
    "delete_fltr": lambda a, fp, ep, spare: a.delete_fltr(fp, 0),
    "read_stats": lambda a, fp, ep, spare: a.read_stats(fp, 1),
    "get_fastpath": lambda a, fp, ep, spare: a.get_fastpath(fp),
    "get_queues": lambda a, fp, ep, spare: a.get_queues(fp),
    "get_fltrs": lambda a, fp, ep, spare: a.get_fltrs(fp),
    "free_fastpath": lambda a, fp, ep, spare: a.free_fastpath(fp),
    "alloc_endpoint(taken)": lambda a, fp, ep, spare: a.alloc_endpoint(*spare),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_call_on_another_slices_resource_is_refused(two, call):
    s, apis = two
    fp, ep, spare = b_ids(apis)
    before = (copy.deepcopy(s.report()), apis["b"].get_fastpath(fp), apis["b"].get_fltrs(fp))
    with pytest.raises(AccessError, match="belongs to another slice"):
        CALLS[call](apis["a"], fp, ep, spare)
    assert (s.report(), apis["b"].get_fastpath(fp), apis["b"].get_fltrs(fp)) == before


def test_filter_naming_another_slices_queue_is_refused(two):
    """Queue numbers are the fast path's own: a's fast path has no queue b bound that a did not."""
    s, apis = two
    a = apis["a"]
    fpa = next(iter(a.state))
    a.state[fpa].queues.pop(1)                       # a's queue 1 unbound; b's queue 1 stays bound
    with pytest.raises(SppError, match=r"result queue 1 is not one of this slice's queues"):
        a.write_fltr(fpa, {"dst": "10.9.0.0/16"}, {"mi": 2, "queue": 1})


def test_every_id_taking_call_is_covered():
    """The table above names every RMP call that takes a fast path or endpoint."""
    import inspect
    takes = {n for n, f in inspect.getmembers(RMP, inspect.isfunction)
             if not n.startswith("_") and {"fpid", "ep"} & set(inspect.signature(f).parameters)}
    covered = {c.split("(")[0] for c in CALLS}
    assert takes <= covered, takes - covered
