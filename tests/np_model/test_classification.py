"""Route table and filters searched as one TCAM: priority, actions, copies."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether

from np_model.core import CoreError
from np_model.assemblies import FilterAction
from tests.helpers import host_ip, host_mac, make_npr, routed, udp_frame


def _ports_of(r, frames, port=0, run_ns=200_000):
    r.send([bytes(f) for f in frames], port=port)
    r.run(duration_ns=run_ns)
    return sorted(t.port for t in r.transmitted())


@pytest.mark.parametrize("fprio,winner", [(50, 3), (55, 3), (56, 3), (57, 1), (63, 1)])
def test_filter_vs_route_priority(engine, fprio, winner):
    """Route priority is 56; a filter with a lower or equal number wins."""
    r = make_npr(engine)
    r.add_filter(FilterAction("queue", port=3, mac=host_mac(3)), priority=fprio, dst=f"{host_ip(1)}/32")
    f = udp_frame(0, host_ip(1))
    r.send([bytes(f)], port=0)
    r.run(duration_ns=50_000)
    [t] = r.transmitted()
    assert t.port == winner
    assert t.data == routed(f, winner, host_mac(3) if winner == 3 else host_mac(1))


def test_filters_lower_number_first_then_installation_order(engine):
    r = make_npr(engine)
    r.add_filter(FilterAction("queue", port=2, mac=host_mac(2)), priority=30, dport=80)
    r.add_filter(FilterAction("queue", port=3, mac=host_mac(3)), priority=20, dport=80)
    r.add_filter(FilterAction("queue", port=4, mac=host_mac(4)), priority=20, proto=17)
    assert _ports_of(r, [udp_frame(0, host_ip(1), dport=80)]) == [3]


@pytest.mark.parametrize("field,value,hit", [
    ("dport", 80, True), ("dport", 81, False), ("sport", 1234, True), ("proto", 6, False),
    ("src", "10.0.1.0/24", True), ("src", "10.0.9.0/24", False), ("in_port", 0, True), ("in_port", 2, False),
    ("ptag", 0, True), ("ptag", 5, False),
])
def test_filter_fields(engine, field, value, hit):
    r = make_npr(engine)
    r.add_filter(FilterAction("queue", port=4, mac=host_mac(4)), **{field: value})
    assert _ports_of(r, [udp_frame(0, host_ip(1), dport=80, sport=1234)]) == ([4] if hit else [1])


def test_drop_filter_and_missing_plugin(engine):
    r = make_npr(engine)
    r.add_filter(FilterAction("drop"), dport=9)
    r.add_filter(FilterAction("plugin", plugin=2), dport=10)
    frames = [udp_frame(0, host_ip(1), dport=d) for d in (9, 10, 11)]
    assert _ports_of(r, frames) == [1]
    assert r.drops() == {"filter_drop": 1, "no_plugin": 1}
    r.check_conservation()


def test_per_input_port_routes(engine):
    r = make_npr(engine)
    r.add_route("192.168.5.0/24", port=1, next_hop=host_ip(1), in_port=0)
    r.add_route("192.168.5.0/24", port=4, next_hop=host_ip(4), in_port=2)
    r.send([bytes(udp_frame(0, "192.168.5.5"))], port=0)
    r.send([bytes(udp_frame(2, "192.168.5.5"))], port=2)
    r.run(duration_ns=100_000)
    assert sorted(t.port for t in r.transmitted()) == [1, 4]


def test_multicast_route_copies_to_every_port_but_input(engine):
    r = make_npr(engine)
    r.add_route("224.1.1.0/24", multicast_ports=[0, 1, 2, 3])
    f = udp_frame(0, "224.1.1.1", ttl=5)
    r.send([bytes(f)], port=0)
    r.run(duration_ns=100_000)
    out = r.transmitted()
    assert sorted(t.port for t in out) == [1, 2, 3]
    for t in out:
        assert t.data == routed(f, t.port, "01:00:5e:01:01:01")
    assert sum(t.copy for t in out) == 2
    c = r.check_conservation()
    assert c.copies == 2


def test_multicast_filter(engine):
    r = make_npr(engine)
    r.add_filter(FilterAction("multicast", ports=(2, 4)), dst="239.0.0.7/32")
    f = udp_frame(1, "239.0.0.7")
    assert _ports_of(r, [f], port=1) == [2, 4]


def test_aux_filter_copies_to_host_and_to_a_port(engine):
    r = make_npr(engine)
    r.add_filter(FilterAction("host"), aux=True, dport=7)
    r.add_filter(FilterAction("queue", port=4, mac=host_mac(4), qid=70), aux=True, dport=8)
    a, b = udp_frame(0, host_ip(1), dport=7), udp_frame(0, host_ip(2), dport=8)
    r.send([bytes(a), bytes(b)], port=0)
    r.run(duration_ns=100_000)
    out = sorted((t.port, t.data, t.copy) for t in r.transmitted())
    assert out == sorted([(1, routed(a, 1, host_mac(1)), False), (2, routed(b, 2, host_mac(2)), False),
                          (4, routed(b, 4, host_mac(4)), True)])
    [hp] = r.host_packets()
    assert hp.reason == "filter_to_host"
    # the copy shares the original's buffer, whose TTL PLC already decremented
    assert Ether(hp.data)[IP].ttl == 63
    assert r.check_conservation().copies == 2


@pytest.mark.parametrize("sample", [0.5, 0.25, 0.125])
def test_aux_sampling_rate(sample):
    """NPR's aux-filter sampling types copy 1/2, 1/4, 1/8 of matches [C-code]."""
    r = make_npr("c")
    r.add_filter(FilterAction("host"), aux=True, proto=17, sample=sample)
    n = 2000
    r.send([bytes(udp_frame(0, host_ip(1)))] * n, port=0,
           at_ns=[i * 1000.0 for i in range(n)])
    r.run(duration_ns=n * 1000.0 + 100_000)
    copies = len(r.host_packets())
    assert abs(copies / n - sample) <= 0.1 * sample + 0.01
    r.check_conservation()


def test_table_errors_name_the_problem():
    r = make_npr("c")
    with pytest.raises(ValueError, match="filter priority must be an integer 0..63, got 64"):
        r.add_filter(FilterAction("drop"), priority=64)
    with pytest.raises(ValueError, match="port 7 does not exist"):
        r.add_route("1.0.0.0/8", port=7)
    with pytest.raises(ValueError, match="unknown filter action 'bogus'"):
        r.add_filter(FilterAction("bogus"))
    with pytest.raises(ValueError, match="plug-in ME must be an integer 0..4, got 5"):
        r.add_filter(FilterAction("plugin", plugin=5))


def test_route_table_capacity_is_the_npr_tcam():
    """The NPR's route database holds 16,384 entries, multicast in the first half and
    unicast in the second [C-code npr_tcam.ini]: 8,192 of each."""
    r = make_npr("c", connected_routes=False)
    for i in range(8192):
        r.add_route(f"{20 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.0/24", port=0)
    with pytest.raises(CoreError, match=r"unicast route table full \(8192 entries"):
        r.add_route("99.0.0.0/8", port=0)
    r.add_route("224.1.0.0/16", multicast_ports=[1, 2])   # the multicast half is separate
    assert (r.route_count(multicast=False), r.route_count(multicast=True)) == (8192, 1)
    r.del_route("20.0.5.0/24")
    r.add_route("99.0.0.0/8", port=0)          # room again after a delete
