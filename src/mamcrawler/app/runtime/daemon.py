"""The daemon: APScheduler jobs (jobs kept in the same database) that each run a sense →
decide → act cycle — the §10 monitor every few minutes, the §1 daily tracker check, the
weekly and monthly jobs — with a single-instance lock, graceful SIGTERM (the running
cycle finishes) and start-up reconciliation of the action journal before any job runs.
The scheduler runs jobs on a thread pool; each job holds ``cycle.CYCLE_LOCK`` for its
whole run, so jobs that decide or act never overlap in a process. Imports apscheduler,
the standard library and ``app``."""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from mamcrawler.app.runtime.cycle import CYCLE_LOCK
from mamcrawler.errors import ConfigError, MamcrawlerError
from mamcrawler.paths import private_file, refuse_env_file

log = logging.getLogger("mamcrawler.daemon")


@contextmanager
def single_instance(lock_file: Path) -> Iterator[IO[str]]:
    """Hold an exclusive lock for the process's life; a second daemon refuses to start."""
    handle = private_file(refuse_env_file(lock_file, "lock file"), tighten=False).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(f"another mamcrawler daemon holds {lock_file}") from None
    try:
        yield handle
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


# The job store pickles references, so jobs call this module-level entry point.
_JOBS: dict[str, Callable[[], None]] = {}


def register_job(name: str, run: Callable[[], None]) -> None:
    _JOBS[name] = run


def run_job(name: str) -> None:
    """Run one job under the process's cycle lock (one deciding/acting job at a time)."""
    job = _JOBS.get(name)
    if job is None:
        log.warning("job %s has no runner in this process", name)
        return
    try:
        with CYCLE_LOCK:
            job()
    except MamcrawlerError as err:
        log.error("job %s failed: %s", name, err)
    except Exception:  # a bug must not kill the scheduler; it is logged with its traceback
        log.exception("job %s crashed", name)


@dataclass
class JobSpec:
    name: str
    trigger: str  # "interval" | "cron"
    trigger_args: dict[str, object]
    run: Callable[[], None]


@dataclass
class Daemon:
    database_url: str
    jobs: list[JobSpec]
    stop_event: threading.Event = field(default_factory=threading.Event)
    scheduler: BackgroundScheduler | None = None  # while serving: the web app's sync-now and next-cycle time

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT; the cycle in progress finishes before exit."""
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self.database_url, tablename="scheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self.scheduler = scheduler
        for job in self.jobs:
            register_job(job.name, job.run)
            scheduler.add_job(
                run_job, job.trigger, args=[job.name], id=job.name, replace_existing=True, **job.trigger_args
            )
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        scheduler.start()
        log.info("daemon started with jobs: %s", ", ".join(j.name for j in self.jobs))
        try:
            self.stop_event.wait()
        finally:
            log.info("stopping: waiting for the running cycle to finish")
            scheduler.pause()  # no new submissions while the executor shuts down
            logging.getLogger("apscheduler.scheduler").addFilter(_late_submission)
            scheduler.shutdown(wait=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("daemon stopped")

    def _stop(self, signum: int, _frame: object) -> None:
        log.info("signal %d received", signum)
        self.stop_event.set()


def _late_submission(record: logging.LogRecord) -> bool:
    """APScheduler's loop can still hand a due job to the executor it is shutting down; that
    job is simply not run (the stop was asked for), so its error line is dropped."""
    return not (record.exc_info and "after shutdown" in str(record.exc_info[1]))
