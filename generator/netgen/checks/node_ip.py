"""Node-IP selection for kubelet and etcd (failure F2; docs/talos.md)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import Cluster, Family, Host, IPNetwork, Network
from netgen.model.nodeip import node_ip_selection


@cluster_rule("NG305", Severity.ERROR, "node network not determined")
def node_network_known(cluster: Cluster) -> Iterator[Finding]:
    """
    The cluster has several networks and no VIP, so netgen cannot tell which network's
    addresses kubelet and etcd must use. Name it with `kubernetes.nodeNetwork`.
    """
    if cluster.node_network_name is None and not cluster.control_plane.vips and len(cluster.networks) > 1:
        yield Finding(
            cluster.origin / "kubernetes",
            f"cluster {cluster.name} has {len(cluster.networks)} networks and no VIP; the node network is unknown",
            "set `kubernetes.nodeNetwork` to the network kubelet and etcd should use",
        )


@cluster_rule("NG306", Severity.ERROR, "host not on the node network")
def hosts_on_node_network(cluster: Cluster) -> Iterator[Finding]:
    """
    A host has no NIC on the node network, so kubelet (and etcd on control planes) would
    have no address to use there.
    """
    network = cluster.node_network
    if network is None:
        return
    if cluster.node_network_name is None:
        implied = "the VIPs' network" if network is cluster.vip_network else "the only network"
        other = f"set `kubernetes.nodeNetwork` ({network.name} is the node network as {implied})"
    else:
        other = "choose another `kubernetes.nodeNetwork`"
    for host in cluster.hosts:
        if host.link_on(network.name) is None:
            yield Finding(
                host.origin / "nics",
                f"host {host.name} has no NIC on the node network {network.name}",
                f"add a NIC with `network: {network.name}`, or {other}",
            )


@cluster_rule("NG307", Severity.ERROR, "node network lacks a family")
def node_network_families(cluster: Cluster) -> Iterator[Finding]:
    """
    The node network has no prefix for one of the cluster's families. Each node needs an
    address of every cluster family on the node network (dual-stack nodes need both).
    """
    network = cluster.node_network
    if network is None:
        return
    for family in cluster.families:
        if network.cidr(family) is None:
            yield Finding(
                network.origin / "cidrs",
                f"node network {network.name} has no {family} prefix, but cluster {cluster.name} is {family}",
                f"add an {family} prefix to network {network.name}",
            )


@cluster_rule("NG308", Severity.ERROR, "node address not selectable")
def node_address_selected(cluster: Cluster) -> Iterator[Finding]:
    """
    `nodeIPExclude` (of the node network or the host) removes the host's own static node
    address, or the whole node network prefix of a DHCP/SLAAC host, from the node-IP
    selection. kubelet would then find no node IP and etcd would never start.
    """
    network = cluster.node_network
    if network is None:
        return
    for host in cluster.hosts:
        selection = node_ip_selection(cluster, host)
        nic = host.link_on(network.name)
        if selection is None or nic is None:
            continue
        candidates = [
            (f"{a.ip}, the node address", ipaddress.ip_network((a.ip, a.ip.max_prefixlen))) for a in nic.addresses
        ]
        candidates += [
            (f"{prefix}, the node network", prefix)
            for prefix, _ in selection.dead_positives()
            if nic.static_address(Family.of(prefix)) is None
        ]
        for what, prefix in candidates:
            exclusion = selection.excluder(prefix)
            if exclusion is None:
                continue
            yield Finding(
                _exclusion_origin(network, host, exclusion),
                f"nodeIPExclude {exclusion} removes {what} of host {host.name}",
                "exclude only the prefix that must not be used (e.g. the SLAAC /64), not the host's own address",
            )


def _exclusion_origin(network: Network, host: Host, exclusion: IPNetwork) -> Origin:
    for owner, prefixes in ((host.origin, host.node_ip_exclude), (network.origin, network.node_ip_exclude)):
        if exclusion in prefixes:
            return owner / "nodeIPExclude" / prefixes.index(exclusion)
    return host.origin


@cluster_rule("NG309", Severity.WARNING, "nodeIPExclude has no effect")
def node_ip_exclude_on_node_network(cluster: Cluster) -> Iterator[Finding]:
    """
    `nodeIPExclude` is set on a network that is not the node network. Only the node
    network's addresses are ever candidates for kubelet's and etcd's node IP, so the list is
    ignored there. Move it to the node network (or to the host).
    """
    node_network = cluster.node_network
    if node_network is None:
        return
    for network in cluster.networks:
        if network.node_ip_exclude and network is not node_network:
            yield Finding(
                network.origin / "nodeIPExclude",
                f"network {network.name} is not the node network ({node_network.name}); its nodeIPExclude is ignored",
                f"move nodeIPExclude to network {node_network.name}",
            )
