"""The typed rule tree every YAML rule compiles into, and the shared comparison semantics.

A condition tree is kept in negation normal form: ``not`` is pushed down to the leaves at
compile time (``lt`` ↔ ``ge``, ``in`` ↔ ``not_in``, all ↔ any), so evaluators only ever see
``Compare`` leaves under ``AllOf`` / ``AnyOf``. A leaf whose fact is unknown (``None``) is
false whatever its operator — rules fail closed. Numbers compare as whole millionths
(:func:`number_key`), booleans only with booleans, strings only with strings. Both evaluators (reference and
durable-rules) implement exactly :func:`compare`. Imports nothing from mamcrawler.
"""

from __future__ import annotations

from collections.abc import Mapping
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
