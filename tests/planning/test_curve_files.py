"""Curves files: each form read into the curve its numbers describe, and every
inconsistency refused with its line and column."""

from __future__ import annotations

import io

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from marketing_op.measurements.imports.problems import ProblemLog
from marketing_op.planning.curve_files import CurvesRejected, csv_rows, curves_read


def read(text: str):
    problems = ProblemLog()
    return curves_read(csv_rows(io.StringIO(text), problems), problems)


def refusal(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(CurvesRejected) as refused:
        read(text)
    return [(p.line, p.column, p.message) for p in refused.value.problems.problems]


def test_the_three_forms_without_draws_are_the_curves_their_numbers_describe() -> None:
    curves = read(
        "channel,form,spend,conversions,beta,half_saturation,slope,lam\n"
        "tv,,20000,30000,,,,\n"
        "tv,,10000,18000,,,,\n"
        "tv,,40000,41000,,,,\n"
        "radio,hill,,,50000,30000,2.5,\n"
        "search,logistic,,,80000,,,0.00004\n"
    )
    x = np.array([0.0, 5_000.0, 15_000.0, 33_000.0, 40_000.0])
    tv = PchipInterpolator([0, 10_000, 20_000, 40_000], [0, 18_000, 30_000, 41_000])(x)
    radio = 50_000 * x**2.5 / (30_000**2.5 + x**2.5)
    search = 80_000 * (1 - np.exp(-4e-5 * x)) / (1 + np.exp(-4e-5 * x))
    assert sorted(curves) == ["radio", "search", "tv"]
    np.testing.assert_allclose(curves["tv"].conversions(x)[0], tv, rtol=1e-12)
    np.testing.assert_allclose(curves["radio"].conversions(x)[0], radio, rtol=1e-12)
    np.testing.assert_allclose(curves["search"].conversions(x)[0], search, rtol=1e-12, atol=1e-9)
    assert curves["tv"].limit == 40_000
    assert curves["radio"].limit is None


def test_draws_give_one_curve_per_draw() -> None:
    lines = ["channel,form,draw,beta,half_saturation,slope,spend,conversions"]
    rng = np.random.default_rng(1)
    beta = rng.uniform(1e4, 1e5, 3)
    for draw in (2, 0, 1):
        lines.append(f"tv,hill,{draw},{float(beta[draw])!r},20000,1.5,,")
        lines.append(f"print,,{draw},,,,1000,{100 + draw}")
        lines.append(f"print,,{draw},,,,3000,{200 + draw}")
    curves = read("\n".join(lines) + "\n")
    x = np.array([10_000.0])
    np.testing.assert_allclose(
        curves["tv"].conversions(x)[:, 0],
        beta * 10_000**1.5 / (20_000**1.5 + 10_000**1.5),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        curves["print"].conversions(np.array([3000.0]))[:, 0], [200, 201, 202]
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("form,spend,conversions\n", (1, "channel", "column is missing")),
        ("channel,budget\ntv,1\n", (1, "budget", "column is unknown")),
        ("channel,spend,conversions\n", (1, "channel", "the file has no curves")),
        ("channel,form,beta,lam\ntv,spline,1,1\n", (2, "form", "must be points, hill or logistic")),
        (
            "channel,form,beta,lam\ntv,logistic,-1,0.1\n",
            (2, "beta", "must be a number above 0, at most 1e15"),
        ),
        (
            "channel,form,beta,lam\ntv,logistic,nan,0.1\n",
            (2, "beta", "must be a number above 0, at most 1e15"),
        ),
        (
            "channel,form,beta,lam,spend\ntv,logistic,1,0.1,5\n",
            (2, "spend", "is not a column of logistic curves"),
        ),
        (
            "channel,form,spend,conversions,beta,lam\ntv,,100,5,,\ntv,logistic,,,1,1\n",
            (3, "form", "channel 'tv' is a points curve (line 2): one form a channel"),
        ),
        (
            "channel,spend,conversions\ntv,100,50\ntv,200,40\n",
            (
                3,
                "conversions",
                "falls below 50 at a lower spend: a response curve does not fall as spend grows",
            ),
        ),
        (
            "channel,spend,conversions\ntv,100,50\ntv,100,60\n",
            (3, "spend", "channel 'tv' has this point twice"),
        ),
        (
            "channel,spend,conversions\ntv,0,50\n",
            (2, "spend", "must be a number above 0, at most 1e15"),
        ),
        (
            "channel,form,draw,beta,lam\ntv,logistic,0,1,1\ntv,logistic,,1,1\n",
            (3, "draw", "must be a whole number from 0 to 3999"),
        ),
        (
            "channel,form,draw,beta,lam\ntv,logistic,,1,1\ntv,logistic,1,1,1\n",
            (3, "draw", "the first row has no draw: none may"),
        ),
        (
            "channel,form,draw,beta,lam\ntv,logistic,0,1,1\ntv,logistic,0,2,1\n",
            (3, "draw", "channel 'tv' has draw 0 already (line 2)"),
        ),
        (
            "channel,form,draw,beta,lam\ntv,logistic,0,1,1\n",
            (2, "draw", "a curve with draws has 2 to 4000 of them, not 1"),
        ),
        (
            "channel,form,draw,beta,lam\ntv,logistic,0,1,1\ntv,logistic,1,1,1\ntv,logistic,2,1,1\nradio,logistic,0,1,1\nradio,logistic,2,1,1\n",
            (
                5,
                "draw",
                "channel 'radio' lacks draw(s) 1 of 0 to 2 (every channel has the same draws)",
            ),
        ),
        (
            "channel,draw,spend,conversions\ntv,0,100,1\ntv,1,150,1\n",
            (
                3,
                "spend",
                "channel 'tv': draw 1 has other spend points than draw 0 "
                "(the draws of a points curve share their spend points)",
            ),
        ),
    ],
)
def test_an_inconsistent_file_is_refused_with_line_and_column(
    text: str, problem: tuple[int, str, str]
) -> None:
    assert problem in refusal(text)


def test_channel_names_are_stored_as_measurements_store_them() -> None:
    curves = read("channel,form,beta,lam\nCafe\u0301,logistic,1,1\n")
    assert list(curves) == ["Caf\u00e9"]
    assert refusal("channel,form,beta,lam\np\u202egnp.exe,logistic,1,1\n") == [
        (2, "channel", "contains U+202E RIGHT-TO-LEFT OVERRIDE at character 2: remove it")
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = refusal("channel,form,beta,lam\n,logistic,1,1\ntv,logistic,0,1\ntv,cubic,1,1\n")
    assert problems == [
        (2, "channel", "must be a name of 1 to 200 characters"),
        (3, "beta", "must be a number above 0, at most 1e15"),
        (4, "form", "must be points, hill or logistic"),
    ]
