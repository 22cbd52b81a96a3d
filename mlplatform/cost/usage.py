"""Usage model: the monthly quantities a plan's resources will consume.

A price says what one unit costs; the *usage* says how many units a month will bring.
Infrastructure code fixes the capacity (instance types, counts, ranges) but not the load,
so the quantities come from the team spec, which lets a team state its load (requests per
second, GPU-hours, stored GB, throughput). Where the spec is silent a documented default
below applies, and every quantity travels with the assumptions that produced it so the
report can print them next to the line: a reader must be able to see *why* a line costs
what it costs, and change the spec to correct it.

All figures are :class:`~decimal.Decimal`, so a line's cost is exact to the cent.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from ..spec.models import Artifacts, Autoscaling, Endpoint, FeatureGroup, TrainingQueue

D = Decimal

#: Hours in a month: 8,760 hours a year / 12, the convention of the AWS Pricing Calculator
#: and Infracost (``monthly_hrs`` = 730).
HOURS_PER_MONTH = D(730)
#: Where an endpoint's average instance count sits between autoscaling min and max when
#: the spec states no request rate: the midpoint. (Infracost prices an ASG at its
#: desired/min size and users report the estimate as unrealistic; the midpoint is the
#: neutral expectation for a range the team chose to cover its load.)
DEFAULT_SCALE_POSITION = D("0.5")
#: Requests per second assumed for a serverless endpoint when the spec states none.
DEFAULT_SERVERLESS_RPS = D(1)
#: Seconds of compute per serverless invocation (billing is per GB-second of memory).
DEFAULT_SERVERLESS_SECONDS = D("0.2")
#: Share of a training queue's GPU capacity (maxGpus x 730 h) used when the spec states no
#: expectedGpuHoursPerMonth.
DEFAULT_QUEUE_UTILISATION = D("0.10")
#: Spot discount against the on-demand rate. Spot prices change hourly and are not in the
#: Price List's terms (Infracost #1223), so this is a planning assumption, not a price:
#: AWS advertises "up to 90%" off; 60% is the planning figure used here.
DEFAULT_SPOT_DISCOUNT = D("0.60")
#: Share of GPU-hours that run on on-demand capacity when a spot queue may fall back
#: (spot.fallbackToOnDemand: true) because spot capacity was short.
DEFAULT_SPOT_FALLBACK_SHARE = D("0.20")
#: Artifact bucket size when the spec states no artifacts.storageGb.
DEFAULT_ARTIFACT_GB = D(100)
#: Size of a bucket that is not the team's artifact bucket (logs, captures) without a spec field.
DEFAULT_OTHER_BUCKET_GB = D(10)
#: Feature group data (online and offline store each) when the spec states no storageGb.
DEFAULT_FEATURE_GB = D(10)
#: Feature group write and online read rates when the spec states none.
DEFAULT_FEATURE_WRITES_PER_SECOND = D(1)
DEFAULT_FEATURE_READS_PER_SECOND = D(1)
#: A record of up to 1 KB costs one write unit (1 KB chunks) and one read unit (4 KB chunks)
#: per operation (AWS Feature Store docs); records are assumed to stay within 1 KB.
WRITE_UNITS_PER_WRITE = D(1)
READ_UNITS_PER_READ = D(1)
#: Container images held in a team's registry.
DEFAULT_IMAGE_GB = D(20)
#: Log data ingested per log group and month.
DEFAULT_LOG_GB_PER_MONTH = D(5)
#: Months of logs kept when a log group never expires its events.
DEFAULT_LOG_MONTHS_KEPT = D(12)
#: Lambda load per function.
DEFAULT_LAMBDA_REQUESTS = D(100_000)
DEFAULT_LAMBDA_SECONDS = D(1)
DEFAULT_LAMBDA_MEMORY_MB = D(128)
#: Firehose ingestion per delivery stream (GB a month).
DEFAULT_FIREHOSE_GB = D(10)
#: CloudTrail data events recorded per trail that logs data events.
DEFAULT_TRAIL_DATA_EVENTS = D(1_000_000)
#: SNS publishes per topic and month.
DEFAULT_SNS_REQUESTS = D(10_000)
#: SQS requests per queue and month.
DEFAULT_SQS_REQUESTS = D(100_000)
#: Length of one model-monitoring processing run (capped at the job's max runtime).
DEFAULT_MONITORING_RUN_MINUTES = D(10)
#: Runs a month when a schedule expression cannot be read: one a day.
DEFAULT_MONITORING_RUNS = HOURS_PER_MONTH / 24

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24


def number(value: Decimal) -> str:
    """A quantity for people: integers without decimals, others with up to 4."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return text


