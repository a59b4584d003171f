"""Figures of the VMDq classifier RTL: cycles per frame, implied line rate, simulation speed.

For each DATA_WIDTH the Verilated classifier (pyverilator backend, built
once and cached) is fed back-to-back frames of 64..1518 bytes (Ethernet
sizes with FCS; the stream carries them without the 4-byte FCS).  Cycles
per frame are measured as the difference between batches of 2N and N
frames, so the pipeline fill does not count.  The implied line rate is at
the clock that width targets; the wire rate adds preamble, SFD, FCS and
inter-frame gap (20 bytes per frame).

Then the simulation speeds: frames per wall-second through pyverilator
(random traffic and minimum-size frames) and through cocotb (random traffic
with cocotbext-axi and the golden-model scoreboard, the way the tests run).

Then the RTL in the loop (``cosim``): a 5-port NPR whose NIC is the
Verilated classifier clocked in the NP's time (``nic: {backend: rtl, timing:
cycle}``, np_model/nic/cosim.py), fed 64-byte and 1518-byte frames at line
rate on every port, a mix, and a burst into a slowed Rx that keeps RBUF full
(back-pressure); frames per wall-second of send + run, next to the same
traffic with the functional front-end (RTL and model backends), with the
co-simulation's counters (clock edges evaluated per frame, cycles skipped
while stalled, NP synchronisations).

The last line printed is one JSON object with every figure.

    python benchmarks/bench_rtl.py [--quick] [--only cosim]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from np_model.nic import make_nic  # noqa: E402
from testbench.traffic import random_config, random_frames, strip_hints  # noqa: E402

# width -> (target clock in MHz, target line rate in Gb/s)
TARGETS = {64: (156.25, 10), 128: (312.5, 40), 256: (250.0, 50), 512: (250.0, 100)}
SIZES = (64, 128, 256, 512, 1024, 1518)
WIRE_OVERHEAD = 8 + 12  # preamble + SFD, inter-frame gap (sizes already include the FCS)


def frame_of(size: int, rng: random.Random, cfg: dict) -> bytes:
    """An IPv4/UDP frame aimed at the configuration, ``size - 4`` bytes on the stream."""
    (f,) = random_frames(rng, cfg, 1, max_len=size - 4)
    return (f + bytes(size))[:size - 4]


def measure_width(width: int, n: int, mode: str) -> dict:
    rng = random.Random(width)
    cfg = random_config(rng, mode)
    cfg.pop("min_frame_len", None)
    nic = make_nic("rtl", strip_hints(cfg), data_width=width)
    clock_mhz, target_gbps = TARGETS[width]
    sizes = {}
    for size in SIZES:
        frames = [frame_of(size, rng, cfg) for _ in range(2 * n)]
        nic.classify(frames[:n])
        c1 = nic.last_batch_cycles
        nic.classify(frames[:1])
        latency = nic.last_batch_latency
        nic.classify(frames)
        c2 = nic.last_batch_cycles
        cpf = (c2 - c1) / n
        fps = clock_mhz * 1e6 / cpf
        wire_gbps = fps * (size + WIRE_OVERHEAD) * 8 / 1e9
        sizes[str(size)] = {
            "cycles_per_frame": round(cpf, 3),
            "beats_per_frame": -(-(size - 4) // (width // 8)),
            "mfps": round(fps / 1e6, 3),
            "wire_gbps": round(wire_gbps, 2),
            "line_rate_ok": wire_gbps >= target_gbps,
            "first_beat_latency_cycles": latency,
        }
    # simulation speed through pyverilator
    traffic = random_frames(rng, cfg, 2000)
    start = time.perf_counter()
    nic.classify(traffic)
    mixed = len(traffic) / (time.perf_counter() - start)
    small = [frame_of(64, rng, cfg) for _ in range(2000)]
    start = time.perf_counter()
    nic.classify(small)
    min_fps = len(small) / (time.perf_counter() - start)
    nic.close()
    return {"clock_mhz": clock_mhz, "target_gbps": target_gbps, "sizes": sizes,
            "pyverilator_fps_mixed": round(mixed), "pyverilator_fps_64B": round(min_fps)}


def model_fps(mode: str) -> float:
    rng = random.Random(1)
    cfg = random_config(rng, mode)
    nic = make_nic("model", strip_hints(cfg))
    traffic = random_frames(rng, cfg, 5000)
    start = time.perf_counter()
    nic.classify(traffic)
    return len(traffic) / (time.perf_counter() - start)


def cocotb_fps(width: int, mode: str, frames: int) -> float:
    from testbench.vmdq_classifier.test_vmdq_classifier import run_sim

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run_sim(width, mode, test_module="testbench.vmdq_classifier.bench_vmdq_classifier",
                extra_env={"VMDQ_BENCH_FILE": str(out), "VMDQ_BENCH_FRAMES": str(frames)})
        return json.loads(out.read_text())["fps"]


def cosim_fps(quick: bool) -> dict:
    """Frames per wall-second of an NPR with the cycle-timed RTL NIC (and functional for scale)."""
    from np_model.profile import IXP2800
    from tests.helpers import host_ip, make_npr, port_mac, udp_frame

    cfg = {"mode": "32x4", "mac_filters": [{"mac": port_mac(p), "pools": [p]} for p in range(5)]}
    slow_rx = IXP2800.replace({"rx.cost_base": 20_000})      # Rx ~140 k frames/s: RBUF stays full

    def traffic(n: int, size: int | None, gap_ns: float | None, seed: int = 1):
        rng = random.Random(seed)
        frames, ports, times = [], [], []
        for i in range(n):
            sz = size or rng.choice((64, 64, 128, 256, 576, 1518))
            frames.append(bytes(udp_frame(i % 5, host_ip((i + 1) % 5), size=sz - 4, sport=1000 + i)))
            ports.append(i % 5)
            times.append((i // 5) * ((sz + 20) * 8.0 if gap_ns is None else gap_ns))   # line rate per port
        return frames, ports, times

    k = 4 if quick else 1
    cases = {"64B_line_rate": (traffic(5000 // k, 64, None), IXP2800),
             "1518B_line_rate": (traffic(500 // k, 1518, None), IXP2800),
             "imix_line_rate": (traffic(2000 // k, None, None), IXP2800),
             "64B_rbuf_backpressure": (traffic(2000 // k, 64, 0.0), slow_rx)}
    out: dict = {}
    for name, ((frames, ports, times), prof) in cases.items():
        row = {"frames": len(frames)}
        for label, nic in (("cycle", {"backend": "rtl", "timing": "cycle"}),
                           ("functional_rtl", {"backend": "rtl"}), ("functional_model", {"backend": "model"})):
            r = make_npr("c", profile=prof, nic={**nic, **cfg})
            t0 = time.perf_counter()
            r.send(frames, port=ports, at_ns=times)
            r.run_until_idle()
            wall = time.perf_counter() - t0
            row[f"{label}_fps"] = round(len(frames) / wall)
            if label == "cycle":
                st = r.nic_stats()
                row.update({"cycle_wall_s": round(wall, 3), "sim_us": round(r.now_ns / 1e3, 1),
                            "ticks_per_frame": round(st["ticks"] / len(frames), 1),
                            "frozen_cycle_share": round(st["frozen_cycles"] / max(1, st["cycles"]), 3),
                            "np_syncs_per_frame": round(st["np_syncs"] / len(frames), 2),
                            "drops": r.drops(), "m_axis_stall_cycles": st["m_axis_stall_cycles"]})
            else:
                row[f"{label}_drops"] = r.drops()
            r.nic.close()
        out[name] = row
        print(f"  {name:22s} {row['frames']:5d} frames: cycle {row['cycle_fps']:7d} frames/s "
              f"({row['ticks_per_frame']} edges/frame, {row['frozen_cycle_share']:.0%} cycles skipped frozen, "
              f"{row['np_syncs_per_frame']} NP syncs/frame, drops {row['drops']}); functional: rtl "
              f"{row['functional_rtl_fps']}, model {row['functional_model_fps']} frames/s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (smoke run)")
    parser.add_argument("--mode", default="32x4", choices=("64x2", "32x4", "16x8"))
    parser.add_argument("--only", choices=("cosim",), help="only the RTL-in-the-loop figures")
    args = parser.parse_args()
    n = 50 if args.quick else 200
    result: dict = {"mode": args.mode, "widths": {}}
    print("RTL in the loop (cycle timing, DATA_WIDTH 64 at 156.25 MHz), 5-port NPR, frames per wall-second:")
    result["cosim"] = cosim_fps(args.quick)
    if args.only == "cosim":
        sys.stdout.flush()
        print(json.dumps(result, separators=(",", ":")))
        return
    for width in TARGETS:
        t0 = time.perf_counter()
        result["widths"][str(width)] = r = measure_width(width, n, args.mode)
        print(f"DATA_WIDTH {width:3d} @ {r['clock_mhz']} MHz (target {r['target_gbps']}G), "
              f"measured in {time.perf_counter() - t0:.1f} s:")
        for size, s in r["sizes"].items():
            print(f"  {size:>5} B: {s['cycles_per_frame']:7.2f} cycles/frame "
                  f"({s['beats_per_frame']} beats), {s['mfps']:7.3f} Mfps, {s['wire_gbps']:7.2f} Gb/s wire"
                  f"{'' if s['line_rate_ok'] else '  BELOW LINE RATE'}, first-beat latency "
                  f"{s['first_beat_latency_cycles']} cycles")
        print(f"  pyverilator: {r['pyverilator_fps_mixed']} frames/s (mixed), "
              f"{r['pyverilator_fps_64B']} frames/s (64 B)")
    result["model_fps"] = round(model_fps(args.mode))
    print(f"golden model: {result['model_fps']} frames/s")
    cocotb_frames = 300 if args.quick else 1000
    result["cocotb_fps"] = {}
    for width in (64, 512):
        fps = cocotb_fps(width, args.mode, cocotb_frames)
        result["cocotb_fps"][str(width)] = round(fps, 1)
        print(f"cocotb (Verilator, DATA_WIDTH {width}, scoreboarded): {fps:.1f} frames/s")
    result["all_line_rate_ok"] = all(s["line_rate_ok"] for w in result["widths"].values()
                                     for s in w["sizes"].values())
    sys.stdout.flush()
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
