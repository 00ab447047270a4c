"""Prometheus metrics: requests by endpoint, status and client family; where login IDs came from;
answer latency; Autodiscover error documents; reloads; and gauges of what may be degraded (the
directory, the last reload, the signing certificate). Served on ``/metrics`` (see
:mod:`autoconfig.web.operations`); ``deploy/alerts.yml`` holds an alert rule for each gauge.

Labels come from the request record (:mod:`autoconfig.web.observe`) and from
:func:`~autoconfig.web.clientfamily.family`: never an address, a login ID or a raw User-Agent.

One process keeps its numbers in memory. With several workers, ``autoconfig serve`` gives them a
shared folder (``PROMETHEUS_MULTIPROC_DIR``) and any worker answers ``/metrics`` for all of them:
counters are summed; ``autoconfig_directory_up`` is the most recent value any live worker set,
``autoconfig_reload_failed`` the highest and ``autoconfig_last_reload_success_timestamp_seconds``
the oldest. What the loaded files say (profiles, signing certificate, version) is read from the
service of the worker answering, at the time of the scrape (:class:`ServiceCollector`): every
worker loads the same files.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from autoconfig import __version__

if TYPE_CHECKING:
    from autoconfig.service import Service

MEDIA_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds. Thunderbird gives up after 5 s; most answers should sit in the first buckets."""


class Metrics:
    """The metrics of one app. ``shared_dir``: the multi-process folder, when there are workers."""

    def __init__(self, shared_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        if shared_dir is not None:
            SharedCollector(self.registry, path=str(shared_dir))  # type: ignore[no-untyped-call]
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
        self.autodiscover_errors = Counter(
            "autoconfig_autodiscover_errors",
            "Autodiscover error documents answered, by error code (500: domain not served, "
            "600: invalid request, 601: no configuration of the type asked, InvalidProtocol: "
            "v2 protocol other than AutodiscoverV1).",
            ["code"],
            registry=target,
        )
        self.directory_up = Gauge(
            "autoconfig_directory_up",
            "1 when the login directory answered the last lookup or probe (or none is "
            "configured), 0 when it failed or gave no answer in time: people get the fallback "
            "login meanwhile.",
            registry=target,
            multiprocess_mode="livemostrecent",
        )
        self.reload_failed = Gauge(
            "autoconfig_reload_failed",
            "1 when the last reload (SIGHUP) was refused: the files on disk are invalid and the "
            "previous ones keep serving; 0 after a good one.",
            registry=target,
            multiprocess_mode="livemax",
        )
        self.last_reload_success = Gauge(
            "autoconfig_last_reload_success_timestamp_seconds",
            "When the profiles and the directory were last loaded (start or reload), Unix time.",
            registry=target,
            multiprocess_mode="livemin",
        )
        self._service_collector: ServiceCollector | None = None

    def follow(self, service: Callable[[], Service | None]) -> None:
        """Report what the service ``service()`` gives at each scrape has loaded (once per
        registry: a second app on the same metrics replaces the first one's)."""
        if self._service_collector is None:
            self._service_collector = ServiceCollector(service)
            self.registry.register(self._service_collector)
        else:
            self._service_collector.service = service

    def observe(
        self,
        endpoint: str,
        status: int,
        client: str,
        seconds: float,
        login: str,
        directory: str,
        autodiscover_error: str = "-",
    ) -> None:
        """Count one answered request ('-': no login handed out, no directory asked, no
        Autodiscover error)."""
        self.requests.labels(endpoint, str(status), client).inc()
        self.latency.labels(endpoint).observe(seconds)
        if login != "-":
            self.logins.labels(login).inc()
        if directory != "-":
            self.directory.labels(directory).inc()
        if autodiscover_error != "-":
            self.autodiscover_errors.labels(autodiscover_error).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


HEADER_BYTES = 8
"""The header of a metrics file (its used size and padding): a shorter file is still being
created by its worker."""


class SharedCollector(MultiProcessCollector):
    """The workers' metrics files, read together; a file a starting worker has just created and
    not sized yet is left out of that scrape (reading it failed the whole scrape with a 500)."""

    def collect(self) -> Iterable[Metric]:
        path: str = self._path
        files = [name for name in glob.glob(os.path.join(path, "*.db")) if _ready(name)]
        metrics: Iterable[Metric] = self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return metrics


def _ready(name: str) -> bool:
    try:
        return os.path.getsize(name) >= HEADER_BYTES
    except OSError:  # removed meanwhile (a dead worker's gauges)
        return False


class ServiceCollector(Collector):
    """The gauges read from the loaded service at scrape time: the version, the profiles loaded
    and the expiry of the signing certificate (left out when profiles are served unsigned)."""

    def __init__(self, service: Callable[[], Service | None]) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "autoconfig_build_info",
            "The version of autoconfig running (always 1).",
            labels=["version"],
        )
        info.add_metric([__version__], 1)
        yield info
        service = self.service()
        if service is None:
            return
        yield GaugeMetricFamily(
            "autoconfig_profiles_loaded",
            "Provider profiles loaded and served.",
            value=len(service.catalog),
        )
        if service.signer is not None:
            yield GaugeMetricFamily(
                "autoconfig_signing_certificate_expiry_timestamp_seconds",
                "When the certificate signing Apple profiles expires, Unix time.",
                value=service.signer.material.expires.timestamp(),
            )
