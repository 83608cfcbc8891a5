"""The durable-rules evaluator: the same compiled rule trees, matched by durable-rules'
Rete engine (the daemon's default). Every durable-rules detail lives in this module and in
``engine.rules.durable_facts`` (how rows become facts).

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

What is asserted: the part of a rule's top-level ``all`` that reads only cycle-wide facts
(``evaluators.split_shared``) is the same for every row sharing one mapping of them, so
durable first matches those parts on one *gate* fact made of the shared values. Rows of a
kind whose every rule has a shared part that does not fire cannot match and are not
asserted; the rows of the other kinds are matched against every rule of the call about
them, whole — shared part included — one fact per row (so the C core, which never drops
a ruleset, gets a few per stratum, not one per combination of gate results). Like the
reference evaluator this relies on a row's own mapping holding only its kind's
``<kind>.*`` facts.

Engine facts measured here (2.0.28): every ``durable.engine.Host`` starts two dispatcher
threads that never stop and may run actions behind our back — so no ``Host`` is made:
rulesets are created in, and facts handed to, the C core (``durable_rules_engine``)
directly, as JSON text built here (``durable_facts``; durable's engine.py would
``json.dumps`` every fact, and again for every fact no rule takes). Its action protocol is
followed as ``Ruleset._flush_actions`` does it — after an assert, ``start_action_for_state``
gives the first fired (rule, fact), then ``update_state`` and ``complete_and_start_action``
for each next one until none is left — with no Python action run: a fired rule name is
all we record (the fired fact is the one just asserted; checked). Facts get a unique
string ``id`` (duplicates are otherwise rejected); facts are asserted one at a time (one
unmatched fact fails a whole batch, and an unmatched fact answers "not handled", which
here means "no match"); a fact has at most 254 properties (error 302 beyond). Each
ruleset use gets a fresh ``sid``; a sid gets state with its first fact, matched or not,
and that state holds one of the ruleset's 1024 state slots until deleted (kept, the 1025th
sid fails with MemoryError: days into a daemon's life if every call with no match left
one). A fresh state's action context is uninitialised memory that deleting the state
frees — the abort that was once read as "deleting a sid that never got state crashes" —
and running one action clears it; so every session opens with a fact that fires the
ruleset's ``open`` rule, and its state is always deleted afterwards (``_Session``).
Imports durable_rules and sibling modules."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

from durable import engine as durable_engine

from mamcrawler.engine.memo import IdentityMemo
from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.rules.durable_facts import (
    OwnFragments,
    SharedFragments,
    encoded,
    fact_text,
    fragment,
    key_of,
    kind_of,
    row_body,
)
from mamcrawler.engine.rules.evaluators import split_shared
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import ORDERING_OPS, AllOf, AnyOf, Compare, Node, Op, Scalar, facts_of

_core: Any = durable_engine.durable_rules_engine  # the C core durable's engine.py drives

_NEVER = {"$ex": {"x_never_present": 1}}
_OPS = {Op.EQ: "$eq", Op.NE: "$neq", Op.LT: "$lt", Op.LE: "$lte", Op.GT: "$gt", Op.GE: "$gte"}
_GATE_KIND = "x_shared"  # the x_kind of the one fact of shared values
_OPEN_KIND, _OPEN_RULE = "x_open", "open"  # the fact and rule that open a session (``_Session``)


def _leaf(fact: str, op: Op, value: Scalar) -> dict[str, Any]:
    kind = kind_of(value)
    if op in ORDERING_OPS and kind != "n":
        return _NEVER
    key = key_of(kind, fact)
    # durable never matches a test on an absent key (not even $neq), which is exactly
    # "unknown or another kind is false"
    return {key: encoded(value)} if op is Op.EQ else {_OPS[op]: {key: encoded(value)}}


def _compare(node: Compare) -> dict[str, Any]:
    if node.op not in (Op.IN, Op.NOT_IN):
        assert not isinstance(node.value, tuple)
        return _leaf(node.fact, node.op, node.value)
    members = list(dict.fromkeys((kind_of(m), encoded(m)) for m in node.value))  # type: ignore[union-attr]
    if node.op is Op.IN:
        options = [{key_of(kind, node.fact): value} for kind, value in members]
        return options[0] if len(options) == 1 else {"$or": options} if options else _NEVER
    # not_in: known in some kind, and different from every member of that kind
    per_kind: list[dict[str, Any]] = []
    for kind in ("n", "b", "s"):
        key = key_of(kind, node.fact)
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


@dataclass(frozen=True)
class _Test:
    """One durable rule: who it is for, its expression and the fields it reads."""

    rule_id: str
    kind: str  # x_kind of the facts it is matched on
    expression: dict[str, Any]
    fields: tuple[str, ...]
    text: str  # the content the ruleset name is hashed from

    @classmethod
    def of(cls, rule_id: str, kind: str, condition: Node) -> _Test:
        expression = _expression(condition)
        text = json.dumps((rule_id, kind, expression), sort_keys=True, default=str)
        return cls(rule_id, kind, expression, facts_of(condition), text)


@dataclass(frozen=True)
class _Compiled:
    """A rule as durable tests: the whole condition, and its shared part if it has one."""

    whole: _Test
    shared: _Test | None

    @classmethod
    def of(cls, rule: CompiledRule) -> _Compiled:
        kind = rule.subject.value
        shared, _ = split_shared(rule.condition, kind)
        gate = None if shared is None else _Test.of(rule.id, _GATE_KIND, shared)
        return cls(_Test.of(rule.id, kind, rule.condition), gate)


@dataclass(frozen=True)
class _Ruleset:
    """A ruleset in the C core: rule ``r<i>`` is ``tests[i]``, and the rule ``open`` opens
    every session."""

    handle: int
    tests: tuple[_Test, ...]
    fields: tuple[str, ...]


class _Session:
    """One fresh sid on one ruleset: facts asserted one at a time, each answering the
    indexes of the rules it fired; the sid's state is deleted on leaving.

    A sid's state is made with its first fact, with an action context left uninitialised
    that deleting the state frees — an abort, or not, depending on what the memory held —
    and that running an action sets and clears. So a session opens with a fact that fires
    the ruleset's opening rule: from then on its state can be deleted, and always is."""

    def __init__(self, ruleset: _Ruleset, sid: str) -> None:
        self.ruleset = ruleset
        self.sid = sid
        self._opened = False

    def __enter__(self) -> _Session:
        opened = self._fired_names(fact_text(f"{self.sid}-open", self.sid, f',"x_kind":"{_OPEN_KIND}"'))
        self._opened = True  # the state exists, with its action context cleared
        if opened != [_OPEN_RULE]:
            self.__exit__(None, None, None)
            raise RuntimeError(f"durable-rules did not open session {self.sid}: {opened}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._opened:
            self._opened = False
            _core.delete_state(self.ruleset.handle, self.sid)

    def fire(self, text: str) -> list[int]:
        """Assert one fact: the indexes of the rules ``r<i>`` it fired."""
        return [int(name[1:]) for name in self._fired_names(text)]

    def _fired_names(self, text: str) -> list[str]:
        handle = self.ruleset.handle
        result = _core.assert_fact(handle, text)
        code = result[0]
        if code == 1:  # not handled: no rule took the fact
            return []
        if code == 2:
            raise RuntimeError(f"durable-rules has seen this fact before: {text[:200]}")
        state_handle = 0 if code == 3 else result[1]  # as Ruleset._handle_result
        started = _core.start_action_for_state(handle, state_handle)
        if not started:
            return []
        state, message = started
        fired: list[str] = []
        while message:
            fired.append(_fired_rule(message, text))
            _core.update_state(handle, state)
            message = _core.complete_and_start_action(handle, state_handle)
        return fired


def _fired_rule(message: str, text: str) -> str:
    """The rule name in an action message ``{"<rule>":{"m":<fact>}}``."""
    name = message[2 : message.index('"', 2)]
    if not message.endswith(f':{{"m":{text}}}}}'):
        raise RuntimeError(f"durable-rules fired on another fact than the one asserted: {message[:200]}")
    return name


def _by_shared(rows: Sequence[Row]) -> Iterator[tuple[Mapping[str, Scalar | None], list[Row]]]:
    """Rows grouped by their shared mapping object, first seen first: one group per call in
    ``decide`` (a caller giving every row a mapping of its own gets a session per row)."""
    groups: dict[int, tuple[Mapping[str, Scalar | None], list[Row]]] = {}
    for row in rows:
        group = groups.get(id(row.shared))
        if group is None:
            group = groups[id(row.shared)] = (row.shared, [])
        group[1].append(row)
    yield from groups.values()


class DurableEvaluator:
    """Matches rules with durable-rules; fires exactly what the reference evaluator fires."""

    name = "durable"
    _lock = threading.Lock()
    _rulesets: ClassVar[dict[str, _Ruleset]] = {}
    _compiled: ClassVar[IdentityMemo[_Compiled]] = IdentityMemo(10_000)  # policies come and go: bounded
    _sids = itertools.count(1)

    def __init__(self) -> None:
        self._owns = OwnFragments()

    @classmethod
    def _compile(cls, rule: CompiledRule) -> _Compiled:
        """The rule's durable tests, made once per rule object."""
        return cls._compiled.get((rule,), lambda: _Compiled.of(rule))

    @classmethod
    def _ruleset(cls, tests: Sequence[_Test]) -> _Ruleset:
        """The C-core ruleset of ``tests``, created once per distinct content."""
        name = "mc_" + hashlib.sha256("\n".join(t.text for t in tests).encode()).hexdigest()[:24]
        found = cls._rulesets.get(name)
        if found is None:
            definition: dict[str, Any] = {
                f"r{i}": {"all": [{"m": {"$and": [{"x_kind": t.kind}, t.expression]}}]} for i, t in enumerate(tests)
            }
            definition[_OPEN_RULE] = {"all": [{"m": {"x_kind": _OPEN_KIND}}]}
            handle = _core.create_ruleset(name, json.dumps(definition, ensure_ascii=False))
            fields = tuple(sorted({f for t in tests for f in t.fields}))
            found = cls._rulesets[name] = _Ruleset(handle, tuple(tests), fields)
        return found

    def match(self, rules: Sequence[CompiledRule], rows: Sequence[Row]) -> set[tuple[str, str]]:
        if not rules or not rows:
            return set()
        with self._lock:
            compiled = [self._compile(rule) for rule in rules]
            readable = {field for c in compiled for field in c.whole.fields}
            found: set[tuple[str, str]] = set()
            for shared, group in _by_shared(rows):
                kinds = self._kinds_that_can_match(compiled, group, shared)
                asserted = [row for row in group if row.kind in kinds]  # no other row can match
                if asserted:
                    tests = [c.whole for c in compiled if c.whole.kind in kinds]
                    found |= self._match_rows(tests, asserted, shared, readable)
            return found

    def _kinds_that_can_match(
        self, compiled: Sequence[_Compiled], rows: Sequence[Row], shared: Mapping[str, Scalar | None]
    ) -> set[str]:
        """The kinds of ``rows`` with a rule that has no shared part, or one that durable
        fires on the shared values (for the other kinds no row can match)."""
        kinds = {row.kind for row in rows}
        compiled = [c for c in compiled if c.whole.kind in kinds]
        open_kinds = {c.whole.kind for c in compiled if c.shared is None}
        gated = [c for c in compiled if c.shared is not None and c.whole.kind not in open_kinds]
        if not gated:
            return open_kinds
        gate = self._ruleset([c.shared for c in gated if c.shared is not None])
        with _Session(gate, f"g{next(self._sids)}") as session:
            body = f',"x_kind":"{_GATE_KIND}"' + fragment(shared, gate.fields)
            fired = session.fire(fact_text(f"{session.sid}-0", session.sid, body))
        return open_kinds | {gated[i].whole.kind for i in fired}

    def _match_rows(
        self, tests: Sequence[_Test], rows: Sequence[Row], shared: Mapping[str, Scalar | None], readable: set[str]
    ) -> set[tuple[str, str]]:
        """The (rule, row) pairs durable fires on ``rows``, one fact per row; own values are
        encoded for (at least) ``readable``, the fields every rule of the call reads."""
        ruleset = self._ruleset(tests)
        fields = ruleset.fields
        shared_fragments = SharedFragments(shared, fields)
        by_kind: dict[str, list[Row]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        found: set[tuple[str, str]] = set()
        index = 0
        with _Session(ruleset, f"s{next(self._sids)}") as session:
            sid = session.sid
            for kind, kind_rows in by_kind.items():
                for row, own in zip(kind_rows, self._owns.encode(kind, kind_rows, readable), strict=True):
                    body = shared_fragments.body(own)
                    if body is None:  # too many fields for one fact with all own values read
                        body = row_body(row, fields)
                    index += 1
                    for fired in session.fire(fact_text(f"{sid}-{index}", sid, body)):
                        found.add((ruleset.tests[fired].rule_id, row.id))
        return found
