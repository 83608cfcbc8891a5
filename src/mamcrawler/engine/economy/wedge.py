"""The wedge at download time (MAM_API.md "Changes seen in 2026"): which releases are free
for *this* account, whether a wedge is worth spending on a chosen paid release (the value
gate), and what an ``AddTorrent`` for it means — spent by our download flag, spent by the
site's auto-wedge preference, or a download that costs ratio.

The gate answers with the one condition that decided, so the record can say it:
``free_for_account`` (site / global / personal freeleech, or VIP-freeleech / a VIP
torrent for a VIP-class member), ``below_size_floor``, ``wedge_reserve``, ``no_wedge``,
``size_unknown``, ``auto_wedge`` (the site spends one on every paid download by itself),
``auto_wedge_none_left`` (it would, but none is left: the download costs ratio), or
``spend``. Imports ``facts`` and the rules' row types only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mamcrawler.engine.policy.params import FreeFirstParams
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.facts import FreeKind, Release, UserClass

GIB = 1024**3
WedgeWay = Literal["none", "flag", "auto"]
_VIP_CLASSES = frozenset({UserClass.VIP, UserClass.ELITE_VIP, UserClass.STAFF})
SPEND_GATES = frozenset({"spend", "auto_wedge"})


def is_vip_member(user_class: str | None, is_vip: Scalar | None) -> bool:
    """VIP class by name, or VIP time left on the account."""
    return is_vip is True or (user_class is not None and user_class in {c.value for c in _VIP_CLASSES})


_FREE_FOR_ALL = frozenset({FreeKind.SITE_FREELEECH, FreeKind.GLOBAL_FREELEECH, FreeKind.PERSONAL_FREELEECH})


def listed_free(release: Release, vip_member: bool) -> bool:
    """The listing's freeleech holds for this account: site, global or personal freeleech
    for anyone, VIP freeleech only for a VIP member (``candidate.is_free``)."""
    return release.free in _FREE_FOR_ALL or (vip_member and release.free is FreeKind.VIP_FREELEECH)


def free_for_account(release: Release, vip_member: bool) -> bool:
    """Costs this account no ratio (its listing is free for it, or a VIP torrent for a VIP
    member): a wedge on it would be wasted."""
    return listed_free(release, vip_member) or (vip_member and release.vip_only)


def vip_member_in(row: Mapping[str, Scalar | None]) -> bool:
    """The account the row shows is a VIP member; unknown counts as not (fail closed: VIP
    freeleech is then paid)."""
    return is_vip_member(_str(row.get("account.user_class")), row.get("account.is_vip"))


def free_here(release: Release, row: Mapping[str, Scalar | None]) -> bool:
    """``free_for_account`` for the account the row shows."""
    return free_for_account(release, vip_member_in(row))


def wedge_gate(release: Release, shared: Mapping[str, Scalar | None], params: FreeFirstParams) -> str | None:
    """The one condition that decides whether a wedge goes on ``release``; None when the
    account is unknown (rules then fail closed)."""
    wedges = shared.get("account.wedges")
    if not isinstance(wedges, int | float):
        return None
    if free_here(release, shared):
        return "free_for_account"
    if shared.get("account.auto_wedge") is True:
        return "auto_wedge" if wedges >= 1 else "auto_wedge_none_left"
    if wedges < 1:
        return "no_wedge"
    if wedges <= params.wedge_reserve:
        return "wedge_reserve"
    if release.size_bytes is None:
        return "size_unknown"
    if release.size_bytes / GIB < params.wedge_min_size_gib:
        return "below_size_floor"
    return "spend"


def candidate_fields(
    release: Release, shared: Mapping[str, Scalar | None], params: FreeFirstParams
) -> dict[str, Scalar | None]:
    """The candidate row's wedge facts."""
    known = shared.get("account.wedges") is not None and shared.get("account.user_class") is not None
    return {
        "candidate.free_for_account": free_here(release, shared) if known else None,
        "candidate.wedge_gate": wedge_gate(release, shared, params) if known else None,
    }


def download_terms(
    release: Release, row_get: Mapping[str, Scalar | None], *, wedge_asked: bool, bought: bool
) -> tuple[bool, WedgeWay]:
    """``(free, wedge)`` of an AddTorrent for ``release``. A wedge asked for on a release
    whose gate does not say ``spend`` is a ``ValueError`` (the proposal is then not
    applicable, never a wasted wedge). With auto-wedge on, every paid download spends one
    by the site's hand while one is left, and costs ratio when none is."""
    gate = row_get.get("candidate.wedge_gate")
    if free_here(release, row_get):
        if wedge_asked:
            raise ValueError("wedge gate: free_for_account (a wedge would be wasted)")
        return True, "none"
    if bought:
        return True, "none"
    if gate == "auto_wedge":
        return True, "auto"
    if gate == "auto_wedge_none_left":
        if wedge_asked:
            raise ValueError("wedge gate: auto_wedge_none_left (no wedge left; the download would cost ratio)")
        return False, "none"
    if wedge_asked:
        if gate != "spend":
            raise ValueError(f"wedge gate: {gate}")
        return True, "flag"
    return False, "none"


def _str(value: Scalar | None) -> str | None:
    return value if isinstance(value, str) else None
