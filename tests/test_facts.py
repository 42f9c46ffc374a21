from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from netgen.codes import CODES
from netgen.diagnostics import Origin
from netgen.errors import UsageError
from netgen.load.facts import ANSIBLE, IP_LINK, TALOSCTL, LinkFact, load_facts, parse_facts
from netgen.load.positions import locate_all
from netgen.model import MacAddress

DATA = Path(__file__).parent / "data" / "facts"


def mac(text: str) -> MacAddress:
    return MacAddress.parse(text)


def parse(file_name: str) -> tuple[tuple[LinkFact, ...], str | None, list[str]]:
    path = DATA / file_name
    links, found, problems, _ = parse_facts(path.read_text(), str(path))
    return links, found, [p.code for p in problems]


def summary(links: tuple[LinkFact, ...]) -> list[tuple[str, str, str | None]]:
    return [(link.name, str(link.mac), link.driver) for link in links]


def ansible_document(**links: dict[str, object]) -> str:
    facts: dict[str, object] = {"ansible_interfaces": list(links)}
    facts.update({"ansible_" + name.replace("-", "_"): entry for name, entry in links.items()})
    return json.dumps({"ansible_facts": facts, "changed": False}, sort_keys=True)


def physical(device: str, address: str, **more: object) -> dict[str, object]:
    return {"device": device, "macaddress": address, "module": "ixgbe", "pciid": "0000:05:00.0", "type": "ether"} | more


# --- the codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["NG401", "NG402", "NG406"])
def test_codes_are_registered_with_an_explanation(code: str) -> None:
    registered = CODES[code]
    assert registered.severity == "error"
    assert registered.title
    assert registered.explanation.count(". ") >= 1


# --- ip -j link show ---------------------------------------------------------------------------


def test_ip_link_captured_on_this_machine() -> None:
    links, found, problems = parse("ip-link-host.json")
    assert found == IP_LINK
    assert problems == []
    # lo is skipped; plain `ip -j link show` cannot tell an ifb from a NIC, so both stay
    assert summary(links) == [
        ("ifb0", "96:40:1e:be:3c:c5", None),
        ("ifb1", "2e:be:4d:b7:ae:81", None),
        ("eth0", "02:fc:00:00:00:01", None),
    ]
    assert links[2].origin == Origin(str(DATA / "ip-link-host.json"), (3, "ifname"))


def test_ip_link_details_drop_links_that_name_a_kind() -> None:
    links, found, problems = parse("ip-link-details-host.json")
    assert (found, problems) == (IP_LINK, [])
    assert summary(links) == [("eth0", "02:fc:00:00:00:01", None)]


def test_ip_link_bond_ports_own_their_macs() -> None:
    links, found, problems = parse("ip-link-bond.json")
    assert (found, problems) == (IP_LINK, [])
    # bond0 and bond0.100 carry enp1s0f0's MAC; the veth's peer is in another namespace
    assert summary(links) == [
        ("eno1", "3c:ec:ef:10:20:30", None),
        ("enp1s0f0", "3c:ec:ef:aa:00:01", None),
        ("enp1s0f1", "3c:ec:ef:aa:00:02", None),
    ]
    assert [link.origin.path for link in links] == [(1, "ifname"), (2, "ifname"), (3, "ifname")]


def test_ip_link_bond_without_permanent_address_is_ambiguous() -> None:
    path = DATA / "ip-link-ambiguous.json"
    links, found, problems, _ = parse_facts(path.read_text(), str(path))
    assert found == IP_LINK
    assert [p.code for p in problems] == ["NG406"]
    assert problems[0].origin == Origin(str(path), (3, "ifname"))
    assert "enp1s0f0 and enp1s0f1" in problems[0].message
    assert "3c:ec:ef:aa:00:01" in problems[0].message
    assert summary(links) == [("eno1", "3c:ec:ef:10:20:30", None)]


def test_ambiguity_is_located_at_the_second_link() -> None:
    entries = json.loads((DATA / "ip-link-ambiguous.json").read_text())
    text = json.dumps(entries, indent=4)
    _, _, problems, _ = parse_facts(text, "w-1.json")
    [located] = locate_all(problems, {"w-1.json": text})
    line = text.splitlines()[located.line - 1] if located.line else ""
    assert line.strip() == '"ifname": "enp1s0f1",'


