"""Wiring: settings → the store, adapters, sensors, executor and cycle of one process.

Each service gets its own client and session (no cookie or header ever crosses between
them). Features whose settings are missing are left out with a warning naming the
``KEY=`` lines to add; their facts are then gaps and the rules that need them do not
act. Imports every layer below ``app``."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamcrawler.actuators.files import FolderTorrentFiles, TrackerTorrentFiles
from mamcrawler.actuators.library import LibraryActuator
from mamcrawler.actuators.live import LiveExecutor
from mamcrawler.actuators.ports import TorrentFiles
from mamcrawler.actuators.reconcile import Settled, reconcile
from mamcrawler.actuators.swap import FileSwapper
from mamcrawler.adapters.audio import NarratorDetector, NarratorGuess, decoded_seconds, match_narrator
from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.mam import MamClient
from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.runtime.cycle import Cycle
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper, PolicyTests
from mamcrawler.app.runtime.settings import Settings, missing_for
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine.policy.cases import policy_test_problems
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.errors import MamcrawlerError
from mamcrawler.facts import LibraryItem, Source
from mamcrawler.sensors.audio import AudioSensor
from mamcrawler.sensors.facts_file import read_facts_file
from mamcrawler.sensors.metadata import (
    FullScanReader,
    MetadataSensor,
    NarratorLookup,
    ProviderLookup,
    audnexus_lookups,
    goodreads_provider,
    verified_fields,
)
from mamcrawler.sensors.sources import FunctionSensor, QbitSensor, Sensor
from mamcrawler.sensors.tracker import tracker_sensors
from mamcrawler.store import ActionJournal, Database, StateStore, StoredCookie

log = logging.getLogger("mamcrawler.wiring")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    db: Database
    state: StateStore
    journal: ActionJournal
    executor: LiveExecutor
    cycle: Cycle
    keeper: PolicyKeeper
    board: StatusBoard
    qbit: QbitClient | None
    sensors: list[Sensor] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now
    tracker: MamClient | None = None
    prowlarr: ProwlarrClient | None = None
    library: AbsClient | None = None
    swapper: FileSwapper | None = None
    metadata: MetadataSensor | None = None
    audnexus: AudnexusClient | None = None
    goodreads: GoodreadsClient | None = None

    def reconcile(self) -> list[Settled]:
        if self.swapper is not None:
            for swap_id, outcome in self.swapper.recover():  # an interrupted file swap: finished or rolled back
                log.warning("library swap %s interrupted by a stop: %s", swap_id, outcome)
        return reconcile(self.journal, torrents=self.qbit, store=self.tracker, clock=self.clock)

    def close(self) -> None:
        if self.qbit is not None:
            self.qbit.close()
        for client in (self.tracker, self.prowlarr, self.library, self.audnexus, self.goodreads):
            if client is not None:
                client.close()
        self.db.dispose()


def library_facts(library: AbsClient, state: StateStore) -> dict[str, Any]:
    """Every book item of every library, with the fields mamcrawler has verified."""
    items: list[LibraryItem] = []
    for lib in library.libraries():
        found = library.items(lib.id)
        for reason in found.skipped:
            log.warning("audiobookshelf item skipped: %s", reason)
        items.extend(item.fact for item in found.items)
    return {"library": tuple(verified_fields(items, state))}


def narrator_detector() -> Callable[[Path, Sequence[str]], NarratorGuess]:
    detector = NarratorDetector()
    return lambda audio, candidates: detector.detect(audio, candidates)


def library_listing(library: AbsClient) -> Callable[[], list[tuple[LibraryItem, list[Path], str | None]]]:
    """Every book item with its audio files on disk and its ASIN (for the metadata sensor)."""

    def listing() -> list[tuple[LibraryItem, list[Path], str | None]]:
        out = []
        for lib in library.libraries():
            for item in library.items(lib.id).items:
                audio = [Path(f.path) for f in item.audio_files if Path(f.path).is_file()]
                out.append((item.fact, audio, item.asin))
        return out

    return listing


def metadata_lookups(
    audnexus: AudnexusClient | None, goodreads: GoodreadsClient | None
) -> Callable[[Mapping[str, str]], tuple[ProviderLookup | None, NarratorLookup | None]]:
    """§15 sources: Goodreads as the provider, the Audible-style source as fallback and narrator source."""

    def lookups(asins: Mapping[str, str]) -> tuple[ProviderLookup | None, NarratorLookup | None]:
        provider: ProviderLookup | None = None
        narrators: NarratorLookup | None = None
        if audnexus is not None:
            provider, narrators = audnexus_lookups(audnexus, asins)
        if goodreads is not None:
            provider = goodreads_provider(goodreads, provider)
        return provider, narrators

    return lookups


def full_scan_reader() -> FullScanReader:
    detector = NarratorDetector()
    return FullScanReader(
        lambda audio: detector.transcribe(audio, window_seconds=60),
        lambda transcript, names: match_narrator(transcript, names).name,
    )


def decodes(path: Path) -> str | None:
    """§13 check of a copied file: some audio decodes from it (None when it does)."""
    try:
        return None if decoded_seconds(path) > 0 else "nothing decodes"
    except (OSError, MamcrawlerError) as err:
        return f"decode failed: {err}"


def narrator_names(board: StatusBoard) -> Callable[[str | None], Sequence[str]]:
    """§11 candidates for a book: narrators its listings and the library's copy name (last cycle)."""

    def names(book: str | None) -> Sequence[str]:
        snapshot = board.snapshot
        if snapshot is None or book is None:
            return ()
        found = [n for r in snapshot.releases if r.book_key == book for n in r.narrators]
        found += [n for i in snapshot.library if i.book_key == book for n in i.narrators]
        return tuple(dict.fromkeys(found))

    return names


