"""Every profile key is consumed: changing it changes what the router does, or is
refused with an error (no key is a parameter the core ignores). The keys of
blocks only the SPP assemblies use are tested with them (tests/np_model/spp/
test_spp_profile.py)."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from np_model.assemblies import NPR, FilterAction
from np_model.assemblies.base import BlockSpec, MESpec, RingSpec
from np_model.core import CoreError
from np_model.engine.machine import RingKind
from np_model.plugin_loader import PluginCompileError
from np_model.profile import IXP2800
from tests.helpers import host_ip, host_mac, port_ip, port_mac

# what each key is changed to (default: doubled); a key must change the fingerprint or be refused
CHANGE = {
    "n_me": 15, "threads_per_me": 6, "sram_channels": 3, "scratch_bytes": 8192, "scratch_rings": 4,
    "nn_ring_words": 16, "local_memory_words": 4, "control_store_instr": 100, "n_ports": 4, "port_mtu": 1000,
    "packet_buffers": 40, "rbuf_elements": 8, "tbuf_elements_per_port": 2, "plugin_mes": 6,
    "plugin_budget_cycles": 20, "route_priority": 40, "filter_priority": 60, "qm_rate_granularity_kbps": 50_000,
    "qm_default_rate_kbps": 500_000, "ring_host_in": 1, "qm.enq_threads": 1, "qm.rate_counts_framing": 0,
    "qm.threshold": 2000, "qm.quantum": 64, "qm.port_buffers": 3, "rx.port_buffers": 2, "plc.max_copies": 2,
    "plc.datagram_queues": 3, "stats.blocks": 4, "mux.quantum_rx": 1, "mux.quantum_plugin": 1,
    "mux.quantum_xs_qm": 1, "mux.quantum_xs": 1, "scratch_bytes_per_cycle": 0.5, "sram_cmd_cycles": 9.0,
    "route_entries_unicast": 4, "route_entries_multicast": 0, "primary_filter_entries": 0, "aux_filter_entries": 0,
    "arp_entries": 2, "ctx_swap_cycles": 20, "dram_interleave_bytes": 64, "tcam_search_bytes": 9,
    "stats.cost_base": 50_000,
}
CHANGE.update({k: 128 for k in ("ring_rx_mux_words", "ring_mux_plc_words", "ring_plc_qm_words", "ring_exc_words",
                                  "ring_stats_words", "ring_free_words")})
CHANGE.update({k: 100 for k in ("ring_ld_words", "ring_err_words")})            # not a legal scratch-ring size
CHANGE.update({"ring_qm_hf_words": 1, "ring_hf_tx_words": 2})
CHANGE.update({k: 1000 for k in ("ring_plugin_words", "ring_xs_mux_words", "ring_plug_mux_words",
                                 "ring_plugin_msg_words")})                     # not a power of two


def _udp(p_in: int, dst: str, size: int = 100, dport: int = 9, ttl: int = 64) -> bytes:
    hdr = Ether(dst=port_mac(p_in), src=host_mac(p_in)) / IP(src=host_ip(p_in), dst=dst, ttl=ttl) / UDP(dport=dport)
    return bytes(hdr / Raw(b"\x5a" * max(0, size - len(hdr))))


class _Tapped(NPR):
    def rewire(self, w):
        w.mes = [e for e in w.mes if e.inst != "plugin4"]
        w.insert_between("mux_plc", "tap", BlockSpec("counter"), MESpec("tap", "tap", 8), producer_ports=[("mux", "out")],
                         ring_spec=RingSpec(RingKind.MEM, "sram1", 3, 512, "mux_plc"))


def fingerprint(profile, cls=NPR, nic=None):
    """Run a scenario that exercises every block, table, ring and port setting; return
    what a user sees of it (bytes and times sent, drops, exceptions, counters)."""
    r = cls(profile=profile, nic=nic) if nic else cls(profile=profile)
    n = len(r.ports)
    for i in range(n):
        r.set_arp(host_ip(i), host_mac(i))
    r.add_route("192.168.9.0/24", port=2, next_hop=host_ip(2), stats=5)
    r.add_filter(FilterAction("queue", port=3, qid=70), dport=5001)
    r.add_route("224.5.0.0/16", multicast_ports=[1, 2, 3])
    r.load_plugin("count", 0)
    r.load_plugin("emulink", 1)                  # 40 bytes of globals: checks the local memory
    r.add_filter(FilterAction("plugin", plugin=0), aux=True, dport=7)
    r.set_port_rate(n - 1, 100_000)
    frames, ports, times = [], [], []

    def offer(f: bytes, p: int, t: float) -> None:
        frames.append(f)
        ports.append(p)
        times.append(t)
    for k in range(120):                         # a burst into the rate-limited port
        for p in range(min(3, n - 1)):
            offer(_udp(p, host_ip(n - 1), size=64 + (k * 37 + p * 101) % 1300, dport=1000 + k % 50), p, k * 300.0)
    for k in range(10):
        offer(_udp(1, host_ip(0), size=90, dport=5001), 1, 40_000 + k * 900.0)          # the filter
        offer(_udp(2, "192.168.9.7", size=200), 2, 40_000 + k * 900.0)                   # the stats route
        offer(_udp(0, host_ip(1), size=120, dport=7), 0, 40_000 + k * 900.0)             # the aux copy
        offer(_udp(0, host_ip(2), ttl=1), 0, 40_300 + k * 900.0)                         # an exception
        offer(bytes(Ether(dst="01:00:5e:05:00:01", src=host_mac(0)) / IP(src=host_ip(0), dst="224.5.0.1")
                    / UDP() / Raw(b"m" * 40)), 0, 40_600 + k * 900.0)
    offer(_udp(1, host_ip(0), size=1400), 1, 50_000.0)                                 # the MTU
    offer(bytes(Ether(dst=port_mac(1), src=host_mac(1)) / Dot1Q(prio=5, vlan=0) / IP(src=host_ip(1), dst=host_ip(2))
                / UDP() / Raw(b"t" * 40)), 1, 51_000.0)                                 # an 802.1Q priority tag
    offer(bytes(Ether(dst=port_mac(2), src="02:00:00:00:03:63") / IP(src="10.0.3.99", dst="192.168.9.3") / UDP()
                / Raw(b"r" * 30)), 2, 52_000.0)                                       # back out its port: redirect
    offer(bytes(Ether(dst=port_mac(2), src=host_mac(2)) / IP(src=host_ip(2), dst=port_ip(2)) / ICMP()), 2, 50_000.0)
    r.send(frames, ports, at_ns=times)
    pt = bytes(Ether(dst=host_mac(0), src=port_mac(0)) / IP(src=port_ip(0), dst=host_ip(0)) / UDP())
    cl = bytes(Ether(dst=port_mac(1)) / IP(src=port_ip(1), dst=host_ip(0)) / UDP())
    for k in range(12):
        r.inject(pt, at_ns=30_000, out_port=0, qid=100, passthru=True)
        r.inject(cl, at_ns=30_000, in_port=1)
    r.run(duration_ns=60_000)
    r.run_until_idle(max_ns=5e6)
    st = r.stats()
    return ([(t.port, t.data, round(t.t_start_ns, 2), t.qid) for t in r.transmitted()], r.drops(), r.exceptions(),
            r.stats_counters(5), [r.port_rate_kbps(i) for i in range(n)], r.plugin_stats(0)["cycles_mean"],
            st["blocks"], {k: v["busy_cycles"] for k, v in st["mes"].items()},
            {k: v["capacity"] for k, v in st["rings"].items()})


@pytest.fixture(scope="module")
def baseline():
    return fingerprint(IXP2800)


def _changed(key: str) -> object:
    v = IXP2800.value(key)
    return CHANGE.get(key, v * 2)


@pytest.mark.parametrize("key", [k for k in IXP2800 if not k.startswith(("counter.", "mux.quantum"))
                                 and k != "nic_latency_ns"])
def test_every_profile_key_changes_the_router_or_is_refused(key, baseline):
    prof = IXP2800.replace({key: _changed(key)})
    try:
        got = fingerprint(prof)
    except (ValueError, CoreError, PluginCompileError) as e:
        assert str(e)                                    # refused, with a message
        return
    assert got != baseline, f"{key} = {_changed(key)} changed nothing"


def test_block_keys_of_a_block_the_npr_does_not_use_reach_it():
    """counter.cost: a Counter block on the Mux -> PLC ring takes its value."""
    base = fingerprint(IXP2800, cls=_Tapped)
    assert fingerprint(IXP2800.replace({"counter.cost": 500}), cls=_Tapped) != base


def _mux_shares(profile) -> tuple[int, ...]:
    """Mux's service of its four inputs, all backlogged (see test_framework)."""
    from tests.np_model.test_framework import mux_saturated
    return mux_saturated(profile)


@pytest.mark.parametrize("key", [k for k in IXP2800 if k.startswith("mux.quantum")])
def test_mux_quanta_change_its_shares(key):
    prof = IXP2800.replace({"mux.cost_base": 500, "xscale.cost_tx": 100})
    assert _mux_shares(prof) != _mux_shares(prof.replace({key: 64}))


def test_nic_latency_reaches_the_functional_front_end():
    nic = {"backend": "model"}
    assert fingerprint(IXP2800, nic=nic) != fingerprint(IXP2800.replace({"nic_latency_ns": 500}), nic=nic)


def test_unknown_profile_keys_are_refused():
    with pytest.raises(KeyError, match="has no parameter 'plc.cost_parze'; did you mean plc.cost_parse.*valid: .*plc.cost_parse"):
        IXP2800.replace({"plc.cost_parze": 3})
