"""The examples in the integration docs run, and do what the docs say.

A fenced block in ``docs/make-and-ci.md``, ``docs/terraform.md``, ``docs/editors.md`` or the
README marked by an HTML comment on the line right
before its fence, ``<!-- tested: KIND -->``, is executed by the runner for KIND:

- ``console``: a shell transcript. ``$ command`` lines, each followed by its exact output
  (stdout and stderr together, as a terminal shows them); ``echo $?`` shows the exit code of
  the command before. Each block runs in a fresh folder holding ``inventories/example.yaml``
  as ``inventory.yaml``, with this environment's ``netgen`` first on the PATH.
- ``makefile``: the Makefile for infra repositories, run with GNU make.
- ``github-workflow``: a GitHub Actions workflow; its netgen steps run in a rendered folder.
- ``precommit-config``: a ``.pre-commit-config.yaml``; its netgen hooks run as pre-commit runs
  them (``entry`` + ``args`` + the matching files).
- ``modeline``: an inventory whose ``# yaml-language-server: $schema=`` line names the schema
  ``netgen schema`` writes.
- ``vscode-settings``: ``.vscode/settings.json`` mapping that schema.

The ``.pre-commit-hooks.yaml`` and shell completion are tested here too.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from ruamel.yaml import YAML

import netgen
from conftest import ROOT
from netgen.load.structure import inventory_schema

DOCS = ROOT / "docs"
EXAMPLE = ROOT / "inventories" / "example.yaml"
VMXNET3 = ROOT / "inventories" / "f3-metallb-vmxnet3.yaml"  # valid, with warnings
FACTS_CASE = ROOT / "tests" / "golden" / "f1-facts"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
# make's messages in English whatever the locale; this environment's netgen first on the PATH
# a user's shell: no make nesting inherited from `make test` (make[1] would change make's messages)
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")},
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}

MARKER = re.compile(r"<!--\s*tested:\s*([a-z0-9-]+)\s*-->")
# the pages whose markers this module runs (docs/ansible.md has its own, run by test_ansible.py)
PAGES = ("docs/make-and-ci.md", "docs/terraform.md", "docs/editors.md", "README.md")
# every page keeps its tested examples: dropping a marker fails here, not silently
EXPECTED = {
    ("docs/make-and-ci.md", "makefile"),
    ("docs/make-and-ci.md", "console"),
    ("docs/make-and-ci.md", "github-workflow"),
    ("docs/make-and-ci.md", "precommit-config"),
    ("docs/terraform.md", "console"),
    ("docs/editors.md", "console"),
    ("docs/editors.md", "modeline"),
    ("docs/editors.md", "vscode-settings"),
}


@dataclass(frozen=True)
class Block:
    kind: str
    page: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}:{self.kind}"


def find_blocks() -> tuple[list[Block], list[str]]:
    """Every marked block of these pages, and every marker not followed by a fenced block."""
    blocks, problems = [], []
    for page in PAGES:
        path = ROOT / page
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            match = MARKER.fullmatch(line.strip())
            if match is None:
                continue
            if number >= len(lines) or not lines[number].startswith("```"):
                problems.append(f"{page}:{number}: the marker is not followed by a fence")
                continue
            end = next((i for i in range(number + 1, len(lines)) if lines[i].strip() == "```"), None)
            if end is None:
                problems.append(f"{page}:{number}: the fenced block is not closed")
                continue
            text = "".join(line + "\n" for line in lines[number + 1 : end])
            blocks.append(Block(match.group(1), page, number + 2, text))
    return blocks, problems


BLOCKS, MARKER_PROBLEMS = find_blocks()


def blocks_of(kind: str) -> list[Any]:
    return [pytest.param(b, id=b.id) for b in BLOCKS if b.kind == kind]


def run(command: str | list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A command as a user types it: ``bash -c`` for a string, stdout and stderr kept apart.

    A second command after the user's keeps bash from exec'ing it, so netgen's parent is a
    shell, as in a terminal (Typer detects the shell for completion from it).
    """
    args = ["bash", "-c", f"{command}\nexit $?"] if isinstance(command, str) else command
    return subprocess.run(args, cwd=cwd, env={**ENV, **env}, capture_output=True, text=True, timeout=120, check=False)


