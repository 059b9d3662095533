"""The formats of a measurement file: CSV text, a JSON list or typed rows, to records.

A *source* turns a file (CSV lines, a JSON list, or typed rows) into numbered records of six
strings in the order of ``CSV_COLUMNS``, and a seventh, the spend (empty when unknown), where
the file has the optional ``spend`` column, reporting what is wrong with the shape to a
:class:`ProblemLog`. Everything streams, and everything is bounded while it streams: the
length of a line or of one JSON row (``MAX_LINE_CHARS``, which also bounds the columns and
the nesting of a row) and the number of lines or rows (``max_rows``), as ``streams`` bounds
the bytes, so that memory stays flat whatever a client sends.
"""

from __future__ import annotations

import csv
import datetime
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple, TypeGuard

from marketing_op.measurements.imports.problems import ProblemLog, RowProblem, shown
from marketing_op.measurements.imports.streams import ContentTooLarge

CSV_COLUMNS = ("product", "campaign_type", "campaign", "channel", "date", "conversions")
"""The columns every file has (the contract's CSV header)."""
SPEND_COLUMN = "spend"
"""The optional column: the media spend of the row's day; empty (or null in JSON) when unknown."""
FILE_COLUMNS = (*CSV_COLUMNS, SPEND_COLUMN)
NAME_COLUMNS = CSV_COLUMNS[:4]
COLUMN_SET = frozenset(CSV_COLUMNS)
FILE_COLUMN_SET = frozenset(FILE_COLUMNS)
MAX_LINE_CHARS = 10_000
"""The longest line of a CSV file, or text of one row of a JSON list (a valid row is a few
hundred characters): a longer one ends the reading with a problem."""
JSON_CHUNK = 1 << 16
MAX_QUOTED_NAMES = 100_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula when a cell starts with it (OWASP, CSV Injection)."""
QUOTED_STARTS = (*FORMULA_STARTS, "'")
"""Names that a CSV file writes after one ``'``: those that start like a formula, and those
that start with ``'`` themselves, so that reading the file back gives every name exactly."""

Record = tuple[int, Sequence[str]]
"""A line number and the values of a row as text, in the order of ``FILE_COLUMNS``: six, or
seven with the spend ("" when unknown)."""


class MeasurementRow(NamedTuple):
    product: str
    campaign_type: str
    campaign: str
    channel: str
    date: datetime.date
    conversions: float
    spend: float | None = None
    """None: unknown."""

    def as_text(self) -> tuple[str, str, str, str, str, str, str]:
        """The row as the seven fields of the CSV format with spend (empty when unknown);
        ``repr`` keeps every float exact."""
        return (
            self.product,
            self.campaign_type,
            self.campaign,
            self.channel,
            self.date.isoformat(),
            repr(self.conversions),
            "" if self.spend is None else repr(self.spend),
        )


def formula_quoted(name: str) -> str:
    """A name as a CSV cell that no spreadsheet runs as a formula: after one ``'`` when it
    starts like a formula or with ``'`` (:data:`QUOTED_STARTS`)."""
    return "'" + name if name.startswith(QUOTED_STARTS) else name