def test_ip_link_bad_mac_is_unrecognised() -> None:
    text = json.dumps([{"ifindex": 2, "ifname": "eth0", "link_type": "ether", "address": "52:54:00:zz:00:01"}])
    links, found, problems, _ = parse_facts(text, "w-1.json")
    assert (links, found) == ((), IP_LINK)
    assert [(p.code, p.origin.path) for p in problems] == [("NG401", (0, "address"))]
    assert "52:54:00:zz:00:01" in problems[0].message


def test_ip_link_all_zero_mac_identifies_nothing() -> None:
    text = json.dumps([{"ifindex": 2, "ifname": "eth0", "link_type": "ether", "address": "00:00:00:00:00:00"}])
    assert parse_facts(text, "w-1.json") == ((), IP_LINK, [], ())


# --- talosctl get links -o yaml ----------------------------------------------------------------


def test_talosctl_keeps_physical_nics_named_by_id() -> None:
    links, found, problems = parse("talosctl-links.yaml")
    assert (found, problems) == (TALOSCTL, [])
    # not lo, bond0, bond0.100, flannel.1 or the veth; enp3s0f1's MAC is its permanent one
    assert summary(links) == [
        ("enp0s2", "52:54:00:7a:66:a0", "virtio_net"),
        ("enp3s0f0", "52:54:00:12:34:56", "e1000e"),
        ("enp3s0f1", "52:54:00:12:34:57", "e1000e"),
    ]
    assert [link.origin.path for link in links] == [(1, "metadata", "id"), (2, "metadata", "id"), (3, "metadata", "id")]
    assert not any(link.name.startswith("enx") for link in links)


def test_talosctl_multi_document_origin_is_located() -> None:
    path = DATA / "talosctl-links.yaml"
    text = path.read_text()
    links, _, _, _ = parse_facts(text, "cp-1.yaml")
    diagnostic = CODES["NG401"].at(links[2].origin, "probe", "probe")
    [located] = locate_all([diagnostic], {"cp-1.yaml": text})
    assert located.line is not None
    assert text.splitlines()[located.line - 1] == "    id: enp3s0f1"


def talos_document(link_id: str, node: str = "192.168.10.11", **spec: object) -> str:
    lines = [
        f"node: {node}",
        "metadata:",
        "    namespace: network",
        "    type: LinkStatuses.net.talos.dev",
        f"    id: {link_id}",
        "spec:",
    ]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in spec.items()]
    return "\n".join(lines) + "\n"


def test_talosctl_single_document_path_has_no_document_index() -> None:
    text = talos_document("eth0", type="ether", kind="", hardwareAddr="52:54:00:aa:bb:cc", permanentAddr="")
    links, found, problems, _ = parse_facts(text, "cp-1.yaml")
    assert (found, problems) == (TALOSCTL, [])
    assert summary(links) == [("eth0", "52:54:00:aa:bb:cc", None)]
    assert links[0].origin.path == ("metadata", "id")
    diagnostic = CODES["NG401"].at(links[0].origin, "probe", "probe")
    assert locate_all([diagnostic], {"cp-1.yaml": text})[0].line == 5


def test_talosctl_other_resource_is_unrecognised() -> None:
    text = talos_document("eth0", type="ether").replace("LinkStatuses", "AddressStatuses")
    links, found, problems, _ = parse_facts(text, "cp-1.yaml")
    assert (links, found) == ((), TALOSCTL)
    assert [(p.code, p.origin.path) for p in problems] == [("NG401", ("metadata", "type"))]
    assert "AddressStatuses.net.talos.dev" in problems[0].message


def test_talosctl_links_of_two_nodes_are_refused() -> None:
    first = talos_document("eth0", type="ether", kind="", hardwareAddr="52:54:00:aa:bb:01", permanentAddr="")
    second = talos_document("eth0", "192.168.10.12", type="ether", kind="", hardwareAddr="52:54:00:aa:bb:02")
    _, _, problems, _ = parse_facts(first + "---\n" + second, "cp-1.yaml")
    assert [(p.code, p.origin.path) for p in problems] == [("NG401", (1, "node"))]
    assert "192.168.10.12" in problems[0].message


