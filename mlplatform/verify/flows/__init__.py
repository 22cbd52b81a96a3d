"""Runtime flows of the estate, proven on the resolved plan (``mlp verify``'s flows checker).

A *flow* is something the estate must be able to do once applied: an endpoint writes its
data capture and the drift Lambda and Model Monitor read it, training writes ``models/`` and
serving reads them, Batch launches instances with the team key, retraining submits to the
team's queue, Firehose writes its backup bucket, CloudTrail and S3 access logs deliver to
their buckets, people read features by attributes, S3 replicates under both keys.

* :mod:`.policy_eval` decides one request by AWS's documented evaluation logic;
* :mod:`.estate` indexes the plan (roles and their policies, bucket and key policies, ...);
* :mod:`.declarations` says, as data, which flows exist and what each one needs;
* :mod:`.derive` turns the declarations into concrete flows for this plan;
* :mod:`.checker` proves each flow and reports one result per flow.
"""

from .checker import check

__all__ = ["check"]
