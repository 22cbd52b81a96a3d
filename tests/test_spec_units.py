"""Units under the loader: naming, overrides merge, positions, partial models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from types import SimpleNamespace

from mlplatform.naming import bucket_name, feature_group_name, physical_name
from mlplatform.spec.merge import UnknownOverrideItem, merge_environment
from mlplatform.spec.models import SpecOverride, TeamSpec
from mlplatform.yamlsafe import load_yaml

from .conftest import EXAMPLES


SCOPE = SimpleNamespace(org_prefix="acme", account_id="111122223333")


def test_names_fit_limits_and_long_names_never_collide():
    assert bucket_name(SCOPE, "fraud", "dev", "artifacts") == "acme-fraud-dev-artifacts-111122223333"
    long_a = physical_name("a" * 40, "prod", "artifacts-replica-one", max_length=63)
    long_b = physical_name("a" * 40, "prod", "artifacts-replica-two", max_length=63)
    assert len(long_a) == len(long_b) == 63 and long_a != long_b
    assert physical_name("Team_X", "dev", "bucket") == "team-x-dev-bucket"
    assert feature_group_name("fraud", "dev", "transactions", 2) == "fraud-dev-transactions-v2"
    assert len(feature_group_name("t" * 40, "staging", "g" * 40, 999)) <= 64


def test_override_merges_named_items_by_name_and_replaces_plain_values():
    data = {
        "spec": {
            "endpoints": [{"name": "a", "instanceType": "ml.m5.large", "autoscaling": {"min": 2, "max": 4}},
                          {"name": "b", "instanceType": "ml.c5.xlarge"}],
            "budget": {"monthlyUsd": 100, "alertAtPercent": [50, 100]},
            "environments": {"dev": {"endpoints": [{"name": "b", "autoscaling": {"max": 1}}],
                                     "budget": {"alertAtPercent": [90]}}},
        }
    }
    merged = merge_environment(data, "dev")
    spec = merged.data["spec"]
    assert "environments" not in spec
    assert spec["endpoints"][0] == data["spec"]["endpoints"][0]
    assert spec["endpoints"][1] == {"name": "b", "instanceType": "ml.c5.xlarge", "autoscaling": {"max": 1}}
    assert spec["budget"] == {"monthlyUsd": 100, "alertAtPercent": [90]}
    # values from the override map back to where they are written
    assert merged.file_path(("spec", "endpoints", 1, "autoscaling", "max")) == (
        "spec", "environments", "dev", "endpoints", 0, "autoscaling", "max")
    assert merged.file_path(("spec", "budget", "alertAtPercent", 0)) == (
        "spec", "environments", "dev", "budget", "alertAtPercent", 0)
    assert merged.file_path(("spec", "endpoints", 0, "name")) == ("spec", "endpoints", 0, "name")
    # an environment without overrides is the base
    assert merge_environment(data, "prod").data["spec"]["endpoints"] == data["spec"]["endpoints"]


def test_override_naming_an_unknown_item_is_an_error():
    data = {"spec": {"endpoints": [{"name": "a"}], "environments": {"dev": {"endpoints": [{"name": "z"}]}}}}
    with pytest.raises(UnknownOverrideItem) as caught:
        merge_environment(data, "dev")
    assert caught.value.path == ("spec", "environments", "dev", "endpoints", 0, "name")


def test_partial_override_model_is_strict_but_keeps_name_required():
    SpecOverride.model_validate({"endpoints": [{"name": "a", "autoscaling": {"max": 2}}]})
    with pytest.raises(ValidationError):
        SpecOverride.model_validate({"endpoints": [{"autoscaling": {"max": 2}}]})  # no name
    with pytest.raises(ValidationError):
        SpecOverride.model_validate({"budget": {"monthlyUsd": "lots"}})
    with pytest.raises(ValidationError):
        SpecOverride.model_validate({"budget": {"monthlyUsd": None}})  # null only where the full model allows it
    with pytest.raises(ValidationError):
        SpecOverride.model_validate({"bogus": 1})


def test_positions_are_one_based_and_track_keys_and_values():
    document = load_yaml("x.yaml", b"a:\n  b: [1, 2]\n  c: {d: x}\n")
    assert (document.position(("a", "b", 1)).line, document.position(("a", "b", 1)).column) == (2, 10)
    key = document.position(("a", "c"), prefer_key=True)
    assert (key.line, key.column) == (3, 3)
    # an unknown path falls back to its nearest known ancestor
    assert document.position(("a", "c", "zzz")) == document.position(("a", "c"))
    assert (document.position(("a", "c")).line, document.position(("a", "c")).column) == (3, 6)


def test_examples_are_valid_and_use_every_field():
    import yaml

    used: set[tuple[str, ...]] = set()

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                if not (path and path[-1] == "environments"):
                    used.add(path + (key,))
                walk(item, path + (key,) if not (path and path[-1] == "environments") else ("spec",))
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    for file in EXAMPLES.glob("*.yaml"):
        data = yaml.safe_load(file.read_text())
        TeamSpec.model_validate(data)
        walk(data, ())

    def schema_paths(model, path):
        for name, info in model.model_fields.items():
            alias = info.alias or name
            yield path + (alias,)
            annotation = info.annotation
            for candidate in (annotation, *getattr(annotation, "__args__", ())):
                inner = getattr(candidate, "__args__", (candidate,))[0] if getattr(candidate, "__origin__", None) is list else candidate
                if isinstance(inner, type) and hasattr(inner, "model_fields") and inner is not model:
                    if alias != "environments":
                        yield from schema_paths(inner, path + (alias,))

    missing = sorted({".".join(p) for p in schema_paths(TeamSpec, ()) if p not in used})
    assert missing == [], f"fields no example uses: {missing}"


def test_forty_character_team_names_fit_every_service_and_never_collide():
    from mlplatform.naming import role_name

    first, second = "a" * 35 + "-east", "a" * 35 + "-west"  # 40 characters, shared prefix
    for make, limit in ((lambda t: bucket_name(SCOPE, t, "staging", "artifacts"), 63),
                        (lambda t: role_name(t, "staging", "training"), 64),
                        (lambda t: feature_group_name(t, "staging", "transactions-enriched", 12), 64)):
        a, b = make(first), make(second)
        assert len(a) <= limit and len(b) <= limit
        assert a != b


def test_quiet_collector_nests_and_restores():
    import gc

    from mlplatform.gctune import YOUNG_THRESHOLD, quiet_collector

    before = gc.get_threshold()
    with quiet_collector():
        frozen = gc.get_freeze_count()
        with quiet_collector():
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() == frozen  # the inner exit did not unfreeze the outer heap
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
