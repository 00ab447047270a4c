"""``bench/run csv-load``: how long loading a CSV directory of 100,000 rows takes (every address
parsed, normalised and checked), against reading the same file with the bare csv module (the
baseline, measured in the same run). Target: under one second.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import report
import staff

from autoconfig.usernames.table import load_csv

HELP = "loading a CSV directory against reading it with the bare csv module"
QUICK = {"runs": 1}
TARGET_S = 1.0


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=100_000, help="directory rows (100000)")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each; the best is kept (3)")


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run(args: argparse.Namespace, work: Path) -> report.Report:
    path = work / "staff.csv"
    staff.write_csv(path, args.rows)

    def baseline() -> None:
        with path.open(encoding="utf-8", newline="") as handle:
            for _ in csv.DictReader(handle):
                pass

    base = best_of(args.runs, baseline)
    ours = best_of(args.runs, lambda: load_csv(path))
    rows = [
        ["csv.DictReader alone (baseline)", f"{base:.3f}"],
        ["load_csv (validated, normalised)", f"{ours:.3f}"],
        ["ratio ours / baseline", f"{ours / base:.2f}"],
    ]
    lines = [
        f"{args.rows:,} rows, best of {args.runs} runs each.",
        "",
        *report.table(["what", "seconds"], rows),
        "",
        *report.target("load_csv < 1 s", f"{ours:.2f} s", ours < TARGET_S),
    ]
    return report.Report(lines)
