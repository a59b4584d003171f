"""Randomised VMDq traffic and tables built with scapy, shared by every classifier test.

:func:`random_config` draws a ``nic:`` configuration (MAC filters, VLANs,
per-pool flags, multicast hash, RSS key and table) and :func:`random_frames`
draws frames aimed at it: unicast to programmed and unknown MACs,
broadcast, multicast (exact, hashed, unknown), untagged / 802.1Q / QinQ,
IPv4 and IPv6 with TCP, UDP and other protocols, IPv4 options, fragments,
ARP and other EtherTypes, and runts and truncated frames.  Everything is
drawn from a ``random.Random`` so a seed reproduces a run.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from np_model.nic.config import MODES, RSS_TYPES

__all__ = ["mac_str", "random_config", "random_frames", "strip_hints", "frame_kinds", "build_frame", "pad"]

MIN_FRAME = 60


def mac_str(mac: int) -> str:
    """48-bit int as "aa:bb:cc:dd:ee:ff"."""
    return ":".join(f"{b:02x}" for b in mac.to_bytes(6, "big"))


def pad(frame: bytes, length: int = MIN_FRAME) -> bytes:
    """Zero-pad a frame to the Ethernet minimum (no FCS), as a MAC delivers it."""
    return frame + bytes(max(0, length - len(frame)))


def _rand_ucast(rng: random.Random) -> int:
    return (rng.getrandbits(48) & ~(1 << 40)) | (1 << 41)  # locally administered unicast


def _rand_mcast(rng: random.Random) -> int:
    return rng.getrandbits(48) | (1 << 40)


def _pool_subset(rng: random.Random, num_pools: int, p: float) -> list[int]:
    """Each pool with probability ``p``; one time in three no pool at all."""
    if rng.random() < 1 / 3:
        return []
    return [q for q in range(num_pools) if rng.random() < p]


def random_config(rng: random.Random, mode: str | None = None, num_mac_filters: int = 128) -> dict:
    """A random but plausible ``nic:`` configuration."""
    mode = mode or rng.choice(list(MODES))
    num_pools = MODES[mode]
    qpp = 128 // num_pools
    vlans = rng.sample(range(1, 4095), 8)
    n_uc = rng.randint(1, min(24, num_mac_filters))
    n_mc = rng.randint(0, min(4, num_mac_filters - n_uc))
    mac_filters = []
    for _ in range(n_uc):
        pools = rng.sample(range(num_pools), rng.choice((0, 1, 1, 1, 2, 3)))
        mac_filters.append({"mac": mac_str(_rand_ucast(rng)), "pools": pools})
    for _ in range(n_mc):
        pools = rng.sample(range(num_pools), rng.choice((0, 1, 2)))
        mac_filters.append({"mac": mac_str(_rand_mcast(rng)), "pools": pools})
    cfg: dict = {
        "mode": mode,
        "default_pool": rng.randrange(num_pools),
        "disable_default_pool": rng.random() < 0.3,
        "replication": rng.random() < 0.8,
        "mac_filters": mac_filters,
        "pool_vlans": [{"vlan": v, "pools": rng.sample(range(num_pools), rng.randint(1, 3))}
                       for v in rng.sample(vlans, rng.randint(0, 6))],
        "accept_untagged": _pool_subset(rng, num_pools, 0.7),
        "accept_mc_hash": _pool_subset(rng, num_pools, 0.3),
        "mc_promisc": _pool_subset(rng, num_pools, 0.1),
        "broadcast": _pool_subset(rng, num_pools, 0.4),
        "uc_promisc": _pool_subset(rng, num_pools, 0.05),
        "vlan_promisc": _pool_subset(rng, num_pools, 0.1),
        "mc_hash": [mac_str(_rand_mcast(rng)) for _ in range(rng.randint(0, 6))],
        "mc_hash_offset": rng.randrange(4),
        "rss_key": rng.randbytes(40).hex(),
        "rss_types": [t for t in RSS_TYPES if rng.random() < 0.85],
        "reta": [rng.randrange(qpp) for _ in range(128)],
    }
    if rng.random() < 0.5:
        cfg["vlan_filter"] = rng.sample(vlans, rng.randint(0, 7))
    if rng.random() < 0.3:
        cfg["rx_enable"] = _pool_subset(rng, num_pools, 0.85)
    if rng.random() < 0.2:
        cfg["outer_vlan_ethertype"] = 0x9100
    if rng.random() < 0.3:
        cfg["min_frame_len"] = rng.randint(0, 64)
    cfg["_vlans"] = vlans  # hint for random_frames; stripped by strip_hints()
    return cfg


def strip_hints(cfg: Mapping) -> dict:
    """The configuration without the generator's private ``_`` hints."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


