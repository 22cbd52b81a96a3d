"""Safe YAML reading with exact positions and hard limits.

Team specs arrive in pull requests from many authors, so the reader treats every file as
hostile: only YAML's plain data types are built (a tag that would construct an object is
an error and is never executed), duplicate keys are errors rather than silently
last-wins, and size, nesting depth and alias expansion are capped so a YAML bomb fails
fast instead of exhausting memory. libyaml (PyYAML's C parser) composes the node tree;
we convert nodes to plain data ourselves, which is where the caps and positions live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import yaml
from yaml.constructor import SafeConstructor

from .errors import Issue, PathPart, SpecError, item_labels

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 100_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MAP_TAG = f"{_CORE}map"
_SEQ_TAG = f"{_CORE}seq"

_STR_TAG = f"{_CORE}str"
_TIMESTAMP_TAG = f"{_CORE}timestamp"
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

    # No path resolvers are registered, so libyaml's per-node descend/ascend callbacks
    # have nothing to do; skipping PyYAML's bookkeeping saves two calls per node.
    def descend_resolver(self, current_node, current_index):
        return None

    def ascend_resolver(self):
        return None

Path = tuple[PathPart, ...]


@dataclass
class Position:
    line: int
    column: int


@dataclass
class Document:
    """Plain data of one YAML file, plus its node tree to find any value's position.

    Positions are looked up only when an error needs one, by walking the libyaml node
    tree along the field path. The tree is not kept: holding every node of every spec
    alive cost more than re-parsing the one file that has an error, so it is composed
    again from ``text`` on first use.
    """

    file: str
    data: Any
    text: str = ""
    root: Optional[yaml.Node] = None

    def _tree(self) -> Optional[yaml.Node]:
        if self.root is None and self.text:
            self.root = yaml.compose(self.text, Loader=_Loader)
        return self.root

    def position(self, path: Path, prefer_key: bool = False) -> Position:
        """Where ``path`` is written; the nearest existing ancestor when it is absent.

        With ``prefer_key`` the position of the mapping key is given instead of its value
        (for "unknown field" errors, the key is what is wrong).
        """
        node = self._tree()
        key_node: Optional[yaml.Node] = None
        for part in path:
            child, child_key = _child(node, part)
            if child is None:
                break
            node, key_node = child, child_key
        else:
            if prefer_key and key_node is not None:
                return _position(key_node)
        return _position(node) if node is not None else Position(1, 1)

    def issue(self, path: Path, message: str, prefer_key: bool = False) -> Issue:
        where = self.position(path, prefer_key)
        return Issue(self.file, where.line, where.column, tuple(path), message,
                     labels=item_labels(self.data, path))


def _child(node: Optional[yaml.Node], part: PathPart) -> tuple[Optional[yaml.Node], Optional[yaml.Node]]:
    """The value node (and key node) under ``node`` at one path step."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        found: tuple[Optional[yaml.Node], Optional[yaml.Node]] = (None, None)
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                found = (value_node, key_node)
                break  # the first: a duplicate key is reported before positions are needed
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], None
    return None, None


def _path_to(root: yaml.Node, target: yaml.Node) -> Path:
    """The field path of ``target`` in the tree (first occurrence); used only for errors."""
    stack: list[tuple[yaml.Node, Path, int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if node is target:
            return path
        if depth > MAX_DEPTH:
            continue
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node is target:
                    return path
                stack.append((value_node, path + (getattr(key_node, "value", "?"),), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path + (index,), depth + 1) for index, item in enumerate(node.value))
    return ()


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _fail(file: str, where: Position, message: str, path: Path = ()) -> SpecError:
    return SpecError([Issue(file, where.line, where.column, path, message)])


def _syntax_hint(text: str, where: Position, problem: str) -> str:
    """A likely cause of a libyaml syntax error, in the author's terms.

    libyaml names the token it choked on, which rarely says what to change: a tab in the
    indentation and a line indented differently from its siblings are the usual causes.
    """
    lines = text.splitlines()
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    if "\t" in line[: max(where.column, len(line) - len(line.lstrip()))]:
        return " (a tab character: YAML indents with spaces only)"
    if "mapping values are not allowed" in problem or "expected <block end>" in problem \
            or "could not find expected ':'" in problem:
        return " (check that this line is indented like the other keys at its level)"
    return ""


def _number_comma_hint(mapping: yaml.MappingNode, key_node: yaml.Node) -> str:
    """Explain ``{monthlyUsd: 6,000}``: in a ``{...}`` mapping the comma ends the entry,
    so ``000`` becomes a key of its own."""
    if not mapping.flow_style or not isinstance(key_node, yaml.ScalarNode) or not key_node.value.isdigit():
        return ""
    entries = [key for key, _ in mapping.value]
    index = entries.index(key_node)
    previous = mapping.value[index - 1][1] if index > 0 else None
    if isinstance(previous, yaml.ScalarNode) and previous.value.lstrip("-").isdigit():
        return (f" ('{previous.value},{key_node.value}' reads as two entries: write numbers without "
                f"thousands separators, e.g. {previous.value}{key_node.value})")
    return ""


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
        raise _fail(file, where, f"YAML syntax error: {problem}{_syntax_hint(text, where, problem)}") from None
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
    document = Document(file=file, data=None, text=text, root=nodes[0])
    document.data = _Converter(document).convert(nodes[0], 0)
    document.root = None  # composed again only if a position is ever asked for
    return document


class _Converter:
    """Turns a libyaml node tree into plain data, enforcing the caps on the way.

    No field paths are built while converting (that was the hot loop); an error computes
    the path of its node afterwards.
    """

    def __init__(self, document: Document):
        self.document = document
        self.nodes_seen = 0

    def _fail(self, node: yaml.Node, message: str, path: Optional[Path] = None) -> SpecError:
        if path is None:
            path = _path_to(self.document.root, node)
        return _fail(self.document.file, _position(node), message, path)

    def convert(self, node: yaml.Node, depth: int) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            raise self._fail(
                node,
                f"document expands to more than {MAX_NODES} values (aliases count each time they are used); "
                "anchors that multiply content are not allowed",
            )
        if depth > MAX_DEPTH:
            path = _path_to(self.document.root, node)
            raise self._fail(node, f"nesting is too deep (at most {MAX_DEPTH} levels are allowed)", path[:4])
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag == _MAP_TAG:
            return self._mapping(node, depth)
        if tag == _SEQ_TAG:
            return [self.convert(item, depth + 1) for item in node.value]
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        raise self._fail(node, f"YAML tag '{tag}' is not allowed; specs hold plain data only")

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_CORE}merge":
                raise self._fail(key_node, "YAML merge keys ('<<') are not allowed")
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, bool):
                raise self._fail(key_node, f"mapping key '{key_node.value}' reads as a boolean in YAML; quote it")
            if not isinstance(key, str):
                raise self._fail(key_node, "mapping keys must be strings" + _number_comma_hint(node, key_node))
            if key in key_nodes:
                first = _position(key_nodes[key])
                raise self._fail(
                    key_node,
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    _path_to(self.document.root, node) + (key,),
                )
            key_nodes[key] = key_node
            result[key] = self.convert(value_node, depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Union[str, int, float, bool, None]:
        tag = node.tag
        if tag == _STR_TAG or tag == _TIMESTAMP_TAG:  # dates stay text: the spec validates their format
            return node.value
        if tag not in _SCALAR_TAGS:
            raise self._fail(node, f"YAML tag '{tag}' is not allowed; specs hold plain data only")
        return _constructor.yaml_constructors[tag](_constructor, node)
