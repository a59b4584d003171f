#!/usr/bin/env python3
"""Checks CI runs against the installed wheel, from a directory outside the repository.

    python wheel_smoke.py installed            np_model and host come from site-packages
    python wheel_smoke.py plugin               the shipped plug-in `count` on an NPR
    python wheel_smoke.py code-options         the shipped SPP code options compile and declare their keys
    python wheel_smoke.py nic-capture PREFIX   write PREFIX0..2.pcap, traffic for examples/nic_frontend*.yaml
    python wheel_smoke.py check-run DIR BACKEND TIMING  vrouter-hil run's stats.json: that NIC forwarded

Each exits non-zero with a message naming what failed.
"""
from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path


def fail(msg: str) -> None:
    print(f"wheel smoke check failed: {msg}", file=sys.stderr)
    sys.exit(1)


def installed() -> None:
    import host
    import np_model
    from np_model import resources

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for mod in (np_model, host):
        if site not in Path(mod.__file__).resolve().parents:
            fail(f"{mod.__name__} imported from {mod.__file__}, not from the wheel in {site}")
    if resources.source_root() is not None:
        fail(f"np_model believes it runs from a checkout ({resources.source_root()})")
    from np_model import plugin_loader

    for d in (resources.rtl_dir(), resources.plugin_include_dir(), resources.plugin_runtime_dir()):
        if site not in d.resolve().parents:
            fail(f"{d} is not package data of the wheel")
    for f in (plugin_loader.STUB, *plugin_loader.WORKER_SOURCES):     # the plug-in runtime and its worker
        if not f.is_file() or site not in f.resolve().parents:
            fail(f"{f} is not package data of the wheel")
    print(f"installed: np_model and its data from {site}")


def plugin() -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    from np_model.assemblies import NPR, FilterAction

    r = NPR()
    r.set_arp("10.0.2.2", "02:00:00:00:02:02")
    r.load_plugin("count", me=0)
    r.add_filter(FilterAction("plugin", plugin=0), aux=True, proto=17)     # a copy of every UDP to `count`
    frame = Ether(dst="02:00:00:00:00:01", src="02:00:00:00:01:02") / IP(src="10.0.1.2", dst="10.0.2.2") \
        / UDP(sport=1, dport=2) / Raw(b"x" * 40)
    r.send([bytes(frame)], port=0)
    r.run_until_idle()
    tx = r.transmitted()
    if [t.port for t in tx] != [1]:
        fail(f"the frame should leave on port 1 once, got {[(t.port, len(t.data)) for t in tx]}")
    if r.plugin_counters("count")[:3] != [0, 0, 1]:
        fail(f"count's ICMP/TCP/UDP counters should be 0 0 1, got {r.plugin_counters('count')[:3]}")
    r.check_conservation()
    print(f"plugin: count counted the copy; the original left on port 1 ({len(tx[0].data)} bytes)")


def code_options() -> None:
    from np_model import code_options as co

    names = sorted(co.shipped())
    if not {"ipv4", "i3"} <= set(names):
        fail(f"the shipped code options should include ipv4 and i3, got {names}")
    for name in names:
        c = co.build_code_option(name)
        if not c.key or not c.build.so_path.is_file():
            fail(f"code option {name}: no key fields or no object ({c.build.so_path})")
    print(f"code-options: {', '.join(names)} built from the wheel's package data")


def nic_capture(prefix: str) -> None:
    """UDP between the three sites of examples/nic_frontend*.yaml, one pcap per input port
    (PREFIX0.pcap .. PREFIX2.pcap), and one frame to a MAC no filter knows (default pool)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    per_port: list[list] = [[], [], []]
    for k in range(60):
        i, j = k % 3, (k + 1) % 3
        p = Ether(dst=f"02:00:00:00:10:0{i + 1}", src=f"02:00:00:00:1{i + 1}:02") \
            / IP(src=f"10.1.{i + 1}.2", dst=f"10.1.{j + 1}.2") / UDP(sport=1000 + k, dport=5001) / Raw(b"z" * (20 + k))
        p.time = 1_700_000_000 + k * 2e-6
        per_port[i].append(p)
    stray = Ether(bytes(Ether(dst="02:99:00:00:00:01", src="02:00:00:00:11:02")
                        / IP(src="10.1.1.2", dst="10.1.2.2") / UDP()).ljust(60, b"\0"))   # padded as on the wire
    stray.time = 1_700_000_000 + 140e-6
    per_port[0].append(stray)
    for i, pkts in enumerate(per_port):
        wrpcap(f"{prefix}{i}.pcap", pkts)
    print(f"nic-capture: {sum(map(len, per_port))} frames in {prefix}0..2.pcap")


def check_run(out_dir: str, backend: str, timing: str) -> None:
    st = json.loads((Path(out_dir) / "stats.json").read_text())
    nic = st.get("nic") or fail("stats.json has no nic section")
    if (nic["backend"], nic["timing"]) != (backend, timing):
        fail(f"the NIC was {nic['backend']!r} with {nic['timing']!r} timing, expected {backend!r}, {timing!r}")
    sent = sum(p["tx_pkts"] for p in st["ports"].values())
    # the stray frame goes to the default pool 0, then the router drops it: not its MAC
    if (nic["frames"], nic["drops"], sent, st["drops"]) != (61, {}, 60, {"l2_not_for_router": 1}):
        fail(f"expected 61 frames into the NIC, 60 forwarded, 1 l2_not_for_router; got nic {nic}, "
             f"{sent} sent, drops {st['drops']}")
    if not st["conservation"]["ok"]:
        fail(f"conservation violated: {st['conservation']}")
    print(f"check-run: the {backend} NIC ({timing} timing) classified {nic['frames']} frames, "
          f"the router forwarded {sent}")


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:] or ["?"]
    cmds = {"installed": installed, "plugin": plugin, "code-options": code_options, "nic-capture": nic_capture,
            "check-run": check_run}
    if cmd not in cmds:
        fail(f"unknown check {cmd!r}; valid: {', '.join(cmds)}")
    cmds[cmd](*rest)
