"""Matching facts to the inventory's hosts and NICs (docs/inventory.md, facts).

Facts name a host by file name and a NIC by MAC. A match fills the NIC's kernel name and
model where the inventory leaves them out; a contradiction is an error, because either
the inventory or the host is not what the other one says.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace

from netgen.diagnostics import Code, Diagnostic, Severity
from netgen.load.facts import HostFacts, LinkFact
from netgen.model import Bond, Bridge, Cluster, Host, Nic, Vlan, describe
from netgen.targets import kernel_name

UNKNOWN_FACTS_HOST = Code(
    "NG403",
    Severity.ERROR,
    "facts for an unknown host",
    """
    A facts file is named after a host that the inventory does not have, or after a host
    name that several clusters use. Name facts files `<host>.<ext>`, or
    `<cluster>.<host>.<ext>` when the host name is not unique across clusters. Two facts
    files for one host are refused too.
    """,
)
MAC_NOT_IN_FACTS = Code(
    "NG404",
    Severity.ERROR,
    "MAC not in the host's facts",
    """
    The host's facts file does not show a physical link with this NIC's MAC. Either the MAC
    in the inventory has a typo, or the facts were collected from another machine, or the
    NIC is missing. Compare with `ip link` on the host and collect the facts again.
    """,
)
NAME_CONTRADICTS_FACTS = Code(
    "NG405",
    Severity.ERROR,
    "link name contradicts facts",
    """
    The inventory gives a NIC a kernel `name` that differs from the name the host's facts
    show for that MAC. netgen would configure a link that does not exist. Fix the name, or
    drop it from the inventory and let the facts fill it in.
    """,
)
MODEL_CONTRADICTS_FACTS = Code(
    "NG407",
    Severity.WARNING,
    "NIC model contradicts facts",
    """
    The inventory gives a NIC a `model` that differs from the driver the host's facts show.
    netgen keeps the facts' driver, since it is what the host really runs (it matters for
    the vmxnet3 checks). Fix or drop `model` in the inventory.
    """,
)

VIRTUAL_NOT_IN_INVENTORY = Code(
    "NG408",
    Severity.WARNING,
    "facts show a bond or VLAN the inventory lacks",
    """
    The host's facts show a bond or VLAN that none of the host's `bonds` or `vlans` in the
    inventory is (by kernel name). Bonds and VLANs are host network configuration, and netgen
    configures the links the inventory describes and nothing else, so this one would no longer
    be configured once the patch is applied. Describe it in the inventory, or collect the facts
    again if it is gone. (Bridges are not reported: container runtimes and CNIs create their
    own, such as cni0 or docker0.)
    """,
)
VIRTUAL_KIND_CONTRADICTS = Code(
    "NG409",
    Severity.ERROR,
    "link kind contradicts facts",
    """
    The inventory describes a bond, VLAN or bridge whose kernel name the host's facts show as
    another kind of link (a bond where the host has a bridge, say). One of them is wrong: fix
    the inventory, or collect the facts again.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    UNKNOWN_FACTS_HOST,
    MAC_NOT_IN_FACTS,
    NAME_CONTRADICTS_FACTS,
    MODEL_CONTRADICTS_FACTS,
    VIRTUAL_NOT_IN_INVENTORY,
    VIRTUAL_KIND_CONTRADICTS,
)

# inventory models name the NIC; drivers that are named differently map to that name
_DRIVER_MODELS = {"virtio_net": "virtio"}


def model_of(driver: str) -> str:
    return _DRIVER_MODELS.get(driver, driver)


def apply_facts(
    clusters: tuple[Cluster, ...], facts: Sequence[HostFacts]
) -> tuple[tuple[Cluster, ...], list[Diagnostic]]:
    """The clusters with facts applied to their NICs, and every mismatch found."""
    diagnostics: list[Diagnostic] = []
    by_host: dict[tuple[str, str], HostFacts] = {}
    for host_facts in facts:
        match = _match_host(clusters, host_facts, diagnostics)
        if match is None:
            continue
        if match in by_host:
            diagnostics.append(
                UNKNOWN_FACTS_HOST.at(
                    host_facts.origin,
                    f"host {match[1]} of cluster {match[0]} already has facts in {by_host[match].origin.file}",
                    "give one facts file per host",
                )
            )
            continue
        by_host[match] = host_facts
    applied = tuple(
        replace(
            cluster,
            hosts=tuple(
                _apply_host(cluster, host, by_host[(cluster.name, host.name)], diagnostics)
                if (cluster.name, host.name) in by_host
                else host
                for host in cluster.hosts
            ),
        )
        for cluster in clusters
    )
    return applied, diagnostics


