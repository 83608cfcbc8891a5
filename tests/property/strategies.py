"""The one strategies module of the test suite (attrs-style): rule trees and rows for the
evaluator-agreement property, fact snapshots and policy variants for decide()'s
invariants, and hostile policies (any action, any subject, any args, random params)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from mamcrawler.engine.policy.compiled import CompiledAction, CompiledRule, Policy, compile_policy
from mamcrawler.engine.policy.loader import load_policy
from mamcrawler.engine.policy.vocabulary import LAYER_OF, ActionName, Concern, SubjectKind
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import NOWHERE, AllOf, AnyOf, Compare, Node, Op
from mamcrawler.facts import (
    Account,
    Event,
    EventKind,
    FactGap,
    FactSnapshot,
    FreeKind,
    LibraryItem,
    Memory,
    PausedBy,
    Release,
    Source,
    Torrent,
    TorrentState,
    UserClass,
    Want,
    WantSource,
)

# --- rule trees and rows -----------------------------------------------------------------
FIELDS = {
    "account.n1": "number",
    "account.n2": "number",
    "account.b1": "bool",
    "account.s1": "str",
    "torrent.n1": "number",
    "torrent.b1": "bool",
    "torrent.s1": "str",
    "candidate.n1": "number",
    "candidate.s1": "str",
}
numbers = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0, 1, -1, 2**31, -(2**31), 10**12]),
    st.floats(-5, 5, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, 1.0, -0.0, 1e-9]),
)
texts = st.one_of(
    st.sampled_from(["", "a", "b", "seeding", "paused_upload", "Überbuch", "a b|c", '"q"']), st.text(max_size=6)
)
scalars = st.one_of(numbers, st.booleans(), texts)


@st.composite
def leaves(draw: st.DrawFn) -> Compare:
    fact = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(list(Op)))
    if op in (Op.IN, Op.NOT_IN):
        value: object = tuple(draw(st.lists(scalars, min_size=1, max_size=4)))
    else:
        value = draw(scalars)
    return Compare(fact, op, value)  # type: ignore[arg-type]


def trees_over(leaf: st.SearchStrategy[Compare], max_leaves: int) -> st.SearchStrategy[Node]:
    """Condition trees (``all`` / ``any`` of up to three children) over the given leaves."""
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda cs: AllOf(tuple(cs))),
            st.lists(children, min_size=1, max_size=3).map(lambda cs: AnyOf(tuple(cs))),
        ),
        max_leaves=max_leaves,
    )


trees = trees_over(leaves(), max_leaves=6)


@st.composite
def compiled_rules(draw: st.DrawFn) -> list[CompiledRule]:
    count = draw(st.integers(1, 4))
    rules = []
    for i in range(count):
        subject = draw(st.sampled_from([SubjectKind.ACCOUNT, SubjectKind.TORRENT, SubjectKind.CANDIDATE]))
        rules.append(
            CompiledRule(
                id=f"rule_{i}",
                concern=Concern.SEEDING,
                layer=3,
                priority=100,
                subject=subject,
                description="generated",
                condition=draw(trees),
                reason="generated",
                flag=None,
                block=None,
                actions=(),
                location=NOWHERE,
            )
        )
    return rules


def _value_for(draw: st.DrawFn, kind: str) -> object:
    # mostly the right kind, sometimes unknown or the wrong kind
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return None
    if choice == 1:
        return draw(scalars)
    return draw({"number": numbers, "bool": st.booleans(), "str": texts}[kind])


@st.composite
def rows(draw: st.DrawFn) -> list[Row]:
    shared = {f: _value_for(draw, k) for f, k in FIELDS.items() if f.startswith("account.")}
    out = [Row("account", "account", {}, shared)]  # type: ignore[arg-type]
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["torrent", "candidate"]))
        own = {f: _value_for(draw, k) for f, k in FIELDS.items() if f.startswith(kind + ".")}
        out.append(Row(kind, f"{kind}-{i}", own, shared))  # type: ignore[arg-type]
    return out


# --- fact snapshots for decide() ---------------------------------------------------------
# Small worlds around the SPEC's boundaries: ratio exactly 1.00 and 1.05, VIP exactly
# 7 days, bitrate exactly 64 kbps, exactly 72 h seeded, unsatisfied count at the limit.


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GIB = 1024**3
BOOKS = ("dune|frank herbert", "hyperion|dan simmons", "emma|jane austen", "solaris|stanislaw lem")
SERIES = {"dune|frank herbert": "Dune", "hyperion|dan simmons": "Hyperion Cantos"}
AUTHORS = {b: b.split("|")[1].title() for b in BOOKS}

ratios = st.sampled_from([0.5, 0.9, 0.99, 1.0, 1.01, 1.05, 1.06, 1.09, 1.1, 1.5, 2.0, 3.0]) | st.floats(0.3, 4.0)
vip_days = st.sampled_from([0.0, 1.0, 6.99, 7.0, 7.01, 20.0, 62.0, 63.0, 89.0, 90.0]) | st.floats(7, 95)
bitrates = st.sampled_from([None, 32, 63, 64, 65, 95, 96, 127, 128, 192, 320])
tri = st.sampled_from([None, True, False])


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    if draw(st.booleans()):  # a healthy account, so purchases and downloads are exercised too
        downloaded = draw(st.integers(1, 2000)) * GIB
        ratio = draw(st.floats(1.2, 3.0))
        return Account(
            user_class=UserClass.VIP,
            ratio=ratio,
            uploaded_bytes=int(downloaded * ratio),
            downloaded_bytes=downloaded,
            bonus_points=draw(st.integers(56251, 99999)),
            wedges=draw(st.integers(0, 2)),
            vip_until=NOW + timedelta(days=draw(st.floats(7, 89))),
            unsatisfied_count=draw(st.integers(0, 20)),
            unsatisfied_limit=150,
        )
    ratio = draw(ratios)
    downloaded = draw(st.integers(1, 2000)) * GIB
    limit = draw(st.sampled_from([50, 100, 150, 200]))
    days = draw(vip_days)
    return Account(
        username="reader",
        user_class=draw(st.sampled_from(list(UserClass))),
        ratio=ratio,
        uploaded_bytes=int(downloaded * ratio),
        downloaded_bytes=downloaded,
        bonus_points=draw(
            st.sampled_from([0, 1249, 1250, 5000, 6250, 6251, 50000, 56250, 56251, 99999]) | st.integers(50000, 99999)
        ),
        wedges=draw(st.integers(0, 3)),
        vip_until=None if days == 0 and draw(st.booleans()) else NOW + timedelta(days=days),
        # ratio and points drawn independently so every combination near the floors occurs
        unsatisfied_count=draw(
            st.sampled_from([0, 0, 3, limit - 11, limit - 10, limit - 9, limit]) | st.integers(0, limit)
        ),
        unsatisfied_limit=limit,
    )


@st.composite
def releases(draw: st.DrawFn, rid: str, book: str) -> Release:
    return Release(
        id=rid,
        tracker_id=draw(st.integers(1, 10**6)),
        book_key=book,
        title=book.split("|")[0].title(),
        authors=(AUTHORS[book],),
        series=SERIES.get(book) if draw(st.booleans()) else None,
        bitrate_kbps=draw(bitrates),
        abridged=draw(tri),
        single_file=draw(tri),
        narrator_verified=draw(tri),
        watermarked=draw(tri),
        chapters_complete=draw(tri),
        size_bytes=draw(st.integers(50, 3000)) * 1024**2,
        seeders=draw(st.integers(0, 50)),
        leechers=draw(st.integers(0, 5)),
        free=draw(st.sampled_from([FreeKind.NONE, FreeKind.NONE, *FreeKind])),
        vip_only=draw(st.booleans()),
    )


@st.composite
def torrents(draw: st.DrawFn, index: int) -> Torrent:
    state = draw(st.sampled_from(list(TorrentState)))
    complete = state in (TorrentState.SEEDING, TorrentState.PAUSED_UPLOAD, TorrentState.STALLED_UPLOAD) or draw(
        st.booleans()
    )
    return Torrent(
        hash=f"{index:040x}",
        name=f"torrent {index}",
        state=state,
        progress=1.0 if complete else draw(st.floats(0, 0.99)),
        size_bytes=draw(st.integers(1, 3000)) * 1024**2,
        seeding_seconds=draw(st.sampled_from([0, 71 * 3600, 72 * 3600 - 1, 72 * 3600, 500 * 3600])),
        stalled_seconds=draw(st.sampled_from([0, 29 * 60, 30 * 60, 3600])),
        points_per_hour=draw(st.sampled_from([None, 0.0, 0.5])),
        uploaded_30d_bytes=draw(st.sampled_from([None, 0, 10 * 1024**2])),
        seeders=draw(st.integers(0, 20)),
        leechers=draw(st.integers(0, 5)),
        added_by_mamcrawler=draw(st.booleans()),
        paused_by=draw(st.sampled_from(list(PausedBy))),
        free=draw(st.booleans()),
        book_key=draw(st.sampled_from([None, None, None, None, *BOOKS])),
        release_id=draw(st.sampled_from([None, "r0", "r1", "r2"])),
    )


@st.composite
def snapshots(draw: st.DrawFn) -> FactSnapshot:
    n_releases = draw(st.integers(0, 7))
    rels = tuple(draw(releases(f"r{i}", draw(st.sampled_from(BOOKS)))) for i in range(n_releases))
    tors = tuple(draw(torrents(i)) for i in range(draw(st.integers(0, 5))))
    library = tuple(
        LibraryItem(
            id=f"li{i}",
            book_key=book,
            title=book.split("|")[0].title(),
            authors=(AUTHORS[book],),
            series=SERIES.get(book),
            bitrate_kbps=draw(bitrates),
            abridged=draw(tri),
            single_file=draw(tri),
            narrator_verified=draw(tri),
            torrent_hash=draw(st.sampled_from([None, *(t.hash for t in tors)])),
        )
        for i, book in enumerate(draw(st.lists(st.sampled_from(BOOKS), max_size=2, unique=True)))
    )
    wants = tuple(
        Want(book_key=b, title=b.split("|")[0].title(), source=draw(st.sampled_from(list(WantSource))))
        for b in draw(st.lists(st.sampled_from(BOOKS), max_size=4, unique=True))
    )
    events = tuple(
        Event(
            id=f"e{i}",
            kind=draw(st.sampled_from(list(EventKind))),
            starts_at=NOW - timedelta(hours=draw(st.integers(-5, 48))),
            ends_at=NOW + timedelta(hours=draw(st.integers(-5, 48))),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    hashes = [t.hash for t in tors]
    memory = Memory(
        downloads_frozen=draw(st.booleans()),
        frozen_torrent_hashes=tuple(draw(st.lists(st.sampled_from(hashes), unique=True))) if hashes else (),
        downloads_today=draw(st.integers(0, 25)),
        points_spent_today=draw(st.sampled_from([0, 50000, 100000, 149999])),
        purchases_today=draw(st.integers(0, 10)),
        upload_slots=draw(st.sampled_from([None, 20, 60, 100])),
        bought_release_ids=tuple(draw(st.lists(st.sampled_from([r.id for r in rels]), unique=True))) if rels else (),
    )
    return FactSnapshot(
        taken_at=NOW,
        account=draw(accounts()),
        events=events,
        releases=rels,
        torrents=tors,
        library=library,
        wants=wants,
        memory=memory,
    )


gappable_sources = st.sampled_from(
    [Source.TRACKER_ACCOUNT, Source.QBITTORRENT, Source.LIBRARY, Source.TRACKER_RULES, Source.TRACKER_STORE]
)


def with_gap(snapshot: FactSnapshot, source: Source) -> FactSnapshot:
    return snapshot.model_copy(update={"gaps": (FactGap(source=source, code="service_unavailable"),)})


# --- policy variants ---------------------------------------------------------------------


POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"


@cache
def default_policy() -> Policy:
    return load_policy(POLICY_DIR)


def policy_with(**changes: dict[str, object]) -> Policy:
    """The default policy with some concerns' params replaced, e.g. free_first={"mode": "floor"}."""
    base = default_policy()
    files = dict(base.files)
    raw = {}
    for name, params in changes.items():
        concern = Concern(name)
        file = files[concern]
        files[concern] = file.model_copy(update={"params": file.params.model_copy(update=params)})
        raw[concern] = repr(sorted(params.items())).encode()
    return compile_policy(files, base.sources, {}, raw)


