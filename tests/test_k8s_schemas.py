"""Every generated Kubernetes object validates against the schema of its apiVersion.

Kueue objects: Kueue's own CRDs (v0.19.2, vendored unchanged under
tests/fixtures/kueue-crds so CI on a fresh machine has them). Core objects: the
Kubernetes OpenAPI schemas shipped by the ``kubernetes-validate`` package (strict mode,
so an unknown field is an error).
"""

from __future__ import annotations

import copy
import filecmp
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml


CRD_DIR = Path(__file__).parent / "fixtures" / "kueue-crds"
SHARED_CRDS = Path(__file__).resolve().parent.parent.parent / "shared" / "kueue-crds"
K8S_VERSION = "1.31"


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema, for every served version of every vendored CRD."""
    schemas = {}
    for path in CRD_DIR.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def manifests(graph):
    """The Kubernetes objects of a graph as manifests (apiVersion, kind, metadata, spec...)."""
    for resource in graph:
        if resource.type.startswith("kubernetes:") and not resource.type.startswith("pulumi:"):
            yield resource, {key: value for key, value in resource.inputs.items() if key != "source"}


@pytest.fixture(scope="module")
def schemas():
    return crd_schemas()


def test_vendored_crds_equal_the_shared_copies():
    if not SHARED_CRDS.exists():
        pytest.skip("no ../shared/kueue-crds on this machine")
    names = sorted(p.name for p in SHARED_CRDS.glob("*.yaml"))
    assert names == sorted(p.name for p in CRD_DIR.glob("*.yaml"))
    match, mismatch, errors = filecmp.cmpfiles(SHARED_CRDS, CRD_DIR, names, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kueue_object_validates_against_its_crd(stack, schemas, request):
    graph = request.getfixturevalue(f"{stack}_graph")
    kinds = set()
    for resource, manifest in manifests(graph):
        if not manifest["apiVersion"].startswith("kueue.x-k8s.io/"):
            continue
        schema = schemas[(manifest["apiVersion"], manifest["kind"])]
        jsonschema.validate(manifest, schema)
        kinds.add(manifest["kind"])
    assert kinds == {"Cohort", "ResourceFlavor", "ClusterQueue", "LocalQueue"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_core_object_validates_against_the_kubernetes_schema(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph")
    kinds = set()
    for resource, manifest in manifests(graph):
        if manifest["apiVersion"].startswith("kueue.x-k8s.io/"):
            continue
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        kinds.add(manifest["kind"])
    assert kinds == {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "RoleBinding"}


def test_crd_schema_catches_a_misspelt_field(schemas, dev_graph):
    cq = next(m for _, m in manifests(dev_graph) if m["kind"] == "ClusterQueue")
    broken = copy.deepcopy(cq)
    broken["spec"]["preemption"]["withinClusterQueue"] = "Sometimes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schemas[(broken["apiVersion"], "ClusterQueue")])
    # v1beta1 calls the cohort field `cohort`: the same object declared as v1beta1 is rejected
    # only if the schema is closed; it is open, so check the field name moved instead
    v1beta1 = schemas[("kueue.x-k8s.io/v1beta1", "ClusterQueue")]["properties"]["spec"]["properties"]
    assert "cohort" in v1beta1 and "cohortName" not in v1beta1


def test_kubernetes_schema_catches_an_unknown_field(dev_graph):
    ns = next(m for _, m in manifests(dev_graph) if m["kind"] == "NetworkPolicy")
    broken = copy.deepcopy(ns)
    broken["spec"]["podSelectr"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
