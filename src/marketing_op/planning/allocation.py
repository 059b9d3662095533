"""The spend per channel that a goal asks for, on the expected response curves.

Response curves may be S-shaped (Hill with a slope above 1), where a local search stops at a
poor corner, so the search is global first: a dynamic programme over the channels on a grid
of the budget (``GRID_STEPS`` steps) finds, for every total spend on the grid, the best
allocation of it. Rounding the true optimum to that grid loses at most
``sum(largest marginal ROAS of each channel) * step``, whatever the curves' shapes. SciPy's
SLSQP then refines that allocation locally, off the grid; it is kept only where it is
feasible and better, so the answer is never worse than the grid's.

Goals, in a marketing team's words:

- ``max_conversions``: spend the whole budget where it buys the most conversions.
- ``target_roas``: spend at most the budget, as much as keeps the plan's total return on ad
  spend at or above the target.
- ``target_marginal_roas``: each channel spends up to where its next euro returns the target
  (its marginal ROAS falls to it), within its bounds and the budget.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import brentq, minimize

from marketing_op.core.exceptions import RejectedInputError
from marketing_op.planning.curves import Array, ResponseCurve

GRID_STEPS = 1000
"""Grid steps of the budget for the global search; its error bound shrinks with 1 / steps."""
MARGINAL_GRID = 2001
"""Points per channel at which the marginal ROAS is looked at for ``target_marginal_roas``."""

NDArrayInt = np.ndarray


class Goal(enum.StrEnum):
    MAX_CONVERSIONS = "max_conversions"
    TARGET_ROAS = "target_roas"
    TARGET_MARGINAL_ROAS = "target_marginal_roas"


class InfeasiblePlan(RejectedInputError):
    """A plan that no allocation within the bounds and the budget can meet (422)."""


@dataclass(frozen=True)
class Bounds:
    lower: float
    upper: float


def _money(value: float) -> str:
    return f"{value:,.2f}"


def allocation_plan(
    *,
    curves: Mapping[str, ResponseCurve],
    budget: float,
    bounds: Mapping[str, Bounds],
    goal: Goal,
    target: float | None = None,
    grid_steps: int = GRID_STEPS,
) -> dict[str, float]:
    """The spend per channel (the keys of ``curves``) for ``goal``; raises ``InfeasiblePlan``."""
    channels = sorted(curves)
    lower = np.array([bounds[channel].lower for channel in channels], dtype=np.float64)
    upper = np.array([bounds[channel].upper for channel in channels], dtype=np.float64)
    for channel, low, high in zip(channels, lower, upper, strict=True):
        if low > high:
            raise InfeasiblePlan(
                f"channel {channel!r}: its minimum {_money(low)} is above its maximum "
                f"{_money(high)}"
            )
    if lower.sum() > budget:
        raise InfeasiblePlan(
            f"the budget {_money(budget)} is {_money(lower.sum() - budget)} below the sum of "
            f"the channels' minimums ({_money(lower.sum())})"
        )
    ordered = [curves[channel] for channel in channels]
    if goal is Goal.MAX_CONVERSIONS:
        if upper.sum() < budget:
            raise InfeasiblePlan(
                f"the budget {_money(budget)} is {_money(budget - upper.sum())} above what the "
                f"channels can spend (the sum of their maximums, {_money(upper.sum())})"
            )
        spend = _max_conversions(ordered, lower, upper, budget, grid_steps)
    elif goal is Goal.TARGET_ROAS:
        spend = _target_roas(ordered, lower, upper, budget, _target(target), grid_steps)
    else:
        spend = _target_marginal_roas(
            ordered, channels, lower, upper, budget, _target(target), grid_steps
        )
    return {channel: float(value) for channel, value in zip(channels, spend, strict=True)}


def _target(target: float | None) -> float:
    if target is None or not target > 0:
        raise InfeasiblePlan("this goal needs a target above 0")
    return float(target)


def expected_total(curves: list[ResponseCurve], spend: Array) -> float:
    return float(
        sum(curve.expected(np.array([x]))[0] for curve, x in zip(curves, spend, strict=True))
    )


@dataclass(frozen=True)
class _Frontier:
    """For every total of grid steps ``b``: the best expected conversions (``best[b]``)
    and, per channel, the steps it takes at each total (to walk back)."""

    step: float
    best: Array
    choices: list[NDArrayInt]

    def allocation(self, total_steps: int, lower: Array) -> Array:
        steps = np.zeros(len(self.choices), dtype=np.int64)
        remaining = total_steps
        for index in range(len(self.choices) - 1, -1, -1):
            steps[index] = self.choices[index][remaining]
            remaining -= int(steps[index])
        return lower + steps * self.step


def _frontier(
    curves: list[ResponseCurve], lower: Array, upper: Array, room: float, grid_steps: int
) -> _Frontier:
    """The dynamic programme over channels on a grid of ``room`` (the spend above the
    minimums): a max-plus convolution of each channel's expected curve with the best of the
    channels before it."""
    step = room / grid_steps
    best = np.full(grid_steps + 1, -np.inf)
    best[0] = 0.0
    choices: list[NDArrayInt] = []
    for curve, low, high in zip(curves, lower, upper, strict=True):
        reach = min(grid_steps, int(np.floor((high - low) / step + 1e-9)))
        values = curve.expected(low + np.arange(reach + 1) * step)
        padded = np.concatenate((np.full(reach, -np.inf), best))
        # windows[b, k] is best[b - reach + k]: the channel takes reach - k steps.
        totals = sliding_window_view(padded, reach + 1) + values[::-1]
        taken = np.argmax(totals, axis=1)
        best = totals[np.arange(grid_steps + 1), taken]
        choices.append(reach - taken)
    return _Frontier(step=step, best=best, choices=choices)


def _spread(spend: Array, upper: Array, amount: float) -> Array:
    """``spend`` with ``amount`` more, given to channels in order, each up to its maximum."""
    spend = spend.copy()
    for index in range(len(spend)):
        extra = min(amount, upper[index] - spend[index])
        spend[index] += extra
        amount -= extra
    return spend


def _refined(
    curves: list[ResponseCurve],
    start: Array,
    lower: Array,
    upper: Array,
    budget: float,
    *,
    exact_budget: bool,
    target_roas: float | None = None,
) -> Array:
    """SLSQP from ``start``; ``start`` again unless the refinement is feasible and better."""
    scale = max(budget, 1.0)
    value_scale = max(abs(expected_total(curves, start)), 1.0)

    def conversions(units: Array) -> float:
        return expected_total(curves, units * scale)

    def gradient(units: Array) -> Array:
        return np.array(
            [
                curve.expected_marginal(np.array([x * scale]))[0] * scale
                for curve, x in zip(curves, units, strict=True)
            ]
        )

    constraints: list[dict[str, object]] = []
    if exact_budget:
        constraints.append(
            {"type": "eq", "fun": lambda u: u.sum() - budget / scale, "jac": np.ones_like}
        )
    else:
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda u: budget / scale - u.sum(),
                "jac": lambda u: -np.ones_like(u),
            }
        )
    if target_roas is not None:
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda u: (conversions(u) - target_roas * u.sum() * scale) / value_scale,
                "jac": lambda u: (gradient(u) - target_roas * scale) / value_scale,
            }
        )
    result = minimize(
        lambda u: -conversions(u) / value_scale,
        start / scale,
        jac=lambda u: -gradient(u) / value_scale,
        method="SLSQP",
        bounds=list(zip(lower / scale, upper / scale, strict=True)),
        constraints=constraints,
        options={"maxiter": 200, "ftol": 1e-12},
    )
    candidate = np.clip(result.x * scale, lower, upper)
    if exact_budget:
        candidate = _exact_sum(candidate, lower, upper, budget)
    elif candidate.sum() > budget:
        return start
    if target_roas is not None:
        candidate = _within_roas(curves, start, candidate, target_roas)
    if expected_total(curves, candidate) > expected_total(curves, start):
        return candidate
    return start


def _within_roas(
    curves: list[ResponseCurve], start: Array, candidate: Array, target: float
) -> Array:
    """The point nearest ``candidate`` on the way from ``start`` (which meets the target)
    where the plan's ROAS still meets ``target``: SLSQP may end a hair outside."""

    def margin(share: float) -> float:
        spend = start + share * (candidate - start)
        return expected_total(curves, spend) - target * spend.sum()

    if margin(1.0) >= 0:
        return candidate
    if margin(0.0) < 0:
        return start
    share = brentq(margin, 0.0, 1.0, xtol=1e-12)
    while share > 0 and margin(share) < 0:
        share = max(0.0, share - 1e-12)
    return start + share * (candidate - start)


