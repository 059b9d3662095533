"""Writes of measurements: the all-or-nothing, idempotent import, and its history.

One import is one transaction. Rows stream into a temporary staging table (``COPY`` on
PostgreSQL, batched inserts on SQLite) while they are validated; the staging table holds
small integer keys of the file's campaigns and channels, not their names. Nothing touches
the real tables until the whole file has been read and found valid. Then set-based SQL
checks for repeated rows, creates the missing products, campaigns and channels, and
upserts every row in one statement that also counts what it inserted and updated.
"""

from __future__ import annotations

import datetime
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import orjson
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Min
from psycopg.copy import QueuedLibpqWriter

from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import organization_data_changed
from marketing_op.core.exceptions import ApplicationError, PayloadTooLarge, RejectedInputError
from marketing_op.measurements.models import DailyConversions, ImportRecord, week_start
from marketing_op.measurements.reads.import_history import import_record_get_by_key
from marketing_op.measurements.rows import (
    MAX_REPORTED_PROBLEMS,
    ContentTooLarge,
    HashingReader,
    ProblemLog,
    Record,
    RowChecker,
    RowProblem,
    csv_records,
    json_records,
    open_text,
)

BATCH_ROWS = 5_000
EARLY_INSERT_ROWS = 100_000
"""Rows of a chunk that PostgreSQL stages, and may insert, while the next is read."""
QUEUED_BATCHES = 2 * EARLY_INSERT_ROWS // BATCH_ROWS
STAGING = "import_staging"
IMPORT_WORK_MEM = "256MB"
ANALYZE_FROM_ROWS = 50_000

Progress = Callable[[int], None]
"""Called now and then with the number of rows read so far."""


class ImportRejected(RejectedInputError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: ProblemLog, *, record: ImportRecord | None = None) -> None:
        listed = "; ".join(str(problem) for problem in problems.problems[:5])
        more = problems.count - min(len(problems.problems), 5)
        suffix = f"; and {more} more problems" if more > 0 else ""
        super().__init__(
            f"The file was rejected and nothing was imported: {problems.count} "
            f"problem{'s' if problems.count != 1 else ''}: {listed}{suffix}"
        )
        self.problems = problems
        self.record = record


class IdempotencyKeyReused(RejectedInputError):
    """The Idempotency-Key names an earlier import of other content (422)."""


class ImportConflict(ApplicationError):
    """A concurrent change got in the way; nothing was written, and a retry may succeed."""

    status_code = 409


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    first_date: datetime.date | None
    last_date: datetime.date | None


@dataclass(frozen=True)
class ImportOutcome:
    """An accepted import; ``replayed`` when an Idempotency-Key named an earlier one."""

    record: ImportRecord
    replayed: bool


# --- staging ---------------------------------------------------------------------------------


def _create_staging(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGING} (line bigint NOT NULL, series integer NOT NULL, "
        "date date NOT NULL, conversions double precision NOT NULL)"
    )


def _load_staging(lines: Iterator[str], problems: ProblemLog) -> None:
    """The lines into the staging table with batched inserts (SQLite) until the first
    problem; after it the lines are still read, for the problem report, not stored."""
    batch: list[str] = []
    insert = "INSERT INTO import_staging (line, series, date, conversions) VALUES (%s, %s, %s, %s)"
    with connection.cursor() as cursor:
        for text in lines:
            batch.append(text)
            if len(batch) >= BATCH_ROWS:
                if not problems:
                    cursor.executemany(insert, _split(batch))
                batch.clear()
        if batch and not problems:
            cursor.executemany(insert, _split(batch))


@dataclass
class LineBatch:
    text: str
    rows: int
    last_line: int
    series: int
    """How many series the checker knew when the batch was read: all that it names."""


