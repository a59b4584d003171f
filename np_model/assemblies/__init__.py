"""Assemblies: blocks wired onto the modelled network processor.

``Assembly`` (base.py) is the router base class -- machine, engine, packets
in and out, time, records, statistics, conservation -- that every assembly
reuses; ``NPR`` (npr.py) is the Open Network Laboratory's router; ``LineCard``
(spp_linecard.py) and ``NPE`` (spp_npe.py) are the SPP's NP boards.
"""
from .base import Assembly, LatencyStats, TxBatch
from .npr import NPR
from .spp_common import CapacityError
from .spp_linecard import LineCard
from .spp_npe import NPE
from .types import (Conservation, ConservationError, FilterAction, HostPacket, PortConfig, TxPacket,
                    int_to_mac, ip_to_int, mac_to_int)

__all__ = ["Assembly", "TxBatch", "LatencyStats", "NPR", "LineCard", "NPE", "CapacityError", "PortConfig", "FilterAction", "TxPacket", "HostPacket",
           "Conservation", "ConservationError", "mac_to_int", "int_to_mac", "ip_to_int"]
