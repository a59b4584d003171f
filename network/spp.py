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
  link at the boards' fabric port rate and MTU (the profile's
  ``spp_fabric_rate_bps``, 10 Gb/s, and ``spp_fabric_mtu``: internal frames
  carry up to 10 bytes more than the external MTU).

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


class SPP:
    """An SPP node built into ``net`` (see module doc).

    Args:
        net: the network to add the boards to.
        name: the node's name (boards are ``<name>.lc`` ...).
        interfaces: the external interfaces (line-card ports 0..K-1).
        npes: NPE capacities (one NPE per entry; default: one NPE, the NPE's own).
        gpes: GPE boards.
        fabric_delay_ns: their propagation delay.
        switch_latency_ns: the fabric switch's per-frame latency (network.switch).
        mac_base: the first board MAC's first five bytes (board i adds i).
        engine: the NP engine of the line card and NPEs.
    """

    def __init__(self, net: Network, name: str, interfaces: list[ExternalInterface], *,
                 npes: int = 1, gpes: list[GPESpec] | None = None,
                 fabric_delay_ns: float = 100.0, switch_latency_ns: float = 500.0,
                 mac_base: str = "02:53:50:00:00", port_range: tuple[int, int] = (1024, 65535),
                 engine: str = "c", keep_records: bool | int = False):
        from np_model.assemblies.spp_linecard import LineCard
        from np_model.assemblies.spp_npe import NPE
        from np_model import spp_formats as fmt
        from np_model.code_options import shipped as shipped_code_options
        self.fmt = fmt
        self._egress: dict[tuple[int, int], int] = {}          # (slice id, interface) -> LC egress VID
        self._sid_slice: dict[int, str] = {}
        self._copt_objects: dict[str, Any] = {}
        if not interfaces:
            raise SppError(f"spp {name}: at least one external interface")
        gpes = gpes or [GPESpec()]
        self.net, self.name, self.interfaces = net, name, list(interfaces)
        base = mac_base.rstrip(":")
        n_boards = 1 + npes + len(gpes)
        self.board_macs = [f"{base}:{i + 1:02x}" for i in range(n_boards)]
        self.lc_mac, self.npe_macs = self.board_macs[0], self.board_macs[1:1 + npes]
        self.gpe_macs = self.board_macs[1 + npes:]
        K = len(interfaces)
        from np_model.assemblies.types import PortConfig
        self.lc = LineCard(ports=[PortConfig(i.address, i.mac, int(i.rate_bps)) for i in interfaces],
                           fabric_mac=self.lc_mac, engine=engine, keep_records=keep_records)
        self.npe_asms = [NPE(mac=m, engine=engine, keep_records=keep_records) for m in self.npe_macs]
        fabric_rate = self.lc.ports[K].rate_bps
        fabric_mtu = self.lc.ports[K].mtu
        self.lc_node = net.add_node(AssemblyNode(f"{name}.lc", self.lc, kind="spp_linecard"))
        self.npe_nodes = [net.add_node(AssemblyNode(f"{name}.npe{i}", a, kind="spp_npe"))
                          for i, a in enumerate(self.npe_asms)]
        self.srm = SRM([Interface(i, itf.ip, itf.rate_bps // 1000, itf.type, itf.peer)
                        for i, itf in enumerate(interfaces)],
                       [self._npe_capacity(a) for a in self.npe_asms], [GPECapacity(g.cores) for g in gpes],
                       tuple(shipped_code_options()),
                       port_range=port_range)
        self.gpe_nodes = [net.add_node(GPENode(f"{name}.gpe{j}", cores=g.cores, decode=self._gpe_decode(j),
                                               encode=self._gpe_encode(j), endpoint_owner=self.srm.endpoint_owner.get,
                                               cost_us=g.cost_us, per_byte_ns=g.per_byte_ns))
                          for j, g in enumerate(gpes)]
        boards = [self.lc_node, *self.npe_nodes, *self.gpe_nodes]
        board_ports = [K] + [0] * (len(boards) - 1)
        self.fabric = net.add_node(Switch(f"{name}.fabric", [SwitchPort("trunk", ALL_VLANS, None) for _ in boards],
                                          latency_ns=switch_latency_ns,
                                          static={mac_bytes(m): i for i, m in enumerate(self.board_macs)}))
        for i, (b, p) in enumerate(zip(boards, board_ports)):
            net.add_link(b.name, p, self.fabric.name, i, name=f"{name}.fabric:{i}", rate_bps=fabric_rate,
                         delay_ns=fabric_delay_ns, mtu=fabric_mtu)
        self.rmps: dict[str, RMP] = {}
        self.slowpaths: dict[str, SlowPath] = {}
        self._configure_boards()

    # ------------------------------------------------------------------ topology helpers
    def port(self, i: int) -> tuple[str, int]:
        """The network node and port of external interface ``i``."""
        if not 0 <= i < len(self.interfaces):
            raise SppError(f"spp {self.name} has no interface {i}; valid: 0..{len(self.interfaces) - 1}")
        return self.lc_node.name, i

    def nodes(self) -> list[str]:
        return [self.lc_node.name, *(n.name for n in self.npe_nodes), *(n.name for n in self.gpe_nodes),
                self.fabric.name]

    # ------------------------------------------------------------------ slices
    def add_slice(self, name: str, slowpath: SlowPath, *, gpe_share: float = 0.5, queue: int = 256,
                  gpe: int | None = None) -> RMP:
        """Admit a slice, host its slow path on a GPE, return its slice interface (RMP)."""
        rec = self.srm.add_slice(name, gpe_share=gpe_share, gpe=gpe)
        api = RMP(self.srm, name, self)
        try:
            self.gpe_nodes[rec.gpe].server.host(name, slowpath, api, share=gpe_share, queue=queue)
        except SppError:
            self.srm.remove_slice(name)
            raise
        self.rmps[name] = api
        self.slowpaths[name] = slowpath
        self._sid_slice[rec.sid] = name
        self._sync_egress(name)
        return api

    def slice_api(self, name: str) -> RMP:
        if name not in self.rmps:
            raise SppError(f"spp {self.name} has no slice {name!r}; slices: {', '.join(self.rmps) or 'none'}")
        return self.rmps[name]

    def boot(self) -> None:
        """Run the slow paths' setup hooks (after the configuration is applied)."""
        for g in self.gpe_nodes:
            g.server.setup()

    # ------------------------------------------------------------------ boards (np_model SPP API)
    def _npe_capacity(self, npe: Any) -> NPECapacity:
        """What the NPE offers (its own capacities, if it states them)."""
        cap = npe.capacity()
        names = {"filters": "filters", "queues": "queues", "stats counters": "stats", "packet buffers": "buffers",
                 "SRAM": "sram_bytes", "DRAM": "dram_bytes", "bandwidth": "kbps", "fast paths": "fastpaths"}
        return NPECapacity(**{f: int(cap[k]["total"]) for k, f in names.items()})

    def _configure_boards(self) -> None:
        """The line card's default filter (to GPE 0's default context) and next hops."""
        self.lc.set_default_to_gpe(board_mac=self.gpe_macs[0], vid=self.DEFAULT_VID)
        for i, itf in enumerate(self.interfaces):
            if itf.peer_mac is not None and hasattr(self.lc, "set_next_hop"):
                self.lc.set_next_hop(i, itf.peer_mac)

    def _lc_egress_queue(self, port: int, vid: int, kbps: int) -> None:
        """The slice's queue on external port ``port`` (queue number = its VID), paced at ``kbps``."""
        self.lc.set_egress_queue(port, vid, kbps=kbps, vid=vid)

    # ------------------------------------------------------------------ Dataplane (host.spp.rmp)
    def _sid(self, slice_: str) -> int:
        return self.srm.slice(slice_).sid

    def fastpath_added(self, fp: FastPath) -> None:
        npe = self.npe_asms[fp.npe]
        sid = self._sid(fp.slice)
        npe.add_fastpath(sid, fp.copt, queues=fp.qs, filters=fp.fltrs, stats=fp.stats, buffers=fp.buffs,
                         sram_bytes=fp.sram, dram_bytes=fp.dram, kbps=fp.firm_kbps, vid=sid)
        self._copt_objects.setdefault(fp.copt, npe.code_options.get(fp.copt) if hasattr(npe, "code_options")
                                      else None)

    def fastpath_freed(self, fp: FastPath, state: FastPathState) -> None:
        self.npe_asms[fp.npe].free_fastpath(self._sid(fp.slice))
        for mi, ep in state.mis.items():
            if ep is not None:
                self.lc.del_endpoint_filter(*ep)
                self.endpoint_added(fp.slice, ep)
        self._sync_egress(fp.slice)

    def mi_added(self, fp: FastPath, mi: int, ep: Endpoint | None, kbps: int) -> None:
        npe = self.npe_asms[fp.npe]
        sid = self._sid(fp.slice)
        rec = self.srm.slice(fp.slice)
        if ep is None:                                   # MI 0: to the slice's GPE
            npe.add_meta_interface(sid, 0, kbps=kbps, board_mac=self.gpe_macs[rec.gpe], vid=sid)
            return
        iface = self.srm.iface_of(ep[0]).num
        self._sync_egress(fp.slice)
        npe.add_meta_interface(sid, mi, endpoint=ep, kbps=kbps, board_mac=self.lc_mac,
                               vid=self._egress_vid(sid, iface))
        self.lc.del_endpoint_filter(*ep)
        self.lc.add_endpoint_filter(ep[0], ep[1], to="npe", board_mac=self.npe_macs[fp.npe], vid=sid)

    def mi_removed(self, fp: FastPath, mi: int, ep: Endpoint | None) -> None:
        npe = self.npe_asms[fp.npe]
        if hasattr(npe, "del_meta_interface"):
            npe.del_meta_interface(self._sid(fp.slice), mi)
        if ep is not None:
            self.lc.del_endpoint_filter(*ep)
            self.endpoint_added(fp.slice, ep)
        self._sync_egress(fp.slice)

    def queue_set(self, fp: FastPath, qid: int, mi: int, threshold: int, weight: int) -> None:
        self.npe_asms[fp.npe].bind_queue(self._sid(fp.slice), qid, mi, threshold=threshold, weight=weight)

    def filter_written(self, fp: FastPath, key: dict, result: dict) -> int:
        return self.npe_asms[fp.npe].add_filter(self._sid(fp.slice), key, result)

    def filter_deleted(self, fp: FastPath, handle: int) -> None:
        self.npe_asms[fp.npe].del_filter(self._sid(fp.slice), handle)

    def read_stats(self, fp: FastPath, idx: int) -> dict[str, int]:
        return dict(self.npe_asms[fp.npe].stats_counters(self._sid(fp.slice), idx))

    def endpoint_added(self, slice_: str, ep: Endpoint) -> None:
        rec = self.srm.slice(slice_)
        self.lc.add_endpoint_filter(ep[0], ep[1], to="gpe", board_mac=self.gpe_macs[rec.gpe], vid=rec.sid)

    def interface_bandwidth_changed(self, slice_: str) -> None:
        self._sync_egress(slice_)

    def endpoint_freed(self, slice_: str, ep: Endpoint) -> None:
        self.lc.del_endpoint_filter(*ep)

    # ------------------------------------------------------------------ contexts (VIDs)
    #: the GPE context of frames the line card's default filter sends (no slice filter matched)
    DEFAULT_VID = 4094

    def _egress_vid(self, sid: int, iface: int) -> int:
        """The line card's egress context of (slice, interface): its queue there."""
        key = (sid, iface)
        if key not in self._egress:
            vid = len(self._egress) + 1
            if vid >= self.DEFAULT_VID:
                raise SppError("no VID left for another egress context (1..4093)")
            self._egress[key] = vid
        return self._egress[key]

    def _egress_kbps(self, rec: Any, iface: int) -> int:
        """What the slice reserved on the interface: its MIs there and its GPE path."""
        mi = sum(k for fpid in rec.fastpaths for m, k in self.srm.fastpaths[fpid].mi_kbps.items()
                 if self.srm.fastpaths[fpid].mi_iface.get(m) == iface)
        return mi + rec.pl_ifbw.get(iface, 0)

    def _sync_egress(self, slice_: str) -> None:
        """The slice's egress queue on each interface at the rate it reserved there."""
        rec = self.srm.slice(slice_)
        for i, itf in enumerate(self.interfaces):
            kbps = self._egress_kbps(rec, i)
            vid = self._egress_vid(rec.sid, i)
            self._lc_egress_queue(i, vid, max(kbps, 1))

    # ------------------------------------------------------------------ GPE frames
    def _gpe_decode(self, j: int):
        fmt = self.fmt
        by_sid = self._sid_slice

        def decode(frame: bytes):
            d = fmt.decode_internal(frame)
            if isinstance(d, str):
                return d
            ip = d.ip
            if len(ip) < 28 or ip[9] != 17:
                return "gpe_not_udp"
            if d.kind is not None:                       # from an NPE, on MI 0
                s = by_sid.get(d.slice or d.vid)
                if s is None:
                    return "gpe_unknown_slice"
                return s, ("local" if d.kind == "local" else "exception"), self._reason(s, d), d.mi, ip
            if d.vid == self.DEFAULT_VID:                # the line card's default filter
                ihl = (ip[0] & 15) * 4
                ep = (str(ipaddress.IPv4Address(ip[16:20])), ip[ihl + 2] << 8 | ip[ihl + 3])
                s = self.srm.endpoint_owner.get(ep)
                if s is None:
                    return "gpe_unknown_endpoint"
                return s, "packet", "default_filter", None, ip
            s = by_sid.get(d.vid)
            if s is None:
                return "gpe_unknown_slice"
            return s, "packet", "endpoint_filter", None, ip
        return decode

    def _reason(self, slice_: str, d: Any) -> str:
        copt = None
        rec = self.srm.slices.get(slice_)
        if rec is not None and rec.fastpaths:
            fp = self.srm.fastpaths[min(rec.fastpaths)]
            copt = self._copt_objects.get(fp.copt)
        return self.fmt.meta_reason(d, copt)

    def _gpe_encode(self, j: int):
        fmt = self.fmt

        def encode(slice_: str, where: str, ip: bytes) -> bytes:
            rec = self.srm.slice(slice_)
            src_mac = self.gpe_macs[j]
            if where == "fastpath":
                if not rec.fastpaths:
                    raise SppError(f"slice {slice_} has no fast path")
                fp = self.srm.fastpaths[min(rec.fastpaths)]
                return fmt.internal_frame(self.npe_macs[fp.npe], src_mac, rec.sid, ip, kind="inject",
                                          slice_id=rec.sid, mi=0)
            iface = self.srm.iface_of(str(ipaddress.IPv4Address(ip[12:16]))).num
            return fmt.internal_frame(self.lc_mac, src_mac, self._egress_vid(rec.sid, iface), ip)
        return encode

    # ------------------------------------------------------------------ results
    def report(self) -> dict[str, Any]:
        return {"srm": self.srm.report(),
                "slices": {s: {"fastpaths": {fp: api.get_fastpath(fp) for fp in api.state}}
                           for s, api in self.rmps.items()}}
