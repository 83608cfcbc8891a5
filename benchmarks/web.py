"""Benchmarks for the web app (figures printed, nothing asserted).

1. The dashboard with 1,000,000 decision records in the store (goal ≤ 200 ms a load):
   median and p95 of full page loads over HTTP with the API key, beside the first
   decisions page and the 30-day report — and, side by side, what the old dashboard
   did on every load (parse the whole JSONL journal), measured on 100,000 lines and
   scaled to a million.
2. 200 concurrent clients (bounded: one connection each, loopback) for 15 s against a
   mix of endpoints: answers, errors, requests/s and latency percentiles. The server runs
   in its own process (as in the daemon), the clients in this one.

Run: ``.venv/bin/python benchmarks/web.py`` (``--records N``, ``--clients N``, ``--seconds S``).
Imports ``app``, ``engine``, ``facts`` and ``store``."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from mamcrawler.app.web.api import WebContext, create_app
from mamcrawler.app.web.dashboard import render_dashboard
from mamcrawler.app.web.security import allowed_hosts
from mamcrawler.app.web.server import WebServer
from mamcrawler.app.web.status import CycleInfo, StatusBoard
from mamcrawler.engine import decide, load_policy
from mamcrawler.engine.records import DecisionRecord, read_journal
from mamcrawler.facts import Account, FactSnapshot, FreeKind, Release, Torrent, TorrentState, Want
from mamcrawler.store import Database, StateStore, sqlite_url
from mamcrawler.store.decisions import DecisionStore
from mamcrawler.store.schema import DecisionDay, DecisionRow

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
KEY = "b" * 32
OUTCOMES = ("planned", "blocked", "guarded", "skipped", "capped")
PATHS = (
    "/api/vip/status",
    "/api/compliance/ratio",
    "/api/qbittorrent/status",
    "/api/decisions?limit=20",
    "/api/torrents",
    "/health",
    "/dashboard/live",
)


def snapshot(torrents: int = 300) -> FactSnapshot:
    return FactSnapshot(
        taken_at=NOW,
        account=Account(
            ratio=1.8,
            bonus_points=40_000,
            vip_until=NOW + timedelta(days=40),
            unsatisfied_count=12,
            unsatisfied_limit=150,
        ),
        releases=tuple(
            Release(
                id=f"r{i}",
                book_key=f"book {i}|author {i % 50}",
                title=f"Book {i}",
                authors=(f"Author {i % 50}",),
                bitrate_kbps=64 + 16 * (i % 6),
                seeders=i % 30,
                free=(FreeKind.SITE_FREELEECH if i % 4 == 0 else FreeKind.NONE),
            )
            for i in range(200)
        ),
        wants=tuple(
            Want(book_key=f"book {i}|author {i % 50}", title=f"Book {i}", authors=(f"Author {i % 50}",))
            for i in range(0, 200, 3)
        ),
        torrents=tuple(
            Torrent(
                hash=f"{i:040x}",
                name=f"Book {i}",
                state=TorrentState.SEEDING if i % 7 else TorrentState.DOWNLOADING,
                ratio=(i % 40) / 10,
                seeding_seconds=i * 3600,
                book_key=f"book {i}|author {i % 50}",
            )
            for i in range(torrents)
        ),
    )


def fill(db: Database, count: int) -> float:
    """``count`` decision rows (about 600 bytes of JSON each) and their day counts, in bulk."""
    body = DecisionRecord(
        decision_id="x",
        policy_hash="p" * 16,
        decided_at=NOW,
        subject_kind="book",
        subject_id="book 1|author 1",
        outcome="blocked",
        reason="ratio_at_or_near_floor",
        rule_id="ratio.freeze",
        facts={"account.ratio": 1.01, "ratio.floor": 1.0},
        trace=({"rule": "ratio.freeze", "matched": True},),
    ).to_json()
    started = time.perf_counter()
    days: dict[tuple[str, bool, str], int] = {}
    chunk = 20_000
    with db.engine.begin() as conn:
        for start in range(0, count, chunk):
            rows = []
            for n in range(start, min(count, start + chunk)):
                at = NOW - timedelta(seconds=(count - n) * 30)  # one record every 30 s: ~1 year
                outcome, dry = OUTCOMES[n % 5], n % 9 == 0
                rows.append(
                    {
                        "decision_id": f"{n:020x}",
                        "decided_at": at,
                        "dry_run": dry,
                        "policy_hash": "p" * 16,
                        "subject_kind": "book",
                        "subject_id": f"book {n % 5000}|author {n % 50}",
                        "outcome": outcome,
                        "reason": "ratio_at_or_near_floor",
                        "rule_id": "ratio.freeze",
                        "action_type": None,
                        "points": 0,
                        "record_json": body,
                    }
                )
                key = (at.date().isoformat(), dry, outcome)
                days[key] = days.get(key, 0) + 1
            conn.execute(insert(DecisionRow), rows)
        conn.execute(
            insert(DecisionDay),
            [
                {
                    "day": d,
                    "dry_run": dry,
                    "outcome": o,
                    "action_type": "",
                    "reason": "ratio_at_or_near_floor",
                    "decisions": c,
                    "points": 0,
                }
                for (d, dry, o), c in days.items()
            ],
        )
    return time.perf_counter() - started


def _board(directory: str) -> tuple[StatusBoard, DecisionStore, Database]:
    db = Database(sqlite_url(Path(directory) / "bench.sqlite"))
    decisions = DecisionStore(db)
    board = StatusBoard(StateStore(db), decisions=decisions)
    policy = load_policy("policies")
    snap = snapshot()
    board.publish(policy, snap, decide(policy, snap, now=NOW), CycleInfo(NOW, 2.0, False))
    return board, decisions, db


def serve(directory: str, port_out: Any, ready: Any, stop: Any) -> None:
    board, decisions, db = _board(directory)
    ctx = WebContext(
        board=board,
        decisions=decisions,
        clock=lambda: NOW + timedelta(minutes=3),
        api_key=KEY,
        hosts=allowed_hosts("127.0.0.1"),
    )
    server = WebServer(create_app(ctx), host="127.0.0.1", port=0, api_key=KEY)
    server.start()
    port_out.value = server.address[1]
    ready.set()
    stop.wait()
    server.stop()
    db.dispose()


def timed_loads(client: httpx.Client, path: str, times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return out


def summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ordered)})"


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; returns the status code."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Api-Key: {KEY}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    await reader.readexactly(length)
    return status


async def hammer(base: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` connections opened first (a light asyncio client, so the figures are the
    server's, not a heavy client library's), then requests back to back for ``seconds``."""
    host = base.removeprefix("http://")
    name, port = host.rsplit(":", 1)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    connections = [await asyncio.open_connection(name, int(port)) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def one(index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = index
        while time.perf_counter() < deadline:
            path = PATHS[n % len(PATHS)]
            n += 1
            started = time.perf_counter()
            try:
                status = await _get(reader, writer, host, path)
            except (OSError, asyncio.IncompleteReadError) as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                reader, writer = await asyncio.open_connection(name, int(port))
                continue
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(i, r, w) for i, (r, w) in enumerate(connections)))
    return {"elapsed": time.perf_counter() - started, "latencies": latencies, "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(sqlite_url(Path(tmp) / "bench.sqlite"))
        print(f"filling the store with {args.records:,} decision records …", flush=True)
        print(f"  filled in {fill(db, args.records):.1f} s; {DecisionStore(db).count():,} rows")
        db.dispose()

        ctx = multiprocessing.get_context("fork")
        port, ready, stop = ctx.Value("i", 0), ctx.Event(), ctx.Event()
        child = ctx.Process(target=serve, args=(tmp, port, ready, stop), daemon=True)
        child.start()
        if not ready.wait(120):
            print("the server did not start", file=sys.stderr)
            return 1
        base = f"http://127.0.0.1:{port.value}"
        print(f"\n1. with {args.records:,} records in the journal (goal: dashboard ≤ 200 ms)")
        with httpx.Client(base_url=base, headers={"X-Api-Key": KEY}, timeout=30) as client:
            timed_loads(client, "/", 3)  # warm the page cache
            print(f"  dashboard page  /                    {summary(timed_loads(client, '/', 30))}")
            print(f"  live part       /dashboard/live      {summary(timed_loads(client, '/dashboard/live', 30))}")
            print(f"  decisions page  /api/decisions       {summary(timed_loads(client, '/api/decisions', 30))}")
            print(
                f"  30-day report   /api/compliance/report {summary(timed_loads(client, '/api/compliance/report', 30))}"
            )
        board, decisions, db2 = _board(tmp)
        cold = []
        render_dashboard(board, decisions, now=NOW, api_key=KEY)  # templates compiled, pages read once
        for _ in range(20):
            started = time.perf_counter()
            render_dashboard(board, decisions, now=NOW, api_key=KEY)  # no cache: every query and the render
            cold.append((time.perf_counter() - started) * 1000)
        db2.dispose()
        print(f"  uncached render (in-process, every query + template) {summary(cold)}")
        sample = 100_000
        jsonl = Path(tmp) / "old.jsonl"
        line = DecisionRecord(
            decision_id="x",
            policy_hash="p" * 16,
            decided_at=NOW,
            subject_kind="book",
            subject_id="book 1|author 1",
            outcome="blocked",
            reason="r",
        ).to_json()
        jsonl.write_text((line + "\n") * sample, encoding="utf-8")
        started = time.perf_counter()
        with jsonl.open(encoding="utf-8") as handle:
            read_journal(handle)
        old = (time.perf_counter() - started) * 1000 * (args.records / sample)
        print(f"  before (JSONL re-read every load, {sample:,} lines measured, scaled): {old:,.0f} ms a load")

        print(f"\n2. {args.clients} concurrent clients for {args.seconds:.0f} s, one connection each, loopback")
        result = asyncio.run(hammer(base, args.clients, args.seconds))
        lat = sorted(result["latencies"])
        pct = {p: lat[min(len(lat) - 1, int(len(lat) * p / 100))] for p in (50, 95, 99)} if lat else {}
        print(
            f"  answers {len(lat):,} in {result['elapsed']:.1f} s = {len(lat) / result['elapsed']:,.0f}/s; "
            f"errors {result['errors'] or 'none'}"
        )
        if pct:
            print(
                f"  latency p50 {pct[50]:.0f} ms   p95 {pct[95]:.0f} ms   p99 {pct[99]:.0f} ms   max {lat[-1]:.0f} ms"
            )
        stop.set()
        child.join(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
