"""The contract's CSV format of measurement rows: reading (with every problem found) and writing.

Reading is two steps, both streaming:

- a *source* turns a file (CSV lines, a JSON list, or typed rows) into numbered records of
  six strings in the order of ``CSV_COLUMNS``, reporting what is wrong with the shape;
- :class:`RowChecker` validates the values of each record and numbers the distinct
  campaigns and channels, so that the importer stages small integers instead of names.

Problems go to a :class:`ProblemLog` (the first 50 in full, the rest counted); nothing is
raised, so that one pass over a file finds every problem in it.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import io
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, NamedTuple

CSV_COLUMNS = ("product", "campaign_type", "campaign", "channel", "date", "conversions")
NAME_COLUMNS = CSV_COLUMNS[:4]
MAX_NAME_LENGTH = 200
MAX_REPORTED_PROBLEMS = 50
MAX_VALUE_SHOWN = 80
MAX_CONVERSIONS = sys.float_info.max
MAX_CACHED_DATES = 100_000
MIN_NORMAL = sys.float_info.min
PROGRESS_EVERY = 25_000
GZIP_MAGIC = b"\x1f\x8b"
NOT_UTF8 = "is not UTF-8 text (at this line or in the next few kilobytes)"
READ_CHUNK = 1 << 20

Record = tuple[int, Sequence[str]]
"""A line number and the six values of a row as text, in the order of ``CSV_COLUMNS``."""


class MeasurementRow(NamedTuple):
    product: str
    campaign_type: str
    campaign: str
    channel: str
    date: datetime.date
    conversions: float

    def as_text(self) -> tuple[str, str, str, str, str, str]:
        """The row as the six fields of the CSV format; ``repr`` keeps every float exact."""
        return (
            self.product,
            self.campaign_type,
            self.campaign,
            self.channel,
            self.date.isoformat(),
            repr(self.conversions),
        )


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column} ({self.value!r}): {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ProblemLog:
    """Keeps the first problems in full and counts the rest, so that memory stays flat."""

    problems: list[RowProblem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: RowProblem) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0


def _storable(text: str) -> bool:
    """Text that the database can keep: no NUL, and valid Unicode (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(value: object) -> str:
    """A value as the problem report shows it: short, and escaped where it is not storable."""
    text = value if isinstance(value, str) else repr(value)
    if not _storable(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 1] + "…"


# --- sources: files and values as numbered records of six strings ---------------------------


def csv_records(lines: Iterable[str], problems: ProblemLog) -> Iterator[Record]:
    """The rows of a CSV text with the line number where each ends.

    A missing or unknown column stops the reading (every row would be wrong); a row with the
    wrong number of fields is reported and skipped; text that is not CSV (or not UTF-8, or a
    broken gzip stream) is reported and ends the reading.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        problems.add(RowProblem(1, "header", "", "the file is empty"))
        return
    except UnicodeDecodeError as error:
        problems.add(RowProblem(1, "header", "", f"{NOT_UTF8}: {error}"))
        return
    except (csv.Error, OSError, EOFError, zlib.error) as error:
        problems.add(RowProblem(1, "header", "", f"cannot be read: {error}"))
        return
    header = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    missing = [name for name in CSV_COLUMNS if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    for name in missing:
        problems.add(RowProblem(1, name, "", "column is missing"))
    for name in unknown:
        problems.add(RowProblem(1, name, _shown(name), "column is unknown"))
    if len(set(header)) != len(header):
        problems.add(RowProblem(1, "header", _shown(",".join(header)), "a column is named twice"))
    if problems:
        return
    width = len(CSV_COLUMNS)
    positions = [header.index(name) for name in CSV_COLUMNS]
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
                        _shown(",".join(values)),
                        f"has {len(values)} fields, expected {width}",
                    )
                )
                continue
            if in_order:
                yield reader.line_num, values
            else:
                yield reader.line_num, [values[position] for position in positions]
    except csv.Error as error:
        problems.add(RowProblem(reader.line_num, "row", "", f"is not valid CSV: {error}"))
    except UnicodeDecodeError as error:
        problems.add(RowProblem(reader.line_num + 1, "row", "", f"{NOT_UTF8}: {error}"))
    except (OSError, EOFError, zlib.error) as error:
        problems.add(RowProblem(reader.line_num + 1, "row", "", f"cannot be read: {error}"))


def json_records(items: object, problems: ProblemLog) -> Iterator[Record]:
    """Records of a JSON list of row objects; ``line`` is the row's 1-based position."""
    if not isinstance(items, list):
        problems.add(
            RowProblem(
                0, "body", _shown(type(items).__name__), "must be a JSON list of measurement rows"
            )
        )
        return
    columns = frozenset(CSV_COLUMNS)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.add(RowProblem(number, "row", _shown(item), "must be a JSON object"))
            continue
        keys = item.keys()
        if keys != columns:
            for name in CSV_COLUMNS:
                if name not in item:
                    problems.add(RowProblem(number, name, "", "is missing"))
            for name in keys - columns:
                problems.add(RowProblem(number, str(name), _shown(item[name]), "is unknown"))
            continue
        values: list[str] = []
        for name in CSV_COLUMNS:
            value = item[name]
            if (
                name == "conversions"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                values.append(repr(float(value)))
            elif isinstance(value, str) and name != "conversions":
                values.append(value)
            else:
                expected = "a number" if name == "conversions" else "a string"
                problems.add(RowProblem(number, name, _shown(value), f"must be {expected}"))
                break
        else:
            yield number, values


def typed_records(rows: Iterable[MeasurementRow]) -> Iterator[Record]:
    """Records of typed rows, numbered as the lines of a CSV file with a header would be."""
    for line, row in enumerate(rows, start=2):
        yield line, row.as_text()


# --- validation ------------------------------------------------------------------------------


class RowChecker:
    """Validates records and numbers their distinct series (product, campaign type, campaign,
    channel), so that the importer stages small integers instead of names.

    :meth:`copy_lines` turns valid records into lines of PostgreSQL's COPY text format
    (``line, series key, date, conversions``); invalid ones are left out and their problems
    go to the log. ``series`` lists the names of each key. Names are validated once per
    distinct spelling, so the work per row is a couple of dictionary look-ups and one
    ``float``; memory grows with the number of distinct series and dates, not with the rows.
    """

    def __init__(self, problems: ProblemLog) -> None:
        self.problems = problems
        self.series: list[tuple[str, str, str, str]] = []
        self._series_keys: dict[tuple[str, ...], str] = {}
        self._series_by_name: dict[tuple[str, ...], str] = {}
        self._dates: dict[str, str] = {}

    def copy_lines(
        self, records: Iterable[Record], progress: Callable[[int], None] | None = None
    ) -> Iterator[str]:
        """COPY text lines of the valid records; ``progress`` is called every so many rows."""
        series_keys = self._series_keys
        dates = self._dates
        count = 0
        for line, values in records:
            product, campaign_type, campaign, channel, day, conversions = values
            series = series_keys.get((product, campaign_type, campaign, channel))
            if series is None:
                series = self._new_series(line, product, campaign_type, campaign, channel)
            iso_date = dates.get(day)
            if iso_date is None:
                iso_date = self._new_date(line, day)
            number_text = conversions.strip()
            try:
                number = float(number_text)
            except ValueError:
                number = -1.0
            if (
                0.0 < number <= MAX_CONVERSIONS
                and number_text.isascii()
                and ("_" not in number_text)
            ):
                if number < MIN_NORMAL:
                    number_text = repr(number)
            elif number == 0.0 and "_" not in number_text:
                number_text = "0"
            else:
                self._bad_conversions(line, conversions)
                series = ""
            count += 1
            if progress is not None and not count % PROGRESS_EVERY:
                progress(count)
            if series and iso_date:
                yield f"{line}\t{series}\t{iso_date}\t{number_text}\n"
        if progress is not None:
            progress(count)

    def _name(self, line: int, column: str, value: str) -> str | None:
        name = value.strip()
        if not name:
            self.problems.add(RowProblem(line, column, _shown(value), "must not be empty"))
        elif len(name) > MAX_NAME_LENGTH:
            self.problems.add(
                RowProblem(
                    line, column, _shown(value), f"is longer than {MAX_NAME_LENGTH} characters"
                )
            )
        elif not _storable(name):
            self.problems.add(
                RowProblem(
                    line, column, _shown(value), "contains a NUL character or invalid Unicode"
                )
            )
        else:
            return name
        return None

    def _new_series(self, line: int, *values: str) -> str:
        names = tuple(
            self._name(line, column, value)
            for column, value in zip(NAME_COLUMNS, values, strict=True)
        )
        if None in names:
            return ""
        key = self._series_by_name.get(names)  # type: ignore[arg-type]
        if key is None:
            key = str(len(self.series))
            self.series.append(names)  # type: ignore[arg-type]
            self._series_by_name[names] = key  # type: ignore[index]
        self._series_keys[values] = key
        return key

    def _new_date(self, line: int, value: str) -> str:
        text = value.strip()
        try:
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise ValueError(text)
            iso_date = datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            self.problems.add(
                RowProblem(line, "date", _shown(value), "is not a date of the form YYYY-MM-DD")
            )
            return ""
        if len(self._dates) >= MAX_CACHED_DATES:
            self._dates.clear()
        self._dates[value] = iso_date
        return iso_date

    def _bad_conversions(self, line: int, value: str) -> None:
        try:
            float(value)
        except ValueError:
            message = "is not a number"
        else:
            message = "must be a finite number, not negative"
        if "_" in value or not value.isascii():
            message = "is not a number"
        self.problems.add(RowProblem(line, "conversions", _shown(value), message))

    def row(self, copy_line: str) -> tuple[int, MeasurementRow]:
        """The line number and typed row of one of :meth:`copy_lines`."""
        line, series, iso_date, conversions = copy_line[:-1].split("\t")
        product, campaign_type, campaign, channel = self.series[int(series)]
        return int(line), MeasurementRow(
            product,
            campaign_type,
            campaign,
            channel,
            datetime.date.fromisoformat(iso_date),
            float(conversions),
        )


def read_measurement_csv(
    lines: Iterable[str], problems: ProblemLog
) -> Iterator[tuple[int, MeasurementRow]]:
    """Valid rows of a CSV text with their line numbers; problems go to ``problems``.

    Does not look for repeated rows: that needs the whole file (the importer does it in SQL).
    """
    checker = RowChecker(problems)
    for copy_line in checker.copy_lines(csv_records(lines, problems)):
        yield checker.row(copy_line)


def write_measurement_csv(rows: Iterable[MeasurementRow], stream: IO[str]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row.as_text())
        count += 1
    return count


# --- the bytes of an upload or file: size limit, SHA-256, gzip, text ------------------------


class ContentTooLarge(Exception):
    """More bytes than the limit were offered."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class HashingReader(io.RawIOBase):
    """Reads a binary stream while computing its SHA-256 and counting its bytes.

    With ``limit``, reading past ``limit`` bytes raises :class:`ContentTooLarge`.
    """

    def __init__(self, stream: BinaryIO | IO[bytes], *, limit: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if not data:
            return 0
        size = len(data)
        self.bytes_read += size
        if self._limit is not None and self.bytes_read > self._limit:
            raise ContentTooLarge(self._limit)
        self._sha256.update(data)
        buffer[:size] = data
        return size

    def drain(self) -> None:
        """Read what is left, so that the digest and count cover the whole content."""
        while self._stream_read_more():
            pass

    def _stream_read_more(self) -> bool:
        return self.readinto(bytearray(READ_CHUNK)) > 0

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


def open_text(raw: HashingReader) -> IO[str]:
    """The text of a binary stream, gunzipped when it starts with the gzip magic bytes."""
    buffered = io.BufferedReader(raw, buffer_size=READ_CHUNK)
    binary: Any = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        binary = gzip.GzipFile(fileobj=buffered, mode="rb")
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
