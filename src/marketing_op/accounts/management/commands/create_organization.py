from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.services import organization_create
from marketing_op.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create an organisation: a customer whose users see only its own data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Name of the organisation.")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        try:
            organization = organization_create(name=name)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created organisation {organization.name!r}")
