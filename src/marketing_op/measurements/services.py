"""Writes of measurements: the all-or-nothing, idempotent import.

One import is one transaction. Rows stream into a temporary staging table (``COPY`` on
PostgreSQL, batched inserts on SQLite) while they are validated; nothing touches the real
tables until the whole file has been read and found valid. Then set-based SQL creates the
missing products, campaigns and channels, counts what will change, and upserts.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.db import connection, transaction

from marketing_op.accounts.models import Organization
from marketing_op.core.exceptions import RejectedInputError
from marketing_op.measurements.rows import MeasurementRow, ProblemLog, RowProblem

SQLITE_BATCH = 5_000
STAGING_COLUMNS = "line, product, campaign_type, campaign, channel, date, conversions"


class ImportRejected(RejectedInputError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: ProblemLog) -> None:
        listed = "; ".join(str(problem) for problem in problems.problems)
        more = problems.count - len(problems.problems)
        suffix = f"; and {more} more problems" if more > 0 else ""
        super().__init__(f"The file was rejected, nothing was imported: {listed}{suffix}")
        self.problems = problems


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    first_date: datetime.date | None
    last_date: datetime.date | None


def _create_staging(cursor) -> None:  # type: ignore[no-untyped-def]
    cursor.execute("DROP TABLE IF EXISTS import_staging")
    cursor.execute(
        "CREATE TEMPORARY TABLE import_staging (line bigint NOT NULL, product text NOT NULL, "
        "campaign_type text NOT NULL, campaign text NOT NULL, channel text NOT NULL, "
        "date date NOT NULL, conversions double precision NOT NULL)"
    )


def _load_staging(rows: Iterable[tuple[int, MeasurementRow]]) -> int:
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY import_staging ({STAGING_COLUMNS}) FROM STDIN") as copy:
                for line, row in rows:
                    copy.write_row((line, *row))
                    count += 1
        return count
    placeholders = ", ".join(["%s"] * 7)
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := [(line, *row) for line, row in islice(iterator, SQLITE_BATCH)]:
            cursor.executemany(
                f"INSERT INTO import_staging ({STAGING_COLUMNS}) VALUES ({placeholders})",
                [(*values[:5], values[5].isoformat(), values[6]) for values in batch],
            )
            count += len(batch)
    return count


def _check_duplicates(cursor, problems: ProblemLog) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        "SELECT product, campaign_type, campaign, channel, date, MIN(line), MAX(line) "
        "FROM import_staging GROUP BY product, campaign_type, campaign, channel, date "
        "HAVING COUNT(*) > 1 ORDER BY MIN(line)"
    )
    for product, campaign_type, campaign, channel, day, first, last in cursor.fetchall():
        problems.add(
            RowProblem(
                int(last),
                "row",
                f"{product},{campaign_type},{campaign},{channel},{day}",
                f"the same product, campaign type, campaign, channel and date as line {first}",
            )
        )


RESOLVE_SQL = """
CREATE TEMPORARY TABLE import_resolved AS
SELECT c.id AS campaign_id, ch.id AS channel_id, s.date AS date, s.conversions AS conversions
FROM import_staging s
JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = s.product
JOIN measurements_campaign c ON c.organization_id = %(org)s AND c.product_id = p.id
     AND c.campaign_type = s.campaign_type AND c.name = s.campaign
