"""One §15 field change in Audiobookshelf's shape: a series is always sent with its number
(changing one never drops the other), lists stay lists, unknown fields send nothing."""

from __future__ import annotations

from mamcrawler.actuators.library import abs_metadata


def test_series_and_number_travel_together() -> None:
    assert abs_metadata("series", "Dune Chronicles", "Dune Chronicles", 1.0) == {
        "series": [{"name": "Dune Chronicles", "sequence": "1"}]
    }
    assert abs_metadata("series_number", 2.5, "Dune Chronicles") == {
        "series": [{"name": "Dune Chronicles", "sequence": "2.5"}]
    }
    assert abs_metadata("series_number", 2.0, None) == {}  # a number without a series name is never sent


def test_other_fields() -> None:
    assert abs_metadata("authors", ("A", "B"), None) == {"authors": [{"name": "A"}, {"name": "B"}]}
    assert abs_metadata("narrators", ("Scott Brick",), None) == {"narrators": ["Scott Brick"]}
    assert abs_metadata("published", 1965, None) == {"publishedYear": 1965}
    assert abs_metadata("title", "Dune", None) == {"title": "Dune"}
    assert abs_metadata("cover", "http://x/c.jpg", None) == {}
