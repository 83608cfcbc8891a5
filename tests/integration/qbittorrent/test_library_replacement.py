"""§14/§16 end to end with real audio files: the real Audiobookshelf server (a library over
``Author/Title`` folders it scans itself, bitrates measured from the files), a real leeching
qbittorrent-nox that also seeds the library's old (inferior) edition, and a real seeder.

- A strictly better edition is decided (ReplaceEdition + AddTorrent), downloaded, checked
  (§13, full decode) and swapped into the library item's folder; the old files move to the
  holding folder (nothing deleted), the item is rescanned, the library read back from the
  server shows the new edition once (same item, no duplicate), and the inferior torrent
  keeps seeding.
- A worse edition or a same-quality edition read by another narrator is never downloaded.
- A finished download that turns out no better than the library's copy (the library got a
  better one meanwhile) is refused: it never enters the listening library."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from abs_server import AbsServer
from click.testing import CliRunner
from qbit_env import Book, Qbit, make_torrent

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from recording_proxy import ProxyState, recording_proxy

from mamcrawler.adapters.audio import decoded_seconds
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.cli.main import main
from mamcrawler.app.cli.run import run_cycle
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.engine import read_journal
from mamcrawler.facts import TorrentState
from mamcrawler.store import POST_DOWNLOAD_DONE as PROCESSED

pytestmark = [pytest.mark.integration, pytest.mark.slow]
POLICIES = Path(__file__).resolve().parents[3] / "policies"
SEEDING = (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)
AUTHOR, READER = "Author", "Test Reader"


def edition(source: Path, out: Path, *, kbps: int, title: str, chapters: int = 2) -> Path:
    """``source`` re-encoded at ``kbps`` (44.1 kHz, so 128-192 kbps are real MPEG-1 rates) with
    the ID3 tags Audiobookshelf reads — album/title, artist (author), composer (narrator) —
    and ``chapters`` equal chapter marks (ID3 CHAP frames; Audiobookshelf reports ``[]`` for
    an MP3 without them, as most single-file audiobooks in a library have them)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tags = {"album": title, "title": title, "artist": AUTHOR, "composer": READER}
    meta = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
    marks = ["-map", "0:a"]
    if chapters:
        millis = round(decoded_seconds(source) * 1000)
        step = millis // chapters
        lines = [";FFMETADATA1"]
        for n in range(chapters):
            end = millis if n == chapters - 1 else (n + 1) * step
            lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={n * step}", f"END={end}", f"title=Chapter {n + 1}"]
        chapter_file = out.with_suffix(".ffmeta")
        chapter_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        marks = ["-i", str(chapter_file), "-map", "0:a", "-map_chapters", "1"]
    encoder = ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-id3v2_version", "3"]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *marks, *encoder, *meta, str(out)],
        check=True,
        capture_output=True,
    )
    out.with_suffix(".ffmeta").unlink(missing_ok=True)
    return out


@dataclass
class Library:
    services: Services
    abs: AbsServer
    library_id: str
    proxy: ProxyState
    base: Path
    facts: dict[str, Any]
    env: dict[str, str]
    old_hash: str = ""

    @property
    def root(self) -> Path:
        return self.base / "audiobooks"

    def folder(self, title: str) -> Path:
        return self.root / AUTHOR / title

    def items(self) -> list[dict[str, Any]]:
        """The library as the server has it now (expanded items)."""
        return [self.abs.item(i["id"]) for i in self.abs.items(self.library_id)]

    def item_id(self, title: str) -> str:
        return str(self.abs.item_at(self.library_id, self.folder(title))["id"])

    def sent(self, method: str, fragment: str) -> list[str]:
        """Paths of the requests mamcrawler sent to the server with ``method`` containing ``fragment``."""
        return [r.path for r in self.proxy.log if r.method == method and fragment in r.path]

    def offer(self, rid: str, book: Book, *, title: str, kbps: int, narrator: str = READER) -> None:
        (self.base / "torrents" / f"{rid}.torrent").write_bytes(book.data)
        self.facts["releases"].append(
            {
                "id": rid,
                "tracker_id": abs(hash(rid)) % 100000,
                "book_key": f"{title.lower()}|author",
                "title": title,
                "authors": [AUTHOR],
                "narrators": [narrator],
                "bitrate_kbps": kbps,
                "abridged": False,
                "single_file": True,
                "duration_seconds": round(decoded_seconds(book.path)),
                "size_bytes": book.path.stat().st_size,
                "seeders": 1,
                "leechers": 1,
                "free": "site_freeleech",
            }
        )
        (self.base / "facts.json").write_text(json.dumps(self.facts))

    def add_to_library(self, title: str, source: Path, *, kbps: int, name: str) -> Path:
        """A book the user put into the library meanwhile; the server scans it in."""
        out = edition(source, self.folder(title) / name, kbps=kbps, title=title)
        self.abs.scan(self.library_id)
        return out

    def planned(self) -> list[tuple[str, str]]:
        run_cycle(self.services, dry_run=False)
        batch = self.services.board.batch
        assert batch is not None
        return [(a.type, getattr(a, "release_id", "")) for a in batch.actions]