@dataclass
class EndpointUsage:
    """Instance-hours and requests of one endpoint variant with autoscaling."""

    instance_hours: Decimal
    requests: Decimal
    average_instances: Decimal
    assumptions: list[str] = field(default_factory=list)


def endpoint_usage(endpoint: Optional[Endpoint], minimum: Optional[int], maximum: Optional[int],
                   initial: Optional[int]) -> EndpointUsage:
    """Monthly instance-hours of an instance-backed endpoint.

    The range comes from the plan (autoscaling target, else the variant's initial count)
    or the spec's ``autoscaling``. With ``expectedRequestsPerSecond`` the instances needed
    are ``rps x 60 / targetInvocationsPerInstance`` (the scaling target is per instance
    per minute), kept within [min, max]; without it, the midpoint of the range. The
    off-peak window (``offPeakHoursPerDay``) runs at the minimum.
    """
    notes: list[str] = []
    scaling: Autoscaling = endpoint.autoscaling if endpoint is not None else Autoscaling()
    if minimum is None or maximum is None:
        if endpoint is not None:
            minimum, maximum = scaling.min, scaling.max
            notes.append(f"autoscaling {minimum}-{maximum} from the spec")
        else:
            count = initial if initial is not None else 1
            minimum = maximum = count
            notes.append(f"{count} instance(s) as planned (no autoscaling, no spec entry)")
    else:
        notes.append(f"autoscaling {minimum}-{maximum} from the plan")
    low, high = D(minimum), D(max(minimum, maximum))
    target = D(scaling.target_invocations_per_instance)
    rps = endpoint.expected_requests_per_second if endpoint is not None else None
    if rps is not None:
        needed = D(str(rps)) * 60 / target
        average = min(max(needed, low), high)
        notes.append(f"{number(D(str(rps)))} req/s / ({number(target)} per instance per minute) = "
                     f"{number(needed.quantize(D('0.0001')))} instances needed, {number(average.quantize(D('0.0001')))} within the range")
    else:
        average = low + (high - low) * DEFAULT_SCALE_POSITION
        notes.append(f"average {number(average)} instances: midpoint of the range (default; set expectedRequestsPerSecond)")
    off_peak = D(endpoint.off_peak_hours_per_day if endpoint is not None else 0)
    peak_hours = HOURS_PER_MONTH * (24 - off_peak) / 24
    off_hours = HOURS_PER_MONTH - peak_hours
    instance_hours = average * peak_hours + low * off_hours
    if off_peak:
        notes.append(f"{number(off_peak)} off-peak h/day at min {number(low)}: {number(average)} x {number(peak_hours)} h "
                     f"+ {number(low)} x {number(off_hours)} h")
    else:
        notes.append(f"{number(HOURS_PER_MONTH)} h/month")
    if rps is not None:
        requests = D(str(rps)) * 3600 * peak_hours
    else:
        requests = average * target * 60 * peak_hours
        notes.append("requests: instances at their scaling target")
    return EndpointUsage(instance_hours, requests, average, notes)


@dataclass
class ServerlessUsage:
    gb_seconds: Decimal
    requests: Decimal
    assumptions: list[str]


