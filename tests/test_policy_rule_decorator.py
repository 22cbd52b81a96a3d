"""The ``@rule(...)`` decorator (policies/rules/common.py): keyword-only metadata beside the
check, recorded in the registry the pack serves; a mistake in a declaration stops the
pack from loading instead of serving a wrong rule."""

from __future__ import annotations

import pytest

from policies.rules import ALL_RULES, common
from policies.rules.common import ADVISORY, MANDATORY, PROD, REGISTRY, Rule, rule

METADATA = dict(id="MLP-TST-001", name="A test rule", description="Judges nothing.", severity="low",
                remediation="Nothing to do.", level=ADVISORY)


@pytest.fixture
def registry(monkeypatch) -> dict:
    """A fresh registry, so these declarations never reach the pack's."""
    fresh: dict = {}
    monkeypatch.setattr(common, "REGISTRY", fresh)
    return fresh


def _check(ctx, report) -> None:
    report("violated")


def test_decorated_check_is_registered_with_its_metadata_and_returned_unchanged(registry):
    schema = {"limit": {"type": "integer", "default": 3}}
    decorated = rule(**METADATA, types=("aws:s3/bucket:Bucket",), config=schema, concern="testing")(_check)
    assert decorated is _check
    assert registry == {"MLP-TST-001": Rule(
        id="MLP-TST-001", name="A test rule", description="Judges nothing.", severity="low",
        remediation="Nothing to do.", level=ADVISORY, check=_check, stack=False, types=("aws:s3/bucket:Bucket",),
        config=schema, concern="testing")}
    assert registry["MLP-TST-001"].schema()["limit"] == schema["limit"]


def test_defaults_make_a_resource_rule_of_every_type(registry):
    rule(**METADATA)(_check)
    declared = registry["MLP-TST-001"]
    assert (declared.stack, declared.types, declared.config, declared.concern) == (False, None, {}, "")


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        rule("MLP-TST-001", "A test rule", "Judges nothing.", "low", "Nothing to do.", ADVISORY)


def test_an_id_declared_twice_is_refused_naming_both_checks(registry):
    rule(**METADATA)(_check)

    def other_check(ctx, report) -> None:
        pass

    with pytest.raises(ValueError, match=r"MLP-TST-001 is declared twice: by .*\._check and .*\.other_check"):
        rule(**METADATA)(other_check)
    assert registry["MLP-TST-001"].check is _check


@pytest.mark.parametrize("changes,message", [
    ({"severity": "urgent"}, r"severity 'urgent' is not one of low, medium, high, critical"),
    ({"level": "X"}, r"level 'X' is not one of"),
    ({"stack": True, "types": ("aws:kms/key:Key",)},
     r"a stack rule sees every resource; types apply to resource rules only"),
])
def test_a_malformed_declaration_is_refused(registry, changes, message):
    with pytest.raises(ValueError, match=f"MLP-TST-001: {message}"):
        rule(**{**METADATA, **changes})(_check)
    assert registry == {}


def test_the_pack_serves_the_registry_in_declaration_order():
    assert ALL_RULES == list(REGISTRY.values())
    assert len({r.id for r in ALL_RULES}) == len(ALL_RULES) >= 34
    assert {r.level for r in ALL_RULES} == {MANDATORY, PROD, ADVISORY}
