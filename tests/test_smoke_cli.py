"""End to end through the CLI on the shipped example inventory."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

NETGEN = Path(sys.executable).parent / "netgen"  # the installed command


def test_example_renders_and_check_is_clean(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("render", ROOT / "inventories" / "example.yaml", "-o", out)
    assert first.exit_code == 0, first.stderr
    assert (out / "lab" / "talos" / "nodes" / "cp-1.yaml").is_file()
    check = run_cli("render", ROOT / "inventories" / "example.yaml", "-o", out, "--check")
    assert check.exit_code == 0, check.stdout
    assert check.stdout == ""


def test_version(run_cli) -> None:
    import netgen

    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"netgen {netgen.__version__}\n"


def test_installed_command_prints_the_package_version() -> None:
    import netgen

    result = subprocess.run([NETGEN, "--version"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"netgen {importlib.metadata.version('netgen')}\n"
    assert importlib.metadata.version("netgen") == netgen.__version__


def test_help_offers_shell_completion(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("netgen in", ["init"]),
        ("netgen init --f", ["--force"]),
        ("netgen render inventory.yaml --format ", ["text", "json", "github"]),
    ],
)
def test_bash_completion_protocol(words: str, expected: list[str]) -> None:
    """What the script of `netgen --show-completion` (bash) runs on Tab, without a shell."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "_NETGEN_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = subprocess.run([NETGEN], env=environment, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == expected


def test_bash_completion_offers_every_command() -> None:
    environment = {"_NETGEN_COMPLETE": "complete_bash", "COMP_WORDS": "netgen ", "COMP_CWORD": "1"}
    result = subprocess.run([NETGEN], env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert {"render", "validate", "init", "schema", "explain", "terraform"} <= set(result.stdout.splitlines())


def test_validate_takes_several_inventories(run_cli, tmp_path: Path) -> None:
    good = ROOT / "inventories" / "example.yaml"
    broken = tmp_path / "broken.yaml"
    broken.write_text(good.read_text().replace('"52:54:00:7a:66:a2"', '"52:54:00:7a:66:a0"'))
    assert run_cli("validate", good, ROOT / "inventories" / "f1-vip-on-second-nic.yaml").exit_code == 0
    result = run_cli("validate", good, broken)
    assert result.exit_code == 1
    assert f"{broken}:" in result.stderr and "NG104" in result.stderr
    with_facts = run_cli("validate", good, broken, "--facts", tmp_path)
    assert with_facts.exit_code == 2


@pytest.mark.parametrize("where", ["command", "global", "none"])
def test_debug_shows_the_traceback_of_an_internal_error(run_cli, monkeypatch, where: str) -> None:  # type: ignore[no-untyped-def]
    import netgen

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(netgen, "load", broken)
    inventory = str(ROOT / "inventories" / "example.yaml")
    args = {
        "command": ["validate", inventory, "--debug"],
        "global": ["--debug", "validate", inventory],
        "none": ["validate", inventory],
    }[where]
    result = run_cli(*args)
    assert result.exit_code == 70
    assert "internal error (RuntimeError: boom)" in result.stderr
    assert ("Traceback (most recent call last)" in result.stderr) is (where != "none")
