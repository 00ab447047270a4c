"""``bench/run limits``: the per-client limit and cold directories, as a school meets them. Every
answer's login is checked against the person asked (one connection per wrk thread): a known person
given the fallback or someone else's login is a wrong login.

1. ``school``: N Thunderbird setups (4 autoconfig GETs and 3 Autodiscover POSTs each, for one
   person; another person for each setup) from one client address, spread over less than a
   minute, with the default ``--directory-rate-limit``: how many setups got their own login in all
   7 answers (target: all).
2. ``school-exempt``: the same client with ``--directory-rate-limit-exempt 127.0.0.0/8``, 200 setups
   in one burst (target: all).
3. ``enumerator``: one client (not exempt) asking for as many distinct people as it can for 60 s:
   how many distinct logins it obtained (target: at most 30 per started minute).
4. ``instances``: the enumerator against the production layout, two services naming one
   ``--directory-rate-limit-dir``, half its connections on each (as Caddy's round robin spreads
   them): the distinct logins of both together (target: the same ≤ 30 per started minute), and
   their req/s against the one-service enumerator of the same run.
5. ``cold-sqlite`` / ``cold-ldap``: 3,000 distinct people, 64 at a time, right after the service
   started (cold) and again (warm), with a SQLite directory of 1.2 million rows (built with
   ``autoconfig directory import``, kept in ``bench/out/cache/``) and with LDAP (slapd, 100,000
   entries); ``--directory-rate-limit 0``, so that the per-client limit refuses no one. Targets:
   cold ≥ 70 % (SQLite) and ≥ 30 % (LDAP) of warm req/s, no wrong login; with SQLite, start-up
   ≤ 2 s and ≤ 120 MB per worker.

Each scenario has a service of its own (``autoconfig serve --workers 2``, as in production), just
started: no cache, no client counted yet.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import report
import servers
import staff
import wrk
from faultwatch import lookups
from scenarios import SETUP, Scenario, by_name

from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd
from tests.tools import HarnessError

HELP = "the per-client limit and cold directories: school sessions, an enumerator, cold bursts"
QUICK = {
    "setup_interval": 0.2,
    "enumerator_duration": 10,
    "sqlite_rows": 120_000,
    "ldap_rows": 10_000,
    "people": 600,
    "rounds": 1,
}
SCENARIO_NAMES = (
    "school",
    "school-exempt",
    "enumerator",
    "instances",
    "cold-sqlite",
    "cold-ldap",
)
HIT = by_name("thunderbird-hit")
EXEMPT = "127.0.0.0/8"
EXEMPT_OPTION = "--directory-rate-limit-exempt"
CACHE = servers.BENCH / "out" / "cache"
"""Built SQLite directories, kept across runs (``bench/out/<subcommand>/`` is emptied each run)."""
PROBE_ROW = 1
"""The row asked to time the start-up: none of the people of a cold burst (their stride is > 1)."""
BOUND_S = 120.0
"""At most this long for a bounded run (a school burst, a cold burst)."""
ENUMERATOR_PER_MINUTE = 30
TARGET_COLD_SQLITE = 0.70
TARGET_COLD_LDAP = 0.30
TARGET_STARTUP_S = 2.0
TARGET_RSS_MB = 120.0


OPTIONS: tuple[tuple[str, type, object, str], ...] = (
    ("--csv-rows", int, 100_000, "rows of the CSV directory of school and enumerator"),
    ("--setups", int, 25, "school: Thunderbird setups"),
    ("--setup-interval", float, 2.0, "school: seconds between two setups"),
    ("--burst-setups", int, 200, "school-exempt: setups"),
    ("--burst-connections", int, 56, "school-exempt: connections, 7 per setup at a time"),
    ("--enumerator-duration", float, 60, "enumerator: seconds"),
    ("--enumerator-connections", int, 16, "enumerator: connections"),
    ("--people", int, 3000, "cold bursts: distinct people asked"),
    ("--concurrency", int, 64, "cold bursts: connections"),
    ("--sqlite-rows", int, 1_200_000, "cold-sqlite: rows of the SQLite directory"),
    ("--ldap-rows", int, 100_000, "cold-ldap: LDAP entries"),
    ("--rounds", int, 3, "cold bursts: services started, each timed cold then warm"),
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIO_NAMES))
    p.add_argument("--workers", type=int, default=2, help="workers of each service (2)")
    p.add_argument("--log-level", default="info", help="the service's log level (info, as served)")
    p.add_argument("--timeout", type=float, default=5, help="wrk timeout in seconds (5)")
    for flag, kind, default, text in OPTIONS:
        p.add_argument(flag, type=kind, default=default, help=f"{text} ({default})")


@dataclass
class Found:
    """What the scenarios measured: the rows of the table, the targets, and notes."""

    rows: list[list[str]] = field(default_factory=list)
    targets: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wrong: int = 0
    """Wrong logins in all the runs."""
    enumerator_rps: float = 0.0
    """The one-service enumerator's req/s: the baseline of ``instances``."""

    def run(self, name: str, setting: str, result: wrk.Result, figure: str) -> None:
        self.rows.append([name, setting, f"{result.requests:,}", *result.cells(), figure])
        self.wrong += result.logins.wrong
        print(f"  {name}: {result.summary()}; {figure}", flush=True)

    def target(self, label: str, now: str, ok: bool | None) -> None:
        self.targets.append([label, now, report.verdict(ok)])

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  {text}", flush=True)