def example_folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(EXAMPLE, work / "inventory.yaml")
    return work


def duplicate_mac(text: str) -> str:
    """The README's broken inventory: cp-2 gets cp-1's MAC by copy and paste."""
    assert "52:54:00:7a:66:a2" in text
    return text.replace("52:54:00:7a:66:a2", "52:54:00:7a:66:a0")


def mtimes(directory: Path) -> dict[str, int]:
    return {p.relative_to(directory).as_posix(): p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}


def age(directory: Path, seconds: int = 1000) -> None:
    """Move every file's mtime into the past, keeping their order: no sleeping for make."""
    for path in directory.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns - seconds * 10**9, stat.st_mtime_ns - seconds * 10**9))


@pytest.fixture(autouse=True, scope="module")
def _netgen_on_path() -> None:
    assert (BIN / "netgen").is_file(), f"the netgen command is not installed in {BIN}"


# --- the markers themselves ---------------------------------------------------------------------


def test_every_marker_marks_a_fenced_block() -> None:
    assert MARKER_PROBLEMS == []


def test_every_marked_block_has_a_runner_and_every_page_keeps_its_examples() -> None:
    kinds = {"console", "makefile", "github-workflow", "precommit-config", "modeline", "vscode-settings"}
    assert {b.kind for b in BLOCKS} <= kinds, [b.id for b in BLOCKS if b.kind not in kinds]
    assert {(b.page, b.kind) for b in BLOCKS} >= EXPECTED


# --- console transcripts -----------------------------------------------------------------------


