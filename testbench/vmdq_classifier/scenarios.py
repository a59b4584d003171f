"""Directed scenarios of the VMDq classifier, one or more per rule, with explicit expectations.

Each :class:`Scenario` is a ``nic:`` configuration and frames with the
result a reader of ``rtl/README.md`` expects.  The same list runs against
the golden model (``tests/nic/test_vmdq_rules.py``) and against the RTL in
cocotb (``test_vmdq_classifier.py``, where every result is also compared
with the model), so one suite spans both abstraction levels.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from np_model.nic.model import mta_index
from np_model.nic.result import VmdqResult
from np_model.nic.toeplitz import MS_VERIFICATION_KEY, toeplitz_hash

from testbench.traffic import pad

__all__ = ["Case", "Scenario", "scenarios", "check"]

MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
MAC_U = "02:00:00:00:99:99"  # unknown unicast
BCAST = "ff:ff:ff:ff:ff:ff"
MC_1 = "01:00:5e:00:00:01"
MC_2 = "01:00:5e:7f:12:34"
MC_3 = "33:33:00:00:00:fb"
SRC = "02:00:00:00:00:01"

# Microsoft's RSS verification vectors (first IPv4 and IPv6 rows)
V4_SRC, V4_DST, V4_SPORT, V4_DPORT = "66.9.149.187", "161.142.100.80", 2794, 1766
V4_HASH_L3, V4_HASH_L4 = 0x323E8FC2, 0x51CCC178
V6_SRC, V6_DST, V6_SPORT, V6_DPORT = "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766
V6_HASH_L3, V6_HASH_L4 = 0x2CC18CD5, 0x40207D3D


@dataclass
class Case:
    """One frame and what the classifier must do with it (None = not checked)."""

    frame: bytes
    pools: set[int] | None = None
    reason: str | None = None
    hash_type: int | None = None
    rss_hash: int | None = None
    queue: int | None = None
    note: str = ""


@dataclass
class Scenario:
    name: str
    config: dict
    cases: list[Case] = field(default_factory=list)


def check(case: Case, result: VmdqResult, check_queue: bool = True) -> list[str]:
    """Differences between a case's expectations and a result (empty when it passes).

    ``check_queue=False`` skips the queue, which depends on the queues per
    pool when a scenario runs in another mode than it was written for.
    """
    errors = []
    if case.reason != result.reason:
        errors.append(f"reason {result.reason!r}, expected {case.reason!r}")
    if case.pools is not None and set(result.pool_list()) != case.pools:
        errors.append(f"pools {sorted(result.pool_list())}, expected {sorted(case.pools)}")
    if case.reason is not None and result.pools:
        errors.append(f"dropped frame has pools {result.pools:#x}")
    for name in ("hash_type", "rss_hash", "queue") if check_queue else ("hash_type", "rss_hash"):
        want = getattr(case, name)
        if want is not None and getattr(result, name) != want:
            errors.append(f"{name} {getattr(result, name):#x}, expected {want:#x}")
    return errors


def _eth(dst: str, vid: int | None = None, qinq: int | None = None, outer_type: int = 0x88A8):
    eth = Ether(dst=dst, src=SRC)
    if qinq is not None:
        eth = Ether(dst=dst, src=SRC, type=outer_type) / Dot1AD(vlan=qinq)
    if vid is not None:
        eth = eth / Dot1Q(vlan=vid)
    return eth


def _udp(dst: str, vid: int | None = None, **kw) -> bytes:
    return pad(bytes(_eth(dst, vid, **kw) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(b"v")))


def _v4(l4=None, dst: str = MAC_A, vid: int | None = None, **ip_kw) -> bytes:
    ip = IP(src=V4_SRC, dst=V4_DST, **ip_kw)
    pkt = _eth(dst, vid) / ip
    if l4 is not None:
        pkt = pkt / l4
    return pad(bytes(pkt / Raw(b"payload")))


def _v6(l4=None, dst: str = MAC_A) -> bytes:
    pkt = _eth(dst) / IPv6(src=V6_SRC, dst=V6_DST)
    if l4 is not None:
        pkt = pkt / l4
    return pad(bytes(pkt / Raw(b"payload")))


def _rss_bytes(*parts: str | int) -> bytes:
    out = b""
    for p in parts:
        out += ipaddress.ip_address(p).packed if isinstance(p, str) else p.to_bytes(2, "big")
    return out


def _mac_with_mta_index(index: int, offset: int) -> str:
    """A multicast address whose MTA index under MCSTCTRL.MO = offset is ``index``."""
    for low in range(1 << 16):
        mac = bytes([0x01, 0x00, 0x5E, 0x10, low & 0xFF, low >> 8])
        if mta_index(mac, offset) == index:
            return ":".join(f"{b:02x}" for b in mac)
    raise ValueError(index)


def scenarios() -> list[Scenario]:
    """Every directed scenario (frames are built on each call)."""
    s: list[Scenario] = []

    # --- unicast exact match, replication by MAC, default pool ---------------
    s.append(Scenario("unicast_exact", {
        "mode": "32x4",
        "mac_filters": [{"mac": MAC_A, "pools": [1]}, {"mac": MAC_B, "pools": [2, 5]}],
    }, [
        Case(_udp(MAC_A), {1}, note="exact match, one pool"),
        Case(_udp(MAC_B), {2, 5}, note="one MAC mapped to two pools is replicated"),
        Case(_udp(MAC_U), {0}, note="unmatched unicast goes to the default pool 0"),
    ]))
    s.append(Scenario("default_pool", {
        "mode": "16x8", "default_pool": 7, "mac_filters": [{"mac": MAC_A, "pools": [3]}],
    }, [Case(_udp(MAC_U), {7}), Case(_udp(MAC_A), {3})]))
    s.append(Scenario("default_pool_disabled", {
        "mode": "32x4", "disable_default_pool": True, "mac_filters": [{"mac": MAC_A, "pools": [3]}],
    }, [
        Case(_udp(MAC_U), None, "no_pool", note="DIS_DEFPL drops unmatched unicast"),
        Case(_udp(MAC_A), {3}),
        Case(_udp(BCAST), None, "no_pool", note="no pool accepts broadcast"),
    ]))

    # --- broadcast ------------------------------------------------------------
    s.append(Scenario("broadcast_replicated", {
        "mode": "64x2", "broadcast": [0, 3, 63],
    }, [
        Case(_udp(BCAST), {0, 3, 63}, note="broadcast copied to every BAM pool"),
        Case(_udp(BCAST, vid=5), None, "pool_vlan", note="tagged broadcast: no pool's VLAN filter admits VLAN 5"),
    ]))
    s.append(Scenario("broadcast_not_to_default_pool", {"mode": "32x4"}, [
        Case(_udp(BCAST), None, "no_pool", note="only unicast falls back to the default pool"),
    ]))

    # --- multicast: exact, hash, promiscuous ------------------------------------
    s.append(Scenario("multicast_hash", {
        "mode": "32x4", "mc_hash": [MC_1], "accept_mc_hash": [2, 4],
    }, [
        Case(_udp(MC_1), {2, 4}, note="MTA hit: pools with ROMPE"),
        Case(_udp(MC_2), None, "no_pool", note="MTA miss and no MPE pool"),
    ]))
    s.append(Scenario("multicast_promiscuous", {
        "mode": "32x4", "mc_hash": [MC_1], "accept_mc_hash": [2, 4], "mc_promisc": [6],
    }, [
        Case(_udp(MC_1), {2, 4, 6}),
        Case(_udp(MC_2), {6}, note="MPE pools get every multicast"),
        Case(_udp(BCAST), None, "no_pool", note="broadcast is not multicast for MPE"),
    ]))
    s.append(Scenario("multicast_exact_before_hash", {
        "mode": "32x4", "mc_hash": [MC_3], "accept_mc_hash": [2],
        "mac_filters": [{"mac": MC_3, "pools": [9]}, {"mac": MC_2, "pools": []}],
    }, [
        Case(_udp(MC_3), {9}, note="an exact MAC match wins over the hash table"),
        Case(_udp(MC_2), None, "no_pool", note="exact match with an empty pool set"),
    ]))
    mc_idx = 0x5A5
    s.append(Scenario("multicast_hash_offset", {
        "mode": "32x4", "mc_hash_offset": 3, "mc_hash": [mc_idx], "accept_mc_hash": [1],
    }, [
        Case(_udp(_mac_with_mta_index(mc_idx, 3)), {1}, note="MO=3 indexes DA bits [11:0] of bytes 4-5"),
        Case(_udp(_mac_with_mta_index(mc_idx, 0)), None, "no_pool", note="same index under MO=0 is another address"),
    ]))

    # --- VLANs --------------------------------------------------------------------
    s.append(Scenario("vlan_global_filter", {
        "mode": "32x4", "vlan_filter": [10],
        "pool_vlans": [{"vlan": 10, "pools": [1]}, {"vlan": 20, "pools": [1]}],
        "mac_filters": [{"mac": MAC_A, "pools": [1]}],
    }, [
        Case(_udp(MAC_A, vid=10), {1}),
        Case(_udp(MAC_A, vid=20), None, "vlan_filter", note="VLAN 20 is off in the VFTA"),
        Case(_udp(MAC_A), {1}, note="untagged frames skip the VFTA"),
    ]))
    s.append(Scenario("vlan_per_pool", {
        "mode": "32x4",
        "pool_vlans": [{"vlan": 10, "pools": [1]}, {"vlan": 20, "pools": [2]}],
        "mac_filters": [{"mac": MAC_A, "pools": [1, 2]}],
        "broadcast": [1, 2, 3],
    }, [
        Case(_udp(MAC_A, vid=10), {1}, note="MAC admits 1 and 2, VLAN 10 only 1"),
        Case(_udp(MAC_A, vid=20), {2}),
        Case(_udp(MAC_A, vid=30), {0}, note="no pool left: unicast falls back to the default pool"),
        Case(_udp(BCAST, vid=20), {2}, note="broadcast replicated only where the VLAN is a member"),
    ]))
    s.append(Scenario("vlan_per_pool_no_default", {
        "mode": "32x4", "disable_default_pool": True,
        "pool_vlans": [{"vlan": 10, "pools": [1]}],
        "mac_filters": [{"mac": MAC_A, "pools": [2]}],
    }, [Case(_udp(MAC_A, vid=10), None, "pool_vlan", note="MAC admits pool 2, VLAN 10 does not")]))
    s.append(Scenario("accept_untagged", {
        "mode": "32x4", "accept_untagged": [1], "disable_default_pool": True,
        "mac_filters": [{"mac": MAC_A, "pools": [1, 2]}],
    }, [Case(_udp(MAC_A), {1}, note="untagged frames only to AUPE pools")]))
    s.append(Scenario("vlan_promiscuous", {
        "mode": "32x4", "vlan_promisc": [2],
        "mac_filters": [{"mac": MAC_A, "pools": [1, 2]}],
    }, [Case(_udp(MAC_A, vid=999), {2}, note="VPE pools ignore their VLAN filter")]))
    # 802.1Q priority tags (VID 0): the 82599 matches VLAN ID 0 like any other VLAN
    # ID -- the VFTA bit and a VLVF entry with VID 0, as Linux programs them
    # (8021q adds VID 0 to the hardware filter, ixgbe a VLVF VID 0 per VF pool);
    # the untagged (AUPE) rule does not apply. See rtl/README.md, "Priority tags".
    s.append(Scenario("priority_tag_vid0", {
        "mode": "32x4", "disable_default_pool": True, "vlan_filter": [0, 10],
        "pool_vlans": [{"vlan": 0, "pools": [1]}], "accept_untagged": [2],
        "mac_filters": [{"mac": MAC_A, "pools": [1, 2]}],
    }, [
        Case(_udp(MAC_A, vid=0), {1}, note="VID 0 matches the VLVF entry of VLAN 0, not AUPE"),
        Case(_udp(MAC_A), {2}, note="untagged: AUPE pools"),
    ]))
    s.append(Scenario("priority_tag_vfta", {
        "mode": "32x4", "vlan_filter": [10], "pool_vlans": [{"vlan": 0, "pools": [1]}],
        "mac_filters": [{"mac": MAC_A, "pools": [1]}],
    }, [Case(_udp(MAC_A, vid=0), None, "vlan_filter", note="VLAN 0 off in the VFTA: dropped like any VLAN")]))
    s.append(Scenario("qinq_outer_tag_skipped", {
        "mode": "32x4", "pool_vlans": [{"vlan": 10, "pools": [4]}],
        "mac_filters": [{"mac": MAC_A, "pools": [4, 5]}], "accept_untagged": [5],
    }, [
        Case(_udp(MAC_A, vid=10, qinq=100), {4}, note="outer 0x88a8 tag skipped, inner VLAN 10 filters"),
        Case(pad(bytes(_eth(MAC_A, qinq=100) / IP() / UDP())), {5}, note="S-tag alone: untagged"),
    ]))
    s.append(Scenario("qinq_custom_outer_type", {
        "mode": "32x4", "outer_vlan_ethertype": 0x9100, "pool_vlans": [{"vlan": 10, "pools": [4]}],
        "mac_filters": [{"mac": MAC_A, "pools": [4]}], "disable_default_pool": True, "accept_untagged": [],
    }, [
        Case(_udp(MAC_A, vid=10, qinq=100, outer_type=0x9100), {4}),
        Case(_udp(MAC_A, vid=10, qinq=100), None, "pool_vlan",
             note="0x88a8 is no longer skipped: the S-tag hides the C-tag, frame counts as untagged"),
    ]))

    # --- promiscuous, replication, pool enable ---------------------------------------
    s.append(Scenario("unicast_promiscuous", {
        "mode": "32x4", "uc_promisc": [3], "mac_filters": [{"mac": MAC_A, "pools": [1]}],
    }, [Case(_udp(MAC_U), {3}), Case(_udp(MAC_A), {1, 3})]))
    s.append(Scenario("replication_disabled", {
        "mode": "32x4", "replication": False, "broadcast": [2, 5],
        "mac_filters": [{"mac": MAC_A, "pools": [3, 4]}],
    }, [
        Case(_udp(BCAST), {2}, note="REPLEN=0: lowest-numbered pool only"),
        Case(_udp(MAC_A), {3}),
    ]))
    s.append(Scenario("pool_rx_disabled", {
        "mode": "32x4", "rx_enable": [p for p in range(32) if p != 5],
        "mac_filters": [{"mac": MAC_A, "pools": [5]}, {"mac": MAC_B, "pools": [4, 5]}],
    }, [
        Case(_udp(MAC_A), None, "pool_disabled"),
        Case(_udp(MAC_B), {4}),
    ]))

    # --- RSS --------------------------------------------------------------------------
    key_cfg = {"mode": "32x4", "rss_key": MS_VERIFICATION_KEY.hex(),
               "mac_filters": [{"mac": MAC_A, "pools": [1]}]}
    l4v4 = _rss_bytes(V4_SRC, V4_DST, V4_SPORT, V4_DPORT)
    l4v6 = _rss_bytes(V6_SRC, V6_DST, V6_SPORT, V6_DPORT)
    s.append(Scenario("rss_ipv4", dict(key_cfg), [
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT)), {1}, hash_type=1, rss_hash=V4_HASH_L4,
             queue=(V4_HASH_L4 & 127) % 4, note="Microsoft vector, 4-tuple"),
        Case(_v4(UDP(sport=V4_SPORT, dport=V4_DPORT)), {1}, hash_type=7, rss_hash=V4_HASH_L4),
        Case(_v4(ICMP()), {1}, hash_type=2, rss_hash=V4_HASH_L3, note="other protocols: 2-tuple"),
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT), flags="MF"), {1}, hash_type=2, rss_hash=V4_HASH_L3,
             note="first fragment: addresses only"),
        Case(_v4(None, frag=100, proto=6), {1}, hash_type=2, rss_hash=V4_HASH_L3, note="later fragment"),
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT), options=[IPOption_NOP()] * 12), {1}, hash_type=1,
             rss_hash=V4_HASH_L4, note="ports found after IPv4 options"),
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT), vid=7), {0}, hash_type=1, rss_hash=V4_HASH_L4,
             note="802.1Q tag skipped before L3 (tagged, no pool VLAN: default pool)"),
    ]))
    s.append(Scenario("rss_ipv6", dict(key_cfg), [
        Case(_v6(TCP(sport=V6_SPORT, dport=V6_DPORT)), {1}, hash_type=3, rss_hash=V6_HASH_L4),
        Case(_v6(UDP(sport=V6_SPORT, dport=V6_DPORT)), {1}, hash_type=8, rss_hash=V6_HASH_L4),
        Case(_v6(ICMPv6EchoRequest()), {1}, hash_type=5, rss_hash=V6_HASH_L3),
        Case(_v6(IPv6ExtHdrFragment(m=1) / UDP(sport=V6_SPORT, dport=V6_DPORT)), {1}, hash_type=5,
             rss_hash=V6_HASH_L3, note="fragment header: addresses only"),
    ]))
    s.append(Scenario("rss_not_ip", dict(key_cfg), [
        Case(pad(bytes(_eth(MAC_A) / ARP())), {1}, hash_type=0, rss_hash=0, queue=0),
        Case(pad(bytes(Ether(dst=MAC_A, src=SRC, type=0x88CC) / Raw(b"lldp"))), {1}, hash_type=0, queue=0),
    ]))
    s.append(Scenario("rss_types_subset", {**key_cfg, "rss_types": ["ipv4", "ipv6_udp"]}, [
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT)), {1}, hash_type=2, rss_hash=V4_HASH_L3),
        Case(_v6(UDP(sport=V6_SPORT, dport=V6_DPORT)), {1}, hash_type=8, rss_hash=V6_HASH_L4),
        Case(_v6(TCP(sport=V6_SPORT, dport=V6_DPORT)), {1}, hash_type=0, rss_hash=0, queue=0),
    ]))
    reta = [(i * 7 + 3) % 8 for i in range(128)]
    other_key = bytes(range(1, 41))
    h_other = toeplitz_hash(other_key, l4v4)
    s.append(Scenario("rss_reta_and_key", {
        "mode": "16x8", "rss_key": other_key.hex(), "reta": reta,
        "mac_filters": [{"mac": MAC_A, "pools": [2, 9]}],
    }, [
        Case(_v4(TCP(sport=V4_SPORT, dport=V4_DPORT)), {2, 9}, hash_type=1, rss_hash=h_other,
             queue=reta[h_other & 127], note="queue from the redirection table, same in both pools"),
        Case(_v6(TCP(sport=V6_SPORT, dport=V6_DPORT)), {2, 9}, hash_type=3,
             rss_hash=toeplitz_hash(other_key, l4v6)),
    ]))

    # --- runts and truncated frames ------------------------------------------------
    full = _v4(TCP(sport=V4_SPORT, dport=V4_DPORT))
    s.append(Scenario("runts", {**key_cfg}, [
        Case(full[:59], None, "runt", note="59 bytes < 60"),
        Case(full[:60], {1}, hash_type=1),
        Case(b"", None, "runt", note="empty frame"),
    ]))
    s.append(Scenario("truncated", {**key_cfg, "min_frame_len": 14}, [
        Case(full[:13], None, "runt", note="shorter than an Ethernet header"),
        Case(full[:14], {1}, hash_type=0),
        Case(full[:36], {1}, hash_type=2, rss_hash=V4_HASH_L3, note="addresses present, ports cut"),
        Case(full[:33], {1}, hash_type=0, note="destination address cut"),
        Case(full[:38], {1}, hash_type=1, rss_hash=V4_HASH_L4),
    ]))
    return s
