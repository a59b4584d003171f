"""The ``nic:`` section of a router configuration, translated to register writes.

This is the only place that knows how a user-level setting maps onto the
register file, and both backends are programmed from its output through
``write_reg`` alone, so the model and the RTL always see the same writes.

Keys (all optional)::

    mode: "32x4"                 # 64x2, 32x4 or 16x8 (pools x queues per pool)
    default_pool: 0              # VT_CTL.DEF_PL
    disable_default_pool: false  # VT_CTL.DIS_DEFPL: drop unmatched unicast
    replication: true            # VT_CTL.REPLEN
    mac_filters: [{mac: "02:00:00:00:00:01", pools: [0, 3]}]   # RAR + MPSAR
    vlan_filter: [10, 20]        # VFTA; present => VLNCTRL.VFE = 1
    pool_vlans: [{vlan: 10, pools: [1]}]                      # VLVF + VLVFB
    accept_untagged: all         # VMOLR.AUPE   (default: all pools)
    accept_mc_hash: [0]          # VMOLR.ROMPE
    mc_promisc: []               # VMOLR.MPE
    broadcast: [0, 1]            # VMOLR.BAM
    uc_promisc: []               # VMOLR.UPE
    vlan_promisc: []             # VMOLR.VPE
    rx_enable: all               # VFRE (default: all pools)
    mc_hash: ["01:00:5e:00:00:01", 0x123]   # MTA: multicast MACs or 12-bit indices
    mc_hash_offset: 0            # MCSTCTRL.MO
    rss_key: "6d5a56da..."       # 40 bytes as 80 hex digits (default: Microsoft's key)
    rss_types: [ipv4, ipv4_tcp, ipv4_udp, ipv6, ipv6_tcp, ipv6_udp]  # MRQC (default: all)
    reta: [0, 1, 2, 3]           # 128 entries, or a length dividing 128 (repeated)
    vlan_ethertype: 0x8100       # VLNCTRL.VET
    outer_vlan_ethertype: 0x88a8 # EXVET (outer tag skipped)
    min_frame_len: 60            # RUNT_LEN

A pool list is a list of pool numbers, ``all`` / ``true`` (every pool) or
``none`` / ``false`` / ``[]``.  The translation assumes a device fresh from
reset and writes only the registers whose value differs from reset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import regmap as rm
from .model import mta_index
from .toeplitz import MS_VERIFICATION_KEY

__all__ = ["NicConfig", "ConfigError", "MODES", "CONFIG_KEYS", "RSS_TYPES", "parse_config", "parse_mac"]

MODES: dict[str, int] = {"64x2": 64, "32x4": 32, "16x8": 16}
RSS_TYPES: dict[str, rm.Field] = {
    "ipv4_tcp": rm.MRQC_RSS_IPV4_TCP,
    "ipv4": rm.MRQC_RSS_IPV4,
    "ipv6": rm.MRQC_RSS_IPV6,
    "ipv6_tcp": rm.MRQC_RSS_IPV6_TCP,
    "ipv4_udp": rm.MRQC_RSS_IPV4_UDP,
    "ipv6_udp": rm.MRQC_RSS_IPV6_UDP,
}
_POOL_FLAGS: dict[str, rm.Field] = {
    "accept_untagged": rm.VMOLR_AUPE,
    "accept_mc_hash": rm.VMOLR_ROMPE,
    "mc_promisc": rm.VMOLR_MPE,
    "broadcast": rm.VMOLR_BAM,
    "uc_promisc": rm.VMOLR_UPE,
    "vlan_promisc": rm.VMOLR_VPE,
}
CONFIG_KEYS: tuple[str, ...] = (
    "mode", "default_pool", "disable_default_pool", "replication", "mac_filters",
    "vlan_filter", "pool_vlans", *_POOL_FLAGS, "rx_enable", "mc_hash", "mc_hash_offset",
    "rss_key", "rss_types", "reta", "vlan_ethertype", "outer_vlan_ethertype", "min_frame_len",
)
_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


class ConfigError(ValueError):
    """A ``nic:`` configuration key or value is invalid."""


def parse_mac(value: object, what: str = "mac") -> int:
    """A MAC address given as "aa:bb:cc:dd:ee:ff" (or '-' separated) or an int, as a 48-bit int."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a MAC address like '02:00:00:00:00:01', got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < 1 << 48:
            raise ConfigError(f"{what}: MAC address {value:#x} does not fit 48 bits")
        return value
    if isinstance(value, str) and _MAC_RE.match(value.strip()):
        return int(re.sub(r"[:-]", "", value.strip()), 16)
    raise ConfigError(f"{what}: expected a MAC address like '02:00:00:00:00:01', got {value!r}")


