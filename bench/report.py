"""The machine description, and the figures as text for the terminal and for ``bench/RESULTS.md``."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path


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


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table, which also reads well in a terminal."""
    rows = [list(r) for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"
        )

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def append(path: Path, lines: Sequence[str]) -> None:
    new = not path.exists()
    with path.open("a", encoding="utf-8") as out:
        if new:
            out.write(
                "# Benchmark results\n\nEach run of `bench/run` appends a section here "
                "(figures and ratios measured in the same run). "
                "What was tried, and why the settings are what they are, is in the sections "
                'headed "Tried".\n'
            )
        out.write("\n" + "\n".join(lines) + "\n")
