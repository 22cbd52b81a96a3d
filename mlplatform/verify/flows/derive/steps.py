"""Shared step builders of the flow derivations: the acting principal (:class:`Actor`: a
role of the plan with its session's request context, a service, or a service-linked role),
the S3, KMS, trust and SNS publish requests a flow makes with the context AWS would send,
and :func:`guard`, which turns what the plan does not say into an *unproven* note.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from mlplatform.graph import GraphResource

from ..declarations import ALLOW, Flow, Step
from ..estate import Estate, RoleView, Unresolved
from ..policy_eval import Policy, Principal, Request, make_context


def s3_arn(bucket: str, key: Optional[str] = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def role_context(role: RoleView, session_tags: Optional[dict[str, Optional[str]]] = None) -> dict:
    """What every request of a role's session carries: its ARN, account and principal tags
    (the role's tags, overridden by session tags; a session tag of None removes it)."""
    tags = dict(role.tags)
    for key, value in (session_tags or {}).items():
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = value
    values: dict[str, Any] = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": role.arn.split(":")[4],
                              "aws:PrincipalType": "AssumedRole", "aws:SecureTransport": True}
    values.update({f"aws:PrincipalTag/{k}": v for k, v in tags.items()})
    return values


def service_context(estate: Estate, source_arn: Optional[str]) -> dict:
    values: dict[str, Any] = {"aws:SourceAccount": estate.account, "aws:SecureTransport": True,
                              "aws:PrincipalArn": None, "aws:PrincipalAccount": None}
    if source_arn:
        values["aws:SourceArn"] = source_arn
    return values


class Actor:
    """The acting principal of a step: a role of the plan, a service, or a service-linked role."""

    def __init__(self, principal: Principal, base: dict, identity: Optional[tuple[Policy, ...]],
                 note: str = "", complete: tuple[str, ...] = ("aws:principaltag/",)):
        self.principal, self.base, self.identity, self.note, self.complete = principal, base, identity, note, complete

    @classmethod
    def of_role(cls, role: RoleView, session_tags: Optional[dict[str, Optional[str]]] = None) -> "Actor":
        return cls(Principal(arn=role.arn), role_context(role, session_tags), role.identity(), role.identity_note())

    @classmethod
    def of_service(cls, estate: Estate, service: str, source_arn: Optional[str] = None) -> "Actor":
        return cls(Principal(service=service), service_context(estate, source_arn), None)

    @classmethod
    def of_service_linked_role(cls, estate: Estate, path_and_name: str) -> "Actor":
        """A service-linked role: its AWS-managed policy grants no customer managed key, so
        as far as our keys go its identity policies are empty (see declarations)."""
        arn = f"arn:aws:iam::{estate.account}:role/{path_and_name}"
        base = {"aws:PrincipalArn": arn, "aws:PrincipalAccount": estate.account, "aws:SecureTransport": True}
        return cls(Principal(arn=arn), base, (), "service-linked role: its managed policy grants no customer managed key")

    def step(self, description: str, action: str, resource: str, extra: Optional[dict] = None,
             resource_policy: Optional[Policy] = None, key_policy: bool = False, expect: str = ALLOW,
             complete: tuple[str, ...] = ()) -> Step:
        request = Request(self.principal, action, resource, make_context({**self.base, **(extra or {})}),
                          tuple(dict.fromkeys(self.complete + complete)))
        return Step(description, request, self.identity, resource_policy, key_policy, expect, self.note)


