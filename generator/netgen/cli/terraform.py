"""``netgen terraform``: the program side of Terraform's ``external`` data source.

The protocol, as verified in hashicorp/terraform-provider-external
(docs/data-sources/external.md, "External Program Protocol", and
internal/provider/data_source.go, ``Read``):

- Terraform runs ``program`` without a shell and writes the ``query`` map to stdin as ONE
  JSON object whose values are always strings (query elements that are null are dropped;
  no ``query`` at all sends ``{}``).
- On success the program prints ONE JSON object on stdout and exits 0; the provider
  unmarshals it into ``map[string]string``, so every value must be a string ("Program
  output must be a JSON encoded map of string keys and string values").
- On failure it prints a human-readable message on stderr and exits non-zero; the provider
  ignores stdout then and shows stderr as the error ("External Program Execution Failed …
  Error Message: <stderr>").
- "Terraform expects a data source to have no observable side-effects, and will re-run the
  program each time the state is refreshed": nothing here writes a file.

The result maps each rendered file's path (relative to ``OUT``, as ``netgen.render``
returns it: ``lab/talos/nodes/cp-1.yaml``) to its text; the manifest is not part of it,
since nothing is written. Exit codes follow the CLI contract (README, exit codes): 1 for problems in
the inventory or facts (diagnostics in the text format, ``file:line:col``), 2 for a bad
query or a missing file.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import netgen
from netgen.cli.exits import ExitCode
from netgen.cli.reporters import text as text_report
from netgen.diagnostics import Diagnostic
from netgen.errors import DiagnosticsError, NetgenError, UsageError

#: every key a query may have; values are strings, lists are comma-separated
QUERY_KEYS = ("inventory", "facts", "cluster", "strict", "templates")

_JSON_TYPES: dict[type, str] = {
    str: "a string",
    dict: "an object",
    list: "an array",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


class QueryError(UsageError):
    """The query on stdin is not what the protocol and netgen expect (exit code 2)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Query:
    """What to render: the query object, parsed."""

    inventory: Path
    facts: tuple[Path, ...] = ()
    #: the clusters to render; None for all
    clusters: tuple[str, ...] | None = None
    strict: bool = False
    templates: Path | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """What the program prints and how it exits."""

    exit_code: int
    stdout: str
    stderr: str


def parse_query(data: bytes) -> Query:
    """Parse the JSON query Terraform writes on stdin; every problem is reported at once."""
    document = _decode(data)
    problems: list[str] = []
    values: dict[str, str] = {}
    for key, value in document.items():
        if key not in QUERY_KEYS:
            problems.append(_unknown_key(key))
        elif not isinstance(value, str):
            problems.append(
                f"query key {key!r} must be a string, not {_json_type(value)}: "
                "Terraform sends every query value as a string"
            )
        else:
            values[key] = value.strip()
    if "inventory" not in document:
        problems.append("query key 'inventory' is required: the path of the inventory file")
    elif values.get("inventory") == "":
        problems.append("query key 'inventory' is empty: it must be the path of the inventory file")
    strict = values.get("strict", "")
    if strict not in ("", "true", "false"):
        problems.append(f'query key \'strict\' must be "true" or "false", not {strict!r}')
    if problems:
        raise QueryError(problems)

    clusters = _split(values.get("cluster", ""))
    templates = values.get("templates", "")
    return Query(
        inventory=Path(values["inventory"]),
        facts=tuple(Path(p) for p in _split(values.get("facts", ""))),
        clusters=tuple(clusters) if clusters else None,
        strict=strict == "true",
        templates=Path(templates) if templates else None,
    )


def _decode(data: bytes) -> dict[str, object]:
    """The JSON object on stdin, or a :class:`QueryError` saying why there is none."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        raise QueryError(["the query on stdin is not UTF-8"]) from None
    if not decoded.strip():
        raise QueryError(['no query on stdin: expected a JSON object such as {"inventory": "inventory.yaml"}'])
    try:
        document = json.loads(decoded, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as error:
        raise QueryError([f"query key {error.key!r} is given twice"]) from None
    except json.JSONDecodeError as error:
        message = f"the query on stdin is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        raise QueryError([message]) from None
    if not isinstance(document, dict):
        raise QueryError([f"the query must be a JSON object of strings, not {_json_type(document)}"])
    return document


def result(query: Query) -> tuple[dict[str, str], list[Diagnostic]]:
    """Load, check and render in memory: the files by path, and the warnings.

    Raises :class:`netgen.InventoryError` (or :class:`netgen.VerificationError`) with every
    diagnostic, and :class:`netgen.UsageError` for a missing file or an unknown cluster.
    """
    if not query.inventory.is_absolute() and not query.inventory.exists():
        # the usual mistake: Terraform runs the program in its own working directory
        raise UsageError(
            f"inventory {query.inventory} does not exist in the working directory {Path.cwd()}; "
            'in Terraform, write the path as "${path.module}/..." or set working_dir'
        )
    inventory = netgen.load(query.inventory, facts=query.facts)
    rendering = netgen.render(inventory, clusters=query.clusters, templates=query.templates)
    return dict(rendering), list(rendering.warnings)


def respond(data: bytes) -> Response:
    """The whole protocol: the query bytes from stdin in, what to print and the exit code out.

    Unexpected exceptions are left to the caller (the CLI turns them into exit code 70).
    """
    try:
        query = parse_query(data)
        files, warnings = result(query)
    except QueryError as error:
        return Response(ExitCode.USAGE, "", "".join(f"netgen: error: {problem}\n" for problem in error.problems))
    except UsageError as error:
        return Response(ExitCode.USAGE, "", f"netgen: error: {error}\n")
    except DiagnosticsError as error:
        return Response(ExitCode.INPUT, "", text_report(error.diagnostics))
    except NetgenError as error:
        return Response(ExitCode.INPUT, "", f"netgen: error: {error}\n")
    if warnings and query.strict:
        message = 'netgen: error: warnings are errors with "strict" = "true"; no result\n'
        return Response(ExitCode.INPUT, "", text_report(warnings) + message)
    # sorted and ASCII-only: the same bytes for the same input, whatever the locale's encoding.
    # Warnings still go to stderr: on success Terraform only logs it (at TRACE level).
    return Response(ExitCode.OK, json.dumps(files, sort_keys=True) + "\n", text_report(warnings))


def _split(value: str) -> list[str]:
    """A comma-separated list: the protocol has strings only (join(",", …) in HCL)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, QUERY_KEYS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown query key {key!r}{hint}; the keys are {', '.join(QUERY_KEYS)}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``object_pairs_hook`` that refuses a key given twice (json keeps the last silently)."""
    document: dict[str, object] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(key)
        document[key] = value
    return document
