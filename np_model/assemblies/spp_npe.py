"""NPE: the SPP's Network Processing Engine -- slices' fast paths on one IXP2850.

The wiring diagram (``NPE.wiring_diagram``) is the SPP fast-path pipeline
[virtual_routers.md 1.4, U: order from the SIGCOMM'07 design]::

    Rx -> Substrate Decap -> Parse -> Lookup -> Header Format -> QM -> Tx
      (2 MEs)   (1)         (2: code option) (1: TCAM) (2: code option) (1)  (1)

plus Stats and FreeList; port 0 is the board's 10 GbE port to the fabric
switch. Substrate Decap maps an internal frame's tunnel destination (IPv4
address, UDP port) to a fast path and meta-interface (MI); Parse and Header
Format call the slice's code option (np_model.code_options, run in a worker
process and costed per basic block); Lookup searches the TCAM with the fast
path and the code option's key; the queue manager (blocks/hqm.c) holds each
fast path's queues, bound to its MIs, paced at each MI's and each fast
path's reserved rate, with the fast path's reserved packet buffers as a
limit. MI 0 is the slice's local-delivery/exception path to its GPE slow path.

The API is the slice-facing half of SPP's resource interface at the NPE:
``load_code_option``, ``add_fastpath`` (firm resources: filters, queues,
stats counters, packet buffers, SRAM and DRAM bytes, bandwidth),
``add_meta_interface``, ``bind_queue``, ``add_filter``/``del_filter``,
``stats_counters``, ``queue_stats``, ``code_option_stats``, ``free_fastpath``.
The NPE refuses what exceeds its own capacity (``CapacityError`` names the
resource and what is left); admission across the node is the SRM's job.

One NPE here is one NP subsystem; the SPP's NPE blade has two (not modelled
together: instantiate two). The profile (np_model.profile.IXP2850) says
which values are the IXP2800's, which differ, and which are estimates.
"""
from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..code_options import CodeOption, build_code_option
from ..core import CoreError, ffi, lib
from ..engine.machine import HwRing, RingKind, TableKind
from ..formats import FORMATS
from ..profile import IXP2850, Profile
from ..spp_formats import endpoint as _endpoint
from .base import DEFAULT_KEEP_RECORDS, Assembly, BlockSpec, MESpec, RingSpec, TableSpec, Wiring
from .spp_common import CapacityError, Ranges, hqm_active_queues, hqm_queue, hqm_queue_stats, hqm_set_queue, spp_machine
from .types import PortConfig, int_to_mac, ip_to_int, mac_to_int

__all__ = ["NPE", "CapacityError"]

MAC_VALID = 1 << 48
ACTIONS = {"forward": 0, "drop": 1, "exception": 2, "local": 3}      # SPP_FA_* (formats.h)
RESULT_KEYS = ("action", "mi", "queue", "stats", "next_hop", "arg")
COPT_SRAM_BYTES = 1 << 20           # a code option's SRAM (a module's 1 MB, NP_PL_SRAM): its slices' windows


@dataclass
class _MI:
    endpoint: tuple[str, int] | None
    kbps: int
    mac: str
    vid: int
    peer: tuple[str, int] | None


@dataclass
class _FastPath:
    slice: int
    slot: int
    copt: str
    vid: int
    kbps: int
    filters: int
    queue_base: int
    queues: int
    stats_base: int
    stats: int
    buffers: int
    sram_base: int
    sram: int
    dram: int
    mis: dict[int, _MI] = field(default_factory=dict)
    bound: dict[int, int] = field(default_factory=dict)          # slice queue -> MI
    filter_ids: set[int] = field(default_factory=set)


