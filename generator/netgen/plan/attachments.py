"""Multus NetworkAttachmentDefinitions: macvlan, ipvlan, bridge, host-device or sriov, then tuning
(docs/kubernetes.md; failure F4).

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
from netgen.targets import cni_type, kernel_name

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
    #: sriov: the device plugin resource (the ``k8s.v1.cni.cncf.io/resourceName`` annotation)
    resource_name: str | None = None


def plan(cluster: Cluster) -> Iterator[Artifact]:
    for attachment in cluster.attachments:
        yield Artifact(
            path=f"{cluster.name}/kubernetes/attachments/{attachment.namespace}/{attachment.name}.yaml",
            template="kubernetes/attachment.yaml.j2",
            context={"attachment": attachment_plan(cluster, attachment)},
            schema="attachment",
        )


def attachment_plan(cluster: Cluster, attachment: Attachment) -> AttachmentPlan:
    kind = cni_type(attachment.type)
    network = cluster.network(attachment.network)
    mtu = network.mtu if network is not None else None
    plugin: dict[str, Any] = _main_plugin(cluster, attachment)
    if mtu is not None and kind.mtu_key:
        plugin["mtu"] = mtu
    plugin["ipam"] = _ipam_config(cluster, attachment)
    capabilities: dict[str, bool] = {}
    tuning: dict[str, Any] = {"type": "tuning"}
    if kind.own_mac and attachment.mac is None:
        capabilities["mac"] = True
        tuning["capabilities"] = {"mac": True}
    elif kind.own_mac and attachment.mac is not None:
        tuning["mac"] = str(attachment.mac)
        if attachment.type == "bridge":  # the bridge plugin reads a fixed MAC from args.cni.mac only
            plugin["args"] = {"cni": {"mac": tuning["mac"]}}
        else:
            plugin["mac"] = tuning["mac"]
    if attachment.ipam.type is IpamType.STATIC:
        capabilities["ips"] = True  # static IPAM takes each pod's addresses from the networks annotation
    if capabilities:
        plugin["capabilities"] = capabilities
    if mtu is not None and not kind.mtu_key:
        tuning["mtu"] = mtu
    if attachment.sysctls:
        tuning["sysctl"] = dict(attachment.sysctls)
    if attachment.promisc:
        tuning["promisc"] = True
    # tuning sets what the plugin does not: the MAC again, the MTU, sysctls, promiscuous mode;
    # with nothing to set (ipvlan, host-device without any) it is left out
    plugins = [plugin, tuning] if len(tuning) > 1 else [plugin]
    return AttachmentPlan(
        name=attachment.name,
        namespace=attachment.namespace,
        config={"cniVersion": CNI_VERSION, "name": attachment.name, "plugins": plugins},
        annotation_example=_annotation_example(attachment),
        subnet=_subnet(cluster, attachment) if attachment.ipam.type is IpamType.KUBE_OVN else None,
        notes=_notes(cluster, attachment),
        resource_name=attachment.resource_name,
    )


def _main_plugin(cluster: Cluster, attachment: Attachment) -> dict[str, Any]:
    """The plugin that makes the pod's interface, before its ``mtu``, ``ipam`` and MAC:

    - macvlan or ipvlan off the host's link on the network (``master``: its kernel name, the
      same on every host, NG601), with the mode;
    - the bridge plugin on the host's bridge on the network. It sets the MAC on the
      container's veth end when it creates it, as macvlan does, from the ``mac`` capability
      or, for a fixed MAC, from ``args.cni.mac`` (it has no ``mac`` key); ``tuning`` sets it
      again, as for macvlan;
    - host-device with the NIC by MAC (``hwaddr``) or PCI address (``pciBusID``);
    - sriov with the VF's VLAN: Multus adds the VF's PCI address (``deviceID``) from the
      device plugin's allocation of the attachment's ``resourceName``.
    """
    match attachment.type:
        case "bridge":
            plugin: dict[str, Any] = {"type": "bridge", "bridge": _host_link(cluster, attachment)}
            if attachment.vlan is not None:
                plugin["vlan"] = attachment.vlan
            if attachment.is_gateway:
                plugin["isGateway"] = True
            if attachment.ip_masq:
                plugin["ipMasq"] = True
            return plugin
        case "host-device":
            if attachment.device_mac is not None:
                return {"type": "host-device", "hwaddr": str(attachment.device_mac)}
            return {"type": "host-device", "pciBusID": attachment.device_pci}
        case "sriov":
            return {"type": "sriov"} | ({"vlan": attachment.vlan} if attachment.vlan is not None else {})
    return {"type": attachment.type, "master": _host_link(cluster, attachment), "mode": attachment.mode}


def _host_link(cluster: Cluster, attachment: Attachment) -> str:
    """The kernel name of the hosts' link on the attachment's network (one name: NG601, NG602)."""
    return next(
        name
        for host in cluster.hosts
        if (link := host.link_on(attachment.network)) is not None
        and (name := kernel_name(cluster, host, link)) is not None
    )


def _notes(cluster: Cluster, attachment: Attachment) -> tuple[str, ...]:
    notes: tuple[str, ...] = DHCP_NOTE if attachment.ipam.type is IpamType.DHCP else ()
    if attachment.device_mac is not None:
        host = next(h.name for h in cluster.hosts if h.nic(attachment.device_mac) is not None)
        notes += (
            f"host-device: a pod using this attachment takes NIC {attachment.device_mac} of host {host}: only",
            f"pods on {host} can use it, one at a time (nodeSelector kubernetes.io/hostname: {host}).",
        )
    elif attachment.device_pci is not None:
        notes += (
            f"host-device: a pod using this attachment takes the NIC at PCI address {attachment.device_pci}",
            "of its node: one pod per node at a time.",
        )
    if attachment.resource_name is not None:
        notes += (
            f"sriov: pods request one {attachment.resource_name} (resources.limits) and Multus gives the VF",
            "it allocates to sriov-cni as deviceID; the SR-IOV device plugin must offer that resource",
            f"with VFs of the NIC on network {attachment.network}.",
        )
    return notes


def _annotation_example(attachment: Attachment) -> str | None:
    element: dict[str, Any] = {"name": attachment.name, "namespace": attachment.namespace}
    if attachment.mac is None and cni_type(attachment.type).own_mac:
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
