"""Real programs for integration tests: qbittorrent-nox instances with temporary profiles,
opentracker with a whitelist, and small audiobook torrents synthesised with espeak-ng and
ffmpeg. Everything listens on 127.0.0.1 on free ports and is stopped (process group
killed) when its context ends."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import torf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have(*programs: str) -> bool:
    return all(shutil.which(p) for p in programs)


def _pbkdf2(password: str) -> str:
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, dklen=64)
    return f'"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"'


@dataclass(frozen=True)
class Book:
    """A synthesised audiobook and its torrent (the qBittorrent tests' ``books`` fixture)."""

    name: str
    data: bytes
    info_hash: str
    path: Path


@dataclass(frozen=True)
class Qbit:
    url: str
    username: str
    password: str
    downloads: Path
    peer_port: int
    profile: Path
    process: subprocess.Popen[bytes]

    @property
    def peer(self) -> str:
        return f"127.0.0.1:{self.peer_port}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qbittorrent-nox exited with {process.returncode}")
        try:
            httpx.get(f"{url}/api/v2/app/version", timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("qbittorrent-nox did not start")


@contextmanager
def qbittorrent(
    base: Path,
    *,
    auth: bool = False,
    password: str = "adminadmin",
    web_port: int | None = None,
    profile: Path | None = None,
) -> Iterator[Qbit]:
    """A qbittorrent-nox with its own profile; with ``auth`` the WebUI asks for a password.
    Passing the ``web_port`` and ``profile`` of a stopped instance restarts it."""
    profile, downloads = profile or base / "profile", base / "downloads"
    (profile / "qBittorrent" / "config").mkdir(parents=True, exist_ok=True)
    downloads.mkdir(parents=True, exist_ok=True)
    web_port, peer_port = web_port or free_port(), free_port()
    lines = [
        "[LegalNotice]",
        "Accepted=true",
        "",
        "[BitTorrent]",
        "Session\\DHTEnabled=false",
        "Session\\LSDEnabled=false",
        "Session\\PeXEnabled=false",
        f"Session\\Port={peer_port}",
        f"Session\\DefaultSavePath={downloads}",
        "Session\\AnonymousModeEnabled=false",
        "Session\\Encryption=0",
        "Session\\QueueingSystemEnabled=false",
        "",
        "[Preferences]",
        f"WebUI\\LocalHostAuth={'true' if auth else 'false'}",
        "WebUI\\Address=127.0.0.1",
        f"WebUI\\Port={web_port}",
        "WebUI\\HostHeaderValidation=false",
        "WebUI\\CSRFProtection=false",
        "WebUI\\Username=admin",
        f"WebUI\\Password_PBKDF2={_pbkdf2(password)}",
        "WebUI\\MaxAuthenticationFailCount=1000",
        f"Connection\\PortRangeMin={peer_port}",
        "Connection\\Interface=lo",
        "Connection\\InterfaceName=lo",
        f"Downloads\\SavePath={downloads}",
        "Bittorrent\\DHT=false",
        "Bittorrent\\LSD=false",
        "Bittorrent\\PeX=false",
    ]
    (profile / "qBittorrent" / "config" / "qBittorrent.conf").write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        ["qbittorrent-nox", f"--profile={profile}", f"--webui-port={web_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{web_port}"
    try:
        _wait_http(url, process)
        yield Qbit(url, "admin", password, downloads, peer_port, profile, process)
    finally:
        _stop(process)


@contextmanager
def opentracker(base: Path, info_hashes: list[str]) -> Iterator[str]:
    """Debian's opentracker tracks only whitelisted info-hashes; yields the announce URL."""
    base.mkdir(parents=True, exist_ok=True)
    whitelist = base / "whitelist"
    whitelist.write_text("".join(h + "\n" for h in info_hashes))
    port = free_port()
    process = subprocess.Popen(
        ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port), "-w", str(whitelist)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("opentracker did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/announce"
    finally:
        _stop(process)


def synthesise_book(directory: Path, name: str, text: str, *, voice: str = "en-us", seconds: int = 20) -> Path:
    """A small MP3 audiobook: espeak-ng reads ``text``, ffmpeg pads it to ``seconds``."""
    directory.mkdir(parents=True, exist_ok=True)
    wav = directory / f"{name}.wav"
    mp3 = directory / f"{name}.mp3"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True, capture_output=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-af", f"apad=whole_dur={seconds}", "-b:a", "64k", str(mp3)],
        check=True,
        capture_output=True,
    )
    wav.unlink()
    return mp3


def make_torrent(content: Path, tracker: str | None, *, private: bool = False) -> tuple[bytes, str]:
    """``.torrent`` bytes and info-hash for a file or folder."""
    torrent = torf.Torrent(path=content, trackers=[tracker] if tracker else None, private=private, piece_size=16384)
    torrent.generate()
    return bytes(torrent.dump()), str(torrent.infohash)
