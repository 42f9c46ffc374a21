"""Which addresses kubelet and etcd may pick as the node IP (failure F2; docs/talos.md).

Talos filters node addresses through ``validSubnets``/``advertisedSubnets`` in order:
a positive entry adds the addresses it matches, a ``!`` entry removes the ones matched
so far (siderolabs/net ``FilterIPs``). So a list of exclusions alone matches nothing,
and an exclusion must come after the entries it filters. One function computes the
list; the planner writes it and the checks prove it selects the host's address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netgen.model import Cluster, Family, Host, IPAddress, IPNetwork


@dataclass(frozen=True, slots=True)
class NodeIPSelection:
    positives: tuple[IPNetwork, ...]
    exclusions: tuple[IPNetwork, ...]

    @property
    def subnets(self) -> list[str]:
        """Positive entries first, exclusions last: never exclusions alone."""
        return [str(p) for p in self.positives] + [f"!{e}" for e in self.exclusions]

    def selects(self, address: IPAddress) -> bool:
        return any(address in p for p in self.positives if p.version == address.version) and not self.excluder(
            ipaddress.ip_network((address, address.max_prefixlen))
        )

    def excluder(self, prefix: IPNetwork) -> IPNetwork | None:
        """The exclusion that removes all of ``prefix`` (a single address is a /32 or /128)."""
        return next((e for e in self.exclusions if prefix.network_address in e and prefix.broadcast_address in e), None)

    def dead_positives(self) -> list[tuple[IPNetwork, IPNetwork]]:
        """Positive entries that a later exclusion removes entirely, with that exclusion."""
        return [(p, e) for p in self.positives if (e := self.excluder(p)) is not None]


def node_ip_selection(cluster: Cluster, host: Host) -> NodeIPSelection | None:
    """The selection for a host, or None when it has no NIC on the node network.

    A static address is pinned as a /32 or /128: it is known, and pinning it keeps a SLAAC
    or DHCP address in the same prefix from being picked instead. A family without a
    static address selects the node network's prefix of that family.
    """
    network = cluster.node_network
    nic = host.link_on(network.name) if network is not None else None
    if network is None or nic is None:
        return None
    positives: list[IPNetwork] = []
    for family in cluster.families:
        static = nic.static_address(family)
        if static is not None:
            positives.append(ipaddress.ip_network((static.ip, static.ip.max_prefixlen)))
        elif (cidr := network.cidr(family)) is not None:
            positives.append(cidr)
    exclusions = tuple(dict.fromkeys((*network.node_ip_exclude, *host.node_ip_exclude)))
    return NodeIPSelection(tuple(positives), exclusions)


def has_dynamic_ipv6(cluster: Cluster, host: Host) -> bool:
    """Whether SLAAC or DHCPv6 can give the host several IPv6 addresses to choose from."""
    for link in host.links:
        network = cluster.network(link.network)
        if network is not None and network.cidr(Family.IPV6) is not None and link.static_address(Family.IPV6) is None:
            return True
    return False
