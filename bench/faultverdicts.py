"""The verdicts of the fault scenarios against issue 8's expectations, their per-second timelines,
and the report of ``bench/run faults``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

import report
from wrk import Load

if TYPE_CHECKING:
    from faults import Outcome

GOOD = {"login", "fallback", "A", "B"}
"""Poller classes that are right answers (which of them is expected depends on the moment)."""


def full_seconds(o: Outcome) -> range:
    """The epoch seconds wholly inside the run (the first and last are partial)."""
    start = int(o.load.started)
    return range(start + 1, int(o.load.started + o.duration))


def bad_samples(o: Outcome) -> list[str]:
    return [s.outcome for s in o.samples if s.outcome not in GOOD]


def statuses(load: Load) -> str:
    return ", ".join(f"{n:,}× {code}" for code, n in load.non_2xx.items()) or "0"


def judge_ldap(o: Outcome, baseline: Load, base_share: float, budget_ms: int) -> None:
    r = o.load.result
    five = sum(n for code, n in o.load.non_2xx.items() if code >= 500)
    limit = budget_ms + baseline.result.p99_ms
    (down_at, _), (up_at, _) = o.events[0], o.events[1]
    outage = [o.load.row(s) for s in full_seconds(o) if down_at <= s and s + 1 <= up_at]
    fallback_share = sum(x[4] for x in outage) / max(1, sum(x[0] for x in outage))
    threshold = 0.9 * base_share
    after = [s for s in full_seconds(o) if s >= up_at]
    recovered = None
    for s in after:
        if all(o.load.row(t)[3] >= threshold * max(1, o.load.row(t)[0]) for t in after if t >= s):
            recovered = s + 1 - up_at
            break
    wrong = bad_samples(o)
    o.ok = five == 0 and o.load.result.errors == 0 and r.p99_ms <= limit and fallback_share > 0
    o.ok = o.ok and recovered is not None and not wrong
    o.verdict = (
        f"{five} 5xx, {o.load.result.errors} failed requests; p99 {r.p99_ms:.0f} ms "
        f"{'≤' if r.p99_ms <= limit else '>'} {budget_ms} ms budget + {baseline.result.p99_ms:.0f} ms "
        f"normal p99; {100 * fallback_share:.0f} % of the answers during the outage carry the "
        "fallback; "
        + (
            f"logins again (≥ {100 * threshold:.0f} % of answers each second) within "
            f"{recovered:.1f} s of the restart"
            if recovered is not None
            else "logins did NOT come back before the end of the run"
        )
        + f"; {len(o.samples)} answers checked by the poller, {len(wrong)} wrong or failed"
    )


def judge_reload(o: Outcome) -> None:
    wrong = bad_samples(o)
    switched = []
    times = [at for at, _ in o.events] + [o.load.started + o.duration]
    for k, (at, label) in enumerate(o.events):
        new = "B" if "(B)" in label else "A"
        old = "A" if new == "B" else "B"
        window = [s for s in o.samples if at <= s.at < times[k + 1]]
        first_new = next((s.at - at for s in window if s.outcome == new), None)
        last_old = max((s.at - at for s in window if s.outcome == old), default=None)
        switched.append(first_new is not None)
        o.notes.append(
            f"reload {k + 1} (→ {new}): "
            + (
                f"first {new} answer {first_new:.2f} s after SIGHUP"
                if first_new is not None
                else f"NO {new} answer seen"
            )
            + (
                f", last {old} answer {last_old:.2f} s after"
                if last_old is not None
                else f", no {old} answer after it"
            )
        )
    o.ok = o.load.result.errors == 0 and all(switched) and not wrong
    o.verdict = (
        f"{o.load.result.errors} failed requests of {o.load.result.requests:,} "
        f"(non-2xx {statuses(o.load)}, socket errors {o.load.result.socket_errors}); "
        f"{sum(switched)} of {len(switched)} reloads changed the answers; "
        f"{len(o.samples)} answers checked by the poller, {len(wrong)} wrong or failed"
    )


def served(o: Outcome) -> dict[int, list[str]]:
    """Per epoch second, what each instance answered (from its counters), or "down"."""
    out: dict[int, list[str]] = {}
    for (_, before), (at, now) in zip(o.instances, o.instances[1:], strict=False):
        cells = []
        for b, n in zip(before, now, strict=True):
            if n is None:
                cells.append("down")
            else:
                cells.append(f"{n - (b or 0):,.0f}")
        out[int(at) - 1] = cells
    return out


def judge_kill(o: Outcome, in_flight_bound: int) -> None:
    (kill_at, _), (restart_at, _) = o.events[0], o.events[1]
    failed = o.load.result.errors
    error_seconds = [
        s - int(o.load.started)
        for s in sorted(o.load.seconds)
        if sum(o.load.row(s)[1:3]) and s not in (int(kill_at), int(kill_at) + 1)
    ]
    back = next(
        (
            at - restart_at
            for (_, earlier), (at, later) in zip(o.instances, o.instances[1:], strict=False)
            if at > restart_at
            and earlier[1] is not None
            and later[1] is not None
            and later[1] > earlier[1]
        ),
        None,
    )
    wrong = bad_samples(o)
    o.ok = failed <= in_flight_bound and not error_seconds and back is not None and len(wrong) <= 1
    o.verdict = (
        f"{failed} failed of {o.load.result.requests:,} requests (non-2xx {statuses(o.load)}, "
        f"socket errors {o.load.result.socket_errors}; at most {in_flight_bound} can be in flight "
        "to one instance)"
        + (
            f", errors outside the second of the kill: at {error_seconds} s"
            if error_seconds
            else ", none outside the second of the kill"
        )
        + "; "
        + (
            f"the restarted instance answered again within {back:.1f} s of being up "
            f"({restart_at + back - kill_at:.0f} s after the kill)"
            if back is not None
            else "the restarted instance took NO traffic before the end"
        )
        + f"; {len(o.samples)} answers checked by the poller (https), {len(wrong)} wrong or failed"
    )


def timeline(o: Outcome) -> list[str]:
    start = int(o.load.started)
    events: dict[int, list[str]] = {}
    for at, label in o.events:
        events.setdefault(int(at), []).append(f"← {at - o.load.started:.1f} s {label}")
    polled: dict[int, list[int]] = {}
    for s in o.samples:
        polled.setdefault(int(s.at), [0, 0])[0 if s.outcome in GOOD else 1] += 1
    per_instance = served(o)
    header = ["s", "2xx", "4xx", "5xx", *o.marker_names, "poller ok/bad"]
    if o.instances:
        header += [f"instance {n + 1}" for n in range(len(o.instances[0][1]))]
    rows = []
    for sec in range(start, int(o.load.started + o.duration) + 1):
        row = o.load.row(sec)
        p = polled.get(sec, [0, 0])
        cells = [str(sec - start), *(f"{v:,}" for v in row), f"{p[0]}/{p[1]}"]
        if o.instances:
            cells += per_instance.get(sec, ["?"] * len(o.instances[0][1]))
        rows.append([*cells, " ".join(events.get(sec, []))])
    return report.table([*header, "event"], rows)


def show(o: Outcome) -> None:
    print(f"  {o.name}: {o.load.result.summary()}; non-2xx by status: {statuses(o.load)}")
    print("\n".join(timeline(o)))
    for note in o.notes:
        print(f"  {note}")
    print(f"VERDICT {o.name}: {report.verdict(o.ok)} — {o.verdict}", flush=True)


def section(args: argparse.Namespace, outcomes: Sequence[Outcome]) -> list[str]:
    lines = [
        f"Load: wrk, {args.connections} connections, {args.threads} threads, "
        f"{args.timeout:g} s timeout, Thunderbird GETs with a directory hit (addresses "
        "rotating), a poller checking about 20 answers a second alongside. LDAP: slapd with "
        f"{args.people:,} people, `serve --workers {args.workers} --directory ldap://… "
        f"--directory-timeout {args.directory_timeout} --directory-cache-ttl {args.cache_ttl} "
        f"--directory-miss-ttl {args.miss_ttl}`; reload: `--workers {args.workers}`, "
        f"{args.rows:,}-row CSV directory, {args.reloads} SIGHUPs; kill: Caddy (the project's "
        f"Caddyfile, `tls internal`, https) in front of two instances of {args.instance_workers} "
        "worker(s).",
        "",
    ]
    rows = [
        [
            o.name,
            f"{o.duration:g}",
            f"{o.load.result.requests:,}",
            f"{o.load.result.rps:,.0f}",
            f"{o.load.result.p50_ms:.1f}",
            f"{o.load.result.p99_ms:.1f}",
            statuses(o.load),
            str(o.load.result.socket_errors),
            report.verdict(o.ok),
        ]
        for o in outcomes
    ]
    header = [
        "scenario",
        "seconds",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "socket errors",
    ]
    lines += report.table([*header, "verdict"], rows)
    for o in outcomes:
        lines += [
            "",
            f"**{o.name}** ({o.expectation}): **{report.verdict(o.ok)}** — {o.verdict}.",
        ]
        lines += [f"{note}." for note in o.notes]
        lines += ["", "```", *timeline(o), "```"]
    return lines
