"""Multus attachments: macvlan chains and their IPAM (docs/kubernetes.md; failure F4)."""

from __future__ import annotations

from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Severity
from netgen.model import AddressRange, Attachment, Bridge, Cluster, Host, IpamType, describe
from netgen.targets import kernel_name


def attachment_masters(cluster: Cluster, attachment: Attachment) -> list[tuple[Host, str | None]]:
    """Every host with a link on the attachment's network, and that link's kernel name: the
    macvlan master on that host (None where it is unknown)."""
    return [
        (host, kernel_name(cluster, host, link))
        for host in cluster.hosts
        if (link := host.link_on(attachment.network)) is not None
    ]


@cluster_rule("NG601", Severity.ERROR, "attachment master differs between hosts")
def one_master_name(cluster: Cluster) -> Iterator[Finding]:
    """
    An attachment's `master` is the kernel name of each host's NIC on the attachment's
    network, and one NetworkAttachmentDefinition holds one name for every node. Here the
    hosts name that NIC differently (`ens7` on one, `enp1s0` on another), so pods on some
    nodes would fail to start. Make the names equal on every host (a udev `.link` file, or
    the same VM slot), or put the differing hosts on another network.
    """
    for attachment in cluster.attachments:
        named = [(host, name) for host, name in attachment_masters(cluster, attachment) if name is not None]
        names = sorted({name for _, name in named})
        if len(names) > 1:
            listing = ", ".join(f"{host.name}: {name}" for host, name in named)
            yield Finding(
                attachment.origin / "network",
                f"attachment {attachment.namespace}/{attachment.name}: the NICs on network {attachment.network} "
                f"have different names ({listing})",
                "give that NIC the same kernel name on every host",
            )


@cluster_rule("NG602", Severity.ERROR, "attachment master unknown")
def master_name_known(cluster: Cluster) -> Iterator[Finding]:
    """
    An attachment needs the kernel name of the NIC it hangs off (`master`), but a host's NIC
    on the attachment's network has no known name, or no host has a NIC on that network at
    all. Add `name:` to the NIC, or pass the host's facts with `--facts`.
    """
    for attachment in cluster.attachments:
        if cluster.network(attachment.network) is None:
            continue
        masters = attachment_masters(cluster, attachment)
        where = f"attachment {attachment.namespace}/{attachment.name}"
        if not masters:
            yield Finding(
                attachment.origin / "network",
                f"{where}: no host has a NIC on network {attachment.network}",
                "attach it to a network the hosts have a NIC on",
            )
        unnamed = [host.name for host, name in masters if name is None]
        if unnamed:
            yield Finding(
                attachment.origin / "network",
                f"{where}: the link name of the NIC on network {attachment.network} is unknown on {', '.join(unnamed)}",
                "add `name:` to those NICs, or pass their facts with --facts",
            )


@cluster_rule("NG603", Severity.ERROR, "attachment MAC unusable")
def attachment_mac_usable(cluster: Cluster) -> Iterator[Finding]:
    """
    An attachment's fixed MAC is all zeros, a multicast address, the MAC of a host NIC or the
    fixed MAC of another attachment. macvlan cannot take a multicast MAC, and a MAC used twice
    clashes on the wire (the plugin fails with "address already in use" when it is the
    master's own).
    """
    owners = {nic.mac: f"a NIC of host {host.name}" for host in cluster.hosts for nic in host.nics}
    for attachment in cluster.attachments:
        mac = attachment.mac
        if mac is None:
            continue
        problem = None
        if mac.is_zero or mac.is_multicast:
            problem = "is not a unicast MAC"
        elif mac in owners:
            problem = f"is {owners[mac]}"
        if problem:
            yield Finding(
                attachment.origin / "mac",
                f"MAC {mac} {problem}",
                'use a locally administered unicast MAC (second hex digit 2, 6, a or e), e.g. "02:00:00:00:00:01"',
            )
        owners.setdefault(mac, f"the MAC of attachment {attachment.namespace}/{attachment.name}")


