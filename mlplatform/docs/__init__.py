"""Documents generated from team specs for review boards and data-protection records.

Model cards (one per endpoint) and data provenance reports (one per team) are derived
from the same validated spec the estate is built from, as the stack's environment
deploys it, so what the review board reads is what gets deployed.
"""
