"""wrk, the load of every benchmark: one Lua script per run, its figures read back.

The script sends a scenario's method, headers and body (:mod:`scenarios`). When the path or the
body holds ``{i}``, each request names another person of the generated directory: row
``k × stride`` for ``k`` rotating through ``Traffic.rows``, each wrk thread starting at its own
share of them, so that no answer is the same one cached. ``done`` prints one machine-readable line
of totals. With *markers* (the fault scenarios), ``response`` also counts, per wall-clock second,
the answers by status (2xx, other below 500, 5xx) and the 2xx bodies holding each marker (e.g. the
person's login, or the fallback); that costs wrk time, so the other benchmarks go without.

**Logins.** When the scenario has a :class:`~scenarios.LoginCheck`, ``response`` reads the login of
every 2xx answer and sorts it: *right*, the *fallback*, someone *other*'s, or *malformed* (no login
of the directory, or IMAP and SMTP disagreeing); every request asks for a person of the directory,
so all but *right* are wrong logins. Whose login is right: wrk calls ``response`` without saying
which request it answers, and a thread's connections answer in any order, so with several
connections per thread only the body can tell (:attr:`~scenarios.LoginCheck.named_by`): the address
in an Apple profile (exact), the display name of the same entry in Autodiscover, nothing in a
Thunderbird answer (the fallback, and a login of no row the run asks, are still caught). With **one
connection per thread** (``--connections`` = ``--threads``) each thread sends a request only once
the previous one is answered, so the script knows the person of every answer: ``request``, exact.

**Plans** (:class:`Plan`, ``bench/run limits``): one connection per thread, so exact; each thread
sends one kind of request (``Plan.kinds``, e.g. the 7 requests of a Thunderbird setup), its group
of threads sharing the people; ``response`` moves on to the next person, so a request lost with its
connection is asked again. A bounded plan asks each person once per kind and then stops (each
thread leaves a file when it is done and wrk is interrupted once all are), with at most
``Plan.interval_ms`` between two requests of a thread; the right answers per person are counted.

wrk counts an answer with a status of 400 or more as a "status" error; connect, read, write errors
and timeouts are socket errors, which it gives as totals only. For https to a name that does not
resolve (``loopback``), the script resolves every name to 127.0.0.1: the URL keeps the name, so the
Host header and the TLS SNI carry it (wrk does not check certificates).
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scenarios import Scenario
from staff import LOGIN_ROW

from tests.tools import require

RESULT = "WRK-RESULT"
SECOND = "WRK-SECOND"
STATUS = "WRK-STATUS"
LOGINS = "WRK-LOGINS"
RIGHT = "WRK-RIGHT"
VERDICTS = ("right", "fallback", "other", "malformed")
STOP_POLL_S = 0.005
COLUMNS = 3
"""Per second: 2xx, other non-2xx below 500, 5xx; then one column per marker."""

RESOLVE = """
function wrk.resolve(host, service)
  wrk.addrs = wrk.lookup("127.0.0.1", service)
end
"""

THREADS = """
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end
"""

BUILD = """
local function build(t, row)
  local n = tostring(row)
  local body = nil
  if #t.body > 1 then body = table.concat(t.body, n) end
  if #t.body == 1 and t.body[1] ~= "" then body = t.body[1] end
  return wrk.format(t.method, table.concat(t.path, n), t.headers, body)
end
"""

ROTATE = """
function request()
  k = (k + 1) % people
  asked = first + k * stride
  return build(template, asked)
end
"""

PLAN = """
local function person()
  local p = member + j * group
  if bounded then return p end
  return p % people
end
function request()
  current = person()
  asked = first + current * stride
  return build(template, asked)
end
local function finished()
  local marker = io.open(marker_prefix .. tostring(thread_id or 0), "w")
  if marker then marker:close() end
  wrk.thread:stop()
end
"""

DELAY = """
function delay()
  if j == 0 then return 0 end
  return interval
end
"""

JUDGE = """
local function judged(t, body)
  local login, seen = nil, false
  for found in string.gmatch(body, t.login) do
    if seen and found ~= login then return "malformed" end
    login, seen = found, true
  end
  if not seen then
    if t.fallback == "" then return "fallback" end
    return "malformed"
  end
  if login == t.fallback then return "fallback" end
  local row = tonumber(string.match(login, login_row) or "")
  if not row then return "malformed" end
  if t.person ~= "" then
    local named = tonumber(string.match(body, t.person) or "")
    if named and named ~= row then return "other" end
  end
  if paired then
    if row == asked then return "right" end
    return "other"
  end
  local p = (row - first) / stride
  if p >= 0 and p < people and p == math.floor(p) then return "right" end
  return "other"
