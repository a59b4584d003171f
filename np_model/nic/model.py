"""Golden model of the VMDq receive classifier (``rtl/vmdq_classifier.sv``).

It holds the same register file as the RTL (:mod:`np_model.nic.regmap`) and
classifies whole frames with the same rules, bit for bit; the testbenches
use it as their scoreboard and the NP model uses it when no RTL is in the
loop.  The rules, in order (see ``rtl/README.md``):

1. runt: shorter than 14 bytes or than ``min(RUNT_LEN, 64)``;
2. tags: an outer tag with TPID = EXVET is skipped, then an 802.1Q tag with
   TPID = VLNCTRL.VET gives the VLAN ID (VID 0, a priority tag, included: it
   is VLAN 0 to the filters, as on the 82599); a tagged frame whose VLAN is
   off in the VFTA is dropped when VLNCTRL.VFE is set;
3. MAC stage: broadcast -> pools with BAM; multicast -> the exact-match
   filters' pools if any filter matches, else ROMPE pools on an MTA hit,
   plus MPE pools; unicast -> exact-match pools plus UPE pools;
4. VLAN stage: tagged -> pools of matching VLVF entries plus VPE pools;
   untagged -> AUPE pools; a pool must pass both stages;
5. unicast with no pool left -> the default pool unless DIS_DEFPL;
6. pools without receive enable (VFRE) are removed; REPLEN = 0 keeps only
   the lowest-numbered pool;
7. RSS: Toeplitz hash over addresses (and ports for unfragmented TCP/UDP),
   queue = RETA[hash & 127] mod queues-per-pool.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import regmap as rm
from .result import (
    HASH_IPV4,
    HASH_IPV4_TCP,
    HASH_IPV4_UDP,
    HASH_IPV6,
    HASH_IPV6_TCP,
    HASH_IPV6_UDP,
    HASH_NONE,
    VmdqResult,
)
from .toeplitz import ToeplitzTable

__all__ = ["VmdqModel", "mta_index"]

_BROADCAST = (1 << 48) - 1
_MO_SHIFT = (4, 3, 2, 0)


def mta_index(mac: bytes | int, offset: int = 0) -> int:
    """12-bit multicast table index of a destination address (MCSTCTRL.MO = ``offset``)."""
    if isinstance(mac, int):
        mac = mac.to_bytes(6, "big")
    return ((mac[5] << 8 | mac[4]) >> _MO_SHIFT[offset]) & 0xFFF


class VmdqModel:
    """Register-programmed golden model of the classifier (``backend == "model"``).

    Args:
        num_pools: 64, 32 or 16 (the 82599 64x2, 32x4 and 16x8 modes).
        num_mac_filters: number of RAR exact-match filters, 1..128.
    """

    backend = "model"
    timing = "functional"          # the model has no cycle timing (np_model.nic: TIMINGS)

    def __init__(self, num_pools: int = 32, num_mac_filters: int = 128) -> None:
        if num_pools not in rm.VALID_NUM_POOLS:
            raise ValueError(f"num_pools must be one of {rm.VALID_NUM_POOLS}, got {num_pools!r}")
        if not 1 <= num_mac_filters <= rm.MAX_MAC_FILTERS:
            raise ValueError(f"num_mac_filters must be in 1..{rm.MAX_MAC_FILTERS}, got {num_mac_filters!r}")
        self.num_pools = num_pools
        self.queues_per_pool = 128 // num_pools
        self.num_mac_filters = num_mac_filters
        self._toeplitz: ToeplitzTable | None = None
        self.reset()

    # ------------------------------------------------------------------
    # register interface
    # ------------------------------------------------------------------

    def reset(self) -> None:
        """Return every register to its reset value."""
        self._regs: dict[int, int] = {}
        for addr in rm.all_addresses():
            reg, _ = rm.lookup(addr)
            self._regs[addr] = rm.reset_value(reg, self.num_pools, self.num_mac_filters)
        self._dirty = True

    def write_reg(self, addr: int, value: int, strobe: int = 0xF) -> None:
        """Write a 32-bit register; partial strobes and read-only bits are ignored like the RTL."""
        if strobe != 0xF:
            return
        hit = rm.lookup(addr)
        if hit is None:
            return
        reg, index = hit
        mask = rm.writable_mask(reg, index, self.num_pools, self.num_mac_filters)
        if not mask:
            return
        word = addr & ~3
        self._regs[word] = (self._regs[word] & ~mask) | (value & mask)
        self._dirty = True

    def read_reg(self, addr: int) -> int:
        """Read a 32-bit register (0 for unmapped addresses)."""
        return self._regs.get(addr & ~3, 0)

    def close(self) -> None:
        """Nothing to release; present for the NicFrontEnd protocol."""

    # ------------------------------------------------------------------
    # compiled tables
    # ------------------------------------------------------------------

    def _compile(self) -> None:
        r = self._regs
        np_ = self.num_pools

        def pool_bits(lo_addr: int, hi_addr: int) -> int:
            return (r[lo_addr] | r[hi_addr] << 32) & ((1 << np_) - 1)

        macs: dict[int, int] = {}
        for i in range(self.num_mac_filters):
            rah = r[rm.RAH.addr(i)]
            if not rm.RAH_AV.get(rah):
                continue
            ral = r[rm.RAL.addr(i)]
            mac = int.from_bytes(ral.to_bytes(4, "little") + (rah & 0xFFFF).to_bytes(2, "little"), "big")
            macs[mac] = macs.get(mac, 0) | pool_bits(rm.MPSAR_LO.addr(i), rm.MPSAR_HI.addr(i))
        self._macs = macs

        vlans: dict[int, int] = {}
        for j in range(rm.NUM_VLAN_FILTERS):
            vlvf = r[rm.VLVF.addr(j)]
            if rm.VLVF_VIEN.get(vlvf):
                vid = rm.VLVF_VLAN_ID.get(vlvf)
                vlans[vid] = vlans.get(vid, 0) | pool_bits(rm.VLVFB.addr(2 * j), rm.VLVFB.addr(2 * j + 1))
        self._vlans = vlans

        masks = dict.fromkeys(("upe", "vpe", "aupe", "rompe", "bam", "mpe"), 0)
        fields = {"upe": rm.VMOLR_UPE, "vpe": rm.VMOLR_VPE, "aupe": rm.VMOLR_AUPE,
                  "rompe": rm.VMOLR_ROMPE, "bam": rm.VMOLR_BAM, "mpe": rm.VMOLR_MPE}
        for pool in range(np_):
            vmolr = r[rm.VMOLR.addr(pool)]
            for name, field in fields.items():
                masks[name] |= field.get(vmolr) << pool
        self._masks = masks
        self._rx_en = pool_bits(rm.VFRE.addr(0), rm.VFRE.addr(1))

        vt_ctl = r[rm.VT_CTL.addr()]
        def_pool = rm.VT_CTL_DEF_PL.get(vt_ctl)
        self._def_pool_bits = (1 << def_pool) & ((1 << np_) - 1)
        self._def_pool_dis = bool(rm.VT_CTL_DIS_DEFPL.get(vt_ctl))
        self._repl_en = bool(rm.VT_CTL_REPLEN.get(vt_ctl))

        vlnctrl = r[rm.VLNCTRL.addr()]
        self._vet = rm.VLNCTRL_VET.get(vlnctrl)
        self._vfe = bool(rm.VLNCTRL_VFE.get(vlnctrl))
        self._exvet = rm.EXVET_VET_EXT.get(r[rm.EXVET.addr()])
        mcst = r[rm.MCSTCTRL.addr()]
        self._mo = rm.MCSTCTRL_MO.get(mcst)
        self._mfe = bool(rm.MCSTCTRL_MFE.get(mcst))
        self._mta = [r[rm.MTA.addr(i)] for i in range(128)]
        self._vfta = [r[rm.VFTA.addr(i)] for i in range(128)]

        mrqc = r[rm.MRQC.addr()]
        self._rss = {
            "ipv4_tcp": bool(rm.MRQC_RSS_IPV4_TCP.get(mrqc)),
            "ipv4": bool(rm.MRQC_RSS_IPV4.get(mrqc)),
            "ipv6": bool(rm.MRQC_RSS_IPV6.get(mrqc)),
            "ipv6_tcp": bool(rm.MRQC_RSS_IPV6_TCP.get(mrqc)),
            "ipv4_udp": bool(rm.MRQC_RSS_IPV4_UDP.get(mrqc)),
            "ipv6_udp": bool(rm.MRQC_RSS_IPV6_UDP.get(mrqc)),
        }
        key = b"".join(r[rm.RSSRK.addr(i)].to_bytes(4, "little") for i in range(10))
        if self._toeplitz is None or self._toeplitz.key != key:
            self._toeplitz = ToeplitzTable(key)
        self._reta = [b for i in range(32) for b in r[rm.RETA.addr(i)].to_bytes(4, "little")]
        self._runt = max(14, min(rm.RUNT_LEN_LEN.get(r[rm.RUNT_LEN.addr()]), 64))
        self._dirty = False

    # ------------------------------------------------------------------
    # classification
    # ------------------------------------------------------------------

    def classify(self, frames: Sequence[bytes]) -> list[VmdqResult]:
        """Classify a batch of frames (Ethernet header first, no FCS)."""
        if self._dirty:
            self._compile()
        return [self._classify(bytes(f)) for f in frames]

    def classify_one(self, frame: bytes) -> VmdqResult:
        """Classify a single frame."""
        return self.classify([frame])[0]

    def _dropped(self, reason: str) -> VmdqResult:
        return VmdqResult(0, 0, 0, HASH_NONE, True, reason, self.queues_per_pool)

    def _classify(self, f: bytes) -> VmdqResult:
        n = len(f)
        if n < self._runt:
            return self._dropped("runt")

        # L2: outer tag skipped, then 802.1Q
        et = f[12] << 8 | f[13]
        pos = 12
        if et == self._exvet and n >= 18:
            pos = 16
            et = f[16] << 8 | f[17]
        tagged = False
        vid = 0
        if et == self._vet and n >= pos + 6:
            tagged = True
            vid = (f[pos + 2] & 0x0F) << 8 | f[pos + 3]
            et = f[pos + 4] << 8 | f[pos + 5]
            pos += 4
        l3 = pos + 2

        if tagged and self._vfe and not (self._vfta[vid >> 5] >> (vid & 31)) & 1:
            return self._dropped("vlan_filter")

        # MAC stage
        da = int.from_bytes(f[0:6], "big")
        m = self._masks
        exact = self._macs.get(da)
        bcast = da == _BROADCAST
        mcast = bool(f[0] & 1) and not bcast
        if bcast:
            mac_pools = m["bam"]
        elif mcast:
            if exact is not None:
                mac_pools = exact
            else:
                idx = ((f[5] << 8 | f[4]) >> _MO_SHIFT[self._mo]) & 0xFFF
                hit = self._mfe and (self._mta[idx >> 5] >> (idx & 31)) & 1
                mac_pools = m["rompe"] if hit else 0
            mac_pools |= m["mpe"]
        else:
            mac_pools = (exact or 0) | m["upe"]

        # VLAN stage
        if tagged:
            vlan_pools = self._vlans.get(vid, 0) | m["vpe"]
        else:
            vlan_pools = m["aupe"]
        sel = mac_pools & vlan_pools
        if not sel and not bcast and not mcast and not self._def_pool_dis:
            sel = self._def_pool_bits
        if not sel:
            return self._dropped("pool_vlan" if mac_pools else "no_pool")
        enabled = sel & self._rx_en
        if not enabled:
            return self._dropped("pool_disabled")
        pools = enabled if self._repl_en else enabled & -enabled

        # RSS
        hash_type, hash_in = self._rss_input(f, et, l3, n)
        if hash_type == HASH_NONE:
            return VmdqResult(pools, 0, 0, HASH_NONE, False, None, self.queues_per_pool)
        h = self._toeplitz.hash(hash_in)
        queue = self._reta[h & 0x7F] & (self.queues_per_pool - 1)
        return VmdqResult(pools, queue, h, hash_type, False, None, self.queues_per_pool)

    def _rss_input(self, f: bytes, et: int, l3: int, n: int) -> tuple[int, bytes]:
        """Hash type and Toeplitz input bytes of a frame whose L3 header starts at ``l3``."""
        rss = self._rss
        l3_len = n - l3
        if et == 0x0800 and l3_len >= 20 and f[l3] >> 4 == 4 and f[l3] & 0xF >= 5:
            ihl = f[l3] & 0xF
            frag = (f[l3 + 6] << 8 | f[l3 + 7]) & 0x3FFF
            proto = f[l3 + 9]
            ports_ok = not frag and l3_len >= 4 * ihl + 4
            addrs = f[l3 + 12:l3 + 20]
            l4 = l3 + 4 * ihl
            if proto == 6 and ports_ok and rss["ipv4_tcp"]:
                return HASH_IPV4_TCP, addrs + f[l4:l4 + 4]
            if proto == 17 and ports_ok and rss["ipv4_udp"]:
                return HASH_IPV4_UDP, addrs + f[l4:l4 + 4]
            if rss["ipv4"]:
                return HASH_IPV4, addrs
            return HASH_NONE, b""
        if et == 0x86DD and l3_len >= 40 and f[l3] >> 4 == 6:
            nh = f[l3 + 6]
            ports_ok = l3_len >= 44
            addrs = f[l3 + 8:l3 + 40]
            if nh == 6 and ports_ok and rss["ipv6_tcp"]:
                return HASH_IPV6_TCP, addrs + f[l3 + 40:l3 + 44]
            if nh == 17 and ports_ok and rss["ipv6_udp"]:
                return HASH_IPV6_UDP, addrs + f[l3 + 40:l3 + 44]
            if rss["ipv6"]:
                return HASH_IPV6, addrs
        return HASH_NONE, b""
