"""Links beyond one NIC per network: bonds, VLANs, bridges, routes (docs/inventory.md, links)."""

from __future__ import annotations

from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Origin, Severity
from netgen.model import Bond, Bridge, Cluster, Family, Host, Link, Nic, Vlan, describe
from netgen.targets import ENSLAVED_ALIAS_FIXED_IN, kernel_name, multidoc

#: the kernel's limit on a link name (IFNAMSIZ less the final NUL)
MAX_LINK_NAME = 15
#: bond modes and the options that apply to them (the kernel ignores or refuses the others)
LACP_MODES = frozenset({"802.3ad"})
HASH_MODES = frozenset({"802.3ad", "balance-xor", "balance-tlb"})
#: every bond mode needs two members to do what it is for (fail over, or spread the load)
MIN_BOND_MEMBERS = 2


@cluster_rule("NG111", Severity.ERROR, "link taken twice")
def members_taken_once(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC (or a bond or VLAN) is a member of two bonds or bridges, or it is a member and also
    carries a network or has addresses of its own, or it is a member NIC with an `mtu` (netgen
    writes no document for a member NIC: its bond or bridge configures it). A member hands its
    traffic to its bond or bridge, which carries the network: put `network`, `addresses` and the
    NICs' `mtu` on the bond or bridge, and give each NIC to one of them.
    """
    for host in cluster.hosts:
        for link, masters in host.masters().items():
            where, is_nic = f"host {host.name}: {describe(link)}", isinstance(link, Nic)
            if len(masters) > 1:
                yield Finding(
                    _member_origin(host, masters[1], link),
                    f"{where} is a member of {describe(masters[0])} and of {describe(masters[1])}",
                    "give each NIC to one bond or bridge",
                )
            # a member NIC gets no document of its own (its master configures it): no MTU either
            elif keys := [k for k in ("network", "addresses", "mtu") if getattr(link, k) and (k != "mtu" or is_nic)]:
                yield Finding(
                    link.origin / keys[0],
                    f"{where} is a member of {describe(masters[0])}, which carries its network and configures it",
                    f"move {' and '.join(f'`{k}`' for k in keys)} to {describe(masters[0])}",
                )


def _member_origin(host: Host, master: Bond | Bridge, link: Link) -> Origin:
    """Where ``master`` lists ``link`` among its members."""
    named: list[Link | None] = (
        [host.nic(mac) for mac in master.members]
        if isinstance(master, Bond)
        else [host.member(reference) for reference in master.members]
    )
    return master.origin / "members" / named.index(link) if link in named else master.origin / "members"


@cluster_rule("NG112", Severity.ERROR, "link reference unknown")
def references_known(cluster: Cluster) -> Iterator[Finding]:
    """
    A bond member is not the MAC of one of the host's NICs, a VLAN's `parent` is neither the
    MAC of one of its NICs nor the name of one of its bonds or bridges, or a bridge member is
    none of its NICs (by MAC), bonds or VLANs (by name). Links are named within their host.
    """
    for host in cluster.hosts:
        for bond in host.bonds:
            for index, mac in enumerate(bond.members):
                if host.nic(mac) is None:
                    yield Finding(
                        bond.origin / "members" / index,
                        f"host {host.name}: bond {bond.name} takes {mac}, which is not a NIC of this host",
                        "list the MACs of this host's NICs under `members`",
                    )
        for vlan in host.vlans:
            if host.parent(vlan) is None:
                nic = next((n for n in host.nics if n.name == vlan.parent), None)
                hint = (
                    f"a NIC is named by its MAC here: write `parent: {nic.mac}`"
                    if nic is not None
                    else "write the MAC of one of its NICs, or the name of one of its bonds or bridges"
                )
                yield Finding(
                    vlan.origin / "parent",
                    f"host {host.name}: VLAN {vlan.id} is on {vlan.parent}, which is no NIC, bond or bridge here",
                    hint,
                )
        for bridge in host.bridges:
            for index, member in enumerate(bridge.members):
                if host.member(member) is None or member == bridge.name:
                    yield Finding(
                        bridge.origin / "members" / index,
                        f"host {host.name}: bridge {bridge.name} takes {member}, which is no NIC, bond or VLAN here",
                        "write the MAC of one of its NICs, or the name of one of its bonds or VLANs",
                    )


@cluster_rule("NG113", Severity.ERROR, "bond too small for its mode")
def bond_members_enough(cluster: Cluster) -> Iterator[Finding]:
    """
    A bond has fewer than two members. Every bond mode exists to fail over between links or
    to spread traffic over them (802.3ad aggregates with the switch, active-backup keeps a
    standby), and with one member it does neither while looking redundant. Add the second
    NIC, or configure the NIC without a bond.
    """
    for host in cluster.hosts:
        for bond in host.bonds:
            if len(set(bond.members)) < MIN_BOND_MEMBERS:
                yield Finding(
                    bond.origin / "members",
                    f"host {host.name}: bond {bond.name} ({bond.mode}) has {len(set(bond.members))} member",
                    "add a second NIC to the bond, or use the NIC without a bond",
                )


@cluster_rule("NG114", Severity.ERROR, "bond option not of its mode")
def bond_options_fit_mode(cluster: Cluster) -> Iterator[Finding]:
    """
    A bond sets an option its mode does not use: `lacpRate` is LACP's (802.3ad only), and
    `hashPolicy` chooses the member for a flow in 802.3ad, balance-xor and balance-tlb only.
    The kernel ignores it in other modes, so it would suggest a behaviour the bond does not
    have. Remove the option, or pick the mode it belongs to.
    """
    for host in cluster.hosts:
        for bond in host.bonds:
            if bond.lacp_rate is not None and bond.mode not in LACP_MODES:
                yield Finding(
                    (bond.origin / "lacpRate").at_key(),
                    f"host {host.name}: bond {bond.name} is {bond.mode}; lacpRate applies to 802.3ad only",
                    "remove `lacpRate`, or use `mode: 802.3ad`",
                )
            if bond.hash_policy is not None and bond.mode not in HASH_MODES:
                yield Finding(
                    (bond.origin / "hashPolicy").at_key(),
                    f"host {host.name}: bond {bond.name} is {bond.mode}; hashPolicy applies to "
                    f"{', '.join(sorted(HASH_MODES))} only",
                    "remove `hashPolicy`, or use a mode that spreads flows",
                )


@cluster_rule("NG115", Severity.ERROR, "VLAN id invalid or used twice")
def vlan_ids(cluster: Cluster) -> Iterator[Finding]:
    """
    A VLAN id is outside 1-4094 (0 means "no VLAN" and 4095 is reserved by 802.1Q), or two
    VLANs on one parent have the same id, which would be one link.
    """
    for host in cluster.hosts:
        seen: set[tuple[str, int]] = set()
        for vlan in host.vlans:
            if not 1 <= vlan.id <= 4094:
                yield Finding(
                    vlan.origin / "id",
                    f"host {host.name}: VLAN id {vlan.id} is outside 1-4094",
                    "use the VLAN id the switch port carries, from 1 to 4094",
                )
            elif (vlan.parent, vlan.id) in seen:
                yield Finding(
                    vlan.origin / "id",
                    f"host {host.name}: VLAN {vlan.id} is on {vlan.parent} twice",
                    "remove the second one, or fix its id",
                )
            seen.add((vlan.parent, vlan.id))


@cluster_rule("NG116", Severity.ERROR, "link name too long or used twice")
def link_names(cluster: Cluster) -> Iterator[Finding]:
    """
    A bond, bridge or VLAN name, or the `<parent>.<id>` name a VLAN gets, is longer than the
    kernel's 15 characters, or two links of one host (NICs, bonds, bridges, VLANs) would have
    the same name. Talos cannot create such a link. Give the VLAN a shorter `name` (Talos 1.12
    and later), rename the bond or bridge, or fix the NIC's `name`.
    """
    for host in cluster.hosts:
        seen: dict[str, Link] = {nic.name: nic for nic in host.nics if nic.name is not None}
        logical: tuple[Bond | Vlan | Bridge, ...] = (*host.bonds, *host.bridges, *host.vlans)
        for link in logical:
            name = kernel_name(cluster, host, link)
            if name is None:
                continue
            origin = link.origin / "name" if not isinstance(link, Vlan) or link.name is not None else link.origin
            first = seen.setdefault(name, link)
            if len(name) > MAX_LINK_NAME:
                shorter = "give the VLAN a shorter `name`" if multidoc(cluster) else "give its parent a shorter name"
                named = (
                    f"would be named {name}, {len(name)} characters"
                    if isinstance(link, Vlan) and link.name is None
                    else f"has a name of {len(name)} characters"
                )
                yield Finding(
                    origin,
                    f"host {host.name}: {describe(link)} {named} (the kernel takes {MAX_LINK_NAME})",
                    shorter if isinstance(link, Vlan) else "use a shorter name",
                )
            elif first is not link and not _same_vlan(first, link):
                yield Finding(
                    origin,
                    f"host {host.name}: {describe(first)} and {describe(link)} would both be named {name}",
                    "give each link of the host its own name",
                )


def _same_vlan(first: Link, second: Link) -> bool:
    """Two VLANs of one id on one parent: NG115 reports them."""
    return (
        isinstance(first, Vlan) and isinstance(second, Vlan) and (first.parent, first.id) == (second.parent, second.id)
    )


@cluster_rule("NG117", Severity.ERROR, "VLAN MTU above its parent's")
def vlan_mtu_fits(cluster: Cluster) -> Iterator[Finding]:
    """
    A VLAN's MTU (its own `mtu`, else its network's) is larger than its parent's (the parent's
    `mtu`, else the parent's network's, else 1500). A VLAN link cannot send frames larger than
    its parent link, and the kernel refuses the MTU. Raise the parent's `mtu` (a bond or NIC
    carrying jumbo-frame VLANs usually needs 9000), or lower the VLAN's.
    """
    for host in cluster.hosts:
        for vlan in host.vlans:
            parent = host.parent(vlan)
            if parent is None:
                continue
            mtu, parent_mtu = _mtu(cluster, vlan), _mtu(cluster, parent) or 1500
            if mtu is not None and mtu > parent_mtu:
                yield Finding(
                    vlan.origin / "mtu" if vlan.mtu is not None else vlan.origin / "network",
                    f"host {host.name}: VLAN {vlan.id} has MTU {mtu}, its parent {describe(parent)} has {parent_mtu}",
                    f"set `mtu: {mtu}` (or more) on the parent, or lower the VLAN's MTU",
                )


def _mtu(cluster: Cluster, link: Nic | Bond | Vlan | Bridge) -> int | None:
    network = cluster.network(link.network)
    return link.mtu if link.mtu is not None else network.mtu if network is not None else None


@cluster_rule("NG118", Severity.ERROR, "VLAN name needs Talos 1.12")
def vlan_name_settable(cluster: Cluster) -> Iterator[Finding]:
    """
    A VLAN has a `name`, but the Talos target is before 1.12: there, VLANs are nested under
    their parent interface and Talos names them `<parent>.<id>` itself. Remove `name`, or
    target Talos 1.12 or later, whose `VLANConfig` names the link.
    """
    if multidoc(cluster):
        return
    for host in cluster.hosts:
        for vlan in host.vlans:
            if vlan.name is not None:
                yield Finding(
                    vlan.origin / "name",
                    f"host {host.name}: Talos {cluster.talos_version} names VLAN {vlan.id} itself (<parent>.{vlan.id})",
                    'remove `name`, or set `talos.version` to "1.12" or later',
                )


@cluster_rule("NG119", Severity.ERROR, "member NIC needs its kernel name")
def members_named(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC that is a member of a bond or bridge has no known, stable kernel name where the
    Talos target needs one: before 1.12 a bridge takes its ports by name only; on 1.12 and
    1.13 Talos does not apply a link alias (the MAC selector) to a NIC that is already a bond
    or bridge member (talos#13519; fixed in 1.13.5, and netgen targets minors, so it holds the
    whole of 1.13 to it), so the member would be lost after a reboot. Give the NIC's `name` (or
    its facts with `--facts`), or target Talos 1.14.
    """
    legacy = not multidoc(cluster)
    fragile_alias = cluster.talos_version < ENSLAVED_ALIAS_FIXED_IN
    for host in cluster.hosts:
        for link, masters in host.masters().items():
            if not isinstance(link, Nic) or link.link_name is not None:
                continue
            master = masters[0]
            if legacy and isinstance(master, Bond):
                continue  # a legacy bond selects its members by MAC (deviceSelectors)
            if legacy or fragile_alias:
                why = (
                    "takes its ports by name"
                    if legacy
                    else f"cannot take members by MAC on Talos {cluster.talos_version}"
                )
                yield Finding(
                    link.origin / "mac",
                    f"host {host.name}: {describe(link)} is a member of {describe(master)}, which {why}",
                    "add the NIC's kernel `name` (or pass its facts), or target Talos 1.14",
                )


