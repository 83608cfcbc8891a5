"""The typed rule tree every YAML rule compiles into, and the shared comparison semantics.

A condition tree is kept in negation normal form: ``not`` is pushed down to the leaves at
compile time (``lt`` ↔ ``ge``, ``in`` ↔ ``not_in``, all ↔ any), so evaluators only ever see
``Compare`` leaves under ``AllOf`` / ``AnyOf``. A leaf whose fact is unknown (``None``) is
false whatever its operator — rules fail closed. Numbers compare as whole millionths
(:func:`number_key`), booleans only with booleans, strings only with strings. Both evaluators (reference and
durable-rules) implement exactly :func:`compare`. Imports nothing from mamcrawler.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Scalar = bool | int | float | str
Value = Scalar | tuple[Scalar, ...]
RowValues = Mapping[str, Scalar | None]


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    NOT_IN = "not_in"


NEGATED: Mapping[Op, Op] = {
    Op.EQ: Op.NE,
    Op.NE: Op.EQ,
    Op.LT: Op.GE,
    Op.GE: Op.LT,
    Op.LE: Op.GT,
    Op.GT: Op.LE,
    Op.IN: Op.NOT_IN,
    Op.NOT_IN: Op.IN,
}

ORDERING_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
SET_OPS = frozenset({Op.IN, Op.NOT_IN})


@dataclass(frozen=True)
class Location:
    """Where something was written: ``file:line:col`` (1-based)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Location("<unknown>", 0, 0)


@dataclass(frozen=True)
class Compare:
    """``fact <op> value``; ``param`` names the policy parameter the value came from."""

    fact: str
    op: Op
    value: Value
    param: str | None = None
    location: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]


Node = Compare | AllOf | AnyOf


def negate(node: Node) -> Node:
    """The negation of ``node``, still in negation normal form."""
    if isinstance(node, Compare):
        return Compare(node.fact, NEGATED[node.op], node.value, node.param, node.location)
    if isinstance(node, AllOf):
        return AnyOf(tuple(negate(c) for c in node.children))
    return AllOf(tuple(negate(c) for c in node.children))


MICRO = 1_000_000
_NUMBER_LIMIT = 9 * 10**18  # fits a signed 64-bit integer, as durable-rules' C core needs


def number_key(value: int | float) -> int:
    """Numbers compare as whole millionths, clamped to ±9·10¹²: one exact semantics that
    durable-rules (integers only, no exponent notation) and Python share."""
    scaled = value * MICRO if isinstance(value, int) else round(value * MICRO)
    return max(-_NUMBER_LIMIT, min(_NUMBER_LIMIT, int(scaled)))


def _same_kind(a: Scalar, b: Scalar) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    return True  # int and float compare as numbers


def compare(actual: Scalar | None, op: Op, expected: Value) -> bool:
    """The one comparison semantics: unknown or mismatched kinds are false."""
    if actual is None:
        return False
    if op in SET_OPS:
        assert isinstance(expected, tuple)
        members = [e for e in expected if _same_kind(actual, e)]
        found = any(compare(actual, Op.EQ, e) for e in members)
        return found if op is Op.IN else not found
    assert not isinstance(expected, tuple)
    if not _same_kind(actual, expected):
        return False
    if isinstance(actual, bool | str):
        if op is Op.EQ:
            return actual == expected
        if op is Op.NE:
            return actual != expected
        # Ordering is only defined on numbers (checked at load); fail closed otherwise.
        return False
    assert isinstance(expected, int | float) and not isinstance(expected, bool)
    a, b = number_key(actual), number_key(expected)
    if op is Op.EQ:
        return a == b
    if op is Op.NE:
        return a != b
    if op is Op.LT:
        return a < b
    if op is Op.LE:
        return a <= b
    if op is Op.GT:
        return a > b
    return a >= b


_NUMBER_OPS: Mapping[Op, Callable[[int, int], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


def leaf_test(leaf: Compare) -> Callable[[Scalar | None], bool]:
    """:func:`compare` specialised for one leaf, computed once: the expected side's kind and
    number key are fixed, so the common leaves (boolean and number) skip the general path.
    Same results as ``compare(actual, leaf.op, leaf.value)`` for every actual value."""
    op, expected = leaf.op, leaf.value
    if isinstance(expected, bool) and op in (Op.EQ, Op.NE):
        # True and False are singletons: ``is`` is equality restricted to booleans.
        if op is Op.EQ:
            return lambda actual: actual is expected
        other = not expected
        return lambda actual: actual is other
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        key, test = number_key(expected), _NUMBER_OPS[op]

        def number(actual: Scalar | None) -> bool:
            if actual is None or isinstance(actual, bool | str):
                return False
            return test(number_key(actual), key)

        return number
    if isinstance(expected, str) and op in (Op.EQ, Op.NE):
        if op is Op.EQ:
            return lambda actual: isinstance(actual, str) and actual == expected
        return lambda actual: isinstance(actual, str) and actual != expected
    if op in SET_OPS and isinstance(expected, tuple):
        return _member_test(expected, found_means=op is Op.IN)
    return lambda actual: compare(actual, op, expected)


def _member_test(members: tuple[Scalar, ...], *, found_means: bool) -> Callable[[Scalar | None], bool]:
    """``in`` / ``not_in`` over members split by kind (a member only matches its own kind)."""
    bools = frozenset(m for m in members if isinstance(m, bool))
    strings = frozenset(m for m in members if isinstance(m, str))
    numbers = frozenset(number_key(m) for m in members if not isinstance(m, bool | str))

    def member(actual: Scalar | None) -> bool:
        if actual is None:
            return False
        if isinstance(actual, bool):
            found = actual in bools
        elif isinstance(actual, str):
            found = actual in strings
        else:
            found = number_key(actual) in numbers
        return found if found_means else not found

    return member


def facts_of(node: Node) -> tuple[str, ...]:
    """Every fact path a condition tree reads, in first-use order."""
    seen: dict[str, None] = {}

    def walk(n: Node) -> None:
        if isinstance(n, Compare):
            seen.setdefault(n.fact, None)
        else:
            for c in n.children:
                walk(c)

    walk(node)
    return tuple(seen)


def evaluate(node: Node, row: RowValues) -> bool:
    """Plain boolean evaluation (the reference evaluator adds the explanation)."""
    if isinstance(node, Compare):
        return compare(row.get(node.fact), node.op, node.value)
    if isinstance(node, AllOf):
        return all(evaluate(c, row) for c in node.children)
    return any(evaluate(c, row) for c in node.children)
