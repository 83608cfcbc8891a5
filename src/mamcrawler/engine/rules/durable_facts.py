"""Rows as durable-rules facts: kind-tagged keys and values, and each fact's JSON text put
together from fragments that are encoded once and reused.

A value is stored under a *kind-tagged* key (``n_<field>`` numbers as whole millionths,
``b_<field>`` booleans as 1/0, ``s_<field>`` strings); unknown values (``None``, NaN) are
left out. A fact holds every value a rule of the call can read, as ``Row.get`` gives it:
the row's own value when the row has the field, else the shared one.

What is reused: a row's *own* values do not change between the strata of one ``decide``
(``Row.with_shared`` keeps the same ``own`` object), so each own mapping is encoded once —
every own field any rule matched so far reads, whatever the call reads — and kept by
:class:`OwnFragments`; the *shared* values are the same for every row of a call that
shares one mapping, so they are encoded once per (shared mapping, set of own keys) of a
call by :class:`SharedFragments`. A fact is the two put together (or, when that would pass
durable's cap on properties, only the call's fields read through ``Row.get``). The JSON
text is the one ``json.dumps(fact, ensure_ascii=False)`` gives, without the spaces.
Imports ``engine.rules``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar, number_key

MAX_PROPERTIES = 254  # durable-rules 2.0.28 rejects a fact of 255 properties (error 302)
_HEAD_PROPERTIES = 4  # id, sid, x_kind, x_row


def key_of(kind: str, fact: str) -> str:
    return f"{kind}_{fact.replace('.', '__')}"


def kind_of(value: Scalar) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, str):
        return "s"
    return "n"


def encoded(value: Scalar) -> Scalar:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value
    return number_key(value)


_string_text = json.encoder.encode_basestring  # json.dumps(<str>, ensure_ascii=False), as durable's engine.py


class _KeyTexts(dict[str, str]):
    """``"<kind>_<field>":`` by field, made on first use."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __missing__(self, name: str) -> str:
        if len(self) > 10_000:  # field names come from policies: few, but stay bounded
            self.clear()
        text = self[name] = _string_text(key_of(self.kind, name)) + ":"
        return text


_NUMBER_KEYS, _BOOLEAN_KEYS, _STRING_KEYS = _KeyTexts("n"), _KeyTexts("b"), _KeyTexts("s")


def pieces(items: Iterable[tuple[str, Scalar | None]]) -> str:
    """``,"<kind>_<field>":<value>`` for every (field, value) with a known value, in one
    text — written out case by case, as this runs for every field of every row a ``decide``
    encodes."""
    out: list[str] = []
    append = out.append
    for name, value in items:
        if value is None:
            continue
        if value is True or value is False:
            append(f",{_BOOLEAN_KEYS[name]}{1 if value else 0}")
        elif isinstance(value, str):
            append(f",{_STRING_KEYS[name]}{_string_text(value)}")
        elif not isinstance(value, float) or math.isfinite(value):
            append(f",{_NUMBER_KEYS[name]}{number_key(value)}")
    return "".join(out)


def fragment(values: Mapping[str, Scalar | None], names: Iterable[str]) -> str:
    return pieces((name, values.get(name)) for name in names)


def fact_text(fact_id: str, sid: str, body: str) -> str:
    """One fact's JSON text; ``body`` is a run of :func:`pieces`."""
    return f'{{"id":{_string_text(fact_id)},"sid":{_string_text(sid)}{body}}}'


def row_head(row: Row) -> str:
    return f',"x_kind":{_string_text(row.kind)},"x_row":{_string_text(row.id)}'


def row_body(row: Row, fields: Sequence[str]) -> str:
    """The fact body of one row for ``fields``, read through ``Row.get`` (uncached)."""
    return row_head(row) + fragment(row, fields)


@dataclass(frozen=True, slots=True)
class _Own:
    """One own mapping, encoded: the mapping itself is kept, so while the entry lives no
    other object can get its ``id``."""

    own: Mapping[str, Scalar | None]
    kind: str
    row_id: str
    readable: frozenset[str]  # the fields it was encoded for
    text: str  # row_head + a piece for every own field in ``readable``
    keys: frozenset[str]  # every own field (those the shared values must not supply)
    size: int  # properties in ``text``


class OwnFragments:
    """Encoded own mappings by ``id``, one generation per row kind: the entries of the last
    call that encoded rows of that kind (a call replaces the generation, so at most one
    call's rows per kind are held). An entry is used only for the very object it was made
    from, with the same row kind and id, and encodes the own fields any rule matched so far
    reads (*readable*: it only grows, and entries made for a smaller one are made again).
    Rows are values: an own mapping changed in place after a call would not be seen (the
    world builders make new ones every cycle)."""

    def __init__(self) -> None:
        self._generations: dict[str, dict[int, _Own]] = {}
        self._keysets: dict[frozenset[str], frozenset[str]] = {}
        self._readable: frozenset[str] = frozenset()

    def encode(self, kind: str, rows: Sequence[Row], fields: Iterable[str]) -> list[_Own]:
        """Each row's own entry (found or made) covering at least ``fields``; the kind's
        generation becomes these."""
        readable = self._grown(fields)
        previous = self._generations.get(kind, {})
        current: dict[int, _Own] = {}
        out: list[_Own] = []
        for row in rows:
            own = row.own
            found = current.get(id(own)) or previous.get(id(own))
            if (
                found is None
                or found.own is not own
                or found.readable is not readable
                or found.row_id != row.id
                or found.kind != row.kind
            ):
                found = self._entry(row, readable)
            current[id(own)] = found
            out.append(found)
        self._generations[kind] = current
        return out

    def _grown(self, fields: Iterable[str]) -> frozenset[str]:
        if not self._readable.issuperset(fields):
            grown = self._readable.union(fields)
            self._readable = grown if len(grown) <= 10_000 else frozenset(fields)  # stay bounded
        return self._readable

    def _entry(self, row: Row, readable: frozenset[str]) -> _Own:
        keys = frozenset(row.own)
        if len(self._keysets) > 1_000:  # own key sets are few (one per row shape): stay bounded
            self._keysets.clear()
        keys = self._keysets.setdefault(keys, keys)  # one object per key set: cheap lookups
        values = [(name, value) for name, value in row.own.items() if name in readable]
        return _Own(row.own, row.kind, row.id, readable, row_head(row) + pieces(values), keys, len(values))


class SharedFragments:
    """For one call and one shared mapping: the fragment of the ``fields`` a row does not
    hold itself, by the set of keys the row does hold (rows of one kind share one)."""

    def __init__(self, shared: Mapping[str, Scalar | None], fields: Sequence[str]) -> None:
        self._shared = shared
        self._fields = fields
        self._by_keys: dict[frozenset[str], tuple[str, int]] = {}

    def body(self, entry: _Own) -> str | None:
        """The fact body of a row: its own values and the shared ones it does not hold;
        None when that would be more properties than durable takes."""
        found = self._by_keys.get(entry.keys)
        if found is None:
            names = [f for f in self._fields if f not in entry.keys]
            found = self._by_keys[entry.keys] = (fragment(self._shared, names), len(names))
        text, size = found
        return entry.text + text if _HEAD_PROPERTIES + entry.size + size <= MAX_PROPERTIES else None
