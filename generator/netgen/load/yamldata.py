"""Plain data from YAML text: libyaml's parser events, built into dicts, lists and scalars.

ruamel.yaml's C loader parses in C but composes and resolves every scalar in Python,
which made reading the inventory and reading back every rendered document the slowest
steps of a render. Here libyaml's events are built into data in one pass, and the same
pass enforces the limits of hostile input (nesting depth, alias expansion, recursion),
each at the position of the offending node.

Scalars follow the YAML 1.2 core schema as ruamel.yaml resolves it (``null``/``~``,
``true``/``false`` in three spellings, ints with ``0o``/``0x``/``0b`` and ``_``, floats
with ``.inf``/``.nan``); ``52:54:00:7a:66:a0``, ``on`` and ``2026-11-22`` are strings. Tags
other than the core ones are refused; ``<<`` merge keys work as in ruamel.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # libyaml, as ruamel.yaml binds it
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

# no inventory or facts file comes close: an inventory of 5,000 hosts is under 2 MiB and
# about 8 levels deep
MAX_DEPTH = 64

_CORE = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0b[0-1_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)"
)
_NUMBER_START = frozenset("-+0123456789.")
# Python refuses to read longer integers (CVE-2020-10735)
_MAX_DIGITS = 4300


@dataclass(frozen=True)
class Mark:
    """A 0-based position, as libyaml reports it."""

    line: int
    column: int


class DataError(Exception):
    """The text parses, but cannot become data: what, where, and which kind of problem."""

    def __init__(self, kind: str, message: str, mark: Any, hint: str | None = None) -> None:
        super().__init__(message)
        #: "duplicate" (key), "tag" (one netgen does not read), "limit" (too deep, too large,
        #: recursive) or "data" (anything else)
        self.kind = kind
        self.message = message
        self.mark = Mark(mark.line, mark.column)
        #: what to do about it, where the kind alone does not say
        self.hint = hint


def _int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(text: str) -> float:
    lowered = text.replace("_", "").lower()
    sign = -1.0 if lowered[0] == "-" else 1.0
    lowered = lowered.lstrip("+-")
    if lowered == ".inf":
        return sign * float("inf")
    if lowered == ".nan":
        return float("nan")
    return sign * float(lowered)


def _plain(text: str) -> Any:
    """An untagged plain scalar, resolved by the YAML 1.2 core schema."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text[0] in _NUMBER_START:
        if _INT.fullmatch(text):
            return _int(text)
        if _FLOAT.fullmatch(text):
            return _float(text)
    return text


def _tagged(tag: str, text: str) -> Any:
    name = tag[len(_CORE) :] if tag.startswith(_CORE) else None
    if tag == "!" or name == "str":
        return text
    if name == "null" and text in _NULLS:
        return None
    if name == "bool" and text in _BOOLS:
        return _BOOLS[text]
    if name == "int" and _INT.fullmatch(text):
        return _int(text)
    if name == "float" and (_FLOAT.fullmatch(text) or _INT.fullmatch(text)):
        return _float(text)
    if name in ("null", "bool", "int", "float"):
        raise ValueError(f"{text!r} is not a valid !!{name}")
    shown = tag.replace(_CORE, "!!")
    raise LookupError(f"the tag {shown} is not allowed")


def _key(value: Any) -> Hashable:
    if isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, Hashable) or (
        isinstance(value, tuple) and not all(isinstance(v, Hashable) for v in value)
    ):
        raise TypeError("a mapping or a list holding one cannot be a key")
    return value


class _Collection:
    """A mapping or sequence being built, with what the limits need to know about it."""

    __slots__ = ("anchor", "height", "is_mapping", "key", "key_mark", "mark", "merges", "size", "value")

    def __init__(self, value: Any, anchor: str | None, mark: Any) -> None:
        self.value = value
        self.is_mapping = isinstance(value, dict)
        self.anchor = anchor
        self.mark = mark
        self.size = 1
        self.height = 1
        #: a mapping's key waiting for its value (``_NO_KEY`` when none is)
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.merges: list[dict[Any, Any]] = []


_NO_KEY = object()
_MERGE = object()


def _merged(collection: _Collection) -> dict[Any, Any]:
    """A mapping with its ``<<`` merges applied: its own keys win, then earlier merges."""
    result: dict[Any, Any] = {}
    for source in reversed(collection.merges):
        result.update(source)
    result.update(collection.value)
    return result


def parse_documents(text: str, budget: int | None = None) -> list[Any]:
    """Every document of ``text`` as data (``None`` for an empty one).

    ``budget`` bounds the values the data holds with aliases expanded, which is what later
    stages walk: an alias "bomb" stops at the alias that goes past it. Raises
    :class:`DataError`; the parser's own errors (ruamel's ``MarkedYAMLError`` and
    ``ReaderError``) pass through.
    """
    parser = CParser(text)
    try:
        return _Builder(budget).build(parser.get_event)
    finally:
        parser.dispose()


