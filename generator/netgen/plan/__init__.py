"""Planning: what to emit for each cluster, as pure data.

A planner turns a checked cluster into :class:`Artifact` values: the output path, the
template that lays the file out, the values the template may use and the schema the
rendered documents must satisfy. Planners make every decision (dialect, names, order);
templates only arrange the values. A new artifact family is one more planner here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netgen.model import Cluster
from netgen.plan import attachments, metallb, talos, vcluster
from netgen.plan.artifact import Artifact

ClusterPlanner = Callable[[Cluster], Iterable[Artifact]]

PLANNERS: tuple[ClusterPlanner, ...] = (talos.plan, metallb.plan, attachments.plan, vcluster.plan)


def plan(cluster: Cluster) -> list[Artifact]:
    """Every artifact of a cluster, in a stable order."""
    return [artifact for planner in PLANNERS for artifact in planner(cluster)]