class DaySums:
    """Conversions and rows per day, product, campaign type and channel of the staged lines,
    summed by the reading thread while the database inserts: the daily summaries of days
    that had no measurements before, at no cost to the database (see ``EarlyInserts``)."""

    def __init__(self, checker: RowChecker) -> None:
        self.checker = checker
        self.sums: dict[tuple[str, tuple[str, str, str]], list[float]] = {}
        self._groups: dict[str, tuple[str, str, str]] = {}

    def add(self, batch: list[str]) -> None:
        sums, groups = self.sums, self._groups
        for text in batch:
            _, series, day, number = text.split("\t")
            group = groups.get(series)
            if group is None:
                product, campaign_type, _, channel = self.checker.series[int(series)]
                group = groups[series] = (product, campaign_type, channel)
            found = sums.get((day, group))
            if found is None:
                sums[(day, group)] = [float(number), 1]
            else:
                found[0] += float(number)
                found[1] += 1


def _read_batches(
    lines: Iterator[str],
    checker: RowChecker,
    batches: queue.Queue,
    stop: threading.Event,
    day_sums: DaySums | None,
) -> None:
    """Read and check the lines in a thread of their own, in batches, so that the database
    works on the rows read so far while the rest are read; ends with None (or the error)."""

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def send(batch: list[str]) -> bool:
        if not put(_line_batch(batch, checker)):
            return False
        if day_sums is not None:
            day_sums.add(batch)
        return True

    try:
        batch: list[str] = []
        for text in lines:
            batch.append(text)
            if len(batch) >= BATCH_ROWS:
                if not send(batch):
                    return
                batch = []
        if batch and not send(batch):
            return
        put(None)
    except BaseException as error:  # handed to the importing thread, which raises it
        put(error)


def _line_batch(batch: list[str], checker: RowChecker) -> LineBatch:
    last = batch[-1]
    return LineBatch("".join(batch), len(batch), int(last[: last.index("\t")]), len(checker.series))


def _load_staging_postgresql(
    lines: Iterator[str], checker: RowChecker, early: EarlyInserts | None
) -> None:
    """The lines into the staging table with ``COPY``, a chunk at a time, while a thread
    reads and checks the next ones; after each chunk, ``early`` may insert it. After the
    first problem the lines are still read, for the problem report, not stored."""
    batches: queue.Queue = queue.Queue(maxsize=QUEUED_BATCHES)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_batches,
        args=(lines, checker, batches, stop, early.day_sums if early else None),
        name="import-reader",
    )
    reader.start()
    copy_sql = f"COPY {STAGING} (line, series, date, conversions) FROM STDIN"
    try:
        with connection.cursor() as cursor:
            finished = False
            while not finished:
                chunk: LineBatch | None = None
                if early is not None:
                    early.chunk_starts(cursor)
                # A worker thread sends the data while this one waits for the next batch.
                writer = QueuedLibpqWriter(cursor.cursor)
                with cursor.cursor.copy(copy_sql, writer=writer) as copy:
                    rows = 0
                    while rows < EARLY_INSERT_ROWS:
                        item = batches.get()
                        if item is None:
                            finished = True
                            break
                        if isinstance(item, BaseException):
                            raise item
                        if not checker.problems:
                            copy.write(item.text)
                            rows += item.rows
                            chunk = item
                if early is not None and chunk is not None and not checker.problems:
                    early.insert(cursor, chunk)
    finally:
        stop.set()
        reader.join()


def _split(batch: list[str]) -> list[tuple[int, int, str, float]]:
    rows = []
    for text in batch:
        line, series, iso_date, conversions = text[:-1].split("\t")
        rows.append((int(line), int(series), iso_date, float(conversions)))
    return rows


