"""`netgen terraform`, driven exactly as Terraform's external data source drives it.

The provider (hashicorp/terraform-provider-external, internal/provider/data_source.go) runs
the program without a shell, writes ``json.Marshal(map[string]string)`` of the query on
stdin (compact, keys sorted), reads stdout only when the exit code is 0 and unmarshals it
into ``map[string]string``; on a non-zero exit it shows stderr. So every test here runs a
real process with JSON on stdin and looks at exit code, stdout and stderr, nothing else.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netgen
from conftest import ROOT

EXAMPLE = ROOT / "inventories" / "example.yaml"
VMXNET3 = ROOT / "inventories" / "f3-metallb-vmxnet3.yaml"  # valid, with NG505 warnings
FACTS_CASE = ROOT / "tests" / "golden" / "f1-facts"

TWO_CLUSTERS = """\
apiVersion: netgen/v1alpha1
kind: Inventory
clusters:
  - name: home
    families: [ipv4]
    kubernetes: {podCIDRs: ["10.244.0.0/16"], serviceCIDRs: ["10.96.0.0/12"]}
    networks: [{name: lan, cidrs: ["192.168.1.0/24"], gateways: ["192.168.1.1"]}]
    controlPlane: {vips: ["192.168.1.100"]}
    hosts:
      - name: cp-1
        role: controlplane
        nics: [{mac: "52:54:00:7a:66:a0", network: lan, addresses: ["192.168.1.11/24"]}]
  - name: lab
    families: [ipv4]
    kubernetes: {podCIDRs: ["10.244.0.0/16"], serviceCIDRs: ["10.96.0.0/12"]}
    networks: [{name: lan, cidrs: ["192.168.2.0/24"], gateways: ["192.168.2.1"]}]
    controlPlane: {vips: ["192.168.2.100"]}
    hosts:
      - name: cp-1
        role: controlplane
        nics: [{mac: "52:54:00:7a:67:a0", network: lan, addresses: ["192.168.2.11/24"]}]
"""


def terraform_query(**query: str) -> bytes:
    """The bytes Terraform writes: Go's json.Marshal of a map[string]string."""
    return json.dumps(query, sort_keys=True, separators=(",", ":")).encode()


def snapshot(*directories: Path) -> dict[Path, tuple[int, int]]:
    """Every file and folder under ``directories`` with its size and mtime."""
    seen = {}
    for directory in directories:
        for path in [directory, *directory.rglob("*")]:
            stat = path.stat()
            seen[path] = (stat.st_size, stat.st_mtime_ns)
    return seen


class DataSource:
    """Runs `python -m netgen terraform` in an empty working directory with an empty TMPDIR."""

    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path / "work"
        self.tmp = tmp_path / "tmp"
        self.inputs = tmp_path / "inputs"
        for directory in (self.cwd, self.tmp, self.inputs):
            directory.mkdir()

    def run(self, stdin: bytes, *, program: list[str] | None = None) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "TMPDIR": str(self.tmp), "TMP": str(self.tmp), "TEMP": str(self.tmp)}
        return subprocess.run(
            program or [sys.executable, "-m", "netgen", "terraform"],
            input=stdin,
            capture_output=True,
            cwd=self.cwd,
            env=env,
            timeout=120,
            check=False,
        )


@pytest.fixture
def source(tmp_path: Path) -> DataSource:
    return DataSource(tmp_path)


