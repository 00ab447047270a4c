"""``bench/run http`` (the default): our service as in production, a 100,000-row CSV directory, against
the same bytes served by Caddy as a static file (the ceiling) and against automx2 under gunicorn
(the peer), every scenario of :mod:`scenarios` timed with wrk in the same run, with the ratios
and the targets.

Also: ours at 1,000 connections (alone, and behind Caddy's reverse proxy as deployed), the
start-up (process start → first right answer), the peak RSS of every process, and with
``--profile`` a py-spy profile of one worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import shlex
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import report
import servers
import spyprofile
import staff
import wrk
from scenarios import OURS, PEER, PROXIED, RATIOS, SCENARIOS, STATIC, STORM, Scenario, by_name

from tests.tools import free_port

HELP = "the HTTP scenarios: ours against the static-file ceiling and automx2 (the default)"
QUICK = {"duration": 2, "warmup": 1, "storm_duration": 3}
PROBE_ROW = 4242

TARGETS_RPS_VS_PEER = 10.0
TARGET_RPS_VS_STATIC = 0.30
TARGET_P99_VS_STATIC = 2.0
TARGET_MOBILECONFIG_RPS = 1000.0
TARGET_RSS_MB = 100.0
TARGET_STARTUP_S = 1.0
WRONG_LOGINS = (
    "Wrong logins: answers (2xx) to a request for a person of the directory that carry the "
    "fallback, someone else's login or no login of the directory, checked by wrk on every answer "
    "(in brackets: against what — `request`: the person asked, one connection per wrk thread; "
    "`address`: the address in the same profile; `name`: the display name of the same entry; "
    "`body`: the fallback and logins of no row asked are caught, someone else's is not)."
)


@dataclass
class Run:
    """Everything measured, filled in as the run goes."""

    results: dict[str, wrk.Result] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    storms: dict[str, wrk.Result] = field(default_factory=dict)
    startup_s: float | None = None
    rss: list[tuple[str, float]] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)


def add_options(p: argparse.ArgumentParser) -> None:
    wrk.add_options(p, seconds=10, connections=50)
    p.add_argument("--warmup", type=float, default=2, help="unrecorded seconds before each (2)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of timed runs (scenarios interleaved); each scenario's best is kept (1)",
    )
    p.add_argument("--storm-connections", type=int, default=1000, help="(default 1000)")
    p.add_argument("--storm-duration", type=float, default=60, help="seconds, 0 skips (default 60)")
    p.add_argument("--rows", type=int, default=100_000, help="directory rows (default 100000)")
    p.add_argument("--workers", type=int, default=2, help="our worker processes (default 2)")
    p.add_argument("--log-level", default="info", help="our log level (default info, as served)")
    p.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="our --directory-rate-limit (default 0, off: wrk is one client standing for many; "
        "with serve's default, 30, nearly every answer would carry the fallback)",
    )
    p.add_argument(
        "--ours-cmd",
        default="",
        help="experiment: start ours with this command instead of `autoconfig serve` "
        "({port} and {workers} are filled in; AUTOCONFIG_* point at the profiles and directory)",
    )
    p.add_argument(
        "--proxy-max-conns",
        type=int,
        default=64,
        help="cap on Caddy's connections to ours when proxying (default 64, as the project's "
        "Caddyfile sets; 0: unlimited)",
    )
    p.add_argument("--peer-workers", type=int, default=2, help="automx2's gunicorn workers (2)")
    p.add_argument("--only", default="", help="comma-separated scenario names to run")
    p.add_argument("--no-peer", action="store_true", help="skip automx2")
    p.add_argument("--no-static", action="store_true", help="skip Caddy (static ceiling, proxy)")
    p.add_argument(
        "--profile", type=float, default=0, help="py-spy seconds per Thunderbird scenario"
    )


def wanted(scenario: Scenario, args: argparse.Namespace) -> bool:
    return not args.only or scenario.name in args.only.split(",")


def start_ours(args: argparse.Namespace, work: Path, directory: Path) -> tuple[servers.Server, str]:
    """Ours as in production (with a throwaway signing certificate), or ``--ours-cmd``; and the
    command as the report shows it."""
    if args.ours_cmd:
        port = free_port()
        cmd = shlex.split(args.ours_cmd.format(port=port, workers=args.workers))
        env = servers.ours_env(
            {
                "AUTOCONFIG_DIRECTORY": str(directory),
                "AUTOCONFIG_DIRECTORY_RATE_LIMIT": str(args.rate_limit),
            }
        )
        server = servers.Server("ours", cmd, port, work / "ours.log", env)
    else:
        signing, _ = servers.signing(work)
        options = ["--directory", str(directory), "--workers", str(args.workers)]
        options += ["--directory-rate-limit", str(args.rate_limit)]
        server = servers.ours("ours", work, [*options, "--log-level", args.log_level, *signing])
    shown = " ".join(c if c.startswith("-") or "/" not in c else Path(c).name for c in server.cmd)
    return server, shown


def probe(server: servers.Server, scenario: Scenario) -> tuple[str, bytes, str]:
    """``("ok", body, type)``, or a reason the scenario cannot be timed."""
    path, body, expect = scenario.for_row(PROBE_ROW)
    answer = servers.ask(server.port, scenario.method, path, scenario.headers, body)
    if answer.status == 404:
        return "not available in this build (404)", b"", ""
    if answer.status != 200:
        return f"probe failed: status {answer.status}: {answer.body[:120]!r}", b"", ""
    if expect and expect.encode() not in answer.body:
        return f"probe failed: answer lacks {expect!r}", b"", ""
    if scenario.content_type and not answer.content_type.startswith(scenario.content_type):
        return f"probe failed: Content-Type {answer.content_type!r}", b"", ""
    return "ok", answer.body, answer.content_type


def time_one(
    server: servers.Server, scenario: Scenario, work: Path, timed: wrk.Traffic, warmup: float
) -> wrk.Result:
    """Warm-up (not timed, but its wrong logins count), then one timed wrk run."""
    if warmup <= 0:
        return wrk.run(scenario, server.url, work, timed)
    warm = wrk.run(scenario, server.url, work, dataclasses.replace(timed, seconds=warmup))
    result = wrk.run(scenario, server.url, work, timed)
    return dataclasses.replace(result, logins=warm.logins + result.logins)


def profile_ours(server: servers.Server, args: argparse.Namespace, work: Path, run: Run) -> None:
    py_spy = servers.BENCH_VENV / "bin" / "py-spy"
    worker = next(pid for pid in server.processes() if server.role(pid) == "worker")
    for name in ("thunderbird-hit", "thunderbird-generic"):
        out = work / f"profile-{name}.txt"
        spy = spyprofile.start(py_spy, worker, args.profile, out, work / f"py-spy-{name}.log")
        wrk.run(
            by_name(name),
            server.url,
            work,
            dataclasses.replace(wrk.traffic(args, args.rows), seconds=args.profile),
        )
        spy.wait(timeout=args.profile + 30)
        lines = [f"profile of one worker ({servers.cmdline(worker)[:60]}), {name}:"]
        lines += spyprofile.summary(out) if out.exists() else ["(py-spy wrote nothing)"]
        run.profiles.append("\n".join(lines))
        print("\n".join(lines), flush=True)


def start_all(
    args: argparse.Namespace, work: Path, directory: Path, run: Run, stack: ExitStack
) -> dict[str, servers.Server]:
    """Every server of the run, up at once (idle ones cost nothing), so that the scenarios can be
    timed in interleaved rounds: a change in the machine's other load then hits all of them alike."""
    ours, shown = start_ours(args, work, directory)
    stack.enter_context(servers.running(ours))
    run.notes["ours-cmd"] = shown
    print(f"ours: {shown}", flush=True)
    hit = by_name("thunderbird-hit")
    path, _, login = hit.for_row(1)
    run.startup_s = ours.wait_answer(path, limit=60, expect=login)
    print(f"  start-up (process start → first right answer): {run.startup_s:.2f} s", flush=True)
    time.sleep(1)  # every worker up, not only the first
    started = {OURS: ours}
    status, body, media_type = probe(ours, hit)
    if status != "ok":
        raise RuntimeError(f"thunderbird-hit {status}: nothing to compare the others with")
    if not args.no_static:
        proxy = stack.enter_context(
            servers.running(servers.start_proxy(work, ours.port, args.proxy_max_conns))
        )
        proxy.wait_answer(hit.for_row(1)[0], limit=30)
        started[PROXIED] = proxy
        print(
            f"ours behind caddy reverse_proxy (max_conns_per_host {args.proxy_max_conns or 'unlimited'})"
        )
        path = by_name("static-file").for_row(0)[0]
        static = stack.enter_context(
            servers.running(servers.start_static(work, body, media_type, path))
        )
        static.wait_answer(path, limit=30)
        started[STATIC] = static
        print("static ceiling: caddy file-server, the bytes of our thunderbird-hit answer")
    if not args.no_peer:
        seed = servers.automx2_seed(body)
        peer = servers.start_automx2(work, args.peer_workers, seed)
        started[PEER] = stack.enter_context(servers.running(peer))
        print(f"peer: automx2 under gunicorn, {args.peer_workers} workers", flush=True)
    return started


