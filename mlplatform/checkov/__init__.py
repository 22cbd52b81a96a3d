"""checkov on Pulumi plans: the ResourceGraph as a Terraform plan and Kubernetes manifests.

pulumi-aws is bridged from the Terraform AWS provider, so every AWS resource of ours has a
Terraform twin that checkov already knows; Kubernetes resources already are manifests.
``tfnames`` maps Pulumi names to Terraform names, ``tfplan`` writes the plan JSON,
``manifests`` the YAML, ``environment`` provides checkov in its own virtual environment,
``runner`` runs it and maps findings back to URNs and spec lines, ``skips`` reads the
justified exceptions and ``command`` is ``mlp scan``.
"""
