"""Template overrides (`--templates DIR`): sandboxed, and verified like the built-in ones."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT

EXAMPLE = ROOT / "tests" / "data" / "talos-only.yaml"


def _override(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "templates"
    (directory / Path(name).parent).mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


def test_an_override_replaces_the_built_in_template(run_cli, tmp_path: Path) -> None:
    built_in = (ROOT / "templates" / "talos" / "cluster.yaml.j2").read_text()
    templates = _override(tmp_path, "talos/cluster.yaml.j2", "# site override\n" + built_in)
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 0, result.stderr
    assert "# site override\n" in (tmp_path / "out" / "lab" / "talos" / "cluster.yaml").read_text()


def test_an_override_with_invalid_output_writes_nothing(run_cli, tmp_path: Path) -> None:
    templates = _override(tmp_path, "talos/cluster.yaml.j2", "cluster:\n  network:\n    podSubnets: oops\n")
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 1
    assert "error[NG901]: template talos/cluster.yaml.j2" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_override_that_yaml_11_misreads_is_refused(run_cli, tmp_path: Path) -> None:
    built_in = (ROOT / "templates" / "talos" / "node-multidoc.yaml.j2").read_text()
    templates = _override(tmp_path, "talos/node-multidoc.yaml.j2", built_in.replace('auto: "off"', "auto: off"))
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 1
    assert "error[NG903]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_override_cannot_reach_python_internals(run_cli, tmp_path: Path) -> None:
    templates = _override(tmp_path, "talos/cluster.yaml.j2", "{{ cluster.__class__.__mro__[1].__subclasses__() }}\n")
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 1
    assert "error[NG902]: template talos/cluster.yaml.j2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_broken_override_names_its_line(run_cli, tmp_path: Path) -> None:
    templates = _override(tmp_path, "talos/cluster.yaml.j2", "cluster:\n{% if %}\n")
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 1
    assert "template talos/cluster.yaml.j2: line 2:" in result.stderr


def test_a_missing_template_directory_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", tmp_path / "missing")
    assert result.exit_code == 2
    assert "template directory" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_overridden_partial_is_sandboxed_inside_a_built_in_template(run_cli, tmp_path: Path) -> None:
    """The built-in node templates include talos/_node_ip.yaml.j2; overriding only that
    partial must not let it run outside the sandbox."""
    templates = _override(tmp_path, "talos/_node_ip.yaml.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    result = run_cli("render", EXAMPLE, "-o", tmp_path / "out", "--templates", templates)
    assert result.exit_code == 1
    assert "error[NG902]: template talos/node-" in result.stderr
    assert "__class__" in result.stderr or "unsafe" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
