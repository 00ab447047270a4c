"""``bench/run attacks``: what the other clients see while one hostile client attacks (issue 16).

Each scenario measures the other clients twice, the same way: idle (nothing else happens), then
during the attack (after 3 s of the same requests, not counted, that fill a fresh server's caches). The other clients are a steady poller: ``--pollers`` threads, each asking in
turn Thunderbird's autoconfig, an Autodiscover POST and the setup page for a person of the demo
directory, one request every ``--poll-interval`` seconds, each over a new connection. Printed for
each phase: their requests, errors (non-2xx or no answer within 5 s), p50, p99 and max latency.

1. ``setup-flood`` (M3): ``autoconfig serve --workers 2 --trusted-proxy 127.0.0.1``, reached
   directly; the attacker asks ``--flood-rate`` setup pages a second, each for a new address
   nobody has, from one client address (``X-Forwarded-For``; each poller thread has its own).
   Target: the others' p99 during the flood within 2× their idle p99.
2. ``slow-streams`` (H1): the project's Caddyfile in front of two instances; the attacker opens
   ``--streams`` streams on one HTTP/2 connection, each announcing a 16,000-byte Autodiscover
   body and sending one byte of it a second. Target: every request of the others answered in
   under 1 s, none failed.
3. ``slow-connections`` (H1, HTTP/1.1): the same with ``--connections`` TLS connections, each
   sending its body a byte a second (reopened when Caddy cuts it off). Same target.
4. ``hung-instance`` (I4/I5): the same layout; one instance is stopped (SIGSTOP, all its
   processes). Its first 2.5 s are shown apart: until Caddy's health check takes the instance
   out, a request that meets it waits Caddy's 3 s response time-out, then a GET is retried on
   the other instance and a POST fails (504: Caddy does not replay a body). Target, for the
   ``--duration`` after those: every request of the others answered in under 1 s, none failed.

Everything on 127.0.0.1, bounded in time; every server stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import multiprocessing
import os
import signal
import socket
import ssl
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import report
import servers
from staff import DOMAIN

from autoconfig.settings import demo_directory
from tests.hostile.slowstreams import SlowStreams

HELP = "what other clients see during each attack of issue 16 (setup flood, slow streams, hung instance)"
QUICK = {"duration": 4, "flood_rate": 20, "streams": 50, "connections": 30}
SCENARIO_NAMES = ("setup-flood", "slow-streams", "slow-connections", "hung-instance")
ANSWER_TIMEOUT = 5.0
NORMAL_S = 1.0
"""The issue's figure: a normal request answered in under 1 s during an attack."""
FLOOD_RATIO = 2.0
"""The issue's figure: the others' p99 during the setup flood within 2× their idle p99."""
WARM_UP = 3.0
"""Seconds the others ask before anything is counted (a fresh server fills its caches)."""
HEALTH_OUT = 2.5
"""Seconds within which Caddy's active health check takes a hung instance out (the Caddyfile's
health_interval 1 s + health_timeout 1 s, and a margin)."""
ATTACKER = "203.0.113.66"
PEOPLE = ("pierre.dupont", "marie.martin", "gaelle.lheritier", "jean-luc.nguyen", "sophie.bernard")
AUTODISCOVER_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{address}'
    "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
    "outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIO_NAMES))
    p.add_argument("--duration", type=float, default=15, help="seconds of each phase (15)")
    p.add_argument("--pollers", type=int, default=4, help="threads of other clients (4)")
    p.add_argument(
        "--poll-interval", type=float, default=0.1, help="seconds between a poller's requests (0.1)"
    )
    p.add_argument("--flood-rate", type=float, default=50, help="setup-flood: pages a second (50)")
    p.add_argument("--streams", type=int, default=200, help="slow-streams: HTTP/2 streams (200)")
    p.add_argument(
        "--connections", type=int, default=150, help="slow-connections: connections (150)"
    )


