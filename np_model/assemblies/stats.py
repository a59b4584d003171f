"""Statistics of a router, gathered from the machine as plain data.

``collect`` returns a nested dict (JSON-friendly); ``flatten`` turns it into
Click-style named handlers ("port0.tx_pkts", "me.plc0.busy_pct", ...) that
the control plane reads by name.
"""
from __future__ import annotations

from typing import Any

from ..core import ffi, lib
from ..engine.machine import SUB

__all__ = ["collect", "flatten"]


def _pct(x: float, total: float) -> float:
    return round(100.0 * x / total, 2) if total else 0.0


def collect(r) -> dict[str, Any]:
    m = r.m.ptr
    now = r.engine.now
    elapsed_ns = r.cycles_to_ns(now)
    out: dict[str, Any] = {"time_ns": elapsed_ns, "cycles": now, "engine": r.engine.name,
                           "events": r.engine.events}
    ports = {}
    ps = ffi.new("np_port_stats_t *")
    for i in range(len(r.ports)):
        lib.np_port_stats(m, i, ps)
        lat = r.latency(i)
        ports[f"port{i}"] = {
            "rx_pkts": ps.rx_pkts, "rx_bytes": ps.rx_bytes, "rx_drops": ps.rx_drops,
            "tx_pkts": ps.tx_pkts, "tx_bytes": ps.tx_bytes,
            "tx_mbps": round(ps.tx_bytes * 8 / elapsed_ns * 1e3, 3) if elapsed_ns else 0.0,
            "tx_wire_util_pct": _pct(ps.tx_busy_sub / SUB, now),
            "qm_rate_kbps": r.port_rate_kbps(i),
            "latency_ns": {"mean": round(lat.mean, 1), "min": round(lat.min, 1) if lat.n else 0.0,
                           "max": round(lat.max, 1), "p50": round(lat.percentile(50), 1),
                           "p99": round(lat.percentile(99), 1)},
        }
    out["ports"] = ports
    mes = {}
    es = ffi.new("np_me_stats_t *")
    for e in range(lib.np_n_mes(m)):
        lib.np_me_stats(m, e, es)
        total = es.busy + es.stall + es.idle
        name = ffi.string(lib.np_me_name(m, e)).decode()
        mes[name] = {"block": ffi.string(lib.np_block_name(lib.np_me_block(m, e))).decode(),
                     "threads": lib.np_me_threads(m, e), "busy_pct": _pct(es.busy, total),
                     "waiting_pct": _pct(es.stall, total), "idle_pct": _pct(es.idle, total),
                     "dispatches": es.dispatches}
    out["mes"] = mes
    rings = {}
    rs = ffi.new("np_ring_stats_t *")
    kind, mem, words, cap, nnl = (ffi.new("int *"), ffi.new("int *"), ffi.new("int *"),
                                  ffi.new("uint32_t *"), ffi.new("uint32_t *"))
    for i in range(lib.np_n_rings(m)):
        lib.np_ring_stats(m, i, rs)
        lib.np_ring_info(m, i, kind, mem, words, cap, nnl)
        name = ffi.string(lib.np_ring_name(m, i)).decode()
        rings[name] = {"puts": rs.puts, "gets": rs.gets, "full": rs.full, "hwm": rs.hwm,
                       "count": rs.count, "capacity": cap[0]}
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
    qs = ffi.new("np_queue_stats_t *")
    qids = ffi.new("uint16_t[]", 8192)
    queues = {}
    for p in range(len(r.ports)):
        n = lib.np_active_queues(m, p, qids, 8192)
        for k in range(n):
            lib.np_queue_stats(m, p, qids[k], qs)
            queues[f"port{p}.q{qids[k]}"] = {"enq_pkts": qs.enq_pkts, "enq_bytes": qs.enq_bytes,
                                              "deq_pkts": qs.deq_pkts, "deq_bytes": qs.deq_bytes,
                                              "drops": qs.drops, "pkts": qs.pkts, "bytes": qs.bytes}
    out["queues"] = queues
    out["plugins"] = {name: r.plugin_stats(me) for me, name in r.plugins.items()}
    if r.nic is not None:
        out["nic"] = r.nic_stats()
    out["drops"] = r.drops()
    out["exceptions"] = r.exceptions()
    c = r.conservation()
    out["conservation"] = {"arrived": c.arrived, "injected": c.injected, "copies": c.copies, "created": c.created,
                           "transmitted": c.transmitted, "to_host": c.to_host, "dropped": c.dropped,
                           "in_flight": c.in_flight, "ok": c.ok}
    out["buffers_free"] = int(lib.np_buffers_free(m))
    return out


def _server_names(r) -> dict[int, str]:
    """Names of the memory servers as the router built them."""
    names = {}
    kind, rd, wr, nsrv, shift = (ffi.new("int *") for _ in range(5))
    for mname, mi in r.mems.items():
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
