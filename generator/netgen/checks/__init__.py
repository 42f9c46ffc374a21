"""Cross-checks of the model (SPEC §6), one module per area; see :mod:`.framework`."""

from __future__ import annotations

from collections.abc import Sequence

from netgen.checks import addresses, attachments, families, hosts, metallb, node_ip, vclusters, vips
from netgen.checks.framework import RULES
from netgen.diagnostics import Diagnostic
from netgen.model import Cluster
from netgen.parallel import per_cluster

AREAS = (hosts, addresses, families, vips, node_ip, metallb, attachments, vclusters)


def run_checks(clusters: Sequence[Cluster]) -> list[Diagnostic]:
    """Every rule's diagnostics, rule by rule and cluster by cluster (the per-cluster rules of
    large fleets run on every core)."""
    cluster_checks = [(rule, rule.cluster_check) for rule in RULES if rule.cluster_check is not None]

    def check_cluster(cluster: Cluster) -> list[list[Diagnostic]]:
        return [rule.diagnostics(check(cluster)) for rule, check in cluster_checks]

    by_cluster = per_cluster(check_cluster, clusters)
    position = {rule: index for index, (rule, _) in enumerate(cluster_checks)}
    diagnostics: list[Diagnostic] = []
    for rule in RULES:
        if rule.inventory_check is not None:
            diagnostics += rule.diagnostics(rule.inventory_check(clusters))
        else:
            diagnostics += [d for found in by_cluster for d in found[position[rule]]]
    return diagnostics
