"""Pulumi program entry: the estate of every team the stack's config selects."""

from mlplatform.program import run

run()
