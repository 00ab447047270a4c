"""How long loading a 100,000-row CSV directory takes, against reading the same file with the
bare csv module (the baseline, measured in the same run). Target: under one second.

    .venv/bin/python bench/csv_load.py [ROWS]
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from autoconfig.usernames.table import load_csv


def write_directory(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "login", "name"])
        for i in range(rows):
            writer.writerow(
                [f"prenom{i}.nom{i}@ac-aix-marseille.fr", f"pn{i:06d}", f"Prénom{i} Nom{i}"]
            )


def best_of(runs: int, action: object) -> float:
    assert callable(action)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "staff.csv"
        write_directory(path, rows)

        def baseline() -> None:
            with path.open(encoding="utf-8", newline="") as handle:
                for _ in csv.DictReader(handle):
                    pass

        base = best_of(3, baseline)
        ours = best_of(3, lambda: load_csv(path))
    print(f"rows: {rows}")
    print(f"csv.DictReader alone (baseline): {base:.3f} s")
    print(f"load_csv (validated, normalised): {ours:.3f} s")
    print(f"ratio ours/baseline: {ours / base:.2f}")
    print(f"target < 1 s: {'met' if ours < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