def _exact_sum(spend: Array, lower: Array, upper: Array, budget: float) -> Array:
    """``spend`` moved by its rounding residue so that it sums to ``budget`` exactly."""
    residue = budget - spend.sum()
    spend = spend.copy()
    for index in np.argsort(-(upper - spend) if residue > 0 else -(spend - lower)):
        room = upper[index] - spend[index] if residue > 0 else spend[index] - lower[index]
        move = min(abs(residue), room)
        spend[index] += move if residue > 0 else -move
        residue -= move if residue > 0 else -move
        if residue == 0:
            break
    return spend


def _max_conversions(
    curves: list[ResponseCurve], lower: Array, upper: Array, budget: float, grid_steps: int
) -> Array:
    room = budget - lower.sum()
    if room <= 0:
        return lower.copy()
    frontier = _frontier(curves, lower, upper, room, grid_steps)
    reachable = np.flatnonzero(np.isfinite(frontier.best))
    total_steps = int(reachable[-1])
    start = frontier.allocation(total_steps, lower)
    start = _spread(start, upper, budget - start.sum())
    start = _exact_sum(start, lower, upper, budget)
    return _refined(curves, start, lower, upper, budget, exact_budget=True)


def _target_roas(
    curves: list[ResponseCurve],
    lower: Array,
    upper: Array,
    budget: float,
    target: float,
    grid_steps: int,
) -> Array:
    room = min(budget, upper.sum()) - lower.sum()
    highest = -np.inf
    if room <= 0:
        spend = lower.sum()
        if spend > 0 and expected_total(curves, lower) >= target * spend:
            return lower.copy()
        highest = expected_total(curves, lower) / spend if spend > 0 else 0.0
    # Where only tiny plans meet the target, they may all lie within the first grid step:
    # look again within it, twice at most.
    for _zoom in range(3 if room > 0 else 0):
        frontier = _frontier(curves, lower, upper, room, grid_steps)
        spend = lower.sum() + np.arange(grid_steps + 1) * frontier.step
        with np.errstate(divide="ignore", invalid="ignore"):
            roas = np.where(spend > 0, frontier.best / spend, -np.inf)
        if np.isfinite(roas).any():
            highest = max(highest, float(np.max(roas[np.isfinite(roas)])))
        meets = np.flatnonzero(np.isfinite(frontier.best) & (roas >= target) & (spend > 0))
        if meets.size:
            start = frontier.allocation(int(meets[np.argmax(frontier.best[meets])]), lower)
            break
        room = frontier.step
    else:
        raise InfeasiblePlan(
            f"no allocation within the bounds and the budget reaches a ROAS of {target:g}: "
            f"the highest reachable is {highest:.4g}, {target - highest:.4g} short"
        )
    return _refined(curves, start, lower, upper, budget, exact_budget=False, target_roas=target)


