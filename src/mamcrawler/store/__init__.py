"""The store (SQLAlchemy; SQLite by default, PostgreSQL by URL): action and decision
journals, state between cycles, lists and history, so a restart continues where it
stopped. May import ``engine`` (for action/record types), ``facts`` and ``errors``."""

from mamcrawler.store.database import Database, sqlite_url
from mamcrawler.store.journal import ActionJournal, JournalEntry
from mamcrawler.store.state import (
    BAD_RELEASES,
    POST_DOWNLOAD_DONE,
    VIP_PENDING,
    WISHLIST,
    StateStore,
    StoredCookie,
)

__all__ = [
    "BAD_RELEASES",
    "POST_DOWNLOAD_DONE",
    "VIP_PENDING",
    "WISHLIST",
    "ActionJournal",
    "Database",
    "JournalEntry",
    "StateStore",
    "StoredCookie",
    "sqlite_url",
]
