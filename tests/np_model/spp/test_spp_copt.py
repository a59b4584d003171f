"""Code options are compiled modules contained like plug-ins.

A code option that does not compile is refused with file:line; one that
faults, loops, runs over its budget or makes a system call loses only the
packet it was working on (a named drop) -- the same slice's next packets and
the other slices' keep forwarding byte for byte. A user adds a code option
from one C file; each slice's SRAM window is its own.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from scapy.packet import Raw

from np_model.assemblies.spp_npe import NPE
from np_model.core import CoreError
from np_model.plugin_loader import PluginCompileError
from tests.np_model.spp.spp_helpers import expected_out, from_lc, overlay, routed, worked_example

# a code option like ipv4.c's simplest form: key = nothing, HF = new outer header;
# MARK in the first payload byte runs the misbehaviour under test
TEMPLATE = """#include "code_option.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
COPT_KEY("x:8");
COPT_REASONS("1:marked");
void copt_parse(pkt_t pkt) {
    uint8_t b;
    copt_read(pkt, copt_payload_offset(), &b, 1);
    if (b == 0xEE) { %s }
}
void copt_hf(pkt_t pkt) {
    uint8_t hdr[28];
    unsigned off = copt_payload_offset();
    copt_tunnel_header(hdr, copt_src_ip(), copt_src_port(), copt_dst_ip(), copt_dst_port(), copt_len(pkt) - off, 64);
    copt_write(pkt, copt_ip_offset(), hdr, sizeof hdr);
}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.c"
    p.write_text(textwrap.dedent(text))
    return p


CASES = [
    ("jump_to_self", "for (;;);", "copt_hang", "hangs"),
    ("volatile_loop", "volatile int x = 0; while (1) x++;", "copt_budget", "budget_exceeded"),
    ("null_store", "*(volatile int *)0 = 1;", "copt_crash", "crashes"),
    ("divide", "volatile int z = 0; copt_counter_add(0, 7 / z);", "copt_crash", "crashes"),
    ("write_stdout", 'printf("hi\\n"); fflush(stdout);', "copt_syscall", "syscalls"),
    ("exit", "_exit(1);", "copt_syscall", "syscalls"),
    ("drop", "copt_drop(1);", "copt_drop", None),
]


@pytest.mark.parametrize("case,code,reason,stat", CASES, ids=[c[0] for c in CASES])
def test_a_misbehaving_code_option_loses_only_the_packet_it_works_on(engine, tmp_path, case, code, reason, stat):
    """Slice 1 runs the bad code option, slice 2 the IPv4 one. The marked packet
    of slice 1 is dropped under the named reason; slice 1's unmarked packets and
    slice 2's all leave byte for byte; every packet is accounted for."""
    n = NPE(engine=engine, buffers=2048, watchdog_ms=250)
    worked_example(n, 1, str(write(tmp_path, case, TEMPLATE % code)))
    worked_example(n, 2)
    n.add_filter(1, {}, {"queue": 1})
    n.add_filter(2, {"dst": "10.2.0.0/16"}, {"queue": 0})
    plain, marked = Raw(b"\x01" * 40), Raw(b"\xee" * 40)
    b = overlay("10.1.1.1", "10.2.2.2")
    frames = [from_lc(1, 1, marked), from_lc(2, 2, b), from_lc(1, 1, plain), from_lc(2, 2, b)]
    n.send(frames, 0, at_ns=[0, 2000, 4000, 6000])
    n.run_until_idle()
    n.check_conservation()
    assert n.drops() == {reason: 1}
    assert [t.data for t in n.transmitted()] == [expected_out(2, 1, routed(b)), expected_out(1, 2, plain),
                                                 expected_out(2, 1, routed(b))]
    st = n.code_option_stats(case)
    if stat:
        assert st[stat] == 1
    else:
        assert st["drops"] == {"marked": 1}
    assert n.code_option_stats("ipv4")["crashes"] == 0


def test_a_code_option_that_does_not_compile_is_refused_naming_file_and_line(tmp_path):
    n = NPE(buffers=256)
    src = write(tmp_path, "broken", TEMPLATE.replace("uint8_t b;", "uint8_t b") % "")
    with pytest.raises(PluginCompileError, match=rf"{src}:9: "):
        n.add_fastpath(1, str(src), queues=1, filters=1, buffers=10, kbps=1000)
    assert n.fastpaths == [] and n.code_options == {}


@pytest.mark.parametrize("text,match", [
    (TEMPLATE.replace('COPT_KEY("x:8");', "") % "", r"declares its key once, as COPT_KEY"),
    (TEMPLATE.replace('"x:8"', '"x:8 y:121"') % "", r":5: the key has 129 bits; it must have 1..128"),
    (TEMPLATE.replace('"1:marked"', '"1:marked 1:again"') % "", r":6: reason '1:again' repeats a code"),
    (TEMPLATE.replace("void copt_hf", "void not_hf") % "", r"does not define copt_hf, which plugins/include/"
                                                           r"code_option.h requires"),
])
def test_declarations_and_entry_points_are_checked(tmp_path, text, match):
    n = NPE(buffers=256)
    with pytest.raises((PluginCompileError, CoreError), match=match):
        n.load_code_option(str(write(tmp_path, "decl", text)))


