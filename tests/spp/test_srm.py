"""The SRM's admission control and the RMP's rules (virtual_routers.md §1.3,
the ARCH worked example): reservations never exceed the node, errors name the
resource and what is left, a refused request reserves nothing."""
from __future__ import annotations

import pytest

from host.spp import RMP, SRM, AdmissionError, GPECapacity, Interface, NPECapacity, SppError

ARL = dict(firm=202_000, fltrs=6, qs=4, stats=8, buffs=1000, sram=4096, dram=0)


def srm(npe: NPECapacity | None = None, kbps: int = 1_000_000, cores: float = 2.0) -> SRM:
    return SRM([Interface(0, "64.57.23.210", kbps), Interface(1, "64.57.23.214", kbps, "peering", "64.57.23.213")],
               [npe or NPECapacity()], [GPECapacity(cores)], ["ipv4", "i3"])


def arl_slice(s: SRM, name: str, base_port: int) -> tuple[RMP, int]:
    """The ARCH example's slice: 3 MIs (m0 2 Mb/s, m1 and m2 100 Mb/s), 4 queues, fast path 202 Mb/s."""
    s.add_slice(name, gpe_share=0.25)
    api = RMP(s, name)
    e1 = api.alloc_endpoint("64.57.23.210", base_port)
    e2 = api.alloc_endpoint("64.57.23.214", base_port)
    fp = api.alloc_fastpath("ipv4", **ARL)
    api.create_mi(fp, 0, kbps=2000)
    api.create_mi(fp, 1, e1, kbps=100_000)
    api.create_mi(fp, 2, e2, kbps=100_000)
    api.bind_queue(fp, 0, 1)
    api.bind_queue(fp, 1, 2)
    api.bind_queue(fp, 2, 0)
    api.bind_queue(fp, 3, 0)
    return api, fp


def test_arl_example_two_slices_fit_and_interface_bandwidth_is_accounted():
    s = srm()
    arl_slice(s, "alice", 30000)
    arl_slice(s, "bob", 30001)
    ifs = s.get_ifaces()
    # each interface carries one 100 Mb/s MI of each slice; MI 0 stays inside the node
    assert [i["available_kbps"] for i in ifs] == [1_000_000 - 200_000, 1_000_000 - 200_000]
    assert s.npe_used(0)["firm_kbps"] == 2 * ARL["firm"] and s.npe_used(0)["fltrs"] == 12


@pytest.mark.parametrize("res,field_,unit", [("fltrs", "filters", "filters"), ("qs", "queues", "queues"),
                                             ("stats", "stats", "counters"), ("buffs", "buffers", "buffers"),
                                             ("sram", "sram_bytes", "bytes of SRAM"),
                                             ("dram", "dram_bytes", "bytes of DRAM"), ("firm", "kbps", "kb/s")])
def test_fastpath_beyond_npe_capacity_names_resource_and_what_is_left(res, field_, unit):
    cap = NPECapacity(**{field_: 10})
    s = srm(cap)
    s.add_slice("a")
    s.add_slice("b")
    first = {**ARL, res: 7}
    if res != "firm":
        first["firm"] = 5
    RMP(s, "a").alloc_fastpath("ipv4", **first)
    before = s.npe_left(0)
    with pytest.raises(AdmissionError) as ei:
        RMP(s, "b").alloc_fastpath("ipv4", **first)
    key = "firm_kbps" if res == "firm" else res
    assert ei.value.resource == key and ei.value.asked == 7 and ei.value.left == 3
    assert f"asked 7 {unit}, 3 {unit} left on npe0" in str(ei.value)
    assert s.npe_left(0) == before and not s.slices["b"].fastpaths      # nothing reserved


def test_mi_bandwidths_never_exceed_the_fastpath():
    s = srm()
    s.add_slice("a")
    api = RMP(s, "a")
    e = api.alloc_endpoint("64.57.23.210", 30000)
    fp = api.alloc_fastpath("ipv4", **dict(ARL, firm=150_000))
    api.create_mi(fp, 0, kbps=2000)
    with pytest.raises(AdmissionError, match=r"fast-path bandwidth: asked 150000 kb/s, 148000 kb/s left"):
        api.create_mi(fp, 1, e, kbps=150_000)
    api.create_mi(fp, 1, e, kbps=148_000)


