"""What every run report says: the machine and the software the figures came from, Markdown
tables (which also read well in a terminal) and verdicts."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass
class Report:
    """What a subcommand found: the lines of its report (Markdown), and whether its checks held."""

    lines: list[str]
    ok: bool = True
    """False when a check that is more than a figure failed (a verdict of ``faults``):
    ``bench/run`` then exits with status 1."""


def first_line(cmd: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "?"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine() -> str:
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {memory_gib():.1f} GiB, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def version(dist: str, venv: Path | None = None) -> str:
    """The version of a distribution in this interpreter, or in another virtualenv."""
    if venv is None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"
    found = list((venv / "lib").glob(f"python*/site-packages/{dist}-*.dist-info"))
    return found[0].name.split("-")[1].removesuffix(".dist") if found else "?"


def software(peer_venv: Path) -> str:
    wrk = first_line(["wrk", "--version"]).split()
    slapd = first_line(["/usr/sbin/slapd", "-VV"])
    slapd = slapd.split("slapd ", 1)[-1].split(" ", 1)[0] if "slapd" in slapd else "?"
    return (
        f"wrk {wrk[1] if len(wrk) > 1 else '?'}, "
        f"Caddy {first_line(['caddy', 'version']).split()[0]}, OpenLDAP slapd {slapd}, "
        f"uvicorn {version('uvicorn')}, starlette {version('starlette')}, "
        f"ldap3 {version('ldap3')}, automx2 {version('automx2', peer_venv)}, "
        f"gunicorn {version('gunicorn', peer_venv)}"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table, its columns padded."""
    rows = [list(r) for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"
        )

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def target(label: str, now: str, ok: bool | None) -> list[str]:
    """The table of a single target: what it is, where it stands, its verdict."""
    return table(["target", "now", "verdict"], [[label, now, verdict(ok)]])