def formula_unquoted(cell: str) -> str:
    """The name in a CSV cell: without the one ``'`` that :func:`formula_quoted` put before it."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(QUOTED_STARTS) else cell


CSV_SPECIAL = frozenset(',"\r\n')


def csv_cell(name: str) -> str:
    """A name as the text of its CSV cell: :func:`formula_quoted`, then between double
    quotes (inner ones doubled) when it holds a comma, a quote or a line break. Written by
    hand: Python's ``csv`` writer quotes only the characters of its line terminator, so it
    leaves a lone carriage return bare, and a reader ends the line there."""
    cell = formula_quoted(name)
    if CSV_SPECIAL.isdisjoint(cell):
        return cell
    return '"' + cell.replace('"', '""') + '"'


class CsvNameCells(dict[str, str]):
    """Names as CSV cells (:func:`csv_cell`), each worked out once: a file holds few
    distinct names, and a look-up costs less than the check. Bounded in size."""

    def __missing__(self, name: str) -> str:
        if len(self) >= MAX_QUOTED_NAMES:
            self.clear()
        cell = self[name] = csv_cell(name)
        return cell


# --- sources: files and values as numbered records of six strings ---------------------------


def bounded_lines(
    text: IO[str], problems: ProblemLog, *, max_rows: int | None = None
) -> Iterator[str]:
    """The lines of a text, each at most ``MAX_LINE_CHARS``; a longer one is a problem that
    ends the reading. More than ``max_rows`` lines (blank ones too) raise
    :class:`ContentTooLarge`."""
    count = 0
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        count += 1
        if max_rows is not None and count > max_rows + 1:  # the header is not a row
            raise ContentTooLarge(max_rows, "rows")
        if len(line) > MAX_LINE_CHARS:
            problems.add(
                RowProblem(count, "row", shown(line), f"is longer than {MAX_LINE_CHARS} characters")
            )
            return
        yield line


def csv_records(lines: Iterable[str], problems: ProblemLog) -> Iterator[Record]:
    """The rows of a CSV text with the line number where each ends.

    A missing or unknown column stops the reading (every row would be wrong); a row with the
    wrong number of fields is reported and skipped; text that is not CSV (or not in its
    charset, or a broken gzip stream) is reported and ends the reading. Records have the
    spend as a seventh value where the header names the ``spend`` column.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        if not problems:
            problems.add(RowProblem(1, "header", "", "the file is empty"))
        return
    except UnicodeDecodeError as error:
        problems.add(RowProblem(1, "header", "", f"{_not_text(error)}"))
        return
    except (csv.Error, OSError, EOFError, zlib.error) as error:
        problems.add(RowProblem(1, "header", "", f"cannot be read: {error}"))
        return
    header = [_column_name(name) for name in header]
    separator = _other_separator(header)
    if separator is not None:
        problems.add(
            RowProblem(
                1,
                "header",
                shown(",".join(header)),
                f"the file looks {separator}-separated; save it as comma-separated CSV "
                "(with a point as the decimal separator) and import it again",
            )
        )
        return
    missing = [name for name in CSV_COLUMNS if name not in header]
    unknown = [name for name in header if name not in FILE_COLUMN_SET]
    for name in missing:
        problems.add(RowProblem(1, name, "", "column is missing"))
    for name in unknown:
        problems.add(RowProblem(1, shown(name), shown(name), "column is unknown"))
    if len(set(header)) != len(header):
        problems.add(RowProblem(1, "header", shown(",".join(header)), "a column is named twice"))
    if problems:
        return
    width = len(header)
    positions = [header.index(name) for name in FILE_COLUMNS if name in header]
    in_order = positions == list(range(width))
    try:
        for values in reader:
            if len(values) != width:
                if not values:
                    continue
                problems.add(
                    RowProblem(
                        reader.line_num,
                        "row",
                        shown(",".join(values)),
                        f"has {len(values)} fields, expected {width}",
                    )
                )
                problems.rows_left_out += 1
                continue
            if in_order:
                yield reader.line_num, values
            else:
                yield reader.line_num, [values[position] for position in positions]
    except csv.Error as error:
        problems.add(RowProblem(reader.line_num, "row", "", f"is not valid CSV: {error}"))
    except UnicodeDecodeError as error:
        problems.add(RowProblem(reader.line_num + 1, "row", "", _not_text(error)))
    except (OSError, EOFError, zlib.error) as error:
        problems.add(RowProblem(reader.line_num + 1, "row", "", f"cannot be read: {error}"))


OTHER_SEPARATORS = {";": "semicolon", "\t": "tab"}
"""Separators of files that spreadsheets save as "CSV" in some locales (Excel, where the
decimal separator is a comma, separates with semicolons). Such a file is refused with one
clear problem rather than read: in it, ``1,5`` may be one and a half or fifteen."""


