"""The store (SQLAlchemy; SQLite by default, PostgreSQL by URL): action and decision
journals, state between cycles, lists and history, so a restart continues where it
stopped. May import ``engine`` (for action/record types), ``facts`` and ``errors``."""

from mamcrawler.store.database import Database, sqlite_url
from mamcrawler.store.journal import ActionJournal, JournalEntry
from mamcrawler.store.recorded import RecordedCycle, Recorder, RecordReader, sizes_by_day
from mamcrawler.store.state import BAD_RELEASES, VIP_PENDING, WISHLIST, StateStore, StoredCookie

__all__ = [
    "BAD_RELEASES",
    "VIP_PENDING",
    "WISHLIST",
    "ActionJournal",
    "Database",
    "JournalEntry",
    "RecordReader",
    "RecordedCycle",
    "Recorder",
    "StateStore",
    "StoredCookie",
    "sizes_by_day",
    "sqlite_url",
]
