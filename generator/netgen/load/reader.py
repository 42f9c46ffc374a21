"""Reading YAML (and JSON) sources safely, turning every failure into a diagnostic.

YAML 1.2, built from libyaml's parser events (:mod:`netgen.load.yamldata`): ``52:54:00:7a:66:a0``
stays a string, ``on``/``off`` are not booleans, duplicate keys are refused and no tag can
construct a Python object.
"""

from __future__ import annotations

import errno
import re
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from netgen.diagnostics import Code, Diagnostic, Origin, Severity
from netgen.load.yamldata import DataError, parse_documents

YAML_SYNTAX = Code(
    "NG001",
    Severity.ERROR,
    "YAML syntax error",
    """
    The file is not well-formed YAML, so nothing in it could be read. The position shown is
    where the parser gave up; the mistake is often on the line before (a missing ':' or
    closing bracket, an indentation slip, or a tab used for indentation).
    """,
)
DUPLICATE_KEY = Code(
    "NG002",
    Severity.ERROR,
    "duplicate key",
    """
    A mapping names the same key twice. YAML parsers disagree on which value wins, so netgen
    refuses the file instead of guessing. Remove or rename one of the two keys.
    """,
)
NOT_UTF8 = Code(
    "NG003",
    Severity.ERROR,
    "file is not UTF-8",
    """
    Inventories and facts files must be UTF-8 text. The position shown is the first byte that
    is not valid UTF-8; re-save the file as UTF-8.
    """,
)
EMPTY_FILE = Code(
    "NG004",
    Severity.ERROR,
    "empty document",
    """
    The file holds no data (it is empty, or only comments). An inventory must be a mapping
    that starts with `apiVersion: netgen/v1alpha1` and `kind: Inventory`.
    """,
)
UNSUPPORTED_TAG = Code(
    "NG005",
    Severity.ERROR,
    "unsupported YAML tag",
    """
    The file uses a YAML tag (such as `!!python/object`) that plain data does not need.
    netgen never constructs objects from tags; remove the tag and write the value itself.
    """,
)

TOO_COMPLEX = Code(
    "NG006",
    Severity.ERROR,
    "document too deep or too large",
    """
    The document nests deeper than any inventory or facts file needs (64 levels), its YAML
    aliases (`*name`) expand it to far more data than its text holds, as an "alias bomb"
    does, an alias stands inside its own anchor (the data would be a cycle), an integer has
    more than 4,300 digits, or the file is larger than 64 MiB. netgen stops reading at that
    point instead of exhausting memory or time. Write the data out without such nesting or
    repeated aliases.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    YAML_SYNTAX,
    DUPLICATE_KEY,
    NOT_UTF8,
    EMPTY_FILE,
    UNSUPPORTED_TAG,
    TOO_COMPLEX,
)

# no inventory or facts file comes close: an inventory of 5,000 hosts is under 2 MiB
MAX_FILE_BYTES = 64 << 20
# expanded values per character of text: real files stay below 1, even with `<<:` defaults
MAX_EXPANSION = 2
MIN_BUDGET = 100_000

# NEL, LS and PS end a line for YAML 1.1 parsers (libyaml, PyYAML, go-yaml v2) and are plain
# characters in YAML 1.2: text holding one reads differently from one tool to the next
_DISPUTED_BREAK = re.compile("[\x85\u2028\u2029]")


def read_limited(path: Path) -> bytes:
    """A file's bytes, but never more than one byte past the limit (a device or a runaway
    file must not exhaust memory); :func:`decode` reports a file over the limit."""
    mode = path.stat().st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
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
        documents = [d for d in parse_documents(text, budget=MIN_BUDGET + MAX_EXPANSION * len(text)) if d is not None]
    except DataError as error:
        code, hint = _DATA_ERRORS[error.kind]
        diagnostic = code.at(Origin(name), error.message, error.hint or hint)
        return [], [diagnostic.located(error.mark.line + 1, error.mark.column + 1)]
    except MarkedYAMLError as error:
        return [], [_syntax_error(error, name, text)]
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
    if not documents:
        return [], [EMPTY_FILE.at(Origin(name), "the file holds no data", "write the inventory mapping").located(1, 1)]
    return documents, []


def _syntax_error(error: MarkedYAMLError, name: str, text: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = text.splitlines() or [""]
    if line > len(lines):
        # the parser's mark sits past a last line without line break: show the end of that line
        line, column = len(lines), len(lines[-1]) + 1
    message = " ".join(part for part in (error.context, error.problem) if part) or str(error)
    return YAML_SYNTAX.at(Origin(name), message, _syntax_hint(text, error)).located(line, column)


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


_DATA_ERRORS: dict[str, tuple[Code, str]] = {
    "duplicate": (DUPLICATE_KEY, "keep one of the two entries"),
    "tag": (UNSUPPORTED_TAG, "remove the tag; netgen reads plain data only"),
    "limit": (TOO_COMPLEX, "write the data out plainly, without nested aliases, deep nesting or huge numbers"),
    "data": (YAML_SYNTAX, "check the value and the YAML syntax here"),
}


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
