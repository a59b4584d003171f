"""Every key of the SPP profile (np_model.profile.IXP2850) is consumed: changing
it changes what the line card or the NPE does, or is refused with an error.
The scenario runs both boards through every block and table they have:
endpoint and default filters, egress contexts and ARP, the IPv4 and i3 code
options and one with global variables, exceptions, rates, buffer limits."""
from __future__ import annotations

import functools
import textwrap

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from np_model.assemblies.spp_linecard import LineCard
from np_model.assemblies.spp_npe import NPE
from np_model.core import CoreError
from np_model.plugin_loader import PluginCompileError
from np_model.profile import IXP2850, SPP_BLOCKS
from np_model.spp_formats import I3, internal_frame
from tests.np_model.spp.spp_helpers import NPE_MAC, from_lc, overlay, worked_example

CHANGE = {
    "n_me": 8, "threads_per_me": 6, "sram_channels": 2, "scratch_bytes": 8192, "scratch_rings": 4,
    "local_memory_words": 4, "control_store_instr": 100, "rbuf_elements": 8, "tbuf_elements_per_port": 2,
    "copt_budget_cycles": 20, "spp_ring_words": 1024, "rx.port_buffers": 2, "dram_interleave_bytes": 64,
    "tcam_search_bytes": 9, "stats.cost_base": 50_000, "hqm.enq_threads": 7, "hqm.threshold": 2000,
    "hqm.quantum": 100, "hqm.poll_cycles": 5000, "hqm.rate_counts_framing": 0, "lc_lookup.tcam_key_bytes": 40,
    "tcam_searches_per_s": 2_000_000,
}

GLOBALS = """#include "code_option.h"
COPT_KEY("x:8");
static uint32_t seen[8];            /* 32 bytes of globals: the ME's local memory */
void copt_parse(pkt_t pkt) { seen[copt_slice() & 7]++; }
void copt_hf(pkt_t pkt) {
    uint8_t hdr[28];
    unsigned off = copt_payload_offset();
    copt_tunnel_header(hdr, copt_src_ip(), copt_src_port(), copt_dst_ip(), copt_dst_port(), copt_len(pkt) - off, 64);
    copt_write(pkt, copt_ip_offset(), hdr, sizeof hdr);
}
"""


@functools.lru_cache(maxsize=1)
def _traffic():
    """The scenario's frames (built once: scapy is the slow part)."""
    host = "02:00:00:00:01:02"
    frames = [bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host) / ARP(op=1, hwsrc=host, psrc="10.0.1.2", pdst="10.0.1.1"))]
    for k in range(30):
        frames.append(bytes(Ether(dst="02:5c:00:00:01:01", src=host) / IP(src="10.0.1.2", dst="10.0.1.1") /
                            UDP(sport=9, dport=30011 if k % 3 else 22) / Raw(b"p" * (40 + 37 * k))))
    eg = [internal_frame("02:5c:00:00:00:01", NPE_MAC, 111 + k % 2, IP(src="10.0.2.1", dst=f"10.0.2.{9 - k % 2}") / UDP()
                         / Raw(b"e" * (900 - 11 * k))) for k in range(40)]
    nf, at = [], []
    for k in range(60):
        nf.append(from_lc(1, 2, overlay("10.9.9.9", ("10.1.0.1", "10.3.0.1", "10.2.0.1")[k % 3], size=300 + 20 * k,
                                        ttl=1 if k % 17 == 0 else 64)))
        at.append(200.0 * k)
    for k in range(20):
        nf += [from_lc(2, 1, overlay("10.9.9.9", "10.4.0.1", size=100)), from_lc(3, 1, I3(id=bytes(32))),
               from_lc(4, 1, Raw(b"g" * 50)), from_lc(1, 1, overlay("1.1.1.1", "172.16.0.1"))]
        at += [15_000.0 + 700 * k + j for j in range(4)]
    return frames, eg, nf, at