@cache
def _variants() -> tuple[Policy, ...]:
    return (
        default_policy(),
        policy_with(free_first={"mode": "floor"}),
        policy_with(free_first={"allow_ratio_costing": True, "ratio_costing_margin_gib": 1.0}),
        policy_with(free_first={"wedge_reserve": 1}, pacing={"daily_downloads": 1, "max_purchases_per_day": 1}),
    )


policies = st.integers(0, 3).map(lambda i: _variants()[i])


# --- hostile policies --------------------------------------------------------------------
# Rule trees that propose any action on any subject with any arguments, in any layer and
# at any priority, on top of (or instead of) the bundled rules, under random params. The
# guards under the YAML must still hold every invariant (tests/property/test_hostile_policies.py).

_ALWAYS = Compare("state.downloads_today", Op.GE, 0)  # memory is always known: a rule that always fires
_HOSTILE_LEAVES = st.sampled_from(
    [
        _ALWAYS,
        Compare("account.ratio", Op.LE, 1.05),
        Compare("account.ratio", Op.LT, 1.0),
        Compare("account.vip_days_left", Op.LT, 7),
        Compare("account.bonus_points", Op.GE, 0),
        Compare("candidate.is_free", Op.EQ, False),
        Compare("candidate.is_free", Op.EQ, True),
        Compare("candidate.in_client", Op.EQ, True),
        Compare("candidate.already_bought", Op.EQ, False),
        Compare("torrent.complete", Op.EQ, True),
        Compare("torrent.downloading", Op.EQ, True),
        Compare("torrent.paused_by", Op.EQ, "user"),
        Compare("torrent.seed_hours", Op.LT, 72),
    ]
)
_hostile_conditions: st.SearchStrategy[Node] = st.one_of(
    st.just(_ALWAYS),
    _HOSTILE_LEAVES,
    st.lists(_HOSTILE_LEAVES, min_size=1, max_size=3).map(lambda cs: AnyOf(tuple(cs))),
    st.lists(_HOSTILE_LEAVES, min_size=1, max_size=2).map(lambda cs: AllOf(tuple(cs))),
)
_ARG_VALUES: dict[str, st.SearchStrategy[object]] = {
    "weeks": st.one_of(
        st.sampled_from([1, 4, 8, 12, 52, 112]),
        st.integers(-2, 200),
        st.sampled_from(["fact:account.vip_weeks_affordable", "fact:account.vip_weeks_from_surplus"]),
    ),
    "gib": st.one_of(st.integers(-1, 100_000), st.just("fact:account.upload_gib_buyable")),
    "method": st.sampled_from(["wedge", "points"]) | st.just("bogus"),
    "bought_freeleech": st.booleans(),
    "delete_data": st.booleans(),
    "force": st.booleans(),
    "upload_slots": st.integers(0, 500),
    "active_seeds": st.integers(0, 500),
    "category": st.sampled_from(["audiobooks", "x"]),
}


