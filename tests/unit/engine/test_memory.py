"""``memory_after``: the one statement of what each action does to the engine's memory —
every action class is handled (a new one without a case fails here and in mypy); before
the call leaves a purchase is in doubt and a pause is remembered as mamcrawler's own; an
applied action has its effect and lifts the doubt; an unconfirmed one changes nothing; one
provably not made lifts the doubt and the pause; and the simulated world remembers exactly
what folding ``memory_after`` over its applied actions gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mamcrawler.engine import load_policy
from mamcrawler.engine.actions import (
    ACTION_CLASSES,
    Action,
    AddTorrent,
    AddToVipPending,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    FreezeDownloads,
    PauseTorrent,
    RemoveTorrent,
    ResumeTorrent,
    SetSeedingAllocation,
    UnfreezeDownloads,
)
from mamcrawler.engine.memory import memory_after
from mamcrawler.facts import Memory
from mamcrawler.sim.run import simulate
from mamcrawler.sim.scenario_file import load_scenario

H = "a" * 40
SAMPLE_ARGS: dict[str, dict[str, Any]] = {
    "BuyVip": {"weeks": 1, "cost_points": 1250},
    "BuyUploadCredit": {"gib": 2, "cost_points": 1000},
    "BuyPersonalFreeleech": {"release_id": "r1", "method": "points", "cost_points": 500},
    "AddTorrent": {"release_id": "r1", "book_key": "b|a", "source": "tracker", "free": True},
    "AddToVipPending": {"release_id": "r1", "book_key": "b|a"},
    "AddToWishlist": {"book_key": "b|a", "want_source": "wishlist"},
    "ReplaceEdition": {"library_item_id": "li", "release_id": "r1", "book_key": "b|a"},
    "ResumeTorrent": {"hash": H},
    "PauseTorrent": {"hash": H},
    "Reannounce": {"hash": H},
    "SetSeedingAllocation": {"upload_slots": 40},
    "RemoveTorrent": {"hash": H},
    "Alert": {"code": "x"},
    "SwapEdition": {"torrent_hash": H, "library_item_id": "li"},
    "RefuseEdition": {"torrent_hash": H, "library_item_id": "li"},
    "MarkReleaseBad": {"torrent_hash": H, "reason": "undecodable"},
    "AcceptDownload": {"torrent_hash": H},
    "UpdateMetadata": {"library_item_id": "li", "field": "title", "value": "T", "source": "provider"},
}


def sample(name: str) -> Action:
    return ACTION_CLASSES[name].model_validate(SAMPLE_ARGS.get(name, {}))  # type: ignore[return-value]


PURCHASES = ("BuyVip", "BuyUploadCredit", "BuyPersonalFreeleech")


@pytest.mark.parametrize("name", sorted(ACTION_CLASSES))
def test_every_action_has_a_memory_effect_at_each_moment(name: str) -> None:
    before = Memory(frozen_torrent_hashes=(H,), pending_release_ids=("r1",))
    action = sample(name)
    memory_after(before, action, "applied")  # a missing case raises (assert_never)
    assert memory_after(before, action, "sent_unconfirmed") is before  # nothing known yet
    sent = memory_after(before, action, "before_send")
    if name in PURCHASES or name == "PauseTorrent" or (name == "AddTorrent" and action.wedge != "none"):
        assert sent != before or name == "PauseTorrent"  # the pause is already remembered here
    else:
        assert sent is before  # only purchases and pauses are remembered before the call leaves
    for outcome in ("failed", "refused", "rolled_back"):
        after = memory_after(sent, action, outcome)  # type: ignore[arg-type]
        if name == "PauseTorrent":
            assert after.frozen_torrent_hashes == ()  # refused or never made: not ours
        else:
            assert after == before  # provably not made: the doubt is lifted, nothing counted


def test_a_purchase_is_in_doubt_from_before_the_send_until_its_outcome() -> None:
    pfl = BuyPersonalFreeleech(release_id="r9", method="points", cost_points=500)
    sent = memory_after(Memory(), pfl, "before_send")
    assert sent.purchases_in_doubt == ("pfl:r9",)
    assert memory_after(sent, pfl, "sent_unconfirmed").purchases_in_doubt == ("pfl:r9",)
    made = memory_after(sent, pfl, "applied")
    assert (made.purchases_in_doubt, made.points_spent_today, made.bought_release_ids) == ((), 500, ("r9",))
    vip = BuyVip(weeks=1, cost_points=1250)
    bought = memory_after(memory_after(made, vip, "before_send"), vip, "applied")
    assert bought.purchases_in_doubt == () and bought.points_spent_today == 500  # VIP is not a daily spend


def test_a_download_that_spends_a_wedge_is_in_doubt_until_the_tracker_settles_it() -> None:
    flagged = AddTorrent(release_id="r7", book_key="b|a", source="tracker", free=True, wedge="flag")
    sent = memory_after(Memory(), flagged, "before_send")
    assert sent.purchases_in_doubt == ("wedge:r7",)
    assert memory_after(sent, flagged, "sent_unconfirmed").purchases_in_doubt == ("wedge:r7",)
    assert memory_after(sent, flagged, "failed") == Memory()  # never sent: nothing spent, nothing counted
    added = memory_after(sent, flagged, "applied")
    assert (added.purchases_in_doubt, added.downloads_today) == ((), 1)
    spent = memory_after(sent, flagged, "wedge_spent")  # the wedge bought freeleech, no torrent added
    assert (spent.purchases_in_doubt, spent.bought_release_ids, spent.downloads_today) == ((), ("r7",), 0)
    plain = flagged.model_copy(update={"wedge": "none"})
    assert memory_after(Memory(), plain, "before_send") == Memory()  # no wedge, no doubt


def test_effects() -> None:
    m = Memory(pending_release_ids=("r1", "r2"))
    m = memory_after(m, FreezeDownloads(), "applied")
    assert m.downloads_frozen
    assert not memory_after(m, UnfreezeDownloads(), "applied").downloads_frozen
    m = memory_after(m, PauseTorrent(hash=H), "applied")
    assert m.frozen_torrent_hashes == (H,)
    assert memory_after(m, ResumeTorrent(hash=H), "applied").frozen_torrent_hashes == ()
    assert memory_after(m, RemoveTorrent(hash=H), "applied").frozen_torrent_hashes == ()
    m = memory_after(m, AddTorrent(release_id="r1", book_key="b|a", source="tracker", free=False), "applied")
    assert (m.downloads_today, m.pending_release_ids) == (1, ("r2",))
    m = memory_after(m, BuyPersonalFreeleech(release_id="r3", method="wedge"), "applied")
    assert (m.points_spent_today, m.purchases_today, m.bought_release_ids) == (0, 1, ("r3",))
    m = memory_after(m, BuyUploadCredit(gib=2, cost_points=1000), "applied")
    assert (m.points_spent_today, m.purchases_today) == (1000, 2)
    after_vip = memory_after(m, BuyVip(weeks=1, cost_points=1250), "applied")
    assert after_vip == m.model_copy(update={"vip_purchases_today": 1})  # not a daily spend; counted apart
    assert memory_after(m, AddToVipPending(release_id="r4", book_key="c|d"), "applied").pending_release_ids == (
        "r2",
        "r4",
    )
    assert memory_after(m, SetSeedingAllocation(upload_slots=60), "applied").upload_slots == 60


def test_the_simulated_world_remembers_what_memory_after_says() -> None:
    root = Path(__file__).resolve().parents[3]
    scenario = load_scenario(root / "scenarios" / "ratio_emergency.yaml")
    result = simulate(scenario, load_policy(root / "policies"))
    assert result.applied
    folded = Memory(upload_slots=scenario.upload_slots)
    day = scenario.start.date()
    for at, action in result.applied:
        if at.date() != day:
            folded = folded.model_copy(update={"downloads_today": 0, "points_spent_today": 0, "purchases_today": 0})
            day = at.date()
        folded = memory_after(folded, action, "applied")
    end = result.world.memory()
    assert (end.downloads_frozen, end.frozen_torrent_hashes, end.bought_release_ids, end.pending_release_ids) == (
        folded.downloads_frozen,
        folded.frozen_torrent_hashes,
        folded.bought_release_ids,
        folded.pending_release_ids,
    )
