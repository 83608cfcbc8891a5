"""Typed parameters of each policy concern, with the SPEC's defaults. Every threshold the
engine uses lives here — none is a literal in code. Imports pydantic only."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ParamsModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VipParams(ParamsModel):
    """§1 VIP priority."""

    floor_days: float = Field(7, ge=0, description="VIP is at risk below this many days left.")
    reserve_points: int = Field(1250, ge=0, description="Points kept untouched for anything but VIP.")
    points_per_week: int = Field(1250, gt=0, description="VIP price per week when the store was not read.")
    renewal_weeks: int = Field(4, gt=0, description="Weeks in one VIP renewal (5,000 points by default).")
    max_days: int = Field(90, gt=0, description="The tracker's cap on VIP days held.")
    max_purchases_per_day: int = Field(1, ge=0, description="VIP purchases per day at most (a guard).")
    purchase_weeks: tuple[int, ...] = Field((4, 8, 12), min_length=1, description="Durations the store sells.")
    min_purchase_weeks: int = Field(
        1, ge=1, description="The tracker's minimum for automated VIP purchases (weeks per purchase)."
    )
    surplus_to_upload: bool = Field(True, description="Spend surplus beyond the VIP cap on upload credit.")
    upload_points_per_gib: int = Field(500, gt=0, description="Upload credit price when the store was not read.")
    upload_min_lot_gib: int = Field(50, gt=0, description="Automated upload-credit buys are at least this many GiB.")
    plan_upload_credit: bool = Field(
        True, description="Upload credit follows the points plan (ratio ahead, cap overflow) instead of all surplus."
    )


class RatioParams(ParamsModel):
    """§10 ratio emergency."""

    floor: float = Field(1.0, ge=0, description="The ratio never to fall below.")
    margin: float = Field(0.05, ge=0, description="At or below floor + margin, paid downloads freeze.")
    recover_at: float = Field(1.10, ge=0, description="Freeze lifts only at or above this ratio (hysteresis).")
    emergency_upload_slots: int = Field(100, ge=1, description="Upload slots while below the floor.")
    helpful_min_leechers: int = Field(1, ge=0, description="A free download helps ratio with this much demand.")

    @model_validator(mode="after")
    def _hysteresis(self) -> RatioParams:
        if self.recover_at < self.floor + self.margin:
            raise ValueError("recover_at must be at least floor + margin (hysteresis)")
        return self


class SnatchParams(ParamsModel):
    """The hit-and-run guard: unsatisfied snatches stay below the class limit minus a buffer."""

    unsat_buffer: int = Field(10, ge=0, description="Stop new snatches this far below the limit.")
    hnr_warn_hours: float = Field(
        48, ge=0, description="Alert when an inactive unsatisfied torrent has this many hours left to be resumed."
    )
    class_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "Mouse": 50,
            "User": 50,
            "Power User": 100,
            "VIP": 150,
            "Elite VIP": 200,
            "Staff": 200,
        },
        description="Unsatisfied limit by class when the tracker does not report it.",
    )


class SeedingParams(ParamsModel):
    """§10 monitoring, seeding value and event allocation."""

    min_seed_hours: float = Field(72, ge=0, description="Tracker minimum seed time within the window.")
    seed_window_days: int = Field(30, gt=0, description="Days in which the minimum seed time must be met.")
    stalled_after_minutes: int = Field(30, ge=0, description="A torrent stalled this long is resumed/reannounced.")
    normal_upload_slots: int = Field(20, ge=1)
    event_upload_slots: int = Field(60, ge=1, description="Upload slots during freeleech/bonus events.")
    normal_active_seeds: int = Field(50, ge=1)
    event_active_seeds: int = Field(150, ge=1, description="Active seeds during events (fewer queued).")


class LadderStep(StrEnum):
    """§5 comparison steps, in the SPEC's default order."""

    UNABRIDGED = "unabridged"
    BITRATE = "bitrate"
    COMPLETENESS = "completeness"
    NARRATOR_VERIFIED = "narrator_verified"
    NO_WATERMARK = "no_watermark"
    CHAPTERS = "chapters"
    SEEDERS = "seeders"


class BitrateBand(ParamsModel):
    min_kbps: int = Field(ge=0)
    score: int = Field(ge=0)


