"""Plug-ins cannot hurt the simulator.

Whatever a plug-in's C code does -- loops with no instrumented block, libc
or system calls, wild writes, stack overflow, huge allocations -- the call
is abandoned and its packet dropped under a named reason, or the plug-in is
refused at load time with an error naming its file; the router keeps
forwarding byte for byte and every packet stays accounted for.
"""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether

from np_model.assemblies import FilterAction
from np_model.plugin_loader import PluginCompileError
from tests.helpers import host_ip, host_mac, make_npr, port_mac, routed, udp_frame

CORE = Path(__file__).resolve().parents[2] / "np_model" / "core"
HDR = """#include "plugin_api.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int deep(int n) { volatile char b[4096]; b[n & 4095] = (char)n; return deep(n + 1) + b[0]; }
void handle_pkt_user(pkt_t pkt) {
    if (onl_api_pkt_len(pkt) == 200) { %s }
    onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
}
"""

# (case, code run on the 200-byte packet, the drop reason)
CASES = [
    ("jump_to_self", "for (;;);", "plugin_hang"),                    # no basic block to count: the watchdog
    ("volatile_loop", "volatile int x = 0; while (1) x++;", "plugin_budget"),
    ("exit", "exit(0);", "plugin_syscall"),
    ("_exit", "_exit(3);", "plugin_syscall"),
    ("abort", "abort();", "plugin_syscall"),
    ("raise_sigkill", "raise(SIGKILL);", "plugin_syscall"),
    ("raise_sigterm", "raise(SIGTERM);", "plugin_syscall"),
    ("kill_parent", "kill(getppid(), SIGTERM);", "plugin_syscall"),
    ("close_all_fds", "for (int fd = 0; fd < 1024; fd++) close(fd);", "plugin_syscall"),
    ("fork_loop", "for (int i = 0; i < 128; i++) fork();", "plugin_syscall"),
    ("sleep", "sleep(2);", "plugin_syscall"),
    ("malloc_1g",
     "char *volatile p = malloc(1u << 30); if (p) { memset(p, 1, 1u << 30); onl_api_counter_add(0, p[9]); }",
     "plugin_syscall"),
    ("open_etc_passwd",
     'char b[64]; int fd = open("/etc/passwd", O_RDONLY); if (fd >= 0) onl_api_counter_add(0, read(fd, b, 64));',
     "plugin_syscall"),
    ("write_stdout", 'printf("hello from a plug-in\\n"); fflush(stdout);', "plugin_syscall"),
    ("forged_pointer", "*(volatile uint64_t *)(uintptr_t)0xdead0000ull = 1;", "plugin_crash"),
    ("stack_smash", "volatile char a[16]; for (unsigned i = 0; i < (1u << 24); i++) a[i] = 0x41;", "plugin_crash"),
    ("heap_overrun",
     "char *volatile h = malloc(64); if (h) { memset(h, 0x41, 1u << 26); onl_api_counter_add(0, h[7]); }",
     "plugin_crash"),
    ("deep_recursion", "onl_api_counter_add(0, deep(1));", "plugin_crash"),
    # a write that does not fault by itself but wrecks the plug-in's own runtime (the stub's API pointer)
    ("scribble_own_memory",
     "extern char __bss_start[], _end[]; memset(__bss_start, 0x41, (size_t)(_end - __bss_start));", "plugin_crash"),
]
STAT = {"plugin_hang": "hangs", "plugin_budget": "budget_exceeded", "plugin_syscall": "syscalls",
        "plugin_crash": "crashes"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.c"
    p.write_text(textwrap.dedent(text))
    return p


def unrouted(frame: Ether, out_port: int) -> bytes:
    """A packet a plug-in sent straight to QM: new Ethernet header, IP untouched."""
    return bytes(Ether(dst=host_mac(out_port), src=port_mac(out_port), type=0x0800) / IP(bytes(frame[IP])))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def children_of(pid: int) -> list[int]:
    """Processes whose parent is pid (zombies included)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("case,body,reason", CASES, ids=[c[0] for c in CASES])
def test_a_misbehaving_call_is_abandoned_with_a_named_reason(tmp_path, case, body, reason):
    """The packet that triggers it is dropped under `reason`; the packets before
    and after it through the same plug-in, and traffic beside it, are forwarded
    byte for byte; nothing the plug-in did reaches this process (it is alive,
    its memory did not grow, it gained no processes) and conservation holds."""
    src = write(tmp_path, case, HDR % body)
    r = make_npr("c")
    r.load_plugin(src, 1, watchdog_ms=250)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    first = r.plugin_runtime(1)["worker_pid"]
    before, bad, after = (udp_frame(0, host_ip(2), dport=7, size=s, ipid=i) for i, s in ((1, 100), (2, 200), (3, 100)))
    beside = udp_frame(3, host_ip(4), size=120)
    rss0 = rss_mb()
    r.send([bytes(before)], port=0, at_ns=0)
    r.send([bytes(bad)], port=0, at_ns=20_000)
    r.send([bytes(beside)], port=3, at_ns=30_000)
    r.send([bytes(after)], port=0, at_ns=40_000)
    r.run(duration_ns=200_000)
    assert r.drops() == {reason: 1}
    assert sorted(t.data for t in r.transmitted(port=2)) == sorted([unrouted(before, 2), unrouted(after, 2)])
    assert [t.data for t in r.transmitted(port=4)] == [routed(beside, 4, host_mac(4))]
    st = r.plugin_stats(1)
    assert st[STAT[reason]] == 1 and st["drops"] == 1 and st["packets"] == 3
    if reason == "plugin_syscall":
        assert st["last_syscall"] > 0
    if reason == "plugin_crash":
        assert st["last_signal"] == signal.SIGSEGV
    # a worker that might be damaged is replaced before the next call; a budget overrun damaged nothing
    assert st["restarts"] == (0 if reason == "plugin_budget" else 1)
    now = r.plugin_runtime(1)["worker_pid"]
    assert (now == first) == (reason == "plugin_budget")
    r.check_conservation()
    assert rss_mb() - rss0 < 64
    assert children_of(first) == [] and not (now != first and alive(first))


def test_held_packets_are_dropped_when_the_worker_is_replaced_and_its_memory_survives(tmp_path, engine):
    """A replaced worker runs plugin_init_user again with fresh globals; SRAM and
    counters survive; the packets it held are dropped as plugin_restart and
    their buffers return to the free list (the plug-in ME can then be unloaded)."""
    src = write(tmp_path, "keeper", """
        #include "plugin_api.h"
        void plugin_init_user(const char *args) {
            uint32_t v;
            onl_api_counter_add(0, 1);                       /* inits */
            onl_api_sram_read(0, &v, 4);
            if (!v) { v = 0xC0FFEE; onl_api_sram_write(0, &v, 4); }
        }
        void handle_pkt_user(pkt_t pkt) {
            unsigned n = onl_api_pkt_len(pkt);
            uint32_t v;
            if (n == 150) { onl_api_hold(pkt); return; }
            if (n == 200) *(volatile int *)16 = 1;
            onl_api_sram_read(0, &v, 4);
            onl_api_counter_add(1, v == 0xC0FFEE);           /* SRAM seen intact */
            onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
        }""")
    r = make_npr(engine)
    r.load_plugin(src, 1)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    frames = [udp_frame(0, host_ip(2), dport=7, size=s, ipid=i) for i, s in enumerate((150, 150, 150, 100, 200, 100))]
    r.send([bytes(f) for f in frames], port=0, at_ns=[i * 10_000.0 for i in range(len(frames))])
    free0 = r.stats()["buffers_free"]
    r.run(duration_ns=200_000)
    assert r.drops() == {"plugin_restart": 3, "plugin_crash": 1}
    assert sorted(t.data for t in r.transmitted()) == sorted(unrouted(frames[i], 2) for i in (3, 5))
    assert r.plugin_counters(1)[:2] == [2, 2]
    st = r.plugin_stats(1)
    assert st["held"] == 0 and st["restarts"] == 1 and st["crashes"] == 1
    r.check_conservation()
    assert r.stats()["buffers_free"] == free0
    r.unload_plugin(1)
    assert r.plugins == {}


def test_a_forged_call_record_is_refused(tmp_path):
    """The worker's record is untrusted: a plug-in that reaches into its own
    mailbox (through the pointer plugin_init_user receives) and forges an exit
    for a packet it does not hold, an impossible length, packets it never made
    or a cost that does not add up has its call abandoned (plugin_crash, counted
    as a bad record) and its worker replaced; nothing forged is applied."""
    src = write(tmp_path, "forger", f"""
        #include "plugin_api.h"
        #include "{CORE}/plugin_worker.h"
        static vrhw_hdr_t *H;
        void plugin_init_user(const char *args) {{ H = (vrhw_hdr_t *)(args - offsetof(vrhw_hdr_t, text)); }}
        void handle_pkt_user(pkt_t pkt) {{
            unsigned n = onl_api_pkt_len(pkt);
            onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));
            if (n == 200) H->r.op[H->r.n - 1].h = 4242;
            if (n == 201) H->cur.m.len = 60000;
            if (n == 202) H->r.nnew = 7;
            if (n == 203) H->r.op[0].compute += 12345;
            if (n == 204) {{ H->r.op[H->r.n - 1].a = 77; }}
            if (n == 205) {{ H->cur.m.lo = 0; H->cur.m.hi = 100000; }}
        }}""")
    r = make_npr("c")
    r.load_plugin(src, 1)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    sizes = (100, 200, 100, 201, 202, 203, 204, 205, 100)
    frames = [udp_frame(0, host_ip(2), dport=7, size=s, ipid=i) for i, s in enumerate(sizes)]
    r.send([bytes(f) for f in frames], port=0, at_ns=[i * 10_000.0 for i in range(len(frames))])
    r.run(duration_ns=300_000)
    assert r.drops() == {"plugin_crash": 6}
    assert sorted(t.data for t in r.transmitted()) == sorted(unrouted(frames[i], 2) for i in (0, 2, 8))
    st = r.plugin_stats(1)
    assert st["bad_records"] == 6 and st["crashes"] == 6 and st["restarts"] == 6
    r.check_conservation()


def test_a_message_handler_that_hangs_answers_with_the_error_and_the_plugin_goes_on(tmp_path):
    src = write(tmp_path, "talker", """
        #include "plugin_api.h"
        void handle_pkt_user(pkt_t pkt) { onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt)); }
        void handle_msg(const char *msg, char *reply, int n) {
            if (onl_api_streq(msg, "spin")) for (;;);
            onl_api_cat(reply, n, "pong");
        }""")
    r = make_npr("c")
    r.load_plugin(src, 0, watchdog_ms=250)
    assert r.plugin_message(0, "spin") == "error: hang"
    assert r.plugin_message(0, "ping") == "pong"
    st = r.plugin_stats(0)
    assert st["hangs"] == 1 and st["restarts"] == 1 and r.drops() == {}


@pytest.mark.parametrize("code,match", [
    ("__attribute__((constructor)) static void boom(void) { fork(); }",
     r"a constructor or destructor \(\.init_array\)"),
    ("__attribute__((destructor)) static void boom(void) { fork(); }", r"a constructor or destructor \(\.fini_array\)"),
    ("static void *pick(void) { return 0; }\nvoid chosen(void) __attribute__((ifunc(\"pick\")));",
     r"an IFUNC resolver \(chosen\)"),
])
def test_code_that_would_run_at_load_time_is_refused(tmp_path, code, match):
    """Constructors, destructors and IFUNC resolvers run while the worker loads the
    plug-in, before its system-call filter is in place: the build refuses them."""
    src = write(tmp_path, "loadtime", f"""
        #include "plugin_api.h"
        #include <unistd.h>
        {code}
        void handle_pkt_user(pkt_t pkt) {{ onl_api_drop(pkt); }}""")
    with pytest.raises(PluginCompileError, match=rf"^{src}: it has {match}"):
        make_npr("c").load_plugin(src, 0)


@pytest.mark.parametrize("code,match", [
    ("sleep(1);", "plugin_init_user of 'init' attempted system call"),
    ("for (;;);", "plugin_init_user of 'init' did not return within the 250 ms watchdog"),
    ("*(volatile int *)16 = 1;", r"plugin_init_user of 'init' crashed \(signal 11\)"),
])
def test_a_plugin_whose_init_misbehaves_is_refused_at_load(tmp_path, code, match):
    src = write(tmp_path, "init", f"""
        #include "plugin_api.h"
        #include <unistd.h>
        void plugin_init_user(const char *args) {{ {code} }}
        void handle_pkt_user(pkt_t pkt) {{ onl_api_drop(pkt); }}""")
    r = make_npr("c")
    with pytest.raises(ValueError, match=rf"^plug-in {src}: {match}"):
        r.load_plugin(src, 0, watchdog_ms=250)
    assert r.plugins == {}
    r.load_plugin("null", 0)                                  # the ME is still free


def test_a_worker_killed_from_outside_costs_one_packet(tmp_path):
    """A worker that dies between calls (here: SIGKILL from outside) is noticed at
    the next call, whose packet is dropped (plugin_crash); a new worker serves the rest."""
    r = make_npr("c")
    r.load_plugin("null", 1)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    pid = r.plugin_runtime(1)["worker_pid"]
    os.kill(pid, signal.SIGKILL)
    frames = [udp_frame(0, host_ip(2), dport=7, ipid=i) for i in range(3)]
    r.send([bytes(f) for f in frames], port=0, at_ns=[i * 10_000.0 for i in range(3)])
    r.run(duration_ns=100_000)
    assert r.drops() == {"plugin_crash": 1}
    assert len(r.transmitted(port=2)) == 2
    rt = r.plugin_runtime(1)
    assert r.plugin_stats(1)["restarts"] == 1 and rt["worker_pid"] != pid
    assert rt["last_worker_end"] == "killed by signal 9"
    r.check_conservation()


def test_workers_end_with_their_router_and_with_the_simulator(tmp_path):
    """Freeing the router kills and reaps its workers; a simulator process that
    dies abruptly leaves no worker running (each notices its parent is gone)."""
    r = make_npr("c")
    r.load_plugin("null", 0)
    r.load_plugin("count", 1)
    pids = [r.plugin_runtime(me)["worker_pid"] for me in (0, 1)]
    assert all(alive(p) for p in pids)
    del r
    gc.collect()
    assert not any(alive(p) for p in pids) and not set(pids) & set(children_of(os.getpid()))
    code = ("import os, signal; from tests.helpers import make_npr; r = make_npr('c'); r.load_plugin('null', 0); "
            "print(r.plugin_runtime(0)['worker_pid'], flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[2])
    assert p.returncode == -signal.SIGKILL
    orphan = int(p.stdout.split()[0])
    deadline = time.monotonic() + 10
    while alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(orphan)


def test_the_unsafe_in_process_mode_is_opt_in_and_simulates_the_same(engine):
    """unsafe_in_process=True runs the same runtime inside this process: same
    bytes, times and cycle counts as the worker (it only contains less)."""
    out = []
    for unsafe in (False, True):
        r = make_npr(engine)
        r.load_plugin("drop_delay", 1, args="drop=300 delay=30", unsafe_in_process=unsafe)
        r.add_filter(FilterAction("plugin", plugin=1), dport=9)
        r.send([bytes(udp_frame(0, host_ip(2), dport=9, ipid=i)) for i in range(40)], port=0,
               at_ns=[i * 3_000.0 for i in range(40)])
        r.run(duration_ns=400_000)
        st = r.plugin_stats(1)
        assert st["containment"] == ("unsafe_in_process" if unsafe else "worker")
        keep = {k: st[k] for k in ("packets", "cycles_min", "cycles_max", "cycles_mean", "exits", "periodic_calls")}
        out.append(([(t.port, t.t_start_ns, t.data) for t in r.transmitted()], r.drops(), keep, r.plugin_counters(1)))
        r.check_conservation()
    assert out[0] == out[1]
    assert out[0][1].get("plugin_drop", 0) > 0 and out[0][2]["exits"]["hold"] > 0


def test_watchdog_must_be_a_positive_time():
    r = make_npr("c")
    for bad in (0, -5, float("nan"), "1s"):
        with pytest.raises(ValueError, match="watchdog_ms must be a number of milliseconds"):
            r.load_plugin("null", 0, watchdog_ms=bad)


def test_a_forked_simulator_leaves_its_parents_worker_alone():
    """A fork of the simulator shares the parent's mailbox mapping: its calls are
    refused (plugin_crash, with the reason) and freeing its router does not kill
    the parent's worker, which goes on serving the parent."""
    r = make_npr("c")
    r.load_plugin("null", 1)
    r.add_filter(FilterAction("plugin", plugin=1), dport=7)
    pid = r.plugin_runtime(1)["worker_pid"]
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:                                            # pragma: no cover (runs in the child)
        try:
            r.send([bytes(udp_frame(0, host_ip(2), dport=7))], port=0)
            r.run(duration_ns=50_000)
            ok = r.drops() == {"plugin_crash": 1} and r.plugin_stats(1)["stopped"].startswith("this process is a fork")
            del r
            gc.collect()
            os.write(wr, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(wr)
    os.waitpid(child, 0)
    assert os.read(rd, 1) == b"1"
    os.close(rd)
    assert alive(pid)
    r.send([bytes(udp_frame(0, host_ip(2), dport=7))], port=0)
    r.run(duration_ns=50_000)
    assert r.drops() == {} and len(r.transmitted(port=2)) == 1 and r.plugin_runtime(1)["worker_pid"] == pid
