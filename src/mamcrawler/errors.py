"""The one exception tree of mamcrawler; every layer raises only these (imports nothing).

    MamcrawlerError
    ├── ConfigError                 settings missing or invalid (prints the KEY= lines to add)
    ├── PolicyError                 policy files failed to load or validate
    │                               (carries every located Issue, file:line:col)
    ├── ScenarioError               a simulator scenario failed to load or validate
    ├── ServiceError                an outside service misbehaved (service + code)
    │   ├── ServiceUnavailable      down, timeout, refused connection   → soft, FactGap
    │   │   └── PurchaseUnconfirmed a bonus-store request left, its answer proves nothing
    │   ├── ServiceAuthError        401/403, expired cookie, bad password → critical block
    │   ├── ServiceThrottled        429 or repeated 5xx                   → soft, backoff
    │   └── ServiceProtocolError    the answer had the wrong shape        → soft, FactGap
    ├── CriticalBlock               work halted until a human fixes something (§27)
    └── JournalError                the action journal is inconsistent

Adapters translate library exceptions into these at the edge; the engine raises only on
programmer error ("cannot decide" is a value, not an exception).
"""

from __future__ import annotations

from dataclasses import dataclass


class MamcrawlerError(Exception):
    """Base of every error mamcrawler raises on purpose."""


class ConfigError(MamcrawlerError):
    """Settings are missing or invalid; ``missing_keys`` lists the ``KEY=`` lines to add."""

    def __init__(self, message: str, missing_keys: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys


@dataclass(frozen=True, order=True)
class Issue:
    """One located problem in a user-edited file: ``file:line:col: code: message``."""

    file: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.code}: {self.message}"


class LocatedErrors(MamcrawlerError):
    """A file set failed validation; ``issues`` holds every problem, sorted."""

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.issues = tuple(sorted(issues))
        super().__init__("\n".join(str(i) for i in self.issues))


class PolicyError(LocatedErrors):
    """Policy files failed to load or validate."""


class ScenarioError(LocatedErrors):
    """A simulator scenario failed to load or validate."""


class ServiceError(MamcrawlerError):
    """An outside service misbehaved; ``service`` names it and ``code`` is stable snake_case."""

    def __init__(self, service: str, code: str, message: str) -> None:
        super().__init__(f"{service}: {code}: {message}")
        self.service = service
        self.code = code


class ServiceUnavailable(ServiceError):
    """The service is down, timed out or refused the connection (soft)."""


class PurchaseUnconfirmed(ServiceUnavailable):
    """A bonus-store request was sent and its answer (5xx, timeout, cut connection,
    unreadable body) does not say whether the store applied it: never resent blind, the
    journal entry stays open until the bonus history (or a person) settles it. A
    wedge-flagged ``.torrent`` fetch is money-like too (``wedge_unconfirmed``): ``detail``
    carries what settling needs (tracker id, the wedge count before)."""

    def __init__(self, service: str, code: str, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(service, code, message)
        self.detail = detail


class ServiceAuthError(ServiceError):
    """Credentials were refused (critical block for the tracker)."""


class ServiceThrottled(ServiceError):
    """The service asked us to slow down (429) or kept failing (5xx)."""


class ServiceProtocolError(ServiceError):
    """The answer did not have the documented shape."""


class CriticalBlock(MamcrawlerError):
    """Work halted until a human fixes the cause (§27); the message says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class JournalError(MamcrawlerError):
    """The action journal is inconsistent (for example, a key reused for another action)."""
