"""``marketing-op import FILE --organization NAME``: import a measurement CSV, all or nothing."""

from __future__ import annotations

import getpass
import os
import sys
import time
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.models import Organization
from marketing_op.measurements.imports import ImportRejected, measurement_import_file

PROGRESS_INTERVAL = 0.25


class ProgressBar:
    """One line on a terminal: rows read, rows/s, bytes and time left (when the size is known)."""

    def __init__(self, stream: IO[str], *, total_bytes: int | None) -> None:
        self.stream = stream
        self.total_bytes = total_bytes
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, rows: int, bytes_read: int) -> None:
        now = time.monotonic()
        if now - self.shown < PROGRESS_INTERVAL:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-6)
        parts = [f"{rows:,} rows", f"{rows / elapsed:,.0f} rows/s"]
        if self.total_bytes:
            done = min(bytes_read / self.total_bytes, 1.0)
            parts.append(f"{done:.0%}")
            if done > 0:
                parts.append(f"{_duration(elapsed * (1 - done) / done)} left")
        self.stream.write("\r" + "  ".join(parts) + " \x1b[K")
        self.stream.flush()

    def phase(self, text: str) -> None:
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Command(BaseCommand):
    help = (
        "Import measurements from a CSV file (plain or gzip; - for stdin) into an "
        "organisation, all or nothing: a file with any problem changes nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The CSV file, plain or gzip-compressed; - for stdin.")
        parser.add_argument(
            "--organization",
            "--organisation",
            required=True,
            help="Name of the organisation that the rows belong to.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Also delete the organisation's rows in the file's date range that the "
            "file does not hold (for model re-runs that drop rows).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar, even on a terminal."
        )

    def handle(
        self,
        *args: Any,
        file: str,
        organization: str,
        replace: bool,
        no_progress: bool,
        **options: Any,
    ) -> None:
        found = Organization.objects.filter(name=organization).first()
        if found is None:
            raise CommandError(
                f"No organisation named {organization!r}; "
                "create it with `marketing-op create-organization`."
            )
        stream, total_bytes = self._open(file)
        bar = None
        if not no_progress and sys.stderr.isatty():
            bar = ProgressBar(sys.stderr, total_bytes=total_bytes)
        try:
            outcome = measurement_import_file(
                organization=found,
                stream=stream,
                file_name="-" if file == "-" else os.path.basename(file),
                replace=replace,
                uploaded_by=_login_name(),
                progress=bar.update if bar else None,
            )
        except ImportRejected as rejected:
            if bar:
                bar.close()
            for problem in rejected.problems.problems:
                self.stderr.write(f"{file}: {problem}")
            more = rejected.problems.count - len(rejected.problems.problems)
            if more > 0:
                self.stderr.write(f"{file}: and {more} more problems")
            raise CommandError(
                f"{file} was rejected ({rejected.problems.count} problems); nothing was imported.",
                returncode=1,
            ) from rejected
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        if bar:
            bar.close()
        record = outcome.record
        self.stdout.write(
            f"Imported {file}: {record.rows} rows, {record.inserted} inserted, "
            f"{record.updated} updated, {record.unchanged} unchanged, {record.deleted} deleted"
            f" ({record.first_date} to {record.last_date}) in {record.duration_seconds:.1f} s; "
            f"import {record.pk}, sha256 {record.sha256}."
        )

    def _open(self, file: str) -> tuple[IO[bytes], int | None]:
        if file == "-":
            return sys.stdin.buffer, None
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed by handle()
        except OSError as error:
            raise CommandError(f"Cannot open {file}: {error.strerror}") from error
        size = os.fstat(stream.fileno()).st_size
        return stream, size or None


def _login_name() -> str:
    try:
        return f"command: {getpass.getuser()}"
    except (KeyError, OSError):
        return "command"
