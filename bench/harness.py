"""The benchmarks, one harness: bench/run [SUBCOMMAND] [OPTIONS] (http by default).

Everything runs on 127.0.0.1 and every server is stopped at the end (also on Ctrl-C). Each run
prints its figures as it goes, then its report: the command, the machine, the software, the load
average before and after, the figures, the ratios against baselines measured in the same run,
and the verdicts. The report is also written to bench/out/<timestamp>-<subcommand>.md, and the
logs and generated files of the last run of each subcommand stay in bench/out/<subcommand>/.
bench/RESULTS.md is updated by hand from those reports."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Protocol

import attacks
import csv_load
import directory
import faults
import httpload
import limits
import mobileconfig
import report
import servers

from tests.tools import HarnessError

OUT = servers.BENCH / "out"
DEFAULT = "http"
BUSY_LOAD = 0.5


class Subcommand(Protocol):
    """A module of the harness: what ``bench/run --help`` says of it, its options, the shorter
    settings of ``--quick``, and the run itself (in a fresh work folder)."""

    @property
    def HELP(self) -> str: ...

    @property
    def QUICK(self) -> Mapping[str, object]: ...

    def add_options(self, p: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, work: Path) -> report.Report: ...


SUBCOMMANDS: dict[str, Subcommand] = {
    "http": httpload,
    "faults": faults,
    "directory": directory,
    "mobileconfig": mobileconfig,
    "csv-load": csv_load,
    "limits": limits,
    "attacks": attacks,
}


def parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    main = argparse.ArgumentParser(
        prog="bench/run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="bench/run SUBCOMMAND --help: the options of one. bench/README.md says more.",
    )
    chooser = main.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    subs = {}
    for name, module in SUBCOMMANDS.items():
        sub = chooser.add_parser(
            name,
            help=module.HELP,
            description=(module.__doc__ or "").replace("``", ""),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        quick = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in module.QUICK.items())
        sub.add_argument(
            "--quick",
            action="store_true",
            help="a few seconds per scenario, to check that the harness works (the figures are "
            f"not comparable): {quick}",
        )
        sub.add_argument("--label", default="", help="what this run tries (the report's title)")
        module.add_options(sub)
        subs[name] = sub
    return main, subs


def options(argv: Sequence[str]) -> argparse.Namespace:
    """The options, ``http`` when no subcommand is named; with ``--quick``, its settings replace
    the defaults (options given still win)."""
    argv = list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT)
    main, subs = parsers()
    args = main.parse_args(argv)
    if args.quick:
        subs[args.subcommand].set_defaults(**SUBCOMMANDS[args.subcommand].QUICK)
        args = main.parse_args(argv)
    return args


def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    """Unwind (every server is stopped on the way out), deaf to further signals meanwhile."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def header(
    args: argparse.Namespace, argv: Sequence[str], when: dt.datetime, load: tuple[float, float]
) -> list[str]:
    title = f"# {when:%Y-%m-%d %H:%M} UTC — bench/run {args.subcommand}"
    return [
        title + (f" — {args.label}" if args.label else ""),
        "",
        f"Command: `{shlex.join(['bench/run', *argv])}`.",
        "",
        f"Machine: {report.machine()}. {report.software(servers.BENCH_VENV)}.",
        "",
        f"Load average (1 min) before / after the run: {load[0]:.2f} / {load[1]:.2f}.",
        "",
    ]


def main(argv: Sequence[str]) -> int:
    args = options(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    when = dt.datetime.now(dt.UTC)
    work = OUT / args.subcommand
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    before = os.getloadavg()[0]
    print(f"{when:%Y-%m-%d %H:%M} UTC: {report.machine()}; logs in {work}", flush=True)
    if before > BUSY_LOAD:
        print(
            f"warning: load average {before:.2f} before the run: other work on this machine "
            "will skew the figures (compare ratios, or repeat the run)",
            flush=True,
        )
    try:
        found = SUBCOMMANDS[args.subcommand].run(args, work)
    except HarnessError as exc:
        raise SystemExit(f"error: {exc}") from None
    lines = header(args, argv, when, (before, os.getloadavg()[0])) + found.lines
    path = OUT / f"{when:%Y%m%d-%H%M%S}-{args.subcommand}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))
    print(f"\nreport: {path.relative_to(servers.PROJECT)} (bench/RESULTS.md is updated by hand)")
    return 0 if found.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
