"""Condition trees → one generated Python function per condition (the reference
evaluator's fast path).

A tree of closures costs a Python call per leaf and per ``all``/``any`` for every row of
every rule; the same tree written out as one boolean expression costs none. The source is
generated from the tree's *shape* only: every fact name, expected value and special test
is passed in as a named constant (``c0``, ``c1`` …), never spelled into the source, so
nothing a policy says can become code. Each leaf keeps exactly the semantics of
``trees.compare`` (via ``trees.leaf_test`` for the kinds not inlined here); a tree too deep
for Python's parser comes back as ``None`` and the caller keeps its closures.
Imports ``engine.rules.trees`` and ``engine.rules.rows``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import AllOf, AnyOf, Compare, Node, Op, leaf_test, number_key

_ORDER = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}
MAX_LEAVES = 400  # larger trees keep their closures (generated source stays small)


class _Source:
    """Constants and the expression being written."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {"_key": number_key, "_bool_str": (bool, str)}
        self._names = 0

    def const(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self._names += 1
        return f"v{self._names}"

    def fetch(self, fact: str) -> str:
        """The row's value for ``fact`` exactly as ``Row.get``: own first, then shared."""
        f = self.const(fact)
        return f"(own[{f}] if {f} in own else shared.get({f}))"

    def leaf(self, leaf: Compare) -> str:
        op, expected, value = leaf.op, leaf.value, self.fetch(leaf.fact)
        if isinstance(expected, bool) and op in (Op.EQ, Op.NE):
            # True and False are singletons: ``is`` is equality restricted to booleans.
            return f"({value} is {expected if op is Op.EQ else not expected})"
        if isinstance(expected, int | float) and not isinstance(expected, bool):
            v, key = self.var(), self.const(number_key(expected))
            return f"(({v} := {value}) is not None and not isinstance({v}, _bool_str) and _key({v}) {_ORDER[op]} {key})"
        if isinstance(expected, str) and op in (Op.EQ, Op.NE):
            v, want = self.var(), self.const(expected)
            return f"(isinstance({v} := {value}, str) and {v} {_ORDER[op]} {want})"
        return f"{self.const(leaf_test(leaf))}({value})"

    def expression(self, node: Node) -> str:
        if isinstance(node, Compare):
            return self.leaf(node)
        parts = [self.expression(child) for child in node.children]
        if isinstance(node, AllOf):
            return "(" + " and ".join(parts) + ")" if parts else "True"
        assert isinstance(node, AnyOf)
        return "(" + " or ".join(parts) + ")" if parts else "False"


def _leaves(node: Node) -> int:
    if isinstance(node, Compare):
        return 1
    return sum(_leaves(c) for c in node.children)


def _depth(node: Node) -> int:
    if isinstance(node, Compare):
        return 1
    return 1 + max((_depth(c) for c in node.children), default=0)


def generated_predicate(node: Node) -> Callable[[Row], bool] | None:
    """``node`` as one generated function of a row, or ``None`` when it is too large or
    too deep to be worth (or able to be) generated."""
    if _leaves(node) > MAX_LEAVES or _depth(node) > 50:
        return None
    source = _Source()
    expression = source.expression(node)
    text = f"def predicate(row):\n    own = row.own\n    shared = row.shared\n    return {expression}\n"
    namespace: dict[str, Any] = dict(source.constants)
    try:
        exec(compile(text, "<mamcrawler condition>", "exec"), namespace)  # the shape only: see the docstring
    except (SyntaxError, RecursionError, MemoryError):
        return None
    function: Callable[[Row], bool] = namespace["predicate"]
    return function
