"""Structural validation of the inventory against ``schemas/inventory.schema.json``.

The schema is the single source of truth for the inventory's shape; this module only
turns jsonschema's errors into diagnostics with a location and a useful hint. The file
leaves the supported Talos versions to :data:`netgen.targets.TALOS`:
:func:`inventory_schema` fills them in, for validation and for ``netgen schema``.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from netgen.diagnostics import Code, Diagnostic, Origin, PathPart, Severity
from netgen.parallel import weighed_map
from netgen.resources import SchemaValidator, inline_references, schema
from netgen.targets import CNI_TYPES, METALLB, METALLB_DEFAULT, TALOS, TALOS_DEFAULT
from netgen.validity import Judge

WRONG_TYPE = Code(
    "NG010",
    Severity.ERROR,
    "wrong type",
    """
    A value has the wrong type, for example a list where a single value is expected, or a
    number where text is expected. Versions and MACs are text: quote them (`"1.13"`).
    """,
)
UNKNOWN_KEY = Code(
    "NG011",
    Severity.ERROR,
    "unknown key",
    """
    The inventory names a key that netgen does not know at that place, most often a typo.
    netgen refuses unknown keys instead of ignoring them, so a misspelt setting can never be
    silently dropped. The hint suggests the closest known key.
    """,
)
MISSING_KEY = Code(
    "NG012",
    Severity.ERROR,
    "missing required key",
    """
    A required key is absent, for example a host without `role` or a NIC without `mac`.
    """,
)
INVALID_VALUE = Code(
    "NG013",
    Severity.ERROR,
    "invalid value",
    """
    A value is not one of the allowed values or does not have the required form (a name
    that is not a DNS-1123 label, an unsupported Talos version, an empty list, …).
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    WRONG_TYPE,
    UNKNOWN_KEY,
    MISSING_KEY,
    INVALID_VALUE,
)

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _is_whole_number(_checker: object, instance: object) -> bool:
    # JSON Schema counts 9000.0 as an integer; in YAML it is a float and the MTU must be a whole number
    return isinstance(instance, int) and not isinstance(instance, bool)


_InventoryValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]  # untyped upstream
    SchemaValidator,
    type_checker=SchemaValidator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)


#: the keys down to ``talos.version`` in the inventory schema, whose versions come from the table
_TALOS_VERSION = ("$defs", "cluster", "properties", "talos", "properties", "version")


@cache
def inventory_schema() -> dict[str, Any]:
    """The inventory schema: ``schemas/inventory.schema.json`` with ``talos.version``'s enum,
    default and hint made from :data:`netgen.targets.TALOS` (``metallb.version``'s from
    ``METALLB``, the attachments' ``type`` and ``mode`` from ``CNI_TYPES``). netgen validates with it and
    ``netgen schema`` prints it."""
    filled = copy.deepcopy(schema("inventory"))
    parent, key = filled, _TALOS_VERSION[-1]
    for step in _TALOS_VERSION[:-1]:
        parent = parent[step]
    versions = [str(target.version) for target in TALOS]
    development = ", ".join(f'"{target.version}"' for target in TALOS if target.development)
    branch = f"{development}: the Talos development branch" if development else ""
    description = f'{parent[key]["description"]} Default "{TALOS_DEFAULT}"' + (f"; {branch}." if branch else ".")
    supported = f'"{versions[0]}" to "{versions[-1]}"' + (f" ({branch})" if branch else "")
    hint = f"supported Talos targets are {supported}; write the version quoted (1.10 unquoted is the number 1.1)"
    parent[key] = {"description": description, "enum": versions, "x-hint": hint}
    metallb = filled["$defs"]["metallb"]["properties"]
    minors = [str(target.version) for target in METALLB]
    metallb["version"] = {
        "description": f'{metallb["version"]["description"]} Default "{METALLB_DEFAULT}".',
        "enum": minors,
        "x-hint": f'supported MetalLB targets are "{minors[0]}" to "{minors[-1]}"; write the version quoted',
    }
    attachment = filled["$defs"]["attachment"]["properties"]
    attachment["type"]["enum"] = [t.name for t in CNI_TYPES]
    # every type's modes: NG617 says which type takes which
    attachment["mode"]["enum"] = list(dict.fromkeys(mode for t in CNI_TYPES for mode in t.modes))
    return filled


@cache
def _validators() -> tuple[Judge, Judge]:
    """The inventory without its clusters, and one cluster: clusters are checked apart, on
    every core for a large fleet."""
    inventory = inventory_schema()
    definitions = inventory["$defs"]
    clusters = {k: v for k, v in inventory["properties"]["clusters"].items() if k != "items"}
    top = {**inventory, "properties": {**inventory["properties"], "clusters": clusters}}
    return (
        Judge.of(_InventoryValidator({"$schema": inventory["$schema"], **inline_references(top, definitions)})),
        Judge.of(
            _InventoryValidator(
                {"$schema": inventory["$schema"], **inline_references(definitions["cluster"], definitions)}
            )
        ),
    )


