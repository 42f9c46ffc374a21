"""The Ansible collection, run by a real `ansible-playbook` against localhost.

The collection is installed with `ansible-galaxy collection install` (as docs/ansible.md tells
users to) into a temporary collections path; Ansible's home, temporary files and
configuration are kept under tmp_path too, so nothing outside it is read or written. The
playbooks are the ones in docs/ansible.md, taken from the fenced block after each
`<!-- tested: NAME -->` comment. A small callback (integrations/ansible/tests/callback_plugins)
records every task result as JSON, since ansible-core itself has no JSON callback.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import netgen
from conftest import ROOT

ANSIBLE = ROOT / "integrations" / "ansible"
COLLECTION = ANSIBLE / "netgen" / "netgen"
DOC = ROOT / "docs" / "ansible.md"
BIN = Path(sys.executable).parent
RENDER_TASK = "Render inventory.yaml into out/"
FILTER_TASK = "Render inventory.yaml without writing anything"
CP1 = "lab/talos/nodes/cp-1.yaml"


def documented_playbooks() -> dict[str, str]:
    text = DOC.read_text()
    return dict(re.findall(r"<!-- tested: (\S+) -->\n```yaml\n(.*?)```", text, flags=re.DOTALL))


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    results: list[dict[str, Any]]

    def task(self, name: str) -> dict[str, Any]:
        (found,) = [r for r in self.results if r["task"] == name]
        return found


class Site:
    """A playbook directory (playbooks, netgen inventory, Ansible hosts) and the environment to run it."""

    def __init__(self, root: Path, collections: Path) -> None:
        self.root = root
        self.dir = root / "site"
        self.dir.mkdir()
        self.inventory = self.dir / "inventory.yaml"
        self.inventory.write_bytes((ROOT / "inventories" / "example.yaml").read_bytes())
        self.out = self.dir / "out"
        for name, playbook in documented_playbooks().items():
            (self.dir / f"{name}.yml").write_text(playbook)
        (self.dir / "hosts").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        )
        self.results = root / "results.jsonl"
        self.env = ansible_environment(root, collections) | {
            "ANSIBLE_CALLBACK_PLUGINS": str(ANSIBLE / "tests" / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "netgen_results",
            "NETGEN_RESULTS": str(self.results),
        }

    def run(self, playbook: str, *options: str) -> Run:
        self.results.unlink(missing_ok=True)
        # started outside the site directory: relative paths must be the playbook's, not the working directory's
        process = subprocess.run(
            [BIN / "ansible-playbook", "-i", self.dir / "hosts", self.dir / playbook, *options],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        lines = self.results.read_text().splitlines() if self.results.exists() else []
        return Run(process.returncode, process.stdout + process.stderr, [json.loads(line) for line in lines])

    def duplicate_mac(self) -> tuple[int, int]:
        """Give cp-2's management NIC the MAC of cp-1's; returns where netgen reports it (line, column)."""
        lines = self.inventory.read_text().splitlines(keepends=True)
        line = next(i for i, text in enumerate(lines) if '"52:54:00:7a:66:a2"' in text)
        lines[line] = lines[line].replace("52:54:00:7a:66:a2", "52:54:00:7a:66:a0")
        self.inventory.write_text("".join(lines))
        return line + 1, lines[line].index('"52:54') + 1


def ansible_environment(root: Path, collections: Path) -> dict[str, str]:
    # no ANSIBLE_* setting of the caller leaks in; an empty ansible.cfg shadows ~/.ansible.cfg and /etc/ansible
    config = root / "ansible.cfg"
    config.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return env | {
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_HOME": str(root / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(root / "ansible-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        # only the collection under test, not one that happens to be installed in site-packages
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        "LC_ALL": "C.UTF-8",
    }


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (BIN / "ansible-playbook").exists():
        if os.environ.get("CI"):
            pytest.fail("ansible-core is missing: install the dev extra")
        pytest.skip("ansible-core is not installed (it is in the dev extra)")
    root = tmp_path_factory.mktemp("ansible")
    collections = root / "collections"
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--offline", COLLECTION, "-p", collections],
        env=ansible_environment(root, collections),
        capture_output=True,
        check=True,
        timeout=120,
    )
    return collections


@pytest.fixture
def site(tmp_path: Path, collections: Path) -> Site:
    return Site(tmp_path, collections)


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def state(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Content, inode and mtime of every file: netgen replaces files by renaming, so a rewrite changes the inode."""
    return {
        p.relative_to(directory).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_render_writes_what_the_cli_writes_and_a_rerun_changes_nothing(site: Site, run_cli: Any) -> None:
    first = site.run("render.yml")
    assert first.returncode == 0, first.output
    result = first.task(RENDER_TASK)["result"]
    assert result["changed"] is True
    assert CP1 in result["created"]
    assert result["updated"] == result["removed"] == result["unchanged"] == []
    assert first.task("Show what changed")["result"]["msg"] == result["created"]

    cli_out = site.root / "cli-out"
    assert run_cli("render", site.inventory, "-o", cli_out).exit_code == 0
    assert tree(site.out) == tree(cli_out)
    assert sorted(result["created"]) == sorted(tree(cli_out))

    before = state(site.out)
    second = site.run("render.yml")
    assert second.returncode == 0, second.output
    result = second.task(RENDER_TASK)["result"]
    assert result["changed"] is False
    assert result["created"] == result["updated"] == result["removed"] == []
    assert sorted(result["unchanged"]) == sorted(before)
    assert second.task("Show what changed")["status"] == "skipped"
    assert state(site.out) == before


def test_check_mode_reports_the_change_with_a_diff_and_writes_nothing(site: Site, run_cli: Any) -> None:
    assert run_cli("render", site.inventory, "-o", site.out).exit_code == 0
    before = state(site.out)
    site.inventory.write_text(site.inventory.read_text().replace('"192.168.10.11/24"', '"192.168.10.21/24"'))

    run = site.run("render.yml", "--check", "--diff")

    assert run.returncode == 0, run.output
    result = run.task(RENDER_TASK)["result"]
    assert result["changed"] is True
    assert CP1 in result["updated"]
    assert "netgen-manifest.json" in result["updated"]
    assert result["created"] == result["removed"] == []
    (diff,) = result["diff"]
    assert f"+++ b/{CP1}" in diff["prepared"]
    assert '+        - "192.168.10.21/32"' in diff["prepared"]
    # and the diff is what the user sees
    assert f"+++ b/{CP1}" in run.output
    assert state(site.out) == before


def test_a_bad_inventory_fails_the_task_with_located_diagnostics(site: Site, run_cli: Any) -> None:
    assert run_cli("render", site.inventory, "-o", site.out).exit_code == 0
    before = state(site.out)
    line, column = site.duplicate_mac()

    run = site.run("render.yml")

    assert run.returncode == 2, run.output
    task = run.task(RENDER_TASK)
    assert task["status"] == "failed"
    assert f"{site.inventory}:{line}:{column}: error[NG104]: MAC 52:54:00:7a:66:a0" in task["result"]["msg"]
    assert "hint: " in task["result"]["msg"]
    (diagnostic,) = task["result"]["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("NG104", line, column)
    assert f"{site.inventory}:{line}:{column}: error[NG104]" in run.output
    assert "Traceback" not in run.output
    assert state(site.out) == before


def test_the_filter_renders_in_memory(site: Site, run_cli: Any) -> None:
    run = site.run("filter.yml")

    assert run.returncode == 0, run.output
    rendered = run.task(FILTER_TASK)["result"]["ansible_facts"]["rendered"]
    cli_out = site.root / "cli-out"
    assert run_cli("render", site.inventory, "-o", cli_out).exit_code == 0
    expected = {path: data.decode() for path, data in tree(cli_out).items() if path != "netgen-manifest.json"}
    assert rendered == expected
    assert run.task("Show the Talos configuration of cp-1")["result"]["msg"] == expected[CP1]
    assert not site.out.exists()


def test_the_filter_fails_with_located_diagnostics(site: Site) -> None:
    line, column = site.duplicate_mac()

    run = site.run("filter.yml")

    assert run.returncode == 2, run.output
    task = run.task(FILTER_TASK)
    assert task["status"] == "failed"
    # the filter has text, not a file: the diagnostics name it by its `name`, inventory.yaml by default
    assert f"inventory.yaml:{line}:{column}: error[NG104]: MAC 52:54:00:7a:66:a0" in task["result"]["msg"]
    assert "Traceback" not in run.output


OPTIONS_PLAYBOOK = """\
- name: Options, warnings and user errors
  hosts: localhost
  gather_facts: false
  tasks:
    - name: warnings
      netgen.netgen.render: {inventory: vmxnet3.yaml, out: warned}
    - name: strict
      netgen.netgen.render: {inventory: vmxnet3.yaml, out: strict, strict: true}
      ignore_errors: true
    - name: filter warnings
      ansible.builtin.set_fact:
        vsphere: "{{ lookup('ansible.builtin.file', 'vmxnet3.yaml') | netgen.netgen.render(clusters=['vsphere']) }}"
    - name: text
      netgen.netgen.render:
        inventory_text: "{{ lookup('ansible.builtin.file', 'inventory.yaml') }}"
        name: site.yaml
        clusters: [lab]
        out: text
    - name: missing inventory
      netgen.netgen.render: {inventory: missing.yaml, out: out}
      ignore_errors: true
    - name: unknown cluster
      netgen.netgen.render: {inventory: inventory.yaml, clusters: [nope], out: out}
      ignore_errors: true
    - name: out is a file
      netgen.netgen.render: {inventory: inventory.yaml, out: hosts}
      ignore_errors: true
    - name: two sources
      netgen.netgen.render: {inventory: inventory.yaml, inventory_text: "{{ 'clusters: []' }}", out: out}
      ignore_errors: true
"""


def test_options_warnings_and_user_errors(site: Site) -> None:
    (site.dir / "vmxnet3.yaml").write_bytes((ROOT / "inventories" / "f3-metallb-vmxnet3.yaml").read_bytes())
    (site.dir / "options.yml").write_text(OPTIONS_PLAYBOOK)

    run = site.run("options.yml")

    assert run.returncode == 0, run.output
    assert "Traceback" not in run.output
    results = {r["task"]: r for r in run.results}

    warned = results["warnings"]["result"]
    assert warned["changed"] is True
    assert any(w.startswith(f"{site.dir / 'vmxnet3.yaml'}:31:20: warning[NG505]") for w in warned["warnings"])
    assert f"[WARNING]: {site.dir / 'vmxnet3.yaml'}:31:20: warning[NG505]" in run.output

    strict = results["strict"]
    assert strict["status"] == "failed"
    assert strict["result"]["msg"].startswith("warnings are errors under strict; nothing was written")
    # the vmxnet3 NICs (NG505) and the pool the example leaves unannounced (NG506)
    assert {d["code"] for d in strict["result"]["diagnostics"]} == {"NG505", "NG506"}
    assert not (site.dir / "strict").exists()

    # the filter's warnings name the text by its `name`, inventory.yaml by default
    assert "[WARNING]: inventory.yaml:31:20: warning[NG505]" in run.output
    vsphere = results["filter warnings"]["result"]["ansible_facts"]["vsphere"]
    assert "vsphere/talos/nodes/cp-1.yaml" in vsphere

    assert results["text"]["result"]["changed"] is True
    assert (site.dir / "text" / CP1).read_text().startswith("# Generated by netgen from site.yaml;")

    expected_failures = {
        "missing inventory": f"inventory {site.dir / 'missing.yaml'} does not exist",
        "unknown cluster": "no cluster named nope; the inventory has lab",
        "out is a file": f"{site.dir / 'hosts'} exists and is not a directory",
        "two sources": "mutually exclusive: inventory|inventory_text",
    }
    for task, message in expected_failures.items():
        assert results[task]["status"] == "failed", task
        assert message in results[task]["result"]["msg"], task
    assert not site.out.exists()


MISSING_NETGEN_PLAYBOOK = """\
- name: Without netgen in the controller's Python
  hosts: localhost
  gather_facts: false
  tasks:
    - name: action
      netgen.netgen.render: {inventory: inventory.yaml, out: out}
      ignore_errors: true
    - name: filter
      ansible.builtin.set_fact:
        rendered: "{{ lookup('ansible.builtin.file', 'inventory.yaml') | netgen.netgen.render }}"
"""


def test_without_netgen_the_task_fails_saying_how_to_install_it(site: Site) -> None:
    # a package named netgen that cannot be imported, first on the path: as if netgen were not installed
    shadow = site.root / "shadow" / "netgen"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named netgen")\n')
    site.env["PYTHONPATH"] = str(shadow.parent)
    (site.dir / "missing.yml").write_text(MISSING_NETGEN_PLAYBOOK)

    run = site.run("missing.yml")

    assert run.returncode == 2, run.output
    for task in ("action", "filter"):
        assert run.task(task)["status"] == "failed"
        assert "is not importable by the Ansible controller's Python" in run.task(task)["result"]["msg"]
        assert "-m pip install netgen`" in run.task(task)["result"]["msg"]
    assert "Traceback" not in run.output
    assert not site.out.exists()


def test_documentation_matches_the_plugins(collections: Path, tmp_path: Path) -> None:
    env = ansible_environment(tmp_path, collections)
    docs = {}
    for plugin_type in ("module", "filter"):
        process = subprocess.run(
            [BIN / "ansible-doc", "--json", "-t", plugin_type, "netgen.netgen.render"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        docs[plugin_type] = json.loads(process.stdout)["netgen.netgen.render"]["doc"]
    # every option the action accepts is documented, with the type it is validated as
    action = ast.parse((COLLECTION / "plugins" / "action" / "render.py").read_text())
    (spec,) = [
        ast.literal_eval(node.value)
        for node in action.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "ARGUMENT_SPEC"
    ]
    documented = docs["module"]["options"]
    assert {name: option["type"] for name, option in documented.items()} == {
        name: option["type"] for name, option in spec.items()
    }
    assert set(docs["filter"]["options"]) == {"_input", "facts", "clusters", "name"}
    galaxy = YAML(typ="safe").load((COLLECTION / "galaxy.yml").read_text())
    assert galaxy["version"] == netgen.__version__