@dataclass
class Phase:
    """What the other clients saw during one phase."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) < 2:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("nan"))

    def cells(self) -> list[str]:
        return [
            f"{self.requests:,}",
            f"{self.errors:,}",
            f"{self.quantile(0.5) * 1000:.1f}",
            f"{self.quantile(0.99) * 1000:.1f}",
            f"{self.worst * 1000:.1f}",
        ]


Ask = Callable[[int, int], bool]
"""One request of poller ``thread`` (its ``turn``-th): True when answered 2xx."""


def poll(ask: Ask, threads: int, interval: float, duration: float) -> Phase:
    """``threads`` pollers, each asking every ``interval`` seconds for ``duration`` seconds."""
    phase = Phase()
    lock = threading.Lock()
    end = time.monotonic() + duration

    def poller(thread: int) -> None:
        for turn in itertools.count():
            started = time.monotonic()
            if started >= end:
                return
            try:
                ok = ask(thread, turn)
            except (OSError, http.client.HTTPException):
                ok = False
            took = time.monotonic() - started
            with lock:
                if ok:
                    phase.latencies.append(took)
                else:
                    phase.errors += 1
            time.sleep(max(0.0, interval - took))

    workers = [threading.Thread(target=poller, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(duration + ANSWER_TIMEOUT * 2)
    return phase


def other_clients(port: int, tls: servers.Tls | None, forwarded: bool) -> Ask:
    """The others' requests, by turn: autoconfig, Autodiscover, the setup page; ``forwarded``:
    each thread names its own client address (the service trusts 127.0.0.1's X-Forwarded-For)."""
    host = [("Host", f"autoconfig.{DOMAIN}")] if tls is None else []

    def ask(thread: int, turn: int) -> bool:
        address = f"{PEOPLE[turn % len(PEOPLE)]}@{DOMAIN}"
        quoted = urllib.parse.quote(address, safe="")
        headers = [*host, *([("X-Forwarded-For", f"198.51.100.{thread + 1}")] if forwarded else [])]
        kind = turn % 3
        if kind == 0:
            answer = servers.ask(
                port,
                "GET",
                f"/mail/config-v1.1.xml?emailaddress={quoted}",
                headers,
                timeout=ANSWER_TIMEOUT,
                tls=tls,
            )
        elif kind == 1:
            answer = servers.ask(
                port,
                "POST",
                "/autodiscover/autodiscover.xml",
                [*headers, ("Content-Type", "text/xml")],
                AUTODISCOVER_BODY.format(address=address),
                timeout=ANSWER_TIMEOUT,
                tls=tls,
            )
        else:
            answer = servers.ask(
                port,
                "GET",
                f"/aide/configurer?email={quoted}",
                headers,
                timeout=ANSWER_TIMEOUT,
                tls=tls,
            )
        return 200 <= answer.status < 300

    return ask


@contextmanager
def paced(action: Callable[[int], None], rate: float, threads: int = 8) -> Iterator[list[int]]:
    """``action(n)`` about ``rate`` times a second, spread over ``threads`` threads, until the
    block ends; yields ``[done, failed]``."""
    stop = threading.Event()
    counts = [0, 0]
    lock = threading.Lock()
    numbers = itertools.count()

    def loop() -> None:
        interval = threads / rate
        while not stop.is_set():
            started = time.monotonic()
            n = next(numbers)
            try:
                action(n)
                failed = 0
            except (OSError, http.client.HTTPException):
                failed = 1
            with lock:
                counts[0] += 1
                counts[1] += failed
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield counts
    finally:
        stop.set()
        for worker in workers:
            worker.join(ANSWER_TIMEOUT * 2)


@contextmanager
def slow_connections(port: int, tls: servers.Tls, count: int) -> Iterator[list[int]]:
    """``count`` HTTP/1.1 TLS connections, each sending an Autodiscover body a byte a second;
    one Caddy closes is opened again. Yields ``[opened]``."""
    name, ca = tls
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["http/1.1"])
    head = (
        f"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: {name}\r\n"
        "Content-Type: text/xml\r\nContent-Length: 16000\r\n\r\n<"
    ).encode()
    stop = threading.Event()
    opened = [0]

    def connect() -> ssl.SSLSocket:
        raw = socket.create_connection((servers.HOST, port), timeout=ANSWER_TIMEOUT)
        sock = context.wrap_socket(raw, server_hostname=name)
        sock.sendall(head)
        opened[0] += 1
        return sock

    def run() -> None:
        socks = [connect() for _ in range(count)]
        while not stop.wait(1.0):
            for n, sock in enumerate(socks):
                try:
                    sock.sendall(b" ")
                except OSError:
                    sock.close()
                    with contextlib.suppress(OSError):
                        socks[n] = connect()
        for sock in socks:
            sock.close()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield opened
    finally:
        stop.set()
        worker.join(30)


