"""A condition evaluated on part of a row: true, false, or not known until the rest is.

Used to skip rows that cannot match: when a rule's condition is false on the values every
row of a group shows, it is false on each of those rows, whatever their other values (the
tree is in negation normal form, so a false ``all`` child or an all-false ``any`` settles
it). The leaves use the one comparison of ``engine.rules.trees``. Imports ``engine.rules``."""

from __future__ import annotations

from collections.abc import Mapping

from mamcrawler.engine.rules.trees import AllOf, Compare, Node, Scalar, compare


def settled(
    node: Node, known: Mapping[str, Scalar | None], shared: Mapping[str, Scalar | None], kind: str
) -> bool | None:
    """The condition's result when it follows from ``known`` (some of the own values of a
    row of ``kind``) and ``shared`` (the cycle-wide values the row shows); None when it
    depends on a value that is in neither. A ``<kind>.*`` fact is only ever taken from
    ``known``: any other of the row's own values may differ from row to row."""
    if isinstance(node, Compare):
        fact = node.fact
        if fact in known:
            return compare(known[fact], node.op, node.value)
        if fact.startswith(kind) and fact[len(kind) : len(kind) + 1] == ".":
            return None
        if fact in shared:
            return compare(shared[fact], node.op, node.value)
        return None
    stops_at = not isinstance(node, AllOf)  # ``all`` is settled by a false child, ``any`` by a true one
    result: bool | None = not stops_at
    for child in node.children:
        found = settled(child, known, shared, kind)
        if found is stops_at:
            return stops_at
        if found is None:
            result = None
    return result
