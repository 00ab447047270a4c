"""What a fault scenario watches besides wrk's load: a client that checks answers one by one, and
the instances' own counters.

* :class:`Poller` asks, over a new connection each time (so that every worker is sampled), about
  one person after another (http, or https with the Host/SNI of ``autoconfig.<domain>`` sent to
  127.0.0.1 and the certificate checked against Caddy's internal CA) and sorts each answer with the
  scenario's ``classify`` (e.g. "login" when it carries that very person's login, "fallback",
  "wrong"); errors and their time are kept too.
* :class:`Counters` reads ``autoconfig_requests_total`` from each instance's ``/metrics`` once a
  second, so the timeline shows which instance answered (or that it is down).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from servers import Tls, ask


@dataclass(frozen=True)
class Sample:
    at: float
    outcome: str
    """The class of a 2xx answer, ``status NNN``, or ``error: …`` (socket error)."""


class Poller(threading.Thread):
    """Sequential checked requests until :meth:`halt`, about ``per_second`` a second at most."""

    def __init__(
        self,
        port: int,
        tls: Tls | None,
        path: str,
        rows: int,
        classify: Callable[[int, bytes], str],
        per_second: float = 20.0,
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.tls = tls
        self.path = path
        self.rows = rows
        self.classify = classify
        self.pause = 1.0 / per_second
        self.samples: list[Sample] = []
        self._halt = threading.Event()

    def run(self) -> None:
        row = 1
        while not self._halt.is_set():
            row = (row * 7 + 13) % self.rows
            started = time.time()
            try:
                path = self.path.replace("{i}", str(row))
                answer = ask(self.port, "GET", path, tls=self.tls)
                status = answer.status
                outcome = (
                    self.classify(row, answer.body) if 200 <= status < 300 else f"status {status}"
                )
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"error: {type(exc).__name__}"
            self.samples.append(Sample(started, outcome))
            self._halt.wait(max(0.0, self.pause - (time.time() - started)))

    def halt(self) -> list[Sample]:
        self._halt.set()
        self.join(timeout=30)
        return self.samples


def metric(port: int, name: str, timeout: float = 5.0) -> dict[str, float] | None:
    """Every sample of one metric, keyed by its labels (``{outcome="timeout"}`` …), or None when
    the instance does not answer."""
    try:
        answer = ask(port, "GET", "/metrics", timeout=timeout)
    except (OSError, http.client.HTTPException):
        return None
    if answer.status != 200:
        return None
    found: dict[str, float] = {}
    for line in answer.body.decode(errors="replace").splitlines():
        if line.startswith(name):
            key, value = line.rsplit(" ", 1)
            found[key[len(name) :]] = found.get(key[len(name) :], 0.0) + float(value)
    return found


def lookups(port: int) -> dict[str, float]:
    """Directory lookups so far by outcome (``cache``, ``directory``, ``timeout`` …)."""
    found = metric(port, "autoconfig_directory_lookups_total") or {}
    return {k.split('"')[1]: v for k, v in found.items() if '"' in k}


def requests_total(port: int) -> float | None:
    """Thunderbird answers of an instance (``autoconfig_requests_total``; health checks and
    ``/metrics`` are not counted), or None when it does not answer."""
    found = metric(port, "autoconfig_requests_total", timeout=1.0)
    return (
        None if found is None else sum(v for k, v in found.items() if 'endpoint="thunderbird"' in k)
    )


class Counters(threading.Thread):
    """``requests_total`` of each port, read just after each second: ``readings`` (time,
    [value or None]); the difference of two readings is what the second before the later one saw."""

    def __init__(self, ports: Sequence[int]) -> None:
        super().__init__(daemon=True)
        self.ports = list(ports)
        self.readings: list[tuple[float, list[float | None]]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        # read just after each whole second, so that a difference is one wall-clock second
        while not self._halt.wait(1.02 - time.time() % 1):
            self.readings.append((time.time(), [requests_total(p) for p in self.ports]))

    def halt(self) -> list[tuple[float, list[float | None]]]:
        self._halt.set()
        self.join(timeout=30)
        return self.readings
