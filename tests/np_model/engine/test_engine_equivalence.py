"""The compiled engine (np_model/core/engine.c) and the reference engine
(np_model/engine/pyengine.py) must produce the same simulation, event for event.

Each scenario builds the same NPR twice (engine "c" and "py"), drives both
with identical tables and traffic, runs both in the same chunks of simulated
time, and after every chunk compares everything observable: transmitted
records (every field, cycle times included) and bytes, host records, the
per-op trace and drop records, drop/exception counts, conservation counters,
event counts, per-ME/ring/server/port/queue statistics, the machine's line
trace and the sequence of ``engine.run`` return codes. Each scenario also
checks that it exercised what it is named after, so a scenario that
silently stopped reaching its path fails too.
"""
from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np
import pytest
from scapy.layers.inet import IP, TCP, UDP, IPOption_RR
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

from np_model.core import CoreError, ffi, lib
from np_model.engine import ENGINES, make_engine
from np_model.engine.cengine import FOREVER, RUN_HOST, RUN_IDLE, RUN_TIME
from np_model.engine.machine import DROP_REASONS, HwRing, Machine, MemKind, RingKind
from np_model.engine.pyengine import Memory, MicroEngine, Port, PyEngine, Ring, Server
from np_model.profile import IXP2800
from np_model.assemblies.npr import NPR, FilterAction, HostPacket
from tests.helpers import host_ip, host_mac, port_ip, port_mac

N_PORTS = 5


# addressing (tests/helpers.py): router port p is 10.0.{p+1}.1, MAC 02:00:00:00:00:{p+1};
# its neighbour host is 10.0.{p+1}.2, MAC 02:00:00:00:{p+1}:02


def frame(p_in: int, dst: str, *, size: int = 100, tcp: bool = False, ttl: int = 64, sport: int = 1000,
          dport: int = 2000, eth_dst: str | None = None, src: str | None = None, options=None) -> bytes:
    """A UDP (or TCP SYN) IPv4 frame of ``size`` bytes entering port ``p_in``."""
    l4 = TCP(sport=sport, dport=dport, flags="S") if tcp else UDP(sport=sport, dport=dport)
    ip = IP(src=src or host_ip(p_in), dst=dst, ttl=ttl, options=options or [])
    hdr = Ether(dst=eth_dst or port_mac(p_in), src=host_mac(p_in)) / ip / l4
    return bytes(hdr / Raw(b"\x5a" * max(0, size - len(hdr))))


# ------------------------------------------------------------------------------------------
# building and comparing the two routers


class Pair:
    """The same NPR on both engines, driven identically."""

    def __init__(self, **kw: Any):
        kw.setdefault("buffers", 2048)
        self.routers = {e: NPR(engine=e, **kw) for e in ("c", "py")}
        self.rcs: dict[str, list[int]] = {e: [] for e in self.routers}
        for e, r in self.routers.items():
            r.record_drops(True)
            r.set_trace(True)
            self._record_rcs(r, self.rcs[e])

    @staticmethod
    def _record_rcs(r: NPR, out: list[int]) -> None:
        """Keep every engine.run return code (the real engine runs; only its rc is noted)."""
        real_run = r.engine.run

        def run(until: int, stop_on_host: bool = False, idle_stay: bool = False) -> int:
            rc = real_run(until, stop_on_host, idle_stay)
            out.append(rc)
            return rc
        r.engine.run = run

    @property
    def c(self) -> NPR:
        return self.routers["c"]

    @property
    def py(self) -> NPR:
        return self.routers["py"]

    def each(self, fn: Callable[[NPR], Any]) -> None:
        for r in self.routers.values():
            fn(r)

    def run_chunks(self, chunk_ns: float, n: int, *, until_idle: bool = True) -> None:
        """Run both in ``n`` chunks, comparing after each; then to idle."""
        for _ in range(n):
            self.each(lambda r: r.run(duration_ns=chunk_ns))
            assert_same(self.c, self.py)
        if until_idle:
            self.each(lambda r: r.run_until_idle(max_ns=1e7))
            assert_same(self.c, self.py)
        assert self.rcs["py"] == self.rcs["c"]


def raw_stats(r: NPR) -> dict[str, Any]:
    """Every statistic the engines account, unrounded, straight from the machine."""
    return raw_stats_ptr(r.m.ptr)


def raw_stats_ptr(m: Any) -> dict[str, Any]:
    """raw_stats for a bare machine pointer."""
    out: dict[str, Any] = {}
    es, rs, ss, ps = (ffi.new("np_me_stats_t *"), ffi.new("np_ring_stats_t *"), ffi.new("np_srv_stats_t *"),
                      ffi.new("np_port_stats_t *"))
    for e in range(lib.np_n_mes(m)):
        lib.np_me_stats(m, e, es)
        out[f"me{e}"] = (es.busy, es.stall, es.idle, es.dispatches)
    for i in range(lib.np_n_rings(m)):
        lib.np_ring_stats(m, i, rs)
        out[f"ring{i}"] = (rs.puts, rs.gets, rs.full, rs.hwm, rs.count)
    for i in range(lib.np_n_servers(m)):
        lib.np_srv_stats(m, i, ss)
        out[f"srv{i}"] = (ss.ops, ss.units, ss.busy_sub, ss.wait_sub, ss.max_wait_sub)
    for i in range(lib.np_n_ports(m)):
        lib.np_port_stats(m, i, ps)
        out[f"port{i}"] = (ps.rx_pkts, ps.rx_bytes, ps.tx_pkts, ps.tx_bytes, ps.rx_drops, ps.tx_busy_sub)
    c = ffi.new("np_counters_t *")
    lib.np_get_counters(m, c)
    out["counters"] = (c.arrived, c.injected, c.copies, c.transmitted, c.to_host, c.dropped,
                       c.synth_iters, c.double_end)
    out["buffers_free"] = lib.np_buffers_free(m)
    out["in_flight"] = lib.np_packets_in_flight(m)
    return out