def serverless_usage(endpoint: Optional[Endpoint], memory_mb: Optional[int]) -> ServerlessUsage:
    memory = D(memory_mb or (endpoint.serverless.memory_mb if endpoint and endpoint.serverless else 1024))
    notes = [f"{number(memory)} MB memory"]
    rps = endpoint.expected_requests_per_second if endpoint is not None else None
    if rps is None:
        rate = DEFAULT_SERVERLESS_RPS
        notes.append(f"{number(rate)} req/s (default; set expectedRequestsPerSecond)")
    else:
        rate = D(str(rps))
        notes.append(f"{number(rate)} req/s from the spec")
    requests = rate * SECONDS_PER_MONTH
    notes.append(f"{number(DEFAULT_SERVERLESS_SECONDS)} s per invocation (default)")
    gb_seconds = requests * DEFAULT_SERVERLESS_SECONDS * memory / 1024
    return ServerlessUsage(gb_seconds, requests, notes)


@dataclass
class TrainingUsage:
    """GPU-hours of a queue split into spot and on-demand instance-hours."""

    gpu_hours: Decimal
    instance_type: str
    gpus_per_instance: Optional[int]
    spot_share: Decimal
    assumptions: list[str] = field(default_factory=list)

    @property
    def instance_hours(self) -> Optional[Decimal]:
        return self.gpu_hours / self.gpus_per_instance if self.gpus_per_instance else None


def training_usage(queue: TrainingQueue, gpus_per_instance: Optional[int], instance_type: Optional[str] = None) -> TrainingUsage:
    notes: list[str] = []
    if queue.expected_gpu_hours_per_month is not None:
        gpu_hours = D(str(queue.expected_gpu_hours_per_month))
        notes.append(f"{number(gpu_hours)} GPU-h/month from the spec")
    else:
        gpu_hours = D(queue.max_gpus) * HOURS_PER_MONTH * DEFAULT_QUEUE_UTILISATION
        notes.append(f"{number(gpu_hours)} GPU-h/month: {number(DEFAULT_QUEUE_UTILISATION * 100)}% of maxGpus {queue.max_gpus} "
                     "x 730 h (default; set expectedGpuHoursPerMonth)")
    chosen = instance_type or queue.instance_types[0]
    notes.append(f"runs on {chosen} (the queue's first instance type)")
    if gpus_per_instance:
        notes.append(f"{gpus_per_instance} GPU(s) per {chosen}")
    if not queue.spot.enabled:
        spot_share = D(0)
        notes.append("on-demand only")
    elif queue.spot.fallback_to_on_demand:
        spot_share = 1 - DEFAULT_SPOT_FALLBACK_SHARE
        notes.append(f"spot with {number(DEFAULT_SPOT_FALLBACK_SHARE * 100)}% on-demand fallback (default)")
    else:
        spot_share = D(1)
        notes.append("spot only")
    return TrainingUsage(gpu_hours, chosen, gpus_per_instance, spot_share, notes)


def artifact_gb(artifacts: Optional[Artifacts]) -> tuple[Decimal, list[str]]:
    if artifacts is not None and artifacts.storage_gb is not None:
        return D(str(artifacts.storage_gb)), ["artifacts.storageGb from the spec"]
    return DEFAULT_ARTIFACT_GB, [f"{number(DEFAULT_ARTIFACT_GB)} GB (default; set artifacts.storageGb)"]


@dataclass
class FeatureUsage:
    storage_gb: Decimal
    write_units: Decimal
    read_units: Decimal
    assumptions: list[str]


