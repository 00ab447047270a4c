"""The servers of the benchmarks, each started in its own session on 127.0.0.1 and always stopped.

* ours: ``autoconfig serve`` from the project's ``.venv`` (:func:`ours`), or any command given for
  an experiment;
* Caddy: a static file (the ceiling), a plain reverse proxy, or the project's ``Caddyfile`` with
  Caddy's internal CA (:func:`start_deployed`);
* the peer: automx2 under gunicorn, from the bench-only virtualenv ``bench/.venv``.

Also: a throwaway signing certificate, how long a server takes to give its first right answer, the
peak RSS of its processes, and one HTTP(S) client for every check.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from staff import DOMAIN

from tests import pki
from tests.tools import HarnessError, free_port

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
AUTOCONFIG = PROJECT / ".venv" / "bin" / "autoconfig"
BENCH_VENV = BENCH / ".venv"
"""The peer (automx2, gunicorn) and the profiler (py-spy), never in the project's ``.venv``."""
SITE = f"autoconfig.{DOMAIN}"
"""The name Caddy serves (the project's Caddyfile) and the signing certificate is issued to."""

Tls = tuple[str, Path]
"""A name to send as TLS SNI and ``Host`` to 127.0.0.1, and the CA file to check the server by."""


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
    tls: Tls | None = None,
) -> Answer:
    """One request over a new connection to 127.0.0.1 (over TLS with ``tls``)."""
    conn = http.client.HTTPConnection(tls[0] if tls else HOST, port, timeout=timeout)
    sent = dict(headers)
    if tls is not None:
        name, ca = tls
        raw = socket.create_connection((HOST, port), timeout=timeout)
        try:
            conn.sock = ssl.create_default_context(cafile=str(ca)).wrap_socket(
                raw, server_hostname=name
            )
        except BaseException:
            raw.close()
            raise
        sent.setdefault("Host", name)
    try:
        conn.request(method, path, body=body.encode() if body else None, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        conn.close()


class Server:
    """One started process group; :meth:`stop` ends the whole group."""

    def __init__(self, name: str, cmd: Sequence[str], port: int, log: Path, env: dict[str, str]):
        self.name = name
        self.cmd = list(cmd)
        self.port = port
        self.log = log
        self.started = time.perf_counter()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_answer(
        self,
        path: str,
        *,
        limit: float = 60.0,
        any_status: bool = False,
        tls: Tls | None = None,
        expect: str = "",
    ) -> float:
        """Seconds from the start of the process to its first 200 answer to a GET of ``path``
        (holding ``expect``, e.g. the person's login; to its first answer at all, with
        ``any_status``)."""
        deadline = self.started + limit
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(
                    f"{self.name} exited ({self.process.returncode}); see {self.log}"
                )
            try:
                answer = ask(self.port, "GET", path, timeout=1.0, tls=tls)
                if any_status or (answer.status == 200 and expect.encode() in answer.body):
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.005)
        raise HarnessError(f"{self.name} gave no answer within {limit:.0f} s; see {self.log}")

    def processes(self) -> list[int]:
        """The server's process and all its descendants."""
        found = [self.process.pid]
        for pid in found:
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    found.extend(int(c) for c in children if int(c) not in found)
        return found

    def role(self, pid: int) -> str:
        """What one of its processes is: the supervisor, a worker, or a helper of
        multiprocessing."""
        pids = self.processes()
        if len(pids) == 1:
            return "worker"
        if pid == pids[0]:
            return "supervisor"
        return "helper" if "resource_tracker" in cmdline(pid) else "worker"

    def peak_rss(self) -> list[tuple[str, float]]:
        """The peak RSS of each of its processes, in MB, with its :meth:`role`."""
        found = []
        for pid in self.processes():
            rss = peak_rss_mb(pid)
            if rss is not None:
                found.append((self.role(pid), rss))
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


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


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


def ours_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without the caller's own ``AUTOCONFIG_*`` settings, with the project's
    profiles, and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONFIG_")}
    return {**env, "AUTOCONFIG_PROFILES": str(PROJECT / "profiles"), **(extra or {})}


def ours(
    name: str,
    work: Path,
    options: Sequence[str],
    env: Mapping[str, str] | None = None,
    port: int = 0,
) -> Server:
    """``autoconfig serve`` on ``port`` (a free one by default) with these options; its output in
    ``work/<name>.log``."""
    port = port or free_port()
    cmd = [str(AUTOCONFIG), "serve", "--host", HOST, "--port", str(port), *options]
    return Server(name, cmd, port, work / f"{name}.log", ours_env(env))


def signing(work: Path, key: str = "rsa") -> tuple[list[str], pki.Pki]:
    """A throwaway signing certificate for ``SITE`` (an RSA 2048 or a P-256 key) issued by a
    throwaway root and intermediate (``tests/pki.py``): the options of ``serve``, and the PKI to
    check the signatures against."""
    ca = pki.make_pki(work / "pki")
    cert, key_file, _ = ca.signer(SITE, key)
    options = ["--signing-cert", str(cert), "--signing-key", str(key_file)]
    return [*options, "--signing-chain", str(ca.chain_file)], ca