def transcript(text: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first command: {line!r}"
            steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


@pytest.mark.parametrize("block", blocks_of("console"))
def test_console_transcript(block: Block, tmp_path: Path) -> None:
    if "jq " in block.text and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    work = example_folder(tmp_path)
    exit_code = None
    for command, expected in transcript(block.text):
        if command == "echo $?":
            actual = str(exit_code)
        else:
            process = run(command, work)
            actual, exit_code = process.stdout + process.stderr, process.returncode
        assert actual.rstrip("\n") == expected.rstrip("\n"), f"{block.id}: $ {command}"


# --- the Makefile ------------------------------------------------------------------------------

# what docs/make-and-ci.md shows with talosctl; cp stands in for it here
DOWNSTREAM = """
build/%.yaml: $(OUT)/lab/talos/nodes/%.yaml
\t@mkdir -p build
\tcp $< $@
"""


def make(repo: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return run(["make", "--no-print-directory", *targets], repo)


@pytest.fixture
def makefile_repo(tmp_path: Path) -> Callable[[Block], Path]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")

    def create(block: Block) -> Path:
        repo = tmp_path / "repo"
        repo.mkdir()
        (repo / "Makefile").write_text(block.text + DOWNSTREAM)
        return repo

    return create


@pytest.mark.parametrize("block", blocks_of("makefile"))
def test_makefile_renders_once_and_then_does_nothing(block: Block, makefile_repo: Callable[[Block], Path]) -> None:
    repo = makefile_repo(block)
    shutil.copyfile(EXAMPLE, repo / "inventory.yaml")

    first = make(repo, "render")
    assert first.returncode == 0, first.stderr
    assert "netgen render inventory.yaml --out out\n" in first.stdout
    assert (repo / "out" / "lab" / "talos" / "nodes" / "cp-1.yaml").is_file()
    rendered = mtimes(repo / "out")

    second = make(repo, "render")
    assert second.returncode == 0
    assert "Nothing to be done for 'render'" in second.stdout
    assert make(repo, "-q", "render").returncode == 0
    assert mtimes(repo / "out") == rendered

    # a newer inventory with the same bytes: netgen runs, and touches no rendered file
    age(repo)
    rendered = mtimes(repo / "out")
    os.utime(repo / "inventory.yaml")
    third = make(repo, "render")
    assert third.returncode == 0
    assert "netgen render" in third.stdout
    assert "0 created, 0 updated, 0 removed, 9 unchanged" in third.stderr
    stamp = ".netgen-stamp"
    assert {p: t for p, t in mtimes(repo / "out").items() if p != stamp} == {
        p: t for p, t in rendered.items() if p != stamp
    }


@pytest.mark.parametrize("block", blocks_of("makefile"))
def test_makefile_rebuilds_only_what_uses_a_changed_file(block: Block, makefile_repo: Callable[[Block], Path]) -> None:
    repo = makefile_repo(block)
    inventory = repo / "inventory.yaml"
    shutil.copyfile(EXAMPLE, inventory)
    built = make(repo, "build/cp-1.yaml", "build/cp-2.yaml")
    assert built.returncode == 0, built.stderr
    assert "cp out/lab/talos/nodes/cp-2.yaml build/cp-2.yaml" in built.stdout
    assert (repo / "out" / "lab" / "talos" / "nodes" / "cp-2.yaml").is_file()  # kept: .PRECIOUS

    age(repo)
    before = mtimes(repo)
    inventory.write_text(inventory.read_text().replace('"192.168.10.11/24"', '"192.168.10.21/24"'))
    rebuilt = make(repo, "build/cp-1.yaml", "build/cp-2.yaml")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "netgen render inventory.yaml --out out" in rebuilt.stdout
    assert "cp out/lab/talos/nodes/cp-1.yaml build/cp-1.yaml" in rebuilt.stdout
    assert "build/cp-2.yaml" not in rebuilt.stdout.replace("'build/cp-2.yaml' is up to date", "")
    after = mtimes(repo)
    for unchanged in ("out/lab/talos/nodes/cp-2.yaml", "build/cp-2.yaml"):
        assert after[unchanged] == before[unchanged], unchanged
    assert after["build/cp-1.yaml"] > before["build/cp-1.yaml"]
    assert '"192.168.10.21/24"' in (repo / "build" / "cp-1.yaml").read_text()


@pytest.mark.parametrize("block", blocks_of("makefile"))
def test_makefile_check_fails_with_netgen_exit_3_on_drift(block: Block, makefile_repo: Callable[[Block], Path]) -> None:
    repo = makefile_repo(block)
    inventory = repo / "inventory.yaml"
    shutil.copyfile(EXAMPLE, inventory)
    assert make(repo, "render").returncode == 0
    assert make(repo, "check").returncode == 0

    inventory.write_text(inventory.read_text().replace('"192.168.10.11/24"', '"192.168.10.21/24"'))
    rendered = mtimes(repo / "out")
    check = make(repo, "check")

    recipe_line = block.text.splitlines().index("\t$(NETGEN) render $(NETGEN_ARGS) --check") + 1
    failure = f"make: *** [Makefile:{recipe_line}: check] Error 3"
    assert check.returncode == 2  # make's own code when a recipe fails
    assert failure in check.stderr
    assert "--- a/lab/talos/nodes/cp-1.yaml" in check.stdout
    assert mtimes(repo / "out") == rendered  # check writes nothing
    assert failure in (ROOT / block.page).read_text()  # the message the page quotes


@pytest.mark.parametrize("block", blocks_of("makefile"))
def test_makefile_render_with_errors_fails_and_retries(block: Block, makefile_repo: Callable[[Block], Path]) -> None:
    repo = makefile_repo(block)
    (repo / "inventory.yaml").write_text(duplicate_mac(EXAMPLE.read_text()))
    failed = make(repo, "render")
    assert failed.returncode == 2
    assert "error[NG104]" in failed.stderr
    assert "Error 1" in failed.stderr
    assert make(repo, "-q", "render").returncode == 1  # no stamp: the next make renders again
    assert not (repo / "out" / "lab").exists()


@pytest.mark.parametrize("block", blocks_of("makefile"))
def test_makefile_passes_the_facts_and_depends_on_them(block: Block, makefile_repo: Callable[[Block], Path]) -> None:
    repo = makefile_repo(block)
    shutil.copyfile(FACTS_CASE / "inventory.yaml", repo / "inventory.yaml")
    shutil.copytree(FACTS_CASE / "facts", repo / "facts")

    rendered = make(repo, "render")

    assert rendered.returncode == 0, rendered.stderr
    assert "netgen render inventory.yaml --out out --facts facts\n" in rendered.stdout
    expected = netgen.render(netgen.load(repo / "inventory.yaml", facts=[repo / "facts"]))
    assert {path: (repo / "out" / path).read_text() for path in expected} == dict(expected)
    age(repo)
    os.utime(next((repo / "facts").iterdir()))
    assert make(repo, "-q", "render").returncode == 1


# --- GitHub Actions ----------------------------------------------------------------------------


def yaml_load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


@pytest.mark.parametrize("block", blocks_of("github-workflow"))
def test_github_workflow_steps(block: Block, tmp_path: Path) -> None:
    workflow = yaml_load(block.text)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = [step["run"] for step in steps if str(step.get("run", "")).startswith("netgen ")]
    assert commands, "the workflow runs no netgen command"
    work = example_folder(tmp_path)
    assert run("netgen render inventory.yaml -o out", work).returncode == 0  # the committed output

    for command in commands:
        assert run(command, work).returncode == 0, command

        inventory = work / "inventory.yaml"
        good = inventory.read_text()
        inventory.write_text(duplicate_mac(good))
        broken = run(command, work)
        assert broken.returncode == 1
        assert broken.stderr.startswith("::error file=inventory.yaml,line=44,col=18,title=NG104 error::")

        inventory.write_text(good.replace('"192.168.10.11/24"', '"192.168.10.21/24"'))
        drift = run(command, work)
        assert drift.returncode == 3
        assert "--- a/lab/talos/nodes/cp-1.yaml" in drift.stdout
        inventory.write_text(good)


# --- pre-commit --------------------------------------------------------------------------------


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml_load(HOOKS.read_text())}


def hook_command(hook: dict[str, Any], repo: Path) -> list[str]:
    """What pre-commit runs: entry, then args, then the matching files (unless told not to)."""
    command = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        pattern = re.compile(hook.get("files", ""))
        files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
        command += [f for f in files if pattern.search(f)]
    return command


def test_the_hooks_file_offers_the_documented_hooks() -> None:
    declared = hooks()
    assert set(declared) == {"netgen-check", "netgen-render-check"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in declared.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit pip-installs this repository
        assert shlex.split(hook["entry"])[0] in scripts
        re.compile(hook["files"])
    assert declared["netgen-check"]["entry"] == "netgen validate"
    assert declared["netgen-render-check"]["pass_filenames"] is False
    assert "`netgen-check`" in (DOCS / "make-and-ci.md").read_text()


@pytest.mark.parametrize(
    ("hook", "path", "matches"),
    [
        ("netgen-check", "inventory.yaml", True),
        ("netgen-check", "inventory.yml", True),
        ("netgen-check", "clusters/lab/inventory.yaml", True),
        ("netgen-check", "netgen.yaml", True),
        ("netgen-check", "lab.netgen.yaml", True),
        ("netgen-check", "clusters/prod.netgen.yml", True),
        ("netgen-check", "values.yaml", False),
        ("netgen-check", "my-inventory.yaml", False),
        ("netgen-check", "inventory.yaml.orig", False),
        ("netgen-check", "facts/cp-1.yaml", False),
        ("netgen-check", "out/lab/talos/cluster.yaml", False),
        ("netgen-check", "netgen.schema.json", False),
        ("netgen-render-check", "inventory.yaml", True),
        ("netgen-render-check", "facts/cp-1.json", True),
        ("netgen-render-check", "out/lab/talos/nodes/cp-1.yaml", True),
        ("netgen-render-check", "templates/talos/cluster.yaml.j2", True),
        ("netgen-render-check", "README.md", False),
    ],
)
def test_hook_file_patterns(hook: str, path: str, matches: bool) -> None:
    # pre-commit matches `files` with re.search against the path relative to the repository
    assert bool(re.search(hooks()[hook]["files"], path)) is matches


def test_the_hooks_run_as_pre_commit_runs_them(tmp_path: Path) -> None:
    work = example_folder(tmp_path)
    check, render_check = hooks()["netgen-check"], hooks()["netgen-render-check"]
    assert hook_command(check, work) == ["netgen", "validate", "inventory.yaml"]
    assert hook_command(render_check, work) == ["netgen", "render", "--check", "inventory.yaml", "--out", "out"]
    inventory = work / "inventory.yaml"
    good = inventory.read_text()

    assert run(hook_command(check, work), work).returncode == 0
    assert run("netgen render inventory.yaml --out out", work).returncode == 0
    assert run(hook_command(render_check, work), work).returncode == 0

    inventory.write_text(duplicate_mac(good))
    broken = run(hook_command(check, work), work)
    assert broken.returncode == 1
    assert "inventory.yaml:44:18: error[NG104]" in broken.stderr
    assert run(hook_command(render_check, work), work).returncode == 1

    shutil.copyfile(VMXNET3, inventory)  # warnings only
    assert run(hook_command(check, work), work).returncode == 0
    assert run([*hook_command(check, work)[:2], "--strict", "inventory.yaml"], work).returncode == 1

    inventory.write_text(good.replace('"192.168.10.11/24"', '"192.168.10.21/24"'))
    drift = run(hook_command(render_check, work), work)
    assert drift.returncode == 3
    assert "--- a/lab/talos/nodes/cp-1.yaml" in drift.stdout


@pytest.mark.parametrize("block", blocks_of("precommit-config"))
def test_precommit_config(block: Block, tmp_path: Path) -> None:
    config = yaml_load(block.text)
    declared = hooks()
    work = tmp_path / "work"
    shutil.copytree(FACTS_CASE, work, ignore=shutil.ignore_patterns("expected"))
    configured = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in configured} <= set(declared)
    assert run("netgen render inventory.yaml --out out --facts facts", work).returncode == 0

    for hook in configured:
        # "All optional keys will receive their default from the repository's configuration"
        merged = {**declared[hook["id"]], **hook}
        process = run(hook_command(merged, work), work)
        assert process.returncode == 0, (hook["id"], process.stdout, process.stderr)


# --- editors -----------------------------------------------------------------------------------

MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


@pytest.mark.parametrize("block", blocks_of("modeline"))
def test_modeline_names_the_schema_netgen_schema_writes(block: Block, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    inventory = work / "inventory.yaml"
    inventory.write_text(block.text)
    assert run("netgen schema > netgen.schema.json", work).returncode == 0

    modeline = MODELINE.fullmatch(block.text.splitlines()[0])
    assert modeline is not None, "the modeline must be the first line"
    schema = json.loads((inventory.parent / modeline.group(1)).read_text())  # relative to the YAML file
    assert schema == inventory_schema()  # the repository's file with the Talos targets filled in
    validator = validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(yaml_load(block.text))] == []
    validated = run("netgen validate inventory.yaml", work)
    assert (validated.returncode, validated.stdout, validated.stderr) == (0, "", "")


@pytest.mark.parametrize("block", blocks_of("vscode-settings"))
def test_vscode_settings_map_the_schema(block: Block, tmp_path: Path) -> None:
    settings = json.loads(block.text)
    work = tmp_path / "work"
    work.mkdir()
    assert run("netgen schema > netgen.schema.json", work).returncode == 0
    schemas = settings["yaml.schemas"]
    assert schemas
    for schema, globs in schemas.items():
        assert (work / schema).is_file(), schema  # relative to the workspace root
        assert any(fnmatch.fnmatch("inventory.yaml", g) for g in globs)
        assert any(fnmatch.fnmatch("lab.netgen.yaml", g) for g in globs)


# --- shell completion --------------------------------------------------------------------------


def test_bash_completion_completes_commands_and_values(tmp_path: Path) -> None:
    script = """
source <(netgen --show-completion)
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _netgen_completion netgen; echo "${COMPREPLY[*]}"; }
complete_words netgen va
complete_words netgen te
complete_words netgen render inventory.yaml --format ""
"""
    process = run(script, tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines() == ["validate", "terraform", "text json github"]


def test_install_completion_writes_what_the_docs_say(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = run("netgen --install-completion", tmp_path, HOME=str(home), SHELL="/bin/bash")
    assert process.returncode == 0, process.stderr
    script = home / ".bash_completions" / "netgen.sh"
    assert process.stdout.splitlines() == [
        f"bash completion installed in {script}",
        "Completion will take effect once you restart the terminal",
    ]
    assert "complete -o default -F _netgen_completion netgen" in script.read_text()
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    page = (DOCS / "editors.md").read_text()
    for line in process.stdout.splitlines():
        assert line.replace(str(home), "/home/you") in page
