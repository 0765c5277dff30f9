"""Summary-statistic tests against published values and raw-data library calls.

Most checks build raw samples with exactly the summary moments
(``sample_with_moments``) and compare the summary version with an independent
library run on the raw data.
"""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats
from statsmodels.stats import oneway as sm_oneway

from triad.summary_tests import (
    bayes_factor_t,
    hedges_g,
    oneway_from_summary,
    pearson_from_r,
    posthoc_from_summary,
    sample_with_moments,
    ttest_from_summary,
)

# Published example (rpsychi::ind.oneway.second documentation / output):
# ind.oneway.second(m = c(23.2, 31.6, 25.5), sd = c(7.2, 5.8, 8.1), n = c(14, 9, 12))
# -> F(2, 32) = 3.789
PEER_N = (14, 9, 12)
PEER_M = (23.2, 31.6, 25.5)
PEER_SD = (7.2, 5.8, 8.1)

# studentized_range.sf is a numerical integral: in the far tail (p < 1e-9) two calls
# on inputs that differ by ~1e-15 can disagree by ~1e-14 absolute, so relative
# tolerances are paired with a tiny absolute one.
P_ATOL = 1e-12

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)
# Every Games-Howell / Tukey call inverts the studentized range (~60 ms per ppf).
PROPERTY_SLOW = settings(max_examples=15, deadline=None, derandomize=True)