def _target_marginal_roas(
    curves: list[ResponseCurve],
    channels: list[str],
    lower: Array,
    upper: Array,
    budget: float,
    target: float,
    grid_steps: int,
) -> Array:
    """Each channel up to the largest spend at which its marginal ROAS is still the target;
    where those spends together pass the budget, the budget's best allocation below them."""
    stops = lower.copy()
    highest: tuple[float, str] = (-np.inf, "")
    for index, curve in enumerate(curves):
        grid = np.linspace(lower[index], upper[index], MARGINAL_GRID)
        marginal = curve.expected_marginal(grid)
        finite = marginal[np.isfinite(marginal)]
        if finite.size:
            highest = max(highest, (float(finite.max()), channels[index]))
        above = np.flatnonzero(marginal >= target)
        if above.size == 0:
            continue
        last = int(above[-1])
        if last == len(grid) - 1:
            stops[index] = upper[index]
            continue
        stops[index] = brentq(
            lambda x, curve=curve: curve.expected_marginal(np.array([x]))[0] - target,
            grid[last],
            grid[last + 1],
            xtol=1e-9 * max(1.0, grid[last + 1]),
        )
    if highest[0] < target:
        raise InfeasiblePlan(
            f"no channel's marginal ROAS reaches {target:g} within its bounds: the highest is "
            f"{highest[0]:.4g} ({highest[1]}), {target - highest[0]:.4g} short"
        )
    if stops.sum() <= budget:
        return stops
    return _max_conversions(curves, lower, stops, budget, grid_steps)
