"""What netgen knows about the systems it writes for, in one place.

Checks, planners, the inventory schema and the docs read these tables; nothing else spells
out a Talos or vcluster version. Adding a Talos minor is a row in :data:`TALOS` (and, if it
brings a new dialect, that dialect's planner and templates).
"""

from __future__ import annotations

from dataclasses import dataclass

from netgen.model import Bond, Cluster, Host, Link, Nic, Version


@dataclass(frozen=True, slots=True)
class TalosTarget:
    version: Version
    #: how the node's links are written: ``legacy`` (``machine.network.interfaces[]``) or
    #: ``multidoc`` (``LinkAliasConfig``, ``LinkConfig``, ``Layer2VIPConfig``, …)
    dialect: str
    #: the upstream ``config.schema.json`` the output conforms to (1.10 has none of its own)
    schema: str
    #: where the Kubernetes settings go: the ``KubeNodeConfig`` (node IP), ``KubeNetworkConfig``
    #: (pod and service subnets) and ``KubeClusterConfig`` (name, endpoint) documents, which
    #: ``talosctl gen config`` emits from this version contract on and next to which Talos
    #: rejects the v1alpha1 fields they replace; else v1alpha1 ``machine.kubelet.nodeIP``,
    #: ``cluster.network`` and ``cluster.controlPlane.endpoint``
    kubernetes_documents: bool = False
    #: Talos's development branch (main), not released yet: its schema can still change
    development: bool = False


#: every Talos minor netgen writes for, oldest first
TALOS: tuple[TalosTarget, ...] = (
    TalosTarget(Version(1, 10), "legacy", "v1.11"),
    TalosTarget(Version(1, 11), "legacy", "v1.11"),
    TalosTarget(Version(1, 12), "multidoc", "v1.12"),
    TalosTarget(Version(1, 13), "multidoc", "v1.13"),
    TalosTarget(Version(1, 14), "multidoc", "v1.14", kubernetes_documents=True),
    TalosTarget(Version(1, 15), "multidoc", "v1.15", kubernetes_documents=True, development=True),
)
#: the target of an inventory without ``talos.version``: the newest minor with a final release
#: behind its schema (1.14's is from v1.14.0-rc.1, 1.15 is the development branch)
TALOS_DEFAULT = Version(1, 13)
#: the multi-document network config (one ``Layer2VIPConfig`` per VIP, so several VIPs)
TALOS_MULTIDOC_SINCE = next(t.version for t in TALOS if t.dialect == "multidoc")
#: the Kubernetes settings in ``KubeNodeConfig``, ``KubeNetworkConfig`` and ``KubeClusterConfig``
TALOS_KUBERNETES_DOCUMENTS_SINCE = next(t.version for t in TALOS if t.kubernetes_documents)


#: Talos applies a link alias to a NIC that is already a bond or bridge member (talos#13519:
#: not on 1.12, fixed in 1.13.5; the first minor that has it throughout)
ENSLAVED_ALIAS_FIXED_IN = Version(1, 14)


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


@dataclass(frozen=True, slots=True)
class MetalLBTarget:
    version: Version
    #: the release under ``../shared/upstream/metallb`` whose CRDs the output conforms to
    release: str
    #: FRR mode refuses peers with different ``myASN`` only where their node selectors share a
    #: node (``checkFRRPeersCompatible``); before, any two peers with different ``myASN``
    peers_checked_per_node: bool = False


#: every MetalLB minor netgen writes for, oldest first. What netgen writes (``IPAddressPool``,
#: ``L2Advertisement``, ``BFDProfile``, ``BGPAdvertisement`` v1beta1 and ``BGPPeer`` v1beta2)
#: is the same for all of them; the minor picks the CRDs checked and the webhook's rules.
METALLB: tuple[MetalLBTarget, ...] = (
    MetalLBTarget(Version(0, 14), "v0.14.9"),
    MetalLBTarget(Version(0, 15), "v0.15.3"),
    MetalLBTarget(Version(0, 16), "v0.16.1", peers_checked_per_node=True),
)
#: the target of an inventory without ``metallb.version``
METALLB_DEFAULT = Version(0, 15)


def metallb_target(version: Version) -> MetalLBTarget:
    return next(t for t in METALLB if t.version == version)


@dataclass(frozen=True, slots=True)
class CniType:
    """A CNI plugin that makes an attachment's pod interface (docs/kubernetes.md)."""

    name: str
    #: what the plugin hangs the pod's interface off on each host: ``link`` (the host's link
    #: on the attachment's network is its ``master``), ``bridge`` (the host's bridge on that
    #: network), or None (the plugin takes a device it selects itself: a NIC, an SR-IOV VF)
    host_link: str | None
    #: the pod's interface gets a MAC of its own that the chain sets (the ``mac`` capability or
    #: one fixed MAC, in the plugin and in ``tuning``); ipvlan shares its master's MAC and
    #: host-device keeps the NIC's own
    own_mac: bool
    #: the ``mode`` values the plugin takes, its default first (none: the type has no mode)
    modes: tuple[str, ...] = ()
    #: the attachment keys only this type reads, and those of them it needs
    keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    #: the plugin sets the interface's MTU itself (``mtu``); else ``tuning`` sets the network's MTU
    mtu_key: bool = True


