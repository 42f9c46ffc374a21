"""Line and column lookup for diagnostics.

Documents are loaded without positions (:mod:`netgen.load.yamldata`). Only when there is
something to report is the source composed again (a node tree with marks, much cheaper
than a round-trip load) and each diagnostic's path walked to its node. The tree comes from
the same C parser (libyaml) that loaded the data: ruamel's pure-Python parser refuses some
texts libyaml accepts (a tab inside a plain scalar), and then nothing could be located.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from netgen.diagnostics import Diagnostic, Origin, PathPart


def locate_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> list[Diagnostic]:
    """Fill in line and column of every diagnostic whose file is among ``sources``."""
    trees: dict[str, list[Node] | None] = {}
    located = []
    for diagnostic in diagnostics:
        documents = None
        if diagnostic.line is None and diagnostic.file in sources:
            if diagnostic.file not in trees:
                trees[diagnostic.file] = _compose(sources[diagnostic.file])
            documents = trees[diagnostic.file]
        located.append(diagnostic.located(*_find(documents, diagnostic.origin)) if documents else diagnostic)
    return located


def _compose(text: str) -> list[Node] | None:
    try:
        return [node for node in YAML(typ="safe", pure=False).compose_all(text) if node is not None]
    except YAMLError:
        return None


def _find(documents: list[Node], origin: Origin) -> tuple[int, int]:
    """The 1-based position of the deepest node on the origin's path."""
    path: tuple[PathPart, ...] = origin.path
    node: Node = documents[0]
    if len(documents) > 1 and path and isinstance(path[0], int):
        node = documents[min(path[0], len(documents) - 1)]
        path = path[1:]
    for index, part in enumerate(path):
        is_last = index == len(path) - 1
        child = _child(node, part, want_key=origin.key and is_last)
        if child is None:
            break
        node = child
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _child(node: Node, part: PathPart, *, want_key: bool) -> Node | None:
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: Node = node.value[part]
        return child
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if _key_name(key) == str(part):
                match: Node = key if want_key else value
                return match
        for key, value in node.value:
            if isinstance(key, ScalarNode) and str(key.tag).endswith(":merge"):
                merged = [value] if isinstance(value, MappingNode) else list(value.value)
                for source in merged:
                    found = _child(source, part, want_key=want_key)
                    if found is not None:
                        return found
    return None


def _key_name(node: Node) -> str:
    """A key as diagnostics' paths name it (:func:`netgen.load.structure.key_text`): its text, a
    boolean in lower case (`True` is `true`), `null` for a null, `[a, b]` for a list."""
    if isinstance(node, SequenceNode):
        return "[" + ", ".join(_key_name(item) for item in node.value) + "]"
    if not isinstance(node, ScalarNode):
        return ""
    tag = str(node.tag)
    return "null" if tag.endswith(":null") else node.value.lower() if tag.endswith(":bool") else str(node.value)
