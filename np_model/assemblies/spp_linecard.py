"""LineCard: the SPP's line card -- all of the node's external I/O, on one IXP2850.

The wiring diagram (``LineCard.wiring_diagram``) [virtual_routers.md 1.1, 1.4]::

    ingress: Rx -> Key Extract -> Lookup -> Header Format -> QM (ingress) -> Tx  (to the fabric)
    egress:  Rx -> Key Extract -> Lookup -> Header Format -> QM (egress)  -> Tx  (to the external ports)
             (2 MEs)   (1)          (1)          (1)          (1 each)      (1)

plus FreeList and the control processor (ARP and other non-IPv4 frames of
the external ports; frames the host sends out of them). Ports 0..K-1 are
the external interfaces, port K the 10 GbE port to the fabric switch.

Ingress: an endpoint filter (external IPv4 address, UDP port) sends the
frame to the board that owns the endpoint -- the NPE running its fast path,
or a GPE -- as an internal frame (np_model.spp_formats) with the VID of its
context there; the default filter sends everything else to the GPE. Egress:
an internal frame's VID is an egress context, i.e. an external port and a
queue of it; the queues are paced at their rates, so each slice gets its
share of the interface (SPP: "queues outgoing packets so that each slice
gets its share of interface bandwidth"). The line card does not change the
datagrams it carries (it is not a router hop: no TTL decrement).
"""
from __future__ import annotations

import ipaddress
import itertools
from typing import Any, Sequence

from ..core import ffi, lib
from ..engine.machine import HwRing, RingKind, TableKind
from ..profile import IXP2850, Profile
from ..spp_formats import endpoint as _endpoint
from .base import DEFAULT_KEEP_RECORDS, Assembly, BlockSpec, MESpec, RingSpec, TableSpec, Wiring
from .spp_common import CapacityError, hqm_active_queues, hqm_queue, hqm_queue_stats, hqm_set_queue, spp_machine
from .types import HostPacket, PortConfig, encode_qid, int_to_mac, ip_to_int, mac_to_int

__all__ = ["LineCard", "CapacityError", "CONTROL_QID"]

MAC_VALID = 1 << 48
LC_TO_NPE, LC_TO_GPE = 0, 1         # lc_lookup.c result kinds
#: the queue of each external port that frames the line card's host sends (ARP replies) use
CONTROL_QID = 8191


