"""The hit-and-run forecaster over a simulated three days, hour by hour: slots free at the
hours it predicted (when seeding snatches reach 72 h), new snatches are scheduled into
them, and the policy's alert fires for an inactive unsatisfied torrent well before the
last hour at which resuming it could still avoid a hit-and-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mamcrawler.engine import decide, load_policy
from mamcrawler.engine.actions import Alert
from mamcrawler.engine.economy.forecast import SlotForecast, forecast_slots
from mamcrawler.facts import Account, FactSnapshot, Torrent, TorrentState, UserClass

START = datetime(2026, 11, 25, 12, tzinfo=UTC)
H = 3600


def torrent(
    letter: str, state: TorrentState, seeded_h: float, snatched_days_ago: float, progress: float = 1.0
) -> Torrent:
    return Torrent(
        hash=letter * 40,
        name=f"T{letter}",
        state=state,
        progress=progress,
        size_bytes=10**8,
        seeding_seconds=int(seeded_h * H),
        completed_at=START - timedelta(days=snatched_days_ago),
    )


def world_at(hour: int) -> tuple[tuple[Torrent, ...], int]:
    """The client after ``hour`` hours: seeding torrents accumulate seed time; the tracker's
    unsatisfied count = 130 snatches elsewhere (clearing later) + the client's unsatisfied."""
    base = {
        "a": torrent("a", TorrentState.SEEDING, 60, 3),  # clears at +12 h
        "b": torrent("b", TorrentState.STALLED_UPLOAD, 10, 1),  # clears at +62 h
        "c": torrent("c", TorrentState.PAUSED_UPLOAD, 10, 25),  # inactive: deadline +120 h, act by +58 h
        "d": torrent("d", TorrentState.DOWNLOADING, 0, 0, progress=0.5),  # still downloading
    }
    out = []
    for t in base.values():
        seeding = t.state in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)
        out.append(t.model_copy(update={"seeding_seconds": t.seeding_seconds + (hour * H if seeding else 0)}))
    unsat = 130 + sum(1 for t in out if t.seeding_seconds < 72 * H)
    return tuple(out), unsat


def test_slots_free_at_the_predicted_hours_and_new_snatches_are_scheduled_into_them() -> None:
    torrents, unsat = world_at(0)
    slots = forecast_slots(torrents, START, unsatisfied=unsat, limit=150, buffer=10, min_seed_hours=72, window_days=30)
    assert slots.free_now == 150 - 10 - unsat == 6
    assert slots.frees_at == (START + timedelta(hours=12), START + timedelta(hours=62))
    starts = slots.schedule(8)
    assert starts[:6] == (START,) * 6 and starts[6:] == (START + timedelta(hours=12), START + timedelta(hours=62))
    assert slots.schedule(9)[8] is None  # nothing else frees on its own: c is paused, d still downloading
    (c,) = slots.at_risk(warn_hours=60)
    assert c.name == "Tc" and c.hours_to_act == 120 - 62 and c.deadline == START + timedelta(hours=120)
    # replay the hours: the free slot count rises exactly at the predicted hours
    free = [forecast_slots_at(h).free_now for h in range(0, 70)]
    rises = [h for h in range(1, 70) if free[h] > free[h - 1]]
    assert rises == [12, 62]


def forecast_slots_at(hour: int) -> SlotForecast:
    torrents, unsat = world_at(hour)
    return forecast_slots(
        torrents,
        START + timedelta(hours=hour),
        unsatisfied=unsat,
        limit=150,
        buffer=10,
        min_seed_hours=72,
        window_days=30,
    )


def test_the_policy_alerts_before_the_hit_and_run() -> None:
    policy = load_policy("policies")
    account = Account(
        user_class=UserClass.VIP,
        ratio=2.0,
        uploaded_bytes=2 * 10**12,
        downloaded_bytes=10**12,
        bonus_points=10000,
        vip_until=START + timedelta(days=80),
        unsatisfied_count=134,
        unsatisfied_limit=150,
    )
    first_alert = None
    for hour in range(0, 121):
        torrents, _ = world_at(hour)
        now = START + timedelta(hours=hour)
        batch = decide(policy, FactSnapshot(taken_at=now, account=account, torrents=torrents), now=now)
        alerts = [r for r in batch.planned() if any(isinstance(a, Alert) for a in r.actions)]
        if alerts:
            assert {r.subject_id for r in alerts} == {"c" * 40}  # only the inactive one
            assert alerts[0].rule_id == "hit_and_run_ahead"
            first_alert = hour if first_alert is None else first_alert
    # hnr_warn_hours = 48: the alert starts 48 h before the last hour resuming it can help (58 h)
    assert first_alert == 10
    assert first_alert < 58 < 120


def test_new_snatches_go_only_into_free_slots() -> None:
    from mamcrawler.facts import FreeKind, Release, Want

    policy = load_policy("policies")
    account = Account(
        user_class=UserClass.VIP,
        ratio=2.0,
        uploaded_bytes=2 * 10**12,
        downloaded_bytes=10**12,
        bonus_points=10000,
        vip_until=START + timedelta(days=80),
        unsatisfied_count=138,  # 150 − 10 buffer − 138 = 2 slots free
        unsatisfied_limit=150,
    )
    releases = tuple(
        Release(id=f"r{i}", book_key=f"b{i}|a", title=f"B{i}", bitrate_kbps=128, free=FreeKind.SITE_FREELEECH)
        for i in range(4)
    )
    wants = tuple(Want(book_key=r.book_key, title=r.title) for r in releases)
    snapshot = FactSnapshot(taken_at=START, account=account, releases=releases, wants=wants)
    batch = decide(policy, snapshot, now=START)
    assert len([a for a in batch.actions if a.type == "AddTorrent"]) == 2
    assert sum(r.reason == "guard_unsatisfied_limit" for r in batch.records) == 2
