"""``bench/run faults``: each scenario puts a steady wrk load of Thunderbird GETs with directory hits
(addresses rotating) on the service, breaks something in the middle, and reports the figures, a
per-second timeline and a verdict; ``bench/run`` exits 1 when one is not met.

1. ``ldap-hang`` / ``ldap-stop``: the LDAP directory (a real slapd seeded with fictional people)
   frozen with SIGSTOP, or stopped with SIGTERM, then brought back: no failed request, p99 within
   the lookup budget plus the normal p99, the fallback during the outage, logins again after it.
2. ``reload``: the profiles rewritten (another display name, then back) and SIGHUP sent, several
   times: no failed request, and the answers change.
3. ``kill``: one of two instances behind Caddy (the project's Caddyfile, ``tls internal``) killed
   with SIGKILL, then started again: only requests in flight may fail; it takes traffic again.
   It lasts 24 s at least, so that the restarted instance is seen taking traffic again.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shutil
import signal
import socket
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import faultverdicts
import report
import servers
import staff
import wrk
from faultwatch import Counters, Poller, Sample, lookups
from scenarios import by_name

from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd

HELP = "faults under load: LDAP hung and stopped, profiles reloaded, an instance killed"
QUICK = {"duration": 12, "baseline": 3, "warmup": 1, "people": 500, "rows": 10_000, "reloads": 2}
HIT = by_name("thunderbird-hit")
FALLBACK = "<username>%EMAILLOCALPART%</username>"
LOGIN = "<username>pn"
SCENARIO_NAMES = ("ldap-hang", "ldap-stop", "reload", "kill")
B_SUFFIX = " (version B)"
CADDY_MAX_CONNS = 64
"""The Caddyfile's ``max_conns_per_host``: no more requests than this are in flight to one instance."""
KILL_MIN_DURATION = 24
"""Seconds of the kill scenario at least: the instance is killed at a third of the run, and Caddy
takes it back once its active health check passes (the Caddyfile had a ``fail_duration`` of 10 s
until 2026-12-02, which kept it out that long)."""


def login_of(row: int) -> bytes:
    return f"<username>{staff.login(row)}</username>".encode()


def classify_login(row: int, body: bytes) -> str:
    """The person's own login, the fallback, or something else (which must never happen)."""
    if login_of(row) in body:
        return "login"
    return "fallback" if FALLBACK.encode() in body else "wrong"


@dataclass
class Outcome:
    """One scenario: its load, what was done when, what the poller saw, and the verdict."""

    name: str
    expectation: str
    load: wrk.Load
    duration: float
    events: list[tuple[float, str]]
    samples: list[Sample] = field(default_factory=list)
    marker_names: tuple[str, ...] = ()
    instances: list[tuple[float, list[float | None]]] = field(default_factory=list)
    ok: bool = False
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


def add_options(p: argparse.ArgumentParser) -> None:
    wrk.add_options(p, seconds=24, connections=32)
    p.add_argument(
        "--baseline", type=float, default=6, help="seconds of load without fault first (6)"
    )
    p.add_argument("--warmup", type=float, default=3, help="unrecorded seconds before it (3)")
    p.add_argument("--people", type=int, default=2000, help="people in the LDAP directory (2000)")
    p.add_argument("--rows", type=int, default=100_000, help="rows of the CSV directory (100000)")
    p.add_argument("--workers", type=int, default=2, help="workers of the single instance (2)")
    p.add_argument("--instance-workers", type=int, default=1, help="workers per instance (1)")
    p.add_argument("--directory-timeout", type=int, default=300, help="lookup budget, ms (300)")
    p.add_argument("--cache-ttl", type=int, default=2, help="--directory-cache-ttl (2)")
    p.add_argument("--miss-ttl", type=int, default=1, help="--directory-miss-ttl (1)")
    p.add_argument("--reloads", type=int, default=4, help="SIGHUPs in the reload scenario (4)")
    p.add_argument("--log-level", default="info", help="the service's log level (info, as served)")
    p.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIO_NAMES))


def serve_options(workers: int, directory: str, args: argparse.Namespace) -> list[str]:
    return [
        "--workers",
        str(workers),
        "--directory",
        directory,
        "--directory-rate-limit",
        "0",
        "--log-level",
        args.log_level,
    ]


def start_serve(
    name: str,
    work: Path,
    options: list[str],
    stack: ExitStack,
    env: dict[str, str] | None = None,
    port: int = 0,
) -> servers.Server:
    server = servers.ours(name, work, options, env, port)
    stack.callback(server.stop)
    server.wait_answer("/healthz", limit=60)
    return server


