"""§15 metadata resolution: the priority order per field, the library's value only when
validated, the narrator source only when the recording agrees, and — as properties —
changes never touch a verified field and never carry an empty value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.engine.books.canonical import FIELD_PRIORITY, Source, metadata_changes, resolve


def test_scan_beats_provider_for_title_and_provider_fills_the_rest() -> None:
    found = resolve(
        {
            Source.SCAN: {"title": "The Tombs of Atuan", "series_number": 2},
            Source.PROVIDER: {
                "title": "Tombs of Atuan",
                "series": "Earthsea Cycle",
                "series_number": 2,
                "authors": ["Ursula K. Le Guin"],
                "description": "A girl…",
            },
            Source.LIBRARY: {"title": "tombs atuan (unabridged)", "description": "old"},
        }
    )
    assert found.values["title"] == "The Tombs of Atuan" and found.chosen_from["title"] is Source.SCAN
    assert found.values["series"] == "Earthsea Cycle" and found.values["description"] == "A girl…"
    assert "title" in found.conflicts and "series_number" not in found.conflicts


def test_the_library_counts_only_where_validated_and_empty_values_never_count() -> None:
    found = resolve(
        {Source.PROVIDER: {"cover": "", "published": None}, Source.LIBRARY: {"cover": "c.jpg", "published": "1971"}},
        library_validated=frozenset({"cover"}),
    )
    assert found.values == {"cover": "c.jpg"}


def test_narrator_source_must_agree_with_what_the_recording_says() -> None:
    agreed = resolve({Source.NARRATOR_SOURCE: {"narrators": ["Rob Inglis"]}}, narrator_heard=["rob  inglis"])
    assert agreed.values["narrators"] == ["Rob Inglis"]
    disputed = resolve({Source.NARRATOR_SOURCE: {"narrators": ["Someone Else"]}}, narrator_heard=["Rob Inglis"])
    assert disputed.values["narrators"] == ("Rob Inglis",) and disputed.chosen_from["narrators"] is Source.SCAN
    unheard = resolve({Source.NARRATOR_SOURCE: {"narrators": ["Someone Else"]}})
    assert unheard.values["narrators"] == ["Someone Else"]


def test_a_verified_title_or_narrator_survives_drift() -> None:
    current = {"title": "Verified Title", "narrators": ["Verified Reader"], "description": "old"}
    canonical = {"title": "Drifted Title", "narrators": ["Other Reader"], "description": "new"}
    assert metadata_changes(current, canonical, verified=frozenset({"title", "narrators"})) == {"description": "new"}


values = st.one_of(st.none(), st.just(""), st.just([]), st.text(max_size=5), st.lists(st.text(max_size=3), max_size=2))
records = st.dictionaries(st.sampled_from(sorted(FIELD_PRIORITY)), values)


@given(records, records, st.frozensets(st.sampled_from(sorted(FIELD_PRIORITY))))
def test_changes_never_touch_verified_fields_nor_send_empty_values(
    current: dict[str, object], canonical: dict[str, object], verified: frozenset[str]
) -> None:
    changes = metadata_changes(current, canonical, verified=verified)
    assert not set(changes) & verified
    assert all(v not in (None, "", []) for v in changes.values())
    assert all(canonical[k] == v for k, v in changes.items())


@given(st.dictionaries(st.sampled_from(list(Source)), records))
def test_resolution_only_picks_offered_non_empty_values(candidates: dict[Source, dict[str, object]]) -> None:
    found = resolve(candidates, library_validated=frozenset(FIELD_PRIORITY))
    for name, value in found.values.items():
        assert value not in (None, "", [])
        assert candidates[found.chosen_from[name]][name] == value
