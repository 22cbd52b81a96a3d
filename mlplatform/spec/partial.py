"""Partial models for environment overrides, derived from the full models.

An override may set any subset of a section, so every field becomes optional; items of
named lists keep ``name`` required because that is how they are matched. Deriving the
partial models (rather than writing them twice) keeps overrides in step with the spec,
and the JSON Schema gives editors completion inside ``environments`` too. Cross-field
rules are not copied: they run on the merged result, where they mean something.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model

_cache: dict[type, type] = {}


def partial_model(model: type[BaseModel], name: str | None = None) -> type[BaseModel]:
    """A model like ``model`` whose fields are all optional (``name`` stays required)."""
    if model in _cache:
        return _cache[model]
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        annotation = _partial_annotation(info.annotation)
        constrained = Annotated[annotation, *info.metadata] if info.metadata else annotation
        keep_required = field_name == "name"
        # Not wrapped in Optional: an explicit null is only accepted where the full model
        # accepts one (it then unsets the value); a field left out is simply not overridden.
        fields[field_name] = (
            constrained,
            Field(... if keep_required else None, description=info.description),
        )
    partial = create_model(
        name or f"{model.__name__}Override",
        __base__=model.__mro__[1] if issubclass(model.__mro__[1], BaseModel) else BaseModel,
        __doc__=f"Override of {model.__name__}: any subset of its fields.",
        **fields,
    )
    _cache[model] = partial
    return partial


def _partial_annotation(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return partial_model(annotation)
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return list[partial_model(args[0])]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_partial_annotation(arg) for arg in args)]
    return annotation
