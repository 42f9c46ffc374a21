"""Facts: what a host's real links are, read from files captured on the host.

Three formats are read, told apart by content: ``talosctl get links -o yaml``,
``ip -j link show`` (iproute2) and Ansible ``setup`` facts. Each yields the host's
physical NICs only, one per MAC, with the kernel name and (where the format knows
it) the driver. Matching facts to the inventory's hosts and NICs happens elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from netgen.diagnostics import Code, Diagnostic, Origin, Severity
from netgen.errors import UsageError
from netgen.fingerprint import facts_files
from netgen.load.reader import EMPTY_FILE, decode, load_documents, read_limited
from netgen.model import MacAddress

UNRECOGNISED = Code(
    "NG401",
    Severity.ERROR,
    "unrecognised facts file",
    """
    A facts file must be the unchanged output of `talosctl get links -o yaml`, `ip -j link show`
    or `ansible -m setup --tree DIR`; this one is none of them, or one of its links lacks a field
    that format always has (a link name, a MAC address that parses). Capture the facts again
    with one of those commands and save the output as it is.
    """,
)
NO_HOST = Code(
    "NG402",
    Severity.ERROR,
    "facts file names no host",
    """
    netgen learns which host a facts file describes from the file's name, which must be
    `<host>.<ext>` or `<cluster>.<host>.<ext>` with host and cluster written as in the inventory
    (lower-case letters, digits and '-'). Rename the file, for example to `cp-1.yaml` or
    `lab.cp-1.json`.
    """,
)
AMBIGUOUS = Code(
    "NG406",
    Severity.ERROR,
    "ambiguous facts",
    """
    Two physical links in one facts file show the same MAC address, and nothing in the file tells
    which of them owns it (a bond or bridge copies a port's MAC; without the permanent address
    the ports cannot be told apart). Capture facts that show permanent addresses
    (`talosctl get links -o yaml` does), or leave this host's facts out and write the NIC's
    `name` in the inventory.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    UNRECOGNISED,
    NO_HOST,
    AMBIGUOUS,
)

TALOSCTL = "talosctl"
IP_LINK = "ip-link"
ANSIBLE = "ansible"

_COMMANDS = "`talosctl get links -o yaml`, `ip -j link show` or `ansible -m setup --tree DIR`"
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TALOS_LINK_TYPE = "LinkStatuses.net.talos.dev"


@dataclass(frozen=True, slots=True)
class LinkFact:
    mac: MacAddress
    name: str
    driver: str | None
    origin: Origin
    #: where the driver is written, when the facts give one
    driver_origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class VirtualLinkFact:
    """A bond, VLAN or bridge the host has: matched with the inventory's by kernel name."""

    name: str
    #: ``bond``, ``vlan`` or ``bridge``
    kind: str
    origin: Origin


#: the kinds of virtual link the inventory describes, as the facts formats name them
VIRTUAL_KINDS = {"bond": "bond", "vlan": "vlan", "bridge": "bridge", "bonding": "bond"}


@dataclass(frozen=True, slots=True)
class HostFacts:
    host: str
    cluster: str | None
    links: tuple[LinkFact, ...]
    origin: Origin
    format: str
    virtual: tuple[VirtualLinkFact, ...] = ()

    def link(self, mac: MacAddress) -> LinkFact | None:
        return next((link for link in self.links if link.mac == mac), None)


@dataclass(frozen=True, slots=True)
class FactsLoad:
    hosts: tuple[HostFacts, ...]
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str]
    digests: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    link: LinkFact
    #: the format shows this link owns its MAC (a permanent address, or enslaved to a
    #: bond/bridge that copied the port's MAC rather than the other way round)
    owns_mac: bool


