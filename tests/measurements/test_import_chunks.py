"""The import on PostgreSQL reads the file in chunks and inserts the chunks of new days while
it reads the rest; these files span several chunks of three rows, and what is stored must
be what the file says whatever the chunks, or nothing when the file is rejected."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from marketing_op.measurements.imports import (
    ImportRejected,
    ImportSummary,
    MeasurementRow,
    measurement_import,
    postgresql,
    typed_records,
)
from marketing_op.measurements.models import DailyConversions, Measurement

pytestmark = pytest.mark.django_db  # PostgreSQL only: SQLite has no early inserts

D = datetime.date


@pytest.fixture(autouse=True)
def chunks_of_three_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgresql, "EARLY_INSERT_ROWS", 3)
    monkeypatch.setattr(postgresql, "BATCH_ROWS", 1)


def rows_of(campaigns: range, day: D, conversions: float = 1.0) -> list[MeasurementRow]:
    return [
        MeasurementRow("cola", "branding", f"campaign {n}", "tv", day, conversions)
        for n in campaigns
    ]


def stored(organization: Any) -> dict[tuple[str, D], float]:
    return {
        (name, day): conversions
        for name, day, conversions in Measurement.objects.filter(
            organization=organization
        ).values_list("campaign__name", "date", "conversions")
    }


def import_rows(organization: Any, rows: list[MeasurementRow]) -> ImportSummary:
    return measurement_import(organization=organization, records=typed_records(rows))


def test_a_file_of_new_days_is_inserted_chunk_by_chunk(organization):
    rows = rows_of(range(8), D(2021, 3, 1))

    summary = import_rows(organization, rows)

    assert summary.inserted == 8
    assert len(stored(organization)) == 8
    assert DailyConversions.objects.get(organization=organization).measurements == 8


def test_a_row_repeated_in_a_later_chunk_rejects_the_file_and_writes_nothing(organization):
    rows = rows_of(range(7), D(2021, 3, 1))

    with pytest.raises(ImportRejected, match="repeats the product"):
        import_rows(organization, [*rows, rows[0]])

    assert stored(organization) == {}
    assert not DailyConversions.objects.filter(organization=organization).exists()


def test_a_bad_line_after_inserted_chunks_rejects_the_file_and_writes_nothing(organization):
    rows = rows_of(range(7), D(2021, 3, 1))
    bad = rows[6]._replace(conversions=-1.0)

    with pytest.raises(ImportRejected, match="conversions"):
        import_rows(organization, [*rows[:6], bad])

    assert stored(organization) == {}


def test_chunks_that_reach_into_measured_days_are_upserted_after_reading(organization):
    import_rows(organization, rows_of(range(2), D(2021, 3, 10), conversions=5.0))
    new_days = rows_of(range(4), D(2021, 3, 1))
    measured_day = rows_of(range(3), D(2021, 3, 10), conversions=7.0)

    summary = import_rows(organization, new_days + measured_day)

    assert (summary.inserted, summary.updated, summary.unchanged) == (5, 2, 0)
    assert stored(organization) == {
        **{(r.campaign, r.date): 1.0 for r in new_days},
        **{(r.campaign, r.date): 7.0 for r in measured_day},
    }


def test_chunks_of_many_pages_are_each_read_from_their_own_pages(organization, monkeypatch):
    """A chunk's insert reads the staging pages from where the chunk began (CHUNK_PAGES):
    chunks of 500 rows fill several pages, and each starts in the last page of the one
    before."""
    monkeypatch.setattr(postgresql, "EARLY_INSERT_ROWS", 500)
    monkeypatch.setattr(postgresql, "BATCH_ROWS", 100)
    rows = [
        MeasurementRow("cola", "branding", f"campaign {n % 40}", "tv", D(2021, 1, 1 + n // 40), n)
        for n in range(1_230)
    ]

    summary = import_rows(organization, rows)

    assert summary.inserted == 1_230
    assert stored(organization) == {(r.campaign, r.date): float(r.conversions) for r in rows}
