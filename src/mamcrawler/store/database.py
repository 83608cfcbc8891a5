"""Opening the store: a SQLAlchemy engine from a URL (SQLite file by default, PostgreSQL
by ``postgresql+psycopg://…``), tables created on first use, sessions with commit or
rollback. A SQLite file is created 0600 (its folders 0700; SQLite gives its ``-wal`` /
``-shm`` files the same mode) and is never the ``.env`` file. Imports sqlalchemy,
``paths`` and ``store.schema``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.paths import private_file, refuse_env_file, sqlite_path, tighten_sidecars
from mamcrawler.store.schema import Base


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        file = sqlite_path(url)
        if file is not None:  # private from the first byte: the store keeps the tracker cookie
            private_file(refuse_env_file(file, "database file"))
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        if file is not None:
            tighten_sidecars(file)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL + synchronous=FULL: a journal row committed before a crash is on disk after it.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"
