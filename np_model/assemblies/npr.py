"""NPR: the Open Network Laboratory's 5-port IPv4 router on one IXP2800.

This module is the router's wiring diagram -- which rings join which block
instances, in which memories they live, which ME runs which instance, all
in ``NPR._build`` -- followed by the NPR's own table API (routes, filters,
ARP, queues, port rates, plug-ins). Packets in and out, time, records,
statistics and conservation come from the router base class
(``Assembly``, base.py).

ME allocation [C DeHart-rings]: Rx 2, Mux 1, PLC 3, QM 1, HdrFmt 1, Tx 1,
plug-ins 5, Stats 1, FreeList 1 = 16; the control processor (XScale) is
modelled as a 17th, two-thread processor. Ring numbers and SRAM banks follow
the NPR daemon [C-code nprd_configuration.h]; ring sizes are in the profile.
"""
from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import tempfile
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..core import CoreError, ffi, lib
from ..engine.machine import SUB, HwRing, Machine, MemKind, RingKind, TableKind
from ..limits import npr_limits, port_rate_limit
from ..profile import IXP2800, Profile
from .base import DEFAULT_KEEP_RECORDS, Assembly, BlockSpec, MESpec, RingSpec, TableSpec, Wiring
from .types import (Conservation, ConservationError, FilterAction, HostPacket, PortConfig, TxPacket,
                    default_ports, encode_qid, int_to_mac, ip_to_int, mac_to_int)

__all__ = ["NPR", "PortConfig", "TxPacket", "HostPacket", "Conservation", "ConservationError",
           "FilterAction", "mac_to_int", "int_to_mac", "ip_to_int"]

# block instances users may give thread counts for (the plug-in MEs always have 8)
THREAD_KEYS = ("rx", "mux", "plc", "qm", "hdrfmt", "tx", "stats", "freelist", "xscale")
MAC_VALID = 1 << 48


