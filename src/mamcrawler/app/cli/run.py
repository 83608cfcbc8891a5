"""``mamcrawler run [--dry-run] [--once]``: the daemon, or one monitor cycle.

Start-up order: settings (missing ones print the ``KEY=`` lines), logging with secrets
masked, the policy (must pass check and tests), the single-instance lock, then
reconciliation of any journal entry a crash left open — before anything new is sent.
Imports click and ``app``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
from fastapi import HTTPException

from mamcrawler.app.cli.apikey import api_key_of
from mamcrawler.app.cli.entry import STOP_REQUESTED
from mamcrawler.app.cli.startup import config_problems, policies_dir
from mamcrawler.app.jobs.category_sync import SyncResult, completion_sync, remember, weekly_sync
from mamcrawler.app.runtime.alerts import Alerts, AppriseNotifier, split_urls
from mamcrawler.app.runtime.cycle_words import cycle_table, verb
from mamcrawler.app.runtime.daemon import Daemon, JobSpec, single_instance
from mamcrawler.app.runtime.logs import KnownSecrets, configure_logging
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.app.web.api import WebContext, create_app
from mamcrawler.app.web.metrics import Metrics
from mamcrawler.app.web.security import allowed_hosts
from mamcrawler.app.web.server import WebServer
from mamcrawler.app.web.status import CycleInfo
from mamcrawler.errors import ConfigError, MamcrawlerError, PolicyError
from mamcrawler.facts import Source
from mamcrawler.sensors.metadata import SEEN_KEY

log = logging.getLogger("mamcrawler.run")


@dataclass
class Extras:
    """What ``run`` adds around each cycle: metrics, notifications, retention, one cycle at a time."""

    metrics: Metrics | None = None
    alerts: Alerts | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


EXTRAS = Extras()


def run_cycle(services: Services, *, dry_run: bool) -> None:
    with EXTRAS.lock:
        started = time.monotonic()
        policy = services.keeper.refresh()
        live = not dry_run and services.board.autonomous()
        result = services.cycle.run(policy, services.sensors, now=services.clock(), dry_run=not live)
        metadata = services.metadata
        if live and metadata is not None and metadata.seen is not None:  # §2: these items are no longer new
            services.state.put(SEEN_KEY, metadata.seen, now=services.clock())
            metadata.seen = None
        seconds = time.monotonic() - started
        services.board.publish(policy, result.snapshot, result.batch, CycleInfo(services.clock(), seconds, not live))
        board = services.board
        lines = cycle_table(result.batch, result.executions, lambda key: board.book(key)["title"])
        log.info(
            "cycle did %s%s",
            f"{len(lines)} thing(s):\n" + "\n".join(lines) if lines else "nothing",
            " (dry run)" if not live else "",
        )
        if EXTRAS.metrics is not None:
            EXTRAS.metrics.observe_cycle(seconds, result.snapshot.gaps, dry_run=not live)
        if EXTRAS.alerts is not None:
            EXTRAS.alerts.observe(
                result.snapshot,
                result.batch,
                result.executions,
                dry_run=dry_run,
                describe=lambda e: f"{verb(e.action.type)} {board.book(getattr(e.action, 'book_key', None))['title']}",
            )
        if board.decisions is not None:
            pruned = board.decisions.prune(now=services.clock(), keep_days=services.settings.decision_retention_days)
            if pruned:
                log.info(
                    "decision journal: %d records older than %d days removed",
                    pruned,
                    services.settings.decision_retention_days,
                )


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


def _jobs(services: Services, *, dry_run: bool, first_now: bool = False) -> list[JobSpec]:
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
        JobSpec(
            "monitor",
            "interval",
            {"minutes": schedule.monitor_minutes, **({"next_run_time": datetime.now(UTC)} if first_now else {})},
            cycle,
        ),
        JobSpec("daily_tracker_check", "cron", {"hour": hour, "minute": minute}, cycle),
        JobSpec("weekly", "cron", {"day_of_week": schedule.weekly_day, "hour": hour, "minute": minute}, weekly),
        JobSpec("monthly_drift", "interval", {"days": schedule.monthly_days}, drift),
    ]


def _import_old_journal(services: Services) -> None:
    """Once: a journal kept only as JSONL (before the store held it) is loaded into the store;
    broken lines are skipped with their line numbers logged."""
    decisions, export = services.board.decisions, services.settings.journal_file
    if decisions is None or not export.is_file() or decisions.count():
        return
    added, skipped = decisions.import_jsonl(export)
    log.info("decision journal: %d records imported from %s (%d unreadable lines skipped)", added, export, skipped)


def _quiet_third_parties() -> None:
    """Retry chatter and server internals stay out of the JSON log (errors still show)."""
    for name in ("urllib3", "qbittorrentapi", "uvicorn", "uvicorn.error", "uvicorn.access", "asyncio", "apprise"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _web(services: Services, daemon: Daemon | None) -> WebServer:
    settings = services.settings
    fixed = settings.api_key.get_secret_value() if settings.api_key else None
    key = api_key_of(fixed, settings.data_dir)
    extra = [h for h in settings.api_allowed_hosts.split(",") if h.strip()]

    def sync_now() -> str:
        scheduler = daemon.scheduler if daemon else None
        if scheduler is None or not scheduler.running:
            raise HTTPException(409, "the daemon is still starting; try again in a moment")
        scheduler.modify_job("monitor", next_run_time=datetime.now(UTC))
        return "a cycle starts now"

    def next_cycle() -> datetime | None:
        scheduler = daemon.scheduler if daemon else None
        if scheduler is None or not scheduler.running:
            return None
        times = [j.next_run_time for j in scheduler.get_jobs() if j.next_run_time is not None]
        return min(times) if times else None

    def states() -> dict[str, str]:
        snapshot = services.board.snapshot
        if snapshot is None:
            return {}
        out = {p.source.value: "ok" for p in snapshot.provenance}
        out.update({g.source.value: g.code for g in snapshot.gaps})
        return dict(sorted(out.items()))

    services.board.next_cycle = next_cycle
    tracker = services.tracker
    EXTRAS.metrics = Metrics(
        tracker_requests=lambda: sum(tracker.polite.per_day.values()) if tracker is not None else None
    )
    assert services.board.decisions is not None
    ctx = WebContext(
        board=services.board,
        decisions=services.board.decisions,
        clock=services.clock,
        api_key=key,
        hosts=allowed_hosts(settings.api_host, extra),
        secrets=services.secrets,  # live: grows with the rotated tracker cookie
        sync_now=sync_now if daemon is not None else None,
        metrics=EXTRAS.metrics,
        services=states,
    )
    return WebServer(create_app(ctx), host=settings.api_host, port=settings.api_port, api_key=key)


@click.command()
@click.option("--dry-run", is_flag=True, help="Journal planned actions; send nothing.")
@click.option("--once", is_flag=True, help="Run one monitor cycle and exit.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=Path(".env"), show_default=True)
@click.option("--no-api", is_flag=True, help="Do not serve the local HTTP API and dashboard.")
@click.pass_context
def run(ctx: click.Context, dry_run: bool, once: bool, env_file: Path, no_api: bool) -> None:
    """Run the daemon (or one cycle with --once)."""
    named = ctx.get_parameter_source("env_file") is not click.core.ParameterSource.DEFAULT
    if named and not env_file.exists():
        click.echo(f"error: --env-file {env_file} does not exist", err=True)
        sys.exit(2)
    try:
        settings = load_settings(env_file if env_file.exists() else None)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    missing, off = config_problems(settings)
    if missing:
        click.echo("error: settings are missing; add these lines to .env (or the environment):", err=True)
        for line in missing:
            click.echo(line, err=True)
        click.echo(f"features that stay off until then: {', '.join(off)}", err=True)
        sys.exit(2)
    policy_dir, why = policies_dir(settings)
    settings = settings.model_copy(update={"policies_dir": policy_dir})
    secrets = KnownSecrets(settings.secrets())  # grows with the rotated tracker cookie
    configure_logging(secrets, log_file=settings.log_file)
    _quiet_third_parties()
    log.info("policies from %s (%s)", policy_dir, why)
    if off:
        log.warning("features off (not configured): %s", ", ".join(off))
    daemon = None if once else Daemon(settings.database_url, [])
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d received: stopping after the running cycle", signum)
        stopping.set()
        if daemon is not None:
            daemon.stop_event.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if STOP_REQUESTED.is_set():  # a stop that came while the program was loading
        log.info("stopped before start-up finished")
        return
    services = build_services(settings, secrets=secrets)
    if settings.apprise_urls is not None and not dry_run:
        urls = split_urls(settings.apprise_urls.get_secret_value())
        if urls:
            EXTRAS.alerts = Alerts(
                AppriseNotifier(urls),
                services.state,
                clock=services.clock,
                quiet_hours=settings.quiet_hours,
                unreachable_cycles=settings.alert_unreachable_cycles,
            )
    _import_old_journal(services)
    try:
        services.keeper.load_initial()
    except PolicyError as err:
        click.echo("error: the policy does not pass its checks; nothing was started:", err=True)
        for issue in err.issues:
            click.echo(f"  {issue}", err=True)
        services.close()
        sys.exit(1)
    web: WebServer | None = None
    try:
        with single_instance(settings.lock_file):
            for settled in services.reconcile():
                log.info("reconciled %s: %s (%s)", settled.key, settled.status, settled.reason)
            if once:
                if services.metadata is not None:
                    services.metadata.request("new")  # §2, as the monitor job does
                run_cycle(services, dry_run=dry_run)
                blocked = [g for g in services.board.snapshot.gaps if g.critical] if services.board.snapshot else []
                for gap in blocked:
                    click.echo(f"error: {gap.source.value} blocked: {gap.message}", err=True)
                if blocked:
                    sys.exit(3)  # a critical block: a human must fix it (the message says what)
                return
            assert daemon is not None
            daemon.jobs = _jobs(services, dry_run=dry_run, first_now=True)
            if not no_api:
                web = _web(services, daemon)
                web.start()
                log.info("API and dashboard on http://%s:%d/ (API key: mamcrawler apikey)", *web.address)
            if not stopping.is_set():
                if services.tracker is not None:
                    log.info("first cycle starting: the tracker is read slowly (2–5 s between requests)")
                daemon.serve()  # the first cycle runs at once, then on schedule
    except MamcrawlerError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    finally:
        if web is not None:
            web.stop()
        services.close()