def _check_duplicates(cursor: Any, checker: RowChecker) -> None:
    cursor.execute(
        "SELECT series, date, MIN(line), MAX(line), COUNT(*) OVER () FROM import_staging "
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


# --- writing ---------------------------------------------------------------------------------


def _add_names(
    cursor: Any, checker: RowChecker, org: dict[str, Any], first: int, last: int
) -> None:
    """The products, channels and campaigns of the file's series ``first`` to ``last`` that
    the organisation lacks, and the map from those series keys to campaign and channel ids
    (``import_keys``)."""
    if first == 0:
        cursor.execute("DROP TABLE IF EXISTS import_series")
        cursor.execute(
            "CREATE TEMPORARY TABLE import_series (series integer PRIMARY KEY, product text "
            "NOT NULL, campaign_type text NOT NULL, campaign text NOT NULL, channel text NOT NULL)"
        )
        cursor.execute("DROP TABLE IF EXISTS import_keys")
        cursor.execute(
            "CREATE TEMPORARY TABLE import_keys (series integer PRIMARY KEY, "
            "campaign_id bigint NOT NULL, channel_id bigint NOT NULL)"
        )
    if last <= first:
        return
    new_series = [(key, *checker.series[key]) for key in range(first, last)]
    if connection.vendor == "postgresql":
        # One statement for all of them: executemany would send one per series.
        cursor.execute(
            "INSERT INTO import_series SELECT * FROM unnest("
            "%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[])",
            [list(column) for column in zip(*new_series, strict=True)],
        )
    else:
        cursor.executemany("INSERT INTO import_series VALUES (%s, %s, %s, %s, %s)", new_series)
    names = {**org, "first": first}
    cursor.execute(
        "INSERT INTO measurements_product (organization_id, name) "
        "SELECT DISTINCT %(org)s, product FROM import_series WHERE series >= %(first)s "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO measurements_channel (organization_id, name) "
        "SELECT DISTINCT %(org)s, channel FROM import_series WHERE series >= %(first)s "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO measurements_campaign (organization_id, product_id, campaign_type, name) "
        "SELECT DISTINCT %(org)s, p.id, n.campaign_type, n.campaign FROM import_series n "
        "JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = n.product "
        "WHERE n.series >= %(first)s "
        "ON CONFLICT (organization_id, product_id, campaign_type, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO import_keys (series, campaign_id, channel_id) "
        "SELECT n.series, c.id, ch.id FROM import_series n "
        "JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = n.product "
        "JOIN measurements_campaign c ON c.organization_id = %(org)s AND c.product_id = p.id "
        "AND c.campaign_type = n.campaign_type AND c.name = n.campaign "
        "JOIN measurements_channel ch ON ch.organization_id = %(org)s AND ch.name = n.channel "
        "WHERE n.series >= %(first)s",
        names,
    )


# --- list-order names on the measurement row (migration 0008): the resolved rows carry the
# series' names, the look-up of a stored row goes through the unique index (organisation,
# date, product, campaign type, campaign, channel), and new rows are inserted with their
# names, in that index's order. ------------------------------------------------------------
RESOLVED_ROWS = (
    "SELECT k.campaign_id, k.channel_id, n.product, n.campaign_type, n.campaign, n.channel, "
    "s.date, s.conversions FROM import_staging s JOIN import_keys k ON k.series = s.series "
    "JOIN import_series n ON n.series = s.series WHERE s.line > %(after)s"
)

SAME_DAY = (
    "m.organization_id = %(org)s AND m.date = r.date AND m.product_name = r.product "
    "AND m.campaign_type = r.campaign_type AND m.campaign_name = r.campaign "
    "AND m.channel_name = r.channel"
)

UPDATE_CHANGED = (
    "UPDATE measurements_measurement AS m SET conversions = r.conversions "  # noqa: S608
    f"FROM ({RESOLVED_ROWS}) AS r WHERE {SAME_DAY} AND m.conversions <> r.conversions"
)

CHUNK_PAGES = " AND s.ctid >= ('(' || %(first_page)s || ',0)')::tid"
"""A chunk's rows lie in the pages that its COPY filled, from the last page of the chunk
before on (staged rows are all of one width and never deleted, so no earlier page has room
for one): PostgreSQL reads those pages only (a TID range scan), not every staged row."""
MEASURED_DAYS_IN_CHUNK = (
    "SELECT EXISTS (SELECT 1 FROM import_staging s WHERE s.line > %(after)s"  # noqa: S608
    f"{CHUNK_PAGES} AND s.date BETWEEN %(first)s AND %(last)s)"
)


def _insert_sql(rows: str) -> str:
    return (
        "INSERT INTO measurements_measurement "  # noqa: S608 - constant SQL fragments
        "(organization_id, campaign_id, channel_id, product_name, campaign_type, "
        "campaign_name, channel_name, date, conversions) "
        "SELECT %(org)s, r.campaign_id, r.channel_id, r.product, r.campaign_type, r.campaign, "
        f"r.channel, r.date, r.conversions FROM ({rows}) r "
    )


INSERT_ROWS = _insert_sql(RESOLVED_ROWS)
IN_INDEX_ORDER = "ORDER BY r.date, r.product, r.campaign_type, r.campaign, r.channel"
INSERT_ALL = f"{INSERT_ROWS}{IN_INDEX_ORDER}"
INSERT_CHUNK = f"{_insert_sql(RESOLVED_ROWS + CHUNK_PAGES)}{IN_INDEX_ORDER}"
INSERT_NEW = (
    f"{INSERT_ROWS}WHERE NOT EXISTS "  # noqa: S608 - constant SQL fragments
    f"(SELECT 1 FROM measurements_measurement m WHERE {SAME_DAY}) {IN_INDEX_ORDER}"
)

HAS_ROWS_IN_RANGE = (
    "SELECT EXISTS (SELECT 1 FROM measurements_measurement WHERE organization_id = %(org)s "
    "AND date BETWEEN %(first)s AND %(last)s)"
)

DELETE_OTHERS = (
    "DELETE FROM measurements_measurement WHERE organization_id = %(org)s "
    "AND date BETWEEN %(first)s AND %(last)s AND NOT EXISTS ("
    "SELECT 1 FROM import_staging s JOIN import_keys k ON k.series = s.series "
    "WHERE k.campaign_id = measurements_measurement.campaign_id "
    "AND k.channel_id = measurements_measurement.channel_id "
    "AND s.date = measurements_measurement.date)"
)


def _lock_measurements(cursor: Any) -> None:
    """One import writes measurements at a time (readers are not blocked), so that the
    plain UPDATE and INSERT below cannot race another import's rows. SQLite's IMMEDIATE
    transactions serialise writers already."""
    if connection.vendor == "postgresql":
        cursor.execute("LOCK TABLE measurements_measurement IN SHARE ROW EXCLUSIVE MODE")


def _upsert(cursor: Any, org: dict[str, Any]) -> tuple[int, int]:
    """Update the changed rows, then insert the new ones; (inserted, updated).

    Cheaper than ``INSERT ... ON CONFLICT`` (no speculative insertion per row); safe
    because the table is locked against other writers. Rows go in in the order of the
    unique index (organisation, date, campaign, channel), which then grows at its end.
    """
    cursor.execute(HAS_ROWS_IN_RANGE, org)
    if not cursor.fetchone()[0]:
        # Nothing of the organisation in the file's dates (a first load, or a new week):
        # every row is new, and neither the update nor the anti-join has anything to find.
        cursor.execute(INSERT_ALL, org)
        return max(cursor.rowcount, 0), 0
    cursor.execute(UPDATE_CHANGED, org)
    updated = max(cursor.rowcount, 0)
    cursor.execute(INSERT_NEW, org)
    inserted = max(cursor.rowcount, 0)
    return inserted, updated


@contextmanager
def _row_triggers_skipped(cursor: Any, org: dict[str, Any]) -> Iterator[None]:
    """The statements of the block without per-row foreign-key triggers where the role may
    skip them (see ``_skip_row_triggers``). An error leaves the setting to the rollback of
    the transaction or savepoint, which undoes it."""
    skipping = _skip_row_triggers(cursor, org)
    yield
    if skipping:
        cursor.execute("SET LOCAL session_replication_role = origin")


def _skip_row_triggers(cursor: Any, org: dict[str, Any]) -> bool:
    """Check the foreign keys of the upsert once per referenced row instead of once per row.

    PostgreSQL checks each foreign key of each inserted row with a trigger (three per
    measurement, and per summary), which costs more than the insert itself. Every campaign
    and channel id of the upsert comes from a join in this transaction, so the keys are known
    to be valid; locking the referenced organisation, campaigns, channels and products (FOR
    KEY SHARE, as the triggers would) keeps them so until commit, and the lock this import
    holds on the measurements keeps any other product from being deleted (a deletion
    cascades to them). Then the row triggers are skipped with ``session_replication_role =
    replica`` until ``_row_triggers_skipped`` sets it back, when the database role may set
    it (a superuser, or ``GRANT SET ON PARAMETER session_replication_role TO <role>``);
    otherwise the triggers run as usual.
    """
    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return False
    cursor.execute("SELECT 1 FROM accounts_organization WHERE id = %(org)s FOR KEY SHARE", org)
    found = len(cursor.fetchall())
    cursor.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM measurements_campaign WHERE id IN "
        "(SELECT campaign_id FROM import_keys) FOR KEY SHARE) locked"
    )
    found += cursor.fetchone()[0]
    cursor.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM measurements_channel WHERE id IN "
        "(SELECT channel_id FROM import_keys) FOR KEY SHARE) locked"
    )
    found += cursor.fetchone()[0]
    cursor.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM measurements_product WHERE id IN (SELECT product_id "
        "FROM measurements_campaign WHERE id IN (SELECT campaign_id FROM import_keys)) "
        "FOR KEY SHARE) locked"
    )
    found += cursor.fetchone()[0]
    cursor.execute(
        "SELECT 1 + COUNT(DISTINCT k.campaign_id) + COUNT(DISTINCT k.channel_id) "
        "+ COUNT(DISTINCT c.product_id) FROM import_keys k "
        "JOIN measurements_campaign c ON c.id = k.campaign_id"
    )
    if found != cursor.fetchone()[0]:
        raise ImportConflict(
            "A campaign or channel of the file was deleted while it was imported; "
            "nothing was imported. Try again."
        )
    return True