_RISKY = [
    ActionName.BUY_VIP,
    ActionName.BUY_UPLOAD_CREDIT,
    ActionName.BUY_PERSONAL_FREELEECH,
    ActionName.ADD_TORRENT,
    ActionName.PAUSE_TORRENT,
    ActionName.RESUME_TORRENT,
    ActionName.REMOVE_TORRENT,
    ActionName.REPLACE_EDITION,
]
_OWN_ARG = {
    ActionName.BUY_VIP: "weeks",
    ActionName.BUY_UPLOAD_CREDIT: "gib",
    ActionName.BUY_PERSONAL_FREELEECH: "method",
    ActionName.ADD_TORRENT: "bought_freeleech",
    ActionName.REMOVE_TORRENT: "delete_data",
    ActionName.RESUME_TORRENT: "force",
    ActionName.SET_SEEDING_ALLOCATION: "upload_slots",
}
_SUBJECT_OF = {
    ActionName.BUY_PERSONAL_FREELEECH: SubjectKind.CANDIDATE,
    ActionName.ADD_TORRENT: SubjectKind.CANDIDATE,
    ActionName.REPLACE_EDITION: SubjectKind.CANDIDATE,
    ActionName.PAUSE_TORRENT: SubjectKind.TORRENT,
    ActionName.RESUME_TORRENT: SubjectKind.TORRENT,
    ActionName.REMOVE_TORRENT: SubjectKind.TORRENT,
}


