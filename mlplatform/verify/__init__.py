"""``mlp verify``: checks of the resolved plan against what AWS itself enforces on apply.

The resolved plan (:mod:`.resolve`) fills in what AWS computes on apply; checkers
(:mod:`.checkers`) judge it: AWS acceptance of every input against botocore's service
models (:mod:`.acceptance`), and further checkers other modules register.
"""
