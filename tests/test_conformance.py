"""Conformance: netgen's Talos output against the schemas Talos itself publishes.

Each document of each Talos file of every golden output is validated separately against
``../shared/upstream/talos/v1.<minor>/config.schema.json`` for its target minor; legacy
output (Talos <= 1.11) against the v1.11 schema, the newest published for that dialect.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

import netgen
from netgen.model import TalosVersion
from netgen.planners.talos import MULTIDOC_SINCE, SUPPORTED_VERSIONS
from test_golden import CASES, Case

pytestmark = pytest.mark.conformance

LEGACY_SCHEMA = TalosVersion(1, 11)


def schema_version(target: TalosVersion) -> TalosVersion:
    return target if target >= MULTIDOC_SINCE else LEGACY_SCHEMA


@cache
def talos_validator(upstream: Path, version: TalosVersion) -> Draft202012Validator:
    schema = json.loads((upstream / "talos" / f"v{version}" / "config.schema.json").read_text())
    return Draft202012Validator(schema)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_talos_output_conforms(case: Case, upstream: Path) -> None:
    inventory = netgen.load(case.inventory, facts=_facts(case))
    checked = 0
    for cluster in inventory.clusters:
        validator = talos_validator(upstream, schema_version(cluster.talos_version))
        files = sorted((case.expected / cluster.name / "talos").rglob("*.yaml"))
        assert files, f"no Talos output for {cluster.name} in {case.expected}"
        for path in files:
            for index, document in enumerate(YAML(typ="safe").load_all(path.read_text())):
                error = best_match(validator.iter_errors(document))
                assert error is None, f"{path} document {index + 1}: {error.message}"
                checked += 1
    assert checked


def test_every_supported_version_has_a_golden_case() -> None:
    targets = {c.talos_version for case in CASES for c in netgen.load(case.inventory, facts=_facts(case)).clusters}
    assert set(SUPPORTED_VERSIONS) <= targets


def test_every_supported_version_has_an_upstream_schema(upstream: Path) -> None:
    for version in SUPPORTED_VERSIONS:
        assert (upstream / "talos" / f"v{schema_version(version)}" / "config.schema.json").is_file()


def test_legacy_output_fails_the_multidoc_schema(upstream: Path) -> None:
    """The dialect split is real: legacy interfaces are not in the v1.12+ schema (so the
    conformance test above would catch legacy output emitted for a >= 1.12 target)."""
    legacy = next(c for c in CASES if c.name == "f1-legacy")
    document = next(iter(YAML(typ="safe").load_all((legacy.expected / "edge/talos/nodes/cp-1.yaml").read_text())))
    assert best_match(talos_validator(upstream, MULTIDOC_SINCE).iter_errors(document)) is not None


def _facts(case: Case) -> list[Path]:
    return [case.facts] if case.facts else []