JOIN measurements_channel ch ON ch.organization_id = %(org)s AND ch.name = s.channel
"""

MATCH_EXISTING = """
m.organization_id = %(org)s AND m.campaign_id = r.campaign_id
AND m.channel_id = r.channel_id AND m.date = r.date
"""


def _write(cursor, organization_id: int, replace: bool) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    org = {"org": organization_id}
    cursor.execute(
        "INSERT INTO measurements_product (organization_id, name) "
        "SELECT DISTINCT %(org)s, product FROM import_staging WHERE true "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        org,
    )
    cursor.execute(
        "INSERT INTO measurements_channel (organization_id, name) "
        "SELECT DISTINCT %(org)s, channel FROM import_staging WHERE true "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        org,
    )
    cursor.execute(
        "INSERT INTO measurements_campaign (organization_id, product_id, campaign_type, name) "
        "SELECT DISTINCT %(org)s, p.id, s.campaign_type, s.campaign FROM import_staging s "
        "JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = s.product "
        "WHERE true ON CONFLICT (organization_id, product_id, campaign_type, name) DO NOTHING",
        org,
    )
    cursor.execute("DROP TABLE IF EXISTS import_resolved")
    cursor.execute(RESOLVE_SQL, org)
    cursor.execute(
        "SELECT COALESCE(SUM(CASE WHEN m.id IS NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN m.conversions <> r.conversions THEN 1 ELSE 0 END), 0) "
        f"FROM import_resolved r LEFT JOIN measurements_measurement m ON {MATCH_EXISTING}",
        org,
    )
    inserted, updated = (int(value) for value in cursor.fetchone())
    deleted = 0
    if replace:
        cursor.execute(
            "DELETE FROM measurements_measurement WHERE organization_id = %(org)s "
            "AND date BETWEEN (SELECT MIN(date) FROM import_resolved) "
            "AND (SELECT MAX(date) FROM import_resolved) "
            "AND NOT EXISTS (SELECT 1 FROM import_resolved r WHERE r.campaign_id = "
            "measurements_measurement.campaign_id AND r.channel_id = "
            "measurements_measurement.channel_id AND r.date = measurements_measurement.date)",
            org,
        )
        deleted = max(cursor.rowcount, 0)
    cursor.execute(
        "INSERT INTO measurements_measurement "
        "(organization_id, campaign_id, channel_id, date, conversions) "
        "SELECT %(org)s, campaign_id, channel_id, date, conversions FROM import_resolved "
        "WHERE true ON CONFLICT (organization_id, campaign_id, channel_id, date) "
        "DO UPDATE SET conversions = excluded.conversions "
        "WHERE measurements_measurement.conversions <> excluded.conversions",
        org,
    )
    return inserted, updated, deleted, 0


def measurement_import(
    *,
    organization: Organization,
    rows: Iterable[tuple[int, MeasurementRow]],
    problems: ProblemLog | None = None,
    replace: bool = False,
) -> ImportSummary:
    """Import numbered rows for the organisation, all or nothing.

    ``problems`` is the log that the reader of ``rows`` writes to; if it holds any problem
    once the rows are read, or the rows repeat a (product, campaign type, campaign, channel,
    date), nothing is written and :class:`ImportRejected` is raised. With ``replace``, the
    organisation's rows in the file's date range that the file does not hold are deleted.
    """
    problems = problems if problems is not None else ProblemLog()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _create_staging(cursor)
        total = _load_staging(rows)
        with connection.cursor() as cursor:
            if not problems:
                _check_duplicates(cursor, problems)
            if problems:
                cursor.execute("DROP TABLE IF EXISTS import_staging")
                raise ImportRejected(problems)
            inserted, updated, deleted, _ = _write(cursor, organization.pk, replace)
            cursor.execute("SELECT MIN(date), MAX(date) FROM import_staging")
            first, last = cursor.fetchone()
            cursor.execute("DROP TABLE IF EXISTS import_resolved")
            cursor.execute("DROP TABLE IF EXISTS import_staging")
    return ImportSummary(
        rows=total,
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated,
        deleted=deleted,
        first_date=_as_date(first),
        last_date=_as_date(last),
    )


def _as_date(value: object) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def measurement_rows_numbered(
    rows: Iterable[MeasurementRow],
) -> Iterable[tuple[int, MeasurementRow]]:
    """Number rows as the lines of a CSV file with a header would be numbered."""
    return ((line, row) for line, row in enumerate(rows, start=2))
