"""The RTL truly in the loop: ``nic: {backend: rtl, timing: cycle}`` (np_model/nic/cosim.py).

The Verilated classifier is clocked at its own 156.25 MHz in the NP's simulated
time, between the ports' wires and the NP's receive buffer. These tests check
what that adds over the functional front-end: frames enter RBUF when the RTL's
last beat does, RBUF back-pressure reaches the RTL's ``m_axis_tready`` instead of
dropping frames as ``rbuf_full``, replicas cross the NIC-to-NP bus (bus time, not
wire time) -- and that the router's outputs stay those of the golden model.
"""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from host.config import ConfigError as HostConfigError, parse_config as parse_router_config
from np_model.core import lib
from np_model.nic import ConfigError, check_router_config
from np_model.profile import IXP2800
from tests.helpers import host_ip, host_mac, make_npr, port_ip, port_mac

N_PORTS = 5
# port p's MAC to pool p (port 1's to pools 1, 9 and 12: replicated), broadcasts to pools 3 and 7
CONFIG = {"mode": "32x4", "disable_default_pool": True, "broadcast": [3, 7],
          "mac_filters": [{"mac": port_mac(p), "pools": [1, 9, 12] if p == 1 else [p]} for p in range(N_PORTS)]}
CYCLE = {"backend": "rtl", "timing": "cycle"}
F_NIC = 156_250_000
HDR_BEATS = 11           # rtl/README.md: ceil(86 / 8) header beats at DATA_WIDTH 64
SLOW_RX = IXP2800.replace({"rx.cost_base": 20_000})      # Rx at ~140 k frames/s: RBUF fills under a burst


def udp(p_in: int, p_out: int, size: int, k: int, *, tcp: bool = False) -> bytes:
    l4 = TCP(sport=1000 + k, dport=80) if tcp else UDP(sport=1000 + k, dport=5001)
    hdr = Ether(dst=port_mac(p_in), src=host_mac(p_in)) / IP(src=host_ip(p_in), dst=host_ip(p_out)) / l4
    return bytes(hdr / Raw(b"\x5a" * max(0, size - len(hdr))))


def mixed_traffic(seed: int, n: int = 160) -> tuple[list[bytes], list[int], list[float]]:
    """Unicast between the neighbours (random sizes, TCP and UDP), broadcast ARPs, frames to an
    unknown MAC (no pool) and runts, at a moderate load."""
    rng = random.Random(seed)
    frames, ports, times, t = [], [], [], 0.0
    for k in range(n):
        p = k % N_PORTS
        kind = rng.random()
        if kind < 0.05:
            f = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=host_mac(p)) / ARP(psrc=host_ip(p), pdst=port_ip(p)))
        elif kind < 0.1:
            f = bytes(Ether(dst="02:99:00:00:00:01", src=host_mac(p)) / IP(src=host_ip(p), dst=host_ip(0)) / UDP())
        elif kind < 0.13:
            f = bytes(Ether(dst=port_mac(p), src=host_mac(p)) / IP(src=host_ip(p), dst=host_ip(0)))[:40]   # runt
        else:
            q = rng.choice([x for x in range(N_PORTS) if x != p])
            f = udp(p, q, rng.randint(60, 1400), k, tcp=rng.random() < 0.4)
        frames.append(f.ljust(60, b"\0") if kind < 0.1 else f)
        ports.append(p)
        t += rng.expovariate(1 / 900.0)
        times.append(t)
    return frames, ports, times


def outputs(r) -> tuple:
    """What the router did, without times: frames sent (port, pool, queue, bytes), host packets,
    drops, and the NIC's pools and queues."""
    st = r.nic_stats()
    return (sorted((t.port, t.pool, t.nic_queue, t.data) for t in r.transmitted()),
            sorted((h.reason, h.in_port, h.data) for h in r.host_packets()),
            r.drops(), st["pools"], st["queues"], st["replicas"], st["drops"])


def burst(n: int, size: int = 60) -> tuple[list[bytes], list[int], list[float]]:
    """n frames back to back on all five wires at once."""
    frames = [udp(k % N_PORTS, (k + 2) % N_PORTS, size, k) for k in range(n)]
    return frames, [k % N_PORTS for k in range(n)], [0.0] * n


# ------------------------------------------------------------------------------------------
# configuration (no Verilator needed)


