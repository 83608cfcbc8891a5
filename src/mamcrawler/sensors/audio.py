"""The audio sensor: finished downloads of mamcrawler's → ``AudioScan`` facts (§13, §11).

For every torrent mamcrawler added that qBittorrent reports complete and whose decision
has not been carried out yet (the store's ``post_download_done`` list), it measures: the
files against the torrent's own file list and a full decode of each (§13; the runtime is
judged by the engine against the listing), and — when narrator detection is on — who
reads the opening among the names the tracker and the library give (§11). Each download
is measured once per process. It reads only: nothing is moved, written or sent; what
follows is decided by the library policy. Imports the audio adapter, ``facts``, ``store``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from mamcrawler.adapters.audio import AUDIO_SUFFIXES, NarratorGuess, check_integrity
from mamcrawler.errors import ServiceError
from mamcrawler.facts import AudioScan, FactGap, Source
from mamcrawler.sensors.sources import Reading
from mamcrawler.store import POST_DOWNLOAD_DONE, StateStore

log = logging.getLogger("mamcrawler.sensors.audio")

NarratorDetect = Callable[[Path, Sequence[str]], NarratorGuess]


class AudioSensor:
    source = Source.AUDIO

    def __init__(
        self,
        torrents: Any,
        state: StateStore,
        journal: Any,
        *,
        narrator: NarratorDetect | None = None,
        names: Callable[[str | None], Sequence[str]] = lambda _book: (),
    ) -> None:
        self.torrents, self.state, self.journal = torrents, state, journal
        self.narrator, self.names = narrator, names
        self._measured: dict[str, AudioScan] = {}

    def sense(self, now: datetime) -> Reading:
        try:
            finished = self._finished()
            scans = tuple(self._scan(h, book) for h, book in finished)
        except ServiceError as err:
            log.warning("audio scan postponed: %s", err.code)
            return Reading(self.source, gap=FactGap(source=self.source, code=err.code, message=str(err), since=now))
        return Reading(self.source, {"scans": scans}, origin="audio sensor")

    def _finished(self) -> list[tuple[str, str | None]]:
        done = {str(entry["key"]) for entry in self.state.list_items(POST_DOWNLOAD_DONE)}
        ours: dict[str, str | None] = {}
        for entry in self.journal.entries(action_type="AddTorrent"):
            if entry.status == "applied" and entry.outcome and "hash" in entry.outcome:
                ours[str(entry.outcome["hash"])] = getattr(entry.action, "book_key", None)
        out = []
        for t in self.torrents.torrent_facts():
            if t.progress >= 1.0 and t.hash not in done and (t.hash in ours or "mamcrawler" in t.tags):
                out.append((t.hash, ours.get(t.hash)))
        return sorted(out)

    def _scan(self, info_hash: str, book: str | None) -> AudioScan:
        if info_hash in self._measured:
            return self._measured[info_hash]
        save_path, files = self.torrents.content(info_hash)
        paths = [save_path / name for name, _ in files]
        report = check_integrity(paths, expected_files=files, expected_seconds=None)
        scan = AudioScan(
            torrent_hash=info_hash,
            integrity_ok=report.ok,
            integrity_reason=report.reason,
            decoded_seconds=round(report.decoded_seconds, 3),
        )
        audio = [p for p in paths if p.suffix.lower() in AUDIO_SUFFIXES]
        candidates = list(dict.fromkeys(self.names(book)))
        if report.ok and self.narrator is not None and audio and candidates:
            try:
                guess = self.narrator(audio[0], candidates)
                scan = scan.model_copy(update={"narrator": guess.name, "narrator_confidence": guess.confidence})
            except ServiceError as err:
                log.warning("narrator detection failed for %s: %s", info_hash[:12], err.code)
        self._measured[info_hash] = scan
        log.info("scanned download %s: %s", info_hash[:12], report.reason)
        return scan