@dataclass
class Found:
    rows: list[list[str]] = field(default_factory=list)
    targets: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def phase(self, scenario: str, name: str, phase: Phase) -> None:
        self.rows.append([scenario, name, *phase.cells()])
        cells = phase.cells()
        print(
            f"  {name}: {cells[0]} requests, {cells[1]} errors, p50 {cells[2]} ms, "
            f"p99 {cells[3]} ms, max {cells[4]} ms",
            flush=True,
        )

    def target(self, label: str, now: str, ok: bool) -> None:
        self.targets.append([label, now, report.verdict(ok)])

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  {text}", flush=True)


def serve(work: Path, name: str, stack: ExitStack, *options: str) -> servers.Server:
    server = servers.ours(
        name, work, ["--workers", "2", "--directory", str(demo_directory()), *options]
    )
    stack.callback(server.stop)
    server.wait_answer("/healthz", limit=60)
    return server


def setup_flood(args: argparse.Namespace, work: Path, found: Found) -> None:
    with ExitStack() as stack:
        server = serve(work, "setup-flood", stack, "--trusted-proxy", servers.HOST)
        others = other_clients(server.port, None, forwarded=True)
        poll(others, args.pollers, args.poll_interval, WARM_UP)  # not counted: caches fill
        cpu = cpu_seconds(server)
        idle = poll(others, args.pollers, args.poll_interval, args.duration)
        idle_cpu = (cpu_seconds(server) - cpu) / args.duration
        found.phase("setup-flood", "idle", idle)
        # The attacker is a process of its own: its threads must not share this one's interpreter
        # lock with the pollers (which would slow the pollers' own timing, not the server).
        done = multiprocessing.get_context("fork").Value("i", 0)
        attacker = multiprocessing.get_context("fork").Process(
            target=flood, args=(server.port, args.flood_rate, args.duration + 2, done), daemon=True
        )
        attacker.start()
        try:
            time.sleep(1)
            cpu = cpu_seconds(server)
            attacked = poll(others, args.pollers, args.poll_interval, args.duration)
            flood_cpu = (cpu_seconds(server) - cpu) / args.duration
        finally:
            attacker.join(ANSWER_TIMEOUT * 3)
            if attacker.is_alive():
                attacker.kill()
        rate = done.value / (args.duration + 2)
        found.phase("setup-flood", f"flood ({rate:.0f} pages/s)", attacked)
        found.note(
            f"setup-flood: the service's CPU {idle_cpu * 1000:.0f} ms/s idle, "
            f"{flood_cpu * 1000:.0f} ms/s during the flood: "
            f"{(flood_cpu - idle_cpu) / max(rate, 1) * 1000:.2f} ms per flooded page"
        )
        ratio = attacked.quantile(0.99) / idle.quantile(0.99)
        found.target(
            f"setup-flood: others' p99 ≤ {FLOOD_RATIO:.0f}× idle",
            f"{ratio:.2f}× ({attacked.quantile(0.99) * 1000:.1f} / {idle.quantile(0.99) * 1000:.1f} ms), "
            f"{attacked.errors} errors",
            ratio <= FLOOD_RATIO and attacked.errors == 0,
        )


def flood(port: int, rate: float, duration: float, done: Any) -> None:
    """The attacker of ``setup-flood`` (in a process of its own): ``rate`` setup pages a second,
    each for a new address, from one client address; the count in ``done``."""

    def one(n: int) -> None:
        query = urllib.parse.urlencode({"email": f"nobody-{n}@{DOMAIN}"})
        servers.ask(
            port,
            "GET",
            f"/aide/configurer?{query}",
            [("Host", f"autoconfig.{DOMAIN}"), ("X-Forwarded-For", ATTACKER)],
            timeout=ANSWER_TIMEOUT,
        )

    with paced(one, rate) as counts:
        time.sleep(duration)
    done.value = counts[0]


