"""One search result as the tracker's JSON search answers it (``/tor/js/loadSearchJSONbasic.php``
``data`` entries): strings where the site sends strings, JSON-in-a-string for the author,
narrator and media info — for the tests that feed the tracker fake a week's listings."""

from __future__ import annotations

import json
from typing import Any


def search_result(
    tid: int,
    title: str,
    author: str,
    *,
    category: int = 47,
    free: bool = False,
    kbps: int = 128,
    snatched: int = 100,
) -> dict[str, Any]:
    return {
        "id": tid,
        "title": title,
        "author_info": json.dumps({str(tid): author}),
        "narrator_info": json.dumps({"9": "Test Reader"}),
        "series_info": "",
        "added": "2026-11-20 10:00:00",
        "size": "300.0 KiB",
        "numfiles": 1,
        "filetype": "mp3",
        "seeders": 5,
        "leechers": 2,
        "times_completed": snatched,
        "free": int(free),
        "personal_freeleech": 0,
        "fl_vip": 0,
        "vip": 0,
        "category": category,
        "main_cat": 13,
        "browseflags": 0,
        "mediainfo": json.dumps({"General": {"Duration": "1h 0mn"}, "Audio1": {"BitRate": f"{kbps} kb/s"}}),
    }
