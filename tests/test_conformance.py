"""Conformance: netgen's output against the schemas its consumers themselves publish.

Each document of each Talos file of every golden output is validated separately against
``../shared/upstream/talos/v1.<minor>/config.schema.json`` for its target minor; legacy
output (Talos <= 1.11) against the v1.11 schema, the newest published for that dialect.

Every document of every ``kubernetes/metallb.yaml`` is validated against the
``openAPIV3Schema`` of its MetalLB CRD (``metallb/v*/config/crd/bases``, each stored version);
every NetworkAttachmentDefinition against the Multus v4.3.0 CRD; every vcluster values file
whose minor has a stored ``vcluster/v<minor>.<patch>/values.schema.json`` against it (Draft
2020-12). Legacy (<= 0.19) vcluster values have no schema: what matters there is checked.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

import netgen
from netgen.model import Cluster, Family, VCluster, Version
from netgen.targets import (
    METALLB,
    TALOS,
    TALOS_KUBERNETES_DOCUMENTS_SINCE,
    TALOS_MULTIDOC_SINCE,
    VCLUSTER_YAML_SINCE,
    talos_target,
)
from test_golden import CASES, Case

pytestmark = pytest.mark.conformance

SUPPORTED_VERSIONS = [target.version for target in TALOS]


def schema_version(target: Version) -> str:
    """The upstream schema a target's output conforms to (1.10 has none of its own: v1.11)."""
    return talos_target(target).schema


@cache
def talos_validator(upstream: Path, version: str) -> Draft202012Validator:
    schema = json.loads((upstream / "talos" / version / "config.schema.json").read_text())
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
        assert (upstream / "talos" / schema_version(version) / "config.schema.json").is_file()


def test_legacy_output_fails_the_multidoc_schema(upstream: Path) -> None:
    """The dialect split is real: legacy interfaces are not in the v1.12+ schema (so the
    conformance test above would catch legacy output emitted for a >= 1.12 target)."""
    legacy = next(c for c in CASES if c.name == "f1-legacy")
    document = next(iter(YAML(typ="safe").load_all((legacy.expected / "edge/talos/nodes/cp-1.yaml").read_text())))
    assert best_match(talos_validator(upstream, schema_version(TALOS_MULTIDOC_SINCE)).iter_errors(document)) is not None


