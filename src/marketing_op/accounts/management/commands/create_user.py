from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.models import Organization
from marketing_op.accounts.services import user_create
from marketing_op.core.exceptions import ApplicationError

PASSWORD_VARIABLE = "MARKETING_OP_PASSWORD"  # noqa: S105 - the variable's name


class Command(BaseCommand):
    help = (
        "Create a user of an organisation. The password comes from the environment variable "
        f"{PASSWORD_VARIABLE} or a prompt, never from an argument."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", required=True, help="Name of the organisation.")
        parser.add_argument("--username", required=True, help="Login name of the new user.")

    def handle(self, *args: Any, organization: str, username: str, **options: Any) -> None:
        owner = Organization.objects.filter(name=organization).first()
        if owner is None:
            raise CommandError(f"No organisation named {organization!r}.")
        password = os.environ.get(PASSWORD_VARIABLE) or self._prompt()
        try:
            user = user_create(organization=owner, username=username, password=password)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created user {user.username!r} of {owner.name!r}")

    def _prompt(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
