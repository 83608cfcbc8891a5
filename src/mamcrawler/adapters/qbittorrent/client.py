"""The qBittorrent adapter on qbittorrent-api: incremental monitoring (``sync/maindata``
with the ``rid`` kept), torrent facts, and the calls the live executor makes — add from
``.torrent`` bytes (idempotent by info-hash), pause/stop, resume/start, force-resume,
reannounce, seeding allocation, remove (data kept unless told). Works with 4.x and 5.x
(qbittorrent-api picks pause/stop and resume/start by the server's API version).
Library errors are translated here: down or slow → ``ServiceUnavailable``, bad
credentials → ``ServiceAuthError("bad_credentials")``, 403 → ``ServiceAuthError
("forbidden")`` (qBittorrent bans an IP after failed logins), anything else →
``ServiceProtocolError``. The password is never logged. Imports qbittorrent-api, torf,
``facts`` and ``errors``; never the engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import qbittorrentapi
import requests
import torf

from mamcrawler.adapters.qbittorrent.maindata import MainData
from mamcrawler.adapters.qbittorrent.states import PAUSED, fold_state, share_limit_reached
from mamcrawler.errors import ServiceAuthError, ServiceProtocolError, ServiceUnavailable
from mamcrawler.facts import PausedBy, Torrent

SERVICE = "qbittorrent"
T = TypeVar("T")


@contextmanager
def translated() -> Iterator[None]:
    """qbittorrent-api / requests exceptions → mamcrawler's service errors."""
    try:
        yield
    except qbittorrentapi.LoginFailed as err:
        raise ServiceAuthError(SERVICE, "bad_credentials", "qBittorrent refused the username/password") from err
    except qbittorrentapi.Forbidden403Error as err:
        raise ServiceAuthError(SERVICE, "forbidden", "qBittorrent answered 403 (banned IP or no session)") from err
    except qbittorrentapi.HTTP4XXError as err:
        raise ServiceProtocolError(SERVICE, "http_4xx", str(err)[:200]) from err
    except qbittorrentapi.HTTP5XXError as err:
        raise ServiceUnavailable(SERVICE, "http_5xx", str(err)[:200]) from err
    except (qbittorrentapi.APIConnectionError, requests.exceptions.RequestException) as err:
        kind = (
            "timeout" if "timed out" in str(err).lower() or "timeout" in type(err).__name__.lower() else "unreachable"
        )
        raise ServiceUnavailable(SERVICE, kind, "qBittorrent did not answer") from err
    except qbittorrentapi.APIError as err:
        raise ServiceProtocolError(SERVICE, "api_error", str(err)[:200]) from err
    except (ValueError, KeyError, TypeError) as err:
        raise ServiceProtocolError(SERVICE, "bad_answer", str(err)[:200]) from err


def info_hash_of(data: bytes) -> str:
    """The v1 info-hash of ``.torrent`` bytes."""
    try:
        return str(torf.Torrent.read_stream(data).infohash).lower()
    except (torf.TorfError, ValueError) as err:
        raise ServiceProtocolError("torrent_file", "bad_torrent_file", str(err)[:200]) from err