class _Builder:
    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.limit = budget if budget is not None else -1
        #: values built so far, aliases expanded
        self.total = 0
        #: an anchor's value, size and height; None while its collection is still open
        self.anchors: dict[str, tuple[Any, int, int] | None] = {}
        self.stack: list[_Collection] = []

    def build(self, next_event: Any) -> list[Any]:  # noqa: PLR0912
        documents: list[Any] = []
        stack = self.stack
        while True:
            event = next_event()
            cls = event.__class__
            is_merge_key = False
            mark = event.start_mark
            if cls is ScalarEvent:
                value = self._scalar(event)
                size, height = 1, 0
                is_merge_key = event.tag is None and event.style == "" and event.value == "<<"
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                self._open(event, cls is MappingStartEvent)
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                value, size, height, mark = self._close()
            elif cls is AliasEvent:
                value, size, height = self._alias(event)
            elif cls is StreamEndEvent:
                return documents
            else:
                if cls is DocumentStartEvent:
                    self.anchors = {}  # an anchor holds within its document only
                continue
            if not stack:
                documents.append(value)
                continue
            parent = stack[-1]
            parent.size += size
            if height >= parent.height:
                parent.height = height + 1
            if not parent.is_mapping:
                parent.value.append(value)
            elif parent.key is _NO_KEY:
                parent.key = _MERGE if is_merge_key else value
                parent.key_mark = mark
            else:
                _add_entry(parent, value, mark)

    def _scalar(self, event: Any) -> Any:
        self.total += 1
        tag = event.tag
        try:
            if tag is None:
                value = _plain(event.value) if event.style == "" else event.value
            else:
                value = _tagged(tag, event.value)
        except LookupError as error:
            raise DataError("tag", str(error), event.start_mark) from None
        except ValueError as error:
            kind = "limit" if len(event.value) > _MAX_DIGITS else "data"
            raise DataError(kind, f"the value cannot be read: {error}", event.start_mark) from None
        if event.anchor is not None:
            self._anchor(event)
            self.anchors[event.anchor] = (value, 1, 0)
        return value

    def _open(self, event: Any, is_mapping: bool) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag != _CORE + ("map" if is_mapping else "seq"):
            raise DataError("tag", f"the tag {tag.replace(_CORE, '!!')} is not allowed", event.start_mark)
        if len(self.stack) >= MAX_DEPTH:
            raise DataError("limit", f"the document nests more than {MAX_DEPTH} levels deep", event.start_mark)
        if event.anchor is not None:
            self._anchor(event)
            self.anchors[event.anchor] = None
        self.total += 1
        self.stack.append(_Collection({} if is_mapping else [], event.anchor, event.start_mark))

    def _anchor(self, event: Any) -> None:
        # YAML 1.2 lets a second anchor of one name shadow the first; in a hand-written file
        # that is a copy-paste slip, and ruamel.yaml refuses it too
        if event.anchor in self.anchors:
            message = f"the anchor &{event.anchor} is defined twice"
            raise DataError("data", message, event.start_mark, "give each anchor its own name")

    def _close(self) -> tuple[Any, int, int, Any]:
        done = self.stack.pop()
        value = _merged(done) if done.merges else done.value
        if done.anchor is not None:
            self.anchors[done.anchor] = (value, done.size, done.height)
        self._within_budget(done.mark)
        return value, done.size, done.height, done.mark

    def _alias(self, event: Any) -> tuple[Any, int, int]:
        if event.anchor not in self.anchors:
            message = f"the alias *{event.anchor} names no anchor before it"
            raise DataError("data", message, event.start_mark, f"write &{event.anchor} on the value before its alias")
        anchored = self.anchors[event.anchor]
        if anchored is None:
            message = f"the alias *{event.anchor} is inside its own anchor"
            raise DataError("limit", message, event.start_mark, "the data would be endless; remove the alias")
        value, size, height = anchored
        if len(self.stack) + height > MAX_DEPTH:
            raise DataError("limit", f"the document nests more than {MAX_DEPTH} levels deep", event.start_mark)
        self.total += size
        self._within_budget(event.start_mark)
        return value, size, height

    def _within_budget(self, mark: Any) -> None:
        if self.total > self.limit >= 0:
            message = f"the document expands to more than {self.budget} values (YAML aliases)"
            raise DataError("limit", message, mark)


def _add_entry(mapping: _Collection, value: Any, mark: Any) -> None:
    if mapping.key is _MERGE:
        _add_merge(mapping, value, mark)
    else:
        try:
            key = _key(mapping.key)
        except TypeError as error:
            raise DataError("data", str(error), mapping.key_mark, "write a plain key") from None
        if key in mapping.value:
            raise DataError("duplicate", f"found duplicate key {_shown_key(key)}", mapping.key_mark)
        mapping.value[key] = value
    mapping.key = _NO_KEY


def _add_merge(mapping: _Collection, value: Any, mark: Any) -> None:
    if mapping.merges:
        raise DataError("duplicate", "found duplicate key <<", mapping.key_mark)
    sources = value if isinstance(value, list) else [value]
    if not sources or not all(isinstance(source, dict) for source in sources):
        raise DataError("data", "a merge key `<<` takes a mapping or a list of mappings", mark)
    mapping.merges = list(sources)


def _shown_key(key: Any) -> str:
    return f'"{key}"' if isinstance(key, str) else repr(key)
