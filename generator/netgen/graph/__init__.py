"""The topology of each cluster as a small graph, for ``netgen graph`` to draw.

:func:`build` is pure: from a loaded inventory it makes one :class:`ClusterGraph` per cluster,
whose nodes are the networks, each host's links (NICs, bonds, VLANs, bridges) grouped by host,
and what sits on a network (control-plane VIPs, MetalLB pools and BGP peers, attachments), and
whose edges say which link is a member or the parent of which, which link carries which
network, and what is announced or attached where. The writers (:mod:`.mermaid`, :mod:`.svg`,
:mod:`.html`) only lay out and escape what is here: every text is final, in inventory order,
so the same inventory always gives the same bytes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from netgen.errors import UsageError
from netgen.model import Bond, Bridge, Cluster, Host, Inventory, IPAddress, Link, Network, Nic, Pool, Vlan
from netgen.targets import CNI_TYPES, kernel_name, link_ref, multidoc


class Kind(enum.StrEnum):
    NETWORK = "network"
    NIC = "nic"
    BOND = "bond"
    VLAN = "vlan"
    BRIDGE = "bridge"
    VIP = "vip"
    POOL = "pool"
    PEER = "peer"
    ATTACHMENT = "attachment"


#: the kinds of a host's links
LINK_KINDS = (Kind.NIC, Kind.BOND, Kind.VLAN, Kind.BRIDGE)


class EdgeKind(enum.StrEnum):
    #: a NIC (or bond, VLAN) taken by a bond or bridge
    MEMBER = "member"
    #: a VLAN's parent link
    PARENT = "parent"
    #: a link carries a network
    CARRIES = "carries"
    #: a control-plane VIP on its network
    VIP = "vip"
    #: a pool announced over layer 2 on a network
    L2 = "l2"
    #: a BGP peer reached on a network
    REACHED = "reached"
    #: a pool announced by BGP to a peer
    BGP = "bgp"
    #: an attachment's pod interfaces on a network
    ATTACHES = "attaches"


@dataclass(frozen=True, slots=True)
class Node:
    """One box of the picture: a title and labelled details, plain text (writers escape it)."""

    id: str
    kind: Kind
    title: str
    #: (label, value) pairs, shown as ``label value`` lines under the title
    info: tuple[tuple[str, str], ...] = ()
    #: a network: its name; a link: the network it carries; a VIP, pool, peer or attachment:
    #: the network it sits beside
    network: str | None = None
    #: a link: its kernel name where it can be known before the host runs
    kernel_name: str | None = None
    #: a link: how many links it stacks on (a NIC 0, a bond over NICs 1, a VLAN on that bond 2)
    level: int = 0

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(f"{label} {value}" for label, value in self.info)

    def value(self, label: str) -> str | None:
        return next((v for k, v in self.info if k == label), None)


@dataclass(frozen=True, slots=True)
class HostGroup:
    id: str
    name: str
    role: str
    #: the host's links: NICs, bonds, VLANs and bridges, in the inventory's order
    links: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge in drawing order: from the hosts' side (left) to the services' side (right)."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True, slots=True)
class ClusterGraph:
    #: the prefix of every node id of the cluster (letters and digits)
    id: str
    name: str
    #: (label, value) pairs about the whole cluster: Talos target, families, endpoint, CIDRs
    summary: tuple[tuple[str, str], ...]
    hosts: tuple[HostGroup, ...]
    networks: tuple[Node, ...]
    #: VIPs, pools, BGP peers and attachments, in that order
    services: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return (*(link for host in self.hosts for link in host.links), *self.networks, *self.services)


# code points XML 1.0 cannot hold (and lone surrogates, which a file name given on the command
# line may carry): drawn as U+FFFD, so every writer's output is valid UTF-8 and valid XML
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """Text as every writer may show it: one line, valid in XML and in UTF-8."""
    return _UNPRINTABLE.sub("\ufffd", " ".join(text.splitlines()))


def _cleaned(text: str | None) -> str | None:
    return None if text is None else clean(text)


def title_of(inventory: Inventory) -> str:
    """The inventory as pictures name it: its file name (the same wherever it is run from)."""
    return clean(Path(inventory.name).name)


def build(inventory: Inventory, clusters: Sequence[str] | None = None) -> tuple[ClusterGraph, ...]:
    """One graph per cluster of ``inventory`` (only those named in ``clusters``, in inventory order).

    Raises :class:`UsageError` for a cluster name the inventory does not have.
    """
    known = [c.name for c in inventory.clusters]
    unknown = [n for n in clusters or () if n not in known]
    if unknown:
        raise UsageError(f"no cluster named {', '.join(unknown)}; the inventory has {', '.join(known)}")
    return tuple(
        cluster_graph(cluster, f"c{index}")
        for index, cluster in enumerate(inventory.clusters)
        if clusters is None or cluster.name in clusters
    )


def cluster_graph(cluster: Cluster, prefix: str = "c0") -> ClusterGraph:
    """The graph of one cluster; every node id starts with ``prefix`` (letters, digits)."""
    networks = {n.name: f"{prefix}n{i}" for i, n in enumerate(cluster.networks)}
    edges: list[Edge] = []
    hosts = tuple(_host_group(cluster, host, f"{prefix}h{i}", networks, edges) for i, host in enumerate(cluster.hosts))
    services = [
        *_vips(cluster, prefix, networks, edges),
        *_metallb(cluster, prefix, networks, edges),
        *_attachments(cluster, prefix, networks, edges),
    ]
    return ClusterGraph(
        id=prefix,
        name=clean(cluster.name),
        summary=_summary(cluster),
        hosts=hosts,
        networks=tuple(_network_node(cluster, n, networks[n.name]) for n in cluster.networks),
        services=tuple(services),
        edges=tuple(edges),
    )


def _texts(values: Iterable[object]) -> str:
    return ", ".join(clean(str(v)) for v in values)


def _summary(cluster: Cluster) -> tuple[tuple[str, str], ...]:
    summary = [
        ("Talos", str(cluster.talos_version)),
        ("families", _texts(cluster.families)),
        ("pods", _texts(cluster.pod_cidrs)),
        ("services", _texts(cluster.service_cidrs)),
    ]
    if cluster.endpoint is not None:
        summary.append(("endpoint", clean(cluster.endpoint)))
    if cluster.node_network is not None:
        summary.append(("node network", clean(cluster.node_network.name)))
    return tuple(summary)


def _network_node(cluster: Cluster, network: Network, node_id: str) -> Node:
    info = [("CIDR", _texts(network.cidrs))]
    if network.gateways:
        info.append(("gateway", _texts(network.gateways)))
    if network.mtu is not None:
        info.append(("MTU", str(network.mtu)))
    info += [("route", f"{r.destination} via {r.gateway}") for r in network.routes]
    if cluster.node_network is network:
        info.append(("node IPs", "yes"))
    name = clean(network.name)
    return Node(node_id, Kind.NETWORK, f"network {name}", tuple(info), network=name)


def _host_group(cluster: Cluster, host: Host, host_id: str, networks: dict[str, str], edges: list[Edge]) -> HostGroup:
    drawing = _HostDrawing(cluster, host, host_id, edges)
    levels = _levels(host)
    nodes: list[Node] = []
    for link in host.links:
        node_id = drawing.ids[link]
        known = kernel_name(cluster, host, link)
        title, info = drawing.describe(link, node_id, known)
        if link.network is not None:
            info.append(("addresses", _texts(link.addresses) if link.addresses else "DHCP"))
        if link.mtu is not None:
            info.append(("MTU", str(link.mtu)))
        if link.network is not None and link.network in networks:
            edges.append(Edge(node_id, networks[link.network], EdgeKind.CARRIES))
        nodes.append(
            Node(
                node_id,
                _LINK_KIND[type(link)],
                title,
                tuple(info),
                network=_cleaned(link.network),
                kernel_name=_cleaned(known),
                level=levels[link],
            )
        )
    return HostGroup(host_id, clean(host.name), str(host.role), tuple(nodes))


class _HostDrawing:
    """One host's links as nodes: each link's title and details, and the edges from the
    links it stacks on (bond and bridge members, a VLAN's parent)."""

    def __init__(self, cluster: Cluster, host: Host, host_id: str, edges: list[Edge]) -> None:
        self.cluster, self.host, self.edges = cluster, host, edges
        self.ids = {link: f"{host_id}l{i}" for i, link in enumerate(host.links)}

    def name_of(self, link: Link | None, reference: str) -> str:
        """A link as another link's details name it: its kernel name, else its MAC."""
        known = kernel_name(self.cluster, self.host, link) if link is not None else None
        return clean(known or (str(link.mac) if isinstance(link, Nic) else reference))

    def describe(self, link: Link, node_id: str, known: str | None) -> tuple[str, list[tuple[str, str]]]:
        host = self.host
        if isinstance(link, Nic):
            info = [("MAC", str(link.mac))]
            if known is None:
                info.append(("kernel name", "unknown (selected by MAC)"))
                alias = link_ref(host, link)
                if alias is not None and multidoc(self.cluster):
                    info.append(("alias", clean(alias)))
            if link.model is not None:
                info.append(("model", clean(link.model)))
            return (f"NIC {clean(known)}" if known else "NIC"), info
        if isinstance(link, Bond):
            self._from([host.nic(m) for m in link.members], node_id, EdgeKind.MEMBER, "member")
            members = ", ".join(self.name_of(host.nic(m), str(m)) for m in link.members)
            return f"bond {clean(link.name)}", [("mode", clean(link.mode)), ("members", members)]
        if isinstance(link, Vlan):
            parent = host.parent(link)
            self._from([parent], node_id, EdgeKind.PARENT, f"VLAN {link.id}")
            return f"VLAN {link.id}", [
                ("on", self.name_of(parent, link.parent)),
                ("kernel name", clean(known) if known else "named by Talos"),
            ]
        self._from([host.member(m) for m in link.members], node_id, EdgeKind.MEMBER, "member")
        info = [("members", ", ".join(self.name_of(host.member(m), m) for m in link.members))]
        if link.stp:
            info.append(("STP", "on"))
        return f"bridge {clean(link.name)}", info

    def _from(self, below: Iterable[Link | None], node_id: str, kind: EdgeKind, label: str) -> None:
        self.edges += [Edge(self.ids[b], node_id, kind, label) for b in below if b is not None and b in self.ids]


_LINK_KIND: dict[type, Kind] = {Nic: Kind.NIC, Bond: Kind.BOND, Vlan: Kind.VLAN, Bridge: Kind.BRIDGE}


def _levels(host: Host) -> dict[Link, int]:
    """How deep each link stacks: a NIC 0, a bond or bridge one more than its deepest member,
    a VLAN one more than its parent (a reference that leads in a circle counts as 0)."""
    levels: dict[Link, int] = {}

    def level(link: Link, seen: frozenset[Link]) -> int:
        if link in levels:
            return levels[link]
        if link in seen or isinstance(link, Nic):
            return 0
        below: list[Link | None]
        if isinstance(link, Bond):
            below = [host.nic(m) for m in link.members]
        elif isinstance(link, Vlan):
            below = [host.parent(link)]
        else:
            below = [host.member(m) for m in link.members]
        value = 1 + max((level(b, seen | {link}) for b in below if b is not None), default=0)
        levels[link] = value
        return value

    for link in host.links:
        levels[link] = level(link, frozenset())
    return levels


def _network_of(cluster: Cluster, address: IPAddress | None) -> str | None:
    """The network whose prefix holds ``address`` (None: reached through a route)."""
    if address is None:
        return None
    return next((n.name for n in cluster.networks if n.contains(address)), None)


def _vips(cluster: Cluster, prefix: str, networks: dict[str, str], edges: list[Edge]) -> list[Node]:
    holders = ", ".join(clean(h.name) for h in cluster.hosts if h.is_controlplane)
    nodes = []
    for index, vip in enumerate(cluster.control_plane.vips):
        node_id = f"{prefix}v{index}"
        network = _network_of(cluster, vip)
        info = [("on", holders)] if holders else []
        nodes.append(Node(node_id, Kind.VIP, f"VIP {vip}", tuple(info), network=_cleaned(network)))
        if network is not None:
            edges.append(Edge(networks[network], node_id, EdgeKind.VIP, "VIP"))
    return nodes


def _metallb(cluster: Cluster, prefix: str, networks: dict[str, str], edges: list[Edge]) -> list[Node]:
    metallb = cluster.metallb
    if metallb is None:
        return []
    peers = {peer.name: f"{prefix}g{i}" for i, peer in enumerate(metallb.peers)}
    peer_network = {peer.name: _network_of(cluster, peer.address) for peer in metallb.peers}
    nodes = [
        _pool(pool, f"{prefix}p{index}", peers=peers, peer_network=peer_network, networks=networks, edges=edges)
        for index, pool in enumerate(metallb.pools)
    ]
    # the peers after the pools that announce to them
    for peer in metallb.peers:
        node_id = peers[peer.name]
        network = peer_network[peer.name]
        info = [
            ("address", str(peer.address) if peer.address is not None else "?"),
            ("ASN", f"{peer.asn} ({'iBGP' if peer.ibgp else 'eBGP'}, my ASN {peer.my_asn})"),
        ]
        if peer.port is not None:
            info.append(("port", str(peer.port)))
        info.append(("reached on", clean(network) if network is not None else "a route (not a cluster network)"))
        if peer.ebgp_multihop:
            info.append(("eBGP", "multihop"))
        if peer.bfd_profile is not None:
            info.append(("BFD", clean(peer.bfd_profile)))
        info.append(("from", _texts(peer.hosts) if peer.hosts else "every node"))
        nodes.append(Node(node_id, Kind.PEER, f"BGP peer {clean(peer.name)}", tuple(info), network=_cleaned(network)))
        if network is not None:
            edges.append(Edge(networks[network], node_id, EdgeKind.REACHED, "BGP peer"))
    return nodes


def _pool(
    pool: Pool,
    node_id: str,
    *,
    peers: dict[str, str],
    peer_network: dict[str, str | None],
    networks: dict[str, str],
    edges: list[Edge],
) -> Node:
    info = [("addresses", _texts(block.text for block in pool.addresses))]
    if not pool.auto_assign:
        info.append(("auto-assign", "off"))
    if pool.l2_network is not None:
        info.append(("L2 on", clean(pool.l2_network)))
        if pool.l2_network in networks:
            edges.append(Edge(networks[pool.l2_network], node_id, EdgeKind.L2, "L2"))
    announced: list[str] = []
    for advertisement in pool.bgp:
        to = list(advertisement.peers) or list(peers)
        announced += [p for p in to if p not in announced]
        info.append(("BGP to", _texts(advertisement.peers) or "every peer"))
        lengths = [
            f"/{length} ({family})"
            for length, family in (
                (advertisement.aggregation_length, "IPv4"),
                (advertisement.aggregation_length_v6, "IPv6"),
            )
            if length is not None
        ]
        if lengths:
            info.append(("aggregated to", ", ".join(lengths)))
        if advertisement.communities:
            info.append(("communities", _texts(advertisement.communities)))
        if advertisement.local_pref is not None:
            info.append(("local-pref", str(advertisement.local_pref)))
    edges += [Edge(node_id, peers[p], EdgeKind.BGP, "BGP") for p in announced if p in peers]
    beside = pool.l2_network or next((peer_network[p] for p in announced if peer_network.get(p)), None)
    return Node(node_id, Kind.POOL, f"pool {clean(pool.name)}", tuple(info), network=_cleaned(beside))


def _attachments(cluster: Cluster, prefix: str, networks: dict[str, str], edges: list[Edge]) -> list[Node]:
    host_link = {t.name: t.host_link for t in CNI_TYPES}
    nodes = []
    for index, attachment in enumerate(cluster.attachments):
        node_id = f"{prefix}a{index}"
        kind = clean(attachment.type)
        info = [
            ("namespace", clean(attachment.namespace)),
            ("type", f"{kind} {clean(attachment.mode)}" if attachment.mode else kind),
            ("IPAM", str(attachment.ipam.type)),
        ]
        if host_link.get(attachment.type) is not None:
            names = {
                kernel_name(cluster, host, link)
                for host in cluster.hosts
                if (link := host.link_on(attachment.network)) is not None
            }
            known = sorted(clean(n) for n in names if n is not None)
            if known:
                info.append(("host link", ", ".join(known)))
        if attachment.device_mac is not None:
            info.append(("device", f"NIC {attachment.device_mac}"))
        if attachment.device_pci is not None:
            info.append(("device", f"PCI {clean(attachment.device_pci)}"))
        if attachment.resource_name is not None:
            info.append(("resource", clean(attachment.resource_name)))
        if attachment.vlan is not None:
            info.append(("VLAN", str(attachment.vlan)))
        if attachment.mac is not None:
            info.append(("MAC", str(attachment.mac)))
        network = attachment.network if attachment.network in networks else None
        title = f"attachment {clean(attachment.name)}"
        nodes.append(Node(node_id, Kind.ATTACHMENT, title, tuple(info), network=_cleaned(network)))
        if network is not None:
            edges.append(Edge(networks[network], node_id, EdgeKind.ATTACHES, kind))
    return nodes
