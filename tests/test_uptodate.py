"""A render that would change nothing is skipped (netgen.fingerprint, netgen.write.up_to_date).

Each test changes one thing a render depends on and sees the render run again; the skipped
render prints, writes and exits exactly as the render it stands for.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import netgen
import netgen.fingerprint as fingerprint_module
from conftest import ROOT, CliResult
from netgen import cli
from netgen.cli.uptodate import RenderRequest, parse_render
from netgen.fingerprint import fingerprint
from netgen.write import MANIFEST, RECORD

EXAMPLE = ROOT / "inventories" / "example.yaml"
FACTS_CASE = ROOT / "tests" / "golden" / "f1-facts"
WARNINGS = ROOT / "inventories" / "f3-metallb-vmxnet3.yaml"

Run = Callable[..., CliResult]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The inventories of the renders that really ran (netgen.render called)."""
    ran: list[str] = []
    real = netgen.render

    def counting(inventory: netgen.Inventory, **options: object) -> netgen.Rendering:
        ran.append(inventory.name)
        return real(inventory, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(netgen, "render", counting)
    return ran


def _copy(source: Path, tmp_path: Path) -> Path:
    inventory = tmp_path / source.name
    inventory.write_bytes(source.read_bytes())
    return inventory


def _mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_render_that_changes_nothing_is_skipped(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out = _copy(EXAMPLE, tmp_path), tmp_path / "out"
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    assert os.getxattr(out / MANIFEST, RECORD)
    full = run_cli("render", inventory, "-o", out)  # the record is there now: this one is skipped
    assert len(renders) == 1
    before = _mtimes(out)
    os.removexattr(out / MANIFEST, RECORD)
    in_full = run_cli("render", inventory, "-o", out)  # no record: the render runs, and finds nothing to do
    assert len(renders) == 2
    assert (full.exit_code, full.stdout, full.stderr) == (in_full.exit_code, in_full.stdout, in_full.stderr)
    assert full.stderr == f"netgen: {out}: 0 created, 0 updated, 0 removed, 9 unchanged\n"
    assert _mtimes(out) == before
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    assert len(renders) == 2


@pytest.mark.parametrize("options", [["--check"], ["--format", "json"], ["--format", "github"], ["--strict"]])
def test_a_skipped_render_prints_what_the_render_prints(
    run_cli: Run, renders: list[str], tmp_path: Path, options: list[str]
) -> None:
    inventory, out = _copy(EXAMPLE, tmp_path), tmp_path / "out"
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    skipped = run_cli("render", inventory, "-o", out, *options)
    assert len(renders) == 1
    os.removexattr(out / MANIFEST, RECORD)
    in_full = run_cli("render", inventory, "-o", out, *options)
    assert len(renders) == 2
    assert (skipped.exit_code, skipped.stdout, skipped.stderr) == (in_full.exit_code, in_full.stdout, in_full.stderr)


def _edit_inventory(case: dict[str, Path]) -> None:
    with case["inventory"].open("a") as handle:
        handle.write("# a comment changes no output file, but the manifest's inputs\n")


def _edit_output(case: dict[str, Path]) -> None:
    path = case["out"] / "lab" / "talos" / "cluster.yaml"
    path.write_text(path.read_text() + "# edited by hand\n")


def _remove_output(case: dict[str, Path]) -> None:
    (case["out"] / "lab" / "talos" / "nodes" / "cp-1.yaml").unlink()


def _link_output(case: dict[str, Path]) -> None:
    # the same bytes, but not a file netgen wrote: a render puts its own file there
    path = case["out"] / "lab" / "talos" / "cluster.yaml"
    copy = case["inventory"].parent / "cluster.yaml"
    shutil.copyfile(path, copy)
    path.unlink()
    path.symlink_to(copy)


def _edit_manifest(case: dict[str, Path]) -> None:
    manifest = case["out"] / MANIFEST
    manifest.write_text(manifest.read_text().replace('"generator": "netgen ', '"generator": "netgen 0'))


def _new_version(case: dict[str, Path]) -> None:
    # another installed netgen (or jinja2, ruamel.yaml, …): a metadata folder of another version
    (case["site"] / "netgen-99.0.dist-info").mkdir()


EDITS = {
    "inventory": _edit_inventory,
    "output file": _edit_output,
    "output file removed": _remove_output,
    "output file a symlink": _link_output,
    "manifest": _edit_manifest,
    "installed version": _new_version,
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_a_change_renders_again(
    run_cli: Run, renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    case = {"inventory": _copy(EXAMPLE, tmp_path), "out": tmp_path / "out", "site": site}
    assert run_cli("render", case["inventory"], "-o", case["out"]).exit_code == 0
    EDITS[edit](case)
    result = run_cli("render", case["inventory"], "-o", case["out"])
    assert result.exit_code == 0, result.stderr
    assert len(renders) == 2
    assert run_cli("render", case["inventory"], "-o", case["out"], "--check").exit_code == 0
    assert run_cli("render", case["inventory"], "-o", case["out"]).exit_code == 0
    assert len(renders) == 2, "the render after it is skipped again"


def test_a_changed_output_file_is_found_by_check(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    case = {"inventory": _copy(EXAMPLE, tmp_path), "out": tmp_path / "out"}
    assert run_cli("render", case["inventory"], "-o", case["out"]).exit_code == 0
    _edit_output(case)
    result = run_cli("render", case["inventory"], "-o", case["out"], "--check")
    assert result.exit_code == 3
    assert "-# edited by hand" in result.stdout


def test_facts_files_are_inputs(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out, facts = _copy(FACTS_CASE / "inventory.yaml", tmp_path), tmp_path / "out", tmp_path / "facts"
    shutil.copytree(FACTS_CASE / "facts", facts)
    assert run_cli("render", inventory, "--facts", facts, "-o", out).exit_code == 0
    assert run_cli("render", inventory, "--facts", facts, "-o", out).exit_code == 0
    assert len(renders) == 1
    (facts / ".notes").write_text("hidden files are not facts\n")
    assert run_cli("render", inventory, "--facts", facts, "-o", out).exit_code == 0
    assert len(renders) == 1
    cp2 = facts / "cp-2.json"
    cp2.write_text(cp2.read_text() + "\n")
    assert run_cli("render", inventory, "--facts", facts, "-o", out).exit_code == 0
    assert len(renders) == 2
    (facts / "cp-9.json").write_text("[]\n")  # a new facts file (for no host): an error now
    result = run_cli("render", inventory, "--facts", facts, "-o", out)
    assert result.exit_code == 1 and "cp-9" in result.stderr
    assert len(renders) == 3


def test_template_overrides_are_inputs(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out, templates = _copy(EXAMPLE, tmp_path), tmp_path / "out", tmp_path / "templates"
    (templates / "talos").mkdir(parents=True)
    override = templates / "talos" / "cluster.yaml.j2"
    built_in = (ROOT / "templates" / "talos" / "cluster.yaml.j2").read_text()
    override.write_text(built_in)
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert len(renders) == 1
    override.write_text("# site override\n" + built_in)
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert len(renders) == 2
    assert "# site override" in (out / "lab" / "talos" / "cluster.yaml").read_text()
    assert run_cli("render", inventory, "-o", out).exit_code == 0  # without the overrides
    assert len(renders) == 3
    assert "# site override" not in (out / "lab" / "talos" / "cluster.yaml").read_text()
    (templates / "kubernetes").mkdir()
    (templates / "kubernetes" / "unused.j2").write_text("")
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert len(renders) == 4
    (templates / "kubernetes" / "more.j2").write_text("")  # any file there can be included
    assert run_cli("render", inventory, "-o", out, "--templates", templates).exit_code == 0
    assert len(renders) == 5


def test_a_cluster_selection_is_an_input(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out = _copy(EXAMPLE, tmp_path), tmp_path / "out"
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    assert run_cli("render", inventory, "-o", out, "--cluster", "lab").exit_code == 0
    assert len(renders) == 2
    result = run_cli("render", inventory, "-o", out, "--cluster", "lab")
    assert result.stderr == f"netgen: {out}: 0 created, 0 updated, 0 removed, 9 unchanged\n"
    assert len(renders) == 2
    assert run_cli("render", inventory, "-o", out, "--cluster", "nope").exit_code == 2


def test_warnings_are_reported_every_time(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out = _copy(WARNINGS, tmp_path), tmp_path / "out"
    first = run_cli("render", inventory, "-o", out)
    assert first.exit_code == 0 and "warning[NG505]" in first.stderr
    with pytest.raises(OSError):
        os.getxattr(out / MANIFEST, RECORD)
    again = run_cli("render", inventory, "-o", out)
    assert len(renders) == 2
    assert "warning[NG505]" in again.stderr
    assert run_cli("render", inventory, "-o", out, "--strict").exit_code == 1


def test_netgen_code_templates_schemas_and_python_are_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = _copy(EXAMPLE, tmp_path)
    package = tmp_path / "netgen"
    shutil.copytree(Path(fingerprint_module.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", package / "templates")
    shutil.copytree(ROOT / "schemas", package / "schemas")
    monkeypatch.setattr(fingerprint_module, "_PACKAGE", package)
    seen = []

    def current() -> str:
        found = fingerprint(inventory, [], None, None)
        assert found is not None
        seen.append(found.digest)
        return found.digest

    current()
    assert current() == seen[0]
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"compiled")
    assert current() == seen[0], "compiled files follow the code"
    for path in ("plan/talos.py", "templates/talos/cluster.yaml.j2", "schemas/talos.schema.json"):
        with (package / path).open("a") as handle:
            handle.write("\n")
        assert current() not in seen[:-1], path
    monkeypatch.setattr(sys, "version", sys.version + " (patched)")
    assert current() not in seen[:-1]


def test_no_fingerprint_for_what_cannot_be_vouched_for(tmp_path: Path) -> None:
    inventory = _copy(EXAMPLE, tmp_path)
    assert fingerprint(tmp_path / "missing.yaml", [], None, None) is None
    assert fingerprint(inventory, [tmp_path / "missing"], None, None) is None
    assert fingerprint(inventory, [], tmp_path / "missing", None) is None
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "cluster.yaml.j2").symlink_to(ROOT / "templates" / "talos" / "cluster.yaml.j2")
    assert fingerprint(inventory, [], templates, None) is None
    fifo = tmp_path / "inventory.fifo"
    os.mkfifo(fifo)
    assert fingerprint(fifo, [], None, None) is None  # never read: reading would take what a writer sends
    same_name = tmp_path / "other"
    same_name.mkdir()
    (tmp_path / "cp-1.json").write_text("[]")
    (same_name / "cp-1.json").write_text("[]")
    assert fingerprint(inventory, [tmp_path / "cp-1.json", same_name], None, None) is None


def test_without_extended_attributes_every_render_runs(
    run_cli: Run, renders: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    inventory, out = _copy(EXAMPLE, tmp_path), tmp_path / "out"
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    result = run_cli("render", inventory, "-o", out)
    assert result.exit_code == 0
    assert result.stderr == f"netgen: {out}: 0 created, 0 updated, 0 removed, 9 unchanged\n"
    assert len(renders) == 2


def test_a_render_writing_out_is_not_raced(run_cli: Run, renders: list[str], tmp_path: Path) -> None:
    inventory, out = _copy(EXAMPLE, tmp_path), tmp_path / "out"
    assert run_cli("render", inventory, "-o", out).exit_code == 0
    descriptor = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        result = run_cli("render", inventory, "-o", out)
        assert result.exit_code == 1 and "another netgen render is writing" in result.stderr
        assert run_cli("render", inventory, "-o", out, "--check").exit_code == 0  # --check takes no lock
    finally:
        os.close(descriptor)
    # the first render ran (no record can be trusted while OUT is being written) and found
    # the lock; the --check, which writes nothing, trusted the record
    assert len(renders) == 2


# argument lists as a user writes them, and whether parse_render reads them (it must read
# each as the parser does, or leave it to the parser)
COMMAND_LINES = [
    (["render", "inv.yaml", "-o", "out"], True),
    (["render", "-o", "out", "inv.yaml"], True),
    (["render", "inv.yaml", "--out", "out", "--check"], True),
    (["render", "inv.yaml", "--out=out", "--strict", "--format", "json"], True),
    (["render", "inv.yaml", "-o", "out", "--format=github", "--debug"], True),
    (["--debug", "render", "inv.yaml", "-o", "out"], True),
    (["render", "inv.yaml", "-o", "out", "--facts", "a", "--facts=b", "--cluster", "x", "--cluster", "y"], True),
    (["render", "inv.yaml", "-o", "out", "--templates", "t"], True),
    (["render", "inv.yaml", "-o", "out", "--templates=t", "--check", "--check"], True),
    (["render", "render", "-o", "out"], True),
    (["render", "", "-o", "out"], True),
    (["render", "inv.yaml", "-o", "out", "--format", "yaml"], False),
    (["render", "inv.yaml", "-o", "out", "-o", "other"], False),
    (["render", "inv.yaml", "-oout"], False),
    (["render", "inv.yaml", "-o", "--check"], False),
    (["render", "inv.yaml", "-o"], False),
    (["render", "inv.yaml", "-o", "out", "--"], False),
    (["render", "inv.yaml", "-o", "out", "--help"], False),
    (["render", "inv.yaml", "-o", "out", "--chec"], False),
    (["render", "inv.yaml", "-o", "out", "--check=yes"], False),
    (["render", "inv.yaml", "-o", "out", "-"], False),
    (["render", "inv.yaml", "other.yaml", "-o", "out"], False),
    (["render", "inv.yaml"], False),
    (["validate", "inv.yaml"], False),
    (["--version", "render", "inv.yaml", "-o", "out"], False),
    ([], False),
]


@pytest.mark.parametrize(("argv", "plain"), COMMAND_LINES, ids=[" ".join(a) or "(none)" for a, _ in COMMAND_LINES])
def test_the_plain_command_lines_are_read_as_the_parser_reads_them(
    argv: list[str], plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[RenderRequest] = []

    def capture(request: RenderRequest, record: object) -> bool:
        parsed.append(request)
        return True

    monkeypatch.setattr(cli, "finish_if_up_to_date", capture)
    CliRunner().invoke(cli.app, argv)
    early = parse_render(argv)
    assert (early is not None) is plain
    if early is not None:
        assert parsed == [early]
