"""End to end through the CLI on the shipped example inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

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
