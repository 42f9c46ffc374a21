"""Cross-checks of the model (SPEC §6), one module per area; see :mod:`.framework`."""

from __future__ import annotations

from collections.abc import Sequence

from netgen.checks import addresses, attachments, families, hosts, metallb, node_ip, vclusters, vips
from netgen.checks.framework import RULES
from netgen.diagnostics import Diagnostic
from netgen.model import Cluster

AREAS = (hosts, addresses, families, vips, node_ip, metallb, attachments, vclusters)


def run_checks(clusters: Sequence[Cluster]) -> list[Diagnostic]:
    return [diagnostic for rule in RULES for diagnostic in rule.run(clusters)]
