"""The progress line: only for long renders on a terminal, never in CI or pipes."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

import netgen
from conftest import ROOT
from netgen import cli


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def big_inventory() -> netgen.Inventory:
    inventory = netgen.load(ROOT / "tests" / "data" / "talos-only.yaml")
    cluster = inventory.clusters[0]
    hosts = cluster.hosts * (cli.PROGRESS_MIN_HOSTS // len(cluster.hosts) + 1)
    return replace(inventory, clusters=(replace(cluster, hosts=hosts),))


def test_terminal_gets_a_progress_line(monkeypatch: pytest.MonkeyPatch, big_inventory: netgen.Inventory) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    report = cli.progress_bar(big_inventory)
    assert report is not None
    report(1, 2)
    report(2, 2)
    assert terminal.getvalue() == "\rnetgen: rendering cluster 1/2\r\x1b[K"


def test_no_progress_in_ci_pipes_or_small_renders(monkeypatch: pytest.MonkeyPatch, big_inventory) -> None:
    monkeypatch.setattr("sys.stderr", Terminal())
    monkeypatch.setenv("CI", "true")
    assert cli.progress_bar(big_inventory) is None
    monkeypatch.delenv("CI")
    small = netgen.load(ROOT / "tests" / "data" / "talos-only.yaml")
    assert cli.progress_bar(small) is None
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert cli.progress_bar(big_inventory) is None
