"""Benchmark netgen: `python benchmarks/run.py` (or `make benchmark`).

First the latency at the prompt, each command a fresh process, the median of
``--latency-runs`` runs: `netgen --help`, `netgen --version`, and `netgen render` of
inventories/example.yaml into an OUT it already matches (what a Makefile or pre-commit
hook runs most). Then, for synthetic fleets of N = 100, 1,000 and 5,000 hosts, the wall time
and peak RSS of `netgen render` into an empty OUT (cold), of a re-render that changes
nothing (no-op), of `render --check`, and of the floor (benchmarks/floor.py). Both tables
are printed; the numbers also go to benchmarks/results.json (not committed). Where the
time of a cold render goes, stage by stage: benchmarks/stages.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import inventory  # noqa: E402

import netgen as netgen_api  # noqa: E402


@dataclass(frozen=True)
class Measurement:
    hosts: int
    step: str
    seconds: float
    peak_rss_mb: float
    exit_code: int


def measure(command: list[str], hosts: int, step: str) -> Measurement:
    """Wall time and peak RSS of one child process (os.wait4 reports that child's own maximum).
    The file system's pending writes are flushed first, so no run pays for the one before."""
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    return Measurement(hosts, step, seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def latency(runs: int) -> list[Measurement]:
    """The median of ``runs`` runs of each small command (hosts: the example's)."""
    netgen = [sys.executable, "-m", "netgen"]
    example = HERE.parent / "inventories" / "example.yaml"
    results = []
    with tempfile.TemporaryDirectory(prefix="netgen-bench-") as scratch:
        out = Path(scratch) / "out"
        render = [*netgen, "render", str(example), "-o", str(out)]
        if subprocess.run(render, capture_output=True, check=False).returncode != 0:
            sys.exit(f"{example} does not render")
        hosts = sum(len(cluster.hosts) for cluster in netgen_api.load(example).clusters)
        for step, command in (
            ("netgen --help", [*netgen, "--help"]),
            ("netgen --version", [*netgen, "--version"]),
            ("render example (no-op)", render),
        ):
            runs_of = [measure(command, hosts, step) for _ in range(runs)]
            median = statistics.median(m.seconds for m in runs_of)
            failure = next((m.exit_code for m in runs_of if m.exit_code != 0), 0)
            results.append(Measurement(hosts, step, median, max(m.peak_rss_mb for m in runs_of), failure))
    return results


def latency_table(results: list[Measurement], runs: int) -> str:
    rows = [f"| command (median of {runs}) | wall s | peak RSS MB |", "|---|---:|---:|"]
    rows += [f"| {m.step} | {m.seconds:.3f} | {m.peak_rss_mb:.0f} |" for m in results]
    return "\n".join(rows) + "\n"


def run(sizes: list[int], repeat: int) -> list[Measurement]:
    """Every run writes into a directory of its own, and nothing is removed until all are done:
    ext4 passes over the inodes freed in the last minutes when it creates files, so a run
    right after removing thousands of files pays for that removal (benchmarks/README.md)."""
    netgen = [sys.executable, "-m", "netgen"]
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="netgen-bench-") as scratch:
        for hosts in sizes:
            root = Path(scratch) / f"hosts-{hosts}"
            root.mkdir()
            source = root / "inventory.yaml"
            source.write_text(inventory(hosts))
            for attempt in range(repeat):
                out, floor_out = root / f"out-{attempt}", root / f"floor-{attempt}"
                render = [*netgen, "render", str(source), "-o", str(out)]
                cold = measure(render, hosts, "render (cold)")
                noop = measure(render, hosts, "render (no-op)")
                check = measure([*render, "--check"], hosts, "render --check")
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
    parser.add_argument("--hosts", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest counts")
    parser.add_argument("--latency-runs", type=int, default=15, help="runs of each small command; 0 skips them")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    arguments = parser.parse_args()
    small = latency(arguments.latency_runs) if arguments.latency_runs > 0 else []
    if small:
        sys.stdout.write(latency_table(small, arguments.latency_runs) + "\n")
    results = run(arguments.hosts, arguments.repeat) if arguments.hosts else []
    failed = [m for m in [*small, *results] if m.exit_code not in (0,)]
    if arguments.hosts:
        sys.stdout.write(table(results, arguments.hosts))
    arguments.json.write_text(json.dumps([asdict(m) for m in [*small, *results]], indent=2) + "\n")
    if failed:
        sys.exit(f"failed runs: {failed}")


if __name__ == "__main__":
    main()
