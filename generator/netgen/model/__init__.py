"""The typed, immutable inventory model.

Built from a document that already passed the inventory schema (see
:mod:`netgen.load.builder`), so shapes are known here; values (addresses, prefixes, MACs)
are parsed objects. Every object keeps the :class:`Origin` it came from, so checks can
point at the user's line and column.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

from netgen.diagnostics import Diagnostic, Origin

IPAddress = IPv4Address | IPv6Address
IPInterface = IPv4Interface | IPv6Interface
IPNetwork = IPv4Network | IPv6Network


class Family(enum.StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"

    @property
    def version(self) -> int:
        return 4 if self is Family.IPV4 else 6

    @classmethod
    def of(cls, value: IPAddress | IPInterface | IPNetwork) -> Family:
        return cls.IPV4 if value.version == 4 else cls.IPV6


class Role(enum.StrEnum):
    CONTROLPLANE = "controlplane"
    WORKER = "worker"


_MAC_ALTNAME = re.compile(r"^enx[0-9a-f]{12}$")
_ENUMERATED_NAME = re.compile(r"^eth[0-9]+$")
_MAC_TEXT = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$")


def is_mac_altname(name: str) -> bool:
    """``enx<mac>``: a udev altname since Talos 1.9, never a name to configure a link by."""
    return bool(_MAC_ALTNAME.match(name))


def is_unstable_name(name: str) -> bool:
    """A name that can point at another NIC tomorrow: an ``enx`` altname, or an ``ethN``
    name the kernel hands out in probe order (with ``net.ifnames=0``), which changes between
    boots on hosts with several NICs."""
    return bool(_MAC_ALTNAME.match(name) or _ENUMERATED_NAME.match(name))


@dataclass(frozen=True, slots=True, order=True)
class MacAddress:
    """A 48-bit MAC address; its text form is lower-case and colon-separated."""

    value: int

    @classmethod
    def parse(cls, text: str) -> MacAddress:
        if not _MAC_TEXT.match(text):
            raise ValueError(f"{text!r} is not a MAC address (six hex pairs separated by ':' or '-')")
        return cls(int(re.sub(r"[:-]", "", text), 16))

    @property
    def is_multicast(self) -> bool:
        return bool((self.value >> 40) & 0x01)

    @property
    def is_zero(self) -> bool:
        return self.value == 0

    @property
    def compact(self) -> str:
        return f"{self.value:012x}"

    def __str__(self) -> str:
        hex_digits = self.compact
        return ":".join(hex_digits[i : i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """A ``major.minor`` version: what selects a Talos dialect or a vcluster values format."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        major, minor = text.split(".")
        return cls(int(major), int(minor))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


