from __future__ import annotations

import ipaddress
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from marketing_op.accounts.models import User


class Command(BaseCommand):
    help = "Serve the API with the production server (granian, WSGI, one worker per core)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (PORT).")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS,
            help="Worker processes (WEB_WORKERS, default: one per core).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        from granian.constants import Interfaces
        from granian.server import Server

        self.stdout.write(self._welcome(host, port, workers))
        Server(
            "marketing_op.config.wsgi:application",
            address=_ip_address(host),
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            backpressure=64,
        ).serve()

    def _welcome(self, host: str, port: int, workers: int) -> str:
        base = f"http://{host}:{port}"
        lines = [f"Marketing OP on {base}/ ({workers} worker(s)); API docs: {base}/api/docs"]
        demo = User.objects.filter(username=settings.DEMO_USERNAME).exists()
        if demo and not settings.PRODUCTION:
            login = f"{settings.DEMO_USERNAME}:{settings.DEMO_PASSWORD}"
            lines += [
                f"Demo login: {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}",
                "Try:",
                f"  TOKEN=$(curl -s -u {login} {base}/api/auth/token/ | python3 -c "
                '\'import json,sys; print(json.load(sys.stdin)["data"]["token"])\')',
                f'  curl -s -H "Authorization: Bearer $TOKEN" '
                f'"{base}/api/marketing/stats/channel-sales-percentages/"',
            ]
        return "\n".join(lines)


def _ip_address(host: str) -> str:
    """granian binds IP addresses only; a name such as localhost is resolved first."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return socket.gethostbyname(host)
