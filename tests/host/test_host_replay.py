"""``vrouter-hil run``: pcap replay round trips through a configured router."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap, wrpcapng

from host.cli import main
from tests.helpers import routed

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CONFIG = """\
ports:
  - {address: 10.0.1.1/24, mac: "02:00:00:00:00:01"}
  - {address: 10.0.2.1/24, mac: "02:00:00:00:00:02"}
  - {address: 10.0.3.1/24, mac: "02:00:00:00:00:03"}
routes:
  - {prefix: 192.168.2.0/24, port: 1, next_hop: 10.0.2.2}
  - {prefix: 192.168.1.0/24, port: 0, next_hop: 10.0.1.2}
arp:
  - {ip: 10.0.1.2, mac: "02:00:00:00:01:02"}
  - {ip: 10.0.2.2, mac: "02:00:00:00:02:02"}
  - {ip: 10.0.3.2, mac: "02:00:00:00:03:02"}
"""
T0 = 1_600_000_000.0


def _udp(dst_mac: str, src: str, dst: str, ipid: int, ttl: int = 64) -> Ether:
    return Ether(bytes(Ether(dst=dst_mac, src="02:00:00:00:01:02") / IP(src=src, dst=dst, id=ipid, ttl=ttl)
                       / UDP(sport=1000 + ipid, dport=9) / Raw(b"r" * (20 + ipid))))


def _stamp(frames, t0: float, gap: float, iface: str | None = None):
    for k, f in enumerate(frames):
        f.time = t0 + k * gap
        if iface is not None:
            f.sniffed_on = iface
    return frames


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "router.yaml"
    p.write_text(CONFIG)
    return str(p)


def _run(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv + ["--no-progress"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_round_trip_two_files_port_per_file(cfg, tmp_path, capsys):
    fwd = _stamp([_udp("02:00:00:00:00:01", "192.168.1.5", f"192.168.2.{9 + k}", k) for k in range(5)], T0, 1e-5)
    ping = Ether(dst="02:00:00:00:00:03", src="02:00:00:00:03:02") / IP(src="10.0.3.2", dst="10.0.3.1", id=3) \
        / ICMP(id=5, seq=1) / Raw(b"replay")
    probe = _udp("02:00:00:00:00:03", "10.0.3.2", "192.168.2.1", 40, ttl=1)
    back = _udp("02:00:00:00:00:03", "10.0.3.2", "192.168.1.1", 41)
    p2 = _stamp([Ether(bytes(ping)), probe, back], T0 + 2e-5, 1e-5)
    wrpcap(str(tmp_path / "in0.pcap"), fwd)
    wrpcap(str(tmp_path / "in2.pcap"), p2)
    out = tmp_path / "out"
    rc, text, _ = _run(["run", cfg, "--pcap", f"0={tmp_path / 'in0.pcap'}", "--pcap", f"2={tmp_path / 'in2.pcap'}",
                        "--out", str(out)], capsys)
    assert rc == 0
    assert "[ok]" in text and "port0 5" in text and "port2 3" in text
    files = sorted(os.listdir(out))
    assert files == ["host.pcapng", "port0.pcap", "port1.pcap", "port2.pcap", "stats.json"]
    p1 = rdpcap(str(out / "port1.pcap"))
    assert [bytes(p) for p in p1] == [routed(f, 1, "02:00:00:00:02:02") for f in fwd]
    # times: the capture's time base + simulated time, first bit out after the last bit in
    assert all(float(p.time) > float(f.time) for p, f in zip(p1, fwd))
    assert float(p1[0].time) - float(fwd[0].time) < 20e-6
    p0 = rdpcap(str(out / "port0.pcap"))
    assert [bytes(p) for p in p0] == [routed(back, 0, "02:00:00:00:01:02")]
    p2out = [Ether(bytes(p)) for p in rdpcap(str(out / "port2.pcap"))]
    assert [(p[ICMP].type, p[IP].src) for p in p2out] == [(0, "10.0.3.1"), (11, "10.0.3.1")]
    host = rdpcap(str(out / "host.pcapng"))
    # the ping arrived as a 48-byte frame: PLC pads it with zeros to the 60-byte minimum (RFC 894)
    assert [bytes(h) for h in host] == [bytes(ping).ljust(60, b"\0"), bytes(probe)]
    assert [h.comment for h in host] == [b"reason=local_delivery in_port=2", b"reason=ttl_expired in_port=2"]
    st = json.loads((out / "stats.json").read_text())
    assert st["conservation"]["ok"] and st["conservation"]["arrived"] == 8
    assert st["ports"]["port1"]["tx_pkts"] == 5 and st["ports"]["port2"]["rx_pkts"] == 3
    assert st["exceptions"] == {"ttl_expired": 1, "local_delivery": 1}
    assert st["host"]["icmp.echo_replies"] == 1 and st["host"]["icmp.time_exceeded"] == 1
    assert {"plc0", "qm", "xscale"} <= set(st["mes"]) and any(k.startswith("port1.q") for k in st["queues"])
    assert st["replay"]["inputs"][0]["per_port"] == {"port0": 5}


def test_pcapng_interfaces_are_ports_and_rate_option(cfg, tmp_path, capsys):
    a = _stamp([_udp("02:00:00:00:00:03", "10.0.3.2", "192.168.2.1", k) for k in range(3)], T0, 0.0, "port2")
    b = _stamp([_udp("02:00:00:00:00:01", "192.168.1.9", "192.168.2.2", 10 + k) for k in range(3)], T0, 0.0, "eth0")
    wrpcapng(str(tmp_path / "in.pcapng"), [x for pair in zip(a, b) for x in pair])
    out = tmp_path / "out"
    rc, text, _ = _run(["run", cfg, "--pcap", str(tmp_path / "in.pcapng"), "--out", str(out), "--rate", "1000"],
                       capsys)
    assert rc == 0
    st = json.loads((out / "stats.json").read_text())
    assert (st["ports"]["port0"]["rx_pkts"], st["ports"]["port2"]["rx_pkts"]) == (3, 3)
    t = [float(p.time) for p in rdpcap(str(out / "port1.pcap"))]
    assert len(t) == 6
    gaps = [y - x for x, y in zip(t, t[1:])]
    assert all(abs(g - 1e-3) < 5e-6 for g in gaps), gaps          # 1000 frames/s in all


@pytest.mark.parametrize("case,message", [
    ("bad_port", "port 7 does not exist; valid ports: 0..2"),
    ("bad_iface", "interface 'port9', which maps to port 9; the router has ports 0..2"),
    ("not_pcap", "not a pcap or pcapng file"),
    ("bad_config", "router.yaml:2: ports[0].speed: unknown key; valid keys: address, mac, rate, mtu"),
])
def test_run_errors(cfg, tmp_path, capsys, case, message):
    pcap = tmp_path / "in.pcapng"
    wrpcapng(str(pcap), _stamp([_udp("02:00:00:00:00:01", "192.168.1.9", "192.168.2.2", 1)], T0, 0, "port9"))
    arg = str(pcap)
    if case == "bad_port":
        arg = f"7={pcap}"
    elif case == "not_pcap":
        (tmp_path / "x.txt").write_text("hello")
        arg = str(tmp_path / "x.txt")
    elif case == "bad_config":
        (tmp_path / "router.yaml").write_text("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', "
                                              "speed: 1}\n")
    rc, _, err = _run(["run", cfg, "--pcap", arg], capsys)
    assert rc == 2
    assert message in err


def test_five_port_example_end_to_end(tmp_path):
    """The example a user starts from: examples/make_pcap.py, then vrouter-hil run."""
    pcap = tmp_path / "five_port.pcapng"
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "make_pcap.py"), "--out", str(tmp_path),
                    "five_port"], check=True, capture_output=True)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "host.cli", "run", os.path.join(ROOT, "examples", "five_port.yaml"),
                           "--pcap", str(pcap), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "conservation" in proc.stdout and "[ok]" in proc.stdout
    st = json.loads((out / "stats.json").read_text())
    inputs = rdpcap(str(pcap))
    assert st["conservation"]["arrived"] == len(inputs)
    assert st["exceptions"] == {"ttl_expired": 1, "no_route": 1, "non_ip": 3, "arp_needed": 1,
                                "local_delivery": 1, "mtu_exceeded": 2}
    h = st["host"]
    assert (h["icmp.echo_replies"], h["icmp.time_exceeded"], h["icmp.unreach_net"], h["icmp.frag_needed"]) \
        == (1, 1, 1, 1)
    assert (h["arp.replies_sent"], h["arp.resolved"], h["arp.released"], h["frag.fragments"]) == (1, 1, 1, 2)
    # the datagram held for 10.0.3.77 leaves port 2 after the host's ARP reply arrived (at 1.4 ms)
    held = [p for p in rdpcap(str(out / "port2.pcap")) if p.haslayer(IP) and p[IP].dst == "10.0.3.77"]
    assert len(held) == 1 and held[0].dst == "02:00:00:00:03:77"
    assert float(held[0].time) - 1_700_000_000.0 > 1.4e-3
    # DNS to site 2 took the filter's queue 64 on port 1, to the filter's next hop (no ARP for the final host)
    assert st["queues"]["port1.q64"]["deq_pkts"] == 5
    dns = [p for p in rdpcap(str(out / "port1.pcap")) if p.haslayer(UDP) and p[UDP].dport == 53]
    assert len(dns) == 5 and {p.dst for p in dns} == {"02:00:00:00:02:02"}
    # every input frame's UDP site-to-site traffic came out of the right port
    sites = [p for p in inputs if p.haslayer(UDP) and p[UDP].dport == 5001]
    for port in range(5):
        outp = [p for p in rdpcap(str(out / f"port{port}.pcap")) if p.haslayer(UDP) and p[UDP].dport == 5001]
        assert len(outp) == sum(1 for p in sites if p[IP].dst.startswith(f"192.168.{port + 1}."))


def test_nanosecond_timestamps_between_clock_cycles(cfg, tmp_path):
    """Capture times that fall between two ME cycles are kept to the cycle and the replay ends."""
    from host.pcap import read_capture, write_pcap
    from host.replay import load_inputs, parse_input, replay
    from host.router import build_router

    base = 1_700_000_000 * 10**9
    frames = [bytes(_udp("02:00:00:00:00:01", "192.168.1.9", "192.168.2.2", k)) for k in range(4)]
    times = [base + 333 * k + 1 for k in range(4)]
    write_pcap(tmp_path / "ns.pcap", zip(times, frames))
    cap = read_capture(tmp_path / "ns.pcap")
    assert (cap.times_ns, cap.frames) == (times, frames)
    rt = build_router(cfg)
    st = replay(rt, load_inputs([parse_input(f"0={tmp_path / 'ns.pcap'}")], 3), out_dir=str(tmp_path / "o"))
    assert st["ports"]["port1"]["tx_pkts"] == 4 and st["conservation"]["ok"]


def test_a_users_plugin_named_in_the_config_shows_its_effect_and_cost(tmp_path):
    """Issue #3's promise: a new .c file anywhere, a filter, and its effect and
    cycle cost appear in the outputs -- no other step."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "ttl_stamp.c").write_text(
        '#include "plugin_api.h"\n'
        "void handle_pkt_user(pkt_t pkt) {\n"
        "    uint8_t ttl = 7;\n"
        "    uint8_t ip[20];\n"
        "    onl_api_pkt_read(pkt, 14, ip, 20);\n"
        "    uint16_t ck = onl_api_csum_update(onl_api_rd16(ip + 10), onl_api_rd16(ip + 8),\n"
        "                                      (uint16_t)(ttl << 8 | ip[9]));\n"
        "    ip[8] = ttl; onl_api_wr16(ip + 10, ck);\n"
        "    onl_api_pkt_write(pkt, 14, ip, 20);\n"
        "    onl_api_send_qm(pkt, onl_api_pkt_out_port(pkt), onl_api_pkt_qid(pkt));\n"
        "}\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG + "plugins:\n  - {file: elsewhere/ttl_stamp.c, me: 2}\n"
                   "filters:\n  - {dst: 192.168.2.0/24, action: plugin, plugin: 2}\n")
    frames = [_udp("02:00:00:00:00:01", "192.168.1.5", "192.168.2.9", i) for i in range(4)]
    wrpcap(str(tmp_path / "in.pcap"), _stamp(frames, T0, 1e-5))
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--pcap", f"0={tmp_path / 'in.pcap'}", "--out", str(out)]) == 0
    sent = rdpcap(str(out / "port1.pcap"))
    assert [p[IP].ttl for p in sent] == [7] * 4                     # its effect
    for p in sent:                                                  # with a correct checksum
        ck = p[IP].chksum
        del p[IP].chksum
        assert IP(bytes(p[IP])).chksum == ck
    st = json.loads((out / "stats.json").read_text())
    pl = st["plugins"]["ttl_stamp"]                                 # and its cost
    assert pl["packets"] == 4 and pl["cycles_min"] > 0 and pl["cycles_mean"] >= pl["cycles_min"]


