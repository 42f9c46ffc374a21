"""Diagnostic output formats: ``text`` (file:line:col, like compilers and yamllint),
``json`` (a list of objects) and ``github`` (workflow annotations)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from netgen.diagnostics import Diagnostic


def _where(d: Diagnostic) -> str:
    return f"{d.file}:{d.line}:{d.column}" if d.line is not None else d.file


def text(diagnostics: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{_where(d)}: {d.severity}[{d.code}]: {d.message}")
        lines.append(f"  hint: {d.hint}")
    return "".join(line + "\n" for line in lines)


def as_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diagnostics], indent=2) + "\n"


def _escape(value: str, *, property_value: bool = False) -> str:
    # GitHub's workflow-command escaping: data escapes %, CR, LF; properties also : and ,
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(diagnostics: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        properties = [f"file={_escape(d.file, property_value=True)}"]
        if d.line is not None:
            properties += [f"line={d.line}", f"col={d.column}"]
        properties.append(f"title={_escape(f'{d.code} {d.severity}', property_value=True)}")
        message = _escape(f"{d.message} (hint: {d.hint})")
        lines.append(f"::{d.severity} {','.join(properties)}::{message}")
    return "".join(line + "\n" for line in lines)


REPORTERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {"text": text, "json": as_json, "github": github}