def test_talosctl_physical_nics_sharing_a_mac_are_ambiguous() -> None:
    bonded = {"type": "ether", "kind": "", "hardwareAddr": "52:54:00:aa:bb:01", "permanentAddr": ""}
    text = talos_document("eth0", **bonded) + "---\n" + talos_document("eth1", **bonded)
    links, _, problems, _ = parse_facts(text, "cp-1.yaml")
    assert links == ()
    assert [(p.code, p.origin.path) for p in problems] == [("NG406", (1, "metadata", "id"))]


# --- Ansible setup facts -----------------------------------------------------------------------


def test_ansible_keeps_nics_with_a_bus_device() -> None:
    links, found, problems = parse("ansible-setup.json")
    assert (found, problems) == (ANSIBLE, [])
    # not lo, bond0, br-3f2a, flannel.1 or the veth (all but lo and the masters are type "ether")
    assert summary(links) == [
        ("ens4", "52:54:00:c8:11:01", "e1000e"),
        ("ens3", "52:54:00:3b:91:e4", "virtio_net"),
        ("ens5", "52:54:00:c8:11:02", "e1000e"),
    ]
    path = str(DATA / "ansible-setup.json")
    assert links[2].origin == Origin(path, ("ansible_facts", "ansible_ens5", "device"))


def test_ansible_key_replaces_dashes() -> None:
    text = ansible_document(**{"lan-0": physical("lan-0", "00:1b:21:3a:4b:5c")})
    links, found, problems, _ = parse_facts(text, "w-1.json")
    assert (found, problems) == (ANSIBLE, [])
    assert summary(links) == [("lan-0", "00:1b:21:3a:4b:5c", "ixgbe")]
    assert links[0].origin.path == ("ansible_facts", "ansible_lan_0", "device")


def test_ansible_missing_link_entry_is_unrecognised() -> None:
    facts = {"ansible_interfaces": ["lo", "eth0"], "ansible_lo": {"device": "lo", "type": "loopback"}}
    _, found, problems, _ = parse_facts(json.dumps({"ansible_facts": facts, "changed": False}), "w-1.json")
    assert found == ANSIBLE
    assert [(p.code, p.origin.path) for p in problems] == [("NG401", ("ansible_facts", "ansible_interfaces", 1))]
    assert "ansible_eth0" in problems[0].message


def test_ansible_fact_cache_holds_the_facts_bare() -> None:
    facts = json.loads(ansible_document(eth0=physical("eth0", "00:1b:21:3a:4b:5c")))["ansible_facts"]
    links, found, problems, _ = parse_facts(json.dumps(facts), "w-1.json")
    assert (found, problems) == (ANSIBLE, [])
    assert links[0].origin.path == ("ansible_eth0", "device")


def test_ansible_bond_slaves_without_permanent_address_are_ambiguous() -> None:
    text = ansible_document(
        eth0=physical("eth0", "00:1b:21:3a:4b:5c"),
        eth1=physical("eth1", "00:1b:21:3a:4b:5c"),
    )
    links, _, problems, _ = parse_facts(text, "w-1.json")
    assert links == ()
    assert [(p.code, p.origin.path) for p in problems] == [("NG406", ("ansible_facts", "ansible_eth1", "device"))]


# --- what is not facts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "apiVersion: netgen/v1alpha1\nkind: Inventory\nclusters: []\n",
            "a mapping with keys apiVersion, kind, clusters",
        ),
        ("42\n", "a number"),
        ("[]\n", "an empty list"),
        ('[{"name": "eth0"}]\n', "a list of 1 item(s)"),
        ("a: 1\n---\nb: 2\n", "2 YAML documents"),
    ],
)
def test_unknown_content_is_unrecognised(text: str, found: str) -> None:
    links, fmt, problems, _ = parse_facts(text, "cp-1.yaml")
    assert (links, fmt) == ((), None)
    assert [p.code for p in problems] == ["NG401"]
    assert problems[0].message.endswith(f"found {found}")
    assert "ip -j link show" in problems[0].hint
    assert "talosctl get links -o yaml" in problems[0].hint
    assert "ansible -m setup --tree DIR" in problems[0].hint


def test_syntax_error_comes_from_yamlio_located() -> None:
    _, found, problems, _ = parse_facts('[{"ifname": "eth0",\n', "w-1.json")
    assert found is None
    assert [p.code for p in problems] == ["NG001"]
    assert problems[0].line is not None


