"""Several worker processes behind one socket, where ``SIGHUP`` reloads instead of restarting.

uvicorn's own supervisor answers ``SIGHUP`` by starting new workers. Here each worker reloads in
place (:mod:`autoconfig.server.reload`), keeping its current profiles when the new ones are invalid,
so the supervisor only passes the signal on. A worker that dies is replaced as usual; if its
replacement cannot load the files on disk (they were broken after the start), the other workers
go on serving and the replacement is tried again at the next ``SIGHUP``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

from prometheus_client import multiprocess
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("autoconfig.server.supervisor")


class Supervisor(Multiprocess):
    """Started with SIGHUP blocked (:func:`autoconfig.server.run`): workers inherit that and unblock it once they
    can reload; this process unblocks it once its first workers are started."""

    def init_processes(self) -> None:
        super().init_processes()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})

    def _spawn(self) -> Process:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            process = Process(self.config, self.sockets)
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
        return process

    def handle_hup(self) -> None:
        log.info("SIGHUP received: asking %d worker(s) to reload", len(self.processes))
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGHUP)
        while len(self.processes) < self.processes_num:
            self.processes.append(self._spawn())

    failed = False
    """Set when no worker could start: the service stops with uvicorn's start-up failure status."""

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        dead = [
            p
            for p in self.processes
            if not p.is_alive(timeout=self.config.timeout_worker_healthcheck)
        ]
        for process in dead:
            process.kill()
            process.join()
            self.processes.remove(process)
            forget_metrics(process.pid)
        refused = [p for p in dead if p.exitcode == STARTUP_FAILURE]
        if refused and not self.processes:
            log.error("no worker could load the profiles or the directory: stopping")
            self.failed = True
            self.should_exit.set()
            return
        if refused:
            log.error(
                "%d new worker(s) could not load the profiles or the directory; %d worker(s) "
                "go on serving; fix the files and send SIGHUP to try again",
                len(refused),
                len(self.processes),
            )
        for process in dead:
            if process not in refused:
                log.info("worker %s died; starting another", process.pid)
                self.processes.append(self._spawn())


def forget_metrics(pid: int | None) -> None:
    """Drop the gauges of a dead worker from the shared metrics, so that its last values (a
    refused reload, a directory down) are not reported for ever."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and pid is not None:
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


def run_workers(**options: Any) -> None:
    """Like ``uvicorn.run(..., workers=N)``, with :class:`Supervisor` in charge."""
    config = Config(**options)
    socket = config.bind_socket()
    supervisor = Supervisor(config, sockets=[socket])
    supervisor.run()
    if supervisor.failed:
        sys.exit(STARTUP_FAILURE)
