"""IP families and the cluster's pod, service and node prefixes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import Cluster, Family, IPAddress, IPInterface, IPNetwork


@dataclass(frozen=True, slots=True)
class _Value:
    value: IPNetwork | IPAddress | IPInterface
    origin: Origin
    what: str


@dataclass(frozen=True, slots=True)
class _Prefix:
    net: IPNetwork
    origin: Origin
    what: str


def _prefix_lists(cluster: Cluster) -> Iterator[tuple[str, list[_Prefix]]]:
    """The pod CIDRs, the service CIDRs and each network's prefixes."""
    k8s = cluster.origin / "kubernetes"
    yield "podCIDRs", [_Prefix(c, k8s / "podCIDRs" / i, "pod CIDR") for i, c in enumerate(cluster.pod_cidrs)]
    yield (
        "serviceCIDRs",
        [_Prefix(c, k8s / "serviceCIDRs" / i, "service CIDR") for i, c in enumerate(cluster.service_cidrs)],
    )
    for network in cluster.networks:
        yield (
            "cidrs",
            [_Prefix(c, network.origin / "cidrs" / i, f"network {network.name}") for i, c in enumerate(network.cidrs)],
        )


def _lists(cluster: Cluster) -> Iterator[tuple[str, list[_Value]]]:
    """Every list of the cluster that takes at most one value per family."""
    for key, prefixes in _prefix_lists(cluster):
        yield key, [_Value(p.net, p.origin, p.what) for p in prefixes]
    vips = cluster.control_plane.origin / "vips"
    yield "vips", [_Value(v, vips / i, "VIP") for i, v in enumerate(cluster.control_plane.vips)]
    for network in cluster.networks:
        gateways = network.origin / "gateways"
        yield (
            "gateways",
            [_Value(g, gateways / i, f"gateway of {network.name}") for i, g in enumerate(network.gateways)],
        )
    for host in cluster.hosts:
        for link in host.links:
            origin = link.origin / "addresses"
            yield "addresses", [_Value(a, origin / i, f"address of {host.name}") for i, a in enumerate(link.addresses)]
    for attachment in cluster.attachments:
        ipam = attachment.ipam
        yield "ipam.cidrs", [_Value(c, ipam.origin / "cidrs" / i, "IPAM prefix") for i, c in enumerate(ipam.cidrs)]
        yield "ipam.gateways", [_Value(g, ipam.origin / "gateways" / i, "gateway") for i, g in enumerate(ipam.gateways)]


@cluster_rule("NG205", Severity.ERROR, "IP family not used by the cluster")
def families_used(cluster: Cluster) -> Iterator[Finding]:
    """
    A prefix or address is of an IP family that the cluster's `families` does not list
    (an IPv6 pod CIDR in an `[ipv4]` cluster, say). Either add the family to `families` or
    remove the value: netgen never lets a family slip in by accident.
    """
    families = ", ".join(cluster.families)
    excludes = [
        _Value(p, h.origin / "nodeIPExclude" / i, "nodeIPExclude")
        for h in cluster.hosts
        for i, p in enumerate(h.node_ip_exclude)
    ] + [
        _Value(p, n.origin / "nodeIPExclude" / i, "nodeIPExclude")
        for n in cluster.networks
        for i, p in enumerate(n.node_ip_exclude)
    ]
    extras = [
        _Value(b.first, p.origin / "addresses" / i, f"pool {p.name} block")
        for p in (cluster.metallb.pools if cluster.metallb else ())
        for i, b in enumerate(p.addresses)
    ]
    values = [v for _, values in _lists(cluster) for v in values] + excludes + extras
    for item in values:
        if Family.of(item.value) not in cluster.families:
            yield Finding(
                item.origin,
                f"{item.what} {item.value} is {Family.of(item.value)}, but cluster {cluster.name} is [{families}]",
                f"add {Family.of(item.value)} to `families`, or remove this value",
            )


@cluster_rule("NG206", Severity.ERROR, "family without pod or service CIDR")
def families_have_cidrs(cluster: Cluster) -> Iterator[Finding]:
    """
    One of the cluster's families has no pod CIDR or no service CIDR. Kubernetes needs both
    for every family it serves (dual-stack needs one of each per family).
    """
    k8s = cluster.origin / "kubernetes"
    for key, cidrs in (("podCIDRs", cluster.pod_cidrs), ("serviceCIDRs", cluster.service_cidrs)):
        present = {Family.of(c) for c in cidrs}
        for family in cluster.families:
            if family not in present:
                yield Finding(k8s / key, f"{key} has no {family} prefix", f"add an {family} prefix to {key}")


@cluster_rule("NG207", Severity.ERROR, "more than one value per family")
def one_per_family(cluster: Cluster) -> Iterator[Finding]:
    """
    A list that takes one value per family has two of the same family: pod or service
    CIDRs, a network's prefixes or gateways, a NIC's static addresses, the VIPs, or an
    attachment's IPAM prefixes or gateways (Kube-OVN takes one CIDR block per family).
    """
    for key, values in _lists(cluster):
        seen: set[Family] = set()
        for item in values:
            family = Family.of(item.value)
            if family in seen:
                yield Finding(item.origin, f"{key} has a second {family} value ({item.value})", "keep one per family")
            seen.add(family)


# kube-apiserver limits the service range to 20 host bits; fewer than 8 addresses is no range at all
_SERVICE_PREFIX_BOUNDS = {4: (12, 29), 6: (108, 125)}


@cluster_rule("NG209", Severity.ERROR, "service CIDR size out of range")
def service_cidr_size(cluster: Cluster) -> Iterator[Finding]:
    """
    A service CIDR is larger than kube-apiserver accepts (IPv4 wider than /12, IPv6 wider
    than /108) or has fewer than 8 addresses (IPv4 narrower than /29, IPv6 narrower than
    /125).
    """
    for index, cidr in enumerate(cluster.service_cidrs):
        shortest, longest = _SERVICE_PREFIX_BOUNDS[cidr.version]
        if not shortest <= cidr.prefixlen <= longest:
            yield Finding(
                cluster.origin / "kubernetes" / "serviceCIDRs" / index,
                f"service CIDR {cidr} is /{cidr.prefixlen}; IPv{cidr.version} service CIDRs must be "
                f"/{shortest} to /{longest}",
                f"use a prefix length from /{shortest} to /{longest}",
            )


@cluster_rule("NG210", Severity.ERROR, "overlapping prefixes")
def no_overlaps(cluster: Cluster) -> Iterator[Finding]:
    """
    Pod CIDRs, service CIDRs and the node networks must not overlap one another. An
    overlap makes addresses ambiguous; a node address inside a service CIDR even
    disappears from Talos's node addresses (talos#13469).
    """
    prefixes = [p for _, prefixes in _prefix_lists(cluster) for p in prefixes]
    # sorted by start address, a prefix can only overlap the ones still open where it starts
    prefixes.sort(key=lambda p: (p.net.version, int(p.net.network_address), p.net.prefixlen))
    open_prefixes: list[_Prefix] = []
    for item in prefixes:
        start = int(item.net.network_address)
        open_prefixes = [
            o for o in open_prefixes if o.net.version == item.net.version and start <= int(o.net.broadcast_address)
        ]
        for earlier in open_prefixes:
            yield Finding(
                item.origin,
                f"{item.what} {item.net} overlaps {earlier.what} {earlier.net}",
                "pod CIDRs, service CIDRs and node networks must be disjoint; pick non-overlapping prefixes",
            )
        open_prefixes.append(item)
