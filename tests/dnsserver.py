"""A real authoritative DNS server (BIND's ``named``, Debian package bind9) on loopback, serving
zones the tests write: the output of ``autoconfig dns`` pasted into a zone, correct or broken."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from tests.tools import free_port, require, stop, wait_until


def zone_text(origin: str, records: str, extra: str = "") -> str:
    """A complete zone: SOA and NS, then ``records`` (zone lines) and ``extra`` lines."""
    return (
        "$TTL 3600\n"
        f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300\n"
        f"@ IN NS ns.{origin}.\n"
        "ns IN A 127.0.0.1\n"
        f"{records}\n{extra}\n"
    )


@dataclass(frozen=True)
class NameServer:
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answers(self, origin: str) -> bool:
        query = dns.message.make_query(origin, "SOA")
        try:
            dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.5)
        except (dns.exception.Timeout, OSError):
            return False
        return True


def check_zone(origin: str, path: Path) -> str:
    """``named-checkzone``'s verdict (raises on a zone BIND would refuse)."""
    done = subprocess.run(
        [require("named-checkzone"), origin, str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def run_named(folder: Path, zones: dict[str, str]) -> Iterator[NameServer]:
    """``named`` in the foreground on a free loopback port, authoritative for ``zones``
    (origin → zone text), no recursion, no control channel."""
    folder.mkdir(parents=True, exist_ok=True)
    statements = []
    for origin, text in zones.items():
        path = folder / f"{origin}.zone"
        path.write_text(text, encoding="utf-8")
        check_zone(origin, path)
        statements.append(f'zone "{origin}" {{ type primary; file "{path}"; }};')
    options = "  recursion no;\n  dnssec-validation no;\n"
    with _named(folder, options, statements, next(iter(zones))) as server:
        yield server


def sign_zone(folder: Path, origin: str, text: str) -> tuple[str, str]:
    """``text`` signed with a new ECDSA P-256 key pair (KSK and ZSK, ``dnssec-keygen`` and
    ``dnssec-signzone``): the signed zone text, and the ``trust-anchors`` statement of its KSK."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for role in (["-f", "KSK"], []):
        done = subprocess.run(
            [
                require("dnssec-keygen"),
                "-q",
                "-a",
                "ECDSAP256SHA256",
                *role,
                "-K",
                str(folder),
                origin,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        keys.append(folder / f"{done.stdout.strip()}.key")
    unsigned = folder / f"{origin}.unsigned"
    unsigned.write_text(text + "".join(f"$INCLUDE {key}\n" for key in keys), encoding="utf-8")
    signed = folder / f"{origin}.signed"
    done = subprocess.run(
        [
            require("dnssec-signzone"),
            "-q",
            "-K",
            str(folder),
            "-d",
            str(folder),  # its dsset- file, not in the current folder
            "-o",
            origin,
            "-f",
            str(signed),
            str(unsigned),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    words = keys[0].read_text(encoding="utf-8").splitlines()[-1].split()
    # "<name> [ttl] IN DNSKEY 257 3 13 <key>": the flags, protocol, algorithm and key.
    at = words.index("DNSKEY")
    flags, protocol, algorithm, *key = words[at + 1 :]
    anchor = f'trust-anchors {{ "{origin}." static-key {flags} {protocol} {algorithm} "{"".join(key)}"; }};'
    return signed.read_text(encoding="utf-8"), anchor


@contextmanager
def run_resolver(folder: Path, forwards: dict[str, int], anchors: str) -> Iterator[NameServer]:
    """A validating recursive ``named`` on a free loopback port that asks 127.0.0.1:PORT for each
    zone of ``forwards`` and validates with ``anchors`` (a ``trust-anchors`` statement) only."""
    folder.mkdir(parents=True, exist_ok=True)
    statements = [
        anchors,
        *(
            f'zone "{origin}" {{ type forward; forward only; forwarders {{ 127.0.0.1 port {at}; }}; }};'
            for origin, at in forwards.items()
        ),
    ]
    options = "  recursion yes;\n  allow-recursion { 127.0.0.1; };\n  dnssec-validation yes;\n"
    with _named(folder, options, statements, next(iter(forwards))) as server:
        yield server


@contextmanager
def _named(folder: Path, options: str, statements: list[str], first: str) -> Iterator[NameServer]:
    """``named`` with ``options`` and ``statements`` on a free loopback port, in the foreground,
    ready once it answers for the zone ``first``."""
    port = free_port()
    config = folder / "named.conf"
    config.write_text(
        "options {\n"
        f'  directory "{folder}";\n'
        f'  pid-file "{folder}/named.pid";\n'
        f'  session-keyfile "{folder}/session.key";\n'
        f'  managed-keys-directory "{folder}";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n"
        "  listen-on-v6 { none; };\n"
        f"{options}"
        "};\n"
        "controls { };\n" + "\n".join(statements) + "\n",
        encoding="utf-8",
    )
    server = NameServer(port, folder / "named.log")
    with server.log.open("wb") as sink:
        process = subprocess.Popen(
            [require("named"), "-g", "-n", "1", "-c", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or server.answers(first), f"named on port {port}"
        )
        assert process.poll() is None, server.log.read_text(errors="replace")
        yield server
    finally:
        stop(process)
