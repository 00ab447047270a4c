"""Prometheus metrics: requests by endpoint, status and client family; where login IDs came from;
answer latency; reloads. Served on ``/metrics`` (see :mod:`autoconfig.web.operations`).

Labels come from the request record (:mod:`autoconfig.web.observe`) and from
:func:`~autoconfig.web.clientfamily.family`: never an address, a login ID or a raw User-Agent.

One process keeps its numbers in memory. With several workers, ``autoconfig serve`` gives them a
shared folder (``PROMETHEUS_MULTIPROC_DIR``) and any worker answers ``/metrics`` for all of them.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

MEDIA_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds. Thunderbird gives up after 5 s; most answers should sit in the first buckets."""


class Metrics:
    """The metrics of one app. ``shared_dir``: the multi-process folder, when there are workers."""

    def __init__(self, shared_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        if shared_dir is not None:
            MultiProcessCollector(self.registry, path=str(shared_dir))  # type: ignore[no-untyped-call]
        # In multi-process mode the values live in files and the collector above reads them all.
        target = None if shared_dir is not None else self.registry
        self.requests = Counter(
            "autoconfig_requests",
            "HTTP requests answered, by endpoint, status and client family.",
            ["endpoint", "status", "client"],
            registry=target,
        )
        self.latency = Histogram(
            "autoconfig_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.logins = Counter(
            "autoconfig_logins",
            "Where the login ID of each answer came from "
            "(directory or cache: a hit; fallback: a miss or a failed lookup; template).",
            ["source"],
            registry=target,
        )
        self.directory = Counter(
            "autoconfig_directory_lookups",
            "Directory lookups by outcome: directory (hit), cache, unknown (miss), timeout, "
            "failed, resting (not asked: it failed less than a second ago), busy (queue full) "
            "or limited (per-client limit reached).",
            ["outcome"],
            registry=target,
        )
        self.reloads = Counter(
            "autoconfig_reloads",
            "Reloads of the profiles and the directory (SIGHUP), by result.",
            ["result"],
            registry=target,
        )

    def observe(
        self, endpoint: str, status: int, client: str, seconds: float, login: str, directory: str
    ) -> None:
        """Count one answered request ('-': no login handed out, no directory asked)."""
        self.requests.labels(endpoint, str(status), client).inc()
        self.latency.labels(endpoint).observe(seconds)
        if login != "-":
            self.logins.labels(login).inc()
        if directory != "-":
            self.directory.labels(directory).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
