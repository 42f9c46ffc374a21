"""Names, references, hosts and their NICs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence

from netgen.checks.framework import Finding, cluster_rule, inventory_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import (
    Bond,
    Bridge,
    Cluster,
    IpamType,
    Link,
    MacAddress,
    Vlan,
    describe,
    is_mac_altname,
    is_unstable_name,
)
from netgen.targets import TALOS_MULTIDOC_SINCE, kernel_name, link_ref


def _duplicates(named: Iterable[tuple[str, Origin]], kind: str, scope: str) -> Iterator[Finding]:
    seen: dict[str, Origin] = {}
    for name, origin in named:
        if name in seen:
            yield Finding(
                origin,
                f"{kind} name {name!r} is used twice{scope}",
                "names become file names and references; give each its own name",
            )
        else:
            seen[name] = origin


@inventory_rule("NG101", Severity.ERROR, "duplicate name")
def unique_names(clusters: Sequence[Cluster]) -> Iterator[Finding]:
    """
    Two clusters share a name, or two networks, hosts, MetalLB pools, vclusters or
    attachments (in one namespace) of one cluster do, or two Kube-OVN attachments would get
    the same cluster-wide Subnet name `<namespace>-<name>`. Names become folder and file names
    (`OUT/<cluster>/talos/nodes/<host>.yaml`) and references, so each must be unique in its
    scope.
    """
    yield from _duplicates(((c.name, c.origin / "name") for c in clusters), "cluster", "")
    for cluster in clusters:
        scope = f" in cluster {cluster.name}"
        yield from _duplicates(((n.name, n.origin / "name") for n in cluster.networks), "network", scope)
        yield from _duplicates(((h.name, h.origin / "name") for h in cluster.hosts), "host", scope)
        pools = cluster.metallb.pools if cluster.metallb else ()
        yield from _duplicates(((p.name, p.origin / "name") for p in pools), "pool", scope)
        yield from _duplicates(
            ((f"{a.namespace}/{a.name}", a.origin / "name") for a in cluster.attachments), "attachment", scope
        )
        yield from _duplicates(((v.name, v.origin / "name") for v in cluster.vclusters), "vcluster", scope)
        # Kube-OVN Subnets are cluster-wide and named <namespace>-<name>: team/a-b and team-a/b clash
        subnets = (
            (f"{a.namespace}-{a.name}", a.origin / "name")
            for a in cluster.attachments
            if a.ipam.type is IpamType.KUBE_OVN
        )
        yield from _duplicates(subnets, "Kube-OVN Subnet", scope)


def _unknown_network(cluster: Cluster, name: str, origin: Origin) -> Finding:
    known = [n.name for n in cluster.networks]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "networks of this cluster: " + ", ".join(known)
    return Finding(origin, f"network {name!r} is not a network of cluster {cluster.name}", hint)


@cluster_rule("NG102", Severity.ERROR, "unknown network")
def known_networks(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC's `network`, the cluster's `kubernetes.nodeNetwork`, a MetalLB pool's `l2.network`
    or an attachment's `network` names a network that the cluster does not define under
    `networks`.
    """
    names = {n.name for n in cluster.networks}
    if cluster.node_network_name is not None and cluster.node_network_name not in names:
        yield _unknown_network(cluster, cluster.node_network_name, cluster.origin / "kubernetes" / "nodeNetwork")
    for host in cluster.hosts:
        for link in host.links:
            if link.network is not None and link.network not in names:
                yield _unknown_network(cluster, link.network, link.origin / "network")
    for pool in cluster.metallb.pools if cluster.metallb else ():
        if pool.l2_network is not None and pool.l2_network not in names:
            yield _unknown_network(cluster, pool.l2_network, pool.origin / "l2" / "network")
    for attachment in cluster.attachments:
        if attachment.network not in names:
            yield _unknown_network(cluster, attachment.network, attachment.origin / "network")