def best_of(results: list[wrk.Result]) -> wrk.Result:
    """The round with the most requests per second, with the logins of every round."""
    logins = sum((r.logins for r in results[1:]), results[0].logins)
    return dataclasses.replace(max(results, key=lambda r: r.rps), logins=logins)


def measure_all(
    args: argparse.Namespace, work: Path, started: dict[str, servers.Server], run: Run
) -> None:
    """Probe each wanted scenario once, then time them in ``--repeat`` interleaved rounds (the best
    round of each is kept), then the 1,000-connection runs."""
    chosen = []
    for scenario in SCENARIOS:
        if not wanted(scenario, args):
            continue
        server = started.get(scenario.target)
        if server is None:
            run.notes[scenario.name] = f"{scenario.target} not started (see the options)"
            continue
        status, _, _ = probe(server, scenario)
        if status == "ok":
            chosen.append(scenario)
        else:
            run.notes[scenario.name] = status
            print(f"  {scenario.name}: {status}", flush=True)
    timed = wrk.traffic(args, args.rows)

    def timer(scenario: Scenario) -> wrk.Result:
        return time_one(started[scenario.target], scenario, work, timed, args.warmup)

    rounds = wrk.interleave(args.repeat, {s.name: functools.partial(timer, s) for s in chosen})
    run.results = {name: best_of(results) for name, results in rounds.items()}
    if args.storm_duration > 0:
        storm = dataclasses.replace(
            timed, connections=args.storm_connections, seconds=args.storm_duration
        )
        for scenario in chosen:
            if scenario.name in STORM:
                result = time_one(started[scenario.target], scenario, work, storm, args.warmup)
                print(f"  {scenario.name} @{storm.connections}: {result.summary()}", flush=True)
                run.storms[scenario.name] = result


