#!/usr/bin/env python3
"""Streaming replay: wall time and peak memory of ``vrouter-hil run`` on N frames.

Writes a classic pcap of N 64-byte frames (60 bytes captured, no FCS) at
line rate on port 0 of a 2-port router, all routed out of port 1, into a
temporary folder (deleted afterwards), then runs ``vrouter-hil run`` on it
in a child process with ``--out`` and reports the child's wall time and
peak resident memory (``getrusage`` of the children; the figure
``/usr/bin/time -v`` calls "Maximum resident set size").

    python benchmarks/bench_replay.py [--frames 1000000] [--keep DIR]

The last line is JSON: frames, wall_s, peak_rss_mb, frames_per_s,
frames_out (port 1's pcap), pcap_mb.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

CONFIG = """\
ports:
  - {address: 10.0.1.1/24, mac: "02:00:00:00:00:01"}
  - {address: 10.0.2.1/24, mac: "02:00:00:00:00:02"}
routes:
  - {prefix: 192.168.2.0/24, port: 1, next_hop: 10.0.2.2}
arp:
  - {ip: 10.0.2.2, mac: "02:00:00:00:02:02"}
"""
GAP_NS = 672                                     # 64 B + 8 B preamble + 12 B gap at 1 Gb/s


def frame() -> bytes:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    f = bytes(Ether(dst="02:00:00:00:00:01", src="02:00:00:00:01:02") / IP(src="192.168.1.5", dst="192.168.2.9")
              / UDP(sport=1000, dport=9))
    return f + b"\0" * (60 - len(f))


def write_capture(path: str, n: int, chunk: int = 1 << 18) -> None:
    """n records of one 60-byte frame, GAP_NS apart, written with numpy a chunk at a time."""
    f = np.frombuffer(frame(), dtype=np.uint8)
    rec = np.dtype([("sec", "<u4"), ("ns", "<u4"), ("incl", "<u4"), ("orig", "<u4"), ("data", "u1", 60)])
    t0 = 1_700_000_000 * 10**9
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for lo in range(0, n, chunk):
            k = np.arange(lo, min(n, lo + chunk), dtype=np.uint64)
            t = np.uint64(t0) + k * np.uint64(GAP_NS)
            a = np.empty(len(k), dtype=rec)
            a["sec"], a["ns"] = t // np.uint64(10**9), t % np.uint64(10**9)
            a["incl"] = a["orig"] = 60
            a["data"] = f
            out.write(a.tobytes())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="DIR", help="write the capture and outputs here and keep them")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="bench_replay_")
    os.makedirs(work, exist_ok=True)
    try:
        cfg, pcap, out = (os.path.join(work, x) for x in ("router.yaml", "in.pcap", "out"))
        with open(cfg, "w") as f:
            f.write(CONFIG)
        write_capture(pcap, args.frames)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "host.cli", "run", cfg, "--pcap", f"0={pcap}", "--out", out,
                               "--no-progress"], capture_output=True, text=True,
                              cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        wall = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(proc.stdout)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        st = json.load(open(os.path.join(out, "stats.json")))
        res = {"frames": args.frames, "wall_s": round(wall, 1), "peak_rss_mb": round(peak_mb, 1),
               "frames_per_s": round(args.frames / wall), "frames_out": st["replay"]["outputs"]["port1.pcap"],
               "pcap_mb": round(os.path.getsize(pcap) / 2**20, 1)}
        print(json.dumps(res))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
