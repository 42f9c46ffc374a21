"""What netgen knows about the systems it writes for, in one place.

Checks, planners, the inventory schema and the docs read these tables; nothing else spells
out a Talos or vcluster version. Adding a Talos minor is a row in :data:`TALOS` (and, if it
brings a new dialect, that dialect's planner and templates).
"""

from __future__ import annotations

from dataclasses import dataclass

from netgen.model import Nic, Version


@dataclass(frozen=True, slots=True)
class TalosTarget:
    version: Version
    #: how the node's links are written: ``legacy`` (``machine.network.interfaces[]``) or
    #: ``multidoc`` (``LinkAliasConfig``, ``LinkConfig``, ``Layer2VIPConfig``, …)
    dialect: str
    #: the upstream ``config.schema.json`` the output conforms to (1.10 has none of its own)
    schema: str


#: every Talos minor netgen writes for, oldest first
TALOS: tuple[TalosTarget, ...] = (
    TalosTarget(Version(1, 10), "legacy", "v1.11"),
    TalosTarget(Version(1, 11), "legacy", "v1.11"),
    TalosTarget(Version(1, 12), "multidoc", "v1.12"),
    TalosTarget(Version(1, 13), "multidoc", "v1.13"),
)
TALOS_DEFAULT = Version(1, 13)
#: the multi-document network config (one ``Layer2VIPConfig`` per VIP, so several VIPs)
TALOS_MULTIDOC_SINCE = next(t.version for t in TALOS if t.dialect == "multidoc")


def talos_target(version: Version) -> TalosTarget:
    return next(t for t in TALOS if t.version == version)


#: vcluster.yaml, with its top-level ``serviceCIDR`` honoured by every distro
VCLUSTER_YAML_SINCE = Version(0, 20)
#: the last vcluster version whose values still offer a distro; k8s is in all of them
VCLUSTER_DISTRO_UNTIL = {
    "eks": Version(0, 19),
    "k0s": Version(0, 25),
    "k3s": Version(0, 32),
}


def link_ref(nic: Nic) -> str | None:
    """The name Talos documents use for a NIC: its stable kernel name, else its alias (named
    after its network); None for a NIC without network, which netgen leaves alone."""
    return nic.link_name or nic.network
