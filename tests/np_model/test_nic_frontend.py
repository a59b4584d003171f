"""The SmartNIC VMDq front-end on the NPR's receive side (nic: model | rtl)."""
from __future__ import annotations

import pytest
from scapy.layers.l2 import ARP, Ether

from tests.helpers import host_ip, host_mac, make_npr, port_ip, port_mac, routed, udp_frame

CONFIG = {"mode": "32x4", "disable_default_pool": True,
          "mac_filters": [{"mac": port_mac(0), "pools": [3]}, {"mac": port_mac(1), "pools": [5, 9]}],
          "broadcast": [3, 7]}


PORTS = [0] * 8 + [1, 0, 0]


def _traffic():
    return [bytes(udp_frame(0, host_ip(2), sport=1000 + i)) for i in range(8)] + [
        bytes(udp_frame(1, host_ip(3))),                                           # pools 5 and 9: two copies
        bytes(Ether(dst="02:99:00:00:00:01") / udp_frame(0, host_ip(2))[1]),       # no MAC filter: no pool
        bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(0)) / ARP(pdst=port_ip(0))).ljust(60, b"\0"),  # bcast
    ]


def test_nic_model_drops_replicates_and_tags_pools():
    r = make_npr("c", nic={"backend": "model", **CONFIG})
    frames = _traffic()
    r.send(frames, port=PORTS)
    r.run(duration_ns=200_000)
    tx = r.transmitted()
    by_pool = sorted((t.pool, t.port) for t in tx)
    assert by_pool == sorted([(3, 2)] * 8 + [(5, 3), (9, 3)])
    assert {t.nic_queue for t in tx if t.pool == 3} <= set(range(4)) and len({t.nic_queue for t in tx}) > 1
    assert [t.data for t in tx if t.pool == 5] == [routed(Ether(frames[8]), 3, host_mac(3))]
    assert r.drops() == {"nic_no_pool": 1}
    r.send([frames[-1][:42]], port=0)                      # unpadded: a runt to the NIC
    r.run(duration_ns=50_000)
    assert r.drops() == {"nic_no_pool": 1, "nic_runt": 1}
    assert [h.reason for h in r.host_packets()] == ["non_ip", "non_ip"]          # the ARP, once per pool
    st = r.nic_stats()
    assert (st["frames"], st["replicas"], st["pools"]) == (12, 2, {3: 9, 5: 1, 7: 1, 9: 1})
    c = r.check_conservation()
    assert (c.arrived, c.copies) == (12, 2)


@pytest.mark.rtl
def test_switching_nic_model_to_rtl_gives_the_same_router_output():
    out = {}
    for backend in ("model", "rtl"):
        r = make_npr("c", nic={"backend": backend, **CONFIG})
        assert r.nic.backend == backend
        r.send(_traffic(), port=PORTS)
        r.run(duration_ns=200_000)
        out[backend] = ([(t.port, t.pool, t.nic_queue, t.data, t.t_start_ns) for t in r.transmitted()],
                        r.drops(), r.nic_stats()["queues"])
        r.nic.close()
    assert out["rtl"] == out["model"]
