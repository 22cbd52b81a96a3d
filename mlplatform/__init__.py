"""mlplatform: provision a regulated ML estate on Pulumi from per-team YAML specs."""

__version__ = "0.1.0"
