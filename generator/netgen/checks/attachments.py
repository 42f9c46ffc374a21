"""Multus attachments: CNI chains and their IPAM (docs/kubernetes.md; failure F4)."""

from __future__ import annotations

from collections.abc import Iterator

from netgen.checks.framework import Finding, cluster_rule
from netgen.diagnostics import Severity
from netgen.model import AddressRange, Attachment, Bridge, Cluster, Host, IpamType, MacAddress, describe
from netgen.targets import CNI_TYPES, cni_type, kernel_name


def attachment_masters(cluster: Cluster, attachment: Attachment) -> list[tuple[Host, str | None]]:
    """Every host with a link on the attachment's network, and that link's kernel name: the
    macvlan or ipvlan master, or the bridge, on that host (None where it is unknown). Empty for
    a type that takes a device of its own (host-device, sriov)."""
    if cni_type(attachment.type).host_link is None:
        return []
    return [
        (host, kernel_name(cluster, host, link))
        for host in cluster.hosts
        if (link := host.link_on(attachment.network)) is not None
    ]


def attachment_nodes(cluster: Cluster, attachment: Attachment) -> int:
    """On how many nodes pods can use the attachment: the hosts with a link on its network, the
    one host whose NIC a host-device attachment moves, or (a PCI slot, an SR-IOV resource) any."""
    if attachment.device_mac is not None:
        return 1
    if cni_type(attachment.type).host_link is None:
        return len(cluster.hosts)
    return len(attachment_masters(cluster, attachment))


@cluster_rule("NG601", Severity.ERROR, "attachment master differs between hosts")
def one_master_name(cluster: Cluster) -> Iterator[Finding]:
    """
    A macvlan or ipvlan attachment's `master` (a bridge attachment's `bridge`) is the kernel
    name of each host's link on the attachment's network (a NIC, bond, VLAN or bridge), and
    one NetworkAttachmentDefinition holds one name for every node. Here the hosts name that
    link differently (`ens7` on one, `enp1s0` on another), so pods on some nodes would fail
    to start. Make the names equal on every host (a udev `.link` file, the same VM slot, or
    one bond/VLAN/bridge name), or put the differing hosts on another network.
    """
    for attachment in cluster.attachments:
        named = [(host, name) for host, name in attachment_masters(cluster, attachment) if name is not None]
        names = sorted({name for _, name in named})
        if len(names) > 1:
            listing = ", ".join(f"{host.name}: {name}" for host, name in named)
            yield Finding(
                attachment.origin / "network",
                f"attachment {attachment.namespace}/{attachment.name}: the links on network {attachment.network} "
                f"have different names ({listing})",
                "give that link the same kernel name on every host",
            )


