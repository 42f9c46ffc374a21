"""Work on every cluster, on every core when the fleet is large enough to pay.

Clusters are independent, so they are split into one batch per core (largest first, so the
batches weigh about the same). The calling process works on the first batch while forked
workers take the others; the workers inherit the clusters and the work from the fork, so
nothing but indexes and results crosses a process boundary. Results come back in cluster
order, so nothing depends on which process finished first.
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

Item = TypeVar("Item")
Result = TypeVar("Result")

# what the forked workers run: set only while a pool works, read only in the workers
_work: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def per_cluster(
    work: Callable[[Cluster], Result],
    clusters: Sequence[Cluster],
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """``work(cluster)`` for every cluster, in cluster order. ``progress`` is called with
    (clusters done, clusters in all) as batches finish."""
    return weighed_map(work, clusters, [len(cluster.hosts) for cluster in clusters], progress)


def weighed_map(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    hosts: Sequence[int],
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """``work(item)`` for every item (a cluster, as data or modelled) of ``hosts[i]`` hosts."""
    count = cores()
    if count < 2 or len(items) < 2 or sum(hosts) < PARALLEL_MIN_HOSTS:
        results = [work(item) for item in items]
        if progress is not None:
            progress(len(items), len(items))
        return results
    global _work  # noqa: PLW0603 (the fork hands it to the workers)
    batches = _balanced(hosts, count)
    by_index: dict[int, Result] = {}
    done = 0

    def collect(batch: list[int], results: list[Result]) -> None:
        nonlocal done
        by_index.update(zip(batch, results, strict=True))
        done += len(batch)
        if progress is not None:
            progress(done, len(items))

    _work = (work, items)
    try:
        with ProcessPoolExecutor(max_workers=len(batches) - 1, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_run_batch, batch): batch for batch in batches[1:]}
            collect(batches[0], _run_batch(batches[0]))
            for future in as_completed(futures):
                collect(futures[future], future.result())
    finally:
        _work = None
    return [by_index[index] for index in range(len(items))]


def _run_batch(batch: list[int]) -> list[Any]:
    assert _work is not None, "a worker runs only while a pool works"
    work, items = _work
    return [work(items[index]) for index in batch]


def _balanced(hosts: Sequence[int], count: int) -> list[list[int]]:
    """Cluster indexes in ``count`` batches of about equal host counts (largest first)."""
    batches: list[list[int]] = [[] for _ in range(count)]
    weights = [0] * count
    for index in sorted(range(len(hosts)), key=lambda i: -hosts[i]):
        lightest = weights.index(min(weights))
        batches[lightest].append(index)
        weights[lightest] += hosts[index]
    return [sorted(batch) for batch in batches if batch]
