"""The team spec: models, loading with positions, environment overrides, JSON Schema."""

from .loader import LoadedSpec, LoadResult, load_spec_bytes, load_spec_file, load_specs
from .models import TeamSpec

__all__ = ["LoadedSpec", "LoadResult", "TeamSpec", "load_spec_bytes", "load_spec_file", "load_specs"]
