"""wrk, the load of every benchmark: one Lua script per run, its figures read back.

The script sends a scenario's method, headers and body (:mod:`scenarios`). When the path or the
body holds ``{i}``, each request names another person of the generated directory: row
``k × stride`` for ``k`` rotating through ``Traffic.rows``, each wrk thread starting at its own
share of them, so that no answer is the same one cached. ``done`` prints one machine-readable line
of totals. With *markers* (the fault scenarios), ``response`` also counts, per wall-clock second,
the answers by status (2xx, other below 500, 5xx) and the 2xx bodies holding each marker (e.g. the
person's login, or the fallback); that costs wrk time, so the other benchmarks go without.

wrk counts an answer with a status of 400 or more as a "status" error; connect, read, write errors
and timeouts are socket errors, which it gives as totals only. For https to a name that does not
resolve (``loopback``), the script resolves every name to 127.0.0.1: the URL keeps the name, so the
Host header and the TLS SNI carry it (wrk does not check certificates).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scenarios import Scenario

from tests.tools import require

RESULT = "WRK-RESULT"
SECOND = "WRK-SECOND"
STATUS = "WRK-STATUS"
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

ROTATE = """
function request()
  k = (k + 1) % rows
  local n = tostring(k * stride)
  local body = nil
  if #body_parts > 1 then body = table.concat(body_parts, n) end
  if #body_parts == 1 and body_parts[1] ~= "" then body = body_parts[1] end
  return wrk.format(method, table.concat(path_parts, n), headers, body)
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
        return (
            f"{self.rps:,.0f} req/s ({self.requests:,} requests), p50 {self.p50_ms:.2f} ms, "
            f"p99 {self.p99_ms:.2f} ms, max {self.max_ms:.0f} ms, non-2xx {self.status}, "
            f"socket errors {self.socket_errors} (connect {self.connect}, read {self.read}, "
            f"write {self.write}, timeout {self.timeout})"
        )


@dataclass
class Load:
    """A finished wrk run: totals, and with markers, per second (epoch second → counts)."""

    result: Result
    started: float
    markers: tuple[str, ...]
    seconds: dict[int, list[int]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    """Answers by HTTP status (with markers only)."""

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


def lua_script(
    scenario: Scenario, traffic: Traffic, markers: Sequence[str] = (), loopback: bool = False
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
    if "{i}" in scenario.path or "{i}" in scenario.body:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in scenario.headers)
        spacing = max(1, traffic.rows // traffic.threads)
        lines += [
            f"method = {lua_string(scenario.method)}",
            f"path_parts = {lua_table(scenario.path.split('{i}'))}",
            f"body_parts = {lua_table(scenario.body.split('{i}'))}",
            f"headers = {{{headers}}}",
            f"rows, stride = {traffic.rows}, {traffic.stride}",
            ROTATE,
        ]
        init.append(f"  k = ((thread_id or 0) * {spacing}) % rows")
    if markers:
        lines += [f"markers = {lua_table(markers)}", f"width = {COLUMNS + len(markers)}", COUNT]
        init.append("  timeline, statuses = {}, {}")
    if init:
        lines += ["function init(args)", *init, "end"]
    lines += ["function done(summary, latency, requests)", TOTALS, COUNTS if markers else "", "end"]
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


class Wrk:
    """wrk started in the background on ``url`` for ``traffic.seconds``; :meth:`finish` waits for
    it and reads it back. Its script and output are left in ``work`` as ``<name>.lua`` and
    ``<name>.wrk.txt``."""

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
    ) -> None:
        name = name or scenario.name
        self.markers = tuple(markers)
        self.traffic = traffic
        script = work / f"{name}.lua"
        script.write_text(lua_script(scenario, traffic, markers, loopback), encoding="utf-8")
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

    def finish(self) -> Load:
        """Wait for the end of the run (bounded: wrk's duration, its timeout and 30 s)."""
        try:
            limit = self.traffic.seconds + self.traffic.timeout_s + 30
            out, err = self.process.communicate(timeout=limit)
        finally:
            self.stop()
        self.log.write_text(out + err, encoding="utf-8")
        if self.process.returncode != 0:
            raise RuntimeError(f"wrk failed ({self.process.returncode}): {err.strip()[-2000:]}")
        load = Load(parse_result(out), self.started, self.markers)
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
    """One wrk run in the foreground: its totals."""
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
