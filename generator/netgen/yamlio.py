"""Reading YAML (and JSON) sources safely, turning every failure into a diagnostic.

YAML 1.2 through ruamel.yaml's C-backed safe loader: ``52:54:00:7a:66:a0`` stays a
string, ``on``/``off`` are not booleans, duplicate keys are refused and no tag can
construct a Python object.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

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

_loader = YAML(typ="safe", pure=False)


def decode(data: bytes, name: str) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (a leading byte-order mark is allowed)."""
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
    try:
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
    except YAMLError as error:
        return [], [YAML_SYNTAX.at(Origin(name), str(error).strip(), "check the YAML syntax").located(1, 1)]
    if not documents:
        return [], [EMPTY_FILE.at(Origin(name), "the file holds no data", "write the inventory mapping").located(1, 1)]
    return documents, []


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
