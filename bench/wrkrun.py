"""Run wrk on one scenario and read its figures back.

The Lua script sets the method, headers and body; when the path or body holds ``{i}``, it builds
each request with the next directory row (each wrk thread starts at its own offset). Its ``done``
prints one machine-readable line. wrk counts an answer with a status of 400 or more as a
"status" error; connect, read, write errors and timeouts are socket errors.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scenarios import Scenario

MARK = "WRK-RESULT"

DONE = f"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("{MARK} %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    bytes: int
    connect: int
    read: int
    write: int
    status: int
    timeout: int
    p50_ms: float
    p90_ms: float
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


def lua_string(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\' or byte < 32 or byte > 126:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def lua_script(scenario: Scenario, rows: int) -> str:
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in scenario.headers)
    lines = [
        f"wrk.method = {lua_string(scenario.method)}",
        f"wrk.path = {lua_string(scenario.for_row(0)[0])}",
        f"wrk.body = {lua_string(scenario.for_row(0)[1])}" if scenario.body else "",
    ]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in scenario.headers]
    if "{i}" in scenario.path or "{i}" in scenario.body:
        path_parts = ", ".join(lua_string(p) for p in scenario.path.split("{i}"))
        body_parts = ", ".join(lua_string(p) for p in scenario.body.split("{i}"))
        lines.append(f"""
local path_parts = {{{path_parts}}}
local body_parts = {{{body_parts}}}
local headers = {{{headers}}}
local rows = {rows}
local counter = 0
local started = 0
function setup(thread)
  thread:set("thread_id", started)
  started = started + 1
end
function init(args)
  counter = ((thread_id or 0) * 7919) % rows
end
function request()
  counter = (counter + 1) % rows
  local n = tostring(counter)
  local body = nil
  if #body_parts > 1 then body = table.concat(body_parts, n) end
  if #body_parts == 1 and body_parts[1] ~= "" then body = body_parts[1] end
  return wrk.format({lua_string(scenario.method)}, table.concat(path_parts, n), headers, body)
end
""")
    return "\n".join(lines) + DONE


def parse(output: str) -> Result:
    for line in output.splitlines():
        if line.startswith(MARK):
            v = [float(x) for x in line.split()[1:]]
            return Result(
                requests=int(v[0]),
                seconds=v[1] / 1e6,
                bytes=int(v[2]),
                connect=int(v[3]),
                read=int(v[4]),
                write=int(v[5]),
                status=int(v[6]),
                timeout=int(v[7]),
                p50_ms=v[8] / 1000,
                p90_ms=v[9] / 1000,
                p99_ms=v[10] / 1000,
                max_ms=v[11] / 1000,
            )
    raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")


def require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("error: wrk is not installed (Debian: apt-get install wrk)")
    return found


def wrk_command(
    threads: int, connections: int, seconds: float, timeout_s: float, script: Path, url: str
) -> list[str]:
    """The wrk command line of one bounded run with a Lua script."""
    return [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "-s",
        str(script),
        url,
    ]


def run(
    scenario: Scenario,
    base_url: str,
    *,
    connections: int,
    seconds: float,
    threads: int,
    timeout_s: float,
    rows: int,
) -> Result:
    """One wrk run, bounded in time (wrk's own duration, and a hard limit on the process)."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / f"{scenario.name}.lua"
        script.write_text(lua_script(scenario, rows), encoding="utf-8")
        cmd = wrk_command(threads, connections, seconds, timeout_s, script, base_url)
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return parse(done.stdout)
