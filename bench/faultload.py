"""Faults under load, run by ``bench/faults``: each scenario puts a steady wrk load of Thunderbird
GETs with directory hits (addresses rotating) on the service, breaks something in the middle, and
prints the figures, a per-second timeline and a verdict; everything is appended to bench/RESULTS.md.

    bench/faults [--duration 24] [--only ldap-hang,ldap-stop,reload,kill] … (--help)

1. ``ldap-hang`` / ``ldap-stop``: the LDAP directory (a real slapd seeded with fictional people)
   frozen with SIGSTOP, or stopped with SIGTERM, then brought back: no failed request, p99 within
   the lookup budget plus the normal p99, the fallback during the outage, logins again after it.
2. ``reload``: the profiles rewritten (another display name, then back) and SIGHUP sent, several
   times: no failed request, and the answers change.
3. ``kill``: one of two instances behind Caddy (the project's Caddyfile, ``tls internal``) killed
   with SIGKILL, then started again: only requests in flight may fail; it takes traffic again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import faultreport
import report
import servers
from csv_load import write_directory
from faultwatch import Counters, Poller, Sample, fetch_http, fetch_https, metric
from faultwrk import Load, Wrk
from scenarios import ADDRESS, DOMAIN

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))

from tests.slapd import BIND_DN, BIND_PASSWORD, Person, Slapd  # noqa: E402

PATH = "/mail/config-v1.1.xml?emailaddress=" + ADDRESS
FALLBACK = "<username>%EMAILLOCALPART%</username>"
LOGIN = "<username>pn"
SCENARIO_NAMES = ("ldap-hang", "ldap-stop", "reload", "kill")
B_SUFFIX = " (version B)"
CADDY_MAX_CONNS = 64
KILL_MIN_DURATION = 24
"""The Caddyfile's ``max_conns_per_host``: no more requests than this are in flight to one instance."""


def login_of(row: int) -> bytes:
    return f"<username>pn{row:06d}</username>".encode()


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
    load: Load
    duration: float
    events: list[tuple[float, str]]
    samples: list[Sample] = field(default_factory=list)
    marker_names: tuple[str, ...] = ()
    instances: list[tuple[float, list[float | None]]] = field(default_factory=list)
    ok: bool = False
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


def options(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=24, help="seconds of load per scenario (24)")
    p.add_argument(
        "--baseline", type=float, default=6, help="seconds of load without fault first (6)"
    )
    p.add_argument("--warmup", type=float, default=3, help="unrecorded seconds before it (3)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--timeout", type=float, default=5, help="wrk timeout in seconds (5)")
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
    p.add_argument("--label", default="", help="what this run tries (goes into RESULTS.md)")
    p.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    p.add_argument("--no-record", action="store_true", help="print only; do not touch RESULTS.md")
    return p.parse_args(argv)


def stop_on_signal(signum: int, _frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def serve_cmd(port: int, workers: int, directory: str, args: argparse.Namespace) -> list[str]:
    return [
        str(PROJECT / ".venv" / "bin" / "autoconfig"),
        "serve",
        "--host",
        servers.HOST,
        "--port",
        str(port),
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
    name: str, work: Path, cmd: list[str], port: int, env: dict[str, str], stack: ExitStack
) -> servers.Server:
    server = servers.Server(name, cmd, port, work / f"{name}.log", {**os.environ, **env})
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
) -> tuple[Load, list[tuple[float, str]], list[Sample], list[tuple[float, list[float | None]]]]:
    """wrk for ``seconds`` (the poller and counters alongside); ``schedule``'s actions at their
    offsets in seconds. Always stops wrk and the watchers."""
    seconds = args.duration if seconds is None else seconds
    events: list[tuple[float, str]] = []
    wrk = Wrk(
        url,
        PATH,
        rows=args.people if name.startswith("ldap") else args.rows,
        markers=markers,
        seconds=seconds,
        connections=args.connections,
        threads=args.threads,
        timeout_s=args.timeout,
        work=work,
        name=name,
        loopback=url.startswith("https://"),
    )
    try:
        for watcher in (poller, counters):
            if watcher is not None:
                watcher.start()
        for at, label, action in schedule:
            time.sleep(max(0.0, wrk.started + at - time.time()))
            action()
            when = time.time()  # the new state is reached (a restart waits until it answers)
            events.append((when, label))
            print(f"  {when - wrk.started:5.1f} s  {label}", flush=True)
        load = wrk.finish()
    finally:
        wrk.stop()
        samples = poller.halt() if poller is not None else []
        readings = counters.halt() if counters is not None else []
    return load, events, samples, readings


