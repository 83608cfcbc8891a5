"""Wiring: settings → the store, adapters, sensors, executor and cycle of one process.

Each service gets its own client and session (no cookie or header ever crosses between
them). Features whose settings are missing are left out with a warning naming the
``KEY=`` lines to add; their facts are then gaps and the rules that need them do not
act. Imports every layer below ``app``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamcrawler.actuators.files import FolderTorrentFiles
from mamcrawler.actuators.live import LiveExecutor
from mamcrawler.actuators.ports import TorrentFiles
from mamcrawler.actuators.reconcile import Settled, reconcile
from mamcrawler.actuators.wedges import RefusalAwareStore, WedgeDownloads
from mamcrawler.adapters.audio import NarratorDetector, NarratorGuess
from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.mam import MamClient
from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.jobs.library_flow import PostDownload
from mamcrawler.app.jobs.metadata_jobs import verified_fields
from mamcrawler.app.runtime.cycle import Cycle
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper, PolicyTests
from mamcrawler.app.runtime.settings import Settings, missing_for
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine.policy.cases import policy_test_problems
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.facts import LibraryItem, Source
from mamcrawler.sensors.facts_file import read_facts_file
from mamcrawler.sensors.sources import FunctionSensor, QbitSensor, Sensor
from mamcrawler.sensors.tracker import tracker_sensors
from mamcrawler.store import ActionJournal, Database, StateStore, StoredCookie
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
    post_download: PostDownload | None = None
    audnexus: AudnexusClient | None = None
    goodreads: GoodreadsClient | None = None

    def reconcile(self) -> list[Settled]:
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
        sensors.extend(tracker_sensors(mam, state, clock, prowlarr=prowlarr, auto_wedge=settings.mam_auto_wedge))
    else:
        log.warning("tracker not configured; add MAM_ID= (the session cookie) to use it")
    library = None
    if not missing_for(settings, "audiobookshelf"):
        assert settings.abs_url and settings.abs_token
        library = AbsClient(settings.abs_url, settings.abs_token.get_secret_value(), proxy=settings.abs_proxy)
        sensors.append(FunctionSensor(Source.LIBRARY, lambda: library_facts(library, state), origin="audiobookshelf"))
    else:
        log.warning(
            "Audiobookshelf not configured; add %s", " ".join(f"{k}=" for k in missing_for(settings, "audiobookshelf"))
        )
    post_download = None
    if qbit is not None:
        post_download = PostDownload(
            qbit,
            state,
            library,
            holding_dir=settings.holding_dir,
            clock=clock,
            narrator=narrator_detector() if settings.narrator_detection else None,
        )
    files: TorrentFiles | None = None
    if settings.torrent_dir:
        files = FolderTorrentFiles(Path(settings.torrent_dir))
    elif mam is not None:
        files = WedgeDownloads(mam, TrackerAccountMemory(state), flag=settings.mam_wedge_flag, clock=clock)
    store = RefusalAwareStore(mam, TrackerAccountMemory(state), clock) if mam is not None else None
    executor = LiveExecutor(journal, state, torrents=qbit, files=files, store=store, clock=clock)
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
        StatusBoard(state),
        qbit,
        sensors,
        clock,
        tracker=mam,
        prowlarr=prowlarr,
        library=library,
        post_download=post_download,
        audnexus=AudnexusClient(settings.audnexus_url) if settings.audnexus_url and library else None,
        goodreads=GoodreadsClient(settings.goodreads_url) if settings.goodreads_url and library else None,
    )