class QualityParams(ParamsModel):
    """§5 quality ladder: the ordered steps and their thresholds."""

    ladder: tuple[LadderStep, ...] = Field(tuple(LadderStep), min_length=1, description="Steps, most important first.")
    min_bitrate_kbps: int = Field(64, ge=0, description="Releases below this bitrate are rejected.")
    bitrate_bands: tuple[BitrateBand, ...] = Field(
        (BitrateBand(min_kbps=64, score=1), BitrateBand(min_kbps=96, score=2), BitrateBand(min_kbps=128, score=3)),
        min_length=1,
        description="Bands by lower bound: 96+ preferred, 128–192 ideal.",
    )
    split_bitrate_advantage_kbps: int = Field(
        32,
        ge=0,
        description="A split release counts this much lower when banding (one file wins unless clearly beaten).",
    )
    reject_unknown_bitrate: bool = Field(False, description="Reject releases whose bitrate is unknown.")

    @model_validator(mode="after")
    def _steps_unique(self) -> QualityParams:
        if len(set(self.ladder)) != len(self.ladder):
            raise ValueError("ladder steps must be unique")
        if [b.min_kbps for b in self.bitrate_bands] != sorted({b.min_kbps for b in self.bitrate_bands}):
            raise ValueError("bitrate_bands must be sorted by min_kbps without repeats")
        return self


class LibraryParams(ParamsModel):
    """§13 integrity and §15 metadata after a download or a library scan."""

    integrity_duration_tolerance: float = Field(
        0.01, ge=0, le=0.5, description="§13 decoded duration may miss the listed runtime by this fraction."
    )


class FreeFirstParams(ParamsModel):
    """§7 free-first and personal-freeleech buying."""

    mode: Literal["tie_break", "floor"] = Field(
        "tie_break", description="tie_break: free wins at equal quality; floor: any free release passing the floor."
    )
    wedge_reserve: int = Field(0, ge=0, description="Wedges never spent.")
    seeders_count_as_quality: bool = Field(
        False, description="Let more seeders make a paid release 'strictly better' than a free one (§5 step 7)."
    )
    personal_freeleech_points: int = Field(50000, gt=0, description="Price when the store was not read.")
    allow_ratio_costing: bool = Field(False, description="Allow paid downloads that cost ratio.")
    ratio_costing_margin_gib: float = Field(5, ge=0, description="Upload buffer left after a ratio-costing download.")
    wedge_min_size_gib: float = Field(
        0.25,
        ge=0,
        description="A wedge goes only on paid releases at least this big (smaller ones wait or cost ratio).",
    )
    store_freeleech: bool = Field(
        False,
        description="Also buy personal freeleech through the bonus store (refused for API sessions since 2026).",
    )


class CompletionParams(ParamsModel):
    """§8 / §9 completion."""

    series: bool = Field(True, description="Look for missing volumes of series in the library.")
    authors: bool = Field(True, description="Look for other titles of authors in the library.")
    immediate_max: int = Field(3, ge=0, description="Up to this many missing → download now; more → wishlist.")
    weekly_searches: int = Field(
        40, ge=0, description="Tracker searches per weekly sync for library series and authors (rotated)."
    )


class PacingParams(ParamsModel):
    """§6 pacing and the safety caps."""

    daily_downloads: int = Field(10, ge=0, description="New downloads per day without events.")
    freeleech_multiplier: float = Field(2.0, ge=1, description="Budget multiplier during freeleech events.")
    bonus_multiplier: float = Field(1.5, ge=1, description="Budget multiplier during bonus/multiplier events.")
    holiday_multiplier: float = Field(1.5, ge=1, description="Budget multiplier during holiday events.")
    max_points_per_day: int = Field(150000, ge=0, description="Non-VIP points spent per day at most.")
    max_purchases_per_day: int = Field(10, ge=0, description="Non-VIP purchases per day at most.")
    max_removals_per_cycle: int = Field(5, ge=0, description="Torrent removals per cycle at most.")
    confirm_money_changes: bool = Field(
        False,
        description="Hold a policy edit until a person confirms it (mamcrawler policy confirm HASH) when the"
        " replay of the recorded week changes purchases or ratio-costing downloads.",
    )


class Category(ParamsModel):
    id: int = Field(gt=0)
    name: str = Field(min_length=1)


class CategoriesParams(ParamsModel):
    """§4 categories (data, not code), timespans and the weekly top-10."""

    categories: tuple[Category, ...] = Field((), description="Every audiobook category the sync covers.")
    timespans_days: dict[str, int] = Field(
        default_factory=lambda: {"WEEK": 7, "MONTH": 30, "3MONTH": 90, "6MONTH": 180, "YEAR": 365},
        description="Timespan lengths; ALL starts at all_from.",
    )
    all_from: str = Field("2008-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    top10_categories: tuple[int, ...] = Field((41, 47), description="Weekly top-10 categories.")
    top10_count: int = Field(10, gt=0)
    top10_timespan: str = "WEEK"


class ScheduleParams(ParamsModel):
    """Job timing and fact freshness."""

    monitor_minutes: int = Field(5, gt=0, description="§10 monitor cycle interval.")
    daily_check_time: str = Field("12:00", pattern=r"^\d{2}:\d{2}$", description="§1 daily tracker check.")
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "sun"
    monthly_days: int = Field(30, gt=0, description="§12 drift interval.")
    stale_after_minutes: dict[str, int] = Field(
        default_factory=lambda: {"tracker_account": 1440, "qbittorrent": 30, "library": 1440},
        description="Facts older than this count as unknown.",
    )
