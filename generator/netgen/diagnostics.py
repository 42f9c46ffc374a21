"""Diagnostics: what netgen reports about an inventory, and where.

Every problem has a stable code (``NG104``), a severity, a message, a hint and a
location. Stages report a location as an :class:`Origin`, a file plus the path of
keys and indexes inside it; line and column are looked up from the source text only
when a diagnostic is actually reported (see :mod:`netgen.load.positions`), so a clean
inventory never pays for position tracking.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass, replace
from typing import Any

PathPart = str | int


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Origin:
    """A place in a source file: the file's display name and the path to a node.

    ``key`` points at the mapping key of the last path part instead of its value,
    which is where an unknown or duplicate key is best shown.
    """

    file: str
    path: tuple[PathPart, ...] = ()
    key: bool = False

    def __truediv__(self, part: PathPart) -> Origin:
        return Origin(self.file, (*self.path, part))

    def at_key(self) -> Origin:
        return Origin(self.file, self.path, key=True)

    @property
    def json_path(self) -> str:
        text = "$"
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text


@dataclass(frozen=True, slots=True)
class Code:
    """A diagnostic code: one kind of problem, documented once. Every code netgen has is in
    the table of :mod:`netgen.codes`."""

    id: str
    severity: Severity
    title: str
    #: what the problem is and how to fix it (`netgen explain`, docs/diagnostics.md)
    explanation: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "explanation", inspect.cleandoc(self.explanation))

    def at(self, origin: Origin, message: str, hint: str) -> Diagnostic:
        return Diagnostic(code=self.id, severity=self.severity, message=message, hint=hint, origin=origin)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    hint: str
    origin: Origin
    line: int | None = None
    column: int | None = None

    @property
    def file(self) -> str:
        return self.origin.file

    @property
    def path(self) -> str:
        return self.origin.json_path

    def located(self, line: int, column: int) -> Diagnostic:
        return replace(self, line=line, column=column)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.column or 0, self.code, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