@st.composite
def hostile_actions(draw: st.DrawFn, name: ActionName | None = None) -> CompiledAction:
    if name is None:  # mostly the actions that spend, download, stop or delete
        name = draw(st.sampled_from(_RISKY) | st.sampled_from(list(ActionName)))
    keys = set(draw(st.lists(st.sampled_from(sorted(_ARG_VALUES)), max_size=3, unique=True)))
    if name in _OWN_ARG and draw(st.integers(0, 3)):  # usually the argument that makes it dangerous
        keys.add(_OWN_ARG[name])
    args = {k: draw(_ARG_VALUES[k]) for k in sorted(keys)}
    tags = tuple(draw(st.lists(st.sampled_from(["helps_ratio", "helps_vip", "free_download", "x"]), max_size=2)))
    return CompiledAction(name, args, tags)  # type: ignore[arg-type]


_FOCUSED: dict[str, list[tuple[ActionName, ...]]] = {
    # spending and downloading on candidates: buy-then-download, a bare claim, a bare purchase
    "downloads": [
        (ActionName.BUY_PERSONAL_FREELEECH, ActionName.ADD_TORRENT),
        (ActionName.ADD_TORRENT,),
        (ActionName.BUY_PERSONAL_FREELEECH,),
        (ActionName.ADD_TORRENT, ActionName.BUY_PERSONAL_FREELEECH),
    ],
    # stopping, starting and deleting torrents
    "torrents": [
        (ActionName.PAUSE_TORRENT,),
        (ActionName.RESUME_TORRENT,),
        (ActionName.REMOVE_TORRENT,),
    ],
}


