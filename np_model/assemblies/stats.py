"""Statistics of an assembly, gathered from the machine as plain data.

``collect`` returns a nested dict (JSON-friendly); ``flatten`` turns it into
Click-style named handlers ("ports.port0.tx_pkts", "mes.plc0.busy_pct",
"blocks.plc.copies", ...) that the control plane reads by name.
"""
from __future__ import annotations

from typing import Any

from ..blocks import BLOCK_TYPES
from ..core import ffi, lib
from ..engine.machine import SUB

__all__ = ["collect", "flatten"]


def _pct(x: float, total: float) -> float:
    return round(100.0 * x / total, 2) if total else 0.0


def _s(p) -> str:
    return ffi.string(p).decode()


def collect(r) -> dict[str, Any]:
    m = r.m.ptr
    now = r.engine.now
    elapsed_ns = r.cycles_to_ns(now)
    out: dict[str, Any] = {"time_ns": elapsed_ns, "cycles": now, "engine": r.engine.name,
                           "events": r.engine.events}
    ports = {}
    ps = ffi.new("np_port_stats_t *")
    rates = getattr(r, "port_rate_kbps", None)
    for i in range(len(r.ports)):
        lib.np_port_stats(m, i, ps)
        lat = r.latency(i)
        ports[f"port{i}"] = {
            "rx_pkts": ps.rx_pkts, "rx_bytes": ps.rx_bytes, "rx_drops": ps.rx_drops,
            "tx_pkts": ps.tx_pkts, "tx_bytes": ps.tx_bytes,
            "tx_mbps": round(ps.tx_bytes * 8 / elapsed_ns * 1e3, 3) if elapsed_ns else 0.0,
            "tx_wire_util_pct": _pct(ps.tx_busy_sub / SUB, now),
            "latency_ns": {"mean": round(lat.mean, 1), "min": round(lat.min, 1) if lat.n else 0.0,
                           "max": round(lat.max, 1), "p50": round(lat.percentile(50), 1),
                           "p99": round(lat.percentile(99), 1)},
        }
        if rates is not None:
            ports[f"port{i}"]["qm_rate_kbps"] = rates(i)
    out["ports"] = ports
    mes = {}
    es = ffi.new("np_me_stats_t *")
    for e in range(lib.np_n_mes(m)):
        lib.np_me_stats(m, e, es)
        total = es.busy + es.stall + es.idle
        inst = lib.np_me_inst(m, e)
        mes[_s(lib.np_me_name(m, e))] = {
            "block": _s(lib.np_block_type_name(lib.np_inst_type(m, inst))), "instance": _s(lib.np_inst_name(m, inst)),
            "threads": lib.np_me_threads(m, e), "busy_pct": _pct(es.busy, total),
            "busy_cycles": int(es.busy),
            "waiting_pct": _pct(es.stall, total), "idle_pct": _pct(es.idle, total), "dispatches": es.dispatches}
    out["mes"] = mes
    blocks = {}
    ctr = ffi.new("uint64_t[64]")
    for i in range(lib.np_n_insts(m)):
        bt = BLOCK_TYPES[_s(lib.np_block_type_name(lib.np_inst_type(m, i)))]
        n = lib.np_inst_counters(m, i, ctr, 64)
        blocks[_s(lib.np_inst_name(m, i))] = {"type": bt.name, **{bt.counters[k][0]: int(ctr[k]) for k in range(n)}}
    out["blocks"] = blocks
    rings = {}
    rs = ffi.new("np_ring_stats_t *")
    kind, mem, words, cap, nnl = (ffi.new("int *"), ffi.new("int *"), ffi.new("int *"),
                                  ffi.new("uint32_t *"), ffi.new("uint32_t *"))
    for i in range(lib.np_n_rings(m)):
        lib.np_ring_stats(m, i, rs)
        lib.np_ring_info(m, i, kind, mem, words, cap, nnl)
        rings[_s(lib.np_ring_name(m, i))] = {"puts": rs.puts, "gets": rs.gets, "full": rs.full, "hwm": rs.hwm,
                                             "count": rs.count, "capacity": cap[0],
                                             "format": _s(lib.np_ring_format(m, i))}
    out["rings"] = rings
    srvs = {}
    ss = ffi.new("np_srv_stats_t *")
    names = _server_names(r)
    for i in range(lib.np_n_servers(m)):
        lib.np_srv_stats(m, i, ss)
        srvs[names.get(i, f"srv{i}")] = {"ops": ss.ops, "util_pct": _pct(ss.busy_sub / SUB, now),
                                         "mean_wait_cycles": round(ss.wait_sub / SUB / ss.ops, 2) if ss.ops else 0.0,
                                         "max_wait_cycles": round(ss.max_wait_sub / SUB, 1)}
    out["memory"] = srvs
    qm = getattr(r, "qm", None)
    if qm is not None:
        qs = ffi.new("np_queue_stats_t *")
        qids = ffi.new("uint32_t[]", 65536)
        queues = {}
        n = lib.np_active_queues(m, qm, qids, 65536)
        for k in range(max(n, 0)):
            q = int(qids[k])
            lib.np_queue_stats(m, qm, q, qs)
            queues[f"port{(q >> 13) - 1}.q{q & 0x1FFF}"] = {
                "qid": q, "enq_pkts": qs.enq_pkts, "enq_bytes": qs.enq_bytes, "deq_pkts": qs.deq_pkts,
                "deq_bytes": qs.deq_bytes, "drops": qs.drops, "pkts": qs.pkts, "bytes": qs.bytes}
        out["queues"] = queues
    tables = {}
    ts = ffi.new("np_tcam_stats_t *")
    for name, t in getattr(r, "tables", {}).items():
        cnt = lib.np_table_count(m, t)
        lib.np_tcam_stats(m, t, ts)
        tables[name] = {"entries": cnt, **({"groups": ts.groups, "searches": ts.searches, "hits": ts.hits}
                                           if ts.searches or ts.groups else {})}
    lib.np_error(m)     # np_tcam_stats on a hash table leaves an error message: harmless here
    out["tables"] = tables
    plugins = getattr(r, "plugins", {})
    out["plugins"] = {name: {"me": me, **r.plugin_stats(me), "counters": list(r.plugin_counters(me))}
                      for me, name in plugins.items()}
    if r.nic is not None:
        out["nic"] = r.nic_stats()
    out["drops"] = r.drops()
    out["exceptions"] = r.exceptions()
    c = r.conservation()
    out["conservation"] = {"arrived": c.arrived, "injected": c.injected, "copies": c.copies, "created": c.created,
                           "transmitted": c.transmitted, "to_host": c.to_host, "dropped": c.dropped,
                           "in_flight": c.in_flight, "ok": c.ok}
    out["buffers_free"] = int(lib.np_buffers_free(m))
    out["records_discarded"] = r.records_discarded
    return out


def _server_names(r) -> dict[int, str]:
    """Names of the memory servers as the assembly built them."""
    names = {}
    kind, rd, wr, nsrv, shift = (ffi.new("int *") for _ in range(5))
    for mname, mi in getattr(r, "mems", {}).items():
        lib.np_mem_info(r.m.ptr, mi, kind, rd, wr, nsrv, shift)
        if nsrv[0] > 1:
            for k in range(nsrv[0]):
                names[rd[0] + k] = f"{mname}.ch{k}"
        elif rd[0] == wr[0]:
            names[rd[0]] = mname
        else:
            names[rd[0]], names[wr[0]] = f"{mname}.rd", f"{mname}.wr"
    return names


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
