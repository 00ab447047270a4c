"""wrk as the steady load of a fault scenario: started in the background, read back when it ends.

Its Lua script rotates through the directory rows (Thunderbird GETs, one person per request) and
counts, per wall-clock second, the answers by status (2xx, other 4xx/3xx, 5xx) and the 2xx bodies
holding each *marker* (e.g. the person's login, or the fallback). wrk cannot time-stamp its socket
errors: they come as totals only (the poller of ``faultwatch`` sees them second by second).

For https to a name that wrk cannot resolve, the script resolves every name to 127.0.0.1: the URL
keeps the name, so the Host header and the TLS SNI carry it (wrk does not check certificates).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wrkrun import Result, lua_string, parse, wrk_command

TIMELINE = "FAULT-WRK-TL"
STATUS = "FAULT-WRK-STATUS"
COLUMNS = 3
"""Per second: 2xx, other non-2xx below 500, 5xx; then one column per marker."""


def lua_script(path: str, rows: int, markers: Sequence[str], loopback: bool) -> str:
    parts = ", ".join(lua_string(p) for p in path.split("{i}"))
    marks = ", ".join(lua_string(m) for m in markers)
    width = COLUMNS + len(markers)
    resolve = (
        'function wrk.resolve(host, service)\n  wrk.addrs = wrk.lookup("127.0.0.1", service)\nend\n'
        if loopback
        else ""
    )
    return (
        resolve
        + f"""
local parts = {{{parts}}}
local markers = {{{marks}}}
local rows = {rows}
local width = {width}
local threads = {{}}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = ((thread_id or 0) * 7919) % rows
  -- flat: key second * width + column (wrk copies flat tables between threads)
  timeline = {{}}
  statuses = {{}}
end

function request()
  counter = (counter + 1) % rows
  return wrk.format("GET", table.concat(parts, tostring(counter)))
end

local function bump(key)
  timeline[key] = (timeline[key] or 0) + 1
end

function response(status, headers, body)
  local base = os.time() * width
  statuses[status] = (statuses[status] or 0) + 1
  if status < 300 then
    bump(base)
    for k, marker in ipairs(markers) do
      if string.find(body, marker, 1, true) then bump(base + {COLUMNS} + k - 1) end
    end
  elseif status < 500 then
    bump(base + 1)
  else
    bump(base + 2)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  local total = {{}}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("timeline") or {{}}) do
      total[key] = (total[key] or 0) + n
    end
  end
  for key, n in pairs(total) do
    io.write(string.format("{TIMELINE} %d %d\\n", key, n))
  end
  local codes = {{}}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses") or {{}}) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  for code, n in pairs(codes) do
    io.write(string.format("{STATUS} %d %d\\n", code, n))
  end
end
"""
    )


@dataclass
class Load:
    """A finished wrk run: totals, and per second (epoch second → counts)."""

    result: Result
    started: float
    markers: tuple[str, ...]
    seconds: dict[int, list[int]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    """Answers by HTTP status."""

    @property
    def non_2xx(self) -> dict[int, int]:
        return {code: n for code, n in sorted(self.statuses.items()) if not 200 <= code < 300}

    def row(self, second: int) -> list[int]:
        return self.seconds.get(second, [0] * (COLUMNS + len(self.markers)))


class Wrk:
    """``with Wrk(...) as load:`` runs wrk for ``seconds``; ``load.finish()`` waits and parses."""

    def __init__(
        self,
        url: str,
        path: str,
        *,
        rows: int,
        markers: Sequence[str],
        seconds: float,
        connections: int,
        threads: int,
        timeout_s: float,
        work: Path,
        name: str,
        loopback: bool = False,
    ) -> None:
        self.markers = tuple(markers)
        self.seconds = seconds
        self.timeout_s = timeout_s
        script = work / f"{name}.lua"
        script.write_text(lua_script(path, rows, markers, loopback), encoding="utf-8")
        self.log = work / f"{name}.wrk.txt"
        self.cmd = wrk_command(threads, connections, seconds, timeout_s, script, url)
        self.started = time.time()
        self.process = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def finish(self) -> Load:
        try:
            out, err = self.process.communicate(timeout=self.seconds + self.timeout_s + 30)
        finally:
            self.stop()
        self.log.write_text(out + err, encoding="utf-8")
        if self.process.returncode != 0:
            raise RuntimeError(f"wrk failed ({self.process.returncode}): {err.strip()[-2000:]}")
        load = Load(parse(out), self.started, self.markers)
        width = COLUMNS + len(self.markers)
        for line in out.splitlines():
            if line.startswith(TIMELINE):
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