def cpu_seconds(server: servers.Server) -> float:
    """User and system CPU time used so far by the server's processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in server.processes():
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def deployed(work: Path, stack: ExitStack) -> tuple[list[servers.Server], int, servers.Tls]:
    apps = [serve(work, f"instance-{n}", stack, "--trusted-proxy", servers.HOST) for n in range(2)]
    port, tls = servers.start_deployed(work, [app.port for app in apps], stack)
    return apps, port, tls


def under_attack(
    args: argparse.Namespace,
    found: Found,
    scenario: str,
    port: int,
    tls: servers.Tls,
    attack: Callable[[], AbstractContextManager[object]],
) -> None:
    others = other_clients(port, tls, forwarded=False)
    idle = poll(others, args.pollers, args.poll_interval, args.duration)
    found.phase(scenario, "idle", idle)
    with attack() as held:
        if scenario == "hung-instance":
            first = poll(others, args.pollers, args.poll_interval, HEALTH_OUT)
            found.phase(scenario, f"first {HEALTH_OUT} s", first)
        else:
            time.sleep(1.5)
        attacked = poll(others, args.pollers, args.poll_interval, args.duration)
        if isinstance(held, SlowStreams):
            found.note(
                f"{scenario}: {held.open_streams} of {held.opened} streams still open at the end"
            )
        elif isinstance(held, list):
            found.note(f"{scenario}: {held[0]} connections opened in all")
    found.phase(scenario, "attack", attacked)
    after = f" (after the first {HEALTH_OUT} s)" if scenario == "hung-instance" else ""
    found.target(
        f"{scenario}: every request of the others{after} < {NORMAL_S:.0f} s, no error",
        f"{attacked.worst * 1000:.0f} ms, {attacked.errors} errors",
        attacked.worst < NORMAL_S and attacked.errors == 0,
    )


def caddy_scenarios(args: argparse.Namespace, work: Path, found: Found, which: list[str]) -> None:
    with ExitStack() as stack:
        apps, port, tls = deployed(work, stack)
        name, ca = tls
        poll(other_clients(port, tls, forwarded=False), args.pollers, args.poll_interval, WARM_UP)
        for scenario in which:
            print(f"{scenario}:", flush=True)
            if scenario == "slow-streams":
                under_attack(
                    args,
                    found,
                    scenario,
                    port,
                    tls,
                    lambda: SlowStreams(
                        port, name, "/autodiscover/autodiscover.xml", ca, streams=args.streams
                    ),
                )
            elif scenario == "slow-connections":
                under_attack(
                    args,
                    found,
                    scenario,
                    port,
                    tls,
                    lambda: slow_connections(port, tls, args.connections),
                )
            elif scenario == "hung-instance":
                # The supervisor's workers are what answer: stop the whole process group.
                under_attack(args, found, scenario, port, tls, lambda: hung_group(apps[0]))
            time.sleep(3)  # Caddy's health checks see both instances again


@contextmanager
def hung_group(app: servers.Server) -> Iterator[None]:
    pids = app.processes()
    for pid in pids:
        signal_pid(pid, signal.SIGSTOP)
    try:
        yield None
    finally:
        for pid in pids:
            signal_pid(pid, signal.SIGCONT)


def signal_pid(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def run(args: argparse.Namespace, work: Path) -> report.Report:
    which = [n for n in SCENARIO_NAMES if not args.only or n in args.only.split(",")]
    found = Found()
    if "setup-flood" in which:
        print("setup-flood:", flush=True)
        setup_flood(args, work, found)
    behind_caddy = [n for n in which if n != "setup-flood"]
    if behind_caddy:
        caddy_scenarios(args, work, found, behind_caddy)
    lines = [
        f"Other clients: {args.pollers} threads, one request each every {args.poll_interval} s "
        f"(autoconfig, Autodiscover POST, setup page in turn), a new connection each; "
        f"{args.duration:.0f} s idle, then {args.duration:.0f} s during each attack. "
        "Latencies in ms; an error is a non-2xx answer or none within 5 s.",
        "",
        *report.table(["scenario", "phase", "requests", "errors", "p50", "p99", "max"], found.rows),
        "",
        *report.table(["target", "now", "verdict"], found.targets),
    ]
    if found.notes:
        lines += ["", *(f"- {note}" for note in found.notes)]
    return report.Report(lines)
