"""``mlp ci``: the pull-request path (validate, plan, policy, checkov, cost, one summary)."""
