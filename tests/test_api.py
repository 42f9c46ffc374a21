"""The library API as wrappers (Ansible, Terraform, scripts) use it."""

from __future__ import annotations

from pathlib import Path

import pytest

import netgen
from conftest import ROOT
from netgen.emit.verify import verifier

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


# --- a text verified and written before is not verified again -------------------------------


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths verify() is called for, in order."""
    from netgen.emit import files as produce

    calls: list[str] = []
    real = produce.verify

    def counting(artifact, text, *, yaml11):  # type: ignore[no-untyped-def]
        calls.append(artifact.path)
        return real(artifact, text, yaml11=yaml11)

    monkeypatch.setattr(produce, "verify", counting)
    return calls


def _manifest(out: Path) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads((out / "netgen-manifest.json").read_text())
    return loaded


def test_a_text_written_before_is_not_verified_again(tmp_path: Path, verifications: list[str]) -> None:
    out = tmp_path / "out"
    first = netgen.render(netgen.load(EXAMPLE), previous=out)
    assert sorted(verifications) == sorted(first), "nothing written yet: every file is verified"
    netgen.write(first, out)
    assert _manifest(out)["verifier"] == verifier()

    verifications.clear()
    again = netgen.render(netgen.load(EXAMPLE), previous=out)
    assert verifications == []
    assert dict(again) == dict(first)

    # one host's address changes: its patch (and only that) is a new text
    changed = EXAMPLE.read_text().replace("192.168.10.12/24", "192.168.10.22/24")
    assert changed != EXAMPLE.read_text()
    rendered = netgen.render(netgen.load(changed, name=EXAMPLE.name), previous=out)
    assert verifications == [p for p in rendered if rendered[p] != first.get(p)] == ["lab/talos/nodes/cp-2.yaml"]

    verifications.clear()
    netgen.render(netgen.load(EXAMPLE), previous=tmp_path / "elsewhere")
    assert len(verifications) == len(first), "another OUT vouches for nothing"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda m: m | {"verifier": "0" * 64}, id="other-verifier"),
        pytest.param(lambda m: m | {"generator": "netgen 0.0.1"}, id="other-generator"),
        pytest.param(lambda m: {k: v for k, v in m.items() if k != "verifier"}, id="no-verifier"),
        pytest.param(lambda m: m | {"files": dict.fromkeys(m["files"], "0" * 64)}, id="other-texts"),
    ],
)
def test_only_this_netgen_and_verifier_vouch_for_a_text(tmp_path: Path, verifications: list[str], tamper) -> None:  # type: ignore[no-untyped-def]
    import json

    out = tmp_path / "out"
    netgen.write(netgen.render(netgen.load(EXAMPLE)), out)
    manifest = out / "netgen-manifest.json"
    manifest.write_text(json.dumps(tamper(json.loads(manifest.read_text()))))
    verifications.clear()
    rendered = netgen.render(netgen.load(EXAMPLE), previous=out)
    assert sorted(verifications) == sorted(rendered)


def test_an_unreadable_manifest_vouches_for_nothing(tmp_path: Path, verifications: list[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "netgen-manifest.json").write_text("{not json")
    rendered = netgen.render(netgen.load(EXAMPLE), previous=out)
    assert sorted(verifications) == sorted(rendered)
    with pytest.raises(netgen.OutputError, match="is not a netgen manifest"):
        netgen.write(rendered, out)


def test_template_overrides_are_always_verified(tmp_path: Path, verifications: list[str]) -> None:
    from netgen.resources import resource_dir

    out, templates = tmp_path / "out", tmp_path / "templates"
    (templates / "talos").mkdir(parents=True)
    cluster_template = resource_dir("templates") / "talos" / "cluster.yaml.j2"
    (templates / "talos" / "cluster.yaml.j2").write_text(cluster_template.read_text())
    netgen.write(netgen.render(netgen.load(EXAMPLE), templates=templates), out)
    verifications.clear()
    netgen.render(netgen.load(EXAMPLE), templates=templates, previous=out)
    assert verifications == ["lab/talos/cluster.yaml"], "the same text, but from an override: verified again"


def test_only_a_rendering_is_recorded_as_verified(tmp_path: Path) -> None:
    rendered = netgen.render(netgen.load(EXAMPLE))
    netgen.write(dict(rendered), tmp_path / "plain")
    assert "verifier" not in _manifest(tmp_path / "plain"), "a plain mapping was never verified by netgen"
    netgen.write(rendered, tmp_path / "rendering")
    assert _manifest(tmp_path / "rendering")["verifier"] == verifier()


def test_files_kept_from_another_verifier_withdraw_the_claim(tmp_path: Path) -> None:
    """A render of some clusters keeps the others' files; if those were verified by something
    else, the manifest no longer says what verified them all."""
    import json

    text = EXAMPLE.read_text()
    body = text.split("clusters:\n", 1)[1]
    two = (
        text.split("clusters:\n", 1)[0]
        + "clusters:\n"
        + body
        + body.replace("name: lab", "name: lab2").replace("52:54:00", "52:54:01")
    )
    inventory = netgen.load(two, name="two.yaml")
    out = tmp_path / "out"
    netgen.write(netgen.render(inventory), out)
    manifest = out / "netgen-manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"verifier": "0" * 64}))
    netgen.write(netgen.render(inventory, clusters=["lab"]), out)
    assert "verifier" not in _manifest(out)
    netgen.write(netgen.render(inventory), out)
    assert _manifest(out)["verifier"] != "0" * 64


def test_parallel_structure_check_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clusters are checked against the schema apart (on every core for large fleets); the
    diagnostics must be the ones the whole inventory gets, paths and positions included."""
    from netgen import parallel

    text = EXAMPLE.read_text()
    head, body = text.split("clusters:\n", 1)
    broken = [
        body.replace("name: lab", "name: lab0").replace("role: worker", "role: wrker"),
        body.replace("name: lab", "name: lab1").replace("families:", "familes:"),
        body.replace("name: lab", "name: LAB2").replace("mtu: 1500", "mtu: 9000.0"),
    ]
    source = head.replace("kind: Inventory", "kind: Inventory\nextra: 1") + "clusters:\n" + "".join(broken)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 10**9)
    with pytest.raises(netgen.InventoryError) as serial:
        netgen.load(source, name="fleet.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_HOSTS", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    with pytest.raises(netgen.InventoryError) as in_parallel:
        netgen.load(source, name="fleet.yaml")
    found = [d.as_dict() for d in in_parallel.value.diagnostics]
    assert found == [d.as_dict() for d in serial.value.diagnostics]
    assert [(d["code"], d["path"]) for d in found] == [
        ("NG011", "$.extra"),
        ("NG013", "$.clusters[0].hosts[3].role"),
        ("NG012", "$.clusters[1]"),
        ("NG011", "$.clusters[1].familes"),
        ("NG013", "$.clusters[2].name"),
        ("NG010", "$.clusters[2].networks[0].mtu"),
    ], found