class EarlyInserts:
    """Inserts the rows of new days chunk by chunk while the rest of the file is still read,
    so that the database writes while the file is parsed.

    Only rows that cannot be updates qualify: not with ``replace``, and only chunks none of
    whose days the organisation has measurements in. The unique index stops a chunk with a
    row that the file repeats: the chunk is undone (a savepoint), early inserts stop, and
    the duplicate check after reading reports the repetition. A file with problems is
    rejected whole, with the chunks inserted before the problem showed.
    """

    def __init__(self, checker: RowChecker, organization: Organization) -> None:
        self.checker = checker
        self.org: dict[str, Any] = {"org": organization.pk}
        with connection.cursor() as cursor:
            # Before the measured days are read: no other import may add to them until
            # this one commits.
            _lock_measurements(cursor)
        self.measured = DailyConversions.objects.filter(organization=organization).aggregate(
            first=Min("date"), last=Max("date")
        )
        self.inserted = 0
        self.after_line = 0
        """The rows of the lines up to this one are in the measurement table."""
        self.series = 0
        """The series whose names are in ``import_keys``."""
        self.stopped = False
        self.first_page = 0
        self.day_sums = DaySums(checker)

    def chunk_starts(self, cursor: Any) -> None:
        """Note where the next chunk's rows will be staged (see ``CHUNK_PAGES``)."""
        if not self.stopped:
            cursor.execute(
                f"SELECT pg_relation_size('{STAGING}') / current_setting('block_size')::int"
            )
            self.first_page = max(cursor.fetchone()[0] - 1, 0)

    def insert(self, cursor: Any, chunk: LineBatch) -> None:
        """Insert the staged rows after ``after_line``, up to the end of ``chunk``."""
        if self.stopped:
            return
        _add_names(cursor, self.checker, self.org, self.series, chunk.series)
        self.series = chunk.series
        rows = {
            **self.org,
            "after": self.after_line,
            "first_page": self.first_page,
            **self.measured,
        }
        if self.measured["first"] is not None:
            cursor.execute(MEASURED_DAYS_IN_CHUNK, rows)
            if cursor.fetchone()[0]:
                self.stopped = True
                return
        try:
            with transaction.atomic(), _row_triggers_skipped(cursor, rows):
                cursor.execute(INSERT_CHUNK, rows)
                inserted = max(cursor.rowcount, 0)
        except IntegrityError:
            self.stopped = True
            return
        self.inserted += inserted
        self.after_line = chunk.last_line