def load_facts(paths: Sequence[Path]) -> FactsLoad:
    """Read every facts file under ``paths``; a missing or unreadable path raises :class:`UsageError`."""
    hosts: list[HostFacts] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    digests: dict[str, str] = {}
    for display, file in facts_files(paths):
        try:
            data = read_limited(file)
        except OSError as error:
            raise UsageError(f"cannot read facts file {display}: {error.strerror or error}") from error
        digests[display] = hashlib.sha256(data).hexdigest()
        identity = _identity(file.name)
        problems: list[Diagnostic] = []
        if identity is None:
            problems.append(
                NO_HOST.at(
                    Origin(display),
                    f"cannot tell the host from the file name {file.name!r}",
                    "name the file <host>.<ext> or <cluster>.<host>.<ext>, e.g. cp-1.yaml or lab.cp-1.json",
                )
            )
        text, undecodable = decode(data, display)
        links: tuple[LinkFact, ...] = ()
        virtual: tuple[VirtualLinkFact, ...] = ()
        found: str | None = None
        if text is None:
            problems.extend(undecodable)
        else:
            sources[display] = text
            links, found, parsed, virtual = parse_facts(text, display)
            problems.extend(parsed)
        diagnostics.extend(problems)
        # A file with errors contributes no host, so its half-read links cannot cause knock-on errors.
        if identity is not None and found is not None and not problems:
            cluster, host = identity
            hosts.append(HostFacts(host, cluster, links, Origin(display), found, virtual))
    return FactsLoad(tuple(hosts), tuple(diagnostics), sources, digests)


class ParsedFacts(NamedTuple):
    links: tuple[LinkFact, ...]
    format: str | None
    problems: list[Diagnostic]
    virtual: tuple[VirtualLinkFact, ...] = ()


def parse_facts(text: str, name: str) -> ParsedFacts:
    """The physical links in one facts file's text, the format it is in, what is wrong with
    it, and the bonds, VLANs and bridges it shows."""
    documents, problems = load_documents(text, name)
    virtual: list[VirtualLinkFact] = []
    if problems:
        return ParsedFacts((), None, [_for_facts(problem) for problem in problems])
    first = documents[0]
    if isinstance(first, dict) and "metadata" in first and "spec" in first:
        found = TALOSCTL
        candidates, problems = _talosctl(documents, name, virtual)
    elif len(documents) == 1 and isinstance(first, list) and first and all(_is_ip_link(e) for e in first):
        found = IP_LINK
        candidates, problems = _ip_link(first, name, virtual)
    elif (
        len(documents) == 1 and isinstance(first, dict) and ("ansible_facts" in first or "ansible_interfaces" in first)
    ):
        found = ANSIBLE
        candidates, problems = _ansible(first, name, virtual)
    else:
        return ParsedFacts(
            (), None, [_unrecognised(Origin(name), f"expected {_COMMANDS} output, found {_describe(documents)}")]
        )
    links, ambiguous = _one_per_mac(candidates)
    return ParsedFacts(links, found, problems + ambiguous, tuple(virtual))


def _identity(file_name: str) -> tuple[str | None, str] | None:
    """``(cluster, host)`` from ``<host>.<ext>`` or ``<cluster>.<host>.<ext>``."""
    *labels, extension = file_name.split(".")
    if not extension or not 1 <= len(labels) <= 2 or not all(_DNS_LABEL.match(label) for label in labels):
        return None
    return (labels[0], labels[1]) if len(labels) == 2 else (None, labels[0])


