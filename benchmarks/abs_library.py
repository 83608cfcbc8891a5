"""Reading a real Audiobookshelf library of 2,000 generated items (one tiny MP3 each, in
``Author/Title/`` folders) with the adapter: items per second on a first read (listing +
full items in batches) and on a cycle where nothing changed, the requests each costs
(goal when nothing changed: one listing request per library, no detail request), the
requests after one item changed — and, side by side, the previous way of reading (pages
of 100, then one ``GET /api/items/:id`` per item). Requests are counted by a recording
proxy in separate runs so that it does not slow the timed ones. Figures printed, nothing
asserted. Starts its own server (installed by the vendored script if needed).

Run: ``.venv/bin/python benchmarks/abs_library.py [--items 2000]``"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from abs_books import tiny_mp3  # noqa: E402
from abs_server import AbsServer, audiobookshelf  # noqa: E402
from recording_proxy import ProxyState, recording_proxy  # noqa: E402

from mamcrawler.adapters.audiobookshelf import AbsClient  # noqa: E402


def make_library(root: Path, count: int) -> None:
    source = tiny_mp3(root.parent / "tiny.mp3")
    for n in range(count):
        folder = root / f"Author {n // 10:04d}" / f"Book {n:05d}"
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / "book.mp3")


def previous_way(server: AbsServer, library_id: str) -> int:
    """Pages of 100, then every item one by one (what the client did before); items read."""
    headers = {"Authorization": f"Bearer {server.api_key}"}
    count = 0
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        page = 0
        while True:
            params = {"limit": 100, "page": page, "sort": "addedAt"}
            body = http.get(f"/api/libraries/{library_id}/items", params=params).json()
            for entry in body["results"]:
                http.get(f"/api/items/{entry['id']}", params={"expanded": 1}).raise_for_status()
                count += 1
            page += 1
            if page * 100 >= body["total"]:
                return count


def timed(label: str, read: Callable[[], int], reference: float | None = None) -> float:
    start = time.perf_counter()
    count = read()
    seconds = time.perf_counter() - start
    ratio = f"   ({reference / seconds:5.1f}× the previous way)" if reference else ""
    print(f"  {label:42s} {count:6d} items  {seconds:7.2f} s  {count / seconds:8.0f} items/s{ratio}")
    return seconds


def counted(log: ProxyState, since: int) -> str:
    recent = log.log[since:]
    listing = sum(1 for r in recent if r.method == "GET" and r.path.endswith("/items"))
    details = sum(1 for r in recent if r.path.startswith("/api/items/"))
    not_modified = sum(1 for r in recent if r.status == 304)
    return f"{len(recent):4d} requests: {listing} listing ({not_modified} answered 304), {details} detail"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="abs-bench-") as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        make_library(base / "library", args.items)
        made = time.perf_counter() - t0
        with audiobookshelf(base / "abs") as server:
            library_id = server.create_library("Bench", base / "library")["id"]
            t0 = time.perf_counter()
            server.scan(library_id, timeout=3600)
            scanned = time.perf_counter() - t0
            total = len(server.items(library_id))
            print(f"library: {total} items ({args.items} folders made in {made:.1f} s, ABS scan {scanned:.0f} s)")
            print("timed reads")
            before = timed("previous way (pages of 100, item by item)", lambda: previous_way(server, library_id))
            client = AbsClient(server.url, server.api_key, timeout=120)
            timed("first read (listing + batches of 200)", lambda: len(client.items(library_id).items), before)
            timed("next cycle, nothing changed", lambda: len(client.items(library_id).items), before)
            client.close()
            print("requests per cycle (counted through a recording proxy)")
            with recording_proxy() as (proxy, log):
                client = AbsClient(server.url, server.api_key, proxy=proxy, timeout=120)
                client.items(library_id)
                print(f"  first read                  {counted(log, 0)}")
                mark = len(log.log)
                client.items(library_id)
                print(f"  nothing changed             {counted(log, mark)}   (goal: 1 listing, 0 detail)")
                first = server.items(library_id)[0]["id"]
                client.update_metadata(first, {"description": "changed once"})
                mark = len(log.log)
                client.items(library_id)
                print(f"  one item changed            {counted(log, mark)}")
                client.close()


if __name__ == "__main__":
    main()
