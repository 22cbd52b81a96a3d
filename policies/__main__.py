"""The ML estate's policy pack.

Run by the Pulumi CLI (``pulumi preview --policy-pack policies``), which launches it as
``python -m pulumi.policy <engine> policies``; constructing the PolicyPack starts the
analyzer gRPC server on 127.0.0.1 and prints its port. ``mlp policy`` launches it the
same way. Rule names are the stable rule ids (MLP-...). ``analyzer_fastpath`` makes
pulumi-policy's analyzer do once what it repeats per policy and per call (see its
docstring); ``MLP_POLICY_FASTPATH=0`` leaves the library untouched, for comparisons.
"""

import os

import analyzer_fastpath

from pulumi_policy import EnforcementLevel, PolicyPack

from rules import ALL_RULES, to_policy

if os.environ.get("MLP_POLICY_FASTPATH") != "0":
    analyzer_fastpath.install()

PolicyPack(
    name="mlplatform-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[to_policy(rule) for rule in ALL_RULES],
    description="Guardrails for the ML estate: encryption, S3, tags, IAM, residency, compute, serving, serving edge, governance.",
    display_name="ML estate guardrails",
)
