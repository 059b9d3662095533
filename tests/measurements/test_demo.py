"""The demo generators. The bulk rows of ``generate-demo`` (and ``make bench``): the same rows
for the same seed, a known spend on every row, a return on spend that differs by channel,
and byte for byte the datasets the benchmarks measured before. The demo story of
``load-demo``: every channel on every day, a spend on every row, seasons and a plausible
growth, each checked by recomputing from the rows."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections import defaultdict

import pytest
from django.core.management import call_command

from marketing_op.measurements.demo import (
    DEMO_ROWS,
    DEMO_SEED,
    FIRST_DAY,
    LAST_DAY,
    demo_measurements,
    demo_story_measurements,
)
from marketing_op.measurements.imports import MeasurementRow


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


# --- the benchmarks' bulk rows stay as they were ---------------------------------------------

BENCH_SHA256 = {
    ("26000", "7"): "3036fb3814c3b5cfb7610b0a511c95c6f483f402c7057bb62c4e813bde5a5eec",
    ("5000", "7"): "723866733728c33137901e66bc2a15df43d0bec5fc6fdf61720f0d447f0ca807",
    ("5000", None): "4bb0e319f214d32bffe7a33a631d8c1c9f4a2fbfa72fc15b37c22fce3e7d825f",
}
"""SHA-256 of ``generate-demo --rows R [--seed S]`` as ``make bench`` runs it (bench/run.py:
seed 7, the demo size 26,000; bench/import_speed.py: no seed), written by the generator
before the demo story came: the benchmark's datasets stay byte for byte what they were."""


@pytest.mark.parametrize(("rows", "seed"), list(BENCH_SHA256))
def test_generate_demo_writes_the_benchmarks_datasets_byte_for_byte_as_before(tmp_path, rows, seed):
    path = tmp_path / "demo.csv"
    arguments = ["--rows", rows, *(["--seed", seed] if seed else []), "--output", str(path)]

    call_command("generate_demo", *arguments, stderr=io.StringIO())

    assert hashlib.sha256(path.read_bytes()).hexdigest() == BENCH_SHA256[(rows, seed)]


# --- the demo story ---------------------------------------------------------------------------

CONTRACT_CHANNELS = {
    "tv",
    "radio",
    "ooh",
    "facebook",
    "print",
    "tiktok",
    "instagram",
    "dv360 - prospecting",
    "dv360 - retargeting",
    "db360 - prospecting",
    "db360 - retargeting",
    "google - branded search",
    "google - non-branded search",
    "folder",
}


@pytest.fixture(scope="module")
def story() -> list[MeasurementRow]:
    return list(demo_story_measurements())


def test_the_story_is_the_same_for_the_same_seed_and_has_a_spend_on_every_row(story):
    assert story == list(demo_story_measurements())
    assert story != list(demo_story_measurements(seed=DEMO_SEED + 1))
    assert list(demo_story_measurements(rows=50)) == story[:50]
    assert all(row.spend is not None and row.spend > 0 for row in story)
    assert all(row.conversions > 0 for row in story)


def test_every_channel_sells_on_every_day_of_the_story(story):
    """No channel stops: the dashboard's default view shows all fourteen until the last day."""
    days = {row.date for row in story}
    assert min(days) == FIRST_DAY
    assert max(days) == LAST_DAY
    assert len(days) == (LAST_DAY - FIRST_DAY).days + 1
    channels_by_day: dict[datetime.date, set[str]] = defaultdict(set)
    for row in story:
        channels_by_day[row.date].add(row.channel)
    assert all(channels == CONTRACT_CHANNELS for channels in channels_by_day.values())


def window_totals(story, year: int, *, months=range(1, 6)):
    conversions: dict[str, float] = defaultdict(float)
    spend = 0.0
    for row in story:
        if row.date.year == year and row.date.month in months:
            conversions[row.campaign] += row.conversions
            spend += row.spend or 0.0
    return conversions, spend


def test_the_year_to_date_grows_plausibly_on_the_year_before_campaign_by_campaign(story):
    """The default view (January to May 2023 against 2022): sales and spend up by a few to
    twenty per cent, return on spend up a little, and every campaign of this year ran last
    year too and moved by less than a third (none at 0 with -100 %, none new)."""
    for year in (2021, 2022, 2023):
        now, spend_now = window_totals(story, year)
        before, spend_before = window_totals(story, year - 1)
        growth = sum(now.values()) / sum(before.values()) - 1
        assert 0.03 < growth < 0.2, (year, growth)
        assert 0.0 < spend_now / spend_before - 1 < growth, year
        assert set(now) == set(before)
        assert all(-0.15 < now[name] / before[name] - 1 < 0.35 for name in now), year


def test_sales_follow_the_seasons(story):
    """Summer sells more than winter every year, by a clear margin."""
    by_month: dict[tuple[int, int], float] = defaultdict(float)
    for row in story:
        by_month[(row.date.year, row.date.month)] += row.conversions
    for year in (2020, 2021, 2022):
        summer = sum(by_month[(year, month)] for month in (6, 7, 8))
        winter = sum(by_month[(year, month)] for month in (1, 2, 11))
        assert summer > 1.6 * winter, year
