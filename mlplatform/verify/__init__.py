"""Checks of what AWS itself enforces on apply, run by ``mlp verify`` on a (resolved) plan."""
