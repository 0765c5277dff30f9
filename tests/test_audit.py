"""Consistency audit: GRIM/GRIMMER/SD bounds, recomposition, and the report's findings."""

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triad.audit import (
    audit_published,
    grim_check,
    grimmer_check,
    max_sd,
    pooled_intervals,
    sd_bounds_check,
)
from triad.cells import cells_from_scores
from triad.scores import scale_scores
from triad.simulate import simulate_respondents
from triad.summary_tests import sample_with_moments


def test_grim_published_example():
    # Brown & Heathers (2017): a mean of 5.19 from 28 integer answers is impossible
    # (145/28 = 5.1786, 146/28 = 5.2143); 5.18 is fine.  Their items run 1-7.
    assert not grim_check(5.19, 28, 1, scale_max=7)
    assert grim_check(5.18, 28, 1, scale_max=7)
    assert not grim_check(5.18, 28, 1)  # above the top of a 1-5 scale
    # a 4-item scale over 26 respondents moves in steps of 1/104: every 2-dp mean is possible
    assert all(grim_check(m / 100, 26, 4) for m in range(100, 501))


def _attainable(n, k):
    """All (mean, sd) pairs, rounded to 2 dp, of n k-item scale means on 1-5 (brute force)."""
    sums = range(k, 5 * k + 1)
    out = set()
    for combo in itertools.combinations_with_replacement(sums, n):
        x = np.array(combo) / k
        out.add((round(x.mean() + 1e-12, 2), round(x.std(ddof=1) + 1e-12, 2)))
    return out


@pytest.mark.parametrize(("n", "k"), [(3, 1), (4, 1), (5, 1), (4, 2)])
def test_grimmer_never_rejects_attainable_pairs(n, k):
    for mean, sd in _attainable(n, k):
        assert grimmer_check(mean, sd, n, k), (mean, sd)


def test_grimmer_rejects_a_hand_checked_impossible_pair():
    # n = 5 answers with mean 3.00: sum 15 (odd), so the sum of squares must be odd;
    # SD 0.50 needs sum of squares 4 * 0.25 + 45 = 46 (range [45.98, 46.02]): impossible.
    assert (3.0, 0.5) not in _attainable(5, 1)
    assert not grimmer_check(3.00, 0.50, 5, 1)


def test_sd_bounds():
    # two answers 1 and 5: mean 3, SD sqrt(8) (hand); nothing can be wider
    assert max_sd(3.0, 2) == pytest.approx(math.sqrt(8))
    ok, _, upper = sd_bounds_check(4.90, 0.60, 30, 4)
    # widest at the low end of the rounding interval, mean 4.895:
    # sqrt(3.895 * 0.105 * 30/29) = 0.6504 -> 0.60 is possible, 0.70 is not
    assert ok and upper == pytest.approx(math.sqrt(3.895 * 0.105 * 30 / 29), abs=1e-4)
    assert not sd_bounds_check(4.90, 0.70, 30, 4)[0]
    # a 1-item mean of 3.50 cannot have SD 0: values are integers
    ok, lower, _ = sd_bounds_check(3.50, 0.00, 10, 1)
    assert not ok and lower == pytest.approx(math.sqrt(0.25 * 10 / 9), abs=1e-3)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(3, 60), st.floats(1.5, 4.5), st.floats(0.2, 1.2)),
        min_size=1, max_size=4,
    )
)
def test_pooled_moments_equal_those_of_the_pooled_data(groups):
    rng = np.random.default_rng(1)
    samples = [sample_with_moments(n, m, s, rng) for n, m, s in groups]
    data = np.concatenate(samples)
    est = pooled_intervals(*zip(*groups, strict=True))
    assert est.mean == pytest.approx(data.mean(), abs=1e-10)
    assert est.sd == pytest.approx(data.std(ddof=1), abs=1e-10)
    assert est.mean_lo <= est.mean <= est.mean_hi
    assert est.sd_lo <= est.sd + 1e-12 and est.sd <= est.sd_hi + 1e-12


def test_audit_of_the_report_finds_its_inconsistencies():
    start = time.perf_counter()
    audit = audit_published()
    # 0.33 s measured on a quiet 2-core machine; 5 s leaves room for a loaded CI runner
    assert time.perf_counter() - start < 5.0
    bad = audit[audit["severity"] == "inconsistent"]
    found = set(zip(bad["check"], bad["scale"], bad["groups"], strict=True))
    # Table 5: sector SDs 0.90/0.77/0.40 cannot pool to 0.38 (pooled >= 0.74)
    assert ("recomposition: SD", "belangrijk", "professional>self@all from sectors") in found
    sd_row = bad[(bad["scale"] == "belangrijk") & (bad["check"] == "recomposition: SD")].iloc[0]
    assert sd_row["expected"] == pytest.approx(0.7483, abs=1e-4)
    # Table 2/3 print n = 179 youths, Table 1 has 174; Table 4's headers repeat 179 and 132
    assert ("n across tables", "", "youth>professional@all") in found
    assert ("n across tables", "", "youth>professional@residential") in found
    # Table 12 text quotes the Lukt means for Belangrijk
    assert ("text vs table", "belangrijk", "C32: professional>self@all#male") in found
    assert ("text vs text: verdict", "alliantie", "C16 vs C49d") in found
    # Table 7: Alliantie 3.98 but (4.20 + 3.84 + 3.81) / 3 = 3.95 for ambulatory parents
    assert ("composite mean", "alliantie", "parent>professional@ambulatory_daycare") in found
    assert (audit["severity"] == "impossible").sum() == 0
    assert len(bad) == 21


def test_audit_of_consistent_tables_finds_nothing_inconsistent():
    # Tables summarised (and rounded to 2 dp) from one simulated data set are consistent
    # by construction: recomposition and cell checks may only report rounding.
    scores = scale_scores(simulate_respondents(seed=4))
    audit = audit_published(cells_from_scores(scores))
    own = audit[~audit["check"].str.startswith("text")]
    assert set(own["severity"]) <= {"ok", "rounding"}
    assert (own["check"] == "recomposition: SD").sum() == 44
