"""The bad-input corpus in tests/bad/: bad input always gets a located diagnostic with a hint.

A case is ``tests/bad/<case>.yaml``, or a directory ``tests/bad/<case>/`` holding
``inventory.yaml`` and a ``facts/`` directory (passed with ``--facts``). The inventory's
leading comment lines state what netgen must report, one line per diagnostic:

    # expect: NG104 23:9                     (in the inventory, at line 23, column 9)
    # expect: NG401 facts/cp-1.json:1:1      (in a facts file of the case)

Every case is run through ``render`` (into an OUT directory that holds a previous render and a
hand-made file), ``validate``, and both again with ``--format json``. The diagnostics reported
must be exactly the expected ones, the exit code 1, and OUT untouched. Cases whose expected
diagnostics are all warnings run with ``--strict``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, CliResult
from netgen.codes import CODES
from netgen.diagnostics import Severity

BAD = ROOT / "tests" / "bad"
EXAMPLE = ROOT / "inventories" / "example.yaml"

#: codes about the input (inventory and facts); NG9xx are about netgen's own output and cannot
#: be produced by bad input alone
INPUT_CODE_PREFIXES = ("NG0", "NG1", "NG2", "NG3", "NG4", "NG5", "NG6", "NG7")

_EXPECT = re.compile(r"^# expect: (?P<code>NG\d{3}) (?:(?P<file>\S+):)?(?P<line>\d+):(?P<column>\d+)\s*$")
_DIAGNOSTIC = re.compile(r"^(?P<where>.+?): (?P<severity>error|warning)\[(?P<code>NG\d{3})\]: (?P<message>.+)$")
_LOCATION = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+)$")

#: (file as displayed, code, line, column); line and column are None for an unlocated diagnostic
Reported = tuple[str, str, int | None, int | None]


@dataclass(frozen=True)
class Expected:
    code: str
    #: None for the inventory, else a path relative to the case directory (``facts/cp-1.json``)
    file: str | None
    line: int
    column: int


@dataclass(frozen=True)
class Case:
    name: str
    inventory: Path
    facts: Path | None
    expected: tuple[Expected, ...]

    @property
    def warnings_only(self) -> bool:
        return all(CODES[e.code].severity is Severity.WARNING for e in self.expected)

    def display(self, expected: Expected) -> str:
        """The file name netgen shows: each file as it was passed on the command line."""
        if expected.file is None:
            return str(self.inventory)
        return str(self.inventory.parent / expected.file)

    def wanted(self) -> Counter[Reported]:
        return Counter((self.display(e), e.code, e.line, e.column) for e in self.expected)

    def options(self) -> list[str]:
        """Options shared by render and validate: the facts, and --strict for warning-only cases."""
        options = ["--facts", str(self.facts)] if self.facts is not None else []
        return [*options, "--strict"] if self.warnings_only else options


def _header(inventory: Path) -> list[str]:
    """The leading comment lines (the file may not be UTF-8: that can be the very problem)."""
    lines = []
    for line in inventory.read_bytes().decode("utf-8", errors="replace").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def load_case(path: Path) -> Case:
    inventory = path / "inventory.yaml" if path.is_dir() else path
    expected = []
    for line in _header(inventory):
        if match := _EXPECT.match(line):
            expected.append(Expected(match["code"], match["file"], int(match["line"]), int(match["column"])))
    return Case(
        name=path.stem if path.is_file() else path.name,
        inventory=inventory,
        facts=path / "facts" if path.is_dir() else None,
        expected=tuple(expected),
    )


CASES = [load_case(path) for path in sorted(BAD.iterdir()) if path.is_dir() or path.suffix == ".yaml"]


def _params(cases: list[Case]) -> list[object]:
    return [pytest.param(case, id=case.name) for case in cases]


# --- helpers -------------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, object]:
    """Every file (bytes and mtime) and directory under ``root``, by relative path."""
    entries: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_dir():
            entries[relative] = "<dir>"
        else:
            entries[relative] = (path.read_bytes(), path.stat().st_mtime_ns)
    return entries


@pytest.fixture
def out(run_cli, tmp_path: Path) -> Path:
    """An output directory holding a previous good render plus a file netgen did not write."""
    directory = tmp_path / "out"
    previous = run_cli("render", EXAMPLE, "-o", directory)
    assert previous.exit_code == 0, previous.stderr
    assert (directory / "netgen-manifest.json").is_file()
    (directory / "NOTES.md").write_text("hand-written notes netgen must never touch\n")
    return directory


def reported_text(stderr: str) -> tuple[Counter[Reported], list[str]]:
    """The diagnostics in text output, and every problem with the output's form."""
    lines = stderr.splitlines()
    found: Counter[Reported] = Counter()
    problems = []
    for index, line in enumerate(lines):
        match = _DIAGNOSTIC.match(line)
        if match is None:
            continue
        code = match["code"]
        if code in CODES and match["severity"] != CODES[code].severity:
            problems.append(f"{code} is reported as {match['severity']}, registered as {CODES[code].severity}: {line}")
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not following.startswith("  hint: ") or not following[len("  hint: ") :].strip():
            problems.append(f"no hint line after: {line}")
        location = _LOCATION.match(match["where"])
        if location is None:
            problems.append(f"no file:line:column: {line}")
            found[(match["where"], code, None, None)] += 1
        else:
            found[(location["file"], code, int(location["line"]), int(location["column"]))] += 1
    return found, problems


