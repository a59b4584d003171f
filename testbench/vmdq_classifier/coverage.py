"""Functional coverage of the VMDq rule combinations (cocotb-coverage).

Every frame compared by the testbench is sampled once: its destination
class (what the MAC stage sees), its tagging, the outcome (drop reason,
single pool or replicated) and the RSS hash type, plus the crosses of the
destination class with the other three.  The points work without a
simulator, so the same section also measures the golden-model tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db, coverage_section

from np_model.nic.config import NicConfig
from np_model.nic.model import mta_index
from np_model.nic.result import HASH_TYPES, REASONS, VmdqResult

__all__ = ["Sample", "describe", "sample", "DESTS", "L2_KINDS", "DELIVERIES", "CROSSES", "coverage_db",
           "missing_bins"]

DESTS = ("uc_exact", "uc_unknown", "bcast", "mc_exact", "mc_hash", "mc_miss", "runt")
L2_KINDS = ("untagged", "dot1q", "qinq", "stag", "runt")
DELIVERIES = ("drop", "single", "replicated")
_BROADCAST = (1 << 48) - 1


@dataclass(frozen=True)
class Sample:
    dest: str
    l2: str
    reason: str | None
    delivery: str
    hash_type: int


def describe(frame: bytes, cfg: NicConfig, result: VmdqResult) -> Sample:
    """Coverage sample of one classified frame under configuration ``cfg``."""
    if len(frame) < 14:
        dest, l2 = "runt", "runt"
    else:
        da = int.from_bytes(frame[:6], "big")
        exact = {mac for mac, _ in cfg.mac_filters}
        if da == _BROADCAST:
            dest = "bcast"
        elif frame[0] & 1:
            if da in exact:
                dest = "mc_exact"
            elif mta_index(frame[:6], cfg.mc_hash_offset) in cfg.mc_hash:
                dest = "mc_hash"
            else:
                dest = "mc_miss"
        else:
            dest = "uc_exact" if da in exact else "uc_unknown"
        et = int.from_bytes(frame[12:14], "big")
        l2 = "untagged"
        if et == cfg.outer_vlan_ethertype and len(frame) >= 18:
            inner = int.from_bytes(frame[16:18], "big")
            l2 = "qinq" if inner == cfg.vlan_ethertype and len(frame) >= 22 else "stag"
        elif et == cfg.vlan_ethertype and len(frame) >= 18:
            l2 = "dot1q"
    if result.drop:
        delivery = "drop"
    else:
        delivery = "replicated" if len(result.pool_list()) > 1 else "single"
    return Sample(dest, l2, result.reason, delivery, result.hash_type)


@coverage_section(
    CoverPoint("vmdq.dest", xf=lambda s: s.dest, bins=list(DESTS)),
    CoverPoint("vmdq.l2", xf=lambda s: s.l2, bins=list(L2_KINDS)),
    CoverPoint("vmdq.reason", xf=lambda s: s.reason, bins=list(REASONS)),
    CoverPoint("vmdq.delivery", xf=lambda s: s.delivery, bins=list(DELIVERIES)),
    CoverPoint("vmdq.hash_type", xf=lambda s: s.hash_type, bins=list(HASH_TYPES)),
    CoverCross("vmdq.dest_x_delivery", items=["vmdq.dest", "vmdq.delivery"]),
    CoverCross("vmdq.dest_x_l2", items=["vmdq.dest", "vmdq.l2"]),
    CoverCross("vmdq.dest_x_reason", items=["vmdq.dest", "vmdq.reason"]),
)
def sample(s: Sample) -> None:
    """Record one sample in the coverage database."""


# Points that a healthy run must cover completely (the crosses contain
# impossible combinations, e.g. a runt that is replicated, and are only reported).
CLOSURE_POINTS = ("vmdq.dest", "vmdq.l2", "vmdq.reason", "vmdq.delivery", "vmdq.hash_type")
CROSSES = ("vmdq.dest_x_delivery", "vmdq.dest_x_l2", "vmdq.dest_x_reason")


def missing_bins(names: tuple[str, ...] = CLOSURE_POINTS) -> dict[str, list]:
    """Uncovered bins of the named points (default: the closure points)."""
    missing = {}
    for name in names:
        point = coverage_db[name]
        holes = [b for b, hits in point.detailed_coverage.items() if hits < 1]
        if holes:
            missing[name] = holes
    return missing