def feature_usage(group: Optional[FeatureGroup]) -> FeatureUsage:
    notes: list[str] = []

    def pick(value: Optional[float], default: Decimal, name: str, unit: str) -> Decimal:
        if value is not None:
            notes.append(f"{number(D(str(value)))} {unit} ({name} from the spec)")
            return D(str(value))
        notes.append(f"{number(default)} {unit} (default; set {name})")
        return default

    storage = pick(group.storage_gb if group else None, DEFAULT_FEATURE_GB, "storageGb", "GB")
    writes = pick(group.expected_writes_per_second if group else None, DEFAULT_FEATURE_WRITES_PER_SECOND,
                  "expectedWritesPerSecond", "writes/s")
    reads = pick(group.expected_reads_per_second if group else None, DEFAULT_FEATURE_READS_PER_SECOND,
                 "expectedReadsPerSecond", "reads/s")
    notes.append("records within 1 KB: 1 write unit per write, 1 read unit per read")
    return FeatureUsage(storage, writes * SECONDS_PER_MONTH * WRITE_UNITS_PER_WRITE,
                        reads * SECONDS_PER_MONTH * READ_UNITS_PER_READ, notes)


def log_usage(retention_days: Optional[int]) -> tuple[Decimal, Decimal, list[str]]:
    """GB ingested a month and GB stored in steady state (ingest x months kept)."""
    ingest = DEFAULT_LOG_GB_PER_MONTH
    notes = [f"{number(ingest)} GB/month ingested (default)"]
    if retention_days:
        months = D(retention_days) / DAYS_PER_MONTH
        notes.append(f"kept {retention_days} days: {number(months.quantize(D('0.0001')))} months stored")
    else:
        months = DEFAULT_LOG_MONTHS_KEPT
        notes.append(f"no expiry: {number(months)} months stored (default)")
    return ingest, ingest * months, notes


@dataclass
class MonitoringUsage:
    runs: Decimal
    hours: Decimal
    assumptions: list[str]


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")


def schedule_runs(expression: Optional[str]) -> tuple[Optional[Decimal], str]:
    """Runs a month of an EventBridge/SageMaker schedule expression (``rate(...)`` or a
    six-field ``cron(...)`` whose minute field is fixed), or None when it cannot be read."""
    text = (expression or "").strip()
    rate = _RATE.match(text)
    if rate:
        every, unit = D(rate.group(1)), rate.group(2).rstrip("s")
        per_hour = {"minute": 60 / every, "hour": 1 / every, "day": 1 / (24 * every)}[unit]
        return HOURS_PER_MONTH * per_hour, text
    cron = _CRON.match(text)
    if cron:
        fields = cron.group(1).split()
        if len(fields) == 6 and fields[0].isdigit() and fields[2] in ("*", "?") and fields[3] == "*" \
                and fields[4] in ("*", "?") and fields[5] in ("*", "?"):
            hours = fields[1]
            if hours == "*":
                return HOURS_PER_MONTH, text
            if all(part.isdigit() for part in hours.split(",")):
                return DAYS_PER_MONTH * len(hours.split(",")), text
    return None, text


def monitoring_usage(expression: Optional[str], max_runtime_seconds: Optional[int]) -> MonitoringUsage:
    runs, text = schedule_runs(expression)
    notes = []
    if runs is None:
        runs = DEFAULT_MONITORING_RUNS
        notes.append(f"schedule {text or '(none)'} not read: {number(runs)} runs/month (one a day, default)")
    else:
        notes.append(f"{number(runs)} runs/month ({text})")
    minutes = DEFAULT_MONITORING_RUN_MINUTES
    if max_runtime_seconds is not None and D(max_runtime_seconds) / 60 < minutes:
        minutes = D(max_runtime_seconds) / 60
        notes.append(f"{number(minutes)} min per run (the job's max runtime)")
    else:
        notes.append(f"{number(minutes)} min per run (default)")
    return MonitoringUsage(runs, runs * minutes / 60, notes)


# ---------------------------------------------------------------- serving edge (issue 16)

