"""``mamcrawler run [--dry-run] [--once]``: the daemon, or one monitor cycle.

Start-up order: settings (missing ones print the ``KEY=`` lines), logging with secrets
masked, the policy (must pass check and tests), the single-instance lock, then
reconciliation of any journal entry a crash left open — before anything new is sent.
Imports click and ``app``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from mamcrawler.adapters.audio import NarratorDetector, match_narrator
from mamcrawler.app.jobs.category_sync import SyncResult, completion_sync, remember, weekly_sync
from mamcrawler.app.jobs.full_scan import FullScan
from mamcrawler.app.jobs.metadata_jobs import (
    MetadataRefresh,
    audnexus_lookups,
    goodreads_provider,
    items_for_job,
    verified_fields,
)
from mamcrawler.app.runtime.daemon import Daemon, JobSpec, single_instance
from mamcrawler.app.runtime.logs import configure_logging
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.app.web.api import ApiServer
from mamcrawler.errors import ConfigError, MamcrawlerError, PolicyError
from mamcrawler.facts import Source

log = logging.getLogger("mamcrawler.run")


def run_cycle(services: Services, *, dry_run: bool) -> None:
    policy = services.keeper.refresh()
    live = not dry_run and services.board.autonomous()
    result = services.cycle.run(policy, services.sensors, now=services.clock(), dry_run=not live)
    services.board.publish(policy, result.snapshot, result.batch)
    if live and services.post_download is not None:
        services.post_download.run(policy, result.snapshot)  # §13 → §14 → §16 for finished downloads


def run_weekly_sync(services: Services) -> SyncResult | None:
    """§4: every category searched, listings kept for the week, missing top-10 queued."""
    if services.tracker is None:
        log.warning("weekly category sync skipped: the tracker is not configured (MAM_ID=)")
        return None
    policy = services.keeper.refresh()
    snapshot = services.board.snapshot
    library = None
    if snapshot is not None and snapshot.gap_for(Source.LIBRARY) is None:
        library = {item.book_key for item in snapshot.library}
    now = services.clock()
    result = weekly_sync(
        services.tracker, policy.categories, library, now.date(), base_url=services.settings.mam_base_url
    )
    completion = completion_sync(
        services.tracker,
        snapshot.library if library is not None and snapshot else (),
        policy.completion,
        services.state,
        now,
    )
    remember(services.state, result, now, completion)
    log.info(
        "weekly sync: %d categories, %d listings, %d top-10 titles missing, %d failed",
        len(result.urls),
        len(result.releases),
        len(result.missing),
        len(result.failed),
    )
    return result


def run_metadata_job(services: Services, job: str) -> None:
    """§2 (``new``: a full §14 scan when narrator detection is on, else a provider refresh),
    §3 (``weekly``) or §12 (``drift``) over the Audiobookshelf library."""
    if services.library is None:
        return
    now = services.clock()
    found = {item.id: item for lib in services.library.libraries() for item in services.library.items(lib.id).items}
    provider, narrators = None, None
    if services.audnexus is not None:
        provider, narrators = audnexus_lookups(services.audnexus, {i.id: i.asin for i in found.values() if i.asin})
    if services.goodreads is not None:
        provider = goodreads_provider(services.goodreads, provider)
    facts = [i.fact for i in found.values()]
    chosen = verified_fields(items_for_job(job, facts, services.state, now), services.state)
    if job == "new" and services.settings.narrator_detection:
        detector = NarratorDetector()
        scanner = FullScan(
            services.library,
            services.state,
            services.clock,
            transcribe=lambda audio: detector.transcribe(audio, window_seconds=60),
            pick_narrator=lambda transcript, names: match_narrator(transcript, names).name,
            provider=provider,
            narrators=narrators,
        )
        policy = services.keeper.refresh()
        for item in chosen:
            audio = [Path(f.path) for f in found[item.id].audio_files if Path(f.path).is_file()]
            scanner.scan(policy, item, audio, facts)
        log.info("full scan of %d new items", len(chosen))
        return
    refreshed = MetadataRefresh(services.library, provider, narrators).run(chosen)
    changed = sum(1 for r in refreshed if r.changes)
    log.info("metadata %s: %d items looked at, %d updated", job, len(refreshed), changed)


def _jobs(services: Services, *, dry_run: bool) -> list[JobSpec]:
    schedule = services.keeper.current.schedule if services.keeper.current else None
    assert schedule is not None
    hour, minute = (int(x) for x in schedule.daily_check_time.split(":"))

    def cycle() -> None:
        run_cycle(services, dry_run=dry_run)
        if not dry_run:
            run_metadata_job(services, "new")  # §2: items that appeared since the last cycle

    def weekly() -> None:
        run_weekly_sync(services)
        run_cycle(services, dry_run=dry_run)
        if not dry_run:
            run_metadata_job(services, "weekly")  # §3

    def drift() -> None:
        if not dry_run:
            run_metadata_job(services, "drift")  # §12

    return [
        JobSpec("monitor", "interval", {"minutes": schedule.monitor_minutes}, cycle),
        JobSpec("daily_tracker_check", "cron", {"hour": hour, "minute": minute}, cycle),
        JobSpec("weekly", "cron", {"day_of_week": schedule.weekly_day, "hour": hour, "minute": minute}, weekly),
        JobSpec("monthly_drift", "interval", {"days": schedule.monthly_days}, drift),
    ]


@click.command()
@click.option("--dry-run", is_flag=True, help="Journal planned actions; send nothing.")
@click.option("--once", is_flag=True, help="Run one monitor cycle and exit.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=Path(".env"), show_default=True)
@click.option("--no-api", is_flag=True, help="Do not serve the local HTTP API and dashboard.")
def run(dry_run: bool, once: bool, env_file: Path, no_api: bool) -> None:
    """Run the daemon (or one cycle with --once)."""
    try:
        settings = load_settings(env_file)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    configure_logging(settings.secrets())
    services = build_services(settings)
    try:
        services.keeper.load_initial()
    except PolicyError as err:
        click.echo("error: the policy does not pass its checks; nothing was started:", err=True)
        for issue in err.issues:
            click.echo(f"  {issue}", err=True)
        services.close()
        sys.exit(1)
    try:
        with single_instance(settings.lock_file):
            for settled in services.reconcile():
                log.info("reconciled %s: %s (%s)", settled.key, settled.status, settled.reason)
            if once:
                run_cycle(services, dry_run=dry_run)
                blocked = [g for g in services.board.snapshot.gaps if g.critical] if services.board.snapshot else []
                for gap in blocked:
                    click.echo(f"error: {gap.source.value} blocked: {gap.message}", err=True)
                if blocked:
                    sys.exit(3)  # a critical block: a human must fix it (the message says what)
                return
            api = None
            if not no_api:
                api = ApiServer(
                    services.board,
                    host=settings.api_host,
                    port=settings.api_port,
                    journal_file=settings.journal_file,
                    secrets=settings.secrets(),
                    clock=services.clock,
                )
                api.start()
                log.info("API and dashboard on http://%s:%d/", *api.address)
            run_cycle(services, dry_run=dry_run)  # one cycle at start, then on schedule
            try:
                Daemon(settings.database_url, _jobs(services, dry_run=dry_run)).serve()
            finally:
                if api is not None:
                    api.stop()
    except MamcrawlerError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    finally:
        services.close()
