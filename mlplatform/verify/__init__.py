"""``mlp verify``: checks of the resolved plan against what AWS itself enforces."""
