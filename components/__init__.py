"""Typed Pulumi components, one per capability of a team's ML estate."""
