"""Work on every cluster, on every core when the fleet is large enough to pay.

Clusters are independent once loaded, so they are split into one batch per core (largest
first, so the batches weigh about the same). The calling process works on the first batch
while forked workers take the others; the workers inherit the clusters and the work from
the fork, so nothing but cluster indexes and results crosses a process boundary. Results
come back in cluster order, so nothing depends on which process finished first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any, TypeVar

from netgen.model import Cluster

#: below this many hosts, starting processes costs more than it saves
PARALLEL_MIN_HOSTS = 400

Result = TypeVar("Result")

# what the forked workers run: set only while a pool works, read only in the workers
_work: tuple[Callable[[Cluster], Any], Sequence[Cluster]] | None = None


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def per_cluster(
    work: Callable[[Cluster], Result],
    clusters: Sequence[Cluster],
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """``work(cluster)`` for every cluster, in cluster order. ``progress`` is called with
    (clusters done, clusters in all) as batches finish."""
    count = cores()
    if count < 2 or len(clusters) < 2 or sum(len(c.hosts) for c in clusters) < PARALLEL_MIN_HOSTS:
        results = [work(cluster) for cluster in clusters]
        if progress is not None:
            progress(len(clusters), len(clusters))
        return results
    global _work  # noqa: PLW0603 (the fork hands it to the workers)
    batches = _balanced(clusters, count)
    by_index: dict[int, Result] = {}
    done = 0

    def collect(batch: list[int], results: list[Result]) -> None:
        nonlocal done
        by_index.update(zip(batch, results, strict=True))
        done += len(batch)
        if progress is not None:
            progress(done, len(clusters))

    _work = (work, clusters)
    try:
        with ProcessPoolExecutor(max_workers=len(batches) - 1, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_run_batch, batch): batch for batch in batches[1:]}
            collect(batches[0], _run_batch(batches[0]))
            for future in as_completed(futures):
                collect(futures[future], future.result())
    finally:
        _work = None
    return [by_index[index] for index in range(len(clusters))]


def _run_batch(batch: list[int]) -> list[Any]:
    assert _work is not None, "a worker runs only while a pool works"
    work, clusters = _work
    return [work(clusters[index]) for index in batch]


def _balanced(clusters: Sequence[Cluster], count: int) -> list[list[int]]:
    """Cluster indexes in ``count`` batches of about equal host counts (largest first)."""
    batches: list[list[int]] = [[] for _ in range(count)]
    weights = [0] * count
    for index in sorted(range(len(clusters)), key=lambda i: -len(clusters[i].hosts)):
        lightest = weights.index(min(weights))
        batches[lightest].append(index)
        weights[lightest] += len(clusters[index].hosts)
    return [sorted(batch) for batch in batches if batch]
