"""The write stage (README: `render`, `--check`, `--cluster`, the manifest, exit codes).

Every promise is shown on real trees in tmp_path: bytes, mtimes, the set of paths, exit codes
and messages. CLI promises go through the real entry point (`run_cli`), library promises
through `netgen.write`.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import netgen
from conftest import ROOT
from netgen.emit.verify import verifier
from netgen.write import MANIFEST

# the module (netgen.write is also the function of the API)
write_module = importlib.import_module("netgen.write")

EXAMPLE = ROOT / "tests" / "data" / "talos-only.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text()
HEAD, LAB = EXAMPLE_TEXT.split("clusters:\n", 1)
NODES = ("cp-1", "cp-2", "cp-3", "worker-1")
#: an mtime far in the past (2001), so a file that netgen touches visibly changes
OLD_NS = 1_000_000_000 * 10**9

WORKER_2 = '      - name: worker-2\n        role: worker\n        nics:\n          - mac: "52:54:00:7a:68:01"\n'
WORKER_2 += "            network: mgmt\n"


# --- building inventories ----------------------------------------------------------------------


def cluster(name: str = "lab", mac_prefix: str = "52:54:00", *edits: Callable[[str], str]) -> str:
    """The example's cluster under another name, with other MACs, after ``edits``."""
    text = LAB.replace("52:54:00", mac_prefix).replace("name: lab", f"name: {name}", 1)
    for edit in edits:
        text = edit(text)
    return text


def inventory(*clusters: str) -> str:
    return HEAD + "clusters:\n" + "".join(clusters)


def move_cp2(text: str) -> str:
    """cp-2 gets another address: only cp-2's patch changes."""
    assert '"2001:db8:10::12/64"' in text
    return text.replace('"2001:db8:10::12/64"', '"2001:db8:10::14/64"')


def drop_worker1(text: str) -> str:
    head, sep, _ = text.partition("      - name: worker-1\n")
    assert sep, "worker-1 is the last host of the example"
    return head


def add_worker2(text: str) -> str:
    return text + WORKER_2


def other_service_cidr(text: str) -> str:
    """Changes cluster.yaml (the service subnets) and nothing else."""
    assert '"10.96.0.0/12"' in text
    return text.replace('"10.96.0.0/12"', '"10.112.0.0/12"')


def mac_altname(text: str) -> str:
    """worker-1's unconnected NIC named by an `enx…` altname: warning NG106."""
    assert text.endswith('- mac: "52:54:00:7a:67:21"\n')
    return text + "            name: enx525400aabbcc\n"


TWO = inventory(cluster("lab"), cluster("edge", "52:54:01"))


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- looking at trees --------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, object]:
    """Every path under root (not following symlinks): directories, file bytes, link targets."""
    tree: dict[str, object] = {}
    if not root.exists() and not root.is_symlink():
        return tree
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = ("link", str(path.readlink()))
            elif path.is_dir():
                tree[rel] = ("dir",)
            else:
                tree[rel] = ("file", path.read_bytes())
    return tree


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.lstat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def state(root: Path) -> dict[str, object]:
    """snapshot() with each file's mtime_ns."""
    times = mtimes(root) if root.is_dir() else {}
    return {rel: (entry, times.get(rel)) for rel, entry in snapshot(root).items()}


def differences(before: dict[str, object], root: Path) -> list[str]:
    """The paths under root whose kind, bytes or mtime differ from ``before`` (or that came or went)."""
    after = state(root)
    return sorted(rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel))


def age(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, ns=(OLD_NS, OLD_NS))


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def manifest(out: Path) -> dict[str, object]:
    return json.loads((out / MANIFEST).read_text())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_files(text: str, clusters: list[str] | None = None) -> dict[str, str]:
    return dict(netgen.render(netgen.load(text, name="inventory.yaml"), clusters=clusters))


def no_staging_left(out: Path) -> bool:
    return not any(p.name.startswith(".netgen-staging-") for p in out.rglob("*"))


@pytest.fixture
def inv(tmp_path: Path) -> Callable[[str], Path]:
    """Write inventory text to tmp_path/inventory.yaml (the same file each time)."""

    def write(text: str) -> Path:
        return put(tmp_path / "inventory.yaml", text)

    return write


# --- the first render and the manifest ---------------------------------------------------------


