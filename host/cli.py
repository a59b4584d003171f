"""The vrouter-hil command.

    vrouter-hil demo       a 5-port NPR forwarding a default traffic mix
    vrouter-hil profile    the hardware profile with every value's source
    vrouter-hil run        replay captures through a configured router
    vrouter-hil net        run a network of routers, switches and hosts

Exit status: 0 when every packet is accounted for, 1 if not, 2 for usage,
configuration or input errors (the message names what is wrong and where).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Callable, Sequence

__all__ = ["main"]

DESCRIPTION = ("Hardware-in-the-loop emulation of network-processor (IXP2800 NPR, SPP line card and NPE) and "
               "SmartNIC virtual routers: run a demo, print a hardware profile, replay captures through a "
               "configured router, or run a network of routers, SPP nodes, switches and hosts.")
EPILOG = "Exit status: 0 every packet accounted for, 1 not, 2 usage, configuration or input error."
DEMO_DURATION_MS = (0.0, 1000.0)          # exclusive .. inclusive


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("vrouter-hil")
    except Exception:                     # running from a source tree that is not installed
        return "unknown (not installed)"


def _number(lo: float, hi: float, *, lo_open: bool = False, integer: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [lo, hi] (or (lo, hi]), with the range in the error."""
    rng = f"{'(' if lo_open else '['}{lo:.15g}, {hi:.15g}]"

    def parse(text: str) -> float:
        try:
            v = int(text, 0) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if integer else 'a number'}; valid: {rng}") from None
        if not math.isfinite(v) or v < lo or (lo_open and v == lo) or v > hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range; valid: {rng}")
        return v
    return parse


