"""Talos machine-config patches (docs/talos.md; failures F1 and F2).

Each Talos target of :data:`netgen.targets.TALOS` names its dialect, served here by one
:class:`TalosDialect`: the legacy ``machine.network.interfaces`` patch up to 1.11, the
multi-document network config from 1.12.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netgen.model import Cluster, Family, Host, Nic, Version
from netgen.model.nodeip import has_dynamic_ipv6, node_ip_selection
from netgen.plan.artifact import Artifact
from netgen.targets import link_ref, talos_target

#: Talos's own default metric; links off the node network get a worse one, so the node
#: network keeps the default route when several networks have gateways
NODE_NETWORK_METRIC = 1024
OTHER_NETWORK_METRIC = 2048


@dataclass(frozen=True, slots=True)
class TalosDialect:
    node_template: str
    cluster_template: str = "talos/cluster.yaml.j2"
    schema: str = "talos-patch"


#: how each dialect of :data:`netgen.targets.TALOS` is laid out
DIALECTS = {
    "legacy": TalosDialect("talos/node-legacy.yaml.j2"),
    "multidoc": TalosDialect("talos/node-multidoc.yaml.j2"),
}


def dialect_for(version: Version) -> TalosDialect:
    return DIALECTS[talos_target(version).dialect]


@dataclass(frozen=True, slots=True)
class Route:
    gateway: str
    metric: int
    family: Family

    @property
    def default_destination(self) -> str:
        return "0.0.0.0/0" if self.family is Family.IPV4 else "::/0"


@dataclass(frozen=True, slots=True)
class Link:
    #: what other documents call the link: its kernel name, else its alias
    ref: str
    #: the LinkAliasConfig name when the NIC is selected by MAC (no usable kernel name)
    alias: str | None
    mac: str
    addresses: tuple[str, ...]
    routes: tuple[Route, ...]
    mtu: int | None
    dhcp4: bool
    dhcp6: bool
    metric: int
    vips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NodePatch:
    hostname: str
    controlplane: bool
    links: tuple[Link, ...]
    valid_subnets: tuple[str, ...]
    #: etcd's advertised subnets; control planes only
    advertised_subnets: tuple[str, ...]
    address_sort_v2: bool


@dataclass(frozen=True, slots=True)
class ClusterPatch:
    endpoint: str | None
    pod_subnets: tuple[str, ...]
    service_subnets: tuple[str, ...]


def plan(cluster: Cluster) -> Iterator[Artifact]:
    dialect = dialect_for(cluster.talos_version)
    yield Artifact(
        path=f"{cluster.name}/talos/cluster.yaml",
        template=dialect.cluster_template,
        context={"cluster": cluster_patch(cluster)},
        schema=dialect.schema,
    )
    for host in cluster.hosts:
        yield Artifact(
            path=f"{cluster.name}/talos/nodes/{host.name}.yaml",
            template=dialect.node_template,
            context={"node": node_patch(cluster, host)},
            schema=dialect.schema,
        )


def cluster_patch(cluster: Cluster) -> ClusterPatch:
    return ClusterPatch(
        endpoint=cluster.endpoint,
        pod_subnets=cluster.in_family_order(cluster.pod_cidrs),
        service_subnets=cluster.in_family_order(cluster.service_cidrs),
    )


def node_patch(cluster: Cluster, host: Host) -> NodePatch:
    selection = node_ip_selection(cluster, host)
    subnets = tuple(selection.subnets) if selection is not None else ()
    return NodePatch(
        hostname=host.name,
        controlplane=host.is_controlplane,
        links=tuple(_link(cluster, host, nic) for nic in host.nics if nic.network is not None),
        valid_subnets=subnets,
        advertised_subnets=subnets if host.is_controlplane else (),
        address_sort_v2=has_dynamic_ipv6(cluster, host),
    )


def _link(cluster: Cluster, host: Host, nic: Nic) -> Link:
    network = cluster.network(nic.network)
    assert network is not None, "checks guarantee every NIC network exists"
    metric = NODE_NETWORK_METRIC if network is cluster.node_network else OTHER_NETWORK_METRIC
    vip_network = cluster.vip_network
    on_vip_network = host.is_controlplane and vip_network is not None and network is vip_network
    kernel_name = nic.link_name
    ref = link_ref(nic)
    assert ref is not None
    families = [f for f in cluster.families if network.cidr(f) is not None]
    return Link(
        ref=ref,
        alias=None if kernel_name else network.name,
        mac=str(nic.mac),
        addresses=tuple(str(a) for a in sorted(nic.addresses, key=lambda a: families.index(Family.of(a)))),
        # a family on DHCP gets its routes from DHCP; static routes go with static addresses
        routes=tuple(
            Route(str(gateway), metric, family)
            for family in families
            if (gateway := network.gateway(family)) is not None and nic.static_address(family) is not None
        ),
        mtu=network.mtu,
        dhcp4=Family.IPV4 in families and nic.static_address(Family.IPV4) is None,
        dhcp6=Family.IPV6 in families and nic.static_address(Family.IPV6) is None,
        metric=metric,
        vips=cluster.in_family_order(cluster.control_plane.vips) if on_vip_network else (),
    )
