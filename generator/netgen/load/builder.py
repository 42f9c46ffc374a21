"""From a schema-valid inventory document (plain data) to the typed model.

Shapes are guaranteed by the schema; what can still be wrong here are values: text
that is not an address or prefix. Each such value gives a diagnostic and is left out,
so that all of them are reported in one run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from netgen.diagnostics import Code, Diagnostic, Origin, Severity
from netgen.model import (
    AddressRange,
    Attachment,
    BfdProfile,
    BgpAdvertisement,
    BgpPeer,
    Bond,
    Bridge,
    Cluster,
    ControlPlane,
    Family,
    Host,
    IPAddress,
    Ipam,
    IpamType,
    IPInterface,
    IPNetwork,
    MacAddress,
    MetalLB,
    Network,
    Nic,
    Pool,
    Role,
    StaticRoute,
    VCluster,
    Version,
    Vlan,
)
from netgen.targets import CNI_TYPES, METALLB_DEFAULT, TALOS_DEFAULT, TALOS_MULTIDOC_SINCE, cni_type

INVALID_ADDRESS = Code(
    "NG020",
    Severity.ERROR,
    "invalid address or prefix",
    """
    A value that must be an IP address, a prefix (CIDR) or an address with prefix length
    cannot be read as one. Prefixes must have their host bits zero (`10.244.0.0/16`, not
    `10.244.0.1/16`); NIC addresses need their prefix length (`192.168.10.11/24`).
    """,
)

MALFORMED_RANGE = Code(
    "NG501",
    Severity.ERROR,
    "malformed address range",
    """
    A MetalLB pool block or a Kube-OVN `exclude` entry is neither a prefix nor a well-formed
    range: its ends are not addresses, are of different families, or the first is after the
    last. Write a prefix (`192.168.20.0/28`) or `first-last` (pools) / `first..last`
    (IPAM excludes) with first <= last.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    INVALID_ADDRESS,
    MALFORMED_RANGE,
)

DEFAULT_METALLB_NAMESPACE = "metallb-system"