def _match_host(
    clusters: tuple[Cluster, ...], host_facts: HostFacts, diagnostics: list[Diagnostic]
) -> tuple[str, str] | None:
    candidates = [
        (cluster.name, host.name)
        for cluster in clusters
        if host_facts.cluster in (None, cluster.name)
        for host in cluster.hosts
        if host.name == host_facts.host
    ]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        message = f"host {host_facts.host} is in clusters " + ", ".join(c for c, _ in candidates)
        hint = f"name the file {candidates[0][0]}.{host_facts.host}.<ext> to say which cluster it belongs to"
    else:
        known = sorted({h.name for c in clusters for h in c.hosts})
        close = difflib.get_close_matches(host_facts.host, known, n=1)
        scope = f" in cluster {host_facts.cluster}" if host_facts.cluster else ""
        message = f"the inventory has no host {host_facts.host}{scope}"
        hint = f"did you mean {close[0]}?" if close else "name facts files after the host: <host>.<ext>"
    diagnostics.append(UNKNOWN_FACTS_HOST.at(host_facts.origin, message, hint))
    return None


def _apply_host(cluster: Cluster, host: Host, host_facts: HostFacts, diagnostics: list[Diagnostic]) -> Host:
    nics = []
    for nic in host.nics:
        link = host_facts.link(nic.mac)
        if link is None:
            diagnostics.append(
                MAC_NOT_IN_FACTS.at(
                    nic.origin / "mac",
                    f"MAC {nic.mac} of host {host.name} is not a physical link in {host_facts.origin.file}",
                    "check the MAC for a typo, or collect the host's facts again",
                )
            )
            nics.append(nic)
        else:
            nics.append(_apply_link(host, nic, link, diagnostics))
    applied = replace(host, nics=tuple(nics))
    _match_virtual(cluster, applied, host_facts, diagnostics)
    return applied


def _match_virtual(cluster: Cluster, host: Host, host_facts: HostFacts, diagnostics: list[Diagnostic]) -> None:
    """Each bond, VLAN and bridge of the facts is one of the inventory's, or reported."""
    logical: tuple[Bond | Vlan | Bridge, ...] = (*host.bonds, *host.vlans, *host.bridges)
    described = {name: link for link in logical if (name := kernel_name(cluster, host, link)) is not None}
    for fact in host_facts.virtual:
        link = described.get(fact.name)
        if link is None and fact.kind == "bridge":
            continue  # runtimes and CNIs make bridges of their own (cni0, docker0)
        if link is None:
            diagnostics.append(
                VIRTUAL_NOT_IN_INVENTORY.at(
                    fact.origin,
                    f"host {host.name} has {fact.kind} {fact.name}, which the inventory does not describe",
                    f"add it to the host's `{fact.kind}s`, or collect the facts again",
                )
            )
        elif _kind(link) != fact.kind:
            diagnostics.append(
                VIRTUAL_KIND_CONTRADICTS.at(
                    link.origin / "name" if not isinstance(link, Vlan) or link.name else link.origin,
                    f"host {host.name}: {describe(link)} is a {fact.kind} in {host_facts.origin.file}",
                    "check which link the host really has",
                )
            )


def _kind(link: Bond | Vlan | Bridge) -> str:
    return "bond" if isinstance(link, Bond) else "vlan" if isinstance(link, Vlan) else "bridge"


def _apply_link(host: Host, nic: Nic, link: LinkFact, diagnostics: list[Diagnostic]) -> Nic:
    name, name_origin = nic.name, nic.name_origin
    if name is None:
        name, name_origin = link.name, link.origin
    elif name != link.name and nic.name_origin is not None:
        diagnostics.append(
            NAME_CONTRADICTS_FACTS.at(
                nic.name_origin,
                f"host {host.name} names NIC {nic.mac} {name}, but {link.origin.file} shows {link.name}",
                f"write `name: {link.name}`, or drop `name` and let the facts fill it",
            )
        )
    model, model_origin = nic.model, nic.model_origin
    if link.driver is not None:
        driver_model = model_of(link.driver)
        if model is not None and model != driver_model:
            diagnostics.append(
                MODEL_CONTRADICTS_FACTS.at(
                    nic.origin / "model",
                    f"host {host.name} says NIC {nic.mac} is {model}, "
                    f"but {link.origin.file} shows driver {link.driver}",
                    f"write `model: {driver_model}`, or drop `model`",
                )
            )
        if model != driver_model:
            model, model_origin = driver_model, link.driver_origin
    return replace(nic, name=name, name_origin=name_origin, model=model, model_origin=model_origin)
