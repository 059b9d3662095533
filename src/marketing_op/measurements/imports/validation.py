"""The values of a measurement row: what an import accepts, and the problems of what it does not.

:class:`RowChecker` validates the values of each record (names, a date within the calendar
bounds, conversions from 0 to ``MAX_CONVERSIONS``, a spend from 0 to ``MAX_SPEND`` or none)
and numbers the distinct series (product, campaign type, campaign, channel), so that the
importer stages small integers instead of names. Problems go to the :class:`ProblemLog` of
the read; nothing is raised.
"""

from __future__ import annotations

import calendar
import datetime
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator

from marketing_op.measurements.dates import FIRST_DAY, LAST_DAY
from marketing_op.measurements.imports.formats import (
    NAME_COLUMNS,
    MeasurementRow,
    Record,
    csv_records,
    formula_unquoted,
)
from marketing_op.measurements.imports.problems import ProblemLog, RowProblem, shown, storable
from marketing_op.measurements.models import MAX_CONVERSIONS, MAX_SPEND
from marketing_op.measurements.names import (
    character_described,
    hidden_character,
    hidden_characters_escaped,
    name_normalised,
)

MAX_NAME_LENGTH = 200
MAX_CACHED_DATES = 100_000
MIN_NORMAL = sys.float_info.min
PROGRESS_EVERY = 25_000
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTHS = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
"""In English whatever the locale (``calendar.month_name`` follows the locale)."""
UNKNOWN = "\\N"
"""An unknown spend in COPY text (SQL NULL)."""


class RowChecker:
    """Validates records and numbers their distinct series (product, campaign type, campaign,
    channel), so that the importer stages small integers instead of names.

    :meth:`copy_lines` turns valid records into lines of PostgreSQL's COPY text format
    (``line, series key, date, conversions, spend``, the spend ``\\N`` when unknown); invalid
    ones are left out and their problems go to the log. ``series`` lists the names of each
    key. Names are validated once per distinct spelling, so the work per row is a couple of
    dictionary look-ups and a ``float`` or two; memory grows with the number of distinct
    series and dates, not with the rows.

    With ``quoted_names`` (CSV files), a name loses the one ``'`` that CSV files put before
    names that a spreadsheet would run as formulas (``formats.formula_unquoted``).
    """

    def __init__(self, problems: ProblemLog, *, quoted_names: bool = False) -> None:
        self.problems = problems
        self.quoted_names = quoted_names
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
            if len(values) == 6:
                product, campaign_type, campaign, channel, day, conversions = values
                spend_text = ""
            else:
                product, campaign_type, campaign, channel, day, conversions, spend_text = values
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
            spend = self._spend(line, spend_text) if spend_text else UNKNOWN
            count += 1
            if progress is not None and not count % PROGRESS_EVERY:
                progress(count)
            if series and iso_date and spend:
                yield f"{line}\t{series}\t{iso_date}\t{number_text}\t{spend}\n"
        if progress is not None:
            progress(count)

    def _name(self, line: int, column: str, value: str) -> str | None:
        name = name_normalised(value.strip())
        if self.quoted_names:
            name = formula_unquoted(name)
        hidden = hidden_character(name) if storable(name) else None
        if not name:
            self.problems.add(RowProblem(line, column, shown(value), "must not be empty"))
        elif len(name) > MAX_NAME_LENGTH:
            self.problems.add(
                RowProblem(
                    line, column, shown(value), f"is longer than {MAX_NAME_LENGTH} characters"
                )
            )
        elif not storable(name):
            self.problems.add(
                RowProblem(
                    line, column, shown(value), "contains a NUL character or invalid Unicode"
                )
            )
        elif hidden is not None:
            position, character = hidden
            self.problems.add(
                RowProblem(
                    line,
                    column,
                    shown(hidden_characters_escaped(value)),
                    f"contains {character_described(character)} at character {position}, "
                    "an invisible or control character that makes names that look alike "
                    "differ: remove it",
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
        if not ISO_DATE.fullmatch(text):
            self.problems.add(
                RowProblem(line, "date", shown(value), "is not a date of the form YYYY-MM-DD")
            )
            return ""
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            self.problems.add(RowProblem(line, "date", shown(value), _no_such_day(text)))
            return ""
        if not FIRST_DAY <= day <= LAST_DAY:
            self.problems.add(
                RowProblem(
                    line,
                    "date",
                    shown(value),
                    f"is outside the days a measurement may have, {FIRST_DAY} to {LAST_DAY}",
                )
            )
            return ""
        if len(self._dates) >= MAX_CACHED_DATES:
            self._dates.clear()
        self._dates[value] = iso_date = day.isoformat()
        return iso_date

    def _bad_conversions(self, line: int, value: str) -> None:
        self.problems.add(
            RowProblem(line, "conversions", shown(value), _bad_number(value, MAX_CONVERSIONS))
        )

    def _spend(self, line: int, value: str) -> str:
        """The spend as COPY text: ``\\N`` when empty (unknown); "" and a problem when it is
        not a number from 0 to ``MAX_SPEND``."""
        text = value.strip()
        if not text:
            return UNKNOWN
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if 0.0 < number <= MAX_SPEND and text.isascii() and "_" not in text:
            return text if number >= MIN_NORMAL else repr(number)
        if number == 0.0 and "_" not in text:
            return "0"
        self.problems.add(RowProblem(line, "spend", shown(value), _bad_number(value, MAX_SPEND)))
        return ""

    def row(self, copy_line: str) -> tuple[int, MeasurementRow]:
        """The line number and typed row of one of :meth:`copy_lines`."""
        line, series, iso_date, conversions, spend = copy_line[:-1].split("\t")
        product, campaign_type, campaign, channel = self.series[int(series)]
        return int(line), MeasurementRow(
            product,
            campaign_type,
            campaign,
            channel,
            datetime.date.fromisoformat(iso_date),
            float(conversions),
            None if spend == UNKNOWN else float(spend),
        )


def _no_such_day(text: str) -> str:
    """What is wrong with a date of the form YYYY-MM-DD that the calendar does not have."""
    year, month, day = (int(part) for part in text.split("-"))
    if not 1 <= month <= 12:
        return f"is not a valid date: there is no month {month}"
    if year == 0:
        return "is not a valid date: there is no year 0"
    days = calendar.monthrange(year, month)[1]
    if day == 0:
        return "is not a valid date: there is no day 0"
    return f"is not a valid date: {MONTHS[month - 1]} {year} has {days} days"


def _bad_number(value: str, largest: float) -> str:
    """What is wrong with a value that is not a number from 0 to ``largest``."""
    try:
        number = float(value)
    except ValueError:
        return "is not a number"
    if "_" in value or not value.isascii():
        return "is not a number"
    if largest < number < math.inf:
        return f"must be at most {largest:g}, so that sums stay finite"
    return "must be a finite number, not negative"


def read_measurement_csv(
    lines: Iterable[str], problems: ProblemLog
) -> Iterator[tuple[int, MeasurementRow]]:
    """Valid rows of a CSV text with their line numbers; problems go to ``problems``.

    Does not look for repeated rows: that needs the whole file (the importer does it in SQL).
    """
    checker = RowChecker(problems, quoted_names=True)
    for copy_line in checker.copy_lines(csv_records(lines, problems)):
        yield checker.row(copy_line)
