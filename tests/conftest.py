"""Shared test fixtures: the CLI run in-process, golden updates, the upstream reference data."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from netgen import cli

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*/expected from the current output (read every diff before committing)",
    )


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `netgen ARGS...` through the real entry point (exit codes and error handling included)."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["netgen", *map(str, args)])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def upstream() -> Path:
    """The consumers' published schemas; CI must have them, elsewhere their absence skips."""
    if not UPSTREAM.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{UPSTREAM} is missing: conformance tests must run in CI")
        pytest.skip(f"{UPSTREAM} is missing")
    return UPSTREAM