def check_structure(data: Any, file: str) -> list[Diagnostic]:
    """Every structural problem of an inventory document, each once."""
    top, one_cluster = _validators()

    def diagnose(errors: Iterable[ValidationError], prefix: tuple[PathPart, ...]) -> list[Diagnostic]:
        return [
            diagnostic
            for error in errors
            for diagnostic in _diagnose(error, Origin(file, (*prefix, *error.absolute_path)))
        ]

    def check_cluster(indexed: tuple[int, Any]) -> list[Diagnostic]:
        index, cluster = indexed
        return diagnose(one_cluster.errors(cluster), ("clusters", index))

    diagnostics = diagnose(top.errors(data), ())
    clusters = data.get("clusters") if isinstance(data, dict) else None
    if isinstance(clusters, list):
        hosts = [len(c["hosts"]) if isinstance(c, dict) and isinstance(c.get("hosts"), list) else 0 for c in clusters]
        for found in weighed_map(check_cluster, list(enumerate(clusters)), hosts):
            diagnostics += found
    # jsonschema reports `required` once per missing key, each error naming all of them
    return list(dict.fromkeys(diagnostics))


def _diagnose(error: ValidationError, origin: Origin) -> Iterator[Diagnostic]:
    keyword = error.validator
    instance: Any = error.instance
    expected: Any = error.validator_value
    subschema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    hint: str | None = subschema.get("x-hint")
    if keyword in ("anyOf", "oneOf") and error.context:
        message = f"{_shown(instance)} is not valid here: {best_match(error.context).message}"
        yield INVALID_VALUE.at(origin, message, hint or "see `netgen schema` for the allowed forms")
    elif keyword == "additionalProperties":
        known = sorted(subschema.get("properties", {}))
        for key in sorted(set(instance) - set(known), key=str):
            text = key_text(key)
            yield UNKNOWN_KEY.at((origin / text).at_key(), f"unknown key {text!r}", _did_you_mean(text, known))
    elif keyword == "required":
        for key in expected:
            if key not in instance:
                yield MISSING_KEY.at(origin, f"missing required key {key!r}", f"add `{key}:` here")
    elif keyword == "type":
        wanted = " or ".join(_TYPE_NAMES[t] for t in ([expected] if isinstance(expected, str) else expected))
        message = f"expected {wanted}, got {_type_of(instance)} {_shown(instance)}"
        yield WRONG_TYPE.at(origin, message, hint or f"write {wanted} here")
    elif keyword in ("enum", "const") and not isinstance(instance, str) and _as_text(instance) in _texts(expected):
        message = f"{_shown(instance)} is read as {_type_of(instance)}, not as the text {_as_text(instance)!r}"
        yield WRONG_TYPE.at(origin, message, f'quote it: "{_as_text(instance)}"')
    else:
        message = _value_message(str(keyword), instance, expected) or error.message
        if hint is None and keyword == "enum":
            hint = "write one of: " + ", ".join(str(v) for v in expected)
        yield INVALID_VALUE.at(origin, message, hint or "see `netgen schema` for the allowed values")


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _texts(expected: Any) -> set[str]:
    return {str(v) for v in expected} if isinstance(expected, list) else {str(expected)}


def _value_message(keyword: str, instance: Any, expected: Any) -> str | None:
    shown = _shown(instance)
    match keyword:
        case "enum":
            return f"{shown} is not one of: {', '.join(str(v) for v in expected)}"
        case "const":
            return f"{shown} must be {expected!r}"
        case "pattern":
            return f"{shown} does not have the required form"
        case "minItems":
            return f"the list needs at least {expected} item(s)"
        case "maxItems":
            return f"the list takes at most {expected} item(s)"
        case "uniqueItems":
            return f"the list {shown} repeats an item"
        case "maxLength":
            return f"{shown} is longer than {expected} characters"
        case "minimum":
            return f"{shown} is less than {expected}"
        case "maximum":
            return f"{shown} is more than {expected}"
    return None


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "allowed keys here: " + ", ".join(known)


def _type_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def key_text(key: object) -> str:
    """A mapping key as the YAML that wrote it: ``true``, ``1``, ``[ens7, ens8]`` for a list."""
    if isinstance(key, str):
        return key
    if isinstance(key, tuple):
        return "[" + ", ".join(key_text(item) for item in key) + "]"
    return json.dumps(key) if isinstance(key, bool | int | None) else repr(key)
