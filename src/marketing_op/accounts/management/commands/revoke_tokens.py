from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketing_op.accounts.models import User
from marketing_op.accounts.services import user_sign_out_everywhere


class Command(BaseCommand):
    help = (
        "Sign a user out everywhere: revoke every access and refresh token and end every "
        "dashboard session of the user; each stops working on its very next request."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True, help="The user whose tokens to revoke.")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        revoked = user_sign_out_everywhere(user=user)
        self.stdout.write(
            f"Revoked {revoked.access_tokens} token(s) and {revoked.refresh_tokens} refresh "
            f"token(s) of {username!r}, and ended their dashboard sessions"
        )
