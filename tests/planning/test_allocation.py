"""The optimiser against the truth: brute force over fine grids for two and three channels,
and for twenty channels a fine-grid dynamic programme written here, whose error bound
(largest marginal ROAS x grid step, per channel) proves how far from the optimum a plan can be.
"""

from __future__ import annotations

import numpy as np
import pytest

from marketing_op.planning.allocation import Bounds, Goal, InfeasiblePlan, allocation_plan
from marketing_op.planning.curves import HillCurve, LogisticCurve, PointsCurve, ResponseCurve

TOLERANCE = 1e-3
"""A plan's expected conversions are within 0.1 % of the optimum."""


def hill_truth(x: np.ndarray, beta: np.ndarray, half: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The Hill curve's mean over draws, straight from the formula."""
    x = np.asarray(x, dtype=float)[None, :]
    return (
        beta[:, None]
        * x ** slope[:, None]
        / (half[:, None] ** slope[:, None] + x ** slope[:, None])
    ).mean(axis=0)


def random_curve(rng: np.random.Generator, channel: str, form: str, draws: int) -> ResponseCurve:
    beta = rng.uniform(20_000, 200_000) * rng.lognormal(0, 0.15, draws)
    half = rng.uniform(10_000, 80_000) * rng.lognormal(0, 0.1, draws)
    if form == "hill":
        return HillCurve(
            channel=channel,
            beta=beta,
            half_saturation=half,
            slope=rng.uniform(0.6, 1.2) * np.ones(draws),
        )
    if form == "s-hill":
        return HillCurve(
            channel=channel,
            beta=beta,
            half_saturation=half,
            slope=rng.uniform(2.0, 4.0) * np.ones(draws),
        )
    if form == "logistic":
        return LogisticCurve(channel=channel, beta=beta, lam=1.0 / half)
    spend = np.linspace(5_000, 150_000, 12)
    slope = rng.uniform(0.8, 2.5)
    points = np.stack(
        [
            hill_truth(spend, b[None], h[None], np.array([slope]))
            for b, h in zip(beta, half, strict=True)
        ]
    )
    return PointsCurve(channel=channel, spend=spend, points=points)


def expected(curve: ResponseCurve, x: np.ndarray) -> np.ndarray:
    return curve.expected(np.asarray(x, dtype=float))


def plan_value(curves: dict[str, ResponseCurve], plan: dict[str, float]) -> float:
    return sum(float(expected(curves[c], np.array([x]))[0]) for c, x in plan.items())


FORMS = ["hill", "s-hill", "logistic", "points"]


@pytest.mark.parametrize("seed", range(12))
def test_two_channels_max_conversions_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    forms = rng.choice(FORMS, 2)
    curves = {
        f"c{i}": random_curve(rng, f"c{i}", str(form), draws=int(rng.integers(1, 40)))
        for i, form in enumerate(forms)
    }
    limit = {
        c: (curve.limit if curve.limit is not None else 200_000.0) for c, curve in curves.items()
    }
    budget = float(rng.uniform(20_000, min(limit.values()) * 1.5))
    bounds = {c: Bounds(0.0, limit[c]) for c in curves}

    plan = allocation_plan(curves=curves, budget=budget, bounds=bounds, goal=Goal.MAX_CONVERSIONS)

    x0 = np.linspace(max(0.0, budget - limit["c1"]), min(budget, limit["c0"]), 200_001)
    totals = expected(curves["c0"], x0) + expected(curves["c1"], budget - x0)
    truth = float(totals.max())
    assert sum(plan.values()) == pytest.approx(budget, rel=1e-12)
    assert all(bounds[c].lower - 1e-9 <= x <= bounds[c].upper + 1e-9 for c, x in plan.items())
    assert plan_value(curves, plan) >= truth * (1 - TOLERANCE)
    # The brute force's step is 1/200,000 of the budget: nothing can beat it by more than that.
    step = x0[1] - x0[0]
    slopes = sum(
        float(np.nanmax(c.expected_marginal(np.linspace(1, limit[n], 20_001))))
        for n, c in curves.items()
    )
    assert plan_value(curves, plan) <= truth + slopes * step


@pytest.mark.parametrize("seed", range(6))
def test_three_s_shaped_channels_escape_the_bad_corner(seed: int) -> None:
    """S-shaped curves where spreading the budget evenly, or any local search from there,
    stays far below the optimum, which concentrates spend."""
    rng = np.random.default_rng(100 + seed)
    curves = {f"c{i}": random_curve(rng, f"c{i}", "s-hill", draws=3) for i in range(3)}
    budget = float(rng.uniform(40_000, 120_000))
    bounds = {c: Bounds(0.0, budget) for c in curves}

    plan = allocation_plan(curves=curves, budget=budget, bounds=bounds, goal=Goal.MAX_CONVERSIONS)

    grid = np.linspace(0, budget, 1_201)
    g0, g1 = expected(curves["c0"], grid), expected(curves["c1"], grid)
    rest = budget - grid[:, None] - grid[None, :]
    feasible = rest >= -1e-6
    g2 = expected(curves["c2"], np.clip(rest, 0, None).ravel()).reshape(rest.shape)
    totals = np.where(feasible, g0[:, None] + g1[None, :] + g2, -np.inf)
    truth = float(totals.max())
    assert plan_value(curves, plan) >= truth * (1 - TOLERANCE)
    assert sum(plan.values()) == pytest.approx(budget, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_two_channels_target_roas_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    forms = rng.choice(FORMS, 2)
    curves = {
        f"c{i}": random_curve(rng, f"c{i}", str(form), draws=5) for i, form in enumerate(forms)
    }
    limit = {
        c: (curve.limit if curve.limit is not None else 200_000.0) for c, curve in curves.items()
    }
    budget = float(rng.uniform(50_000, 250_000))
    bounds = {c: Bounds(0.0, min(limit[c], budget)) for c in curves}
    x0 = np.linspace(0, bounds["c0"].upper, 2_001)
    x1 = np.linspace(0, bounds["c1"].upper, 2_001)
    spend = x0[:, None] + x1[None, :]
    conversions = expected(curves["c0"], x0)[:, None] + expected(curves["c1"], x1)[None, :]
    # A target between the best ROAS and the ROAS of spending everything: it binds.
    with np.errstate(invalid="ignore", divide="ignore"):
        roas = np.where(spend > 0, conversions / spend, 0)
    allowed = spend <= budget
    target = float(rng.uniform(0.5, 0.95) * roas[allowed].max())

    plan = allocation_plan(
        curves=curves, budget=budget, bounds=bounds, goal=Goal.TARGET_ROAS, target=target
    )

    truth = float(np.where(allowed & (roas >= target), conversions, -np.inf).max())
    value = plan_value(curves, plan)
    assert sum(plan.values()) <= budget * (1 + 1e-12)
    assert value >= target * sum(plan.values()) * (1 - 1e-9)
    assert value >= truth * (1 - TOLERANCE)


@pytest.mark.parametrize("form", FORMS)
def test_target_marginal_roas_stops_where_the_next_euro_returns_the_target(form: str) -> None:
    rng = np.random.default_rng(7)
    curves = {f"c{i}": random_curve(rng, f"c{i}", form, draws=4) for i in range(3)}
    limit = {
        c: (curve.limit if curve.limit is not None else 200_000.0) for c, curve in curves.items()
    }
    bounds = {c: Bounds(0.0, limit[c]) for c in curves}
    target = 0.6

    plan = allocation_plan(
        curves=curves, budget=1e9, bounds=bounds, goal=Goal.TARGET_MARGINAL_ROAS, target=target
    )

    for channel, spend in plan.items():
        grid = np.linspace(0, limit[channel], 400_001)
        marginal = np.gradient(expected(curves[channel], grid), grid)
        # The truth: the largest spend at which the next euro still returns the target.
        above = np.flatnonzero(marginal >= target)
        truth = grid[above[-1]] if above.size else 0.0
        assert spend == pytest.approx(truth, abs=limit[channel] / 400_000 * 2 + 1e-6)


def test_target_marginal_roas_within_a_smaller_budget_is_the_best_allocation_below_the_stops() -> (
    None
):
    rng = np.random.default_rng(11)
    curves = {f"c{i}": random_curve(rng, f"c{i}", "hill", draws=4) for i in range(2)}
    bounds = {c: Bounds(0.0, 200_000.0) for c in curves}
    unlimited = allocation_plan(
        curves=curves, budget=1e9, bounds=bounds, goal=Goal.TARGET_MARGINAL_ROAS, target=0.3
    )
    budget = sum(unlimited.values()) / 2

    plan = allocation_plan(
        curves=curves, budget=budget, bounds=bounds, goal=Goal.TARGET_MARGINAL_ROAS, target=0.3
    )

    x0 = np.linspace(max(0, budget - unlimited["c1"]), min(budget, unlimited["c0"]), 100_001)
    truth = float((expected(curves["c0"], x0) + expected(curves["c1"], budget - x0)).max())
    assert sum(plan.values()) == pytest.approx(budget, rel=1e-12)
    assert plan_value(curves, plan) >= truth * (1 - TOLERANCE)


def optimum_upper_bound(
    curves: list[ResponseCurve], budget: float, upper: list[float], steps: int
) -> float:
    """An upper bound of the best allocation of ``budget``, proven: any allocation x puts
    each channel in a grid cell [j h, (j + 1) h) with the j summing to at most ``steps``,
    and a rising curve is at most its value at the cell's right end. The best choice of
    cells is a dynamic programme over the channels (the oracle: plain and independent)."""
    step = budget / steps
    best = np.full(steps + 1, -np.inf)
    best[0] = 0.0
    for curve, high in zip(curves, upper, strict=True):
        cells = min(steps, int(high // step))
        values = expected(curve, np.minimum((np.arange(cells + 1) + 1) * step, high))
        new = np.full(steps + 1, -np.inf)
        for taken in range(cells + 1):
            np.maximum(new[taken:], best[: steps + 1 - taken] + values[taken], out=new[taken:])
        best = new
    return float(best.max())


@pytest.mark.parametrize("seed", range(2))
def test_twenty_channels_within_a_tenth_of_a_percent_of_a_proven_upper_bound(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    forms = rng.choice(FORMS, 20)
    curves = {
        f"c{i:02}": random_curve(rng, f"c{i:02}", str(form), draws=20)
        for i, form in enumerate(forms)
    }
    limit = {
        c: (curve.limit if curve.limit is not None else 400_000.0) for c, curve in curves.items()
    }
    budget = 600_000.0
    bounds = {c: Bounds(0.0, limit[c]) for c in curves}

    plan = allocation_plan(curves=curves, budget=budget, bounds=bounds, goal=Goal.MAX_CONVERSIONS)

    ordered = sorted(curves)
    ceiling = optimum_upper_bound(
        [curves[c] for c in ordered], budget, [limit[c] for c in ordered], 12_000
    )
    value = plan_value(curves, plan)
    assert sum(plan.values()) == pytest.approx(budget, rel=1e-12)
    assert value <= ceiling
    assert value >= ceiling * (1 - TOLERANCE)


def test_twenty_concave_channels_meet_the_optimality_conditions() -> None:
    """Concave curves: every channel strictly inside its bounds has the same marginal ROAS,
    those at their minimum a lower one and those at their maximum a higher one (KKT)."""
    rng = np.random.default_rng(5)
    curves = {f"c{i:02}": random_curve(rng, f"c{i:02}", "logistic", draws=30) for i in range(20)}
    bounds = {
        c: Bounds(float(rng.uniform(0, 5_000)), float(rng.uniform(30_000, 90_000))) for c in curves
    }
    budget = 700_000.0

    plan = allocation_plan(curves=curves, budget=budget, bounds=bounds, goal=Goal.MAX_CONVERSIONS)

    marginal = {c: float(curves[c].expected_marginal(np.array([x]))[0]) for c, x in plan.items()}
    inside = [c for c, x in plan.items() if bounds[c].lower + 1 < x < bounds[c].upper - 1]
    assert inside
    level = np.median([marginal[c] for c in inside])
    assert all(marginal[c] == pytest.approx(level, rel=1e-3) for c in inside)
    assert all(
        marginal[c] <= level * (1 + 1e-3) for c, x in plan.items() if x <= bounds[c].lower + 1
    )
    assert all(
        marginal[c] >= level * (1 - 1e-3) for c, x in plan.items() if x >= bounds[c].upper - 1
    )


@pytest.mark.parametrize(
    ("budget", "goal", "target", "message"),
    [
        (
            1_000.0,
            Goal.MAX_CONVERSIONS,
            None,
            "the budget 1,000.00 is 2,000.00 below the sum of the channels' minimums (3,000.00)",
        ),
        (
            500_000.0,
            Goal.MAX_CONVERSIONS,
            None,
            "the budget 500,000.00 is 300,000.00 above what the channels can spend",
        ),
        (
            100_000.0,
            Goal.TARGET_ROAS,
            1_000.0,
            "no allocation within the bounds and the budget reaches a ROAS of 1000",
        ),
        (
            100_000.0,
            Goal.TARGET_MARGINAL_ROAS,
            1_000.0,
            "no channel's marginal ROAS reaches 1000 within its bounds",
        ),
        (100_000.0, Goal.TARGET_ROAS, None, "this goal needs a target above 0"),
    ],
)
def test_infeasible_asks_say_which_and_by_how_much(
    budget: float, goal: Goal, target: float | None, message: str
) -> None:
    curves = {
        c: LogisticCurve(channel=c, beta=np.array([50_000.0]), lam=np.array([1e-5]))
        for c in ("radio", "tv")
    }
    bounds = {"radio": Bounds(1_000.0, 100_000.0), "tv": Bounds(2_000.0, 100_000.0)}
    with pytest.raises(InfeasiblePlan) as refused:
        allocation_plan(curves=curves, budget=budget, bounds=bounds, goal=goal, target=target)
    assert message in refused.value.message
    assert refused.value.status_code == 422
