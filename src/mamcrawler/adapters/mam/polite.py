"""Politeness toward the tracker (SPEC "Credentials, sessions and politeness"): one
request in flight, 2–5 s between requests with jitter, a longer pause every 20–40
requests, exponential backoff on 429 / 5xx, a slow mode (spacing doubled) after repeated
throttling, and a critical block on 401 / 403 that stays until a human clears it.
Requests are counted per UTC day. The clock, the sleep and the random source are
injected so tests can run fast while measuring the same limits. No identity tricks:
the same client, the same headers, every time. Imports ``errors`` only."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mamcrawler.errors import CriticalBlock, ServiceThrottled

FIX_SESSION = (
    "Set a new MAM_ID (create a session in the tracker's Preferences → Security, for this IP or ASN) and restart"
)

__all__ = ["Politeness", "PolitenessLimits"]


@dataclass(frozen=True)
class PolitenessLimits:
    min_spacing_s: float = 2.0
    max_spacing_s: float = 5.0
    long_pause_every: tuple[int, int] = (20, 40)
    long_pause_s: tuple[float, float] = (30.0, 90.0)
    backoff_base_s: float = 10.0
    backoff_max_s: float = 900.0
    max_retries: int = 4
    slow_mode_after: int = 3  # throttled answers in a row before spacing doubles
    slow_mode_factor: float = 2.0


@dataclass
class Politeness:
    """Call ``before()`` ahead of each request and ``after(status)`` with its answer."""

    limits: PolitenessLimits = PolitenessLimits()
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lock: threading.Lock = field(default_factory=threading.Lock)
    blocked: str | None = None
    throttled_in_row: int = 0
    slow_mode: bool = False
    per_day: dict[str, int] = field(default_factory=dict)
    _last: float | None = None
    _since_pause: int = 0
    _next_pause: int = 0

    def __post_init__(self) -> None:
        self._next_pause = self.rng.randint(*self.limits.long_pause_every)

    def spacing(self) -> float:
        low, high = self.limits.min_spacing_s, self.limits.max_spacing_s
        factor = self.limits.slow_mode_factor if self.slow_mode else 1.0
        return self.rng.uniform(low, high) * factor

    def before(self) -> None:
        """Wait until the next request may go (the caller holds ``lock``)."""
        if self.blocked is not None:
            raise CriticalBlock("tracker_session_refused", self.blocked)
        if self._since_pause >= self._next_pause:
            self.sleep(self.rng.uniform(*self.limits.long_pause_s))
            self._since_pause, self._next_pause = 0, self.rng.randint(*self.limits.long_pause_every)
            self._last = self.clock()
        if self._last is not None:
            wait = self._last + self.spacing() - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last = self.clock()
        self._since_pause += 1
        day = datetime.now(UTC).date().isoformat()
        self.per_day[day] = self.per_day.get(day, 0) + 1

    def after(self, status: int) -> None:
        self._last = self.clock()
        if status in (401, 403):
            self.blocked = f"HTTP {status}: the tracker refused the session cookie. {FIX_SESSION}"
            raise CriticalBlock("tracker_session_refused", self.blocked)
        if status == 429 or status >= 500:
            self.throttled_in_row += 1
            if self.throttled_in_row >= self.limits.slow_mode_after:
                self.slow_mode = True
        else:
            self.throttled_in_row = 0

    def backoff(self, attempt: int, *, status: int) -> None:
        """Sleep before retry ``attempt`` (1-based) or raise when retries are used up."""
        if attempt > self.limits.max_retries:
            raise ServiceThrottled("tracker", "throttled" if status == 429 else "server_error", f"HTTP {status}")
        delay = min(self.limits.backoff_max_s, self.limits.backoff_base_s * 2 ** (attempt - 1))
        self.sleep(delay * self.rng.uniform(1.0, 1.25))