def test_summary_equation_counts_created_packets_and_columns_stay_aligned(tmp_path, capsys):
    """Issue 13: the conservation line omitted packets a plug-in creates (a false
    equation), and latency columns ran together past 1 ms. A plug-in that sends
    each packet and a copy: the printed line adds up; with counts past 10**10 and
    latencies of milliseconds and seconds the table's columns keep their places."""
    (tmp_path / "twice.c").write_text(
        '#include "plugin_api.h"\n'
        "void handle_pkt_user(pkt_t pkt) {\n"
        "    int port = onl_api_pkt_out_port(pkt), qid = onl_api_pkt_qid(pkt);\n"
        "    pkt_t c = onl_api_pkt_copy(pkt);\n"
        "    onl_api_send_qm(pkt, port, qid);\n"
        "    if (c != PKT_NONE) onl_api_send_qm(c, port, qid);\n"
        "}\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG + "plugins:\n  - {file: twice.c, me: 1}\n"
                   "filters:\n  - {dst: 192.168.2.0/24, action: plugin, plugin: 1}\n")
    wrpcap(str(tmp_path / "in.pcap"), _stamp([_udp("02:00:00:00:00:01", "192.168.1.5", "192.168.2.9", i)
                                               for i in range(5)], T0, 1e-5))
    rc, text, _ = _run(["run", str(cfg), "--pcap", f"0={tmp_path / 'in.pcap'}"], capsys)
    assert rc == 0
    line = next(x for x in text.splitlines() if x.startswith("conservation:"))
    m = re.match(r"conservation: arrived (\d+) \+ injected (\d+) \+ copies (\d+) \+ created (\d+) = transmitted "
                 r"(\d+) \+ to host (\d+) \+ dropped (\d+) \+ in flight (\d+)  \[ok\]$", line)
    assert m, line
    v = [int(x) for x in m.groups()]
    assert v[3] == 5 and sum(v[:4]) == sum(v[4:]) and v[4] == 10

    from host.replay import load_inputs, parse_input, replay, summary
    from host.router import build_router
    rt = build_router(str(cfg))
    st = replay(rt, load_inputs([parse_input(f"0={tmp_path / 'in.pcap'}")], 3))
    for p, (n, lat) in enumerate([(12_345_678_901, 2.5e6), (7, 1.23e9), (0, 812.0)]):
        st["ports"][f"port{p}"].update(rx_pkts=n, tx_pkts=n)
        st["ports"][f"port{p}"]["latency_ns"].update(mean=lat, p99=lat * 3)
        st["replay"]["drops_by_port"][f"port{p}"] = n
    lines = summary(rt, st, str(cfg), None).splitlines()
    head = next(k for k, x in enumerate(lines) if x.startswith("port "))
    table = lines[head:head + 4]
    assert "2.50ms" in table[1] and "1.23s" in table[2] and "812ns" in table[3] and "12345678901" in table[1]
    ends = [m.end() for m in re.finditer(r"\S+", table[0].replace("rx pkts", "rx_pkts").replace("tx pkts", "tx_pkts")
                                         .replace("tx Mb/s", "tx_Mb/s").replace("lat mean", "lat_mean")
                                         .replace("lat p99", "lat_p99"))][2:]
    for row in table[1:]:
        assert len(row) == len(table[0]) and [m.end() for m in re.finditer(r"\S+", row)][2:] == ends, table
