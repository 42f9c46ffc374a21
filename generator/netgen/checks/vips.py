"""Control-plane VIPs."""

from __future__ import annotations

from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Severity
from netgen.model import Cluster, Family, Host, Network
from netgen.targets import TALOS_MULTIDOC_SINCE


@cluster_rule("NG301", Severity.ERROR, "VIP outside the networks")
def vips_in_one_network(cluster: Cluster) -> Iterator[Finding]:
    """
    A VIP lies in none of the cluster's networks, or the VIPs lie in different networks. A
    layer-2 VIP is announced on the control planes' NIC in its network, so all VIPs must be
    inside one network (one per family).
    """
    first_network = cluster.vip_network
    for index, vip in enumerate(cluster.control_plane.vips):
        origin = cluster.control_plane.origin / "vips" / index
        network = next((n for n in cluster.networks if n.contains(vip)), None)
        if Family.of(vip) not in cluster.families:
            continue  # a family the cluster does not use at all (NG205)
        if network is None:
            yield Finding(
                origin,
                f"VIP {vip} is in none of the networks of cluster {cluster.name}",
                "use a free address of the control planes' network",
            )
        elif first_network is not None and network is not first_network:
            yield Finding(
                origin,
                f"VIP {vip} is in network {network.name}, the first VIP in {first_network.name}",
                "put every VIP in the same network",
            )


@cluster_rule("NG302", Severity.ERROR, "VIP is taken")
def vips_free(cluster: Cluster) -> Iterator[Finding]:
    """
    A VIP equals a host's static address, a gateway, or the subnet or broadcast address of
    its network. The VIP floats between control planes, so it must be an address that no
    host or router owns.
    """
    owners = cluster.address_owners(vips=False)
    owners |= {
        special: f"a reserved address of {cidr}"
        for n in cluster.networks
        for cidr in n.cidrs
        if cidr.version == 4 and cidr.prefixlen < 31
        for special in (cidr.network_address, cidr.broadcast_address)
    }
    for index, vip in enumerate(cluster.control_plane.vips):
        if vip in owners:
            yield Finding(
                cluster.control_plane.origin / "vips" / index,
                f"VIP {vip} is {owners[vip]}",
                "pick an address that no host, router or subnet uses",
            )


@cluster_rule("NG303", Severity.ERROR, "control plane not on the VIP network")
def controlplanes_reach_vip(cluster: Cluster) -> Iterator[Finding]:
    """
    A control plane has no NIC on the VIPs' network, so it could never hold the VIPs: every
    control plane needs a NIC on that network. When no control plane has one, the error is
    reported at each VIP, naming its network: the VIP is likely an address of the wrong
    network (use a free address of the control planes' network), or their NICs on it are
    missing. When only some lack one, each of those is reported at its `nics`.
    """
    network = cluster.vip_network
    controlplanes = [host for host in cluster.hosts if host.is_controlplane]
    if network is None or not controlplanes:
        return
    missing = [host for host in controlplanes if host.link_on(network.name) is None]
    if len(missing) == len(controlplanes):
        yield from _vips_out_of_reach(cluster, network, controlplanes)
    elif network is not cluster.node_network:  # on the node network every host needs a NIC anyway (NG306)
        for host in missing:
            yield Finding(
                host.origin / "nics",
                f"control plane {host.name} has no NIC on network {network.name}, which holds the VIPs",
                f"add a NIC with `network: {network.name}` to {host.name}",
            )


def _vips_out_of_reach(cluster: Cluster, network: Network, controlplanes: list[Host]) -> Iterator[Finding]:
    """NG303 at each VIP in ``network``, on which none of ``controlplanes`` has a NIC."""
    # the networks every control plane is on: where the VIPs could be instead
    shared = [n.name for n in cluster.networks if all(host.link_on(n.name) for host in controlplanes)]
    instead = f"use a free address of network {shared[0]}, where the control planes are, or " if shared else ""
    hint = f"{instead}add a NIC with `network: {network.name}` to every control plane"
    if cluster.node_network_name is None:
        hint += f" (without `kubernetes.nodeNetwork`, {network.name} is the node network too)"
    for index, vip in enumerate(cluster.control_plane.vips):
        if network.contains(vip) and Family.of(vip) in cluster.families:
            yield Finding(
                cluster.control_plane.origin / "vips" / index,
                f"VIP {vip} is on network {network.name}, where no control plane has a NIC",
                hint,
            )


@cluster_rule("NG304", Severity.ERROR, "several VIPs need Talos 1.12")
def legacy_single_vip(cluster: Cluster) -> Iterator[Finding]:
    """
    Talos before 1.12 takes one VIP per interface (`machine.network.interfaces[].vip`), so a
    second VIP (a dual-stack pair, say) cannot be configured there. Target Talos 1.12 or
    later, whose `Layer2VIPConfig` documents take several VIPs on one link, or keep one VIP.
    """
    vips = cluster.control_plane.vips
    if len(vips) > 1 and cluster.talos_version < TALOS_MULTIDOC_SINCE:
        yield Finding(
            cluster.control_plane.origin / "vips" / 1,
            f"Talos {cluster.talos_version} takes one VIP per interface; this is a second VIP",
            f'set `talos.version` to "{TALOS_MULTIDOC_SINCE}" or later, or keep one VIP',
        )
