"""End to end through the CLI on the shipped example inventory."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT


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