def _int(value: object, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what}: expected an integer in {lo}..{hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{what}: {value} is out of range {lo}..{hi}")
    return value


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what}: expected true or false, got {value!r}")
    return value


def _pools(value: object, what: str, num_pools: int) -> int:
    """A pool list (numbers, 'all'/true, 'none'/false) as a bitmap."""
    if value is True or (isinstance(value, str) and value.lower() == "all"):
        return (1 << num_pools) - 1
    if value is False or value is None or (isinstance(value, str) and value.lower() == "none"):
        return 0
    if isinstance(value, int):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ConfigError(f"{what}: expected a list of pool numbers, 'all' or 'none', got {value!r}")
    bits = 0
    for pool in value:
        bits |= 1 << _int(pool, f"{what}: pool", 0, num_pools - 1)
    return bits


def _entries(value: object, what: str, keys: tuple[str, ...]) -> list[Mapping]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ConfigError(f"{what}: expected a list of mappings with keys {', '.join(keys)}, got {value!r}")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{what}[{i}]: expected a mapping with keys {', '.join(keys)}, got {entry!r}")
        unknown = sorted(set(entry) - set(keys))
        if unknown:
            raise ConfigError(f"{what}[{i}]: unknown key {unknown[0]!r}; valid keys: {', '.join(keys)}")
        missing = [k for k in keys if k not in entry]
        if missing:
            raise ConfigError(f"{what}[{i}]: missing key {missing[0]!r}")
        out.append(entry)
    return out


def _key_bytes(value: object) -> bytes:
    if isinstance(value, str):
        digits = re.sub(r"[\s:_-]", "", value)
        if len(digits) != 80 or not re.fullmatch(r"[0-9a-fA-F]*", digits):
            raise ConfigError(f"rss_key: expected 40 bytes as 80 hex digits, got {len(digits)} characters")
        return bytes.fromhex(digits)
    if isinstance(value, (bytes, bytearray)) or (isinstance(value, Sequence) and not isinstance(value, str)):
        data = [_int(b, "rss_key: byte", 0, 255) for b in value]
        if len(data) != 40:
            raise ConfigError(f"rss_key: expected 40 bytes, got {len(data)}")
        return bytes(data)
    raise ConfigError(f"rss_key: expected 80 hex digits or a list of 40 bytes, got {value!r}")


