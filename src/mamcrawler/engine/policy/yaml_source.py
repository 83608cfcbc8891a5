"""Reading user YAML with YAML 1.2 semantics and remembering where every value was written.

``load_located(path)`` returns plain Python data plus a locator that maps a key/index
path to ``file:line:col`` (1-based), so validation errors can point at the exact spot.
Parse errors and duplicate keys become located ``Issue``s, never tracebacks. Used for
policy files and simulator scenarios. Imports ruamel.yaml and ``errors``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

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


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.version = (1, 2)
    y.allow_duplicate_keys = False
    return y


def load_located(path: Path, display: str | None = None) -> tuple[LocatedDocument | None, list[Issue]]:
    """Parse one file; on failure return no document and the located problems."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, [Issue(name, 1, 1, "unreadable_file", str(err))]
    return parse_located(text, name)


def parse_located(text: str, name: str) -> tuple[LocatedDocument | None, list[Issue]]:
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        code = "duplicate_key" if "duplicate" in str(err).lower() else "yaml_syntax"
        problem = (err.problem or str(err)).strip().splitlines()[0]
        return None, [Issue(name, line, col, code, problem)]
    except Exception as err:  # ruamel raises a few non-marked errors on odd input
        return None, [Issue(name, 1, 1, "yaml_syntax", str(err).splitlines()[0] if str(err) else type(err).__name__)]
    if root is None:
        return None, [Issue(name, 1, 1, "empty_file", "the file is empty")]
    return LocatedDocument(name, root), []
