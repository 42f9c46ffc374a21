"""The compiled schemas (netgen.validity) say yes exactly where jsonschema does.

A render trusts the compiled answer when it is yes and asks jsonschema when it is no, so a
compiled schema that accepted something jsonschema refuses would let a bad document through.
Here both judge the same instances: each keyword's edge cases, every golden document and
every example inventory, and random mutations of them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

from conftest import ROOT
from netgen.emit.verify import _document_judge, _judge
from netgen.load import structure
from netgen.load.reader import load_documents
from netgen.resources import SchemaValidator, schema
from netgen.validity import compile_schema, equal

OUTPUT_SCHEMAS = ("talos-patch", "metallb", "attachment", "vcluster-values", "cni-conflist")

#: (schema, instances): each instance is judged by both
KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 0, -3, 1.0, 9000.0, 1.5, True, False, "1", None, [1], {}]),
    ({"type": "number"}, [1, 1.5, True, "1.5", None]),
    ({"type": ["string", "null"]}, ["", None, 0, False, []]),
    ({"type": "boolean"}, [True, False, 0, 1, "true"]),
    ({"type": "object"}, [{}, [], "x"]),
    ({"type": "array"}, [[], {}, "ab"]),
    ({"const": 1}, [1, 1.0, True, "1", [1]]),
    ({"const": True}, [True, 1, 1.0, False]),
    ({"const": "v1"}, ["v1", "v1 ", 1, None]),
    ({"const": [1, {"a": False}]}, [[1, {"a": False}], [1, {"a": 0}], [True, {"a": False}], [1]]),
    ({"enum": ["a", "b"]}, ["a", "c", 1, None]),
    ({"enum": [0, None, "x"]}, [0, False, 0.0, None, "x", "0"]),
    ({"pattern": "^[a-z]+$"}, ["abc", "abc\n", "ABC", "", 5, None]),
    ({"pattern": "\\d"}, ["a1", "a", "\u0661"]),
    ({"minLength": 2, "maxLength": 3}, ["a", "ab", "abcd", "é漢", 12, ["a"]]),
    ({"minimum": 1, "maximum": 4094}, [1, 0, 4094, 4095, 1.5, True, False, "5", None]),
    ({"minItems": 1, "maxItems": 2}, [[], [1], [1, 2, 3], "ab", {}]),
    ({"uniqueItems": True}, [[1, 2], [1, 1], [1, True], [1, 1.0], [[1], [1]], [{"a": 1}, {"a": True}], "aa"]),
    ({"prefixItems": [{"type": "string"}, {"type": "integer"}]}, [["a", 1], ["a", "b"], ["a"], [], [1], "x"]),
    ({"prefixItems": [{"type": "string"}], "items": False}, [["a"], ["a", 1], [], [2]]),
    ({"items": {"type": "integer"}}, [[1, 2], [1, "2"], [], {"0": "x"}]),
    ({"required": ["a", "b"]}, [{"a": 1, "b": 2}, {"a": 1}, {}, [], "ab"]),
    ({"minProperties": 1, "maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, []]),
    (
        {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
        [{"a": "x"}, {"a": 1}, {"b": 1}, {}, {1: "x"}, [], "a"],
    ),
    (
        {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        [{"a": "x", "b": 1}, {"a": "x", "b": "y"}, {"b": 2, "c": True}],
    ),
    ({"propertyNames": {"pattern": "^x-"}}, [{"x-a": 1}, {"a": 1}, {}, [1]]),
    ({"allOf": [{"minimum": 1}, {"maximum": 3}]}, [0, 2, 4]),
    ({"anyOf": [{"type": "string"}, {"minimum": 5}]}, ["a", 6, 4, None]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 5}]}, [1, 6, 5.5, "a"]),
    ({"not": {"type": "string"}}, ["a", 1]),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, [{"a": 1}, {"a": 1, "b": 1}, {}, "a"]),
    ({"if": {"const": 1}, "then": {"type": "integer"}, "else": {"type": "string"}}, [1, 1.0, 2, "x", True]),
    ({"if": {"const": 1}, "else": False}, [1, 2]),
    (True, [1, None, {}]),
    (False, [1, None, {}]),
    ({"description": "annotations only", "x-hint": "h", "title": "t"}, [1, "x"]),
]


def cases() -> list[tuple[dict[str, Any], Any]]:
    return [(s, instance) for s, instances in KEYWORD_CASES for instance in instances]


@pytest.mark.parametrize(("keyword_schema", "instance"), cases())
def test_each_keyword_means_what_jsonschema_says(keyword_schema: dict[str, Any], instance: Any) -> None:
    compiled = compile_schema(keyword_schema)
    assert compiled is not None
    assert compiled(instance) == SchemaValidator(keyword_schema).is_valid(instance)


def test_integers_can_exclude_whole_floats() -> None:
    compiled = compile_schema({"type": "integer"}, float_integers=False)
    assert compiled is not None
    assert (compiled(9000), compiled(9000.0), compiled(True)) == (True, False, False)


def test_a_judge_counts_integers_as_its_validator_does() -> None:
    """The inventory's validator takes 9000.0 for a float (an MTU must be a whole number);
    the output schemas' validators count it as an integer, as JSON Schema does."""
    _, one_cluster = structure._validators()
    cluster = copy.deepcopy(INVENTORIES[0]["clusters"][0])
    cluster["networks"][0]["mtu"] = 9000
    assert one_cluster.valid(cluster) and one_cluster.validator.is_valid(cluster)
    cluster["networks"][0]["mtu"] = 9000.0
    assert not one_cluster.validator.is_valid(cluster)
    assert not one_cluster.valid(cluster)
    assert _judge("talos-patch").validator.is_type(9000.0, "integer")


