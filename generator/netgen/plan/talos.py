"""Talos machine-config patches (docs/talos.md; failures F1 and F2).

Each Talos target of :data:`netgen.targets.TALOS` names its dialect, served here by one
:class:`TalosDialect`: the legacy ``machine.network.interfaces`` patch up to 1.11, the
multi-document network config from 1.12. Where the Kubernetes settings go is the target's
too: v1alpha1 ``machine.kubelet.nodeIP``, ``cluster.network`` and
``cluster.controlPlane.endpoint`` up to 1.13; from 1.14 the ``KubeNodeConfig``,
``KubeNetworkConfig`` and ``KubeClusterConfig`` documents, next to which Talos rejects those
v1alpha1 fields (they are then never written). The plan holds each setting in the place it
goes; the templates write what the plan holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from netgen.model import Bond, Bridge, Cluster, Family, Host, Nic, Version, Vlan
from netgen.model import Link as ModelLink
from netgen.model.nodeip import has_dynamic_ipv6, node_ip_selection
from netgen.plan.artifact import Artifact
from netgen.targets import kernel_name, link_ref, multidoc, talos_target

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


#: what ``disableOffloads`` turns off: the checksum and UDP-tunnel (VXLAN) offloads that
#: vmxnet3 gets wrong (failure F3; ethtool feature names, as Talos's EthernetConfig takes them)
VMXNET3_OFFLOADS = ("tx-checksum-ip-generic", "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation")


@dataclass(frozen=True, slots=True)
class Route:
    gateway: str
    metric: int
    family: Family
    #: None for the default route (written without a destination from Talos 1.12)
    destination: str | None = None

    @property
    def network(self) -> str:
        """The destination as the legacy ``routes[].network`` takes it."""
        if self.destination is not None:
            return self.destination
        return "0.0.0.0/0" if self.family is Family.IPV4 else "::/0"


@dataclass(frozen=True, slots=True)
class Bonding:
    """What makes a link a bond: its members and mode."""

    #: the member NICs as Talos documents name them (kernel names or aliases)
    members: tuple[str, ...]
    #: their MACs, for the legacy ``deviceSelectors``
    member_macs: tuple[str, ...]
    mode: str
    lacp_rate: str | None
    hash_policy: str | None
    miimon: int | None


@dataclass(frozen=True, slots=True)
class Link:
    """One link of a node as Talos documents configure it."""

    #: ``link`` (a NIC), ``bond``, ``vlan`` or ``bridge``
    kind: str
    #: what other documents call the link: its kernel name, else its alias
    ref: str
    #: the LinkAliasConfig name when the NIC is selected by MAC (no usable kernel name)
    alias: str | None
    mac: str | None
    #: whether the link carries a network (addresses, DHCP, routes); else it is only brought up
    carries: bool
    #: a NIC that is a bond or bridge member: only its alias is written, the master configures it
    member: bool
    addresses: tuple[str, ...]
    routes: tuple[Route, ...]
    mtu: int | None
    dhcp4: bool
    dhcp6: bool
    metric: int
    vips: tuple[str, ...]
    bond: Bonding | None = None
    #: bridge: its member links as Talos documents name them, and spanning tree
    bridge_members: tuple[str, ...] = ()
    stp: bool = False
    #: vlan: its id and its parent as Talos documents name it
    vlan_id: int | None = None
    parent: str | None = None
    #: legacy dialect: the VLANs nested under this link
    vlans: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class KubeNode:
    """A ``KubeNodeConfig`` document: kubelet's node-IP selection."""

    valid_subnets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KubeCluster:
    """A ``KubeClusterConfig`` document; Talos requires both values."""

    name: str
    endpoint: str