def under_load(
    name: str,
    args: argparse.Namespace,
    work: Path,
    url: str,
    markers: tuple[str, ...],
    schedule: Sequence[tuple[float, str, Callable[[], object]]],
    poller: Poller | None,
    counters: Counters | None = None,
    seconds: float | None = None,
) -> tuple[wrk.Load, list[tuple[float, str]], list[Sample], list[tuple[float, list[float | None]]]]:
    """wrk for ``seconds`` (the poller and counters alongside); ``schedule``'s actions at their
    offsets in seconds. Always stops wrk and the watchers."""
    seconds = args.duration if seconds is None else seconds
    events: list[tuple[float, str]] = []
    rows = args.people if name.startswith("ldap") else args.rows
    traffic = dataclasses.replace(wrk.traffic(args, rows), seconds=seconds)
    loopback = url.startswith("https://")
    load = wrk.Wrk(HIT, url, work, traffic, markers=markers, loopback=loopback, name=name)
    try:
        for watcher in (poller, counters):
            if watcher is not None:
                watcher.start()
        for at, label, action in schedule:
            time.sleep(max(0.0, load.started + at - time.time()))
            action()
            when = time.time()  # the new state is reached (a restart waits until it answers)
            events.append((when, label))
            print(f"  {when - load.started:5.1f} s  {label}", flush=True)
        finished = load.finish()
    finally:
        load.stop()
        samples = poller.halt() if poller is not None else []
        readings = counters.halt() if counters is not None else []
    return finished, events, samples, readings


def port_below_ephemeral() -> int:
    """A free port below the kernel's ephemeral range. While slapd is stopped the service keeps
    connecting to its port; were that port in the ephemeral range, one of those connections could
    get it as its own source port (a TCP self-connect, which succeeds) and hold it, so that slapd
    could not listen there again."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(max(1024, low - 12_000), low), 200):
        with socket.socket() as sock:
            try:
                sock.bind((servers.HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {low} on {servers.HOST}")


def ldap_scenarios(
    args: argparse.Namespace, work: Path, stack: ExitStack, which: list[str]
) -> list[Outcome]:
    slapd = Slapd(work / "slapd", staff.people(args.people), loglevel="none")
    slapd.port = port_below_ephemeral()
    slapd.start()
    stack.callback(slapd.stop)
    print(f"slapd on 127.0.0.1:{slapd.port} with {args.people:,} people", flush=True)
    options = serve_options(args.workers, slapd.url + "?uid?sub?(mail={email})", args)
    options += ["--directory-timeout", str(args.directory_timeout)]
    options += ["--directory-cache-ttl", str(args.cache_ttl)]
    options += ["--directory-miss-ttl", str(args.miss_ttl)]
    env = {"AUTOCONFIG_LDAP_BIND_DN": BIND_DN, "AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD}
    server = start_serve("ours-ldap", work, options, stack, env)
    markers = (LOGIN, FALLBACK)
    print(
        f"warm-up: {args.warmup:g} s, then a baseline of {args.baseline:g} s without fault",
        flush=True,
    )
    if args.warmup > 0:
        under_load("ldap-warmup", args, work, server.url, markers, [], None, seconds=args.warmup)
    baseline, _, _, _ = under_load(
        "ldap-baseline", args, work, server.url, markers, [], None, seconds=args.baseline
    )
    answered = sum(r[0] for r in baseline.seconds.values())
    base_share = sum(r[3] for r in baseline.seconds.values()) / max(1, answered)
    print(
        f"  baseline: {baseline.result.summary()}; {100 * base_share:.1f} % of answers carry "
        "the login",
        flush=True,
    )
    outcomes = []
    faults = {
        "ldap-hang": (
            "slapd SIGSTOP (hung: connections accepted, nothing answered)",
            slapd.pause,
            "slapd SIGCONT",
            slapd.resume,
        ),
        "ldap-stop": ("slapd SIGTERM (stopped)", slapd.stop, "slapd started again", slapd.start),
    }
    for name in which:
        down_label, down, up_label, up = faults[name]
        before = lookups(server.port)
        print(f"{name}: {args.duration:g} s of load", flush=True)
        poller = Poller(server.port, None, HIT.path, args.people, classify_login)
        schedule = [(args.duration / 4, down_label, down), (args.duration / 2, up_label, up)]
        load, events, samples, _ = under_load(
            name, args, work, server.url, markers, schedule, poller
        )
        after = lookups(server.port)
        outcome = Outcome(
            name,
            "no 5xx, p99 ≤ lookup budget + normal p99, fallback during the outage, logins after",
            load,
            args.duration,
            events,
            samples,
            ("login", "fallback"),
        )
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        outcome.notes.append(
            "directory lookups during the run (metrics): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(delta.items()) if v)
        )
        faultverdicts.judge_ldap(outcome, baseline, base_share, args.directory_timeout)
        outcomes.append(outcome)
        faultverdicts.show(outcome)
    if server.process.poll() is not None:
        raise RuntimeError(f"the service exited during the LDAP scenarios; see {server.log}")
    return outcomes


def rewrite_profile(source: str, folder: Path, version_b: bool) -> None:
    """The académie's profile with (B) or without (A) a suffix to its names, written atomically."""
    text = source
    if version_b:
        text = re.sub(
            r'^(name\.\w+ = ".*)"$',
            lambda m: m.group(1) + B_SUFFIX + '"',
            text,
            count=2,
            flags=re.M,
        )
    partial = folder / "ac-aix-marseille.toml.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(folder / "ac-aix-marseille.toml")