#: Requests a month through a front door (API Gateway, WAF) that names no endpoint.
DEFAULT_EDGE_REQUESTS = D(1_000_000)
#: Share of a front door's requests answered by the fallback (the model timed out, throttled
#: or failed): the last-known-good cache is read only then.
DEFAULT_FALLBACK_SHARE = D("0.01")
#: Size of one cached answer: within 1 KB, so a write costs one write request unit and a
#: (strongly consistent) read one read request unit (DynamoDB on-demand meters writes in
#: 1 KB and reads in 4 KB units).
CACHE_ITEM_KB = D(1)
#: Management events a month the stack's account records: what GuardDuty's foundational
#: detection and CloudTrail Insights analyse.
DEFAULT_MANAGEMENT_EVENTS = D(1_000_000)
#: Share of management events that are writes (AWS's own Insights cost example: 30,000 of
#: 300,000 management events).
DEFAULT_WRITE_EVENT_SHARE = D("0.10")
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60


@dataclass
class EdgeUsage:
    """Requests a month through the front door of one endpoint."""

    requests: Decimal
    assumptions: list[str]


def edge_usage(endpoint: Optional[Endpoint]) -> EdgeUsage:
    """Every request to an mtls endpoint passes its front door (API Gateway, the WAF and,
    with a fallback, the Lambda), so the front door's load is the endpoint's: its
    ``expectedRequestsPerSecond`` (off-peak hours excluded, as the endpoint's own line
    counts them), else the instances at their scaling target."""
    if endpoint is None:
        return EdgeUsage(DEFAULT_EDGE_REQUESTS, [f"{number(DEFAULT_EDGE_REQUESTS)} requests/month (default; the "
                                                 "resource names no endpoint of the spec)"])
    use = endpoint_usage(endpoint, None, None, None)
    requests = use.requests.quantize(D(1))
    if endpoint.expected_requests_per_second is not None:
        why = f"expectedRequestsPerSecond {number(D(str(endpoint.expected_requests_per_second)))} of endpoint {endpoint.name}"
    else:
        why = f"endpoint {endpoint.name} at its scaling target (default; set expectedRequestsPerSecond)"
    return EdgeUsage(requests, [f"{number(requests)} requests/month: {why}"])


@dataclass
class CacheUsage:
    write_units: Decimal
    read_units: Decimal
    storage_gb: Decimal
    assumptions: list[str]


def cache_usage(requests: Decimal, ttl_minutes: Optional[int]) -> CacheUsage:
    """The last-known-good cache: one write per answered request, reads only for fallback
    answers, and at most the answers of one TTL window stored (every key distinct)."""
    ttl = D(ttl_minutes or 60)
    reads = (requests * DEFAULT_FALLBACK_SHARE).quantize(D(1))
    items = (requests * ttl / MINUTES_PER_MONTH).quantize(D(1))
    storage_gb = items * CACHE_ITEM_KB / (1024 * 1024)
    notes = [f"{number(requests)} writes/month (one per model answer)",
             f"{number(reads)} reads/month: {number(DEFAULT_FALLBACK_SHARE * 100)}% of requests answered by the "
             "fallback (default)",
             f"answers within {number(CACHE_ITEM_KB)} KB: 1 write unit per write, 1 read unit per read",
             f"at most {number(items)} items stored: the answers of one {number(ttl)}-minute TTL window"]
    return CacheUsage(requests, reads, storage_gb, notes)


def insight_events(types: list[str], management_events: Decimal = DEFAULT_MANAGEMENT_EVENTS) -> tuple[Decimal, list[str]]:
    """Events CloudTrail Insights analyses a month: the API call rate type analyses write
    management events, the error rate type every management event (AWS CloudTrail user
    guide, "Costs for Insights events")."""
    writes = management_events * DEFAULT_WRITE_EVENT_SHARE
    analysed = (writes if "ApiCallRateInsight" in types else D(0)) + \
        (management_events if "ApiErrorRateInsight" in types else D(0))
    notes = [f"{number(management_events)} management events/month (default), "
             f"{number(DEFAULT_WRITE_EVENT_SHARE * 100)}% writes",
             f"{', '.join(types)}: {number(analysed)} events analysed"]
    return analysed, notes