@st.composite
def group_summaries(draw, min_k=2, max_k=5):
    """Random k-group summaries plus raw data with exactly those moments."""
    k = draw(st.integers(min_k, max_k))
    n = draw(st.lists(st.integers(3, 40), min_size=k, max_size=k))
    mean = draw(st.lists(st.floats(1, 5), min_size=k, max_size=k))
    sd = draw(st.lists(st.floats(0.2, 1.5), min_size=k, max_size=k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = [sample_with_moments(ni, mi, si, rng) for ni, mi, si in zip(n, mean, sd, strict=True)]
    labels = [f"g{i}" for i in range(k)]  # sort in input order, as pingouin sorts groups
    return n, mean, sd, labels, data


def _long(labels, data):
    return pd.DataFrame(
        {
            "y": np.concatenate(data),
            "g": np.repeat(labels, [len(x) for x in data]),
        }
    )


# --------------------------------------------------------------------------- sampling


@PROPERTY
@given(n=st.integers(2, 200), mean=st.floats(-1e3, 1e3), sd=st.floats(0, 100), seed=st.integers(0))
def test_sample_with_moments_is_exact(n, mean, sd, seed):
    x = sample_with_moments(n, mean, sd, np.random.default_rng(seed))
    assert x.shape == (n,)
    assert np.mean(x) == pytest.approx(mean, rel=1e-12, abs=1e-10)
    assert np.std(x, ddof=1) == pytest.approx(sd, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------- one-way ANOVA


def test_oneway_matches_published_rpsychi_value():
    res = oneway_from_summary(PEER_N, PEER_M, PEER_SD).iloc[0]
    assert round(res["statistic"], 3) == 3.789
    assert (res["df1"], res["df2"]) == (2, 32)
    direct = sm_oneway.anova_generic(
        np.array(PEER_M), np.array(PEER_SD) ** 2, np.array(PEER_N), use_var="equal"
    )
    assert res["statistic"] == pytest.approx(direct.statistic, rel=1e-12)
    assert res["p"] == pytest.approx(direct.pvalue, rel=1e-12)


def test_oneway_returns_one_tidy_row():
    out = oneway_from_summary(PEER_N, PEER_M, PEER_SD, method="welch")
    assert list(out.columns) == [
        "test",
        "statistic",
        "df1",
        "df2",
        "p",
        "eta2",
        "omega2",
        "effect_ci_low",
        "effect_ci_high",
    ]
    assert len(out) == 1 and out["test"].iloc[0] == "welch"


def _steiger_eta2_ci(f, df1, df2, n_total, level=0.95):
    """Eta^2 interval by inverting the noncentral F cdf (Steiger 2004), via brentq."""

    def bound(q):
        if stats.f.cdf(f, df1, df2) < q:  # even lambda = 0 is too large
            return 0.0
        lam = optimize.brentq(lambda nc: stats.ncf.cdf(f, df1, df2, nc) - q, 0, 1e4, xtol=1e-12)
        return lam / (lam + n_total)

    return bound(0.5 + level / 2), bound(0.5 - level / 2)


@pytest.mark.parametrize("means", [PEER_M, (25.0, 35.1, 45.0)])
def test_eta2_ci_matches_noncentral_f_inversion(means):
    res = oneway_from_summary(PEER_N, means, PEER_SD).iloc[0]
    low, high = _steiger_eta2_ci(res["statistic"], 2, 32, sum(PEER_N))
    # statsmodels inverts with scipy.special.ncfdtrinc, whose root finder stops early:
    # its noncentrality is off by up to ~1e-3 relative (here 2e-4; ncf.cdf at its
    # lower bound is 0.975019, not 0.975), so the tolerance is loose on purpose.
    assert res["effect_ci_low"] == pytest.approx(low, rel=1e-3, abs=1e-7)
    assert res["effect_ci_high"] == pytest.approx(high, rel=1e-3)
    assert res["effect_ci_low"] <= res["eta2"] <= res["effect_ci_high"]


@PROPERTY
@given(g=group_summaries())
def test_classic_oneway_equals_scipy_f_oneway_on_raw_data(g):
    n, mean, sd, _, data = g
    res = oneway_from_summary(n, mean, sd).iloc[0]
    ref = stats.f_oneway(*data)
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-8)
    # With identical means (hypothesis likes them) F is rounding noise around 0 and
    # scipy can return F = -1e-33, p = nan; only the statistic is comparable there.
    if ref.statistic > 1e-10:
        assert res["p"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)

    # eta2 / omega2 from raw sums of squares (textbook definitions)
    y = np.concatenate(data)
    ss_total = np.sum((y - y.mean()) ** 2)
    ss_within = sum(np.sum((x - x.mean()) ** 2) for x in data)
    k, n_total = len(data), len(y)
    ms_within = ss_within / (n_total - k)
    ss_between = ss_total - ss_within
    assert res["eta2"] == pytest.approx(ss_between / ss_total, rel=1e-8)
    omega2 = (ss_between - (k - 1) * ms_within) / (ss_total + ms_within)
    assert res["omega2"] == pytest.approx(omega2, rel=1e-8, abs=1e-12)


@PROPERTY
@given(g=group_summaries())
def test_welch_oneway_equals_raw_data_welch(g):
    n, mean, sd, labels, data = g
    res = oneway_from_summary(n, mean, sd, method="welch").iloc[0]
    long = _long(labels, data)
    ref = sm_oneway.anova_oneway(long["y"].to_numpy(), long["g"].to_numpy(), use_var="unequal")
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-8)
    assert res["df2"] == pytest.approx(ref.df_denom, rel=1e-8)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    # independent implementation
    pref = pg.welch_anova(data=long, dv="y", between="g").iloc[0]
    assert res["statistic"] == pytest.approx(pref["F"], rel=1e-8)
    assert res["df2"] == pytest.approx(pref["ddof2"], rel=1e-8)
    assert res["p"] == pytest.approx(pref["p_unc"], rel=1e-8, abs=1e-300)


@PROPERTY
@given(g=group_summaries())
def test_brown_forsythe_equals_textbook_formula_and_raw_statsmodels(g):
    n, mean, sd, labels, data = g
    res = oneway_from_summary(n, mean, sd, method="brown-forsythe").iloc[0]

    # Brown & Forsythe (1974): F* = sum n_i (m_i - m)^2 / sum (1 - n_i/N) s_i^2,
    # df = (k - 1, Satterthwaite df2 with c_i = (1 - n_i/N) s_i^2).
    n_, m_, v_ = np.array(n, float), np.array(mean), np.array(sd) ** 2
    n_total, k = n_.sum(), len(n_)
    grand = np.sum(n_ * m_) / n_total
    c = (1 - n_ / n_total) * v_
    f_star = np.sum(n_ * (m_ - grand) ** 2) / c.sum()
    df2 = c.sum() ** 2 / np.sum(c**2 / (n_ - 1))
    assert res["statistic"] == pytest.approx(f_star, rel=1e-10)
    assert res["df1"] == k - 1
    assert res["df2"] == pytest.approx(df2, rel=1e-10)
    assert res["p"] == pytest.approx(stats.f.sf(f_star, k - 1, df2), rel=1e-8, abs=1e-300)

    long = _long(labels, data)
    ref = sm_oneway.anova_oneway(long["y"].to_numpy(), long["g"].to_numpy(), use_var="bf")
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-8)
    # statsmodels' headline pvalue uses Mehrotra's (1997) df1; pvalue2 is the original test
    assert res["p"] == pytest.approx(ref.pvalue2, rel=1e-8, abs=1e-300)


