"""Sampling profile of one running worker with py-spy, summarised by function.

py-spy writes collapsed stacks (``frame;frame;frame count``); the summary gives, for the busiest
functions, the share of samples spent in them (self) and under them (inclusive).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path


def start(py_spy: Path, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    lines.append("inclusive time (under the function):")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in under.most_common(top)]
    return lines
