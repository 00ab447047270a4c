"""Sampling profile of one running worker with py-spy, summarised by function.

py-spy writes collapsed stacks (``frame;frame;frame count``); the summary gives, for the busiest
functions, the share of samples spent in them (self) and under them (inclusive).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

INCLUSIVE_OF = re.compile(r"\((autoconfig/(?!cli)|logging/)")
"""Frames worth an inclusive figure: ours (not the CLI that starts the server) and logging."""


def start(py_spy: Path, pid: int, seconds: float, out: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]
    with log.open("wb") as sink:
        return subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)


def short(frame: str) -> str:
    """``render (autoconfig/render/thunderbird.py:53)`` → ``render (render/thunderbird.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = where.split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "autoconfig" in parts:
        parts = parts[parts.index("autoconfig") :]
    return f"{name} ({'/'.join(parts[-3:])})"


def summary(collapsed: Path, top: int = 15) -> list[str]:
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [short(f) for f in stack.split(";") if f]
        total += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            under[frame] += n
    if not total:
        return ["(no samples)"]
    lines = [f"{total} samples; self time:"]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in own.most_common(top)]
    lines.append("inclusive time (under the function), our code and the access log:")
    ours = [(f, n) for f, n in under.most_common() if INCLUSIVE_OF.search(f)]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in ours[:top]]
    return lines