def build_services(
    settings: Settings, *, policy_tests: PolicyTests | None = None, clock: Callable[[], datetime] = utc_now
) -> Services:
    db = Database(settings.database_url)
    state, journal = StateStore(db), ActionJournal(db)
    qbit = None
    sensors: list[Sensor] = []
    if missing_for(settings, "qbittorrent"):
        log.warning(
            "qBittorrent not configured; add %s", " ".join(f"{k}=" for k in missing_for(settings, "qbittorrent"))
        )
    else:
        assert settings.qbit_url and settings.qbit_username and settings.qbit_password
        qbit = QbitClient(
            settings.qbit_url,
            settings.qbit_username,
            settings.qbit_password.get_secret_value(),
            timeout=settings.qbit_timeout_seconds,
            proxy=settings.qbit_proxy,
            clock=clock,
        )
        sensors.append(QbitSensor(qbit, state, journal))
    if settings.facts_file is not None:
        facts_path = Path(settings.facts_file)
        sensors.append(FunctionSensor(Source.TRACKER_ACCOUNT, lambda: read_facts_file(facts_path), origin="facts file"))
    mam, prowlarr = None, None
    if settings.mam_id is not None and settings.mam_id.get_secret_value():
        mam = MamClient(
            settings.mam_base_url,
            settings.mam_id.get_secret_value(),
            cookies=StoredCookie(state, clock),
            proxy=settings.mam_proxy,
        )
        if not missing_for(settings, "prowlarr"):
            assert settings.prowlarr_url and settings.prowlarr_api_key
            prowlarr = ProwlarrClient(
                settings.prowlarr_url, settings.prowlarr_api_key.get_secret_value(), proxy=settings.prowlarr_proxy
            )
        sensors.extend(tracker_sensors(mam, state, clock, prowlarr=prowlarr))
    else:
        log.warning("tracker not configured; add MAM_ID= (the session cookie) to use it")
    library = None
    audnexus, goodreads, metadata = None, None, None
    if not missing_for(settings, "audiobookshelf"):
        assert settings.abs_url and settings.abs_token
        library = AbsClient(settings.abs_url, settings.abs_token.get_secret_value(), proxy=settings.abs_proxy)
        sensors.append(FunctionSensor(Source.LIBRARY, lambda: library_facts(library, state), origin="audiobookshelf"))
        audnexus = AudnexusClient(settings.audnexus_url) if settings.audnexus_url else None
        goodreads = GoodreadsClient(settings.goodreads_url) if settings.goodreads_url else None
        metadata = MetadataSensor(
            library_listing(library),
            state,
            lookups=metadata_lookups(audnexus, goodreads),
            scanner=full_scan_reader() if settings.narrator_detection else None,
        )
        sensors.append(metadata)
    else:
        log.warning(
            "Audiobookshelf not configured; add %s", " ".join(f"{k}=" for k in missing_for(settings, "audiobookshelf"))
        )
    board = StatusBoard(state)
    if qbit is not None:  # §13/§11 on finished downloads: facts for the library policy
        narrator = narrator_detector() if settings.narrator_detection else None
        sensors.append(AudioSensor(qbit, state, journal, narrator=narrator, names=narrator_names(board)))
    swapper = FileSwapper(Path(settings.holding_dir), verify=decodes if shutil.which("ffmpeg") else None)
    library_actuator = LibraryActuator(state, swapper, library=library, torrents=qbit, clock=clock)
    files: TorrentFiles | None = None
    if settings.torrent_dir:
        files = FolderTorrentFiles(Path(settings.torrent_dir))
    elif mam is not None:
        files = TrackerTorrentFiles(mam)
    executor = LiveExecutor(
        journal, state, torrents=qbit, files=files, store=mam, library=library_actuator, clock=clock
    )
    cycle = Cycle(db, state, executor, evaluator_named(settings.evaluator), settings.journal_file, settings.secrets())
    keeper = PolicyKeeper(settings.policies_dir, policy_tests or policy_test_problems())
    return Services(
        settings,
        db,
        state,
        journal,
        executor,
        cycle,
        keeper,
        board,
        qbit,
        sensors,
        clock,
        tracker=mam,
        prowlarr=prowlarr,
        library=library,
        swapper=swapper,
        audnexus=audnexus,
        goodreads=goodreads,
        metadata=metadata,
    )