#: the v1alpha1 keys whose settings the Kubernetes documents take over: Talos rejects a config
#: that sets them next to those documents (which `talosctl gen config` writes from 1.14 on)
REPLACED_BY_KUBERNETES_DOCUMENTS = (
    ("machine", "kubelet"),
    ("cluster", "network"),
    ("cluster", "controlPlane"),
    ("cluster", "clusterName"),
)
KUBERNETES_KINDS = {"KubeClusterConfig", "KubeNetworkConfig", "KubeNodeConfig"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kubernetes_settings_never_conflict(case: Case) -> None:
    """For a target with Kubernetes documents no v1alpha1 document sets what they replace
    (Talos rejects `.machine.kubelet.nodeIP is already set in v1alpha1 config` and the like),
    and each setting is in its document, once (the kinds have no name: a second one would be a
    duplicate document). Older targets get none of these kinds, which their Talos does not know."""
    inventory = netgen.load(case.inventory, facts=_facts(case))
    for cluster in inventory.clusters:
        documents_since = talos_target(cluster.talos_version).kubernetes_documents
        for path in sorted((case.expected / cluster.name / "talos").rglob("*.yaml")):
            documents = list(YAML(typ="safe").load_all(path.read_text()))
            kinds = [d["kind"] for d in documents if "kind" in d]
            v1alpha1 = [d for d in documents if "kind" not in d]
            assert len(v1alpha1) <= 1, path
            if not documents_since:
                assert not KUBERNETES_KINDS & set(kinds), path
                continue
            for document in v1alpha1:
                conflicts = [f"{a}.{b}" for a, b in REPLACED_BY_KUBERNETES_DOCUMENTS if b in document.get(a, {})]
                assert not conflicts, f"{path}: {conflicts} next to the Kubernetes documents"
            by_kind = {d["kind"]: d for d in documents if "kind" in d}
            if path.name == "cluster.yaml":
                assert kinds.count("KubeNetworkConfig") == 1, path
                assert kinds.count("KubeClusterConfig") == (cluster.endpoint is not None), path
                if cluster.endpoint is not None:
                    kube_cluster = by_kind["KubeClusterConfig"]
                    assert (kube_cluster["clusterName"], kube_cluster["endpoint"]) == (cluster.name, cluster.endpoint)
            else:
                assert kinds.count("KubeNodeConfig") == 1, path
                assert not {"KubeClusterConfig", "KubeNetworkConfig"} & set(kinds), path


def test_kubernetes_settings_split_is_real(upstream: Path) -> None:
    """The 1.13 output's v1alpha1 Kubernetes settings (`machine.kubelet.nodeIP`,
    `cluster.network`, `cluster.controlPlane.endpoint`) fail the v1.14 schema, so the
    conformance test above would catch them emitted for a >= 1.14 target; and the Kubernetes
    documents fail the v1.13 schema, whose Talos does not know them."""
    since = TALOS_KUBERNETES_DOCUMENTS_SINCE
    before = max(t.version for t in TALOS if t.version < since)
    old, new = (next(c for c in CASES if c.name == name) for name in ("f2-ipv6-node-ip", "talos-1.14"))
    assert {c.talos_version for c in netgen.load(old.inventory).clusters} == {before}
    assert {c.talos_version for c in netgen.load(new.inventory).clusters} == {since}
    for case, schema_of, holds_settings in (
        (old, since, lambda document: "kind" not in document),
        (new, before, lambda document: document.get("kind") in KUBERNETES_KINDS),
    ):
        validator = talos_validator(upstream, schema_version(schema_of))
        (cluster,) = (p.parent for p in case.expected.glob("*/talos"))
        for path in (cluster / "talos" / "cluster.yaml", cluster / "talos" / "nodes" / "cp-1.yaml"):
            settings = [d for d in YAML(typ="safe").load_all(path.read_text()) if holds_settings(d)]
            assert settings, path
            for document in settings:
                assert best_match(validator.iter_errors(document)) is not None, f"{path} passes {schema_of}"


def _facts(case: Case) -> list[Path]:
    return [case.facts] if case.facts else []


# --- Kubernetes resources: MetalLB and Multus CRDs ------------------------------------------
#
# A CRD's openAPIV3Schema is a structural OpenAPI v3 schema. It becomes JSON Schema by dropping
# the `x-kubernetes-*` markers (jsonschema would ignore them anyway) and turning `nullable` into a
# `null` type. The API server prunes fields a structural schema does not declare, and `kubectl
# apply` (strict field validation, its default) rejects them; so every object schema that lists
# `properties` is closed here, unless it keeps unknown fields. CEL rules
# (`x-kubernetes-validations`) cannot be checked here: a schema with any fails loudly instead of
# being checked less than the API server checks it.

METALLB_VERSIONS = tuple(t.release for t in METALLB)
METALLB_KINDS = {"IPAddressPool", "L2Advertisement", "BFDProfile", "BGPPeer", "BGPAdvertisement"}
MULTUS_CRD = Path("multus-cni", "v4.3.0", "network-attachment-definitions.k8s.cni.cncf.io.crd.yaml")
NAD = "NetworkAttachmentDefinition"
ATTACHMENT_KINDS = {NAD, "Subnet"}  # no Kube-OVN CRD is stored upstream: Subnets are not validated here
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


#: the CEL rules of the CRDs netgen writes for, each as the JSON Schema that checks the same on
#: create (``False`` for a field netgen never writes: a document that sets it fails loudly)
CEL_RULES: dict[str, Any] = {
    # BGPPeer connectTime (1..65535 whole seconds): netgen writes no connectTime
    "duration(self).getSeconds() >= 1 && duration(self).getSeconds() <= 65535": False,
    "duration(self).getMilliseconds() % 1000 == 0": False,
    # BGPPeer enableGracefulRestart is immutable: a transition rule, vacuous on create
    "self == oldSelf": True,
    # v0.16 BGPAdvertisement: serviceSelectors only with the default aggregation lengths
    "!has(self.serviceSelectors) || self.serviceSelectors.size() == 0 || ((!has(self.aggregationLength) "
    "|| self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))": {
        "if": {"required": ["serviceSelectors"], "properties": {"serviceSelectors": {"minItems": 1}}},
        "then": {"properties": {"aggregationLength": {"const": 32}, "aggregationLengthV6": {"const": 128}}},
    },
}


def _cel(node: dict[str, Any], at: str) -> list[Any]:
    """The JSON Schema equivalents of a node's CEL rules; a rule without one fails loudly."""
    equivalents = []
    for validation in node.get("x-kubernetes-validations", []):
        rule = " ".join(validation["rule"].split())
        if rule not in CEL_RULES:
            raise AssertionError(f"{at or '/'}: CEL rule {rule!r} has no JSON Schema equivalent in CEL_RULES")
        equivalents.append(CEL_RULES[rule])
    return equivalents


def crd_json_schema(node: dict[str, Any], at: str = "") -> dict[str, Any]:
    """One structural OpenAPI v3 schema node as a JSON Schema node, as strict as the API server."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: crd_json_schema(sub, f"{at}/{name}") for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = crd_json_schema(value, f"{at}/{key}")
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [crd_json_schema(sub, f"{at}/{key}") for sub in value]
        else:
            out[key] = value
    if cel := _cel(node, at):
        out["allOf"] = [*out.get("allOf", []), *cel]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if "properties" in node and not keeps_unknown:
        out["additionalProperties"] = False
    return out


@dataclass(frozen=True)
class Resource:
    """One served version of a CRD: what an object of it must look like."""

    crd: Path
    namespaced: bool
    #: the openAPIV3Schema as the CRD has it, converted on first use (only kinds netgen writes
    #: are converted: other CRDs of the same project may carry CEL rules)
    openapi: dict[str, Any] = field(compare=False, hash=False)

    @cached_property
    def validator(self) -> Draft202012Validator:
        schema = crd_json_schema(self.openapi)
        Draft202012Validator.check_schema(schema)
        return Draft202012Validator(schema)


@cache
def crd_resources(*paths: Path) -> dict[tuple[str, str], Resource]:
    """Every served version of the CRDs in these files, by (apiVersion, kind)."""
    resources = {}
    for path in paths:
        for crd in YAML(typ="safe").load_all(path.read_text()):
            assert crd["kind"] == "CustomResourceDefinition", path
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served", False):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    openapi = version["schema"]["openAPIV3Schema"]
                    resources[key] = Resource(path, spec["scope"] == "Namespaced", openapi)
    return resources


def metallb_resources(upstream: Path, version: str) -> dict[tuple[str, str], Resource]:
    # config/crd/bases, not the chart's crds.yaml: that one is a Helm template
    return crd_resources(*sorted((upstream / "metallb" / version / "config" / "crd" / "bases").glob("*.yaml")))


def multus_resources(upstream: Path) -> dict[tuple[str, str], Resource]:
    return crd_resources(upstream / MULTUS_CRD)


def check_resource(resources: dict[tuple[str, str], Resource], document: Any, where: str) -> None:
    """The document is an object of one of these CRDs and valid against its schema."""
    assert isinstance(document, dict), f"{where}: not a mapping"
    key = (document.get("apiVersion"), document.get("kind"))
    assert key in resources, f"{where}: {key} is not served by {sorted(resources)}"
    resource = resources[key]
    error = best_match(resource.validator.iter_errors(document))
    assert error is None, f"{where}: {error.json_path}: {error.message} (schema of {resource.crd.name})"
    # `metadata` is only `type: object` in a CRD; the API server checks it as ObjectMeta
    metadata = document["metadata"]
    assert isinstance(metadata.get("name"), str), f"{where}: metadata.name"
    if resource.namespaced:
        # without it, kubectl puts the object in whatever namespace the context has
        assert isinstance(metadata.get("namespace"), str), f"{where}: a namespaced object without namespace"


def load_documents(path: Path) -> list[Any]:
    return read_alike(path.read_text(), path)


def read_alike(text: str, where: object) -> list[Any]:
    """The text's documents, which must read the same with a YAML 1.1 parser (kubectl's and
    Helm's, through sigs.k8s.io/yaml) as with YAML 1.2: what is validated is what they get."""
    documents = list(_YAML12.load_all(text))
    assert list(_YAML11.load_all(text)) == documents, f"{where}: YAML 1.1 reads it differently"
    return documents


_YAML12 = YAML(typ="safe")
_YAML11 = YAML(typ="safe")
_YAML11.version = (1, 1)


def metallb_files(case: Case) -> list[Path]:
    return sorted(case.expected.glob("*/kubernetes/metallb.yaml"))


def attachment_files(case: Case) -> list[Path]:
    return sorted(case.expected.glob("*/kubernetes/attachments/**/*.yaml"))


def metallb_block_ok(text: str) -> bool:
    """A pool block as MetalLB's parser takes it: a prefix, or first-last of one family."""
    try:
        if "-" not in text:
            ipaddress.ip_network(text)  # strict: MetalLB would silently widen a prefix with host bits
            return True
        first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-"))
    except ValueError:
        return False
    return first.version == last.version and first <= last


@pytest.mark.parametrize("version", METALLB_VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_metallb_output_conforms(case: Case, version: str, upstream: Path) -> None:
    resources = metallb_resources(upstream, version)
    for path in metallb_files(case):
        defined: set[tuple[str, str, str]] = set()
        referred: list[tuple[str, str, str, str]] = []
        for index, document in enumerate(load_documents(path)):
            where = f"{path} document {index + 1}"
            check_resource(resources, document, where)
            kind, metadata, spec = document["kind"], document["metadata"], document["spec"]
            assert kind in METALLB_KINDS, f"{where}: {kind} in metallb.yaml"
            namespace = metadata["namespace"]
            defined.add((kind, namespace, metadata["name"]))
            if kind == "IPAddressPool":
                bad = [block for block in spec["addresses"] if not metallb_block_ok(block)]
                assert not bad, f"{where}: MetalLB cannot parse {bad}"
            referred += [(where, "IPAddressPool", namespace, name) for name in spec.get("ipAddressPools", [])]
            referred += [(where, "BGPPeer", namespace, name) for name in spec.get("peers", [])]
            if "bfdProfile" in spec:
                referred.append((where, "BFDProfile", namespace, spec["bfdProfile"]))
            if kind == "BGPPeer":
                # the webhook: myASN non-zero, no ebgpMultiHop on iBGP, not both passwords
                assert spec["myASN"] != 0, where
                assert not (spec.get("ebgpMultiHop") and spec["myASN"] == spec["peerASN"]), where
                assert not ("password" in spec and "passwordSecret" in spec), where
        for where, kind, namespace, name in referred:
            assert (kind, namespace, name) in defined, f"{where}: refers to {kind} {namespace}/{name}, not in the file"


def test_metallb_targets_are_stored(upstream: Path) -> None:
    """Every MetalLB minor an inventory can target has its CRDs upstream, and every stored
    release is a target: the test above validates each document against each of them."""
    assert sorted(METALLB_VERSIONS) == sorted(p.name for p in (upstream / "metallb").glob("v*"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attachment_output_conforms(case: Case, upstream: Path) -> None:
    resources = multus_resources(upstream)
    for path in attachment_files(case):
        documents = load_documents(path)
        kinds = [d.get("kind") if isinstance(d, dict) else None for d in documents]
        assert kinds.count(NAD) == 1, f"{path}: {kinds}"
        assert set(kinds) <= ATTACHMENT_KINDS, f"{path}: {kinds}"
        index = kinds.index(NAD)
        document = documents[index]
        check_resource(resources, document, f"{path} document {index + 1}")
        # spec.config is a string to the CRD; Multus hands it to the CNI runtime as a conflist
        config = json.loads(document["spec"]["config"])
        assert config["cniVersion"] == "1.0.0", path
        assert config["name"] == document["metadata"]["name"], path
        assert config["plugins"] and all(isinstance(p.get("type"), str) for p in config["plugins"]), path


# --- vcluster values ------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    cluster: Cluster
    vcluster: VCluster


def values_files(case: Case) -> list[ValuesFile]:
    """Every vcluster values file of the case, with the vcluster it is for (each file has one)."""
    inventory = netgen.load(case.inventory, facts=_facts(case))
    files = [
        ValuesFile(case.expected / cluster.name / "vcluster" / f"{vcluster.name}.yaml", cluster, vcluster)
        for cluster in inventory.clusters
        for vcluster in cluster.vclusters
    ]
    assert {f.path for f in files} == set(case.expected.glob("*/vcluster/*.yaml")), case.name
    return files


def vcluster_schema_dir(upstream: Path, version: Version) -> Path | None:
    """The newest stored patch release of that minor with a values.schema.json (0.36 -> v0.36.1)."""
    found = [p.parent for p in (upstream / "vcluster").glob(f"v{version}.*/values.schema.json")]
    return max(found, key=lambda p: int(p.name.rsplit(".", 1)[1]), default=None)


@cache
def vcluster_validator(schema_dir: Path) -> Draft202012Validator:
    schema = json.loads((schema_dir / "values.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vcluster_values_conform(case: Case, upstream: Path) -> None:
    """vcluster.yaml values (0.20+) against the schema of their minor where one is stored, and
    all of them for F5, which no schema checks: the host's service CIDRs, primary family first."""
    for values in values_files(case):
        if values.vcluster.version < VCLUSTER_YAML_SINCE:
            continue  # legacy values: no schema, checked below
        (document,) = load_documents(values.path)
        schema_dir = vcluster_schema_dir(upstream, values.vcluster.version)
        if schema_dir is not None:  # none for e.g. 0.32
            error = best_match(vcluster_validator(schema_dir).iter_errors(document))
            assert error is None, f"{values.path}: {error.json_path}: {error.message} (schema of {schema_dir.name})"
        cluster = values.cluster
        cidrs = sorted(cluster.service_cidrs, key=lambda c: cluster.families.index(Family.of(c)))
        assert document.get("serviceCIDR") == ",".join(map(str, cidrs)), values.path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_legacy_vcluster_values_are_the_k0s_service_cidr(case: Case) -> None:
    """vcluster <= 0.19 ships no values schema. What matters (research/vcluster.md §2.1): of the
    four per-distro charts only k0s reads `serviceCIDR`, k0s takes one CIDR, and it must be the
    host's; nothing else belongs in the file."""
    for values in values_files(case):
        if values.vcluster.version >= VCLUSTER_YAML_SINCE:
            continue
        assert values.vcluster.distro == "k0s", values.path
        (document,) = load_documents(values.path)
        assert document == {"serviceCIDR": ",".join(str(c) for c in values.cluster.service_cidrs)}, values.path
        assert "," not in document["serviceCIDR"], f"{values.path}: k0s takes a single service CIDR"


def test_conformance_tests_check_something(upstream: Path) -> None:
    """The tests above pass vacuously on a case without such output: the golden cases together
    must produce every kind of MetalLB document, an attachment, values for every vcluster minor
    with an upstream schema, and legacy k0s values."""
    metallb_kinds = {
        document["kind"] for case in CASES for path in metallb_files(case) for document in load_documents(path)
    }
    assert metallb_kinds == METALLB_KINDS
    assert any(NAD in {d["kind"] for d in load_documents(p)} for case in CASES for p in attachment_files(case))
    every_values = [values for case in CASES for values in values_files(case)]
    validated = {vcluster_schema_dir(upstream, v.vcluster.version) for v in every_values} - {None}
    stored = {p.parent for p in (upstream / "vcluster").glob("v*/values.schema.json")}
    assert validated == stored
    assert any(v.vcluster.version < VCLUSTER_YAML_SINCE for v in every_values)
