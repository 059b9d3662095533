from __future__ import annotations

import ipaddress
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the API with the production server (granian, WSGI, one worker per core)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (PORT).")
        parser.add_argument(
            "--workers", type=int, default=settings.WEB_WORKERS,
            help="Worker processes (WEB_WORKERS, default: one per core).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        from granian.constants import Interfaces
        from granian.server import Server

        self.stdout.write(f"Serving on http://{host}:{port}/ with {workers} worker(s)")
        Server(
            "marketing_op.config.wsgi:application",
            address=_ip_address(host),
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            backpressure=64,
        ).serve()


def _ip_address(host: str) -> str:
    """granian binds IP addresses only; a name such as localhost is resolved first."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return socket.gethostbyname(host)
