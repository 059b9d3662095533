"""A curves file, read into each channel's response curve, all or nothing.

Columns (CSV header or Parquet fields; each row one point or one parameter set):

- ``channel``; ``form``: ``points`` (or empty), ``hill`` or ``logistic``; optional ``draw``;
- points: ``spend`` (above 0) and ``conversions`` (0 or more), rising with the spend;
- hill: ``beta``, ``half_saturation``, ``slope``; logistic: ``beta``, ``lam`` (all above 0).

A channel has one form. With ``draw``, every channel has the draws 0 to N-1 (2 <= N <=
``MAX_DRAWS``), the same N for all (draw d of every channel is one posterior sample), and the
draws of a points curve share their spend points. Every problem is reported with its line and
column; a file with any problem gives no curves.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from marketing_op.measurements.imports.formats import MAX_LINE_CHARS, bounded_lines
from marketing_op.measurements.imports.problems import ProblemLog, RowProblem, shown, storable
from marketing_op.measurements.imports.validation import MAX_NAME_LENGTH
from marketing_op.measurements.names import (
    character_described,
    hidden_character,
    hidden_characters_escaped,
    name_normalised,
)
from marketing_op.planning.curves import HillCurve, LogisticCurve, PointsCurve, ResponseCurve

MAX_DRAWS = 4_000
MAX_CURVE_ROWS = 2_000_000
MAX_CURVE_VALUE = 1e15
PARAMETERS = {
    "points": ("spend", "conversions"),
    "hill": ("beta", "half_saturation", "slope"),
    "logistic": ("beta", "lam"),
}
COLUMNS = (
    "channel",
    "form",
    "draw",
    "spend",
    "conversions",
    "beta",
    "half_saturation",
    "slope",
    "lam",
)
"""Every column a curves file may have."""

Row = tuple[int, Mapping[str, str]]
"""A line number and the row's cells by column."""


class CurvesRejected(Exception):
    def __init__(self, problems: ProblemLog) -> None:
        super().__init__(f"{problems.count} problem(s) in the curves file")
        self.problems = problems


@dataclass
class _Channel:
    line: int
    form: str
    rows: dict[int, tuple[int, dict[str, float]]] = field(default_factory=dict)
    """Parameter rows (hill, logistic) by draw: their line and values."""
    points: dict[int, list[tuple[int, float, float]]] = field(default_factory=dict)
    """Points by draw: their line, spend and conversions."""


def csv_rows(text: IO[str], problems: ProblemLog) -> Iterator[Row]:
    """The rows of a CSV curves file; a missing or unknown column ends the reading."""
    reader = csv.reader(bounded_lines(text, problems, max_rows=MAX_CURVE_ROWS), strict=True)
    try:
        header = [name.strip().lstrip("\ufeff").strip().lower() for name in next(reader)]
    except StopIteration:
        problems.add(RowProblem(1, "header", "", "the file is empty"))
        return
    except (csv.Error, UnicodeDecodeError, OSError, EOFError) as error:
        problems.add(RowProblem(1, "header", "", f"cannot be read: {error}"))
        return
    if not _header_valid(header, problems):
        return
    try:
        for values in reader:
            if not values:
                continue
            if len(values) != len(header):
                problems.add(
                    RowProblem(
                        reader.line_num,
                        "row",
                        shown(",".join(values)[:MAX_LINE_CHARS]),
                        f"has {len(values)} fields, expected {len(header)}",
                    )
                )
                continue
            yield reader.line_num, dict(zip(header, values, strict=True))
    except (csv.Error, UnicodeDecodeError, OSError, EOFError) as error:
        problems.add(RowProblem(reader.line_num + 1, "row", "", f"cannot be read: {error}"))


def _header_valid(header: list[str], problems: ProblemLog) -> bool:
    if "channel" not in header:
        problems.add(RowProblem(1, "channel", "", "column is missing"))
    for name in header:
        if name not in COLUMNS:
            problems.add(RowProblem(1, shown(name), shown(name), "column is unknown"))
    if len(set(header)) != len(header):
        problems.add(RowProblem(1, "header", shown(",".join(header)), "a column is named twice"))
    return not problems


def curves_read(rows: Iterable[Row], problems: ProblemLog) -> dict[str, ResponseCurve]:
    """Each channel's curve; raises :class:`CurvesRejected` with every problem found."""
    channels: dict[str, _Channel] = {}
    with_draws: bool | None = None
    for line, cells in rows:
        channel = _channel_name(line, cells.get("channel", ""), problems)
        form = (cells.get("form") or "").strip().lower() or "points"
        if form not in PARAMETERS:
            problems.add(
                RowProblem(
                    line, "form", shown(cells.get("form")), "must be points, hill or logistic"
                )
            )
            continue
        draw_text = (cells.get("draw") or "").strip()
        if with_draws is None:
            with_draws = bool(draw_text)
        draw = _draw(line, draw_text, with_draws, problems)
        values = _parameters(line, form, cells, problems)
        if channel is None or draw is None or values is None:
            continue
        found = channels.setdefault(channel, _Channel(line=line, form=form))
        if found.form != form:
            problems.add(
                RowProblem(
                    line,
                    "form",
                    form,
                    f"channel {channel!r} is a {found.form} curve (line {found.line}): "
                    "one form a channel",
                )
            )
        elif form == "points":
            found.points.setdefault(draw, []).append((line, values["spend"], values["conversions"]))
        elif draw in found.rows:
            problems.add(
                RowProblem(
                    line,
                    "draw",
                    str(draw),
                    f"channel {channel!r} has draw {draw} already (line {found.rows[draw][0]})",
                )
            )
        else:
            found.rows[draw] = (line, values)
    if not channels and not problems:
        problems.add(RowProblem(1, "channel", "", "the file has no curves"))
    curves = {} if problems else _curves(channels, bool(with_draws), problems)
    if problems:
        raise CurvesRejected(problems)
    return curves


