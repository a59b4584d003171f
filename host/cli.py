"""The ``vrouter-hil`` command.

    vrouter-hil demo       a 5-port NPR forwarding a default traffic mix
    vrouter-hil profile    the hardware profile with every value's source
    vrouter-hil run        replay captures through a configured router
    vrouter-hil net        run a network of routers, switches and hosts
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from np_model.demo import run_demo

    report = run_demo(duration_ms=args.duration_ms, load=args.load, engine=args.engine, seed=args.seed)
    if args.json:
        print(json.dumps(report["stats"], indent=1, default=str))
    else:
        print(report["text"])
    return 0 if report["stats"]["conservation"]["ok"] else 1


def _profile(args: argparse.Namespace) -> int:
    from np_model.profile import IXP2800

    print(IXP2800.table())
    est = IXP2800.estimates()
    print(f"\n{len(est)} of {len(IXP2800)} values are estimates (no source confirms them).")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .replay import ReplayError, load_inputs, parse_input, replay, summary
    from .router import build_router

    try:
        router = build_router(args.config, **({"engine": args.engine} if args.engine else {}))
        frames = load_inputs([parse_input(p) for p in args.pcap], len(router.npr.ports), rate_pps=args.rate)
    except (ConfigError, ReplayError) as e:
        print(f"vrouter-hil run: {e}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    bar = tqdm(total=len(frames), unit="frame", desc="replay", disable=True if args.no_progress else None,
               file=sys.stderr, leave=False)

    def progress(k: int) -> None:
        bar.update(k - bar.n)

    try:
        st = replay(router, frames, out_dir=args.out, drain_ms=args.drain_ms, progress=progress)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(st, indent=1, default=str))
    else:
        print(summary(router, st, args.config, args.out))
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
    ap = argparse.ArgumentParser(prog="vrouter-hil", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="run a 5-port NPR on a default traffic mix and print what it did")
    d.add_argument("--duration-ms", type=float, default=10.0, help="simulated time (default 10 ms)")
    d.add_argument("--load", type=float, default=0.8, help="offered load per input port, 0..1 (default 0.8)")
    d.add_argument("--engine", choices=("c", "py"), default="c", help="simulation engine (default c)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--json", action="store_true", help="print the full statistics as JSON")
    d.set_defaults(fn=_demo)
    p = sub.add_parser("profile", help="print the IXP2800/NPR profile with sources")
    p.set_defaults(fn=_profile)
    r = sub.add_parser("run", help="replay pcap files through a router built from a configuration file",
                       description="Replay captures through the router CONFIG describes; write one pcap per "
                                   "output port, host.pcapng and stats.json to --out.")
    r.add_argument("config", metavar="CONFIG", help="router configuration (YAML)")
    r.add_argument("--pcap", metavar="[PORT=]FILE", action="append", required=True,
                   help="input capture; PORT=FILE feeds every frame to PORT, a pcapng without PORT uses each "
                        "frame's interface as its port, a classic pcap without PORT feeds port 0 (repeatable)")
    r.add_argument("--out", metavar="DIR", help="output folder (port<N>.pcap, host.pcapng, stats.json)")
    r.add_argument("--rate", type=float, metavar="PPS",
                   help="offer the frames at this many frames/s in all (default: their capture times)")
    r.add_argument("--drain-ms", type=float, metavar="MS",
                   help="simulated time allowed after the last frame (default: until ARP gives up)")
    r.add_argument("--engine", choices=("c", "py"), help="override the configuration's engine")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print the statistics as JSON instead of the summary")
    r.set_defaults(fn=_run)
    _add_net_parser(sub)
    args = ap.parse_args(argv)
    if args.cmd == "demo" and not 0 < args.load <= 1:
        ap.error(f"--load must be in (0, 1], got {args.load}")
    if args.cmd == "net" and not args.duration_ms > 0:
        ap.error(f"--duration-ms must be > 0, got {args.duration_ms}")
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
