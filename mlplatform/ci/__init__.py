"""``mlp ci``: the pull-request path (validate, plan, policy, checkov, verify, cost, one summary)."""

#: The checkers in the order the summary shows them; ``stages`` defines ``<name>_stage`` for
#: each. Kept here, apart from the stages, so building the CLI's parser imports none of them.
STAGE_NAMES: tuple[str, ...] = ("plan", "policy", "checkov", "verify", "cost")