def exempt_listed() -> bool:
    """Whether this build's ``autoconfig serve`` knows ``--directory-rate-limit-exempt``."""
    done = subprocess.run(
        [str(servers.AUTOCONFIG), "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return EXEMPT_OPTION in done.stdout


def serve(
    name: str,
    args: argparse.Namespace,
    work: Path,
    options: Sequence[str],
    stack: ExitStack,
    env: dict[str, str] | None = None,
) -> servers.Server:
    """A service of its own, stopped with ``stack``."""
    common = ["--workers", str(args.workers), "--log-level", args.log_level]
    server = servers.ours(name, work, [*common, *options], env)
    stack.callback(server.stop)
    return server


def ready(server: servers.Server) -> float:
    """The start-up (process start → first right answer, for a person of no scenario), then a
    second for every worker to be up."""
    path, _, login = HIT.for_row(PROBE_ROW)
    seconds = server.wait_answer(path, limit=60, expect=login)
    time.sleep(1)
    return seconds


def planned(
    server: servers.Server,
    work: Path,
    name: str,
    kinds: tuple[Scenario, ...],
    traffic: wrk.Traffic,
    plan: wrk.Plan,
) -> tuple[wrk.Load, dict[str, float]]:
    """One wrk run of a plan, and the directory lookups it caused by outcome (the metrics)."""
    before = lookups(server.port)
    load = wrk.Wrk(kinds[0], server.url, work, traffic, name=name, plan=plan).finish()
    after = lookups(server.port)
    return load, {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def shown(outcomes: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(outcomes.items())) or "none"


def setups(
    args: argparse.Namespace,
    work: Path,
    directory: Path,
    found: Found,
    *,
    name: str,
    count: int,
    connections: int,
    interval_s: float,
    exempt: bool,
) -> None:
    """``count`` Thunderbird setups from 127.0.0.1, ``connections`` // 7 at a time: how many got
    their own login in all 7 answers."""
    options = ["--directory", str(directory)]
    setting = "CSV, default limit"
    if exempt:
        options += [EXEMPT_OPTION, EXEMPT]
        setting += f", {EXEMPT_OPTION} {EXEMPT}"
        if not exempt_listed():
            found.note(f"{name}: `autoconfig serve --help` does not list {EXEMPT_OPTION} yet")
    with ExitStack() as stack:
        server = serve(f"ours-{name}", args, work, options, stack)
        try:
            server.wait_answer("/healthz", limit=60)
        except HarnessError as exc:
            found.note(f"{name}: not run, the service did not start with {options}: {exc}")
            found.target(f"{name}: every setup gets its own login", "not run", None)
            return
        time.sleep(1)
        stride = max(1, args.csv_rows // count)
        threads = len(SETUP) * max(1, connections // len(SETUP))
        bound = count * interval_s + BOUND_S
        traffic = wrk.Traffic(threads, bound, threads, args.timeout, count, stride)
        plan = wrk.Plan(SETUP, first=0, interval_ms=round(interval_s * 1000))
        load, outcomes = planned(server, work, name, SETUP, traffic, plan)
    own = sum(1 for p in range(count) if load.right.get(p, 0) == len(SETUP))
    spread = f"{interval_s:g} s apart" if interval_s else "in one burst"
    found.run(
        name,
        f"{setting}; {count} setups {spread}, {threads // len(SETUP)} at a time",
        load.result,
        f"{own} of {count} setups got their own login",
    )
    found.note(
        f"{name}: wrong logins by request of the setup: "
        + ", ".join(f"{SETUP[k].name} {v.wrong}" for k, v in sorted(load.kinds.items()))
        + f"; directory lookups: {shown(outcomes)}"
    )
    found.target(f"{name}: every setup gets its own login", f"{own} of {count}", own == count)


def per_minute(loads: Sequence[wrk.Load]) -> collections.Counter[int]:
    """Distinct logins obtained in each minute of the runs (from the earliest start; wrk stamps
    them to the second), summed over ``loads`` (disjoint people)."""
    start = int(min(load.started for load in loads))
    return collections.Counter(
        (at - start) // 60 for load in loads for at in load.first_right.values()
    )


def within_limit(minutes: collections.Counter[int]) -> tuple[str, bool]:
    """What a target shows of ``minutes``, and whether no minute exceeds the limit. A run of 60 s
    lasts a little longer (wrk's stop), so its last second may open a second window."""
    shown = ", ".join(f"minute {m + 1}: {n}" for m, n in sorted(minutes.items())) or "none"
    return shown, all(n <= ENUMERATOR_PER_MINUTE for n in minutes.values())


def enumerator(args: argparse.Namespace, work: Path, directory: Path, found: Found) -> None:
    """One client asking for distinct people for ``--enumerator-duration`` seconds."""
    connections = args.enumerator_connections
    people = args.csv_rows - args.csv_rows % connections  # each thread its own people
    with ExitStack() as stack:
        server = serve("ours-enumerator", args, work, ["--directory", str(directory)], stack)
        server.wait_answer("/healthz", limit=60)
        time.sleep(1)
        traffic = wrk.Traffic(
            connections, args.enumerator_duration, connections, args.timeout, people
        )
        plan = wrk.Plan((HIT,), bounded=False)
        load, outcomes = planned(server, work, "enumerator", (HIT,), traffic, plan)
    logins = load.result.logins
    distinct = len(load.right)
    found.enumerator_rps = load.result.rps
    when = collections.Counter(at - int(load.started) for at in load.first_right.values())
    # The fallback is this client's due: only someone else's login is wrong here.
    result = dataclasses.replace(load.result, logins=dataclasses.replace(logins, fallback=0))
    found.run(
        "enumerator",
        f"CSV, default limit; {connections} connections, {args.enumerator_duration:g} s",
        result,
        f"{distinct:,} distinct logins obtained, {logins.fallback:,} answers refused (fallback)",
    )
    found.note(
        "enumerator: distinct logins obtained by second of the run (wrk stops up to 0.1 s after "
        "its duration): "
        + (", ".join(f"{second} s: {n}" for second, n in sorted(when.items())) or "none")
        + f"; directory lookups: {shown(outcomes)}"
    )
    minutes, ok = within_limit(per_minute([load]))
    found.target(
        f"enumerator: ≤ {ENUMERATOR_PER_MINUTE} distinct logins in each minute, "
        "no one else's login",
        f"{minutes}; {result.logins.wrong} wrong",
        ok and result.logins.wrong == 0,
    )


def instances(args: argparse.Namespace, work: Path, directory: Path, found: Found) -> None:
    """The enumerator's connections split over two services holding one limit in one folder."""
    connections = max(1, args.enumerator_connections // 2)
    half = args.csv_rows // 2
    people = half - half % connections  # each thread its own people, each service its half
    folder = work / "limit-folder"
    folder.mkdir(exist_ok=True)
    options = ["--directory", str(directory), "--directory-rate-limit-dir", str(folder)]
    with ExitStack() as stack:
        pair = [serve(f"ours-instance-{n}", args, work, options, stack) for n in (1, 2)]
        for server in pair:
            server.wait_answer("/healthz", limit=60)
        time.sleep(1)
        traffic = wrk.Traffic(
            connections, args.enumerator_duration, connections, args.timeout, people
        )
        runs = [
            wrk.Wrk(
                HIT,
                server.url,
                work,
                traffic,
                name=f"instances-{n}",
                plan=wrk.Plan((HIT,), first=n * half, bounded=False),
            )
            for n, server in enumerate(pair)
        ]
        loads = [run.finish() for run in runs]
    distinct = sum(len(load.right) for load in loads)
    wrong = 0
    for n, load in enumerate(loads, 1):
        logins = load.result.logins
        result = dataclasses.replace(load.result, logins=dataclasses.replace(logins, fallback=0))
        wrong += result.logins.wrong
        found.run(
            f"instances ({n} of 2)",
            f"CSV, default limit, one --directory-rate-limit-dir; {connections} connections",
            result,
            f"{len(load.right):,} distinct logins obtained here",
        )
    together = sum(load.result.rps for load in loads)
    if found.enumerator_rps:
        found.note(
            f"instances: {together:,.0f} req/s on both services together, "
            f"{together / found.enumerator_rps:.2f} × the one-service enumerator"
        )
    minutes, ok = within_limit(per_minute(loads))
    found.target(
        f"instances: ≤ {ENUMERATOR_PER_MINUTE} distinct logins in each minute over both "
        "services, no one else's login",
        f"{minutes} ({distinct:,} in all); {wrong} wrong",
        ok and wrong == 0,
    )


def sqlite_directory(rows: int) -> Path:
    """The SQLite directory of ``rows`` people, built with ``autoconfig directory import`` once
    and kept in ``bench/out/cache/`` (rebuilt when the staff or the table code change)."""
    sources = [servers.BENCH / "staff.py", servers.PROJECT / "autoconfig/usernames/table.py"]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    target = CACHE / f"staff-{rows}-{key}.sqlite"
    if target.exists():
        print(f"SQLite directory of {rows:,} rows: {target.relative_to(servers.PROJECT)}")
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"staff-{rows}-*.sqlite"):
        stale.unlink()
    source = CACHE / f"staff-{rows}.csv"
    start = time.perf_counter()
    staff.write_csv(source, rows)
    cmd = [str(servers.AUTOCONFIG), "directory", "import", "--into", str(target), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    source.unlink()
    if done.returncode:
        raise HarnessError(f"directory import failed: {done.stderr[-2000:]}")
    print(f"SQLite directory of {rows:,} rows built in {time.perf_counter() - start:.0f} s")
    return target


@dataclass
class Bursts:
    """What the cold bursts of one directory gave, round by round."""

    ratios: list[float] = field(default_factory=list)
    """Cold / warm req/s."""
    startups: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    """The workers' peak RSS, MB."""
    logins: wrk.Logins = field(default_factory=wrk.Logins)
    """Cold and warm together."""


def cold_bursts(
    label: str,
    args: argparse.Namespace,
    work: Path,
    directory: str,
    rows: int,
    found: Found,
    env: dict[str, str] | None = None,
) -> Bursts:
    """``--rounds`` times: a service just started, the burst (cold), the same people again
    (warm)."""
    stride = rows // args.people
    if stride < 2:
        raise HarnessError(f"{label}: --people must be at most half the rows")
    traffic = wrk.Traffic(
        args.concurrency, BOUND_S, args.concurrency, args.timeout, args.people, stride
    )
    plan = wrk.Plan((HIT,))
    options = ["--directory", directory, "--directory-rate-limit", "0"]
    bursts = Bursts()
    for n in range(args.rounds):
        with ExitStack() as stack:
            server = serve(f"ours-{label}", args, work, options, stack, env)
            bursts.startups.append(ready(server))
            results = {}
            for phase in ("cold", "warm"):
                load, outcomes = planned(server, work, f"{label}-{phase}", (HIT,), traffic, plan)
                results[phase] = load.result
                found.run(
                    f"{label} {phase}" + (f" (round {n + 1})" if args.rounds > 1 else ""),
                    f"{rows:,} rows, limit 0; {args.people:,} people, {args.concurrency} at a time",
                    load.result,
                    f"lookups: {shown(outcomes)}",
                )
                bursts.logins += load.result.logins
            bursts.ratios.append(results["cold"].rps / results["warm"].rps)
            bursts.rss += [mb for role, mb in server.peak_rss() if role == "worker"]
    return bursts


def cold_sqlite(args: argparse.Namespace, work: Path, found: Found) -> None:
    path = sqlite_directory(args.sqlite_rows)
    bursts = cold_bursts("cold-sqlite", args, work, str(path), args.sqlite_rows, found)
    cold_targets("cold-sqlite", TARGET_COLD_SQLITE, bursts, found)
    found.target(
        f"start-up ≤ {TARGET_STARTUP_S:g} s ({args.sqlite_rows:,}-row SQLite)",
        ", ".join(f"{s:.2f} s" for s in bursts.startups),
        max(bursts.startups) <= TARGET_STARTUP_S,
    )
    found.target(
        f"RSS ≤ {TARGET_RSS_MB:g} MB per worker ({args.sqlite_rows:,}-row SQLite)",
        f"{max(bursts.rss):.0f} MB" if bursts.rss else "?",
        max(bursts.rss) <= TARGET_RSS_MB if bursts.rss else None,
    )


def cold_ldap(args: argparse.Namespace, work: Path, found: Found) -> None:
    start = time.perf_counter()
    slapd = Slapd(work / "slapd", staff.people(args.ldap_rows), loglevel="0")
    print(f"slapd seeded with {args.ldap_rows:,} entries in {time.perf_counter() - start:.0f} s")
    env = {"AUTOCONFIG_LDAP_BIND_DN": BIND_DN, "AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD}
    slapd.start()
    try:
        bursts = cold_bursts(
            "cold-ldap", args, work, slapd.url + "?uid,displayName", args.ldap_rows, found, env
        )
    finally:
        slapd.stop()
    cold_targets("cold-ldap", TARGET_COLD_LDAP, bursts, found)


def cold_targets(label: str, target: float, bursts: Bursts, found: Found) -> None:
    ratio = statistics.median(bursts.ratios)
    rounds = len(bursts.ratios)
    found.target(
        f"{label}: cold ≥ {100 * target:.0f} % of warm req/s",
        f"{100 * ratio:.0f} %" + (f" (median of {rounds})" if rounds > 1 else ""),
        ratio >= target,
    )
    logins = bursts.logins
    found.target(
        f"{label}: 0 wrong logins, cold and warm",
        f"{logins.wrong:,} in {logins.right + logins.wrong:,} answers",
        logins.wrong == 0,
    )


def run(args: argparse.Namespace, work: Path) -> report.Report:
    which = [n for n in SCENARIO_NAMES if not args.only or n in args.only.split(",")]
    found = Found()
    directory = work / "staff.csv"
    staff.write_csv(directory, args.csv_rows)
    scenarios: dict[str, Callable[[], None]] = {
        "school": lambda: setups(
            args,
            work,
            directory,
            found,
            name="school",
            count=args.setups,
            connections=len(SETUP),
            interval_s=args.setup_interval,
            exempt=False,
        ),
        "school-exempt": lambda: setups(
            args,
            work,
            directory,
            found,
            name="school-exempt",
            count=args.burst_setups,
            connections=args.burst_connections,
            interval_s=0,
            exempt=True,
        ),
        "enumerator": lambda: enumerator(args, work, directory, found),
        "instances": lambda: instances(args, work, directory, found),
        "cold-sqlite": lambda: cold_sqlite(args, work, found),
        "cold-ldap": lambda: cold_ldap(args, work, found),
    }
    for name in which:
        print(f"{name}:", flush=True)
        scenarios[name]()
    lines = [
        f"`autoconfig serve --workers {args.workers} --log-level {args.log_level}`, a service of "
        "its own for each scenario, just started; every request from 127.0.0.1, one connection "
        f"per wrk thread, {args.timeout:g} s timeout. Wrong logins: answers to a request for a "
        "person of the directory carrying the fallback, someone else's login or no login of the "
        "directory, each checked against the person asked (`request`); for the enumerator, whose "
        "due is the fallback, only someone else's login counts.",
        "",
        *report.table(["scenario", "settings", "requests", *wrk.CELLS, "figure"], found.rows),
        "",
        *[f"* {note}" for note in found.notes],
        "",
        *report.table(["target", "now", "verdict"], found.targets),
        "",
        f"Wrong logins in all the runs: {found.wrong:,}.",
    ]
    return report.Report(lines)
