"""Synthetic team specs for benchmarks: N realistic, valid, distinct TeamSpecs.

``write_teams(folder, n, seed=0)`` writes ``team-0001.yaml`` ... ``team-NNNN.yaml`` into
``folder`` and returns their paths. The output is a pure function of ``(n, seed)``: each
team draws from its own ``random.Random`` seeded by ``(seed, index)``, so team 7 is the
same whether 10 or 1,000 teams are written, and the GPU budget (below) is allocated in
team order.

Every spec is valid on its own (``load_specs`` reports no issue) and fits the ``dev``
stack (``stack_issues`` reports none):

* residency ``eu`` (dev deploys to eu-west-1);
* training instance types from dev's ``allowedInstanceTypes.training``, serving instance
  types from ``allowedInstanceTypes.serving``; ``kueue`` queues are fine (dev names a
  Kubernetes cluster);
* GPU ceilings: dev allows 16 GPUs per team and 64 per stack. Each queue has a larger
  base ``maxGpus`` and a ``dev`` override of 1-2 GPUs; queues are handed out in team
  order only while the stack-wide dev total stays within ``gpu_budget`` (64), so for
  large N only the first few dozen teams have queues and the rest have none;
* PII features only in teams classified confidential or restricted.

Shape per team: 1-3 feature groups of 4-12 features, 0-2 training queues, 0-2 endpoints
(realtime / async / batch / serverless, with valid rollout, capture and drift settings),
a budget, sometimes an exemption, and a ``dev`` environment override (budget, endpoint
scaling and rollout, queue GPUs, sometimes artifact retention).

Run ``python benchmarks/synthetic.py DIR N`` to write specs by hand.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

HEADER = "# yaml-language-server: $schema=../../mlplatform/spec/teamspec.schema.json\n# synthetic benchmark spec\n"

#: dev's allowed instance types (stacks/Pulumi.dev.yaml)
TRAINING_TYPES = ["g5.2xlarge", "g5.4xlarge", "g5.12xlarge", "g5.48xlarge", "p4d.24xlarge"]
SERVING_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.g5.xlarge", "ml.g5.2xlarge"]
#: dev's gpuCeilings.perStack
DEV_GPU_BUDGET = 64

CLASSIFICATIONS = ["public", "internal", "confidential", "restricted"]
ENTITIES = ["user", "item", "session", "order", "merchant", "device", "account", "document", "query", "store"]
GROUP_NAMES = [
    "user-profile", "item-embeddings", "transactions", "sessions", "clickstream", "orders", "merchant-risk",
    "device-signals", "search-queries", "inventory", "pricing", "reviews", "support-tickets", "geo-features",
]
FEATURE_POOL = [
    ("amount", "fractional", False), ("merchant_risk", "fractional", False), ("sessions_30d", "integral", False),
    ("mean_basket_value", "fractional", False), ("embedding_norm", "fractional", False),
    ("click_rate_7d", "fractional", False), ("country_code", "string", False), ("category", "string", False),
    ("price_eur", "fractional", False), ("stock_level", "integral", False), ("rating_mean", "fractional", False),
    ("review_count", "integral", False), ("device_type", "string", False), ("os_version", "string", False),
    ("query_length", "integral", False), ("dwell_time_s", "fractional", False), ("return_rate", "fractional", False),
    ("email_hash", "string", True), ("customer_age_band", "integral", True), ("postcode", "string", True),
    ("ip_prefix", "string", True), ("phone_hash", "string", True),
]
ENDPOINT_NAMES = ["scorer", "ranker", "classifier", "summariser", "recommender", "detector", "batch-scores", "embedder"]
FRAMEWORKS = [("pytorch", "2.3"), ("tensorflow", "2.16"), ("xgboost", "1.7"), ("sklearn", "1.2"), ("huggingface", "4.37")]
QUEUE_NAMES = ["gpu", "pretrain", "finetune", "eval", "kueue-gpu"]


def team_name(index: int) -> str:
    """Name of the ``index``-th team (1-based): team-0001, team-0002, ..."""
    return f"team-{index:04d}"


def team_spec(index: int, seed: int = 0, gpus_left: Optional[int] = None) -> tuple[dict[str, Any], int]:
    """The spec of team ``index`` as plain data, and the GPUs its queues hold in dev.

    ``gpus_left`` caps the dev GPUs this team's queues may hold (``None``: no cap); a
    queue is only added while it fits.
    """
    rng = random.Random(seed * 1_000_003 + index)
    team = team_name(index)
    classification = rng.choice(CLASSIFICATIONS)
    pii_allowed = classification in ("confidential", "restricted")

    metadata: dict[str, Any] = {
        "team": team,
        "costCenter": f"CC-{1000 + index % 9000}",
        "owners": [f"{team}@example.com"] + ([f"{team}-leads@example.com"] if rng.random() < 0.4 else []),
        "dataClassification": classification,
        "residency": "eu",
        "riskTier": rng.choice(["low", "medium", "high"]),
        "escalation": {"critical": [f"pagerduty:{team}-oncall"]},
    }
    if rng.random() < 0.7:
        metadata["escalation"]["warning"] = [f"email:{team}@example.com"]
    if rng.random() < 0.4:
        metadata["escalation"]["info"] = [f"slack:{team}-ml"]

    spec: dict[str, Any] = {}
    if rng.random() < 0.8:
        spec["artifacts"] = {"retentionDays": rng.choice([90, 180, 365, 730]),
                             "noncurrentRetentionDays": rng.choice([30, 60, 90])}

    groups, feature_names = _feature_groups(rng, pii_allowed)
    spec["featureGroups"] = groups

    dev: dict[str, Any] = {}
    queues, dev_queues, gpus = _queues(rng, gpus_left)
    if queues:
        spec["training"] = {"queues": queues, "experimentTracking": rng.random() < 0.5}
        dev["training"] = {"queues": dev_queues}

    endpoints, dev_endpoints = _endpoints(rng, feature_names)
    if endpoints:
        spec["endpoints"] = endpoints
        if dev_endpoints:
            dev["endpoints"] = dev_endpoints

    monthly = rng.choice([2000, 5000, 8000, 12000, 25000, 40000])
    spec["budget"] = {"monthlyUsd": monthly}
    if rng.random() < 0.5:
        # at least one alert at or below 100% (MLP-BUD-001, checked by validate too)
        alerts = rng.sample([50, 80, 90, 100, 120], rng.randint(1, 3))
        spec["budget"]["alertAtPercent"] = sorted(alerts if min(alerts) <= 100 else alerts + [100])
    dev["budget"] = {"monthlyUsd": max(100, monthly // 10)}
    if rng.random() < 0.3:
        dev["artifacts"] = {"retentionDays": 30}
    if rng.random() < 0.15:
        spec["exemptions"] = [{
            "rule": "CKV_AWS_144",
            "reason": "Artifacts are reproducible from source data; cross-region replication is not needed.",
            "approvedBy": "security-review@example.com",
            "expires": "2030-06-30",
        }]
    spec["environments"] = {"dev": dev}
    if rng.random() < 0.3:
        spec["environments"]["staging"] = {"budget": {"monthlyUsd": max(100, monthly // 2)}}

    return {"apiVersion": "mlplatform/v1", "kind": "TeamSpec", "metadata": metadata, "spec": spec}, gpus


def _feature_groups(rng: random.Random, pii_allowed: bool) -> tuple[list[dict], list[str]]:
    groups = []
    all_features: list[str] = []
    for name in rng.sample(GROUP_NAMES, rng.randint(1, 3)):
        entity = rng.choice(ENTITIES)
        n_features = rng.randint(4, 12)
        pool = [f for f in FEATURE_POOL if pii_allowed or not f[2]]
        extra = rng.sample(pool, n_features - 2)
        features: list[dict[str, Any]] = [
            {"name": f"{entity}_id", "type": "string"},
            {"name": "event_time", "type": "string"},
        ]
        for feature, kind, pii in extra:
            item: dict[str, Any] = {"name": feature, "type": kind}
            if pii:
                item["pii"] = True
            if rng.random() < 0.3:
                item["description"] = f"{feature.replace('_', ' ').capitalize()} of the {entity}"
            features.append(item)
        online = rng.random() < 0.6
        group: dict[str, Any] = {
            "name": name,
            "recordIdentifier": f"{entity}_id",
            "eventTime": "event_time",
            "online": {"enabled": online},
            "features": features,
        }
        if rng.random() < 0.5:
            group["version"] = rng.randint(1, 4)
        if rng.random() < 0.5:
            group["description"] = f"{name.replace('-', ' ').capitalize()} keyed by {entity}."
        pii = any(feature.get("pii") for feature in features)
        # PII must expire (the MLP-RET-002 guardrail that validate --stack checks too):
        # online within 720 hours, offline within 2555 days
        if online and (pii or rng.random() < 0.5):
            group["online"]["ttlHours"] = rng.choice([24, 48, 168])
        if not online or rng.random() < 0.7:
            group["offline"] = {"enabled": True}
            if pii or rng.random() < 0.4:
                group["offline"]["retentionDays"] = rng.choice([365, 730, 2555])
        if rng.random() < 0.25:
            group["streaming"] = True
        groups.append(group)
        all_features.extend(f["name"] for f in features)
    return groups, all_features


def _queues(rng: random.Random, gpus_left: Optional[int]) -> tuple[list[dict], list[dict], int]:
    wanted = rng.randint(0, 2)
    queues, dev_queues, used = [], [], 0
    for name in rng.sample(QUEUE_NAMES, wanted):
        dev_gpus = rng.randint(1, 2)
        if gpus_left is not None and used + dev_gpus > gpus_left:
            break
        spot = rng.random() < 0.7
        queue: dict[str, Any] = {
            "name": name,
            "instanceTypes": sorted(rng.sample(TRAINING_TYPES, rng.randint(1, 2))),
            # spot with the on-demand fallback halves the ceiling between the two (the GPU
            # accounting rule); each half must hold one 8-GPU instance
            "maxGpus": rng.choice([16, 32] if spot else [8, 16, 32]),
            "spot": {"enabled": spot},
        }
        if rng.random() < 0.3:
            queue["backend"] = "kueue"
        if rng.random() < 0.5:
            queue["timeoutHours"] = rng.choice([6, 12, 48, 72])
        if rng.random() < 0.5:
            queue["expectedGpuHoursPerMonth"] = rng.choice([100, 400, 1500])
        queues.append(queue)
        # 1-2 GPUs (halved again between spot and on-demand) fit only single-GPU
        # instances, so dev trains on those, on either backend
        dev_queue: dict[str, Any] = {"name": name, "maxGpus": dev_gpus, "instanceTypes": ["g5.2xlarge"]}
        dev_queues.append(dev_queue)
        used += dev_gpus
    return queues, dev_queues, used


def _endpoints(rng: random.Random, feature_names: list[str]) -> tuple[list[dict], list[dict]]:
    endpoints, dev = [], []
    for name in rng.sample(ENDPOINT_NAMES, rng.randint(0, 2)):
        framework, version = rng.choice(FRAMEWORKS)
        mode = rng.choice(["realtime", "realtime", "async", "batch", "serverless"])
        endpoint: dict[str, Any] = {
            "name": name,
            "mode": mode,
            "model": {"framework": framework, "frameworkVersion": version, "artifact": f"models/{name}/"},
        }
        if mode == "serverless":
            endpoint["serverless"] = {"memoryMb": rng.choice([1024, 2048, 4096]), "maxConcurrency": rng.randint(1, 20)}
        else:
            endpoint["instanceType"] = rng.choice(SERVING_TYPES)
            low = rng.randint(1, 3)
            endpoint["autoscaling"] = {"min": low, "max": low + rng.randint(0, 6),
                                       "targetInvocationsPerInstance": rng.choice([50, 200, 500])}
        if mode == "batch":
            endpoint["batch"] = {"schedule": "cron(0 2 * * ? *)", "inputPrefix": f"datasets/{name}/"}
        # SageMaker deploys only realtime endpoints by canary, linear or shadow
        strategy = rng.choice(["all-at-once", "canary", "linear", "shadow"]) if mode == "realtime" else "all-at-once"
        rollout: dict[str, Any] = {"strategy": strategy, "bakeMinutes": rng.choice([0, 15, 30, 60])}
        if strategy in ("canary", "linear"):
            rollout["canaryPercent"] = rng.choice([5, 10, 20])
        elif strategy == "shadow":
            rollout["shadowPercent"] = rng.choice([10, 25, 50])
            rollout["shadowArtifact"] = f"models/{name}-candidate/"
        endpoint["rollout"] = rollout
        if strategy in ("canary", "linear"):  # the rollback alarm needs a latency objective
            endpoint["monitoring"] = {"latencyP99Ms": rng.choice([50, 120, 300])}
        if mode == "realtime" and rng.random() < 0.6:
            endpoint["dataCapture"] = {"samplePercent": rng.choice([5, 10, 20])}
            monitoring: dict[str, Any] = {"latencyP99Ms": endpoint.get("monitoring", {}).get(
                "latencyP99Ms", rng.choice([50, 120, 300]))}
            if rng.random() < 0.6:
                drift: dict[str, Any] = {"test": rng.choice(["ks", "psi"]), "threshold": rng.choice([0.1, 0.2]),
                                         "schedule": rng.choice(["hourly", "daily"])}
                if rng.random() < 0.4:
                    drift["groupAttribute"] = rng.choice(feature_names)
                monitoring["drift"] = drift
            endpoint["monitoring"] = monitoring
        endpoints.append(endpoint)
        # dev: one small instance, everything at once
        override: dict[str, Any] = {"name": name}
        if mode != "serverless":
            override["autoscaling"] = {"min": 1, "max": 1}
            override["instanceType"] = "ml.m5.large"
        if strategy != "all-at-once":
            override["rollout"] = {"strategy": "all-at-once"}
            if strategy in ("canary", "linear"):
                override["rollout"]["canaryPercent"] = None
            else:
                override["rollout"]["shadowPercent"] = None
                override["rollout"]["shadowArtifact"] = None
        if len(override) > 1:
            dev.append(override)
    return endpoints, dev


def render(data: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120)


def write_teams(folder: str | Path, n: int, seed: int = 0, gpu_budget: int = DEV_GPU_BUDGET) -> list[Path]:
    """Write ``n`` team specs into ``folder`` (created if needed); return their paths.

    ``gpu_budget`` is the stack-wide dev GPU total the queues may hold together (dev's
    ``gpuCeilings.perStack``); once spent, later teams get no queues.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    left = gpu_budget
    for index in range(1, n + 1):
        data, gpus = team_spec(index, seed, gpus_left=left)
        left -= gpus
        path = target / f"{team_name(index)}.yaml"
        path.write_text(render(data), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: synthetic.py DIR N [SEED]")
    written = write_teams(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 0)
    print(f"wrote {len(written)} specs to {sys.argv[1]}")