def figures(args: argparse.Namespace, run: Run) -> list[str]:
    lines = [
        f"Ours: `{run.notes.get('ours-cmd', '?')}`, {args.rows:,}-row CSV directory. "
        f"Load: {args.connections} connections, {args.threads} wrk threads, {args.duration:g} s per "
        f"scenario after {args.warmup:g} s of warm-up"
        + (f", best of {args.repeat} interleaved rounds" if args.repeat > 1 else "")
        + f", {args.timeout:g} s timeout; addresses rotate through the directory. "
        + WRONG_LOGINS,
        "",
    ]
    rows = []
    for scenario in SCENARIOS:
        if not wanted(scenario, args):
            continue
        r = run.results.get(scenario.name)
        if r is None:
            note = run.notes.get(scenario.name, "not run")
            rows.append([scenario.name, scenario.target, *["-"] * len(wrk.CELLS), note])
        else:
            rows.append([scenario.name, scenario.target, *r.cells(), ""])
    for name, s in run.storms.items():
        rows.append(
            [
                f"{name} @{args.storm_connections} for {args.storm_duration:g} s",
                by_name(name).target,
                *s.cells(),
                f"{s.requests:,} requests; socket errors: connect {s.connect}, read {s.read}, "
                f"write {s.write}, timeout {s.timeout}",
            ]
        )
    header = ["scenario", "server", *wrk.CELLS, "note"]
    lines += report.table(header, rows)
    lines.append("")
    workers = [mb for role, mb in run.rss if role == "worker"]
    supervisor = [mb for role, mb in run.rss if role == "supervisor"]
    startup = f"{run.startup_s:.2f} s" if run.startup_s is not None else "?"
    lines.append(
        f"Start-up (process start → first right answer): {startup}. Peak RSS per worker: "
        + (", ".join(f"{mb:.0f} MB" for mb in workers) or "?")
        + (f" (supervisor {supervisor[0]:.0f} MB)" if supervisor else "")
        + "."
    )
    lines.append("")
    ratio_rows, ratio = [], {}
    for label, ours, base, what in RATIOS:
        a, b = run.results.get(ours), run.results.get(base)
        if a and b:
            value = a.rps / b.rps if what == "rps" else a.p99_ms / b.p99_ms
            ratio[label] = value
            ratio_rows.append([label, f"{value:.2f}"])
        else:
            ratio_rows.append([label, "n/a (" + (ours if not a else base) + " not measured)"])
    lines += report.table(["ratio", "value"], ratio_rows)
    lines.append("")
    lines += report.table(["target", "now", "verdict"], targets(run, ratio))
    return lines


