"""Benchmark of GET /mobileconfig: unsigned against signed profiles, in the same run.

Starts two ``autoconfig serve`` on loopback (one without a certificate, one with a throwaway
certificate issued by a throwaway CA) and measures each with ``wrk``:

* unsigned       – profiles for the addresses of the demo directory, over and over;
* signed         – the same requests, signed (the signature cache answers after the first one);
* signed, new    – every request for an address never asked before: every profile signed anew.

Unsigned and signed runs alternate (``--rounds``), so that a busy moment of the machine hits both
alike; prints the median requests per second of each and the ratios to the unsigned figure. The target is at least
1,000 signed profiles per second. Run from the project folder:

    .venv/bin/python bench/mobileconfig.py [--duration 10] [--rounds 3] [--workers 1] [--key rsa|ec]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pki  # noqa: E402  (the tests' throwaway PKI)

DEMO = ROOT / "demo" / "staff.csv"
START_TIMEOUT = 30.0

REPEAT = """
local addresses = {%s}
local i = 0
request = function()
  i = i %% #addresses + 1
  return wrk.format("GET", "/mobileconfig?email=" .. addresses[i])
end
"""
NEW = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/mobileconfig?email=bench" .. id .. "." .. n .. "@ac-aix-marseille.fr")
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"autoconfig serve exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"autoconfig serve did not listen on port {port} within {START_TIMEOUT:.0f} s")


@contextmanager
def serve(workers: int, log: Path, *signing: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONFIG_")}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "autoconfig", "serve", "--port", str(port),
             "--workers", str(workers), "--log-level", "warning",
             "--directory", str(DEMO), *signing],
            stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wrk(url: str, script: Path, args: argparse.Namespace) -> float:
    command = [
        "wrk", "--timeout", "5s", "-t", str(args.threads), "-c", str(args.connections),
        "-d", f"{args.duration}s", "-s", str(script), url,
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + 60, check=False
    )
    if result.returncode != 0:
        sys.exit(f"wrk failed: {result.stderr}")
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        sys.exit(f"wrk saw errors:\n{result.stdout}")
    match = re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout)
    if match is None:
        sys.exit(f"no Requests/sec in wrk output:\n{result.stdout}")
    return float(match.group(1))


def fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        body: bytes = response.read()
        return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="autoconfig serve workers")
    parser.add_argument("--rounds", type=int, default=3, help="alternated measurements each")
    parser.add_argument("--key", choices=["rsa", "ec"], default="rsa", help="signing key type")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk, see scripts/packages/bench.txt)")

    with tempfile.TemporaryDirectory(prefix="bench-mobileconfig-") as tmp:
        folder = Path(tmp)
        ca = pki.make_pki(folder / "pki")
        cert, key, _ = ca.signer("autoconfig.ac-aix-marseille.fr", args.key)
        signing = ("--signing-cert", str(cert), "--signing-key", str(key),
                   "--signing-chain", str(ca.chain_file))  # fmt: skip
        addresses = [line.split(",")[0] for line in DEMO.read_text().splitlines()[1:] if line]
        repeat = folder / "repeat.lua"
        repeat.write_text(REPEAT % ", ".join(f'"{a}"' for a in addresses))
        new = folder / "new.lua"
        new.write_text(NEW)

        runs: dict[str, list[float]] = {"unsigned": [], "signed": [], "signed, new": []}
        with (
            serve(args.workers, folder / "unsigned.log") as plain,
            serve(args.workers, folder / "signed.log", *signing) as url,
        ):
            signed = fetch(f"{url}/mobileconfig?email={addresses[0]}")
            pki.verify(signed, ca.root_file)  # the server really signs, with the chain
            for _ in range(args.rounds):  # alternated, so that a busy moment hits both alike
                runs["unsigned"].append(wrk(plain, repeat, args))
                runs["signed"].append(wrk(url, repeat, args))
            runs["signed, new"].append(wrk(url, new, args))
        results = {name: statistics.median(rates) for name, rates in runs.items()}

    base = results["unsigned"]
    print(
        f"GET /mobileconfig, {args.duration} s each, wrk -t{args.threads} -c{args.connections}, "
        f"{args.workers} worker(s), {args.key.upper()} signing key, {os.cpu_count()} CPU(s); "
        f"median of {args.rounds} alternated runs"
    )
    for name, rate in results.items():
        print(f"  {name:<12} {rate:10.0f} requests/s   ratio to unsigned {rate / base:5.2f}")
    verdict = "met" if results["signed"] >= 1000 else "NOT met"
    print(f"target >= 1,000 signed profiles/s: {verdict}")


if __name__ == "__main__":
    main()
