"""What a plan says to a marketing team: per channel and in total, for the plan and for the
current allocation, with equal-tailed intervals over the curves' draws.

Draw ``d`` of every channel's curve is the same posterior sample, so totals and the gain are
summed draw by draw before their quantiles are taken (summing per-channel quantiles would be
wrong). Quantiles are NumPy's default: linear interpolation between order statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from marketing_op.planning.curves import Array, ResponseCurve


@dataclass(frozen=True)
class Estimate:
    """An expected value (the mean over draws) and, where there are draws, its interval."""

    expected: float
    lower: float | None = None
    upper: float | None = None

    @classmethod
    def of_draws(cls, draws: Array, interval: float | None) -> Estimate:
        if interval is None or draws.size < 2:
            return cls(expected=float(draws.mean()))
        lower, upper = np.quantile(draws, [(1 - interval) / 2, (1 + interval) / 2])
        return cls(expected=float(draws.mean()), lower=float(lower), upper=float(upper))


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    current_spend: float
    spend: float
    conversions: Estimate
    current_conversions: float
    marginal_roas: float

    @property
    def change(self) -> float:
        return self.spend - self.current_spend

    @property
    def roas(self) -> float | None:
        return self.conversions.expected / self.spend if self.spend > 0 else None


@dataclass(frozen=True)
class PlanFigures:
    channels: list[ChannelFigures]
    spend: float
    conversions: Estimate
    current_spend: float
    current_conversions: Estimate
    gain: Estimate
    probability_of_gain: float | None
    """The share of draws in which the plan's conversions exceed the current allocation's."""

    @property
    def roas(self) -> float | None:
        return self.conversions.expected / self.spend if self.spend > 0 else None

    @property
    def current_roas(self) -> float | None:
        if self.current_spend <= 0:
            return None
        return self.current_conversions.expected / self.current_spend


def plan_figures(
    *,
    curves: Mapping[str, ResponseCurve],
    spend: Mapping[str, float],
    current: Mapping[str, float],
    interval: float | None,
) -> PlanFigures:
    channels = sorted(spend)
    planned = {c: curves[c].conversions(np.array([spend[c]]))[:, 0] for c in channels}
    before = {c: curves[c].conversions(np.array([current.get(c, 0.0)]))[:, 0] for c in channels}
    draws = {curve.size for curve in planned.values()}
    paired = len(draws) == 1 and draws.pop() >= 2
    figures = [
        ChannelFigures(
            channel=c,
            current_spend=float(current.get(c, 0.0)),
            spend=float(spend[c]),
            conversions=Estimate.of_draws(planned[c], interval),
            current_conversions=float(before[c].mean()),
            marginal_roas=float(curves[c].expected_marginal(np.array([spend[c]]))[0]),
        )
        for c in channels
    ]
    if paired:
        plan_total = np.sum([planned[c] for c in channels], axis=0)
        current_total = np.sum([before[c] for c in channels], axis=0)
        gain = plan_total - current_total
        probability: float | None = float(np.mean(gain > 0)) if interval is not None else None
    else:
        plan_total = np.array([sum(float(planned[c].mean()) for c in channels)])
        current_total = np.array([sum(float(before[c].mean()) for c in channels)])
        gain = plan_total - current_total
        probability = None
    return PlanFigures(
        channels=figures,
        spend=float(sum(spend.values())),
        conversions=Estimate.of_draws(plan_total, interval),
        current_spend=float(sum(current.get(c, 0.0) for c in channels)),
        current_conversions=Estimate.of_draws(current_total, interval),
        gain=Estimate.of_draws(gain, interval),
        probability_of_gain=probability,
    )
