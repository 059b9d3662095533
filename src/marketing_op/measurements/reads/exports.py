"""Exports of whole results as files: the measurements list and reports as CSV or Apache
Parquet (``format=csv``/``format=parquet`` or ``Accept`` on their endpoints, and
``marketing-op export``), every row of the filtered result rather than one page.

Measurements are read a chunk at a time through one query in list order
(``measurement_pages.measurement_rows``) and each chunk is written and handed on before the
next is read, so memory stays flat whatever the number of rows. A report is computed whole
(``reports.report.report_get``, at most 100,000 rows) and written a chunk at a time. A CSV
export of measurements is a file of the import format: its columns, floats written exactly,
and names quoted as ``imports.formats.formula_quoted`` says, so that it re-imports
unchanged and no spreadsheet runs a name as a formula. Parquet columns are typed and
written a row group at a time.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from django.db import connection
from ninja import Field, Schema

from marketing_op.accounts.models import Organization
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.imports.formats import FormulaQuotedNames
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
ROW_GROUP_ROWS = 100_000
"""Rows of a Parquet row group (the last one may hold fewer)."""
MAX_ACCEPT_RANGES = 50


class ExportParams(Schema):
    format: AnswerFormat | None = Field(
        None,
        description="json (a page, the default), or csv or parquet: the whole result as a file.",
    )


# --- columns --------------------------------------------------------------------------------

TEXT, DATE, NUMBER, INTEGER = "text", "date", "number", "integer"


class ExportColumn(NamedTuple):
    """A column of an export: its name, what it holds (``TEXT``, ``DATE``, ``NUMBER``,
    ``INTEGER``), whether it may be empty, and, for measurements, the field it is read from."""

    name: str
    kind: str
    nullable: bool = False
    field: str = ""


MEASUREMENT_COLUMNS = (
    ExportColumn("product", TEXT, field="product_name"),
    ExportColumn("campaign_type", TEXT, field="campaign_type"),
    ExportColumn("campaign", TEXT, field="campaign_name"),
    ExportColumn("channel", TEXT, field="channel_name"),
    ExportColumn("date", DATE, field="date"),
    ExportColumn("conversions", NUMBER, field="conversions"),
)
"""The columns of a measurements export: those of the import format, in its order."""
CSV_CELLS = {
    TEXT: (
        "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', '''') "
        "THEN '''' || {0} ELSE {0} END"
    ),
    DATE: "{0}",
    NUMBER: "CASE WHEN {0} = trunc({0}) THEN trunc({0})::numeric || '.0' ELSE {0}::text END",
}
"""Each kind of cell of a measurements CSV as PostgreSQL writes it, the same text as the
Python writer's: names quoted as ``formula_quoted`` says, and floats as Python's ``repr``
(shortest exact digits, a whole number with ``.0``; conversions stay below 10^16, where
``repr`` turns to exponents). Null stays null (an empty cell)."""
METRIC_KINDS = {"measurements": INTEGER}
"""Metrics that are not a float (``NUMBER``)."""


def report_columns(params: ReportParams) -> list[ExportColumn]:
    """The dimensions, ``period`` (not for ``total``), ``period_start`` and the metrics;
    with a comparison, ``previous_<metric>`` and ``change_<metric>`` (empty where the
    previous value is 0) after them."""
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
        values += [row["previous"][name] for name in metrics]
        values += [row["change"][name] for name in metrics]
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
        export.chunks = _csv_chunks(columns, rows)
    else:
        export.chunks = _parquet_chunks(columns, rows)
    return export


def measurement_export(
    *, organization: Organization, filters: MeasurementFilters, file_format: ExportFormat
) -> Export:
    """Every measurement that the filters select, in list order, as a file named after its
    first and last day (``measurements-2021-01-01-2021-12-31.csv``; ``measurements.csv``
    when there is none)."""
    filters.check_date_range()
    days = measurement_days(organization=organization, filters=filters).days
    name = "measurements"
    if days:
        first, last = (datetime.date.fromordinal(day) for day in (days[0], days[-1]))
        name += f"-{first}-{last}"
    if connection.vendor == "postgresql":
        return _copied_export(organization, filters, name, file_format)
    chunks = measurement_rows(
        organization=organization,
        filters=filters,
        fields=[column.field for column in MEASUREMENT_COLUMNS],
        chunk_rows=CHUNK_ROWS,
    )
    return _export(name, MEASUREMENT_COLUMNS, chunks, file_format)


def _copied_export(
    organization: Organization, filters: MeasurementFilters, name: str, file_format: ExportFormat
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
        measurement_rows_copied(organization=organization, filters=filters, cells=cells)
    )
    if file_format == "csv":
        export.chunks = text
    else:
        export.chunks = _parquet_from_csv(MEASUREMENT_COLUMNS, text)
    return export


def report_export(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    file_format: ExportFormat,
) -> Export:
    """Every row of the report (no page), its columns as :func:`report_columns` says, in a
    file named after its dimensions, granularity and dates
    (``report-product-month-2021-01-01-2021-12-31.csv``). The report is computed (or read
    from the cache) before the first byte, so that a report refused (400) is refused whole."""
    report = report_get(organization=organization, filters=filters, params=params)
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


# --- writers --------------------------------------------------------------------------------


def _csv_chunks(
    columns: Sequence[ExportColumn], chunks: Iterable[Sequence[tuple[Any, ...]]]
) -> Iterator[bytes]:
    """The header, then each chunk of rows as UTF-8 CSV text: floats as ``repr`` writes
    them (exact), dates as ISO dates, empty for null, text quoted against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in columns])
    texts = [position for position, column in enumerate(columns) if column.kind == TEXT]
    cell = FormulaQuotedNames().__getitem__
    for rows in chunks:
        if not rows:
            continue
        values: list[Iterable[Any]] = list(zip(*rows, strict=True))
        for position in texts:
            values[position] = map(cell, values[position])
        writer.writerows(zip(*values, strict=True))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