def reported_json(stdout: str) -> tuple[Counter[Reported], list[str]]:
    """The diagnostics in JSON output, and every problem with the output's form."""
    diagnostics = json.loads(stdout)
    assert isinstance(diagnostics, list), stdout
    found: Counter[Reported] = Counter()
    problems = []
    keys = {"code", "severity", "message", "hint", "file", "line", "column", "path"}
    for item in diagnostics:
        assert isinstance(item, dict), item
        if set(item) != keys:
            problems.append(f"keys {sorted(item)} instead of {sorted(keys)}: {item}")
        code = item.get("code")
        if code in CODES and item.get("severity") != CODES[code].severity:
            problems.append(f"{code} has severity {item.get('severity')}: {item}")
        if not isinstance(item.get("hint"), str) or not item["hint"].strip():
            problems.append(f"no hint: {item}")
        if not isinstance(item.get("message"), str) or not item["message"].strip():
            problems.append(f"no message: {item}")
        if not isinstance(item.get("line"), int) or not isinstance(item.get("column"), int):
            problems.append(f"no line and column: {item}")
        found[(item.get("file"), code, item.get("line"), item.get("column"))] += 1
    return found, problems


def assert_no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        assert case.expected, f"{case.name}: no `# expect:` line"
        assert case.inventory.is_file(), f"{case.name}: {case.inventory} is missing"
        if case.facts is not None:
            assert case.facts.is_dir(), f"{case.name}: a directory case needs a facts/ directory"
        for expected in case.expected:
            assert expected.code in CODES, f"{case.name}: {expected.code} is not a diagnostic code"
            if expected.file is not None:
                assert (case.inventory.parent / expected.file).is_file(), f"{case.name}: {expected.file} is missing"


def test_corpus_covers_every_input_code() -> None:
    """A new inventory or facts check without a bad-input case fails here.

    Every registered code NG0xx-NG7xx (inventory, facts, MetalLB, attachments, vclusters) needs
    a passing case; NG9xx (output verification) is left out.
    """
    input_codes = {code for code in CODES if code.startswith(INPUT_CODE_PREFIXES)}
    assert {code[:3] for code in input_codes} == set(INPUT_CODE_PREFIXES), "a code family has no registered code"
    covered = {e.code for case in CASES for e in case.expected}
    assert sorted(input_codes - covered) == [], "diagnostic codes without a case in tests/bad/"


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize("command", ["render", "validate"])
@pytest.mark.parametrize("case", _params(CASES))
def test_reports_exactly_the_expected_diagnostics(
    case: Case, command: str, output_format: str, run_cli, request: pytest.FixtureRequest
) -> None:
    """Exit 1, the expected diagnostics and nothing else, no traceback; text on stderr, JSON
    on stdout; a render leaves OUT (holding an earlier render) untouched."""
    if command == "render":
        out: Path = request.getfixturevalue("out")
        before = snapshot(out)
        arguments = ["render", case.inventory, "-o", out]
    else:
        arguments = ["validate", case.inventory]
    result = run_cli(*arguments, "--format", output_format, *case.options())
    assert_no_traceback(result)
    assert result.exit_code == 1, result.stdout + result.stderr
    if output_format == "json":
        found, problems = reported_json(result.stdout)
    else:
        found, problems = reported_text(result.stderr)
        assert result.stdout == ""
    assert problems == []
    assert found == case.wanted(), result.stdout + result.stderr
    if command == "render":
        assert snapshot(out) == before


@pytest.mark.parametrize("case", _params([case for case in CASES if case.warnings_only]))
def test_warnings_alone_do_not_fail_without_strict(case: Case, run_cli, tmp_path: Path) -> None:
    facts = ["--facts", str(case.facts)] if case.facts is not None else []
    validated = run_cli("validate", case.inventory, *facts)
    assert validated.exit_code == 0, validated.stderr
    found, problems = reported_text(validated.stderr)
    assert problems == []
    assert found == case.wanted(), validated.stderr
    rendered = run_cli("render", case.inventory, "-o", tmp_path / "out", *facts)
    assert_no_traceback(rendered)
    assert rendered.exit_code == 0, rendered.stderr
    assert reported_text(rendered.stderr)[0] == case.wanted(), rendered.stderr
    assert (tmp_path / "out" / "netgen-manifest.json").is_file()


def test_a_vip_no_control_plane_reaches_is_reported_at_the_vip(run_cli) -> None:
    # the VIP and its network are named where the VIP is written, and the hint offers the
    # network the control planes share; an unset nodeNetwork is never called "another"
    result = run_cli("validate", BAD / "vip-network-without-controlplanes.yaml")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    at_vip = [line for line in lines if "[NG303]" in line]
    assert at_vip == [
        f"{BAD / 'vip-network-without-controlplanes.yaml'}:21:14: error[NG303]: "
        "VIP 192.168.10.100 is on network mgmt, where no control plane has a NIC"
    ]
    hint = lines[lines.index(at_vip[0]) + 1]
    assert "use a free address of network lan, where the control planes are" in hint
    assert "`network: mgmt` to every control plane" in hint
    assert all("another `kubernetes.nodeNetwork`" not in line for line in lines)
    assert "set `kubernetes.nodeNetwork` (mgmt is the node network as the VIPs' network)" in result.stderr
