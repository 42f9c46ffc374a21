"""What ``netgen.write`` may remove: only inside what was rendered.

A :class:`netgen.Rendering` carries its scope (the clusters rendered, or the whole inventory);
any other mapping of paths to texts carries none, and writing one removes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netgen
from netgen.write import MANIFEST
from test_write import cluster, drop_worker1, inventory, move_cp2, put, snapshot

NAMES = ("core", "lab", "edge", "dc-1", "dc-2", "dc-3")
SIX = inventory(*(cluster(name, f"52:54:0{i}") for i, name in enumerate(NAMES)))


def files_of_cluster(tree: dict[str, object], name: str) -> dict[str, object]:
    return {path: entry for path, entry in tree.items() if path.split("/", 1)[0] == name}


def test_writing_a_plain_mapping_of_one_cluster_removes_nothing_of_the_others(tmp_path: Path) -> None:
    """The data loss this guards against: one cluster rendered, written as a plain dict, and the
    other clusters' files gone (a plain mapping used to count as a complete render)."""
    out = tmp_path / "out"
    inventory_ = netgen.load(SIX, name="inventory.yaml")
    netgen.write(netgen.render(inventory_), out)
    before = snapshot(out)
    assert all(files_of_cluster(before, name) for name in NAMES)

    one = netgen.render(inventory_, clusters=["lab"])
    result = netgen.write(dict(one), out)
    assert result.removed == ()
    after = snapshot(out)
    assert {p: e for p, e in after.items() if p != MANIFEST} == {p: e for p, e in before.items() if p != MANIFEST}
    # the manifest still lists every cluster's files, so a later render can clean them up
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert set(listed) == {p for p, e in after.items() if e[0] == "file" and p != MANIFEST}
    # a plain mapping was never verified by netgen, and came from no inventory it knows of
    assert netgen.write(netgen.render(inventory_), out, check=True).updated == (MANIFEST,)


def test_a_plain_mapping_replaces_its_own_paths_and_keeps_every_other_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write(netgen.render(netgen.load(SIX, name="inventory.yaml")), out)
    before = snapshot(out)
    result = netgen.write({"lab/talos/cluster.yaml": "# changed\n", "extra/notes.yaml": "a: 1\n"}, out)
    assert (result.created, result.updated, result.removed) == (
        ("extra/notes.yaml",),
        ("lab/talos/cluster.yaml", MANIFEST),
        (),
    )
    after = snapshot(out)
    assert set(before) <= set(after)


def test_a_rendering_of_some_clusters_removes_stale_files_there_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    netgen.write(netgen.render(netgen.load(SIX, name="inventory.yaml")), out)
    before = snapshot(out)
    fewer = inventory(*(cluster(name, f"52:54:0{i}", drop_worker1) for i, name in enumerate(NAMES)))
    result = netgen.write(netgen.render(netgen.load(fewer, name="inventory.yaml"), clusters=["lab", "edge"]), out)
    assert sorted(result.removed) == ["edge/talos/nodes/worker-1.yaml", "lab/talos/nodes/worker-1.yaml"]
    after = snapshot(out)
    for name in set(NAMES) - {"lab", "edge"}:
        assert files_of_cluster(after, name) == files_of_cluster(before, name)


def test_a_rendering_is_a_frozen_value() -> None:
    rendering = netgen.render(netgen.load(SIX, name="inventory.yaml"), clusters=["lab"])
    assert rendering.clusters == ("lab",) and rendering.complete is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendering.clusters = ("lab", "edge")  # type: ignore[misc]
    with pytest.raises(TypeError):
        rendering.files["lab/extra.yaml"] = "x\n"  # type: ignore[index]
    with pytest.raises(TypeError):
        rendering.inputs["other.yaml"] = "0" * 64  # type: ignore[index]
    assert isinstance(rendering.warnings, tuple)
    # it reads like the mapping of its files
    assert dict(rendering) == dict(rendering.files) and len(rendering) == len(rendering.files)
    assert all(path.startswith("lab/") for path in rendering)
    whole = netgen.render(netgen.load(SIX, name="inventory.yaml"))
    assert whole.complete is True and whole.clusters == NAMES


def test_write_refuses_what_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="takes what render"):
        netgen.write([("a.yaml", "a\n")], tmp_path / "out")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


# --- the property: no sequence of renders and writes removes a file of a cluster it did not render


FOUR = NAMES[:4]
VARIANTS = (
    inventory(*(cluster(name, f"52:54:0{i}") for i, name in enumerate(FOUR))),
    inventory(*(cluster(name, f"52:54:0{i}", drop_worker1) for i, name in enumerate(FOUR))),
    inventory(*(cluster(name, f"52:54:0{i}", move_cp2) for i, name in enumerate(FOUR))),
)


@cache
def rendered(variant: int, selection: tuple[str, ...] | None) -> netgen.Rendering:
    loaded = netgen.load(VARIANTS[variant], name="inventory.yaml")
    return netgen.render(loaded, clusters=list(selection) if selection is not None else None)


STEP = st.tuples(
    st.integers(0, len(VARIANTS) - 1),
    st.one_of(st.none(), st.sets(st.sampled_from(FOUR), min_size=1).map(lambda s: tuple(sorted(s)))),
    st.sampled_from(["rendering", "mapping", "part"]),
    st.booleans(),
)


@settings(
    max_examples=int(os.environ.get("NETGEN_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    derandomize=os.environ.get("NETGEN_HYPOTHESIS_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_no_write_removes_a_file_outside_what_was_rendered(
    steps: list[tuple[int, tuple[str, ...] | None, str, bool]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        put(out / "lab" / "notes.txt", "hand-made\n")
        for variant, selection, form, check in steps:
            rendering = rendered(variant, selection)
            if form == "rendering":
                given_: netgen.Rendering | dict[str, str] = rendering
            elif form == "mapping":
                given_ = dict(rendering)
            else:
                given_ = {p: t for i, (p, t) in enumerate(sorted(rendering.items())) if i % 2 == 0}
            before = snapshot(out)
            result = netgen.write(given_, out, check=check)
            after = snapshot(out)
            if check:
                assert after == before, "--check writes nothing"
                continue
            assert after["lab/notes.txt"] == ("file", b"hand-made\n"), "a file netgen did not write stays"
            removed = {p for p in before if p not in after and before[p][0] == "file"}
            assert removed == set(result.removed)
            if form != "rendering":
                assert removed == set(), "a plain mapping removes nothing"
                continue
            for name in set(FOUR) - set(rendering.clusters):
                assert files_of_cluster(after, name) == files_of_cluster(before, name), (
                    f"cluster {name} was not rendered, yet its files changed"
                )
            for path in removed:
                assert path.split("/", 1)[0] in rendering.clusters