# --- summaries ---------------------------------------------------------------------------------

DayRange = tuple[datetime.date, datetime.date]

REFRESH_DAILY = (
    "INSERT INTO measurements_dailyconversions "
    "(organization_id, date, product_id, campaign_type, channel_id, conversions, measurements) "
    "SELECT m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id, "
    "SUM(m.conversions), COUNT(*) FROM measurements_measurement m "
    "JOIN measurements_campaign c ON c.id = m.campaign_id "
    "WHERE m.organization_id = %s AND m.date BETWEEN %s AND %s "
    "GROUP BY m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id"
)

WEEK_OF_DAY = {
    "postgresql": "CAST(date_trunc('week', d.date) AS date)",
    "sqlite": "date(d.date, '-6 days', 'weekday 1')",
}

REFRESH_WEEKLY = (
    "INSERT INTO measurements_weeklyconversions "
    "(organization_id, week, product_id, campaign_type, channel_id, conversions, measurements) "
    "SELECT d.organization_id, {week}, d.product_id, d.campaign_type, d.channel_id, "
    "SUM(d.conversions), SUM(d.measurements) FROM measurements_dailyconversions d "
    "WHERE d.organization_id = %s AND d.date BETWEEN %s AND %s "
    "GROUP BY d.organization_id, {week}, d.product_id, d.campaign_type, d.channel_id"
)