@pytest.fixture
def library(
    tmp_path: Path, leecher: tuple[Qbit, QbitClient], books: dict[str, Book], abs_server: AbsServer
) -> Iterator[Library]:
    qb, client = leecher
    base = tmp_path / "world"
    (base / "torrents").mkdir(parents=True)
    policies = base / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
    root = base / "audiobooks"
    # The library's Dune: an old 32 kbps edition, also seeding in qBittorrent from its own copy.
    old = edition(books["dune"].path, root / AUTHOR / "Dune" / "dune-old-edition.mp3", kbps=32, title="Dune")
    seed_dir = qb.downloads / "old"
    seed_dir.mkdir()
    shutil.copy2(old, seed_dir / old.name)
    data, old_hash = make_torrent(seed_dir / old.name, tracker=None)
    client._api.torrents_add(torrent_files=data, save_path=str(seed_dir), is_skip_checking=True)
    # The library's Emma: 128 kbps, better than the 64 kbps downloads offered.
    edition(books["emma"].path, root / AUTHOR / "Emma" / books["emma"].path.name, kbps=128, title="Emma")
    created = abs_server.create_library(f"Replacement {tmp_path.name}", root)
    library_id = str(created["id"])
    abs_server.scan(library_id)
    until = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    account = {
        "user_class": "VIP",
        "ratio": 2.0,
        "uploaded_bytes": 200 * 2**30,
        "downloaded_bytes": 100 * 2**30,
        "bonus_points": 3000,
        "vip_until": until,
        "unsatisfied_count": 0,
        "unsatisfied_limit": 150,
    }
    facts: dict[str, Any] = {"account": account, "releases": []}
    (base / "facts.json").write_text(json.dumps(facts))
    try:
        with recording_proxy() as (proxy_url, proxy):
            env = {
                "QBIT_URL": qb.url,
                "QBIT_USERNAME": qb.username,
                "QBIT_PASSWORD": qb.password,
                "ABS_URL": abs_server.url,
                "ABS_TOKEN": abs_server.api_key,
                "ABS_PROXY": proxy_url,
                "ABS_LIBRARY_ID": library_id,
                "AUDNEXUS_URL": "",  # no metadata provider in this test (and never the internet)
                "GOODREADS_URL": "",
                "MAMCRAWLER_DATABASE_URL": f"sqlite:///{base / 'store.sqlite'}",
                "MAMCRAWLER_POLICIES": str(policies),
                "MAMCRAWLER_JOURNAL": str(base / "decisions.jsonl"),
                "MAMCRAWLER_FACTS_FILE": str(base / "facts.json"),
                "MAMCRAWLER_TORRENT_DIR": str(base / "torrents"),
                "MAMCRAWLER_HOLDING_DIR": str(base / "holding"),
                "MAMCRAWLER_EVALUATOR": "reference",
                "MAMCRAWLER_LOCK": str(base / "mamcrawler.lock"),
            }
            services = build_services(Settings.model_validate(env))
            services.keeper.load_initial()
            try:
                yield Library(services, abs_server, library_id, proxy, base, facts, env, old_hash)
            finally:
                services.close()
    finally:
        abs_server.call("DELETE", f"/api/libraries/{library_id}")


def processed(library: Library, info_hash: str) -> dict[str, Any] | None:
    return next((e for e in library.services.state.list_items(PROCESSED) if e["key"] == info_hash), None)