@dataclass(frozen=True, slots=True)
class KubeNetwork:
    """A ``KubeNetworkConfig`` document; Talos replaces both lists on merge."""

    pod_subnets: tuple[str, ...]
    service_subnets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NodePatch:
    hostname: str
    controlplane: bool
    #: every configured link: NICs first, then bonds, bridges and VLANs (in the legacy dialect
    #: the VLANs are nested under their parent instead)
    links: tuple[Link, ...]
    #: v1alpha1 ``machine.kubelet.nodeIP.validSubnets``; empty where ``kube_node`` holds them
    valid_subnets: tuple[str, ...]
    #: v1alpha1 ``cluster.etcd.advertisedSubnets`` (every target); control planes only
    advertised_subnets: tuple[str, ...]
    #: v1alpha1 ``machine.features.nodeAddressSortAlgorithm: v2`` (every target)
    address_sort_v2: bool
    #: the ``KubeNodeConfig`` document (targets with Kubernetes documents)
    kube_node: KubeNode | None = None
    nameservers: tuple[str, ...] = ()
    search_domains: tuple[str, ...] = ()
    time_servers: tuple[str, ...] = ()
    #: kernel names of the NICs whose vmxnet3 offloads go off (``EthernetConfig``)
    offloads_off: tuple[str, ...] = ()
    offload_features: tuple[str, ...] = VMXNET3_OFFLOADS


@dataclass(frozen=True, slots=True)
class ClusterPatch:
    #: v1alpha1 ``cluster.controlPlane.endpoint``; None without an endpoint or where
    #: ``kube_cluster`` holds it
    endpoint: str | None
    #: v1alpha1 ``cluster.network``; empty where ``kube_network`` holds them
    pod_subnets: tuple[str, ...]
    service_subnets: tuple[str, ...]
    #: the ``KubeClusterConfig`` document (targets with Kubernetes documents, with an endpoint)
    kube_cluster: KubeCluster | None = None
    #: the ``KubeNetworkConfig`` document (targets with Kubernetes documents)
    kube_network: KubeNetwork | None = None


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
    pod_subnets = cluster.in_family_order(cluster.pod_cidrs)
    service_subnets = cluster.in_family_order(cluster.service_cidrs)
    if not talos_target(cluster.talos_version).kubernetes_documents:
        return ClusterPatch(endpoint=cluster.endpoint, pod_subnets=pod_subnets, service_subnets=service_subnets)
    # Talos requires both values of a KubeClusterConfig: without an endpoint, the one
    # `talosctl gen config` generated stays as it is
    return ClusterPatch(
        endpoint=None,
        pod_subnets=(),
        service_subnets=(),
        kube_cluster=KubeCluster(cluster.name, cluster.endpoint) if cluster.endpoint else None,
        kube_network=KubeNetwork(pod_subnets, service_subnets),
    )


def node_patch(cluster: Cluster, host: Host) -> NodePatch:
    selection = node_ip_selection(cluster, host)
    subnets = tuple(selection.subnets) if selection is not None else ()
    in_documents = talos_target(cluster.talos_version).kubernetes_documents
    nameservers = host.nameservers if host.nameservers is not None else cluster.nameservers
    return NodePatch(
        hostname=host.name,
        controlplane=host.is_controlplane,
        links=_links(cluster, host),
        valid_subnets=() if in_documents else subnets,
        advertised_subnets=subnets if host.is_controlplane else (),
        address_sort_v2=has_dynamic_ipv6(cluster, host),
        kube_node=KubeNode(subnets) if in_documents and subnets else None,
        nameservers=tuple(str(n) for n in nameservers),
        search_domains=cluster.search_domains,
        time_servers=host.time_servers if host.time_servers is not None else cluster.time_servers,
        offloads_off=tuple(n.link_name for n in host.nics if n.disable_offloads and n.link_name is not None),
    )


def _links(cluster: Cluster, host: Host) -> tuple[Link, ...]:
    """The node's links: NICs that carry a network, are a member (selected by MAC) or a VLAN
    parent; then bonds, bridges and VLANs. A NIC that is none of these is left alone."""
    members = set(host.masters())
    parents = {parent for vlan in host.vlans if (parent := host.parent(vlan)) is not None}
    nics = [
        _link(cluster, host, nic, members)
        for nic in host.nics
        if nic.network is not None or nic in members or nic in parents
    ]
    ordered: tuple[ModelLink, ...] = (*host.bonds, *host.bridges, *host.vlans)
    logical = [_link(cluster, host, link, members) for link in ordered]
    if multidoc(cluster):
        return (*nics, *logical)
    # legacy: VLANs nest under their parent's interface; bond and bridge members get no entry
    vlans = [link for link in logical if link.kind == "vlan"]
    nested = [
        replace(link, vlans=tuple(v for v in vlans if v.parent == link.ref))
        for link in (*nics, *logical)
        if link.kind != "vlan"
    ]
    return tuple(link for link in nested if link.kind != "link" or link.carries or link.vlans)


