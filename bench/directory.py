"""``bench/run directory``: Thunderbird answers with the LDAP directory (warm cache) against the
CSV table, in the same run.

Builds a directory of fictional people (100,000 by default), seeds a real slapd with the same
people (slapadd), then starts ``autoconfig serve`` twice side by side: with the CSV file and with
the LDAP URL. It warms both (every address wrk will ask for is asked once and its login checked),
then times Thunderbird GETs over those addresses with wrk, alternating between the two servers for
a few rounds so both see the same machine load. Reports every round, the median of each and their
ratio. Target: LDAP with a warm cache within 20 % of the CSV table (LDAP / CSV ≥ 0.80), no failed
request. The per-client limit is off (every request comes from one address).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from contextlib import ExitStack
from pathlib import Path

import report
import servers
import staff
import wrk
from scenarios import by_name

from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd

HELP = "the LDAP directory (warm cache) against the CSV table, Thunderbird GETs"
QUICK = {"rows": 10_000, "addresses": 500, "duration": 2, "rounds": 2}
HIT = by_name("thunderbird-hit")
TARGET_RATIO = 0.8
WARM_TRIES = 20


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=100_000, help="people in the directory (100000)")
    p.add_argument("--addresses", type=int, default=2_000, help="distinct addresses asked (2000)")
    wrk.add_options(p, seconds=5, connections=32)
    p.add_argument("--rounds", type=int, default=7, help="alternating wrk runs per backend (7)")


def warm(label: str, server: servers.Server, rows: range) -> None:
    """Ask every address once and check its login is in the answer. A lookup that misses its
    budget on a busy machine gets the fallback but still fills the cache: ask again."""
    start = time.perf_counter()
    for row in rows:
        path, _, expected = HIT.for_row(row)
        for _ in range(WARM_TRIES):
            if expected.encode() in servers.ask(server.port, "GET", path, timeout=10).body:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{label}: the answer for row {row} never carried its login")
    print(f"{label}: warm-up of {len(rows):,} addresses in {time.perf_counter() - start:.1f} s")


def run(args: argparse.Namespace, work: Path) -> report.Report:
    stride = max(1, args.rows // args.addresses)
    sample = range(0, args.rows, stride)[: args.addresses]
    csv_path = work / "staff.csv"
    staff.write_csv(csv_path, args.rows)
    start = time.perf_counter()
    slapd = Slapd(work / "slapd", staff.people(args.rows), loglevel="0")
    print(f"slapd seeded with {args.rows:,} entries in {time.perf_counter() - start:.1f} s")
    options = ["--directory-rate-limit", "0", "--log-level", "warning"]
    ldap_env = {"AUTOCONFIG_LDAP_BIND_DN": BIND_DN, "AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD}
    traffic = wrk.traffic(args, len(sample), stride)
    with ExitStack() as stack:
        slapd.start()
        stack.callback(slapd.stop)
        directories = {
            "CSV": (str(csv_path), None),
            "LDAP": (slapd.url + "?uid,displayName", ldap_env),
        }
        backends = {}
        for label, (directory, env) in directories.items():
            server = servers.ours(
                f"ours-{label.lower()}", work, ["--directory", directory, *options], env
            )
            stack.callback(server.stop)
            backends[label] = server
        for label, server in backends.items():
            server.wait_answer("/healthz", limit=60)
            warm(label, server, sample)
        timed = wrk.interleave(
            args.rounds,
            {
                label: functools.partial(wrk.run, HIT, server.url, work, traffic)
                for label, server in backends.items()
            },
        )
    medians = {label: statistics.median(r.rps for r in results) for label, results in timed.items()}
    errors = {label: sum(r.errors for r in results) for label, results in timed.items()}
    wrong = {label: sum(r.logins.wrong for r in results) for label, results in timed.items()}
    ratio = medians["LDAP"] / medians["CSV"]
    rows = [
        [
            label,
            f"{medians[label]:,.0f}",
            ", ".join(f"{r.rps:,.0f}" for r in results),
            str(errors[label]),
            f"{wrong[label]:,} ({results[0].logins.how})",
        ]
        for label, results in timed.items()
    ]
    lines = [
        f"{args.rows:,} people; wrk over {len(sample):,} addresses (rows 0, {stride}, "
        f"{2 * stride} …, each asked once before: a warm cache), {args.connections} connections, {args.threads} "
        f"threads, {args.duration:g} s per run, {args.rounds} alternating rounds. LDAP: slapd, "
        "`serve --directory ldap://…?uid,displayName`; both with `--directory-rate-limit 0`.",
        "",
        *report.table(
            ["directory", "median req/s", "rounds req/s", "failed requests", "wrong logins"], rows
        ),
        "",
        *report.target(
            "LDAP (warm cache) / CSV ≥ 0.80, no failed request, no wrong login",
            f"{ratio:.2f}, {sum(errors.values())} failed, {sum(wrong.values())} wrong",
            ratio >= TARGET_RATIO and not any(errors.values()) and not any(wrong.values()),
        ),
    ]
    return report.Report(lines)