@cluster_rule("NG604", Severity.WARNING, "fixed MAC on an attachment")
def fixed_mac_single_pod(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment has a fixed MAC: every pod using it gets that MAC, so only one pod may use
    the attachment at a time. For several pods use `mac: perPod` and set each pod's MAC in its
    `k8s.v1.cni.cncf.io/networks` annotation.
    """
    for attachment in cluster.attachments:
        if attachment.mac is not None:
            yield Finding(
                attachment.origin / "mac",
                f"attachment {attachment.namespace}/{attachment.name} has the fixed MAC {attachment.mac}: "
                "only one pod may use it",
                "use `mac: perPod` if several pods attach to it",
            )


@cluster_rule("NG605", Severity.ERROR, "IPAM settings do not fit its type")
def ipam_complete(cluster: Cluster) -> Iterator[Finding]:
    """
    Kube-OVN, host-local and whereabouts IPAM hand out addresses from `ipam.cidrs`, so they
    need them, and their `exclude` must leave something to hand out; `static` takes each
    pod's addresses from its networks annotation, `dhcp` asks a DHCP server on the segment and
    `none` configures no address, so none of these takes `cidrs`, `gateways` or `exclude`.
    """
    for attachment in cluster.attachments:
        ipam = attachment.ipam
        needs_cidrs = ipam.hands_out
        extra = next((key for key, values in _ipam_lists(attachment) if values), None)
        if needs_cidrs and not ipam.cidrs:
            yield Finding(ipam.origin, f"{ipam.type} IPAM needs `cidrs`", "add the prefixes to hand out under `cidrs`")
        elif not needs_cidrs and extra is not None:
            yield Finding(
                (ipam.origin / extra).at_key(),
                f"{ipam.type} IPAM takes no cidrs, gateways or exclude",
                "remove them, or use kube-ovn, whereabouts or host-local IPAM",
            )
        for index, cidr in enumerate(ipam.cidrs if needs_cidrs else ()):
            if not ipam.allocatable(cidr):
                yield Finding(
                    ipam.origin / "cidrs" / index,
                    f"ipam.exclude leaves no address of {cidr} to hand out",
                    "exclude less of the prefix",
                )


def _ipam_lists(attachment: Attachment) -> tuple[tuple[str, tuple[object, ...]], ...]:
    ipam = attachment.ipam
    return (("cidrs", ipam.cidrs), ("gateways", ipam.gateways), ("exclude", ipam.exclude))


@cluster_rule("NG606", Severity.ERROR, "IPAM address outside its CIDRs")
def ipam_inside_cidrs(cluster: Cluster) -> Iterator[Finding]:
    """
    An IPAM gateway or `exclude` entry lies outside every prefix in `ipam.cidrs`, so it
    excludes nothing or names a gateway pods cannot reach on-link.
    """
    for attachment in cluster.attachments:
        ipam = attachment.ipam
        if not ipam.cidrs:
            continue
        cidrs = ", ".join(str(c) for c in ipam.cidrs)
        for index, gateway in enumerate(ipam.gateways):
            if not any(gateway in c for c in ipam.cidrs):
                yield Finding(
                    ipam.origin / "gateways" / index,
                    f"gateway {gateway} is outside ipam.cidrs ({cidrs})",
                    "use the router's address inside those prefixes",
                )
        for index, block in enumerate(ipam.exclude):
            if not any(block.first in c and block.last in c for c in ipam.cidrs):
                yield Finding(
                    ipam.origin / "exclude" / index,
                    f"exclude {block.text} is not inside one of ipam.cidrs ({cidrs})",
                    "exclude only addresses of those prefixes (split a range that spans two)",
                )


@cluster_rule("NG607", Severity.WARNING, "IPAM prefix outside the attachment's network")
def ipam_on_network(cluster: Cluster) -> Iterator[Finding]:
    """
    An IPAM prefix does not lie inside the attachment's network. macvlan puts pods on the
    network's own layer-2 segment, so pods with addresses from another prefix reach nothing
    but each other unless a router on that segment serves the other prefix too.
    """
    for attachment in cluster.attachments:
        network = cluster.network(attachment.network)
        if network is None:
            continue
        for index, cidr in enumerate(attachment.ipam.cidrs):
            if not any(cidr.network_address in p and cidr.broadcast_address in p for p in network.cidrs):
                yield Finding(
                    attachment.ipam.origin / "cidrs" / index,
                    f"IPAM prefix {cidr} is not inside network {network.name} "
                    f"({', '.join(str(c) for c in network.cidrs)})",
                    "use (part of) the network's prefix, or check that a router serves this prefix on that segment",
                )


@cluster_rule("NG608", Severity.ERROR, "IPAM can hand out a used address")
def ipam_avoids_used_addresses(cluster: Cluster) -> Iterator[Finding]:
    """
    Kube-OVN, host-local or whereabouts IPAM could give a pod an address that a host, a
    gateway or a VIP already uses, because that address lies in `ipam.cidrs` and no `exclude` entry covers it.
    Two machines would then answer for one address. Exclude it (a `first..last` range works).
    """
    used = cluster.address_owners()
    for attachment in (a for a in cluster.attachments if a.ipam.hands_out):
        ipam = attachment.ipam
        gateways = set(ipam.gateways)  # the IPAM reserves its own gateways
        for index, cidr in enumerate(ipam.cidrs):
            blocks = ipam.allocatable(cidr)
            for address, owner in sorted(used.items(), key=lambda kv: (kv[0].version, int(kv[0]))):
                if address not in gateways and any(b.contains(address) for b in blocks):
                    yield Finding(
                        ipam.origin / "cidrs" / index,
                        f"attachment {attachment.namespace}/{attachment.name} may hand out {address}, {owner}",
                        f'add "{address}" (or a range holding it) to ipam.exclude',
                    )


@cluster_rule("NG609", Severity.ERROR, "two attachments hand out the same addresses")
def ipam_disjoint(cluster: Cluster) -> Iterator[Finding]:
    """
    Two attachments on the same network can hand out the same addresses: Kube-OVN and
    host-local IPAM do not know about another attachment's leases, so two pods on one layer-2
    segment would get one address. Split the prefix between them with `exclude`, or give both
    whereabouts IPAM. Attachments on different networks are different segments and may reuse
    a prefix; two whereabouts attachments on one network may share or overlap prefixes, since
    whereabouts keeps one pool per prefix and one reservation per address for each
    `network_name` (netgen writes the attachment's network there and leaves
    `enable_overlapping_ranges` on). Two Kube-OVN attachments with overlapping prefixes are
    NG612.
    """
    seen: list[tuple[Attachment, AddressRange]] = []
    for attachment in (a for a in cluster.attachments if a.ipam.hands_out):
        blocks = [b for cidr in attachment.ipam.cidrs for b in attachment.ipam.allocatable(cidr)]
        clash = next(
            (
                (other, b)
                for other, block in seen
                if other.network == attachment.network and not _exempt_pair(other, attachment)
                for b in blocks
                if b.overlaps(block)
            ),
            None,
        )
        if clash is not None:
            other, block = clash
            index = next(i for i, c in enumerate(attachment.ipam.cidrs) if block.first in c)
            yield Finding(
                attachment.ipam.origin / "cidrs" / index,
                f"attachments {other.namespace}/{other.name} and {attachment.namespace}/{attachment.name} "
                f"on network {attachment.network} can both hand out addresses of {block.text}",
                "exclude each one's part of the prefix from the other, or use whereabouts IPAM for both",
            )
        seen += [(attachment, b) for b in blocks]


def _exempt_pair(one: Attachment, other: Attachment) -> bool:
    """Pairs on one network that NG609 leaves alone: both whereabouts (one IPPool per prefix,
    one OverlappingRangeIPReservation per address within the ``network_name``: no address is
    handed out twice), or both Kube-OVN (overlapping Subnets are refused outright, NG612)."""
    kinds = {one.ipam.type, other.ipam.type}
    return kinds in ({IpamType.WHEREABOUTS}, {IpamType.KUBE_OVN})


@cluster_rule("NG610", Severity.WARNING, "hosts without the attachment's network")
def attachment_on_every_host(cluster: Cluster) -> Iterator[Finding]:
    """
    Some hosts have no NIC on the attachment's network, so a pod that uses the attachment
    fails to start there ("Link not found"). Keep such pods off those nodes (a node selector
    or affinity), or give every host a NIC on the network.
    """
    for attachment in cluster.attachments:
        masters = attachment_masters(cluster, attachment)
        missing = [host.name for host in cluster.hosts if host.link_on(attachment.network) is None]
        if masters and missing:
            yield Finding(
                attachment.origin / "network",
                f"attachment {attachment.namespace}/{attachment.name}: {', '.join(missing)} "
                f"{'has' if len(missing) == 1 else 'have'} no NIC on network {attachment.network}",
                "schedule pods that use it only onto hosts with that NIC",
            )


@cluster_rule("NG611", Severity.WARNING, "host-local IPAM across nodes")
def host_local_single_node(cluster: Cluster) -> Iterator[Finding]:
    """
    host-local IPAM keeps its leases in a directory on each node, so pods on two nodes can get
    the same address. It is safe only when one pod (a fixed MAC) or one node uses the
    attachment. Use Kube-OVN or whereabouts IPAM (cluster-wide) when pods on several nodes
    attach.
    """
    for attachment in cluster.attachments:
        hosts = attachment_masters(cluster, attachment)
        # a fixed MAC already limits the attachment to one pod at a time (NG604)
        if attachment.ipam.type is IpamType.HOST_LOCAL and attachment.mac is None and len(hosts) > 1:
            yield Finding(
                attachment.ipam.origin / "type",
                f"attachment {attachment.namespace}/{attachment.name} uses host-local IPAM on {len(hosts)} hosts: "
                "pods on different nodes can get the same address",
                "use kube-ovn or whereabouts IPAM, or keep the pods that use it on one node",
            )


@cluster_rule("NG612", Severity.ERROR, "Kube-OVN Subnets overlap")
def kube_ovn_subnets_disjoint(cluster: Cluster) -> Iterator[Finding]:
    """
    Two attachments with Kube-OVN IPAM have overlapping prefixes. Kube-OVN's admission webhook
    refuses the second `Subnet` ("subnet ... cidr ... is conflict with subnet ... cidr ...")
    whenever two Subnets' `cidrBlock`s overlap, also when their `excludeIps` leave disjoint
    addresses and when the attachments are on different networks: it allows overlapping
    Subnets only in different VPCs or VLANs, and the IPAM-only Subnets netgen writes name
    neither. Give each Kube-OVN attachment its own prefix (for example two halves of a /24),
    or use whereabouts IPAM, which shares a prefix safely.
    """
    seen: list[tuple[Attachment, str]] = []
    for attachment in (a for a in cluster.attachments if a.ipam.type is IpamType.KUBE_OVN):
        subnet = f"{attachment.namespace}-{attachment.name}"
        for index, cidr in enumerate(attachment.ipam.cidrs):
            other = next(
                (
                    (o, name, c)
                    for o, name in seen
                    for c in o.ipam.cidrs
                    if c.version == cidr.version and c.overlaps(cidr)
                ),
                None,
            )
            if other is not None:
                _, other_subnet, other_cidr = other
                yield Finding(
                    attachment.ipam.origin / "cidrs" / index,
                    f"Kube-OVN refuses Subnet {subnet}: its cidr {cidr} overlaps {other_cidr} of Subnet {other_subnet} "
                    '("subnet ... cidr ... is conflict with subnet ..."), even with disjoint excludes; '
                    "overlapping Subnets are allowed only in different VPCs or VLANs",
                    "give each kube-ovn attachment its own prefix (split a /24 into two /25s), or use whereabouts IPAM",
                )
                break
        seen.append((attachment, subnet))


@cluster_rule("NG613", Severity.ERROR, "bridge attachment not on a bridge")
def bridge_on_a_bridge(cluster: Cluster) -> Iterator[Finding]:
    """
    A `type: bridge` attachment plugs each pod into the host's bridge on the attachment's
    network (the CNI bridge plugin's `bridge`), but on these hosts the link on that network is
    a NIC, bond or VLAN, not one of `hosts[].bridges`. The plugin would create a new, empty
    bridge of that name, or fail to enslave the pod's veth to a link that is not a bridge, and
    the pods would reach nothing. Put the network on a bridge on every such host, or use
    `type: macvlan`.
    """
    for attachment in (a for a in cluster.attachments if a.type == "bridge"):
        others = [
            f"{host.name} ({describe(link)})"
            for host in cluster.hosts
            if (link := host.link_on(attachment.network)) is not None and not isinstance(link, Bridge)
        ]
        if others:
            yield Finding(
                attachment.origin / "network",
                f"bridge attachment {attachment.namespace}/{attachment.name}: network {attachment.network} "
                f"is not on a bridge on {', '.join(others)}",
                "add a bridge (hosts[].bridges) on that network to those hosts, or use `type: macvlan`",
            )


#: the attachment keys that only one CNI type reads
TYPE_KEYS = {"mode": "macvlan", "vlan": "bridge", "isGateway": "bridge", "ipMasq": "bridge"}


@cluster_rule("NG614", Severity.ERROR, "attachment key of another CNI type")
def keys_fit_type(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment gives a key its CNI type does not read: `mode` is macvlan's, `vlan`,
    `isGateway` and `ipMasq` are the bridge plugin's. netgen would drop it, and the attachment
    would not do what the inventory says. Remove the key, or change `type`.
    """
    for attachment in cluster.attachments:
        for key in attachment.keys:
            owner = TYPE_KEYS.get(key)
            if owner is not None and owner != attachment.type:
                yield Finding(
                    (attachment.origin / key).at_key(),
                    f"attachment {attachment.namespace}/{attachment.name} is {attachment.type}: `{key}` is for {owner}",
                    f"remove `{key}`, or use `type: {owner}`",
                )


@cluster_rule("NG615", Severity.WARNING, "bridge attachment VLAN cuts pods off the network")
def bridge_vlan_isolated(cluster: Cluster) -> Iterator[Finding]:
    """
    A bridge attachment with `vlan` makes the pod's port on the node bridge an access port of
    that VLAN, and the bridge plugin turns VLAN filtering on for the whole bridge. netgen
    configures the bridge's members untagged (VLAN 1 only), so the pods' frames never leave
    the node: they reach only pods of the same VLAN on the same node. Leave `vlan` out to put
    the pods on the network itself, or tag that VLAN on the bridge's uplink by other means.
    """
    for attachment in (a for a in cluster.attachments if a.type == "bridge" and a.vlan is not None):
        yield Finding(
            attachment.origin / "vlan",
            f"bridge attachment {attachment.namespace}/{attachment.name}: VLAN {attachment.vlan} exists only on the "
            f"pods' ports, not on the uplink of the bridge on network {attachment.network}; its pods reach only "
            "each other on one node",
            "remove `vlan` to put the pods on the network, or carry the VLAN tagged on the bridge's uplink",
        )


@cluster_rule("NG616", Severity.ERROR, "bridge isGateway takes an address twice")
def bridge_gateway_unique(cluster: Cluster) -> Iterator[Finding]:
    """
    With `isGateway` the bridge plugin puts the IPAM gateway address on the node bridge. When
    the attachment reaches more than one host, every node's bridge takes that one address on
    the same segment, and when the gateway is the network's own router (`networks[].gateways`)
    the nodes take the router's address. Use `isGateway` only for an attachment on one host
    with a gateway address of its own, or leave it out and let the network's router route.
    """
    for attachment in (a for a in cluster.attachments if a.type == "bridge" and a.is_gateway):
        network = cluster.network(attachment.network)
        hosts = [host.name for host, _ in attachment_masters(cluster, attachment)]
        routers = set(network.gateways) if network is not None else set()
        problem = None
        if len(hosts) > 1:
            problem = f"the bridges of {', '.join(hosts)} would all take the gateway address"
        elif taken := sorted(str(g) for g in attachment.ipam.gateways if g in routers):
            problem = f"the node's bridge would take the router's address {', '.join(taken)}"
        if problem:
            yield Finding(
                attachment.origin / "isGateway",
                f"bridge attachment {attachment.namespace}/{attachment.name} has isGateway: {problem}",
                "remove `isGateway`, or give an attachment on one host a gateway address of its own",
            )
