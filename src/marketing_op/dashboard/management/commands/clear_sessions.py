from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Remove the dashboard sessions that have expired (ended by age, or sign-ins through "
        "the identity provider that were never finished), as Django's clearsessions does for "
        "database sessions. Run it on a schedule, e.g. hourly: nothing else removes them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        removed, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        self.stdout.write(f"Removed {removed} expired session(s)")