class _Drain(io.RawIOBase):
    """A file that the Parquet writer writes to and that is emptied after each row group."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        written = bytes(data)
        self._parts.append(written)
        self._position += len(written)
        return len(written)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        return taken


def _parquet_schema(columns: Sequence[ExportColumn]) -> Any:
    import pyarrow as pa

    types = {TEXT: pa.string(), DATE: pa.date32(), NUMBER: pa.float64(), INTEGER: pa.int64()}
    return pa.schema(
        [pa.field(column.name, types[column.kind], column.nullable) for column in columns]
    )


def _parquet_written(schema: Any, batches: Iterable[Any]) -> Iterator[bytes]:
    """A Parquet file of record batches, written a row group (``ROW_GROUP_ROWS``) at a time:
    each row group's bytes are handed on as soon as it is written. pyarrow is imported
    here, by the exports that need it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _Drain()
    held: list[Any] = []
    count = 0
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in batches:
            held.append(batch)
            count += batch.num_rows
            if count < ROW_GROUP_ROWS:
                continue
            table = pa.Table.from_batches(held, schema)
            while count >= ROW_GROUP_ROWS:
                writer.write_table(table.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
                table, count = table.slice(ROW_GROUP_ROWS), count - ROW_GROUP_ROWS
                yield sink.take()
            held = table.to_batches()
        if count:
            writer.write_table(pa.Table.from_batches(held, schema), row_group_size=count)
    yield sink.take()


def _parquet_chunks(
    columns: Sequence[ExportColumn], chunks: Iterable[Sequence[tuple[Any, ...]]]
) -> Iterator[bytes]:
    """A Parquet file of rows, each chunk turned into typed Arrow arrays at once."""
    import pyarrow as pa

    schema = _parquet_schema(columns)

    def batches() -> Iterator[Any]:
        for rows in chunks:
            if rows:
                values = zip(*rows, strict=True)
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.array(value, arrow_type)
                        for value, arrow_type in zip(values, schema.types, strict=True)
                    ],
                    schema=schema,
                )

    return _parquet_written(schema, batches())


def _parquet_from_csv(columns: Sequence[ExportColumn], text: Iterable[bytes]) -> Iterator[bytes]:
    """A Parquet file of CSV text with a header, in chunks of whole lines (as PostgreSQL
    writes it): Arrow's CSV parser turns each chunk straight into typed columns. Each chunk
    is parsed from memory in this thread (a reader that pulled from the text itself would
    read it from Arrow's own threads, which must not use this thread's connection)."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    schema = _parquet_schema(columns)
    parse = arrow_csv.ParseOptions(newlines_in_values=True)
    convert = arrow_csv.ConvertOptions(
        column_types=dict(zip(schema.names, schema.types, strict=True)),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )

    def batches() -> Iterator[Any]:
        skip = 1  # the header
        for chunk in text:
            read = arrow_csv.ReadOptions(
                column_names=schema.names, skip_rows=skip, use_threads=False
            )
            skip = 0
            table = arrow_csv.read_csv(
                pa.py_buffer(chunk), read_options=read, parse_options=parse, convert_options=convert
            )
            yield from table.cast(schema).to_batches()

    return _parquet_written(schema, batches())
