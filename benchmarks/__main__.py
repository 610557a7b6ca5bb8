"""``python -m benchmarks [--quick] [--case NAME ...] [--reps N] [--size CASE=N ...] [--save] [--list]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def parse_sizes(values: Sequence[str]) -> dict[str, int]:
    sizes = {}
    for value in values:
        name, _, number = value.partition("=")
        if not number.replace("_", "").isdigit():
            raise SystemExit(f"--size takes CASE=N, not {value!r}")
        sizes[name] = int(number.replace("_", ""))
    return sizes


def default_results_dir() -> Path:
    """Where a run's JSON goes unless ``--save`` or ``--out`` says otherwise (honours PMTUI_HOME)."""
    from pmtui import paths

    return paths.data_dir() / "benchmarks"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; always exits 0 once they ran (a missed target is a measurement)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller N, fewer repetitions (under 2 minutes)")
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this case (or group, e.g. sync); repeatable",
    )
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions per case (overrides the defaults)"
    )
    parser.add_argument("--size", action="append", default=[], metavar="CASE=N", help="override a case's N")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the result JSON (default: benchmarks/ in pmtui's data folder, outside the checkout)",
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help="write the result JSON into benchmarks/results/ (the tracked record, for a release)",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write the result JSON")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)

    from benchmarks.cases import by_name
    from benchmarks.harness import RESULTS_DIR, run_all

    cases = by_name(args.case)
    if args.list:
        for case in cases:
            print(f"{case.name:<22} N={case.full_n:,} (quick {case.quick_n:,})  {case.title}")
        return 0
    logging.basicConfig(level=logging.ERROR)  # pmtui's own warnings would break up the table
    run_all(
        cases,
        quick=args.quick,
        reps=args.reps,
        sizes=parse_sizes(args.size),
        out=sys.stdout,
        # A run rewrites the tracked record only when asked: `git status` stays clean after a casual run.
        save_to=None if args.no_save else (args.out or (RESULTS_DIR if args.save else default_results_dir())),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
