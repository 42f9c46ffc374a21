"""Reading YAML (and JSON) sources safely, turning every failure into a diagnostic.

YAML 1.2 through ruamel.yaml's C-backed safe loader: ``52:54:00:7a:66:a0`` stays a
string, ``on``/``off`` are not booleans, duplicate keys are refused and no tag can
construct a Python object.
"""

from __future__ import annotations

import errno
import re
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.reader import ReaderError

from netgen.diagnostics import Diagnostic, Origin, Severity, register

YAML_SYNTAX = register(
    "NG001",
    Severity.ERROR,
    "YAML syntax error",
    """
    The file is not well-formed YAML, so nothing in it could be read. The position shown is
    where the parser gave up; the mistake is often on the line before (a missing ':' or
    closing bracket, an indentation slip, or a tab used for indentation).
    """,
)
DUPLICATE_KEY = register(
    "NG002",
    Severity.ERROR,
    "duplicate key",
    """
    A mapping names the same key twice. YAML parsers disagree on which value wins, so netgen
    refuses the file instead of guessing. Remove or rename one of the two keys.
    """,
)
NOT_UTF8 = register(
    "NG003",
    Severity.ERROR,
    "file is not UTF-8",
    """
    Inventories and facts files must be UTF-8 text. The position shown is the first byte that
    is not valid UTF-8; re-save the file as UTF-8.
    """,
)
EMPTY_FILE = register(
    "NG004",
    Severity.ERROR,
    "empty document",
    """
    The file holds no data (it is empty, or only comments). An inventory must be a mapping
    that starts with `apiVersion: netgen/v1alpha1` and `kind: Inventory`.
    """,
)
UNSUPPORTED_TAG = register(
    "NG005",
    Severity.ERROR,
    "unsupported YAML tag",
    """
    The file uses a YAML tag (such as `!!python/object`) that plain data does not need.
    netgen never constructs objects from tags; remove the tag and write the value itself.
    """,
)

TOO_COMPLEX = register(
    "NG006",
    Severity.ERROR,
    "document too deep or too large",
    """
    The document nests deeper than any inventory or facts file needs, or its YAML aliases
    (`*name`) expand it to far more data than its text holds, as an "alias bomb" does. netgen
    stops reading instead of exhausting memory or time. Write the data out without such
    nesting or repeated aliases.
    """,
)

# no inventory or facts file comes close: an inventory of 5,000 hosts is under 2 MiB and
# about 8 levels deep
MAX_FILE_BYTES = 64 << 20
MAX_DEPTH = 64
# expanded values per character of text: real files stay below 1, even with `<<:` defaults
MAX_EXPANSION = 2
MIN_BUDGET = 100_000

_loader = YAML(typ="safe", pure=False)
_HUGE_NUMBER = re.compile(r"\d{4301,}")
# NEL, LS and PS end a line for YAML 1.1 parsers (libyaml, PyYAML, go-yaml v2) and are plain
# characters in YAML 1.2: text holding one reads differently from one tool to the next
_DISPUTED_BREAK = re.compile("[\x85\u2028\u2029]")