def result_of(process: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    """What Terraform makes of a successful run: a flat map of strings, else it fails."""
    assert process.returncode == 0, process.stderr.decode()
    result = json.loads(process.stdout)
    assert isinstance(result, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
    return result


def assert_failed(process: subprocess.CompletedProcess[bytes], exit_code: int) -> str:
    """A failure as the protocol wants it: non-zero exit, nothing on stdout, a message on stderr."""
    stderr = process.stderr.decode()
    assert process.returncode == exit_code, stderr
    assert process.stdout == b""
    assert stderr.strip()
    assert "Traceback" not in stderr
    return stderr


# --- success -----------------------------------------------------------------------------------


def test_the_result_is_what_render_returns_and_nothing_is_written(source: DataSource) -> None:
    inventory = source.inputs / "inventory.yaml"
    shutil.copyfile(EXAMPLE, inventory)
    before = snapshot(source.cwd, source.tmp, source.inputs)

    process = source.run(terraform_query(inventory=str(inventory)))

    assert result_of(process) == dict(netgen.render(netgen.load(inventory)))
    assert process.stderr == b""
    assert snapshot(source.cwd, source.tmp, source.inputs) == before


def test_the_result_holds_the_rendered_files_only(source: DataSource) -> None:
    result = result_of(source.run(terraform_query(inventory=str(EXAMPLE))))
    assert "lab/talos/cluster.yaml" in result
    assert "lab/talos/nodes/cp-1.yaml" in result
    assert not any(path.endswith("netgen-manifest.json") for path in result)
    assert result["lab/talos/nodes/cp-1.yaml"].startswith("# Generated by netgen from example.yaml")


def test_the_installed_command_is_the_program_terraform_runs(source: DataSource) -> None:
    command = Path(sys.executable).parent / "netgen"
    if not command.is_file():
        pytest.skip("no netgen console script next to the interpreter")
    process = source.run(terraform_query(inventory=str(EXAMPLE)), program=[str(command), "terraform"])
    assert result_of(process) == dict(netgen.render(netgen.load(EXAMPLE)))


def test_a_relative_inventory_is_found_in_the_working_directory(source: DataSource) -> None:
    inventory = source.cwd / "inventory.yaml"
    shutil.copyfile(EXAMPLE, inventory)
    result = result_of(source.run(terraform_query(inventory="inventory.yaml")))
    assert result == dict(netgen.render(netgen.load(inventory)))


def test_facts_are_a_comma_separated_list(source: DataSource) -> None:
    facts = sorted((FACTS_CASE / "facts").iterdir())
    assert len(facts) > 1
    query = terraform_query(inventory=str(FACTS_CASE / "inventory.yaml"), facts=" , ".join(map(str, facts)))
    expected = netgen.render(netgen.load(FACTS_CASE / "inventory.yaml", facts=[FACTS_CASE / "facts"]))
    assert result_of(source.run(query)) == dict(expected)


def test_cluster_selects_clusters_by_comma_separated_names(source: DataSource) -> None:
    inventory = source.inputs / "inventory.yaml"
    inventory.write_text(TWO_CLUSTERS)
    everything = result_of(source.run(terraform_query(inventory=str(inventory))))
    assert {path.split("/")[0] for path in everything} == {"home", "lab"}
    lab = result_of(source.run(terraform_query(inventory=str(inventory), cluster="lab")))
    assert lab == {path: text for path, text in everything.items() if path.startswith("lab/")}
    both = result_of(source.run(terraform_query(inventory=str(inventory), cluster="lab,home")))
    assert both == everything


def test_templates_overrides_apply(source: DataSource) -> None:
    templates = source.inputs / "templates"
    (templates / "talos").mkdir(parents=True)
    built_in = (ROOT / "templates" / "talos" / "cluster.yaml.j2").read_text()
    (templates / "talos" / "cluster.yaml.j2").write_text("# site override\n" + built_in)
    result = result_of(source.run(terraform_query(inventory=str(EXAMPLE), templates=str(templates))))
    assert "# site override\n" in result["lab/talos/cluster.yaml"]


def test_empty_optional_values_count_as_absent(source: DataSource) -> None:
    query = terraform_query(inventory=str(EXAMPLE), facts="", cluster="", strict="", templates="")
    assert result_of(source.run(query)) == dict(netgen.render(netgen.load(EXAMPLE)))


def test_warnings_go_to_stderr_and_the_result_stands(source: DataSource) -> None:
    process = source.run(terraform_query(inventory=str(VMXNET3), strict="false"))
    assert result_of(process) == dict(netgen.render(netgen.load(VMXNET3)))
    assert "warning[NG505]" in process.stderr.decode()


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        pytest.param(b"inventory=inventory.yaml", "the query on stdin is not JSON", id="not-json"),
        pytest.param(b'["inventory.yaml"]', "must be a JSON object of strings, not an array", id="json-array"),
        pytest.param(b'"inventory.yaml"', "must be a JSON object of strings, not a string", id="json-string"),
        pytest.param(b"", "no query on stdin", id="empty-stdin"),
        pytest.param(b"{}", "query key 'inventory' is required", id="empty-object"),
        pytest.param(b'{"facts":"facts/"}', "query key 'inventory' is required", id="missing-inventory"),
        pytest.param(b'{"inventory":""}', "query key 'inventory' is empty", id="empty-inventory"),
        pytest.param(b'{"inventory":["a.yaml"]}', "query key 'inventory' must be a string, not an array", id="list"),
        pytest.param(b'{"inventory":"i.yaml","strict":true}', "'strict' must be a string, not a boolean", id="bool"),
        pytest.param(b'{"inventory":"i.yaml","strict":"yes"}', '\'strict\' must be "true" or "false"', id="yes"),
        pytest.param(b'{"inventory":"i.yaml","facts":null}', "'facts' must be a string, not null", id="null"),
        pytest.param(b'{"inventory":"i.yaml","target":"lab"}', "unknown query key 'target'", id="unknown-key"),
        pytest.param(b'{"inventroy":"i.yaml"}', "did you mean 'inventory'?", id="misspelt-key"),
        pytest.param(b'{"inventory":"a.yaml","inventory":"b.yaml"}', "'inventory' is given twice", id="duplicate"),
        pytest.param(b'{"inventory":"\xff.yaml"}', "not UTF-8", id="not-utf8"),
    ],
)
def test_a_bad_query_is_a_usage_error(source: DataSource, stdin: bytes, message: str) -> None:
    stderr = assert_failed(source.run(stdin), 2)
    assert stderr.startswith("netgen: error: ")
    assert message in stderr