class _Carrier:
    """What every kind of link that can carry a network answers: its static addresses."""

    __slots__ = ()
    addresses: tuple[IPInterface, ...]

    def static_address(self, family: Family) -> IPInterface | None:
        return next((a for a in self.addresses if a.version == family.version), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Nic(_Carrier):
    mac: MacAddress
    network: str | None
    addresses: tuple[IPInterface, ...]
    model: str | None
    name: str | None
    origin: Origin
    #: where ``name`` came from: the inventory's ``name`` key or a facts file
    name_origin: Origin | None = None
    #: where ``model`` came from: the inventory's ``model`` key or a facts file's driver
    model_origin: Origin | None = None
    mtu: int | None = None
    #: turn off the checksum and tunnel offloads that break VXLAN on vmxnet3 (failure F3)
    disable_offloads: bool = False

    @property
    def interface_name(self) -> str | None:
        """The kernel name for consumers that match names exactly (MetalLB, macvlan's
        master); an ``enx`` altname is never one of them."""
        return None if self.name is None or is_mac_altname(self.name) else self.name

    @property
    def link_name(self) -> str | None:
        """The kernel name to configure this NIC by, if one is known and stable; the MAC
        selects the NIC otherwise."""
        return None if self.name is None or is_unstable_name(self.name) else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Bond(_Carrier):
    """A bond of NICs, selected by MAC; its ``name`` is the kernel name Talos gives it."""

    name: str
    #: the member NICs' MACs, in the inventory's order
    members: tuple[MacAddress, ...]
    mode: str
    lacp_rate: str | None
    hash_policy: str | None
    miimon: int | None
    network: str | None
    addresses: tuple[IPInterface, ...]
    mtu: int | None
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Vlan(_Carrier):
    """A VLAN on a NIC (``parent`` a MAC), a bond or a bridge (``parent`` its name)."""

    id: int
    parent: str
    #: the kernel name asked for (Talos 1.12 and later); None: ``<parent>.<id>``
    name: str | None
    network: str | None
    addresses: tuple[IPInterface, ...]
    mtu: int | None
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Bridge(_Carrier):
    """A bridge over NICs (by MAC), bonds or VLANs (by name)."""

    name: str
    members: tuple[str, ...]
    stp: bool
    network: str | None
    addresses: tuple[IPInterface, ...]
    mtu: int | None
    origin: Origin


Link = Nic | Bond | Vlan | Bridge


def describe(link: Link) -> str:
    """A link as messages name it."""
    if isinstance(link, Nic):
        return f"NIC {link.mac}"
    if isinstance(link, Vlan):
        return f"VLAN {link.id} on {link.parent}"
    return f"{'bond' if isinstance(link, Bond) else 'bridge'} {link.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    name: str
    role: Role
    nics: tuple[Nic, ...]
    node_ip_exclude: tuple[IPNetwork, ...]
    origin: Origin
    bonds: tuple[Bond, ...] = ()
    vlans: tuple[Vlan, ...] = ()
    bridges: tuple[Bridge, ...] = ()
    #: the host's own resolvers and time servers; None: the cluster's
    nameservers: tuple[IPAddress, ...] | None = None
    time_servers: tuple[str, ...] | None = None
    #: whether the cluster's Talos target writes the multi-document network config, which
    #: names VLANs itself (see :meth:`kernel_name`)
    multidoc: bool = True

    @property
    def is_controlplane(self) -> bool:
        return self.role is Role.CONTROLPLANE

    @property
    def links(self) -> tuple[Link, ...]:
        """Every link the inventory describes for this host: NICs, bonds, VLANs, bridges."""
        return (*self.nics, *self.bonds, *self.vlans, *self.bridges)

    def link_on(self, network: str) -> Link | None:
        """The link that carries ``network`` on this host (a NIC, bond, VLAN or bridge)."""
        return next((link for link in self.links if link.network == network), None)

    def nic(self, mac: MacAddress) -> Nic | None:
        return next((nic for nic in self.nics if nic.mac == mac), None)

    def _by_mac(self, reference: str) -> Nic | None:
        try:
            return self.nic(MacAddress.parse(reference))
        except ValueError:
            return None

    def parent(self, vlan: Vlan) -> Nic | Bond | Bridge | None:
        """A VLAN's parent: a NIC by its MAC, or a bond or bridge by its name."""
        masters: tuple[Bond | Bridge, ...] = (*self.bonds, *self.bridges)
        return self._by_mac(vlan.parent) or next((m for m in masters if m.name == vlan.parent), None)

    def member(self, reference: str) -> Nic | Bond | Vlan | None:
        """A bridge member: a NIC by its MAC, or a bond or VLAN by its (kernel) name."""
        named: tuple[Bond | Vlan, ...] = (
            *(b for b in self.bonds if b.name == reference),
            *(v for v in self.vlans if self.kernel_name(v) == reference),
        )
        return self._by_mac(reference) or next(iter(named), None)

    def masters(self) -> dict[Link, list[Bond | Bridge]]:
        """The bonds and bridges that take each link as a member."""
        taken: dict[Link, list[Bond | Bridge]] = {}
        for bond in self.bonds:
            for mac in bond.members:
                if (nic := self.nic(mac)) is not None and bond not in taken.setdefault(nic, []):
                    taken[nic].append(bond)
        for bridge in self.bridges:
            for reference in bridge.members:
                if (link := self.member(reference)) is not None and bridge not in taken.setdefault(link, []):
                    taken[link].append(bridge)
        return taken

    def kernel_name(self, link: Link) -> str | None:
        """The kernel name of a link when it can be known: a NIC's (not an ``enx`` altname),
        a bond's or bridge's own name, a VLAN's asked-for name (multi-document Talos) or
        ``<parent>.<id>``, where a multi-document config names a VLAN on a NIC of unknown name
        ``vlan<id>``. None where it cannot be known before the host runs."""
        multidoc = self.multidoc
        if isinstance(link, Nic):
            return link.interface_name
        if isinstance(link, Bond | Bridge):
            return link.name
        if multidoc and link.name is not None:
            return link.name
        parent = self.parent(link)
        if isinstance(parent, Nic):
            # a multi-document config names the VLAN after a name it configures the NIC by;
            # the legacy one lets Talos name it after the NIC's name on the host
            parent_name = parent.link_name if multidoc else parent.interface_name
        else:
            parent_name = parent.name if parent is not None else None
        if parent_name is None:
            return f"vlan{link.id}" if multidoc else None
        return f"{parent_name}.{link.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticRoute:
    """A route beyond the default one, on whichever link carries its network."""

    destination: IPNetwork
    gateway: IPAddress
    metric: int | None
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    name: str
    cidrs: tuple[IPNetwork, ...]
    gateways: tuple[IPAddress, ...]
    mtu: int | None
    node_ip_exclude: tuple[IPNetwork, ...]
    origin: Origin
    routes: tuple[StaticRoute, ...] = ()

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(dict.fromkeys(Family.of(cidr) for cidr in self.cidrs))

    def cidr(self, family: Family) -> IPNetwork | None:
        return next((c for c in self.cidrs if c.version == family.version), None)

    def gateway(self, family: Family) -> IPAddress | None:
        return next((g for g in self.gateways if g.version == family.version), None)

    def cidr_of(self, address: IPAddress) -> IPNetwork | None:
        return next((c for c in self.cidrs if c.version == address.version and address in c), None)

    def contains(self, address: IPAddress) -> bool:
        return self.cidr_of(address) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlPlane:
    vips: tuple[IPAddress, ...]
    endpoint: str | None
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressRange:
    """A block of addresses written as a prefix (``10.0.0.0/28``) or a range (``a-b``, ``a..b``)."""

    first: IPAddress
    last: IPAddress
    #: the block as MetalLB or Kube-OVN takes it: the prefix, or ``first-last``
    text: str

    @property
    def family(self) -> Family:
        return Family.of(self.first)

    def contains(self, address: IPAddress) -> bool:
        return address.version == self.first.version and int(self.first) <= int(address) <= int(self.last)

    def overlaps(self, other: AddressRange) -> bool:
        return (
            self.first.version == other.first.version
            and int(self.first) <= int(other.last)
            and int(other.first) <= int(self.last)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpAdvertisement:
    """One BGP announcement of a pool (a MetalLB ``BGPAdvertisement``)."""

    aggregation_length: int | None
    aggregation_length_v6: int | None
    communities: tuple[str, ...]
    local_pref: int | None
    #: the names of the peers to announce to; empty for every peer
    peers: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    name: str
    addresses: tuple[AddressRange, ...]
    auto_assign: bool
    #: the network whose NICs announce the pool over layer 2; None for no L2Advertisement
    l2_network: str | None
    origin: Origin
    #: the pool's BGP announcements; empty when it is not announced by BGP
    bgp: tuple[BgpAdvertisement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpPeer:
    """A router the MetalLB speakers open a BGP session to (a ``BGPPeer``)."""

    name: str
    #: None when the inventory's text is not an address (reported while loading)
    address: IPAddress | None
    asn: int
    my_asn: int
    port: int | None
    password: str | None
    #: the name of a ``kubernetes.io/basic-auth`` Secret (key ``password``) in MetalLB's namespace
    password_secret: str | None
    bfd_profile: str | None
    ebgp_multihop: bool
    hold_time: str | None
    keepalive_time: str | None
    #: the hosts whose speakers peer; empty for every node
    hosts: tuple[str, ...]
    origin: Origin

    @property
    def ibgp(self) -> bool:
        return self.asn == self.my_asn


@dataclass(frozen=True, slots=True, kw_only=True)
class BfdProfile:
    name: str
    #: the profile's settings as MetalLB names them (``receiveInterval``, ``echoMode``, …)
    settings: tuple[tuple[str, int | bool], ...]
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class MetalLB:
    namespace: str
    pools: tuple[Pool, ...]
    origin: Origin
    #: the MetalLB minor the resources are written for (see :data:`netgen.targets.METALLB`)
    version: Version = Version(0, 15)
    peers: tuple[BgpPeer, ...] = ()
    bfd_profiles: tuple[BfdProfile, ...] = ()


class IpamType(enum.StrEnum):
    KUBE_OVN = "kube-ovn"
    HOST_LOCAL = "host-local"
    WHEREABOUTS = "whereabouts"
    DHCP = "dhcp"
    STATIC = "static"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ipam:
    type: IpamType
    cidrs: tuple[IPNetwork, ...]
    gateways: tuple[IPAddress, ...]
    exclude: tuple[AddressRange, ...]
    origin: Origin

    @property
    def hands_out(self) -> bool:
        """Whether this IPAM hands out addresses from its ``cidrs`` by itself (``static`` takes
        each pod's from the pod, ``dhcp`` from a DHCP server on the segment, ``none``
        configures none)."""
        return self.type in (IpamType.KUBE_OVN, IpamType.HOST_LOCAL, IpamType.WHEREABOUTS)

    def allocatable(self, cidr: IPNetwork) -> list[AddressRange]:
        """The blocks of ``cidr`` the IPAM may hand out: the subnet and (IPv4) broadcast
        addresses never (whereabouts never the last address of an IPv6 prefix either), the
        excluded blocks not either."""
        first = int(cidr.network_address) + 1
        skips_last = cidr.version == 4 or self.type is IpamType.WHEREABOUTS
        last = int(cidr.broadcast_address) - (1 if skips_last else 0)
        holes = sorted((int(b.first), int(b.last)) for b in self.exclude if b.first.version == cidr.version)
        bounds: list[tuple[int, int]] = []
        start = first
        for hole_first, hole_last in holes:
            if hole_first > start:
                bounds.append((start, min(hole_first - 1, last)))
            start = max(start, hole_last + 1)
        if start <= last:
            bounds.append((start, last))
        make = IPv4Address if cidr.version == 4 else IPv6Address
        return [AddressRange(first=make(a), last=make(b), text=f"{make(a)}-{make(b)}") for a, b in bounds if a <= b]


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    name: str
    namespace: str
    network: str
    #: macvlan or ipvlan mode ("" for a type without modes)
    mode: str
    #: a fixed MAC, or None when each pod sets its own (Multus ``mac`` in the networks annotation)
    mac: MacAddress | None
    ipam: Ipam
    origin: Origin
    #: the CNI plugin that makes the pod's interface (``netgen.targets.CNI_TYPES``): ``macvlan`` or
    #: ``ipvlan`` off the host's link on the network, ``bridge`` (a veth on the host's bridge on
    #: the network), ``host-device`` (a NIC moved into the pod) or ``sriov`` (a VF)
    type: str = "macvlan"
    #: bridge: the VLAN id the pod's port gets on the bridge; sriov: the VF's VLAN (None: untagged)
    vlan: int | None = None
    #: bridge: give the bridge the IPAM gateway address (``isGateway``)
    is_gateway: bool = False
    #: bridge: masquerade traffic from the pods leaving through the node (``ipMasq``)
    ip_masq: bool = False
    #: host-device: the NIC it moves into the pod, by its MAC (a NIC of one host) or by PCI address
    device_mac: MacAddress | None = None
    device_pci: str | None = None
    #: sriov: the device plugin's resource whose VFs the pods get (Multus's resourceName annotation)
    resource_name: str | None = None
    #: tuning: sysctls set in the pod's network namespace (``IFNAME`` stands for the interface),
    #: and promiscuous mode on the pod's interface
    sysctls: tuple[tuple[str, str], ...] = ()
    promisc: bool = False
    #: the keys the inventory gives (NG614 finds keys of another type)
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VCluster:
    name: str
    namespace: str
    version: Version
    distro: str
    origin: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    name: str
    talos_version: Version
    families: tuple[Family, ...]
    pod_cidrs: tuple[IPNetwork, ...]
    service_cidrs: tuple[IPNetwork, ...]
    node_network_name: str | None
    networks: tuple[Network, ...]
    control_plane: ControlPlane
    hosts: tuple[Host, ...]
    metallb: MetalLB | None = None
    attachments: tuple[Attachment, ...] = ()
    vclusters: tuple[VCluster, ...] = ()
    origin: Origin
    nameservers: tuple[IPAddress, ...] = ()
    search_domains: tuple[str, ...] = ()
    time_servers: tuple[str, ...] = ()
    #: the network holding the first VIP (checks make sure all VIPs share it)
    vip_network: Network | None = field(init=False, compare=False, repr=False)
    #: the network whose addresses kubelet and etcd use (defaults: docs/inventory.md)
    node_network: Network | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # asked for by many checks and by every node's plan: worked out once
        vips = self.control_plane.vips
        vip_network = next((n for n in self.networks if n.contains(vips[0])), None) if vips else None
        if self.node_network_name is not None:
            node_network = self.network(self.node_network_name)
        elif vips:
            node_network = vip_network
        else:
            node_network = self.networks[0] if len(self.networks) == 1 else None
        object.__setattr__(self, "vip_network", vip_network)
        object.__setattr__(self, "node_network", node_network)

    def network(self, name: str | None) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)

    def address_owners(self, *, vips: bool = True) -> dict[IPAddress, str]:
        """Every address something owns (host addresses, gateways, and the VIPs), with its owner."""
        owners: dict[IPAddress, str] = {
            a.ip: f"the address of host {h.name}" for h in self.hosts for link in h.links for a in link.addresses
        }
        owners |= {g: f"the gateway of network {n.name}" for n in self.networks for g in n.gateways}
        if vips:
            owners |= dict.fromkeys(self.control_plane.vips, "a control-plane VIP")
        return owners

    def in_family_order(self, values: Iterable[IPNetwork | IPAddress]) -> tuple[str, ...]:
        """Values as text, primary family first (the cluster's `families` order)."""
        order = {family.version: index for index, family in enumerate(self.families)}
        return tuple(str(v) for v in sorted(values, key=lambda v: order.get(v.version, len(order))))

    @property
    def endpoint(self) -> str | None:
        if self.control_plane.endpoint is not None:
            return self.control_plane.endpoint
        if not self.control_plane.vips:
            return None
        vip = self.control_plane.vips[0]
        host = f"[{vip}]" if vip.version == 6 else str(vip)
        return f"https://{host}:6443"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    clusters: tuple[Cluster, ...]
    #: the inventory file as given (shown in diagnostics); headers and the manifest use its base name
    name: str
    #: source texts by display name (inventory and facts), for locating diagnostics
    sources: dict[str, str]
    #: sha256 of every input by display name, recorded in the output manifest
    digests: dict[str, str]
    #: problems of the facts files and of their match with the inventory
    facts_diagnostics: tuple[Diagnostic, ...] = ()
