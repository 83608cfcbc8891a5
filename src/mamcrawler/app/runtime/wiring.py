"""Wiring: settings → the store, adapters, sensors, executor and cycle of one process.

Each service gets its own client and session (no cookie or header ever crosses between
them). A service whose settings are missing is left out: its facts are a gap with code
``not_configured`` (never known-and-empty), the rules and jobs that need them hold back,
and one start-up warning says which features are off, why, and the ``KEY=`` lines to add.
Imports every layer below ``app``."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mamcrawler.actuators.files import FolderTorrentFiles
from mamcrawler.actuators.library import LibraryActuator
from mamcrawler.actuators.library_import import LibraryImport
from mamcrawler.actuators.live import LiveExecutor
from mamcrawler.actuators.ports import TorrentFiles
from mamcrawler.actuators.reconcile import Settled, reconcile
from mamcrawler.actuators.swap import FileSwapper
from mamcrawler.actuators.wedges import RefusalAwareStore, WedgeDownloads
from mamcrawler.adapters.audio import NarratorDetector, NarratorGuess, decoded_seconds, match_narrator
from mamcrawler.adapters.audiobookshelf import AbsClient, PathMap
from mamcrawler.adapters.mam import MamClient
from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.runtime.cycle import Cycle
from mamcrawler.app.runtime.logs import KnownSecrets, LearningCookies
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper, PolicyTests
from mamcrawler.app.runtime.settings import Settings, missing_for
from mamcrawler.app.runtime.whatif import PreLiveReplay
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine.policy.cases import policy_test_problems
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.errors import ConfigError, MamcrawlerError
from mamcrawler.facts import LibraryItem, Source
from mamcrawler.sensors.audio import AudioSensor
from mamcrawler.sensors.facts_file import read_facts_file
from mamcrawler.sensors.library import LibrarySensor, book_libraries
from mamcrawler.sensors.metadata import (
    FullScanReader,
    MetadataSensor,
    NarratorLookup,
    ProviderLookup,
    audnexus_lookups,
    goodreads_provider,
)
from mamcrawler.sensors.sources import FunctionSensor, NotConfigured, QbitSensor, Sensor
from mamcrawler.sensors.tracker import tracker_sensors
from mamcrawler.store import ActionJournal, Database, Recorder, StateStore, StoredCookie
from mamcrawler.store.decisions import DecisionStore
from mamcrawler.store.tracker_account import TrackerAccountMemory

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
    secrets: KnownSecrets = field(default_factory=KnownSecrets)
    features_off: list[str] = field(default_factory=list)

    def reconcile(self) -> list[Settled]:
        if self.swapper is not None:
            for swap_id, outcome in self.swapper.recover():  # an interrupted file swap: finished or rolled back
                log.warning("library swap %s interrupted by a stop: %s", swap_id, outcome)
        return reconcile(self.journal, state=self.state, torrents=self.qbit, store=self.tracker, clock=self.clock)

    def close(self) -> None:
        if self.qbit is not None:
            self.qbit.close()
        for client in (self.tracker, self.prowlarr, self.library, self.audnexus, self.goodreads):
            if client is not None:
                client.close()
        self.db.dispose()


def narrator_detector() -> Callable[[Path, Sequence[str]], NarratorGuess]:
    detector = NarratorDetector()
    return lambda audio, candidates: detector.detect(audio, candidates)


def library_listing(
    library: AbsClient, paths: PathMap
) -> Callable[[], list[tuple[LibraryItem, list[Path], str | None]]]:
    """Every book item with its audio files on this machine and its ASIN (for the metadata sensor)."""

    def listing() -> list[tuple[LibraryItem, list[Path], str | None]]:
        out = []
        for lib in book_libraries(library):
            for item in library.items(lib.id).items:
                folder = paths.local(item.path)  # ABS lists audio files relative to the item folder
                audio = [folder / f.path for f in item.audio_files if (folder / f.path).is_file()]
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


# what each service's absence turns off (the start-up message)
_NEEDS = {
    "qbittorrent": "downloads, seeding management, the ratio freeze and library imports",
    "tracker": "account checks, VIP and bonus-store purchases, searches and the weekly top-10",
    "audiobookshelf": "owned-book checks (so the downloads needing them), upgrades, the top-10 comparison, metadata",
    "prowlarr": "Prowlarr searches (the tracker's own search still runs)",
    "tracker_by_file": "live account reads, purchases and searches (the facts file supplies its facts)",
    "audiobookshelf_by_file": "upgrades and metadata jobs; owned-book checks too unless the facts file lists a library",
}


def _off(features_off: list[str], feature: str, service: str, keys: tuple[str, ...]) -> None:
    features_off.append(f"{service} not configured (add {' '.join(f'{k}=' for k in keys)}): {_NEEDS[feature]} off")


def build_services(
    settings: Settings,
    *,
    policy_tests: PolicyTests | None = None,
    clock: Callable[[], datetime] = utc_now,
    secrets: KnownSecrets | None = None,
) -> Services:
    secrets = secrets if secrets is not None else KnownSecrets(settings.secrets())
    db = Database(settings.database_url)
    state, journal = StateStore(db), ActionJournal(db)
    qbit = None
    sensors: list[Sensor] = []
    off: list[str] = []
    if missing_for(settings, "qbittorrent"):
        _off(off, "qbittorrent", "qBittorrent", missing_for(settings, "qbittorrent"))
        sensors.append(NotConfigured(Source.QBITTORRENT, "qBittorrent", missing_for(settings, "qbittorrent")))
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
        sensors.append(QbitSensor(qbit, state, journal, hold_tag=settings.qbit_hold_tag))
    if settings.facts_file is not None:
        facts_path = Path(settings.facts_file)
        sensors.append(FunctionSensor(Source.TRACKER_ACCOUNT, lambda: read_facts_file(facts_path), origin="facts file"))
    mam, prowlarr = None, None
    if settings.mam_id is not None and settings.mam_id.get_secret_value():
        mam = MamClient(
            settings.mam_base_url,
            settings.mam_id.get_secret_value(),
            cookies=LearningCookies(StoredCookie(state, clock), secrets),
            proxy=settings.mam_proxy,
        )
        if not missing_for(settings, "prowlarr"):
            assert settings.prowlarr_url and settings.prowlarr_api_key
            prowlarr = ProwlarrClient(
                settings.prowlarr_url, settings.prowlarr_api_key.get_secret_value(), proxy=settings.prowlarr_proxy
            )
        sensors.extend(tracker_sensors(mam, state, clock, prowlarr=prowlarr, auto_wedge=settings.mam_auto_wedge))
        if prowlarr is None:
            _off(off, "prowlarr", "Prowlarr", missing_for(settings, "prowlarr"))
    else:
        _off(off, "tracker" if settings.facts_file is None else "tracker_by_file", "the tracker", ("MAM_ID",))
        if settings.facts_file is None:  # a facts file stands in for the tracker (manual mode)
            for source in (Source.TRACKER_ACCOUNT, Source.TRACKER_STORE, Source.TRACKER_SEARCH, Source.TRACKER_RULES):
                sensors.append(NotConfigured(source, "the tracker", ("MAM_ID",)))
    try:
        paths = PathMap.parse(settings.abs_path_map)
    except ValueError as err:
        raise ConfigError(str(err), ("ABS_PATH_MAP",)) from None
    library = None
    audnexus, goodreads, metadata = None, None, None
    if not missing_for(settings, "audiobookshelf"):
        assert settings.abs_url and settings.abs_token
        library = AbsClient(settings.abs_url, settings.abs_token.get_secret_value(), proxy=settings.abs_proxy)
        sensors.append(LibrarySensor(library, state, clock()))
        audnexus = AudnexusClient(settings.audnexus_url) if settings.audnexus_url else None
        goodreads = GoodreadsClient(settings.goodreads_url) if settings.goodreads_url else None
        metadata = MetadataSensor(
            library_listing(library, paths),
            state,
            lookups=metadata_lookups(audnexus, goodreads),
            scanner=full_scan_reader() if settings.narrator_detection else None,
        )
        sensors.append(metadata)
    else:
        feature = "audiobookshelf" if settings.facts_file is None else "audiobookshelf_by_file"
        _off(off, feature, "Audiobookshelf", missing_for(settings, "audiobookshelf"))
        sensors.append(NotConfigured(Source.LIBRARY, "Audiobookshelf", missing_for(settings, "audiobookshelf")))
    if off:
        log.warning("features off: %s", "; ".join(off))
    board = StatusBoard(state, decisions=DecisionStore(db))
    importer = None
    if qbit is not None:  # §13/§11 on finished downloads: facts for the library policy
        narrator = narrator_detector() if settings.narrator_detection else None
        sensors.append(AudioSensor(qbit, state, journal, narrator=narrator, names=narrator_names(board)))
        if library is not None and settings.import_new_books:
            importer = LibraryImport(
                library,
                state,
                clock,
                library_id=settings.abs_library_id or None,
                paths=paths,
                wait_seconds=settings.import_wait_seconds,
            )
    swapper = FileSwapper(Path(settings.holding_dir), verify=decodes if shutil.which("ffmpeg") else None)
    library_actuator = LibraryActuator(
        state, swapper, library=library, torrents=qbit, clock=clock, importer=importer, paths=paths
    )
    files: TorrentFiles | None = None
    if settings.torrent_dir:
        files = FolderTorrentFiles(Path(settings.torrent_dir))
    elif mam is not None:
        files = WedgeDownloads(mam, TrackerAccountMemory(state), flag=settings.mam_wedge_flag, clock=clock)
    store = RefusalAwareStore(mam, TrackerAccountMemory(state), clock) if mam is not None else None
    executor = LiveExecutor(
        journal, state, torrents=qbit, files=files, store=store, library=library_actuator, clock=clock
    )
    cycle = Cycle(db, state, executor, evaluator_named(settings.evaluator), settings.journal_file, secrets)
    cycle.recorder = Recorder(db, settings.record_days)
    keeper = PolicyKeeper(settings.policies_dir, policy_tests or policy_test_problems())
    board = StatusBoard(state, decisions=DecisionStore(db))
    keeper.state, keeper.clock = state, clock
    keeper.replay_check = PreLiveReplay(db, clock, report=board.set_policy_replay)
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
        secrets=secrets,
        features_off=off,
    )
