"""The PostgreSQL fast path of an import: ``COPY`` into staging while a thread reads, and
early inserts of the rows of new days while the rest of the file is still read.

:class:`PostgresqlLoad` overrides the steps of ``staging.PortableLoad`` that PostgreSQL does
its own way; the service chooses it once, by database vendor. It needs no privilege beyond
the rights on the application's tables and temporary tables: every trigger and foreign key
runs as usual.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from psycopg.copy import QueuedLibpqWriter

from marketing_op.accounts.models import Organization
from marketing_op.measurements.imports.staging import STAGING, PortableLoad, staging_create
from marketing_op.measurements.imports.summaries import weeks_refresh
from marketing_op.measurements.imports.upsert import (
    IN_INDEX_ORDER,
    RESOLVED_ROWS,
    insert_sql,
    names_add,
)
from marketing_op.measurements.imports.validation import UNKNOWN, RowChecker
from marketing_op.measurements.models import DailyConversions

BATCH_ROWS = 5_000
EARLY_INSERT_ROWS = 100_000
"""Rows of a chunk that PostgreSQL stages, and may insert, while the next is read."""
IMPORT_WORK_MEM = "256MB"
COPY_STAGING = f"COPY {STAGING} (line, series, date, conversions, spend) FROM STDIN"

CHUNK_PAGES = " AND s.ctid >= ('(' || %(first_page)s || ',0)')::tid"
"""A chunk's rows lie in the pages that its COPY filled, from the last page of the chunk
before on (staged rows are all of one width and never deleted, so no earlier page has room
for one): PostgreSQL reads those pages only (a TID range scan), not every staged row."""
MEASURED_DAYS_IN_CHUNK = (
    f"SELECT EXISTS (SELECT 1 FROM {STAGING} s WHERE s.line > %(after)s"  # noqa: S608
    f"{CHUNK_PAGES} AND s.date BETWEEN %(first)s AND %(last)s)"
)
INSERT_CHUNK = f"{insert_sql(RESOLVED_ROWS + CHUNK_PAGES)}{IN_INDEX_ORDER}"


@dataclass
class LineBatch:
    text: str
    rows: int
    last_line: int
    series: int
    """How many series the checker knew when the batch was read: all that it names."""


class DaySums:
    """Conversions, rows and known spend per day, product, campaign type and channel of the
    staged lines, summed by the reading thread while the database inserts: the daily
    summaries of days that had no measurements before, at no cost to the database (see
    ``EarlyInserts``). A spend sum stays None while no row of it has a known spend, as SQL's
    ``SUM`` does."""

    def __init__(self, checker: RowChecker) -> None:
        self.checker = checker
        self.sums: dict[tuple[str, tuple[str, str, str]], list[Any]] = {}
        self._groups: dict[str, tuple[str, str, str]] = {}

    def add(self, batch: list[str]) -> None:
        sums, groups = self.sums, self._groups
        unknown = f"{UNKNOWN}\n"  # the spend ends the line
        for text in batch:
            _, series, day, number, spend_text = text.split("\t")
            group = groups.get(series)
            if group is None:
                product, campaign_type, _, channel = self.checker.series[int(series)]
                group = groups[series] = (product, campaign_type, channel)
            spend = None if spend_text == unknown else Decimal(spend_text)
            found = sums.get((day, group))
            if found is None:
                sums[(day, group)] = [float(number), 1, spend]
            else:
                found[0] += float(number)
                found[1] += 1
                if spend is not None:
                    found[2] = spend if found[2] is None else found[2] + spend


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
        last = batch[-1]
        line_batch = LineBatch(
            "".join(batch), len(batch), int(last[: last.index("\t")]), len(checker.series)
        )
        if not put(line_batch):
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


class PostgresqlLoad(PortableLoad):
    """Staging with ``COPY`` a chunk at a time while a thread reads and checks the next
    ones; without ``replace``, each chunk of days the organisation has no measurements in
    is inserted at once (see :class:`EarlyInserts`)."""

    def begin(self, cursor: Any) -> None:
        cursor.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
        staging_create(cursor)
        self.early = None if self.replace else EarlyInserts(self)

    def load(self, lines: Iterator[str]) -> None:
        """After the first problem the lines are still read, for the report, not stored."""
        checker, early = self.checker, self.early
        batches: queue.Queue = queue.Queue(maxsize=2 * EARLY_INSERT_ROWS // BATCH_ROWS)
        stop = threading.Event()
        reader = threading.Thread(
            target=_read_batches,
            args=(lines, checker, batches, stop, early.day_sums if early else None),
            name="import-reader",
        )
        reader.start()
        try:
            with connection.cursor() as cursor:
                finished = False
                while not finished:
                    chunk: LineBatch | None = None
                    if early is not None:
                        early.chunk_starts(cursor)
                    # A worker thread sends the data while this one waits for the next batch.
                    writer = QueuedLibpqWriter(cursor.cursor)
                    with cursor.cursor.copy(COPY_STAGING, writer=writer) as copy:
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
        if early is not None:
            self.inserted_early = early.inserted
            self.all_inserted_early = early.inserted > 0 and not early.stopped

    def series_insert(self, cursor: Any, new_series: list[tuple[Any, ...]]) -> None:
        # One statement for all of them: executemany would send one per series.
        cursor.execute(
            "INSERT INTO import_series SELECT * FROM unnest("
            "%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[])",
            [list(column) for column in zip(*new_series, strict=True)],
        )

    def measurements_lock(self, cursor: Any) -> None:
        """One import writes measurements at a time (readers are not blocked), so that the
        plain UPDATE and INSERT cannot race another import's rows."""
        cursor.execute("LOCK TABLE measurements_measurement IN SHARE ROW EXCLUSIVE MODE")

    @staticmethod
    def analyze(cursor: Any, table: str) -> None:
        cursor.execute(f"ANALYZE {table}")

    @staticmethod
    def vacuum(cursor: Any, table: str) -> None:
        cursor.execute(f"VACUUM (ANALYZE) {table}")

    def new_days_summarise(self, cursor: Any, org: dict[str, Any]) -> bool:
        """The summaries of days that had no measurements before this import, whose rows are
        therefore exactly the staged ones, summed while they were read."""
        if self.early is None or not self.all_inserted_early:
            return False
        cursor.execute(
            "SELECT name, id FROM measurements_product WHERE organization_id = %s", [org["org"]]
        )
        products = dict(cursor.fetchall())
        cursor.execute(
            "SELECT name, id FROM measurements_channel WHERE organization_id = %s", [org["org"]]
        )
        channels = dict(cursor.fetchall())
        copy_sql = (
            "COPY measurements_dailyconversions (organization_id, date, product_id, "
            "campaign_type, channel_id, conversions, measurements, spend) FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for (day, group), (conversions, rows, spend) in self.early.day_sums.sums.items():
                product, campaign_type, channel = group
                ids = (org["org"], day, products[product], campaign_type, channels[channel])
                copy.write_row((*ids, conversions, int(rows), spend))
        weeks_refresh(cursor, org["org"], org["first"], org["last"])
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

    def __init__(self, load: PostgresqlLoad) -> None:
        self.load = load
        organization: Organization = load.organization
        self.org: dict[str, Any] = {"org": organization.pk}
        with connection.cursor() as cursor:
            # Before the measured days are read: no other import may add to them until
            # this one commits.
            load.measurements_lock(cursor)
        self.measured = DailyConversions.objects.filter(organization=organization).aggregate(
            first=Min("date"), last=Max("date")
        )
        self.inserted = 0
        self.stopped = False
        self.first_page = 0
        self.day_sums = DaySums(load.checker)

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
        load = self.load
        names_add(cursor, load, load.checker, self.org, load.series_named, chunk.series)
        load.series_named = chunk.series
        rows = {
            **self.org,
            "after": load.after_line,
            "first_page": self.first_page,
            **self.measured,
        }
        if self.measured["first"] is not None:
            cursor.execute(MEASURED_DAYS_IN_CHUNK, rows)
            if cursor.fetchone()[0]:
                self.stopped = True
                return
        try:
            with transaction.atomic():
                cursor.execute(INSERT_CHUNK, rows)
                inserted = max(cursor.rowcount, 0)
        except IntegrityError:
            self.stopped = True
            return
        self.inserted += inserted
        load.after_line = chunk.last_line