def test_empty_file_gets_a_facts_hint(tmp_path: Path) -> None:
    (tmp_path / "cp-1.yaml").write_text("")
    result = load_facts([tmp_path / "cp-1.yaml"])
    assert result.hosts == ()
    assert [d.code for d in result.diagnostics] == ["NG004"]
    assert "talosctl get links" in result.diagnostics[0].hint


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "cp-1.json"
    path.write_bytes(b'[{"ifname": "eth\xff0"}]')
    result = load_facts([path])
    assert result.hosts == ()
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("NG003", 1, 17)]
    assert str(path) not in result.sources
    assert result.digests[str(path)] == hashlib.sha256(path.read_bytes()).hexdigest()


# --- loading files and directories -------------------------------------------------------------


def test_directory_is_read_sorted_skipping_hidden_files_and_subdirectories(tmp_path: Path) -> None:
    shutil.copy(DATA / "talosctl-links.yaml", tmp_path / "b-host.yaml")
    shutil.copy(DATA / "ip-link-bond.json", tmp_path / "a-host.json")
    shutil.copy(DATA / "ansible-setup.json", tmp_path / "lab.c-host.txt")
    (tmp_path / ".d-host.json").write_text("not facts")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e-host.json").write_text("not facts")

    result = load_facts([tmp_path])

    assert result.diagnostics == ()
    assert [(h.host, h.cluster, h.format) for h in result.hosts] == [
        ("a-host", None, IP_LINK),
        ("b-host", None, TALOSCTL),
        ("c-host", "lab", ANSIBLE),
    ]
    names = [str(tmp_path / "a-host.json"), str(tmp_path / "b-host.yaml"), str(tmp_path / "lab.c-host.txt")]
    assert [h.origin for h in result.hosts] == [Origin(name) for name in names]
    assert list(result.sources) == names
    assert result.sources[names[1]] == (DATA / "talosctl-links.yaml").read_text()
    assert result.hosts[2].links[0].origin.file == names[2]


def test_file_arguments_keep_their_order_and_display_name(tmp_path: Path) -> None:
    shutil.copy(DATA / "ip-link-bond.json", tmp_path / "w-2.json")
    shutil.copy(DATA / "talosctl-links.yaml", tmp_path / "w-1.yaml")
    result = load_facts([tmp_path / "w-2.json", tmp_path / "w-1.yaml"])
    assert [(h.host, h.origin.file) for h in result.hosts] == [
        ("w-2", str(tmp_path / "w-2.json")),
        ("w-1", str(tmp_path / "w-1.yaml")),
    ]


def test_host_link_lookup() -> None:
    result = load_facts([DATA / "ip-link-bond.json"])
    [host] = result.hosts
    port = host.link(mac("3C-EC-EF-AA-00-01"))
    assert port is not None
    assert port.name == "enp1s0f0"
    assert host.link(mac("3c:ec:ef:aa:00:99")) is None


@pytest.mark.parametrize("name", ["facts", "a.b.c.json", "CP-1.json", "cp_1.json", "cp-1.", ".json"])
def test_file_name_without_a_host(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(DATA / "ip-link-bond.json", path)
    result = load_facts([path])
    assert result.hosts == ()
    assert [(d.code, d.origin) for d in result.diagnostics] == [("NG402", Origin(str(path)))]
    assert name in result.diagnostics[0].message


def test_file_with_errors_contributes_no_host() -> None:
    result = load_facts([DATA / "ip-link-ambiguous.json", DATA / "ip-link-bond.json"])
    assert [h.host for h in result.hosts] == ["ip-link-bond"]
    assert [d.code for d in result.diagnostics] == ["NG406"]


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does-not-exist"):
        load_facts([tmp_path / "does-not-exist"])


def test_digests_are_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = "\ufeff".encode() + (DATA / "ip-link-bond.json").read_bytes().replace(b"},", b"},\r\n")
    path = tmp_path / "w-1.json"
    path.write_bytes(data)
    result = load_facts([path])
    assert [h.host for h in result.hosts] == ["w-1"]
    assert result.digests == {str(path): hashlib.sha256(data).hexdigest()}
    assert result.digests[str(path)] != hashlib.sha256(result.sources[str(path)].encode()).hexdigest()
