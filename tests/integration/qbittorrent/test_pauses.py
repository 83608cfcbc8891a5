"""Who paused a torrent, against a real qbittorrent-nox: qBittorrent's own stop at a share
limit is not a person's pause — the next cycle resumes the completed torrent (§10
``completed_must_seed``) and lifts that torrent's limits so qBittorrent does not stop it
again; a torrent carrying the hold tag is a person's hold and is never resumed; a paused
completed torrent with no known cause is resumed too. Before issue 9, every paused
torrent mamcrawler had not frozen was taken for the user's, and none of these resumed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qbit_env import Book, Qbit, qbittorrent
from test_monitor_cycle import World

from mamcrawler.adapters.qbittorrent import HOLD_TAG, QbitClient
from mamcrawler.facts import PausedBy

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def qbit(tmp_path: Path) -> Iterator[tuple[Qbit, QbitClient]]:
    with qbittorrent(tmp_path / "qb") as qb:
        client = QbitClient(qb.url, qb.username, qb.password, timeout=5)
        yield qb, client
        client.close()


def seed_complete(qb: Qbit, client: QbitClient, book: Book, *, tags: tuple[str, ...] = ()) -> None:
    """Add a torrent whose content is already on disk: complete at once."""
    (qb.downloads / book.path.name).write_bytes(book.path.read_bytes())
    client._api.torrents_add(
        torrent_files=book.data, save_path=str(qb.downloads), is_skip_checking=True, tags=list(tags)
    )


def raw(client: QbitClient, info_hash: str) -> dict[str, object]:
    client.sync()
    return dict(client.maindata.torrents[info_hash])


def wait_state(client: QbitClient, info_hash: str, states: tuple[str, ...], seconds: float = 40) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = raw(client, info_hash)
        if now.get("state") in states:
            return now
        time.sleep(0.3)
    raise AssertionError(f"{info_hash} never reached {states}: {raw(client, info_hash).get('state')}")


PAUSED_STATES = ("pausedUP", "stoppedUP")


def test_a_share_limit_stop_is_resumed_and_a_held_torrent_is_not(
    tmp_path: Path, qbit: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    qb, client = qbit
    limited, held, stopped = books["dune"], books["emma"], books["solaris"]
    for book in (limited, held, stopped):
        seed_complete(qb, client, book, tags=(HOLD_TAG,) if book is held else ())
    for book in (limited, held, stopped):
        wait_state(client, book.info_hash, ("stalledUP", "uploading"))
    client._api.torrents_set_share_limits(ratio_limit=0, seeding_time_limit=-2, torrent_hashes=limited.info_hash)
    client.pause([held.info_hash, stopped.info_hash])
    wait_state(client, limited.info_hash, PAUSED_STATES)  # qBittorrent stopped it itself (ratio 0 ≥ limit 0)
    wait_state(client, held.info_hash, PAUSED_STATES)
    wait_state(client, stopped.info_hash, PAUSED_STATES)

    world = World(tmp_path / "world", qb)
    try:
        sensed = {
            t.hash: t.paused_by for t in world.services.sensors[0].sense(world.services.clock()).facts["torrents"]
        }
        assert sensed == {
            limited.info_hash: PausedBy.SHARE_LIMIT,
            held.info_hash: PausedBy.USER,
            stopped.info_hash: PausedBy.NOBODY,
        }
        world.cycle()
        batch = world.services.board.batch
        assert batch is not None
        resumed = {a.hash for a in batch.actions if a.type == "ResumeTorrent"}  # type: ignore[attr-defined]
        assert resumed == {limited.info_hash, stopped.info_hash}
        by_rule = {r.subject_id: r.rule_id for r in batch.records if r.outcome == "planned"}
        assert by_rule[limited.info_hash] == "completed_must_seed"

        after = wait_state(client, limited.info_hash, ("stalledUP", "uploading", "queuedUP", "forcedUP"))
        assert after["ratio_limit"] == -1  # its limit lifted: qBittorrent will not stop it again
        wait_state(client, stopped.info_hash, ("stalledUP", "uploading", "queuedUP", "forcedUP"))
        time.sleep(11)  # qBittorrent checks share limits about every ten seconds
        assert raw(client, limited.info_hash)["state"] not in PAUSED_STATES
        assert raw(client, held.info_hash)["state"] in PAUSED_STATES  # the person's hold stands

        world.cycle()  # and the next cycle leaves the held torrent alone again
        batch = world.services.board.batch
        assert batch is not None
        assert held.info_hash not in {getattr(a, "hash", None) for a in batch.actions}
        assert raw(client, held.info_hash)["state"] in PAUSED_STATES
    finally:
        world.services.close()
