"""``marketing-op export measurements|report --organization NAME [filters] [report options]
-o FILE``: the whole filtered result as a CSV or Parquet file, as the API exports it."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import pydantic
from django.core.management.base import BaseCommand, CommandError
from ninja.errors import ValidationError

from marketing_op.accounts.models import Organization
from marketing_op.core.exceptions import ApplicationError
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.exports import (
    Export,
    ExportFormat,
    measurement_export,
    report_export,
)
from marketing_op.measurements.reads.reports.parameters import ReportParams

BAD_USAGE = 2
"""The exit status of a command line that cannot be carried out, as argparse's own."""
FILTERS = ("products", "campaigns", "campaign_types", "channels")
REPORT_LISTS = ("dimensions", "metrics", "order_by")
FORMATS_BY_SUFFIX: dict[str, ExportFormat] = {".csv": "csv", ".parquet": "parquet"}
REPORT_VALUES = ("granularity", "compare", "compare_start_date", "compare_end_date", "fill")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


class Command(BaseCommand):
    help = (
        "Export the whole filtered measurements list, or a whole report, as a CSV or Parquet "
        "file (the columns and order of the API's exports)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["measurements", "report"], help="What to export.")
        parser.add_argument(
            "--organization",
            "--organisation",
            required=True,
            help="Name of the organisation whose data is exported.",
        )
        parser.add_argument(
            "-o",
            "--output",
            required=True,
            help="The file to write (replaced once it is whole); - for standard output.",
        )
        parser.add_argument(
            "--format",
            choices=["csv", "parquet"],
            help="The file format (default: the file's extension, .csv or .parquet; else csv).",
        )
        filters = parser.add_argument_group("filters (as the API's; each may repeat)")
        for name in FILTERS:
            filters.add_argument(_option(name), action="append", default=[], metavar="NAME")
        filters.add_argument("--start-date", metavar="YYYY-MM-DD", help="First day, inclusive.")
        filters.add_argument("--end-date", metavar="YYYY-MM-DD", help="Last day, inclusive.")
        report = parser.add_argument_group("report options (as the API's; report only)")
        report.add_argument("--dimensions", action="append", default=[], metavar="NAME[,NAME]")
        report.add_argument("--granularity", help="day, week, month, quarter, year or total.")
        report.add_argument("--metrics", action="append", default=[], metavar="NAME[,NAME]")
        report.add_argument("--compare", help="previous_period or previous_year.")
        report.add_argument("--compare-start-date", metavar="YYYY-MM-DD")
        report.add_argument("--compare-end-date", metavar="YYYY-MM-DD")
        report.add_argument("--fill", action=argparse.BooleanOptionalAction, default=None)
        report.add_argument(
            "--order-by",
            action="append",
            default=[],
            metavar="[-]NAME",
            help="Descending as --order-by=-conversions.",
        )

    def handle(self, *args: Any, what: str, organization: str, output: str, **options: Any) -> None:
        found = Organization.objects.filter(name=organization).first()
        if found is None:
            raise CommandError(f"No organisation named {organization!r}.", returncode=BAD_USAGE)
        file_format = _file_format(output, options["format"])
        export = _export(what, found, file_format, options)
        started = time.monotonic()
        if output == "-":
            _write(export, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            said = self.stderr
        else:
            _write_file(export, Path(output))
            said = self.stdout
        said.write(
            f"Exported {export.rows:,} rows to {output} ({file_format}) "
            f"in {time.monotonic() - started:.1f} s."
        )


def _file_format(output: str, chosen: ExportFormat | None) -> ExportFormat:
    """The format to write: ``--format``, else the file's extension (.csv or .parquet; CSV
    without one). A file named for another format is refused: ``report.xlsx`` holding CSV
    would open as a broken spreadsheet."""
    suffix = Path(output).suffix.lower() if output != "-" else ""
    by_name = FORMATS_BY_SUFFIX.get(suffix)
    if suffix and by_name is None:
        raise CommandError(
            f"{output}: export writes CSV (.csv) or Parquet (.parquet) files, not {suffix}.",
            returncode=BAD_USAGE,
        )
    if chosen and by_name and chosen != by_name:
        raise CommandError(
            f"{output}: a {suffix} file cannot hold --format {chosen}.", returncode=BAD_USAGE
        )
    return chosen or by_name or "csv"


def _export(
    what: str, organization: Organization, file_format: ExportFormat, options: dict[str, Any]
) -> Export:
    """The export that the options ask for; options that are not valid, or that do not
    apply, end the command with status 2 and a message that names the option."""
    given = {name: options[name] for name in REPORT_LISTS + REPORT_VALUES}
    if what == "measurements":
        misplaced = [_option(name) for name, value in given.items() if value not in (None, [])]
        if misplaced:
            raise CommandError(
                f"{', '.join(misplaced)} applies to reports only.", returncode=BAD_USAGE
            )
    try:
        filters = MeasurementFilters.model_validate(
            {name: options[name] for name in (*FILTERS, "start_date", "end_date")}
        )
        filters.check_date_range()
        if what == "measurements":
            return measurement_export(
                organization=organization, filters=filters, file_format=file_format
            )
        report = ReportParams.model_validate(
            {name: value for name, value in given.items() if value is not None}
        )
        report.check(filters)
        return report_export(
            organization=organization, filters=filters, params=report, file_format=file_format
        )
    except pydantic.ValidationError as error:
        raise CommandError(_problems(error.errors()), returncode=BAD_USAGE) from error
    except ValidationError as error:
        raise CommandError(_problems(error.errors), returncode=BAD_USAGE) from error
    except ApplicationError as error:
        raise CommandError(error.message, returncode=BAD_USAGE) from error


def _problems(errors: Any) -> str:
    """Each problem after the option it names (the last name in its ``loc``)."""
    said = []
    for error in errors:
        names = [part for part in error.get("loc", ()) if isinstance(part, str)]
        option = _option(names[-1]) if names and names[-1] != "query" else ""
        said.append(f"{option}: {error['msg']}" if option else str(error["msg"]))
    return "; ".join(said)


def _write(export: Export, stream: IO[bytes]) -> None:
    for chunk in export.chunks:
        stream.write(chunk)


def _write_file(export: Export, path: Path) -> None:
    """Written beside the file and moved over it once whole, so that a failed export
    leaves no half file behind."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as stream:
            _write(export, stream)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(f"Cannot write {path}: {error.strerror}") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
