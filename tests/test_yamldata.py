"""netgen's YAML reader (``netgen.load.yamldata``) reads what ruamel.yaml's YAML 1.2 safe loader reads.

The reader builds data straight from libyaml's events; ruamel.yaml's loader is the
reference. Every YAML file of the project (inventories, golden inputs and outputs, the
bad-input corpus, facts) and random data in every YAML style must read the same; the few
places where netgen follows the YAML 1.2 core schema instead are tested as such.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from conftest import ROOT
from netgen.load.yamldata import MAX_DEPTH, DataError, parse_documents
from strategies import dump_yaml, mutated_text

_reference = YAML(typ="safe", pure=False)


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


#: ruamel builds a cycle or a billion shared values from these; netgen refuses them (see below)
REFUSED_BY_DESIGN = {"recursive-alias.yaml", "alias-bomb.yaml"}
YAML_FILES = sorted(
    path
    for pattern in ("inventories/*.yaml", "tests/golden/**/*.yaml", "tests/bad/**/*.yaml", "tests/bad/**/*.json")
    for path in ROOT.glob(pattern)
    if _utf8(path) and path.name not in REFUSED_BY_DESIGN
)


def reference(text: str) -> list[Any]:
    return list(_reference.load_all(text))


def same(a: Any, b: Any) -> bool:
    """``a`` (netgen) equals ``b`` (ruamel), NaN included, of the same types (1, 1.0 and True
    differ); a timestamp ruamel builds is the text it was in YAML 1.2's core schema."""
    if isinstance(b, date) and isinstance(a, str):
        return a[:10] == b.isoformat()[:10]
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def depth(value: Any, inside: frozenset[int] = frozenset()) -> float:
    """How deep the data nests; infinite when it holds itself (an alias inside its anchor)."""
    if not isinstance(value, dict | list | tuple):
        return 0
    if id(value) in inside or len(inside) > MAX_DEPTH:
        return math.inf
    children = [*value, *value.values()] if isinstance(value, dict) else value
    return 1 + max((depth(child, inside | {id(value)}) for child in children), default=0)


def assert_reads_as_ruamel(text: str) -> None:
    """The same data as ruamel's loader, or refused where ruamel refuses (or nests too deep)."""
    try:
        expected = reference(text)
    except (YAMLError, ValueError) as error:
        if "tag:yaml.org,2002:value" in str(error):
            parse_documents(text)  # a plain `=` has no constructor in ruamel; a string to netgen
            return
        with pytest.raises((YAMLError, DataError)):
            parse_documents(text)
        return
    if max(map(depth, expected), default=0) > MAX_DEPTH:
        with pytest.raises(DataError, match=r"levels deep|inside its own anchor"):
            parse_documents(text)
        return
    if holds_itself(text):
        # ruamel builds a mapping that merges itself (`&a {<<: *a}`) as if the merge were not
        # there; netgen refuses every alias inside its own anchor alike
        with pytest.raises(DataError, match="inside its own anchor"):
            parse_documents(text)
        return
    assert same(parse_documents(text), expected), text


def holds_itself(text: str) -> bool:
    """Whether a node of the text is among its own descendants (through an alias)."""

    def walk(node: Node, inside: frozenset[int]) -> bool:
        if id(node) in inside:
            return True
        children = [part for pair in node.value for part in pair] if isinstance(node, MappingNode) else node.value
        return isinstance(node, MappingNode | SequenceNode) and any(walk(c, inside | {id(node)}) for c in children)

    return any(walk(node, frozenset()) for node in _reference.compose_all(text) if node is not None)


def test_the_files_are_there() -> None:
    assert len(YAML_FILES) > 250


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_project_files_read_as_ruamel_reads_them(path: Path) -> None:
    assert_reads_as_ruamel(path.read_text(encoding="utf-8-sig"))