def test_every_problem_of_a_query_is_reported_at_once(source: DataSource) -> None:
    stderr = assert_failed(source.run(b'{"strict":1,"target":"lab"}'), 2)
    lines = stderr.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("netgen: error: ") for line in lines)
    assert "'strict' must be a string, not a number" in stderr
    assert "unknown query key 'target'" in stderr
    assert "'inventory' is required" in stderr


def test_a_missing_inventory_file_is_a_usage_error(source: DataSource) -> None:
    stderr = assert_failed(source.run(terraform_query(inventory=str(source.inputs / "nope.yaml"))), 2)
    assert f"inventory {source.inputs / 'nope.yaml'} does not exist" in stderr


def test_a_missing_relative_inventory_names_the_working_directory(source: DataSource) -> None:
    stderr = assert_failed(source.run(terraform_query(inventory="inventory.yaml")), 2)
    assert f"does not exist in the working directory {source.cwd}" in stderr
    assert "${path.module}" in stderr


def test_a_missing_facts_path_is_a_usage_error(source: DataSource) -> None:
    query = terraform_query(inventory=str(EXAMPLE), facts=str(source.inputs / "facts"))
    assert "does not exist" in assert_failed(source.run(query), 2)


def test_an_unknown_cluster_is_a_usage_error(source: DataSource) -> None:
    stderr = assert_failed(source.run(terraform_query(inventory=str(EXAMPLE), cluster="lab,prod")), 2)
    assert "no cluster named prod" in stderr


def test_an_inventory_error_is_reported_at_its_line_and_column(source: DataSource) -> None:
    text = EXAMPLE.read_text()
    assert text.count("52:54:00:7a:66:a2") == 1
    broken = source.inputs / "inventory.yaml"
    broken.write_text(text.replace("52:54:00:7a:66:a2", "52:54:00:7a:66:a0"))
    line_number, line = next(
        (n, line) for n, line in enumerate(text.splitlines(), start=1) if "52:54:00:7a:66:a2" in line
    )
    column = line.index('"52:54:00:7a:66:a2"') + 1

    stderr = assert_failed(source.run(terraform_query(inventory=str(broken))), 1)

    assert stderr.startswith(f"{broken}:{line_number}:{column}: error[NG104]: MAC 52:54:00:7a:66:a0 is used by")
    assert "  hint: " in stderr


def test_warnings_under_strict_fail_with_the_warnings_on_stderr(source: DataSource) -> None:
    stderr = assert_failed(source.run(terraform_query(inventory=str(VMXNET3), strict="true")), 1)
    assert f"{VMXNET3}:" in stderr
    assert "warning[NG505]" in stderr
    assert stderr.endswith('netgen: error: warnings are errors with "strict" = "true"; no result\n')


def test_a_missing_template_directory_is_a_usage_error(source: DataSource) -> None:
    query = terraform_query(inventory=str(EXAMPLE), templates=str(source.inputs / "templates"))
    assert "does not exist" in assert_failed(source.run(query), 2)


def test_a_terminal_on_stdin_is_refused_instead_of_waiting(source: DataSource) -> None:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "netgen", "terraform"],
            stdin=terminal,
            capture_output=True,
            cwd=source.cwd,
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    stderr = assert_failed(process, 2)
    assert "reads a JSON query on stdin" in stderr
