"""Bad input to the ``vrouter-hil`` command: a clear message and exit status 2, never a traceback.

Every case runs the CLI in-process (``host.cli.main``) and checks the exit
status and a phrase of the message: usage errors name the option and the
valid range; configuration errors name file:line: key; capture errors
name the file and the record or block (and its byte offset).
"""
from __future__ import annotations

import struct
import textwrap

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcapng

from host.cli import main

GOOD = """\
ports:
  - {address: 10.0.1.1/24, mac: "02:00:00:00:00:01"}
  - {address: 10.0.2.1/24, mac: "02:00:00:00:00:02"}
routes:
  - {prefix: 192.168.2.0/24, port: 1, next_hop: 10.0.2.2}
arp:
  - {ip: 10.0.2.2, mac: "02:00:00:00:02:02"}
"""
PORTS = GOOD.split("routes:")[0]
FRAME = bytes(Ether(dst="02:00:00:00:00:01", src="02:00:00:00:01:02") / IP(src="192.168.1.5", dst="192.168.2.9")
              / UDP(sport=1, dport=2) / (b"x" * 20))
T0 = 1_700_000_000


def _pcap_header(linktype: int = 1, magic: int = 0xA1B2C3D4) -> bytes:
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)


def _rec(sec: int, frac: int, data: bytes, incl: int | None = None, orig: int | None = None) -> bytes:
    return struct.pack("<IIII", sec, frac, len(data) if incl is None else incl,
                       len(data) if orig is None else orig) + data


def _blk(btype: int, body: bytes, blen: int | None = None, trailer: int | None = None) -> bytes:
    body += b"\0" * (-len(body) % 4)
    ln = len(body) + 12 if blen is None else blen
    return struct.pack("<II", btype, ln) + body + struct.pack("<I", ln if trailer is None else trailer)


SHB = _blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
IDB = _blk(1, struct.pack("<HHI", 1, 0, 65535))


def _epb(data: bytes, iface: int = 0, ts: int = T0 * 10**6, orig: int | None = None) -> bytes:
    return _blk(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data),
                               len(data) if orig is None else orig) + data)


