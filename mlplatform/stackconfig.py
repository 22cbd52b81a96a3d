"""Stack configuration: what one Pulumi stack deploys and the limits it imposes.

The platform team sets these in ``stacks/Pulumi.<stack>.yaml`` under the ``mlplatform``
namespace (plus ``aws:region``). The same model is read two ways: from Pulumi config
inside the program (``pulumi up`` or the offline capture) and straight from the stack
file for ``mlp validate --stack``, so both see identical values.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from .errors import Issue, SpecError, UsageError
from .platform_defaults import PlatformDefaults
from .yamlsafe import Document, load_yaml

NAMESPACE = "mlplatform"
#: Where the project is and how files in it are named live in :mod:`mlplatform.paths`;
#: re-exported here, where most callers have always found them.
from .paths import PROJECT_ROOT, PROJECT_ROOT_ENV, find_project_root, package_file, project_relative  # noqa: E402,F401


#: AWS regions inside each residency group (EU means EU/EEA member states' regions).
RESIDENCY_REGIONS: dict[str, tuple[str, ...]] = {
    "eu": ("eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2"),
    "uk": ("eu-west-2",),
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
}


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, frozen=True)


class AllowedInstanceTypes(_ConfigModel):
    training: list[str] = Field(description="EC2 instance types training queues may use.")
    serving: list[str] = Field(description="SageMaker (ml.*) instance types endpoints may use.")


class GpuCeilings(_ConfigModel):
    per_team: int = Field(ge=0, description="Most GPUs one team's queues may hold together.")
    per_stack: int = Field(ge=0, description="Most GPUs all teams' queues in the stack may hold together.")


class KubernetesCluster(_ConfigModel):
    name: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", description="Cluster name, for labels and docs.")
    context: Optional[str] = Field(default=None, description="kubeconfig context; unset uses the ambient one.")
    kubeconfig: Optional[str] = Field(
        default=None, description="Path of the kubeconfig file; unset uses KUBECONFIG or ~/.kube/config."
    )
    cohort: str = Field(
        default="ml-platform", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
        description="Kueue cohort every team's ClusterQueue joins, so idle GPUs can be borrowed.",
    )
    team_group_prefix: str = Field(
        default="ml-team:", description="Prefix of the identity-provider group of each team (group = prefix + team)."
    )
    egress_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs training pods may reach on TCP 443 (for example the subnets of the VPC's interface "
                    "endpoints for S3, ECR, STS and CloudWatch Logs); cluster DNS is always allowed. Empty: DNS only.",
    )

    @field_validator("egress_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"'{cidr}' is not a network in CIDR notation (host bits zero), e.g. 10.20.0.0/24") from None
            if network.prefixlen == 0:
                raise ValueError(f"'{cidr}' is every address; name the VPC endpoints' subnets instead")
        return value


class Network(_ConfigModel):
    """Existing VPC subnets and security groups the stack's compute runs in (the platform owns the VPC)."""

    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, description="Private subnet ids for Batch compute and SageMaker models (subnet-...)."
    )
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        min_length=1, description="Security group ids attached to Batch instances and SageMaker models (sg-...)."
    )


class LogForwarding(_ConfigModel):
    """Where the teams' log groups are forwarded (through Kinesis Data Firehose)."""

    destination: Literal["splunk", "datadog"] = Field(description="splunk (HEC) or datadog (HTTP logs intake).")
    url: str = Field(pattern=r"^https://\S+$", description="Splunk HEC endpoint or Datadog HTTP intake URL (https).")
    secret_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
        description="Secrets Manager secret holding the HEC token or Datadog API key; Firehose reads it, no token in config.",
    )


class Edge(_ConfigModel):
    """Where the mtls front doors of the stack's endpoints live (``exposure.mode: mtls``):
    each gets the host name ``<domainPrefix>.<domain>`` in this Route 53 hosted zone,
    served with this regional ACM certificate (it must cover ``*.<domain>`` and be in the
    stack's region: API Gateway regional custom domains take a certificate of their own region)."""

    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$", description="Route 53 hosted zone id (Z...) of domain.")
    domain: str = Field(
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=200,
        description="DNS domain the front doors are named under, e.g. ml.acme.example.",
    )
    certificate_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$",
        description="ACM certificate for *.<domain> in the stack's region.",
    )