#: the Link ``kind`` of each kind of model link
_KINDS: dict[type, str] = {Nic: "link", Bond: "bond", Bridge: "bridge", Vlan: "vlan"}


def _link(cluster: Cluster, host: Host, link: ModelLink, members: set[ModelLink]) -> Link:
    network = cluster.network(link.network)
    # a legacy VLAN is nested under its parent and named by Talos after it: its name is
    # written nowhere, and may be unknown (a parent NIC selected by MAC)
    ref = _ref(cluster, host, link) if not isinstance(link, Vlan) or multidoc(cluster) else f"vlan{link.id}"
    metric = NODE_NETWORK_METRIC if network is not None and network is cluster.node_network else OTHER_NETWORK_METRIC
    common: dict[str, Any] = {
        "kind": _KINDS[type(link)],
        "ref": ref,
        "alias": None,
        "mac": None,
        "metric": metric,
        "member": link in members,
    }
    if isinstance(link, Nic):
        common["alias"] = ref if link.link_name is None else None
        common["mac"] = str(link.mac)
    if isinstance(link, Bond):
        common["bond"] = Bonding(
            members=tuple(link_ref(host, nic) or "" for mac in link.members if (nic := host.nic(mac)) is not None),
            member_macs=tuple(str(mac) for mac in link.members),
            mode=link.mode,
            lacp_rate=link.lacp_rate,
            hash_policy=link.hash_policy,
            miimon=link.miimon,
        )
    elif isinstance(link, Bridge):
        common["bridge_members"] = tuple(
            _ref(cluster, host, member) for reference in link.members if (member := host.member(reference))
        )
        common["stp"] = link.stp
    elif isinstance(link, Vlan):
        parent = host.parent(link)
        assert parent is not None, "checks guarantee every VLAN parent exists"
        common["vlan_id"] = link.id
        common["parent"] = _ref(cluster, host, parent)
    if network is None:
        return Link(carries=False, addresses=(), routes=(), mtu=link.mtu, dhcp4=False, dhcp6=False, vips=(), **common)
    on_vip_network = host.is_controlplane and cluster.vip_network is not None and network is cluster.vip_network
    families = [f for f in cluster.families if network.cidr(f) is not None]
    static = {family: link.static_address(family) for family in families}
    return Link(
        carries=True,
        addresses=tuple(str(a) for a in sorted(link.addresses, key=lambda a: families.index(Family.of(a)))),
        # a family on DHCP gets its default route from DHCP; static routes go with static addresses
        routes=(
            *(
                Route(str(gateway), metric, family)
                for family in families
                if (gateway := network.gateway(family)) is not None and static[family] is not None
            ),
            *(
                Route(str(r.gateway), r.metric or metric, Family.of(r.gateway), str(r.destination))
                for r in network.routes
            ),
        ),
        mtu=link.mtu if link.mtu is not None else network.mtu,
        dhcp4=Family.IPV4 in families and static[Family.IPV4] is None,
        dhcp6=Family.IPV6 in families and static[Family.IPV6] is None,
        vips=cluster.in_family_order(cluster.control_plane.vips) if on_vip_network else (),
        **common,
    )


def _ref(cluster: Cluster, host: Host, link: ModelLink) -> str:
    """How other documents name a link: a NIC by its kernel name or alias, the others by name."""
    ref = link_ref(host, link) if isinstance(link, Nic) else kernel_name(cluster, host, link)
    assert ref is not None, "checks guarantee a member or parent can be named"
    return ref
