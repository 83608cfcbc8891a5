"""Issue 9's reproductions of guard bypasses and SPEC misreadings, each as a decision test.

Each test failed on main before the guards existed and names the guard (a stable
``guard_*`` / ``cap_*`` code) that now bites. Hostile rules are written as YAML into a
copy of the bundled policies — in vip.yaml when the point is that no block of a later
layer can stop them, so only the guards stand in the way."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mamcrawler.engine import DecisionBatch, Policy, decide, load_policy
from mamcrawler.facts import (
    Account,
    Event,
    EventKind,
    FactSnapshot,
    FreeKind,
    LibraryItem,
    Memory,
    PausedBy,
    Release,
    Torrent,
    TorrentState,
    UserClass,
    Want,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GIB = 1024**3
POLICIES = Path(__file__).resolve().parents[2] / "policies"


def policy_plus(tmp_path: Path, file: str, rules: str) -> Policy:
    """The bundled policies with ``rules`` (YAML list items) appended to ``file``."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("tests"))
    path = target / file
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + rules, encoding="utf-8")
    return load_policy(target)


@pytest.fixture(scope="module")
def bundled() -> Policy:
    return load_policy(POLICIES)


def account(**changes: object) -> Account:
    ratio = float(changes.pop("ratio", 2.0))  # type: ignore[arg-type]
    base = Account(
        user_class=UserClass.VIP,
        ratio=ratio,
        uploaded_bytes=int(200 * GIB * ratio),
        downloaded_bytes=200 * GIB,
        bonus_points=60000,
        wedges=0,
        vip_until=NOW + timedelta(days=60),
        unsatisfied_count=0,
        unsatisfied_limit=150,
    )
    return base.model_copy(update=changes)


def release(rid: str, book: str = "dune|frank herbert", **changes: object) -> Release:
    title, author = book.split("|")
    base = Release(
        id=rid,
        tracker_id=abs(hash(rid)) % 10**6 + 1,
        book_key=book,
        title=title.title(),
        authors=(author.title(),),
        bitrate_kbps=128,
        abridged=False,
        single_file=True,
        size_bytes=GIB,
        seeders=5,
        leechers=0,
    )
    return base.model_copy(update=changes)


def want(book: str) -> Want:
    return Want(book_key=book, title=book.split("|")[0].title())


def torrent(index: int, **changes: object) -> Torrent:
    base = Torrent(
        hash=f"{index:040x}",
        name=f"torrent {index}",
        state=TorrentState.SEEDING,
        progress=1.0,
        size_bytes=GIB,
        seeding_seconds=10 * 3600,
        points_per_hour=0.5,
        uploaded_30d_bytes=GIB,
        book_key=f"book {index}|someone",
    )
    return base.model_copy(update=changes)


def snap(acc: Account, **parts: object) -> FactSnapshot:
    return FactSnapshot(taken_at=NOW, account=acc, **parts)  # type: ignore[arg-type]


def planned(batch: DecisionBatch, kind: str) -> list[object]:
    return [a for a in batch.actions if a.type == kind]


def guarded(batch: DecisionBatch, code: str) -> list[str]:
    return [r.subject_id for r in batch.records if r.outcome in ("guarded", "capped") and r.blocked_by == code]


# --- bought_freeleech: true in YAML made a paid download count as free ---------------------------

CLAIMS_BOUGHT = """
  - id: hostile_claims_bought
    priority: 999
    description: "hostile: a paid release downloaded as if personal freeleech were bought"
    subject: candidate
    when: {fact: candidate.is_free, eq: false}
    then:
      reason: hostile
      actions: [{do: AddTorrent, with: {bought_freeleech: true}}]
"""


@pytest.mark.parametrize("ratio", [1.005, 2.0])
def test_bought_freeleech_in_yaml_is_no_purchase(tmp_path: Path, ratio: float) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", CLAIMS_BOUGHT)
    facts = snap(account(ratio=ratio), releases=(release("paid", leechers=3),), wants=(want("dune|frank herbert"),))

    batch = decide(policy, facts, now=NOW)

    assert not planned(batch, "AddTorrent")
    assert guarded(batch, "guard_freeleech_not_bought") == ["dune|frank herbert"]


