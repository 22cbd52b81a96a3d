"""Every component takes one keyword-only, frozen, documented Args (issue 15, "Uniform arguments").

A component is any ``pulumi.ComponentResource`` subclass defined under ``components/`` or
``mlplatform/estate/``. Each one is built as ``X(name, XArgs(field=..., ...), opts)``:

- ``__init__(self, name: str, args: XArgs, opts: Optional[pulumi.ResourceOptions] = None)``,
  nothing else, so every caller passes the same three things in the same order;
- ``XArgs`` is ``@dataclass(frozen=True, kw_only=True)``: a component cannot change what it
  was given, and a caller cannot swap two positional values of the same type unnoticed;
- every field of ``XArgs`` is documented, as Sphinx reads it: a ``#:`` comment on the lines
  right above it or a string right below it; a field with a default says so (the word
  "default" appears in its documentation);
- every ``...Args(...)`` call in the framework names its values (no positional argument).

The walk imports the modules and reads their source with :mod:`ast`, so a new component
is checked the moment it exists.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pulumi
import pytest

from .conftest import PROJECT_ROOT

#: packages whose modules define components
COMPONENT_PACKAGES = ("components", "mlplatform.estate")
#: where ``...Args(...)`` calls must use keywords only (the framework; tests may do as they like)
WIRING_ROOTS = ("components", "mlplatform")
#: issue 15 counts 27 components; the walk must find at least that many, so it cannot pass
#: by finding none
FEWEST_COMPONENTS = 27


def modules(package_name: str) -> list[ModuleType]:
    package = importlib.import_module(package_name)
    return [importlib.import_module(f"{package_name}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__) if not info.ispkg]


def component_classes() -> list[type]:
    """Every ComponentResource subclass defined (not merely imported) in a component package,
    but :class:`SpecComponent`, the base they share (it takes their type token)."""
    from components.base import SpecComponent

    found = {}
    for package_name in COMPONENT_PACKAGES:
        for module in modules(package_name):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (issubclass(cls, pulumi.ComponentResource) and cls.__module__ == module.__name__
                        and cls is not SpecComponent):
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[key] for key in sorted(found)]


COMPONENTS = component_classes()


def args_class(component: type) -> type:
    """The class ``component.__init__`` annotates ``args`` with, looked up in its module."""
    annotation = inspect.signature(component.__init__).parameters["args"].annotation
    if isinstance(annotation, str):
        module = importlib.import_module(component.__module__)
        annotation = getattr(module, annotation)
    return annotation


def signature_problems(component: type) -> list[str]:
    params = list(inspect.signature(component.__init__).parameters.values())
    shape = [(p.name, p.kind, p.annotation, p.default) for p in params]
    expected = [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty, inspect.Parameter.empty),
        ("name", inspect.Parameter.POSITIONAL_OR_KEYWORD, "str", inspect.Parameter.empty),
        ("args", inspect.Parameter.POSITIONAL_OR_KEYWORD, f"{component.__name__}Args", inspect.Parameter.empty),
        ("opts", inspect.Parameter.POSITIONAL_OR_KEYWORD, "Optional[pulumi.ResourceOptions]", None),
    ]
    if shape != expected:
        got = ", ".join(str(p) for p in params)
        return [f"{component.__qualname__}.__init__({got}) is not "
                f"(self, name: str, args: {component.__name__}Args, opts: Optional[pulumi.ResourceOptions] = None)"]
    return []


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its documentation: the ``#:`` lines right above it, else the string right below."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    [node] = ast.parse(source).body
    docs: dict[str, str] = {}
    body = node.body
    for position, statement in enumerate(body):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        comment: list[str] = []
        line = statement.lineno - 2  # 0-based index of the line above the field
        while line >= 0 and lines[line].strip().startswith("#:"):
            comment.insert(0, lines[line].strip()[2:].strip())
            line -= 1
        following = body[position + 1] if position + 1 < len(body) else None
        if comment:
            docs[statement.target.id] = " ".join(comment)
        elif (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
              and isinstance(following.value.value, str)):
            docs[statement.target.id] = following.value.value.strip()
        else:
            docs[statement.target.id] = ""
    return docs


def args_problems(component: type) -> list[str]:
    try:
        args = args_class(component)
    except (AttributeError, KeyError) as error:
        return [f"{component.__qualname__}: no Args class ({error})"]
    if not dataclasses.is_dataclass(args):
        return [f"{args.__qualname__} is not a dataclass"]
    problems = []
    if not args.__dataclass_params__.frozen:
        problems.append(f"{args.__qualname__} is not frozen")
    positional = [f.name for f in dataclasses.fields(args) if not f.kw_only]
    if positional:
        problems.append(f"{args.__qualname__} is not kw_only (positional fields: {', '.join(positional)})")
    docs = field_docs(args)
    for f in dataclasses.fields(args):
        doc = docs.get(f.name, "")
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if not doc:
            problems.append(f"{args.__qualname__}.{f.name} has no '#:' comment or docstring")
        elif has_default and "default" not in doc.lower():
            problems.append(f"{args.__qualname__}.{f.name} has a default its documentation does not name")
    return problems


def test_the_walk_finds_every_component():
    names = {cls.__name__ for cls in COMPONENTS}
    assert len(COMPONENTS) >= FEWEST_COMPONENTS, sorted(names)
    # one of each kind: a spec component, a stack-shared one, an estate one
    assert {"ModelEndpoint", "KueueCluster", "Team", "RetiredEndpoint", "EndpointAlarms"} <= names


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda cls: cls.__qualname__)
def test_component_takes_name_args_opts(component):
    assert signature_problems(component) == []


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda cls: cls.__qualname__)
def test_component_args_are_frozen_keyword_only_and_documented(component):
    assert args_problems(component) == []


def positional_args_calls(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """``file:line Name`` of every call to a ``...Args`` class with a positional argument."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called.endswith("Args"):
                found.append(f"{path.relative_to(root)}:{node.lineno} {called}")
    return found


def test_every_args_construction_names_its_values():
    files = sorted(path for root in WIRING_ROOTS for path in (PROJECT_ROOT / root).rglob("*.py"))
    assert files
    assert [call for path in files for call in positional_args_calls(path)] == []


# ---------------------------------------------------------------- the checks can fail


def test_the_checks_catch_a_positional_undocumented_args(tmp_path):
    source = textwrap.dedent('''
        from __future__ import annotations
        from dataclasses import dataclass
        from typing import Optional
        import pulumi

        @dataclass(frozen=True)
        class WidgetArgs:
            size: int
            #: the colour; default blue
            colour: str = "blue"
            #: the shape
            shape: str = "round"

        class Widget(pulumi.ComponentResource):
            def __init__(self, name: str, context, args: WidgetArgs, opts: Optional[pulumi.ResourceOptions] = None):
                pass

        WidgetArgs(1)
    ''')
    module_path = tmp_path / "widget_for_args_test.py"
    module_path.write_text(source)
    spec = importlib.util.spec_from_file_location("widget_for_args_test", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        widget = module.Widget
        assert signature_problems(widget)
        problems = args_problems(widget)
        assert "WidgetArgs is not kw_only (positional fields: size, colour, shape)" in problems
        assert "WidgetArgs.size has no '#:' comment or docstring" in problems
        assert "WidgetArgs.shape has a default its documentation does not name" in problems
        assert not any(".colour " in problem for problem in problems)
    finally:
        del sys.modules[spec.name]
    assert positional_args_calls(module_path, tmp_path) == ["widget_for_args_test.py:19 WidgetArgs"]
