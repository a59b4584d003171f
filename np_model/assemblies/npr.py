"""NPR: the Open Network Laboratory's 5-port IPv4 router on one IXP2800.

This module is the router's wiring diagram: which block runs on which of
the 16 microengines, which rings join them, in which memories they live
-- all in ``NPR._build`` -- followed by the API an experimenter uses:
tables (routes, filters, ARP, queues, port rates), traffic in, results
out, statistics, conservation, trace.

ME allocation [C DeHart-rings]: Rx 2, Mux 1, PLC 3, QM 1, HdrFmt 1, Tx 1,
plug-ins 5, Stats 1, FreeList 1 = 16; the control processor (XScale) is
modelled as a 17th, two-thread processor.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..core import ffi, lib
from ..engine.machine import SUB, Block, Machine, MemKind, MemRole, RingKind, Role
from ..profile import IXP2800, Profile
from .base import DEFAULT_KEEP_RECORDS, Assembly
from .types import (Conservation, ConservationError, FilterAction, HostPacket, PortConfig, TxPacket,
                    default_ports, int_to_mac, ip_to_int, mac_to_int)

__all__ = ["NPR", "PortConfig", "TxPacket", "HostPacket", "Conservation", "ConservationError",
           "FilterAction", "mac_to_int", "int_to_mac", "ip_to_int"]

# block names users may give thread counts for
_BLOCK_KEYS = {"rx": Block.RX, "mux": Block.MUX, "plc": Block.PLC, "qm": Block.QM,
               "hdrfmt": Block.HDRFMT, "tx": Block.TX, "stats": Block.STATS, "freelist": Block.FREELIST,
               "xscale": Block.XSCALE}

# profile key -> core microcode cost name
_COSTS = {"cost_rx_base": "RX_BASE", "cost_rx_per_mpkt": "RX_PER_MPKT", "cost_mux_base": "MUX_BASE",
          "cost_plc_base": "PLC_BASE", "cost_plc_parse": "PLC_PARSE", "cost_plc_lookup": "PLC_LOOKUP",
          "cost_plc_decide": "PLC_DECIDE", "cost_plc_ttl": "PLC_TTL", "cost_plc_copy": "PLC_COPY",
          "cost_plc_exc": "PLC_EXC", "cost_qm_enq": "QM_ENQ", "cost_qm_deq": "QM_DEQ",
          "cost_qm_sched_visit": "QM_SCHED_VISIT", "cost_hf_base": "HF_BASE", "cost_tx_base": "TX_BASE", "cost_tx_done": "TX_DONE",
          "cost_stats_base": "STATS_BASE", "cost_free_base": "FREE_BASE", "cost_xscale_rx": "XS_RX",
          "cost_xscale_tx": "XS_TX", "qm_enqueue_threads": "QM_ENQ_THREADS",
          "qm_rate_counts_framing": "QM_RATE_OVERHEAD", "mux_quantum_rx": "MUX_Q_RX",
          "mux_quantum_plugin": "MUX_Q_PLUGIN", "mux_quantum_xscale": "MUX_Q_XSCALE",
          "cost_plc_prio_tag": "PLC_PRIO_TAG", "cost_plc_martian": "PLC_MARTIAN",
          "cost_plc_l2_check": "PLC_L2_CHECK", "cost_plc_mcast": "PLC_MCAST", "cost_plc_len_fix": "PLC_LEN_FIX",
          "cost_plc_redirect": "PLC_REDIRECT"}


class NPR(Assembly):
    """A 5-port NPR on a cycle-level IXP2800.

    Args:
        profile: hardware parameters and NPR defaults (np_model.profile).
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
                 capture: bool = True,
                 seed: int = 1, nic: Any = None):
        self.profile = profile
        self._setup(list(ports) if ports is not None else default_ports(profile.value("n_ports"),
                                                                         profile.value("port_rate_bps")),
                    keep_records=keep_records, capture=capture)
        if not 1 <= len(self.ports) <= 5:
            raise ValueError(f"an NPR has 1..5 ports, got {len(self.ports)}")
        self.threads = {k: profile.value("threads_per_me") for k in _BLOCK_KEYS}
        self.threads["xscale"] = 2
        for k, v in (threads or {}).items():
            if k not in _BLOCK_KEYS:
                raise KeyError(f"unknown block {k!r} in threads; valid: {', '.join(_BLOCK_KEYS)}")
            limit = 2 if k == "xscale" else profile.value("threads_per_me")
            if not 1 <= int(v) <= limit:
                raise ValueError(f"threads for {k} must be 1..{limit}, got {v}")
            self.threads[k] = int(v)
        need = profile.value("qm_enqueue_threads") + len(self.ports)
        if self.threads["qm"] < need:
            raise ValueError(f"threads for qm must be at least {need}: {profile.value('qm_enqueue_threads')} "
                             f"enqueue threads and one scheduler per port ({len(self.ports)} ports)")
        self.f_me = profile.value("me_clock_hz")
        self.m = Machine(f_me_hz=self.f_me,
                         n_buffers=buffers or profile.value("packet_buffers"),
                         swap_cycles=profile.value("ctx_swap_cycles"),
                         rbuf_elements=profile.value("rbuf_elements"),
                         rbuf_element_bytes=profile.value("rbuf_element_bytes"),
                         tbuf_elements=profile.value("tbuf_elements_per_port"),
                         wire_overhead=profile.value("wire_overhead_bytes"),
                         fcs_bytes=profile.value("fcs_bytes"),
                         min_frame=profile.value("min_frame_bytes"), seed=seed)
        self._build()
        self._start_engine(self.m, engine)
        self._filters: dict[int, tuple[bool, dict[str, Any]]] = {}
        if nic is None or hasattr(nic, "classify"):
            self.nic = nic
        else:
            from ..nic import nic_from_router_config
            self.nic = nic_from_router_config(nic)
        self._rates: dict[int, int] = {}
        self._plugins: dict[int, str] = {}          # plug-in ME -> name
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
        word = f / p.value("sram_clock_hz")                 # ME cycles per 32-bit QDR transfer
        sram = []
        for _ in range(p.value("sram_channels")):
            rd = m.add_server(p.value("sram_latency"), 4, occ(word), occ(p.value("sram_cmd_cycles")))
            wr = m.add_server(p.value("sram_latency"), 4, occ(word), occ(p.value("sram_cmd_cycles")))
            sram.append(m.add_mem(MemKind.SRAM, rd, wr))
        unit = p.value("dram_min_access")
        d0 = None
        for _ in range(p.value("dram_channels")):
            s = m.add_server(p.value("dram_latency"), unit, occ(unit * f / p.value("dram_bytes_per_s")))
            d0 = s if d0 is None else d0
        dram = m.add_mem(MemKind.DRAM, d0, d0, p.value("dram_channels"),
                         int(p.value("dram_interleave_bytes")).bit_length() - 1)
        tcs = m.add_server(p.value("tcam_latency"), p.value("tcam_key_bytes"),
                           occ(f / p.value("tcam_searches_per_s")))
        tcam = m.add_mem(MemKind.TCAM, tcs, tcs)
        # memory roles: bank numbers from nprd_configuration.h [C-code]
        for role, mem in ((MemRole.SCRATCH, mem_scr), (MemRole.DESC, sram[2]), (MemRole.QPARAM, sram[1]),
                          (MemRole.QDESC, sram[2]), (MemRole.RESULT, sram[1]), (MemRole.STATS, sram[0]),
                          (MemRole.PKT, dram), (MemRole.TCAM, tcam), (MemRole.PLUGIN, sram[3])):
            m.set_role_mem(role, mem)
        self.mems = {"scratch": mem_scr, "sram0": sram[0], "sram1": sram[1], "sram2": sram[2],
                     "sram3": sram[3], "dram": dram, "tcam": tcam}

        # rings: (role, name, kind, memory, words, capacity)
        nn = p.value("nn_ring_latency")
        rings = [
            (Role.RBUF, "rbuf", RingKind.PUSH, -1, 3, p.value("rbuf_elements")),
            (Role.RX_MUX, "rx_mux", RingKind.MEM, mem_scr, 3, p.value("ring_rx_mux")),
            (Role.XS_MUX, "xs_mux", RingKind.MEM, sram[1], 1, p.value("ring_xs_mux")),
            (Role.PLUG_MUX, "plug_mux", RingKind.MEM, sram[1], 1, p.value("ring_plug_mux")),
            (Role.MUX_PLC, "mux_plc", RingKind.MEM, mem_scr, 3, p.value("ring_mux_plc")),
            (Role.PLC_QM, "plc_qm", RingKind.MEM, mem_scr, 3, p.value("ring_plc_qm")),
            (Role.QM_HF, "qm_hf", RingKind.NN, -1, 2, p.value("ring_qm_hf")),
            (Role.HF_TX, "hf_tx", RingKind.NN, -1, 3, p.value("ring_hf_tx")),
            (Role.EXC, "exc", RingKind.MEM, mem_scr, 6, p.value("ring_exc")),
            (Role.LD, "ld", RingKind.MEM, mem_scr, 6, p.value("ring_ld")),
            (Role.ERR, "err", RingKind.MEM, mem_scr, 6, p.value("ring_err")),
            (Role.STATS, "stats", RingKind.MEM, mem_scr, 3, p.value("ring_stats")),
            (Role.FREE, "free", RingKind.MEM, mem_scr, 1, p.value("ring_free")),
            (Role.BUFQ, "bufq", RingKind.MEM, sram[2], 1, self.m.n_buffers),
            (Role.HOST_IN, "host_in", RingKind.PUSH, -1, 1, p.value("ring_host_in")),
            (Role.TXDONE, "txdone", RingKind.PUSH, -1, 2, 256 * len(self.ports)),
        ] + [(Role(Role.PLUGIN0 + i), f"plugin{i}", RingKind.MEM, sram[1], 3, p.value("ring_plugin"))
             for i in range(5)] + [(Role(Role.PLMSG0 + i), f"plmsg{i}", RingKind.MEM, sram[3], 1, p.value("ring_plugin_msg"))
                                  for i in range(5)]
        self.rings: dict[str, int] = {}
        for role, name, kind, mem, words, cap in rings:
            r = m.add_ring(name, kind, mem, words, cap, nn if kind == RingKind.NN else 0)
            m.set_role_ring(role, r)
            self.rings[name] = r

        # microengines, in NPR order, then the control processor
        t = self.threads
        alloc = ([("rx0", Block.RX, t["rx"]), ("rx1", Block.RX, t["rx"]), ("mux", Block.MUX, t["mux"])]
                 + [(f"plc{i}", Block.PLC, t["plc"]) for i in range(3)]
                 + [("qm", Block.QM, t["qm"]), ("hdrfmt", Block.HDRFMT, t["hdrfmt"]), ("tx", Block.TX, t["tx"])]
                 + [(f"plugin{i}", Block.PLUGIN, 8) for i in range(5)]
                 + [("stats", Block.STATS, t["stats"]), ("freelist", Block.FREELIST, t["freelist"]),
                    ("xscale", Block.XSCALE, t["xscale"])])
        self.mes = {name: m.add_me(name, blk, n) for name, blk, n in alloc}
        for i in range(5):
            m.set_me_arg(self.mes[f"plugin{i}"], i)
        for key, cname in _COSTS.items():
            m.set_cost(cname, int(p.value(key)))
        for pc in self.ports:
            if pc.mtu + 18 > lib.NP_MAX_FRAME:
                raise ValueError(f"port MTU {pc.mtu} too large for the {lib.NP_MAX_FRAME}-byte buffers")
            m.add_port(pc.rate_bps, mac_to_int(pc.mac), int(pc.interface.ip), pc.mtu)
        m.start()

    # ------------------------------------------------------------------ tables
    def add_route(self, prefix: str, port: int = 0, next_hop: str | None = None, *, mac: str | None = None,
                  qid: int = 0, stats: int = 0, priority: int | None = None, in_port: int | None = None,
                  local: bool = False, multicast_ports: Iterable[int] = ()) -> None:
        """Install a route. With no ``next_hop`` the prefix is on-link (the next
        hop is the packet's destination); ``mac`` pins the next-hop MAC;
        ``local`` delivers to the control processor (router's own address)."""
        net = ipaddress.IPv4Network(prefix, strict=False)
        r = ffi.new("np_route_t *")
        r.prefix = int(net.network_address)
        r.plen = net.prefixlen
        r.in_port = -1 if in_port is None else self._port(in_port, "input port")
        mports = list(multicast_ports)
        r.out_port = 0 if (local or mports) else self._port(port)
        r.prio = self.profile.value("route_priority") if priority is None else int(priority)
        r.flags = ((lib.NP_RT_LOCAL if local else 0) | (lib.NP_RT_MCAST if mports else 0)
                   | (lib.NP_RT_ONLINK if next_hop is None and not local else 0))
        r.nh_ip = 0 if next_hop is None else ip_to_int(next_hop)
        r.nh_mac = (mac_to_int(mac) | (1 << 48)) if mac else 0
        r.port_mask = sum(1 << self._port(x) for x in mports)
        r.qid = qid
        r.stats = stats
        self._check(lib.np_route_add(self.m.ptr, r))

    def del_route(self, prefix: str, in_port: int | None = None) -> None:
        net = ipaddress.IPv4Network(prefix, strict=False)
        self._check(lib.np_route_del(self.m.ptr, int(net.network_address), net.prefixlen,
                                     -1 if in_port is None else in_port))

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
        k = ffi.new("np_fkey_t *")
        dn, sn = ipaddress.IPv4Network(dst, strict=False), ipaddress.IPv4Network(src, strict=False)
        k.daddr, k.daddr_mask = int(dn.network_address), int(dn.netmask)
        k.saddr, k.saddr_mask = int(sn.network_address), int(sn.netmask)
        k.proto, k.proto_mask = (proto or 0, 0xFF if proto is not None else 0)
        k.dport, k.dport_mask = (dport or 0, 0xFFFF if dport is not None else 0)
        k.sport, k.sport_mask = (sport or 0, 0xFFFF if sport is not None else 0)
        k.ptag, k.ptag_mask = (ptag or 0, 0x1F if ptag is not None else 0)
        k.tcp_flags, k.tcp_flags_mask = tcp_flags or (0, 0)
        k.in_port = -1 if in_port is None else self._port(in_port, "input port")
        a = ffi.new("np_faction_t *")
        a.kind = FilterAction.KINDS[action.kind]
        a.port = action.port
        a.plugin = action.plugin
        a.prio = self.profile.value("filter_priority") if priority is None else int(priority)
        a.qid = action.qid
        a.stats = action.stats
        a.port_mask = sum(1 << self._port(x) for x in action.ports)
        a.nh_ip = 0 if action.next_hop is None else ip_to_int(action.next_hop)
        a.nh_mac = (mac_to_int(action.mac) | (1 << 48)) if action.mac else 0
        if not 0 < sample <= 1:
            raise ValueError(f"sample must be in (0, 1], got {sample}")
        a.sample = min(0xFFFF, int(round(sample * 0x10000)) - 1)
        return self._check(lib.np_filter_add(self.m.ptr, 1 if aux else 0, k, a))

    def del_filter(self, fid: int, aux: bool = False) -> None:
        self._check(lib.np_filter_del(self.m.ptr, 1 if aux else 0, fid))

    def set_arp(self, ip: str, mac: str) -> None:
        self._check(lib.np_arp_set(self.m.ptr, ip_to_int(ip), mac_to_int(mac)))

    def del_arp(self, ip: str) -> None:
        self._check(lib.np_arp_del(self.m.ptr, ip_to_int(ip)))

    def arp_lookup(self, ip: str) -> str | None:
        """The MAC the fast path's ARP table holds for ``ip``, or None."""
        mac = ffi.new("uint64_t *")
        return int_to_mac(mac[0]) if lib.np_arp_get(self.m.ptr, ip_to_int(ip), mac) else None

    def arp_entries(self) -> dict[str, str]:
        """The fast path's whole ARP table (IP -> MAC)."""
        ips, macs = ffi.new("uint32_t[16384]"), ffi.new("uint64_t[16384]")
        n = lib.np_arp_list(self.m.ptr, ips, macs, 16384)
        return {str(ipaddress.IPv4Address(ips[i])): int_to_mac(macs[i]) for i in range(n)}

    def set_queue(self, port: int, qid: int, *, threshold: int | None = None, quantum: int | None = None) -> None:
        """Set a queue's threshold (bytes; arrivals beyond it are dropped) and
        WDRR quantum (bytes per round); unset values are kept."""
        if not 0 <= qid < lib.NP_QUEUES_PER_PORT:
            raise ValueError(f"queue id {qid} out of range 0..{lib.NP_QUEUES_PER_PORT - 1}")
        th, qu, pk, by = (ffi.new("uint32_t *") for _ in range(4))
        self._check(lib.np_queue_get(self.m.ptr, self._port(port), qid, th, qu, pk, by))
        self._check(lib.np_queue_set(self.m.ptr, port, qid, th[0] if threshold is None else int(threshold),
                                     qu[0] if quantum is None else int(quantum)))

    def set_port_rate(self, port: int, kbps: int) -> int:
        """Set the QM's port rate; the NPR stores rate/683, so the rate applied
        is rounded down to a multiple of 683 Kb/s [C-code]. Returns it."""
        g = self.profile.value("qm_rate_granularity_kbps")
        eff = (int(kbps) // g) * g
        if eff <= 0:
            raise ValueError(f"port rate {kbps} Kb/s is below the {g} Kb/s granularity")
        self._check(lib.np_port_rate(self.m.ptr, self._port(port), eff))
        self._rates[port] = eff
        return eff

    def port_rate_kbps(self, port: int) -> int:
        """The QM rate in force on a port (Kb/s, after rounding)."""
        return self._rates[self._port(port)]

    # ------------------------------------------------------------------ plug-ins
    def load_plugin(self, source: str | os.PathLike, me: int, *, name: str | None = None, args: str = "",
                    budget_cycles: int | None = None) -> str:
        """Compile the C plug-in ``source`` (a .c file anywhere, or the name of
        a shipped plug-in) and run it on plug-in ME ``me`` (0..4); filters with
        ``FilterAction("plugin", plugin=me)`` steer packets to it. ``args``
        reaches ``plugin_init_user``. Names must be unique. Returns the name."""
        from ..plugin_loader import build
        if not 0 <= int(me) < 5:
            raise ValueError(f"plug-in ME {me} does not exist (0..4)")
        if me in self._plugins:
            raise ValueError(f"plug-in ME {me} already runs {self._plugins[me]!r}; unload it first")
        b = build(source, name)
        if b.name in self._plugins.values():
            other = next(k for k, v in self._plugins.items() if v == b.name)
            raise ValueError(f"a plug-in named {b.name!r} already runs on ME {other}; load this one under another name")
        budget = self.profile.value("plugin_budget_cycles") if budget_cycles is None else int(budget_cycles)
        # a private copy: each ME gets its own instance of the plug-in's globals
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=b.so_path.parent)
        os.close(fd)
        try:
            shutil.copyfile(b.so_path, tmp)
            offs = b.offsets if len(b.offsets) else np.zeros(1, np.uint32)
            ws = b.weights if len(b.weights) else np.ones(1, np.uint16)
            rc = lib.np_plugin_load(self.m.ptr, me, tmp.encode(), b.name.encode(), ffi.from_buffer("uint32_t[]", offs),
                                    ffi.from_buffer("uint16_t[]", ws), len(b.offsets), 4, budget, args.encode())
        finally:
            os.unlink(tmp)
        self._check(rc)
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
        """Send a control message (at most 28 characters, NPR's limit) to a
        plug-in's message thread through the control processor, run the
        router until the reply comes back, and return it."""
        me = self._plugin_me(me)
        if len(text) > 28 or "\x00" in text:
            raise ValueError(f"plug-in messages are at most 28 characters, got {len(text)}")
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
        """Packets, ALU cycles per packet (min/mean/max), exits, contained faults."""
        me = self._plugin_me(me)
        s = ffi.new("np_plugin_stats_t *")
        self._check(lib.np_plugin_stats(self.m.ptr, me, s))
        exits = dict(zip(("qm", "mux", "plugin", "xscale", "drop", "hold"), (int(x) for x in s.exits)))
        return {"name": self._plugins[me], "me": me, "packets": s.pkts,
                "cycles_min": s.cyc_min, "cycles_max": s.cyc_max,
                "cycles_mean": round(s.cyc_sum / s.pkts, 1) if s.pkts else 0.0,
                "exits": exits, "drops": exits["drop"] + s.budget + s.crashes,
                "budget_exceeded": s.budget, "crashes": s.crashes, "out_of_bounds": s.oob,
                "refused": s.refused, "held": s.held, "created": s.created, "messages": s.msgs,
                "periodic_calls": s.periodic}

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
        ``passthru`` skips classification and goes to (out_port, qid)."""
        t = self.engine.now if at_ns is None else self.ns_to_cycles(at_ns)
        self.m.inject(max(t, self.engine.now), bytes(frame), passthru=passthru, keep_l2=keep_l2,
                      in_port=in_port, out_port=out_port, qid=qid, ptag=ptag)

