"""Every diagnostic code is documented: `netgen explain` and docs/diagnostics.md."""

from __future__ import annotations

import re

from conftest import ROOT
from netgen.codes import CODES, markdown


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


def test_the_tables_list_every_rule_and_code_declared() -> None:
    """The rule list and the code table are written by hand: a rule or a code declared in a
    module but missing from them would never run or never be documented."""
    import importlib
    import pkgutil

    import netgen
    from netgen.checks import RULES
    from netgen.checks.framework import Rule
    from netgen.diagnostics import Code

    declared_rules, declared_codes = [], []
    for module_info in pkgutil.walk_packages(netgen.__path__, "netgen."):
        if module_info.name.endswith("__main__"):
            continue  # running it is the command line
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, Rule):
                declared_rules.append(value)
            elif isinstance(value, Code):
                declared_codes.append(value)
    assert len(declared_rules) >= 40
    assert {id(rule) for rule in declared_rules} == {id(rule) for rule in RULES}
    assert len(set(RULES)) == len(RULES), "a rule is listed twice"
    assert {code.id for code in declared_codes} | {rule.code.id for rule in RULES} == set(CODES)
    assert all(CODES[code.id] is code for code in declared_codes)


def test_targets_page_is_current() -> None:
    from netgen.targets import markdown as targets_markdown

    page = (ROOT / "docs" / "targets.md").read_text()
    assert page == targets_markdown(), "docs/targets.md is out of date: run `make docs`"


def test_docs_name_the_supported_talos_range() -> None:
    """README, docs/talos.md and docs/inventory.md say which Talos minors netgen targets: the
    first and the last of the targets table."""
    from netgen.targets import TALOS

    first, last = TALOS[0].version, TALOS[-1].version
    for page in ("README.md", "docs/talos.md", "docs/inventory.md"):
        text = (ROOT / page).read_text()
        assert re.search(rf'{first}[`"]* (to|-) [`"]*{last}', text), f"{page} does not say {first} to {last}"
