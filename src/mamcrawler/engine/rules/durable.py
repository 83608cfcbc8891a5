"""The durable-rules evaluator: the same compiled rule trees, matched by durable-rules'
Rete engine (the daemon's default). Every durable-rules detail lives in this module.

How the semantics of ``engine.rules.compare`` are kept exactly:
- each row becomes one fact; every value is stored under a *kind-tagged* key
  (``n_<field>`` numbers, ``b_<field>`` booleans as 1/0, ``s_<field>`` strings), so
  ``eq: 1`` never matches ``True`` and ``"1"`` never matches ``1``; unknown values
  (``None``, NaN) are simply absent;
- numbers are sent as whole millionths (``rules.number_key``): durable's parser takes
  no exponent notation and compares 64-bit integers exactly;
- durable never matches a test on an absent key (``$neq`` included), so a leaf on an
  unknown or differently-kinded value is false, as in the reference evaluator;
- ``in`` / ``not_in`` expand to ``$or`` / ``$and`` of ``$eq`` / ``$neq`` per kind;
  ordering on a non-number is a leaf that can never match.
Engine facts measured here (2.0.28): every ``Host`` starts two dispatcher threads that
never stop, and those threads may run actions behind our back — so the single,
process-wide host is a subclass that starts none, and actions run synchronously inside
``assert_fact``. Facts get a unique string ``id`` (duplicates are otherwise rejected);
facts are asserted one at a time (one unmatched fact fails a whole batch, and an
unmatched fact raises "not handled", which here means "no match"); each ``match`` call
uses a fresh ``sid`` and deletes its state afterwards; actions only record
(rule, row) pairs and never change state. Imports durable_rules and sibling modules."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from durable import engine as durable_engine

from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import ORDERING_OPS, AllOf, AnyOf, Compare, Node, Op, Scalar, facts_of, number_key

_NEVER = {"$ex": {"x_never_present": 1}}
_OPS = {Op.EQ: "$eq", Op.NE: "$neq", Op.LT: "$lt", Op.LE: "$lte", Op.GT: "$gt", Op.GE: "$gte"}


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A Host without dispatcher threads: actions run only inside our own asserts."""

    def _run(self) -> None:
        return None


def _key(kind: str, fact: str) -> str:
    return f"{kind}_{fact.replace('.', '__')}"


def _kind(value: Scalar) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, str):
        return "s"
    return "n"


def _encode_value(value: Scalar) -> Scalar:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value
    return number_key(value)


def _leaf(fact: str, op: Op, value: Scalar) -> dict[str, Any]:
    kind = _kind(value)
    if op in ORDERING_OPS and kind != "n":
        return _NEVER
    key = _key(kind, fact)
    # durable never matches a test on an absent key (not even $neq), which is exactly
    # "unknown or another kind is false"
    return {key: _encode_value(value)} if op is Op.EQ else {_OPS[op]: {key: _encode_value(value)}}


def _compare(node: Compare) -> dict[str, Any]:
    if node.op not in (Op.IN, Op.NOT_IN):
        assert not isinstance(node.value, tuple)
        return _leaf(node.fact, node.op, node.value)
    members = list(dict.fromkeys((_kind(m), _encode_value(m)) for m in node.value))  # type: ignore[union-attr]
    if node.op is Op.IN:
        options = [{_key(kind, node.fact): value} for kind, value in members]
        return options[0] if len(options) == 1 else {"$or": options} if options else _NEVER
    # not_in: known in some kind, and different from every member of that kind
    per_kind: list[dict[str, Any]] = []
    for kind in ("n", "b", "s"):
        key = _key(kind, node.fact)
        tests = [{"$neq": {key: value}} for k, value in members if k == kind] or [{"$ex": {key: 1}}]
        per_kind.append(tests[0] if len(tests) == 1 else {"$and": tests})
    return {"$or": per_kind}


def _expression(node: Node) -> dict[str, Any]:
    if isinstance(node, Compare):
        return _compare(node)
    parts = [_expression(child) for child in node.children]
    if not parts:
        return {"$ex": {"x_kind": 1}} if isinstance(node, AllOf) else _NEVER
    assert isinstance(node, AllOf | AnyOf)
    return {"$and" if isinstance(node, AllOf) else "$or": parts}


def encode_row(row: Row, fact_id: str, fields: Sequence[str]) -> dict[str, Any]:
    """One row → one durable fact with kind-tagged keys for the fields the rules read
    (durable caps a fact at 255 properties); unknown values are left out."""
    fact: dict[str, Any] = {"id": fact_id, "x_kind": row.kind, "x_row": row.id}
    for name in fields:
        value = row.get(name)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        fact[_key(_kind(value), name)] = _encode_value(value)
    return fact


class DurableEvaluator:
    """Matches rules with durable-rules; fires exactly what the reference evaluator fires."""

    name = "durable"
    _host: _QuietHost | None = None
    _lock = threading.Lock()
    _rulesets: ClassVar[dict[str, str]] = {}
    _results: ClassVar[dict[str, set[tuple[str, str]]]] = {}
    _sids = itertools.count(1)

    @classmethod
    def _host_for(cls) -> _QuietHost:
        if cls._host is None:
            cls._host = _QuietHost()
        return cls._host

    @classmethod
    def _recorder(cls, rule_id: str) -> Any:
        def record(c: Any) -> None:
            sid = str(c.m["sid"])
            cls._results.setdefault(sid, set()).add((rule_id, str(c.m["x_row"])))

        return record

    @classmethod
    def _ruleset(cls, rules: Sequence[CompiledRule]) -> str:
        definition_text = json.dumps(
            [(r.id, r.subject.value, _expression(r.condition)) for r in rules], sort_keys=True, default=str
        )
        name = "mc_" + hashlib.sha256(definition_text.encode()).hexdigest()[:24]
        if name not in cls._rulesets:
            definition = {}
            for index, rule in enumerate(rules):
                expr = {"$and": [{"x_kind": rule.subject.value}, _expression(rule.condition)]}
                definition[f"r{index}"] = {"all": [{"m": expr}], "run": cls._recorder(rule.id)}
            cls._host_for().register_rulesets({name: definition})
            cls._rulesets[name] = definition_text
        return name

    def match(self, rules: Sequence[CompiledRule], rows: Sequence[Row]) -> set[tuple[str, str]]:
        if not rules or not rows:
            return set()
        with self._lock:
            name = self._ruleset(rules)
            host = self._host_for()
            sid = f"s{next(self._sids)}"
            self._results[sid] = set()
            fields = sorted({f for rule in rules for f in facts_of(rule.condition)})
            handled = False
            try:
                for index, row in enumerate(rows):
                    fact = encode_row(row, f"{sid}-{index}", fields)
                    fact["sid"] = sid
                    try:
                        host.assert_fact(name, fact)
                        handled = True
                    except durable_engine.MessageNotHandledException:
                        continue  # no rule matched this row
                return set(self._results[sid])
            finally:
                self._results.pop(sid, None)
                if handled:  # deleting a sid that never got state crashes the C core
                    host.delete_state(name, sid)