end
"""

COUNT = f"""
local function bump(key)
  timeline[key] = (timeline[key] or 0) + 1
end
function response(status, headers, body)
  local base = os.time() * width
  statuses[status] = (statuses[status] or 0) + 1
  if status < 300 then
    bump(base)
    for j, marker in ipairs(markers) do
      if string.find(body, marker, 1, true) then bump(base + {COLUMNS - 1} + j) end
    end
  elseif status < 500 then
    bump(base + 1)
  else
    bump(base + 2)
  end
end
"""

CHECK = """
function response(status, headers, body)
  if bounded and j >= quota then return end
  if status >= 200 and status < 300 and template.login then
    local verdict = judged(template, body)
    logins[verdict] = (logins[verdict] or 0) + 1
    if verdict == "right" and current then
      right_of[current] = (right_of[current] or 0) + 1
      first_right[current] = first_right[current] or os.time()
    end
  end
  if planned then
    j = j + 1
    if bounded and j >= quota then finished() end
  end
end
"""

TOTALS = f"""
  local e = summary.errors
  io.write(string.format("{RESULT} %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
"""

COUNTS = f"""
  local total, codes = {{}}, {{}}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("timeline") or {{}}) do total[key] = (total[key] or 0) + n end
    for code, n in pairs(thread:get("statuses") or {{}}) do codes[code] = (codes[code] or 0) + n end
  end
  for key, n in pairs(total) do io.write(string.format("{SECOND} %d %d\\n", key, n)) end
  for code, n in pairs(codes) do io.write(string.format("{STATUS} %d %d\\n", code, n)) end
"""

CHECKED = f"""
  local merged, first = {{}}, {{}}
  for _, thread in ipairs(threads) do
    local kind = thread:get("kind") or 0
    for verdict, n in pairs(thread:get("logins") or {{}}) do
      io.write(string.format("{LOGINS} %d %s %d\\n", kind, verdict, n))
    end
    for p, n in pairs(thread:get("right_of") or {{}}) do merged[p] = (merged[p] or 0) + n end
    for p, at in pairs(thread:get("first_right") or {{}}) do
      if not first[p] or at < first[p] then first[p] = at end
    end
  end
  for p, n in pairs(merged) do io.write(string.format("{RIGHT} %d %d %d\\n", p, n, first[p])) end
"""


@dataclass(frozen=True)
class Traffic:
    """How wrk asks: connections, duration, threads, its timeout, and how many directory rows
    (every ``stride``-th one) the requests rotate through."""

    connections: int
    seconds: float
    threads: int = 2
    timeout_s: float = 5.0
    rows: int = 1
    stride: int = 1

    @property
    def paired(self) -> bool:
        """One connection per thread: each answer is known to be that of the thread's last
        request (wrk gives each thread ``connections // threads`` connections)."""
        return self.connections // self.threads == 1


@dataclass(frozen=True)
class Plan:
    """A run in which each wrk thread (one connection each) sends one kind of request: thread
    ``t`` sends ``kinds[t % len(kinds)]``, for people ``m``, ``m + g``, ``m + 2g`` … of the
    ``Traffic.rows`` people (row ``first + p × stride``), ``m`` its place among the ``g`` threads
    of its kind. Bounded: each person once per kind, then the thread stops (wrk is interrupted
    once every thread is done; ``Traffic.seconds`` is only the bound). Unbounded: round and round
    until ``Traffic.seconds`` are over. At most ``interval_ms`` between two requests of a thread."""

    kinds: tuple[Scenario, ...]
    first: int = 0
    bounded: bool = True
    interval_ms: int = 0


def add_options(p: argparse.ArgumentParser, *, seconds: float, connections: int) -> None:
    """The options of wrk every subcommand has, with its own defaults for the first two."""
    p.add_argument("--duration", type=float, default=seconds, help=f"seconds per run ({seconds:g})")
    p.add_argument(
        "--connections", type=int, default=connections, help=f"wrk connections ({connections})"
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--timeout", type=float, default=5, help="wrk timeout in seconds (5)")


def traffic(args: argparse.Namespace, rows: int = 1, stride: int = 1) -> Traffic:
    """The :class:`Traffic` of those options."""
    return Traffic(args.connections, args.duration, args.threads, args.timeout, rows, stride)


@dataclass(frozen=True)
class Logins:
    """The 2xx answers of a run by their login (``VERDICTS``), and how it was checked: ``how`` is
    ``request`` (against the person asked: one connection per thread), else the scenario's
    :attr:`~scenarios.LoginCheck.named_by`; empty when the logins were not checked."""

    right: int = 0
    fallback: int = 0
    other: int = 0
    malformed: int = 0
    how: str = ""

    @property
    def wrong(self) -> int:
        return self.fallback + self.other + self.malformed

    def __add__(self, more: Logins) -> Logins:
        return Logins(
            self.right + more.right,
            self.fallback + more.fallback,
            self.other + more.other,
            self.malformed + more.malformed,
            self.how or more.how,
        )

    def cell(self) -> str:
        """The figure for a table: wrong logins, and how they were checked."""
        return f"{self.wrong:,} ({self.how})" if self.how else "-"

    def detail(self) -> str:
        return (
            f"{self.right:,} right, {self.fallback:,} fallback, {self.other:,} someone else's, "
            f"{self.malformed:,} malformed"
        )


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    connect: int
    read: int
    write: int
    status: int
    timeout: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    logins: Logins = Logins()

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def socket_errors(self) -> int:
        return self.connect + self.read + self.write + self.timeout

    @property
    def errors(self) -> int:
        return self.status + self.socket_errors

    def summary(self) -> str:
        wrong = f", wrong logins {self.logins.cell()}" if self.logins.how else ""
        return (
            f"{self.rps:,.0f} req/s ({self.requests:,} requests), p50 {self.p50_ms:.2f} ms, "
            f"p99 {self.p99_ms:.2f} ms, max {self.max_ms:.0f} ms, non-2xx {self.status}, "
            f"socket errors {self.socket_errors} (connect {self.connect}, read {self.read}, "
            f"write {self.write}, timeout {self.timeout}){wrong}"
        )

    def cells(self) -> list[str]:
        """req/s, p50, p99, non-2xx, socket errors and wrong logins, for a table."""
        return [
            f"{self.rps:,.0f}",
            f"{self.p50_ms:.2f}",
            f"{self.p99_ms:.2f}",
            str(self.status),
            str(self.socket_errors),
            self.logins.cell(),
        ]


CELLS = ["req/s", "p50 ms", "p99 ms", "non-2xx", "socket errors", "wrong logins"]
"""The headers of :meth:`Result.cells`."""


@dataclass
class Load:
    """A finished wrk run: totals, and with markers, per second (epoch second → counts)."""

    result: Result
    started: float
    markers: tuple[str, ...]
    seconds: dict[int, list[int]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    """Answers by HTTP status (with markers only)."""
    kinds: dict[int, Logins] = field(default_factory=dict)
    """The logins by kind of request (the index in ``Plan.kinds``; 0 without a plan)."""
    right: dict[int, int] = field(default_factory=dict)
    """Right answers by person (with a plan): its index among ``Traffic.rows``."""
    first_right: dict[int, int] = field(default_factory=dict)
    """The wall-clock second (epoch) of each person's first right answer (with a plan)."""

    @property
    def non_2xx(self) -> dict[int, int]:
        return {code: n for code, n in sorted(self.statuses.items()) if not 200 <= code < 300}

    def row(self, second: int) -> list[int]:
        return self.seconds.get(second, [0] * (COLUMNS + len(self.markers)))


def lua_string(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\' or byte < 32 or byte > 126:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def lua_table(items: Sequence[str]) -> str:
    return "{" + ", ".join(lua_string(item) for item in items) + "}"


def lua_template(scenario: Scenario, logins: bool) -> str:
    """A scenario as the script's table: request parts, and where its answers carry the login."""
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in scenario.headers)
    fields = [
        f"method = {lua_string(scenario.method)}",
        f"path = {lua_table(scenario.path.split('{i}'))}",
        f"body = {lua_table(scenario.body.split('{i}'))}",
        f"headers = {{{headers}}}",
    ]
    check = scenario.login
    if logins and check is not None:
        fields += [
            f"login = {lua_string(check.pattern)}",
            f"fallback = {lua_string(check.fallback)}",
            f"person = {lua_string(check.person)}",
        ]
    return "{" + ", ".join(fields) + "}"


def how_checked(kinds: Sequence[Scenario], traffic: Traffic) -> str:
    """How the logins of these requests are checked (:class:`Logins`), empty when they are not."""
    checks = [s.login for s in kinds if s.login is not None]
    if not checks:
        return ""
    if traffic.paired:
        return "request"
    return "/".join(sorted({c.named_by for c in checks}))


def lua_script(
    scenario: Scenario,
    traffic: Traffic,
    markers: Sequence[str] = (),
    loopback: bool = False,
    *,
    plan: Plan | None = None,
    logins: bool = True,
    marker_prefix: str = "",
) -> str:
    path, body, _ = scenario.for_row(0)
    lines = [
        RESOLVE if loopback else "",
        THREADS,
        f"wrk.method = {lua_string(scenario.method)}",
        f"wrk.path = {lua_string(path)}",
        f"wrk.body = {lua_string(body)}" if scenario.body else "",
    ]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in scenario.headers]
    init = []
    kinds = plan.kinds if plan is not None else (scenario,)
    dynamic = plan is not None or "{i}" in scenario.path or "{i}" in scenario.body
    checked = dynamic and logins and bool(how_checked(kinds, traffic))
    if dynamic:
        lines += [
            f"templates = {{{', '.join(lua_template(s, checked) for s in kinds)}}}",
            f"people, first, stride = {traffic.rows}, {plan.first if plan else 0}, "
            f"{traffic.stride}",
            f"paired, login_row = {str(traffic.paired).lower()}, {lua_string(LOGIN_ROW)}",
            BUILD,
        ]
        init += [
            "  local t = thread_id or 0",
            "  kind = t % #templates",
            "  template = templates[kind + 1]",
            "  logins, right_of, first_right = {}, {}, {}",
        ]
    if plan is not None:
        group = traffic.threads // len(plan.kinds)
        lines += [
            f"planned, bounded, group = true, {str(plan.bounded).lower()}, {group}",
            f"marker_prefix = {lua_string(marker_prefix)}",
            PLAN,
        ]
        if plan.interval_ms > 0:
            lines += [f"interval = {plan.interval_ms}", DELAY]
        init += [
            "  member, j = math.floor(t / #templates), 0",
            "  quota = math.floor((people - 1 - member) / group) + 1",
        ]
    elif dynamic:
        spacing = max(1, traffic.rows // traffic.threads)
        lines += ["planned, bounded = false, false", ROTATE]
        init.append(f"  k = (t * {spacing}) % people")
    if markers:
        lines += [f"markers = {lua_table(markers)}", f"width = {COLUMNS + len(markers)}", COUNT]
        init.append("  timeline, statuses = {}, {}")
    elif checked or plan is not None:
        lines += [JUDGE, CHECK]
    if init:
        lines += ["function init(args)", *init, "end"]
    totals = [TOTALS, COUNTS if markers else "", CHECKED if checked or plan else ""]
    lines += ["function done(summary, latency, requests)", *totals, "end"]
    return "\n".join(line.strip("\n") for line in lines if line) + "\n"


def parse_result(output: str) -> Result:
    for line in output.splitlines():
        if line.startswith(RESULT):
            v = [float(x) for x in line.split()[1:]]
            return Result(
                requests=int(v[0]),
                seconds=v[1] / 1e6,
                connect=int(v[2]),
                read=int(v[3]),
                write=int(v[4]),
                status=int(v[5]),
                timeout=int(v[6]),
                p50_ms=v[7] / 1000,
                p99_ms=v[8] / 1000,
                max_ms=v[9] / 1000,
            )
    raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")


def parse_logins(output: str, how: str) -> tuple[dict[int, Logins], dict[int, int], dict[int, int]]:
    """The logins by kind of request, the right answers by person and the second of the first."""
    counts: dict[int, dict[str, int]] = {}
    right: dict[int, int] = {}
    first: dict[int, int] = {}
    for line in output.splitlines():
        if line.startswith(LOGINS):
            _, kind, verdict, count = line.split()
            if verdict in VERDICTS:
                by = counts.setdefault(int(kind), {})
                by[verdict] = by.get(verdict, 0) + int(count)
        elif line.startswith(RIGHT):
            person, n, at = (int(x) for x in line.split()[1:])
            right[person] = n
            first[person] = at
    kinds = {kind: Logins(**by, how=how) for kind, by in counts.items()}
    return kinds, right, first


class Wrk:
    """wrk started in the background on ``url`` for ``traffic.seconds``; :meth:`finish` waits for
    it and reads it back. Its script and output are left in ``work`` as ``<name>.lua`` and
    ``<name>.wrk.txt``. ``logins``: check the login of every answer (when the scenario says how);
    the fault scenarios, which expect the fallback during an outage, count markers instead."""

    def __init__(
        self,
        scenario: Scenario,
        url: str,
        work: Path,
        traffic: Traffic,
        *,
        markers: Sequence[str] = (),
        loopback: bool = False,
        name: str = "",
        plan: Plan | None = None,
        logins: bool = True,
    ) -> None:
        name = name or scenario.name
        self.markers = tuple(markers)
        self.traffic = traffic
        self.plan = plan
        if plan is not None:
            group, rest = divmod(traffic.threads, len(plan.kinds))
            if not traffic.paired or rest or not 0 < group <= traffic.rows:
                raise ValueError(
                    f"a plan needs one connection per thread and the same number of threads "
                    f"(at most {traffic.rows}) for each of its {len(plan.kinds)} kinds"
                )
        kinds = plan.kinds if plan is not None else (scenario,)
        self.how = how_checked(kinds, traffic) if logins and not markers else ""
        self.done_marker = work / f"{name}.done."
        for stale in work.glob(f"{name}.done.*"):
            stale.unlink()
        script = work / f"{name}.lua"
        script.write_text(
            lua_script(
                scenario,
                traffic,
                markers,
                loopback,
                plan=plan,
                logins=bool(self.how),
                marker_prefix=str(self.done_marker),
            ),
            encoding="utf-8",
        )
        self.log = work / f"{name}.wrk.txt"
        cmd = [
            require("wrk"),
            f"-t{traffic.threads}",
            f"-c{traffic.connections}",
            f"-d{max(1, round(traffic.seconds))}s",
            f"--timeout={max(1, round(traffic.timeout_s))}s",
            "-s",
            str(script),
            url,
        ]
        self.started = time.time()
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait_plan(self, limit: float) -> None:
        """A bounded plan: interrupt wrk (it then reports) once every thread has left its file."""
        while time.time() < limit and self.process.poll() is None:
            done = len(list(self.done_marker.parent.glob(self.done_marker.name + "*")))
            # wrk installs its SIGINT handler once its threads are started
            if done >= self.traffic.threads and time.time() > self.started + 0.2:
                self.process.send_signal(signal.SIGINT)
                return
            time.sleep(STOP_POLL_S)

    def finish(self) -> Load:
        """Wait for the end of the run (bounded: wrk's duration, its timeout and 30 s)."""
        try:
            limit = self.traffic.seconds + self.traffic.timeout_s + 30
            if self.plan is not None and self.plan.bounded:
                self.wait_plan(self.started + self.traffic.seconds)
            out, err = self.process.communicate(timeout=limit)
        finally:
            self.stop()
        self.log.write_text(out + err, encoding="utf-8")
        if self.process.returncode != 0:
            raise RuntimeError(f"wrk failed ({self.process.returncode}): {err.strip()[-2000:]}")
        kinds, right, first = parse_logins(out, self.how)
        total = sum(kinds.values(), Logins(how=self.how))
        result = dataclasses.replace(parse_result(out), logins=total)
        load = Load(result, self.started, self.markers, kinds=kinds, right=right, first_right=first)
        width = COLUMNS + len(self.markers)
        for line in out.splitlines():
            if line.startswith(SECOND):
                key, count = (int(x) for x in line.split()[1:])
                second, column = divmod(key, width)
                load.seconds.setdefault(second, [0] * width)[column] += count
            elif line.startswith(STATUS):
                code, count = (int(x) for x in line.split()[1:])
                load.statuses[code] = load.statuses.get(code, 0) + count
        return load

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def run(scenario: Scenario, url: str, work: Path, traffic: Traffic) -> Result:
    """One wrk run in the foreground: its totals (with the logins checked)."""
    return Wrk(scenario, url, work, traffic).finish().result


def interleave(rounds: int, runs: Mapping[str, Callable[[], Result]]) -> dict[str, list[Result]]:
    """Every run once per round, in turn, so that a change in the machine's other load hits them
    alike; each result printed as it comes."""
    timed: dict[str, list[Result]] = {name: [] for name in runs}
    for n in range(max(1, rounds)):
        if rounds > 1:
            print(f"round {n + 1} of {rounds}", flush=True)
        for name, one in runs.items():
            result = one()
            print(f"  {name}: {result.summary()}", flush=True)
            timed[name].append(result)
    return timed
