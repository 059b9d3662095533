from __future__ import annotations

import io
import tempfile
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from marketing_op.accounts.models import User
from marketing_op.accounts.services import organization_get_or_create, user_create
from marketing_op.measurements.demo import DEMO_ROWS, DEMO_SEED, demo_measurements
from marketing_op.measurements.imports import measurement_import_file, write_measurement_csv
from marketing_op.measurements.models import ImportRecord, Measurement

IN_MEMORY_BYTES = 16 * 1024 * 1024
"""The demo's CSV text is kept in memory up to this size, and in a temporary file beyond."""


class Command(BaseCommand):
    help = (
        "Create the demo organisation, the demo login and the demo measurements, imported "
        "as the CSV file that generate-demo writes (and recorded in the import history)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rows", type=int, default=DEMO_ROWS, help="How many rows.")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Random seed.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo organisation has measurements already.",
        )

    def handle(self, *args: Any, rows: int, seed: int, if_empty: bool, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo login and data are not loaded in production.")
        with transaction.atomic():
            organization = organization_get_or_create(name=settings.DEMO_ORGANIZATION)
            if not User.objects.filter(username=settings.DEMO_USERNAME).exists():
                user_create(
                    organization=organization,
                    username=settings.DEMO_USERNAME,
                    password=settings.DEMO_PASSWORD,
                    check_password=False,
                )
            if if_empty and Measurement.objects.filter(organization=organization).exists():
                self.stdout.write("Demo data present already.")
                return
            with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES) as file:
                text = io.TextIOWrapper(file, encoding="utf-8", newline="")
                write_measurement_csv(demo_measurements(rows=rows, seed=seed), text)
                text.detach()
                file.seek(0)
                record = measurement_import_file(
                    organization=organization,
                    stream=file,
                    file_name=f"demo data ({rows} rows, seed {seed})",
                    source=ImportRecord.COMMAND,
                    uploaded_by="load-demo",
                ).record
        self.stdout.write(
            f"Demo data: {record.inserted} inserted, {record.updated} updated, "
            f"{record.unchanged} unchanged ({record.first_date} to {record.last_date}); "
            f"import {record.pk}."
        )