def _talosctl(
    documents: list[Any], name: str, virtual: list[VirtualLinkFact]
) -> tuple[list[_Candidate], list[Diagnostic]]:
    candidates: list[_Candidate] = []
    problems: list[Diagnostic] = []
    first_node: Any = None
    mixed = False
    for index, document in enumerate(documents):
        # locate_all reads a leading index as the document number only in a multi-document stream.
        at = Origin(name, (index,) if len(documents) > 1 else ())
        metadata = document.get("metadata") if isinstance(document, dict) else None
        spec = document.get("spec") if isinstance(document, dict) else None
        if not isinstance(metadata, dict) or not isinstance(spec, dict):
            problems.append(_unrecognised(at, "expected a talosctl resource with metadata and spec"))
            continue
        if metadata.get("type") != _TALOS_LINK_TYPE:
            problems.append(
                _unrecognised(
                    at / "metadata" / "type",
                    f"this is a {metadata.get('type')!r} resource, expected {_TALOS_LINK_TYPE} (talosctl get links)",
                )
            )
            continue
        node = document.get("node")
        if first_node is None:
            first_node = node
        elif node != first_node and not mixed:
            mixed = True
            problems.append(
                _unrecognised(
                    at / "node",
                    f"links of node {node} follow links of node {first_node}; a facts file describes one host",
                    "run talosctl for one node per file: talosctl -n NODE get links -o yaml",
                )
            )
        link_name = metadata.get("id")
        if spec.get("kind") in VIRTUAL_KINDS and isinstance(link_name, str) and link_name:
            virtual.append(VirtualLinkFact(link_name, VIRTUAL_KINDS[spec["kind"]], at / "metadata" / "id"))
        if spec.get("type") != "ether" or spec.get("kind"):
            continue
        if not isinstance(link_name, str) or not link_name:
            problems.append(_unrecognised(at / "metadata" / "id", "the link has no name (metadata.id)"))
            continue
        permanent = spec.get("permanentAddr")
        field = "permanentAddr" if isinstance(permanent, str) and permanent else "hardwareAddr"
        mac, problem = _mac(spec.get(field), at / "spec" / field)
        if problem is not None:
            problems.append(problem)
        elif mac is not None:
            driver = spec.get("driver") if isinstance(spec.get("driver"), str) and spec.get("driver") else None
            link = LinkFact(mac, link_name, driver, at / "metadata" / "id", at / "spec" / "driver" if driver else None)
            candidates.append(_Candidate(link, owns_mac=field == "permanentAddr"))
    return candidates, problems


def _is_ip_link(entry: Any) -> bool:
    return isinstance(entry, dict) and "ifname" in entry and "link_type" in entry


def _ip_link(
    entries: list[Any], name: str, virtual: list[VirtualLinkFact]
) -> tuple[list[_Candidate], list[Diagnostic]]:
    candidates: list[_Candidate] = []
    problems: list[Diagnostic] = []
    for index, entry in enumerate(entries):
        at = Origin(name, (index,))
        linkinfo = entry.get("linkinfo")
        # Children of another link (VLAN, macvlan, veth) name it in `link`, or in `link_index`
        # when it lives in another network namespace; with `ip -d`, every virtual link (bond,
        # bridge, vxlan, ifb, …) also names its kind. A physical NIC has none of these.
        is_virtual = (
            "link" in entry or "link_index" in entry or (isinstance(linkinfo, dict) and "info_kind" in linkinfo)
        )
        link_name = entry.get("ifname")
        kind = linkinfo.get("info_kind") if isinstance(linkinfo, dict) else None
        if kind in VIRTUAL_KINDS and isinstance(link_name, str) and link_name:
            virtual.append(VirtualLinkFact(link_name, VIRTUAL_KINDS[kind], at / "ifname"))
        if entry.get("link_type") != "ether" or is_virtual:
            continue
        if not isinstance(link_name, str) or not link_name:
            problems.append(_unrecognised(at / "ifname", "the link has no name (ifname)"))
            continue
        field = "permaddr" if "permaddr" in entry else "address"
        mac, problem = _mac(entry.get(field), at / field)
        if problem is not None:
            problems.append(problem)
        elif mac is not None:
            link = LinkFact(mac, link_name, None, at / "ifname")
            candidates.append(_Candidate(link, owns_mac="master" in entry or "permaddr" in entry))
    return candidates, problems