def reload_scenario(args: argparse.Namespace, work: Path, stack: ExitStack) -> Outcome:
    profiles = work / "profiles"
    shutil.copytree(servers.PROJECT / "profiles", profiles)
    source = (profiles / "ac-aix-marseille.toml").read_text(encoding="utf-8")
    directory = work / "staff.csv"
    staff.write_csv(directory, args.rows)
    options = [*serve_options(args.workers, str(directory), args), "--profiles", str(profiles)]
    server = start_serve("ours-reload", work, options, stack)
    body = servers.ask(server.port, "GET", HIT.for_row(1)[0]).body
    found = re.search(rb"<displayName>.*?</displayName>", body)
    if found is None:
        raise RuntimeError("the Thunderbird answer has no displayName")
    name_a = found.group(0).decode()
    name_b = name_a.replace("</displayName>", B_SUFFIX + "</displayName>")

    def classify(row: int, answer: bytes) -> str:
        if login_of(row) not in answer:
            return "wrong"
        return "B" if name_b.encode() in answer else ("A" if name_a.encode() in answer else "wrong")

    def hangup(version_b: bool) -> Callable[[], None]:
        def action() -> None:
            rewrite_profile(source, profiles, version_b)
            os.kill(server.process.pid, signal.SIGHUP)

        return action

    schedule = [
        (
            args.duration * (k + 1) / (args.reloads + 1),
            f"profile rewritten ({'B' if k % 2 == 0 else 'A'}), SIGHUP",
            hangup(k % 2 == 0),
        )
        for k in range(args.reloads)
    ]
    print(f"reload: {args.duration:g} s of load, {args.reloads} reloads", flush=True)
    poller = Poller(server.port, None, HIT.path, args.rows, classify)
    load, events, samples, _ = under_load(
        "reload", args, work, server.url, (name_a, name_b), schedule, poller
    )
    outcome = Outcome(
        "reload",
        "no failed request; the answers change with each reload",
        load,
        args.duration,
        events,
        samples,
        ("name A", "name B"),
    )
    faultverdicts.judge_reload(outcome)
    faultverdicts.show(outcome)
    if server.process.poll() is not None:
        raise RuntimeError(f"the service exited during the reload scenario; see {server.log}")
    return outcome


def kill_scenario(args: argparse.Namespace, work: Path, stack: ExitStack) -> Outcome:
    directory = work / "staff.csv"
    if not directory.exists():
        staff.write_csv(directory, args.rows)
    ports = [port_below_ephemeral()]
    while len(ports) < 2:
        ports += [p for p in [port_below_ephemeral()] if p not in ports]

    def instance(n: int) -> servers.Server:
        options = serve_options(args.instance_workers, str(directory), args)
        options += ["--trusted-proxy", servers.HOST]
        return start_serve(f"instance-{n + 1}", work, options, stack, port=ports[n])

    apps = [instance(0), instance(1)]
    https_port, tls = servers.start_deployed(work, ports, stack)
    print(
        f"caddy (the project's Caddyfile, tls internal) on 127.0.0.1:{https_port} → instances "
        f"{ports[0]}, {ports[1]} ({args.instance_workers} worker(s) each)",
        flush=True,
    )

    def kill() -> None:
        os.killpg(apps[1].process.pid, signal.SIGKILL)

    def restart() -> None:
        apps[1] = instance(1)

    seconds = max(args.duration, KILL_MIN_DURATION)
    schedule = [
        (seconds / 3, "instance 2 SIGKILL", kill),
        (seconds / 2, "instance 2 started again (answers /healthz)", restart),
    ]
    poller = Poller(https_port, tls, HIT.path, args.rows, classify_login)
    print(f"kill: {seconds:g} s of load over https through caddy", flush=True)
    load, events, samples, readings = under_load(
        "kill",
        args,
        work,
        f"https://{tls[0]}:{https_port}",
        (LOGIN,),
        schedule,
        poller,
        Counters(ports),
        seconds,
    )
    outcome = Outcome(
        "kill",
        "only the requests in flight at the kill may fail; the restarted instance takes traffic",
        load,
        seconds,
        events,
        samples,
        ("login",),
    )
    outcome.instances = readings
    faultverdicts.judge_kill(outcome, min(args.connections, CADDY_MAX_CONNS))
    faultverdicts.show(outcome)
    return outcome


def run(args: argparse.Namespace, work: Path) -> report.Report:
    which = [n for n in SCENARIO_NAMES if not args.only or n in args.only.split(",")]
    outcomes: list[Outcome] = []
    ldap = [n for n in which if n.startswith("ldap")]
    if ldap:
        with ExitStack() as stack:
            outcomes += ldap_scenarios(args, work, stack, ldap)
    if "reload" in which:
        with ExitStack() as stack:
            outcomes.append(reload_scenario(args, work, stack))
    if "kill" in which:
        with ExitStack() as stack:
            outcomes.append(kill_scenario(args, work, stack))
    lines = faultverdicts.section(args, outcomes)
    return report.Report(lines, ok=all(o.ok for o in outcomes))
