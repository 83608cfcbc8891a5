"""The tracker adapter over real sockets against the loopback fake: every endpoint, every
hostile variant (a clear error code or a critical block, nothing bought, nothing lost),
cookie rotation persisted in the real store and used after a restart, politeness
measured from the fake's request log, and Prowlarr never seeing the tracker cookie."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from prowlarr_fake import prowlarr_fake
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.adapters.mam import (
    RULES_PAGES,
    MamClient,
    Politeness,
    PolitenessLimits,
    browse_url,
    category_query,
    detect_events,
    page_text,
    snapshot_of,
)
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.errors import (
    CriticalBlock,
    PurchaseUnconfirmed,
    ServiceError,
    ServiceProtocolError,
    ServiceThrottled,
    ServiceUnavailable,
)
from mamcrawler.facts import EventKind, FreeKind, UserClass
from mamcrawler.store import Database, StateStore, StoredCookie

pytestmark = pytest.mark.integration
FAST = PolitenessLimits(
    min_spacing_s=0.02,
    max_spacing_s=0.04,
    long_pause_every=(5, 8),
    long_pause_s=(0.1, 0.12),
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    max_retries=3,
    slow_mode_after=2,
)
CATEGORIES = {41: "Fantasy", 47: "Science Fiction"}


@pytest.fixture
def fake() -> Iterator[tuple[str, TrackerState]]:
    with tracker_fake() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> StoredCookie:
    return StoredCookie(StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}")), lambda: datetime.now(UTC))


def client(url: str, store: StoredCookie | None = None, *, timeout: float = 5.0) -> MamClient:
    return MamClient(url, "cookie-0", cookies=store, politeness=Politeness(FAST), timeout=timeout)


def test_search_reads_the_documented_shapes(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    mam = client(url)
    page = mam.search(category_query([41, 47], "WEEK", date(2026, 11, 25), CATEGORIES))
    mam.close()
    by_id = {r.tracker_id: r for r in page.releases}
    assert set(by_id) == {700101, 700102, 700103}
    assert page.skipped == ("result 3: no id or title",)
    wind = by_id[700101]
    assert (wind.title, wind.authors, wind.narrators) == (
        "The Name of the Wind",
        ("Patrick Rothfuss",),
        ("Nick Podehl",),
    )
    assert (wind.series, wind.series_number, wind.bitrate_kbps) == ("The Kingkiller Chronicle", 1.0, 128)
    assert wind.duration_seconds == 27 * 3600 + 55 * 60 and wind.free is FreeKind.VIP_FREELEECH
    assert wind.size_bytes == int(1.2 * 1024**3) and wind.seeders == 143 and wind.snatches == 2210
    assert wind.book_key == "the name of the wind|patrick rothfuss" and wind.abridged is False
    phm = by_id[700102]
    assert phm.size_bytes == int(1018.3 * 1024**2) and phm.category_id == 47 and phm.free is FreeKind.NONE
    dune = by_id[700103]
    assert dune.title == "Dune & Other Stories (Abridged)" and dune.abridged is True
    assert dune.narrators == () and dune.series_number is None  # malformed narrators, a range: unknown
    assert dune.single_file is False and dune.free is FreeKind.SITE_FREELEECH
    query = next(q for q in state.log if q.path == "/tor/js/loadSearchJSONbasic.php").query
    assert ("tor[cat][]", "41") in query and ("tor[sortType]", "snatchedDesc") in query
    assert ("tor[startDate]", "2026-11-18") in query and ("tor[endDate]", "2026-11-25") in query


def test_nothing_returned_is_an_empty_page_and_a_missing_category_an_error(fake: tuple[str, TrackerState]) -> None:
    url, _ = fake
    mam = client(url)
    params = category_query([41], "WEEK", date(2026, 11, 25), CATEGORIES)
    params = [(k, "no such book" if k == "tor[text]" else v) for k, v in params]
    assert mam.search(params).releases == ()
    mam.close()
    with pytest.raises(ValueError, match="category id"):
        category_query([41, 999], "WEEK", date(2026, 11, 25), CATEGORIES)
    link = browse_url("https://www.myanonamouse.net", category_query([41], "ALL", date(2026, 11, 25), CATEGORIES))
    assert link.startswith("https://www.myanonamouse.net/tor/browse.php?tor%5Btext%5D=&")
    assert "tor%5BstartDate%5D=2008-01-01" in link


def test_account_with_snatch_summary(fake: tuple[str, TrackerState]) -> None:
    mam = client(fake[0])
    acc = mam.account()
    mam.close()
    assert acc.username == "listener" and acc.user_class is UserClass.VIP
    assert acc.ratio == pytest.approx(1.873) and acc.bonus_points == 64210 and acc.wedges == 1
    assert acc.vip_until == datetime(2027, 1, 10, 18, 22, 5, tzinfo=UTC)
    assert (acc.unsatisfied_count, acc.unsatisfied_limit) == (4, 150)
    assert (acc.inactive_unsatisfied_count, acc.hit_and_run_count) == (2, 1)  # inactUnsat; seedHnr + inactHnr


def test_purchases_change_the_account_and_refusals_are_errors(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    mam = client(url)
    assert mam.buy_vip(4)["success"] is True
    assert mam.buy_upload_credit(50)["success"] is True
    assert mam.purchase_seen("upload", "50") is True and mam.purchase_seen("upload", "60") is False
    state.hostile["/json/bonusBuy.php"] = "refuse:Not enough bonus"
    with pytest.raises(ServiceError) as refused:
        mam.buy_vip(12)
    assert refused.value.code == "purchase_refused" and "Not enough bonus" in str(refused.value)
    state.hostile["/json/bonusBuy.php"] = "success_string_false"  # applied; "false" is not an explicit false
    with pytest.raises(PurchaseUnconfirmed, match="purchase_unconfirmed"):
        mam.buy_upload_credit(50)
    mam.close()
    assert [p["type"] for p in state.purchases] == ["VIP", "upload", "upload"]


def test_personal_freeleech_uses_the_timestamped_path(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    mam = MamClient(url, "cookie-0", politeness=Politeness(FAST), epoch_ms=lambda: 1_764_000_000_000)
    mam.buy_personal_freeleech(700102, use_wedge=True)
    assert mam.purchase_seen("personal_freeleech", "700102") is True
    mam.close()
    bought = next(q for q in state.log if q.path.startswith("/json/bonusBuy.php"))
    assert bought.path == "/json/bonusBuy.php/1764000000"
    assert ("torrentid", "700102") in bought.query and ("timestamp", "1764000000") in bought.query


def test_torrent_download_and_its_failures(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    state.torrents[700101] = b"d8:announce3:url4:infod4:name1:xee"
    mam = client(url)
    assert mam.download_torrent(700101).startswith(b"d8:announce")
    with pytest.raises(ServiceError) as gone:
        mam.download_torrent(404404)
    assert gone.value.code == "torrent_gone"
    state.hostile["/tor/download.php"] = "html"
    with pytest.raises(ServiceProtocolError) as html:
        mam.download_torrent(700101)
    assert html.value.code == "not_a_torrent"
    mam.close()


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("huge", "answer_too_large"),
        ("storm:9", "throttled"),
        ("error:9", "server_error"),
    ],
)
def test_hostile_answers_become_clear_errors(fake: tuple[str, TrackerState], mode: str, code: str) -> None:
    url, state = fake
    state.hostile["/jsonLoad.php"] = mode
    mam = client(url)
    with pytest.raises(ServiceError) as caught:
        mam.account()
    mam.close()
    assert caught.value.code == code
    if mode.startswith(("storm", "error")):
        assert isinstance(caught.value, ServiceThrottled)


def test_a_short_storm_is_ridden_out_with_backoff_and_slow_mode(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    state.hostile["/jsonLoad.php"] = "storm:2"
    mam = client(url)
    assert mam.account().username == "listener"
    assert mam.polite.slow_mode  # two throttled answers in a row: spacing doubled from now on
    mam.close()
    times = [q.at for q in state.log if q.path == "/jsonLoad.php"]
    assert len(times) == 3 and times[1] - times[0] >= FAST.backoff_base_s


def test_slow_answer_times_out_as_unavailable(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    state.hostile["/jsonLoad.php"] = "slow:2"
    mam = client(url, timeout=0.5)
    with pytest.raises(ServiceUnavailable) as caught:
        mam.account()
    mam.close()
    assert caught.value.code == "timeout"


def test_forbidden_is_a_critical_block_that_stays(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    state.hostile["*"] = "forbidden"
    mam = client(url)
    with pytest.raises(CriticalBlock):
        mam.account()
    state.hostile.clear()
    with pytest.raises(CriticalBlock):
        mam.buy_vip(4)  # blocked until a human fixes the session: nothing is sent
    mam.close()
    assert not any(q.path.startswith("/json/bonusBuy.php") for q in state.log)
    assert state.purchases == []


def test_tracker_down_is_unavailable() -> None:
    with tracker_fake() as (url, _):
        pass  # stopped: the port no longer answers
    mam = client(url)
    with pytest.raises(ServiceUnavailable) as caught:
        mam.account()
    mam.close()
    assert caught.value.code == "unreachable"


def test_rotated_cookie_is_persisted_and_used_next_also_after_restart(
    fake: tuple[str, TrackerState], store: StoredCookie
) -> None:
    url, state = fake
    mam = client(url, store)
    mam.account()
    mam.account()
    mam.close()
    sent = [q.cookie for q in state.log]
    assert sent == ["mam_id=cookie-0", "mam_id=cookie-1"]  # each answer's new value is used next
    assert store.load() == "cookie-2"
    state.cookies = ["cookie-2"]  # the configured cookie-0 is long dead on the site
    restarted = client(url, store)
    restarted.account()
    restarted.close()
    assert state.log[-1].cookie == "mam_id=cookie-2"


def test_stale_stored_cookie_falls_back_to_the_configured_one(
    fake: tuple[str, TrackerState], store: StoredCookie
) -> None:
    url, state = fake
    store.save("cookie-from-another-machine")
    mam = client(url, store)
    assert mam.account().username == "listener"
    mam.close()
    assert [q.cookie for q in state.log] == ["mam_id=cookie-from-another-machine", "mam_id=cookie-0"]


def test_politeness_limits_hold_in_the_request_log(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    mam = client(url)
    threads = [threading.Thread(target=mam.account) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mam.close()
    times = [q.at for q in state.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 12 and not any(q.overlapped for q in state.log)  # one request in flight
    assert min(gaps) >= FAST.min_spacing_s * 0.9
    assert max(gaps) >= FAST.long_pause_s[0] * 0.9  # a longer pause within every 5–8 requests
    assert sum(mam.polite.per_day.values()) == 12


def test_rules_snapshot_and_events_come_from_notices_only(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    mam = client(url)
    pages = [page_text(name, html) for name, html in mam.rules_pages(RULES_PAGES)]
    quiet = snapshot_of(pages, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert detect_events(pages, datetime(2026, 11, 25, 12, tzinfo=UTC)) == ()  # "freeleech" in every page text
    assert len(quiet.pages) == 7 and all("var x" not in p.text for p in pages)
    fixtures = Path(__file__).resolve().parents[2] / "fakes" / "fixtures" / "mam" / "rules"
    state.rules["announcements"] = (fixtures / "announcements_event.html").read_text()
    pages = [page_text(name, html) for name, html in mam.rules_pages(RULES_PAGES)]
    mam.close()
    changed = snapshot_of(pages, datetime(2026, 11, 26, 12, tzinfo=UTC))
    assert changed.content_hash != quiet.content_hash
    events = {e.kind: e for e in detect_events(pages, datetime(2026, 11, 26, 12, tzinfo=UTC))}
    assert set(events) == {EventKind.FREELEECH, EventKind.BONUS}
    assert events[EventKind.FREELEECH].ends_at == datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert events[EventKind.BONUS].multiplier == 2.0


def test_prowlarr_search_keeps_unknowns_and_never_sees_the_tracker_cookie(fake: tuple[str, TrackerState]) -> None:
    with prowlarr_fake() as (purl, pstate):
        mam = client(fake[0])
        mam.account()
        prowlarr = ProwlarrClient(purl, "prowlarr-key")
        found = prowlarr.search(
            "The Name of the Wind Patrick Rothfuss", book_key="the name of the wind|patrick rothfuss"
        )
        pstate.mode = "html"
        with pytest.raises(ServiceProtocolError):
            prowlarr.search("x", book_key="x|y")
        pstate.mode, pstate.api_key = "ok", "rotated"
        with pytest.raises(CriticalBlock):
            prowlarr.search("x", book_key="x|y")
        prowlarr.close()
        mam.close()
    assert [r.id for r in found] == ["mam-700101", found[1].id]
    mam_release = found[0]
    assert mam_release.tracker_id == 700101 and mam_release.free is FreeKind.SITE_FREELEECH
    assert mam_release.narrators == () and mam_release.bitrate_kbps is None and mam_release.abridged is None
    assert ("categories", "3030") in pstate.requests[0]["query"]
    assert all("cookie" not in r["headers"] for r in pstate.requests)
    assert all(r["headers"].get("x-api-key") for r in pstate.requests)


def test_a_wedge_purchase_without_a_wedge_is_refused_before_it_costs_points(fake: tuple[str, TrackerState]) -> None:
    url, state = fake
    state.account["wedges"] = "0"  # the decision saw a wedge; it was spent since
    mam = client(url)
    with pytest.raises(ServiceError) as caught:
        mam.buy_personal_freeleech(700102, use_wedge=True)
    mam.close()
    assert caught.value.code == "no_wedge_left"
    assert state.purchases == [] and not any(q.path.startswith("/json/bonusBuy.php") for q in state.log)


def test_a_purchase_whose_answer_never_arrives_is_unavailable_and_visible_in_history(
    fake: tuple[str, TrackerState],
) -> None:
    url, state = fake
    state.hostile["/json/bonusBuy.php"] = "drop"  # made on the site, the connection then dies
    mam = client(url)
    with pytest.raises(ServiceUnavailable):
        mam.buy_upload_credit(50)
    assert mam.purchase_seen("upload", "50") is True  # what reconciliation reads: never buy again
    mam.close()
    assert [p["type"] for p in state.purchases] == ["upload"]