def build_frame(dst: str, l2: str = "untagged", vid: int = 1, outer_vid: int = 100,
                outer_type: int = 0x88A8, l3: str = "ipv4_tcp", payload: int = 18,
                rng: random.Random | None = None) -> bytes:
    """One frame (unpadded) with the given L2 tagging and L3/L4 kind."""
    rng = rng or random.Random(0)
    src = mac_str(_rand_ucast(rng))
    v4s = ".".join(str(rng.randrange(256)) for _ in range(4))
    v4d = ".".join(str(rng.randrange(256)) for _ in range(4))
    v6s = ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))
    v6d = ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))
    sport, dport = rng.randrange(65536), rng.randrange(65536)
    body = Raw(bytes(rng.getrandbits(8) for _ in range(payload)))
    if l3 == "ipv4_tcp":
        pkt = IP(src=v4s, dst=v4d) / TCP(sport=sport, dport=dport) / body
    elif l3 == "ipv4_udp":
        pkt = IP(src=v4s, dst=v4d) / UDP(sport=sport, dport=dport) / body
    elif l3 == "ipv4_icmp":
        pkt = IP(src=v4s, dst=v4d) / ICMP() / body
    elif l3 == "ipv4_opts":
        opts = [IPOption_NOP()] * (4 * rng.randint(1, 10))
        pkt = IP(src=v4s, dst=v4d, options=opts) / rng.choice((TCP, UDP))(sport=sport, dport=dport) / body
    elif l3 == "ipv4_frag_mf":
        pkt = IP(src=v4s, dst=v4d, flags="MF") / rng.choice((TCP, UDP))(sport=sport, dport=dport) / body
    elif l3 == "ipv4_frag_off":
        pkt = IP(src=v4s, dst=v4d, frag=rng.randint(1, 8000), proto=rng.choice((6, 17))) / body
    elif l3 == "ipv6_tcp":
        pkt = IPv6(src=v6s, dst=v6d) / TCP(sport=sport, dport=dport) / body
    elif l3 == "ipv6_udp":
        pkt = IPv6(src=v6s, dst=v6d) / UDP(sport=sport, dport=dport) / body
    elif l3 == "ipv6_icmp":
        pkt = IPv6(src=v6s, dst=v6d) / ICMPv6EchoRequest() / body
    elif l3 == "ipv6_frag":
        pkt = IPv6(src=v6s, dst=v6d) / IPv6ExtHdrFragment(m=1) / UDP(sport=sport, dport=dport) / body
    elif l3 == "arp":
        pkt = ARP(psrc=v4s, pdst=v4d, hwsrc=src)
    elif l3 == "bad_ipv4":
        raw = bytearray(bytes(IP(src=v4s, dst=v4d) / TCP() / body))
        raw[0] = rng.choice((0x65, 0x44, 0x43))  # version 6 in an IPv4 EtherType, or IHL < 5
        return bytes(_l2(dst, src, l2, vid, outer_vid, outer_type, 0x0800)) + bytes(raw)
    elif l3 == "other":
        return bytes(_l2(dst, src, l2, vid, outer_vid, outer_type, rng.choice((0x88CC, 0x8847, 0x9000)))) + bytes(body)
    else:
        raise ValueError(f"unknown l3 kind {l3!r}; valid kinds: {', '.join(frame_kinds())}")
    return bytes(_l2(dst, src, l2, vid, outer_vid, outer_type, None) / pkt)