def _same_records(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert len(a) == len(b), f"{what}: {len(a)} records (c) vs {len(b)} (py)"
    if len(a) and not np.array_equal(a, b):
        i = int(np.nonzero(a != b)[0][0])
        raise AssertionError(f"{what}: first difference at record {i}:\n  c  {a[i]}\n  py {b[i]}")


def assert_same(c: NPR, p: NPR) -> None:
    """Everything observable about the two simulations is identical."""
    assert (c.engine.name, p.engine.name) == ("c", "py")
    assert p.engine.now == c.engine.now == lib.np_now(p.m.ptr)
    assert p.engine.events == c.engine.events
    _same_records(c.tx_records(), p.tx_records(), "tx records")
    _same_records(c.trace_records(), p.trace_records(), "trace records")
    _same_records(c.drop_records(), p.drop_records(), "drop records")
    assert p.transmitted() == c.transmitted()           # TxPacket: bytes and times
    assert p.host_packets() == c.host_packets()         # HostPacket: bytes, reason, times
    assert p.drops() == c.drops()
    assert p.exceptions() == c.exceptions()
    assert p.conservation() == c.conservation()
    assert raw_stats(p) == raw_stats(c)
    sc, sp = c.stats(), p.stats()
    assert (sc.pop("engine"), sp.pop("engine")) == ("c", "py")
    assert sp == sc
    assert p.line_trace() == c.line_trace()


def _total(r: NPR, key: str, rings: list[str] | None = None) -> int:
    return sum(v[key] for k, v in r.stats()["rings"].items() if rings is None or k in rings)


def _offer(rng: random.Random, n: int, *, gap_ns: float, sizes=(60, 1514), dst_ports=None,
           in_ports=range(N_PORTS)) -> tuple[list[bytes], list[int], list[float]]:
    """n UDP/TCP frames between the neighbours, random sizes, ~gap_ns apart."""
    frames, ports, times, t = [], [], [], 0.0
    for i in range(n):
        p = rng.choice(list(in_ports))
        q = rng.choice([x for x in (dst_ports or range(N_PORTS)) if x != p])
        frames.append(frame(p, host_ip(q), size=rng.randint(*sizes), tcp=rng.random() < 0.5,
                            sport=1024 + rng.randrange(4000), dport=rng.choice((53, 80, 443, 5001))))
        ports.append(p)
        t += rng.expovariate(1.0 / gap_ns)
        times.append(t)
    return frames, ports, times


def _setup_arp(r: NPR) -> None:
    for p in range(N_PORTS):
        r.set_arp(host_ip(p), host_mac(p))


# ------------------------------------------------------------------------------------------
# scenarios


def test_plain_forwarding_across_five_ports():
    pair = Pair()
    frames, ports, times = _offer(random.Random(1), 400, gap_ns=150)
    pair.each(_setup_arp)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(15_000, 4)
    c = pair.c
    assert len(c.tx_records()) == 400 and c.drops() == {} and c.exceptions() == {}
    assert {int(p) for p in c.tx_records()["port"]} == set(range(N_PORTS))
    assert c.check_conservation().in_flight == 0
    assert pair.rcs["c"][:4] == [RUN_TIME] * 4 and pair.rcs["c"][-1] == RUN_IDLE
    bufq = c.stats()["rings"]["bufq"]
    assert bufq["hwm"] >= bufq["count"] == 2047         # the free queue starts full


@pytest.mark.parametrize("cap", [4, 1], ids=["rings4", "rings1"])
def test_overload_threshold_drops_and_back_pressure(cap):
    # The smallest legal scratch rings (128 words), tiny next-neighbour rings and three
    # slowed stages (PLC parse, QM enqueue, HdrFmt) under back-to-back small frames: putters block on
    # full rings (Mux, PLC, QM); one slow port with a small queue drops. With one-entry
    # rings a slot is often taken but not yet visible, so getters and putters wait on the
    # same ring at once (the order of ring_deliver's steps shows).
    prof = IXP2800.replace({"ring_mux_plc_words": 128, "ring_plc_qm_words": 128, "ring_rx_mux_words": 128,
                            "ring_free_words": 128, "ring_qm_hf_words": max(1, cap // 2),
                            "ring_hf_tx_words": 2 * max(1, cap // 2), "plc.cost_parse": 2000,
                            "qm.cost_enq": 2500, "hdrfmt.cost_base": 3000, "tbuf_elements_per_port": 6})
    pair = Pair(profile=prof)

    def setup(r: NPR) -> None:
        _setup_arp(r)
        r.add_route("10.9.0.0/16", port=1, next_hop=host_ip(1), qid=77)
        r.set_port_rate(1, 30_000)                      # 30 Mb/s QM rate
        r.set_queue(1, 77, threshold=6000, quantum=700)
    rng = random.Random(2)
    frames, ports, times = [], [], []
    for i in range(500):
        p = i % N_PORTS
        if i % 4 == 0:                                  # to the slow port
            frames.append(frame(p, f"10.9.{i % 7}.{i % 200 + 1}", size=rng.randint(60, 300), tcp=i % 3 == 0))
        else:
            q = rng.choice([x for x in range(N_PORTS) if x not in (p, 1)])
            frames.append(frame(p, host_ip(q), size=rng.randint(60, 120)))
        ports.append(p)
        times.append((i // N_PORTS) * 400.0)            # every port busy back to back
    pair.each(setup)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(10_000, 3)
    c = pair.c
    assert c.drops().get("qm_threshold", 0) > 20 and c.drops().get("rbuf_full", 0) > 0
    rings = c.stats()["rings"]
    assert all(rings[k]["full"] > 0 for k in ("mux_plc", "plc_qm", "qm_hf", "hf_tx"))   # blocked putters
    assert rings["qm_hf"]["hwm"] == rings["qm_hf"]["capacity"]
    assert c.check_conservation().in_flight == 0


def test_exceptions_with_host_replies():
    pair = Pair()
    replies: dict[str, list[str]] = {"c": [], "py": []}

    def handler_for(e: str):
        def handler(r: NPR, hp: HostPacket) -> None:
            replies[e].append(hp.reason)
            at = r.now_ns + 2000                        # a fixed daemon delay keeps times ordered
            if hp.reason == "arp_needed":               # resolve, then send the packet again
                r.set_arp(hp.nh_ip, "02:00:00:00:03:99")
                r.inject(hp.data, at_ns=at, keep_l2=False, in_port=hp.in_port)
            else:                                       # answer the sender, straight to its port
                reply = Ether(dst=host_mac(hp.in_port), src=port_mac(hp.in_port)) / \
                    IP(src=port_ip(hp.in_port), dst=host_ip(hp.in_port)) / UDP(sport=7, dport=7) / Raw(b"r" * 40)
                r.inject(bytes(reply), at_ns=at, passthru=True, out_port=hp.in_port, qid=5 + hp.in_port)
        return handler

    for e, r in pair.routers.items():
        _setup_arp(r)
        r.add_filter(FilterAction("host"), proto=17, dport=3333)
        r.host_handler = handler_for(e)
    arp_req = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(3)) / ARP(pdst=port_ip(3), psrc=host_ip(3)))
    specials = [
        (0, frame(0, host_ip(2), ttl=1)),                                  # ttl_expired
        (1, frame(1, host_ip(3), options=[IPOption_RR()])),                # ip_options
        (2, frame(2, "192.168.7.7")),                                      # no_route
        (3, arp_req),                                                      # non_ip
        (4, frame(4, "10.0.3.9")),                                         # arp_needed
        (0, frame(0, port_ip(0))),                                         # local_delivery
        (1, frame(1, "255.255.255.255", eth_dst="ff:ff:ff:ff:ff:ff")),     # local (broadcast)
        (2, frame(2, host_ip(0), dport=3333)),                             # filter_to_host
    ]
    rng = random.Random(3)
    frames, ports, times = _offer(rng, 120, gap_ns=300)
    for k, (p, f) in enumerate(specials * 3):
        frames.append(f)
        ports.append(p)
        times.append(500.0 + k * 1500)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(12_000, 3)
    c = pair.c
    assert replies["py"] == replies["c"]
    assert set(c.exceptions()) == {"ttl_expired", "ip_options", "no_route", "non_ip", "arp_needed",
                                   "local_delivery", "filter_to_host"}
    assert RUN_HOST in pair.rcs["c"]
    from_host = [t for t in c.transmitted() if t.from_host]
    assert len(from_host) == len(c.host_packets())     # every reply (and re-sent packet) went out
    assert any(t.data[:6] == bytes.fromhex("020000000399") for t in from_host)   # the ARP-resolved resend
    assert c.check_conservation().injected == len(c.host_packets())


def test_multicast_copies_filters_and_stats():
    pair = Pair(seed=7)

    def setup(r: NPR) -> None:
        _setup_arp(r)
        r.add_route("224.5.0.0/16", multicast_ports=[1, 2, 3, 4], stats=21)
        r.add_route("10.7.0.0/16", port=3, next_hop=host_ip(3), stats=22, qid=300)
        r.add_filter(FilterAction("queue", port=4, qid=9, stats=23), aux=True, proto=17, dport=9999)
        r.add_filter(FilterAction("queue", port=0, qid=10), aux=True, proto=6, sample=0.5)
        r.add_filter(FilterAction("drop"), proto=17, dport=6666)
        r.add_filter(FilterAction("plugin", plugin=2), proto=17, dport=7777)       # no plug-in loaded
        r.add_filter(FilterAction("multicast", ports=(2, 4)), dst="10.8.0.0/16")
    rng = random.Random(4)
    frames, ports, times = [], [], []
    for i in range(300):
        p = rng.randrange(N_PORTS)
        kind = i % 6
        if kind == 0:
            f = frame(p, f"224.5.{i % 3}.1", eth_dst="01:00:5e:05:00:01", size=rng.randint(60, 600))
        elif kind == 1:
            f = frame(p, host_ip((p + 1) % N_PORTS), dport=9999, size=rng.randint(60, 900))
        elif kind == 2:
            f = frame(p, f"10.7.0.{i % 250 + 1}", tcp=True, size=rng.randint(60, 1514))
        elif kind == 3:
            f = frame(p, host_ip((p + 2) % N_PORTS), dport=rng.choice((6666, 7777)))
        elif kind == 4:
            f = frame(p, f"10.8.1.{i % 250 + 1}", size=rng.randint(60, 300))
        else:
            f = frame(p, host_ip((p + 3) % N_PORTS), tcp=True, size=rng.randint(60, 1514))
        frames.append(f)
        ports.append(p)
        times.append(i * 120.0)
    pair.each(setup)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(12_000, 3)
    c = pair.c
    cons = c.check_conservation()
    assert cons.copies > 100
    assert {"filter_drop", "no_plugin"} <= set(c.drops())
    assert sum(t.copy for t in c.transmitted()) > 100
    s = np.zeros(4, dtype=np.uint64)
    for idx in (21, 22, 23):
        out = c.stats_counters(idx)
        s += np.array(list(out.values()), dtype=np.uint64)
        assert out == pair.py.stats_counters(idx)
    assert s[0] > 0 and s[2] > 0                        # pre- and post-queue counters moved


def test_plugins_tag_delay_count_and_messages():
    """Plug-ins (issue 9, item 9) run the same on both engines: the plug-in code is
    shared (compiled C in its worker process, costed per basic block), the Python
    engine re-implements only the timing around it. tos_tag re-classifies by the
    tag it sets [ONL TOStag], delay holds packets for its periodic thread [ONL delay],
    count takes auxiliary-filter copies; a control message changes delay mid-run."""
    pair = Pair(seed=3)

    def setup(r: NPR) -> None:
        _setup_arp(r)
        r.load_plugin("tos_tag", 0)
        r.load_plugin("delay", 1, args="delay=15")
        r.load_plugin("count", 2)
        r.add_filter(FilterAction("plugin", plugin=0), proto=17, dport=7000, priority=20)
        for tag in range(1, 9):                                   # after tos_tag: precedence -> queue
            r.add_filter(FilterAction("queue", port=tag % N_PORTS, qid=40 + tag), ptag=tag, priority=10)
        r.add_filter(FilterAction("plugin", plugin=1), proto=17, dport=7100, priority=20)
        r.add_filter(FilterAction("plugin", plugin=2), aux=True, proto=6)
    rng = random.Random(9)
    frames, ports, times = [], [], []
    for i in range(240):
        p = rng.randrange(N_PORTS)
        q = (p + 1 + rng.randrange(N_PORTS - 1)) % N_PORTS
        kind = i % 4
        if kind == 0:
            f = bytes(Ether(dst=port_mac(p), src=host_mac(p)) / IP(src=host_ip(p), dst=host_ip(q), tos=(i // 4 % 8) << 5)
                      / UDP(sport=5, dport=7000) / Raw(b"t" * rng.randint(20, 400)))
        elif kind == 1:
            f = frame(p, host_ip(q), dport=7100, size=rng.randint(60, 800))
        elif kind == 2:
            f = frame(p, host_ip(q), tcp=True, size=rng.randint(60, 1200))
        else:
            f = frame(p, host_ip(q), size=rng.randint(60, 1514))
        frames.append(f)
        ports.append(p)
        times.append(i * 150.0)
    pair.each(setup)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(10_000, 2, until_idle=False)
    assert [r.plugin_message(1, "delay=5") for r in pair.routers.values()] == ["delay 5 us"] * 2
    pair.run_chunks(10_000, 2)
    c = pair.c
    assert c.drops() == {"plugin_drop": 60} and c.check_conservation().in_flight == 0   # count drops its copies
    assert len(c.transmitted()) == 240
    for me in range(3):
        assert c.plugin_stats(me) == pair.py.plugin_stats(me)
        assert c.plugin_counters(me) == pair.py.plugin_counters(me)
    assert sum(c.plugin_counters(0)[:8]) == 60                  # every tagged packet counted by precedence
    assert {t.queue for t in c.transmitted()} >= set(range(41, 49))        # all eight tags
    assert c.plugin_counters(2)[:3] == [0, 60, 0]               # one copy per TCP packet, counted as TCP
    held = [t.latency_ns for t in c.transmitted() if UDP in Ether(t.data) and Ether(t.data)[UDP].dport == 7100]
    assert len(held) == 60 and min(held) >= 5_000              # the delay plug-in held each one


def test_bad_frames_and_buffer_exhaustion():
    pair = Pair(buffers=40)

    def bad_checksum(p: int) -> bytes:
        b = bytearray(frame(p, host_ip((p + 1) % N_PORTS)))
        b[24] ^= 0xFF
        return bytes(b)

    def bad_version(p: int) -> bytes:
        b = bytearray(frame(p, host_ip((p + 1) % N_PORTS)))
        b[14] = 0x65
        return bytes(b)

    bad = [
        lambda p: b"\x01" * 10,                                            # runt
        lambda p: frame(p, host_ip((p + 1) % N_PORTS), size=1600),         # giant (MTU 1500)
        bad_checksum,
        bad_version,
        lambda p: frame(p, host_ip((p + 1) % N_PORTS), eth_dst="02:00:00:00:77:77"),   # not for us
        lambda p: frame(p, host_ip((p + 1) % N_PORTS))[:30],               # shorter than an IP header
    ]
    rng = random.Random(5)
    frames, ports, times = [], [], []
    for i in range(250):                                # fan-in to port 0 plus multicast: buffers run out
        p = 1 + i % 4
        if i % 5 == 0:
            frames.append(frame(p, "224.5.1.1", eth_dst="01:00:5e:05:01:01", size=rng.randint(60, 200)))
        else:
            frames.append(frame(p, host_ip(0), size=rng.randint(600, 1514)))
        ports.append(p)
        times.append(i * 20.0)
    for k in range(60):
        p = k % N_PORTS
        frames.append(bad[k % len(bad)](p))
        ports.append(p)
        times.append(100.0 + k * 90)

    def setup(r: NPR) -> None:
        _setup_arp(r)
        r.add_route("224.5.0.0/16", multicast_ports=[0, 1, 2, 3, 4])
    pair.each(setup)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(8_000, 3)
    d = pair.c.drops()
    assert {"runt", "giant", "ip_bad_checksum", "ip_bad_version", "l2_not_for_router",
            "ip_bad_length", "no_buffer"} <= set(d)
    no_buf = pair.c.drop_records()
    no_buf = no_buf[no_buf["reason"] == DROP_REASONS.index("no_buffer")]
    c = pair.c
    assert set(no_buf["inst"]) == {c.insts["rx"], c.insts["plc"]}   # Rx found no buffer, and so did PLC copies
    assert pair.c.check_conservation().in_flight == 0


def test_rfc1812_checks():
    """The RFC 1812 checks of PLC (issue 10) run the same on both engines:
    martian drops, link-layer group frames, subnet broadcasts, class D rules,
    frames cut to the IPv4 total length and zero-padded, priority tags
    removed, redirect copies -- mixed into ordinary traffic."""
    pair = Pair()

    def setup(r: NPR) -> None:
        _setup_arp(r)
        r.set_arp("10.0.3.3", "02:00:00:00:03:03")
        r.add_route("192.168.9.0/24", port=2, next_hop="10.0.3.3")
        r.add_route("0.0.0.0/0", port=4, next_hop=host_ip(4))
        r.add_route("224.0.0.0/4", multicast_ports=[0, 1, 3])

    def tagged(p: int, dst: str) -> bytes:
        return bytes(Ether(dst=port_mac(p), src=host_mac(p)) / Dot1Q(prio=6, vlan=0)
                     / IP(src=host_ip(p), dst=dst) / UDP(sport=9, dport=9) / Raw(b"v" * 50))

    specials = [
        lambda p: frame(p, host_ip((p + 1) % N_PORTS), src="127.0.0.9"),                  # martian_src
        lambda p: frame(p, "240.1.2.3"),                                                    # martian_dst
        lambda p: frame(p, host_ip((p + 2) % N_PORTS), eth_dst="ff:ff:ff:ff:ff:ff"),        # l2_bcast_unicast
        lambda p: frame(p, host_ip((p + 2) % N_PORTS), eth_dst="01:00:5e:00:00:09"),        # l2_mcast_unicast
        lambda p: frame(p, "224.0.0.9", eth_dst="01:00:5e:00:00:09"),                       # mcast_link_local
        lambda p: frame(p, "239.3.3.3", eth_dst="01:00:5e:03:03:03"),                       # multicast copies
        lambda p: frame(p, f"10.0.{(p + 1) % N_PORTS + 1}.255"),                            # subnet broadcast
        lambda p: frame(p, host_ip((p + 3) % N_PORTS), size=60) + b"\xee" * 90,            # trailer cut
        lambda p: tagged(p, host_ip((p + 1) % N_PORTS)),                                    # priority tag
        lambda p: frame(2, "192.168.9.1", size=200),                                        # redirect (port 2)
    ]
    frames, ports, times = _offer(random.Random(11), 200, gap_ns=250)
    for k in range(60):
        sp = specials[k % len(specials)]
        p = 2 if k % len(specials) == len(specials) - 1 else k % N_PORTS
        frames.append(sp(p))
        ports.append(p)
        times.append(100.0 + k * 700)
    pair.each(setup)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(15_000, 3)
    c = pair.c
    assert {"martian_src", "martian_dst", "l2_bcast_unicast", "l2_mcast_unicast", "mcast_link_local"} <= set(c.drops())
    assert c.exceptions().get("redirect") == 6 and c.exceptions().get("local_delivery") == 6
    assert any(len(t.data) == 60 for t in c.transmitted())                                 # trailers cut
    assert not any(t.data[12:14] == b"\x81\x00" for t in c.transmitted())                 # tags removed
    assert c.check_conservation().in_flight == 0


@pytest.mark.parametrize("threads", [{"plc": 2, "qm": 8}, {"rx": 1, "mux": 2, "tx": 1, "hdrfmt": 3, "freelist": 1}],
                         ids=["plc2-qm8", "rx1-tx1"])
def test_reduced_thread_counts(threads):
    pair = Pair(threads=threads)
    frames, ports, times = _offer(random.Random(6), 300, gap_ns=60, sizes=(60, 400))
    pair.each(_setup_arp)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(6_000, 3)
    c = pair.c
    for name, n in threads.items():
        mes = [v for k, v in c.stats()["mes"].items() if v["block"] == ("hdrfmt" if name == "hdrfmt" else name)]
        assert mes and all(v["threads"] == n for v in mes)
    assert len(c.tx_records()) + sum(c.drops().values()) == 300


NIC_CONFIG = {"mode": "32x4", "disable_default_pool": True, "broadcast": [2, 5],
              "mac_filters": [{"mac": port_mac(p), "pools": [p] if p != 3 else [3, 9]} for p in range(N_PORTS - 1)]}


def test_nic_model_front_end():
    """The functional NIC front-end (golden model): drops (no pool: port 4's MAC has no
    filter), replicas (port 3's MAC to pools 3 and 9, broadcasts to pools 2 and 5) and pool
    and queue metadata reach both engines identically."""
    pair = Pair(nic={"backend": "model", **NIC_CONFIG})
    rng = random.Random(11)
    frames, ports, times = _offer(rng, 300, gap_ns=120)
    arp = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(1)) / ARP(pdst=port_ip(1), psrc=host_ip(1))).ljust(60, b"\0")
    for k in range(12):
        frames.append(arp)
        ports.append(1)
        times.append(300.0 + k * 2500)
    pair.each(_setup_arp)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.run_chunks(10_000, 3)
    c = pair.c
    st = c.nic_stats()
    assert st == pair.py.nic_stats()
    assert st["drops"]["no_pool"] == ports.count(4) and c.drops()["nic_no_pool"] == ports.count(4)
    assert st["replicas"] == ports.count(3) + 12 and st["pools"][9] == ports.count(3)
    tx = c.transmitted()
    assert {t.pool for t in tx} == {0, 1, 2, 3, 9} and len({t.nic_queue for t in tx}) == 4
    assert c.exceptions() == {"non_ip": 24}                 # each broadcast ARP once per pool
    assert c.check_conservation().in_flight == 0


def test_bus_fed_ports_take_frames_whole_and_overflow_rbuf():
    """Ports fed by a flow-controlled NIC bus (np_port_set_bus, the cycle-timed NIC's input):
    frames enter the MSF whole at their cycle, without input-wire time. Fed here with no
    flow control, a burst overruns RBUF (rbuf_full) exactly alike on both engines."""
    pair = Pair()
    for r in pair.routers.values():
        _setup_arp(r)
        for p in (0, 1):
            assert lib.np_port_set_bus(r.m.ptr, p, 1) == 0
        assert [lib.np_port_bus(r.m.ptr, p) for p in range(N_PORTS + 1)] == [1, 1, 0, 0, 0, -1]
        assert lib.np_rbuf_free(r.m.ptr) == IXP2800.value("rbuf_elements")
    rng = random.Random(12)
    frames, ports, times = [], [], []
    for i in range(240):                                # 80 back-to-back 300-B frames at once per port
        p = i % 3
        frames.append(frame(p, host_ip(3 + i % 2), size=300, sport=1000 + i))
        ports.append(p)
        times.append(1000.0 + (i // 3) * (0 if p < 2 else 2.5) + rng.random() * 0.1)
    ids = {e: r.send(frames, ports, at_ns=times) for e, r in pair.routers.items()}
    pair.run_chunks(4_000, 3)
    c = pair.c
    assert lib.np_port_set_bus(c.m.ptr, 7, 1) < 0 and "port 7 does not exist" in ffi.string(lib.np_error(c.m.ptr)).decode()
    drops = c.drop_records()
    full = drops[drops["reason"] == DROP_REASONS.index("rbuf_full")]
    assert len(full) > 20 and set(full["port"]) <= {0, 1}
    t_rx = {int(r["pkt"]): int(r["t_rx"]) for r in c.tx_records()}
    fed = {int(i): (p, c.ns_to_cycles(t)) for i, p, t in zip(ids["c"], ports, times)}
    bus_in = [t_rx[i] - t for i, (p, t) in fed.items() if p < 2 and i in t_rx]
    wire_in = [t_rx[i] - t for i, (p, t) in fed.items() if p == 2 and i in t_rx]
    assert len(bus_in) >= 20 and set(bus_in) == {0}      # whole, at the fed cycle (RBUF holds 25)
    assert min(wire_in) >= c.ns_to_cycles((300 + 24) * 8)   # after a 300-B frame's wire time at 1 Gb/s
    assert lib.np_rbuf_free(c.m.ptr) == IXP2800.value("rbuf_elements")
    assert c.check_conservation().in_flight == 0


def test_run_stops_when_rx_releases_rbuf():
    """NP_STOP_RBUF (the cycle-timed NIC waits on it for room): both engines stop after the
    same events, at the same cycles, and otherwise simulate as without the flag."""
    routers = {e: NPR(engine=e, buffers=2048) for e in ("c", "py")}
    frames, ports, times = _offer(random.Random(13), 80, gap_ns=100)
    stops: dict[str, list[tuple[int, int]]] = {}
    for e, r in routers.items():
        _setup_arp(r)
        r.record_drops(True)
        r.set_trace(True)
        r.send(frames, ports, at_ns=times)
        seq = stops[e] = []
        until = r.ns_to_cycles(300_000)
        while r.engine.now < until:
            rc = r.engine.run(until, stop_on_rbuf=True)
            seq.append((rc, r.engine.now))
        r._drain()
    assert stops["py"] == stops["c"]
    rbuf_stops = [t for rc, t in stops["c"] if rc == lib.NP_RUN_RBUF]
    assert len(rbuf_stops) == 80 and stops["c"][-1][0] != lib.NP_RUN_RBUF   # one per frame Rx took
    assert_same(routers["c"], routers["py"])
    plain = NPR(engine="c", buffers=2048)            # the stops change nothing simulated
    _setup_arp(plain)
    plain.send(frames, ports, at_ns=times)
    plain.run(duration_ns=300_000)
    assert len(plain.transmitted()) == 80 and plain.transmitted() == routers["c"].transmitted() and plain.engine.events == routers["c"].engine.events


def _reflector(engine: str, n: int = 120) -> tuple[Machine, Any]:
    """A machine with no queue manager: Rx -> HdrFmt -> Tx sends each frame back out of
    its input port. It reaches two engine paths the NPR never does: with no QM credits
    the TBUF fills, so Tx threads wait for room; and HdrFmt's (non-posted) put goes to a
    memory ring, so the putter waits until its entry is visible."""
    p = IXP2800
    m = Machine(f_me_hz=p.value("me_clock_hz"), n_buffers=256, swap_cycles=3, rbuf_elements=64,
                rbuf_element_bytes=64, tbuf_elements=4, wire_overhead=20, fcs_bytes=4, min_frame=64)
    scr = m.add_server(60, 4, 2048)
    sram_rd, sram_wr = m.add_server(100, 4, 7168, 1024), m.add_server(100, 4, 7168, 1024)
    d0 = m.add_server(200, 16, 14336)
    m.add_server(200, 16, 14336)
    mem_scr = m.add_mem(MemKind.SCRATCH, scr, scr)
    sram = m.add_mem(MemKind.SRAM, sram_rd, sram_wr)
    dram = m.add_mem(MemKind.DRAM, d0, d0, 2, 7)
    ring = {}
    # rx_hf has no declared format: HdrFmt reads Rx's {handle, in port} as {handle, port}
    for name, kind, mem, words, size, fmt in (
            ("rbuf", RingKind.PUSH, -1, 2, 128, "rbuf_status"),
            ("rx_hf", RingKind.MEM, mem_scr, 2, 128, ""),
            ("hf_tx", RingKind.MEM, mem_scr, 2, 128, "hf_tx"),    # HdrFmt's put waits for the write
            ("free", RingKind.MEM, mem_scr, 1, 128, "buf"),
            ("bufq", RingKind.QUEUE, sram, 1, 256, "buf"),
            ("txdone", RingKind.PUSH, -1, 1, 256, "txdone")):
        ring[name] = m.add_ring(name, kind, mem, words, size, fmt=fmt)
    for hw in ("rbuf", "txdone", "bufq"):
        m.set_hw_ring(HwRing[hw.upper()], ring[hw])
    pd = {"pkt": dram, "desc": sram}
    blocks = {
        "rx": (4, m.add_block("rx", "rx", rings={"in": ring["rbuf"], "bufq": ring["bufq"], "out": ring["rx_hf"]},
                              mems=pd, params={"cost_base": 60})),
        "hdrfmt": (4, m.add_block("hdrfmt", "hdrfmt", rings={"in": ring["rx_hf"], "out": ring["hf_tx"]},
                                  mems={"desc": sram}, params={"cost_base": 40})),
        "tx": (8, m.add_block("tx", "tx", rings={"in": ring["hf_tx"], "txdone": ring["txdone"], "free": ring["free"]},
                              mems=pd, params={"cost_base": 40, "cost_done": 20})),
        "freelist": (2, m.add_block("freelist", "freelist", rings={"in": ring["free"], "bufq": ring["bufq"]},
                                    mems={"desc": sram}, params={"cost_base": 20})),
    }
    for name, (nt, inst) in blocks.items():
        m.add_me(name, inst, nt)
    for i in range(2):
        m.add_port(1_000_000_000, 0x020000000001 + i, 0x0A000001 + (i << 8), 1500)
    m.start()
    lib.np_set_capture(m.ptr, 1)
    lib.np_set_trace(m.ptr, 1)
    rng = random.Random(10)
    sizes = np.array([rng.randint(64, 1500) for _ in range(n)], dtype=np.uint32)
    ports = np.array([i % 2 for i in range(n)], dtype=np.uint8)
    t = np.array([(i // 2) * 300 for i in range(n)], dtype=np.uint64)
    offs = np.zeros(n, dtype=np.uint64)
    offs[1:] = np.cumsum(sizes[:-1])
    data = np.frombuffer(bytes(rng.randrange(256) for _ in range(int(sizes.sum()))), dtype=np.uint8)
    m.feed(t, ports, sizes, offs, data, None, 0)
    return m, make_engine(engine, m)


def test_reflector_machine_tbuf_waits():
    runs = {}
    for e in ("c", "py"):
        m, eng = _reflector(e)
        rcs = [eng.run(30_000), eng.run(60_000), eng.run(FOREVER)]
        runs[e] = (rcs, eng.now, eng.events, m.take_outputs(), raw_stats_ptr(m.ptr), eng.line_trace())
        if e == "py":
            py_engine = eng
    c, p = runs["c"], runs["py"]
    assert p[:3] == c[:3]
    for k in ("tx", "drops", "trace"):
        _same_records(c[3][k], p[3][k], k)
    assert p[3]["tx_cap"] == c[3]["tx_cap"]
    assert p[4] == c[4]
    assert p[5] == c[5]
    assert c[0] == [RUN_TIME, RUN_TIME, RUN_IDLE] and len(c[3]["tx"]) == 120
    assert len(c[3]["tx_cap"]) == int(c[3]["tx"]["len"].sum())
    # without QM credits Tx threads found the 4-element TBUF full and waited for room
    assert sum(port.tbuf_waits for port in py_engine.ports) > 20
    assert all(f"tbuf_waits={port.tbuf_waits}" in port.line_trace() for port in py_engine.ports)


# ------------------------------------------------------------------------------------------
# the comparison itself, the components, the engine factory


def test_comparison_detects_a_one_cycle_difference():
    """assert_same is not vacuous: a one-cycle change in the context swap shows."""
    routers = [NPR(engine="c", buffers=256, profile=IXP2800.replace(ctx_swap_cycles=s)) for s in (3, 4)]
    frames, ports, times = _offer(random.Random(8), 30, gap_ns=500)
    for r in routers:
        _setup_arp(r)
        r.send(frames, ports, at_ns=times)
        r.run_until_idle(max_ns=1e5)
    routers[1].engine.name = "py"       # let the comparison get past its engine-name check
    with pytest.raises(AssertionError):
        assert_same(*routers)


def test_component_line_traces():
    pair = Pair(buffers=256)
    frames, ports, times = _offer(random.Random(9), 60, gap_ns=30)
    pair.each(_setup_arp)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    eng = pair.py.engine
    for _ in range(40):                                 # stop mid-traffic, with a frame on a wire
        pair.each(lambda r: r.run(duration_ns=700))
        assert_same(pair.c, pair.py)
        if any(p.wire_busy for p in eng.ports):
            break
    assert isinstance(eng, PyEngine)
    # the whole-machine line is C's np_line_trace, made of the MEs' and rings' own traces
    line = eng.line_trace()
    assert line == pair.c.line_trace()
    assert line.startswith(f"{eng.now:10d}")
    for me in eng.mes:
        assert isinstance(me, MicroEngine)
        tr = me.line_trace()
        assert tr == f"{me.name}:" + "".join(t.line_trace() for t in me.threads)
        assert f" {tr} " in line + " "
        assert len(tr) == len(me.name) + 1 + len(me.threads) and set(tr[len(me.name) + 1:]) <= set("rXm.b-")
    assert "X" in line or "m" in line                   # something is under way
    busy = [r for r in eng.rings if r.count]
    assert busy and all(isinstance(r, Ring) for r in busy)
    for r in eng.rings:
        assert r.line_trace().startswith(f"{r.name}:{r.count}/{r.cap}(vis {r.nvis})")
    for p in eng.ports:
        assert isinstance(p, Port) and p.line_trace().startswith(f"p{p.index}:rx")
    assert any("tx*" in p.line_trace() for p in eng.ports)
    for s in eng.servers:
        assert isinstance(s, Server) and s.line_trace().startswith(f"srv{s.index}:free@")
    assert all(isinstance(m, Memory) and m.line_trace().startswith(f"mem{m.index}:") for m in eng.memories)
    assert "|" in eng.components_trace()


def test_time_never_runs_backwards():
    """Running to a past cycle is refused by both engines alike, and changes nothing
    (engine.c used to set its clock back and underflow the ME accounting)."""
    pair = Pair(buffers=256)
    frames, ports, times = _offer(random.Random(11), 40, gap_ns=300)
    pair.each(_setup_arp)
    pair.each(lambda r: r.send(frames, ports, at_ns=times))
    pair.each(lambda r: r.run(duration_ns=5000))
    before = {e: (r.engine.now, r.engine.events, raw_stats(r)) for e, r in pair.routers.items()}
    for e, r in pair.routers.items():
        with pytest.raises(CoreError, match=rf"run until cycle 1400 is before the current cycle {r.engine.now}$"):
            r.run(until_ns=1000)
        assert (r.engine.now, r.engine.events, raw_stats(r)) == before[e]
    assert_same(pair.c, pair.py)
    pair.run_chunks(5000, 2)


def test_make_engine_refuses_an_unknown_name():
    m = NPR(engine="c", buffers=64).m
    assert ENGINES == ("c", "py")
    assert make_engine("py", m).name == "py" and make_engine("c", m).name == "c"
    with pytest.raises(ValueError, match=r"unknown engine 'verilog'; valid: c, py"):
        make_engine("verilog", m)
    with pytest.raises(ValueError, match="unknown engine"):
        NPR(engine="C", buffers=64)


def test_engines_refuse_a_machine_not_started():
    def unstarted() -> Machine:
        p = IXP2800
        m = Machine(f_me_hz=p.value("me_clock_hz"), n_buffers=64, swap_cycles=3, rbuf_elements=8,
                    rbuf_element_bytes=64, tbuf_elements=8, wire_overhead=20, fcs_bytes=4, min_frame=64)
        s = m.add_server(10, 4, 1024)
        mem = m.add_mem(MemKind.SCRATCH, s, s)
        m.set_hw_ring(HwRing.RBUF, m.add_ring("rbuf", RingKind.PUSH, -1, 2, 16, fmt="rbuf_status"))
        m.add_ring("unused", RingKind.MEM, mem, 1, 128)
        m.add_me("idle", m.add_block("idle", "idle"), 2)
        return m
    for e in ("c", "py"):
        with pytest.raises(CoreError, match="machine not started"):
            make_engine(e, unstarted()).run(1000)