def caddy(name: str, work: Path, caddyfile: str, port: int, env: Mapping[str, str]) -> Server:
    """Caddy with this Caddyfile; its state (and internal CA) in ``work/<name>/``, its output in
    ``work/<name>.log``."""
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "Caddyfile"
    config.write_text(caddyfile, encoding="utf-8")
    state = {"HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
    cmd = ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"]
    return Server(name, cmd, port, work / f"{name}.log", {**os.environ, **state, **env})


def start_static(work: Path, body: bytes, media_type: str, url_path: str) -> Server:
    """Caddy's ``file_server`` answering ``url_path`` with these bytes."""
    root = work / "static"
    target = root / url_path.lstrip("/").split("?", 1)[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    port = free_port()
    config = (
        f"{{\n\tadmin off\n\tauto_https off\n}}\nhttp://{HOST}:{port} {{\n\tbind {HOST}\n"
        f'\troot * {root}\n\theader Content-Type "{media_type}"\n\tfile_server\n}}\n'
    )
    return caddy("caddy-static", work, config, port, {})


def start_proxy(work: Path, upstream: int, max_conns: int = 0) -> Server:
    """A plain HTTP reverse proxy (the Host header passes through); ``max_conns`` > 0 caps the
    connections Caddy opens to the app (further requests wait for a free one)."""
    port = free_port()
    transport = (
        f" {{\n\t\ttransport http {{\n\t\t\tmax_conns_per_host {max_conns}\n\t\t}}\n\t}}"
        if max_conns > 0
        else ""
    )
    config = (
        f"{{\n\tadmin off\n\tauto_https off\n}}\nhttp://{HOST}:{port} {{\n\tbind {HOST}\n"
        f"\treverse_proxy {HOST}:{upstream}{transport}\n}}\n"
    )
    return caddy("caddy-proxy", work, config, port, {})


def start_deployed(
    work: Path, upstreams: Sequence[int], stack: contextlib.ExitStack
) -> tuple[int, Tls]:
    """The project's Caddyfile in front of ``upstreams`` with Caddy's internal CA (``tls
    internal``), answering over https, stopped with ``stack``: its https port, and what
    :func:`ask` needs to check it."""
    http_port, https_port = free_port(), free_port()
    env = {
        "AUTOCONFIG_DOMAIN": DOMAIN,
        "AUTOCONFIG_TLS": "internal",
        "AUTOCONFIG_UPSTREAMS": " ".join(f"{HOST}:{p}" for p in upstreams),
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "CADDY_BIND": HOST,
        "CADDY_ADMIN": "off",
    }
    server = caddy("caddy", work, f"import {PROJECT / 'Caddyfile'}\n", https_port, env)
    stack.callback(server.stop)
    tls = (SITE, work / "caddy" / "caddy" / "pki" / "authorities" / "local" / "root.crt")
    server.wait_answer("/healthz", limit=60, tls=tls)
    return https_port, tls


def automx2_seed(thunderbird: bytes) -> dict[str, object]:
    """automx2's seed (version 2) from one of our Thunderbird answers: the provider's name, its
    domains and its IMAP and SMTP servers."""
    provider = ElementTree.fromstring(thunderbird).find("emailProvider")
    if provider is None:
        raise HarnessError("our Thunderbird answer has no <emailProvider>: cannot seed automx2")

    def server(path: str) -> dict[str, object]:
        found = provider.find(path)
        if found is None:
            raise HarnessError(f"our Thunderbird answer has no {path}: cannot seed automx2")
        host, port = found.findtext("hostname", ""), int(found.findtext("port", "0"))
        return {"type": found.get("type"), "name": host, "port": port}

    return {
        "version": 2,
        "provider": provider.findtext("displayName", ""),
        "domains": [{"name": d.text} for d in provider.findall("domain")],
        "servers": [server("incomingServer[@type='imap']"), server("outgoingServer[@type='smtp']")],
    }


def start_automx2(work: Path, workers: int, seed: dict[str, object]) -> Server:
    """automx2 under gunicorn (its default sync workers) on a SQLite file, filled through its own
    ``/initdb/`` (POST of a JSON seed)."""
    conf = work / "automx2.conf"
    conf.write_text(
        f"[automx2]\nloglevel = WARNING\ndb_echo = no\ndb_uri = sqlite:///{work / 'automx2.db'}\n"
        "proxy_count = 0\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "AUTOMX2_CONF": str(conf), "HOME": str(work)}
    cmd = [
        str(BENCH_VENV / "bin" / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "automx2.server:app",
    ]
    server = Server("automx2", cmd, port, work / "automx2.log", env)
    try:
        server.wait_answer("/", limit=30, any_status=True)
        headers = (("Content-Type", "application/json"),)
        answer = ask(server.port, "POST", "/initdb/", headers, json.dumps(seed))
        if answer.status != 200:
            raise HarnessError(f"automx2 refused its seed: {answer.status} {answer.body[:300]!r}")
    except BaseException:
        server.stop()
        raise
    return server
