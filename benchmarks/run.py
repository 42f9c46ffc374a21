"""Benchmark netgen on synthetic fleets: `python benchmarks/run.py` (or `make benchmark`).

For N = 100, 1,000 and 5,000 hosts it measures, each as a fresh process, wall time and
peak RSS of `netgen render` into an empty OUT (cold), of a re-render that changes nothing
(no-op), of `render --check`, and of the floor (benchmarks/floor.py), and prints a table;
the numbers also go to benchmarks/results.json (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import inventory  # noqa: E402


@dataclass(frozen=True)
class Measurement:
    hosts: int
    step: str
    seconds: float
    peak_rss_mb: float
    exit_code: int


def measure(command: list[str], hosts: int, step: str) -> Measurement:
    """Wall time and peak RSS of one child process (os.wait4 reports that child's own maximum)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    return Measurement(hosts, step, seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def run(sizes: list[int], repeat: int) -> list[Measurement]:
    netgen = [sys.executable, "-m", "netgen"]
    results: list[Measurement] = []
    for hosts in sizes:
        with tempfile.TemporaryDirectory(prefix="netgen-bench-") as scratch:
            root = Path(scratch)
            source = root / "inventory.yaml"
            source.write_text(inventory(hosts))
            out = root / "out"
            for _ in range(repeat):
                shutil.rmtree(out, ignore_errors=True)
                cold = measure([*netgen, "render", str(source), "-o", str(out)], hosts, "render (cold)")
                noop = measure([*netgen, "render", str(source), "-o", str(out)], hosts, "render (no-op)")
                check = measure([*netgen, "render", str(source), "-o", str(out), "--check"], hosts, "render --check")
                floor_out = root / "floor"
                shutil.rmtree(floor_out, ignore_errors=True)
                floor = measure(
                    [sys.executable, str(HERE / "floor.py"), str(source), str(out), str(floor_out)], hosts, "floor"
                )
                results += [cold, noop, check, floor]
    return results


def best(results: list[Measurement], hosts: int, step: str) -> Measurement:
    return min((m for m in results if m.hosts == hosts and m.step == step), key=lambda m: m.seconds)


def table(results: list[Measurement], sizes: list[int]) -> str:
    rows = [
        "| hosts | step | wall s | peak RSS MB | hosts/s | ms/host | x floor |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for hosts in sizes:
        floor = best(results, hosts, "floor")
        for step in ("render (cold)", "render (no-op)", "render --check", "floor"):
            m = best(results, hosts, step)
            rows.append(
                f"| {hosts} | {step} | {m.seconds:.2f} | {m.peak_rss_mb:.0f} | {hosts / m.seconds:.0f} "
                f"| {1000 * m.seconds / hosts:.2f} | {m.seconds / floor.seconds:.2f} |"
            )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest counts")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    arguments = parser.parse_args()
    results = run(arguments.hosts, arguments.repeat)
    failed = [m for m in results if m.exit_code not in (0,)]
    sys.stdout.write(table(results, arguments.hosts))
    arguments.json.write_text(json.dumps([asdict(m) for m in results], indent=2) + "\n")
    if failed:
        sys.exit(f"failed runs: {failed}")


if __name__ == "__main__":
    main()