def fingerprint(profile, tmp, engine: str = "c"):
    """What a user sees of a run through both boards."""
    src = tmp / "globals.c"
    src.write_text(textwrap.dedent(GLOBALS))
    lc = LineCard(profile, n_external=2, engine=engine)
    lc.add_endpoint_filter("10.0.1.1", 30011, board_mac=NPE_MAC, vid=1)
    lc.set_default_to_gpe(board_mac="02:6e:00:00:00:01", vid=300)
    lc.set_egress_queue(1, 1, kbps=50_000, vid=111)
    lc.set_egress_queue(1, 2, kbps=0, vid=112)
    lc.set_next_hop(1, "02:00:00:00:02:02")
    lc.set_arp("10.0.2.9", "02:00:00:00:02:09")
    frames, eg, nf, at = _traffic()
    lc.send(frames, 0, at_ns=[400.0 * k for k in range(len(frames))])
    lc.send(eg, 2, at_ns=[100.0 * k for k in range(40)])
    lc.run_until_idle()

    npe = NPE(profile, mac=NPE_MAC, unsafe_in_process=True, engine=engine)
    worked_example(npe, 1, kbps=(2000, 20_000, 100_000), thresholds=40_000, buffers=30)
    worked_example(npe, 2, kbps=(2000, 100_000, 100_000))
    worked_example(npe, 3, "i3")
    worked_example(npe, 4, str(src))
    npe.bind_queue(1, 2, 1)                         # q0 and q2 share MI 1 (WDRR between them)
    npe.add_filter(1, {"dst": "10.1.0.0/16"}, {"queue": 0, "stats": 1})
    npe.add_filter(1, {"dst": "10.3.0.0/16"}, {"queue": 2})
    npe.add_filter(1, {"dst": "10.2.0.0/16"}, {"queue": 1, "stats": 2})
    npe.add_filter(2, {}, {"queue": 1})
    npe.add_filter(3, {"id": bytes(16)}, {"queue": 0, "next_hop": ("198.51.100.1", 7)})
    npe.add_filter(4, {}, {"queue": 0})
    npe.send(nf, 0, at_ns=at)
    npe.run_until_idle()
    out = []
    for r in (lc, npe):
        r.check_conservation()
        st = r.stats()
        out.append(([(t.port, t.data, round(t.t_start_ns, 2), t.qid) for t in r.transmitted()], r.drops(),
                    [(h.reason, round(h.t_host_ns, 2)) for h in r.host_packets()], st["blocks"],
                    {k: v["busy_cycles"] for k, v in st["mes"].items()}, {k: v["capacity"] for k, v in st["rings"].items()},
                    r.capacity(), r.engine.events))
    out.append([npe.stats_counters(1, i) for i in range(4)])
    out.append({n: npe.code_option_stats(n)["cycles_mean"] for n in npe.code_options})
    return out


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return fingerprint(IXP2850, tmp_path_factory.mktemp("base"))


@pytest.mark.parametrize("key", list(IXP2850))
def test_every_spp_profile_key_changes_the_boards_or_is_refused(key, baseline, tmp_path):
    v = IXP2850.value(key)
    prof = IXP2850.replace({key: CHANGE.get(key, v * 2)})
    try:
        got = fingerprint(prof, tmp_path)
    except (ValueError, CoreError, PluginCompileError) as e:
        assert str(e)
        return
    assert got != baseline, f"{key} = {CHANGE.get(key, v * 2)} changed nothing"


def test_the_spp_profile_holds_every_spp_block_parameter():
    from np_model.blocks import BLOCK_TYPES
    for b in SPP_BLOCKS:
        for p in BLOCK_TYPES[b].params:
            if p.status != "wiring":
                assert IXP2850.value(f"{b}.{p.name}") == p.default


def test_the_ixp2850_differences_are_stated():
    """The profile says what differs from the IXP2800 and where it comes from."""
    from np_model.profile import IXP2800
    assert IXP2850["sram_channels"].value == 3 != IXP2800["sram_channels"].value
    assert "3 banks of QDR SRAM" in IXP2850["sram_channels"].source
    assert IXP2850.name == "ixp2850-spp" and "me_clock_hz" in IXP2850.estimates()
