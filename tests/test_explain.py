"""Every diagnostic code is documented: `netgen explain` and docs/diagnostics.md."""

from __future__ import annotations

import re

from conftest import ROOT
from netgen.diagnostics import CODES
from netgen.explain import markdown


def test_docs_page_is_current() -> None:
    page = (ROOT / "docs" / "diagnostics.md").read_text()
    assert page == markdown(), "docs/diagnostics.md is out of date: run `make docs`"


def test_every_code_is_explained(run_cli) -> None:
    assert len(CODES) >= 40
    for code in CODES.values():
        assert re.fullmatch(r"NG\d{3}", code.id)
        assert len(code.explanation.split()) >= 12, f"{code.id} needs a real explanation"
        result = run_cli("explain", code.id.lower())
        assert result.exit_code == 0
        assert result.stdout.startswith(f"{code.id} ({code.severity}): {code.title}")


def test_explain_lists_codes_and_rejects_unknown(run_cli) -> None:
    listing = run_cli("explain")
    assert listing.exit_code == 0
    assert len(listing.stdout.splitlines()) == len(CODES)
    unknown = run_cli("explain", "NG999")
    assert unknown.exit_code == 2
    assert "unknown diagnostic code" in unknown.stderr
