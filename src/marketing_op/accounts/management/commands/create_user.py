from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.models import Organization
from marketing_op.accounts.services import user_create
from marketing_op.core.exceptions import ApplicationError

PASSWORD_VARIABLE = "MARKETING_OP_PASSWORD"  # noqa: S105 - the variable's name
NO_PASSWORD = (
    "No password, and no terminal to ask for one on: pipe it in with --password-stdin "
    f"(printf '%s\\n' \"$PASSWORD\" | marketing-op create-user ... --password-stdin), set "
    f"{PASSWORD_VARIABLE}, or give --oidc-subject for a user who signs in through the "
    "identity provider."
)


class Command(BaseCommand):
    help = (
        "Create a user of an organisation. The password comes from standard input "
        f"(--password-stdin), the environment variable {PASSWORD_VARIABLE} or a prompt on "
        "the terminal, never from an argument. With --oidc-subject the user signs in "
        "through the identity provider and has no password."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--organization",
            "--organisation",
            required=True,
            metavar="NAME",
            help="Name of the organisation.",
        )
        parser.add_argument(
            "--username", required=True, metavar="NAME", help="Login name of the new user."
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input (its first line).",
        )
        parser.add_argument(
            "--oidc-subject",
            metavar="SUB",
            help="The identity provider's sub claim of the user (OIDC_ISSUER); no password.",
        )

    def handle(
        self,
        *args: Any,
        organization: str,
        username: str,
        password_stdin: bool = False,
        oidc_subject: str | None = None,
        **options: Any,
    ) -> None:
        if oidc_subject is not None and password_stdin:
            raise CommandError("A user with --oidc-subject has no password: no --password-stdin.")
        owner = Organization.objects.filter(name=organization).first()
        if owner is None:
            raise CommandError(f"No organisation named {organization!r}.")
        password = None
        if oidc_subject is None:
            password = self._password(password_stdin)
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

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
            if not password:
                raise CommandError("--password-stdin read no password from standard input.")
            return password
        if os.environ.get(PASSWORD_VARIABLE):
            return os.environ[PASSWORD_VARIABLE]
        if not sys.stdin.isatty():
            raise CommandError(NO_PASSWORD)
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except EOFError:
            raise CommandError(NO_PASSWORD) from None
        if password != again:
            raise CommandError("The passwords differ.")
        return password
