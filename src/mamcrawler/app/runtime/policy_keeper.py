"""Which policy version is in force. An edited policy directory goes live only after
``policy check`` and ``policy test`` pass; otherwise the previous version stays in
force and the change is logged as failed and rolled back (SPEC "Policy changes are
tested before they go live"). A passing edit is then replayed over the recorded week
(``replay_check``) and its summary logged; when the policy asks for it
(``pacing.confirm_money_changes``) and the replay changes money-like decisions, the edit
waits until a person confirms its hash (``mamcrawler policy confirm HASH``).
Imports ``engine``, ``store`` and the standard library."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamcrawler.engine import Policy, load_policy_with_issues
from mamcrawler.engine.policy.loader import policy_files
from mamcrawler.engine.policy.yaml_source import MAX_FILE_BYTES
from mamcrawler.errors import Issue, PolicyError
from mamcrawler.store import StateStore

log = logging.getLogger("mamcrawler.policy")

# (directory, candidate policy) → problems found by its policy tests (empty = pass)
PolicyTests = Callable[[Path, Policy], list[str]]
# (policy in force, candidate) → the replay's summary; "money_changes" counts money-like ones
ReplayCheck = Callable[[Policy, Policy], dict[str, Any]]
CONFIRMED_KEY = "policy_confirmed"
AWAITING_KEY = "policy_awaiting"


def no_tests(_directory: Path, _policy: Policy) -> list[str]:
    return []


_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[a-z_]+): (?P<message>.*)$")


def as_issue(problem: str, directory: Path) -> Issue:
    """A policy-test problem line as an ``Issue`` (located when the line says where)."""
    m = _LOCATED.match(problem)
    if m is None:
        return Issue(str(directory / "tests"), 1, 1, "policy_test_failed", problem)
    return Issue(m["file"], int(m["line"]), int(m["col"]), m["code"], m["message"])


def _watched(directory: Path) -> list[Path]:
    return policy_files(directory) + sorted((directory / "tests").glob("*.y*ml")) if directory.is_dir() else []


def directory_signature(directory: Path) -> tuple[tuple[str, int, int, int], ...]:
    """Name, size, mtime and inode of every watched file: read from the directory, no file
    opened — what the keeper compares every cycle before reading anything."""
    out = []
    for path in _watched(directory):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path.relative_to(directory)), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def directory_fingerprint(directory: Path) -> str:
    """Hash of every policy file and policy test file, to notice real edits. A file over
    the loader's size cap is not read (it will be refused): its size and mtime stand in."""
    digest = hashlib.sha256()
    for path in _watched(directory):
        name = str(path.relative_to(directory)).encode()
        try:
            st = path.stat()
            body = f"{st.st_size}:{st.st_mtime_ns}".encode() if st.st_size > MAX_FILE_BYTES else path.read_bytes()
        except OSError as err:
            body = str(err).encode()
        digest.update(name + b"\0" + body + b"\0")
    return digest.hexdigest()


@dataclass
class PolicyKeeper:
    directory: Path
    run_tests: PolicyTests = no_tests
    current: Policy | None = None
    fingerprint: str = ""
    signature: tuple[tuple[str, int, int, int], ...] = ()
    history: list[str] = field(default_factory=list)
    replay_check: ReplayCheck | None = None
    state: StateStore | None = None  # where confirmations are kept
    awaiting: Policy | None = None  # an edit held until a person confirms it
    last_replay: dict[str, Any] | None = None
    clock: Callable[[], datetime] = field(default=lambda: _utc_now())

    def load_initial(self) -> Policy:
        """The first load must pass, or the daemon does not start."""
        policy, issues = load_policy_with_issues(self.directory)
        if policy is None:
            raise PolicyError(issues)
        problems = self.run_tests(self.directory, policy)
        if problems:
            raise PolicyError([as_issue(p, self.directory) for p in problems])
        self.signature = directory_signature(self.directory)
        self.current, self.fingerprint = policy, directory_fingerprint(self.directory)
        self.history.append(f"loaded {policy.version}")
        return policy

    def refresh(self) -> Policy:
        """Pick up edits that pass check and tests; keep the previous policy otherwise."""
        assert self.current is not None, "load_initial first"
        signature = directory_signature(self.directory)
        if signature == self.signature:
            if self.awaiting is not None and self._confirmed(self.awaiting):
                return self._switch(self.awaiting)  # a person confirmed the held edit
            return self.current  # nothing touched: no file is opened
        self.signature = signature
        fingerprint = directory_fingerprint(self.directory)
        if fingerprint == self.fingerprint:
            if self.awaiting is not None and self._confirmed(self.awaiting):
                return self._switch(self.awaiting)
            return self.current
        self.fingerprint = fingerprint
        policy, issues = load_policy_with_issues(self.directory)
        problems = [str(i) for i in issues] if policy is None else self.run_tests(self.directory, policy)
        if policy is None or problems:
            log.error(
                "policy change failed and rolled back; %s stays in force: %s",
                self.current.version,
                "; ".join(problems[:5]),
            )
            self.history.append(f"rejected change, kept {self.current.version}")
            return self.current
        self.awaiting = None
        if self.replay_check is not None and self._held(policy):
            return self.current
        return self._switch(policy)

    def _held(self, policy: Policy) -> bool:
        """Replay the candidate; hold it when money-like decisions change and a confirmation
        is asked for (by the policy in force or the candidate) and not yet given."""
        assert self.current is not None and self.replay_check is not None
        summary = self.replay_check(self.current, policy)
        self.last_replay = summary
        log.info("replay of the recorded days before %s goes live: %s", policy.version, summary.get("line", summary))
        wanted = self.current.pacing.confirm_money_changes or policy.pacing.confirm_money_changes
        if not wanted or not summary.get("money_changes") or self._confirmed(policy):
            return False
        self.awaiting = policy
        if self.state is not None:
            self.state.put(AWAITING_KEY, {"hash": policy.content_hash, "replay": summary}, now=self.clock())
        log.warning(
            "policy %s waits for a person: the replay changes %d money-like decision(s); "
            "confirm with `mamcrawler policy confirm %s`; %s stays in force",
            policy.version,
            summary["money_changes"],
            policy.content_hash,
            self.current.version,
        )
        self.history.append(f"held {policy.version} for confirmation, kept {self.current.version}")
        return True

    def _confirmed(self, policy: Policy) -> bool:
        if self.state is None:
            return False
        return policy.content_hash in (self.state.get(CONFIRMED_KEY) or [])

    def _switch(self, policy: Policy) -> Policy:
        assert self.current is not None
        log.info("policy %s in force (was %s)", policy.version, self.current.version)
        self.history.append(f"switched {self.current.version} -> {policy.version}")
        self.current, self.awaiting = policy, None
        return policy


def _utc_now() -> datetime:
    return datetime.now(UTC)


def confirm(state: StateStore, hash_prefix: str, *, now: datetime) -> str:
    """A person confirms the held edit whose hash starts with ``hash_prefix``; returns its hash."""
    awaiting = state.get(AWAITING_KEY) or {}
    held = str(awaiting.get("hash", ""))
    if len(hash_prefix) < 8 or not held.startswith(hash_prefix):
        raise ValueError(
            f"no policy edit waits for confirmation with hash {hash_prefix!r}" + (f" (waiting: {held})" if held else "")
        )
    confirmed = [h for h in state.get(CONFIRMED_KEY) or [] if h != held][-19:]
    state.put(CONFIRMED_KEY, [*confirmed, held], now=now)
    return held
