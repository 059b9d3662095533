"""The calendar bounds of measurement data: the days an import accepts and a filter can reach.

Imports reject a row dated outside the bounds, with its line; a date filter may name any
ISO date, and is clamped to the bounds (a range wholly outside them selects nothing). The
bounds keep every week computation (the Monday and Sunday of a day's ISO week, the weeks
before a comparison range) far inside what Python's dates and PostgreSQL's can hold.
"""

from __future__ import annotations

import datetime

FIRST_DAY = datetime.date(1900, 1, 1)
"""The earliest day a measurement may have (a Monday)."""
LAST_DAY = datetime.date(2999, 12, 31)
"""The latest day a measurement may have."""
