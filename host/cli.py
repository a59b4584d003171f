"""The ``vrouter-hil`` command.

    vrouter-hil demo       a 5-port NPR forwarding a default traffic mix
    vrouter-hil profile    the hardware profile with every value's source
"""
from __future__ import annotations

import argparse
import json
import sys
import time
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
    args = ap.parse_args(argv)
    if args.cmd == "demo" and not 0 < args.load <= 1:
        ap.error(f"--load must be in (0, 1], got {args.load}")
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