def _ansible(
    document: dict[Any, Any], name: str, virtual: list[VirtualLinkFact]
) -> tuple[list[_Candidate], list[Diagnostic]]:
    # `--tree` output wraps the facts in ansible_facts; a jsonfile fact cache holds them bare.
    wrapped = "ansible_facts" in document
    facts = document["ansible_facts"] if wrapped else document
    at = Origin(name, ("ansible_facts",) if wrapped else ())
    interfaces = facts.get("ansible_interfaces") if isinstance(facts, dict) else None
    if not isinstance(interfaces, list):
        return [], [_unrecognised(at, "the Ansible facts have no ansible_interfaces list (gather the network subset)")]
    candidates: list[_Candidate] = []
    problems: list[Diagnostic] = []
    for index, interface in enumerate(interfaces):
        key = f"ansible_{str(interface).replace('-', '_')}"
        entry = facts.get(key)
        if not isinstance(entry, dict):
            problems.append(
                _unrecognised(
                    at / "ansible_interfaces" / index, f"ansible_interfaces lists {interface} but {key} is missing"
                )
            )
            continue
        # bonds ("bonding") and bridges have their own type (a VLAN is "ether" like a NIC)
        kind = VIRTUAL_KINDS.get(entry["type"]) if isinstance(entry.get("type"), str) else None
        if kind is not None:
            device = entry.get("device")
            virtual.append(
                VirtualLinkFact(device if isinstance(device, str) and device else str(interface), kind, at / key)
            )
        # Ansible types a link by the sysfs type only, so VLANs, veths and VXLANs are "ether"
        # too; a physical NIC is the one with a bus device (pciid) and usually a driver module.
        if entry.get("type") != "ether" or not ("pciid" in entry or "module" in entry):
            continue
        device = entry.get("device")
        if isinstance(device, str) and device:
            link_name, name_at = device, at / key / "device"
        else:
            link_name, name_at = str(interface), at / "ansible_interfaces" / index
        permanent = entry.get("perm_macaddress")
        field = "perm_macaddress" if isinstance(permanent, str) and permanent else "macaddress"
        # Ansible leaves macaddress out when the kernel reports all zeros.
        mac, problem = _mac(entry.get(field), at / key / field) if field in entry else (None, None)
        if problem is not None:
            problems.append(problem)
        elif mac is not None:
            module = entry.get("module") if isinstance(entry.get("module"), str) and entry.get("module") else None
            link = LinkFact(mac, link_name, module, name_at, at / key / "module" if module else None)
            candidates.append(_Candidate(link, owns_mac=field == "perm_macaddress"))
    return candidates, problems


def _mac(value: Any, at: Origin) -> tuple[MacAddress | None, Diagnostic | None]:
    """The MAC at ``at``; ``None`` without a diagnostic for all zeros, which identifies no NIC."""
    field = at.path[-1]
    if value is None:
        return None, _unrecognised(at, f"the physical link has no {field}")
    try:
        mac = MacAddress.parse(value) if isinstance(value, str) else None
    except ValueError:
        mac = None
    if mac is None:
        return None, _unrecognised(at, f"{field} {value!r} is not a MAC address")
    return (None if mac.is_zero else mac), None


def _one_per_mac(candidates: list[_Candidate]) -> tuple[tuple[LinkFact, ...], list[Diagnostic]]:
    by_mac: dict[MacAddress, list[_Candidate]] = {}
    for candidate in candidates:
        by_mac.setdefault(candidate.link.mac, []).append(candidate)
    links: list[LinkFact] = []
    problems: list[Diagnostic] = []
    for mac, claimants in by_mac.items():
        owners = [c for c in claimants if c.owns_mac] or claimants
        if len(owners) == 1:
            links.append(owners[0].link)
            continue
        first, second = owners[0].link, owners[1].link
        problems.append(
            AMBIGUOUS.at(
                second.origin,
                f"links {first.name} and {second.name} both show MAC {mac}, and the file does not say which owns it",
                "capture facts that show permanent addresses (talosctl get links -o yaml), "
                "or leave this host's facts out and write the NIC's name in the inventory",
            )
        )
    return tuple(links), problems


def _unrecognised(at: Origin, message: str, hint: str = f"capture the facts with {_COMMANDS}") -> Diagnostic:
    return UNRECOGNISED.at(at, message, hint)


def _for_facts(problem: Diagnostic) -> Diagnostic:
    if problem.code == EMPTY_FILE.id:
        return replace(problem, hint=f"capture the facts with {_COMMANDS}")
    return problem


def _describe(documents: list[Any]) -> str:
    if len(documents) > 1:
        return f"{len(documents)} YAML documents"
    value = documents[0]
    if isinstance(value, dict):
        keys = ", ".join(str(key) for key in list(value)[:3])
        return f"a mapping with keys {keys}" + (", …" if len(value) > 3 else "")
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)" if value else "an empty list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a single string" if isinstance(value, str) else f"a {type(value).__name__}"
