"""Host addresses and gateways against their networks."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Severity
from netgen.model import Cluster, IPAddress, IPNetwork, describe


@cluster_rule("NG201", Severity.ERROR, "address outside its network")
def addresses_inside_network(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC's static address does not lie inside its network's prefix of the same family, or
    the NIC has addresses but no `network`. Every static address must belong to the NIC's
    network, so that routes, VIPs and node-IP selection agree with it.
    """
    for host in cluster.hosts:
        for link in host.links:
            network = cluster.network(link.network)
            for index, address in enumerate(link.addresses):
                origin = link.origin / "addresses" / index
                if link.network is None:
                    yield Finding(origin, f"{describe(link)} has addresses but no network", "add `network:` to it")
                elif network is not None and not network.contains(address.ip):
                    cidrs = ", ".join(str(c) for c in network.cidrs)
                    yield Finding(
                        origin,
                        f"address {address} of host {host.name} is outside network {network.name} ({cidrs})",
                        "fix the address, or put the NIC on the network it belongs to",
                    )


@cluster_rule("NG202", Severity.ERROR, "address used twice")
def unique_addresses(cluster: Cluster) -> Iterator[Finding]:
    """
    Two NICs of the cluster have the same static address, or a static address equals a
    gateway. Each address may be assigned once.
    """
    gateways = {g: n.name for n in cluster.networks for g in n.gateways}
    owners: dict[IPAddress, str] = {}
    for host in cluster.hosts:
        for link in host.links:
            for index, address in enumerate(link.addresses):
                origin = link.origin / "addresses" / index
                if address.ip in gateways:
                    yield Finding(
                        origin,
                        f"address {address.ip} of host {host.name} is the gateway of network {gateways[address.ip]}",
                        "give the host another address",
                    )
                elif address.ip in owners:
                    yield Finding(
                        origin,
                        f"address {address.ip} is used by hosts {owners[address.ip]} and {host.name}",
                        "give each host its own address; check for a copy-pasted host entry",
                    )
                else:
                    owners[address.ip] = host.name


@cluster_rule("NG203", Severity.ERROR, "address unusable in its network")
def usable_addresses(cluster: Cluster) -> Iterator[Finding]:
    """
    A static address has another prefix length than its network, or it is the network's
    own subnet address or (IPv4) its broadcast address. Talos would configure a different
    on-link prefix than the rest of the network uses, or an address no host may take.
    """
    for host in cluster.hosts:
        for link in host.links:
            network = cluster.network(link.network)
            if network is None:
                continue
            for index, address in enumerate(link.addresses):
                cidr = network.cidr_of(address.ip)
                if cidr is None:
                    continue
                origin = link.origin / "addresses" / index
                if address.network.prefixlen != cidr.prefixlen:
                    yield Finding(
                        origin,
                        f"address {address} has prefix length /{address.network.prefixlen}, "
                        f"network {network.name} is {cidr}",
                        f"write it as {address.ip}/{cidr.prefixlen}",
                    )
                elif _reserved(address.ip, cidr):
                    yield Finding(
                        origin,
                        f"address {address.ip} is the subnet or broadcast address of {cidr}",
                        "pick a host address inside the network",
                    )


def _reserved(address: IPAddress, cidr: IPNetwork) -> bool:
    if isinstance(cidr, IPv4Network) and cidr.prefixlen < 31:
        return address in (cidr.network_address, cidr.broadcast_address)
    return False


@cluster_rule("NG204", Severity.ERROR, "gateway outside its network")
def gateways_inside_network(cluster: Cluster) -> Iterator[Finding]:
    """
    A network's gateway is not inside the network's prefix of its family. A gateway must be
    on-link; an IPv6 link-local gateway such as `fe80::1` is on-link on every link and is
    accepted.
    """
    for network in cluster.networks:
        for index, gateway in enumerate(network.gateways):
            if gateway.version == 6 and gateway.is_link_local:
                continue
            if not network.contains(gateway):
                yield Finding(
                    network.origin / "gateways" / index,
                    f"gateway {gateway} is outside network {network.name} ({', '.join(str(c) for c in network.cidrs)})",
                    "use the router's address on this network (an IPv6 link-local fe80:: gateway is fine)",
                )