def test_interface_bandwidth_shared_by_mis_and_gpe_paths():
    s = srm(kbps=300_000)
    s.add_slice("a")
    s.add_slice("b")
    a, b = RMP(s, "a"), RMP(s, "b")
    a.resrv_pl_ifbw(0, 100_000)
    e = b.alloc_endpoint("64.57.23.210", 30000)
    fp = b.alloc_fastpath("ipv4", **dict(ARL, firm=500_000))
    with pytest.raises(AdmissionError, match=r"interface bandwidth: asked 250000 kb/s, 200000 kb/s left on interface 0"):
        b.create_mi(fp, 1, e, kbps=250_000)
    b.create_mi(fp, 1, e, kbps=200_000)
    with pytest.raises(AdmissionError, match="interface bandwidth"):
        b.resrv_pl_ifbw(0, 1)
    a.resrv_pl_ifbw(0, 0)                                     # freed: room again
    b.resrv_pl_ifbw(0, 100_000)
    assert s.get_ifaces()[0]["available_kbps"] == 0


def test_gpe_shares_admitted_against_cores():
    s = srm(cores=1.0)
    s.add_slice("a", gpe_share=0.75)
    with pytest.raises(AdmissionError, match=r"gpe cores: asked 0.5 cores, 0.25 cores left on gpe0"):
        s.add_slice("b", gpe_share=0.5)
    assert "b" not in s.slices


def test_unknown_code_option_lists_the_valid_ones():
    s = srm()
    s.add_slice("a")
    with pytest.raises(SppError, match=r"unknown code option .ipv6.; valid: ipv4, i3, or a code option"):
        RMP(s, "a").alloc_fastpath("ipv6", **ARL)


def test_queue_rules_mi0_highest_numbered_and_every_mi_needs_a_queue():
    s = srm()
    s.add_slice("a")
    api = RMP(s, "a")
    e = api.alloc_endpoint("64.57.23.210", 30000)
    fp = api.alloc_fastpath("ipv4", **ARL)
    api.create_mi(fp, 0, kbps=2000)
    api.create_mi(fp, 1, e, kbps=100_000)
    api.bind_queue(fp, 2, 0)
    with pytest.raises(SppError, match="highest-numbered queues belong to MI 0"):
        api.bind_queue(fp, 3, 1)                             # above MI 0's queue 2
    with pytest.raises(SppError, match="no queue bound"):
        api.write_fltr(fp, {"dst": "10.1.0.0/16"}, {"mi": 1, "queue": 2})
    api.bind_queue(fp, 0, 1)
    api.bind_queue(fp, 1, 0)                                 # above MI 1's queue 0: allowed
    with pytest.raises(SppError, match="queue 4 is not one of fast path"):
        api.bind_queue(fp, 4, 0)
    with pytest.raises(SppError, match="bound to meta-interface 0, not 1"):
        api.write_fltr(fp, {}, {"mi": 1, "queue": 2})
    api.write_fltr(fp, {}, {"mi": 1, "queue": 0, "stats": 7})
    with pytest.raises(SppError, match="counters 0..7"):
        api.write_fltr(fp, {}, {"mi": 1, "queue": 0, "stats": 8})


def test_filter_quota_and_free_all_returns_everything():
    s = srm()
    s.add_slice("a")
    api = RMP(s, "a")
    fp = api.alloc_fastpath("ipv4", **dict(ARL, fltrs=2))
    api.create_mi(fp, 0, kbps=1000)
    api.bind_queue(fp, 3, 0)
    api.write_fltr(fp, {}, {"mi": 0, "queue": 3})
    api.write_fltr(fp, {}, {"mi": 0, "queue": 3})
    with pytest.raises(AdmissionError, match="filters: asked 1 filters, 0 filters left"):
        api.write_fltr(fp, {}, {"mi": 0, "queue": 3})
    api.alloc_endpoint("64.57.23.210")
    api.resrv_pl_ifbw(1, 5000)
    api.free_all()
    assert s.npe_used(0) == {k: 0 for k in s.npe_used(0)}
    assert not s.endpoint_owner and s.iface_left(1) == 1_000_000 and not s.slices["a"].fastpaths


def test_endpoints_must_be_node_addresses_and_ports_in_range():
    s = srm()
    s.add_slice("a")
    api = RMP(s, "a")
    with pytest.raises(SppError, match="not an address of this node"):
        api.alloc_endpoint("10.9.9.9", 30000)
    with pytest.raises(SppError, match="outside the endpoint range 1024..65535"):
        api.alloc_endpoint("64.57.23.210", 80)
    assert api.alloc_endpoint("64.57.23.210") == ("64.57.23.210", 1024)
    assert api.alloc_endpoint("64.57.23.210") == ("64.57.23.210", 1025)
