"""Building, loading and containing plug-ins, and what their cycles cost."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from np_model.plugin_loader import PluginCompileError, build
from np_model.profile import IXP2800
from np_model.assemblies import FilterAction
from np_model.traffic import Stream, build as traffic
from tests.helpers import host_ip, host_mac, make_npr, port_mac, routed, udp_frame


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.c"
    p.write_text('#include "plugin_api.h"\n' + textwrap.dedent(body))
    return p


FORWARD = "onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));"


def test_an_out_of_tree_plugin_is_named_in_the_config_and_seen_in_the_stats(tmp_path):
    src = write(tmp_path, "mark", f"""
        void handle_pkt_user(pkt_t pkt) {{
            uint8_t b = 0x42;
            onl_api_pkt_write(pkt, 60, &b, 1);
            onl_api_counter_add(7, 1);
            {FORWARD}
        }}""")
    r = make_npr("c")
    assert r.load_plugin(src, 1) == "mark"
    r.add_filter(FilterAction("plugin", plugin=1), dport=99)
    r.send([bytes(udp_frame(0, host_ip(2), dport=99, size=100))], port=0)
    r.run(duration_ns=100_000)
    [t] = r.transmitted()
    assert t.data[60] == 0x42
    assert r.plugin_counters("mark")[7] == 1
    st = r.stats()["plugins"]["mark"]
    assert st["packets"] == 1 and st["cycles_mean"] > 0


def test_compile_errors_name_file_and_line(tmp_path):
    src = write(tmp_path, "broken", """
        void handle_pkt_user(pkt_t pkt) {
            int x = ;
        }""")
    with pytest.raises(PluginCompileError, match=rf"{src}:4: expected expression"):
        build(src)
    missing = write(tmp_path, "nohandler", "int f(void) { return 1; }\n")
    r = make_npr("c")
    with pytest.raises(PluginCompileError, match=rf"{missing}: does not define handle_pkt_user, which "
                                                 r"plugins/include/plugin_api.h requires"):
        r.load_plugin(missing, 0)
    with pytest.raises(FileNotFoundError, match="no plug-in named 'nosuch'"):
        r.load_plugin("nosuch", 0)


def test_globals_beyond_local_memory_are_refused(tmp_path):
    src = write(tmp_path, "fat", f"static int table[1024];\nvoid handle_pkt_user(pkt_t pkt) {{ table[0]++; {FORWARD} }}")
    with pytest.raises(PluginCompileError, match="4096 bytes; an ME's local memory holds 2560"):
        build(src)


def test_a_cached_build_is_checked_against_the_limits_it_is_loaded_with(tmp_path, monkeypatch):
    """The plug-in cache is shared (every checkout, every profile): a build accepted under a
    profile with more ME local memory or control store, and cached, is still refused under
    one with less -- the limits are checked on every load, not baked into the cache."""
    monkeypatch.setenv("VROUTER_HIL_CACHE", str(tmp_path / "cache"))
    src = write(tmp_path, "fat", f"static int table[1024];\nvoid handle_pkt_user(pkt_t pkt) {{ table[0]++; {FORWARD} }}")
    big = make_npr("c", profile=IXP2800.replace({"local_memory_words": 2048}))
    assert big.load_plugin(src, 0) == "fat"                       # 4,096 bytes of globals fit 8,192
    with pytest.raises(PluginCompileError, match="4096 bytes; an ME's local memory holds 2560"):
        make_npr("c").load_plugin(src, 0)                          # the same cached build, the NPR's 640 words
    code = int(build(src, local_memory_bytes=8192).weights.sum())
    with pytest.raises(PluginCompileError, match=f"its code has {code} instructions; an ME's control store holds "
                                                 f"{code - 1}"):
        build(src, local_memory_bytes=8192, control_store=code - 1)


def test_a_loader_that_measures_differently_does_not_share_its_cached_builds(tmp_path, monkeypatch):
    """Two checkouts share ~/.cache/vrouter-hil; if their loaders count a block's instructions
    differently, each gets its own counts (its own code is part of the cache key), not those of
    whichever built the plug-in first."""
    import importlib.util
    import sys

    import np_model.plugin_loader as loader

    monkeypatch.setenv("VROUTER_HIL_CACHE", str(tmp_path / "cache"))
    text = Path(loader.__file__).read_text()
    rule = "ws.append(max(1, n + (prologue if j == 0 else 0)))"
    assert rule in text
    variant_file = tmp_path / "plugin_loader_variant.py"
    variant_file.write_text(text.replace(rule, "ws.append(2 * max(1, n + (prologue if j == 0 else 0)))"))
    spec = importlib.util.spec_from_file_location("np_model._plugin_loader_variant", variant_file)
    variant = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, variant)          # its dataclasses look themselves up there
    spec.loader.exec_module(variant)
    src = write(tmp_path, "c2", f"void handle_pkt_user(pkt_t pkt) {{ {FORWARD} }}")
    doubled = variant.build(src)                                   # built and cached first
    own = build(src)
    assert own.so_path != doubled.so_path
    assert np.array_equal(doubled.weights, 2 * own.weights) and own.weights.min() >= 1


def test_names_are_unique_and_an_me_runs_one_plugin():
    r = make_npr("c")
    r.load_plugin("null", 0)
    with pytest.raises(ValueError, match="a plug-in named 'null' already runs on ME 0"):
        r.load_plugin("null", 1)
    r.load_plugin("null", 1, name="null2")
    with pytest.raises(ValueError, match="plug-in ME 1 already runs 'null2'"):
        r.load_plugin("count", 1)
    assert r.plugins == {0: "null", 1: "null2"}


def test_builds_are_cached_by_content(tmp_path):
    src = write(tmp_path, "c1", f"void handle_pkt_user(pkt_t pkt) {{ {FORWARD} }}")
    a, b = build(src), build(src)
    assert a.so_path == b.so_path
    src.write_text(src.read_text() + "\n/* changed */\n")
    assert build(src).so_path != a.so_path


def test_a_plugin_that_loops_forever_is_stopped_and_the_router_goes_on(tmp_path, engine):
    src = write(tmp_path, "spin", f"""
        volatile int x;
        void handle_pkt_user(pkt_t pkt) {{ if (onl_api_pkt_len(pkt) > 100) for (;;) x++; {FORWARD} }}""")
    r = make_npr(engine)
    r.load_plugin(src, 0, budget_cycles=20_000)
    r.add_filter(FilterAction("plugin", plugin=0), dport=7)
    r.send([bytes(udp_frame(0, host_ip(1), dport=7, size=s)) for s in (150, 80, 150, 80)], port=0)
    r.send([bytes(udp_frame(2, host_ip(3), dport=8))], port=2)
    r.run(duration_ns=300_000)
    assert sorted(t.port for t in r.transmitted()) == [1, 1, 3]
    assert r.drops() == {"plugin_budget": 2}
    st = r.plugin_stats("spin")
    assert st["budget_exceeded"] == 2 and st["cycles_max"] > 20_000
    r.check_conservation()


def test_too_many_memory_references_in_one_call_count_as_over_budget(tmp_path):
    src = write(tmp_path, "chatty", f"""
        void handle_pkt_user(pkt_t pkt) {{
            uint8_t b;
            for (unsigned i = 0; i < onl_api_pkt_len(pkt) * 7; i++) onl_api_pkt_read(pkt, 20, &b, 1);
            {FORWARD}
        }}""")
    r = make_npr("c")
    r.load_plugin(src, 0)
    r.add_filter(FilterAction("plugin", plugin=0), dport=7)
    r.send([bytes(udp_frame(0, host_ip(1), dport=7, size=s)) for s in (60, 80)], port=0)   # 420 ok, 560 too many
    r.run(duration_ns=300_000)
    assert len(r.transmitted()) == 1 and r.drops() == {"plugin_budget": 1}
    assert r.plugin_stats("chatty")["budget_exceeded"] == 1


def test_crashing_plugins_lose_only_their_own_packets(tmp_path):
    src = write(tmp_path, "crash", f"""
        volatile int *p;
        int rec(int n) {{ volatile char b[1 << 16]; b[n & 0xFFFF] = (char)n; return rec(n + 1) + b[0]; }}
        void handle_pkt_user(pkt_t pkt) {{
            unsigned n = onl_api_pkt_len(pkt);
            if (n == 101) *p = 1;
            if (n == 102) {{ volatile int z = 0; volatile int q = 7 / z; (void)q; }}
            if (n == 103) rec(0);
            {FORWARD}
        }}""")
    r = make_npr("c")
    r.load_plugin(src, 1)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    good = udp_frame(3, host_ip(2), size=200)
    frames = [bytes(udp_frame(0, host_ip(1), dport=7, size=s)) for s in (101, 90, 102, 103, 90)]
    r.send(frames, port=0)
    r.send([bytes(good)] * 3, port=3)
    r.run(duration_ns=300_000)
    assert sorted(t.port for t in r.transmitted()) == [1, 1, 2, 2, 2]
    assert r.drops() == {"plugin_crash": 3}
    assert r.plugin_stats("crash")["crashes"] == 3
    assert {t.data for t in r.transmitted(port=2)} == {routed(good, 2, host_mac(2))}
    r.check_conservation()


def test_out_of_bounds_and_forged_handles_are_refused_and_counted(tmp_path, engine):
    src = write(tmp_path, "rogue", f"""
        void handle_pkt_user(pkt_t pkt) {{
            char junk[16] = "XXXXXXXXXXXXXXX";
            onl_api_pkt_write(pkt, onl_api_pkt_len(pkt) - 4, junk, 8);    /* past the end */
            onl_api_pkt_read(pkt, 4000, junk, 2);
            onl_api_sram_write((1u << 20) - 2, junk, 4);                  /* past its SRAM */
            onl_api_scratch_read(250, junk, 10);
            onl_api_send_qm(12345, 0, 0);                                 /* not its packet */
            onl_api_send_qm(pkt, 9, 0);                                   /* no such port */
            {FORWARD}
            onl_api_drop(pkt);                                            /* already sent */
        }}""")
    r = make_npr(engine)
    r.load_plugin(src, 2)
    r.add_filter(FilterAction("plugin", plugin=2), dport=7)
    f = udp_frame(0, host_ip(1), dport=7, size=100)
    r.send([bytes(f)], port=0)
    r.run(duration_ns=100_000)
    [t] = r.transmitted()
    assert t.data[14:] == bytes(f)[14:]                    # the packet's bytes are untouched
    st = r.plugin_stats("rogue")
    assert st["out_of_bounds"] == 4 and st["refused"] == 3
    r.check_conservation()


def test_cycles_are_measured_from_the_code_executed(tmp_path):
    """A loop whose trip count is in the packet: cost grows linearly with it."""
    src = write(tmp_path, "work", f"""
        volatile unsigned acc;
        void handle_pkt_user(pkt_t pkt) {{
            uint8_t n[2];
            onl_api_pkt_read(pkt, 42, n, 2);
            for (unsigned i = 0; i < (unsigned)(n[0] << 8 | n[1]); i++) acc += i;
            {FORWARD}
        }}""")
    cyc = {}
    for n in (0, 100, 200, 400):
        r = make_npr("c")
        r.load_plugin(src, 0)
        r.add_filter(FilterAction("plugin", plugin=0), dport=7)
        f = bytearray(bytes(udp_frame(0, host_ip(1), dport=7, size=64)))
        f[42:44] = n.to_bytes(2, "big")
        r.send([bytes(f)], port=0)
        r.run(duration_ns=100_000)
        cyc[n] = r.plugin_stats("work")["cycles_mean"]
    per = (cyc[400] - cyc[0]) / 400
    assert 2 <= per <= 20                                  # a few instructions per iteration
    assert cyc[200] - cyc[100] == pytest.approx(cyc[100] - cyc[0], rel=0.02)


def test_a_costly_plugin_bounds_throughput(tmp_path):
    """One plug-in ME: throughput <= clock / cycles per packet, and close to it."""
    src = write(tmp_path, "burn", f"""
        volatile unsigned acc;
        void handle_pkt_user(pkt_t pkt) {{ for (unsigned i = 0; i < 500; i++) acc += i; {FORWARD} }}""")
    r = make_npr("c", buffers=65536)
    r.load_plugin(src, 0)
    r.add_filter(FilterAction("plugin", plugin=0), dst=f"{host_ip(1)}/32")
    b = traffic([Stream(p, f"{host_ip(1)}/32", f"10.0.{p + 1}.0/24", port_mac(p)) for p in (0, 2, 3)], 1e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=1e6)
    cycles = r.plugin_stats("burn")["cycles_mean"]
    bound = IXP2800.value("me_clock_hz") / cycles
    ts = np.array([t.t_start_ns for t in r.transmitted()])
    got = ((ts > 2e5) & (ts < 1e6)).sum() / 0.8e-3
    quantum = 1 / 0.8e-3                                   # counting whole packets in the window
    assert got <= bound + quantum and got >= 0.85 * bound
    assert r.stats()["mes"]["plugin0"]["busy_pct"] > 95


def test_messages_and_unload(engine):
    r = make_npr(engine)
    r.load_plugin("delay", 1, args="delay=1000")
    r.add_filter(FilterAction("plugin", plugin=1), dport=9)
    r.send([bytes(udp_frame(0, host_ip(2), dport=9))] * 5, port=0)
    r.run(duration_ns=50_000)
    assert r.plugin_stats("delay")["held"] == 5
    with pytest.raises(ValueError, match="at most 28 characters"):
        r.plugin_message("delay", "x" * 29)
    assert r.plugin_message(1, "bogus") == "usage: delay=<us>|=counts"
    r.unload_plugin("delay")
    assert r.plugins == {} and r.drops() == {"plugin_unloaded": 5}
    r.send([bytes(udp_frame(0, host_ip(2), dport=9))], port=0)     # the filter now finds no plug-in
    r.run(duration_ns=50_000)
    assert r.drops() == {"plugin_unloaded": 5, "no_plugin": 1}
    r.load_plugin("null", 1)                                         # the ME is free again
    r.send([bytes(udp_frame(0, host_ip(2), dport=9))], port=0)
    r.run(duration_ns=50_000)
    assert len(r.transmitted()) == 1
    r.check_conservation()
