"""Wanted books → candidate rows: every book that is wanted (wishlist, top-10, VIP
pending, completion) or already in the library, with the one release §5/§7 selection
chose and how it compares with the library's copy (§14). Pure; imports ``facts`` and
sibling engine modules."""

from __future__ import annotations

from collections import defaultdict

from mamcrawler.engine.books.ladder import LadderKey
from mamcrawler.engine.books.selection import NoSelection, select_release
from mamcrawler.engine.economy.wedge import candidate_fields as wedge_fields
from mamcrawler.engine.economy.wedge import listed_free, vip_member_in
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.engine.world.completion import completion_wants
from mamcrawler.engine.world.derive import GIB, Candidate, Prices, Skipped
from mamcrawler.facts import FactSnapshot, LibraryItem, Release, Source, Torrent, Want, WantSource

_WANT_ORDER = {s: i for i, s in enumerate(WantSource)}


class _Client:
    """What qBittorrent holds, by book and by release, in one pass over its torrents; the
    ladder key of a book's editions only for the books asked about (most held books are
    not wanted in a given cycle)."""

    def __init__(self, policy: Policy, snapshot: FactSnapshot) -> None:
        self._policy, self._snapshot = policy, snapshot
        self.by_book: dict[str, list[Torrent]] = defaultdict(list)
        self.releases: set[str] = set()
        for t in snapshot.torrents:
            if t.book_key:
                self.by_book[t.book_key].append(t)
            if t.release_id:
                self.releases.add(t.release_id)
        self._lookups: tuple[dict[str, Release], dict[str, LibraryItem]] | None = None

    def editions(self, book_key: str) -> list[LadderKey | None]:
        """The ladder key of each edition of the book the client holds (None: quality unknown)."""
        held = self.by_book.get(book_key)
        if not held:
            return []
        if self._lookups is None:
            snapshot = self._snapshot
            self._lookups = (
                {r.id: r for r in snapshot.releases},
                {i.torrent_hash: i for i in snapshot.library if i.torrent_hash},
            )
        releases, library_by_hash = self._lookups
        ladder = self._policy.ladder
        out: list[LadderKey | None] = []
        for t in held:
            if t.release_id and t.release_id in releases:
                out.append(ladder.key(releases[t.release_id]))
            elif t.hash in library_by_hash:
                out.append(ladder.key(library_by_hash[t.hash]))
            else:
                out.append(None)
        return out


def _wants(policy: Policy, snapshot: FactSnapshot, library_known: bool) -> tuple[list[Want], dict[str, int]]:
    wants: dict[str, Want] = {}
    for want in sorted(snapshot.wants, key=lambda w: (_WANT_ORDER[w.source], w.book_key)):
        wants.setdefault(want.book_key, want)
    missing: dict[str, int] = {}
    if library_known:
        owned = {i.book_key for i in snapshot.library}
        derived, missing = completion_wants(snapshot.library, snapshot.releases, owned | set(wants), policy.completion)
        for want in derived:
            wants.setdefault(want.book_key, want)
        for item in snapshot.library:
            # §16: an owned book is re-examined against every listing of it.
            wants.setdefault(
                item.book_key,
                Want(book_key=item.book_key, title=item.title, authors=item.authors, source=WantSource.WISHLIST),
            )
    return sorted(wants.values(), key=lambda w: (_WANT_ORDER[w.source], w.book_key)), missing


def build_candidates(
    policy: Policy,
    snapshot: FactSnapshot,
    shared: dict[str, Scalar | None],
    prices: Prices,
    gapped: frozenset[Source],
) -> tuple[tuple[Candidate, ...], tuple[Skipped, ...]]:
    library_known = Source.LIBRARY not in gapped
    client_known = Source.QBITTORRENT not in gapped
    releases_by_book: dict[str, list[Release]] = defaultdict(list)
    for release in snapshot.releases:
        releases_by_book[release.book_key].append(release)
    library = {i.book_key: i for i in snapshot.library} if library_known else {}
    client = _Client(policy, snapshot)
    in_client_books, in_client_releases = client.by_book, client.releases
    bought = set(snapshot.memory.bought_release_ids)
    pending = set(snapshot.memory.pending_release_ids)
    headroom = shared.get("account.download_headroom_gib")
    spendable = shared.get("account.points_spendable")
    wants, missing = _wants(policy, snapshot, library_known)
    ladder = policy.ladder  # §14/§16: more seeders never make an edition better
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for want in wants:
        listed = releases_by_book.get(want.book_key, [])
        if not listed:
            continue
        selection = select_release(listed, policy.quality, policy.free_first)
        if isinstance(selection, NoSelection):
            detail = "; ".join(f"{rid}: {why.detail}" for rid, why in selection.rejected)
            skipped.append(Skipped(want.book_key, selection.reason, detail))
            continue
        chosen = selection.chosen
        item = library.get(want.book_key)
        item_key = ladder.key(item) if item else None
        size_gib = None if chosen.size_bytes is None else chosen.size_bytes / GIB
        held = client.editions(want.book_key)
        # §16: strictly better than every edition the client holds (unknown quality: not better)
        better_than_client = all(k is not None and ladder.better(selection.key, k) for k in held)
        own: dict[str, Scalar | None] = {
            "candidate.release_id": chosen.id,
            "candidate.book_key": want.book_key,
            "candidate.want_source": want.source.value,
            "candidate.is_free": listed_free(chosen, vip_member_in(shared)),  # VIP freeleech: VIP members only
            "candidate.free_kind": chosen.free.value,
            "candidate.size_gib": size_gib,
            "candidate.seeders": chosen.seeders,
            "candidate.leechers": chosen.leechers,
            "candidate.bitrate_kbps": chosen.bitrate_kbps,
            "candidate.has_free_alternative": selection.has_free_alternative,
            "candidate.paid_strictly_better": selection.paid_strictly_better,
            "candidate.library_has_book": (item is not None) if library_known else None,
            "candidate.better_than_library": (item_key is None or ladder.better(selection.key, item_key))
            if library_known
            else None,
            # §13: a re-download is of another release; the bad one may keep seeding meanwhile.
            "candidate.in_client": (
                chosen.id in in_client_releases
                or (want.source is not WantSource.INTEGRITY_REDOWNLOAD and want.book_key in in_client_books)
            )
            if client_known
            else None,
            "candidate.release_in_client": (chosen.id in in_client_releases) if client_known else None,
            "candidate.better_than_client": better_than_client if client_known else None,
            "candidate.already_bought": chosen.id in bought,
            "candidate.pending": chosen.id in pending,
            "candidate.group_missing_count": missing.get(want.book_key, 0),
            "candidate.pfl_points": prices.personal_freeleech,
            "candidate.points_left_after_pfl": None
            if spendable is None
            else float(spendable) - prices.personal_freeleech,
            "candidate.headroom_after_gib": None
            if headroom is None or size_gib is None
            else float(headroom) - size_gib,
            "candidate.vip_only": chosen.vip_only,
            **wedge_fields(chosen, shared, policy.free_first),
        }
        candidates.append(Candidate(want, selection, item, item_key, Row("candidate", want.book_key, own, shared)))
    return tuple(candidates), tuple(skipped)
