"""Offline runner of the policy pack (``policies/``): launches the pack exactly as the
Pulumi CLI launches a Python policy pack and drives it over the analyzer protocol with the
requests the engine sends, then maps its diagnostics back to URNs and team spec lines."""
