"""Response curves: a channel's incremental conversions for a spend over the planning period.

A curve has one or more draws (a Bayesian model's posterior, or a bootstrap): every
function here answers per draw, as an array of shape ``(draws, len(spend))``. The expected
curve that a plan maximises is the mean over the draws.

Three forms, as marketing-mix libraries give them:

- points: monotone cubic interpolation (SciPy's PCHIP) through (0, 0) and the given points;
  every draw of one channel shares the spend points, so that one interpolator serves all.
- Hill: ``beta * x**slope / (half_saturation**slope + x**slope)``.
- logistic: ``beta * (1 - exp(-lam * x)) / (1 + exp(-lam * x))``, that is
  ``beta * tanh(lam * x / 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import PchipInterpolator

Array = NDArray[np.float64]


def _as_draws(values: Array | list[float] | float) -> Array:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class ResponseCurve:
    """Base of the three forms; ``limit`` is the largest spend the curve describes."""

    channel: str

    @property
    def draws(self) -> int:
        raise NotImplementedError

    @property
    def limit(self) -> float | None:
        """The largest spend the curve is known for (points curves), or ``None``."""
        return None

    def conversions(self, spend: Array) -> Array:
        """Conversions per draw at each spend: shape ``(draws, len(spend))``."""
        raise NotImplementedError

    def marginal(self, spend: Array) -> Array:
        """d conversions / d spend per draw (the marginal ROAS): ``(draws, len(spend))``."""
        raise NotImplementedError

    def expected(self, spend: Array) -> Array:
        """The mean over the draws at each spend."""
        return np.asarray(self.conversions(np.asarray(spend, dtype=np.float64)).mean(axis=0))

    def expected_marginal(self, spend: Array) -> Array:
        return np.asarray(self.marginal(np.asarray(spend, dtype=np.float64)).mean(axis=0))


@dataclass(frozen=True, eq=False)
class PointsCurve(ResponseCurve):
    """``spend``: the points' spends, increasing and positive; ``conversions``: one row per
    draw, one column per spend point."""

    spend: Array = field(default_factory=lambda: np.zeros(0))
    points: Array = field(default_factory=lambda: np.zeros((1, 0)))
    _interpolator: PchipInterpolator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spend = np.concatenate(([0.0], np.asarray(self.spend, dtype=np.float64)))
        points = np.atleast_2d(np.asarray(self.points, dtype=np.float64))
        values = np.concatenate((np.zeros((points.shape[0], 1)), points), axis=1)
        object.__setattr__(self, "_interpolator", PchipInterpolator(spend, values, axis=1))

    @property
    def draws(self) -> int:
        return int(np.atleast_2d(self.points).shape[0])

    @property
    def limit(self) -> float:
        return float(np.asarray(self.spend)[-1])

    def conversions(self, spend: Array) -> Array:
        return np.asarray(self._interpolator(np.clip(spend, 0.0, self.limit)))

    def marginal(self, spend: Array) -> Array:
        return np.asarray(self._interpolator.derivative()(np.clip(spend, 0.0, self.limit)))


@dataclass(frozen=True, eq=False)
class HillCurve(ResponseCurve):
    beta: Array = field(default_factory=lambda: np.ones(1))
    half_saturation: Array = field(default_factory=lambda: np.ones(1))
    slope: Array = field(default_factory=lambda: np.ones(1))

    @property
    def draws(self) -> int:
        return int(_as_draws(self.beta).size)

    def _parameters(self) -> tuple[Array, Array, Array]:
        return (
            _as_draws(self.beta)[:, None],
            _as_draws(self.half_saturation)[:, None],
            _as_draws(self.slope)[:, None],
        )

    def conversions(self, spend: Array) -> Array:
        beta, half, slope = self._parameters()
        x = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)[None, :]
        # x**s / (k**s + x**s) written as 1 / (1 + (k / x)**s): no overflow for large x.
        with np.errstate(divide="ignore", over="ignore"):
            ratio = np.power(half / x, slope)
        return np.asarray(beta / (1.0 + ratio))

    def marginal(self, spend: Array) -> Array:
        beta, half, slope = self._parameters()
        x = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)[None, :]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ratio = np.power(half / x, slope)
            value = beta * slope * ratio / (x * (1.0 + ratio) ** 2)
        # At x = 0 the derivative is beta / k for slope 1, 0 above and unbounded below 1.
        at_zero = np.where(slope == 1.0, beta / half, np.where(slope > 1.0, 0.0, np.inf))
        return np.asarray(np.where(x > 0, np.nan_to_num(value, nan=0.0), at_zero))


@dataclass(frozen=True, eq=False)
class LogisticCurve(ResponseCurve):
    beta: Array = field(default_factory=lambda: np.ones(1))
    lam: Array = field(default_factory=lambda: np.ones(1))

    @property
    def draws(self) -> int:
        return int(_as_draws(self.beta).size)

    def conversions(self, spend: Array) -> Array:
        x = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)[None, :]
        return np.asarray(
            _as_draws(self.beta)[:, None] * np.tanh(_as_draws(self.lam)[:, None] * x / 2.0)
        )

    def marginal(self, spend: Array) -> Array:
        x = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)[None, :]
        lam = _as_draws(self.lam)[:, None]
        return np.asarray(
            _as_draws(self.beta)[:, None]
            * lam
            / 2.0
            / np.cosh(np.minimum(lam * x / 2.0, 350.0)) ** 2
        )