class QbitClient:
    """One qBittorrent WebUI session (its own; never shared with another service)."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        proxy: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        requests_args: dict[str, Any] = {"timeout": (timeout, timeout)}
        if proxy:
            requests_args["proxies"] = {"http": proxy, "https": proxy}
        self._api = qbittorrentapi.Client(
            host=url,
            username=username,
            password=password,
            REQUESTS_ARGS=requests_args,
            DISABLE_LOGGING_DEBUG_OUTPUT=True,
            RAISE_NOTIMPLEMENTEDERROR_FOR_UNIMPLEMENTED_API_ENDPOINTS=True,
        )
        self.url = url
        self.clock = clock
        self.maindata = MainData()
        self.bytes_received = 0

    def _call(self, fn: Callable[[], T]) -> T:
        with translated():
            return fn()

    # --- monitoring ------------------------------------------------------------------
    def sync(self) -> MainData:
        """One incremental poll; only changes travel after the first."""

        def poll() -> Any:
            answer = self._api.sync_maindata(rid=self.maindata.rid)
            return dict(answer)

        answer = self._call(poll)
        self.bytes_received += len(str(answer))
        self.maindata.apply(answer)
        return self.maindata

    def torrent_facts(self) -> tuple[Torrent, ...]:
        """Every torrent as a fact, from the merged maindata (call ``sync`` first)."""
        now = self.clock().timestamp()
        prefs = self._preferences_once()
        out = []
        for info_hash, raw in sorted(self.maindata.torrents.items()):
            state = fold_state(raw.get("state"))
            stopped_at_limit = state in PAUSED and share_limit_reached(raw, prefs, now)
            last_activity = int(raw.get("last_activity") or 0)
            stalled = state.value.startswith("stalled") and last_activity > 0
            completion = int(raw.get("completion_on") or 0)
            tags = tuple(t.strip() for t in str(raw.get("tags") or "").split(",") if t.strip())
            out.append(
                Torrent(
                    hash=info_hash.lower(),
                    name=str(raw.get("name") or info_hash),
                    state=state,
                    progress=min(1.0, max(0.0, float(raw.get("progress") or 0.0))),
                    size_bytes=max(0, int(raw.get("size") or raw.get("total_size") or 0)),
                    ratio=max(0.0, float(raw.get("ratio") or 0.0)),
                    uploaded_bytes=max(0, int(raw.get("uploaded") or 0)),
                    seeding_seconds=max(0, int(raw.get("seeding_time") or 0)),
                    stalled_seconds=max(0, int(now - last_activity)) if stalled else 0,
                    upspeed=max(0, int(raw.get("upspeed") or 0)),
                    dlspeed=max(0, int(raw.get("dlspeed") or 0)),
                    seeders=_count(raw.get("num_complete")),
                    leechers=_count(raw.get("num_incomplete")),
                    category=str(raw.get("category") or ""),
                    tags=tags,
                    completed_at=datetime.fromtimestamp(completion, UTC) if completion > 0 else None,
                    paused_by=PausedBy.SHARE_LIMIT if stopped_at_limit else PausedBy.NOBODY,
                )
            )
        return tuple(out)

    def _preferences_once(self) -> Callable[[], dict[str, Any]]:
        """Global preferences, fetched at most once and only if a torrent defers to them."""
        cache: list[dict[str, Any]] = []

        def get() -> dict[str, Any]:
            if not cache:
                cache.append(self.preferences())
            return cache[0]

        return get

    def free_space_bytes(self) -> int | None:
        value = self.maindata.server_state.get("free_space_on_disk")
        return int(value) if isinstance(value, int | float) and value >= 0 else None

    def preferences(self) -> dict[str, Any]:
        return self._call(lambda: dict(self._api.app_preferences()))

    def version(self) -> str:
        return self._call(lambda: str(self._api.app_version()))

    # --- actions (the executor's TorrentClient port) --------------------------------
    def info_hash(self, data: bytes) -> str:
        return info_hash_of(data)

    def has_torrent(self, info_hash: str) -> bool:
        return self._call(lambda: bool(self._api.torrents_info(torrent_hashes=info_hash.lower())))

    def is_paused(self, info_hash: str) -> bool | None:
        """Is the torrent paused (stopped) now? ``None`` when qBittorrent does not have it."""
        info = self._call(lambda: list(self._api.torrents_info(torrent_hashes=info_hash.lower())))
        return fold_state(str(info[0].get("state"))) in PAUSED if info else None

    def add_torrent(
        self, data: bytes, *, category: str, tags: Sequence[str], paused: bool = False, save_path: str | None = None
    ) -> str:
        """Add unless present; wait until qBittorrent lists it (it returns no hash)."""
        info_hash = info_hash_of(data)
        if self.has_torrent(info_hash):
            return info_hash

        def add() -> Any:
            return self._api.torrents_add(
                torrent_files=data, category=category or None, tags=list(tags), is_paused=paused, save_path=save_path
            )

        answer = self._call(add)
        if str(answer).strip().lower().startswith("fail"):
            raise ServiceProtocolError(SERVICE, "add_refused", f"qBittorrent refused the torrent {info_hash}")
        deadline = time.monotonic() + 10
        while not self.has_torrent(info_hash):
            if time.monotonic() > deadline:
                raise ServiceProtocolError(SERVICE, "add_not_confirmed", f"{info_hash} did not appear")
            time.sleep(0.1)
        return info_hash

    def content(self, info_hash: str) -> tuple[Path, tuple[tuple[str, int], ...]]:
        """Where a torrent's files are (its save path) and its file list as (name, size)."""

        def read() -> tuple[str, list[tuple[str, int]]]:
            info = self._api.torrents_info(torrent_hashes=info_hash)
            if not info:
                raise ServiceProtocolError("qbittorrent", "unknown_torrent", f"no torrent {info_hash}")
            files = self._api.torrents_files(torrent_hash=info_hash)
            return str(info[0].get("save_path") or ""), [(str(f["name"]), int(str(f["size"]))) for f in files]

        save_path, files = self._call(read)
        return Path(save_path), tuple(files)

    def pause(self, hashes: Sequence[str]) -> None:
        self._call(lambda: self._api.torrents_stop(torrent_hashes=list(hashes)))

    def resume(self, hashes: Sequence[str], *, force: bool = False) -> None:
        """Start torrents; one qBittorrent stopped at its share limits has those limits lifted
        first (§10: a completed torrent must seed; else qBittorrent stops it again at once)."""
        prefs, now = self._preferences_once(), self.clock().timestamp()
        known = {h: self.maindata.torrents.get(h.lower()) for h in hashes}
        limited = [
            h
            for h, raw in known.items()
            if raw and fold_state(raw.get("state")) in PAUSED and share_limit_reached(raw, prefs, now)
        ]
        if limited:
            self._call(
                lambda: self._api.torrents_set_share_limits(
                    ratio_limit=-1, seeding_time_limit=-1, inactive_seeding_time_limit=-1, torrent_hashes=limited
                )
            )
        self._call(lambda: self._api.torrents_start(torrent_hashes=list(hashes)))
        if force:
            self._call(lambda: self._api.torrents_set_force_start(enable=True, torrent_hashes=list(hashes)))

    def reannounce(self, hashes: Sequence[str]) -> None:
        self._call(lambda: self._api.torrents_reannounce(torrent_hashes=list(hashes)))

    def add_peers(self, hashes: Sequence[str], peers: Sequence[str]) -> None:
        self._call(lambda: self._api.torrents_add_peers(peers=list(peers), torrent_hashes=list(hashes)))

    def set_seeding_allocation(self, *, upload_slots: int, active_seeds: int | None) -> None:
        prefs: dict[str, Any] = {"max_uploads": upload_slots, "queueing_enabled": True}
        if active_seeds is not None:
            current = self.preferences()
            downloads = int(current.get("max_active_downloads") or 3)
            prefs["max_active_uploads"] = active_seeds
            prefs["max_active_torrents"] = max(int(current.get("max_active_torrents") or 0), downloads + active_seeds)
        self._call(lambda: self._api.app_set_preferences(prefs=prefs))

    def remove(self, hashes: Sequence[str], *, delete_files: bool = False) -> None:
        self._call(lambda: self._api.torrents_delete(delete_files=delete_files, torrent_hashes=list(hashes)))

    def close(self) -> None:
        with suppress(Exception):  # logging out of a dead server is not worth an error
            self._api.auth_log_out()
        session = getattr(self._api, "_http_session", None)
        if session is not None:
            session.close()


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None
