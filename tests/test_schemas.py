"""netgen's own schemas (``schemas/``) are read as JSON Schema means them: patterns are ECMA-262."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from netgen.resources import SchemaValidator

SCHEMAS = sorted((ROOT / "schemas").glob("*.schema.json"))


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "cp-1", True),
        # `$` is the end of the text in ECMA-262; Python's re also matches it before a final line break
        ("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "cp-1\n", False),
        # `\d` is [0-9] in ECMA-262; Python's re takes every Unicode digit
        ("^\\d+$", "12", True),
        ("^\\d+$", "\u0661\u0662", False),
        # ECMA-262 lookahead, as the link-name patterns use it
        ("^(?!enx[0-9a-f]{12}$)[a-z0-9]+$", "enx525400aabbcc", False),
        ("^(?!enx[0-9a-f]{12}$)[a-z0-9]+$", "ens18", True),
    ],
)
def test_patterns_are_ecma_262(pattern: str, text: str, matches: bool) -> None:
    validator = SchemaValidator({"type": "string", "pattern": pattern})
    assert validator.is_valid(text) is matches


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_no_schema_matches_keys_with_python_regexes(path) -> None:  # type: ignore[no-untyped-def]
    """jsonschema matches `patternProperties` (and the keys `additionalProperties` then allows)
    with Python's re, not ECMA-262: netgen's schemas name their keys instead."""
    text = path.read_text()
    SchemaValidator.check_schema(json.loads(text))
    assert "patternProperties" not in text