def lookups(port: int) -> dict[str, float]:
    found = metric(port, "autoconfig_directory_lookups_total")
    return {k.split('"')[1]: v for k, v in found.items() if '"' in k}


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
    people = [
        Person(f"pn{i:06d}", f"prenom{i}.nom{i}@{DOMAIN}", f"Prénom{i} Nom{i}", f"Prénom{i} Nom{i}")
        for i in range(args.people)
    ]
    slapd = Slapd(work / "slapd", people, loglevel="none")
    slapd.port = port_below_ephemeral()
    slapd.start()
    stack.callback(slapd.stop)
    print(f"slapd on 127.0.0.1:{slapd.port} with {args.people:,} people", flush=True)
    port = servers.free_port()
    cmd = serve_cmd(port, args.workers, slapd.url + "?uid?sub?(mail={email})", args)
    cmd += ["--directory-timeout", str(args.directory_timeout)]
    cmd += [
        "--directory-cache-ttl",
        str(args.cache_ttl),
        "--directory-miss-ttl",
        str(args.miss_ttl),
    ]
    env = {"AUTOCONFIG_LDAP_BIND_DN": BIND_DN, "AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD}
    server = start_serve("ours-ldap", work, cmd, port, env, stack)
    url = f"http://{servers.HOST}:{port}"
    markers = (LOGIN, FALLBACK)
    print(
        f"warm-up: {args.warmup:g} s, then a baseline of {args.baseline:g} s without fault",
        flush=True,
    )
    if args.warmup > 0:
        under_load("ldap-warmup", args, work, url, markers, [], None, seconds=args.warmup)
    baseline, _, _, _ = under_load(
        "ldap-baseline", args, work, url, markers, [], None, seconds=args.baseline
    )
    answered = sum(r[0] for r in baseline.seconds.values())
    base_share = sum(r[3] for r in baseline.seconds.values()) / max(1, answered)
    print(
        f"  baseline: {baseline.result.rps:,.0f} req/s, p50 {baseline.result.p50_ms:.1f} ms, "
        f"p99 {baseline.result.p99_ms:.1f} ms, {100 * base_share:.1f} % of answers carry the login",
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
        before = lookups(port)
        print(f"{name}: {args.duration:g} s of load", flush=True)
        poller = Poller(lambda p: fetch_http(port, p, 5.0), PATH, args.people, classify_login)
        schedule = [(args.duration / 4, down_label, down), (args.duration / 2, up_label, up)]
        load, events, samples, _ = under_load(name, args, work, url, markers, schedule, poller)
        after = lookups(port)
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
        faultreport.judge_ldap(outcome, baseline, base_share, args.directory_timeout)
        outcomes.append(outcome)
        faultreport.show(outcome)
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
    shutil.copytree(PROJECT / "profiles", profiles)
    source = (profiles / "ac-aix-marseille.toml").read_text(encoding="utf-8")
    directory = work / "staff.csv"
    write_directory(directory, args.rows)
    port = servers.free_port()
    cmd = [*serve_cmd(port, args.workers, str(directory), args), "--profiles", str(profiles)]
    server = start_serve("ours-reload", work, cmd, port, {}, stack)
    _, body = fetch_http(port, PATH.replace("{i}", "1"), 5.0)
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
    poller = Poller(lambda p: fetch_http(port, p, 5.0), PATH, args.rows, classify)
    url = f"http://{servers.HOST}:{port}"
    load, events, samples, _ = under_load(
        "reload", args, work, url, (name_a, name_b), schedule, poller
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
    faultreport.judge_reload(outcome)
    faultreport.show(outcome)
    if server.process.poll() is not None:
        raise RuntimeError(f"the service exited during the reload scenario; see {server.log}")
    return outcome


def start_caddy(work: Path, upstreams: list[int], stack: ExitStack) -> tuple[int, Path]:
    """The project's Caddyfile with Caddy's internal CA; (https port, root certificate)."""
    if not shutil.which("caddy"):
        raise SystemExit("error: caddy is not installed (Debian: apt-get install caddy)")
    folder = work / "caddy"
    folder.mkdir()
    config = folder / "Caddyfile"
    config.write_text(f"import {PROJECT / 'Caddyfile'}\n", encoding="utf-8")
    http_port, https_port = servers.free_port(), servers.free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "AUTOCONFIG_DOMAIN": DOMAIN,
        "AUTOCONFIG_TLS": "internal",
        "AUTOCONFIG_UPSTREAMS": " ".join(f"{servers.HOST}:{p}" for p in upstreams),
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "CADDY_BIND": servers.HOST,
        "CADDY_ADMIN": "off",
    }
    cmd = ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]
    caddy = servers.Server("caddy", cmd, https_port, work / "caddy.log", env)
    stack.callback(caddy.stop)
    root = folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if caddy.process.poll() is not None:
            raise RuntimeError(f"caddy exited ({caddy.process.returncode}); see {caddy.log}")
        try:
            if (
                root.is_file()
                and fetch_https(https_port, f"autoconfig.{DOMAIN}", root, "/healthz", 2)[0] == 200
            ):
                return https_port, root
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"caddy did not answer over https within 60 s; see {caddy.log}")