def targets(run: Run, ratio: dict[str, float]) -> list[list[str]]:
    def r(label: str) -> float | None:
        return ratio.get(label)

    peer, static, p99 = (
        r("Thunderbird GET: ours / automx2"),
        r("Thunderbird GET: ours / static ceiling"),
        r("p99 Thunderbird GET: ours / static"),
    )
    mobile = run.results.get("mobileconfig-signed")
    workers = [mb for role, mb in run.rss if role == "worker"]
    storm = run.storms.get("thunderbird-hit")
    proxied = run.storms.get("thunderbird-hit-via-caddy")
    checked = [r for r in [*run.results.values(), *run.storms.values()] if r.logins.how]
    wrong = sum(r.logins.wrong for r in checked)
    rows = [
        ["Thunderbird GET ≥ 10× automx2", f"{peer:.1f}×" if peer else "n/a"],
        ["Thunderbird GET ≥ 30 % of static", f"{100 * static:.0f} %" if static else "n/a"],
        ["p99 @50 ≤ 2× static p99", f"{p99:.2f}×" if p99 else "n/a"],
        ["signed mobileconfig ≥ 1,000/s", f"{mobile.rps:,.0f}/s" if mobile else "n/a"],
        ["0 errors @1,000 connections", f"{storm.errors} errors" if storm else "n/a"],
        [
            "0 errors @1,000 connections, behind Caddy",
            f"{proxied.errors} errors" if proxied else "n/a",
        ],
        ["RSS ≤ 100 MB per worker", f"{max(workers):.0f} MB" if workers else "n/a"],
        ["start-up ≤ 1 s", f"{run.startup_s:.2f} s" if run.startup_s is not None else "n/a"],
        [
            "0 wrong logins, every scenario asking for people",
            f"{wrong:,} in {sum(r.logins.right for r in checked) + wrong:,} answers"
            if checked
            else "n/a",
        ],
    ]
    oks = [
        None if peer is None else peer >= TARGETS_RPS_VS_PEER,
        None if static is None else static >= TARGET_RPS_VS_STATIC,
        None if p99 is None else p99 <= TARGET_P99_VS_STATIC,
        None if mobile is None else mobile.rps >= TARGET_MOBILECONFIG_RPS,
        None if storm is None else storm.errors == 0,
        None if proxied is None else proxied.errors == 0,
        None if not workers else max(workers) <= TARGET_RSS_MB,
        None if run.startup_s is None else run.startup_s <= TARGET_STARTUP_S,
        None if not checked else wrong == 0,
    ]
    return [[*row, report.verdict(ok)] for row, ok in zip(rows, oks, strict=True)]


def run(args: argparse.Namespace, work: Path) -> report.Report:
    measured = Run()
    directory = work / "staff.csv"
    staff.write_csv(directory, args.rows)
    with ExitStack() as stack:
        started = start_all(args, work, directory, measured, stack)
        measure_all(args, work, started, measured)
        ours = started[OURS]
        if args.profile > 0:
            profile_ours(ours, args, work, measured)
        measured.rss = ours.peak_rss()
    lines = figures(args, measured)
    if measured.profiles:
        lines += ["", "```", *"\n\n".join(measured.profiles).splitlines(), "```"]
    return report.Report(lines)
