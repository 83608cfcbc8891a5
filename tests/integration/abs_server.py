"""The real Audiobookshelf server (2.36.0, the server part vendored in ../shared/vendor) for
integration tests and benchmarks: installed once per machine into a cache outside the
clone by the vendored ``install.sh``, started on a free 127.0.0.1 port with its own
config and metadata folders, the root user created, an API key and a login token made,
libraries created over folders of real audiobooks (espeak-ng + ffmpeg: a single MP3 with
ID3 tags, a split MP3, a chaptered M4B with tags), and stopped (process group) afterwards.

Without node/npm (or the vendored server) the tests are skipped — unless
``MAMCRAWLER_REQUIRE_ALL_TESTS=1`` (CI), where that is a failure."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from qbit_env import free_port

ABS_VERSION = "2.36.0"
ROOT = Path(__file__).resolve().parents[2]


def _vendor() -> Path:
    """``$MAMCRAWLER_ABS_VENDOR``, else ``shared/vendor/audiobookshelf`` beside the clone or
    beside one of its parent folders (the project's shared folder)."""
    if os.environ.get("MAMCRAWLER_ABS_VENDOR"):
        return Path(os.environ["MAMCRAWLER_ABS_VENDOR"])
    candidates = [parent / "shared" / "vendor" / "audiobookshelf" for parent in ROOT.parents]
    return next((c for c in candidates if (c / "install.sh").is_file()), candidates[0])


VENDOR = _vendor()
ROOT_USER, ROOT_PASSWORD = "root", "root-password-for-tests"


def install_dir() -> Path:
    """Per machine, outside the clone: ``$MAMCRAWLER_ABS_DIR`` or ``~/.cache/mamcrawler/abs-<version>``."""
    if os.environ.get("MAMCRAWLER_ABS_DIR"):
        return Path(os.environ["MAMCRAWLER_ABS_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mamcrawler" / f"abs-{ABS_VERSION}"


def unavailable(reason: str) -> NoReturn:
    """Skip — or, with ``MAMCRAWLER_REQUIRE_ALL_TESTS=1`` (CI), fail."""
    if os.environ.get("MAMCRAWLER_REQUIRE_ALL_TESTS") == "1":
        pytest.fail(f"{reason} (MAMCRAWLER_REQUIRE_ALL_TESTS=1: required)", pytrace=False)
    pytest.skip(reason)


def ensure_installed() -> Path:
    """The installed server's folder; runs the vendored install script (a no-op once done)."""
    missing = [p for p in ("node", "npm", "ffprobe") if shutil.which(p) is None]
    if missing:
        unavailable(f"the Audiobookshelf tests need {' and '.join(missing)}")
    script = VENDOR / "install.sh"
    dest = install_dir()
    if not script.is_file():
        unavailable(f"the vendored Audiobookshelf server is not at {VENDOR}")
    if not (dest / f".installed-{ABS_VERSION}").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest.parent / f".abs-{ABS_VERSION}.lock", "w") as lock:  # one install at a time per machine
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = subprocess.run(
                ["bash", str(script), str(dest)], capture_output=True, text=True, timeout=1800, check=False
            )
        if done.returncode != 0:
            pytest.fail(f"installing Audiobookshelf failed:\n{done.stderr[-2000:]}", pytrace=False)
    return dest


class AbsApiError(AssertionError):
    """The server answered a harness request with an error status."""


@dataclass
class AbsServer:
    """One running server: its base URL, an admin API key (``api_key``), the root user's
    login token (``login_token``, expires) and old-style token (``legacy_token``)."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]
    user_id: str = ""
    api_key: str = ""
    api_key_id: str = ""
    login_token: str = ""
    legacy_token: str = ""
    log: Path = field(default_factory=Path)

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.api_key}"}
        response = httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
        if response.status_code >= 400:
            raise AbsApiError(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def login(self, username: str = ROOT_USER, password: str = ROOT_PASSWORD) -> dict[str, Any]:
        response = httpx.post(self.url + "/login", json={"username": username, "password": password}, timeout=30)
        if response.status_code != 200:
            raise AbsApiError(f"login: HTTP {response.status_code}")
        return dict(response.json())

    def new_api_key(self, name: str, *, expires_in: int | None = None, user_id: str | None = None) -> tuple[str, str]:
        """(key id, key) of a new active API key, as Settings → API Keys makes it (2.26+)."""
        body: dict[str, Any] = {"name": name, "userId": user_id or self.user_id, "isActive": True}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        created = self.call("POST", "/api/api-keys", token=self.login_token, json=body)["apiKey"]
        return created["id"], created["apiKey"]

    def new_user(self, username: str, *, libraries: list[str] | None = None, kind: str = "user") -> str:
        """A user (``user``/``admin``) with access to all libraries or only ``libraries``; its id."""
        permissions = {"accessAllLibraries": libraries is None, "librariesAccessible": libraries or [], "update": True}
        body = {"username": username, "password": "pw-" + username, "type": kind, "isActive": True}
        created = self.call("POST", "/api/users", json={**body, "permissions": permissions})
        return str(created["user"]["id"])

    def settings(self, **changes: Any) -> None:
        """Server settings (``storeMetadataWithItem``, ``scannerPreferMatchedMetadata``…)."""
        self.call("PATCH", "/api/settings", json=changes)

    def create_library(self, name: str, folder: Path, *, watcher: bool = False) -> dict[str, Any]:
        """A book library over ``folder`` (not scanned yet); its folder watcher off unless asked."""
        body = {
            "name": name,
            "folders": [{"fullPath": str(folder)}],
            "mediaType": "book",
            "settings": {"disableWatcher": not watcher},
        }
        return dict(self.call("POST", "/api/libraries", json=body))

    def scan(self, library_id: str, *, force: bool = False, timeout: float = 120) -> None:
        """Scan a library and wait until the scan has finished (its ``lastScan`` moved)."""
        before = self.call("GET", f"/api/libraries/{library_id}").get("lastScan")
        self.call("POST", f"/api/libraries/{library_id}/scan" + ("?force=1" if force else ""))
        wait_for(lambda: self.call("GET", f"/api/libraries/{library_id}").get("lastScan") != before, timeout)

    def items(self, library_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/libraries/{library_id}/items", params={"limit": 0})["results"])

    def item(self, item_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/items/{item_id}", params={"expanded": 1}))

    def item_at(self, library_id: str, folder: Path) -> dict[str, Any]:
        return next(i for i in self.items(library_id) if Path(i["path"]) == folder)


@dataclass(frozen=True)
class AbsLibraryEnv:
    """A test's library on a running server: its id, its folder, the books written into it."""

    server: AbsServer
    library_id: str
    root: Path
    books: dict[str, Any]  # abs_books.LibraryBook by key

    def item_id(self, key: str) -> str:
        return str(self.server.item_at(self.library_id, self.books[key].folder)["id"])


def wait_for(condition: Callable[[], bool], timeout: float, *, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout} s")
        time.sleep(step)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def audiobookshelf(home: Path, *, env: Mapping[str, str] | None = None) -> Iterator[AbsServer]:
    """A fresh server under ``home`` (config/, metadata/, server.log): root user, API key, login."""
    installed = ensure_installed()
    port = free_port()
    for sub in ("config", "metadata"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    variables = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "CONFIG_PATH": str(home / "config"),
        "METADATA_PATH": str(home / "metadata"),
        "NODE_ENV": "production",
        **(env or {}),
    }
    log = home / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["node", str(installed / "index.js")],
            cwd=installed,
            env=variables,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = AbsServer(f"http://127.0.0.1:{port}", home, process, log=log)
    try:
        wait_for(lambda: _answers(server), 60)
        response = httpx.post(
            server.url + "/init", json={"newRoot": {"username": ROOT_USER, "password": ROOT_PASSWORD}}, timeout=30
        )
        if response.status_code != 200:
            raise AbsApiError(f"init: HTTP {response.status_code} {response.text[:200]}")
        user = server.login()["user"]
        server.user_id, server.login_token, server.legacy_token = user["id"], user["accessToken"], user["token"]
        server.api_key_id, server.api_key = server.new_api_key("mamcrawler tests")
        yield server
    except TimeoutError:
        raise AssertionError(f"Audiobookshelf did not start: {log.read_text(errors='replace')[-2000:]}") from None
    finally:
        _stop(process)


def _answers(server: AbsServer) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"Audiobookshelf exited: {server.log.read_text(errors='replace')[-2000:]}")
    try:
        return httpx.get(server.url + "/status", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