def kill_scenario(args: argparse.Namespace, work: Path, stack: ExitStack) -> Outcome:
    directory = work / "staff.csv"
    if not directory.exists():
        write_directory(directory, args.rows)
    ports = [port_below_ephemeral()]
    while len(ports) < 2:
        ports += [p for p in [port_below_ephemeral()] if p not in ports]

    def instance(n: int) -> servers.Server:
        cmd = serve_cmd(ports[n], args.instance_workers, str(directory), args)
        cmd += ["--trusted-proxy", servers.HOST]
        return start_serve(f"instance-{n + 1}", work, cmd, ports[n], {}, stack)

    apps = [instance(0), instance(1)]
    https_port, root = start_caddy(work, ports, stack)
    name = f"autoconfig.{DOMAIN}"
    print(
        f"caddy (the project's Caddyfile, tls internal) on 127.0.0.1:{https_port} → instances "
        f"{ports[0]}, {ports[1]} ({args.instance_workers} worker(s) each)",
        flush=True,
    )

    def kill() -> None:
        os.killpg(apps[1].process.pid, signal.SIGKILL)

    def restart() -> None:
        apps[1] = instance(1)

    schedule = [
        (args.duration / 3, "instance 2 SIGKILL", kill),
        (args.duration / 2, "instance 2 started again (answers /healthz)", restart),
    ]
    poller = Poller(
        lambda p: fetch_https(https_port, name, root, p, 5.0), PATH, args.rows, classify_login
    )
    print(f"kill: {args.duration:g} s of load over https through caddy", flush=True)
    load, events, samples, readings = under_load(
        "kill",
        args,
        work,
        f"https://{name}:{https_port}",
        (LOGIN,),
        schedule,
        poller,
        Counters(ports),
    )
    outcome = Outcome(
        "kill",
        "only the requests in flight at the kill may fail; the restarted instance takes traffic",
        load,
        args.duration,
        events,
        samples,
        ("login",),
    )
    outcome.instances = readings
    faultreport.judge_kill(outcome, min(args.connections, CADDY_MAX_CONNS))
    faultreport.show(outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    which = [n for n in SCENARIO_NAMES if not args.only or n in args.only.split(",")]
    if "kill" in which and args.duration < KILL_MIN_DURATION:
        print(
            f"warning: with --duration {args.duration:g}, the killed instance may get no traffic "
            "again before the end: Caddy keeps a failed instance out for 10 s (the Caddyfile's "
            f"fail_duration) and it is killed at a third of the run; use {KILL_MIN_DURATION:g} "
            "or more",
            flush=True,
        )
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    work = BENCH / "out" / "faults"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_before = os.getloadavg()[0]
    print(f"{when}: {report.machine()}; logs in {work}", flush=True)
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
    lines = faultreport.section(args, outcomes, when, (load_before, os.getloadavg()[0]))
    print("\n" + "\n".join(lines))
    if not args.no_record:
        report.append(args.results, lines)
        print(f"\nappended to {args.results}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
