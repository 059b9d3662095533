"""The import of measurements, all or nothing and idempotent, with its history and results.

One import is one transaction: the rows stream into staging while they are validated
(``staging``, or the PostgreSQL fast path in ``postgresql``, chosen once by vendor), then
set-based SQL checks for repeated rows, writes the names and the rows (``upsert``) and keeps
the summaries (``summaries``). A file is read from bytes
(``formats``) within the bounds the caller gives, and every import, accepted or rejected, is
recorded in the history; an Idempotency-Key replays an earlier accepted import.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db import IntegrityError, connection, transaction

from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import organization_data_changed
from marketing_op.core.exceptions import ApplicationError, PayloadTooLarge, RejectedInputError
from marketing_op.core.metrics import count_import
from marketing_op.measurements.imports.formats import (
    Record,
    bounded_lines,
    csv_records,
    json_list_records,
)
from marketing_op.measurements.imports.postgresql import PostgresqlLoad
from marketing_op.measurements.imports.problems import ProblemLog
from marketing_op.measurements.imports.staging import (
    STAGING,
    PortableLoad,
    duplicates_check,
    staging_drop,
)
from marketing_op.measurements.imports.streams import (
    BodyCutShort,
    ContentTooLarge,
    HashingReader,
    open_text,
)
from marketing_op.measurements.imports.summaries import (
    as_date,
    changed_days,
    conversion_summaries_refresh,
)
from marketing_op.measurements.imports.upsert import names_add, others_delete, upsert
from marketing_op.measurements.imports.validation import RowChecker
from marketing_op.measurements.models import ImportRecord
from marketing_op.measurements.reads.import_history import import_record_get_by_key

LOADS: dict[str, type[PortableLoad]] = {"postgresql": PostgresqlLoad}
"""The way each database vendor loads an import; any other uses the portable one."""
ANALYZE_FROM_ROWS = 50_000
"""An import that inserts, updates or deletes this many rows refreshes the planner's
statistics of the tables it changed (and vacuums them after deletes and updates)."""
CHANGED_TABLES = (
    "measurements_measurement",
    "measurements_dailyconversions",
    "measurements_weeklyconversions",
)

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


class LengthRequired(ApplicationError):
    """An upload without a Content-Length (e.g. chunked), which would be read as empty."""

    status_code = 411


class UploadCutShort(ApplicationError):
    """An upload that ended before its Content-Length: the client stopped sending (400).
    Nothing is stored or recorded, and its Idempotency-Key stays free for the whole file."""

    status_code = 400


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


def measurement_import(
    *,
    organization: Organization,
    records: Iterable[Record],
    problems: ProblemLog | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    quoted_names: bool = False,
) -> ImportSummary:
    """Import numbered records (see ``formats.Record``) for the organisation, all or nothing.

    ``problems`` is the log that the source of ``records`` writes to; if it holds any
    problem once the records are read, or the records repeat a (product, campaign type,
    campaign, channel, date), nothing is written and :class:`ImportRejected` is raised.
    With ``replace``, the organisation's rows in the file's date range that the file does
    not hold are deleted. With ``quoted_names`` (records of a CSV file), a name loses the
    ``'`` that protects it from spreadsheets (see ``formats.formula_quoted``).
    """
    problems = problems if problems is not None else ProblemLog()
    checker = RowChecker(problems, quoted_names=quoted_names)
    load = LOADS.get(connection.vendor, PortableLoad)(checker, organization, replace=replace)
    with transaction.atomic():
        with connection.cursor() as cursor:
            load.begin(cursor)
        load.load(checker.copy_lines(records, progress))
        with connection.cursor() as cursor:
            if not problems and not load.all_inserted_early:
                duplicates_check(cursor, checker)
            if problems:
                raise ImportRejected(problems)
            cursor.execute(f"SELECT COUNT(*), MIN(date), MAX(date) FROM {STAGING}")  # noqa: S608
            total, first, last = cursor.fetchone()
            first_date, last_date = as_date(first), as_date(last)
            org: dict[str, Any] = {
                "org": organization.pk,
                "first": first_date,
                "last": last_date,
                "after": load.after_line,
            }
            deleted, inserted, updated = 0, load.inserted_early, 0
            if total:
                names_add(cursor, load, checker, org, load.series_named, len(checker.series))
                if not load.all_inserted_early:
                    load.analyze(cursor, STAGING)
                    load.measurements_lock(cursor)
                    if replace:
                        deleted = others_delete(cursor, org)
                    inserted_later, updated = upsert(cursor, org)
                    inserted += inserted_later
                if inserted + deleted >= ANALYZE_FROM_ROWS:
                    # Fresh statistics, so that the summaries' aggregation below (and the
                    # next reads) are planned for the table as it now is.
                    load.analyze(cursor, "measurements_measurement")
                if not load.new_days_summarise(cursor, org) and (inserted or updated or deleted):
                    conversion_summaries_refresh(
                        organization_id=organization.pk,
                        days=changed_days(cursor, org, replace=replace),
                    )
            staging_drop(cursor)
        if inserted or updated or deleted:
            organization_data_changed(organization_id=organization.pk)
    summary = ImportSummary(
        rows=int(total),
        inserted=inserted,
        updated=updated,
        unchanged=int(total) - inserted - updated,
        deleted=deleted,
        first_date=first_date,
        last_date=last_date,
    )
    changed_tables_vacuum(summary)
    return summary


def changed_tables_vacuum(summary: ImportSummary) -> None:
    """After many deletes or updates: vacuum and analyse the changed tables once the import
    has committed, so that reads do not wade through dead rows until autovacuum comes by.
    Inside a caller's transaction, where VACUUM cannot run, analyse them only. (A role that
    does not own the tables gets a warning from PostgreSQL and leaves them to autovacuum.)"""
    if summary.deleted + summary.updated < ANALYZE_FROM_ROWS:
        return
    load = LOADS.get(connection.vendor, PortableLoad)
    with connection.cursor() as cursor:
        for table in CHANGED_TABLES:
            if connection.in_atomic_block:
                load.analyze(cursor, table)
            else:
                load.vacuum(cursor, table)


# --- imports of files and uploads, with their history ---------------------------------------


@dataclass(frozen=True)
class UploadBounds:
    """What one import may read: bytes as sent and inflated, and rows (None: no bound)."""

    max_bytes: int | None = None
    max_rows: int | None = None


def _records(
    raw: HashingReader, file_format: str, charset: str, bounds: UploadBounds, problems: ProblemLog
) -> Iterator[Record]:
    text = open_text(raw, charset=charset, limit=bounds.max_bytes)
    if file_format == ImportRecord.JSON:
        yield from json_list_records(text, problems, max_rows=bounds.max_rows)
        return
    yield from csv_records(bounded_lines(text, problems, max_rows=bounds.max_rows), problems)


def _replay(*, record: ImportRecord, raw: HashingReader, started: float) -> ImportOutcome:
    raw.drain()
    if raw.hexdigest() != record.sha256:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {record.idempotency_key!r} was used for import {record.pk} "
            "of other content; use a new key for a new upload."
        )
    count_import(result="replayed", rows=0, seconds=time.monotonic() - started)
    return ImportOutcome(record=record, replayed=True)


def measurement_import_file(
    *,
    organization: Organization,
    stream: IO[bytes],
    file_name: str = "",
    file_format: str = ImportRecord.CSV,
    charset: str = "utf-8",
    replace: bool = False,
    source: str = ImportRecord.COMMAND,
    user: User | None = None,
    uploaded_by: str = "",
    idempotency_key: str | None = None,
    bounds: UploadBounds | None = None,
    expected_bytes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Import a CSV (plain or gzip, in ``charset``) or JSON file, all or nothing, and record
    it in the history.

    The SHA-256 and size are of the bytes as given. An accepted import is recorded in its
    own transaction; a rejected one after the rollback (and :class:`ImportRejected` is
    raised with the record). With ``idempotency_key``, an earlier accepted import with the
    same key and the same content is returned instead of importing again, and one with other
    content raises :class:`IdempotencyKeyReused`. More bytes (as sent or inflated) or rows
    than ``bounds`` allow raise :class:`PayloadTooLarge` and write nothing. With
    ``expected_bytes`` (an upload's Content-Length), a stream that ends short of it raises
    :class:`UploadCutShort` before anything is committed, and nothing is recorded.
    """
    started = time.monotonic()
    bounds = bounds or UploadBounds()
    raw = HashingReader(stream, limit=bounds.max_bytes, expected=expected_bytes)
    try:
        if idempotency_key:
            earlier = import_record_get_by_key(organization=organization, key=idempotency_key)
            if earlier is not None:
                return _replay(record=earlier, raw=raw, started=started)
        problems = ProblemLog()
        rows_read = [0]

        def report(rows: int) -> None:
            rows_read[0] = rows
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
                    records=_records(raw, file_format, charset, bounds, problems),
                    problems=problems,
                    replace=replace,
                    progress=report,
                    quoted_names=file_format == ImportRecord.CSV,
                )
                raw.drain()
                accepted = summary
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
                rows=rows_read[0] + problems.rows_left_out,
                problem_count=problems.count,
                problems=[problem.as_dict() for problem in problems.problems],
            )
            count_import(result="rejected", rows=0, seconds=time.monotonic() - started)
            raise
        except IntegrityError:
            earlier = (
                import_record_get_by_key(organization=organization, key=idempotency_key)
                if idempotency_key
                else None
            )
            if earlier is None:
                raise
            return _replay(record=earlier, raw=raw, started=started)
    except BodyCutShort as error:
        count_import(result="rejected", rows=0, seconds=time.monotonic() - started)
        raise UploadCutShort(
            f"The upload ended after {error.received} of the {error.expected} bytes that its "
            "Content-Length announced (the connection was cut); nothing was imported. Send "
            "the whole file again (with the same Idempotency-Key, if it had one)."
        ) from error
    except ContentTooLarge as error:
        count_import(result="rejected", rows=0, seconds=time.monotonic() - started)
        what = "bytes" if error.unit == "bytes" else "rows"
        raise PayloadTooLarge(
            f"The upload holds more than the limit of {error.limit} {what}"
            f"{' (as sent or once inflated)' if what == 'bytes' else ''}; nothing was imported."
        ) from error
    changed_tables_vacuum(accepted)
    count_import(result="accepted", rows=accepted.rows, seconds=time.monotonic() - started)
    return ImportOutcome(record=record, replayed=False)