T = TypeVar("T")


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def values(self, items: list[str], origin: Origin, parse: Callable[[str, Origin], T | None]) -> tuple[T, ...]:
        parsed = (parse(text, origin / index) for index, text in enumerate(items))
        return tuple(value for value in parsed if value is not None)

    def prefix(self, text: str, origin: Origin) -> IPNetwork | None:
        try:
            return ipaddress.ip_network(text)
        except ValueError:
            try:
                loose = ipaddress.ip_network(text, strict=False)
            except ValueError:
                self._invalid(origin, f"{text!r} is not an IP prefix", "write a prefix such as 10.20.0.0/24")
            else:
                self._invalid(origin, f"{text!r} has host bits set", f"did you mean {loose}?")
        return None

    def interface(self, text: str, origin: Origin) -> IPInterface | None:
        if "%" in text:
            self._zone(text, origin)
            return None
        if "/" not in text:
            self._invalid(
                origin, f"{text!r} has no prefix length", f"write it with its network's prefix, e.g. {text}/24"
            )
            return None
        try:
            return ipaddress.ip_interface(text)
        except ValueError:
            self._invalid(origin, f"{text!r} is not an address with prefix length", "write e.g. 192.168.10.11/24")
            return None

    def address(self, text: str, origin: Origin) -> IPAddress | None:
        if "%" in text:
            self._zone(text, origin)
            return None
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            hint = "write the address without a prefix length" if "/" in text else "write an IPv4 or IPv6 address"
            self._invalid(origin, f"{text!r} is not an IP address", hint)
            return None

    def address_range(self, text: str, origin: Origin, separator: str) -> AddressRange | None:
        """A prefix, a single address, or ``first<separator>last``."""
        if "%" in text:
            self._zone(text, origin)
            return None
        other = ".." if separator == "-" else "-"
        if separator not in text and other in text:
            # MetalLB writes ranges with '-', Kube-OVN with '..': the other tool's form
            self._malformed(origin, f"{text!r} uses {other!r}; here a range is written first{separator}last", separator)
            return None
        if separator in text:
            first_text, last_text = (part.strip() for part in text.split(separator, 1))
            try:
                first, last = ipaddress.ip_address(first_text), ipaddress.ip_address(last_text)
            except ValueError:
                self._malformed(origin, f"{text!r} is not a range of two addresses", separator)
                return None
            if first.version != last.version:
                self._malformed(origin, f"range {text!r} mixes IPv4 and IPv6", separator)
                return None
            if int(first) > int(last):
                self.diagnostics.append(
                    MALFORMED_RANGE.at(
                        origin, f"range {text!r} ends before it starts", f"did you mean {last}{separator}{first}?"
                    )
                )
                return None
            return AddressRange(first=first, last=last, text=f"{first}{separator}{last}")
        if "/" in text:
            prefix = self.prefix(text, origin)
            if prefix is None:
                return None
            return AddressRange(first=prefix.network_address, last=prefix.broadcast_address, text=str(prefix))
        single = self.address(text, origin)
        if single is None:
            return None
        return AddressRange(first=single, last=single, text=str(single))

    def _malformed(self, origin: Origin, message: str, separator: str) -> None:
        self.diagnostics.append(
            MALFORMED_RANGE.at(origin, message, f"write a prefix or first{separator}last, first <= last, one family")
        )

    def _zone(self, text: str, origin: Origin) -> None:
        # a zone index (fe80::1%eth0) names a link of one host; the link is already given by the NIC
        self._invalid(
            origin, f"{text!r} has a zone index", f"write it without the zone: {text.split('%', maxsplit=1)[0]}"
        )

    def _invalid(self, origin: Origin, message: str, hint: str) -> None:
        self.diagnostics.append(INVALID_ADDRESS.at(origin, message, hint))

    def cluster(self, data: dict[str, Any], origin: Origin) -> Cluster:
        families = tuple(Family(f) for f in data["families"])
        kubernetes = data["kubernetes"]
        k8s_origin = origin / "kubernetes"
        control_plane = data.get("controlPlane", {})
        cp_origin = origin / "controlPlane"
        talos = data.get("talos", {})
        version = Version.parse(talos["version"]) if "version" in talos else TALOS_DEFAULT
        return Cluster(
            name=data["name"],
            talos_version=version,
            families=families,
            pod_cidrs=self.values(kubernetes["podCIDRs"], k8s_origin / "podCIDRs", self.prefix),
            service_cidrs=self.values(kubernetes["serviceCIDRs"], k8s_origin / "serviceCIDRs", self.prefix),
            node_network_name=kubernetes.get("nodeNetwork"),
            networks=tuple(self.network(n, origin / "networks" / i) for i, n in enumerate(data["networks"])),
            control_plane=ControlPlane(
                vips=self.values(control_plane.get("vips", []), cp_origin / "vips", self.address),
                endpoint=control_plane.get("endpoint"),
                origin=cp_origin,
            ),
            hosts=tuple(
                self.host(h, origin / "hosts" / i, multidoc=version >= TALOS_MULTIDOC_SINCE)
                for i, h in enumerate(data["hosts"])
            ),
            metallb=self.metallb(data["metallb"], origin / "metallb") if "metallb" in data else None,
            attachments=tuple(
                self.attachment(a, origin / "attachments" / i) for i, a in enumerate(data.get("attachments", []))
            ),
            vclusters=tuple(
                VCluster(
                    name=v["name"],
                    namespace=v["namespace"],
                    version=Version.parse(v["version"]),
                    distro=v.get("distro", "k8s"),
                    origin=origin / "vclusters" / i,
                )
                for i, v in enumerate(data.get("vclusters", []))
            ),
            nameservers=self.values(data.get("nameservers", []), origin / "nameservers", self.address),
            search_domains=tuple(data.get("searchDomains", [])),
            time_servers=tuple(data.get("timeServers", [])),
            origin=origin,
        )

    def metallb(self, data: dict[str, Any], origin: Origin) -> MetalLB:
        pools = []
        for index, pool in enumerate(data.get("pools", [])):
            at = origin / "pools" / index
            pools.append(
                Pool(
                    name=pool["name"],
                    addresses=self.values(
                        pool["addresses"], at / "addresses", lambda t, o: self.address_range(t, o, "-")
                    ),
                    auto_assign=pool.get("autoAssign", True),
                    l2_network=pool["l2"]["network"] if "l2" in pool else None,
                    origin=at,
                    bgp=self.bgp_advertisements(pool.get("bgp"), at / "bgp"),
                )
            )
        bgp = data.get("bgp", {})
        return MetalLB(
            namespace=data.get("namespace", DEFAULT_METALLB_NAMESPACE),
            pools=tuple(pools),
            origin=origin,
            version=Version.parse(data["version"]) if "version" in data else METALLB_DEFAULT,
            peers=tuple(
                self.bgp_peer(peer, origin / "bgp" / "peers" / i) for i, peer in enumerate(bgp.get("peers", []))
            ),
            bfd_profiles=tuple(
                BfdProfile(
                    name=profile["name"],
                    settings=tuple((key, value) for key, value in profile.items() if key != "name"),
                    origin=origin / "bfdProfiles" / i,
                )
                for i, profile in enumerate(data.get("bfdProfiles", []))
            ),
        )

    @staticmethod
    def bgp_advertisements(
        data: dict[str, Any] | list[dict[str, Any]] | None, origin: Origin
    ) -> tuple[BgpAdvertisement, ...]:
        """A pool's ``bgp``: one advertisement (a mapping) or several (a list of them)."""
        if data is None:
            return ()
        items = [(data, origin)] if isinstance(data, dict) else [(d, origin / i) for i, d in enumerate(data)]
        return tuple(
            BgpAdvertisement(
                aggregation_length=item.get("aggregationLength"),
                aggregation_length_v6=item.get("aggregationLengthV6"),
                communities=tuple(item.get("communities", [])),
                local_pref=item.get("localPref"),
                peers=tuple(item.get("peers", [])),
                origin=at,
            )
            for item, at in items
        )

    def bgp_peer(self, data: dict[str, Any], origin: Origin) -> BgpPeer:
        return BgpPeer(
            name=data["name"],
            address=self.address(data["address"], origin / "address"),
            asn=data["asn"],
            my_asn=data["myASN"],
            port=data.get("port"),
            password=data.get("password"),
            password_secret=data.get("passwordSecret"),
            bfd_profile=data.get("bfdProfile"),
            ebgp_multihop=data.get("ebgpMultiHop", False),
            hold_time=data.get("holdTime"),
            keepalive_time=data.get("keepaliveTime"),
            hosts=tuple(data.get("hosts", [])),
            origin=origin,
        )

    def attachment(self, data: dict[str, Any], origin: Origin) -> Attachment:
        ipam = data.get("ipam", {"type": "none"})
        ipam_origin = origin / "ipam"
        mac = data.get("mac", "perPod")
        kind = cni_type(data.get("type", CNI_TYPES[0].name))
        device = data.get("device", {})
        tuning = data.get("tuning", {})
        return Attachment(
            name=data["name"],
            namespace=data["namespace"],
            network=data["network"],
            mode=data.get("mode", kind.modes[0] if kind.modes else ""),
            mac=None if mac == "perPod" else MacAddress.parse(mac),
            ipam=Ipam(
                type=IpamType(ipam["type"]),
                cidrs=self.values(ipam.get("cidrs", []), ipam_origin / "cidrs", self.prefix),
                gateways=self.values(ipam.get("gateways", []), ipam_origin / "gateways", self.address),
                exclude=self.values(
                    ipam.get("exclude", []), ipam_origin / "exclude", lambda t, o: self.address_range(t, o, "..")
                ),
                origin=ipam_origin,
            ),
            origin=origin,
            type=kind.name,
            vlan=data.get("vlan"),
            is_gateway=data.get("isGateway", False),
            ip_masq=data.get("ipMasq", False),
            device_mac=MacAddress.parse(device["mac"]) if "mac" in device else None,
            device_pci=device.get("pciBusID"),
            resource_name=data.get("resourceName"),
            sysctls=tuple((key, str(value)) for key, value in tuning.get("sysctls", {}).items()),
            promisc=tuning.get("promisc", False),
            keys=tuple(data),
        )

    def network(self, data: dict[str, Any], origin: Origin) -> Network:
        return Network(
            name=data["name"],
            cidrs=self.values(data["cidrs"], origin / "cidrs", self.prefix),
            gateways=self.values(data.get("gateways", []), origin / "gateways", self.address),
            mtu=data.get("mtu"),
            node_ip_exclude=self.values(data.get("nodeIPExclude", []), origin / "nodeIPExclude", self.prefix),
            routes=tuple(
                route
                for i, r in enumerate(data.get("routes", []))
                if (route := self.route(r, origin / "routes" / i)) is not None
            ),
            origin=origin,
        )

    def host(self, data: dict[str, Any], origin: Origin, *, multidoc: bool) -> Host:
        nameservers, time_servers = data.get("nameservers"), data.get("timeServers")
        return Host(
            name=data["name"],
            role=Role(data["role"]),
            nics=tuple(self.nic(n, origin / "nics" / i) for i, n in enumerate(data["nics"])),
            bonds=tuple(self.bond(b, origin / "bonds" / i) for i, b in enumerate(data.get("bonds", []))),
            vlans=tuple(self.vlan(v, origin / "vlans" / i) for i, v in enumerate(data.get("vlans", []))),
            bridges=tuple(self.bridge(b, origin / "bridges" / i) for i, b in enumerate(data.get("bridges", []))),
            node_ip_exclude=self.values(data.get("nodeIPExclude", []), origin / "nodeIPExclude", self.prefix),
            nameservers=None if nameservers is None else self.values(nameservers, origin / "nameservers", self.address),
            time_servers=None if time_servers is None else tuple(time_servers),
            multidoc=multidoc,
            origin=origin,
        )

    def bond(self, data: dict[str, Any], origin: Origin) -> Bond:
        return Bond(
            name=data["name"],
            members=tuple(MacAddress.parse(m) for m in data["members"]),
            mode=data["mode"],
            lacp_rate=data.get("lacpRate"),
            hash_policy=data.get("hashPolicy"),
            miimon=data.get("miimon"),
            network=data.get("network"),
            addresses=self.values(data.get("addresses", []), origin / "addresses", self.interface),
            mtu=data.get("mtu"),
            origin=origin,
        )

    def vlan(self, data: dict[str, Any], origin: Origin) -> Vlan:
        return Vlan(
            id=data["id"],
            parent=_link_reference(data["parent"]),
            name=data.get("name"),
            network=data.get("network"),
            addresses=self.values(data.get("addresses", []), origin / "addresses", self.interface),
            mtu=data.get("mtu"),
            origin=origin,
        )

    def bridge(self, data: dict[str, Any], origin: Origin) -> Bridge:
        return Bridge(
            name=data["name"],
            members=tuple(_link_reference(member) for member in data["members"]),
            stp=data.get("stp", False),
            network=data.get("network"),
            addresses=self.values(data.get("addresses", []), origin / "addresses", self.interface),
            mtu=data.get("mtu"),
            origin=origin,
        )

    def route(self, data: dict[str, Any], origin: Origin) -> StaticRoute | None:
        destination = self.prefix(data["destination"], origin / "destination")
        gateway = self.address(data["gateway"], origin / "gateway")
        if destination is None or gateway is None:
            return None
        return StaticRoute(destination=destination, gateway=gateway, metric=data.get("metric"), origin=origin)

    def nic(self, data: dict[str, Any], origin: Origin) -> Nic:
        name, model = data.get("name"), data.get("model")
        return Nic(
            mac=MacAddress.parse(data["mac"]),
            network=data.get("network"),
            addresses=self.values(data.get("addresses", []), origin / "addresses", self.interface),
            model=model,
            name=name,
            name_origin=origin / "name" if name is not None else None,
            model_origin=origin / "model" if model is not None else None,
            mtu=data.get("mtu"),
            disable_offloads=data.get("disableOffloads", False),
            origin=origin,
        )


def _link_reference(text: str) -> str:
    """A VLAN parent or bridge member: a NIC's MAC (in any spelling, written the one way), or
    the name of a bond, bridge or VLAN."""
    with suppress(ValueError):
        return str(MacAddress.parse(text))
    return text


def build_clusters(data: dict[str, Any], file: str) -> tuple[tuple[Cluster, ...], list[Diagnostic]]:
    """The clusters of a schema-valid inventory document, and the value errors found."""
    builder = _Builder(file)
    root = Origin(file)
    clusters = tuple(builder.cluster(c, root / "clusters" / i) for i, c in enumerate(data["clusters"]))
    return clusters, builder.diagnostics
