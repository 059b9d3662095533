"""The contract's CSV format of measurement rows: reading (with every problem found) and writing."""

from __future__ import annotations

import csv
import datetime
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, NamedTuple

CSV_COLUMNS = ("product", "campaign_type", "campaign", "channel", "date", "conversions")
MAX_NAME_LENGTH = 200
MAX_REPORTED_PROBLEMS = 50


class MeasurementRow(NamedTuple):
    product: str
    campaign_type: str
    campaign: str
    channel: str
    date: datetime.date
    conversions: float


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column} ({self.value!r}): {self.message}"


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


def _parse_name(line: int, column: str, value: str, problems: ProblemLog) -> str:
    name = value.strip()
    if not name:
        problems.add(RowProblem(line, column, value, "must not be empty"))
    elif len(name) > MAX_NAME_LENGTH:
        problems.add(RowProblem(line, column, value[:80], f"longer than {MAX_NAME_LENGTH}"))
    elif "\x00" in name:
        problems.add(RowProblem(line, column, value, "contains a NUL character"))
    return name


def _parse_date(line: int, value: str, problems: ProblemLog) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        problems.add(RowProblem(line, "date", value, "is not a date of the form YYYY-MM-DD"))
        return None


def _parse_conversions(line: int, value: str, problems: ProblemLog) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        problems.add(RowProblem(line, "conversions", value, "is not a number"))
        return None
    if not math.isfinite(number) or number < 0:
        problems.add(RowProblem(line, "conversions", value, "must be finite and not negative"))
        return None
    return number


def read_measurement_csv(
    lines: Iterable[str], problems: ProblemLog
) -> Iterator[tuple[int, MeasurementRow]]:
    """Rows of a CSV file with their line numbers; problems go to ``problems``, not raised."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        problems.add(RowProblem(1, "header", "", "the file is empty"))
        return
    except csv.Error as error:
        problems.add(RowProblem(1, "header", "", f"not CSV: {error}"))
        return
    header = [name.strip().lstrip("\ufeff").lower() for name in header]
    missing = [name for name in CSV_COLUMNS if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    for name in missing:
        problems.add(RowProblem(1, name, "", "column is missing"))
    for name in unknown:
        problems.add(RowProblem(1, name, name, "column is unknown"))
    if len(set(header)) != len(header):
        problems.add(RowProblem(1, "header", ",".join(header), "a column is named twice"))
    if missing or unknown or len(set(header)) != len(header):
        return
    positions = [header.index(name) for name in CSV_COLUMNS]
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(RowProblem(reader.line_num, "row", "", f"not CSV: {error}"))
            return
        line = reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != len(header):
            problems.add(
                RowProblem(
                    line,
                    "row",
                    ",".join(values)[:80],
                    f"has {len(values)} fields, expected {len(header)}",
                )
            )
            continue
        product, campaign_type, campaign, channel, day, conversions = (
            values[position] for position in positions
        )
        before = problems.count
        row = (
            _parse_name(line, "product", product, problems),
            _parse_name(line, "campaign_type", campaign_type, problems),
            _parse_name(line, "campaign", campaign, problems),
            _parse_name(line, "channel", channel, problems),
            _parse_date(line, day, problems),
            _parse_conversions(line, conversions, problems),
        )
        if problems.count == before:
            yield line, MeasurementRow(*row)  # type: ignore[arg-type]


def write_measurement_csv(rows: Iterable[MeasurementRow], stream: IO[str]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            (
                row.product,
                row.campaign_type,
                row.campaign,
                row.channel,
                row.date.isoformat(),
                repr(row.conversions),
            )
        )
        count += 1
    return count