#: every CNI type an attachment can have; the first is the default
CNI_TYPES: tuple[CniType, ...] = (
    CniType("macvlan", "link", own_mac=True, modes=("bridge", "private", "vepa", "passthru"), keys=("mode",)),
    CniType("ipvlan", "link", own_mac=False, modes=("l2", "l3", "l3s"), keys=("mode",)),
    CniType("bridge", "bridge", own_mac=True, keys=("vlan", "isGateway", "ipMasq")),
    CniType("host-device", None, own_mac=False, keys=("device",), required=("device",), mtu_key=False),
    CniType("sriov", None, own_mac=True, keys=("vlan", "resourceName"), required=("resourceName",), mtu_key=False),
)


def cni_type(name: str) -> CniType:
    return next(t for t in CNI_TYPES if t.name == name)


def link_ref(host: Host, nic: Nic) -> str | None:
    """The name Talos documents use for a NIC: its stable kernel name, else its alias (named
    after its network, ``<bond>-port<n>`` for a bond or bridge member, ``nic-<mac>`` for a VLAN
    parent); None for a NIC netgen leaves alone."""
    if nic.link_name is not None or nic.network is not None:
        return nic.link_name or nic.network
    for master in host.masters().get(nic, ()):
        members = (
            [host.nic(m) for m in master.members]
            if isinstance(master, Bond)
            else [host.member(m) for m in master.members]
        )
        return f"{master.name}-port{members.index(nic) + 1}"
    if any(host.parent(vlan) == nic for vlan in host.vlans):
        return f"nic-{nic.mac.compact}"
    return None


def multidoc(cluster: Cluster) -> bool:
    """Whether the cluster's Talos target takes the multi-document network config."""
    return cluster.talos_version >= TALOS_MULTIDOC_SINCE


def kernel_name(cluster: Cluster, host: Host, link: Link) -> str | None:
    """The kernel name of a host's link under the cluster's Talos target, where it can be
    known (see :meth:`netgen.model.Host.kernel_name`): what MetalLB and macvlan match."""
    return host.kernel_name(link)


_HOST_LINK = {"link": "the host's link (master)", "bridge": "the host's bridge", None: "a device of its own"}


def markdown() -> str:
    """docs/targets.md: these tables as the docs show them (``make docs``)."""
    rows = [
        f"| {t.version} | {t.dialect} | {'documents' if t.kubernetes_documents else 'v1alpha1'} | "
        f"`{t.schema}`{' (development branch)' if t.development else ''} |"
        + (" default |" if t.version == TALOS_DEFAULT else " |")
        for t in TALOS
    ]
    distros = ", ".join(f"{distro} up to {until}" for distro, until in sorted(VCLUSTER_DISTRO_UNTIL.items()))
    return (
        "# Targets\n\n"
        "What netgen writes for each target, from `generator/netgen/targets.py` (`make docs` writes this page).\n\n"
        "## Talos\n\n"
        "| minor | links | Kubernetes settings | conformance schema | |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n- **links:** `legacy` is `machine.network.interfaces[]`; `multidoc` the network documents "
        f"(`LinkAliasConfig`, `LinkConfig`, `BondConfig`, …), from {TALOS_MULTIDOC_SINCE}.\n"
        "- **Kubernetes settings:** `v1alpha1` is `machine.kubelet.nodeIP`, `cluster.network` and "
        "`cluster.controlPlane.endpoint`; `documents` is `KubeNodeConfig`, `KubeNetworkConfig` and "
        f"`KubeClusterConfig`, from {TALOS_KUBERNETES_DOCUMENTS_SINCE}.\n"
        f"- Bond and bridge members may be selected by MAC (a link alias) from {ENSLAVED_ALIAS_FIXED_IN} "
        "(talos#13519).\n\n"
        "## MetalLB\n\n"
        + "".join(
            f"- {t.version}: CRDs of {t.release}{' (default)' if t.version == METALLB_DEFAULT else ''}\n"
            for t in METALLB
        )
        + "\n"
        "## CNI types\n\n"
        "| type | pod interface on | own MAC | modes (default first) | keys of its own |\n|---|---|---|---|---|\n"
        + "".join(
            f"| `{t.name}` | {_HOST_LINK[t.host_link]} | {'yes' if t.own_mac else 'no'} | "
            f"{', '.join(t.modes) or '-'} | {', '.join(f'`{k}`' for k in t.keys) or '-'} |\n"
            for t in CNI_TYPES
        )
        + "\n"
        "## vcluster\n\n"
        f"- vcluster.yaml (top-level `serviceCIDR`, every distro) from {VCLUSTER_YAML_SINCE}; before it, "
        "only the k0s chart takes the service CIDR.\n"
        f"- Distros: k8s in every version; {distros}.\n"
    )
