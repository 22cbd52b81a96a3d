"""Pricers: one function per pulumi-aws resource type, turning a planned resource into priced
lines, grouped by service family (:mod:`.serving`, :mod:`.compute`, :mod:`.storage`,
:mod:`.observability`, :mod:`.messaging`, :mod:`.edge`). :mod:`.registry` maps type tokens
to them; :mod:`.context` is what each is given. Nothing is imported here, so reading a
family's SKUs (``mlp prices show``) does not load the rest.
"""