# Input files: name -> bytes (written to tmp_path by the fixture)
FILES = {
    "good.pcap": _pcap_header() + _rec(T0, 0, FRAME),
    "empty.pcap": b"",
    "text.pcap": b"hello, I am not a capture\n",
    "short_header.pcap": _pcap_header()[:10],
    "rec_header_cut.pcap": _pcap_header() + _rec(T0, 0, FRAME) + b"\x01\x02\x03",
    "frame_cut.pcap": _pcap_header() + _rec(T0, 0, FRAME)[:40],
    "huge_caplen.pcap": _pcap_header() + _rec(T0, 0, FRAME, incl=0xFFFFFFF0),
    "bad_usec.pcap": _pcap_header() + _rec(T0, 2_000_000, FRAME),
    "raw_ip.pcap": _pcap_header(linktype=101) + _rec(T0, 0, FRAME[14:]),
    "ng_short_block.pcapng": SHB + IDB + struct.pack("<II", 6, 8) + b"\0" * 4,
    "ng_odd_length.pcapng": SHB + IDB + _blk(6, b"\0" * 20, blen=33),
    "ng_huge_block.pcapng": SHB + IDB + struct.pack("<II", 6, 0xFFFFFFF0) + b"\0" * 64,
    "ng_cut.pcapng": (SHB + IDB + _epb(FRAME))[:-10],
    "ng_trailer.pcapng": SHB + IDB + _blk(6, struct.pack("<IIIII", 0, 0, 0, 4, 4) + b"abcd", trailer=99),
    "ng_caplen.pcapng": SHB + IDB + _blk(6, struct.pack("<IIIII", 0, 0, 0, 500, 500) + FRAME),
    "ng_no_iface.pcapng": SHB + _epb(FRAME),
    "ng_iface_3.pcapng": SHB + IDB + _epb(FRAME, iface=3),
    "ng_spb_first.pcapng": SHB + _blk(3, struct.pack("<I", len(FRAME)) + FRAME),
    "ng_bom.pcapng": _blk(0x0A0D0D0A, struct.pack("<IHHq", 0x11223344, 1, 0, -1)) + IDB,
    "ng_option.pcapng": SHB + _blk(1, struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HH", 2, 200) + b"port"),
    "ng_linktype.pcapng": SHB + _blk(1, struct.pack("<HHI", 105, 0, 65535)),
    "ng_far_future.pcapng": SHB + IDB + _epb(FRAME) + _epb(FRAME, ts=2**64 - 1),
}


@pytest.fixture
def env(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    wrpcapng(str(tmp_path / "port9.pcapng"), [_named(Ether(FRAME), "port9")])
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    return tmp_path


def _named(p, iface):
    p.sniffed_on = iface
    p.time = T0
    return p


def _cfg(tmp, name: str, text: str | bytes) -> str:
    p = tmp / name
    p.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())
    return str(p)


# (id, argv builder(tmp) -> list[str], exit status, phrase in stderr)
def run(tmp, *extra, pcap="0={t}/good.pcap", cfg="{t}/good.yaml"):
    args = ["run", cfg.format(t=tmp), "--no-progress"]
    if pcap is not None:
        args += ["--pcap", pcap.format(t=tmp)]
    return args + [x.format(t=tmp) for x in extra]


def conf(text, name="c.yaml"):
    return lambda t: run(t, cfg=_cfg(t, name, text))


CASES = [
    # ---- usage
    ("no_command", lambda t: [], 2, "required: COMMAND"),
    ("unknown_command", lambda t: ["fly"], 2, "invalid choice: 'fly'"),
    ("run_without_pcap", lambda t: run(t, pcap=None), 2, "the following arguments are required: --pcap"),
    ("drain_nan", lambda t: run(t, "--drain-ms", "nan"), 2, "--drain-ms: nan is out of range; valid: [0, 86400000]"),
    ("drain_inf", lambda t: run(t, "--drain-ms", "inf"), 2, "--drain-ms: inf is out of range"),
    ("drain_negative", lambda t: run(t, "--drain-ms", "-1"), 2, "--drain-ms: -1 is out of range"),
    ("drain_huge", lambda t: run(t, "--drain-ms", "1e300"), 2, "--drain-ms: 1e300 is out of range"),
    ("drain_word", lambda t: run(t, "--drain-ms", "soon"), 2, "--drain-ms: 'soon' is not a number"),
    ("rate_zero", lambda t: run(t, "--rate", "0"), 2, "--rate: 0 is out of range; valid: [0.001, 10000000000]"),
    ("rate_negative", lambda t: run(t, "--rate", "-5"), 2, "--rate: -5 is out of range"),
    ("rate_nan", lambda t: run(t, "--rate", "nan"), 2, "--rate: nan is out of range"),
    ("rate_inf", lambda t: run(t, "--rate", "inf"), 2, "--rate: inf is out of range"),
    ("rate_tiny", lambda t: run(t, "--rate", "1e-9"), 2, "--rate: 1e-9 is out of range; valid: [0.001, 10000000000]"),
    ("truncated_choice", lambda t: run(t, "--truncated", "pad"), 2, "invalid choice: 'pad'"),
    ("engine_choice", lambda t: run(t, "--engine", "java"), 2, "invalid choice: 'java'"),
    ("demo_duration_zero", lambda t: ["demo", "--duration-ms", "0"], 2,
     "--duration-ms: 0 is out of range; valid: (0, 1000]"),
    ("demo_duration_negative", lambda t: ["demo", "--duration-ms", "-5"], 2, "--duration-ms: -5 is out of range"),
    ("demo_duration_nan", lambda t: ["demo", "--duration-ms", "nan"], 2, "--duration-ms: nan is out of range"),
    ("demo_duration_huge", lambda t: ["demo", "--duration-ms", "1e9"], 2, "--duration-ms: 1e9 is out of range"),
    ("demo_load_zero", lambda t: ["demo", "--load", "0"], 2, "--load: 0 is out of range; valid: (0, 1]"),
    ("demo_load_over", lambda t: ["demo", "--load", "1.5"], 2, "--load: 1.5 is out of range"),
    ("demo_seed_negative", lambda t: ["demo", "--seed", "-1"], 2, "--seed: -1 is out of range; valid: [0, 4294967295]"),
    ("demo_seed_float", lambda t: ["demo", "--seed", "1.5"], 2, "--seed: '1.5' is not an integer"),
    # ---- the configuration file
    ("config_missing", lambda t: run(t, cfg="{t}/nope.yaml"), 2,
     "nope.yaml: cannot read the configuration: No such file"),
    ("config_directory", lambda t: run(t, cfg="{t}/adir"), 2, "adir: is a directory; give the configuration file"),
    ("config_binary", lambda t: run(t, cfg=_cfg(t, "bin.yaml", bytes(range(256)) * 4)), 2,
     "bin.yaml:2: not UTF-8 text (byte 128 is 80)"),
    ("config_is_a_pcap", lambda t: run(t, cfg="{t}/good.pcap"), 2, "good.pcap:1: not UTF-8 text"),
    ("config_nul", lambda t: run(t, cfg=_cfg(t, "nul.yaml", b"ports:\n\0\0\0")), 2, "nul.yaml:2: a NUL character"),
    ("config_control_char", conf("ports: \x07\n"), 2, "c.yaml:1: not YAML text"),
    ("config_empty", conf(""), 2, "c.yaml:1: the configuration is empty"),
    ("config_yaml_syntax", conf("ports: [\n  - {address: 10.0.1.1/24\n"), 2, "c.yaml:2: YAML syntax"),
    ("config_tabs", conf("ports:\n\t- {address: 10.0.1.1/24}\n"), 2, "c.yaml:2: YAML syntax"),
    ("config_list", conf("- ports\n"), 2, "c.yaml:1: : expected a mapping with keys router, ports"),
    ("config_scalar", conf("42\n"), 2, "expected a mapping with keys"),
    ("config_unknown_section", conf(GOOD + "firewall: {}\n"), 2, "c.yaml:8: firewall: unknown key; valid keys: router"),
    ("config_no_ports", conf("router: {seed: 1}\n"), 2, "missing key 'ports'"),
    ("config_ports_scalar", conf("ports: 5\n"), 2, "c.yaml:1: ports: expected a list, got int 5"),
    ("config_ports_empty", conf("ports: []\n"), 2, "ports: an NPR has 1..5 ports, got 0"),
    ("config_six_ports", conf("ports:\n" + "".join(f"  - {{address: 10.0.{i}.1/24, mac: '02:00:00:00:00:0{i}'}}\n"
                                                    for i in range(1, 7))), 2, "an NPR has 1..5 ports, got 6"),
    ("config_duplicate_key", conf(GOOD + "arp: []\n"), 2, "c.yaml:8: duplicate key 'arp' (first on line 6)"),
    ("address_garbage", conf("ports:\n  - {address: ten, mac: '02:00:00:00:00:01'}\n"), 2,
     "c.yaml:2: ports[0].address: 'ten' is not an interface address like 10.0.1.1/24"),
    ("address_fullwidth_digits", conf("ports:\n  - {address: １０.0.1.1/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "ports[0].address: '１０.0.1.1/24' is not an interface address"),
    ("address_loopback", conf("ports:\n  - {address: 127.0.0.1/8, mac: '02:00:00:00:00:01'}\n"), 2,
     "c.yaml:2: ports[0].address: 127.0.0.1 is a loopback address (127.0.0.0/8)"),
    ("address_multicast", conf("ports:\n  - {address: 224.0.0.1/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "224.0.0.1 is a multicast address (224.0.0.0/4)"),
    ("address_class_e", conf("ports:\n  - {address: 240.0.0.1/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "240.0.0.1 is in the reserved 240.0.0.0/4"),
    ("address_this_net", conf("ports:\n  - {address: 0.0.0.1/8, mac: '02:00:00:00:00:01'}\n"), 2,
     "0.0.0.1 is in 0.0.0.0/8"),
    ("address_limited_broadcast", conf("ports:\n  - {address: 255.255.255.255/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "255.255.255.255 is the limited broadcast address"),
    ("address_network", conf("ports:\n  - {address: 10.0.1.0/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "10.0.1.0 is the network address of 10.0.1.0/24"),
    ("address_subnet_broadcast", conf("ports:\n  - {address: 10.0.1.255/24, mac: '02:00:00:00:00:01'}\n"), 2,
     "10.0.1.255 is the broadcast address of 10.0.1.0/24"),
    ("address_slash32", conf("ports:\n  - {address: 10.0.1.1/32, mac: '02:00:00:00:00:01'}\n"), 2,
     "the subnet must be /30 or larger"),
    ("address_number", conf("ports:\n  - {address: 167772417, mac: '02:00:00:00:00:01'}\n"), 2,
     "ports[0].address: must be a string like 10.0.1.1/24, got int 167772417"),
    ("mac_zero", conf("ports:\n  - {address: 10.0.1.1/24, mac: '00:00:00:00:00:00'}\n"), 2,
     "c.yaml:2: ports[0].mac: 00:00:00:00:00:00 is not a port MAC"),
    ("mac_multicast", conf("ports:\n  - {address: 10.0.1.1/24, mac: '01:00:5e:00:00:01'}\n"), 2,
     "ports[0].mac: port MAC 01:00:5e:00:00:01 is a group (multicast) address"),
    ("mac_broadcast", conf("ports:\n  - {address: 10.0.1.1/24, mac: 'ff:ff:ff:ff:ff:ff'}\n"), 2,
     "is a group (multicast) address"),
    ("mac_short", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:01'}\n"), 2,
     "is not a MAC address like 02:00:00:00:00:01"),
    ("mac_missing", conf("ports:\n  - {address: 10.0.1.1/24}\n"), 2, "c.yaml:2: ports[0]: missing key 'mac'"),
    ("mac_duplicate", conf(PORTS.replace("00:02\"", "00:01\"")), 2,
     "ports[1].mac: 02:00:00:00:00:01 is also ports[0]'s MAC"),
    ("subnets_overlap", conf(PORTS.replace("10.0.2.1/24", "10.0.1.2/16")), 2, "overlaps ports[0].address"),
    ("port_rate_word", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', rate: fast}\n"), 2,
     "ports[0].rate: 'fast' is not a rate like 1G"),
    ("port_rate_huge", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', rate: 1e300}\n"), 2,
     "ports[0].rate: must be 1M..10G b/s"),
    ("port_rate_inf", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', rate: .inf}\n"), 2,
     "ports[0].rate"),
    ("port_rate_bool", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', rate: yes}\n"), 2,
     "ports[0].rate"),
    ("mtu_small", conf("ports:\n  - {address: 10.0.1.1/24, mac: '02:00:00:00:00:01', mtu: 10}\n"), 2,
     "ports[0].mtu: must be an integer 68..1646, got int 10"),
    ("arp_duplicate", conf(GOOD + "  - {ip: 10.0.2.2, mac: '02:00:00:00:02:03'}\n"), 2,
     "c.yaml:8: arp[1].ip: 10.0.2.2 already has a static entry (arp[0])"),
    ("arp_ip_garbage", conf(PORTS + "arp:\n  - {ip: router, mac: '02:00:00:00:02:03'}\n"), 2,
     "arp[0].ip: 'router' is not an IPv4 address"),
    ("arp_mac_zero", conf(PORTS + "arp:\n  - {ip: 10.0.1.9, mac: '00:00:00:00:00:00'}\n"), 2,
     "arp[0].mac: 00:00:00:00:00:00 is not a neighbour's MAC"),
    ("arp_off_subnet", conf(PORTS + "arp:\n  - {ip: 172.16.0.1, mac: '02:00:00:00:02:03'}\n"), 2,
     "arp[0]: ARP address 172.16.0.1 is on no port's subnet"),
    ("route_host_bits", conf(PORTS + "routes:\n  - {prefix: 192.168.2.1/24, port: 1}\n"), 2,
     "did you mean 192.168.2.0/24?"),
    ("route_port", conf(PORTS + "routes:\n  - {prefix: 192.168.2.0/24, port: 7}\n"), 2,
     "routes[0].port: port 7 does not exist; valid ports: 0..1"),
    ("route_next_hop_off_subnet", conf(PORTS + "routes:\n  - {prefix: 192.168.2.0/24, port: 1, next_hop: 10.0.1.2}\n"),
     2, "next hop 10.0.1.2 is not on port 1's subnet"),
    ("filter_action", conf(GOOD + "filters:\n  - {dport: 53, action: teleport}\n"), 2,
     "filter action 'teleport' unknown; valid:"),
    ("filter_proto", conf(GOOD + "filters:\n  - {proto: quic, action: drop}\n"), 2,
     "protocol 'quic' unknown"),
    ("filter_dport", conf(GOOD + "filters:\n  - {dport: 70000, action: drop}\n"), 2,
     "dport must be an integer 0..65535, got 70000"),
    ("queue_qid", conf(GOOD + "queues:\n  - {port: 1, qid: -1, threshold: 100}\n"), 2,
     "queue id must be an integer 0..8191, got -1"),
    ("plugin_missing", conf(GOOD + "plugins:\n  - {file: nothere.c, me: 0}\n"), 2, "plugins[0].file: plug-in file"),
    ("plugin_me", conf(GOOD + "plugins:\n  - {file: null, me: 9}\n"), 2, "plugins[0].me: must be an integer 0..4"),
    ("router_engine", conf("router: {engine: java}\n" + PORTS), 2, "c.yaml:1: router.engine: must be c or py"),
    ("router_seed_huge", conf("router: {seed: 100000000000000000000}\n" + PORTS), 2,
     "router.seed: must be an integer 0..2147483647"),
    ("router_buffers_float", conf("router: {buffers: 1e308}\n" + PORTS), 2, "router.buffers: must be an integer"),
    ("router_fib_nan", conf("router: {fib_install_us: .nan}\n" + PORTS), 2,
     "router.fib_install_us: must be a finite number in [0, 1000000], got float nan"),
    ("slow_path_unknown", conf(PORTS + "slow_path: {speed: 3}\n"), 2, "slow_path.speed: unknown key"),
    ("slow_path_queue", conf(PORTS + "slow_path: {queue: -1}\n"), 2, "slow_path.queue"),
    ("slow_path_rate", conf(PORTS + "slow_path: {icmp_rate: 0}\n"), 2,
     "slow_path.icmp_rate: must be a finite number in (0, 1000000000], got int 0"),
    ("slow_path_cost", conf(PORTS + "slow_path: {cost_us: {teleport: 3}}\n"), 2,
     "slow_path.cost_us.teleport: unknown key"),
    ("nic_backend", conf(PORTS + "nic: {backend: fpga}\n"), 2, "nic.backend: 'fpga' unknown; valid:"),
    # ---- captures
    ("pcap_missing", lambda t: run(t, pcap="0={t}/none.pcap"), 2, "none.pcap: cannot read: No such file"),
    ("pcap_directory", lambda t: run(t, pcap="0={t}/adir"), 2, "adir: is a directory, not a capture file"),
    ("pcap_dev_zero", lambda t: run(t, pcap="0=/dev/zero"), 2, "/dev/zero: not a pcap or pcapng file (magic 00000000)"),
    ("pcap_empty", lambda t: run(t, pcap="0={t}/empty.pcap"), 2, "empty.pcap: not a capture file (only 0 bytes)"),
    ("pcap_text", lambda t: run(t, pcap="0={t}/text.pcap"), 2, "text.pcap: not a pcap or pcapng file"),
    ("pcap_short_header", lambda t: run(t, pcap="0={t}/short_header.pcap"), 2, "truncated pcap file header (10 of 24"),
    ("pcap_record_header_cut", lambda t: run(t, pcap="0={t}/rec_header_cut.pcap"), 2,
     "rec_header_cut.pcap: record 1 (byte 102): the file ends inside the record header (3 of 16 bytes)"),
    ("pcap_frame_cut", lambda t: run(t, pcap="0={t}/frame_cut.pcap"), 2,
     "frame_cut.pcap: record 0 (byte 24): the file ends inside the frame (24 of 62 bytes)"),
    ("pcap_huge_caplen", lambda t: run(t, pcap="0={t}/huge_caplen.pcap"), 2,
     "record 0 (byte 24): captured length 4294967280 exceeds 262144 bytes"),
    ("pcap_bad_usec", lambda t: run(t, pcap="0={t}/bad_usec.pcap"), 2,
     "timestamp fraction 2000000 is not below 1000000"),
    ("pcap_linktype", lambda t: run(t, pcap="0={t}/raw_ip.pcap"), 2,
     "link type 101; only Ethernet (1) can be replayed"),
    ("pcapng_short_block", lambda t: run(t, pcap="{t}/ng_short_block.pcapng"), 2,
     "block at byte 48 (after 0 frames): block length 8 is shorter than the 32 bytes"),
    ("pcapng_odd_length", lambda t: run(t, pcap="{t}/ng_odd_length.pcapng"), 2,
     "block length 33 is not a multiple of 4"),
    ("pcapng_huge_block", lambda t: run(t, pcap="{t}/ng_huge_block.pcapng"), 2,
     "block length 4294967280 exceeds 16777216 bytes"),
    ("pcapng_cut", lambda t: run(t, pcap="{t}/ng_cut.pcapng"), 2, "the file ends inside the block"),
    ("pcapng_trailer", lambda t: run(t, pcap="{t}/ng_trailer.pcapng"), 2,
     "block length 36 is not repeated at the block's end"),
    ("pcapng_caplen", lambda t: run(t, pcap="{t}/ng_caplen.pcapng"), 2, "captured length 500 runs past the"),
    ("pcapng_no_iface", lambda t: run(t, pcap="{t}/ng_no_iface.pcapng"), 2,
     "frame names interface 0, which is not described"),
    ("pcapng_iface_3", lambda t: run(t, pcap="{t}/ng_iface_3.pcapng"), 2, "frame names interface 3"),
    ("pcapng_spb_first", lambda t: run(t, pcap="{t}/ng_spb_first.pcapng"), 2,
     "simple packet block before any interface"),
    ("pcapng_bom", lambda t: run(t, pcap="{t}/ng_bom.pcapng"), 2, "bad pcapng byte-order magic 44332211"),
    ("pcapng_option", lambda t: run(t, pcap="{t}/ng_option.pcapng"), 2, "option 2 (200 bytes) runs past its block"),
    ("pcapng_linktype", lambda t: run(t, pcap="{t}/ng_linktype.pcapng"), 2, "interface 0 has link type 105"),
    ("pcapng_far_future", lambda t: run(t, "--out", "{t}/o", pcap="{t}/ng_far_future.pcapng"), 2,
     "an output frame's time, 184467440737095516"),
    ("port_out_of_range", lambda t: run(t, pcap="7={t}/good.pcap"), 2, "port 7 does not exist; valid ports: 0..1"),
    ("iface_maps_to_no_port", lambda t: run(t, pcap="{t}/port9.pcapng"), 2,
     "interface 'port9', which maps to port 9; the router has ports 0..1 (give PORT="),
    ("pcap_port_garbage", lambda t: run(t, pcap="x={t}/good.pcap"), 2, "x=" ),
    # ---- the output folder
    ("out_is_a_file", lambda t: run(t, "--out", "{t}/afile"), 2, "--out " ),
    ("out_under_a_file", lambda t: run(t, "--out", "{t}/afile/sub"), 2, "cannot create the directory: Not a directory"),
]


@pytest.mark.parametrize("argv,status,phrase", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(env, capsys, argv, status, phrase):
    rc = main(argv(env))
    out = capsys.readouterr()
    assert rc == status, out.err
    assert phrase in out.err.strip().splitlines()[-1], out.err      # one line says it (after argparse's usage)
    assert "Traceback" not in out.err + out.out


def test_out_checked_before_the_run(env, capsys):
    """An --out that is a file is refused before anything is simulated or written."""
    rc = main(run(env, "--out", "{t}/afile"))
    err = capsys.readouterr().err
    assert rc == 2 and f"--out {env}/afile: exists and is not a directory" in err
    assert (env / "afile").read_text() == "x"


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["demo", "--help"], ["profile", "--help"]])
def test_help_is_plain_text(capsys, argv):
    """--help shows argparse's own text: no reStructuredText markup, no module docstring."""
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: vrouter-hil") and "``" not in out and '"""' not in out
    assert "Exit status" in out or argv[0] in ("demo", "profile")


def test_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"vrouter-hil {version('vrouter-hil')}"
