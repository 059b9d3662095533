"""The staging table of an import, and the portable way to load it (any database).

One import stages its valid rows in a temporary table (``line, series, date,
conversions, spend``: small integer keys of the file's series, not their names) while they are
read; nothing touches the real tables until the whole file is read and found valid.
:class:`PortableLoad` loads it with batched inserts and writes after reading; the
PostgreSQL fast path (``postgresql.PostgresqlLoad``) overrides its steps. The service
chooses one of them once, by database vendor.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import connection

from marketing_op.accounts.models import Organization
from marketing_op.measurements.imports.problems import MAX_REPORTED_PROBLEMS, RowProblem
from marketing_op.measurements.imports.validation import UNKNOWN, RowChecker

BATCH_ROWS = 5_000
STAGING = "import_staging"
TEMPORARY_TABLES = (STAGING, "import_series", "import_keys")
INSERT_STAGED = (
    f"INSERT INTO {STAGING} (line, series, date, conversions, spend) "  # noqa: S608
    "VALUES (%s, %s, %s, %s, %s)"
)


def staging_create(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGING} (line bigint NOT NULL, series integer NOT NULL, "
        "date date NOT NULL, conversions double precision NOT NULL, spend numeric(18, 2))"
    )


def staging_drop(cursor: Any) -> None:
    for table in TEMPORARY_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def duplicates_check(cursor: Any, checker: RowChecker) -> None:
    """Report the staged rows that repeat a (series, date) of an earlier line."""
    cursor.execute(
        f"SELECT series, date, MIN(line), MAX(line), COUNT(*) OVER () FROM {STAGING} "  # noqa: S608
        "GROUP BY series, date HAVING COUNT(*) > 1 ORDER BY MIN(line) LIMIT %s",
        [MAX_REPORTED_PROBLEMS],
    )
    found = cursor.fetchall()
    for series, day, first, last, _ in found:
        names = ",".join(checker.series[series])
        checker.problems.add(
            RowProblem(
                int(last),
                "row",
                f"{names},{day}",
                f"repeats the product, campaign type, campaign, channel and date of line {first}",
            )
        )
    if found:
        checker.problems.count += int(found[0][4]) - len(found)


def _split(batch: list[str]) -> list[tuple[int, int, str, float, Decimal | None]]:
    rows = []
    for text in batch:
        line, series, iso_date, conversions, spend = text[:-1].split("\t")
        known = None if spend == UNKNOWN else Decimal(spend)
        rows.append((int(line), int(series), iso_date, float(conversions), known))
    return rows


class PortableLoad:
    """Staging with batched inserts; every row is written after the whole file is read.

    The steps that a database may do its own way are methods, so that the service runs
    one sequence for every database and the vendor is chosen once.
    """

    def __init__(self, checker: RowChecker, organization: Organization, *, replace: bool) -> None:
        self.checker = checker
        self.organization = organization
        self.replace = replace
        self.inserted_early = 0
        """Rows already in the measurement table when the file has been read."""
        self.after_line = 0
        """The rows of the lines up to this one are in the measurement table."""
        self.series_named = 0
        """The series whose names are in ``import_keys``."""
        self.all_inserted_early = False
        """Every row of the file was inserted while it was read (all of new days)."""

    def begin(self, cursor: Any) -> None:
        staging_create(cursor)

    def load(self, lines: Iterator[str]) -> None:
        """The lines into the staging table until the first problem; after it the lines are
        still read, for the problem report, not stored."""
        problems = self.checker.problems
        batch: list[str] = []
        with connection.cursor() as cursor:
            for text in lines:
                batch.append(text)
                if len(batch) >= BATCH_ROWS:
                    if not problems:
                        cursor.executemany(INSERT_STAGED, _split(batch))
                    batch.clear()
            if batch and not problems:
                cursor.executemany(INSERT_STAGED, _split(batch))

    def series_insert(self, cursor: Any, new_series: list[tuple[Any, ...]]) -> None:
        cursor.executemany("INSERT INTO import_series VALUES (%s, %s, %s, %s, %s)", new_series)

    def measurements_lock(self, cursor: Any) -> None:
        """SQLite's IMMEDIATE transactions serialise writers already."""

    @staticmethod
    def analyze(cursor: Any, table: str) -> None:
        """Fresh planner statistics of a table the import changed a lot (where it helps)."""

    @staticmethod
    def vacuum(cursor: Any, table: str) -> None:
        """Clear the dead rows of a table the import changed a lot, outside a transaction."""

    def new_days_summarise(self, cursor: Any, org: dict[str, Any]) -> bool:
        """Write the summaries of rows that were all inserted early; False if not done."""
        return False
