"""The fact fields rules may name: ``namespace.field`` → kind, source and meaning.

This table is the contract between sensors' facts and policy authors: ``policy check``
rejects unknown fields and comparisons of the wrong kind, and ``decide`` fails a rule
closed when a source it depends on is gapped or stale. ``flags.*`` are declared by the
policy itself. Imports ``facts`` only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mamcrawler.facts import Source

Kind = Literal["number", "bool", "str"]


@dataclass(frozen=True)
class Field:
    kind: Kind
    sources: frozenset[Source]
    meaning: str


_ACC = frozenset({Source.TRACKER_ACCOUNT})
_ACC_STORE = frozenset({Source.TRACKER_ACCOUNT, Source.TRACKER_STORE})
_EVT = frozenset({Source.TRACKER_RULES})
_MEM: frozenset[Source] = frozenset()
_QB = frozenset({Source.QBITTORRENT})
_CAND = frozenset({Source.LIBRARY, Source.QBITTORRENT})
_DL = frozenset({Source.AUDIO, Source.QBITTORRENT})
_LIB = frozenset({Source.LIBRARY})


def _f(kind: Kind, sources: frozenset[Source], meaning: str) -> Field:
    return Field(kind, sources, meaning)


FIELDS: dict[str, Field] = {
    # account.* — §1, §10, hit-and-run guard
    "account.ratio": _f("number", _ACC, "Ratio the tracker reports."),
    "account.ratio_over_floor": _f("number", _ACC, "Ratio minus ratio.floor (negative below the floor)."),
    "account.bonus_points": _f("number", _ACC, "Bonus points held."),
    "account.wedges": _f("number", _ACC, "Freeleech wedges held."),
    "account.auto_wedge": _f("bool", _ACC, "The site spends a wedge on every paid download (MAM_AUTO_WEDGE)."),
    "account.store_freeleech_refused": _f(
        "bool", _ACC, "The tracker refused personal freeleech via the bonus store for good; never sent again."
    ),
    "account.user_class": _f("str", _ACC, "User class name."),
    "account.is_vip": _f("bool", _ACC, "VIP time remains."),
    "account.vip_days_left": _f("number", _ACC, "Days of VIP left (0 when not VIP)."),
    "account.vip_renewal_points": _f("number", _ACC_STORE, "Points one VIP renewal costs."),
    "account.protected_points": _f("number", _ACC_STORE, "VIP renewal + reserve: never spent on anything else."),
    "account.points_spendable": _f("number", _ACC_STORE, "Bonus points minus protected points (may be negative)."),
    "account.can_afford_renewal": _f("bool", _ACC_STORE, "Points cover the next VIP renewal."),
    "account.vip_weeks_affordable": _f("number", _ACC_STORE, "Largest VIP purchase within cap using all points."),
    "account.vip_weeks_from_surplus": _f("number", _ACC_STORE, "Largest VIP purchase within cap keeping the reserve."),
    "account.vip_at_cap": _f("bool", _ACC, "No VIP purchase fits under the cap."),
    "account.upload_gib_buyable": _f(
        "number",
        _ACC_STORE,
        "Upload credit GiB buyable from spendable points, in lots (0 when surplus_to_upload is off).",
    ),
    "account.planned_upload_gib": _f(
        "number",
        _ACC_STORE,
        "Upload credit GiB the points plan buys now (ratio under floor + margin ahead, or points overflowing the cap).",
    ),
    "account.download_headroom_gib": _f("number", _ACC, "GiB downloadable at full cost before ratio hits the floor."),
    "account.unsat_count": _f("number", _ACC, "Unsatisfied snatches."),
    "account.unsat_limit": _f("number", _ACC, "Unsatisfied limit of the class."),
    "account.unsat_headroom": _f("number", _ACC, "Limit minus count."),
    # events.* — §6, §10
    "events.freeleech_active": _f("bool", _EVT, "A site freeleech event is on."),
    "events.bonus_active": _f("bool", _EVT, "A bonus or multiplier event is on."),
    "events.holiday_active": _f("bool", _EVT, "A holiday event is on."),
    "events.any_active": _f("bool", _EVT, "Any event is on."),
    # state.* — what earlier cycles decided (the store)
    "state.downloads_frozen": _f("bool", _MEM, "The ratio freeze is in force."),
    "state.downloads_today": _f("number", _MEM, "Downloads started today."),
    "state.download_budget_today": _f("number", _EVT, "§6 budget for today, events included."),
    "state.points_spent_today": _f("number", _MEM, "Non-VIP points spent today."),
    "state.upload_slots": _f("number", _MEM, "Upload slots last set (unknown if never)."),
    "state.upload_slots_set": _f("bool", _MEM, "mamcrawler has set the upload slots before."),
    # candidate.* — the chosen release of one wanted book (§5, §7, §8, §9, §14)
    "candidate.release_id": _f("str", _CAND, "Release id."),
    "candidate.book_key": _f("str", _CAND, "Normalised title + first author."),
    "candidate.want_source": _f("str", _CAND, "Why the book is wanted (top10, wishlist, series_completion…)."),
    "candidate.is_free": _f("bool", _CAND, "Its freeleech holds for this account (VIP freeleech: VIP members only)."),
    "candidate.free_kind": _f("str", _CAND, "none, site_freeleech, vip_freeleech, personal_freeleech…"),
    "candidate.size_gib": _f("number", _CAND, "Size in GiB."),
    "candidate.seeders": _f("number", _CAND, "Seeders."),
    "candidate.leechers": _f("number", _CAND, "Leechers (demand)."),
    "candidate.bitrate_kbps": _f("number", _CAND, "Bitrate."),
    "candidate.has_free_alternative": _f("bool", _CAND, "A free release of the book passes the floor."),
    "candidate.paid_strictly_better": _f("bool", _CAND, "Chosen paid release is strictly better than every free one."),
    "candidate.library_has_book": _f("bool", _CAND, "The library holds an edition of the book."),
    "candidate.better_than_library": _f("bool", _CAND, "Strictly better than the library's edition (§5)."),
    "candidate.in_client": _f("bool", _CAND, "qBittorrent already has this book or release."),
    "candidate.release_in_client": _f("bool", _CAND, "qBittorrent already has the chosen release."),
    "candidate.better_than_client": _f(
        "bool", _CAND, "Strictly better than every edition of the book in qBittorrent (§16; true when none)."
    ),
    "candidate.already_bought": _f("bool", _CAND, "Personal freeleech already bought for it."),
    "candidate.pending": _f("bool", _CAND, "On the VIP pending list."),
    "candidate.group_missing_count": _f("number", _CAND, "Missing titles in its series/author group."),
    "candidate.pfl_points": _f("number", _CAND, "Points personal freeleech costs."),
    "candidate.points_left_after_pfl": _f(
        "number", _CAND | _ACC_STORE, "Spendable points (beyond renewal + reserve) left after buying it with points."
    ),
    "candidate.headroom_after_gib": _f("number", _CAND | _ACC, "Download headroom left after it at full cost."),
    "candidate.vip_only": _f("bool", _CAND, "A VIP-only torrent."),
    "candidate.free_for_account": _f(
        "bool", _CAND | _ACC, "Costs this account no ratio (free, personal, or VIP-free for a VIP member)."
    ),
    "candidate.wedge_gate": _f(
        "str",
        _CAND | _ACC,
        "What decides a wedge: spend, auto_wedge, auto_wedge_none_left, free_for_account, no_wedge, "
        "wedge_reserve, size_unknown, below_size_floor.",
    ),
    # torrent.* — one torrent in qBittorrent (§10)
    "torrent.hash": _f("str", _QB, "Info-hash."),
    "torrent.state": _f("str", _QB, "downloading, seeding, paused_upload, stalled_download…"),
    "torrent.complete": _f("bool", _QB, "Fully downloaded."),
    "torrent.downloading": _f("bool", _QB, "Still fetching data (active, stalled or queued)."),
    "torrent.seed_hours": _f("number", _QB, "Hours seeded."),
    "torrent.stalled_minutes": _f("number", _QB, "Minutes stalled (0 when not)."),
    "torrent.paused_by": _f(
        "str", _QB, "nobody, user (hold tag), mamcrawler, or share_limit (qBittorrent's ratio/seed-time stop)."
    ),
    "torrent.added_by_us": _f("bool", _QB, "mamcrawler added it."),
    "torrent.free": _f("bool", _QB, "Downloaded as freeleech."),
    "torrent.frozen_by_us": _f("bool", _QB, "Paused by the ratio freeze."),
    "torrent.earns_points": _f("bool", _QB, "Earns bonus points (unknown when not estimated)."),
    "torrent.adds_ratio": _f("bool", _QB, "Uploaded anything in the last 30 days (unknown if not tracked)."),
    "torrent.superior_edition_exists": _f("bool", _QB, "A strictly better edition of the book is known."),
    "torrent.superior_edition_seeding": _f("bool", _QB, "A strictly better edition is seeding."),
    "torrent.seeders": _f("number", _QB, "Seeders in the swarm."),
    "torrent.leechers": _f("number", _QB, "Leechers in the swarm."),
    "torrent.unsatisfied": _f("bool", _QB, "Not yet seeded the tracker's minimum (seeding.min_seed_hours)."),
    "torrent.seed_hours_missing": _f("number", _QB, "Hours still to seed for the minimum (0 when satisfied)."),
    "torrent.hnr_hours_to_act": _f(
        "number",
        _QB,
        "Inactive and unsatisfied: hours left to resume it and still make the minimum before its window ends "
        "(a hit-and-run after); unknown when active, satisfied or the snatch time is unknown.",
    ),
    # download.* — a finished download of ours, its audio scanned (§11, §13, §14, §16)
    "download.hash": _f("str", _DL, "Info-hash of the finished download."),
    "download.release_known": _f("bool", _DL, "The release it came from is listed this cycle."),
    "download.integrity_ok": _f("bool", _DL, "§13 files, decode and duration (within library tolerance) all pass."),
    "download.integrity_reason": _f("str", _DL, "ok, or why §13 failed (size_mismatch, undecodable, duration…)."),
    "download.library_has_book": _f("bool", _DL | _LIB, "The library already holds an edition of the book."),
    "download.better_than_library": _f("bool", _DL | _LIB, "Strictly better than the library's edition (§5)."),
    "download.narrator_heard": _f("str", _DL, "§11 who reads the opening (unknown when not detected)."),
    "download.narrator_matches": _f("bool", _DL, "The heard narrator is one the listing names."),
    # metadata.* — one field of one library item the §15 order would change
    "metadata.item_id": _f("str", _LIB, "Library item id."),
    "metadata.field": _f("str", _LIB, "title, authors, narrators, series, series_number, description…"),
    "metadata.source": _f(
        "str", _LIB, "§15 source of the new value: scan, provider, narrator_source, torrent, verified."
    ),
    "metadata.conflict": _f("bool", _LIB, "Sources disagreed on the field (the §15 order chose)."),
    "metadata.library_empty": _f("bool", _LIB, "The library has no value for the field yet."),
    # item.* — a library item whose book the library holds more than once (§14)
    "item.weaker_duplicate": _f("bool", _LIB, "Another item of the same book is the edition to keep (§5)."),
    "item.keep": _f("str", _LIB, "Id of the item of the same book to keep."),
}


def field_kind(path: str, declared_flags: frozenset[str]) -> Kind | None:
    """The kind of a fact path, or None when no such field exists."""
    if path.startswith("flags."):
        return "bool" if path.removeprefix("flags.") in declared_flags else None
    found = FIELDS.get(path)
    return found.kind if found else None


def namespaces_for(subject: str) -> frozenset[str]:
    """Namespaces a rule about ``subject`` may read."""
    shared = {"account", "events", "state", "flags"}
    if subject in ("candidate", "torrent", "download", "metadata", "item"):
        shared.add(subject)
    return frozenset(shared)
