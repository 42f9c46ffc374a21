"""From a schema-valid inventory document (plain data) to the typed model.

Shapes are guaranteed by the schema; what can still be wrong here are values: text
that is not an address or prefix. Each such value gives a diagnostic and is left out,
so that all of them are reported in one run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar

from netgen.diagnostics import Diagnostic, Origin, Severity, register
from netgen.model import (
    Cluster,
    ControlPlane,
    Family,
    Host,
    IPAddress,
    IPInterface,
    IPNetwork,
    MacAddress,
    Network,
    Nic,
    Role,
    TalosVersion,
)

INVALID_ADDRESS = register(
    "NG020",
    Severity.ERROR,
    "invalid address or prefix",
    """
    A value that must be an IP address, a prefix (CIDR) or an address with prefix length
    cannot be read as one. Prefixes must have their host bits zero (`10.244.0.0/16`, not
    `10.244.0.1/16`); NIC addresses need their prefix length (`192.168.10.11/24`).
    """,
)

DEFAULT_TALOS_VERSION = "1.13"

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
        return Cluster(
            name=data["name"],
            talos_version=TalosVersion.parse(data.get("talos", {}).get("version", DEFAULT_TALOS_VERSION)),
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
            hosts=tuple(self.host(h, origin / "hosts" / i) for i, h in enumerate(data["hosts"])),
            origin=origin,
        )

    def network(self, data: dict[str, Any], origin: Origin) -> Network:
        return Network(
            name=data["name"],
            cidrs=self.values(data["cidrs"], origin / "cidrs", self.prefix),
            gateways=self.values(data.get("gateways", []), origin / "gateways", self.address),
            mtu=data.get("mtu"),
            node_ip_exclude=self.values(data.get("nodeIPExclude", []), origin / "nodeIPExclude", self.prefix),
            origin=origin,
        )

    def host(self, data: dict[str, Any], origin: Origin) -> Host:
        return Host(
            name=data["name"],
            role=Role(data["role"]),
            nics=tuple(self.nic(n, origin / "nics" / i) for i, n in enumerate(data["nics"])),
            node_ip_exclude=self.values(data.get("nodeIPExclude", []), origin / "nodeIPExclude", self.prefix),
            origin=origin,
        )

    def nic(self, data: dict[str, Any], origin: Origin) -> Nic:
        name = data.get("name")
        return Nic(
            mac=MacAddress.parse(data["mac"]),
            network=data.get("network"),
            addresses=self.values(data.get("addresses", []), origin / "addresses", self.interface),
            model=data.get("model"),
            name=name,
            name_origin=origin / "name" if name is not None else None,
            origin=origin,
        )


def build_clusters(data: dict[str, Any], file: str) -> tuple[tuple[Cluster, ...], list[Diagnostic]]:
    """The clusters of a schema-valid inventory document, and the value errors found."""
    builder = _Builder(file)
    root = Origin(file)
    clusters = tuple(builder.cluster(c, root / "clusters" / i) for i, c in enumerate(data["clusters"]))
    return clusters, builder.diagnostics
