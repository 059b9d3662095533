"""The dashboard's sessions: Django's database sessions, with keys checked before any query.

A session key is 32 lower-case letters and digits; a cookie holding anything else (a NUL
byte, a long string) is an unknown session, never a database error.
"""

from __future__ import annotations

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_KEY = re.compile(r"[a-z0-9]{32}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and SESSION_KEY.fullmatch(key or "") is not None