def _channel_name(line: int, value: str, problems: ProblemLog) -> str | None:
    """The channel's name as measurements store it (NFC), or None with its problem."""
    name = name_normalised(value.strip())
    hidden = hidden_character(name)
    if hidden is not None:
        problems.add(
            RowProblem(
                line,
                "channel",
                shown(hidden_characters_escaped(value)),
                f"contains {character_described(hidden[1])} at character {hidden[0]}: remove it",
            )
        )
        return None
    if not name or len(name) > MAX_NAME_LENGTH or not storable(name):
        problems.add(
            RowProblem(
                line,
                "channel",
                shown(value),
                f"must be a name of 1 to {MAX_NAME_LENGTH} characters",
            )
        )
        return None
    return name


def _draw(line: int, text: str, with_draws: bool, problems: ProblemLog) -> int | None:
    if not with_draws:
        if text:
            problems.add(
                RowProblem(line, "draw", shown(text), "the first row has no draw: none may")
            )
            return None
        return 0
    if not text.isascii() or not text.isdigit() or int(text) >= MAX_DRAWS:
        problems.add(
            RowProblem(
                line, "draw", shown(text), f"must be a whole number from 0 to {MAX_DRAWS - 1}"
            )
        )
        return None
    return int(text)


def _parameters(
    line: int, form: str, cells: Mapping[str, str], problems: ProblemLog
) -> dict[str, float] | None:
    values: dict[str, float] = {}
    valid = True
    for column in COLUMNS[3:]:
        text = (cells.get(column) or "").strip()
        if column not in PARAMETERS[form]:
            if text:
                problems.add(
                    RowProblem(line, column, shown(text), f"is not a column of {form} curves")
                )
                valid = False
            continue
        try:
            number = float(text) if text.isascii() and "_" not in text else math.nan
        except ValueError:
            number = math.nan
        smallest_allowed = 0.0 if column == "conversions" else math.ulp(0.0)
        if not smallest_allowed <= number <= MAX_CURVE_VALUE:
            bound = "0 or more" if column == "conversions" else "above 0"
            problems.add(
                RowProblem(line, column, shown(text), f"must be a number {bound}, at most 1e15")
            )
            valid = False
        values[column] = number
    return values if valid else None


def _curves(
    channels: Mapping[str, _Channel], with_draws: bool, problems: ProblemLog
) -> dict[str, ResponseCurve]:
    counts = {
        name: len(channel.points) if channel.form == "points" else len(channel.rows)
        for name, channel in channels.items()
    }
    draws = max(counts.values())
    curves: dict[str, ResponseCurve] = {}
    for name, channel in sorted(channels.items()):
        present = set(channel.points if channel.form == "points" else channel.rows)
        missing = sorted(set(range(draws)) - present)
        if with_draws and (draws < 2 or missing):
            problem = (
                f"a curve with draws has 2 to {MAX_DRAWS} of them, not {draws}"
                if draws < 2
                else f"channel {name!r} lacks draw(s) {_listed(missing)} of 0 to {draws - 1}"
                " (every channel has the same draws)"
            )
            problems.add(RowProblem(channel.line, "draw", "", problem))
            continue
        if channel.form == "points":
            curve = _points_curve(name, channel, draws, problems)
            if curve is not None:
                curves[name] = curve
            continue
        parameters = {
            key: np.array([channel.rows[d][1][key] for d in range(draws)])
            for key in PARAMETERS[channel.form]
        }
        if channel.form == "hill":
            curves[name] = HillCurve(
                channel=name,
                beta=parameters["beta"],
                half_saturation=parameters["half_saturation"],
                slope=parameters["slope"],
            )
        else:
            curves[name] = LogisticCurve(
                channel=name, beta=parameters["beta"], lam=parameters["lam"]
            )
    return curves


def _points_curve(
    name: str, channel: _Channel, draws: int, problems: ProblemLog
) -> PointsCurve | None:
    first = sorted(channel.points[0], key=lambda point: point[1])
    spend = [point[1] for point in first]
    rows = []
    for draw in range(draws):
        points = sorted(channel.points[draw], key=lambda point: point[1])
        if [point[1] for point in points] != spend:
            line = points[0][0]
            problems.add(
                RowProblem(
                    line,
                    "spend",
                    "",
                    f"channel {name!r}: draw {draw} has other spend points than draw 0 "
                    "(the draws of a points curve share their spend points)",
                )
            )
            return None
        for (line, spend_here, conversions), (_, spend_before, before) in zip(
            points[1:], points, strict=False
        ):
            if spend_here == spend_before:
                problems.add(
                    RowProblem(
                        line, "spend", shown(spend_here), f"channel {name!r} has this point twice"
                    )
                )
                return None
            if conversions < before:
                problems.add(
                    RowProblem(
                        line,
                        "conversions",
                        shown(conversions),
                        f"falls below {before:g} at a lower spend: a response curve does not "
                        "fall as spend grows",
                    )
                )
                return None
        rows.append([point[2] for point in points])
    return PointsCurve(channel=name, spend=np.array(spend), points=np.array(rows))


def _listed(numbers: list[int]) -> str:
    shown_numbers = ", ".join(str(n) for n in numbers[:10])
    return shown_numbers + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
