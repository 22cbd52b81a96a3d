"""The Batch submissions a Step Functions state machine makes, read from its definition.

A retraining trigger starts a state machine; what reaches Batch is whatever the machine's
``batch:submitJob`` Task states send. This module reads the Amazon States Language
definition (the ``definition`` input of ``aws:sfn/stateMachine:StateMachine``) and returns
every such task with the SubmitJob fields it sends, so :mod:`.derive` can prove them
against the plan. Nothing here knows about the plan.

ASL facts it rests on (Step Functions Developer Guide, "Run AWS Batch workloads with Step
Functions", "Passing parameters to a service API", "Transforming data with JSONata"):

* the optimized integration is ``arn:aws:states:::batch:submitJob`` (request-response) or
  ``...:batch:submitJob.sync`` (run a job); the AWS SDK integration
  ``arn:aws:states:::aws-sdk:batch:submitJob`` calls the same API. All take SubmitJob's
  fields in PascalCase (``JobQueue``, ``JobDefinition``, ``ShareIdentifier``,
  ``SchedulingPriorityOverride`` ...);
* a JSONPath state sends ``Parameters``, where a key ending in ``.$`` takes its value from
  the input or context at run time; a JSONata state sends ``Arguments``, where a string
  ``{% ... %}`` is evaluated at run time;
* Task states also sit inside ``Parallel`` branches and ``Map`` item processors (``Iterator``
  in older definitions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

#: SubmitJob through Step Functions: the optimized integration (request-response, .sync,
#: .waitForTaskToken) and the AWS SDK integration, in any partition.
_SUBMIT_JOB = re.compile(r"^arn:aws[a-z-]*:states:::(?:batch:submitJob(?P<pattern>\.sync|\.waitForTaskToken)?"
                         r"|aws-sdk:batch:submitJob)$")
REQUEST_RESPONSE, RUN_A_JOB, CALLBACK = "request-response", "run a job (.sync)", "callback (.waitForTaskToken)"
_PATTERNS = {None: REQUEST_RESPONSE, ".sync": RUN_A_JOB, ".waitForTaskToken": CALLBACK}


class DefinitionError(ValueError):
    """A definition that is not JSON or not shaped like an ASL state machine."""


@dataclass(frozen=True)
class SubmitTask:
    """One Task state that submits a Batch job."""

    #: where the state is: its name, prefixed by the Parallel/Map states that hold it
    path: str
    resource: str
    pattern: str
    #: the SubmitJob fields whose values are written in the definition
    fields: dict
    #: fields whose values are computed at run time (from the execution input or context)
    dynamic: tuple[str, ...]


def parse_definition(text: Any) -> dict:
    if isinstance(text, dict):
        definition = text
    else:
        try:
            definition = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise DefinitionError(f"not JSON ({exc})") from None
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        raise DefinitionError("no States object")
    return definition


def submit_job_tasks(definition: dict) -> list[SubmitTask]:
    """Every Task state of the machine (nested ones included) that calls Batch SubmitJob."""
    return list(_walk(definition, definition.get("QueryLanguage", "JSONPath"), ""))


def _walk(machine: dict, language: str, prefix: str) -> Iterator[SubmitTask]:
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            raise DefinitionError(f"state {prefix}{name} is not an object")
        state_language = state.get("QueryLanguage", language)
        kind = state.get("Type")
        if kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                if isinstance(branch, dict):
                    yield from _walk(branch, state_language, f"{prefix}{name}/branch {index}/")
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, dict):
                yield from _walk(processor, state_language, f"{prefix}{name}/")
        elif kind == "Task":
            match = _SUBMIT_JOB.match(str(state.get("Resource", "")))
            if match:
                fields, dynamic = _arguments(state, state_language)
                yield SubmitTask(f"{prefix}{name}", state["Resource"], _PATTERNS[match.group("pattern")],
                                 fields, dynamic)


def _arguments(state: dict, language: str) -> tuple[dict, tuple[str, ...]]:
    """(static fields, dynamic field names) of the request the task sends."""
    if language == "JSONata":
        arguments = state.get("Arguments", {})
        if _is_jsonata(arguments):
            return {}, ("(all arguments)",)
        if not isinstance(arguments, dict):
            raise DefinitionError(f"Arguments of {state.get('Resource')} is not an object")
        dynamic = tuple(key for key, value in arguments.items() if _is_jsonata(value))
        return {k: v for k, v in arguments.items() if k not in dynamic}, dynamic
    parameters = state.get("Parameters", {})
    if not isinstance(parameters, dict):
        raise DefinitionError(f"Parameters of {state.get('Resource')} is not an object")
    dynamic = tuple(key[:-2] for key in parameters if key.endswith(".$"))
    return {k: v for k, v in parameters.items() if not k.endswith(".$")}, dynamic


def _is_jsonata(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("{%") and value.strip().endswith("%}")