def test_a_release_bought_earlier_downloads_as_free(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", CLAIMS_BOUGHT)
    facts = snap(
        account(),
        releases=(release("paid", leechers=3),),
        wants=(want("dune|frank herbert"),),
        memory=Memory(bought_release_ids=("paid",)),
    )

    adds = planned(decide(policy, facts, now=NOW), "AddTorrent")

    assert len(adds) == 1 and adds[0].free  # type: ignore[attr-defined]


# --- BuyVip checked only that points exist ---------------------------------------------------------

BUYS_VIP = """
  - id: hostile_buys_vip
    priority: 999
    description: "hostile: buy {weeks} weeks of VIP whenever points exist"
    subject: account
    when: {fact: account.bonus_points, ge: 0}
    then:
      reason: hostile
      actions: [{do: BuyVip, with: {weeks: WEEKS}}]
"""


def test_vip_is_never_bought_past_the_cap(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", BUYS_VIP.replace("WEEKS", "112"))  # 140,000 points
    facts = snap(account(bonus_points=200000, vip_until=NOW + timedelta(days=60)))

    batch = decide(policy, facts, now=NOW)

    assert not planned(batch, "BuyVip")
    assert guarded(batch, "guard_vip_cap") == ["account"]


def test_vip_purchases_per_day_are_limited(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", BUYS_VIP.replace("WEEKS", "4"))
    facts = snap(account(vip_until=NOW + timedelta(days=20)), memory=Memory(vip_purchases_today=1))

    batch = decide(policy, facts, now=NOW)

    assert not planned(batch, "BuyVip")
    assert guarded(batch, "cap_vip_purchases_per_day") == ["account"]
    first = decide(policy, snap(account(vip_until=NOW + timedelta(days=20))), now=NOW)
    assert [a.weeks for a in planned(first, "BuyVip")] == [4]  # type: ignore[attr-defined]


# --- PauseTorrent had no guard: 3,154 pauses planned ---------------------------------------------

PAUSES_ALL = """
  - id: hostile_pauses_everything
    priority: 999
    description: "hostile: pause every torrent"
    subject: torrent
    when: {fact: torrent.seed_hours, ge: 0}
    then:
      reason: hostile
      actions: [{do: PauseTorrent}]
"""


def test_no_pause_of_a_torrent_owing_its_seed_time(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "seeding.yaml", PAUSES_ALL)
    owing = tuple(torrent(i, seeding_seconds=(i % 72) * 3600) for i in range(1, 401))
    done = torrent(1000, seeding_seconds=72 * 3600)
    facts = snap(account(), torrents=(*owing, done))

    batch = decide(policy, facts, now=NOW)

    assert [a.hash for a in planned(batch, "PauseTorrent")] == [done.hash]  # type: ignore[attr-defined]
    assert len(guarded(batch, "guard_pause_owes_seeding")) == len(owing)


def test_the_freeze_still_pauses_our_own_paid_download(bundled: Policy) -> None:
    ours = torrent(1, state=TorrentState.DOWNLOADING, progress=0.3, seeding_seconds=0, added_by_mamcrawler=True)
    batch = decide(bundled, snap(account(ratio=1.02), torrents=(ours,)), now=NOW)
    assert [a.hash for a in planned(batch, "PauseTorrent")] == [ours.hash]  # type: ignore[attr-defined]


# --- delete_data: true reached qBittorrent's delete-files ------------------------------------------

REMOVES_WITH_DATA = """
  - id: hostile_removes_with_data
    priority: 999
    description: "hostile: stop worthless seeds and delete their files"
    subject: torrent
    when:
      all:
        - {fact: torrent.complete, eq: true}
        - {fact: torrent.earns_points, eq: false}
        - {fact: torrent.adds_ratio, eq: false}
        - {fact: torrent.seed_hours, ge: {param: min_seed_hours}}
        - {fact: torrent.superior_edition_exists, eq: false}
    then:
      reason: hostile
      actions: [{do: RemoveTorrent, with: {delete_data: true}}]
"""


def worthless(index: int, **changes: object) -> Torrent:
    return torrent(index, seeding_seconds=500 * 3600, points_per_hour=0.0, uploaded_30d_bytes=0, **changes)


def test_no_deletion_of_files_the_library_uses(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "seeding.yaml", REMOVES_WITH_DATA)
    used = worthless(1, book_key="dune|frank herbert", release_id="r1")
    item = LibraryItem(id="li1", book_key="dune|frank herbert", title="Dune", torrent_hash=used.hash)

    batch = decide(policy, snap(account(), torrents=(used,), library=(item,)), now=NOW)

    assert not [a for a in planned(batch, "RemoveTorrent") if a.delete_data]  # type: ignore[attr-defined]
    assert guarded(batch, "guard_delete_data") == [used.hash]


def test_no_deletion_of_the_only_copy_of_an_edition(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "seeding.yaml", REMOVES_WITH_DATA)
    only = worthless(1, book_key="emma|jane austen", release_id="r9")

    batch = decide(policy, snap(account(), torrents=(only,)), now=NOW)

    assert guarded(batch, "guard_delete_data") == [only.hash]
    assert not planned(batch, "RemoveTorrent") or not planned(batch, "RemoveTorrent")[0].delete_data  # type: ignore[attr-defined]


# --- the unsatisfied headroom was read once per cycle ----------------------------------------------


def test_downloads_planned_in_a_cycle_consume_the_unsatisfied_headroom(bundled: Policy) -> None:
    books = [f"book {i}|author {i}" for i in range(25)]
    facts = snap(
        account(unsatisfied_count=139, unsatisfied_limit=150),
        releases=tuple(release(f"r{i}", b, free=FreeKind.SITE_FREELEECH, leechers=2) for i, b in enumerate(books)),
        wants=tuple(want(b) for b in books),
        events=(Event(id="fl", kind=EventKind.FREELEECH, starts_at=NOW - timedelta(hours=1)),),
    )

    batch = decide(bundled, facts, now=NOW)

    assert len(planned(batch, "AddTorrent")) == 1  # 139 + 1 = 140 = limit 150 - buffer 10
    assert len(guarded(batch, "guard_unsatisfied_limit")) == len(books) - 1  # main planned 20 (the budget)


# --- §16: a book mamcrawler downloaded itself could never be upgraded ------------------------------


def test_a_strictly_better_edition_replaces_our_own_download_and_the_old_torrent_keeps_seeding(
    bundled: Policy,
) -> None:
    old = torrent(
        1, book_key="dune|frank herbert", release_id="r-old", added_by_mamcrawler=True, seeding_seconds=500 * 3600
    )
    item = LibraryItem(
        id="li1", book_key="dune|frank herbert", title="Dune", bitrate_kbps=64, abridged=False, torrent_hash=old.hash
    )
    facts = snap(
        account(),
        releases=(
            release("r-old", bitrate_kbps=64),
            release("r-new", bitrate_kbps=128, free=FreeKind.SITE_FREELEECH, leechers=2),
        ),
        torrents=(old,),
        library=(item,),
        wants=(want("dune|frank herbert"),),
    )

    batch = decide(bundled, facts, now=NOW)

    assert [a.release_id for a in planned(batch, "ReplaceEdition")] == ["r-new"]  # type: ignore[attr-defined]
    assert [a.release_id for a in planned(batch, "AddTorrent")] == ["r-new"]  # type: ignore[attr-defined]
    assert not planned(batch, "RemoveTorrent") and not planned(batch, "PauseTorrent")


def test_an_edition_no_better_than_the_one_in_the_client_is_still_skipped(bundled: Policy) -> None:
    old = torrent(1, book_key="dune|frank herbert", release_id="r-old", added_by_mamcrawler=True)
    facts = snap(
        account(),
        releases=(release("r-old"), release("r-same", free=FreeKind.SITE_FREELEECH, leechers=2)),
        torrents=(old,),
        wants=(want("dune|frank herbert"),),
    )
    assert not planned(decide(bundled, facts, now=NOW), "AddTorrent")


# --- the same torrent resumed and removed in one batch --------------------------------------------


def test_a_torrent_is_never_resumed_and_removed_in_the_same_batch(bundled: Policy) -> None:
    stopped = worthless(1, state=TorrentState.PAUSED_UPLOAD, paused_by=PausedBy.NOBODY)

    batch = decide(bundled, snap(account(), torrents=(stopped,)), now=NOW)

    assert [a.type for a in batch.actions if hasattr(a, "hash")] == ["ResumeTorrent"]
    assert guarded(batch, "guard_resume_and_remove") == [stopped.hash]


def test_no_removal_below_the_floor(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", REMOVES_WITH_DATA.replace("{param: min_seed_hours}", "72"))
    seed = worthless(1)

    batch = decide(policy, snap(account(ratio=0.95), torrents=(seed,)), now=NOW)

    assert not planned(batch, "RemoveTorrent")
    assert guarded(batch, "guard_removal_ratio_below_floor") == [seed.hash]


# --- §10 at ratio exactly 1.00 the freeze stopped nothing ------------------------------------------


def test_at_ratio_exactly_one_the_freeze_stops_paid_and_non_essential_downloads(bundled: Policy) -> None:
    books = ("dune|frank herbert", "emma|jane austen", "solaris|stanislaw lem")
    facts = snap(
        account(ratio=1.0, wedges=2, bonus_points=99999),
        releases=(
            release("wedge-me", books[0], leechers=4),  # paid: needs a wedge
            release("quiet", books[1], free=FreeKind.SITE_FREELEECH, leechers=0),  # free, nobody waiting
            release("wanted", books[2], free=FreeKind.SITE_FREELEECH, leechers=3),  # free, helps ratio
        ),
        wants=tuple(want(b) for b in books),
    )

    batch = decide(bundled, facts, now=NOW)

    assert not planned(batch, "BuyPersonalFreeleech")
    assert [a.release_id for a in planned(batch, "AddTorrent")] == ["wanted"]  # type: ignore[attr-defined]
    assert "ratio_freeze" in batch.flags


BUYS_AND_DOWNLOADS = """
  - id: hostile_buys_and_downloads
    priority: 999
    description: "hostile: buy personal freeleech with a wedge and download, whatever the ratio"
    subject: candidate
    when: {fact: candidate.is_free, eq: false}
    then:
      reason: hostile
      actions: [{do: BuyPersonalFreeleech, with: {method: wedge}}, {do: AddTorrent, with: {bought_freeleech: true}}]

  - id: hostile_downloads_free
    priority: 998
    description: "hostile: download every free release, whatever the ratio"
    subject: candidate
    when: {fact: candidate.is_free, eq: true}
    then:
      reason: hostile
      actions: [{do: AddTorrent}]
"""


def test_near_the_floor_the_guards_stop_a_wedge_purchase_and_a_non_essential_download(tmp_path: Path) -> None:
    policy = policy_plus(tmp_path, "vip.yaml", BUYS_AND_DOWNLOADS)  # VIP's layer: no ratio block reaches it
    books = ("dune|frank herbert", "emma|jane austen", "solaris|stanislaw lem")
    facts = snap(
        account(ratio=1.02, wedges=2, bonus_points=99999),
        releases=(
            release("wedge-me", books[0], leechers=4),
            release("quiet", books[1], free=FreeKind.SITE_FREELEECH, leechers=0),
            release("wanted", books[2], free=FreeKind.SITE_FREELEECH, leechers=3),
        ),
        wants=tuple(want(b) for b in books),
    )

    batch = decide(policy, facts, now=NOW)

    assert not planned(batch, "BuyPersonalFreeleech")
    assert [a.release_id for a in planned(batch, "AddTorrent")] == ["wanted"]  # type: ignore[attr-defined]
    assert guarded(batch, "guard_ratio_freeze") == [books[0]]
    assert guarded(batch, "guard_ratio_freeze_non_essential") == [books[1]]
