from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections
from gunicorn.app.base import BaseApplication

from marketing_op.accounts.models import User
from marketing_op.config.wsgi import application


class ProductionServer(BaseApplication):
    """gunicorn with sync workers, configured from our settings instead of its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return application


class Command(BaseCommand):
    help = "Serve the API with the production server (gunicorn, sync workers, two per core)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (PORT).")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS,
            help="Worker processes (WEB_WORKERS, default: two per core).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        self.stdout.write(self._welcome(host, port, workers))
        self.stdout.flush()
        connections.close_all()  # workers are forked: none may share this process's connection
        ProductionServer(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "sync",
                "backlog": 2048,
                "timeout": 60,
                "graceful_timeout": 20,
                "accesslog": None,
                "errorlog": "-",
                "forwarded_allow_ips": "127.0.0.1",
            }
        ).run()

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
