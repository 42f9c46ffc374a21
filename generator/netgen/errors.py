"""The one error hierarchy netgen raises on purpose; the CLI maps each to an exit code."""

from __future__ import annotations

from netgen.diagnostics import Diagnostic, has_errors


class NetgenError(Exception):
    """Root of every error netgen raises on purpose."""


class UsageError(NetgenError):
    """The command was called wrongly: a missing file, a bad option (exit code 2)."""


class DiagnosticsError(NetgenError):
    """Problems reported as diagnostics; ``diagnostics`` holds all of them, warnings included."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = sum(1 for d in diagnostics if d.severity == "error")
        super().__init__(f"{errors} error(s)" if has_errors(diagnostics) else "warnings under --strict")


class InventoryError(DiagnosticsError):
    """The inventory or its facts have errors (exit code 1)."""


class VerificationError(DiagnosticsError):
    """A rendered file failed verification: a template bug or a bad override (exit code 1)."""


class OutputError(NetgenError):
    """The output directory cannot be written as asked (exit code 1); nothing was changed."""
