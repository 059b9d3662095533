"""The demo generator: the same rows for the same seed, a known spend on every row, and a
return on spend that differs by channel, so that the demo shows ROAS."""

from __future__ import annotations

from collections import defaultdict

from marketing_op.measurements.demo import DEMO_ROWS, demo_measurements


def test_the_same_seed_gives_the_same_rows_and_every_row_has_a_spend():
    rows = list(demo_measurements(rows=3_000, seed=7))

    assert rows == list(demo_measurements(rows=3_000, seed=7))
    assert rows != list(demo_measurements(rows=3_000, seed=8))
    assert len(rows) == 3_000
    assert all(row.spend is not None and row.spend > 0 for row in rows)
    assert all(row.spend == round(row.spend, 2) for row in rows if row.spend is not None)


def test_search_returns_more_per_euro_than_social_and_social_more_than_tv():
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in demo_measurements(rows=DEMO_ROWS):
        sums[row.channel][0] += row.conversions
        sums[row.channel][1] += row.spend or 0.0
    roas = {channel: conversions / spend for channel, (conversions, spend) in sums.items()}

    assert roas["google - branded search"] > roas["facebook"] > roas["tv"] > 1.0
