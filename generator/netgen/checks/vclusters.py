"""vcluster values (docs/kubernetes.md; failure F5)."""

from __future__ import annotations

from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Severity
from netgen.model import Cluster
from netgen.targets import VCLUSTER_DISTRO_UNTIL, VCLUSTER_YAML_SINCE


@cluster_rule("NG701", Severity.ERROR, "vcluster version cannot take the service CIDR")
def service_cidr_settable(cluster: Cluster) -> Iterator[Finding]:
    """
    vcluster before 0.20 (the per-distro Helm charts) honours an explicit `serviceCIDR`
    only with the k0s distro; k3s, k8s and eks detect the host's range on every start, and
    on IPv6 hosts that detection flips between families (vcluster#1898). netgen refuses to
    write values that leave it to detection. Upgrade to vcluster 0.20 or later, where the
    top-level `serviceCIDR` of vcluster.yaml is honoured by every distro.
    """
    for vcluster in cluster.vclusters:
        if vcluster.version < VCLUSTER_YAML_SINCE and vcluster.distro != "k0s":
            yield Finding(
                vcluster.origin / "version",
                f"vcluster {vcluster.version} with {vcluster.distro} cannot be given the service CIDR; "
                "it would detect it, and may pick the wrong family",
                f'upgrade to vcluster "{VCLUSTER_YAML_SINCE}" or later (vcluster.yaml format)',
            )


@cluster_rule("NG702", Severity.ERROR, "k0s vcluster on a dual-stack host")
def k0s_single_family(cluster: Cluster) -> Iterator[Finding]:
    """
    The k0s distro takes only the first service CIDR, so it cannot run on a dual-stack host
    cluster: Services of the second family could not be synced. Use the k8s distro
    (vcluster 0.20 or later).
    """
    for vcluster in cluster.vclusters:
        if vcluster.distro == "k0s" and len(cluster.service_cidrs) > 1:
            yield Finding(
                vcluster.origin / "distro",
                f"vcluster {vcluster.name} uses k0s, which takes one service CIDR, "
                f"but cluster {cluster.name} is dual-stack",
                "use `distro: k8s` with vcluster 0.20 or later",
            )


@cluster_rule("NG703", Severity.ERROR, "distro not in this vcluster version")
def distro_in_version(cluster: Cluster) -> Iterator[Finding]:
    """
    The vcluster.yaml format (0.20+) dropped distros over time: eks is not in it at all, k0s
    was removed in 0.26 and k3s in 0.33. Use `distro: k8s`, or the vcluster version that
    still has the distro.
    """
    for vcluster in cluster.vclusters:
        if vcluster.version < VCLUSTER_YAML_SINCE:
            continue
        until = VCLUSTER_DISTRO_UNTIL.get(vcluster.distro)
        if until is not None and vcluster.version > until:
            last = (
                f"the last version with it is {until}" if until >= VCLUSTER_YAML_SINCE else "it is not in vcluster.yaml"
            )
            yield Finding(
                vcluster.origin / "distro",
                f"vcluster {vcluster.version} has no {vcluster.distro} distro ({last})",
                "use `distro: k8s`",
            )
