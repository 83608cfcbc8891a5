"""Reading user YAML with YAML 1.2 semantics and remembering where every value was written.

``load_located(path)`` returns plain Python data plus a locator that maps a key/index
path to ``file:line:col`` (1-based), so validation errors can point at the exact spot.
Parse errors and duplicate keys become located ``Issue``s, never tracebacks. Used for
policy files and simulator scenarios. Imports ruamel.yaml and ``errors``.

Hostile files are refused before they cost time or memory: a file larger than
``MAX_FILE_BYTES`` is not read at all, nesting deeper than ``MAX_DEPTH`` stops the
parser, and aliases are counted while the document is composed — before anything is
constructed — so an alias bomb ("billion laughs") or a recursive alias is a located
error after a few thousand nodes, not an hour of CPU and gigabytes of memory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from mamcrawler.engine.rules.trees import Location
from mamcrawler.errors import Issue


class LocatedDocument:
    """Plain data from one YAML file and the positions of its keys and items."""

    def __init__(self, file: str, root: Any) -> None:
        self.file = file
        self._root = root
        self.data = _plain(root)

    def locate(self, path: Sequence[str | int]) -> Location:
        """The position of the deepest existing element of ``path`` (keys point at the key)."""
        node, line, col = self._root, 0, 0
        if isinstance(node, CommentedMap | CommentedSeq):
            line, col = node.lc.line, node.lc.col
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, col = node.lc.item(part)
                node = node[part]
            elif isinstance(part, str) and part.endswith("_") and isinstance(node, CommentedMap) and part[:-1] in node:
                line, col = node.lc.key(part[:-1])  # python-side alias (not_ → not, in_ → in)
                node = node[part[:-1]]
            else:
                continue  # discriminator tags and other model-only path parts
        return Location(self.file, line + 1, col + 1)


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


# Policy and scenario files are a few kilobytes; these limits are far above any real one.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 200  # alias uses (``*name``) in one document
MAX_EXPANDED_NODES = 100_000  # nodes the document would have with every alias expanded


class AliasBudgetExceeded(MarkedYAMLError):
    """Too many aliases, too large an expansion, or an alias inside its own anchor."""

    code = "alias_budget"


class BudgetComposer(Composer):
    """ruamel's composer, weighing each node as the number of nodes it would expand to
    (an alias weighs what its anchor weighs). The weights are plain integers, so a bomb
    is detected in time linear in the text and refused while it is still being composed."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._weights: dict[int, int] = {}
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        is_alias = isinstance(event, AliasEvent)
        node: Node = super().compose_node(parent, index)
        if is_alias:
            self._aliases += 1
            weight = self._weights.get(id(node))
            if weight is None:
                self._refuse(f"alias *{event.anchor} is used inside its own anchor", event)
            if self._aliases > MAX_ALIASES:
                self._refuse(f"more than {MAX_ALIASES} aliases", event)
        elif isinstance(node, SequenceNode):
            weight = 1 + sum(self._weights.get(id(child), 1) for child in node.value)
        elif isinstance(node, MappingNode):
            weight = 1 + sum(self._weights.get(id(k), 1) + self._weights.get(id(v), 1) for k, v in node.value)
        else:
            weight = 1
        assert weight is not None
        if weight > MAX_EXPANDED_NODES:
            self._refuse(f"aliases would expand the document past {MAX_EXPANDED_NODES} nodes", event)
        self._weights[id(node)] = weight
        return node

    @staticmethod
    def _refuse(problem: str, event: Any) -> None:
        raise AliasBudgetExceeded(None, None, problem, event.start_mark)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.version = (1, 2)
    y.allow_duplicate_keys = False
    y.max_depth = MAX_DEPTH
    y.Composer = BudgetComposer
    return y


def load_located(path: Path, display: str | None = None) -> tuple[LocatedDocument | None, list[Issue]]:
    """Parse one file; on failure return no document and the located problems."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [_too_large(name, size)]
        with path.open("rb") as handle:  # read at most the cap, even if the file grows meanwhile
            data = handle.read(MAX_FILE_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, [Issue(name, 1, 1, "unreadable_file", str(err))]
    return parse_located(text, name)


def _too_large(name: str, size: int) -> Issue:
    return Issue(name, 1, 1, "file_too_large", f"{size} bytes; a policy or scenario file may hold {MAX_FILE_BYTES}")


# brackets, and the comments and one-line quoted strings whose brackets do not count
_FLOW = re.compile(r"""[\[\]{}]|#[^\n]*|'[^'\n]*'|"(?:\\.|[^"\\\n])*\"""")


def _flow_too_deep(text: str, name: str) -> Issue | None:
    """A fast look for ``[``/``{`` nested past ``MAX_DEPTH``: ruamel would refuse it too, but
    only after weighing every possible key in its 1024-character window (a second or two)."""
    depth = 0
    for match in _FLOW.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                return Issue(name, line, col, "too_deep", f"nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth = max(0, depth - 1)
    return None


def parse_located(text: str, name: str) -> tuple[LocatedDocument | None, list[Issue]]:
    if len(text) > MAX_FILE_BYTES:
        return None, [_too_large(name, len(text.encode("utf-8")))]
    if (deep := _flow_too_deep(text, name)) is not None:
        return None, [deep]
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        code = "duplicate_key" if "duplicate" in str(err).lower() else "yaml_syntax"
        code = getattr(err, "code", code)
        problem = (err.problem or str(err)).strip().splitlines()[0]
        if "maximum depth" in problem:
            code, problem = "too_deep", f"nested deeper than {MAX_DEPTH} levels"
        return None, [Issue(name, line, col, code, problem)]
    except Exception as err:  # ruamel raises a few non-marked errors on odd input
        return None, [Issue(name, 1, 1, "yaml_syntax", str(err).splitlines()[0] if str(err) else type(err).__name__)]
    if root is None:
        return None, [Issue(name, 1, 1, "empty_file", "the file is empty")]
    return LocatedDocument(name, root), []
