"""`netgen init`: a commented starter inventory that renders as it is, written atomically and
never over an existing file unless asked."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from conftest import ROOT
from netgen.load.structure import inventory_schema

STARTER = ROOT / "templates" / "init" / "inventory.yaml"
MODELINE = "# yaml-language-server: $schema=netgen.schema.json\n"
# a commented-out key: `# key:` or `# - ` after the indentation; explanations start otherwise
COMMENTED_OUT = re.compile(r"^(?P<indent>\s*)# (?P<yaml>\s*(?:[a-z][A-Za-z0-9]*:(?: |$)|- ).*)$", re.MULTILINE)


def uncommented(text: str) -> str:
    return COMMENTED_OUT.sub(r"\g<indent>\g<yaml>", text)


def render_cleanly(run_cli, inventory: Path, out: Path) -> None:  # type: ignore[no-untyped-def]
    validated = run_cli("validate", "--strict", inventory)
    assert (validated.exit_code, validated.stderr) == (0, "")
    rendered = run_cli("render", inventory, "-o", out, "--strict")
    assert rendered.exit_code == 0, rendered.stderr
    assert "warning" not in rendered.stderr and "error" not in rendered.stderr
    assert (out / "lab" / "talos" / "cluster.yaml").is_file()


def leftovers(directory: Path, *expected: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in expected)


def test_init_writes_inventory_yaml_that_renders_without_warnings(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "wrote inventory.yaml" in result.stderr
    written = tmp_path / "inventory.yaml"
    assert written.read_bytes() == STARTER.read_bytes()
    assert written.read_text().startswith(MODELINE)
    assert leftovers(tmp_path, "inventory.yaml") == []
    render_cleanly(run_cli, written, tmp_path / "out")
    hosts = sorted(p.name for p in (tmp_path / "out" / "lab" / "talos" / "nodes").iterdir())
    assert hosts == ["cp-1.yaml", "cp-2.yaml", "cp-3.yaml", "worker-1.yaml"]


def test_the_header_commands_name_the_file_written(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").mkdir()
    assert run_cli("init", "site/lab.yaml").exit_code == 0
    text = (tmp_path / "site" / "lab.yaml").read_text()
    assert text.startswith(MODELINE)
    assert "netgen validate site/lab.yaml\n" in text
    assert "netgen render site/lab.yaml -o out/\n" in text
    assert "inventory.yaml" not in text
    render_cleanly(run_cli, tmp_path / "site" / "lab.yaml", tmp_path / "out")


def test_the_starter_is_what_the_editor_schema_accepts_and_names_it() -> None:
    text = STARTER.read_text()
    # the modeline names the file the header tells how to write, as docs/editors.md does
    assert text.startswith(MODELINE)
    assert "netgen schema > netgen.schema.json" in text
    data = YAML(typ="safe", pure=True).load(text)
    assert list(Draft202012Validator(inventory_schema()).iter_errors(data)) == []
    assert data["apiVersion"] == "netgen/v1alpha1" and data["kind"] == "Inventory"
    (cluster,) = data["clusters"]
    assert {"families", "kubernetes", "networks", "controlPlane", "hosts"} <= cluster.keys()
    assert cluster["kubernetes"]["nodeNetwork"] == "lan"
    # documentation addresses and MACs only (RFC 5737, RFC 7042) outside Kubernetes' own ranges
    for network in cluster["networks"]:
        assert all(c in ("192.0.2.0/24", "198.51.100.0/24") for c in network["cidrs"])
    macs = [nic["mac"] for host in cluster["hosts"] for nic in host["nics"]]
    assert all(mac.startswith("00:00:5e:00:53:") for mac in macs)
    assert len(set(macs)) == len(macs)


def test_the_commented_out_keys_render_cleanly_once_uncommented(run_cli, tmp_path: Path) -> None:
    text = uncommented(STARTER.read_text())
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(text)
    data = YAML(typ="safe", pure=True).load(text)
    (cluster,) = data["clusters"]
    assert cluster["controlPlane"]["endpoint"] == "https://192.0.2.100:6443"
    assert [pool["name"] for pool in cluster["metallb"]["pools"]] == ["services"]
    assert [attachment["name"] for attachment in cluster["attachments"]] == ["storage"]
    assert all("name" in nic for host in cluster["hosts"] for nic in host["nics"])
    # what stays a comment is prose, not a key left behind
    assert not re.search(r"^\s*#\s*[a-z][A-Za-z0-9]*: ", text, re.MULTILINE)
    render_cleanly(run_cli, inventory, tmp_path / "out")
    assert (tmp_path / "out" / "lab" / "kubernetes" / "metallb.yaml").is_file()
    assert (tmp_path / "out" / "lab" / "kubernetes" / "attachments" / "storage" / "storage.yaml").is_file()


def test_init_refuses_to_overwrite_an_existing_file(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "inventory.yaml"
    target.write_bytes(b"# mine\n")
    result = run_cli("init", target)
    assert result.exit_code == 2
    assert result.stderr == f"netgen: error: {target} exists; pass --force to overwrite it\n"
    assert target.read_bytes() == b"# mine\n"
    assert leftovers(tmp_path, "inventory.yaml") == []


def test_init_refuses_a_dangling_symlink_too(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "inventory.yaml"
    target.symlink_to(tmp_path / "elsewhere.yaml")
    assert run_cli("init", target).exit_code == 2
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_force_overwrites(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "inventory.yaml"
    target.write_bytes(b"# mine\n")
    result = run_cli("init", target, "--force")
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith(MODELINE)
    assert "# mine" not in target.read_text()
    assert leftovers(tmp_path, "inventory.yaml") == []


def test_without_hard_links_init_still_writes_and_refuses(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "inventory.yaml"
    assert run_cli("init", target).exit_code == 0
    assert target.read_bytes() == STARTER.read_bytes().replace(b" inventory.yaml", f" {target}".encode())
    target.write_bytes(b"# mine\n")
    assert run_cli("init", target).exit_code == 2
    assert target.read_bytes() == b"# mine\n"
    assert leftovers(tmp_path, "inventory.yaml") == []


def test_dash_prints_the_starter_and_writes_nothing(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("init", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == STARTER.read_text()
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/inventory.yaml", "missing does not exist"),
        ("file.txt/inventory.yaml", "file.txt is not a directory"),
        (".", ". is a directory"),
    ],
)
def test_an_unusable_path_is_a_usage_error(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_bytes(b"")
    result = run_cli("init", where)
    assert result.exit_code == 2
    assert result.stderr.startswith("netgen: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr
    assert leftovers(tmp_path, "file.txt") == []


def test_force_writes_through_a_symlink_and_keeps_the_mode(run_cli, tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"# mine\n")
    real.chmod(0o600)
    link = tmp_path / "inventory.yaml"
    link.symlink_to(real)
    assert run_cli("init", link, "--force").exit_code == 0
    assert link.is_symlink() and real.read_text().startswith(MODELINE)
    assert real.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path, "inventory.yaml", "real.yaml") == []


def test_force_never_replaces_what_is_not_a_regular_file(run_cli) -> None:
    # a device is written to, as a shell's `>` would, never renamed over
    assert run_cli("init", os.devnull, "--force").exit_code == 0
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_a_failed_write_is_an_error_not_a_traceback(run_cli, tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / ("i" * 300 + ".yaml"))
    assert result.exit_code == 1
    assert "File name too long" in result.stderr and "internal error" not in result.stderr
    assert list(tmp_path.iterdir()) == []
    if Path("/dev/full").exists():
        result = run_cli("init", "/dev/full", "--force")
        full = "netgen: error: cannot write /dev/full: No space left on device\n"
        assert (result.exit_code, result.stderr) == (1, full)
        assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)