@pytest.mark.parametrize(
    "unknown",
    [
        {"$ref": "#/$defs/mac"},
        {"contains": {"type": "string"}},
        {"properties": {"a": {"dependentRequired": {"a": ["b"]}}}},
        {"type": "int"},
        {"items": [{"type": "string"}]},
    ],
)
def test_a_schema_with_an_unknown_keyword_is_left_to_jsonschema(unknown: dict[str, Any]) -> None:
    assert compile_schema(unknown) is None


def test_json_equality_keeps_booleans_apart_from_numbers() -> None:
    assert equal(1, 1.0) and equal({"a": [1]}, {"a": [1.0]})
    assert not equal(True, 1) and not equal([False], [0]) and not equal({"a": 1}, {"b": 1})


def test_every_schema_netgen_holds_is_compiled() -> None:
    """Otherwise the fast path is silently off for it."""
    judges = [_judge(name) for name in OUTPUT_SCHEMAS]
    judges += [
        _judge(name, kind) for name in OUTPUT_SCHEMAS for kind in schema(name).get("$defs", {}) if kind[:1].isupper()
    ]
    for judge in judges:
        assert compile_schema(judge.validator.schema) is not None, judge.validator.schema.get("title")
        assert judge.valid != judge.validator.is_valid
    for checker in structure._validators():
        assert compile_schema(checker.validator.schema, float_integers=False) is not None


def _golden_documents() -> list[tuple[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    found = []
    for path in sorted((ROOT / "tests" / "golden").glob("*/expected/*/*/**/*.yaml")):
        area = path.parts[path.parts.index("expected") + 2]
        name = {"talos": "talos-patch", "vcluster": "vcluster-values"}.get(area)
        name = name or ("metallb" if path.name == "metallb.yaml" else "attachment")
        found += [(name, document) for document in yaml.load_all(path.read_text()) if document is not None]
    return found


def _inventories() -> list[Any]:
    documents = []
    paths = [*(ROOT / "inventories").glob("*.yaml"), *(ROOT / "tests" / "golden").glob("*/inventory.yaml")]
    for path in sorted(paths):
        loaded, problems = load_documents(path.read_text(), str(path))
        assert not problems, path
        documents += loaded
    return documents


GOLDEN = _golden_documents()
INVENTORIES = _inventories()
GOLDEN_DOCUMENTS = [document for _, document in GOLDEN]

#: values a mutation puts somewhere: each kind of JSON value, near-misses of common ones
ODD_VALUES = st.sampled_from(
    [None, True, False, 0, 1, -1, 1.0, 9000.0, 1.5, 2**63, "", "x", "1", "v1", "52:54:00:00:00:01", "10.0.0.1/24",
     "eth0\n", [], [1], ["a"], {}, {"a": 1}, {"name": "x"}]
)  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any]) -> Any:
    # by index: the documents are too large to be shown as the strategy's arguments
    document = copy.deepcopy(documents[draw(st.integers(0, len(documents) - 1))])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "x-hint", "name", 1]))] = copy.deepcopy(draw(ODD_VALUES))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return document


def test_every_golden_document_and_inventory_is_judged_alike() -> None:
    assert len(GOLDEN) > 100 and len(INVENTORIES) > 10
    for name, document in GOLDEN:
        judge = _document_judge(name, document)
        assert judge.valid(document) is True and judge.validator.is_valid(document)
    top, _ = structure._validators()
    for inventory in INVENTORIES:
        assert top.valid(inventory) is True and top.validator.is_valid(inventory)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(OUTPUT_SCHEMAS), mutated(GOLDEN_DOCUMENTS))
def test_mutated_documents_are_judged_alike(name: str, document: Any) -> None:
    judge = _document_judge(name, document)
    assert judge.valid(document) == judge.validator.is_valid(document)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated(INVENTORIES))
def test_mutated_inventories_are_judged_alike(inventory: Any) -> None:
    top, one_cluster = structure._validators()
    assert top.valid(inventory) == top.validator.is_valid(inventory)
    clusters = inventory.get("clusters") if isinstance(inventory, dict) else None
    for cluster in clusters if isinstance(clusters, list) else []:
        assert one_cluster.valid(cluster) == one_cluster.validator.is_valid(cluster)


def test_a_no_is_explained_by_jsonschema() -> None:
    """When the compiled answer is no, the diagnostic is still jsonschema's."""
    judge = _judge("talos-patch", "LinkAliasConfig")
    document = {"apiVersion": "v1alpha1", "kind": "LinkAliasConfig", "name": "net0", "selector": {"match": 5}}
    assert not judge.valid(document)
    violation = best_match(judge.errors(document))
    assert violation is not None and "match" in "/".join(str(p) for p in violation.absolute_path)
