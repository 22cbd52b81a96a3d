"""Training pods on Kueue reach only what training needs: each other, cluster DNS, and TLS
to the stack's ``mlplatform:kubernetes.egressCidrs`` (its VPC endpoints).

Kubernetes NetworkPolicy semantics: policies are additive, and an egress rule whose ``to``
is absent or empty matches every destination. So the namespace's policies together must
have no egress rule without peers, and every peer must be one of the three above.
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from mlplatform.errors import SpecError
from mlplatform.stackconfig import config_values_from_stack_file, load_stack_config, stack_config_from_values, stack_file

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_VERSION = "1.31"
DNS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
HTTPS_PORTS = [{"protocol": "TCP", "port": 443}]


def egress_rules(graph):
    """(namespace, rule) for every egress rule of every NetworkPolicy in the plan."""
    for resource in graph:
        if resource.type == NETWORK_POLICY:
            for rule in resource.inputs["spec"].get("egress", []):
                yield resource.inputs["metadata"]["namespace"], rule


def judge(rule: dict, cidrs: set[str]) -> str:
    """'pods', 'dns', 'https' for an allowed rule; otherwise why it is too open."""
    peers = rule.get("to")
    if not peers:
        return "no peers: every destination"
    if peers == [{"podSelector": {}}] and "ports" not in rule:
        return "pods"
    if peers == [DNS_PEER] and rule.get("ports") == DNS_PORTS:
        return "dns"
    if rule.get("ports") == HTTPS_PORTS and all(set(peer) == {"ipBlock"} and set(peer["ipBlock"]) == {"cidr"}
                                                and peer["ipBlock"]["cidr"] in cidrs for peer in peers):
        return "https"
    return f"unexpected rule {rule}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_training_egress_is_dns_and_the_stacks_endpoint_cidrs_only(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph")
    cidrs = set(getattr(load_stack_config(stack).kubernetes, "egress_cidrs", []))
    verdicts = {}
    for namespace, rule in egress_rules(graph):
        verdicts.setdefault(namespace, []).append(judge(rule, cidrs))
    assert verdicts, "the example estate has kueue queues"
    for namespace, found in verdicts.items():
        assert sorted(found) == sorted(["pods", "dns"] + (["https"] if cidrs else [])), (namespace, found)


def test_without_egress_cidrs_training_reaches_dns_only():
    from components.training_kueue import training_egress

    cluster = load_stack_config("dev").kubernetes.model_copy(update={"egress_cidrs": []})
    rules = training_egress(cluster)
    assert [judge(rule, set()) for rule in rules] == ["pods", "dns"]
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "allow-training", "namespace": "team"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": rules}}
    kubernetes_validate.validate(policy, K8S_VERSION, strict=True)
    with_cidrs = training_egress(cluster.model_copy(update={"egress_cidrs": ["10.0.8.0/24"]}))
    assert with_cidrs[-1] == {"to": [{"ipBlock": {"cidr": "10.0.8.0/24"}}], "ports": HTTPS_PORTS}


@pytest.mark.parametrize("cidrs,message", [
    (["10.0.8.1/24"], "not a network in CIDR notation"),  # host bits set
    (["vpc-endpoints"], "not a network in CIDR notation"),
    (["0.0.0.0/0"], "is every address"),
    (["::/0"], "is every address"),
])
def test_egress_cidrs_errors_name_the_stack_file_line_and_setting(cidrs, message):
    import json

    values, document = config_values_from_stack_file(stack_file("prod"))
    kubernetes = json.loads(values["mlplatform:kubernetes"])
    kubernetes["egressCidrs"] = cidrs
    values["mlplatform:kubernetes"] = json.dumps(kubernetes)
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("prod", values, "stacks/Pulumi.prod.yaml", document)
    issue = caught.value.issues[0]
    assert issue.field == "config.mlplatform:kubernetes.egressCidrs" and message in issue.message
    assert issue.line == document.position(("config", "mlplatform:kubernetes", "egressCidrs")).line
    assert "\n" not in issue.format()
