"""A served web app over a real socket for the API and browser tests: a store, a status
board published from a real ``decide`` call, the decision journal, and the app on a free
loopback port with a known API key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mamcrawler.app.web.api import WebContext, create_app
from mamcrawler.app.web.security import allowed_hosts
from mamcrawler.app.web.server import WebServer
from mamcrawler.app.web.status import CycleInfo, StatusBoard
from mamcrawler.engine import decide, load_policy
from mamcrawler.facts import Account, FactGap, FactSnapshot, FreeKind, Release, Source, Torrent, TorrentState, Want
from mamcrawler.store import Database, StateStore, sqlite_url
from mamcrawler.store.decisions import DecisionStore

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SECRET = "s3cr3t-mam-id-value"
KEY = "k" * 32
HASH = "ab" * 20


def snapshot(*, ratio: float | None = 0.9, refused: bool = False) -> FactSnapshot:
    gaps = (
        (FactGap(source=Source.TRACKER_ACCOUNT, code="tracker_session_refused", message="HTTP 403", since=NOW),)
        if refused
        else ()
    )
    return FactSnapshot(
        taken_at=NOW,
        account=Account(
            username=SECRET,
            ratio=None if refused else ratio,
            uploaded_bytes=90,
            downloaded_bytes=100,
            bonus_points=52_500,
            vip_until=NOW + timedelta(days=3),
            unsatisfied_count=4,
            unsatisfied_limit=150,
        ),
        releases=(
            Release(id="r1", book_key="dune|frank herbert", title="Dune", authors=("Frank Herbert",), bitrate_kbps=128),
        ),
        wants=(Want(book_key="dune|frank herbert", title="Dune", authors=("Frank Herbert",)),),
        torrents=(
            Torrent(
                hash=HASH,
                name="Hyperion.m4b",
                state=TorrentState.SEEDING,
                ratio=1.5,
                seeding_seconds=90_000,
                book_key="hyperion|dan simmons",
            ),
        ),
        gaps=gaps,
    )


def healthy() -> FactSnapshot:
    """Ratio and VIP comfortable, a free edition of a wanted book on offer: it is queued."""
    return snapshot().model_copy(
        update={
            "account": Account(
                ratio=2.5,
                bonus_points=52_500,
                vip_until=NOW + timedelta(days=60),
                unsatisfied_count=4,
                unsatisfied_limit=150,
            ),
            "releases": (
                Release(
                    id="r1",
                    tracker_id=11,
                    book_key="dune|frank herbert",
                    title="Dune",
                    authors=("Frank Herbert",),
                    bitrate_kbps=128,
                    free=FreeKind.SITE_FREELEECH,
                    seeders=20,
                    single_file=True,
                ),
            ),
        }
    )


@dataclass
class Served:
    base: str
    port: int
    board: StatusBoard
    decisions: DecisionStore
    server: WebServer

    def publish(self, snap: FactSnapshot, *, dry_run: bool = False) -> None:
        policy = load_policy("policies")
        batch = decide(policy, snap, now=snap.taken_at)
        self.decisions.append(list(batch.records), dry_run=dry_run)
        self.board.publish(policy, snap, batch, CycleInfo(snap.taken_at, 1.5, dry_run))


@contextmanager
def served(tmp_path: Path, *, snap: FactSnapshot | None = None, clock_now: datetime = NOW) -> Iterator[Served]:
    db = Database(sqlite_url(tmp_path / "web.sqlite"))
    decisions = DecisionStore(db)
    board = StatusBoard(StateStore(db), decisions=decisions)
    synced: list[str] = []

    def sync_now() -> str:
        synced.append("now")
        return "a cycle starts now"

    ctx = WebContext(
        board=board,
        decisions=decisions,
        clock=lambda: clock_now,
        api_key=KEY,
        hosts=allowed_hosts("127.0.0.1"),
        secrets=[SECRET, KEY],
        sync_now=sync_now,
    )
    server = WebServer(create_app(ctx), host="127.0.0.1", port=0, api_key=KEY)
    server.start()
    host, port = server.address
    env = Served(f"http://{host}:{port}", port, board, decisions, server)
    env.publish(snap or snapshot())
    try:
        yield env
    finally:
        server.stop()
        db.dispose()
