from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.models import User
from marketing_op.accounts.services import token_revoke_all


class Command(BaseCommand):
    help = (
        "Revoke every access and refresh token of a user: each stops working on its very "
        "next request."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True, help="The user whose tokens to revoke.")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        revoked = token_revoke_all(user=user)
        self.stdout.write(
            f"Revoked {revoked.access_tokens} token(s) and {revoked.refresh_tokens} refresh "
            f"token(s) of {username!r}"
        )
