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

from mamcrawler.app.jobs.category_sync import SyncResult, completion_sync, remember, weekly_sync
from mamcrawler.app.runtime.daemon import Daemon, JobSpec, single_instance
from mamcrawler.app.runtime.logs import configure_logging
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.app.web.api import ApiServer
from mamcrawler.errors import ConfigError, MamcrawlerError, PolicyError
from mamcrawler.facts import Source
from mamcrawler.sensors.metadata import SEEN_KEY

log = logging.getLogger("mamcrawler.run")


def run_cycle(services: Services, *, dry_run: bool) -> None:
    policy = services.keeper.refresh()
    live = not dry_run and services.board.autonomous()
    result = services.cycle.run(policy, services.sensors, now=services.clock(), dry_run=not live)
    metadata = services.metadata
    if live and metadata is not None and metadata.seen is not None:  # §2: these items are no longer new
        services.state.put(SEEN_KEY, metadata.seen, now=services.clock())
        metadata.seen = None
    services.board.publish(policy, result.snapshot, result.batch)  # §13/§14/§16 are decisions of the cycle


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


def run_metadata_job(services: Services, job: str, *, dry_run: bool) -> None:
    """§2 (``new``: with narrator detection on, a §14 full scan of the opening), §3
    (``weekly``) or §12 (``drift``): the metadata sensor reads the §15 sources for the job's
    items and one cycle decides each field change (``UpdateMetadata``), as any decision."""
    if services.metadata is None:
        return
    services.metadata.request(job)
    run_cycle(services, dry_run=dry_run)


def _jobs(services: Services, *, dry_run: bool) -> list[JobSpec]:
    schedule = services.keeper.current.schedule if services.keeper.current else None
    assert schedule is not None
    hour, minute = (int(x) for x in schedule.daily_check_time.split(":"))

    def cycle() -> None:
        if services.metadata is not None:
            services.metadata.request("new")  # §2: items that appeared since the last cycle
        run_cycle(services, dry_run=dry_run)

    def weekly() -> None:
        run_weekly_sync(services)
        run_metadata_job(services, "weekly", dry_run=dry_run)  # §3, within the weekly cycle

    def drift() -> None:
        run_metadata_job(services, "drift", dry_run=dry_run)  # §12

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
                if services.metadata is not None:
                    services.metadata.request("new")  # §2, as the monitor job does
                run_cycle(services, dry_run=dry_run)
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
