"""Where the templates and schemas that ship with netgen live."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import regress
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A wheel carries ``templates/`` and ``schemas/`` inside the package; a source
    checkout (and so an editable install) keeps them at the top of the repository."""
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _PACKAGE.parents[1] / name


@cache
def schema(name: str) -> dict[str, Any]:
    """A schema from ``schemas/``, by file name without ``.schema.json``."""
    with (resource_dir("schemas") / f"{name}.schema.json").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def inline_references(node: Any, definitions: dict[str, Any]) -> Any:
    """A schema with every local ``$ref`` replaced by its definition (netgen's schemas are not
    recursive). jsonschema then needs no reference lookups, which otherwise cost about a
    third of the time it spends validating."""
    if isinstance(node, list):
        return [inline_references(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {
        key: inline_references(value, definitions) for key, value in node.items() if key not in ("$ref", "$defs")
    }
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = inline_references(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {"allOf": [target], **inlined} if inlined else target
    return inlined


@cache
def ecma_regex(pattern: str) -> regress.Regex:
    return regress.Regex(pattern)


def _ecma_pattern(_validator: Validator, pattern: str, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    """`pattern` as JSON Schema means it: an ECMA-262 regular expression, where `$` is the end
    of the text (in Python's `re` it also matches before a final line break, which would let
    "cp-1\n" through as a file name)."""
    if isinstance(instance, str) and ecma_regex(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with ECMA-262 patterns: the validator of every schema netgen holds (none of
#: them uses `patternProperties`, whose matching jsonschema does with Python's `re`)
SchemaValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]  # untyped upstream
    Draft202012Validator, validators={"pattern": _ecma_pattern}
)