def _column_name(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip().lower()


def _other_separator(header: list[str]) -> str | None:
    """The name of the separator of a header in which no comma-separated cell names a
    column but at least two do once split on a semicolon (or a tab), else None."""
    if any(name in FILE_COLUMN_SET for name in header):
        return None
    text = ",".join(header)
    for separator, name in OTHER_SEPARATORS.items():
        if len(FILE_COLUMN_SET.intersection(map(_column_name, text.split(separator)))) >= 2:
            return name
    return None


def _not_text(error: UnicodeDecodeError) -> str:
    return (
        f"is not {error.encoding.upper()} text (at this line or in the next few kilobytes): {error}"
    )


def json_records(items: object, problems: ProblemLog) -> Iterator[Record]:
    """Records of a JSON list of row objects; ``line`` is the row's 1-based position."""
    if not isinstance(items, list):
        problems.add(RowProblem(0, "body", shown(items), "must be a JSON list of measurement rows"))
        return
    for number, item in enumerate(items, start=1):
        values = json_row(number, item, problems)
        if values is not None:
            yield number, values
        else:
            problems.rows_left_out += 1


def json_row(number: int, item: object, problems: ProblemLog) -> list[str] | None:
    """The seven values of one row object of a JSON list (the spend "" when it is null or
    absent), or None (and its problems)."""
    if not isinstance(item, dict):
        problems.add(RowProblem(number, "row", shown(item), "must be a JSON object"))
        return None
    keys = item.keys()
    if keys != COLUMN_SET and keys != FILE_COLUMN_SET:
        missing, unknown = COLUMN_SET - keys, keys - FILE_COLUMN_SET
        if problems.full:
            problems.count += len(missing) + len(unknown)
            return None
        for name in CSV_COLUMNS:
            if name in missing:
                problems.add(RowProblem(number, name, "", "is missing"))
        for name in unknown:
            problems.add(RowProblem(number, shown(name), shown(item[name]), "is unknown"))
        return None
    values: list[str] = []
    for name in FILE_COLUMNS:
        value = item.get(name)
        if name in ("conversions", SPEND_COLUMN) and _is_number(value):
            try:
                values.append(repr(float(value)))
            except OverflowError:  # an integer beyond any float: too large
                values.append("inf")
        elif name == SPEND_COLUMN and value is None:
            values.append("")
        elif isinstance(value, str) and name not in ("conversions", SPEND_COLUMN):
            values.append(value)
        else:
            expected = {"conversions": "a number", SPEND_COLUMN: "a number or null"}
            message = f"must be {expected.get(name, 'a string')}"
            problems.add(RowProblem(number, name, shown(value), message))
            return None
    return values


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_list_records(
    text: IO[str], problems: ProblemLog, *, max_rows: int | None = None
) -> Iterator[Record]:
    """Records of a JSON list of row objects read as a stream, one row at a time.

    Each row's text is at most ``MAX_LINE_CHARS`` (which bounds its columns and nesting; a
    nesting too deep for the parser is a problem too), and more than ``max_rows`` rows raise
    :class:`ContentTooLarge`; the first problem with the list itself ends the reading.
    """
    reader = _JsonListReader(text, problems)
    try:
        first = reader.next_char()
        if first != "[":
            if first in _JSON_KINDS or first.isdigit():
                reader.problem(
                    "must be a JSON list of measurement rows", _JSON_KINDS.get(first, "number")
                )
            else:
                reader.problem("is not valid JSON: a JSON list of measurement rows was expected")
            return
        reader.position += 1
        if reader.next_char() == "]":
            reader.position += 1
            reader.end()
            return
        while True:
            reader.number += 1
            if max_rows is not None and reader.number > max_rows:
                raise ContentTooLarge(max_rows, "rows")
            found, item = reader.value()
            if not found:
                return
            values = json_row(reader.number, item, problems)
            if values is not None:
                yield reader.number, values
            else:
                problems.rows_left_out += 1
            separator = reader.next_char()
            reader.position += 1
            if separator == "]":
                reader.end()
                return
            if separator != ",":
                reader.problem("is not valid JSON: a comma or the end of the list was expected")
                return
    except UnicodeDecodeError as error:
        reader.problem(_not_text(error))
    except (OSError, EOFError, zlib.error) as error:
        reader.problem(f"cannot be read: {error}")


_JSON_KINDS = {"{": "dict", '"': "str", "t": "bool", "f": "bool", "n": "NoneType", "-": "number"}


class _JsonListReader:
    """A window on the text of a JSON list: the values of its items, one at a time."""

    def __init__(self, text: IO[str], problems: ProblemLog) -> None:
        self.text = text
        self.problems = problems
        self.decoder = json.JSONDecoder()
        self.buffer = ""
        self.position = 0
        self.number = 0
        self.ended = False

    def problem(self, message: str, value: str = "", column: str = "body") -> None:
        self.problems.add(RowProblem(self.number, column, shown(value), message))

    def fill(self) -> bool:
        """More text into the buffer; False at the end of the text."""
        if self.ended:
            return False
        chunk = self.text.read(JSON_CHUNK)
        if not chunk:
            self.ended = True
            return False
        self.buffer, self.position = self.buffer[self.position :] + chunk, 0
        return True

    def next_char(self) -> str:
        """The next character that is not white space (not consumed); "" at the end."""
        while True:
            buffer, position = self.buffer, self.position
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            self.position = position
            if position < len(buffer):
                return buffer[position]
            if not self.fill():
                return ""

    def value(self) -> tuple[bool, Any]:
        """The next JSON value, reading more text while it is cut off; (False, None) and a
        problem when it is invalid, too long or nested too deeply."""
        self.next_char()
        while True:
            try:
                item, self.position = self.decoder.raw_decode(self.buffer, self.position)
                return True, item
            except RecursionError:
                self.problem(
                    f"is nested too deeply (a row is an object of {len(CSV_COLUMNS)} values)",
                    column="row",
                )
                return False, None
            except ValueError as error:
                if len(self.buffer) - self.position > MAX_LINE_CHARS:
                    self.problem(
                        f"is not a valid JSON row within {MAX_LINE_CHARS} characters: {error}",
                        column="row",
                    )
                    return False, None
                if not self.fill():
                    self.problem(f"is not valid JSON: {error}")
                    return False, None

    def end(self) -> None:
        if self.next_char() != "":
            self.problem("is not valid JSON: text after the end of the list")


def typed_records(rows: Iterable[MeasurementRow]) -> Iterator[Record]:
    """Records of typed rows, numbered as the lines of a CSV file with a header would be."""
    for line, row in enumerate(rows, start=2):
        yield line, row.as_text()


def write_measurement_csv(rows: Iterable[MeasurementRow], stream: IO[str]) -> int:
    """Rows as a CSV file of the import format with the spend column (empty where the spend
    is unknown), names written as :func:`csv_cell` says."""
    stream.write(",".join(FILE_COLUMNS) + "\n")
    cell = CsvNameCells().__getitem__
    count = 0
    for row in rows:
        product, campaign_type, campaign, channel, day, conversions, spend = row.as_text()
        cells = (cell(product), cell(campaign_type), cell(campaign), cell(channel))
        stream.write(f"{','.join(cells)},{day},{conversions},{spend}\n")
        count += 1
    return count
