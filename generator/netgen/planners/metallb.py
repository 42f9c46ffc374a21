"""MetalLB IPAddressPools and L2Advertisements (SPEC §5.3)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from netgen.model import AddressRange, Cluster, Pool
from netgen.planners.artifact import Artifact


@dataclass(frozen=True, slots=True)
class PoolPlan:
    name: str
    addresses: tuple[str, ...]
    auto_assign: bool
    #: whether the pool gets an L2Advertisement
    l2: bool
    #: kernel names the L2Advertisement is limited to; empty for no limit
    interfaces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MetalLBPlan:
    namespace: str
    pools: tuple[PoolPlan, ...]


def plan(cluster: Cluster) -> Iterator[Artifact]:
    if cluster.metallb is None or not cluster.metallb.pools:
        return
    yield Artifact(
        path=f"{cluster.name}/kubernetes/metallb.yaml",
        template="kubernetes/metallb.yaml.j2",
        context={
            "metallb": MetalLBPlan(cluster.metallb.namespace, tuple(_pool(cluster, p) for p in cluster.metallb.pools))
        },
        schema="metallb",
    )


def metallb_block(block: AddressRange) -> str:
    """A pool block as MetalLB takes it: a prefix, or first-last; a single address is a /32 or /128."""
    if block.first == block.last:
        return str(ipaddress.ip_network(block.first))
    return block.text if "/" in block.text else f"{block.first}-{block.last}"


def _pool(cluster: Cluster, pool: Pool) -> PoolPlan:
    names: list[str | None] = []
    if pool.l2_network is not None:
        names = [nic.name for host in cluster.hosts if (nic := host.nic_on(pool.l2_network)) is not None]
    # MetalLB matches interface names exactly: limit the announcement only if every name is known
    interfaces = tuple(sorted({n for n in names if n is not None})) if names and None not in names else ()
    return PoolPlan(
        name=pool.name,
        addresses=tuple(metallb_block(b) for b in pool.addresses),
        auto_assign=pool.auto_assign,
        l2=pool.l2_network is not None,
        interfaces=interfaces,
    )
