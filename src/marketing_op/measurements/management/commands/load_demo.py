from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from marketing_op.accounts.models import User
from marketing_op.accounts.services import organization_get_or_create, user_create
from marketing_op.measurements.demo import DEMO_SEED, demo_story_measurements
from marketing_op.measurements.imports import measurement_import, typed_records
from marketing_op.measurements.models import Measurement


class Command(BaseCommand):
    help = "Create the demo organisation, the demo login and the demo measurements."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rows",
            type=int,
            default=None,
            help="Only the first rows of the demo (all by default).",
        )
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Random seed.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo organisation has measurements already.",
        )

    def handle(
        self, *args: Any, rows: int | None, seed: int, if_empty: bool, **options: Any
    ) -> None:
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
            summary = measurement_import(
                organization=organization,
                records=typed_records(demo_story_measurements(rows=rows, seed=seed)),
            )
        self.stdout.write(
            f"Demo data: {summary.inserted} inserted, {summary.updated} updated, "
            f"{summary.unchanged} unchanged ({summary.first_date} to {summary.last_date})."
        )