def test_first_render_creates_every_file_and_the_manifest(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    result = run_cli("render", path, "-o", out)
    assert result.exit_code == 0, result.stderr
    rendered = expected_files(TWO)
    assert {f"{c}/talos/nodes/{n}.yaml" for c in ("lab", "edge") for n in NODES} <= set(rendered)
    assert files_of(out) == {*rendered, MANIFEST}
    for rel, text in rendered.items():
        assert (out / rel).read_bytes() == text.encode(), rel
    assert f"{len(rendered) + 1} created, 0 updated, 0 removed, 0 unchanged" in result.stderr
    assert no_staging_left(out)


def test_manifest_lists_every_file_with_its_sha256_version_and_inputs(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    assert run_cli("render", path, "-o", out).exit_code == 0
    raw = (out / MANIFEST).read_text()
    data = json.loads(raw)
    assert set(data) == {"generator", "verifier", "inputs", "files"}
    assert data["generator"] == f"netgen {netgen.__version__}"
    assert data["verifier"] == verifier()
    assert data["inputs"] == {"inventory.yaml": sha256(path.read_bytes())}
    on_disk = files_of(out) - {MANIFEST}
    assert set(data["files"]) == on_disk
    for rel, digest in data["files"].items():
        assert digest == sha256((out / rel).read_bytes()), rel
    # no timestamps anywhere: no date, no epoch-sized number (the digests aside)
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d", raw)
    assert not re.search(r"\b1[5-9]\d{8}\b", re.sub(r"\b[0-9a-f]{64}\b", "", raw))
    assert not any(word in raw.lower() for word in ("time", "date", "created", "modified"))


def test_manifest_inputs_follow_the_inventory(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    first = manifest(out)["inputs"]
    edited = inv(inventory(cluster("lab", "52:54:00", move_cp2), cluster("edge", "52:54:01")))
    assert run_cli("render", edited, "-o", out).exit_code == 0
    second = manifest(out)["inputs"]
    assert second == {"inventory.yaml": sha256(edited.read_bytes())}
    assert second != first


# --- idempotence and minimal writes -------------------------------------------------------------


def test_second_render_changes_no_byte_and_no_mtime(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    assert run_cli("render", path, "-o", out).exit_code == 0
    age(out)
    before_tree, before_times = snapshot(out), mtimes(out)
    assert set(before_times.values()) == {OLD_NS}
    again = run_cli("render", path, "-o", out)
    assert again.exit_code == 0, again.stderr
    assert snapshot(out) == before_tree
    assert mtimes(out) == before_times  # the manifest included
    assert f"0 created, 0 updated, 0 removed, {len(before_times)} unchanged" in again.stderr


def test_changing_one_host_rewrites_only_its_file_and_the_manifest(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    age(out)
    before = snapshot(out)
    edited = inventory(cluster("lab", "52:54:00", move_cp2), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out)
    assert result.exit_code == 0, result.stderr
    touched = {rel for rel, ns in mtimes(out).items() if ns != OLD_NS}
    assert touched == {"lab/talos/nodes/cp-2.yaml", MANIFEST}
    changed = {rel for rel, entry in snapshot(out).items() if before.get(rel) != entry}
    assert changed == touched
    assert b"2001:db8:10::14/64" in (out / "lab/talos/nodes/cp-2.yaml").read_bytes()
    assert manifest(out)["files"]["lab/talos/nodes/cp-2.yaml"] == sha256(
        (out / "lab/talos/nodes/cp-2.yaml").read_bytes()
    )
    assert "0 created, 2 updated, 0 removed" in result.stderr


def test_a_hand_edited_generated_file_is_restored(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    assert run_cli("render", path, "-o", out).exit_code == 0
    good = (out / "lab/talos/nodes/cp-1.yaml").read_bytes()
    (out / "lab/talos/nodes/cp-1.yaml").write_bytes(good + b"# hand edit\n")
    assert run_cli("render", path, "-o", out).exit_code == 0
    assert (out / "lab/talos/nodes/cp-1.yaml").read_bytes() == good


# --- stale files and foreign files --------------------------------------------------------------


def test_removed_host_loses_its_file_and_foreign_files_stay(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    assert "lab/talos/nodes/worker-1.yaml" in manifest(out)["files"]
    foreign = {
        "README": "my notes\n",
        "lab/talos/nodes/notes.txt": "hand-made\n",
        # looks like a generated file, but netgen never wrote it (not in the manifest)
        "lab/talos/nodes/cp-9.yaml": "machine: {}\n",
    }
    for rel, text in foreign.items():
        put(out / rel, text)
    age(out)
    edited = inventory(cluster("lab", "52:54:00", drop_worker1), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out)
    assert result.exit_code == 0, result.stderr
    assert not (out / "lab/talos/nodes/worker-1.yaml").exists()
    assert (out / "edge/talos/nodes/worker-1.yaml").is_file()
    times = mtimes(out)
    for rel, text in foreign.items():
        assert (out / rel).read_text() == text
        assert times[rel] == OLD_NS
    assert "lab/talos/nodes/worker-1.yaml" not in manifest(out)["files"]
    assert not set(foreign) & set(manifest(out)["files"])
    assert "1 removed" in result.stderr
    assert files_of(out) == {*expected_files(edited), MANIFEST, *foreign}


def test_without_a_manifest_nothing_is_removed(run_cli, inv, tmp_path: Path) -> None:
    """netgen knows what it wrote only from the manifest: without one, every file is foreign."""
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    (out / MANIFEST).unlink()
    edited = inventory(cluster("lab", "52:54:00", drop_worker1), cluster("edge", "52:54:01"))
    assert run_cli("render", inv(edited), "-o", out).exit_code == 0
    assert (out / "lab/talos/nodes/worker-1.yaml").is_file()
    assert "lab/talos/nodes/worker-1.yaml" not in manifest(out)["files"]


def test_removed_cluster_keeps_directories_that_hold_foreign_files(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    put(out / "edge/talos/nodes/notes.txt", "hand-made\n")
    result = run_cli("render", inv(inventory(cluster("lab"))), "-o", out)
    assert result.exit_code == 0, result.stderr
    assert (out / "edge/talos/nodes/notes.txt").read_text() == "hand-made\n"
    assert {p.relative_to(out / "edge").as_posix() for p in (out / "edge").rglob("*")} == {
        "talos",
        "talos/nodes",
        "talos/nodes/notes.txt",
    }
    assert not any(rel.startswith("edge/") for rel in manifest(out)["files"])


@pytest.mark.parametrize("foreign", [None, "edge/README"])
def test_removed_cluster_leaves_no_empty_directories(run_cli, inv, tmp_path: Path, foreign: str | None) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    if foreign:
        put(out / foreign, "hand-made\n")
    result = run_cli("render", inv(inventory(cluster("lab"))), "-o", out)
    assert result.exit_code == 0, result.stderr
    assert files_of(out) == {*expected_files(inventory(cluster("lab"))), MANIFEST, *([foreign] if foreign else [])}
    if foreign:
        assert [p.name for p in (out / "edge").iterdir()] == ["README"]
    else:
        assert not (out / "edge").exists()


def whole(files: dict[str, str]) -> netgen.Rendering:
    """Files as a complete rendering: ``write`` removes every netgen file of OUT it lacks."""
    return netgen.Rendering(files=files, clusters=(), complete=True, inputs={})


def test_write_removes_empty_directories_of_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write({"c/a/b/x.yaml": "x\n", "c/keep/y.yaml": "y\n", "d.yaml": "d\n"}, out)
    put(out / "c/keep/notes.txt", "hand-made\n")
    result = netgen.write(whole({"d.yaml": "d\n"}), out)
    assert set(result.removed) == {"c/a/b/x.yaml", "c/keep/y.yaml"}
    assert snapshot(out) == {
        "c": ("dir",),
        "c/keep": ("dir",),
        "c/keep/notes.txt": ("file", b"hand-made\n"),
        "d.yaml": ("file", b"d\n"),
        MANIFEST: ("file", (out / MANIFEST).read_bytes()),
    }


# --- --cluster -----------------------------------------------------------------------------------


def test_cluster_renders_only_that_cluster(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    age(out)
    before, old_manifest = snapshot(out), manifest(out)
    both_moved = inventory(cluster("lab", "52:54:00", move_cp2), cluster("edge", "52:54:01", move_cp2))
    result = run_cli("render", inv(both_moved), "-o", out, "--cluster", "lab")
    assert result.exit_code == 0, result.stderr
    touched = {rel for rel, ns in mtimes(out).items() if ns != OLD_NS}
    assert touched == {"lab/talos/nodes/cp-2.yaml", MANIFEST}
    after = snapshot(out)
    assert {rel: e for rel, e in after.items() if rel.startswith("edge")} == {
        rel: e for rel, e in before.items() if rel.startswith("edge")
    }
    files = manifest(out)["files"]
    assert {r: h for r, h in files.items() if r.startswith("edge/")} == {
        r: h for r, h in old_manifest["files"].items() if r.startswith("edge/")
    }
    assert files["lab/talos/nodes/cp-2.yaml"] == sha256((out / "lab/talos/nodes/cp-2.yaml").read_bytes())
    assert files["lab/talos/nodes/cp-2.yaml"] != old_manifest["files"]["lab/talos/nodes/cp-2.yaml"]


def test_cluster_limits_stale_removal_to_that_cluster(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    age(out)
    before, old_manifest = snapshot(out), manifest(out)
    edge_files = {r: h for r, h in old_manifest["files"].items() if r.startswith("edge/")}
    assert len(edge_files) == 5
    # edge is gone from the inventory and lab lost worker-1: only lab's stale file goes
    only_lab = inventory(cluster("lab", "52:54:00", drop_worker1))
    result = run_cli("render", inv(only_lab), "-o", out, "--cluster", "lab")
    assert result.exit_code == 0, result.stderr
    assert not (out / "lab/talos/nodes/worker-1.yaml").exists()
    after, times = snapshot(out), mtimes(out)
    for rel in edge_files:
        assert after[rel] == before[rel]
        assert times[rel] == OLD_NS
    assert {r: h for r, h in manifest(out)["files"].items() if r.startswith("edge/")} == edge_files
    assert "lab/talos/nodes/worker-1.yaml" not in manifest(out)["files"]
    # and --check of lab alone sees no drift, although edge's files are stale for the whole inventory
    check = run_cli("render", inv(only_lab), "-o", out, "--cluster", "lab", "--check")
    assert (check.exit_code, check.stdout) == (0, "")
    full = run_cli("render", inv(only_lab), "-o", out, "--check")
    assert full.exit_code == 3
    assert "--- a/edge/talos/cluster.yaml\n+++ /dev/null\n" in full.stdout


def test_cluster_is_repeatable(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", inv(TWO), "-o", out, "--cluster", "edge", "--cluster", "lab")
    assert result.exit_code == 0, result.stderr
    assert files_of(out) == {*expected_files(TWO), MANIFEST}


def test_unknown_cluster_is_a_usage_error_naming_the_known_ones(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", inv(TWO), "-o", out, "--cluster", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert "lab" in result.stderr
    assert "edge" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


# --- --check -------------------------------------------------------------------------------------


def test_check_after_a_fresh_render_is_silent(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    assert run_cli("render", path, "-o", out).exit_code == 0
    age(out)
    before = state(out)
    result = run_cli("render", path, "-o", out, "--check")
    assert (result.exit_code, result.stdout) == (0, "")
    assert differences(before, out) == []


def hunks(diff: str) -> dict[tuple[str, str], list[str]]:
    """Split a unified diff into {(from, to): body lines}."""
    found: dict[tuple[str, str], list[str]] = {}
    lines = diff.splitlines(keepends=True)
    index = 0
    current: list[str] = []
    while index < len(lines):
        line = lines[index]
        if line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ "):
            current = found.setdefault((line[4:].rstrip("\n"), lines[index + 1][4:].rstrip("\n")), [])
            index += 2
            continue
        current.append(line)
        index += 1
    return found


def test_check_prints_a_unified_diff_and_writes_nothing(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    put(out / "README", "mine\n")
    age(out)
    before = state(out)
    old_worker1 = (out / "lab/talos/nodes/worker-1.yaml").read_text()
    edited = inventory(cluster("lab", "52:54:00", move_cp2, drop_worker1, add_worker2), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out, "--check")
    assert result.exit_code == 3
    assert differences(before, out) == []
    found = hunks(result.stdout)
    assert set(found) == {
        ("a/lab/talos/nodes/cp-2.yaml", "b/lab/talos/nodes/cp-2.yaml"),
        ("/dev/null", "b/lab/talos/nodes/worker-2.yaml"),
        ("a/lab/talos/nodes/worker-1.yaml", "/dev/null"),
        (f"a/{MANIFEST}", f"b/{MANIFEST}"),
    }
    changed = found["a/lab/talos/nodes/cp-2.yaml", "b/lab/talos/nodes/cp-2.yaml"]
    assert changed[0].startswith("@@ ")
    assert '-  - address: "2001:db8:10::12/64"\n' in changed
    assert '+  - address: "2001:db8:10::14/64"\n' in changed
    new = expected_files(edited)["lab/talos/nodes/worker-2.yaml"]
    body = found["/dev/null", "b/lab/talos/nodes/worker-2.yaml"]
    assert "".join(line[1:] for line in body if line.startswith("+")) == new
    assert not [line for line in body if line[:1] in (" ", "-")]
    body = found["a/lab/talos/nodes/worker-1.yaml", "/dev/null"]
    assert "".join(line[1:] for line in body if line.startswith("-")) == old_worker1
    assert not [line for line in body if line[:1] in (" ", "+")]
    # the real render then does exactly what the diff announced
    assert run_cli("render", inv(edited), "-o", out).exit_code == 0
    assert (out / "lab/talos/nodes/worker-2.yaml").read_text() == new
    assert not (out / "lab/talos/nodes/worker-1.yaml").exists()
    assert run_cli("render", inv(edited), "-o", out, "--check").exit_code == 0


def test_check_sees_a_hand_edited_and_a_deleted_generated_file(run_cli, inv, tmp_path: Path) -> None:
    path = inv(TWO)
    out = tmp_path / "out"
    assert run_cli("render", path, "-o", out).exit_code == 0
    with (out / "lab/talos/cluster.yaml").open("a") as handle:
        handle.write("# hand edit\n")
    (out / "edge/talos/nodes/cp-3.yaml").unlink()
    result = run_cli("render", path, "-o", out, "--check")
    assert result.exit_code == 3
    found = hunks(result.stdout)
    assert set(found) == {
        ("a/lab/talos/cluster.yaml", "b/lab/talos/cluster.yaml"),
        ("/dev/null", "b/edge/talos/nodes/cp-3.yaml"),
    }
    assert "-# hand edit\n" in found["a/lab/talos/cluster.yaml", "b/lab/talos/cluster.yaml"]


def test_check_into_a_missing_out_exits_3_and_creates_nothing(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "out"
    result = run_cli("render", inv(TWO), "-o", out, "--check")
    assert result.exit_code == 3
    assert not (tmp_path / "missing").exists()
    found = hunks(result.stdout)
    assert set(found) == {("/dev/null", f"b/{rel}") for rel in [*expected_files(TWO), MANIFEST]}


def test_check_with_json_format_keeps_stdout_for_diagnostics(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", inv(TWO), "-o", out, "--check", "--format", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == []
    assert "+++ b/lab/talos/cluster.yaml" in result.stderr
    assert not out.exists()


def test_write_check_reports_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write({"a.yaml": "a\n", "b.yaml": "b\n"}, out)
    before = snapshot(out)
    result = netgen.write(whole({"a.yaml": "A\n", "c.yaml": "c\n"}), out, check=True)
    assert (result.created, result.updated, result.removed) == (("c.yaml",), ("a.yaml", MANIFEST), ("b.yaml",))
    assert result.changed
    assert "--- a/b.yaml\n+++ /dev/null\n" in result.diff
    assert snapshot(out) == before


# --- atomicity -----------------------------------------------------------------------------------


def fail_replace(monkeypatch: pytest.MonkeyPatch, after: int) -> list[str]:
    """os.replace succeeds ``after`` times, then fails once (EIO), then works again."""
    original = os.replace
    calls: list[str] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        calls.append(str(target))
        if len(calls) == after + 1:
            raise OSError(errno.EIO, "injected I/O error")
        original(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return calls


#: previous render: lab + edge, plus foreign files
#: next render: a new cluster core (5 new files in new directories), lab's cp-2 changed,
#: edge's worker-1 removed. os.replace calls, in order: core's 5 files (1-5), lab cp-2
#: backup + move (6, 7), manifest backup + move (8, 9), stale edge worker-1 (10).
NEXT = inventory(
    cluster("core", "52:54:02"), cluster("lab", "52:54:00", move_cp2), cluster("edge", "52:54:01", drop_worker1)
)
REPLACE_CALLS = 10


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    netgen.write(netgen.render(netgen.load(TWO, name="inventory.yaml")), out)
    put(out / "README", "mine\n")
    put(out / "lab/talos/nodes/notes.txt", "hand-made\n")
    age(out)
    return out


def test_the_failure_points_cover_every_move(monkeypatch: pytest.MonkeyPatch, previous: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(previous, copy, symlinks=True)
    calls = fail_replace(monkeypatch, after=10**6)
    result = netgen.write(netgen.render(netgen.load(NEXT, name="inventory.yaml")), copy)
    assert len(calls) == REPLACE_CALLS
    assert (len(result.created), result.updated, result.removed) == (
        5,
        ("lab/talos/nodes/cp-2.yaml", MANIFEST),
        ("edge/talos/nodes/worker-1.yaml",),
    )


@pytest.mark.parametrize(
    "after",
    [
        0,
        1,
        2,
        3,
        4,
        5,  # before lab cp-2's backup
        pytest.param(6, id="6-between-backup-and-move"),
        pytest.param(7, id="7-just-before-the-manifest"),
        pytest.param(8, id="8-manifest-between-backup-and-move"),
        pytest.param(9, id="9-stale-removal"),
    ],
)
def test_failed_write_leaves_out_as_it_was(monkeypatch: pytest.MonkeyPatch, previous: Path, after: int) -> None:
    rendering = netgen.render(netgen.load(NEXT, name="inventory.yaml"))
    before = state(previous)
    calls = fail_replace(monkeypatch, after)
    with pytest.raises(netgen.OutputError, match="injected I/O error"):
        netgen.write(rendering, previous)
    assert len(calls) > after  # the failure really happened
    monkeypatch.undo()
    assert differences(before, previous) == []
    assert no_staging_left(previous)


@pytest.mark.parametrize("threads", [False, True], ids=["one-thread", "threads"])
def test_failed_staging_leaves_out_as_it_was(monkeypatch: pytest.MonkeyPatch, previous: Path, threads: bool) -> None:
    if threads:  # a large render stages its files on several threads
        monkeypatch.setattr(write_module, "STAGING_THREADS_FROM", 1)
    rendering = netgen.render(netgen.load(NEXT, name="inventory.yaml"))
    before = state(previous)
    original = write_module._create
    calls: list[int] = []

    def create(file: str, data: bytes) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(file, data)

    monkeypatch.setattr(write_module, "_create", create)
    with pytest.raises(netgen.OutputError, match="No space left"):
        netgen.write(rendering, previous)
    monkeypatch.undo()
    # the other threads finish their shares before the failure is reported
    assert len(calls) == 3 if not threads else len(calls) >= 3
    assert differences(before, previous) == []
    assert no_staging_left(previous)


def test_failed_write_into_a_missing_out_leaves_no_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "out"
    fail_replace(monkeypatch, 0)
    with pytest.raises(netgen.OutputError):
        netgen.write({"lab/talos/cluster.yaml": "x: 1\n"}, out)
    assert not out.exists()


@pytest.mark.parametrize("after", [0, 7])
def test_failed_write_through_the_cli_exits_1_without_traceback(
    run_cli, monkeypatch: pytest.MonkeyPatch, inv, previous: Path, after: int
) -> None:
    path = inv(NEXT)
    before = state(previous)
    fail_replace(monkeypatch, after)
    result = run_cli("render", path, "-o", previous)
    assert result.exit_code == 1
    assert result.stderr.startswith("netgen: error: ")
    assert "injected I/O error" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert differences(before, previous) == []
    assert no_staging_left(previous)


# --- what OUT must be ----------------------------------------------------------------------------


def test_out_is_a_regular_file(run_cli, inv, tmp_path: Path) -> None:
    out = put(tmp_path / "out", "not a directory\n")
    os.utime(out, ns=(OLD_NS, OLD_NS))
    for extra in ((), ("--check",)):
        result = run_cli("render", inv(TWO), "-o", out, *extra)
        assert result.exit_code == 1
        assert f"{out} exists and is not a directory" in result.stderr
        assert "Traceback" not in result.stderr
        assert out.read_text() == "not a directory\n"
        assert out.stat().st_mtime_ns == OLD_NS


def test_out_is_a_symlink_to_a_directory(run_cli, inv, tmp_path: Path) -> None:
    target = tmp_path / "real"
    netgen.write(netgen.render(netgen.load(TWO, name="inventory.yaml")), target)
    age(target)
    before = state(target)
    out = tmp_path / "out"
    out.symlink_to(target, target_is_directory=True)
    edited = inventory(cluster("lab", "52:54:00", move_cp2), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out)
    assert result.exit_code == 1
    assert "symbolic link" in result.stderr
    assert "Traceback" not in result.stderr
    assert differences(before, target) == []
    assert out.is_symlink()


def test_a_directory_of_out_replaced_by_a_file(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    shutil.rmtree(out / "lab/talos/nodes")
    put(out / "lab/talos/nodes", "I am a file\n")
    age(out)
    before = state(out)
    # cluster.yaml changes too, and sorts before nodes/: it is written, then rolled back
    edited = inventory(cluster("lab", "52:54:00", other_service_cidr), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out)
    assert result.exit_code == 1
    assert "lab/talos/nodes is not a directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert differences(before, out) == []
    assert no_staging_left(out)


def test_a_directory_at_a_rendered_path_is_not_deleted(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    put(out / "lab/talos/nodes/cp-1.yaml/notes.txt", "hand-made\n")
    result = run_cli("render", inv(TWO), "-o", out)
    assert (out / "lab/talos/nodes/cp-1.yaml/notes.txt").read_text() == "hand-made\n"
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr


CORRUPT_MANIFESTS = {
    "not-json": "{this is not json\n",
    "not-utf8": '{"files": {"\xff": "0"}}',
    "a-list": "[]\n",
    "no-files": json.dumps({"generator": "netgen 0.1.0", "inputs": {}}),
    "files-a-list": json.dumps({"files": ["lab/talos/cluster.yaml"]}),
    "dotdot": json.dumps({"files": {"../../etc/passwd": "0" * 64}}),
    "inner-dotdot": json.dumps({"files": {"lab/../../../etc/passwd": "0" * 64}}),
    "absolute": None,  # filled in with a path under tmp_path
}


@pytest.mark.parametrize("kind", sorted(CORRUPT_MANIFESTS))
def test_a_corrupt_manifest_stops_everything(run_cli, inv, tmp_path: Path, kind: str) -> None:
    out = tmp_path / "a" / "out"
    victim = put(tmp_path / "etc" / "passwd", "root:x:0:0\n")  # where ../../etc/passwd points from OUT
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    text = CORRUPT_MANIFESTS[kind]
    if text is None:
        text = json.dumps({"files": {str(victim): "0" * 64}})
    if kind == "not-utf8":
        (out / MANIFEST).write_bytes(text.encode("latin-1"))
    else:
        (out / MANIFEST).write_text(text)
    age(tmp_path)
    edited = inventory(cluster("lab", "52:54:00", drop_worker1, move_cp2), cluster("edge", "52:54:01"))
    path = inv(edited)
    before = state(tmp_path)
    for extra in ((), ("--check",)):
        result = run_cli("render", path, "-o", out, *extra)
        assert result.exit_code == 1, result.stderr
        assert f"{out / MANIFEST} is not a netgen manifest" in result.stderr
        assert "Traceback" not in result.stderr
        assert differences(before, tmp_path) == []


def test_a_manifest_entry_through_a_symlink_deletes_nothing_outside_out(run_cli, inv, tmp_path: Path) -> None:
    out = tmp_path / "out"
    victim = tmp_path / "victim"
    put(victim / "secret.txt", "keep me\n")
    path = inv(TWO)
    assert run_cli("render", path, "-o", out).exit_code == 0
    (out / "lab/link").symlink_to(victim, target_is_directory=True)
    data = manifest(out)
    data["files"]["lab/link/secret.txt"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(data))
    result = run_cli("render", path, "-o", out)
    assert (victim / "secret.txt").read_text() == "keep me\n"
    assert result.exit_code in (0, 1), result.stderr
    assert "internal error" not in result.stderr


# --- the library: paths must stay inside OUT ----------------------------------------------------


@pytest.mark.parametrize("bad", ["../escape.yaml", "/abs.yaml", "lab/../../escape.yaml", "", "nul\0.yaml"])
@pytest.mark.parametrize("existing", [False, True], ids=["fresh-out", "previous-render"])
def test_write_refuses_paths_outside_out(tmp_path: Path, bad: str, existing: bool) -> None:
    out = tmp_path / "sub" / "out"
    if existing:
        netgen.write({"ok.yaml": "old\n"}, out)
        age(tmp_path)
    before = state(tmp_path)
    with pytest.raises(netgen.OutputError, match="must stay inside OUT"):
        netgen.write({"ok.yaml": "new\n", bad: "escaped\n"}, out)
    assert differences(before, tmp_path) == []
    assert not (tmp_path / "sub" / "escape.yaml").exists()
    assert not Path("/abs.yaml").exists()


def test_write_of_a_plain_dict_records_it_in_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = netgen.write({"x/a.yaml": "a\n"}, out)
    assert result.created == (MANIFEST, "x/a.yaml")
    assert manifest(out) == {
        "generator": f"netgen {netgen.__version__}",
        "inputs": {},
        "files": {"x/a.yaml": sha256(b"a\n")},
    }


# --- --strict -----------------------------------------------------------------------------------


def test_strict_with_a_warning_exits_1_and_writes_nothing(run_cli, inv, tmp_path: Path) -> None:
    warned = inventory(cluster("lab", "52:54:00", mac_altname), cluster("edge", "52:54:01"))
    fresh = tmp_path / "fresh"
    result = run_cli("render", inv(warned), "-o", fresh, "--strict")
    assert result.exit_code == 1
    assert "NG106" in result.stderr
    assert "nothing was written" in result.stderr
    assert not fresh.exists()
    # over a previous render: nothing changes either
    out = tmp_path / "out"
    assert run_cli("render", inv(TWO), "-o", out).exit_code == 0
    age(out)
    before = state(out)
    edited = inventory(cluster("lab", "52:54:00", mac_altname, move_cp2), cluster("edge", "52:54:01"))
    result = run_cli("render", inv(edited), "-o", out, "--strict")
    assert result.exit_code == 1
    assert differences(before, out) == []
    # without --strict the warning is only reported, and the render happens
    result = run_cli("render", inv(edited), "-o", out)
    assert result.exit_code == 0
    assert "NG106" in result.stderr
    assert b"2001:db8:10::14/64" in (out / "lab/talos/nodes/cp-2.yaml").read_bytes()


def test_a_second_render_into_the_same_out_fails_at_once(run_cli, tmp_path: Path) -> None:
    """Two renders into one OUT at the same time must not interleave: the loser gets a clear
    error and OUT stays as the winner leaves it."""
    import fcntl
    import os

    out = tmp_path / "out"
    assert run_cli("render", EXAMPLE, "-o", out).exit_code == 0
    before = snapshot(out)
    edited = tmp_path / "inventory.yaml"
    edited.write_text(EXAMPLE_TEXT.replace("cp-1", "cp-9"))
    holder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another render is writing OUT
    try:
        loser = run_cli("render", edited, "-o", out)
        assert loser.exit_code == 1
        assert "another netgen render is writing" in loser.stderr
        assert "Traceback" not in loser.stderr
        assert snapshot(out) == before
        assert run_cli("render", edited, "-o", out, "--check").exit_code == 3, "--check only reads: no lock"
    finally:
        os.close(holder)
    assert run_cli("render", edited, "-o", out).exit_code == 0
    assert (out / "lab" / "talos" / "nodes" / "cp-9.yaml").is_file()
    assert not any(p.name.startswith(".netgen") for p in out.rglob("*")), "no lock file is left in OUT"


def test_concurrent_renders_never_mix(tmp_path: Path) -> None:
    """Two processes rendering different inventories into one OUT: each one either wins or
    fails cleanly, and OUT ends as exactly one complete render, never a mix of both."""
    import subprocess
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import inventory

    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(inventory(300, seed=1))
    second.write_text(inventory(300, seed=2))
    expected = {}
    for source in (first, second):
        separate = tmp_path / f"alone-{source.stem}"
        netgen.write(netgen.render(netgen.load(source)), separate)
        expected[source.stem] = snapshot_bytes(separate)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "netgen", "render"]
    runs = [
        subprocess.Popen([*command, str(source), "-o", str(out)], stderr=subprocess.PIPE, text=True)
        for source in (first, second)
    ]
    stderrs = [run.communicate(timeout=300)[1] for run in runs]
    results = [(run.returncode, stderr) for run, stderr in zip(runs, stderrs, strict=True)]
    for code, stderr in results:
        assert code in (0, 1), stderr
        assert code == 0 or "another netgen render is writing" in stderr, stderr
        assert "Traceback" not in stderr
    assert any(code == 0 for code, _ in results)
    assert snapshot_bytes(out) in expected.values()


def snapshot_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_files_staged_on_threads_are_those_staged_on_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rendering = netgen.render(netgen.load(NEXT, name="inventory.yaml"))
    netgen.write(rendering, tmp_path / "one")
    original, shares = write_module._stage, []

    def stage(jobs: list[tuple[str, str]]) -> None:
        shares.append(len(jobs))
        original(jobs)

    monkeypatch.setattr(write_module, "STAGING_THREADS_FROM", 1)
    monkeypatch.setattr(write_module, "_stage", stage)
    netgen.write(rendering, tmp_path / "threads")
    # every file and the manifest, in one share per thread
    assert len(shares) == write_module.STAGING_THREADS
    assert sum(shares) == len(rendering.files) + 1
    assert snapshot(tmp_path / "threads") == snapshot(tmp_path / "one")
