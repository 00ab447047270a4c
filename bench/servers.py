"""The servers under test, each started in its own session on 127.0.0.1 and always stopped.

* ours: ``autoconfig serve`` as in production (or any command given for an experiment);
* the ceiling: Caddy serving the same XML bytes as a static file;
* the peer: automx2 under gunicorn, from the bench-only virtualenv ``bench/.venv``.

Also: how long a server takes to give its first right answer, and the peak RSS of its processes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def ask(
    port: int,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    body: str = "",
    timeout: float = 5.0,
) -> Answer:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body.encode() if body else None, headers=dict(headers))
        response = conn.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        conn.close()


class Server:
    """One started process group; :meth:`stop` ends the whole group."""

    def __init__(self, name: str, cmd: Sequence[str], port: int, log: Path, env: dict[str, str]):
        self.name = name
        self.port = port
        self.log = log
        self.started = time.perf_counter()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def wait_answer(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Sequence[tuple[str, str]] = (),
        body: str = "",
        limit: float = 60.0,
        any_status: bool = False,
    ) -> float:
        """Seconds from the start of the process to its first 200 answer to this request
        (to its first answer at all, with ``any_status``)."""
        deadline = self.started + limit
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}); see {self.log}"
                )
            try:
                status = ask(self.port, method, path, headers, body, timeout=1.0).status
                if status == 200 or any_status:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} gave no answer within {limit:.0f} s; see {self.log}")

    def processes(self) -> list[int]:
        """The server's process and all its descendants."""
        found = [self.process.pid]
        for pid in found:
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    found.extend(int(c) for c in children if int(c) not in found)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # the group may outlive its leader (workers): make sure it is gone
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set size) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def caddyfile(root: Path, port: int, media_type: str) -> str:
    return f"""{{
\tadmin off
\tauto_https off
}}
http://{HOST}:{port} {{
\tbind {HOST}
\troot * {root}
\theader Content-Type "{media_type}"
\tfile_server
}}
"""


def proxy_caddyfile(port: int, upstream: int, max_conns: int) -> str:
    """A plain HTTP reverse proxy (the Host header passes through); ``max_conns`` > 0 caps the
    connections Caddy opens to the app (further requests wait for a free one)."""
    transport = (
        f" {{\n\t\ttransport http {{\n\t\t\tmax_conns_per_host {max_conns}\n\t\t}}\n\t}}"
        if max_conns > 0
        else ""
    )
    return (
        f"{{\n\tadmin off\n\tauto_https off\n}}\nhttp://{HOST}:{port} {{\n\tbind {HOST}\n"
        f"\treverse_proxy {HOST}:{upstream}{transport}\n}}\n"
    )


def _caddy(name: str, work: Path, config: Path, port: int) -> Server:
    """Caddy run with ``config``, its state and log kept in ``work``."""
    env = {
        **os.environ,
        "HOME": str(work),
        "XDG_DATA_HOME": str(work),
        "XDG_CONFIG_HOME": str(work),
    }
    cmd = ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"]
    return Server(name, cmd, port, work / f"{name}.log", env)


def start_proxy(work: Path, upstream: int, max_conns: int = 0) -> Server:
    """Caddy's reverse proxy in front of ``upstream`` (see :func:`proxy_caddyfile`)."""
    port = free_port()
    config = work / "Caddyfile.proxy"
    config.write_text(proxy_caddyfile(port, upstream, max_conns), encoding="utf-8")
    return _caddy("caddy-proxy", work, config, port)


def start_static(work: Path, body: bytes, media_type: str, url_path: str) -> Server:
    root = work / "static"
    target = root / url_path.lstrip("/").split("?", 1)[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    port = free_port()
    config = work / "Caddyfile"
    config.write_text(caddyfile(root, port, media_type), encoding="utf-8")
    return _caddy("caddy", work, config, port)


def automx2_seed(profile: object) -> dict[str, object]:
    """automx2's seed (version 2) from one of our providers: its name, domains and mail servers."""
    from autoconfig.model import Provider

    assert isinstance(profile, Provider)
    return {
        "version": 2,
        "provider": profile.name.default,
        "domains": [{"name": d} for d in profile.domains],
        "servers": [
            {"type": "imap", "name": profile.imap.host, "port": profile.imap.port},
            {"type": "smtp", "name": profile.smtp.host, "port": profile.smtp.port},
        ],
    }


def start_automx2(work: Path, venv: Path, workers: int) -> Server:
    """automx2 under gunicorn (its default sync workers), on a SQLite file; seed it with :func:`seed_automx2`."""
    conf = work / "automx2.conf"
    conf.write_text(
        f"[automx2]\nloglevel = WARNING\ndb_echo = no\ndb_uri = sqlite:///{work / 'automx2.db'}\n"
        "proxy_count = 0\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "AUTOMX2_CONF": str(conf), "HOME": str(work)}
    cmd = [
        str(venv / "bin" / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "automx2.server:app",
    ]
    return Server("automx2", cmd, port, work / "automx2.log", env)


def seed_automx2(server: Server, seed: dict[str, object]) -> None:
    """Create automx2's tables and fill them through its own ``/initdb/`` (POST of a JSON seed)."""
    server.wait_answer("/", limit=30, any_status=True)
    answer = ask(
        server.port,
        "POST",
        "/initdb/",
        (("Content-Type", "application/json"),),
        json.dumps(seed),
    )
    if answer.status != 200:
        raise RuntimeError(f"automx2 refused its seed: {answer.status} {answer.body[:300]!r}")
