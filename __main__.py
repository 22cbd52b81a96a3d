"""Pulumi program entry: the estate of every team the stack's config selects."""

from mlplatform.estate.program import run

run()