SCALARS = [
    # null, bool in the three spellings YAML 1.2 has; 1.1's yes/no/on/off are strings
    "~", "null", "Null", "NULL", "", "true", "True", "TRUE", "false", "False", "FALSE",
    "yes", "no", "on", "off", "y", "n", "tRUE", "nULL",
    # integers: decimal, 0o, 0x, 0b, with signs and underscores; 0755 is decimal in 1.2
    "0", "-0", "+12", "1_000", "0o17", "0x1F", "0b101", "0755", "-0x10", "08", "0o8",
    # floats
    "1.5", "-1.", ".5", "1e3", "1.0e-3", "1_0.5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1.2.3", "1e", "e3",
    # strings that look like something
    "52:54:00:7a:66:a0", "10.0.0.1", "2001:db8::1", "1.10", "1:30", "fe80::1%eth0", "0x", "-", ".", "+",
    "12:30:00", "<<x", "= x",
]  # fmt: skip


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("form", ["plain", "single", "double", "key", "flow"])
def test_scalars_resolve_as_in_ruamel(scalar: str, form: str) -> None:
    text = {
        "plain": f"value: {scalar}\n",
        "single": f"value: '{scalar}'\n",
        "double": f'value: "{scalar}"\n',
        "key": f"{scalar}: value\n" if scalar else "? ''\n: value\n",
        "flow": f"[{scalar}, x]\n",
    }[form]
    assert_reads_as_ruamel(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1, c: [1, 2]}\nd: *x\ne: *x\n",
        "base: &base {mtu: 1500, name: a}\nnic:\n  <<: *base\n  name: b\n",
        "one: &one {a: 1, b: 1}\ntwo: &two {b: 2, c: 2}\nboth:\n  <<: [*one, *two]\n  c: 3\n",
        "key: !!str 123\nnum: !!int '42'\nf: !!float 1\nb: !!bool true\nn: !!null ''\n",
        "m: !!map {a: 1}\ns: !!seq [1]\n",
        "? [a, b]\n: 1\n",
        "---\na: 1\n---\n---\nb: 2\n...\n",
        "# only a comment\n",
        "text: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n",
        "quoted: 'it''s'\nescaped: \"tab\\there\\u00e9\"\n",
        "anchored-scalar: &s hello\nagain: *s\n",
        '{"json": [1, 2.5, true, null, "x"], "nested": {"a": {}}}',
    ],
)
def test_structures_read_as_in_ruamel(text: str) -> None:
    assert_reads_as_ruamel(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.2's core schema has no timestamps, and "=" and "!" are ordinary
        ("d: 2026-11-22\n", {"d": "2026-11-22"}),
        ("t: 2026-11-22T10:00:00Z\n", {"t": "2026-11-22T10:00:00Z"}),
        ("v: =\n", {"v": "="}),
        ("s: ! 12\n", {"s": "12"}),
        # the inventory is YAML 1.2 whatever the document says
        ("%YAML 1.1\n---\nx: on\n", {"x": "on"}),
    ],
)
def test_yaml_1_2_core_schema_where_ruamel_adds_more(text: str, expected: Any) -> None:
    assert parse_documents(text) == [expected]


@pytest.mark.parametrize(
    ("text", "kind", "line", "column"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate", 2, 0),
        ("x: &a {k: 1}\n<<: *a\n<<: *a\n", "duplicate", 2, 0),
        ("name: !!python/object:os.system x\n", "tag", 0, 6),
        ("list: !!python/list [1]\n", "tag", 0, 6),
        ("b: !!binary aGVsbG8=\n", "tag", 0, 3),
        ("x: !local 1\n", "tag", 0, 3),
        ("n: !!int abc\n", "data", 0, 3),
        ("a: *nowhere\n", "data", 0, 3),
        ("a: &a [1, *a]\n", "limit", 0, 10),
        ("? {a: 1}\n: x\n", "data", 0, 2),
        ("m:\n  <<: 1\n", "data", 1, 6),
        ("n: " + "9" * 5000 + "\n", "limit", 0, 3),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "limit", 0, MAX_DEPTH),
    ],
)
def test_what_cannot_become_data_is_refused_where_it_is(text: str, kind: str, line: int, column: int) -> None:
    with pytest.raises(DataError) as raised:
        parse_documents(text)
    assert (raised.value.kind, raised.value.mark.line, raised.value.mark.column) == (kind, line, column)


def test_nesting_through_aliases_counts_towards_the_depth() -> None:
    half = MAX_DEPTH // 2 + 1
    text = f"a: &deep {'[' * half}1{']' * half}\nb: {'[' * half}*deep{']' * half}\n"
    with pytest.raises(DataError, match="levels deep"):
        parse_documents(text)
    assert parse_documents(text.replace("b: ", "b: 1 #"))  # alone, the anchored value is fine


def test_the_budget_counts_values_with_aliases_expanded() -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a]\n"
    # 1 mapping + 2 keys + (1 + 9) + (1 + 4 * 10) values
    assert parse_documents(text, budget=54)
    with pytest.raises(DataError, match="expands to more than 53 values") as raised:
        parse_documents(text, budget=53)
    assert (raised.value.mark.line, raised.value.mark.column) == (1, 16)  # the fourth *a


_keys = st.text(max_size=6) | st.integers(-5, 5) | st.booleans() | st.none()
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.sampled_from(SCALARS)
    | st.from_regex(r"[-+]?(0[xob])?[0-9a-f_.]{1,6}(e[-+]?[0-9])?", fullmatch=True)
)
_data = st.recursive(
    _scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4)
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(data=_data, flow=st.sampled_from([False, True, None]), width=st.sampled_from([20, 80, 4096]))
def test_random_data_in_every_style_reads_as_in_ruamel(data: Any, flow: bool | None, width: int) -> None:
    assert_reads_as_ruamel(dump_yaml(data, flow=flow, width=width))


def _texts() -> st.SearchStrategy[bytes]:
    examples = [path.read_text() for path in sorted((ROOT / "inventories").glob("*.yaml"))]
    return st.sampled_from(examples).flatmap(mutated_text)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(source=_texts())
def test_broken_inventories_read_as_in_ruamel(source: bytes) -> None:
    """Text edits of real inventories (lost colons, tabs, stray anchors, aliases and merge keys,
    odd characters): the same data, or refused alike."""
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    assert_reads_as_ruamel(text)