@pytest.mark.parametrize("value,message", [
    ({"backend": "model", "timing": "cycle"}, "nic.timing: cycle needs backend: rtl"),
    ({"backend": "rtl", "timing": "exact"}, "nic.timing: 'exact' unknown; valid: functional, cycle"),
    ({"backend": "rtl", "params": {"clock_hz": 10**8}}, "nic.params: clock_hz is used only with timing: cycle"),
    ({"backend": "rtl", "timing": "cycle", "params": {"clk": 1}},
     "nic.params: unknown parameter 'clk' for the rtl backend; valid: num_mac_filters, data_width"),
    ({"backend": "fpga"}, "nic.backend: 'fpga' unknown; valid: model, rtl"),
])
def test_timing_and_its_parameters_are_validated(value, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        check_router_config(value)


def test_configuration_errors_name_file_line_and_key():
    text = ("ports:\n  - {address: 10.0.1.1/24, mac: \"02:00:00:00:00:01\"}\n"
            "nic:\n  backend: model\n  timing: cycle\n")
    with pytest.raises(HostConfigError, match="^cfg.yaml:5: nic.timing: cycle needs backend: rtl"):
        parse_router_config(text, source="cfg.yaml")
    assert check_router_config({"backend": "rtl", "timing": "cycle", "params": {"rx_buffer_bytes": 4096},
                                **CONFIG})[:3] == ("rtl", "cycle", {"rx_buffer_bytes": 4096})
    assert check_router_config("rtl")[:2] == ("rtl", "functional")


# ------------------------------------------------------------------------------------------
# behaviour (the Verilated RTL)


@pytest.mark.rtl
@pytest.mark.parametrize(("data_width", "mode"), [(64, "32x4"), (512, "64x2")], ids=["dw64-32x4", "dw512-64x2"])
def test_cycle_timing_gives_the_golden_models_outputs(data_width, mode):
    """Same frames through the functional model and the clocked RTL: every frame sent (port,
    pool, queue, bytes), every host packet, every drop and the per-pool/queue counts agree
    (64-bit beats and a 75-bit tuser; 512-bit beats and a 107-bit tuser)."""
    frames, ports, times = mixed_traffic(1)
    out = {}
    config = {**CONFIG, "mode": mode}
    for name, nic in (("model", {"backend": "model"}),
                      ("rtl-cycle", {**CYCLE, "params": {"data_width": data_width}})):
        r = make_npr("c", nic={**nic, **config})
        r.send(frames, port=ports, at_ns=times)
        r.run_until_idle()
        out[name] = outputs(r)
        c = r.check_conservation()
        assert c.in_flight == 0 and c.arrived == len(frames)
        if name == "rtl-cycle":
            assert r.engine.name == "c" and r.nic_stats()["timing"] == "cycle"
            assert r.nic_stats()["in_flight"] == 0 and r.nic_stats()["late_arrivals"] == 0
    assert out["rtl-cycle"] == out["model"]
    tx, host, drops, pools, _, replicas, nic_drops = out["model"]
    assert replicas > 0 and set(nic_drops) == {"no_pool", "runt"} and {1, 9, 12, 3, 7} <= set(pools)
    assert any(h[0] == "non_ip" for h in host)


@pytest.mark.rtl
def test_rbuf_back_pressure_reaches_the_rtl_instead_of_dropping():
    """A burst on all five wires into a slow Rx: the functional front-end loses frames as
    rbuf_full (a wire cannot wait); in cycle timing RBUF's room holds the RTL's m_axis_tready
    low, its frame FIFO fills and holds s_axis_tready low, the MAC buffer absorbs the rest,
    and every frame is forwarded -- no rbuf_full drop while the NIC can hold frames."""
    frames, ports, times = burst(300)
    functional = make_npr("c", profile=SLOW_RX, nic={"backend": "rtl", **CONFIG})
    functional.send(frames, port=ports, at_ns=times)
    functional.run_until_idle()
    assert functional.drops().get("rbuf_full", 0) > 100

    r = make_npr("c", profile=SLOW_RX, nic={**CYCLE, **CONFIG})
    r.send(frames, port=ports, at_ns=times)
    r.run_until_idle()
    nic = r.nic_stats()
    assert nic["replicas"] == 2 * 60                                # port 1's frames: three pools each
    assert r.drops() == {} and len(r.transmitted()) == 300 + nic["replicas"]
    # the RTL's side: output stalled for RBUF, input stalled by a full frame FIFO (FIFO_DEPTH 32)
    assert nic["m_axis_stall_cycles"] > 1000 and nic["s_axis_stall_cycles"] > 1000
    assert nic["fifo_max_beats"] == 32
    assert nic["rx_buffer_max_bytes"] > 100 * 60
    # the NP's side: RBUF full -- every element holds a frame waiting for Rx or in an Rx thread
    rings, mes = r.stats()["rings"], r.stats()["mes"]
    rx_threads = sum(v["threads"] for v in mes.values() if v["block"] == "rx")
    assert rings["rbuf"]["hwm"] + rx_threads == IXP2800.value("rbuf_elements")
    assert rings["rbuf"]["full"] == 0
    c = r.check_conservation()
    assert (c.arrived, c.copies, c.transmitted, c.dropped, c.in_flight) == (300, 120, 420, 0, 0)


@pytest.mark.rtl
def test_a_full_nic_buffer_drops_in_the_nic_and_every_frame_is_accounted_for():
    frames, ports, times = burst(300)
    r = make_npr("c", profile=SLOW_RX, nic={**CYCLE, "params": {"rx_buffer_bytes": 4096}, **CONFIG})
    r.send(frames, port=ports, at_ns=times)
    r.run(duration_ns=20_000)
    mid = r.check_conservation()
    assert mid.in_flight >= r.nic_stats()["in_flight"] > 0          # frames inside the NIC count as in flight
    r.run_until_idle()
    d = r.drops()
    assert set(d) == {"nic_rx_missed"} and d["nic_rx_missed"] > 50
    assert len(r.transmitted()) - r.nic_stats()["replicas"] + d["nic_rx_missed"] == 300
    assert r.nic_stats()["rx_buffer_max_bytes"] <= 4096
    c = r.check_conservation()
    assert (c.arrived, c.in_flight) == (300, 0)


@pytest.mark.rtl
def test_replicas_cross_the_bus_not_the_wire():
    """Port 1's MAC is in pools 1, 9 and 12: one 1000-byte frame becomes three. In functional
    timing the copies follow each other by the wire time of the frame; in cycle timing by the
    bus time, ceil(1000 / 8) beats at 156.25 MHz."""
    f = udp(1, 3, 1000, 0)
    gaps = {}
    for timing in ("functional", "cycle"):
        r = make_npr("c", nic={"backend": "rtl", "timing": timing, **CONFIG})
        r.send([f], port=1)
        r.run_until_idle()
        tx = sorted(r.transmitted(), key=lambda t: t.t_rx_ns)
        assert [t.pool for t in tx] == [1, 9, 12] and {t.data[14:] for t in tx} == {tx[0].data[14:]}
        gaps[timing] = np.diff([r.ns_to_cycles(t.t_rx_ns) for t in tx])
    f_me = IXP2800.value("me_clock_hz")
    bus = -(-1000 // 8) * f_me / F_NIC                             # ME cycles of 125 beats
    wire = (1000 + 4 + 20) * 8 * f_me / 1e9                         # frame + FCS + preamble/gap at 1 Gb/s
    assert all(abs(g - bus) <= 1 for g in gaps["cycle"])
    assert all(abs(g - wire) <= 1 for g in gaps["functional"])


@pytest.mark.rtl
@pytest.mark.parametrize("size", [60, 1000])
def test_a_frame_enters_rbuf_when_the_rtls_last_beat_does(size):
    """Unloaded, a frame's RBUF entry follows its last bit on the wire by the RTL's documented
    timing (rtl/README.md): first output beat = first input beat + dispatching beat + 5, then one
    beat per cycle, and the frame is in RBUF at the edge after its last beat."""
    r = make_npr("c", nic={**CYCLE, **CONFIG})
    at_ns = 1000.0
    r.run(until_ns=at_ns)
    r.send([udp(2, 4, size, 0)], port=2, at_ns=at_ns)
    r.run_until_idle()
    (tx,) = r.transmitted()
    beats = -(-size // 8)
    nic_cycles = (min(beats, HDR_BEATS) - 1 + 5) + (beats - 1) + 1
    wire_end = -(-(r.ns_to_cycles(at_ns) * lib.NP_SUB + lib.np_fx_wire_sub(r.m.ptr, 2, size)) // lib.NP_SUB)
    f_me = IXP2800.value("me_clock_hz")
    first_beat = -(-wire_end * F_NIC // f_me)                      # the first NIC cycle at or after it
    assert r.ns_to_cycles(tx.t_rx_ns) == -(-(first_beat + nic_cycles) * f_me // F_NIC)


@pytest.mark.rtl
def test_both_engines_and_the_frozen_clock_skip_give_the_same_simulation():
    """The co-simulation drives either engine identically, and skipping the clock of a NIC
    stalled both ways (np_model/nic/cosim.py, _QUIET_CYCLES) changes nothing observable."""
    frames, ports, times = burst(120, size=200)
    frames += mixed_traffic(2, 60)[0]
    ports += mixed_traffic(2, 60)[1]
    times += [5_000.0 + t for t in mixed_traffic(2, 60)[2]]
    runs = []
    for engine, skip in (("c", True), ("c", False), ("py", True)):
        r = make_npr(engine, profile=SLOW_RX, nic={**CYCLE, "params": {"rx_buffer_bytes": 8192}, **CONFIG})
        r.engine.skip_frozen = skip
        r.send(frames, port=ports, at_ns=times)
        r.run(duration_ns=50_000)
        r.run_until_idle()
        st = r.nic_stats()
        runs.append((r.tx_records(), r.drops(), {k: v for k, v in st.items() if k not in ("ticks", "frozen_cycles",
                                                                                         "np_syncs")}, st))
    for other in runs[1:]:
        assert np.array_equal(runs[0][0], other[0])
        assert runs[0][1:3] == other[1:3]
    assert runs[0][3]["frozen_cycles"] > 0 and runs[1][3]["frozen_cycles"] == 0
    assert runs[0][3]["ticks"] < runs[1][3]["ticks"]
    assert "nic_rx_missed" in runs[0][1]


@pytest.mark.rtl
def test_a_host_handler_and_timers_run_with_the_nic_in_the_loop(tmp_path):
    """Through host.router (slow path as host handler: the engine stops on every host packet):
    the broadcast ARPs, replicated to 16 pools, are answered, and the outputs equal the model
    example's. (16, not all 32: 96 copies would overrun the 85-entry exception ring in cycle
    timing, where a frame's copies cross the bus back to back instead of a wire one by one --
    timing deciding a drop.)"""
    from host.router import build_router

    examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
    pools = list(range(16))
    for name in ("nic_frontend.yaml", "nic_frontend_rtl.yaml"):    # the examples, broadcasts to 16 pools
        text = open(os.path.join(examples, name), encoding="utf-8").read()
        assert "broadcast: [0]" in text
        (tmp_path / name).write_text(text.replace("broadcast: [0]", f"broadcast: {pools}"))
    examples = str(tmp_path)
    frames, ports, times = [], [], []
    for k in range(45):
        p, q = k % 3, (k + 1) % 3
        mac = f"02:00:00:00:10:0{p + 1}"
        if k % 15 == 4:                             # 3 broadcast ARPs: 48 copies
            frames.append(bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=f"02:00:00:00:1{p + 1}:02")
                                / ARP(psrc=f"10.1.{p + 1}.2", pdst=f"10.1.{p + 1}.1")).ljust(60, b"\0"))
        else:
            frames.append(bytes(Ether(dst=mac, src=f"02:00:00:00:1{p + 1}:02") / IP(src=f"10.1.{p + 1}.2",
                                dst=f"10.1.{q + 1}.2") / UDP(sport=k, dport=9) / Raw(b"q" * (18 + 7 * k))))
        ports.append(p)
        times.append(k * 700.0)
    out = {}
    for name in ("nic_frontend.yaml", "nic_frontend_rtl.yaml"):
        rt = build_router(os.path.join(examples, name))
        r = rt.npr
        assert r.host_handler is not None
        r.send(frames, port=ports, at_ns=times)
        r.run(duration_ns=5_000_000)                            # the slow path answers 48 ARP copies
        out[name] = (sorted((t.port, t.data) for t in r.transmitted()), r.drops(), r.exceptions())
        assert r.check_conservation().in_flight == 0
    assert out["nic_frontend_rtl.yaml"] == out["nic_frontend.yaml"]
    tx, _, exc = out["nic_frontend.yaml"]
    assert exc["non_ip"] == 3 * 16                              # broadcast: 16 pools
    assert sum(1 for p, d in tx if d[12:14] == b"\x08\x06") == 3 * 16   # every copy answered


@pytest.mark.rtl
def test_cycle_timing_refuses_what_it_cannot_do():
    tiny = IXP2800.replace(rbuf_elements=16)                          # 1 KB: a 1518-byte frame never fits
    with pytest.raises(ValueError, match="needs 24 RBUF elements of 64 B, RBUF has 16"):
        make_npr("c", profile=tiny, nic={**CYCLE, **CONFIG})
    r = make_npr("c", nic={**CYCLE, **CONFIG})
    r.run(until_ns=5_000)
    with pytest.raises(ValueError, match="is before the current cycle"):
        r.send([udp(0, 1, 100, 0)], port=0, at_ns=1_000)
    r.send([udp(0, 1, 100, 0)], port=0, at_ns=9_000)
    with pytest.raises(ValueError, match="port 0 times must not decrease"):
        r.send([udp(0, 1, 100, 1)], port=0, at_ns=8_000)
    with pytest.raises(ValueError, match="cannot be replaced"):
        r.nic = None
    r.run_until_idle()
    assert len(r.transmitted()) == 1 and r.check_conservation().in_flight == 0
