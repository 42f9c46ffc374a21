"""Plan, render and verify each cluster's files (on every core for large fleets, see
:mod:`netgen.parallel`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from netgen.diagnostics import Diagnostic
from netgen.emit.templates import Renderer, RenderError
from netgen.emit.verify import verify
from netgen.model import Cluster
from netgen.parallel import per_cluster
from netgen.plan import plan


@dataclass
class Emitted:
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def emit_cluster(
    cluster: Cluster, renderer: Renderer, header: str, into: Emitted, verified: Mapping[str, str] | None = None
) -> None:
    """``verified``: sha256 by path of texts that passed verification before (see
    :func:`netgen.write.verified_files`); the same text again is not verified twice."""
    for artifact in plan(cluster):
        try:
            text = renderer.render(artifact, header)
        except RenderError as error:
            into.problems.append(error.diagnostic)
            continue
        override = renderer.is_override(artifact.template)
        known = verified.get(artifact.path) if verified and not override else None
        if known is None or known != hashlib.sha256(text.encode()).hexdigest():
            into.problems += verify(artifact, text, yaml11=override)
        into.files[artifact.path] = text


def emit_clusters(
    clusters: Sequence[Cluster],
    templates: Path | None,
    header: str,
    progress: Callable[[int, int], None] | None = None,
    verified: Mapping[str, str] | None = None,
) -> Emitted:
    """Every cluster's files and verification problems, in cluster order."""
    renderer = Renderer(templates)

    def one(cluster: Cluster) -> Emitted:
        produced = Emitted()
        emit_cluster(cluster, renderer, header, produced, verified)
        return produced

    merged = Emitted()
    for result in per_cluster(one, clusters, progress):
        merged.files.update(result.files)
        merged.problems += result.problems
    return merged