def s3_steps(estate: Estate, actor: Actor, bucket: str, actions: tuple[str, ...], key: Optional[str],
             headers: Optional[dict] = None, list_prefix: Optional[str] = None, expect: str = ALLOW,
             label: str = "") -> list[Step]:
    """Object requests (and ListBucket with ``s3:prefix``) under the bucket's policy. Request
    headers that are not given are not sent (``s3:x-amz-*`` keys absent)."""
    policy = estate.bucket_policy(bucket)
    steps = []
    complete = ("s3:x-amz-", "aws:resourcetag/", "s3:existingobjecttag/")
    for action in actions:
        if action in ("s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads",
                      "s3:GetReplicationConfiguration"):
            extra = {"s3:prefix": list_prefix} if action == "s3:ListBucket" and list_prefix is not None else {}
            resource = s3_arn(bucket)
        else:
            extra = dict(headers or {}) if action == "s3:PutObject" else {}
            resource = s3_arn(bucket, key)
        steps.append(actor.step(f"{label}{action} on {resource}", action, resource, extra, policy,
                                expect=expect, complete=complete + (("s3:prefix",) if action != "s3:ListBucket" else ())))
    return steps


def kms_steps(estate: Estate, actor: Actor, key: GraphResource, actions: tuple[str, ...],
              encryption_context: Optional[dict[str, str]] = None, via: Optional[str] = None,
              extra: Optional[dict] = None, expect: str = ALLOW, label: str = "") -> list[Step]:
    """Requests to the key, under its key policy, with the context KMS would see."""
    policy = estate.key_policy(key)
    region = estate.region_of(key)
    context: dict[str, Any] = {"kms:CallerAccount": estate.account,
                               "kms:ResourceAliases": list(estate.key_aliases(key)),
                               "kms:ViaService": f"{via}.{region}.amazonaws.com" if via else None}
    for name, value in (encryption_context or {}).items():
        context[f"kms:EncryptionContext:{name}"] = value
    context["kms:EncryptionContextKeys"] = sorted(encryption_context or {}) or None
    context.update({f"aws:ResourceTag/{k}": v for k, v in (key.effective_tags or {}).items()})
    context.update(extra or {})
    arn = estate.key_arn(key)
    complete = ("kms:encryptioncontext:", "aws:resourcetag/", "kms:grant")
    return [actor.step(f"{label}{action} on key {key.name}", action, arn, context, policy, key_policy=True,
                       expect=expect, complete=complete) for action in actions]


def s3_key_context(estate: Estate, bucket: str, key: str) -> dict[str, str]:
    """The encryption context S3 sends KMS: the bucket ARN under Bucket Keys, else the object's."""
    _, _, bucket_key = estate.bucket_encryption(bucket)
    return {"aws:s3:arn": s3_arn(bucket) if bucket_key else s3_arn(bucket, key)}


def sse_headers(estate: Estate, key: GraphResource) -> dict:
    return {"s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": estate.key_arn(key)}


def trust_step(estate: Estate, role: RoleView, service: str, source_arn: Optional[str],
               extra: Optional[dict] = None) -> Step:
    """The service assumes the role: the role's trust policy must allow it."""
    actor = Actor.of_service(estate, service, source_arn)
    return actor.step(f"{service} assumes {role.name}", "sts:AssumeRole", role.arn, extra,
                      estate.trust_policy(role))


def publish_steps(estate: Estate, flow: Flow, actor: Actor, topic_arn: str) -> None:
    """A service publishes to a topic: the topic policy, and the topic key's policy for the
    data key SNS generates on the publisher's behalf."""
    topic = estate.topic_by_arn(topic_arn)
    flow.steps.append(actor.step(f"sns:Publish on {topic_arn}", "sns:Publish", topic_arn, {},
                                 estate.topic_policy(topic, topic_arn), complete=("sns:",)))
    if topic.inputs.get("kmsMasterKeyId") is not None:
        key = estate.key_for(topic, "kmsMasterKeyId", topic.inputs.get("kmsMasterKeyId"))
        flow.steps.extend(kms_steps(estate, actor, key, ("kms:GenerateDataKey", "kms:Decrypt"), via="sns",
                                    label="the topic's key: "))


def guard(flow: Flow, build: Callable[[], Any]) -> Any:
    """Run one part of a derivation; what the plan does not say makes the flow unproven."""
    try:
        return build()
    except Unresolved as exc:
        flow.unproven.append(str(exc))
        return None