class NPR(Assembly):
    """A 5-port NPR on a cycle-level IXP2800.

    Args:
        profile: hardware parameters, NPR defaults and block parameters
            (np_model.profile).
        ports: port configurations; default five 1 Gb/s ports 10.0.{1..5}.1/24.
        engine: ``"c"`` (compiled, fast) or ``"py"`` (pure-Python reference).
        threads: threads per ME by block, e.g. ``{"plc": 4}`` (default 8).
        buffers: packet buffers (default: the profile's 229,376).
        connected_routes: install on-link routes for each port's subnet and
            local-delivery routes for the router's own addresses, as the
            control processor does at start-up.
        keep_records: how many transmitted frames (and host packets) to keep
            for ``transmitted()``/``host_packets()`` -- the latest 100,000 by
            default, ``True`` all (memory then grows with the run), ``False``
            none; statistics always count everything. ``tx_sink`` streams
            them instead. ``capture`` keeps their bytes, not only their records.
        seed: the deterministic random source (aux-filter sampling).
        port_buffers: at most this many packet buffers may hold frames
            received on one port (Rx drops the rest as ``port_buffers``), and
            at most this many packets may wait for one output port (QM drops
            as ``qm_port_limit``); ``None`` (the NPR's behaviour) shares the
            whole pool.
        nic: a SmartNIC VMDq front-end on the receive side: ``"model"``,
            ``"rtl"`` (the Verilated classifier through pyverilator), a
            ``nic:`` configuration mapping (np_model.nic), or a front-end
            object. Frames it drops never reach Rx (counted as ``nic_<reason>``);
            frames it replicates enter Rx once per pool; each packet carries
            its pool and queue (``TxPacket.pool``, ``.nic_queue``).
    """

    def __init__(self, profile: Profile = IXP2800, ports: Sequence[PortConfig] | None = None, *,
                 engine: str = "c", threads: Mapping[str, int] | None = None, buffers: int | None = None,
                 connected_routes: bool = True, keep_records: bool | int = DEFAULT_KEEP_RECORDS,
                 capture: bool = True, seed: int = 1, port_buffers: int | None = None, nic: Any = None):
        self.profile = profile
        self.limits = L = npr_limits(profile)
        self.n_plugins = int(profile.value("plugin_mes"))
        if not 0 <= self.n_plugins <= 16:
            raise ValueError(f"plugin_mes must be 0..16 (the plug-in block's slots), got {self.n_plugins}")
        self._setup(list(ports) if ports is not None else default_ports(profile.value("n_ports"),
                                                                         profile.value("port_rate_bps"),
                                                                         profile.value("port_mtu")),
                    keep_records=keep_records, capture=capture)
        if not L["ports"].lo <= len(self.ports) <= L["ports"].hi:
            raise ValueError(f"an NPR has {L['ports'].lo}..{L['ports'].hi} ports, got {len(self.ports)}")
        tpm = profile.value("threads_per_me")
        self.threads = {k: tpm for k in THREAD_KEYS}
        self.threads["xscale"] = 2
        for k, v in (threads or {}).items():
            if k not in THREAD_KEYS:
                raise KeyError(f"unknown block {k!r} in threads; valid: {', '.join(THREAD_KEYS)}")
            self.threads[k] = L["xscale_threads" if k == "xscale" else "threads"].check(v, f"threads for {k}")
        need = profile.value("qm.enq_threads") + len(self.ports)
        if self.threads["qm"] < need:
            raise ValueError(f"threads for qm must be at least {need}: {profile.value('qm.enq_threads')} "
                             f"enqueue threads and one scheduler per port ({len(self.ports)} ports)")
        self.port_buffers = None if port_buffers is None else L["port_buffers"].check(port_buffers, "port_buffers")
        self.f_me = profile.value("me_clock_hz")
        n_buffers = L["buffers"].check(profile.value("packet_buffers") if buffers is None else buffers, "buffers")
        L["seed"].check(seed, "seed")
        # the scratchpad holds the scratch rings and each plug-in's scratch memory
        scratch_words = profile.value("scratch_bytes") // 4 - self.n_plugins * lib.NP_PL_SCRATCH // 4
        self.m = Machine(f_me_hz=self.f_me, n_buffers=n_buffers,
                         swap_cycles=profile.value("ctx_swap_cycles"),
                         rbuf_elements=profile.value("rbuf_elements"),
                         rbuf_element_bytes=profile.value("rbuf_element_bytes"),
                         tbuf_elements=profile.value("tbuf_elements_per_port"),
                         wire_overhead=profile.value("wire_overhead_bytes"),
                         fcs_bytes=profile.value("fcs_bytes"),
                         min_frame=profile.value("min_frame_bytes"),
                         scratch_ring_words=scratch_words, scratch_rings=profile.value("scratch_rings"),
                         nn_ring_words=profile.value("nn_ring_words"), seed=seed)
        self._build()
        self._start_engine(self.m, engine)
        self._seq = {t: itertools.count(1) for t in ("pfilter", "afilter", "routes")}
        if nic is None or hasattr(nic, "classify"):
            self.nic = nic
        else:
            from ..nic import nic_from_router_config
            self.nic = nic_from_router_config(nic)
        self._rates: dict[int, int] = {}
        self._plugins: dict[int, str] = {}          # plug-in ME (slot) -> name
        # The daemon's default QM rate is 1,048,576 Kb/s for a 1 GbE port [C-code]:
        # above line rate, so the wire (through TBUF credits) sets the pace.
        for i, pc in enumerate(self.ports):
            self.set_port_rate(i, pc.rate_bps * profile.value("qm_default_rate_kbps") // 1_000_000_000)
        if connected_routes:
            for i, pc in enumerate(self.ports):
                itf = pc.interface
                self.add_route(str(itf.network), port=i)
                self.add_route(f"{itf.ip}/32", port=i, local=True)

    # ------------------------------------------------------------------ wiring
    def _build(self) -> None:
        p, m, S = self.profile, self.m, SUB
        f = self.f_me

        def occ(cycles: float) -> int:
            return int(round(cycles * S))

        # servers and memories
        scr = m.add_server(p.value("scratch_latency"), 4, occ(4 / p.value("scratch_bytes_per_cycle")))
        mem_scr = m.add_mem(MemKind.SCRATCH, scr, scr)
        word = f / p.value("sram_clock_hz")                 # ME cycles per QDR transfer
        unit_s = p.value("sram_bytes_per_transfer")
        sram = []
        for _ in range(p.value("sram_channels")):
            rd = m.add_server(p.value("sram_latency"), unit_s, occ(word), occ(p.value("sram_cmd_cycles")))
            wr = m.add_server(p.value("sram_latency"), unit_s, occ(word), occ(p.value("sram_cmd_cycles")))
            sram.append(m.add_mem(MemKind.SRAM, rd, wr))
        if len(sram) < 4:
            raise ValueError(f"the NPR uses 4 SRAM channels (banks 0-3 [C-code]); the profile has {len(sram)}")
        unit = p.value("dram_min_access")
        d0 = None
        for _ in range(p.value("dram_channels")):
            s = m.add_server(p.value("dram_latency"), unit, occ(unit * f / p.value("dram_bytes_per_s")))
            d0 = s if d0 is None else d0
        dram = m.add_mem(MemKind.DRAM, d0, d0, p.value("dram_channels"),
                         int(p.value("dram_interleave_bytes")).bit_length() - 1)
        tcs = m.add_server(p.value("tcam_latency"), p.value("tcam_search_bytes"),
                           occ(f / p.value("tcam_searches_per_s")))
        tcam = m.add_mem(MemKind.TCAM, tcs, tcs)
        self.mems = {"scratch": mem_scr, "sram0": sram[0], "sram1": sram[1], "sram2": sram[2],
                     "sram3": sram[3], "dram": dram, "tcam": tcam}

        w = self.wiring_diagram()
        if len(w.mes) - 1 > p.value("n_me"):           # the last is the control processor
            raise ValueError(f"the NPR puts blocks on {len(w.mes) - 1} microengines; the profile's NP has "
                             f"{p.value('n_me')}")
        self.rewire(w)
        self._materialize(w)
        self.qm = self.insts["qm"]
        self.stats_block = self.insts["stats"]
        for i, pc in enumerate(self.ports):
            self.limits["mtu"].check(pc.mtu, f"port {i} MTU")
            m.add_port(pc.rate_bps, mac_to_int(pc.mac), int(pc.interface.ip), pc.mtu)
        m.start()

    def wiring_diagram(self) -> Wiring:
        """The NPR as data: rings (memories and sizes), TCAM databases, block
        instances and what their ports are bound to, and the ME allocation.
        Ring numbers and SRAM banks follow nprd_configuration.h [C-code]."""
        p = self.profile
        n_ports = len(self.ports)
        R = RingSpec
        rings = {
            "rbuf": R(RingKind.PUSH, None, 2, 2 * p.value("rbuf_elements"), "rbuf_status", HwRing.RBUF),
            "txdone": R(RingKind.PUSH, None, 1, 256 * n_ports, "txdone", HwRing.TXDONE),
            "host_in": R(RingKind.PUSH, None, 1, p.value("ring_host_in"), "host_in", HwRing.HOST_IN),
            "bufq": R(RingKind.QUEUE, "sram2", 1, self.m.n_buffers, "buf", HwRing.BUFQ),
            "rx_mux": R(RingKind.MEM, "scratch", 2, p.value("ring_rx_mux_words"), "rx_mux"),
            "mux_plc": R(RingKind.MEM, "scratch", 3, p.value("ring_mux_plc_words"), "mux_plc"),
            "plc_qm": R(RingKind.MEM, "scratch", 3, p.value("ring_plc_qm_words"), "plc_qm"),
            "qm_hf": R(RingKind.NN, None, 1, p.value("ring_qm_hf_words"), "qm_hf"),
            "hf_tx": R(RingKind.NN, None, 2, p.value("ring_hf_tx_words"), "hf_tx"),
            "exc": R(RingKind.MEM, "scratch", 6, p.value("ring_exc_words"), "exc"),
            "ld": R(RingKind.MEM, "scratch", 6, p.value("ring_ld_words"), "exc"),
            "err": R(RingKind.MEM, "scratch", 6, p.value("ring_err_words"), "exc"),
            "stats": R(RingKind.MEM, "scratch", 3, p.value("ring_stats_words"), "stats_upd"),
            "free": R(RingKind.MEM, "scratch", 1, p.value("ring_free_words"), "buf"),
            "xs_mux": R(RingKind.MEM, "sram1", 1, p.value("ring_xs_mux_words"), "buf"),
            "xs_mux_qm": R(RingKind.MEM, "sram1", 1, p.value("ring_xs_mux_words"), "buf"),
            "plug_mux": R(RingKind.MEM, "sram1", 1, p.value("ring_plug_mux_words"), "buf"),
        }
        for i in range(self.n_plugins):
            rings[f"plugin{i}"] = R(RingKind.MEM, "sram1", 3, p.value("ring_plugin_words"), "mux_plc")
            rings[f"plmsg{i}"] = R(RingKind.MEM, "sram3", 1, p.value("ring_plugin_msg_words"), "plmsg")
        # the NPR's four TCAM databases [C-code npr_tcam.ini] (the route database in its two halves)
        tables = {
            "routes_mc": TableSpec(TableKind.TCAM, p.value("route_entries_multicast"), "route_key"),
            "routes_uc": TableSpec(TableKind.TCAM, p.value("route_entries_unicast"), "route_key"),
            "pfilter": TableSpec(TableKind.TCAM, p.value("primary_filter_entries"), "filter_key"),
            "afilter": TableSpec(TableKind.TCAM, p.value("aux_filter_entries"), "filter_key"),
            "arp": TableSpec(TableKind.HASH, p.value("arp_entries"), "arp_key"),
        }
        pkt_desc = {"pkt": "dram", "desc": "sram2"}
        plugins = {f"plugin.{i}": f"plugin{i}" for i in range(self.n_plugins)}
        pb = {} if self.port_buffers is None else {"port_buffers": self.port_buffers}
        B = BlockSpec
        insts = {
            "rx": B("rx", {"in": "rbuf", "bufq": "bufq", "out": "rx_mux"}, pkt_desc, params=dict(pb)),
            "mux": B("mux", {"in_rx": "rx_mux", "in_plugin": "plug_mux", "in_xs_qm": "xs_mux_qm", "in_xs": "xs_mux",
                             "out": "mux_plc"}),
            "plc": B("plc", {"in": "mux_plc", "qm": "plc_qm", "exc": "exc", "ld": "ld", "stats": "stats",
                             "free": "free", "bufq": "bufq", **plugins},
                     {**pkt_desc, "tcam": "tcam", "result": "sram1"}, {t: t for t in tables}),
            "qm": B("qm", {"in": "plc_qm", "out": "qm_hf", "stats": "stats", "free": "free"},
                    {"qparam": "sram1", "qdesc": "sram2"}, params={"port_base": 0, "ports": n_ports, **pb}),
            "hdrfmt": B("hdrfmt", {"in": "qm_hf", "out": "hf_tx"}, {"desc": "sram2"}),
            "tx": B("tx", {"in": "hf_tx", "txdone": "txdone", "free": "free"}, pkt_desc),
        }
        for i in range(self.n_plugins):
            insts[f"plugin{i}"] = B("plugin", {"in": f"plugin{i}", "msg": f"plmsg{i}", "qm": "plc_qm", "mux": "plug_mux",
                                               "exc": "exc", "free": "free", "bufq": "bufq", **plugins},
                                    {"pkt": "dram", "sram": "sram3", "scratch": "scratch"}, params={"slot": i})
        insts["stats"] = B("stats", {"in": "stats"}, {"stats": "sram0"})
        insts["freelist"] = B("freelist", {"in": "free", "bufq": "bufq"}, {"desc": "sram2"})
        insts["xscale"] = B("xscale", {"err": "err", "ld": "ld", "exc": "exc", "host_in": "host_in", "to_mux": "xs_mux",
                                       "to_mux_qm": "xs_mux_qm", "free": "free", "bufq": "bufq",
                                       **{f"plmsg.{i}": f"plmsg{i}" for i in range(self.n_plugins)}}, pkt_desc)
        # microengines, in NPR order, then the control processor
        t = self.threads
        mes = ([MESpec("rx0", "rx", t["rx"]), MESpec("rx1", "rx", t["rx"]), MESpec("mux", "mux", t["mux"])]
               + [MESpec(f"plc{i}", "plc", t["plc"]) for i in range(3)]
               + [MESpec("qm", "qm", t["qm"]), MESpec("hdrfmt", "hdrfmt", t["hdrfmt"]), MESpec("tx", "tx", t["tx"])]
               + [MESpec(f"plugin{i}", f"plugin{i}", p.value("threads_per_me")) for i in range(self.n_plugins)]
               + [MESpec("stats", "stats", t["stats"]), MESpec("freelist", "freelist", t["freelist"]),
                  MESpec("xscale", "xscale", t["xscale"])])
        return Wiring(rings, tables, insts, mes)

    # ------------------------------------------------------------------ tables
    def _stats_index(self, idx: int) -> int:
        return self.limits["stats_index"].check(idx)

    def _qid(self, port: int, qid: int, what: str = "qid") -> int:
        """An encoded QID for (port, qid); qid may already be encoded for that port."""
        try:
            return encode_qid(port, qid)
        except ValueError as e:
            raise ValueError(f"{what}: {e}") from None

    def _route_kv(self, net: ipaddress.IPv4Network, in_port: int | None, src: ipaddress.IPv4Network | None,
                  ptag: int | None) -> tuple[Any, Any]:
        v, k = ffi.new("uint32_t[5]"), ffi.new("uint32_t[5]")
        v[0], k[0] = int(net.network_address), int(net.netmask)
        if src is not None:
            v[1], k[1] = int(src.network_address), int(src.netmask)
        v[2] = ((ptag or 0) & 0x1F) | ((in_port if in_port is not None else 0) & 7) << 5
        k[2] = (0x1F if ptag is not None else 0) | (7 << 5 if in_port is not None else 0)
        return v, k

    def add_route(self, prefix: str, port: int = 0, next_hop: str | None = None, *, mac: str | None = None,
                  qid: int = 0, stats: int = 0, priority: int | None = None, in_port: int | None = None,
                  local: bool = False, multicast_ports: Iterable[int] = (), src: str | None = None,
                  ptag: int | None = None) -> None:
        """Install a route (the 72-bit key: destination prefix, and optionally
        source prefix, plug-in tag and input port). With no ``next_hop`` the
        prefix is on-link (the next hop is the packet's destination); ``mac``
        pins the next-hop MAC; ``local`` delivers to the control processor
        (router's own address); ``multicast_ports`` makes it a multicast route
        (the first half of the route database). ``qid``: 0 = the datagram queue
        SFQ picks, else a queue 1..8191 of the port (or a QID encoded for it).
        A route with the same key replaces the old one."""
        net = ipaddress.IPv4Network(prefix, strict=False)
        snet = None if src is None else ipaddress.IPv4Network(src, strict=False)
        mports = sorted({self._port(x, "multicast port") for x in multicast_ports})
        if in_port is not None:
            self._port(in_port, "input port")
        if ptag is not None:
            self.limits["plugin_tag"].check(ptag)
        prio = self.limits["route_priority"].check(self.profile.value("route_priority") if priority is None
                                                   else priority)
        r = ffi.new("np_result_t *")
        if local:
            r.kind, r.ports = lib.NP_RK_LOCAL, self._port(port)
        elif mports:
            r.kind, r.ports = lib.NP_RK_MCAST, sum(1 << x for x in mports)
        else:
            r.kind, r.ports = (lib.NP_RK_ONLINK if next_hop is None else lib.NP_RK_NEXTHOP), self._port(port)
        r.prio = prio
        if qid:
            r.qid = qid & 0x1FFF if mports else self._qid(int(r.ports) if not local else 0, qid)
        r.stats = self._stats_index(stats)
        r.nh_ip = 0 if next_hop is None else ip_to_int(next_hop)
        r.nh_mac = (mac_to_int(mac) | MAC_VALID) if mac else 0
        v, k = self._route_kv(net, in_port, snet, ptag)
        # TCAM order within a database: longest prefix first; for equal prefixes the
        # entry that names a source, a plug-in tag, an input port comes first
        rank = ((32 - net.prefixlen) << 48 | (32 - (snet.prefixlen if snet else 0)) << 40
                | (0 if ptag is not None else 1) << 39 | (0 if in_port is not None else 1) << 38
                | next(self._seq["routes"]))
        kind = "multicast" if mports else "unicast"
        table = self.tables["routes_mc" if mports else "routes_uc"]
        if lib.np_tcam_add(self.m.ptr, table, v, k, rank, r, 1) < 0:
            cap = self.profile.value(f"route_entries_{kind}")
            if lib.np_table_count(self.m.ptr, table) >= cap:
                raise CoreError(f"{kind} route table full ({cap} entries: the "
                                f"{'first' if mports else 'second'} half of the route database)")
            self._check(-1)

    def del_route(self, prefix: str, in_port: int | None = None, *, src: str | None = None,
                  ptag: int | None = None) -> None:
        """Remove the route with this key (from either half of the route database)."""
        net = ipaddress.IPv4Network(prefix, strict=False)
        snet = None if src is None else ipaddress.IPv4Network(src, strict=False)
        v, k = self._route_kv(net, in_port, snet, ptag)
        for t in ("routes_uc", "routes_mc"):
            rid = lib.np_tcam_find(self.m.ptr, self.tables[t], v, k)
            if rid > 0:
                self._check(lib.np_tcam_del(self.m.ptr, self.tables[t], rid))
                return
        raise ValueError(f"no route for {net}" + (f" from port {in_port}" if in_port is not None else ""))

    def route_count(self, multicast: bool | None = None) -> int:
        """Routes installed (unicast, multicast, or both when None)."""
        names = {None: ("routes_uc", "routes_mc"), False: ("routes_uc",), True: ("routes_mc",)}[multicast]
        return sum(lib.np_table_count(self.m.ptr, self.tables[t]) for t in names)

    def add_filter(self, action: FilterAction, *, priority: int | None = None, aux: bool = False,
                   dst: str = "0.0.0.0/0", src: str = "0.0.0.0/0", proto: int | None = None,
                   dport: int | None = None, sport: int | None = None, in_port: int | None = None,
                   ptag: int | None = None, tcp_flags: tuple[int, int] | None = None,
                   sample: float = 1.0) -> int:
        """Install a primary (or, with ``aux``, an auxiliary copy) filter; returns its id.

        Lower ``priority`` numbers match first (default 50, ahead of routes at 56).
        ``sample`` (aux filters): fraction of matches copied (NPR offers 1, 1/2, 1/4, 1/8).
        """
        if action.kind not in FilterAction.KINDS:
            raise ValueError(f"unknown filter action {action.kind!r}; valid: {', '.join(FilterAction.KINDS)}")
        dn, sn = ipaddress.IPv4Network(dst, strict=False), ipaddress.IPv4Network(src, strict=False)
        for name, val, lim in (("proto", proto, "protocol"), ("dport", dport, "l4_port"), ("sport", sport, "l4_port"),
                               ("ptag", ptag, "plugin_tag")):
            if val is not None:
                self.limits[lim].check(val, name)
        if in_port is not None:
            self._port(in_port, "input port")
        tf, tfm = tcp_flags or (0, 0)
        self.limits["tcp_flags"].check(tf, "tcp_flags value")
        self.limits["tcp_flags"].check(tfm, "tcp_flags mask")
        v, k = ffi.new("uint32_t[5]"), ffi.new("uint32_t[5]")
        v[0], k[0] = int(dn.network_address), int(dn.netmask)
        v[1], k[1] = int(sn.network_address), int(sn.netmask)
        v[2] = ((ptag or 0) | (in_port or 0) << 5 | (proto or 0) << 8 | (dport or 0) << 16)
        k[2] = ((0x1F if ptag is not None else 0) | (7 << 5 if in_port is not None else 0)
                | (0xFF << 8 if proto is not None else 0) | (0xFFFF << 16 if dport is not None else 0))
        v[3], k[3] = (sport or 0), (0xFFFF if sport is not None else 0)
        v[4], k[4] = tf, tfm
        prio = self.limits["filter_priority"].check(self.profile.value("filter_priority") if priority is None
                                                    else priority)
        a = ffi.new("np_result_t *")
        a.kind = FilterAction.KINDS[action.kind]
        a.prio = prio
        a.stats = self._stats_index(action.stats)
        if action.kind == "queue":
            a.qid = self._qid(self._port(action.port, "filter output port"), action.qid or 0)
        elif action.kind == "plugin":
            a.arg = self.limits["plugin_me"].check(action.plugin)
            a.ports = self._port(action.port)
            if action.qid:
                a.qid = self._qid(self._port(action.port), action.qid)
        elif action.kind == "multicast":
            a.ports = sum(1 << self._port(x, "multicast port") for x in action.ports)
            a.qid = action.qid & 0x1FFF
        a.nh_ip = 0 if action.next_hop is None else ip_to_int(action.next_hop)
        a.nh_mac = (mac_to_int(action.mac) | MAC_VALID) if action.mac else 0
        if not 0 < sample <= 1:
            raise ValueError(f"sample must be in (0, 1], got {sample}")
        if aux:
            a.aux = min(0xFFFF, int(round(sample * 0x10000)) - 1)
        table = "afilter" if aux else "pfilter"
        rank = prio << 40 | next(self._seq[table])
        return self._check(lib.np_tcam_add(self.m.ptr, self.tables[table], v, k, rank, a, 0))

    def del_filter(self, fid: int, aux: bool = False) -> None:
        self._check(lib.np_tcam_del(self.m.ptr, self.tables["afilter" if aux else "pfilter"], fid))

    def filter_count(self, aux: bool = False) -> int:
        return lib.np_table_count(self.m.ptr, self.tables["afilter" if aux else "pfilter"])

    def set_arp(self, ip: str, mac: str) -> None:
        self._check(lib.np_hash_set(self.m.ptr, self.tables["arp"], ip_to_int(ip), mac_to_int(mac)))

    def del_arp(self, ip: str) -> None:
        self._check(lib.np_hash_del(self.m.ptr, self.tables["arp"], ip_to_int(ip)))

    def arp_lookup(self, ip: str) -> str | None:
        """The MAC the fast path's ARP table holds for ``ip``, or None."""
        mac = ffi.new("uint64_t *")
        return int_to_mac(mac[0]) if lib.np_hash_get(self.m.ptr, self.tables["arp"], ip_to_int(ip), mac) > 0 else None

    def arp_entries(self) -> dict[str, str]:
        """The fast path's whole ARP table (IP -> MAC)."""
        n = lib.np_table_count(self.m.ptr, self.tables["arp"])
        ips, macs = ffi.new("uint64_t[]", max(n, 1)), ffi.new("uint64_t[]", max(n, 1))
        n = lib.np_hash_list(self.m.ptr, self.tables["arp"], ips, macs, n)
        return {str(ipaddress.IPv4Address(ips[i])): int_to_mac(macs[i]) for i in range(n)}

    def set_queue(self, port: int, qid: int, *, threshold: int | None = None, quantum: int | None = None) -> None:
        """Set a queue's threshold (bytes; arrivals beyond it are dropped) and
        WDRR quantum (bytes per round); unset values are kept. ``qid``: the
        queue 0..8191 of the port, or a QID encoded for it."""
        q = self._qid(self._port(port), qid)
        if threshold is not None:
            self.limits["queue_threshold"].check(threshold)
        if quantum is not None:
            self.limits["queue_quantum"].check(quantum)
        th, qu, pk, by = (ffi.new("uint32_t *") for _ in range(4))
        self._check(lib.np_queue_get(self.m.ptr, self.qm, q, th, qu, pk, by))
        self._check(lib.np_queue_set(self.m.ptr, self.qm, q, th[0] if threshold is None else int(threshold),
                                     qu[0] if quantum is None else int(quantum)))

    def queue(self, port: int, qid: int) -> dict[str, int]:
        """A queue's threshold, quantum and what it holds now."""
        q = self._qid(self._port(port), qid)
        th, qu, pk, by = (ffi.new("uint32_t *") for _ in range(4))
        self._check(lib.np_queue_get(self.m.ptr, self.qm, q, th, qu, pk, by))
        return {"qid": q, "threshold": th[0], "quantum": qu[0], "pkts": pk[0], "bytes": by[0]}

    def set_port_rate(self, port: int, kbps: int) -> int:
        """Set the QM's port rate; the NPR stores rate/683, so the rate applied
        is rounded down to a multiple of 683 Kb/s [C-code]. Returns it."""
        g = self.profile.value("qm_rate_granularity_kbps")
        port = self._port(port)
        eff = (port_rate_limit(self.profile, port, self.ports[port].rate_bps).check(kbps) // g) * g
        self._check(lib.np_port_rate(self.m.ptr, self.qm, self._port(port), eff))
        self._rates[port] = eff
        return eff

    def port_rate_kbps(self, port: int) -> int:
        """The QM rate in force on a port (Kb/s, after rounding)."""
        return self._rates[self._port(port)]

    def stats_counters(self, index: int) -> dict[str, int]:
        """The Stats block's counter block ``index``: pre- and post-queue packets and bytes."""
        out = ffi.new("uint64_t[4]")
        self._check(lib.np_stats_index(self.m.ptr, self.stats_block, int(index), out))
        return {"pre_pkts": out[0], "pre_bytes": out[1], "post_pkts": out[2], "post_bytes": out[3]}

    # ------------------------------------------------------------------ plug-ins
    def load_plugin(self, source: str | os.PathLike, me: int, *, name: str | None = None, args: str = "",
                    budget_cycles: int | None = None, watchdog_ms: float = 1000.0,
                    unsafe_in_process: bool = False) -> str:
        """Compile the C plug-in ``source`` (a .c file anywhere, or the name of
        a shipped plug-in) and run it on plug-in ME ``me`` (0..4); filters with
        ``FilterAction("plugin", plugin=me)`` steer packets to it. ``args``
        reaches ``plugin_init_user``. Names must be unique. Returns the name.

        The plug-in's code runs in its own worker process (README "Plug-ins"
        says what that contains): a call over ``budget_cycles`` ALU cycles is
        abandoned (plugin_budget), and so is one that does not return within
        ``watchdog_ms`` of wall-clock time (plugin_hang; the only
        wall-clock-dependent result). ``unsafe_in_process=True`` runs it
        inside this process instead, faster per call but with no protection
        from hangs, system calls or wild writes. Errors (ValueError,
        PluginCompileError) name the source file."""
        from ..plugin_loader import build, worker_program
        me = self.limits["plugin_me"].check(me)
        if me in self._plugins:
            raise ValueError(f"plug-in ME {me} already runs {self._plugins[me]!r}; unload it first")
        if not (isinstance(watchdog_ms, (int, float)) and 0 < watchdog_ms <= 3_600_000):
            raise ValueError(f"watchdog_ms must be a number of milliseconds in (0, 3600000], got {watchdog_ms!r}")
        b = build(source, name, local_memory_bytes=4 * self.profile.value("local_memory_words"),
                  control_store=self.profile.value("control_store_instr"))
        if b.name in self._plugins.values():
            other = next(k for k, v in self._plugins.items() if v == b.name)
            raise ValueError(f"a plug-in named {b.name!r} already runs on ME {other}; load this one under another name")
        budget = self.profile.value("plugin_budget_cycles") if budget_cycles is None else int(budget_cycles)
        scale = int(self.profile.value("plugin_cycles_per_host_instruction"))
        offs = b.offsets if len(b.offsets) else np.zeros(1, np.uint32)
        ws = np.minimum(b.weights.astype(np.uint32) * scale, 0xFFFF).astype(np.uint16) if len(b.weights) \
            else np.ones(1, np.uint16)
        worker = b"" if unsafe_in_process else str(worker_program()).encode()
        so, tmp = str(b.so_path), None
        if unsafe_in_process:
            # a private copy: each ME gets its own instance of the plug-in's globals (a worker has its own anyway)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=b.so_path.parent)
            os.close(fd)
            shutil.copyfile(b.so_path, tmp)
            so = tmp
        try:
            rc = lib.np_plugin_load(self.m.ptr, me, so.encode(), b.name.encode(), ffi.from_buffer("uint32_t[]", offs),
                                    ffi.from_buffer("uint16_t[]", ws), len(b.offsets), 4 * scale, budget,
                                    args.encode(), worker, max(1, round(watchdog_ms * 1000)))
        finally:
            if tmp:
                os.unlink(tmp)
        if rc < 0:
            raise CoreError(f"plug-in {b.source}: {ffi.string(lib.np_error(self.m.ptr)).decode(errors='replace')}")
        self._plugins[int(me)] = b.name
        return b.name

    @property
    def plugins(self) -> dict[int, str]:
        """Loaded plug-ins: ME -> name."""
        return dict(self._plugins)

    def _plugin_me(self, me: int | str) -> int:
        if isinstance(me, str):
            for k, v in self._plugins.items():
                if v == me:
                    return k
            raise ValueError(f"no plug-in named {me!r}; loaded: {', '.join(self._plugins.values()) or 'none'}")
        if me not in self._plugins:
            raise ValueError(f"no plug-in on ME {me}; loaded: {self._plugins or 'none'}")
        return int(me)

    def plugin_message(self, me: int | str, text: str, *, timeout_ns: float = 1e6) -> str:
        """Send a control message (at most PLUGIN_MSG_MAX = 28 characters, NPR's limit) to a
        plug-in's message thread through the control processor, run the
        router until the reply comes back, and return it."""
        me = self._plugin_me(me)
        most = self.limits["plugin_message"].hi
        if not isinstance(text, str) or "\x00" in text or not text.isascii() or len(text) > most:
            raise ValueError(f"a plug-in message is ASCII text of at most {most} characters, got {text!r}")
        self.m.inject(self.engine.now, text.encode(), passthru=False, keep_l2=False, in_port=-1, out_port=me,
                      qid=0, ptag=0, message=True)
        return self._await_reply(me, timeout_ns)

    def _await_reply(self, me: int, timeout_ns: float) -> str:
        buf, t = ffi.new("char[]", 64), ffi.new("uint64_t *")
        deadline = self.engine.now + self.ns_to_cycles(timeout_ns)
        while True:
            if lib.np_plugin_reply(self.m.ptr, me, buf, 64, t) > 0:
                return ffi.string(buf).decode(errors="replace")
            if self.engine.now >= deadline:
                raise TimeoutError(f"plug-in {self._plugins[me]!r} did not reply within {timeout_ns:g} ns")
            self._run_to(min(deadline, self.engine.now + self.ns_to_cycles(2_000)))

    def unload_plugin(self, me: int | str, *, timeout_ns: float = 1e6) -> None:
        """Stop a plug-in: it takes no more packets, what it holds is dropped
        (plugin_unloaded), and its ME is free again."""
        me = self._plugin_me(me)
        self.m.inject(self.engine.now, b"\x01unload", passthru=False, keep_l2=False, in_port=-1, out_port=me,
                      qid=0, ptag=0, message=True)
        self._await_reply(me, timeout_ns)
        self._check(lib.np_plugin_release(self.m.ptr, me))
        del self._plugins[me]

    def plugin_stats(self, me: int | str) -> dict[str, Any]:
        """Packets, ALU cycles per packet (min/mean/max), exits, contained
        misbehaviour (budget overruns, crashes, hangs, system calls with the
        last signal and system-call number, bad records, worker restarts),
        how it is contained and, if it stopped running, why."""
        me = self._plugin_me(me)
        s = ffi.new("np_plugin_stats_t *")
        self._check(lib.np_plugin_stats(self.m.ptr, me, s))
        exits = dict(zip(("qm", "mux", "plugin", "xscale", "drop", "hold"), (int(x) for x in s.exits)))
        rt = self.plugin_runtime(me)
        return {"name": self._plugins[me], "me": me, "packets": s.pkts,
                "cycles_min": s.cyc_min, "cycles_max": s.cyc_max,
                "cycles_mean": round(s.cyc_sum / s.pkts, 1) if s.pkts else 0.0,
                "exits": exits, "drops": exits["drop"] + s.budget + s.crashes + s.hangs + s.syscalls,
                "budget_exceeded": s.budget, "crashes": s.crashes, "hangs": s.hangs, "syscalls": s.syscalls,
                "last_signal": s.last_signal, "last_syscall": s.last_syscall, "bad_records": s.bad_records,
                "restarts": s.restarts, "out_of_bounds": s.oob,
                "refused": s.refused, "held": s.held, "created": s.created, "messages": s.msgs,
                "periodic_calls": s.periodic, "containment": rt["containment"], "stopped": rt["stopped"]}

    def plugin_runtime(self, me: int | str) -> dict[str, Any]:
        """The process side of a plug-in: "containment" ("worker" or
        "unsafe_in_process"), "worker_pid" (0 while none runs), how the last
        worker ended ("last_worker_end"), why the plug-in stopped running
        ("stopped", "" if it runs), calls made and their mean wall-clock time
        in microseconds ("call_wall_us": copying in, running, checking and
        applying the record)."""
        me = self._plugin_me(me)
        s = ffi.new("np_plugin_stats_t *")
        self._check(lib.np_plugin_stats(self.m.ptr, me, s))
        pid, why, ended = ffi.new("int *"), ffi.new("char[]", 256), ffi.new("char[]", 64)
        mode = lib.np_plugin_runtime(self.m.ptr, me, pid, why, 256, ended, 64)
        return {"containment": "worker" if mode == 1 else "unsafe_in_process", "worker_pid": pid[0],
                "last_worker_end": ffi.string(ended).decode(errors="replace"),
                "stopped": ffi.string(why).decode(errors="replace"), "calls": s.calls,
                "call_wall_us": round(s.wall_ns / s.calls / 1e3, 3) if s.calls else 0.0}

    def plugin_counters(self, me: int | str) -> list[int]:
        """The plug-in's numbered counters (NPR's PluginCounters)."""
        me = self._plugin_me(me)
        out = ffi.new("uint32_t[16]")
        n = self._check(lib.np_plugin_counters(self.m.ptr, me, out))
        return [int(out[i]) for i in range(n)]

    # ------------------------------------------------------------------ traffic
    def inject(self, frame: bytes, *, at_ns: float | None = None, out_port: int = -1, qid: int = 0,
               passthru: bool = False, keep_l2: bool = True, in_port: int = -1, ptag: int = 0) -> None:
        """The host sends a frame through the control processor into Mux:
        ``passthru`` skips classification and goes to (out_port, qid); qid is a
        queue of that port (0..8191) or a QID encoded for it."""
        t = self.engine.now if at_ns is None else self.ns_to_cycles(at_ns)
        if passthru:
            qid = self._qid(self._port(out_port, "output port"), qid)
        self.m.inject(max(t, self.engine.now), bytes(frame), passthru=passthru, keep_l2=keep_l2,
                      in_port=in_port, out_port=out_port, qid=qid, ptag=ptag)