# --------------------------------------------------------------------------- post hoc


@PROPERTY_SLOW
@given(g=group_summaries())
def test_tukey_kramer_equals_scipy_tukey_hsd(g):
    n, mean, sd, labels, data = g
    out = posthoc_from_summary(n, mean, sd, labels, method="tukey", alpha=0.05)
    ref = stats.tukey_hsd(*data)
    ci = ref.confidence_interval(confidence_level=0.95)
    ia, ib = np.triu_indices(len(n), 1)
    np.testing.assert_allclose(out["diff"], ref.statistic[ia, ib], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(out["p"], ref.pvalue[ia, ib], rtol=1e-8, atol=P_ATOL)
    np.testing.assert_allclose(out["ci_low"], ci.low[ia, ib], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(out["ci_high"], ci.high[ia, ib], rtol=1e-8, atol=1e-10)


@PROPERTY_SLOW
@given(g=group_summaries())
def test_games_howell_equals_pingouin(g):
    n, mean, sd, labels, data = g
    out = posthoc_from_summary(n, mean, sd, labels, method="games-howell")
    ref = pg.pairwise_gameshowell(data=_long(labels, data), dv="y", between="g")
    assert list(out["group_a"]) == list(ref["A"])
    assert list(out["group_b"]) == list(ref["B"])
    np.testing.assert_allclose(out["diff"], ref["diff"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(out["se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose(out["df"], ref["df"], rtol=1e-8)
    np.testing.assert_allclose(out["statistic"], np.sqrt(2) * ref["T"].abs(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(out["p"], ref["pval"], rtol=1e-6, atol=P_ATOL)
    np.testing.assert_allclose(out["hedges_g"], ref["hedges"], rtol=1e-8, atol=1e-12)


def _pooled_mse(data):
    ss_within = sum(np.sum((x - x.mean()) ** 2) for x in data)
    return ss_within / (sum(len(x) for x in data) - len(data))


@PROPERTY
@given(g=group_summaries())
def test_bonferroni_pooled_equals_hand_computed_pooled_mse_t(g):
    n, mean, sd, labels, data = g
    alpha = 0.05
    out = posthoc_from_summary(n, mean, sd, labels, method="bonferroni", alpha=alpha)
    k = len(data)
    m = k * (k - 1) // 2
    dfe = sum(n) - k
    mse = _pooled_mse(data)
    for row, (a, b) in zip(out.itertuples(), zip(*np.triu_indices(k, 1), strict=True), strict=True):
        diff = data[a].mean() - data[b].mean()
        se = np.sqrt(mse * (1 / len(data[a]) + 1 / len(data[b])))
        t = diff / se
        assert row.statistic == pytest.approx(t, rel=1e-8, abs=1e-10)
        assert row.df == dfe
        assert row.p == pytest.approx(min(1, 2 * stats.t.sf(abs(t), dfe) * m), rel=1e-8, abs=1e-300)
        half = stats.t.ppf(1 - alpha / (2 * m), dfe) * se
        assert row.ci_low == pytest.approx(diff - half, rel=1e-8, abs=1e-10)
        assert row.ci_high == pytest.approx(diff + half, rel=1e-8, abs=1e-10)
    if k == 2:  # the pooled-MSE t is Student's t only with two groups
        ref = stats.ttest_ind(data[0], data[1])
        ci = ref.confidence_interval(confidence_level=1 - alpha)
        row = out.iloc[0]
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-8)


@PROPERTY
@given(g=group_summaries())
def test_bonferroni_welch_equals_scipy_welch_t_times_m(g):
    n, mean, sd, labels, data = g
    alpha = 0.05
    out = posthoc_from_summary(n, mean, sd, labels, method="bonferroni-welch", alpha=alpha)
    k = len(data)
    m = k * (k - 1) // 2
    for row, (a, b) in zip(out.itertuples(), zip(*np.triu_indices(k, 1), strict=True), strict=True):
        ref = stats.ttest_ind(data[a], data[b], equal_var=False)
        ci = ref.confidence_interval(confidence_level=1 - alpha / m)
        assert row.statistic == pytest.approx(ref.statistic, rel=1e-8)
        assert row.df == pytest.approx(ref.df, rel=1e-8)
        assert row.p == pytest.approx(min(1, ref.pvalue * m), rel=1e-8, abs=1e-300)
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-8, abs=1e-10)


def test_posthoc_layout():
    out = posthoc_from_summary(PEER_N, PEER_M, PEER_SD, ["a", "b", "c"], method="bonferroni")
    assert list(out.columns) == [
        "group_a",
        "group_b",
        "diff",
        "se",
        "statistic",
        "df",
        "p",
        "ci_low",
        "ci_high",
        "hedges_g",
        "g_ci_low",
        "g_ci_high",
        "method",
    ]
    assert list(zip(out["group_a"], out["group_b"], strict=True)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    assert out["diff"].tolist() == pytest.approx([23.2 - 31.6, 23.2 - 25.5, 31.6 - 25.5])


# --------------------------------------------------------------------------- t test, g


@PROPERTY
@given(g=group_summaries(min_k=2, max_k=2), equal_var=st.booleans())
def test_ttest_equals_scipy_on_raw_data(g, equal_var):
    n, mean, sd, _, (x, y) = g
    res = ttest_from_summary(n[0], mean[0], sd[0], n[1], mean[1], sd[1], equal_var=equal_var)
    res = res.iloc[0]
    ref = stats.ttest_ind(x, y, equal_var=equal_var)
    ci = ref.confidence_interval(confidence_level=0.95)
    assert res["statistic"] == pytest.approx(ref.statistic, rel=1e-8)
    assert res["df"] == pytest.approx(ref.df, rel=1e-8)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert res["diff"] == pytest.approx(x.mean() - y.mean(), rel=1e-8, abs=1e-12)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-8)
    assert res["hedges_g"] == pytest.approx(pg.compute_effsize(x, y, eftype="hedges"), rel=1e-8)


@PROPERTY
@given(g=group_summaries(min_k=2, max_k=2))
def test_hedges_g_equals_pingouin_and_hedges_olkin_ci(g):
    n, mean, sd, _, (x, y) = g
    est, low, high = hedges_g(n[0], mean[0], sd[0], n[1], mean[1], sd[1], ci=0.9)
    assert est == pytest.approx(pg.compute_effsize(x, y, eftype="hedges"), rel=1e-8, abs=1e-12)
    # Hedges & Olkin (1985) large-sample SE, normal quantile
    n1, n2 = len(x), len(y)
    se = np.sqrt((n1 + n2) / (n1 * n2) + est**2 / (2 * (n1 + n2)))
    z = stats.norm.ppf(0.95)
    assert (low, high) == pytest.approx((est - z * se, est + z * se), rel=1e-12)


def test_ttest_zero_difference_has_finite_ci():
    res = ttest_from_summary(10, 3.0, 1.0, 12, 3.0, 2.0, equal_var=False).iloc[0]
    assert res["statistic"] == 0 and res["p"] == pytest.approx(1.0)
    assert res["ci_low"] == pytest.approx(-res["ci_high"]) and res["ci_high"] > 0


# --------------------------------------------------------------------------- correlation


def _bivariate_with_r(r, n, rng):
    x = sample_with_moments(n, 0.0, 1.0, rng)
    e = rng.standard_normal(n)
    e = e - e.mean()
    e = e - (e @ x) / (x @ x) * x  # orthogonal to x, so corr(x, y) is exactly r
    e = e / e.std(ddof=1)
    return x, r * x + np.sqrt(1 - r**2) * e


@PROPERTY
@given(r=st.floats(-0.95, 0.95), n=st.integers(4, 200), seed=st.integers(0))
def test_pearson_from_r_equals_scipy_pearsonr(r, n, seed):
    x, y = _bivariate_with_r(r, n, np.random.default_rng(seed))
    ref = stats.pearsonr(x, y)
    assert ref.statistic == pytest.approx(r, abs=1e-12)
    res = pearson_from_r(r, n).iloc[0]
    ci = ref.confidence_interval(confidence_level=0.95)  # Fisher z by default
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert res["statistic"] == pytest.approx(r * np.sqrt((n - 2) / (1 - r**2)), rel=1e-12)
    assert res["df"] == n - 2
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-8, abs=1e-12)


# --------------------------------------------------------------------------- Bayes factor

# R's datasets::sleep, used by BayesFactor's ttestBF documentation.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_bayes_factor_matches_published_bayesfactor_output():
    # BayesFactor::ttestBF(x = g1, y = g2, paired = TRUE) -> "Alt., r=0.707 : 17.25888"
    t_paired = stats.ttest_rel(SLEEP_1, SLEEP_2).statistic
    assert bayes_factor_t(t_paired, 10) == pytest.approx(17.25888, rel=1e-4)
    # BayesFactor::ttestBF(x = sleep$extra[sleep$group == 2], mu = 0) -> 10.71554
    t_one = stats.ttest_1samp(SLEEP_2, 0).statistic
    assert bayes_factor_t(t_one, 10) == pytest.approx(10.71554, rel=1e-4)


def _jzs_bf10_by_quadrature(t, n_eff, df, r):
    """BF10 = int nct_pdf(t; df, delta sqrt(n_eff)) Cauchy(delta; 0, r) d delta / t_pdf(t; df).

    Rouder et al. (2009): the JZS prior is a Cauchy(0, r) on the effect size delta;
    their eq. 1 is this integral after writing the Cauchy as a normal scale mixture.
    Integrating over delta directly is independent of pingouin's g-integral.
    """

    def integrand(d):
        return stats.nct.pdf(t, df, d * np.sqrt(n_eff)) * stats.cauchy.pdf(d, scale=r)

    pieces = [(-np.inf, -5), (-5, 0), (0, 5), (5, np.inf)]
    num = sum(integrate.quad(integrand, a, b, limit=200)[0] for a, b in pieces)
    return num / stats.t.pdf(t, df)


@pytest.mark.parametrize(
    ("t", "nx", "ny", "r"),
    [
        (2.1, 15, None, 0.707),  # one-sample / paired
        (-3.0, 30, None, 1.0),
        (3.5, 20, 20, 0.707),  # two-sample
        (0.4, 12, 30, 0.5),
    ],
)
def test_bayes_factor_equals_jzs_integral(t, nx, ny, r):
    if ny is None:
        n_eff, df = nx, nx - 1
    else:
        n_eff, df = nx * ny / (nx + ny), nx + ny - 2
    assert bayes_factor_t(t, nx, ny, r=r) == pytest.approx(
        _jzs_bf10_by_quadrature(t, n_eff, df, r), rel=1e-4
    )
    assert isinstance(bayes_factor_t(t, nx, ny, r=r), float)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: oneway_from_summary([10], [1.0], [1.0]), "at least 2 groups"),
        (lambda: oneway_from_summary([10, 1], [1.0, 2.0], [1.0, 1.0]), "n >= 2"),
        (lambda: oneway_from_summary([10, 10], [1.0, 2.0], [1.0, -1.0]), ">= 0"),
        (lambda: oneway_from_summary([10, 10, 10], [1.0, 2.0], [1.0, 1.0]), "same length"),
        (lambda: oneway_from_summary([10, 10], [1, 2], [1, 1], method="kruskal"), "method"),
        (lambda: oneway_from_summary([10, 10], [1, 2], [0, 0]), "all standard deviations"),
        (lambda: oneway_from_summary([10, 10], [1, 2], [0, 1], method="welch"), "> 0"),
        (lambda: oneway_from_summary([10.5, 10], [1, 2], [1, 1]), "whole numbers"),
        (lambda: posthoc_from_summary([10], [1.0], [1.0], ["a"]), "at least 2 groups"),
        (lambda: posthoc_from_summary([5, 5], [1, 2], [1, 1], ["a"]), "labels"),
        (lambda: posthoc_from_summary([5, 5], [1, 2], [1, 1], ["a", "a"]), "unique"),
        (lambda: posthoc_from_summary([5, 5], [1, 2], [1, 1], ["a", "b"], method="x"), "method"),
        (lambda: ttest_from_summary(1, 1.0, 1.0, 5, 2.0, 1.0), "n >= 2"),
        (lambda: ttest_from_summary(5, 1.0, -1.0, 5, 2.0, 1.0), ">= 0"),
        (lambda: hedges_g(5, 1.0, 1.0, 5, 2.0, 1.0, ci=1.5), "ci"),
        (lambda: pearson_from_r(1.2, 30), r"\[-1, 1\]"),
        (lambda: pearson_from_r(0.3, 3), "n must be"),
        (lambda: bayes_factor_t(2.0, 1), "n >= 2"),
        (lambda: bayes_factor_t(2.0, 10, r=0), "r must be"),
        (lambda: sample_with_moments(1, 0.0, 1.0, 0), "n >= 2"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
