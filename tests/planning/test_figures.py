"""A plan's figures against NumPy over the raw draws: each curve evaluated from its formula
in the test, totals summed draw by draw, quantiles taken last."""

from __future__ import annotations

import numpy as np
import pytest

from marketing_op.planning.curves import HillCurve, LogisticCurve
from marketing_op.planning.figures import plan_figures


def hill(x: float, beta: np.ndarray, half: np.ndarray, slope: np.ndarray) -> np.ndarray:
    return beta * x**slope / (half**slope + x**slope)


def logistic(x: float, beta: np.ndarray, lam: np.ndarray) -> np.ndarray:
    return beta * (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))


@pytest.mark.parametrize("interval", [0.5, 0.8, 0.9, 0.95, 0.99])
def test_intervals_are_quantiles_of_the_draws_summed_draw_by_draw(interval: float) -> None:
    rng = np.random.default_rng(int(interval * 100))
    draws = 300
    tv = {
        "beta": rng.normal(90_000, 15_000, draws),
        "half": rng.normal(40_000, 4_000, draws),
        "slope": rng.uniform(1.5, 2.5, draws),
    }
    radio = {"beta": rng.normal(30_000, 8_000, draws), "lam": rng.uniform(2e-5, 6e-5, draws)}
    curves = {
        "tv": HillCurve(
            channel="tv", beta=tv["beta"], half_saturation=tv["half"], slope=tv["slope"]
        ),
        "radio": LogisticCurve(channel="radio", beta=radio["beta"], lam=radio["lam"]),
    }
    spend = {"tv": 55_000.0, "radio": 20_000.0}
    current = {"tv": 30_000.0, "radio": 45_000.0}

    figures = plan_figures(curves=curves, spend=spend, current=current, interval=interval)

    tv_plan = hill(55_000.0, tv["beta"], tv["half"], tv["slope"])
    radio_plan = logistic(20_000.0, radio["beta"], radio["lam"])
    tv_now = hill(30_000.0, tv["beta"], tv["half"], tv["slope"])
    radio_now = logistic(45_000.0, radio["beta"], radio["lam"])
    levels = [(1 - interval) / 2, (1 + interval) / 2]
    by_channel = {f.channel: f for f in figures.channels}
    for channel, values in (("tv", tv_plan), ("radio", radio_plan)):
        lower, upper = np.quantile(values, levels)
        assert by_channel[channel].conversions.expected == pytest.approx(values.mean(), rel=1e-12)
        assert by_channel[channel].conversions.lower == pytest.approx(lower, rel=1e-12)
        assert by_channel[channel].conversions.upper == pytest.approx(upper, rel=1e-12)
    total = tv_plan + radio_plan
    lower, upper = np.quantile(total, levels)
    assert figures.conversions.lower == pytest.approx(lower, rel=1e-12)
    assert figures.conversions.upper == pytest.approx(upper, rel=1e-12)
    # Summing the channels' own quantiles would give another, wrong, interval.
    summed = np.quantile(tv_plan, levels) + np.quantile(radio_plan, levels)
    assert not np.allclose(summed, [lower, upper], rtol=1e-6)
    gain = total - (tv_now + radio_now)
    lower, upper = np.quantile(gain, levels)
    assert figures.gain.expected == pytest.approx(gain.mean(), rel=1e-12)
    assert figures.gain.lower == pytest.approx(lower, rel=1e-12)
    assert figures.gain.upper == pytest.approx(upper, rel=1e-12)
    assert figures.probability_of_gain == pytest.approx(np.mean(gain > 0))
    assert figures.spend == 75_000.0
    assert figures.current_spend == 75_000.0
    assert by_channel["tv"].change == 25_000.0
    assert by_channel["radio"].roas == pytest.approx(radio_plan.mean() / 20_000.0)


def test_single_curves_have_no_interval_and_no_probability() -> None:
    curves = {"tv": LogisticCurve(channel="tv", beta=np.array([50_000.0]), lam=np.array([3e-5]))}

    figures = plan_figures(curves=curves, spend={"tv": 10_000.0}, current={"tv": 0.0}, interval=0.9)

    expected = logistic(10_000.0, np.array([50_000.0]), np.array([3e-5]))[0]
    assert figures.conversions.expected == pytest.approx(expected, rel=1e-12)
    assert figures.conversions.lower is None
    assert figures.conversions.upper is None
    assert figures.probability_of_gain is None
    assert figures.channels[0].roas == pytest.approx(expected / 10_000.0)
    assert figures.current_roas is None
    # The marginal ROAS is the curve's slope: beta * lam / 2 / cosh(lam * x / 2)^2.
    assert figures.channels[0].marginal_roas == pytest.approx(
        50_000.0 * 3e-5 / 2 / np.cosh(3e-5 * 10_000.0 / 2) ** 2, rel=1e-9
    )