class NPE(Assembly):
    """An SPP NPE (one IXP2850 NP subsystem) with slices' fast paths.

    Args:
        profile: the SPP profile (np_model.profile.IXP2850).
        mac: the board's MAC on the fabric (frames to the NPE carry it).
        address: the board's internal IPv4 address (with prefix; informational).
        engine: ``"c"`` or ``"py"``.
        buffers: packet buffers (default: the profile's).
        keep_records, capture, seed: as for the NPR (np_model.assemblies.NPR).
        watchdog_ms: wall-clock limit of one code-option call (copt_hang).
        unsafe_in_process: run code options in this process (no worker):
            faster, but a hang hangs the simulator (README "Plug-ins").
    """

    def __init__(self, profile: Profile = IXP2850, *, mac: str = "02:5e:00:00:00:01",
                 address: str = "10.255.0.2/24", engine: str = "c", buffers: int | None = None,
                 keep_records: bool | int = DEFAULT_KEEP_RECORDS, capture: bool = True, seed: int = 1,
                 watchdog_ms: float = 1000.0, unsafe_in_process: bool = False):
        self.profile = p = profile
        if not (isinstance(watchdog_ms, (int, float)) and 0 < watchdog_ms <= 3_600_000):
            raise ValueError(f"watchdog_ms must be a number of milliseconds in (0, 3600000], got {watchdog_ms!r}")
        self.watchdog_ms, self.unsafe_in_process = float(watchdog_ms), bool(unsafe_in_process)
        self._setup([PortConfig(address, mac, p.value("spp_fabric_rate_bps"), p.value("spp_fabric_mtu"))],
                    keep_records=keep_records, capture=capture)
        n_buffers = buffers or p.value("packet_buffers")
        if not 16 <= n_buffers <= (1 << 24):
            raise ValueError(f"buffers must be 16..16777216, got {n_buffers}")
        self.n_fastpaths = int(p.value("npe_fastpaths"))
        self.n_mis = int(p.value("npe_mis_per_fastpath"))
        if not 1 <= self.n_fastpaths <= 4094 or not 1 <= self.n_mis <= 4096:
            raise ValueError(f"npe_fastpaths must be 1..4094 and npe_mis_per_fastpath 1..4096, got "
                             f"{self.n_fastpaths} and {self.n_mis}")
        if not 1 <= p.value("npe_queues") < lib.NP_QUEUES_PER_PORT:
            raise ValueError(f"npe_queues must be 1..{lib.NP_QUEUES_PER_PORT - 1} (one queue-manager port's queues; "
                             f"0 means none), got {p.value('npe_queues')}")
        if not 1 <= p.value("npe_code_options") <= 127:
            raise ValueError(f"npe_code_options must be 1..127 (a fast path's record holds a 7-bit slot), got "
                             f"{p.value('npe_code_options')}")
        if p.value("npe_stats_counters") >= p.value("stats.blocks"):
            raise ValueError(f"npe_stats_counters ({p.value('npe_stats_counters')}) must be below the Stats block's "
                             f"stats.blocks ({p.value('stats.blocks')}): index 0 means none")
        self.m, self.mems = spp_machine(p, n_buffers=n_buffers, seed=seed)
        w = self.wiring_diagram()
        if len(w.mes) > p.value("n_me"):
            raise ValueError(f"the NPE puts blocks on {len(w.mes)} microengines; the profile's NP has {p.value('n_me')}")
        self.rewire(w)
        self._materialize(w)
        pc = self.ports[0]
        if pc.mtu + 28 > lib.NP_MAX_FRAME:
            raise ValueError(f"spp_fabric_mtu {pc.mtu} too large for the {lib.NP_MAX_FRAME}-byte buffers "
                             "(internal frames add up to 28 bytes)")
        self.m.add_port(pc.rate_bps, mac_to_int(pc.mac), int(pc.interface.ip), pc.mtu)
        self.m.start()
        self._start_engine(self.m, engine)
        self.qm_inst, self.stats_block = self.insts["qm"], self.insts["stats"]
        self.nic = None
        self._copts: dict[str, tuple[int, CodeOption]] = {}
        self._fps: dict[int, _FastPath] = {}
        self._slots = [None] * self.n_fastpaths
        self._queues = Ranges(1, 1 + int(p.value("npe_queues")))
        self._stats = Ranges(1, 1 + int(p.value("npe_stats_counters")))
        self._sram: dict[str, Ranges] = {}
        self._seq = itertools.count(1)
        self._endpoints: dict[tuple[str, int], tuple[int, int]] = {}
        self.mtu = pc.mtu

    # ------------------------------------------------------------------ wiring
    def wiring_diagram(self) -> Wiring:
        """The NPE as data: rings, tables, block instances and their bindings, MEs."""
        p = self.profile
        W = p.value("spp_ring_words")
        R = RingSpec
        rings = {
            "rbuf": R(RingKind.PUSH, None, 2, 2 * p.value("rbuf_elements"), "rbuf_status", HwRing.RBUF),
            "txdone": R(RingKind.PUSH, None, 1, 256, "txdone", HwRing.TXDONE),
            "bufq": R(RingKind.QUEUE, "sram2", 1, self.m.n_buffers, "buf", HwRing.BUFQ),
            "rx_decap": R(RingKind.MEM, "scratch", 2, W, "rx_mux"),
            "decap_parse": R(RingKind.MEM, "scratch", 3, W, "spp_pkt"),
            "parse_lookup": R(RingKind.MEM, "sram1", 7, W, "spp_key"),
            "lookup_hf": R(RingKind.MEM, "sram1", 7, W, "spp_res"),
            "hf_qm": R(RingKind.MEM, "scratch", 3, W, "plc_qm"),
            "qm_tx": R(RingKind.MEM, "scratch", 2, W, "hf_tx"),
            "stats": R(RingKind.MEM, "scratch", 3, W, "stats_upd"),
            "free": R(RingKind.MEM, "scratch", 1, W, "buf"),
        }
        nfp, nmi = self.n_fastpaths, self.n_mis
        tables = {
            "endpoints": TableSpec(TableKind.HASH, nfp * nmi),
            "vids": TableSpec(TableKind.HASH, nfp),
            "fps": TableSpec(TableKind.ARRAY, nfp, "spp_fp_rec"),
            "mis": TableSpec(TableKind.ARRAY, nfp * nmi, "spp_mi_rec"),
            "filters": TableSpec(TableKind.TCAM, p.value("npe_filter_entries"), "spp_filter_key"),
        }
        pkt = {"pkt": "dram", "desc": "sram2"}
        copt = {"pkt": "dram", "sram": "sram0", "scratch": "scratch", "cfg": "sram0"}
        B = BlockSpec
        insts = {
            "rx": B("rx", {"in": "rbuf", "bufq": "bufq", "out": "rx_decap"}, dict(pkt)),
            "decap": B("spp_decap", {"in": "rx_decap", "out": "decap_parse", "free": "free"},
                       {**pkt, "cfg": "sram0"}, {"endpoints": "endpoints", "vids": "vids", "fps": "fps"}),
            "parse": B("spp_parse", {"in": "decap_parse", "out": "parse_lookup", "free": "free"}, dict(copt),
                       {"fps": "fps"}),
            "lookup": B("spp_lookup", {"in": "parse_lookup", "out": "lookup_hf", "free": "free"},
                        {"tcam": "tcam", "result": "sram1"}, {"filters": "filters"}),
            "hf": B("spp_hf", {"in": "lookup_hf", "out": "hf_qm", "stats": "stats", "free": "free"}, dict(copt),
                    {"fps": "fps", "mis": "mis"}, params={"port": 0, "mis_per_fastpath": nmi}),
            "qm": B("hqm", {"in": "hf_qm", "out": "qm_tx", "stats": "stats", "free": "free"},
                    {"qparam": "sram1", "qdesc": "sram2"}, params={"port_base": 0, "ports": 1,
                                                                   "nodes": nfp * (nmi + 1)}),
            "tx": B("tx", {"in": "qm_tx", "txdone": "txdone", "free": "free"}, dict(pkt)),
            "stats": B("stats", {"in": "stats"}, {"stats": "sram0"}),
            "freelist": B("freelist", {"in": "free", "bufq": "bufq"}, {"desc": "sram2"}),
        }
        tpm = p.value("threads_per_me")
        mes = [MESpec("rx0", "rx", tpm), MESpec("rx1", "rx", tpm), MESpec("decap", "decap", tpm),
               MESpec("parse0", "parse", tpm), MESpec("parse1", "parse", tpm), MESpec("lookup", "lookup", tpm),
               MESpec("hf0", "hf", tpm), MESpec("hf1", "hf", tpm), MESpec("qm", "qm", tpm), MESpec("tx", "tx", tpm),
               MESpec("stats", "stats", tpm), MESpec("freelist", "freelist", tpm)]
        return Wiring(rings, tables, insts, mes)

    # ------------------------------------------------------------------ helpers
    def _fp(self, slice_id: int) -> _FastPath:
        fp = self._fps.get(slice_id)
        if fp is None:
            raise KeyError(f"npe: slice {slice_id} has no fast path; fast paths: {sorted(self._fps) or 'none'}")
        return fp

    def _mi_node(self, fp: _FastPath, mi: int) -> int:
        return fp.slot * self.n_mis + mi

    def _fp_node(self, fp: _FastPath) -> int:
        return self.n_fastpaths * self.n_mis + fp.slot

    def _put(self, table: str, index: int, fmt: str, **values: int) -> None:
        words = FORMATS[fmt].encode(**values)
        self._check(lib.np_array_set(self.m.ptr, self.tables[table], index, ffi.new("uint32_t[]", words)))

    def _write_fp(self, fp: _FastPath) -> None:
        exc = [q for q, mi in fp.bound.items() if mi == 0]
        self._put("fps", fp.slot, "spp_fp_rec", valid=1, copt=self._copts[fp.copt][0], vid=fp.vid, slice=fp.slice,
                  exc_queue=fp.queue_base + max(exc) if exc else 0, stats_base=fp.stats_base, n_stats=fp.stats,
                  sram_base=fp.sram_base, sram_size=fp.sram)

    def _qm_node(self, node: int, parent: int, kbps: int, limit: int) -> None:
        self._check(lib.np_hqm_node_set(self.m.ptr, self.qm_inst, node, parent, kbps, limit))

    def _qid(self, queue: int) -> int:
        return queue | 1 << lib.NP_QID_PORT_SHIFT          # port 0

    # ------------------------------------------------------------------ code options
    def load_code_option(self, source: str, *, name: str | None = None, args: str = "") -> str:
        """Compile the code option ``source`` (a .c file, or "ipv4", "i3") and
        start its worker; ``args`` reaches its copt_init. Returns its name
        (the file's stem unless ``name``). Loading a name again is a no-op.
        Errors (PluginCompileError naming file:line, ValueError, CoreError)
        name the source."""
        from ..plugin_loader import worker_program
        copt = build_code_option(source, name, local_memory_bytes=4 * self.profile.value("local_memory_words"),
                                 control_store=self.profile.value("control_store_instr"))
        if copt.name in self._copts:
            if self._copts[copt.name][1].source != copt.source:
                raise ValueError(f"npe: a code option named {copt.name!r} is loaded from "
                                 f"{self._copts[copt.name][1].source}; load {copt.source} under another name")
            return copt.name
        limit = int(self.profile.value("npe_code_options"))
        if len(self._copts) >= limit:
            raise CapacityError("npe", "code options", 1, 0, limit)
        b = copt.build
        scale = int(self.profile.value("copt_cycles_per_host_instruction"))
        offs = b.offsets if len(b.offsets) else np.zeros(1, np.uint32)
        ws = np.minimum(b.weights.astype(np.uint32) * scale, 0xFFFF).astype(np.uint16) if len(b.weights) \
            else np.ones(1, np.uint16)
        worker = b"" if self.unsafe_in_process else str(worker_program()).encode()
        so = str(b.so_path)
        if self.unsafe_in_process:
            import os
            import shutil
            import tempfile
            fd, so = tempfile.mkstemp(suffix=".so", dir=b.so_path.parent)
            os.close(fd)
            shutil.copyfile(b.so_path, so)
        try:
            slot = lib.np_copt_load(self.m.ptr, self.insts["parse"], so.encode(), copt.name.encode(),
                                    ffi.from_buffer("uint32_t[]", offs), ffi.from_buffer("uint16_t[]", ws),
                                    len(b.offsets), 4 * scale, int(self.profile.value("copt_budget_cycles")),
                                    args.encode(), worker, max(1, round(self.watchdog_ms * 1000)))
        finally:
            if self.unsafe_in_process:
                import os
                os.unlink(so)
        if slot < 0:
            raise CoreError(f"code option {copt.source}: {ffi.string(lib.np_error(self.m.ptr)).decode(errors='replace')}")
        if slot >= 128:
            raise CapacityError("npe", "code-option slots", 1, 0, 127)
        self._copts[copt.name] = (int(slot), copt)
        self._sram[copt.name] = Ranges(0, COPT_SRAM_BYTES)
        return copt.name

    @property
    def code_options(self) -> dict[str, CodeOption]:
        """Loaded code options by name."""
        return {k: v[1] for k, v in self._copts.items()}

    def code_option_stats(self, which: str | int) -> dict[str, Any]:
        """A code option's calls (Parse and Header Format), ALU cycles per call
        (min/mean/max), contained misbehaviour (budget overruns, crashes, hangs,
        system calls, bad records, worker restarts), out-of-bounds accesses and
        refused API calls, its 16 counters, and the packets it dropped and the
        exceptions it raised by its reason names. ``which``: its name, or a
        slice id (that slice's code option)."""
        name = self._fp(which).copt if isinstance(which, int) else which
        if name not in self._copts:
            raise ValueError(f"npe: no code option {name!r}; loaded: {', '.join(self._copts) or 'none'}")
        slot, copt = self._copts[name]
        s = ffi.new("np_plugin_stats_t *")
        self._check(lib.np_plugin_stats(self.m.ptr, slot, s))
        drops: dict[str, int] = {}
        excs: dict[str, int] = {}
        codes = ffi.new("uint64_t[512]")
        for inst in ("parse", "hf"):
            self._check(lib.np_spp_copt_codes(self.m.ptr, self.insts[inst], slot, codes))
            for c in range(256):
                if codes[c]:
                    drops[copt.reason(c)] = drops.get(copt.reason(c), 0) + int(codes[c])
                if codes[256 + c]:
                    excs[copt.reason(c)] = excs.get(copt.reason(c), 0) + int(codes[256 + c])
        ctr = ffi.new("uint32_t[16]")
        self._check(lib.np_plugin_counters(self.m.ptr, slot, ctr))
        pid, why, ended = ffi.new("int *"), ffi.new("char[]", 256), ffi.new("char[]", 64)
        mode = lib.np_plugin_runtime(self.m.ptr, slot, pid, why, 256, ended, 64)
        return {"name": name, "source": str(copt.source), "calls": s.pkts, "cycles_min": s.cyc_min,
                "cycles_max": s.cyc_max, "cycles_mean": round(s.cyc_sum / s.pkts, 1) if s.pkts else 0.0,
                "budget_exceeded": s.budget, "crashes": s.crashes, "hangs": s.hangs, "syscalls": s.syscalls,
                "last_signal": s.last_signal, "last_syscall": s.last_syscall, "bad_records": s.bad_records,
                "restarts": s.restarts, "out_of_bounds": s.oob, "refused": s.refused,
                "counters": [int(ctr[i]) for i in range(16)], "drops": drops, "exceptions": excs,
                "containment": "worker" if mode == 1 else "unsafe_in_process",
                "stopped": ffi.string(why).decode(errors="replace"),
                "call_wall_us": round(s.wall_ns / s.calls / 1e3, 3) if s.calls else 0.0}

    # ------------------------------------------------------------------ fast paths
    def add_fastpath(self, slice_id: int, code_option: str, *, queues: int, filters: int, stats: int = 0,
                     buffers: int, sram_bytes: int = 0, dram_bytes: int = 0, kbps: int, vid: int | None = None) -> None:
        """Reserve a fast path for ``slice_id`` (1..4094) running ``code_option``
        (a loaded name, or a source ``load_code_option`` takes): ``queues``
        queues (the slice's queues 0..queues-1), ``filters`` TCAM entries,
        ``stats`` counters (indices 0..stats-1), ``buffers`` packet buffers (the
        most its queues may hold at once; more are dropped fastpath_buffers),
        ``sram_bytes`` of SRAM (the code option's window for the slice),
        ``dram_bytes`` of DRAM (accounted only), ``kbps`` of bandwidth (its
        queues together send at most this). ``vid``: the VID frames for it
        carry (default: the slice id). Raises CapacityError naming what is short."""
        for nm, v in (("queues", queues), ("filters", filters), ("stats", stats), ("buffers", buffers),
                      ("sram_bytes", sram_bytes), ("dram_bytes", dram_bytes), ("kbps", kbps)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"npe: {nm} must be an integer >= 0, got {v!r}")
        if not isinstance(slice_id, int) or not 1 <= slice_id <= 4094:
            raise ValueError(f"npe: slice id must be 1..4094, got {slice_id!r}")
        if slice_id in self._fps:
            raise ValueError(f"npe: slice {slice_id} already has a fast path (free it first)")
        vid = slice_id if vid is None else int(vid)
        if not 1 <= vid <= 4094:
            raise ValueError(f"npe: VID {vid} out of range 1..4094")
        other = next((f.slice for f in self._fps.values() if f.vid == vid), None)
        if other is not None:
            raise ValueError(f"npe: VID {vid} is slice {other}'s fast path's")
        if queues < 1 or buffers < 1:
            raise ValueError("npe: a fast path needs at least one queue (MI 0's) and one packet buffer")
        name = self.load_code_option(code_option)
        if None not in self._slots:
            raise CapacityError("npe", "fast paths", 1, 0, self.n_fastpaths)
        used = lambda attr: sum(getattr(f, attr) for f in self._fps.values())  # noqa: E731
        for resource, asked, attr, total, unit in (
                ("filters", filters, "filters", int(self.profile.value("npe_filter_entries")), ""),
                ("packet buffers", buffers, "buffers", self.m.n_buffers - 1, ""),
                ("SRAM", sram_bytes, "sram", int(self.profile.value("npe_fastpath_sram_bytes")), "B"),
                ("DRAM", dram_bytes, "dram", int(self.profile.value("npe_fastpath_dram_bytes")), "B"),
                ("bandwidth", kbps, "kbps", self.ports[0].rate_bps // 1000, "Kb/s")):
            if used(attr) + asked > total:
                raise CapacityError("npe", resource, asked, total - used(attr), total, unit)
        qb = self._queues.take(queues)
        if qb is None:
            raise CapacityError("npe", "queues (contiguous)", queues, self._queues.left(), self._queues.total)
        sb = self._stats.take(stats)
        if sb is None:
            self._queues.give(qb, queues)
            raise CapacityError("npe", "stats counters (contiguous)", stats, self._stats.left(), self._stats.total)
        mb = self._sram[name].take(sram_bytes)
        if mb is None:
            self._queues.give(qb, queues)
            self._stats.give(sb, stats)
            raise CapacityError("npe", f"SRAM of code option {name!r} (contiguous)", sram_bytes,
                                self._sram[name].left(), self._sram[name].total, "B")
        slot = self._slots.index(None)
        fp = _FastPath(slice_id, slot, name, vid, kbps, filters, qb, queues, sb, stats, buffers, mb, sram_bytes,
                       dram_bytes)
        self._slots[slot] = slice_id
        self._fps[slice_id] = fp
        self._write_fp(fp)
        self._check(lib.np_hash_set(self.m.ptr, self.tables["vids"], vid, slot + 1))
        self._qm_node(self._fp_node(fp), -1, kbps, buffers)

    def free_fastpath(self, slice_id: int) -> None:
        """Free the fast path and everything it holds: filters, endpoints, MIs,
        queues, counters, memory. Packets of it still in the pipeline are
        dropped (no_fastpath); packets already queued are sent."""
        fp = self._fp(slice_id)
        for fid in list(fp.filter_ids):
            self._check(lib.np_tcam_del(self.m.ptr, self.tables["filters"], fid))
        for mi in list(fp.mis):
            self._drop_mi(fp, mi)
        for q in range(fp.queues):
            qid = self._qid(fp.queue_base + q)
            hqm_set_queue(self.m, self.qm_inst, qid, threshold=self.profile.value("hqm.threshold"),
                          quantum=self.profile.value("hqm.quantum"), kbps=0, node=-1)
        self._qm_node(self._fp_node(fp), -1, 0, 0)
        self._put("fps", fp.slot, "spp_fp_rec")
        self._check(lib.np_hash_del(self.m.ptr, self.tables["vids"], fp.vid))
        self._queues.give(fp.queue_base, fp.queues)
        self._stats.give(fp.stats_base, fp.stats)
        self._sram[fp.copt].give(fp.sram_base, fp.sram)
        self._slots[fp.slot] = None
        del self._fps[slice_id]

    def fastpath(self, slice_id: int) -> dict[str, Any]:
        """What a fast path reserved and uses: resources, MIs, queue bindings, filters."""
        fp = self._fp(slice_id)
        return {"slice": fp.slice, "code_option": fp.copt, "vid": fp.vid, "kbps": fp.kbps, "filters": fp.filters,
                "filters_used": len(fp.filter_ids), "queues": fp.queues, "stats": fp.stats, "buffers": fp.buffers,
                "sram_bytes": fp.sram, "dram_bytes": fp.dram,
                "mis": {mi: {"endpoint": x.endpoint, "kbps": x.kbps, "board_mac": x.mac, "vid": x.vid,
                             "peer": x.peer} for mi, x in sorted(fp.mis.items())},
                "queue_mi": dict(sorted(fp.bound.items()))}

    @property
    def fastpaths(self) -> list[int]:
        """Slices with a fast path."""
        return sorted(self._fps)

    def capacity(self) -> dict[str, dict[str, int]]:
        """Each resource the NPE gives fast paths: total and left."""
        used = lambda attr: sum(getattr(f, attr) for f in self._fps.values())  # noqa: E731
        tot = {"fast paths": self.n_fastpaths, "code options": int(self.profile.value("npe_code_options")),
               "MIs per fast path": self.n_mis, "filters": int(self.profile.value("npe_filter_entries")),
               "queues": self._queues.total, "stats counters": self._stats.total,
               "packet buffers": self.m.n_buffers - 1, "SRAM": int(self.profile.value("npe_fastpath_sram_bytes")),
               "DRAM": int(self.profile.value("npe_fastpath_dram_bytes")), "bandwidth": self.ports[0].rate_bps // 1000}
        use = {"fast paths": len(self._fps), "code options": len(self._copts), "MIs per fast path": 0,
               "filters": used("filters"), "queues": used("queues"),
               "stats counters": used("stats"), "packet buffers": used("buffers"), "SRAM": used("sram"),
               "DRAM": used("dram"), "bandwidth": used("kbps")}
        return {k: {"total": v, "left": v - use[k]} for k, v in tot.items()}

    # ------------------------------------------------------------------ meta-interfaces
    def add_meta_interface(self, slice_id: int, mi: int, *, endpoint: Any = None, kbps: int, board_mac: str,
                           vid: int, peer: Any = None) -> None:
        """Create meta-interface ``mi`` of the slice's fast path with ``kbps`` of
        its bandwidth. MI 0 is the local-delivery/exception path to the slice's
        slow path and has no endpoint; MI 1.. is bound to ``endpoint`` (IPv4
        address, UDP port), which no other MI may have. Its frames go to
        ``board_mac`` (the line card for an external MI, the slice's GPE for
        MI 0) with ``vid`` (the receiving board's context); ``peer`` is the
        next hop a filter without one sends to."""
        fp = self._fp(slice_id)
        if not isinstance(mi, int) or not 0 <= mi < self.n_mis:
            raise ValueError(f"npe: MI must be 0..{self.n_mis - 1}, got {mi!r}")
        if mi in fp.mis:
            raise ValueError(f"npe: slice {slice_id} already has MI {mi}")
        if mi == 0 and endpoint is not None:
            raise ValueError("npe: MI 0 (local delivery and exceptions) has no endpoint: frames from the slow path "
                             "carry a meta header of kind inject")
        if mi != 0 and endpoint is None:
            raise ValueError(f"npe: MI {mi} needs an endpoint (IPv4 address, UDP port)")
        ep = None if endpoint is None else _endpoint(endpoint)
        if ep is not None and ep in self._endpoints:
            s, m = self._endpoints[ep]
            raise ValueError(f"npe: endpoint {ep[0]}:{ep[1]} is slice {s}'s MI {m}")
        pe = None if peer is None else _endpoint(peer)
        if not 1 <= int(vid) <= 4094:
            raise ValueError(f"npe: VID {vid} out of range 1..4094")
        if isinstance(kbps, bool) or not isinstance(kbps, int) or kbps < 0:
            raise ValueError(f"npe: kbps must be an integer >= 0, got {kbps!r}")
        used = sum(x.kbps for x in fp.mis.values())
        if used + kbps > fp.kbps:
            raise CapacityError(f"npe: slice {slice_id}", "fast-path bandwidth for MIs", kbps, fp.kbps - used, fp.kbps,
                                "Kb/s")
        mac = mac_to_int(board_mac)
        rec = dict(valid=1, vid=int(vid), mac_hi=mac >> 16, mac_lo=mac & 0xFFFF)
        if ep is not None:
            rec.update(ip=ip_to_int(ep[0]), port=ep[1])
        if pe is not None:
            rec.update(peer_ip=ip_to_int(pe[0]), peer_port=pe[1])
        self._put("mis", self._mi_node(fp, mi), "spp_mi_rec", **rec)
        if ep is not None:
            self._check(lib.np_hash_set(self.m.ptr, self.tables["endpoints"], ip_to_int(ep[0]) << 16 | ep[1],
                                        (fp.slot + 1) << 16 | mi))
            self._endpoints[ep] = (slice_id, mi)
        self._qm_node(self._mi_node(fp, mi), self._fp_node(fp), kbps, 0)
        fp.mis[mi] = _MI(ep, kbps, int_to_mac(mac), int(vid), pe)

    def del_meta_interface(self, slice_id: int, mi: int) -> None:
        """Remove an MI: its endpoint stops matching (substrate_unknown_endpoint),
        filters sending to it drop (fastpath_no_mi); its queues stay bound."""
        fp = self._fp(slice_id)
        if mi not in fp.mis:
            raise KeyError(f"npe: slice {slice_id} has no MI {mi}; MIs: {sorted(fp.mis)}")
        self._drop_mi(fp, mi)

    def _drop_mi(self, fp: _FastPath, mi: int) -> None:
        x = fp.mis.pop(mi)
        if x.endpoint is not None:
            self._check(lib.np_hash_del(self.m.ptr, self.tables["endpoints"],
                                        ip_to_int(x.endpoint[0]) << 16 | x.endpoint[1]))
            del self._endpoints[x.endpoint]
        self._put("mis", self._mi_node(fp, mi), "spp_mi_rec")
        self._qm_node(self._mi_node(fp, mi), -1, 0, 0)

    # ------------------------------------------------------------------ queues
    def bind_queue(self, slice_id: int, qid: int, mi: int, *, threshold: int | None = None, weight: int = 1) -> None:
        """Bind the slice's queue ``qid`` (0..queues-1) to MI ``mi`` with a
        threshold in bytes (arrivals beyond it are dropped, qm_threshold) and a
        WDRR weight (its quantum is ``weight`` x hqm.quantum bytes). The
        fast path's exceptions use the highest-numbered queue bound to MI 0."""
        fp = self._fp(slice_id)
        if not isinstance(qid, int) or not 0 <= qid < fp.queues:
            raise ValueError(f"npe: slice {slice_id} has queues 0..{fp.queues - 1}, not {qid!r}")
        if mi not in fp.mis:
            raise KeyError(f"npe: slice {slice_id} has no MI {mi}; MIs: {sorted(fp.mis)}")
        if not isinstance(weight, int) or not 1 <= weight <= 4096:
            raise ValueError(f"npe: weight must be 1..4096, got {weight!r}")
        th = self.profile.value("hqm.threshold") if threshold is None else int(threshold)
        if not 0 <= th <= 0xFFFFFFFF:
            raise ValueError(f"npe: threshold must be 0..4294967295 bytes, got {threshold}")
        hqm_set_queue(self.m, self.qm_inst, self._qid(fp.queue_base + qid), threshold=th,
                      quantum=weight * self.profile.value("hqm.quantum"), kbps=0, node=self._mi_node(fp, mi))
        fp.bound[qid] = mi
        self._write_fp(fp)

    def queue(self, slice_id: int, qid: int) -> dict[str, Any]:
        """A queue of the slice: its MI, threshold, quantum and what it holds now."""
        fp = self._fp(slice_id)
        if not isinstance(qid, int) or not 0 <= qid < fp.queues:
            raise ValueError(f"npe: slice {slice_id} has queues 0..{fp.queues - 1}, not {qid!r}")
        q = hqm_queue(self.m, self.qm_inst, self._qid(fp.queue_base + qid))
        return {"mi": fp.bound.get(qid), "threshold": q["threshold"], "quantum": q["quantum"], "pkts": q["pkts"],
                "bytes": q["bytes"]}

    def queue_stats(self, slice_id: int, qid: int) -> dict[str, int]:
        """Packets and bytes the slice's queue took, sent and dropped; what it holds."""
        fp = self._fp(slice_id)
        if not isinstance(qid, int) or not 0 <= qid < fp.queues:
            raise ValueError(f"npe: slice {slice_id} has queues 0..{fp.queues - 1}, not {qid!r}")
        return hqm_queue_stats(self.m, self.qm_inst, self._qid(fp.queue_base + qid))

    def rate_stats(self, slice_id: int, mi: int | None = None) -> dict[str, int]:
        """The scheduler's counts for the fast path (``mi`` None) or one of its
        MIs: rate (Kb/s), packets queued below it now, packets and bytes sent,
        arrivals dropped at its packet limit (fastpath_buffers)."""
        fp = self._fp(slice_id)
        node = self._fp_node(fp) if mi is None else self._mi_node(fp, mi)
        parent, kbps, limit, queued = ffi.new("int32_t *"), ffi.new("uint64_t *"), ffi.new("uint32_t *"), \
            ffi.new("uint32_t *")
        out = ffi.new("uint64_t[4]")
        self._check(lib.np_hqm_node_get(self.m.ptr, self.qm_inst, node, parent, kbps, limit, queued, out))
        return {"kbps": kbps[0], "limit": limit[0], "queued": queued[0], "sent_pkts": out[1], "sent_bytes": out[2],
                "limit_drops": out[3]}

    # ------------------------------------------------------------------ filters
    def add_filter(self, slice_id: int, key: Mapping[str, Any], result: Mapping[str, Any], *,
                   priority: int = 50) -> int:
        """Write a filter of the slice's fast path; returns its id.

        ``key``: the code option's key fields (``CodeOption.key_value_mask``;
        e.g. IPv4 ``{"dst": "10.1.0.0/16", "in_mi": 1}``, i3 ``{"id": (b, 128)}``),
        unnamed fields match anything. ``result``: ``action`` -- "forward"
        (default: out of the queue's MI through the code option's Header
        Format), "local" (to the slow path, local delivery), "exception" (to
        the slow path) or "drop"; ``queue`` (the slice's, bound to an MI;
        required to forward); ``mi`` (optional: must be the queue's MI; MI 0
        is local delivery); ``next_hop`` (IPv4, UDP port; default: the MI's
        peer); ``stats`` (the slice's counter index); ``arg`` (32 bits for the
        code option). Among matching filters the lowest ``priority`` (0..63)
        wins, then the one with more key bits specified (longest prefix)."""
        fp = self._fp(slice_id)
        slot, copt = self._copts[fp.copt]
        bad = set(result) - set(RESULT_KEYS)
        if bad:
            raise KeyError(f"npe: unknown filter result field {sorted(bad)[0]!r}; valid: {', '.join(RESULT_KEYS)}")
        action = result.get("action", "forward")
        if action not in ACTIONS:
            raise ValueError(f"npe: filter action {action!r}; valid: {', '.join(ACTIONS)}")
        if not isinstance(priority, int) or not 0 <= priority <= 63:
            raise ValueError(f"npe: filter priority must be 0..63, got {priority!r}")
        if len(fp.filter_ids) >= fp.filters:
            raise CapacityError(f"npe: slice {slice_id}", "reserved filters", 1, 0, fp.filters)
        value, mask, bits = copt.key_value_mask(key)
        a = ffi.new("np_result_t *")
        a.kind = ACTIONS[action]
        q, mi = result.get("queue"), result.get("mi")
        if q is not None:
            if not isinstance(q, int) or not 0 <= q < fp.queues:
                raise ValueError(f"npe: slice {slice_id} has queues 0..{fp.queues - 1}, not {q!r} "
                                 "(a filter names only its own slice's queues)")
            if q not in fp.bound:
                raise ValueError(f"npe: slice {slice_id}'s queue {q} is bound to no MI (bind_queue first)")
            if mi is not None and mi != fp.bound[q]:
                raise ValueError(f"npe: slice {slice_id}'s queue {q} is bound to MI {fp.bound[q]}, not MI {mi}")
            mi = fp.bound[q]
            a.qid = fp.queue_base + q
        if action == "forward":
            if q is None:
                raise ValueError("npe: a forwarding filter names its queue (result 'queue')")
            if mi == 0:
                a.kind = ACTIONS["local"]
            else:
                nh = result.get("next_hop")
                if nh is not None:
                    ip, port = _endpoint(nh)
                    a.nh_ip, a.arg = ip_to_int(ip), port
                elif fp.mis[mi].peer is None:
                    raise ValueError(f"npe: slice {slice_id}'s MI {mi} has no peer: give the filter a next_hop")
                a.ports = mi
        elif action == "local" and q is not None and mi != 0:
            raise ValueError(f"npe: local delivery goes to MI 0; queue {q} is bound to MI {mi}")
        st = result.get("stats")
        if st is not None:
            if not isinstance(st, int) or not 0 <= st < fp.stats:
                raise ValueError(f"npe: slice {slice_id} has stats counters 0..{fp.stats - 1}, not {st!r}")
            a.stats = fp.stats_base + st
        arg = result.get("arg", 0)
        if not isinstance(arg, int) or not 0 <= arg <= 0xFFFFFFFF:
            raise ValueError(f"npe: filter arg must be 0..4294967295, got {arg!r}")
        a.aux = arg
        words = [(value >> s) & 0xFFFFFFFF for s in (96, 64, 32, 0)]
        masks = [(mask >> s) & 0xFFFFFFFF for s in (96, 64, 32, 0)]
        v = ffi.new("uint32_t[5]", [fp.slot] + words)
        k = ffi.new("uint32_t[5]", [0xFFFF] + masks)
        rank = priority << 40 | (128 - bits) << 24 | next(self._seq) & 0xFFFFFF
        fid = self._check(lib.np_tcam_add(self.m.ptr, self.tables["filters"], v, k, rank, a, 0))
        fp.filter_ids.add(fid)
        return fid

    def del_filter(self, slice_id: int, fid: int) -> None:
        """Delete one of the slice's filters (another slice's is refused)."""
        fp = self._fp(slice_id)
        if fid not in fp.filter_ids:
            raise KeyError(f"npe: filter {fid} is not one of slice {slice_id}'s filters")
        self._check(lib.np_tcam_del(self.m.ptr, self.tables["filters"], fid))
        fp.filter_ids.discard(fid)

    def filters(self, slice_id: int) -> list[int]:
        """The slice's filter ids."""
        return sorted(self._fp(slice_id).filter_ids)

    # ------------------------------------------------------------------ statistics
    def stats_counters(self, slice_id: int, idx: int) -> dict[str, int]:
        """The slice's counter ``idx``: pre-queue (Header Format) and post-queue
        (sent by the QM) packets and bytes."""
        fp = self._fp(slice_id)
        if not isinstance(idx, int) or not 0 <= idx < fp.stats:
            raise ValueError(f"npe: slice {slice_id} has stats counters 0..{fp.stats - 1}, not {idx!r}")
        out = ffi.new("uint64_t[4]")
        self._check(lib.np_stats_index(self.m.ptr, self.stats_block, fp.stats_base + idx, out))
        return {"pre_pkts": out[0], "pre_bytes": out[1], "post_pkts": out[2], "post_bytes": out[3]}

    def stats(self) -> dict[str, Any]:
        """Everything measurable (the base's, plus queues, fast paths, code options)."""
        st = super().stats()
        st["queues"] = hqm_active_queues(self.m, self.qm_inst)
        st["fastpaths"] = {s: self.fastpath(s) for s in self.fastpaths}
        st["code_options"] = {n: self.code_option_stats(n) for n in self._copts}
        return st