@dataclass
class NicConfig:
    """A validated ``nic:`` configuration (see the module docstring for the keys)."""

    mode: str = "32x4"
    default_pool: int = 0
    disable_default_pool: bool = False
    replication: bool = True
    mac_filters: list[tuple[int, int]] = field(default_factory=list)   # (mac, pool bitmap)
    vlan_filter: list[int] | None = None                             # None: VFE off
    pool_vlans: list[tuple[int, int]] = field(default_factory=list)    # (vid, pool bitmap)
    pool_flags: dict[str, int] = field(default_factory=dict)           # flag -> pool bitmap
    rx_enable: int | None = None                                      # None: all pools
    mc_hash: list[int] = field(default_factory=list)                   # 12-bit MTA indices
    mc_hash_offset: int = 0
    rss_key: bytes = MS_VERIFICATION_KEY
    rss_types: tuple[str, ...] = tuple(RSS_TYPES)
    reta: list[int] | None = None                                     # None: i % queues
    vlan_ethertype: int = 0x8100
    outer_vlan_ethertype: int = 0x88A8
    min_frame_len: int = 60

    @property
    def num_pools(self) -> int:
        return MODES[self.mode]

    @property
    def queues_per_pool(self) -> int:
        return 128 // self.num_pools

    def register_writes(self, num_mac_filters: int = rm.MAX_MAC_FILTERS) -> list[tuple[int, int]]:
        """(address, value) writes that program a device fresh from reset."""
        np_ = self.num_pools
        if len(self.mac_filters) > num_mac_filters:
            raise ConfigError(f"mac_filters: {len(self.mac_filters)} entries, the device has {num_mac_filters}")
        image: dict[int, int] = {}

        for i, (mac, pools) in enumerate(self.mac_filters):
            raw = mac.to_bytes(6, "big")
            image[rm.RAL.addr(i)] = int.from_bytes(raw[0:4], "little")
            image[rm.RAH.addr(i)] = int.from_bytes(raw[4:6], "little") | rm.RAH_AV.mask
            image[rm.MPSAR_LO.addr(i)] = pools & 0xFFFF_FFFF
            image[rm.MPSAR_HI.addr(i)] = pools >> 32

        vlnctrl = rm.VLNCTRL_VET.put(0, self.vlan_ethertype)
        if self.vlan_filter is not None:
            vlnctrl |= rm.VLNCTRL_VFE.mask
            vfta = [0] * 128
            for vid in self.vlan_filter:
                vfta[vid >> 5] |= 1 << (vid & 31)
            for i, word in enumerate(vfta):
                image[rm.VFTA.addr(i)] = word
        image[rm.VLNCTRL.addr()] = vlnctrl
        image[rm.EXVET.addr()] = rm.EXVET_VET_EXT.put(0, self.outer_vlan_ethertype)

        for j, (vid, pools) in enumerate(self.pool_vlans):
            image[rm.VLVF.addr(j)] = rm.VLVF_VIEN.mask | vid
            image[rm.VLVFB.addr(2 * j)] = pools & 0xFFFF_FFFF
            image[rm.VLVFB.addr(2 * j + 1)] = pools >> 32

        flags = {"accept_untagged": (1 << np_) - 1, **self.pool_flags}
        for pool in range(np_):
            vmolr = 0
            for name, bits in flags.items():
                if bits >> pool & 1:
                    vmolr |= _POOL_FLAGS[name].mask
            image[rm.VMOLR.addr(pool)] = vmolr

        vt_ctl = rm.VT_CTL_DEF_PL.put(0, self.default_pool)
        vt_ctl |= rm.VT_CTL_DIS_DEFPL.mask if self.disable_default_pool else 0
        vt_ctl |= rm.VT_CTL_REPLEN.mask if self.replication else 0
        image[rm.VT_CTL.addr()] = vt_ctl | rm.VT_CTL_VT_ENA.mask
        rx_en = (1 << np_) - 1 if self.rx_enable is None else self.rx_enable
        image[rm.VFRE.addr(0)] = rx_en & 0xFFFF_FFFF
        image[rm.VFRE.addr(1)] = rx_en >> 32

        image[rm.MCSTCTRL.addr()] = rm.MCSTCTRL_MFE.mask | self.mc_hash_offset
        mta = [0] * 128
        for idx in self.mc_hash:
            mta[idx >> 5] |= 1 << (idx & 31)
        for i, word in enumerate(mta):
            image[rm.MTA.addr(i)] = word

        mrqc = rm.MRQE_BY_POOLS[np_]
        for name in self.rss_types:
            mrqc |= RSS_TYPES[name].mask
        image[rm.MRQC.addr()] = mrqc
        for i in range(10):
            image[rm.RSSRK.addr(i)] = int.from_bytes(self.rss_key[4 * i:4 * i + 4], "little")
        reta = self.reta if self.reta is not None else [i % self.queues_per_pool for i in range(128)]
        for i in range(32):
            image[rm.RETA.addr(i)] = int.from_bytes(bytes(reta[4 * i:4 * i + 4]), "little")
        image[rm.RUNT_LEN.addr()] = self.min_frame_len

        writes = []
        for addr in sorted(image):
            reg, _ = rm.lookup(addr)
            if image[addr] != rm.reset_value(reg, np_, num_mac_filters):
                writes.append((addr, image[addr]))
        return writes


