"""Plan, render and verify clusters, on every core when the fleet is large enough to pay.

Clusters are independent once checked, so they are split into one batch per core (largest
first, so the batches weigh about the same) and each batch runs in its own process. The
results are put back in cluster order, so the output does not depend on which process
finished first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from netgen.diagnostics import Diagnostic
from netgen.model import Cluster
from netgen.planners import plan
from netgen.render import Renderer, RenderError
from netgen.verify import verify

#: below this many hosts, starting processes costs more than it saves
PARALLEL_MIN_HOSTS = 400


@dataclass
class Produced:
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def produce(cluster: Cluster, renderer: Renderer, header: str, into: Produced) -> None:
    for artifact in plan(cluster):
        try:
            text = renderer.render(artifact, header)
        except RenderError as error:
            into.problems.append(error.diagnostic)
            continue
        into.problems += verify(artifact, text, yaml11=renderer.is_override(artifact.template))
        into.files[artifact.path] = text


def _produce_batch(clusters: Sequence[Cluster], templates: Path | None, header: str) -> list[Produced]:
    renderer = Renderer(templates)
    results = []
    for cluster in clusters:
        produced = Produced()
        produce(cluster, renderer, header, produced)
        results.append(produced)
    return results


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def produce_all(
    clusters: Sequence[Cluster],
    templates: Path | None,
    header: str,
    progress: Callable[[int, int], None] | None = None,
) -> Produced:
    """Every cluster's files and verification problems, in cluster order."""
    cores = _cores()
    hosts = sum(len(c.hosts) for c in clusters)
    if cores < 2 or len(clusters) < 2 or hosts < PARALLEL_MIN_HOSTS:
        batches = [list(range(len(clusters)))]
        results = [_produce_batch(clusters, templates, header)]
        if progress is not None:
            progress(len(clusters), len(clusters))
    else:
        batches = _balanced(clusters, cores)
        results_by_batch: dict[int, list[Produced]] = {}
        # fork: the workers start with netgen already imported and the schemas compiled
        with ProcessPoolExecutor(max_workers=len(batches), mp_context=get_context("fork")) as pool:
            futures = {
                pool.submit(_produce_batch, [clusters[i] for i in batch], templates, header): number
                for number, batch in enumerate(batches)
            }
            done = 0
            for future in as_completed(futures):
                results_by_batch[futures[future]] = future.result()
                done += len(batches[futures[future]])
                if progress is not None:
                    progress(done, len(clusters))
        results = [results_by_batch[number] for number in range(len(batches))]
    ordered: list[Produced | None] = [None] * len(clusters)
    for batch, produced in zip(batches, results, strict=True):
        for index, result in zip(batch, produced, strict=True):
            ordered[index] = result
    merged = Produced()
    for result in filter(None, ordered):
        merged.files.update(result.files)
        merged.problems += result.problems
    return merged


def _balanced(clusters: Sequence[Cluster], count: int) -> list[list[int]]:
    """Cluster indexes in ``count`` batches of about equal host counts (largest first)."""
    batches: list[list[int]] = [[] for _ in range(count)]
    weights = [0] * count
    for index in sorted(range(len(clusters)), key=lambda i: -len(clusters[i].hosts)):
        lightest = weights.index(min(weights))
        batches[lightest].append(index)
        weights[lightest] += len(clusters[index].hosts)
    return [sorted(batch) for batch in batches if batch]
