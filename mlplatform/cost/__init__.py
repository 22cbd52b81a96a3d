"""Cost previews: a sourced price catalogue, a usage model from the team specs, and an
engine that prices a ResourceGraph per team, component and resource (``mlp cost``)."""