def _demo(args: argparse.Namespace) -> int:
    from np_model.demo import run_demo

    try:
        report = run_demo(duration_ms=args.duration_ms, load=args.load, engine=args.engine, seed=args.seed)
    except ValueError as e:
        print(f"vrouter-hil demo: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report["stats"], indent=1, default=str))
    else:
        print(report["text"])
    return 0 if report["stats"]["conservation"]["ok"] else 1


def _profile(args: argparse.Namespace) -> int:
    from np_model.profile import IXP2800, IXP2850

    prof = {"ixp2800": IXP2800, "ixp2850": IXP2850}[args.chip]
    print(f"profile {prof.name}")
    print(prof.table())
    est = prof.estimates()
    print(f"\n{len(est)} of {len(prof)} values are estimates (no source confirms them).")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .pcap import CaptureError
    from .replay import ReplayError, check_out_dir, load_inputs, parse_input, replay, summary
    from .router import build_router

    wall0 = time.perf_counter()
    try:
        router = build_router(args.config, keep_records=False, **({"engine": args.engine} if args.engine else {}))
        if args.out is not None:
            check_out_dir(args.out)
        inputs = load_inputs([parse_input(p) for p in args.pcap], len(router.npr.ports), rate_pps=args.rate,
                             truncated=args.truncated)
    except (ConfigError, ReplayError, CaptureError) as e:
        print(f"vrouter-hil run: {e}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    bar = tqdm(total=inputs.bytes_total, unit="B", unit_scale=True, unit_divisor=1024, desc="replay",
               disable=True if args.no_progress else None, file=sys.stderr, leave=False)

    def progress(bytes_read: int, frames: int) -> None:
        bar.update(bytes_read - bar.n)
        bar.set_postfix_str(f"{frames} frames", refresh=False)

    try:
        st = replay(router, inputs, out_dir=args.out, drain_ms=args.drain_ms, progress=progress)
    except (ReplayError, CaptureError) as e:
        print(f"vrouter-hil run: {e}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    if args.json:
        print(json.dumps(st, indent=1, default=str))
    else:
        print(summary(router, st, args.config, args.out, wall_s=time.perf_counter() - wall0))
    return 0 if st["conservation"]["ok"] else 1


def _net(args: argparse.Namespace) -> int:
    """``vrouter-hil net TOPOLOGY``: build the network, run it, write outputs, print a summary."""
    from network.run import run_topology, summary_text
    from network.sim import SimError
    from network.topology import ConfigError, load_topology

    try:
        topo = load_topology(args.topology, **({"engine": args.engine} if args.engine else {}))
        if args.window_ns is not None and not 0 < args.window_ns <= topo.network.min_delay_ns:
            raise SimError(f"--window-ns must be in (0, {topo.network.min_delay_ns:g}]: at most the smallest "
                           "link delay")
    except (ConfigError, SimError) as e:
        print(f"vrouter-hil net: {e}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    end_ns = args.duration_ms * 1e6
    bar = tqdm(total=round(args.duration_ms, 3), unit="ms", desc="simulated", file=sys.stderr, leave=False,
               disable=True if args.no_progress else None, bar_format="{l_bar}{bar}| {n:.3f}/{total} ms [{elapsed}]")
    last = [0.0]

    def progress(t_ns: float) -> None:
        if t_ns - last[0] >= end_ns / 200 or t_ns >= end_ns:
            bar.update(round(t_ns / 1e6 - bar.n, 6))
            last[0] = t_ns

    try:
        summary = run_topology(topo, args.duration_ms, args.out, window_ns=args.window_ns, progress=progress)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(summary, indent=1, default=str))
    else:
        print(summary_text(summary, args.out))
    return 0 if summary["ok"] else 1


def _add_net_parser(sub: "argparse._SubParsersAction") -> None:
    n = sub.add_parser("net", help="run a network of NPRs, switches and hosts described by a topology file",
                       description="Run the network TOPOLOGY describes (routers, hosts, switches, links, tools, "
                                   "events) on one simulated time base; write a pcapng per link, each node's "
                                   "stats.json, results.json and summary.json to --out.")
    n.add_argument("topology", metavar="TOPOLOGY", help="topology file (YAML)")
    n.add_argument("--duration-ms", type=float, required=True, help="simulated time to run (ms)")
    n.add_argument("--out", metavar="DIR", help="output folder")
    n.add_argument("--window-ns", type=float, help="synchronisation window (default: the smallest link delay)")
    n.add_argument("--engine", choices=("c", "py"), help="override every router's engine")
    n.add_argument("--no-progress", action="store_true", help="no progress bar")
    n.add_argument("--json", action="store_true", help="print the summary as JSON")
    n.set_defaults(fn=_net)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse's exits included)."""
    from .replay import DRAIN_MS_MAX, RATE_RANGE, TRUNCATED_CHOICES

    ap = argparse.ArgumentParser(prog="vrouter-hil", description=DESCRIPTION, epilog=EPILOG)
    ap.add_argument("--version", action="version", version=f"vrouter-hil {_version()}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="run a 5-port NPR on a default traffic mix and print what it did",
                       description="Run a 5-port NPR on IMIX traffic plus exceptions and print per-port "
                                   "throughput, latency, drops and the conservation check.")
    lo, hi = DEMO_DURATION_MS
    d.add_argument("--duration-ms", type=_number(lo, hi, lo_open=True), default=10.0, metavar="MS",
                   help=f"simulated time of traffic, ({lo:g}, {hi:g}] ms (default 10)")
    d.add_argument("--load", type=_number(0.0, 1.0, lo_open=True), default=0.8,
                   help="offered load per input port, (0, 1] (default 0.8)")
    d.add_argument("--engine", choices=("c", "py"), default="c", help="simulation engine (default c)")
    d.add_argument("--seed", type=_number(0, 2**32 - 1, integer=True), default=1,
                   help="traffic generator seed, 0..4294967295 (default 1)")
    d.add_argument("--json", action="store_true", help="print the full statistics as JSON")
    d.set_defaults(fn=_demo)
    p = sub.add_parser("profile", help="print a hardware profile with sources (IXP2800/NPR, IXP2850/SPP)",
                       description="Print every hardware parameter with its value, source and status.")
    p.add_argument("chip", nargs="?", choices=("ixp2800", "ixp2850"), default="ixp2800",
                   help="ixp2800: the NPR (default); ixp2850: the SPP line card and NPE")
    p.set_defaults(fn=_profile)
    r = sub.add_parser("run", help="replay pcap files through a router built from a configuration file",
                       description="Replay captures through the router CONFIG describes; write one pcap per "
                                   "output port, host.pcapng and stats.json to --out as the run goes.",
                       epilog=EPILOG)
    r.add_argument("config", metavar="CONFIG", help="router configuration (YAML)")
    r.add_argument("--pcap", metavar="[PORT=]FILE", action="append", required=True,
                   help="input capture; PORT=FILE feeds every frame to PORT, a pcapng without PORT uses each "
                        "frame's interface as its port, a classic pcap without PORT feeds port 0 (repeatable)")
    r.add_argument("--out", metavar="DIR", help="output folder (port<N>.pcap, host.pcapng, stats.json); "
                                                "created if missing, checked before the run")
    r.add_argument("--rate", type=_number(*RATE_RANGE), metavar="PPS",
                   help=f"offer the frames at this many frames/s in all, {RATE_RANGE[0]:g}..{RATE_RANGE[1]:g} "
                        "(default: their capture times)")
    r.add_argument("--drain-ms", type=_number(0.0, DRAIN_MS_MAX), metavar="MS",
                   help=f"simulated time allowed after the last frame, 0..{DRAIN_MS_MAX:.0f} "
                        "(default: until ARP gives up)")
    r.add_argument("--truncated", choices=TRUNCATED_CHOICES, default="drop",
                   help="records cut by the snap length: drop them (counted as truncated_capture, before the "
                        "router) or offer the short frame (default drop)")
    r.add_argument("--engine", choices=("c", "py"), help="override the configuration's engine")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print the statistics as JSON instead of the summary")
    r.set_defaults(fn=_run)
    _add_net_parser(sub)
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:                       # --help, --version and usage errors end here
        return e.code if isinstance(e.code, int) else 2
    if args.cmd == "net" and not (args.duration_ms > 0 and args.duration_ms < float("inf")):
        print(f"vrouter-hil net: --duration-ms must be a finite number > 0, got {args.duration_ms}", file=sys.stderr)
        return 2
    try:
        return args.fn(args)
    except BrokenPipeError:                       # output piped into head, less ...: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except KeyboardInterrupt:
        print(f"vrouter-hil {args.cmd}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
