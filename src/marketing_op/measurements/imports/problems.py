"""The problems an import finds in a file, each with its line, column and value.

Problems go to a :class:`ProblemLog` (the first 50 in full, the rest counted); nothing is
raised, so that one pass over a file finds every problem in it. Values are shown short and
escaped, so that a report can always be stored and sent back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REPORTED_PROBLEMS = 50
MAX_VALUE_SHOWN = 80


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column} ({self.value!r}): {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ProblemLog:
    """Keeps the first problems in full and counts the rest, so that memory stays flat."""

    problems: list[RowProblem] = field(default_factory=list)
    count: int = 0
    rows_left_out: int = 0
    """Rows that a source read but left out for their shape (a CSV row of the wrong width,
    a JSON item that is not a row object): rows of the file all the same."""

    def add(self, problem: RowProblem) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def full(self) -> bool:
        """Further problems are only counted (a reader may skip describing them)."""
        return len(self.problems) >= MAX_REPORTED_PROBLEMS


def storable(text: str) -> bool:
    """Text that the database can keep: no NUL, and valid Unicode (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(value: object) -> str:
    """A value as the problem report shows it: short, and escaped where it is not storable."""
    if isinstance(value, str):
        text = value[: MAX_VALUE_SHOWN * 4]
    elif isinstance(value, int | float | bool) or value is None:
        text = repr(value)
    else:
        # A list or object in a JSON row: its type only (its repr could be nested deeply).
        text = f"a JSON {'list' if isinstance(value, list) else 'object'}"
    if not storable(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 1] + "…"