@cluster_rule("NG602", Severity.ERROR, "attachment master unknown")
def master_name_known(cluster: Cluster) -> Iterator[Finding]:
    """
    A macvlan, ipvlan or bridge attachment needs the kernel name of the host's link it hangs
    off (`master`, or the bridge), but a host's link on the attachment's network has no known
    name (a NIC without `name:` or facts), or no host has a link on that network at all. Add
    `name:` to the NIC, or pass the host's facts with `--facts`.
    """
    for attachment in cluster.attachments:
        if cluster.network(attachment.network) is None or cni_type(attachment.type).host_link is None:
            continue
        masters = attachment_masters(cluster, attachment)
        where = f"attachment {attachment.namespace}/{attachment.name}"
        if not masters:
            yield Finding(
                attachment.origin / "network",
                f"{where}: no host has a link on network {attachment.network}",
                "attach it to a network the hosts have a NIC on",
            )
        unnamed = [host.name for host, name in masters if name is None]
        if unnamed:
            yield Finding(
                attachment.origin / "network",
                f"{where}: the kernel name of the link on network {attachment.network} is unknown on "
                f"{', '.join(unnamed)}",
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
        if mac is None or not cni_type(attachment.type).own_mac:
            continue  # a MAC on a type without a MAC of its own is NG618
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
        if attachment.mac is not None and cni_type(attachment.type).own_mac:
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
    An IPAM prefix does not lie inside the attachment's network. The pods' interfaces sit on
    the network's own segment (a macvlan, ipvlan or bridge port, the NIC itself, a VF of the
    NIC cabled to it), so pods with addresses from another prefix reach nothing but each other
    unless a router on that segment serves the other prefix too.
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
        nodes = attachment_nodes(cluster, attachment)
        # a fixed MAC already limits the attachment to one pod at a time (NG604)
        if attachment.ipam.type is IpamType.HOST_LOCAL and attachment.mac is None and nodes > 1:
            yield Finding(
                attachment.ipam.origin / "type",
                f"attachment {attachment.namespace}/{attachment.name} uses host-local IPAM on {nodes} hosts: "
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


#: the attachment keys that only some CNI types read, and which
TYPE_KEYS: dict[str, tuple[str, ...]] = {}
for _type in CNI_TYPES:
    for _key in _type.keys:
        TYPE_KEYS[_key] = (*TYPE_KEYS.get(_key, ()), _type.name)


@cluster_rule("NG614", Severity.ERROR, "attachment key of another CNI type")
def keys_fit_type(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment gives a key its CNI type does not read: `mode` is macvlan's and ipvlan's,
    `vlan` the bridge plugin's and SR-IOV's, `isGateway` and `ipMasq` the bridge plugin's,
    `device` host-device's and `resourceName` SR-IOV's. netgen would drop it, and the
    attachment would not do what the inventory says. Remove the key, or change `type`.
    """
    for attachment in cluster.attachments:
        for key in attachment.keys:
            owners = TYPE_KEYS.get(key)
            if owners is not None and attachment.type not in owners:
                yield Finding(
                    (attachment.origin / key).at_key(),
                    f"attachment {attachment.namespace}/{attachment.name} is {attachment.type}: "
                    f"`{key}` is for {' and '.join(owners)}",
                    f"remove `{key}`, or use `type: {owners[0]}`",
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


@cluster_rule("NG617", Severity.ERROR, "attachment mode of another CNI type")
def mode_fits_type(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment's `mode` is one the other plugin takes: macvlan's modes are `bridge`,
    `private`, `vepa` and `passthru`, ipvlan's `l2`, `l3` and `l3s`. The plugin refuses an
    unknown mode ("unknown ipvlan mode"), so no pod using the attachment would start.
    """
    for attachment in cluster.attachments:
        modes = cni_type(attachment.type).modes
        if modes and attachment.mode not in modes:
            owner = next(t.name for t in CNI_TYPES if attachment.mode in t.modes)
            yield Finding(
                attachment.origin / "mode",
                f"attachment {attachment.namespace}/{attachment.name} is {attachment.type}: mode {attachment.mode} "
                f"is {owner}'s",
                f"write one of: {', '.join(modes)} (the default is {modes[0]})",
            )


@cluster_rule("NG618", Severity.ERROR, "MAC on an attachment without a MAC of its own")
def mac_fits_type(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment gives `mac` (a fixed MAC or `perPod`), but its pods' interfaces have no MAC
    of their own: every ipvlan interface shares its master's MAC (the kernel refuses to change
    it, so `tuning` would fail), and a host-device attachment moves a NIC with its own MAC
    into the pod. Remove `mac`, or use `type: macvlan` for a MAC of the pod's own.
    """
    for attachment in cluster.attachments:
        if "mac" in attachment.keys and not cni_type(attachment.type).own_mac:
            why = (
                "ipvlan interfaces share their master's MAC"
                if attachment.type == "ipvlan"
                else f"{attachment.type} keeps the device's own MAC"
            )
            yield Finding(
                (attachment.origin / "mac").at_key(),
                f"attachment {attachment.namespace}/{attachment.name} is {attachment.type}: {why}, so it takes no mac",
                "remove `mac`, or use `type: macvlan` to give the pods MACs of their own",
            )


@cluster_rule("NG619", Severity.ERROR, "host-device NIC unusable")
def host_device_usable(cluster: Cluster) -> Iterator[Finding]:
    """
    A host-device attachment moves one NIC into the pod, but the NIC its `device.mac` names
    is not a NIC of a host of this cluster, or netgen configures it on the host (it carries a
    network, is a bond or bridge member, or a VLAN's parent: Talos would lose it when a pod
    takes it), or another host-device attachment takes the same NIC or PCI address. List the
    NIC under its host without `network`, and give each host-device attachment its own device.
    """
    taken: dict[MacAddress | str, Attachment] = {}
    for attachment in (a for a in cluster.attachments if a.type == "host-device"):
        where = f"host-device attachment {attachment.namespace}/{attachment.name}"
        mac, pci = attachment.device_mac, attachment.device_pci
        device: MacAddress | str | None = mac if mac is not None else pci
        if device is None:
            continue  # NG620
        origin = attachment.origin / "device" / ("mac" if mac is not None else "pciBusID")
        if (other := taken.setdefault(device, attachment)) is not attachment:
            yield Finding(
                origin,
                f"{where} takes {device}, which attachment {other.namespace}/{other.name} takes too",
                "give each host-device attachment a NIC of its own",
            )
            continue
        if mac is None:
            continue
        owner = next(((host, nic) for host in cluster.hosts for nic in host.nics if nic.mac == mac), None)
        if owner is None:
            yield Finding(
                origin,
                f"{where}: {mac} is not a NIC of a host of cluster {cluster.name}",
                "list the NIC under the host that has it (with its MAC and no network)",
            )
        elif (use := _configured(owner[0], owner[1].mac)) is not None:
            yield Finding(
                origin,
                f"{where}: NIC {mac} of host {owner[0].name} {use}; Talos configures it",
                "move a NIC that nothing else uses (listed without network), or drop the NIC's other use",
            )


def _configured(host: Host, mac: MacAddress) -> str | None:
    """What netgen makes of a host's NIC, if anything: it carries a network, or a bond, bridge or VLAN uses it."""
    nic = host.nic(mac)
    if nic is None:
        return None
    if nic.network is not None:
        return f"carries network {nic.network}"
    masters = host.masters().get(nic, ())
    if masters:
        return f"is a member of {describe(masters[0])}"
    vlan = next((v for v in host.vlans if host.parent(v) == nic), None)
    return f"is the parent of {describe(vlan)}" if vlan is not None else None


@cluster_rule("NG620", Severity.ERROR, "attachment lacks a key its CNI type needs")
def required_keys(cluster: Cluster) -> Iterator[Finding]:
    """
    The attachment's CNI type needs a key the attachment does not give: host-device needs
    `device` (the NIC to move, by `mac` or `pciBusID`), sriov needs `resourceName` (the SR-IOV
    device plugin's resource, from which Multus takes the VF's PCI address), and ipvlan needs
    IPAM other than `none`: first in a chain, the ipvlan plugin always runs the IPAM plugin its
    config names, so with none every pod fails to start.
    """
    examples = {
        "device": 'device: {mac: "52:54:00:00:00:10"}',
        "resourceName": "resourceName: intel.com/sriov_netdevice",
    }
    for attachment in cluster.attachments:
        if attachment.type == "ipvlan" and attachment.ipam.type is IpamType.NONE:
            yield Finding(
                attachment.ipam.origin / "type" if "ipam" in attachment.keys else attachment.origin,
                f"attachment {attachment.namespace}/{attachment.name} is ipvlan: it needs IPAM, and has none",
                "give it whereabouts, kube-ovn, host-local, static or dhcp IPAM",
            )
        for key in cni_type(attachment.type).required:
            if key not in attachment.keys:
                yield Finding(
                    attachment.origin,
                    f"attachment {attachment.namespace}/{attachment.name} is {attachment.type}: it needs `{key}`",
                    f"add `{examples[key]}`",
                )


@cluster_rule("NG621", Severity.ERROR, "tuning sysctl outside net")
def sysctls_under_net(cluster: Cluster) -> Iterator[Finding]:
    """
    A `tuning.sysctls` key is not a network sysctl. The tuning plugin writes only below
    /proc/sys/net in the pod's network namespace and refuses any other key, so the pod would
    not start. Write keys such as `net.ipv6.conf.IFNAME.accept_ra` (`IFNAME` stands for the
    pod's interface).
    """
    for attachment in cluster.attachments:
        for key, _ in attachment.sysctls:
            if not key.startswith("net.") or ".." in key or "/" in key:
                yield Finding(
                    (attachment.origin / "tuning" / "sysctls" / key).at_key(),
                    f"attachment {attachment.namespace}/{attachment.name}: sysctl {key} is not below net.",
                    "set only network sysctls, e.g. net.ipv6.conf.IFNAME.accept_ra",
                )


@cluster_rule("NG622", Severity.ERROR, "attachments that cannot share their master")
def masters_shareable(cluster: Cluster) -> Iterator[Finding]:
    """
    Two attachments on one network hang off the same link on every host, and the kernel
    cannot give them both what they ask of it. A link takes one receive handler: once
    macvlan links hang off it, the kernel refuses an ipvlan link on it ("Device or resource
    busy"), and the other way round. And every ipvlan link on one master shares that master's
    mode: creating one in another mode switches all of them (ipvlan's port mode), so the
    first attachment's pods would silently change from L2 to L3 or back. Give such
    attachments one type and one mode, or put them on different networks.
    """
    first: dict[str, Attachment] = {}
    for attachment in (a for a in cluster.attachments if a.type in ("macvlan", "ipvlan")):
        other = first.setdefault(attachment.network, attachment)
        if other is attachment:
            continue
        where = f"attachments {other.namespace}/{other.name} and {attachment.namespace}/{attachment.name}"
        if other.type != attachment.type:
            yield Finding(
                attachment.origin / "type",
                f"{where} put {other.type} and {attachment.type} links on one master (network {attachment.network}): "
                "the kernel allows only one of them on a link",
                "give both the same type, or put one on another network",
            )
        elif attachment.type == "ipvlan" and other.mode != attachment.mode:
            yield Finding(
                attachment.origin / "mode" if "mode" in attachment.keys else attachment.origin,
                f"{where} are ipvlan in modes {other.mode} and {attachment.mode} on one master "
                f"(network {attachment.network}): an ipvlan master has one mode for all its links",
                f"use mode {other.mode} for both, or put one on another network",
            )
