"""An SPP (Supercharged PlanetLab Platform) node on the network substrate.

The node is its boards as network nodes, named ``<spp>.<board>``:

* ``<spp>.lc`` -- the line card (np_model.assemblies.spp_linecard.LineCard):
  ports 0..K-1 are the node's external interfaces (``<spp>:i`` in a
  topology is ``<spp>.lc:i``), port K goes to the fabric switch;
* ``<spp>.npe<i>`` -- the NPEs (np_model.assemblies.spp_npe.NPE), port 0 to the fabric;
* ``<spp>.gpe<j>`` -- the GPEs (network.gpe_node.GPENode: host.spp.gpe's server model);
* ``<spp>.fabric`` -- the fabric switch: network.switch.Switch, every port
  an 802.1Q trunk, with static entries for the boards' MACs (a chassis
  switch knows its boards; nothing is flooded), joined to each board by a
  link of ``fabric_rate`` (10 Gb/s by default; the SPP's fabric switch has
  1 and 10 GbE ports, virtual_routers.md §1.1).

The CP is this object: its SRM admits every reservation, each slice's RMP
(``slice_api(name)``) is the slice interface, and what is admitted is
applied to the line card's and NPEs' tables (the ``Dataplane`` methods
below). Inside the node, frames are Ethernet between board MACs with an
802.1Q tag whose VID names the destination context (np_model.spp_formats;
the choice and its reasons are in docs/spp.md).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from host.spp.gpe import SlowPath
from host.spp.rmp import RMP, FastPathState
from host.spp.srm import SRM, Endpoint, FastPath, GPECapacity, Interface, NPECapacity, SppError

from .assembly_node import AssemblyNode
from .gpe_node import GPENode
from .sim import Network
from .switch import Switch, SwitchPort
from .wire import mac_bytes

__all__ = ["SPP", "ExternalInterface", "GPESpec"]

ALL_VLANS = frozenset(range(1, 4095))


@dataclass(frozen=True)
class ExternalInterface:
    """An external interface: address with prefix, MAC, rate (b/s), type,
    and the next hop on it (``peer`` address and ``peer_mac``: where the line
    card sends what leaves this interface)."""

    address: str
    mac: str
    rate_bps: int = 1_000_000_000
    type: str = "internet"
    peer: str | None = None
    peer_mac: str | None = None

    @property
    def ip(self) -> str:
        return str(ipaddress.IPv4Interface(self.address).ip)


@dataclass(frozen=True)
class GPESpec:
    """A GPE board: cores and the default per-packet cost (host.spp.gpe)."""

    cores: float = 2.0
    cost_us: float | None = None
    per_byte_ns: float | None = None
