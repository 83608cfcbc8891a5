"""Structured logs: one JSON object per line on stderr (or a log file, created 0600 and
never the ``.env`` file), with every known secret value and secret-looking field masked
before anything is written — in the message, in the exception text and at any depth of
the ``extra={...}`` fields.

``KnownSecrets`` is the live set of secret values: the settings' secrets at start-up plus
values learned while running (the tracker rotates its ``mam_id`` cookie; each new value
is added the moment the store keeps it — ``LearningCookies``), shared by the log
formatter, the decision journal and the API. Imports the standard library, ``paths`` and
the engine's ``redact``."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, overload

from mamcrawler.engine.records import redact
from mamcrawler.paths import private_file, refuse_env_file


class KnownSecrets(Sequence[str]):
    """Every secret value to mask, growing while the process runs (thread-safe)."""

    def __init__(self, initial: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        for value in initial:
            self.learn(value)

    def learn(self, value: str | None) -> None:
        if not value:
            return
        with self._lock:
            if value not in self._values:
                self._values = (*self._values, value)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)


class CookieStore(Protocol):
    def load(self) -> str | None: ...
    def save(self, value: str) -> None: ...


class LearningCookies:
    """A cookie store that tells ``KnownSecrets`` every value it loads or saves."""

    def __init__(self, inner: CookieStore, secrets: KnownSecrets) -> None:
        self.inner, self.secrets = inner, secrets

    def load(self) -> str | None:
        value = self.inner.load()
        self.secrets.learn(value)
        return value

    def save(self, value: str) -> None:
        self.secrets.learn(value)  # masked before it could appear in any log line
        self.inner.save(value)


# attributes every LogRecord has; anything else came from ``extra={...}``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingJsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = secrets if isinstance(secrets, KnownSecrets) else KnownSecrets(secrets)

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        extras = {k: _jsonable(v) for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        masked, _ = redact({"msg": message, **extras}, self.secrets)
        body = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            **masked,
        }
        return json.dumps(body, ensure_ascii=False, default=str)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def configure_logging(secrets: Iterable[str], level: int = logging.INFO, log_file: Path | None = None) -> None:
    """Log to stderr, or append to ``log_file`` (created 0600; never the ``.env`` file)."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(private_file(refuse_env_file(log_file, "log file")), encoding="utf-8")
    handler.setFormatter(RedactingJsonFormatter(secrets))
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
