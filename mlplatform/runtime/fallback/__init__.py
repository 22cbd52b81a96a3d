"""The serving fallback Lambda (issue 16): answers for the model when the model cannot.

The front door of an ``mtls`` endpoint with a ``fallback`` integrates this function
(API Gateway REST, Lambda proxy integration, payload 1.0) instead of the endpoint. It
validates the request, invokes the SageMaker endpoint with a short timeout and, when the
model is down, answers from the fallback, marks the answer degraded and counts it.

One module per step of a call, so each can be read and changed alone:

======================  ==================================================================
:mod:`.contract`        names shared with the component that deploys it: metric namespace,
                        headers, the config file's name, cache attributes, IAM actions
:mod:`.config`          the config file: its keys, their checks, where it is read from
:mod:`.environment`     what one execution environment keeps between calls: the config
                        and the boto3 clients (timeouts, no retries)
:mod:`.request`         the caller's request: body decoding and the ``requestFields`` schema
:mod:`.model`           the call to the SageMaker endpoint and what its failures mean
:mod:`.cache`           the lastKnownGood cache table: writing answers, reading them back
:mod:`.rules`           the rule table of ``rules`` mode
:mod:`.answers`         the fallback's answer in each mode
:mod:`.metrics`         counting degraded answers in CloudWatch
:mod:`.responses`       API Gateway proxy responses, and how a degraded one is marked
:mod:`.entry`           the Lambda entry point: the decision between model and fallback
======================  ==================================================================

Deployment package (built by ``components/serving_fallback.py``): this package's modules as
the folder ``fallback/`` (handler setting ``fallback.entry.handler``) and the config file
:data:`.contract.CONFIG_FILE` beside that folder. The modules import each other relatively
and otherwise only the standard library and boto3/botocore, which the Lambda python3.12
runtime provides, so the package needs nothing installed and runs unchanged from the
repository (``mlplatform.runtime.fallback``) and from the zip (``fallback``).
"""

import logging

# Every module logs through a child of this logger; INFO so that a degraded answer's
# reasons reach the function's log group whatever the runtime's root level.
logging.getLogger(__name__).setLevel(logging.INFO)
