"""The library API as wrappers (Ansible, Terraform, scripts) use it."""

from __future__ import annotations

from pathlib import Path

import pytest

import netgen
from conftest import ROOT

EXAMPLE = ROOT / "tests" / "data" / "talos-only.yaml"


def test_load_takes_a_path_text_or_bytes_alike() -> None:
    text = EXAMPLE.read_text()
    from_path = netgen.render(netgen.load(EXAMPLE))
    from_text = netgen.render(netgen.load(text, name="talos-only.yaml"))
    from_bytes = netgen.render(netgen.load(text.encode(), name="talos-only.yaml"))
    assert dict(from_path) == dict(from_text) == dict(from_bytes)
    assert all(isinstance(v, str) for v in from_path.values())
    assert "lab/talos/nodes/cp-1.yaml" in from_path


def test_diagnostics_are_data_with_positions() -> None:
    broken = EXAMPLE.read_text().replace('"52:54:00:7a:66:a2"', '"52:54:00:7a:66:a0"')
    with pytest.raises(netgen.InventoryError) as raised:
        netgen.render(netgen.load(broken, name="inventory.yaml"))
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.file, diagnostic.line, diagnostic.column) == ("NG104", "inventory.yaml", 41, 18)
    assert diagnostic.path == "$.clusters[0].hosts[1].nics[0].mac"
    assert diagnostic.as_dict()["severity"] == "error"
    assert "copy-pasted" in diagnostic.hint


def test_facts_problems_do_not_hide_the_cross_checks(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "cp-9.json").write_bytes((ROOT / "tests/golden/f1-facts/facts/cp-2.json").read_bytes())
    broken = EXAMPLE.read_text().replace('"52:54:00:7a:66:a2"', '"52:54:00:7a:66:a0"')
    inventory = netgen.load(broken, facts=[facts], name="inventory.yaml")
    codes = sorted(d.code for d in netgen.validate(inventory))
    assert codes == ["NG104", "NG403"]


def test_validate_returns_warnings_and_render_keeps_them() -> None:
    text = EXAMPLE.read_text().replace("name: ens7", "name: enx5254007a66a0")
    inventory = netgen.load(text, name="inventory.yaml")
    assert [d.code for d in netgen.validate(inventory)] == ["NG106"]
    rendering = netgen.render(inventory)
    assert [d.code for d in rendering.warnings] == ["NG106"]
    assert "enx" not in "".join(rendering.values())


def test_render_selected_clusters_and_unknown_names() -> None:
    inventory = netgen.load(EXAMPLE)
    assert set(netgen.render(inventory, clusters=["lab"])) == set(netgen.render(inventory))
    with pytest.raises(netgen.UsageError, match="no cluster named nope"):
        netgen.render(inventory, clusters=["nope"])


def test_missing_inventory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(netgen.UsageError, match="does not exist"):
        netgen.load(tmp_path / "missing.yaml")
    with pytest.raises(netgen.UsageError, match="is a directory"):
        netgen.load(tmp_path)


def test_errors_share_one_root() -> None:
    for error in (netgen.UsageError, netgen.InventoryError, netgen.VerificationError, netgen.OutputError):
        assert issubclass(error, netgen.NetgenError)


def test_progress_is_reported_per_cluster() -> None:
    calls: list[tuple[int, int]] = []
    netgen.render(netgen.load(EXAMPLE), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]


def test_each_structural_problem_is_reported_once() -> None:
    text = "apiVersion: netgen/v1alpha1\nclusters:\n  - name: lab\n    families: [ipv4]\n"
    with pytest.raises(netgen.InventoryError) as raised:
        netgen.load(text, name="inventory.yaml")
    messages = [d.message for d in raised.value.diagnostics]
    assert len(messages) == len(set(messages))
    assert sorted(m for m in messages if m.startswith("missing")) == [
        "missing required key 'hosts'",
        "missing required key 'kind'",
        "missing required key 'kubernetes'",
        "missing required key 'networks'",
    ]


def test_parallel_render_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large fleets are rendered on every core; the output must not depend on it."""
    from netgen import parallel

    text = EXAMPLE.read_text()
    clusters = [text.split("clusters:\n", 1)[1].replace("name: lab", f"name: lab{i}") for i in range(4)]
    macs = [c.replace("52:54:00", f"52:54:0{i}") for i, c in enumerate(clusters)]
    inventory = netgen.load(text.split("clusters:\n", 1)[0] + "clusters:\n" + "".join(macs), name="fleet.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 10**9)
    serial = netgen.render(inventory)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    calls: list[tuple[int, int]] = []
    in_parallel = netgen.render(inventory, progress=lambda done, total: calls.append((done, total)))
    assert sorted(calls) == [(2, 4), (4, 4)], "two batches, one per core"
    assert list(in_parallel.items()) == list(serial.items())
    assert len(serial) == 4 * 5


def test_parallel_checks_equal_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-cluster rules of large fleets run on every core; the diagnostics, their order
    included, must not depend on it."""
    from netgen import parallel
    from netgen.checks import run_checks

    text = EXAMPLE.read_text()
    body = text.split("clusters:\n", 1)[1]
    # each cluster breaks something else: a VIP that is a host address, a pool over the
    # gateway, a duplicate MAC within the cluster, and (across clusters) lab0's MACs again
    broken = [
        body.replace("name: lab", "name: lab0"),
        body.replace("name: lab", "name: lab1").replace("52:54:00", "52:54:01"),
        body.replace("name: lab", "name: lab2").replace("52:54:00", "52:54:02").replace("::100", "::11"),
        body.replace("name: lab", "name: lab3").replace("52:54:00", "52:54:03").replace("cp-2", "cp-1"),
    ]
    inventory = netgen.load(text.split("clusters:\n", 1)[0] + "clusters:\n" + "".join(broken), name="fleet.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 10**9)
    serial = (run_checks(inventory.clusters), netgen.validate(inventory))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    in_parallel = (run_checks(inventory.clusters), netgen.validate(inventory))
    assert [d.code for d in serial[1]] == ["NG302", "NG101"]
    for found, expected in zip(in_parallel, serial, strict=True):
        assert [d.as_dict() for d in found] == [d.as_dict() for d in expected]
