"""The estate layer: the only code that maps team specs and stack config to components.

Above the components and the core, below the tools. :mod:`.program` is the Pulumi program
(``__main__.py`` and the offline capture both run it); :mod:`.builder` builds what the
stack shares (the foundation, anomaly detection, the Kueue cluster) once from every spec
and hands it to each team explicitly; :mod:`.team` assembles one team's estate, with
:mod:`.compute_wiring` (training and serving) and :mod:`.observability_wiring` (alarms,
drift, logs, dashboard) deciding from the spec which components each team gets and with
which arguments. The components themselves never read a spec file, the stack file or the
program: everything they need arrives in their arguments.
"""