@st.composite
def hostile_rules(draw: st.DrawFn, index: int, focus: str = "any") -> CompiledRule:
    # VIP's layer half the time: no block of a later layer reaches it, only the guards do
    concern = draw(st.just(Concern.VIP) | st.sampled_from([c for c in Concern if c in LAYER_OF]))
    if focus in _FOCUSED:
        names = draw(st.sampled_from(_FOCUSED[focus]))
        actions = [draw(hostile_actions(name)) for name in names]
        first = actions[0]
    else:
        first = draw(hostile_actions())
        if draw(st.booleans()) and first.name is ActionName.BUY_PERSONAL_FREELEECH:  # buy, then download
            actions = [first, draw(hostile_actions(ActionName.ADD_TORRENT))]
        elif draw(st.integers(0, 2)):
            actions = [first, *draw(st.lists(hostile_actions(), max_size=2))]
        else:
            actions = [first]
    fitting = _SUBJECT_OF.get(first.name, SubjectKind.ACCOUNT)
    return CompiledRule(
        id=f"hostile_{index}",
        concern=concern,
        layer=LAYER_OF[concern],
        priority=draw(st.sampled_from([0, 500, 1000, 10**6])),
        subject=fitting if focus in _FOCUSED or draw(st.integers(0, 5)) else draw(st.sampled_from(list(SubjectKind))),
        description="hostile",
        condition=draw(st.just(_ALWAYS) | _hostile_conditions),
        reason="hostile",
        flag=None,
        block=None,
        actions=tuple(actions),
        location=NOWHERE,
    )


@st.composite
def hostile_params(draw: st.DrawFn) -> dict[str, dict[str, object]]:
    """Random (valid) params for the concerns the guards read."""
    floor = draw(st.sampled_from([0.5, 1.0, 1.5]))
    margin = draw(st.sampled_from([0.0, 0.05, 0.3]))
    return {
        "ratio": {
            "floor": floor,
            "margin": margin,
            "recover_at": floor + margin + draw(st.sampled_from([0.0, 0.1])),
            "helpful_min_leechers": draw(st.sampled_from([0, 1, 3])),
        },
        "vip": {
            "floor_days": draw(st.sampled_from([0, 7, 30])),
            "reserve_points": draw(st.sampled_from([0, 1250, 50000])),
            "max_days": draw(st.sampled_from([30, 90, 365])),
            "max_purchases_per_day": draw(st.sampled_from([0, 1, 3])),
        },
        "pacing": {
            "daily_downloads": draw(st.sampled_from([0, 3, 10, 50])),
            "max_points_per_day": draw(st.sampled_from([0, 50000, 150000, 10**7])),
            "max_purchases_per_day": draw(st.sampled_from([0, 1, 10, 100])),
            "max_removals_per_cycle": draw(st.sampled_from([0, 1, 5, 100])),
        },
        "snatch": {"unsat_buffer": draw(st.sampled_from([0, 10, 50]))},
        "seeding": {"min_seed_hours": draw(st.sampled_from([0, 72, 500]))},
        "free_first": {
            "allow_ratio_costing": draw(st.booleans()),
            "wedge_reserve": draw(st.sampled_from([0, 1, 5])),
            "ratio_costing_margin_gib": draw(st.sampled_from([0, 5])),
        },
    }


