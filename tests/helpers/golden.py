"""Golden plans: the captured graph of every shipped stack, committed (issue 15).

A restructure must not change what is deployed: the captured graph of each stack (every
resource's URN, type, inputs, options, dependencies, tags and spec source) is compared
with ``tests/golden/<stack>.jsonl``, one resource per line (sorted by URN, keys sorted) so
a diff shows exactly the resources that changed. A change that alters the estate on
purpose regenerates them and the diff is reviewed with the change::

    .venv/bin/python -m tests.helpers.golden            # rewrite tests/golden/*.jsonl
    .venv/bin/python -m tests.helpers.golden --check    # exit 1 and list what differs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlplatform.capture import capture_stack
from mlplatform.graph import ResourceGraph

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
STACKS = ("dev", "staging", "prod")


def golden_lines(graph: ResourceGraph) -> list[str]:
    """One JSON line per resource, in URN order, keys sorted."""
    return [json.dumps(graph.resources[urn].to_json(), sort_keys=True, separators=(",", ":"))
            for urn in sorted(graph.resources)]


def golden_file(stack: str) -> Path:
    return GOLDEN / f"{stack}.jsonl"


def differences(stack: str, graph: ResourceGraph) -> list[str]:
    """URNs whose line differs from the golden plan (added, removed or changed)."""
    expected = {json.loads(line)["urn"]: line for line in golden_file(stack).read_text().splitlines()}
    actual = {json.loads(line)["urn"]: line for line in golden_lines(graph)}
    changed = []
    for urn in sorted(set(expected) | set(actual)):
        if urn not in expected:
            changed.append(f"added   {urn}")
        elif urn not in actual:
            changed.append(f"removed {urn}")
        elif expected[urn] != actual[urn]:
            changed.append(f"changed {urn}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    status = 0
    for stack in STACKS:
        graph = capture_stack(stack)
        if args.check:
            changed = differences(stack, graph)
            for line in changed:
                print(f"{stack}: {line}")
            status |= bool(changed)
        else:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            golden_file(stack).write_text("\n".join(golden_lines(graph)) + "\n")
            print(f"{golden_file(stack)}: {len(graph)} resources")
    return status


if __name__ == "__main__":
    sys.exit(main())
