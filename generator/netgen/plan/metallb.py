"""MetalLB IPAddressPools, L2Advertisements and the BGP resources (docs/kubernetes.md)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from netgen.model import AddressRange, BfdProfile, BgpPeer, Cluster, Pool
from netgen.plan.artifact import Artifact
from netgen.targets import kernel_name


@dataclass(frozen=True, slots=True)
class Advertisement:
    name: str
    #: kernel names to announce on; empty when some are unknown (then MetalLB uses every interface)
    interfaces: tuple[str, ...]
    #: the nodes (host names) that announce; empty for all nodes
    hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BgpAdvertisementPlan:
    name: str
    aggregation_length: int | None
    aggregation_length_v6: int | None
    communities: tuple[str, ...]
    local_pref: int | None
    peers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PoolPlan:
    name: str
    addresses: tuple[str, ...]
    auto_assign: bool
    advertisements: tuple[Advertisement, ...]
    bgp: tuple[BgpAdvertisementPlan, ...] = ()


@dataclass(frozen=True, slots=True)
class MetalLBPlan:
    namespace: str
    pools: tuple[PoolPlan, ...]
    peers: tuple[BgpPeer, ...] = ()
    bfd_profiles: tuple[BfdProfile, ...] = ()


def plan(cluster: Cluster) -> Iterator[Artifact]:
    if cluster.metallb is None or not cluster.metallb.pools:
        return
    yield Artifact(
        path=f"{cluster.name}/kubernetes/metallb.yaml",
        template="kubernetes/metallb.yaml.j2",
        context={
            "metallb": MetalLBPlan(
                cluster.metallb.namespace,
                tuple(_pool(cluster, p) for p in cluster.metallb.pools),
                tuple(replace(peer, hosts=tuple(sorted(peer.hosts))) for peer in cluster.metallb.peers),
                cluster.metallb.bfd_profiles,
            )
        },
        schema="metallb",
    )


def metallb_block(block: AddressRange) -> str:
    """A pool block as MetalLB takes it: a prefix, or first-last; a single address is a /32 or /128."""
    if block.first == block.last:
        return str(ipaddress.ip_network(block.first))
    return block.text if "/" in block.text else f"{block.first}-{block.last}"


_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def advertisement_name(pool: str, interface: str) -> str:
    """``<pool>.<interface>``: a DNS-1123 subdomain, as object names are. Pool names are labels
    and hold no dot, so this can never be another pool's own advertisement name, nor one of
    another pool's. A kernel name that is no subdomain (upper case, ``_``) is spelt in
    lower case with a digest of the original appended, so distinct names stay distinct."""
    if _SUBDOMAIN.fullmatch(interface):
        return f"{pool}.{interface}"
    slug = re.sub("[^a-z0-9]+", "-", interface.lower()).strip("-")
    digest = hashlib.sha256(interface.encode()).hexdigest()[:8]
    return f"{pool}.{slug}-{digest}" if slug else f"{pool}.{digest}"


def _advertisements(cluster: Cluster, pool: Pool) -> tuple[Advertisement, ...]:
    """MetalLB elects the announcing node among the nodes an advertisement selects, and
    matches interface names exactly and on every node alike. So every advertisement names
    the hosts with a NIC on the network (sorted): a node whose same-named NIC sits on another
    segment would otherwise announce there. Where hosts name the NIC differently, one name
    list for all would also announce on whatever NIC carries that name elsewhere; so each name
    gets its own advertisement, limited to the hosts using it and named after the interface
    (the name stays when hosts are added or removed)."""
    if pool.l2_network is None:
        return ()
    named = [
        (host.name, kernel_name(cluster, host, link))
        for host in cluster.hosts
        if (link := host.link_on(pool.l2_network)) is not None
    ]
    every_host = tuple(sorted(host for host, _ in named))
    if not named or any(name is None for _, name in named):
        return (Advertisement(pool.name, (), every_host),)
    hosts_by_name: dict[str, list[str]] = {}
    for host, name in named:
        assert name is not None
        hosts_by_name.setdefault(name, []).append(host)
    if len(hosts_by_name) == 1:
        return (Advertisement(pool.name, tuple(hosts_by_name), every_host),)
    return tuple(
        Advertisement(advertisement_name(pool.name, name), (name,), tuple(sorted(hosts_by_name[name])))
        for name in sorted(hosts_by_name)
    )


def _bgp_advertisements(pool: Pool) -> tuple[BgpAdvertisementPlan, ...]:
    """One advertisement is named after the pool; several ``<pool>.bgp-<n>`` (a dot, so never
    another pool's own name)."""
    return tuple(
        BgpAdvertisementPlan(
            name=pool.name if len(pool.bgp) == 1 else f"{pool.name}.bgp-{index + 1}",
            aggregation_length=adv.aggregation_length,
            aggregation_length_v6=adv.aggregation_length_v6,
            communities=adv.communities,
            local_pref=adv.local_pref,
            peers=adv.peers,
        )
        for index, adv in enumerate(pool.bgp)
    )


def _pool(cluster: Cluster, pool: Pool) -> PoolPlan:
    return PoolPlan(
        name=pool.name,
        addresses=tuple(metallb_block(b) for b in pool.addresses),
        auto_assign=pool.auto_assign,
        advertisements=_advertisements(cluster, pool),
        bgp=_bgp_advertisements(pool),
    )