@dataclass(frozen=True)
class HostilePolicy:
    """Random params + hostile rules (+ the bundled rules when ``keep``); a short repr, so a
    failing example prints what matters, and the compiled ``policy``."""

    params: dict[str, dict[str, object]]
    keep: bool
    extra: tuple[CompiledRule, ...]

    @property
    def policy(self) -> Policy:
        base = policy_with(**self.params)
        rules = tuple(sorted([*(base.rules if self.keep else ()), *self.extra], key=lambda r: r.order_key))
        return Policy(files=base.files, rules=rules, content_hash=base.content_hash, sources=base.sources)

    def __repr__(self) -> str:
        shown = [
            (
                r.id,
                r.layer,
                r.priority,
                r.subject.value,
                str(r.condition),
                [(a.name.value, dict(a.args)) for a in r.actions],
            )
            for r in self.extra
        ]
        return f"HostilePolicy(params={self.params}, keep={self.keep}, extra={shown})"


@st.composite
def hostile_policies(draw: st.DrawFn) -> HostilePolicy:
    """The bundled rules (or none) plus 1–8 hostile rules, under random params; a third of
    the time the hostile rules all spend and download, a third they all work torrents."""
    params = draw(hostile_params())
    keep = draw(st.booleans())
    focus = draw(st.sampled_from(["any", *_FOCUSED]))
    extra = tuple(draw(hostile_rules(i, focus)) for i in range(draw(st.integers(1, 8))))
    return HostilePolicy(params, keep, extra)


@st.composite
def hostile_snapshots(draw: st.DrawFn) -> FactSnapshot:
    """``snapshots()`` plus what hostile rules feed on: every listed book wanted, a torrent
    that meets the four removal conditions, a second seeding copy of an edition (delete
    data), VIP bought today, few downloads today, sometimes a gapped source."""
    base = draw(snapshots())
    torrents_ = list(base.torrents)
    if draw(st.booleans()):  # worthless and long seeded: removal reachable, maybe paused (resume + remove)
        torrents_.append(
            Torrent(
                hash=f"{200:040x}",
                name="worthless",
                state=draw(st.sampled_from([TorrentState.SEEDING, TorrentState.PAUSED_UPLOAD])),
                progress=1.0,
                seeding_seconds=600 * 3600,
                points_per_hour=0.0,
                uploaded_30d_bytes=0,
                added_by_mamcrawler=draw(st.booleans()),
                book_key=draw(st.sampled_from([None, *BOOKS])),
                release_id=draw(st.sampled_from([None, "r0", "r1"])),
            )
        )
    if torrents_ and draw(st.booleans()):  # a second copy of a torrent's edition, seeding
        first = torrents_[-1]
        torrents_.append(
            first.model_copy(
                update={
                    "hash": f"{len(torrents_) + 100:040x}",
                    "state": draw(st.sampled_from([TorrentState.SEEDING, TorrentState.PAUSED_UPLOAD])),
                    "progress": 1.0,
                    "release_id": first.release_id or "r0",
                }
            )
        )
    if draw(st.integers(0, 2)) == 0:  # nothing of the wanted books in the client yet
        torrents_ = [t for t in torrents_ if t.book_key is None]
    wanted = {w.book_key for w in base.wants}
    wants = (*base.wants, *(Want(book_key=b, title=b) for b in sorted({r.book_key for r in base.releases} - wanted)))
    base = base.model_copy(update={"wants": wants if draw(st.booleans()) else base.wants})
    memory = base.memory.model_copy(
        update={
            "vip_purchases_today": draw(st.integers(0, 3)),
            "downloads_today": draw(st.sampled_from([0, 0, base.memory.downloads_today])),
        }
    )
    account = base.account
    if draw(st.booleans()):  # rich and VIP safe: every later guard is reachable; the ratio at or near a floor
        ratio = draw(st.sampled_from([0.5, 0.52, 0.55, 1.0, 1.02, 1.05, 1.5, 1.55, 1.8, 2.5]))
        downloaded = account.downloaded_bytes or GIB
        account = account.model_copy(
            update={
                "bonus_points": draw(st.integers(100_000, 400_000)),
                "vip_until": NOW + timedelta(days=draw(st.floats(20, 80))),
                "ratio": ratio,
                "uploaded_bytes": int(downloaded * ratio),
                "wedges": draw(st.integers(0, 3)),
            }
        )
    snap = base.model_copy(update={"torrents": tuple(torrents_), "memory": memory, "account": account})
    if draw(st.integers(0, 4)) == 0:
        snap = with_gap(snap, draw(gappable_sources))
    return snap