@cluster_rule("NG103", Severity.ERROR, "MAC is not a unicast address")
def unicast_macs(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC's MAC is all zeros, or has the multicast bit (the lowest bit of the first octet)
    set, as the broadcast address ff:ff:ff:ff:ff:ff does. No real NIC has such a permanent
    address, so the selector would never match. Copy the MAC from `ip link` or facts.
    """
    for host in cluster.hosts:
        for nic in host.nics:
            if nic.mac.is_zero:
                yield Finding(nic.origin / "mac", f"MAC {nic.mac} is all zeros", "copy the NIC's real permanent MAC")
            elif nic.mac.is_multicast:
                yield Finding(
                    nic.origin / "mac",
                    f"MAC {nic.mac} is a multicast address (lowest bit of the first octet set)",
                    "copy the NIC's real permanent MAC; the first octet of a NIC's MAC is even",
                )


@inventory_rule("NG104", Severity.ERROR, "MAC used twice")
def unique_macs(clusters: Sequence[Cluster]) -> Iterator[Finding]:
    """
    Two NICs in the inventory have the same MAC. NICs are selected by MAC, so the MAC must
    be unique across the whole inventory; a repeated MAC is usually a copy-pasted host.
    """
    owners: dict[MacAddress, str] = {}
    for cluster in clusters:
        for host in cluster.hosts:
            for nic in host.nics:
                owner = host.name if len(clusters) == 1 else f"{cluster.name}/{host.name}"
                first = owners.get(nic.mac)
                if first is None:
                    owners[nic.mac] = owner
                    continue
                users = f"twice by host {owner}" if first == owner else f"by hosts {first} and {owner}"
                yield Finding(
                    nic.origin / "mac",
                    f"MAC {nic.mac} is used {users}",
                    "every NIC needs its own MAC; check for a copy-pasted host entry",
                )


@cluster_rule("NG105", Severity.ERROR, "a network carried twice on one host")
def one_link_per_network(cluster: Cluster) -> Iterator[Finding]:
    """
    Two links of one host (NICs, bonds, VLANs or bridges) carry the same network. netgen
    configures one link per network and host: to use two NICs on one network, bond them
    (`bonds`); otherwise leave the second without `network`, or put it on its own network.
    """
    for host in cluster.hosts:
        seen: dict[str, Link] = {}
        for link in host.links:
            if link.network is None:
                continue
            first = seen.setdefault(link.network, link)
            if first is not link:
                yield Finding(
                    link.origin / "network",
                    f"host {host.name} carries network {link.network} on {describe(first)} and on {describe(link)}",
                    "bond the NICs (`bonds`), or remove `network` from one of them",
                )


@cluster_rule("NG106", Severity.WARNING, "unstable link name")
def stable_link_names(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC's `name` in the inventory is an `enx<mac>` name or an `ethN` name. Since Talos 1.9
    `enx` names are udev *altnames*, and Talos before 1.10 never assigns a VIP on an altname
    (talos#10402); `ethN` names are handed out in probe order and can swap between boots on
    a host with several NICs. netgen does not configure the link by such a name: it selects
    the NIC by its MAC instead. Give the predictable kernel name (`ens7`), or drop `name`.
    """
    for host in cluster.hosts:
        for nic in host.nics:
            origin = nic.name_origin
            if nic.name is None or origin is None or origin.file != nic.origin.file or not is_unstable_name(nic.name):
                continue
            kind = "a MAC-derived altname" if is_mac_altname(nic.name) else "a probe-order name that can change"
            yield Finding(
                origin,
                f"{nic.name} is {kind}; the NIC is selected by its MAC instead",
                "write the predictable kernel name (e.g. ens7) or leave `name` out",
            )


@cluster_rule("NG107", Severity.ERROR, "two NICs with one link name")
def unique_link_names(cluster: Cluster) -> Iterator[Finding]:
    """
    Two NICs of one host have the same kernel link name (from the inventory or from facts).
    A link name identifies one link on a host, so one of the names is wrong.
    """
    for host in cluster.hosts:
        seen: set[str] = set()
        for nic in host.nics:
            if nic.name is None or nic.name_origin is None:
                continue
            if nic.name in seen:
                yield Finding(
                    nic.name_origin,
                    f"host {host.name} has two NICs named {nic.name}",
                    "check the names against `ip link` on the host, or drop `name` and let the MAC select the NIC",
                )
            seen.add(nic.name)


@cluster_rule("NG108", Severity.ERROR, "link alias clashes with a link name")
def aliases_distinct(cluster: Cluster) -> Iterator[Finding]:
    """
    On Talos 1.12 and later, a NIC selected by MAC gets a link alias named after its network
    (a bond or bridge member `<master>-port<n>`). Here that alias equals the kernel name of
    another link of the same host (a NIC, bond, VLAN or bridge), so two documents would name
    one link, which Talos rejects as conflicting. Rename the network (it is only an alias), or
    the other link.
    """
    if cluster.talos_version < TALOS_MULTIDOC_SINCE:
        return
    for host in cluster.hosts:
        # two equal kernel names (NG107) or two NICs on one network (NG105) are reported elsewhere
        kernel_names = {nic.link_name for nic in host.nics if nic.link_name is not None}
        logical: tuple[Bond | Vlan | Bridge, ...] = (*host.bonds, *host.vlans, *host.bridges)
        kernel_names |= {name for link in logical if (name := kernel_name(cluster, host, link)) is not None}
        for nic in host.nics:
            alias = link_ref(host, nic) if nic.link_name is None else None
            if alias is not None and alias in kernel_names:
                yield Finding(
                    nic.origin / ("network" if nic.network is not None else "mac"),
                    f"host {host.name}: network {alias} would alias a link also named {alias}",
                    f"rename network {alias}; names like {alias} are taken by real links",
                )
