from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.services import DEFAULT_CURRENCY, organization_create
from marketing_op.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create an organisation: a customer whose users see only its own data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Name of the organisation.")
        parser.add_argument(
            "--currency",
            default=DEFAULT_CURRENCY,
            help=f"ISO 4217 code of its spend's currency (default {DEFAULT_CURRENCY}).",
        )

    def handle(self, *args: Any, name: str, currency: str, **options: Any) -> None:
        try:
            organization = organization_create(name=name, currency=currency)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Created organisation {organization.name!r} (spend in {organization.currency})"
        )