@cluster_rule("NG120", Severity.ERROR, "disableOffloads needs the kernel name")
def offloads_named(cluster: Cluster) -> Iterator[Finding]:
    """
    A NIC has `disableOffloads: true`, but its kernel name is unknown (or an unstable `enx` or
    `ethN` name). Talos's `EthernetConfig` takes the link's kernel name and applies no link
    alias there, so the NIC cannot be selected by its MAC. Add the NIC's `name` or its facts.
    """
    for host in cluster.hosts:
        for nic in host.nics:
            if nic.disable_offloads and nic.link_name is None:
                yield Finding(
                    nic.origin / "disableOffloads",
                    f"host {host.name}: the offloads of {describe(nic)} are set by kernel name, which is unknown",
                    "add the NIC's kernel `name` (e.g. ens192), or pass its facts with --facts",
                )


@cluster_rule("NG211", Severity.ERROR, "route gateway unreachable")
def route_gateways_reachable(cluster: Cluster) -> Iterator[Finding]:
    """
    A static route's gateway is not an address of its network (an IPv6 link-local router
    such as fe80::1 is also reachable), or it is of another family than the route's
    destination. The kernel only installs a route through a router it can reach on the link.
    """
    for network in cluster.networks:
        for route in network.routes:
            if route.gateway.version != route.destination.version:
                yield Finding(
                    route.origin / "gateway",
                    f"route to {route.destination} on {network.name}: gateway {route.gateway} is of another family",
                    "use a router of the destination's family",
                )
            elif not network.contains(route.gateway) and not (
                route.gateway.version == 6 and route.gateway.is_link_local and network.cidr(Family.IPV6) is not None
            ):
                yield Finding(
                    route.origin / "gateway",
                    f"route to {route.destination}: gateway {route.gateway} is not on network {network.name} "
                    f"({', '.join(str(c) for c in network.cidrs)})",
                    "use a router of this network, or put the route on the network its router is on",
                )