def parse_config(config: Mapping | None) -> NicConfig:
    """Validate a ``nic:`` mapping; errors name the key and what is wrong with it."""
    if config is None:
        return NicConfig()
    if isinstance(config, NicConfig):
        return config
    if not isinstance(config, Mapping):
        raise ConfigError(f"nic configuration must be a mapping, got {type(config).__name__}")
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if unknown:
        raise ConfigError(f"unknown nic configuration key {unknown[0]!r}; valid keys: {', '.join(CONFIG_KEYS)}")

    cfg = NicConfig()
    mode = config.get("mode", cfg.mode)
    if mode not in MODES:
        raise ConfigError(f"mode: {mode!r} is not a VMDq mode; valid modes: {', '.join(MODES)}")
    cfg.mode = mode
    np_ = cfg.num_pools
    qpp = cfg.queues_per_pool

    if "default_pool" in config:
        cfg.default_pool = _int(config["default_pool"], "default_pool", 0, np_ - 1)
    if "disable_default_pool" in config:
        cfg.disable_default_pool = _bool(config["disable_default_pool"], "disable_default_pool")
    if "replication" in config:
        cfg.replication = _bool(config["replication"], "replication")

    if "mac_filters" in config:
        entries = _entries(config["mac_filters"], "mac_filters", ("mac", "pools"))
        if len(entries) > rm.MAX_MAC_FILTERS:
            raise ConfigError(f"mac_filters: {len(entries)} entries, at most {rm.MAX_MAC_FILTERS} fit")
        cfg.mac_filters = [
            (parse_mac(e["mac"], f"mac_filters[{i}].mac"), _pools(e["pools"], f"mac_filters[{i}].pools", np_))
            for i, e in enumerate(entries)
        ]

    if "vlan_filter" in config:
        value = config["vlan_filter"]
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise ConfigError(f"vlan_filter: expected a list of VLAN IDs, got {value!r}")
        cfg.vlan_filter = [_int(v, "vlan_filter: VLAN ID", 0, 4095) for v in value]

    if "pool_vlans" in config:
        merged: dict[int, int] = {}
        for i, e in enumerate(_entries(config["pool_vlans"], "pool_vlans", ("vlan", "pools"))):
            vid = _int(e["vlan"], f"pool_vlans[{i}].vlan", 0, 4095)
            merged[vid] = merged.get(vid, 0) | _pools(e["pools"], f"pool_vlans[{i}].pools", np_)
        if len(merged) > rm.NUM_VLAN_FILTERS:
            raise ConfigError(f"pool_vlans: {len(merged)} distinct VLANs, at most {rm.NUM_VLAN_FILTERS} fit")
        cfg.pool_vlans = list(merged.items())

    for name in _POOL_FLAGS:
        if name in config:
            cfg.pool_flags[name] = _pools(config[name], name, np_)
    if "rx_enable" in config:
        cfg.rx_enable = _pools(config["rx_enable"], "rx_enable", np_)

    if "mc_hash_offset" in config:
        cfg.mc_hash_offset = _int(config["mc_hash_offset"], "mc_hash_offset", 0, 3)
    if "mc_hash" in config:
        value = config["mc_hash"]
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise ConfigError(f"mc_hash: expected a list of multicast MACs or 12-bit indices, got {value!r}")
        for i, item in enumerate(value):
            if isinstance(item, str):
                mac = parse_mac(item, f"mc_hash[{i}]")
                if not (mac >> 40) & 1:
                    raise ConfigError(f"mc_hash[{i}]: {item} is not a multicast address (I/G bit clear)")
                cfg.mc_hash.append(mta_index(mac, cfg.mc_hash_offset))
            else:
                cfg.mc_hash.append(_int(item, f"mc_hash[{i}]: table index", 0, 4095))

    if "rss_key" in config:
        cfg.rss_key = _key_bytes(config["rss_key"])
    if "rss_types" in config:
        value = config["rss_types"]
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise ConfigError(f"rss_types: expected a list of {', '.join(RSS_TYPES)}, got {value!r}")
        for name in value:
            if name not in RSS_TYPES:
                raise ConfigError(f"rss_types: {name!r} is not a hash type; valid types: {', '.join(RSS_TYPES)}")
        cfg.rss_types = tuple(value)
    if "reta" in config:
        value = config["reta"]
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
            raise ConfigError(f"reta: expected a list of queue indices, got {value!r}")
        if 128 % len(value):
            raise ConfigError(f"reta: needs 128 entries (or a length dividing 128, repeated), got {len(value)}")
        entries = [_int(q, f"reta: queue (mode {mode} has {qpp} queues per pool)", 0, qpp - 1) for q in value]
        cfg.reta = entries * (128 // len(entries))

    if "vlan_ethertype" in config:
        cfg.vlan_ethertype = _int(config["vlan_ethertype"], "vlan_ethertype", 0, 0xFFFF)
    if "outer_vlan_ethertype" in config:
        cfg.outer_vlan_ethertype = _int(config["outer_vlan_ethertype"], "outer_vlan_ethertype", 0, 0xFFFF)
    if "min_frame_len" in config:
        cfg.min_frame_len = _int(config["min_frame_len"], "min_frame_len", 0, 64)
    return cfg
