"""Exports of whole results as files: the measurements list and reports as CSV or Apache
Parquet (``format=csv``/``format=parquet`` or ``Accept`` on their endpoints, and
``marketing-op export``), every row of the filtered result rather than one page.

Measurements come through one query in list order, so memory stays flat whatever the
number of rows: on PostgreSQL as CSV text that the server writes
(``measurement_pages.measurement_rows_copied``, cells as ``CSV_CELLS`` says), which is the
CSV file itself or, parsed by Arrow, the Parquet file's columns; elsewhere as rows
(``measurement_pages.measurement_rows``) that ``export_writers`` writes. A report is
computed whole (``reports.report.report_get``, at most 100,000 rows) and written a chunk
at a time. A CSV export of measurements is a file of the import format, so that it
re-imports unchanged; no spreadsheet runs one of its names as a formula.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from ninja import Field, Schema

from marketing_op.accounts.models import Organization
from marketing_op.core.database_routing import data_read_alias
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.export_writers import (
    DATE,
    INTEGER,
    MONEY,
    NUMBER,
    TEXT,
    ExportColumn,
    csv_chunks,
    parquet_chunks,
    parquet_from_csv,
)
from marketing_op.measurements.reads.measurement_pages import (
    measurement_rows,
    measurement_rows_copied,
)
from marketing_op.measurements.reads.reports.parameters import ReportParams
from marketing_op.measurements.reads.reports.report import report_get
from marketing_op.measurements.reads.summaries import measurement_days

AnswerFormat = Literal["json", "csv", "parquet"]
ExportFormat = Literal["csv", "parquet"]
EXPORTS: dict[AnswerFormat, ExportFormat | None] = {
    "json": None,
    "csv": "csv",
    "parquet": "parquet",
}
"""The export that each ``format`` asks for (None: the JSON page)."""
MEDIA_TYPES: dict[ExportFormat | None, str] = {
    None: "application/json",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}
"""The media type of each answer, in the order preferred when ``Accept`` ranks them alike."""
CONTENT_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
CHUNK_ROWS = 10_000
"""Rows read from the database and written at a time."""
MAX_ACCEPT_RANGES = 50


class ExportParams(Schema):
    format: AnswerFormat | None = Field(
        None,
        description="json (a page, the default), or csv or parquet: the whole result as a file.",
    )


# --- columns --------------------------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    ExportColumn("product", TEXT, field="product_name"),
    ExportColumn("campaign_type", TEXT, field="campaign_type"),
    ExportColumn("campaign", TEXT, field="campaign_name"),
    ExportColumn("channel", TEXT, field="channel_name"),
    ExportColumn("date", DATE, field="date"),
    ExportColumn("conversions", NUMBER, field="conversions"),
    ExportColumn("spend", MONEY, nullable=True, field="spend"),
)
"""The columns of a measurements export: those of the import format, in its order."""
CSV_CELLS = {
    TEXT: (
        "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', '''') "
        "THEN '''' || {0} ELSE {0} END"
    ),
    DATE: "{0}",
    NUMBER: "CASE WHEN {0} = trunc({0}) THEN trunc({0})::numeric || '.0' ELSE {0}::text END",
    MONEY: "{0}::text",
}
"""Each kind of cell of a measurements CSV as PostgreSQL writes it, the same text as the
Python writer's: names quoted as ``formula_quoted`` says, and floats as Python's ``repr``
(shortest exact digits, a whole number with ``.0``; conversions stay below 10^16, where
``repr`` turns to exponents), and the spend (``numeric(18,2)``) with its two decimals. Null
stays null (an empty cell)."""
METRIC_KINDS = {"measurements": INTEGER, "spend": MONEY, "cpa": MONEY}
"""Metrics that are not a float (``NUMBER``): counts, and amounts of money in cents."""


def report_columns(params: ReportParams) -> list[ExportColumn]:
    """The dimensions, ``period`` (not for ``total``), ``period_start`` and the metrics;
    with a comparison, ``previous_<metric>`` and ``change_<metric>`` (empty where the
    previous value is 0, or nothing was measured in the comparison period) after them."""
    columns = [ExportColumn(name, TEXT) for name in params.dimensions]
    if params.granularity != "total":
        columns.append(ExportColumn("period", TEXT))
    columns.append(ExportColumn("period_start", DATE))
    metrics = params.chosen_metrics
    columns += [ExportColumn(name, METRIC_KINDS.get(name, NUMBER), True) for name in metrics]
    if params.compared:
        columns += [
            ExportColumn(f"previous_{name}", METRIC_KINDS.get(name, NUMBER), True)
            for name in metrics
        ]
        columns += [ExportColumn(f"change_{name}", NUMBER, True) for name in metrics]
    return columns


def _report_values(row: dict[str, Any], params: ReportParams) -> tuple[Any, ...]:
    values = [row[name] for name in params.dimensions]
    if params.granularity != "total":
        values.append(row["period"])
    values.append(row["period_start"])
    metrics = params.chosen_metrics
    values += [row[name] for name in metrics]
    if params.compared:
        previous, change = row["previous"] or {}, row["change"] or {}
        values += [previous.get(name) for name in metrics]
        values += [change.get(name) for name in metrics]
    return tuple(values)


# --- exports --------------------------------------------------------------------------------


@dataclass
class Export:
    """A file being written: its name, media type and bytes (read once, a chunk at a time);
    ``rows`` counts the rows written so far."""

    file_name: str
    content_type: str
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))
    rows: int = 0

    def _counted(
        self, chunks: Iterable[Sequence[tuple[Any, ...]]]
    ) -> Iterator[Sequence[tuple[Any, ...]]]:
        for rows in chunks:
            self.rows += len(rows)
            yield rows

    def _counted_text(self, chunks: Iterable[tuple[bytes, int]]) -> Iterator[bytes]:
        for text, rows in chunks:
            self.rows += rows
            yield text


def _export(
    name: str,
    columns: Sequence[ExportColumn],
    chunks: Iterable[Sequence[tuple[Any, ...]]],
    file_format: ExportFormat,
) -> Export:
    export = Export(f"{name}.{file_format}", CONTENT_TYPES[file_format])
    rows = export._counted(chunks)
    if file_format == "csv":
        export.chunks = csv_chunks(columns, rows)
    else:
        export.chunks = parquet_chunks(columns, rows)
    return export


def measurement_export(
    *, organization: Organization, filters: MeasurementFilters, file_format: ExportFormat
) -> Export:
    """Every measurement that the filters select, in list order, as a file named after its
    first and last day (``measurements-2021-01-01-2021-12-31.csv``; ``measurements.csv``
    when there is none), read from the database chosen now (a replica, maybe), though the
    rows are read as the file is sent."""
    filters.check_date_range()
    days = measurement_days(organization=organization, filters=filters).days
    name = "measurements"
    if days:
        first, last = (datetime.date.fromordinal(day) for day in (days[0], days[-1]))
        name += f"-{first}-{last}"
    database = data_read_alias()
    if connection.vendor == "postgresql":
        return _copied_export(organization, filters, name, file_format, database)
    chunks = measurement_rows(
        organization=organization,
        filters=filters,
        fields=[column.field for column in MEASUREMENT_COLUMNS],
        chunk_rows=CHUNK_ROWS,
        database=database,
    )
    return _export(name, MEASUREMENT_COLUMNS, chunks, file_format)


def _copied_export(
    organization: Organization,
    filters: MeasurementFilters,
    name: str,
    file_format: ExportFormat,
    database: str,
) -> Export:
    """On PostgreSQL, the server writes the CSV text (``measurement_rows_copied``): the file
    itself for CSV (cells as ``CSV_CELLS`` says), or plain text that Arrow's CSV reader turns
    into typed columns for Parquet. The same bytes and rows as the Python writers, several
    times faster."""
    export = Export(f"{name}.{file_format}", CONTENT_TYPES[file_format])
    if file_format == "csv":
        cells = [
            (column.name, CSV_CELLS[column.kind].format(f"m.{column.field}"))
            for column in MEASUREMENT_COLUMNS
        ]
    else:
        cells = [(column.name, f"m.{column.field}") for column in MEASUREMENT_COLUMNS]
    text = export._counted_text(
        measurement_rows_copied(
            organization=organization, filters=filters, cells=cells, database=database
        )
    )
    if file_format == "csv":
        export.chunks = text
    else:
        export.chunks = parquet_from_csv(MEASUREMENT_COLUMNS, text)
    return export


def report_export(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    file_format: ExportFormat,
    user_id: int | None = None,
) -> Export:
    """Every row of the report (no page), its columns as :func:`report_columns` says, in a
    file named after its dimensions, granularity and dates
    (``report-product-month-2021-01-01-2021-12-31.csv``). The report is computed (or read
    from the cache) before the first byte, so that a report refused (400) is refused whole."""
    report = report_get(organization=organization, filters=filters, params=params, user_id=user_id)
    parts = ["report", *params.dimensions, params.granularity]
    parts += [str(day) for day in (filters.start_date, filters.end_date) if day]
    rows = report.rows

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, len(rows), CHUNK_ROWS):
            yield [_report_values(row, params) for row in rows[start : start + CHUNK_ROWS]]

    return _export("-".join(parts), report_columns(params), chunks(), file_format)


def export_format_chosen(*, requested: AnswerFormat | None, accept: str) -> ExportFormat | None:
    """The export asked for (None: the JSON page): by the ``format`` parameter when given,
    else the answer of ``MEDIA_TYPES`` that the ``Accept`` header ranks highest (by the
    ``q`` of the most specific range that matches it); JSON on a tie, when nothing is
    acceptable, and without the header."""
    if requested is not None:
        return EXPORTS[requested]
    ranges: dict[str, float] = {}
    for item in accept.split(",")[:MAX_ACCEPT_RANGES]:
        media_range, *parameters = item.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip()[:8])
                except ValueError:
                    quality = 0.0
        ranges.setdefault(media_range.strip().lower(), quality if 0 <= quality <= 1 else 0.0)
    best: ExportFormat | None = None
    best_quality = 0.0
    for answer, media_type in MEDIA_TYPES.items():
        kind = media_type.split("/")[0]
        for media_range in (media_type, f"{kind}/*", "*/*"):
            if media_range in ranges:
                if ranges[media_range] > best_quality:
                    best, best_quality = answer, ranges[media_range]
                break
    return best
