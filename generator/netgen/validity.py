"""Validity at speed: a JSON Schema compiled into one Python function that tells whether an
instance satisfies it.

jsonschema walks the schema anew for every instance and makes a validator object for every
keyword at every level (``descend``, ``evolve``): verifying the documents of a 5,000-host
render spent about 60 % of its time there. The function compiled here only says yes or no,
which is all a render needs when, as nearly always, the answer is yes; when it is no,
jsonschema checks again and its errors make the diagnostics. So the function must never
accept what jsonschema refuses. It knows the keywords netgen's schemas use, with the meaning
jsonschema gives them under Draft 2020-12 (``pattern`` as ECMA-262, see
:data:`netgen.resources.SchemaValidator`); a schema with any other keyword, or a ``$ref``,
is not compiled (:func:`compile_schema` returns None) and jsonschema alone decides.
``tests/test_validity.py`` holds the two to the same answers.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from netgen.resources import ecma_regex

Predicate = Callable[[Any], bool]

#: keywords that say something about a schema and nothing about an instance
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples", "x-hint", "deprecated"}
)


class _Unsupported(Exception):
    """A keyword the compiler does not know: jsonschema decides for this schema."""


def compile_schema(schema: Any, *, float_integers: bool = True) -> Predicate | None:
    """The predicate of ``schema``, or None if it uses a keyword this module does not know.
    ``float_integers``: whether 9000.0 is an integer (JSON Schema's default; the inventory
    validator counts only ints, see :mod:`netgen.load.structure`)."""
    try:
        return _Compiler(float_integers).node(schema)
    except _Unsupported:
        return None


@dataclass(frozen=True)
class Judge:
    """A jsonschema validator and its schema compiled: the fast answer first, jsonschema's
    errors only when it is no (a valid instance, the usual case, is never walked by jsonschema)."""

    validator: Validator
    valid: Predicate

    @classmethod
    def of(cls, validator: Validator) -> Judge:
        # whether 9000.0 is an integer is the validator's own type checker's to say
        compiled = compile_schema(validator.schema, float_integers=validator.is_type(9000.0, "integer"))
        return cls(validator, compiled or validator.is_valid)

    def errors(self, instance: Any) -> Iterable[ValidationError]:
        return () if self.valid(instance) else self.validator.iter_errors(instance)


def _always(_instance: Any) -> bool:
    return True


def _never(_instance: Any) -> bool:
    return False


def _is_number(instance: Any) -> bool:
    return isinstance(instance, numbers.Number) and not isinstance(instance, bool)


def _is_int(instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_integer_or_whole_float(instance: Any) -> bool:
    return _is_int(instance) or (isinstance(instance, float) and instance.is_integer())


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def _all(checks: list[Predicate]) -> Predicate:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def every(instance: Any) -> bool:
        for check in checks:  # noqa: SIM110 (a loop, not a generator, for every instance)
            if not check(instance):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, float_integers: bool) -> None:
        self.types: dict[str, Predicate] = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
            "number": _is_number,
            "integer": _is_integer_or_whole_float if float_integers else _is_int,
        }

    def node(self, schema: Any) -> Predicate:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        unknown = schema.keys() - _ANNOTATIONS - _KEYWORDS
        if unknown:
            raise _Unsupported(", ".join(sorted(unknown)))
        checks = [
            *self._type(schema),
            *self._values(schema),
            *self._strings(schema),
            *self._numbers(schema),
            *self._arrays(schema),
            *self._objects(schema),
            *self._logic(schema),
        ]
        return _all(checks)

    def _type(self, schema: dict[str, Any]) -> list[Predicate]:
        if "type" not in schema:
            return []
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if any(name not in self.types for name in names):
            raise _Unsupported(f"type {names}")
        if len(names) == 1:
            return [self.types[names[0]]]
        alternatives = [self.types[name] for name in names]
        return [lambda v: any(check(v) for check in alternatives)]

    @staticmethod
    def _values(schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        if "const" in schema:
            const = schema["const"]
            if isinstance(const, str):
                checks.append(lambda v: isinstance(v, str) and v == const)
            else:
                checks.append(lambda v: equal(v, const))
        if "enum" in schema:
            options = list(schema["enum"])
            if all(isinstance(option, str) for option in options):
                strings = frozenset(options)
                checks.append(lambda v: isinstance(v, str) and v in strings)
            else:
                checks.append(lambda v: any(equal(v, option) for option in options))
        return checks

    @staticmethod
    def _strings(schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        if "pattern" in schema:
            regex = ecma_regex(schema["pattern"])
            checks.append(lambda v: not isinstance(v, str) or regex.find(v) is not None)
        return checks + _sizes(schema, str, "minLength", "maxLength")

    @staticmethod
    def _numbers(schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        if "minimum" in schema:
            low = schema["minimum"]
            checks.append(lambda v: not _is_number(v) or v >= low)
        if "maximum" in schema:
            high = schema["maximum"]
            checks.append(lambda v: not _is_number(v) or v <= high)
        return checks

    def _arrays(self, schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = _sizes(schema, list, "minItems", "maxItems")
        if schema.get("uniqueItems") is True:
            checks.append(lambda v: not isinstance(v, list) or _unique(v))
        prefix = [self.node(item) for item in schema.get("prefixItems", [])]
        if prefix:
            checks.append(
                lambda v: not isinstance(v, list) or all(check(item) for check, item in zip(prefix, v, strict=False))
            )
        if "items" in schema:
            rest, skip = self.node(schema["items"]), len(prefix)
            checks.append(lambda v: not isinstance(v, list) or all(rest(item) for item in v[skip:]))
        return checks

    def _objects(self, schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        if "required" in schema:
            required = tuple(schema["required"])
            checks.append(lambda v: not isinstance(v, dict) or all(key in v for key in required))
        checks += _sizes(schema, dict, "minProperties", "maxProperties")
        properties = {name: self.node(sub) for name, sub in schema.get("properties", {}).items()}
        additional = self.node(schema["additionalProperties"]) if "additionalProperties" in schema else None
        if properties or additional is not None:
            checks.append(_object_check(properties, additional))
        if "propertyNames" in schema:
            names = self.node(schema["propertyNames"])
            checks.append(lambda v: not isinstance(v, dict) or all(names(key) for key in v))
        return checks

    def _logic(self, schema: dict[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.node(branch) for branch in schema[keyword]]
                checks.append(_COMBINE[keyword](branches))
        if "not" in schema:
            negated = self.node(schema["not"])
            checks.append(lambda v: not negated(v))
        if "if" in schema:
            condition = self.node(schema["if"])
            then = self.node(schema["then"]) if "then" in schema else _always
            otherwise = self.node(schema["else"]) if "else" in schema else _always
            checks.append(lambda v: then(v) if condition(v) else otherwise(v))
        return checks


def _sizes(schema: dict[str, Any], kind: type[Sized], least: str, most: str) -> list[Predicate]:
    """``minLength``/``maxLength`` and the like: bounds on ``len`` of instances of ``kind``."""
    checks: list[Predicate] = []
    if least in schema:
        low = schema[least]
        checks.append(lambda v: not isinstance(v, kind) or len(v) >= low)
    if most in schema:
        high = schema[most]
        checks.append(lambda v: not isinstance(v, kind) or len(v) <= high)
    return checks


def _object_check(properties: dict[str, Predicate], additional: Predicate | None) -> Predicate:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for key, value in instance.items():
            sub = properties.get(key) if isinstance(key, str) else None
            if sub is not None:
                if not sub(value):
                    return False
            elif additional is not None and not additional(value):
                return False
        return True

    return check


def _unique(items: list[Any]) -> bool:
    return all(not equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


_COMBINE: dict[str, Callable[[list[Predicate]], Predicate]] = {
    "allOf": _all,
    "anyOf": lambda branches: lambda v: any(branch(v) for branch in branches),
    "oneOf": lambda branches: lambda v: sum(1 for branch in branches if branch(v)) == 1,
}

_KEYWORDS = frozenset(
    {
        "type",
        "const",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "prefixItems",
        "items",
        "required",
        "minProperties",
        "maxProperties",
        "properties",
        "additionalProperties",
        "propertyNames",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
    }
)
