"""Register map: 82599 offsets, reset values, write masks and config round trips on the model,
and agreement of the map with the RTL's address constants."""

import random
import re
from pathlib import Path

import pytest

from np_model.nic import make_nic, regmap as rm
from np_model.nic.config import parse_config
from np_model.nic.model import VmdqModel

RTL_CSR = Path(__file__).resolve().parents[2] / "rtl" / "vmdq_csr.sv"


def test_82599_offsets():
    assert rm.RAL.addr(0) == 0x0A200 and rm.RAH.addr(0) == 0x0A204 and rm.RAL.addr(127) == 0x0A5F8
    assert rm.MPSAR_LO.addr(1) == 0x0A608 and rm.MPSAR_HI.addr(1) == 0x0A60C
    assert rm.MTA.addr(127) == 0x053FC and rm.VFTA.addr(0) == 0x0A000
    assert rm.VLVF.addr(63) == 0x0F1FC and rm.VLVFB.addr(127) == 0x0F3FC and rm.VMOLR.addr(0) == 0x0F000
    assert rm.VT_CTL.addr() == 0x051B0 and rm.VFRE.addr(1) == 0x051E4 and rm.VLNCTRL.addr() == 0x05088
    assert rm.MRQC.addr() == 0x05818 and rm.RETA.addr(31) == 0x05C7C and rm.RSSRK.addr(9) == 0x05CA4


def test_no_two_registers_overlap():
    addrs = [r.addr(i) for r in rm.REGISTERS for i in range(r.count)]
    assert len(addrs) == len(set(addrs))


def test_rtl_uses_the_same_offsets():
    text = RTL_CSR.read_text()
    found = dict(re.findall(r"localparam \[15:0\] (\w+)_ADDR\s*=\s*16'h([0-9A-Fa-f]+);", text))
    assert found, "no address constants found in vmdq_csr.sv"
    aliases = {"RAR": rm.RAL, "MPSAR": rm.MPSAR_LO}
    assert len(found) == len(rm.REGISTERS) - 2  # RAH and MPSAR_HI sit at +4 of RAR and MPSAR
    for name, value in found.items():
        assert aliases.get(name, getattr(rm, name, None)).base == int(value, 16), name
    assert f"32'h{rm.CLS_ID_VALUE >> 16:04X}_{rm.CLS_ID_VALUE & 0xFFFF:04X}" in text


@pytest.mark.parametrize("num_pools", [64, 32, 16])
def test_reset_values_and_write_masks(num_pools):
    model = VmdqModel(num_pools, num_mac_filters=100)
    rng = random.Random(num_pools)
    assert model.read_reg(rm.VLNCTRL.addr()) == 0x8100
    assert model.read_reg(rm.MRQC.addr()) == rm.MRQE_BY_POOLS[num_pools]
    assert model.read_reg(rm.CLS_CFG.addr()) == (100 << 8) | num_pools
    for addr in rm.all_addresses():
        reg, index = rm.lookup(addr)
        mask = rm.writable_mask(reg, index, num_pools, 100)
        before = model.read_reg(addr)
        value = rng.getrandbits(32)
        model.write_reg(addr, value)
        assert model.read_reg(addr) == (before & ~mask) | (value & mask), reg.name
    # pools that do not exist and RAR entries past NUM_MAC_FILTERS are not writable
    assert rm.writable_mask(rm.VMOLR, num_pools - 1, num_pools, 100) != 0
    if num_pools < 64:
        assert rm.writable_mask(rm.VMOLR, num_pools, num_pools, 100) == 0
    assert rm.writable_mask(rm.RAL, 100, num_pools, 100) == 0
    assert rm.writable_mask(rm.MPSAR_HI, 0, num_pools, 100) == (0xFFFF_FFFF if num_pools == 64 else 0)


def test_partial_and_unmapped_writes_are_ignored():
    model = VmdqModel()
    model.write_reg(rm.RSSRK.addr(0), 0x12345678, strobe=0x3)
    assert model.read_reg(rm.RSSRK.addr(0)) == 0
    model.write_reg(0x0000, 0xFFFF_FFFF)
    assert model.read_reg(0x0000) == 0
    model.write_reg(rm.CLS_ID.addr(), 0)
    assert model.read_reg(rm.CLS_ID.addr()) == rm.CLS_ID_VALUE


def test_config_round_trip_through_registers():
    config = {
        "mode": "64x2", "default_pool": 40, "disable_default_pool": True, "replication": False,
        "mac_filters": [{"mac": "02:11:22:33:44:55", "pools": [1, 33, 63]}],
        "vlan_filter": [5, 4095], "pool_vlans": [{"vlan": 5, "pools": [0, 62]}],
        "broadcast": [2], "mc_promisc": "all", "rss_key": bytes(range(40)).hex(), "reta": [1, 0],
        "min_frame_len": 14,
    }
    nic = make_nic("model", config)
    r = nic.read_reg
    assert r(rm.RAL.addr(0)) == 0x33221102 and r(rm.RAH.addr(0)) == 0x8000_5544
    assert r(rm.MPSAR_LO.addr(0)) == 0b10 and r(rm.MPSAR_HI.addr(0)) == (1 << 1) | (1 << 31)
    assert r(rm.VT_CTL.addr()) == 1 | 40 << 7 | 1 << 29
    assert r(rm.VLNCTRL.addr()) == 0x4000_8100
    assert r(rm.VFTA.addr(0)) == 1 << 5 and r(rm.VFTA.addr(127)) == 1 << 31
    assert r(rm.VLVF.addr(0)) == 0x8000_0005 and r(rm.VLVFB.addr(0)) == 1 and r(rm.VLVFB.addr(1)) == 1 << 30
    assert r(rm.VMOLR.addr(2)) == rm.VMOLR_AUPE.mask | rm.VMOLR_BAM.mask | rm.VMOLR_MPE.mask
    assert r(rm.VFRE.addr(0)) == r(rm.VFRE.addr(1)) == 0xFFFF_FFFF
    assert r(rm.RSSRK.addr(0)) == 0x03020100 and r(rm.RETA.addr(0)) == 0x00010001
    assert r(rm.RUNT_LEN.addr()) == 14
    # and the writes generated for a device fresh from reset skip reset values
    writes = dict(parse_config(config).register_writes())
    assert rm.EXVET.addr() not in writes and rm.MTA.addr(0) not in writes