def day_ranges(days: Iterable[datetime.date]) -> list[DayRange]:
    """The days as runs of consecutive days, first to last."""
    runs: list[list[datetime.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == datetime.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def conversion_summaries_refresh(
    *, organization_id: int, days: Iterable[DayRange] | None = None
) -> None:
    """Recompute the organisation's daily and weekly summaries of the given day ranges (all
    of them when None) from its measurements; call it in the transaction of the change.

    The days are recomputed, not adjusted by differences, so a summary always equals the
    aggregation of its rows; its cost grows with the measurements of the touched days and
    weeks, not with the table.
    """
    with connection.cursor() as cursor:
        if days is None:
            cursor.execute(
                "SELECT MIN(date), MAX(date) FROM measurements_measurement "
                "WHERE organization_id = %s",
                [organization_id],
            )
            first, last = cursor.fetchone()
            cursor.execute(
                "DELETE FROM measurements_dailyconversions WHERE organization_id = %s",
                [organization_id],
            )
            cursor.execute(
                "DELETE FROM measurements_weeklyconversions WHERE organization_id = %s",
                [organization_id],
            )
            if first is None:
                return
            days = [(_as_date(first), _as_date(last))]  # type: ignore[list-item]
        for first, last in days:
            cursor.execute(
                "DELETE FROM measurements_dailyconversions "
                "WHERE organization_id = %s AND date BETWEEN %s AND %s",
                [organization_id, first, last],
            )
            cursor.execute(REFRESH_DAILY, [organization_id, first, last])
            _refresh_weeks(cursor, organization_id, first, last)


def _refresh_weeks(
    cursor: Any, organization_id: int, first: datetime.date, last: datetime.date
) -> None:
    """Recompute the weekly summaries of the weeks from ``first`` to ``last`` from the daily."""
    monday, sunday = week_start(first), week_start(last) + datetime.timedelta(days=6)
    cursor.execute(
        "DELETE FROM measurements_weeklyconversions "
        "WHERE organization_id = %s AND week BETWEEN %s AND %s",
        [organization_id, monday, sunday],
    )
    week = WEEK_OF_DAY[connection.vendor]
    cursor.execute(REFRESH_WEEKLY.format(week=week), [organization_id, monday, sunday])


def _summarise_new_days(cursor: Any, org: dict[str, Any], day_sums: DaySums) -> None:
    """The summaries of days that had no measurements before this import, whose rows are
    therefore exactly the staged ones, summed while they were read."""
    cursor.execute(
        "SELECT name, id FROM measurements_product WHERE organization_id = %s", [org["org"]]
    )
    products = dict(cursor.fetchall())
    cursor.execute(
        "SELECT name, id FROM measurements_channel WHERE organization_id = %s", [org["org"]]
    )
    channels = dict(cursor.fetchall())
    copy_sql = (
        "COPY measurements_dailyconversions (organization_id, date, product_id, campaign_type, "
        "channel_id, conversions, measurements) FROM STDIN"
    )
    with cursor.cursor.copy(copy_sql) as copy:
        for (day, (product, campaign_type, channel)), (conversions, rows) in day_sums.sums.items():
            ids = (org["org"], day, products[product], campaign_type, channels[channel])
            copy.write_row((*ids, conversions, int(rows)))
    _refresh_weeks(cursor, org["org"], org["first"], org["last"])


def _changed_days(cursor: Any, org: dict[str, Any], replace: bool) -> list[DayRange]:
    """The day ranges whose summaries an import may have changed."""
    if replace:
        return [(org["first"], org["last"])]
    cursor.execute("SELECT DISTINCT date FROM import_staging")
    return day_ranges(_as_date(day) for (day,) in cursor.fetchall())  # type: ignore[misc]


def _drop_temporary(cursor: Any) -> None:
    for table in (STAGING, "import_series", "import_keys"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def measurement_import(
    *,
    organization: Organization,
    records: Iterable[Record],
    problems: ProblemLog | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import numbered records (see ``rows.Record``) for the organisation, all or nothing.

    ``problems`` is the log that the source of ``records`` writes to; if it holds any
    problem once the records are read, or the records repeat a (product, campaign type,
    campaign, channel, date), nothing is written and :class:`ImportRejected` is raised.
    With ``replace``, the organisation's rows in the file's date range that the file does
    not hold are deleted.
    """
    problems = problems if problems is not None else ProblemLog()
    checker = RowChecker(problems)
    early = None
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
            _create_staging(cursor)
        lines = checker.copy_lines(records, progress)
        if connection.vendor == "postgresql":
            early = None if replace else EarlyInserts(checker, organization)
            _load_staging_postgresql(lines, checker, early)
        else:
            _load_staging(lines, problems)
        all_inserted_early = early is not None and early.inserted > 0 and not early.stopped
        with connection.cursor() as cursor:
            if not problems and not all_inserted_early:
                _check_duplicates(cursor, checker)
            if problems:
                raise ImportRejected(problems)
            cursor.execute("SELECT COUNT(*), MIN(date), MAX(date) FROM import_staging")
            total, first, last = cursor.fetchone()
            first_date, last_date = _as_date(first), _as_date(last)
            org: dict[str, Any] = {
                "org": organization.pk,
                "first": first_date,
                "last": last_date,
                "after": early.after_line if early else 0,
            }
            deleted = 0
            inserted = early.inserted if early else 0
            updated = 0
            if total:
                _add_names(cursor, checker, org, early.series if early else 0, len(checker.series))
                if not all_inserted_early:
                    if connection.vendor == "postgresql":
                        cursor.execute(f"ANALYZE {STAGING}")
                    _lock_measurements(cursor)
                    if replace:
                        cursor.execute(DELETE_OTHERS, org)
                        deleted = max(cursor.rowcount, 0)
                    with _row_triggers_skipped(cursor, org):
                        inserted_later, updated = _upsert(cursor, org)
                    inserted += inserted_later
                if connection.vendor == "postgresql" and inserted + deleted >= ANALYZE_FROM_ROWS:
                    # Fresh statistics, so that the summaries' aggregation below (and the
                    # next reads) are planned for the table as it now is.
                    cursor.execute("ANALYZE measurements_measurement")
                if early is not None and all_inserted_early:
                    # Every row they refer to is the file's and locked, as for the inserts.
                    with _row_triggers_skipped(cursor, org):
                        _summarise_new_days(cursor, org, early.day_sums)
                elif inserted or updated or deleted:
                    conversion_summaries_refresh(
                        organization_id=organization.pk, days=_changed_days(cursor, org, replace)
                    )
            _drop_temporary(cursor)
        if inserted or updated or deleted:
            organization_data_changed(organization_id=organization.pk)
    return ImportSummary(
        rows=int(total),
        inserted=inserted,
        updated=updated,
        unchanged=int(total) - inserted - updated,
        deleted=deleted,
        first_date=first_date,
        last_date=last_date,
    )


def _as_date(value: object) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


# --- imports of files and uploads, with their history ---------------------------------------


def _records(
    text: IO[str] | None, raw: HashingReader, file_format: str, problems: ProblemLog
) -> Iterator[Record]:
    if file_format == ImportRecord.JSON:
        try:
            items = orjson.loads(raw.readall())
        except orjson.JSONDecodeError as error:
            problems.add(RowProblem(0, "body", "", f"is not valid JSON: {error}"))
            return
        yield from json_records(items, problems)
        return
    assert text is not None  # noqa: S101 - a CSV import always has its text
    yield from csv_records(text, problems)


def _replay(*, record: ImportRecord, raw: HashingReader) -> ImportOutcome:
    raw.drain()
    if raw.hexdigest() != record.sha256:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {record.idempotency_key!r} was used for import {record.pk} "
            "of other content; use a new key for a new upload."
        )
    return ImportOutcome(record=record, replayed=True)


def measurement_import_file(
    *,
    organization: Organization,
    stream: IO[bytes],
    file_name: str = "",
    file_format: str = ImportRecord.CSV,
    replace: bool = False,
    source: str = ImportRecord.COMMAND,
    user: User | None = None,
    uploaded_by: str = "",
    idempotency_key: str | None = None,
    max_bytes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Import a CSV (plain or gzip) or JSON file, all or nothing, and record it in the history.

    The SHA-256 and size are of the bytes as given. An accepted import is recorded in its
    own transaction; a rejected one after the rollback (and :class:`ImportRejected` is
    raised with the record). With ``idempotency_key``, an earlier accepted import with the
    same key and the same content is returned instead of importing again, and one with other
    content raises :class:`IdempotencyKeyReused`. More than ``max_bytes`` raises
    :class:`PayloadTooLarge` and writes nothing.
    """
    started = time.monotonic()
    raw = HashingReader(stream, limit=max_bytes)
    try:
        if idempotency_key:
            earlier = import_record_get_by_key(organization=organization, key=idempotency_key)
            if earlier is not None:
                return _replay(record=earlier, raw=raw)
        text = open_text(raw) if file_format == ImportRecord.CSV else None
        problems = ProblemLog()

        def report(rows: int) -> None:
            if progress is not None:
                progress(rows, raw.bytes_read)

        def history(**outcome: Any) -> ImportRecord:
            """Record this import, accepted or rejected, with what it read."""
            return ImportRecord.objects.create(
                organization=organization,
                user=user,
                uploaded_by=uploaded_by[:200],
                source=source,
                file_name=file_name[:255],
                file_format=file_format,
                replace=replace,
                sha256=raw.hexdigest(),
                size_bytes=raw.bytes_read,
                duration_seconds=round(time.monotonic() - started, 3),
                idempotency_key=idempotency_key or "",
                **outcome,
            )

        try:
            with transaction.atomic():
                summary = measurement_import(
                    organization=organization,
                    records=_records(text, raw, file_format, problems),
                    problems=problems,
                    replace=replace,
                    progress=report,
                )
                raw.drain()
                record = history(
                    status=ImportRecord.ACCEPTED,
                    rows=summary.rows,
                    inserted=summary.inserted,
                    updated=summary.updated,
                    unchanged=summary.unchanged,
                    deleted=summary.deleted,
                    first_date=summary.first_date,
                    last_date=summary.last_date,
                )
        except ImportRejected as rejected:
            raw.drain()
            rejected.record = history(
                status=ImportRecord.REJECTED,
                rows=0,
                problem_count=problems.count,
                problems=[problem.as_dict() for problem in problems.problems],
            )
            raise
        except IntegrityError:
            earlier = (
                import_record_get_by_key(organization=organization, key=idempotency_key)
                if idempotency_key
                else None
            )
            if earlier is None:
                raise
            return _replay(record=earlier, raw=raw)
    except ContentTooLarge as error:
        raise PayloadTooLarge(
            f"The upload is larger than the limit of {error.limit} bytes; nothing was imported."
        ) from error
    return ImportOutcome(record=record, replayed=False)