def read_limited(path: Path) -> bytes:
    """A file's bytes, but never more than one byte past the limit (a device or a runaway
    file must not exhaust memory); :func:`decode` reports a file over the limit."""
    if stat.S_ISFIFO(path.stat().st_mode) or stat.S_ISSOCK(path.stat().st_mode):
        raise OSError(errno.EINVAL, "a pipe or socket, not a file")
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def decode(data: bytes, name: str) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (a leading byte-order mark is allowed)."""
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is larger than {MAX_FILE_BYTES >> 20} MiB"
        return None, [TOO_COMPLEX.at(Origin(name), message, "split the inventory, or check the path").located(1, 1)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        diagnostic = NOT_UTF8.at(
            Origin(name),
            f"byte 0x{data[error.start]:02x} at offset {error.start} is not valid UTF-8",
            "save the file as UTF-8",
        ).located(line, column)
        return None, [diagnostic]


def load_documents(text: str, name: str) -> tuple[list[Any], list[Diagnostic]]:
    """Every document of a YAML stream as plain data, or a diagnostic saying why not."""
    disputed = _DISPUTED_BREAK.search(text)
    if disputed is not None:
        character = disputed.group()
        message = f"character U+{ord(character):04X} is a line break to YAML 1.1 parsers but not to YAML 1.2 ones"
        hint = "remove it, or write a plain space or line break instead (it is often pasted from a word processor)"
        return [], [YAML_SYNTAX.at(Origin(name), message, hint).located(*_line_column(text, disputed.start()))]
    try:
        deep = _too_deep(text)
        if deep is not None:
            message = f"the document nests more than {MAX_DEPTH} levels deep"
            return [], [TOO_COMPLEX.at(Origin(name), message, "flatten the nesting").located(*deep)]
        documents = [document for document in _loader.load_all(text) if document is not None]
    except DuplicateKeyError as error:
        return [], [_marked(DUPLICATE_KEY, error, name, text, "keep one of the two entries")]
    except MarkedYAMLError as error:
        problem = error.problem or ""
        if "could not determine a constructor" in problem:
            tag = problem.split("tag ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
            error.context, error.problem = None, f"the tag {tag} is not allowed"
            return [], [_marked(UNSUPPORTED_TAG, error, name, text, "remove the tag; netgen reads plain data only")]
        return [], [_marked(YAML_SYNTAX, error, name, text, _syntax_hint(text, error))]
    except ReaderError as error:
        # a character YAML does not allow (NUL, ESC, …): reported by its offset in the text
        line, column = _line_column(text, error.position)
        character = error.character if isinstance(error.character, str) else chr(error.character)
        message = f"character {character!r} (U+{ord(character):04X}) is not allowed in YAML"
        return [], [
            YAML_SYNTAX.at(Origin(name), message, "remove it (it is often pasted from a terminal)").located(
                line, column
            )
        ]
    except YAMLError as error:
        return [], [YAML_SYNTAX.at(Origin(name), str(error).strip(), "check the YAML syntax").located(1, 1)]
    except ValueError as error:
        # Python refuses to read integers of more than 4,300 digits (CVE-2020-10735)
        message = f"a value cannot be read: {error}"
        digits = _HUGE_NUMBER.search(text)
        line, column = (1, 1) if digits is None else _line_column(text, digits.start())
        return [], [TOO_COMPLEX.at(Origin(name), message, "write numbers of a sensible size").located(line, column)]
    if not documents:
        return [], [EMPTY_FILE.at(Origin(name), "the file holds no data", "write the inventory mapping").located(1, 1)]
    problem = _too_complex(documents, budget=MIN_BUDGET + MAX_EXPANSION * len(text))
    if problem is not None:
        hint = "write the data out plainly, without nested aliases or deep nesting"
        return [], [TOO_COMPLEX.at(Origin(name), problem, hint).located(1, 1)]
    return documents, []


def _too_complex(documents: list[Any], budget: int) -> str | None:
    """Walk the data as later stages will (aliases expanded), within a budget of values."""
    stack: list[tuple[Any, int]] = [(document, 1) for document in documents]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > budget:
            return f"the document expands to more than {budget} values (YAML aliases?)"
        if depth > MAX_DEPTH:
            return f"the document nests more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None


def _marked(code: Any, error: MarkedYAMLError, name: str, text: str, hint: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = text.splitlines() or [""]
    if line > len(lines):
        # the parser's mark sits past a last line without line break: show the end of that line
        line, column = len(lines), len(lines[-1]) + 1
    message = " ".join(part for part in (error.context, error.problem) if part) or str(error)
    if isinstance(error, DuplicateKeyError):
        message = (error.problem or "duplicate key").split(" with value")[0]
    diagnostic: Diagnostic = code.at(Origin(name), message, hint)
    return diagnostic.located(line, column)


def _syntax_hint(text: str, error: MarkedYAMLError) -> str:
    mark = error.problem_mark
    if mark is not None:
        lines = text.splitlines()
        if mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            return "YAML does not allow tabs for indentation; use spaces"
        before = lines[max(mark.line - 1, 0) : mark.line + 1]
        if any(("[" in line or "{" in line) and "::" in line for line in before):
            return 'quote IPv6 addresses inside [ ] or { }: ["2001:db8::1"]'
        if mark.line >= len(lines) - 1 and text.count("[") + text.count("{") > text.count("]") + text.count("}"):
            return "the file ends inside an unclosed [ or {; close it"
    return "check indentation, ':' after keys and closing brackets or quotes on this line and the one before"


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where the document first nests deeper than the limit, if it does. The C parser's events
    come from libyaml's state machine, which no nesting can overflow; composing them into
    data recurses once per level and would crash the process on a deep enough document."""
    depth = 0
    for event in _loader.parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                return mark.line + 1, mark.column + 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
