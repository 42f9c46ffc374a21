"""Golden tests: every inventory renders to exactly the committed tree, byte for byte.

Cases are every inventory under inventories/ (facts in ``inventories/<name>.facts/``) and
every ``tests/golden/<case>/inventory.yaml`` (facts in ``tests/golden/<case>/facts/``); the
expected tree of each is ``tests/golden/<case>/expected/``. Expected trees change only
through ``pytest --update-golden`` (or ``make update-golden``), and every such diff is read
before it is committed.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import netgen
from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"


@dataclass(frozen=True)
class Case:
    name: str
    inventory: Path
    facts: Path | None

    @property
    def expected(self) -> Path:
        return GOLDEN / self.name / "expected"


def _cases() -> list[Case]:
    cases = []
    for inventory in sorted((ROOT / "inventories").glob("*.yaml")):
        facts = inventory.with_suffix(".facts")
        cases.append(Case(inventory.stem, inventory, facts if facts.is_dir() else None))
    for inventory in sorted(GOLDEN.glob("*/inventory.yaml")):
        facts = inventory.parent / "facts"
        cases.append(Case(inventory.parent.name, inventory, facts if facts.is_dir() else None))
    return cases


CASES = _cases()


def render_case(case: Case, out: Path) -> None:
    inventory = netgen.load(case.inventory, facts=[case.facts] if case.facts else [])
    netgen.write(netgen.render(inventory), out)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    out = tmp_path / "out"
    render_case(case, out)
    actual = tree(out)
    if request.config.getoption("--update-golden"):
        shutil.rmtree(case.expected, ignore_errors=True)
        shutil.copytree(out, case.expected)
        return
    assert case.expected.is_dir(), f"no golden output for {case.name}: run `make update-golden` and read the diff"
    expected = tree(case.expected)
    problems = [f"missing: {p}" for p in sorted(expected.keys() - actual.keys())]
    problems += [f"unexpected: {p}" for p in sorted(actual.keys() - expected.keys())]
    for path in sorted(expected.keys() & actual.keys()):
        if expected[path] != actual[path]:
            diff = difflib.unified_diff(
                expected[path].decode().splitlines(keepends=True),
                actual[path].decode().splitlines(keepends=True),
                f"expected/{path}",
                f"actual/{path}",
            )
            problems.append("".join(diff))
    assert not problems, "\n".join(problems)


def test_golden_cases_have_no_orphans() -> None:
    """An expected tree whose case is gone would never be checked again."""
    names = {c.name for c in CASES}
    orphans = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name not in names)
    assert not orphans


def test_render_is_deterministic_across_processes_and_directories(tmp_path: Path) -> None:
    """Hash seeds change set and dict order between processes; the working directory
    changes relative paths. Neither may change a byte."""
    case = next(c for c in CASES if c.facts is not None)
    trees = []
    for seed, cwd in (("1", ROOT), ("2", tmp_path)):
        out = tmp_path / f"out-{seed}"
        subprocess.run(
            [sys.executable, "-m", "netgen", "render", case.inventory, "--facts", case.facts, "-o", out],
            cwd=cwd,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        trees.append(tree(out))
    assert trees[0] == trees[1]


def test_built_in_output_reads_the_same_under_yaml_11() -> None:
    """The built-in templates are held to this here, so a render need not re-read every
    file under YAML 1.1 (it does for template overrides, NG903)."""
    from ruamel.yaml import YAML

    yaml11, yaml12 = YAML(typ="safe"), YAML(typ="safe")
    yaml11.version = (1, 1)
    files = [p for case in CASES for p in sorted(case.expected.rglob("*.yaml"))]
    assert files
    for path in files:
        text = path.read_text()
        assert list(yaml11.load_all(text)) == list(yaml12.load_all(text)), path
