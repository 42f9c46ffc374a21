"""Multus NetworkAttachmentDefinitions: macvlan or bridge, then tuning (docs/kubernetes.md; failure F4).

macvlan sets the MAC when it creates the link (so the IPv6 link-local address is derived
from the right MAC) and tuning sets it again afterwards; both take it from the Multus
``mac`` capability, or both carry the fixed MAC. Kube-OVN IPAM never sets a macvlan NIC's
MAC (kube-ovn#4834), which is why the chain must.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from netgen.model import Attachment, Cluster, Family, Ipam, IpamType, IPNetwork
from netgen.plan.artifact import Artifact
from netgen.targets import kernel_name

CNI_VERSION = "1.0.0"  # reference plugins before 1.6 refuse 1.1.0; Debian bookworm ships 1.1.1
KUBE_OVN_SOCKET = "/run/openvswitch/kube-ovn-daemon.sock"
DHCP_NOTE = (
    "dhcp IPAM: the CNI dhcp daemon (`dhcp daemon`, socket /run/cni/dhcp.sock) must run on every",
    "node that can run a pod using this attachment; it renews the leases. A DHCP server must serve",
    "the network's segment.",
)


@dataclass(frozen=True, slots=True)
class SubnetPlan:
    name: str
    protocol: str
    provider: str
    cidr_block: str
    gateway: str | None
    exclude_ips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttachmentPlan:
    name: str
    namespace: str
    #: the CNI network configuration list, in the key order it is written
    config: dict[str, Any]
    #: a pod's k8s.v1.cni.cncf.io/networks annotation, when pods must give their MAC or addresses
    annotation_example: str | None
    subnet: SubnetPlan | None
    #: comment lines for the head of the file (what must run beside the attachment)
    notes: tuple[str, ...] = ()


def plan(cluster: Cluster) -> Iterator[Artifact]:
    for attachment in cluster.attachments:
        yield Artifact(
            path=f"{cluster.name}/kubernetes/attachments/{attachment.namespace}/{attachment.name}.yaml",
            template="kubernetes/attachment.yaml.j2",
            context={"attachment": attachment_plan(cluster, attachment)},
            schema="attachment",
        )


def attachment_plan(cluster: Cluster, attachment: Attachment) -> AttachmentPlan:
    network = cluster.network(attachment.network)
    master = next(
        name
        for host in cluster.hosts
        if (link := host.link_on(attachment.network)) is not None
        and (name := kernel_name(cluster, host, link)) is not None
    )
    capabilities = {"mac": True} if attachment.mac is None else {}
    if attachment.ipam.type is IpamType.STATIC:
        capabilities["ips"] = True  # static IPAM takes each pod's addresses from the networks annotation
    macvlan: dict[str, Any] = _main_plugin(attachment, master)
    if network is not None and network.mtu is not None:
        macvlan["mtu"] = network.mtu
    macvlan["ipam"] = _ipam_config(cluster, attachment)
    tuning: dict[str, Any] = {"type": "tuning"}
    if attachment.mac is not None:
        tuning["mac"] = str(attachment.mac)
        if attachment.type == "bridge":  # the bridge plugin reads a fixed MAC from args.cni.mac only
            macvlan["args"] = {"cni": {"mac": tuning["mac"]}}
        else:
            macvlan["mac"] = tuning["mac"]
    else:
        tuning["capabilities"] = {"mac": True}
    if capabilities:
        macvlan["capabilities"] = capabilities
    return AttachmentPlan(
        name=attachment.name,
        namespace=attachment.namespace,
        config={"cniVersion": CNI_VERSION, "name": attachment.name, "plugins": [macvlan, tuning]},
        annotation_example=_annotation_example(attachment),
        subnet=_subnet(cluster, attachment) if attachment.ipam.type is IpamType.KUBE_OVN else None,
        notes=DHCP_NOTE if attachment.ipam.type is IpamType.DHCP else (),
    )


def _main_plugin(attachment: Attachment, link: str) -> dict[str, Any]:
    """The plugin that makes the pod's interface, before its ``mtu``, ``ipam`` and MAC: macvlan
    off the host's link, or the bridge plugin on the host's bridge (``link``: its kernel name,
    the same on every host, NG601). The bridge plugin sets the MAC on the container's veth end
    when it creates it, as macvlan does, from the ``mac`` capability or, for a fixed MAC, from
    ``args.cni.mac`` (it has no ``mac`` key); ``tuning`` sets it again, as for macvlan."""
    if attachment.type == "bridge":
        plugin: dict[str, Any] = {"type": "bridge", "bridge": link}
        if attachment.vlan is not None:
            plugin["vlan"] = attachment.vlan
        if attachment.is_gateway:
            plugin["isGateway"] = True
        if attachment.ip_masq:
            plugin["ipMasq"] = True
        return plugin
    return {"type": "macvlan", "master": link, "mode": attachment.mode}


def _annotation_example(attachment: Attachment) -> str | None:
    element: dict[str, Any] = {"name": attachment.name, "namespace": attachment.namespace}
    if attachment.mac is None:
        element["mac"] = "02:00:00:00:00:01"
    if attachment.ipam.type is IpamType.STATIC:
        element["ips"] = ["<address>/<prefix length>"]
    return json.dumps([element]) if len(element) > 2 else None


def _provider(attachment: Attachment) -> str:
    return f"{attachment.name}.{attachment.namespace}"


def _ipam_config(cluster: Cluster, attachment: Attachment) -> dict[str, Any]:
    ipam = attachment.ipam
    match ipam.type:
        case IpamType.KUBE_OVN:
            return {"type": "kube-ovn", "server_socket": KUBE_OVN_SOCKET, "provider": _provider(attachment)}
        case IpamType.HOST_LOCAL:
            cidrs = [ipaddress.ip_network(c) for c in cluster.in_family_order(ipam.cidrs)]
            return {"type": "host-local", "ranges": [_host_local_ranges(c, ipam) for c in cidrs]}
        case IpamType.WHEREABOUTS:
            return _whereabouts(cluster, attachment)
        case IpamType.DHCP:
            return {"type": "dhcp"}  # the reference plugin; its daemon runs on every node (docs/kubernetes.md)
        case IpamType.STATIC:
            return {"type": "static"}
    return {}


def _whereabouts(cluster: Cluster, attachment: Attachment) -> dict[str, Any]:
    """whereabouts IPAM: one range per prefix (``range`` alone, or ``ipRanges`` for dual stack),
    cut to the allocatable span with ``range_start``/``range_end`` and with every excluded block
    inside it as ``exclude`` CIDRs. whereabouts does not skip its ``gateway``, so the gateways
    are excluded too. ``network_name`` is the attachment's network: attachments on one network
    share pools and address reservations (same or overlapping prefixes never give an address
    twice), those on other networks are independent. ``enable_overlapping_ranges`` is written
    on (its default) so that the protection is visible in the file."""
    ipam = attachment.ipam
    cidrs = [ipaddress.ip_network(c) for c in cluster.in_family_order(ipam.cidrs)]
    ranges = [_whereabouts_range(cidr, ipam) for cidr in cidrs]
    config: dict[str, Any] = {"type": "whereabouts"}
    if len(ranges) == 1:
        config |= ranges[0]
    else:
        config["ipRanges"] = ranges
    if len(cidrs) == 1 and (gateway := next((g for g in ipam.gateways if g in cidrs[0]), None)) is not None:
        # one `gateway` goes into every IP of the result: with two families it would be wrong
        # for one of them, so a dual-stack attachment carries none (its gateways stay excluded)
        config["gateway"] = str(gateway)
    config |= {"network_name": attachment.network, "enable_overlapping_ranges": True}
    return config


def _whereabouts_range(cidr: IPNetwork, ipam: Ipam) -> dict[str, Any]:
    blocks = ipam.allocatable(cidr)  # never empty: NG605
    first, last = blocks[0].first, blocks[-1].last
    entry: dict[str, Any] = {"range": str(cidr)}
    if int(first) != int(cidr.network_address) + 1:
        entry["range_start"] = str(first)
    if int(last) != int(cidr.broadcast_address) - 1:
        entry["range_end"] = str(last)
    holes = [(int(a.last) + 1, int(b.first) - 1) for a, b in itertools.pairwise(blocks)]
    holes += [(int(g), int(g)) for g in ipam.gateways if g in cidr and any(b.contains(g) for b in blocks)]
    make = ipaddress.IPv4Address if cidr.version == 4 else ipaddress.IPv6Address
    exclude = [
        str(net) for low, high in sorted(holes) for net in ipaddress.summarize_address_range(make(low), make(high))
    ]
    if exclude:
        entry["exclude"] = exclude
    return entry


def _host_local_ranges(cidr: IPNetwork, ipam: Ipam) -> list[dict[str, str]]:
    """One host-local range set: the prefix, split around the excluded blocks."""
    gateway = next((g for g in ipam.gateways if g in cidr), None)
    blocks = ipam.allocatable(cidr) if ipam.exclude else [None]
    ranges = []
    for block in blocks:
        entry = {"subnet": str(cidr)}
        if block is not None:
            entry |= {"rangeStart": str(block.first), "rangeEnd": str(block.last)}
        if gateway is not None:
            entry["gateway"] = str(gateway)
        ranges.append(entry)
    return ranges


def _subnet(cluster: Cluster, attachment: Attachment) -> SubnetPlan:
    ipam = attachment.ipam
    families = {Family.of(c) for c in ipam.cidrs}
    protocol = "Dual" if len(families) == 2 else ("IPv4" if Family.IPV4 in families else "IPv6")
    gateways = cluster.in_family_order(ipam.gateways)
    return SubnetPlan(
        name=f"{attachment.namespace}-{attachment.name}",
        protocol=protocol,
        provider=_provider(attachment),
        cidr_block=",".join(cluster.in_family_order(ipam.cidrs)),
        gateway=",".join(gateways) if gateways else None,
        exclude_ips=tuple(str(b.first) if b.first == b.last else f"{b.first}..{b.last}" for b in ipam.exclude),
    )
