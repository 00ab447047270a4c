"""``bench/run mobileconfig``: GET /mobileconfig, unsigned against signed profiles, in the same run.

Starts two ``autoconfig serve`` (one worker each by default): one without a signing certificate,
one with a throwaway certificate (RSA 2048, or P-256 with ``--key ec``) issued by a throwaway root
and intermediate, which its served profiles are checked against (``openssl cms -verify``) before
anything is timed. Three figures, the unsigned and signed runs alternated (``--rounds``, medians):

* unsigned: profiles for a few people of the directory (``--addresses``), in turn;
* signed: the same requests, signed (the signature cache answers after the first one);
* signed-new: an address never asked before on every request: every profile signed anew.

Reports the medians and their ratios to the unsigned figure. Target: at least 1,000 signed
profiles per second, no failed request.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
from contextlib import ExitStack
from pathlib import Path

import report
import servers
import staff
import wrk
from scenarios import OURS, Scenario, by_name

from tests import pki

HELP = "Apple profiles: unsigned against signed, and signed anew on every request"
QUICK = {"duration": 2, "rounds": 1}
PROFILE = by_name("mobileconfig-signed")
NEW = Scenario("signed-new", OURS, "GET", "/mobileconfig?email=new{i}%40" + staff.DOMAIN)
"""Addresses outside the directory, each asked once: each answer is rendered and signed anew."""
NEW_ROWS = 1_000_000_000
TARGET_SIGNED_RPS = 1000.0


def add_options(p: argparse.ArgumentParser) -> None:
    wrk.add_options(p, seconds=10, connections=32)
    p.add_argument("--workers", type=int, default=1, help="autoconfig serve workers (1)")
    p.add_argument("--rounds", type=int, default=3, help="alternated measurements each (3)")
    p.add_argument("--addresses", type=int, default=5, help="people asked in turn (5)")
    p.add_argument("--key", choices=["rsa", "ec"], default="rsa", help="signing key type (rsa)")


def run(args: argparse.Namespace, work: Path) -> report.Report:
    directory = work / "staff.csv"
    staff.write_csv(directory, args.addresses)
    signing, ca = servers.signing(work, args.key)
    options = [
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--directory",
        str(directory),
    ]
    traffic = wrk.traffic(args, args.addresses)
    with ExitStack() as stack:
        plain = servers.ours("ours-unsigned", work, options)
        stack.callback(plain.stop)
        signed = servers.ours("ours-signed", work, [*options, *signing])
        stack.callback(signed.stop)
        for server in (plain, signed):
            server.wait_answer("/healthz", limit=60)
        answer = servers.ask(signed.port, "GET", PROFILE.for_row(0)[0])
        pki.verify(answer.body, ca.root_file)  # the server really signs, with the chain
        timed = wrk.interleave(
            args.rounds,
            {
                "unsigned": functools.partial(wrk.run, PROFILE, plain.url, work, traffic),
                "signed": functools.partial(wrk.run, PROFILE, signed.url, work, traffic),
            },
        )
        new = dataclasses.replace(traffic, rows=NEW_ROWS)
        timed |= wrk.interleave(
            1, {NEW.name: functools.partial(wrk.run, NEW, signed.url, work, new)}
        )
    medians = {name: statistics.median(r.rps for r in results) for name, results in timed.items()}
    errors = sum(r.errors for results in timed.values() for r in results)
    wrong = sum(r.logins.wrong for results in timed.values() for r in results)
    base = medians["unsigned"]
    rows = [
        [
            name,
            f"{rate:,.0f}",
            f"{rate / base:.2f}",
            str(sum(r.errors for r in timed[name])),
            sum((r.logins for r in timed[name]), wrk.Logins()).cell(),
        ]
        for name, rate in medians.items()
    ]
    lines = [
        f"GET /mobileconfig, {args.duration:g} s each, wrk -t{args.threads} -c{args.connections}, "
        f"{args.workers} worker(s), {args.key.upper()} signing key; median of {args.rounds} "
        "alternated runs (signed-new: one run).",
        "",
        *report.table(
            ["profiles", "req/s", "ratio to unsigned", "failed requests", "wrong logins"], rows
        ),
        "",
        *report.target(
            "signed profiles ≥ 1,000/s, no failed request, no wrong login",
            f"{medians['signed']:,.0f}/s, {errors} failed, {wrong} wrong",
            medians["signed"] >= TARGET_SIGNED_RPS and not errors and not wrong,
        ),
    ]
    return report.Report(lines)
