"""Verification: every rendered document is read back and checked before anything is written.

A document must parse, satisfy netgen's schema for its artifact (``schemas/``), and read
the same under YAML 1.1 as under 1.2, since several consumers (PyYAML, and so Ansible;
older Go YAML) are 1.1 readers that take ``off`` for false and ``52:54:00:12:34:56``
for a number.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from netgen import resources, validity
from netgen.diagnostics import Code, Diagnostic, Origin, Severity
from netgen.load import yamldata
from netgen.load.yamldata import DataError, parse_documents
from netgen.plan.artifact import Artifact
from netgen.resources import SchemaValidator, inline_references, resource_dir, schema
from netgen.validity import Judge

OUTPUT_INVALID = Code(
    "NG901",
    Severity.ERROR,
    "rendered output is invalid",
    """
    A rendered file does not parse, or one of its documents does not satisfy the schema
    netgen holds for it. Nothing was written. With the built-in templates this is a bug in
    netgen; with `--templates DIR` the override named in the message produced it.
    """,
)
YAML11_AMBIGUOUS = Code(
    "NG903",
    Severity.ERROR,
    "rendered output reads differently under YAML 1.1",
    """
    A rendered document means something else to a YAML 1.1 reader (PyYAML, Ansible): an
    unquoted `off`, `yes` or `0755`, or a MAC such as 52:54:00:12:34:56 read as a number.
    Quote the value in the template with the `yaml` filter.
    """,
)

#: the codes this stage reports, for the table in :mod:`netgen.codes`
CODES = (
    OUTPUT_INVALID,
    YAML11_AMBIGUOUS,
)

_yaml11 = YAML(typ="safe", pure=False)
_yaml11.version = (1, 1)


# documents that carry another document as a JSON string, and the schema that one must satisfy
_EMBEDDED_JSON = {"NetworkAttachmentDefinition": (("spec", "config"), "cni-conflist")}


@cache
def _judge(name: str, kind: str | None = None) -> Judge:
    return Judge.of(_validator(name, kind))


@cache
def _validator(name: str, kind: str | None = None) -> Validator:
    """The validator of a schema, or of the definition named after a document's kind: netgen's
    schemas dispatch on `kind` to that definition, so it alone decides (and is much faster)."""
    document_schema = schema(name)
    definitions = document_schema.get("$defs", {})
    # kinds are CamelCase; the schemas' helper definitions (mac, prefix, …) never are
    is_kind = kind is not None and kind[:1].isupper() and kind in definitions
    governing = definitions[kind] if is_kind else document_schema
    return SchemaValidator({"$schema": document_schema["$schema"], **inline_references(governing, definitions)})


@cache
def verifier() -> str:
    """A digest of everything that decides whether a text passes :func:`verify`: netgen's
    schemas and the code that reads, prepares and checks. A text that passed, rendered again
    under the same digest, would pass again. The code is taken without its import lines,
    comments and blank lines: where a module lives and what it says about itself decide nothing."""
    digest = hashlib.sha256()
    for path in sorted(resource_dir("schemas").glob("*.json")):
        if path.name == INVENTORY_SCHEMA:
            continue  # it checks the input, never a rendered text
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in (Path(__file__), Path(yamldata.__file__), Path(resources.__file__), Path(validity.__file__)):
        digest.update(path.name.encode() + b"\0" + _code_lines(path.read_text(encoding="utf-8")).encode() + b"\0")
    return digest.hexdigest()


INVENTORY_SCHEMA = "inventory.schema.json"
_IMPORT = re.compile(r"(from\s+\S+\s+)?import\s")


def _code_lines(source: str) -> str:
    """The lines of a module that do something: no imports (a parenthesised one whole), no
    comment lines, no blank lines."""
    kept, in_import = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if in_import:
            in_import = not stripped.endswith(")")
        elif _IMPORT.match(stripped):
            in_import = stripped.endswith("(")
        elif stripped and not stripped.startswith("#"):
            kept.append(line.rstrip())
    return "\n".join(kept)


def _document_judge(name: str, document: Any) -> Judge:
    kind = document.get("kind") if isinstance(document, dict) else None
    return _judge(name, kind if isinstance(kind, str) else None)


def _embedded_problem(document: Any) -> str | None:
    """What is wrong with a document embedded as JSON text, if anything."""
    if not isinstance(document, dict) or document.get("kind") not in _EMBEDDED_JSON:
        return None
    path, schema_name = _EMBEDDED_JSON[document["kind"]]
    text: Any = document
    for key in path:
        text = text.get(key) if isinstance(text, dict) else None
    try:
        embedded = json.loads(text) if isinstance(text, str) else None
    except ValueError as error:
        return f"{'.'.join(path)} is not JSON: {error}"
    violation = best_match(_judge(schema_name).errors(embedded))
    return None if violation is None else f"{'.'.join(path)} at {_at(violation)}"


def verify(artifact: Artifact, text: str, *, yaml11: bool) -> list[Diagnostic]:
    """Problems of one rendered file. ``yaml11`` adds the YAML 1.1 read-back: needed for
    template overrides; the built-in templates are held to it by the test suite."""
    origin = Origin(artifact.path)
    try:
        documents = parse_documents(text)
        documents_11 = list(_yaml11.load_all(text)) if yaml11 else documents
    except (YAMLError, DataError) as error:
        return [
            OUTPUT_INVALID.at(
                origin,
                f"template {artifact.template} produced YAML that does not parse: {_first_line(error)}",
                "fix the template",
            )
        ]
    diagnostics = []
    for index, (document, document_11) in enumerate(zip(documents, documents_11, strict=True)):
        where = f"document {index + 1}"
        violation = best_match(_document_judge(artifact.schema, document).errors(document))
        if violation is not None:
            diagnostics.append(
                OUTPUT_INVALID.at(
                    origin / index,
                    f"template {artifact.template}, {where} at {_at(violation)}",
                    f"the output must satisfy schemas/{artifact.schema}.schema.json; fix the template",
                )
            )
        elif (problem := _embedded_problem(document)) is not None:
            diagnostics.append(
                OUTPUT_INVALID.at(
                    origin / index, f"template {artifact.template}, {where}: {problem}", "fix the template"
                )
            )
        if yaml11 and _normalised(document) != _normalised(document_11):
            diagnostics.append(
                YAML11_AMBIGUOUS.at(
                    origin / index,
                    f"template {artifact.template}, {where} reads differently under YAML 1.1",
                    "quote the value with the `yaml` filter",
                )
            )
    return diagnostics


def _at(violation: ValidationError) -> str:
    location = "/".join(str(p) for p in violation.absolute_path) or "top level"
    return f"{location}: {violation.message}"


def _normalised(value: Any) -> Any:
    """Plain containers, so a 1.1 and a 1.2 load compare by value only."""
    if isinstance(value, dict):
        return {str(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return (type(value).__name__, value)


def _first_line(error: YAMLError | DataError) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
