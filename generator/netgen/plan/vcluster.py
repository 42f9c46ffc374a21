"""vcluster values with the host's service CIDR spelled out (docs/kubernetes.md; failure F5).

In shared-nodes mode a virtual cluster must use exactly the host cluster's service
range, same families, same order; left to detection, vcluster on an IPv6 host can come
up with an IPv4 range after a restart (vcluster#1898). The top-level ``serviceCIDR`` of
vcluster.yaml bypasses detection in every release since 0.20; before that only the k0s
chart took it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netgen.model import Cluster
from netgen.plan.artifact import Artifact
from netgen.targets import VCLUSTER_YAML_SINCE


@dataclass(frozen=True, slots=True)
class VClusterValues:
    name: str
    distro: str
    #: the host cluster's service CIDRs, comma-joined, primary family first
    service_cidr: str


def plan(cluster: Cluster) -> Iterator[Artifact]:
    service_cidr = ",".join(cluster.in_family_order(cluster.service_cidrs))
    for vcluster in cluster.vclusters:
        legacy = vcluster.version < VCLUSTER_YAML_SINCE
        yield Artifact(
            path=f"{cluster.name}/vcluster/{vcluster.name}.yaml",
            template="vcluster/values-legacy-k0s.yaml.j2" if legacy else "vcluster/values.yaml.j2",
            context={"vcluster": VClusterValues(vcluster.name, vcluster.distro, service_cidr)},
            schema="vcluster-values",
        )