class LineCard(Assembly):
    """The SPP line card (one IXP2850 NP).

    Args:
        profile: the SPP profile (np_model.profile.IXP2850).
        n_external: external ports (1..6), used when ``ports`` is not given:
            port i is 10.0.{i+1}.1/24 with MAC 02:5c:00:00:01:{i+1}.
        ports: the external interfaces' configurations (address with prefix,
            MAC, rate, MTU); ``n_external`` is then their number.
        fabric_mac: the MAC of port K, the fabric port (internal frames to the
            line card carry it).
        engine, buffers, keep_records, capture, seed: as for the NPR.
        answer_arp: answer ARP requests for the external ports' addresses
            (``host_handler`` = ``LineCard.answer_arp``; set another handler
            to do it yourself).
    """

    def __init__(self, profile: Profile = IXP2850, *, n_external: int = 4, ports: Sequence[PortConfig] | None = None,
                 fabric_mac: str = "02:5c:00:00:00:01", engine: str = "c", buffers: int | None = None,
                 keep_records: bool | int = DEFAULT_KEEP_RECORDS, capture: bool = True, seed: int = 1,
                 answer_arp: bool = True):
        self.profile = p = profile
        if ports is None:
            if isinstance(n_external, bool) or not isinstance(n_external, int):
                raise ValueError(f"n_external must be an integer, got {n_external!r}")
            ports = [PortConfig(f"10.0.{i + 1}.1/24", f"02:5c:00:00:01:{i + 1:02x}", p.value("lc_ext_rate_bps"),
                                p.value("lc_ext_mtu")) for i in range(n_external)]
        ext = list(ports)
        enq = int(p.value("hqm.enq_threads"))
        kmax = min(6, int(p.value("threads_per_me")) - enq)
        if not 1 <= len(ext) <= kmax:
            raise ValueError(f"a line card has 1..{kmax} external ports (its egress queue manager runs "
                             f"{enq} enqueue threads and one scheduler per port on one ME), got {len(ext)}")
        self.n_external = K = len(ext)
        if not 1 <= p.value("lc_egress_contexts") <= 4094:
            raise ValueError(f"lc_egress_contexts must be 1..4094 (one per VID), got {p.value('lc_egress_contexts')}")
        fabric = PortConfig("10.255.0.1/24", fabric_mac, p.value("spp_fabric_rate_bps"), p.value("spp_fabric_mtu"))
        self._setup(ext + [fabric], keep_records=keep_records, capture=capture)
        self.fabric_port = K
        n_buffers = buffers or p.value("packet_buffers")
        if not 16 <= n_buffers <= (1 << 24):
            raise ValueError(f"buffers must be 16..16777216, got {n_buffers}")
        self.m, self.mems = spp_machine(p, n_buffers=n_buffers, seed=seed)
        w = self.wiring_diagram()
        if len(w.mes) - 1 > p.value("n_me"):                # the last is the control processor
            raise ValueError(f"the line card puts blocks on {len(w.mes) - 1} microengines; the profile's NP has "
                             f"{p.value('n_me')}")
        self.rewire(w)
        self._materialize(w)
        for pc in self.ports:
            if pc.mtu + 18 > lib.NP_MAX_FRAME:
                raise ValueError(f"port MTU {pc.mtu} too large for the {lib.NP_MAX_FRAME}-byte buffers")
            self.m.add_port(pc.rate_bps, mac_to_int(pc.mac), int(pc.interface.ip), pc.mtu)
        self.m.start()
        self._start_engine(self.m, engine)
        self.qm_in, self.qm_eg = self.insts["qm_in"], self.insts["qm_eg"]
        self._seq = itertools.count(1)
        self._filters: dict[tuple[str, int], int] = {}
        self._default: int | None = None
        self._contexts: dict[int, tuple[int, int]] = {}
        self._next_hops: dict[int, str] = {}
        if answer_arp:
            self.host_handler = LineCard.answer_arp
        self.arp_replies = 0

    # ------------------------------------------------------------------ wiring
    def wiring_diagram(self) -> Wiring:
        """The line card as data: rings, tables, block instances, MEs."""
        p = self.profile
        W = p.value("spp_ring_words")
        K = self.n_external
        R = RingSpec
        rings = {
            "rbuf": R(RingKind.PUSH, None, 2, 2 * p.value("rbuf_elements"), "rbuf_status", HwRing.RBUF),
            "txdone": R(RingKind.PUSH, None, 1, 256 * (K + 1), "txdone", HwRing.TXDONE),
            "host_in": R(RingKind.PUSH, None, 1, 256, "host_in", HwRing.HOST_IN),
            "bufq": R(RingKind.QUEUE, "sram2", 1, self.m.n_buffers, "buf", HwRing.BUFQ),
            "rx_kx": R(RingKind.MEM, "scratch", 2, W, "rx_mux"),
            "kx_lookup": R(RingKind.MEM, "scratch", 4, W, "lc_key"),
            "lookup_hf": R(RingKind.MEM, "sram1", 5, W, "lc_res"),
            "hf_qm_in": R(RingKind.MEM, "scratch", 3, W, "plc_qm"),
            "hf_qm_eg": R(RingKind.MEM, "scratch", 3, W, "plc_qm"),
            "qm_tx": R(RingKind.MEM, "scratch", 2, W, "hf_tx"),
            "free": R(RingKind.MEM, "scratch", 1, W, "buf"),
            "exc": R(RingKind.MEM, "sram1", 6, W, "exc"),
            "ld": R(RingKind.MEM, "sram1", 6, W, "exc"),
            "xs_qm": R(RingKind.MEM, "sram1", 1, W, "buf"),
        }
        tables = {
            "filters": TableSpec(TableKind.TCAM, p.value("lc_filter_entries"), "lc_filter_key"),
            "egress": TableSpec(TableKind.HASH, p.value("lc_egress_contexts")),
            "arp": TableSpec(TableKind.HASH, p.value("lc_arp_entries")),
            "nexthop": TableSpec(TableKind.HASH, K),
        }
        pkt = {"pkt": "dram", "desc": "sram2"}
        B = BlockSpec
        insts = {
            "rx": B("rx", {"in": "rbuf", "bufq": "bufq", "out": "rx_kx"}, dict(pkt)),
            "kx": B("lc_kx", {"in": "rx_kx", "out": "kx_lookup", "exc": "exc", "free": "free"}, dict(pkt),
                    params={"fabric_port": K}),
            "lookup": B("lc_lookup", {"in": "kx_lookup", "out": "lookup_hf", "free": "free"},
                        {"tcam": "tcam", "result": "sram1", "cfg": "sram0"}, {t: t for t in tables}),
            "hf": B("lc_hf", {"in": "lookup_hf", "out_ingress": "hf_qm_in", "out_egress": "hf_qm_eg", "free": "free"},
                    {"pkt": "dram"}, params={"fabric_port": K}),
            "qm_in": B("hqm", {"in": "hf_qm_in", "out": "qm_tx", "free": "free"}, {"qparam": "sram1", "qdesc": "sram2"},
                       params={"port_base": K, "ports": 1, "nodes": 0}),
            "qm_eg": B("hqm", {"in": "hf_qm_eg", "in_pt": "xs_qm", "out": "qm_tx", "free": "free"},
                       {"qparam": "sram0", "qdesc": "sram2"}, params={"port_base": 0, "ports": K, "nodes": 0}),
            "tx": B("tx", {"in": "qm_tx", "txdone": "txdone", "free": "free"}, dict(pkt)),
            "freelist": B("freelist", {"in": "free", "bufq": "bufq"}, {"desc": "sram2"}),
            "xscale": B("xscale", {"ld": "ld", "exc": "exc", "host_in": "host_in", "to_mux_qm": "xs_qm", "free": "free",
                                   "bufq": "bufq"}, dict(pkt)),
        }
        tpm = p.value("threads_per_me")
        mes = [MESpec("rx0", "rx", tpm), MESpec("rx1", "rx", tpm), MESpec("kx", "kx", tpm),
               MESpec("lookup", "lookup", tpm), MESpec("hf", "hf", tpm), MESpec("qm_in", "qm_in", tpm),
               MESpec("qm_eg", "qm_eg", tpm), MESpec("tx", "tx", tpm), MESpec("freelist", "freelist", tpm),
               MESpec("xscale", "xscale", 2)]
        return Wiring(rings, tables, insts, mes)

    def _ext(self, port: int) -> int:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < self.n_external:
            raise ValueError(f"external port {port!r} does not exist (0..{self.n_external - 1})")
        return port

    @staticmethod
    def _vid(vid: int) -> int:
        if isinstance(vid, bool) or not isinstance(vid, int) or not 1 <= vid <= 4094:
            raise ValueError(f"VID {vid!r} out of range 1..4094")
        return vid

    def _queue_args(self, qid: int, threshold: int | None, weight: int) -> tuple[int, int]:
        if isinstance(qid, bool) or not isinstance(qid, int) or not 0 <= qid < lib.NP_QUEUES_PER_PORT:
            raise ValueError(f"queue {qid!r} out of range 0..{lib.NP_QUEUES_PER_PORT - 1}")
        if not isinstance(weight, int) or not 1 <= weight <= 4096:
            raise ValueError(f"weight must be 1..4096, got {weight!r}")
        th = self.profile.value("hqm.threshold") if threshold is None else int(threshold)
        if not 0 <= th <= 0xFFFFFFFF:
            raise ValueError(f"threshold must be 0..4294967295 bytes, got {threshold}")
        return th, weight * self.profile.value("hqm.quantum")

    # ------------------------------------------------------------------ ingress
    def _result(self, to: str, board_mac: str, vid: int, qid: int) -> Any:
        if to not in ("npe", "gpe"):
            raise ValueError(f"to must be 'npe' or 'gpe', got {to!r}")
        a = ffi.new("np_result_t *")
        a.kind = LC_TO_NPE if to == "npe" else LC_TO_GPE
        a.nh_mac = mac_to_int(board_mac) | MAC_VALID
        a.arg = self._vid(vid)
        if isinstance(qid, bool) or not isinstance(qid, int) or not 0 <= qid < lib.NP_QUEUES_PER_PORT:
            raise ValueError(f"queue {qid!r} out of range 0..{lib.NP_QUEUES_PER_PORT - 1}")
        a.qid = encode_qid(self.fabric_port, qid)
        return a

    def add_endpoint_filter(self, ip: str, udp_port: int, *, to: str = "npe", board_mac: str, vid: int,
                            qid: int = 0) -> int:
        """Send UDP datagrams for the endpoint (``ip``, ``udp_port``) to the board
        ``board_mac`` (``to``: "npe" or "gpe", counted apart) with ``vid``, through
        ingress queue ``qid``. One filter per endpoint; returns its id."""
        ep = _endpoint((ip, udp_port))
        if ep in self._filters:
            raise ValueError(f"line card: endpoint {ep[0]}:{ep[1]} already has filter {self._filters[ep]} "
                             "(delete it first)")
        a = self._result(to, board_mac, vid, qid)
        cap = int(self.profile.value("lc_filter_entries")) - (1 if self._default is not None else 0)
        if len(self._filters) >= cap:
            raise CapacityError("line card", "endpoint filters", 1, 0, cap)
        v = ffi.new("uint32_t[5]", [ip_to_int(ep[0]), ep[1] | 17 << 16, 0, 0, 0])
        k = ffi.new("uint32_t[5]", [0xFFFFFFFF, 0xFFFF | 0xFF << 16, 0, 0, 0])
        fid = self._check(lib.np_tcam_add(self.m.ptr, self.tables["filters"], v, k, next(self._seq), a, 0))
        self._filters[ep] = fid
        return fid

    def del_endpoint_filter(self, ip: str, udp_port: int) -> None:
        """Remove the endpoint's filter: its datagrams go by the default filter again."""
        ep = _endpoint((ip, udp_port))
        if ep not in self._filters:
            raise KeyError(f"line card: endpoint {ep[0]}:{ep[1]} has no filter")
        self._check(lib.np_tcam_del(self.m.ptr, self.tables["filters"], self._filters.pop(ep)))

    @property
    def endpoint_filters(self) -> dict[tuple[str, int], int]:
        """Endpoint -> filter id."""
        return dict(self._filters)

    def set_default_to_gpe(self, *, board_mac: str, vid: int, qid: int = 0) -> None:
        """The default filter: every frame no endpoint filter takes (other
        protocols and ports too) goes to the GPE ``board_mac`` with ``vid``."""
        a = self._result("gpe", board_mac, vid, qid)
        a.flags = 1
        if self._default is not None:
            self._check(lib.np_tcam_del(self.m.ptr, self.tables["filters"], self._default))
            self._default = None
        zero = ffi.new("uint32_t[5]")
        self._default = self._check(lib.np_tcam_add(self.m.ptr, self.tables["filters"], zero, zero, (1 << 63) - 1,
                                                    a, 0))

    def clear_default(self) -> None:
        """No default filter: frames no endpoint filter takes are dropped (lc_no_filter)."""
        if self._default is not None:
            self._check(lib.np_tcam_del(self.m.ptr, self.tables["filters"], self._default))
            self._default = None

    def set_ingress_queue(self, qid: int, *, kbps: int = 0, threshold: int | None = None, weight: int = 1) -> None:
        """An ingress queue toward the fabric: its rate (Kb/s, 0: none), threshold
        (bytes) and WDRR weight."""
        th, quantum = self._queue_args(qid, threshold, weight)
        hqm_set_queue(self.m, self.qm_in, encode_qid(self.fabric_port, qid), threshold=th, quantum=quantum,
                      kbps=int(kbps), node=-1)

    # ------------------------------------------------------------------ egress
    def set_egress_queue(self, ext_port: int, qid: int, *, kbps: int, threshold: int | None = None, weight: int = 1,
                         vid: int | None = None) -> None:
        """Queue ``qid`` of external port ``ext_port``, paced at ``kbps`` (0: the
        port's rate), with a threshold in bytes and a WDRR weight; ``vid``
        makes it an egress context: internal frames with that VID leave by it.
        Rates are not checked against the port's: the SRM admits them."""
        self._ext(ext_port)
        th, quantum = self._queue_args(qid, threshold, weight)
        if isinstance(kbps, bool) or not isinstance(kbps, int) or kbps < 0:
            raise ValueError(f"kbps must be an integer >= 0, got {kbps!r}")
        if vid is not None:
            self._vid(vid)
            other = self._contexts.get(vid)
            if other is not None and other != (ext_port, qid):
                raise ValueError(f"line card: VID {vid} is already the egress context of port {other[0]} queue "
                                 f"{other[1]} (delete it first)")
            if vid not in self._contexts and len(self._contexts) >= int(self.profile.value("lc_egress_contexts")):
                raise CapacityError("line card", "egress contexts", 1, 0, int(self.profile.value("lc_egress_contexts")))
        q = encode_qid(ext_port, qid)
        hqm_set_queue(self.m, self.qm_eg, q, threshold=th, quantum=quantum, kbps=kbps, node=-1)
        if vid is not None:
            self._check(lib.np_hash_set(self.m.ptr, self.tables["egress"], vid, ext_port << 16 | q))
            self._contexts[vid] = (ext_port, qid)

    def del_egress_context(self, vid: int) -> None:
        """Forget an egress context (its frames are then dropped, substrate_unknown_context)."""
        if vid not in self._contexts:
            raise KeyError(f"line card: no egress context with VID {vid}")
        self._check(lib.np_hash_del(self.m.ptr, self.tables["egress"], vid))
        del self._contexts[vid]

    @property
    def egress_contexts(self) -> dict[int, tuple[int, int]]:
        """VID -> (external port, queue)."""
        return dict(self._contexts)

    def set_next_hop(self, ext_port: int, mac: str) -> None:
        """The MAC frames leaving ``ext_port`` go to when the datagram's
        destination has no ARP entry (the interface's gateway or peer)."""
        self._check(lib.np_hash_set(self.m.ptr, self.tables["nexthop"], self._ext(ext_port), mac_to_int(mac)))
        self._next_hops[ext_port] = mac

    def set_arp(self, ip: str, mac: str) -> None:
        """The MAC of a destination on an external link (overrides the port's next hop)."""
        self._check(lib.np_hash_set(self.m.ptr, self.tables["arp"], ip_to_int(ip), mac_to_int(mac)))

    def del_arp(self, ip: str) -> None:
        self._check(lib.np_hash_del(self.m.ptr, self.tables["arp"], ip_to_int(ip)))

    def capacity(self) -> dict[str, dict[str, int]]:
        """Each table of the line card: total and left."""
        tot = {"endpoint filters": int(self.profile.value("lc_filter_entries")),
               "egress contexts": int(self.profile.value("lc_egress_contexts")),
               "ARP entries": int(self.profile.value("lc_arp_entries"))}
        use = {"endpoint filters": len(self._filters) + (self._default is not None),
               "egress contexts": len(self._contexts),
               "ARP entries": lib.np_table_count(self.m.ptr, self.tables["arp"])}
        return {k: {"total": v, "left": v - use[k]} for k, v in tot.items()}

    # ------------------------------------------------------------------ queues and statistics
    def queue(self, port: int, qid: int) -> dict[str, Any]:
        """A queue of an external port or of the fabric port: parameters, what it holds."""
        inst = self.qm_in if port == self.fabric_port else self.qm_eg
        return hqm_queue(self.m, inst, encode_qid(self._port(port), qid))

    def queue_stats(self, port: int, qid: int) -> dict[str, int]:
        """Packets and bytes a queue took, sent and dropped; what it holds now."""
        inst = self.qm_in if port == self.fabric_port else self.qm_eg
        return hqm_queue_stats(self.m, inst, encode_qid(self._port(port), qid))

    def stats(self) -> dict[str, Any]:
        """Everything measurable (the base's, plus every queue that saw a packet)."""
        st = super().stats()
        st["queues"] = {**hqm_active_queues(self.m, self.qm_eg), **hqm_active_queues(self.m, self.qm_in)}
        st["arp_replies"] = self.arp_replies
        return st

    # ------------------------------------------------------------------ the control processor
    def inject(self, frame: bytes, *, out_port: int, qid: int = CONTROL_QID, at_ns: float | None = None) -> None:
        """The line card's host sends a whole Ethernet frame out of an external
        port (through its control processor, in queue ``qid``)."""
        self._ext(out_port)
        t = self.engine.now if at_ns is None else self.ns_to_cycles(at_ns)
        self.m.inject(max(t, self.engine.now), bytes(frame), passthru=True, keep_l2=True, in_port=-1,
                      out_port=out_port, qid=encode_qid(out_port, qid), ptag=0)

    def answer_arp(self, hp: HostPacket) -> bool:
        """Answer an ARP request (RFC 826) for the address of the external port it
        came in on; True if ``hp`` was one. Usable as ``host_handler``."""
        from scapy.layers.l2 import ARP, Ether
        if len(hp.data) < 42 or hp.data[12:14] != b"\x08\x06" or not 0 <= hp.in_port < self.n_external:
            return False
        req = Ether(hp.data)
        pc = self.ports[hp.in_port]
        if ARP not in req or req[ARP].op != 1 or req[ARP].pdst != str(pc.interface.ip):
            return False
        rep = Ether(dst=req.src, src=pc.mac) / ARP(op=2, hwsrc=pc.mac, psrc=str(pc.interface.ip), hwdst=req[ARP].hwsrc,
                                                    pdst=req[ARP].psrc)
        self.inject(bytes(rep), out_port=hp.in_port)
        self.arp_replies += 1
        return True