def wait_seeding(client: QbitClient, info_hash: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        client.sync()
        states = {t.hash: t.state for t in client.torrent_facts()}
        if states.get(info_hash) in SEEDING:
            return
        assert time.monotonic() < deadline, f"{info_hash[:8]} is {states.get(info_hash)}"
        time.sleep(0.3)


def test_superior_edition_replaces_the_inferior_which_keeps_seeding(
    library: Library, leecher: tuple[Qbit, QbitClient], seeder: Qbit, books: dict[str, Book]
) -> None:
    _, client = leecher
    dune_id = library.item_id("Dune")
    library.offer("dune-128", books["dune"], title="Dune", kbps=128)
    library.offer("emma-64", books["hyperion"], title="Emma", kbps=64)  # worse than the library's Emma
    library.offer("emma-other-reader", books["solaris"], title="Emma", kbps=128, narrator="Other Reader")
    planned = library.planned()
    assert ("ReplaceEdition", "dune-128") in planned and ("AddTorrent", "dune-128") in planned
    assert not any(rid.startswith("emma") for _, rid in planned)  # never a worse or duplicate-narrator edition
    records = library.services.board.batch.records  # type: ignore[union-attr]
    assert any(r.subject_id == "emma|author" and r.reason == "duplicate_not_superior" for r in records)

    client.add_peers([books["dune"].info_hash], [seeder.peer])
    wait_seeding(client, books["dune"].info_hash)
    library.planned()  # the cycle that sees it finished runs §13 → §14 → §16

    folder = library.folder("Dune")
    assert sorted(p.name for p in folder.iterdir()) == [books["dune"].path.name]  # files swapped
    held = list((library.base / "holding" / dune_id).rglob("*.mp3"))
    assert [p.name for p in held] == ["dune-old-edition.mp3"]  # the old files left the library, not the disk
    assert f"/api/items/{dune_id}/scan" in library.sent("POST", "/scan")  # the item rescanned, not the library
    # the library, read back from the server: the new edition once, in the same item
    dunes = [i for i in library.items() if i["media"]["metadata"]["title"] == "Dune"]
    assert [i["id"] for i in dunes] == [dune_id]
    files = dunes[0]["media"]["audioFiles"]
    assert [f["metadata"]["filename"] for f in files] == [books["dune"].path.name]
    assert files[0]["bitRate"] > 48_000  # the server measured the new (64 kbps) file, not the old 32 kbps one
    assert not dunes[0].get("isMissing") and not dunes[0].get("isInvalid")
    for path in library.sent("PATCH", "/media"):
        assert path == f"/api/items/{dune_id}/media"
    metadata = dunes[0]["media"]["metadata"]
    assert metadata["authorName"] == AUTHOR and metadata["narratorName"] == READER  # nothing blanked
    wait_seeding(client, library.old_hash)
    done = processed(library, books["dune"].info_hash)
    assert done is not None and (done["outcome"], done["detail"]) == ("replaced", dune_id)


def test_a_finished_download_no_better_than_the_library_is_refused(
    library: Library, leecher: tuple[Qbit, QbitClient], seeder: Qbit, books: dict[str, Book]
) -> None:
    _, client = leecher
    library.offer("hyperion-96", books["hyperion"], title="Hyperion", kbps=96)
    assert ("AddTorrent", "hyperion-96") in library.planned()  # not in the library yet: wanted
    client.add_peers([books["hyperion"].info_hash], [seeder.peer])
    wait_seeding(client, books["hyperion"].info_hash)
    library.add_to_library("Hyperion", books["hyperion"].path, kbps=192, name="hyperion-best.mp3")
    folder = library.folder("Hyperion")
    library.planned()
    assert sorted(p.name for p in folder.iterdir()) == ["hyperion-best.mp3"]  # untouched
    done = processed(library, books["hyperion"].info_hash)
    assert done is not None and done["outcome"] == "refused_not_better"
    client.sync()
    assert books["hyperion"].info_hash in {t.hash for t in client.torrent_facts()}  # nothing deleted


def test_a_download_failing_integrity_is_re_downloaded_from_the_next_best_release(
    library: Library, leecher: tuple[Qbit, QbitClient], seeder: Qbit, books: dict[str, Book]
) -> None:
    _, client = leecher
    library.offer("solaris-bad", books["solaris"], title="Solaris", kbps=128)
    library.facts["releases"][-1]["duration_seconds"] *= 2  # the listing promises twice what decodes
    (library.base / "facts.json").write_text(json.dumps(library.facts))
    assert ("AddTorrent", "solaris-bad") in library.planned()
    client.add_peers([books["solaris"].info_hash], [seeder.peer])
    wait_seeding(client, books["solaris"].info_hash)
    library.offer("solaris-next", books["solaris"], title="Solaris", kbps=96)
    planned = library.planned()  # §13 fails on the finished download; the next cycle decides again
    done = processed(library, books["solaris"].info_hash)
    assert done is not None and (done["outcome"], done["detail"]) == ("integrity_failed", "duration_mismatch")
    assert [i["key"] for i in library.services.state.list_items("bad_releases")] == ["solaris-bad"]
    wants = {w.book_key: w.source.value for w in library.services.state.wants()}
    assert wants == {"solaris|author": "integrity_redownload"}
    planned = library.planned()
    assert ("AddTorrent", "solaris-bad") not in planned  # the bad release is never chosen again
    snapshot = library.services.board.snapshot
    assert snapshot is not None and "solaris-bad" not in {r.id for r in snapshot.releases}


def test_in_dry_run_library_and_metadata_work_is_recorded_and_nothing_is_moved_or_written(
    library: Library, leecher: tuple[Qbit, QbitClient], seeder: Qbit, books: dict[str, Book]
) -> None:
    """`mamcrawler run --dry-run --once` against the test services: the cycle that sees three
    finished downloads records a §16 swap (with its §15 metadata correction), a §14 refusal
    and a §13 failure, each with its rule and reason — and moves, sends and remembers nothing."""
    _, client = leecher
    library.offer("dune-128", books["dune"], title="Dune", kbps=128, narrator="Scott Brick")
    library.offer("hyperion-96", books["hyperion"], title="Hyperion", kbps=96)
    library.offer("solaris-bad", books["solaris"], title="Solaris", kbps=128)
    library.facts["releases"][-1]["duration_seconds"] *= 2  # the listing promises twice what decodes
    (library.base / "facts.json").write_text(json.dumps(library.facts))
    planned = library.planned()  # live: the three downloads are added
    assert {("AddTorrent", "dune-128"), ("AddTorrent", "hyperion-96"), ("AddTorrent", "solaris-bad")} <= set(planned)
    for name in ("dune", "hyperion", "solaris"):
        client.add_peers([books[name].info_hash], [seeder.peer])
    for name in ("dune", "hyperion", "solaris"):
        wait_seeding(client, books[name].info_hash)
    library.add_to_library("Hyperion", books["hyperion"].path, kbps=192, name="hyperion-best.mp3")
    folder = library.folder("Hyperion")
    dune = library.folder("Dune")
    before = sorted(p.name for p in dune.iterdir())
    items_before = library.items()
    sent_before = len(library.proxy.log)
    env_file = library.base / "dry.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in library.env.items()), encoding="utf-8")
    journal = library.base / "decisions.jsonl"
    lines_before = len(journal.read_text(encoding="utf-8").splitlines())

    result = CliRunner().invoke(main, ["run", "--dry-run", "--once", "--no-api", "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output

    records = read_journal(journal.read_text(encoding="utf-8").splitlines()[lines_before:])
    planned_now = {(r.rule_id, r.reason, a.type) for r in records if r.outcome == "planned" for a in r.actions}
    assert ("swap_in_better_download", "superior_edition_swapped_in", "SwapEdition") in planned_now
    assert ("refuse_inferior_download", "inferior_edition_refused", "RefuseEdition") in planned_now
    assert ("integrity_failed_redownload", "integrity_failed", "MarkReleaseBad") in planned_now
    assert ("correct_metadata", "metadata_corrected", "UpdateMetadata") in planned_now
    bad = next(r for r in records if r.rule_id == "integrity_failed_redownload")
    assert bad.facts["download.integrity_ok"] is False
    # nothing moved, sent or remembered
    assert sorted(p.name for p in dune.iterdir()) == before
    assert sorted(p.name for p in folder.iterdir()) == ["hyperion-best.mp3"]
    assert not list((library.base / "holding").rglob("*.mp3"))
    # the dry run's own client went to the server directly (ABS_PROXY is in the env file, so it
    # is recorded too): it read, and never scanned or patched
    dry = library.proxy.log[sent_before:]
    assert dry and not [r for r in dry if r.method in ("PATCH", "DELETE") or "/scan" in r.path or "watcher" in r.path]
    after = library.items()
    assert [(i["id"], i["media"]["metadata"], [f["ino"] for f in i["media"]["audioFiles"]]) for i in after] == [
        (i["id"], i["media"]["metadata"], [f["ino"] for f in i["media"]["audioFiles"]]) for i in items_before
    ]
    state = library.services.state
    assert state.list_items(PROCESSED) == [] and state.list_items("bad_releases") == []
    entries = [e for e in library.services.journal.entries() if e.action.type in ("SwapEdition", "UpdateMetadata")]
    assert entries and all(e.status == "planned_dry_run" for e in entries)
