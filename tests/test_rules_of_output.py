"""The small pieces that make output correct by construction."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from conftest import ROOT
from netgen.emit.templates import yaml_scalar
from netgen.load.structure import inventory_schema
from netgen.model import MacAddress, Version
from netgen.model.nodeip import NodeIPSelection
from netgen.resources import schema
from netgen.targets import TALOS, TALOS_DEFAULT, TALOS_KUBERNETES_DOCUMENTS_SINCE

yaml11 = YAML(typ="safe", pure=True)
yaml11.version = (1, 1)
yaml12 = YAML(typ="safe", pure=True)


@pytest.mark.parametrize(
    "value",
    [
        "52:54:00:12:34:56",  # base-60 number to a YAML 1.1 reader
        "52:54:00:7a:66:a0",
        "off",
        "On",
        "yes",
        "n",
        "null",
        "~",
        "0755",
        "1.13",
        "1e3",
        ".inf",
        "2001:db8::1/64",
        "!fd00::/64",
        'mac(link.permanent_addr) == "52:54:00:7a:66:a0"',
        "it's",
        "tab\there",
        "line\nbreak",
        "",
        " leading space",
        "- dash",
        "# hash",
        "key: value",
        "ens7",
        "v2",
        "ünïcode",
    ],
)
def test_yaml_scalar_reads_back_the_same_under_yaml_11_and_12(value: str) -> None:
    text = f"key: {yaml_scalar(value)}\n"
    assert yaml12.load(text) == {"key": value}
    assert yaml11.load(text) == {"key": value}


def test_yaml_scalar_keeps_plain_names_plain() -> None:
    assert yaml_scalar("ens7") == "ens7"
    assert yaml_scalar("cp-1") == "cp-1"
    assert yaml_scalar(True) == "true"
    assert yaml_scalar(1024) == "1024"


def test_yaml_scalar_refuses_containers() -> None:
    with pytest.raises(TypeError):
        yaml_scalar(["a"])


@pytest.mark.parametrize(
    ("text", "normal"),
    [("52:54:00:7A:66:A0", "52:54:00:7a:66:a0"), ("52-54-00-7a-66-a0", "52:54:00:7a:66:a0")],
)
def test_mac_normalised(text: str, normal: str) -> None:
    assert str(MacAddress.parse(text)) == normal


@pytest.mark.parametrize("text", ["52:54:00:7a:66", "52:54-00:7a:66:a0", "5254.007a.66a0", "gg:54:00:7a:66:a0"])
def test_mac_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a MAC"):
        MacAddress.parse(text)


def test_mac_kinds() -> None:
    assert MacAddress.parse("01:00:5e:00:00:01").is_multicast
    assert MacAddress.parse("ff:ff:ff:ff:ff:ff").is_multicast
    assert not MacAddress.parse("52:54:00:7a:66:a0").is_multicast
    assert MacAddress.parse("00:00:00:00:00:00").is_zero


def _selection(positives: list[str], exclusions: list[str]) -> NodeIPSelection:
    return NodeIPSelection(
        tuple(ipaddress.ip_network(p) for p in positives), tuple(ipaddress.ip_network(e) for e in exclusions)
    )


def test_selection_lists_positives_first_and_filters_like_talos() -> None:
    selection = _selection(["2001:db8:20::/64"], ["2001:db8:20:0:ffff::/80"])
    assert selection.subnets == ["2001:db8:20::/64", "!2001:db8:20:0:ffff::/80"]
    assert selection.selects(ipaddress.ip_address("2001:db8:20::11"))
    assert not selection.selects(ipaddress.ip_address("2001:db8:20:0:ffff::11"))
    assert not selection.selects(ipaddress.ip_address("fd10:0:2::11"))
    assert selection.dead_positives() == []


def test_selection_reports_positives_an_exclusion_swallows() -> None:
    selection = _selection(["2001:db8:20::/64", "192.168.10.0/24"], ["2001:db8::/32"])
    swallowed = (ipaddress.ip_network("2001:db8:20::/64"), ipaddress.ip_network("2001:db8::/32"))
    assert selection.dead_positives() == [swallowed]


def _talos_version(inventory_schema: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = inventory_schema["$defs"]["cluster"]["properties"]["talos"]["properties"]["version"]
    return node


def test_schema_talos_versions_are_the_supported_targets(run_cli) -> None:
    """`talos.version` takes exactly the targets of the table, in the schema netgen validates
    with and in the one `netgen schema` prints; the file in schemas/ leaves them to the table."""
    version = _talos_version(inventory_schema())
    assert [Version.parse(v) for v in version["enum"]] == [target.version for target in TALOS]
    assert f'"{TALOS[0].version}" to "{TALOS[-1].version}"' in version["x-hint"]
    assert f'Default "{TALOS_DEFAULT}"' in version["description"]
    assert TALOS_DEFAULT in [target.version for target in TALOS if not target.development]
    for target in TALOS:
        assert (f'"{target.version}": the Talos development branch' in version["x-hint"]) is target.development
    assert "enum" not in _talos_version(schema("inventory"))
    printed = run_cli("schema")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == inventory_schema()


def test_talos_targets_change_once_and_in_order() -> None:
    """`talosctl gen config` emits the Kubernetes documents from the 1.14 version contract on,
    for every newer one too; development branches are newer than every release."""
    assert [t.version for t in TALOS] == sorted(t.version for t in TALOS)
    for flags in ([t.kubernetes_documents for t in TALOS], [t.development for t in TALOS]):
        assert flags == sorted(flags)
    assert Version(1, 14) == TALOS_KUBERNETES_DOCUMENTS_SINCE


def test_schemas_are_valid_json_schemas() -> None:
    for path in sorted((ROOT / "schemas").glob("*.schema.json")):
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    Draft202012Validator.check_schema(inventory_schema())


def test_every_example_inventory_validates_against_the_printed_schema(run_cli) -> None:
    printed = run_cli("schema")
    assert printed.exit_code == 0
    validator = Draft202012Validator(json.loads(printed.stdout))
    for path in sorted((ROOT / "inventories").glob("*.yaml")):
        assert list(validator.iter_errors(yaml12.load(path.read_text()))) == [], path
        assert path.read_text().startswith("# yaml-language-server: $schema=")


def _output_schema(path: Path) -> str:
    """netgen's schema for a golden output file, from its place under expected/<cluster>/."""
    area = path.parts[path.parts.index("expected") + 2]
    if area == "talos":
        return "talos-patch"
    if area == "vcluster":
        return "vcluster-values"
    return "metallb" if path.name == "metallb.yaml" else "attachment"


def test_kind_definitions_decide_alone_like_the_whole_schema() -> None:
    """verify validates a document against the definition named after its kind; that must
    accept and reject exactly what the whole schema does."""
    from netgen.emit.verify import _document_judge

    checked = 0
    for path in sorted((ROOT / "tests" / "golden").glob("*/expected/*/*/**/*.yaml")):
        name = _output_schema(path)
        whole = Draft202012Validator(schema(name))
        for document in yaml12.load_all(path.read_text()):
            variants = [
                document,
                {**document, "unexpected": 1},
                {k: v for k, v in document.items() if k != "apiVersion"},
            ]
            if "kind" in document:
                variants += [{**document, "apiVersion": "v9"}, {**document, "kind": "Mac"}]
            for variant in variants:
                judge, expected = _document_judge(name, variant), whole.is_valid(variant)
                assert judge.validator.is_valid(variant) == expected, (path, variant)
                assert judge.valid(variant) == expected, (path, variant)
                checked += 1
    assert checked > 100
