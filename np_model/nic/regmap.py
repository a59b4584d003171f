"""Register map of the VMDq receive classifier, shared by the RTL and the model.

The offsets follow the Intel 82599 (ixgbe) register file wherever the 82599
has the register; the three ``CLS_*`` registers are this project's own.  The
same table is documented for humans in ``rtl/README.md`` and implemented by
``rtl/vmdq_csr.sv``; :func:`writable_mask` and :func:`reset_value` are what
the golden model and the register round-trip tests use, so a change here
must be mirrored in the RTL.

All registers are 32 bits wide and word aligned.  Writes take effect only
when all four byte strobes are set.  Reads of unmapped words return 0.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Reg",
    "Field",
    "REGISTERS",
    "EXVET",
    "VLNCTRL",
    "MCSTCTRL",
    "VT_CTL",
    "VFRE",
    "MTA",
    "MRQC",
    "RETA",
    "RSSRK",
    "VFTA",
    "RAL",
    "RAH",
    "MPSAR_LO",
    "MPSAR_HI",
    "VMOLR",
    "VLVF",
    "VLVFB",
    "CLS_ID",
    "CLS_CFG",
    "RUNT_LEN",
    "CLS_ID_VALUE",
    "MRQE_BY_POOLS",
    "VALID_NUM_POOLS",
    "MAX_MAC_FILTERS",
    "NUM_VLAN_FILTERS",
    "lookup",
    "writable_mask",
    "reset_value",
    "all_addresses",
]


@dataclass(frozen=True)
class Reg:
    """One register, or an array of ``count`` registers ``stride`` bytes apart."""

    name: str
    base: int
    count: int = 1
    stride: int = 4
    reset: int = 0
    doc: str = ""

    def addr(self, index: int = 0) -> int:
        """Byte address of element ``index``."""
        if not 0 <= index < self.count:
            raise IndexError(f"{self.name} index {index} out of range 0..{self.count - 1}")
        return self.base + index * self.stride


@dataclass(frozen=True)
class Field:
    """A bit field of a register: ``width`` bits starting at bit ``lsb``."""

    reg: Reg
    lsb: int
    width: int = 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)

    def put(self, value: int, field_value: int) -> int:
        if not 0 <= field_value < (1 << self.width):
            raise ValueError(f"value {field_value} does not fit a {self.width}-bit field")
        return (value & ~self.mask) | (field_value << self.lsb)


# ---------------------------------------------------------------------------
# Registers (82599 offsets)
# ---------------------------------------------------------------------------

EXVET = Reg("EXVET", 0x05078, reset=0x88A8_0000,
            doc="[31:16] outer (S-)tag TPID skipped before the 802.1Q tag")
VLNCTRL = Reg("VLNCTRL", 0x05088, reset=0x0000_8100,
              doc="[15:0] VET 802.1Q TPID; [30] VFE global VLAN filter enable")
MCSTCTRL = Reg("MCSTCTRL", 0x05090,
               doc="[1:0] MO multicast hash offset; [2] MFE multicast table enable")
VT_CTL = Reg("VT_CTL", 0x051B0, reset=0x0000_0001,
             doc="[0] VT_ENA (read-only 1); [12:7] DEF_PL default pool; "
                 "[29] DIS_DEFPL drop unmatched unicast; [30] REPLEN replication enable")
VFRE = Reg("VFRE", 0x051E0, count=2,
           doc="pool receive enable: VFRE(0) pools 0-31, VFRE(1) pools 32-63")
MTA = Reg("MTA", 0x05200, count=128, doc="multicast table array, 4096 bits")
MRQC = Reg("MRQC", 0x05818,
           doc="[3:0] MRQE (read-only: 0xB 64x2, 0xA 32x4, 0xC 16x8); RSS field enables "
               "[16] IPv4/TCP [17] IPv4 [20] IPv6 [21] IPv6/TCP [22] IPv4/UDP [23] IPv6/UDP")
RETA = Reg("RETA", 0x05C00, count=32,
           doc="RSS redirection table, entry 4i+n in RETA(i) bits [8n+7:8n]")
RSSRK = Reg("RSSRK", 0x05C80, count=10, doc="RSS key, key byte 4i+n in RSSRK(i) bits [8n+7:8n]")
VFTA = Reg("VFTA", 0x0A000, count=128, doc="global VLAN filter table, 4096 bits")
RAL = Reg("RAL", 0x0A200, count=128, stride=8, doc="MAC filter address bytes 0-3 (byte 0 in [7:0])")
RAH = Reg("RAH", 0x0A204, count=128, stride=8,
          doc="[15:0] MAC filter address bytes 4-5; [31] AV address valid")
MPSAR_LO = Reg("MPSAR_LO", 0x0A600, count=128, stride=8, doc="MAC filter pool bitmap, pools 0-31")
MPSAR_HI = Reg("MPSAR_HI", 0x0A604, count=128, stride=8, doc="MAC filter pool bitmap, pools 32-63")
VMOLR = Reg("VMOLR", 0x0F000, count=64,
            doc="per-pool: [22] UPE [23] VPE [24] AUPE [25] ROMPE [27] BAM [28] MPE")
VLVF = Reg("VLVF", 0x0F100, count=64, doc="per-pool VLAN filter: [11:0] VLAN ID; [31] VIEN valid")
VLVFB = Reg("VLVFB", 0x0F200, count=128,
            doc="VLVF pool bitmaps: VLVFB(2j) pools 0-31 and VLVFB(2j+1) pools 32-63 of VLVF(j)")
CLS_ID = Reg("CLS_ID", 0x0F800, reset=0x564D_0100,
             doc="read-only identification: 'VM', major 1, minor 0")
CLS_CFG = Reg("CLS_CFG", 0x0F804,
              doc="read-only build parameters: [7:0] pools, [15:8] MAC filters, "
                  "[31:16] DATA_WIDTH (0 = golden model)")
RUNT_LEN = Reg("RUNT_LEN", 0x0F808, reset=60,
               doc="[6:0] minimum frame length in bytes (values above 64 act as 64)")

REGISTERS: tuple[Reg, ...] = (
    EXVET, VLNCTRL, MCSTCTRL, VT_CTL, VFRE, MTA, MRQC, RETA, RSSRK, VFTA,
    RAL, RAH, MPSAR_LO, MPSAR_HI, VMOLR, VLVF, VLVFB, CLS_ID, CLS_CFG, RUNT_LEN,
)

# ---------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------

EXVET_VET_EXT = Field(EXVET, 16, 16)
VLNCTRL_VET = Field(VLNCTRL, 0, 16)
VLNCTRL_VFE = Field(VLNCTRL, 30)
MCSTCTRL_MO = Field(MCSTCTRL, 0, 2)
MCSTCTRL_MFE = Field(MCSTCTRL, 2)
VT_CTL_VT_ENA = Field(VT_CTL, 0)
VT_CTL_DEF_PL = Field(VT_CTL, 7, 6)
VT_CTL_DIS_DEFPL = Field(VT_CTL, 29)
VT_CTL_REPLEN = Field(VT_CTL, 30)
MRQC_MRQE = Field(MRQC, 0, 4)
MRQC_RSS_IPV4_TCP = Field(MRQC, 16)
MRQC_RSS_IPV4 = Field(MRQC, 17)
MRQC_RSS_IPV6 = Field(MRQC, 20)
MRQC_RSS_IPV6_TCP = Field(MRQC, 21)
MRQC_RSS_IPV4_UDP = Field(MRQC, 22)
MRQC_RSS_IPV6_UDP = Field(MRQC, 23)
RAH_AV = Field(RAH, 31)
VMOLR_UPE = Field(VMOLR, 22)
VMOLR_VPE = Field(VMOLR, 23)
VMOLR_AUPE = Field(VMOLR, 24)
VMOLR_ROMPE = Field(VMOLR, 25)
VMOLR_BAM = Field(VMOLR, 27)
VMOLR_MPE = Field(VMOLR, 28)
VLVF_VLAN_ID = Field(VLVF, 0, 12)
VLVF_VIEN = Field(VLVF, 31)
RUNT_LEN_LEN = Field(RUNT_LEN, 0, 7)

CLS_ID_VALUE = 0x564D_0100
MRQE_BY_POOLS = {64: 0xB, 32: 0xA, 16: 0xC}
VALID_NUM_POOLS = (64, 32, 16)
MAX_MAC_FILTERS = 128
NUM_VLAN_FILTERS = 64

_VMOLR_MASK = (VMOLR_UPE.mask | VMOLR_VPE.mask | VMOLR_AUPE.mask | VMOLR_ROMPE.mask
               | VMOLR_BAM.mask | VMOLR_MPE.mask)
_MRQC_MASK = (MRQC_RSS_IPV4_TCP.mask | MRQC_RSS_IPV4.mask | MRQC_RSS_IPV6.mask
              | MRQC_RSS_IPV6_TCP.mask | MRQC_RSS_IPV4_UDP.mask | MRQC_RSS_IPV6_UDP.mask)

# address -> (register, index), built once
_BY_ADDR: dict[int, tuple[Reg, int]] = {
    reg.base + i * reg.stride: (reg, i) for reg in REGISTERS for i in range(reg.count)
}


def lookup(addr: int) -> tuple[Reg, int] | None:
    """Register and element index at byte address ``addr`` (low 2 bits ignored)."""
    return _BY_ADDR.get(addr & ~3)


def all_addresses() -> list[int]:
    """Every mapped register address, in address order."""
    return sorted(_BY_ADDR)


def _pool_half_mask(num_pools: int, upper: bool) -> int:
    pools = (1 << num_pools) - 1
    return (pools >> 32) & 0xFFFF_FFFF if upper else pools & 0xFFFF_FFFF


def writable_mask(reg: Reg, index: int, num_pools: int, num_mac_filters: int) -> int:
    """Bits of ``reg[index]`` that a write changes (0 for read-only words)."""
    if reg in (MTA, VFTA, RETA, RSSRK, RAL):
        if reg is RAL and index >= num_mac_filters:
            return 0
        return 0xFFFF_FFFF
    if reg is RAH:
        return 0 if index >= num_mac_filters else (RAH_AV.mask | 0xFFFF)
    if reg in (MPSAR_LO, MPSAR_HI):
        return 0 if index >= num_mac_filters else _pool_half_mask(num_pools, reg is MPSAR_HI)
    if reg is VFRE:
        return _pool_half_mask(num_pools, index == 1)
    if reg is VLVFB:
        return _pool_half_mask(num_pools, index % 2 == 1)
    if reg is VMOLR:
        return _VMOLR_MASK if index < num_pools else 0
    if reg is VLVF:
        return VLVF_VIEN.mask | VLVF_VLAN_ID.mask
    if reg is EXVET:
        return EXVET_VET_EXT.mask
    if reg is VLNCTRL:
        return VLNCTRL_VET.mask | VLNCTRL_VFE.mask
    if reg is MCSTCTRL:
        return MCSTCTRL_MO.mask | MCSTCTRL_MFE.mask
    if reg is VT_CTL:
        return VT_CTL_DEF_PL.mask | VT_CTL_DIS_DEFPL.mask | VT_CTL_REPLEN.mask
    if reg is MRQC:
        return _MRQC_MASK
    if reg is RUNT_LEN:
        return RUNT_LEN_LEN.mask
    return 0  # CLS_ID, CLS_CFG


def reset_value(reg: Reg, num_pools: int, num_mac_filters: int, data_width: int = 0) -> int:
    """Value read from ``reg`` right after reset (read-only fields included)."""
    if reg is MRQC:
        return MRQE_BY_POOLS[num_pools]
    if reg is CLS_CFG:
        return (data_width << 16) | (num_mac_filters << 8) | num_pools
    return reg.reset
