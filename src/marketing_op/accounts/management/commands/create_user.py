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
        f"{PASSWORD_VARIABLE} or a prompt, never from an argument. With --oidc-subject the "
        "user signs in through the identity provider and has no password."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", required=True, help="Name of the organisation.")
        parser.add_argument("--username", required=True, help="Login name of the new user.")
        parser.add_argument(
            "--oidc-subject",
            help="The identity provider's sub claim of the user (OIDC_ISSUER); no password.",
        )

    def handle(
        self,
        *args: Any,
        organization: str,
        username: str,
        oidc_subject: str | None = None,
        **options: Any,
    ) -> None:
        owner = Organization.objects.filter(name=organization).first()
        if owner is None:
            raise CommandError(f"No organisation named {organization!r}.")
        password = None
        if oidc_subject is None:
            password = os.environ.get(PASSWORD_VARIABLE) or self._prompt()
        try:
            user = user_create(
                organization=owner,
                username=username,
                password=password,
                oidc_subject=oidc_subject,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        how = " (signs in through the identity provider)" if oidc_subject is not None else ""
        self.stdout.write(f"Created user {user.username!r} of {owner.name!r}{how}")

    def _prompt(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