def _l2(dst: str, src: str, l2: str, vid: int, outer_vid: int, outer_type: int, ethertype: int | None):
    if l2 == "untagged":
        eth = Ether(dst=dst, src=src) if ethertype is None else Ether(dst=dst, src=src, type=ethertype)
        return eth
    if l2 == "dot1q":
        eth = Ether(dst=dst, src=src) / Dot1Q(vlan=vid, prio=vid % 8)
    elif l2 == "qinq":
        eth = Ether(dst=dst, src=src, type=outer_type) / Dot1AD(vlan=outer_vid) / Dot1Q(vlan=vid)
    elif l2 == "stag":
        eth = Ether(dst=dst, src=src, type=outer_type) / Dot1AD(vlan=outer_vid)
    else:
        raise ValueError(f"unknown l2 kind {l2!r}; valid kinds: untagged, dot1q, qinq, stag")
    if ethertype is not None:
        eth.lastlayer().type = ethertype
    return eth


_L3_KINDS = ("ipv4_tcp", "ipv4_udp", "ipv4_icmp", "ipv4_opts", "ipv4_frag_mf", "ipv4_frag_off",
             "ipv6_tcp", "ipv6_udp", "ipv6_icmp", "ipv6_frag", "arp", "bad_ipv4", "other")
_L3_WEIGHTS = (18, 12, 5, 6, 4, 4, 12, 10, 4, 4, 8, 3, 4)


def frame_kinds() -> tuple[str, ...]:
    """Every L3 kind :func:`build_frame` knows."""
    return _L3_KINDS


def random_frames(rng: random.Random, cfg: Mapping, count: int, max_len: int = 1518) -> list[bytes]:
    """``count`` random frames aimed at configuration ``cfg``."""
    uc = [f["mac"] for f in cfg.get("mac_filters", []) if not int(f["mac"][:2], 16) & 1]
    mc = [f["mac"] for f in cfg.get("mac_filters", []) if int(f["mac"][:2], 16) & 1]
    mc += [m for m in cfg.get("mc_hash", []) if isinstance(m, str)]
    vlans = list(cfg.get("_vlans", [])) + [v["vlan"] for v in cfg.get("pool_vlans", [])]
    vlans = vlans or [1, 10, 20]
    outer_type = cfg.get("outer_vlan_ethertype", 0x88A8)
    frames = []
    for _ in range(count):
        r = rng.random()
        if r < 0.40 and uc:
            dst = rng.choice(uc)
        elif r < 0.55:
            dst = mac_str(_rand_ucast(rng))
        elif r < 0.67:
            dst = "ff:ff:ff:ff:ff:ff"
        elif r < 0.85 and mc:
            dst = rng.choice(mc)
        else:
            dst = mac_str(_rand_mcast(rng))
        l2 = rng.choices(("untagged", "dot1q", "qinq", "stag"), (50, 35, 10, 5))[0]
        vid = rng.choice(vlans) if rng.random() < 0.85 else rng.randrange(4096)
        l3 = rng.choices(_L3_KINDS, _L3_WEIGHTS)[0]
        size = rng.random()
        payload = rng.randint(0, 30) if size < 0.6 else rng.randint(30, max(31, max_len - 80))
        frame = build_frame(dst, l2, vid, rng.randrange(4096), outer_type, l3, payload, rng)
        cut = rng.random()
        if cut < 0.08:
            frame = frame[:rng.randint(0, MIN_FRAME - 1)]           # runt
        elif cut < 0.16:
            frame = frame[:rng.randint(14, min(len(frame), 100))]  # truncated header
        else:
            frame = pad(frame)[:max_len]
        frames.append(frame)
    return frames