def test_unknown_code_options_name_the_shipped_ones():
    n = NPE(buffers=256)
    with pytest.raises(ValueError, match="unknown code option 'ipv6': give a .c file or one of i3, ipv4"):
        n.add_fastpath(1, "ipv6", queues=1, filters=1, buffers=10, kbps=1000)


def test_a_failing_copt_init_refuses_the_load(tmp_path):
    n = NPE(buffers=256)
    src = write(tmp_path, "initcrash", TEMPLATE % "" + "void copt_init(const char *a) { *(volatile int *)0 = 1; }\n")
    with pytest.raises(CoreError, match=r"copt_init of 'initcrash' crashed"):
        n.load_code_option(str(src))


WINDOW = """#include "code_option.h"
COPT_KEY("x:8");
/* counts each slice's packets in the slice's own SRAM window and writes the
 * count into the first payload byte; a write past the window must fail */
void copt_parse(pkt_t pkt) {
    uint32_t c = 0;
    if (copt_sram_read(0, &c, 4) != 4 || copt_sram_write(copt_sram_size(), &c, 1) != -1) { copt_drop(1); return; }
    c++;
    copt_sram_write(0, &c, 4);
    uint8_t b = (uint8_t)c;
    copt_write(pkt, copt_payload_offset(), &b, 1);
}
void copt_hf(pkt_t pkt) {
    uint8_t hdr[28];
    unsigned off = copt_payload_offset();
    copt_tunnel_header(hdr, copt_src_ip(), copt_src_port(), copt_dst_ip(), copt_dst_port(), copt_len(pkt) - off, 64);
    copt_write(pkt, copt_ip_offset(), hdr, sizeof hdr);
}
"""


def test_each_slice_has_its_own_sram_window(engine, tmp_path):
    """Two slices share one (user) code option; the state each keeps in its
    SRAM window (sram_bytes) is its own: counts run 1, 2, 3 per slice."""
    n = NPE(engine=engine, buffers=2048)
    src = str(write(tmp_path, "window", WINDOW))
    for s in (1, 2):
        n.add_fastpath(s, src, queues=2, filters=2, buffers=50, sram_bytes=64, kbps=100_000)
        n.add_meta_interface(s, 0, kbps=1000, board_mac="02:6e:00:00:00:01", vid=200 + s)
        n.add_meta_interface(s, 1, endpoint=("64.57.23.210", 30000 + 10 * s + 1), kbps=90_000,
                             board_mac="02:5c:00:00:00:01", vid=100 + 10 * s + 2, peer=("64.57.23.5", 40000 + s))
        n.bind_queue(s, 0, 1)
        n.bind_queue(s, 1, 0)
        n.add_filter(s, {}, {"queue": 0})
    order = [1, 2, 1, 1, 2, 2]
    n.send([from_lc(s, 1, Raw(b"\x00" * 20)) for s in order], 0, at_ns=[3000.0 * k for k in range(6)])
    n.run_until_idle()
    n.check_conservation()
    per: dict[int, list[int]] = {1: [], 2: []}
    for t in n.transmitted():                       # the slice from the outer source port, the count from the payload
        sport = int.from_bytes(t.data[18 + 20:18 + 22], "big")
        per[(sport - 30001) // 10].append(t.data[18 + 28])
    assert per == {1: [1, 2, 3], 2: [1, 2, 3]} and n.drops() == {}
    assert n.fastpath(1)["sram_bytes"] == 64


def test_code_option_cost_is_its_code_and_its_memory_references(engine):
    """The code option's calls cost what its basic blocks and API calls cost: a
    packet's Parse + HF cycles are in the hundreds (the IPv4 option), and the
    NPE's latency grows with them (a costlier profile, a later departure)."""
    from np_model.profile import IXP2850

    def latency(profile):
        n = NPE(profile, engine=engine, buffers=512)
        worked_example(n, 1)
        n.add_filter(1, {}, {"queue": 1})
        n.send([from_lc(1, 1, overlay("10.1.1.1", "10.2.2.2"))], 0)
        n.run_until_idle()
        return n.transmitted()[0].latency_ns, n.code_option_stats("ipv4")

    base, st = latency(IXP2850)
    slow, _ = latency(IXP2850.replace({"copt_cycles_per_host_instruction": 3}))
    assert 100 < st["cycles_mean"] < 5000 and st["calls"] == 2
    assert slow > base + 2 * st["cycles_mean"] / 1.4 * 0.5
