"""The files of exports: rows written as CSV text or as an Apache Parquet file, a chunk at
a time, and the columns that say what each cell holds. ``reads.exports`` chooses the rows
and the columns; this module only writes them. CSV cells are those of the import format
(floats as ``repr`` writes them, amounts of money with two decimals, dates ISO, empty for
null, names as ``imports.formats.csv_cell`` writes them); Parquet columns are typed and
written a row group at a time. pyarrow is imported by the functions that write Parquet, so
that a worker that never writes one never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from marketing_op.measurements.imports.formats import CsvNameCells

ROW_GROUP_ROWS = 50_000
"""Rows of a Parquet row group (the last one may hold fewer)."""

TEXT, DATE, NUMBER, INTEGER, MONEY = "text", "date", "number", "integer", "money"
"""What a column holds. ``MONEY`` (spend, CPA) is an amount in cents: a CSV cell with two
decimals (``12.50``), a Parquet ``double`` rounded to the cent (the double nearest to the
amount, which every reader prints as the amount)."""


class ExportColumn(NamedTuple):
    """A column of an export: its name, what it holds (``TEXT``, ``DATE``, ``NUMBER``,
    ``INTEGER``, ``MONEY``), whether it may be empty, and, for measurements, the field it is
    read from."""

    name: str
    kind: str
    nullable: bool = False
    field: str = ""


def csv_chunks(
    columns: Sequence[ExportColumn], chunks: Iterable[Sequence[tuple[Any, ...]]]
) -> Iterator[bytes]:
    """The header, then each chunk of rows as UTF-8 CSV text: floats as ``repr`` writes
    them (exact), dates as ISO dates, empty for null, text as ``csv_cell`` writes it."""
    yield (",".join(column.name for column in columns) + "\n").encode()
    text_cell = CsvNameCells().__getitem__
    kinds = {TEXT: text_cell, MONEY: _money_cell}
    cells = [kinds.get(column.kind, _plain_cell) for column in columns]
    for rows in chunks:
        if not rows:
            continue
        values = [
            map(cell, value) for cell, value in zip(cells, zip(*rows, strict=True), strict=True)
        ]
        yield "".join(",".join(line) + "\n" for line in zip(*values, strict=True)).encode()


def _plain_cell(value: Any) -> str:
    return "" if value is None else str(value)


def _money_cell(value: Any) -> str:
    """An amount (a ``Decimal`` in cents, or a float nearest to one) with two decimals."""
    return "" if value is None else f"{value:.2f}"


def _money_value(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


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

    types = {
        TEXT: pa.string(),
        DATE: pa.date32(),
        NUMBER: pa.float64(),
        INTEGER: pa.int64(),
        MONEY: pa.float64(),
    }
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


def parquet_chunks(
    columns: Sequence[ExportColumn], chunks: Iterable[Sequence[tuple[Any, ...]]]
) -> Iterator[bytes]:
    """A Parquet file of rows, each chunk turned into typed Arrow arrays at once."""
    import pyarrow as pa

    schema = _parquet_schema(columns)
    money = [column.kind == MONEY for column in columns]

    def batches() -> Iterator[Any]:
        for rows in chunks:
            if rows:
                values = zip(*rows, strict=True)
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.array(map(_money_value, value) if is_money else value, arrow_type)
                        for value, arrow_type, is_money in zip(
                            values, schema.types, money, strict=True
                        )
                    ],
                    schema=schema,
                )

    return _parquet_written(schema, batches())


def parquet_from_csv(columns: Sequence[ExportColumn], text: Iterable[bytes]) -> Iterator[bytes]:
    """A Parquet file of CSV text with a header, in chunks of whole lines (as PostgreSQL
    writes it): Arrow's CSV parser turns each chunk straight into typed columns. Each chunk
    is parsed from memory in this thread (a reader that pulled from the text itself would
    read it from Arrow's own threads, which must not use this thread's connection). A
    chunk without a quote has no line break inside a value, and is parsed by Arrow's
    faster reader that need not look for them (about twice as fast)."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    schema = _parquet_schema(columns)
    quoted = arrow_csv.ParseOptions(newlines_in_values=True)
    unquoted = arrow_csv.ParseOptions(newlines_in_values=False)
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
                pa.py_buffer(chunk),
                read_options=read,
                parse_options=quoted if b'"' in chunk else unquoted,
                convert_options=convert,
            )
            yield from table.cast(schema).to_batches()

    return _parquet_written(schema, batches())
