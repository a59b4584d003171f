"""The slice interface: the Resource Manager Proxy (RMP) calls a slice makes
(SPP command interface, virtual_routers.md §1.3: ``alloc_fastpath``,
``get_ifaces``, ``alloc_endpoint``, ``resrv_pl_ifbw`` ... ; names the
sources do not give -- meta-interface, queue and filter calls -- are this
project's, in the same style).

An ``RMP`` is bound to one slice. Every call that names a resource --
an endpoint, a fast path, and through the fast path its meta-interfaces,
queues, filters and counters -- checks that the slice owns it and raises
``AccessError`` otherwise, before anything changes (administration
isolation). Reservations go through the SRM (admission control,
``AdmissionError``); what was admitted is applied to the data path by the
node (``Dataplane``: the line card's and NPE's tables).

Rules enforced here (ARCH, virtual_routers.md §1.3):

1. the meta-interface bandwidths of a fast path never exceed its firm bandwidth (SRM);
2. every meta-interface has at least one queue before a filter may send to it;
3. the highest-numbered queues belong to meta-interface 0 (local delivery and
   exceptions): a queue bound to MI 0 is numbered above every queue bound to
   another MI.

A filter's result may name only the slice's own queues, meta-interfaces
and counters; a filter naming another slice's queue is refused (queue
numbers are the fast path's own, so another slice's queue is simply not
one of them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .srm import SRM, AccessError, AdmissionError, Endpoint, FastPath, SppError, endpoint_tuple

__all__ = ["RMP", "Dataplane", "FastPathState", "QueueState", "SppError", "AccessError", "AdmissionError",
           "DataplaneError"]

MAX_MI = 255


class DataplaneError(SppError):
    """The line card or NPE refused a request the SRM had admitted (its message says why)."""


class Dataplane(Protocol):
    """What the node does with admitted requests (network.spp.SPPNode implements it)."""

    def fastpath_added(self, fp: FastPath) -> None: ...
    def fastpath_freed(self, fp: FastPath, state: "FastPathState") -> None: ...
    def mi_added(self, fp: FastPath, mi: int, ep: Endpoint | None, kbps: int) -> None: ...
    def mi_removed(self, fp: FastPath, mi: int, ep: Endpoint | None) -> None: ...
    def queue_set(self, fp: FastPath, qid: int, mi: int, threshold: int, weight: int) -> None: ...
    def filter_written(self, fp: FastPath, key: dict, result: dict) -> int: ...
    def filter_deleted(self, fp: FastPath, handle: int) -> None: ...
    def read_stats(self, fp: FastPath, idx: int) -> dict[str, int]: ...
    def endpoint_added(self, slice_: str, ep: Endpoint) -> None: ...
    def interface_bandwidth_changed(self, slice_: str) -> None: ...
    def endpoint_freed(self, slice_: str, ep: Endpoint) -> None: ...


@dataclass
class QueueState:
    mi: int
    threshold: int
    weight: int


@dataclass
class FastPathState:
    """The slice-side view of its fast path: meta-interfaces, queues, filters."""

    mis: dict[int, Endpoint | None] = field(default_factory=dict)
    queues: dict[int, QueueState] = field(default_factory=dict)
    filters: dict[int, tuple[dict, dict, int]] = field(default_factory=dict)     # fid -> (key, result, handle)
    next_fid: int = 0


class RMP:
    """One slice's interface to the node (see module doc).

    Args:
        srm: the node's resource manager.
        slice_: the slice this proxy acts for.
        dataplane: the node that applies admitted requests (None: bookkeeping only,
            e.g. checking a configuration before a node exists).
    """

    def __init__(self, srm: SRM, slice_: str, dataplane: Dataplane | None = None):
        srm.slice(slice_)
        self.srm, self.slice, self.dp = srm, slice_, dataplane
        self.state: dict[int, FastPathState] = {}

    # ------------------------------------------------------------------ interfaces (node-wide, read-only)
    def get_ifaces(self) -> list[dict[str, Any]]:
        """Every external interface: num, type, ip, peer, kbps and available_kbps."""
        return self.srm.get_ifaces()

    def get_ifn(self, ep_addr: str) -> int:
        """The interface number of an endpoint address."""
        return self.srm.iface_of(endpoint_tuple((ep_addr, 1))[0]).num

    def get_ifattrs(self, ifn: int) -> dict[str, Any]:
        return self.srm.get_ifaces()[self.srm.interface(ifn).num]

    def get_ifpeer(self, ifn: int) -> str | None:
        return self.srm.interface(ifn).peer

    def resrv_pl_ifbw(self, ifn: int, kbps: int) -> None:
        """Reserve the slice's GPE-path bandwidth on interface ``ifn`` (kb/s): what
        its slow path sends out of that interface leaves at this rate."""
        self.srm.resrv_pl_ifbw(self.slice, ifn, kbps)
        if self.dp is not None:
            self.dp.interface_bandwidth_changed(self.slice)

    # ------------------------------------------------------------------ endpoints
    def alloc_endpoint(self, ip: str, port: int | None = None) -> Endpoint:
        """Reserve (ip, UDP port) as a local tunnel end; ``port=None``: the lowest free."""
        ep = self.srm.alloc_endpoint(self.slice, ip, port)
        if self.dp is not None:
            try:
                self.dp.endpoint_added(self.slice, ep)
            except (ValueError, KeyError) as ex:
                self.srm.free_endpoint(self.slice, ep)
                raise DataplaneError(f"alloc_endpoint {ep[0]}:{ep[1]}: {ex}") from None
        return ep

    def free_endpoint(self, ep: Any) -> None:
        ep = self.srm.check_endpoint(self.slice, ep)
        self.srm.free_endpoint(self.slice, ep)
        if self.dp is not None:
            self.dp.endpoint_freed(self.slice, ep)

    def get_endpoints(self) -> list[Endpoint]:
        return sorted(self.srm.slice(self.slice).endpoints)

    # ------------------------------------------------------------------ fast path
    def alloc_fastpath(self, copt: str, *, firm: int, soft: int = 0, fltrs: int, qs: int, stats: int, buffs: int,
                       sram: int, dram: int = 0) -> int:
        """Allocate a fast path running code option ``copt`` with firm resources:
        ``firm`` kb/s, ``fltrs`` filters, ``qs`` queues, ``stats`` counters,
        ``buffs`` packet buffers, ``sram``/``dram`` bytes. Returns its id."""
        fp = self.srm.alloc_fastpath(self.slice, copt, firm_kbps=firm, soft_kbps=soft, fltrs=fltrs, qs=qs,
                                     stats=stats, buffs=buffs, sram=sram, dram=dram)
        if self.dp is not None:
            try:
                self.dp.fastpath_added(fp)
            except (ValueError, KeyError) as ex:
                self.srm.free_fastpath(self.slice, fp.fpid)
                raise DataplaneError(f"alloc_fastpath: {ex}") from None
        self.state[fp.fpid] = FastPathState()
        return fp.fpid

    def _fp(self, fpid: Any) -> tuple[FastPath, FastPathState]:
        fp = self.srm.fastpath(self.slice, fpid)
        return fp, self.state[fp.fpid]

    def free_fastpath(self, fpid: int) -> None:
        """Free the fast path and everything on it (filters, queues, MIs)."""
        fp, st = self._fp(fpid)
        self.srm.free_fastpath(self.slice, fp.fpid)
        del self.state[fp.fpid]
        if self.dp is not None:
            self.dp.fastpath_freed(fp, st)

    def get_fastpath(self, fpid: int) -> dict[str, Any]:
        fp, st = self._fp(fpid)
        return {"fpid": fp.fpid, "npe": fp.npe, "copt": fp.copt, **fp.resources(), "soft_kbps": fp.soft_kbps,
                "mis": {m: {"endpoint": (f"{e[0]}:{e[1]}" if e else None), "kbps": fp.mi_kbps[m]}
                        for m, e in sorted(st.mis.items())},
                "queues": {q: vars(s) for q, s in sorted(st.queues.items())}, "filters": len(st.filters)}

    # ------------------------------------------------------------------ meta-interfaces
    def create_mi(self, fpid: int, mi: int, ep: Any = None, *, kbps: int) -> None:
        """Meta-interface ``mi`` of the fast path on endpoint ``ep`` with ``kbps``
        reserved (MI 0, local delivery and exceptions, has no endpoint)."""
        fp, st = self._fp(fpid)
        if isinstance(mi, bool) or not isinstance(mi, int) or not 0 <= mi <= MAX_MI:
            raise SppError(f"meta-interface number {mi!r} is outside 0..{MAX_MI}")
        e = None if ep is None else self.srm.check_endpoint(self.slice, ep)
        self.srm.reserve_mi(self.slice, fp.fpid, mi, e, kbps)
        if self.dp is not None:
            try:
                self.dp.mi_added(fp, mi, e, kbps)
            except (ValueError, KeyError) as ex:
                self.srm.release_mi(self.slice, fp.fpid, mi)
                raise DataplaneError(f"create_mi {mi}: {ex}") from None
        st.mis[mi] = e

    def delete_mi(self, fpid: int, mi: int) -> None:
        fp, st = self._fp(fpid)
        if mi not in st.mis:
            raise SppError(f"fast path {fpid} has no meta-interface {mi}; it has {sorted(st.mis)}")
        if any(q.mi == mi for q in st.queues.values()):
            raise SppError(f"meta-interface {mi} still has queues "
                           f"{sorted(k for k, q in st.queues.items() if q.mi == mi)} bound")
        ep = st.mis.pop(mi)
        self.srm.release_mi(self.slice, fp.fpid, mi)
        if self.dp is not None:
            self.dp.mi_removed(fp, mi, ep)

    # ------------------------------------------------------------------ queues
    def bind_queue(self, fpid: int, qid: int, mi: int, *, threshold: int = 65536, weight: int = 1) -> None:
        """Bind queue ``qid`` (0..qs-1) to meta-interface ``mi`` with a threshold
        (bytes it may hold) and a scheduling weight."""
        fp, st = self._fp(fpid)
        if isinstance(qid, bool) or not isinstance(qid, int) or not 0 <= qid < fp.qs:
            raise SppError(f"queue {qid!r} is not one of fast path {fpid}'s queues 0..{fp.qs - 1}")
        if mi not in st.mis:
            raise SppError(f"fast path {fpid} has no meta-interface {mi}; it has {sorted(st.mis)}")
        others = {q: s.mi for q, s in st.queues.items() if q != qid}
        if mi == 0:
            low = [q for q, m in others.items() if m != 0 and q > qid]
            if low:
                raise SppError(f"queue {qid} for meta-interface 0: the highest-numbered queues belong to MI 0, "
                               f"but queues {sorted(low)} of other MIs are numbered higher")
        else:
            high = [q for q, m in others.items() if m == 0 and q < qid]
            if high:
                raise SppError(f"queue {qid} for meta-interface {mi}: the highest-numbered queues belong to MI 0 "
                               f"(its queues {sorted(high)} must stay above every other MI's)")
        self._set_queue(fp, st, qid, mi, threshold, weight)

    def set_queue_params(self, fpid: int, qid: int, *, threshold: int | None = None,
                         weight: int | None = None) -> None:
        """Change a bound queue's threshold (bytes) or weight."""
        fp, st = self._fp(fpid)
        if qid not in st.queues:
            raise SppError(f"queue {qid!r} of fast path {fpid} is not bound; bound: {sorted(st.queues)}")
        q = st.queues[qid]
        self._set_queue(fp, st, qid, q.mi, q.threshold if threshold is None else threshold,
                        q.weight if weight is None else weight)

    def _set_queue(self, fp: FastPath, st: FastPathState, qid: int, mi: int, threshold: Any, weight: Any) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise SppError(f"queue threshold must be a whole number of bytes >= 1, got {threshold!r}")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 4096:
            raise SppError(f"queue weight must be 1..4096, got {weight!r}")
        if self.dp is not None:
            try:
                self.dp.queue_set(fp, qid, mi, threshold, weight)
            except (ValueError, KeyError) as ex:
                raise DataplaneError(f"queue {qid}: {ex}") from None
        st.queues[qid] = QueueState(mi, threshold, weight)

    def get_queues(self, fpid: int) -> dict[int, dict[str, int]]:
        _, st = self._fp(fpid)
        return {q: vars(s) for q, s in sorted(st.queues.items())}

    # ------------------------------------------------------------------ filters
    def write_fltr(self, fpid: int, key: dict[str, Any], result: dict[str, Any]) -> int:
        """Write a filter (key and result fields per the code option) and return its
        id. The result may name only this fast path's bound queues (``queue``), its
        meta-interfaces (``mi``, which must have a queue) and counters (``stats``);
        its other fields (``action``, ``next_hop``, ``arg``) are the NPE's
        (np_model.assemblies.spp_npe.NPE.add_filter)."""
        fp, st = self._fp(fpid)
        if not isinstance(key, dict) or not isinstance(result, dict):
            raise SppError("a filter is a key mapping and a result mapping")
        if len(st.filters) >= fp.fltrs:
            raise AdmissionError("filters", 1, 0, f"fast path {fpid}", "filters")
        if "queue" in result:
            q = result["queue"]
            if q not in st.queues:
                raise SppError(f"result queue {q!r} is not one of this slice's queues (bound: "
                               f"{sorted(st.queues) or 'none'})")
        if "mi" in result:
            m = result["mi"]
            if m not in st.mis:
                raise SppError(f"result mi {m!r} is not one of this slice's meta-interfaces ({sorted(st.mis)})")
            if not any(s.mi == m for s in st.queues.values()):
                raise SppError(f"meta-interface {m} has no queue bound (every MI needs one)")
            if "queue" in result and st.queues[result["queue"]].mi != m:
                raise SppError(f"queue {result['queue']} is bound to meta-interface "
                               f"{st.queues[result['queue']].mi}, not {m}")
        if "stats" in result:
            s = result["stats"]
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < fp.stats:
                raise SppError(f"result stats {s!r} is not one of this fast path's counters 0..{fp.stats - 1}")
        handle = 0
        if self.dp is not None:
            try:
                handle = self.dp.filter_written(fp, dict(key), dict(result))
            except (ValueError, KeyError, TypeError) as ex:
                raise DataplaneError(f"write_fltr: {ex}") from None
        fid = st.next_fid
        st.next_fid += 1
        st.filters[fid] = (dict(key), dict(result), handle)
        return fid

    def delete_fltr(self, fpid: int, fid: int) -> None:
        fp, st = self._fp(fpid)
        if fid not in st.filters:
            raise SppError(f"fast path {fpid} has no filter {fid!r}; filters: {sorted(st.filters)}")
        _, _, handle = st.filters.pop(fid)
        if self.dp is not None:
            self.dp.filter_deleted(fp, handle)

    def get_fltrs(self, fpid: int) -> dict[int, dict[str, Any]]:
        _, st = self._fp(fpid)
        return {f: {"key": k, "result": r} for f, (k, r, _) in sorted(st.filters.items())}

    # ------------------------------------------------------------------ statistics
    def read_stats(self, fpid: int, idx: int) -> dict[str, int]:
        """Counter ``idx`` (0..stats-1) of the fast path: packets and bytes."""
        fp, _ = self._fp(fpid)
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < fp.stats:
            raise SppError(f"stats index {idx!r} is not one of fast path {fpid}'s counters 0..{fp.stats - 1}")
        if self.dp is None:
            raise SppError("no data path: counters exist only on a node")
        return self.dp.read_stats(fp, idx)

    # ------------------------------------------------------------------ everything
    def free_all(self) -> None:
        """Free every fast path, endpoint and GPE-path reservation of the slice."""
        for fpid in sorted(self.state):
            self.free_fastpath(fpid)
        for ep in self.get_endpoints():
            self.free_endpoint(ep)
        rec = self.srm.slice(self.slice)
        for n in list(rec.pl_ifbw):
            self.srm.resrv_pl_ifbw(self.slice, n, 0)
