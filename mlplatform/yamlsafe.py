"""Safe YAML reading with exact positions and hard limits.

Team specs arrive in pull requests from many authors, so the reader treats every file as
hostile: only YAML's plain data types are built (a tag that would construct an object is
an error and is never executed), duplicate keys are errors rather than silently
last-wins, and size, nesting depth and alias expansion are capped so a YAML bomb fails
fast instead of exhausting memory. libyaml (PyYAML's C parser) composes the node tree;
we convert nodes to plain data ourselves, which is where the caps and positions live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import yaml
from yaml.constructor import SafeConstructor

from .errors import Issue, PathPart, SpecError

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 100_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MAP_TAG = f"{_CORE}map"
_SEQ_TAG = f"{_CORE}seq"

_STR_TAG = f"{_CORE}str"
_constructor = SafeConstructor()
_RESOLVED: dict[tuple, str] = {}
_RESOLVED_MAX = 50_000


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader with a memo of implicit tag resolution.

    libyaml parses in C but asks the Python resolver for the tag of every scalar, which
    dominated validation time. Specs repeat the same keys and values across files, so the
    answers are memoised (bounded, so hostile input cannot grow it without limit).
    """

    def resolve(self, kind, value, implicit):
        key = (kind, value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < _RESOLVED_MAX:
                _RESOLVED[key] = tag
        return tag

Path = tuple[PathPart, ...]


@dataclass
class Position:
    line: int
    column: int


@dataclass
class Document:
    """Plain data of one YAML file plus where each value and key sits in it."""

    file: str
    data: Any
    #: path -> libyaml start mark of the value at that path (turned into a
    #: :class:`Position` only when asked: most documents never need one)
    values: dict[Path, Any] = field(default_factory=dict)
    #: path -> start mark of the mapping key that introduced that path
    keys: dict[Path, Any] = field(default_factory=dict)

    def position(self, path: Path, prefer_key: bool = False) -> Position:
        """The best known position for ``path``, walking up to a known ancestor."""
        for end in range(len(path), -1, -1):
            prefix = tuple(path[:end])
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            if prefix in first:
                return _from_mark(first[prefix])
            if prefix in second:
                return _from_mark(second[prefix])
        return Position(1, 1)

    def issue(self, path: Path, message: str, prefer_key: bool = False) -> Issue:
        where = self.position(path, prefer_key)
        return Issue(self.file, where.line, where.column, tuple(path), message)


def _position(node: yaml.Node) -> Position:
    return _from_mark(node.start_mark)


def _from_mark(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _fail(file: str, where: Position, message: str, path: Path = ()) -> SpecError:
    return SpecError([Issue(file, where.line, where.column, path, message)])


def decode(file: str, raw: bytes) -> str:
    """UTF-8 text of ``raw``, or an error pointing at the first byte that is not UTF-8."""
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(file, Position(1, 1), f"file is {len(raw)} bytes; specs are capped at {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(file, Position(line, column), f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return text.removeprefix("\ufeff")


def load_yaml(file: str, raw: bytes) -> Document:
    """Parse one YAML document from ``raw`` bytes into a positioned :class:`Document`."""
    text = decode(file, raw)
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in problem:
            problem = f"nesting is too deep (at most {MAX_DEPTH} levels are allowed)"
        raise _fail(file, where, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:  # characters YAML does not allow, e.g. NUL
        position = exc.position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise _fail(file, Position(line, column), f"character U+{code:04X} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise _fail(file, Position(1, 1), f"YAML error: {' '.join(str(exc).split())}") from None
    if not nodes:
        raise _fail(file, Position(1, 1), "file is empty; expected a TeamSpec mapping")
    if len(nodes) > 1:
        raise _fail(file, _position(nodes[1]), "file holds more than one YAML document; put one team spec per file")
    document = Document(file=file, data=None)
    document.data = _Converter(document).convert(nodes[0], (), 0)
    return document


class _Converter:
    """Turns a libyaml node tree into plain data, enforcing the caps on the way."""

    def __init__(self, document: Document):
        self.document = document
        self.nodes_seen = 0

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            raise _fail(
                self.document.file, _position(node),
                f"document expands to more than {MAX_NODES} values (aliases count each time they are used); "
                "anchors that multiply content are not allowed",
                path,
            )
        if depth > MAX_DEPTH:
            raise _fail(
                self.document.file, _position(node), f"nesting is too deep (at most {MAX_DEPTH} levels are allowed)", path[:4]
            )
        self.document.values.setdefault(path, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, _SEQ_TAG, path)
            return [self.convert(item, path + (index,), depth + 1) for index, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _check_tag(self, node: yaml.Node, expected: str, path: Path) -> None:
        if node.tag != expected:
            raise _fail(
                self.document.file, _position(node),
                f"YAML tag '{node.tag}' is not allowed; specs hold plain data only",
                path,
            )

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        self._check_tag(node, _MAP_TAG, path)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_CORE}merge":
                raise _fail(self.document.file, _position(key_node), "YAML merge keys ('<<') are not allowed", path)
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, bool):
                raise _fail(
                    self.document.file, _position(key_node),
                    f"mapping key '{key_node.value}' reads as a boolean in YAML; quote it", path,
                )
            if not isinstance(key, str):
                raise _fail(self.document.file, _position(key_node), "mapping keys must be strings", path)
            child = path + (key,)
            if key in result:
                first = _from_mark(self.document.keys[child])
                raise _fail(
                    self.document.file, _position(key_node),
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    child,
                )
            self.document.keys[child] = key_node.start_mark
            result[key] = self.convert(value_node, child, depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Union[str, int, float, bool, None]:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            raise _fail(
                self.document.file, _position(node),
                f"YAML tag '{node.tag}' is not allowed; specs hold plain data only",
                path,
            )
        if node.tag == f"{_CORE}timestamp":  # dates stay text: the spec validates their format
            return node.value
        return _constructor.yaml_constructors[node.tag](_constructor, node)