#: The escalation target syntax of team specs (mlplatform.spec.models.EscalationTarget), for security targets.
SECURITY_TARGET = r"^(pagerduty:[A-Za-z0-9_-]+|email:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|https://\S+|slack:#?[a-z0-9_-]+)$"


class AnomalyDetection(_ConfigModel):
    """Detection of anomalous access to models and training data (issue 16): GuardDuty with
    S3 protection, CloudTrail Insights on the trail, GuardDuty findings routed to the owning
    team's escalation topics and the platform security topic, and alarms on model-artifact
    downloads by principals outside the serving and training roles."""

    enabled: bool = Field(description="Turn anomaly detection on (a prod stack without it is a mandatory finding).")
    security_targets: list[Annotated[str, Field(pattern=SECURITY_TARGET)]] = Field(
        default_factory=list,
        description="Where the platform security topic sends every GuardDuty finding about the estate "
                    "(email:<address>, https://<webhook>, pagerduty:<service>, slack:<channel>).",
    )


#: Bucket name prefixes S3 reserves (S3 User Guide, general purpose bucket naming rules).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
PAGERDUTY_URL_TEMPLATE = "https://events.pagerduty.com/integration/{service}/enqueue"


class StackConfig(_ConfigModel):
    """Settings of one stack (environment)."""

    stack: str = Field(description="Stack name.")
    environment: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$", max_length=16,
        description="Environment; selects spec overrides (at most 16 characters, like a spec's environments keys).",
    )
    org_prefix: Optional[str] = Field(
        default=None, pattern=r"^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$",
        description="Organisation prefix (1-12 lowercase letters, digits, hyphens) that leads every globally unique "
                    "name (S3 buckets, which also end with the account id); unset: names carry the account id only.",
    )
    region: str = Field(description="AWS region (aws:region).")
    residency: Literal["eu", "uk", "us"] = Field(description="Residency group of the region.")
    partner_region: Optional[str] = Field(default=None, description="Replication target region, same residency.")
    replication: bool = Field(default=False, description="Replicate artifacts to the partner region.")
    platform_cost_center: str = Field(
        default="CC-0000", pattern=r"^CC-[0-9]{3,6}$",
        description="Cost center billed for the stack's shared foundation (audit trail, log buckets, platform key).",
    )
    access_log_retention_days: int = Field(
        default=365, ge=90, le=3650, description="Days S3 server access logs are kept in the central log bucket."
    )
    audit_log_retention_days: int = Field(
        default=2557, ge=365, le=3650, description="Days CloudTrail logs are kept (bucket and CloudWatch Logs); 7 years by default."
    )
    teams_dir: str = Field(default="examples/teams", description="Folder of team specs, relative to the project.")
    teams: Optional[list[str]] = Field(default=None, description="Only these teams (sharding); unset deploys all.")
    allowed_instance_types: AllowedInstanceTypes
    gpu_ceilings: GpuCeilings
    protect_stateful: bool = Field(default=False, description="Protect stateful resources (true in production).")
    kubernetes: Optional[KubernetesCluster] = Field(default=None, description="Cluster for kueue training queues.")
    network: Optional[Network] = Field(
        default=None, description="Subnets and security groups for compute; needed by batch queues, optional for endpoints."
    )
    account_id: str = Field(pattern=r"^[0-9]{12}$", description="AWS account the stack deploys into.")
    permissions_boundary_arn: Optional[str] = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$",
        description="Permissions boundary every team role gets; unset sets none.",
    )
    platform_role_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", description="Role that administers keys and policies."
    )
    human_principal_arns: list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")]] = Field(
        default_factory=list,
        description="Roles people sign in as (for example IAM Identity Center permission-set roles, with their "
                    "path). The teams' human roles trust exactly these, with MFA; empty trusts the account root, "
                    "i.e. any principal of the account its own IAM policy allows.",
    )
    pager_duty_integration_url: str = Field(
        default=PAGERDUTY_URL_TEMPLATE, pattern=r"^https://\S*\{service\}\S*$",
        description="HTTPS URL an escalation target pagerduty:<service> is subscribed at; {service} is replaced by the "
                    "service's integration key name. Defaults to PagerDuty's CloudWatch events integration URL.",
    )
    slack_webhook_url: Optional[str] = Field(
        default=None, pattern=r"^https://\S*\{channel\}\S*$",
        description="HTTPS URL of the organisation's SNS-to-Slack relay a target slack:<channel> is subscribed at "
                    "({channel} is replaced); unset: specs may not use slack: targets on this stack.",
    )
    log_forwarding: Optional[LogForwarding] = Field(
        default=None, description="Forward every team's log groups to Splunk or Datadog; unset forwards nothing."
    )
    edge: Optional[Edge] = Field(
        default=None, description="Hosted zone and certificate of mtls front doors; unset: endpoints may not use exposure mtls.",
    )
    anomaly_detection: Optional[AnomalyDetection] = Field(
        default=None, description="Anomalous access detection; unset: on in the prod environment, off elsewhere.",
    )
    defaults: PlatformDefaults = Field(
        default_factory=PlatformDefaults,
        description="Platform defaults this stack overrides (key deletion window, endpoint termination wait, "
                    "service-role session length, Kueue container defaults, ...; see "
                    "mlplatform.platform_defaults.PlatformDefaults); unset keeps every default.",
    )
    unpriced_cost: Literal["warn", "block"] = Field(
        default="warn",
        description="What `mlp cost` and `mlp ci` do when a team's budget cannot be confirmed because some of its "
                    "lines have no sourced price: warn (pass, with the unpriced lines named) or block (fail).",
    )

    @field_validator("org_prefix")
    @classmethod
    def _org_prefix_not_reserved(cls, value: Optional[str]) -> Optional[str]:
        reserved = next((prefix for prefix in RESERVED_BUCKET_PREFIXES if value and f"{value}-".startswith(prefix)), None)
        if reserved:
            raise ValueError(f"S3 bucket names may not start with '{reserved}', and this prefix leads every bucket name")
        return value

    @field_validator("partner_region")
    @classmethod
    def _partner_is_another_region(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is not None and value == info.data.get("region"):
            raise ValueError(f"partner region must differ from the stack's region ({value})")
        return value

    @field_validator("anomaly_detection")
    @classmethod
    def _production_detects_anomalies(cls, value: Optional["AnomalyDetection"],
                                      info: ValidationInfo) -> Optional["AnomalyDetection"]:
        """MLP-EDGE-005 is decided by this setting alone, so the stack file says it first."""
        from .guardrails import ANOMALY_DETECTION_ENVIRONMENTS

        environment = info.data.get("environment")
        if value is not None and not value.enabled and environment in ANOMALY_DETECTION_ENVIRONMENTS:
            raise ValueError(f"a {environment} stack must detect anomalous access (MLP-EDGE-005): set enabled: true "
                             "or leave mlplatform:anomalyDetection unset")
        return value

    @field_validator("replication")
    @classmethod
    def _replication_needs_partner(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("partner_region"):
            raise ValueError("replication needs mlplatform:partnerRegion (a region of the same residency)")
        return value

    @field_validator("anomaly_detection")
    @classmethod
    def _slack_security_targets_need_the_relay(cls, value: Optional[AnomalyDetection],
                                               info: ValidationInfo) -> Optional[AnomalyDetection]:
        slack = [t for t in (value.security_targets if value else []) if t.startswith("slack:")]
        if slack and info.data.get("slack_webhook_url") is None:
            raise ValueError(f"security target {slack[0]} needs a Slack relay (mlplatform:slackWebhookUrl)")
        return value

    @property
    def anomaly_detection_enabled(self) -> bool:
        """Whether the stack detects anomalous access: as configured, else on in prod only."""
        if self.anomaly_detection is not None:
            return self.anomaly_detection.enabled
        return self.environment == "prod"

    def teams_path(self, project_root: Path = PROJECT_ROOT) -> Path:
        path = Path(self.teams_dir)
        return path if path.is_absolute() else project_root / path


@functools.lru_cache(maxsize=1)
def _field_kinds() -> dict[str, str]:
    """Config key -> how Pulumi config stores it ('str', 'bool' or 'object').

    Read from the field types (Optional unwrapped; Literal values are text), once.
    """
    kinds = {}
    for name, info in StackConfig.model_fields.items():
        if name in ("stack", "region"):
            continue
        annotation = info.annotation
        if typing.get_origin(annotation) is typing.Union:
            annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
        if annotation is bool:
            kind = "bool"
        elif annotation is str or typing.get_origin(annotation) is Literal:
            kind = "str"
        else:
            kind = "object"
        kinds[to_camel(name)] = kind
    return kinds


def config_values_from_stack_file(path: Path) -> tuple[dict[str, str], Document]:
    """Read ``Pulumi.<stack>.yaml`` into the flat string map the Pulumi CLI hands a program.

    Objects and lists become JSON text and booleans "true"/"false", as the CLI encodes them.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read stack config: {exc.strerror or exc}") from None
    document = load_yaml(str(path), raw)
    config = document.data.get("config") if isinstance(document.data, dict) else None
    if not isinstance(config, dict):
        raise SpecError([document.issue(("config",), "stack file needs a 'config' mapping")])
    values = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            continue  # secrets are for the real engine; nothing offline reads them
        values[key] = value if isinstance(value, str) else json.dumps(value)
    return values, document


def stack_file_name(stack: str) -> str:
    """Where a stack's config lives, relative to the project (Pulumi.yaml's stackConfigDir)."""
    return f"stacks/Pulumi.{stack}.yaml"


def setting_source(stack: str, setting: str, project_root: Path = PROJECT_ROOT) -> dict[str, object]:
    """Where a stack setting (``mlplatform:<setting>``) is written: ``{"file", "line"}``, the
    project-relative stack file and the line of the setting's key there, for resources
    the stack config (not any team's spec) defines. A stack configured outside the file
    (``pulumi config set`` without the file, or an unreadable file) points at line 1."""
    file = stack_file_name(stack)
    line = 1
    try:
        _, document = config_values_from_stack_file(project_root / file)
        position = document.position(("config", f"{NAMESPACE}:{setting}"), prefer_key=True)
        line = position.line if position else 1
    except (SpecError, UsageError):
        pass
    return {"file": file, "line": line}


def stack_file(stack: str, project_root: Path = PROJECT_ROOT) -> Path:
    path = project_root / stack_file_name(stack)
    if not path.exists():
        known = sorted(p.name.split(".")[1] for p in (project_root / "stacks").glob("Pulumi.*.yaml"))
        raise UsageError(f"unknown stack '{stack}': {path} does not exist (known: {', '.join(known) or 'none'})")
    return path


def known_environments(project_root: Path = PROJECT_ROOT) -> set[str]:
    """Environments the project's stack files deploy (for catching misspelt overrides)."""
    environments = set()
    for path in (project_root / "stacks").glob("Pulumi.*.yaml"):
        try:
            values, _ = config_values_from_stack_file(path)
        except (SpecError, UsageError):
            continue  # a broken stack file is reported when that stack is used
        environment = values.get(f"{NAMESPACE}:environment")
        if environment:
            environments.add(environment)
    return environments


def stack_config_from_values(
    stack: str, values: dict[str, str], source: str, document: Optional[Document] = None
) -> StackConfig:
    """Build the model from the CLI-style flat map (``mlplatform:key`` -> text)."""
    data: dict[str, Any] = {"stack": stack, "region": values.get("aws:region", "")}
    kinds = _field_kinds()
    for key, text in values.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        kind = kinds.get(name)
        if kind == "bool":
            data[name] = {"true": True, "false": False}.get(text.lower(), text)
        elif kind == "object":
            try:
                data[name] = json.loads(text)
            except ValueError:
                data[name] = text
        else:
            data[name] = text
    try:
        return StackConfig.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            key = f"{NAMESPACE}:{error['loc'][0]}" if error["loc"] else "config"
            path = ("config", key, *error["loc"][1:])
            where = document.position(path) if document else None
            message = "required setting is missing" if error["type"] == "missing" else error["msg"]
            issues.append(Issue(source, where.line if where else 1, where.column if where else 1, path, message))
        raise SpecError(issues) from None


def load_stack_config(stack: str, project_root: Path = PROJECT_ROOT, teams_dir: Optional[str] = None) -> StackConfig:
    """The stack's config from its stack file, with an optional teams folder override."""
    path = stack_file(stack, project_root)
    values, document = config_values_from_stack_file(path)
    if teams_dir is not None:
        values[f"{NAMESPACE}:teamsDir"] = teams_dir
    return stack_config_from_values(stack, values, str(path), document)


def stack_config_from_pulumi() -> StackConfig:
    """The stack's config as the running Pulumi program sees it."""
    import pulumi

    values: dict[str, str] = {}
    project = pulumi.Config(NAMESPACE)
    for name in _field_kinds():
        text = project.get(name)
        if text is not None:
            values[f"{NAMESPACE}:{name}"] = text
    region = pulumi.Config("aws").get("region")
    if region:
        values["aws:region"] = region
    return stack_config_from_values(pulumi.get_stack(), values, stack_file_name(pulumi.get_stack()))
