"""BF10 of a contrast under a stated JZS Cauchy prior (triad.bayes_factors).

Checks the closed form against quadrature and Monte Carlo, against pingouin's JZS t test,
and the estimator from stored draws in the regime the contrasts table runs in: 4 chains x
1000 posterior draws and 1000 prior draws of a contrast, true BF10 of 30 and 200.
"""

import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import integrate, optimize, signal, stats

from triad.bayes_factors import (
    BF_COLUMNS,
    METHOD,
    METHOD_NO_PRIOR,
    METHOD_NONE,
    METHOD_POSTERIOR,
    contrast_bayes_factor,
    contrast_bayes_factors,
    format_bf,
    likelihood_from_draws,
    log_bf10_normal,
)

R = 0.707
N = 60                      # per group
SIGMA = 1.0                 # pooled within-group SD (the standardiser)
S_LIK = SIGMA * math.sqrt(2 / N)  # SE of a difference of two means of n = 60
PRIOR_SD = 2.0              # the model's own wide N(0, 2^2) prior on the contrast


def _bf_quad(m, s, scale):
    """BF10 by direct quadrature of N(m; d, s^2) Cauchy(d; 0, scale) dd / N(m; 0, s^2)."""
    def f(d):
        return stats.norm.pdf(m, d, s) * stats.cauchy.pdf(d, 0, scale)

    # the integrand has its mass near d = m (likelihood) and d = 0 (prior): split there
    lo, hi = min(0.0, m) - 15 * s, max(0.0, m) + 15 * s
    parts = [integrate.quad(f, lo, hi, points=sorted({0.0, m}), limit=500,
                            epsabs=0, epsrel=1e-12)[0],
             integrate.quad(f, -np.inf, lo, epsabs=0, epsrel=1e-12)[0],
             integrate.quad(f, hi, np.inf, epsabs=0, epsrel=1e-12)[0]]
    return sum(parts) / stats.norm.pdf(m, 0, s)


def _z_for(target):
    """Z = m_L / s_L at which the normal-likelihood BF10 (n = 60, r = 0.707) equals target."""
    return optimize.brentq(
        lambda z: log_bf10_normal(z * S_LIK, S_LIK, R * SIGMA) - math.log(target), 0.1, 30)


# --------------------------------------------------------------------------- closed form


@pytest.mark.parametrize(("m", "s", "scale"), [
    (0.0, 1.0, 0.707), (0.4, 0.18, 0.707), (0.61, 0.1826, 0.3535), (0.7, 0.1826, 1.414),
    (-1.5, 0.3, 0.5), (2.0, 0.25, 3.0), (0.05, 0.2, 0.01)])
def test_closed_form_equals_quadrature(m, s, scale):
    # independent computation: scipy.integrate.quad on the integral as written in the module
    # docstring (normal pdf x Cauchy pdf); measured relative differences <= 1.4e-15
    assert math.exp(log_bf10_normal(m, s, scale)) == pytest.approx(_bf_quad(m, s, scale),
                                                                    rel=1e-6)


def test_closed_form_equals_monte_carlo_over_the_prior():
    # BF10 = E_{d ~ Cauchy(0, r sigma)}[N(m; d, s^2)] / N(m; 0, s^2), 10^6 prior draws;
    # the MC relative SE here is 0.22 %, so 1 % is a 4.5-SE band (measured: -0.10 %)
    m, s, scale = 0.61, S_LIK, R * SIGMA
    d = stats.cauchy.rvs(0, scale, size=1_000_000, random_state=np.random.default_rng(1))
    mc = stats.norm.pdf(m, d, s).mean() / stats.norm.pdf(m, 0, s)
    assert math.exp(log_bf10_normal(m, s, scale)) == pytest.approx(mc, rel=0.01)


def test_closed_form_is_finite_far_out():
    # z = 60: BF10 ~ 1e780 overflows a float; the log stays finite
    # (z^2/2 + ln sqrt(2 pi) + ln Cauchy(z; 0, c) with c = 0.707 / 0.1826)
    log_bf = log_bf10_normal(60 * S_LIK, S_LIK, R * SIGMA)
    c = R * SIGMA / S_LIK
    assert log_bf == pytest.approx(1800 + 0.5 * math.log(2 * math.pi)
                                   + math.log(c / (math.pi * (c**2 + 3600))), rel=1e-4)
    with pytest.raises(ValueError):
        log_bf10_normal(0.1, 0.0, 1.0)


def test_likelihood_from_draws_inverts_the_conjugate_update():
    # normal prior N(0.3, 2^2) x normal likelihood N(0.6, 0.18^2) -> posterior; divide back
    m0, s0, ml, sl = 0.3, 2.0, 0.6, 0.18
    sp = 1 / math.sqrt(1 / sl**2 + 1 / s0**2)
    mp = sp**2 * (ml / sl**2 + m0 / s0**2)
    m, s, corrected = likelihood_from_draws(mp, sp, m0, s0)
    assert corrected and m == pytest.approx(ml, rel=1e-12) and s == pytest.approx(sl, rel=1e-12)
    assert likelihood_from_draws(mp, sp, 0.0, 0.9 * sp) == (mp, sp, False)
    assert likelihood_from_draws(mp, sp, None, None) == (mp, sp, False)


# --------------------------------------------------------------------------- vs JZS t test


@pytest.mark.parametrize(("target", "tol_raw", "tol_matched"), [(30, 0.12, 0.035),
                                                                  (200, 0.22, 0.035)])
def test_agrees_with_pingouin_jzs(target, tol_raw, tol_matched):
    # t with pingouin.bayesfactor_ttest(t, 60, 60, r=0.707) == target: t = 3.3896 (30),
    # t = 4.0025 (200).  The normal likelihood with sigma known and m_L / s_L = t gives
    # BF10 = 37.3 and 309.2: log10 +0.094 and +0.189 above pingouin, because the JZS test's
    # likelihood is a t with 118 df (sigma estimated), whose heavier tail makes t less
    # surprising under H0.  Matching the tail area instead (z = Phi^-1(t_118 cdf(t)) = 3.305,
    # 3.865) leaves log10 -0.021 and -0.027; at n = 5000 per group the raw gap is < 0.003.
    t = optimize.brentq(lambda t: math.log(pg.bayesfactor_ttest(t, N, N, r=R))
                        - math.log(target), 1, 10)
    ours = log_bf10_normal(t * S_LIK, S_LIK, R * SIGMA) / math.log(10)
    assert 0 < ours - math.log10(target) < tol_raw
    z = stats.norm.isf(stats.t.sf(t, 2 * N - 2))
    matched = log_bf10_normal(z * S_LIK, S_LIK, R * SIGMA) / math.log(10)
    assert abs(matched - math.log10(target)) < tol_matched
    big = 5000
    s_big = math.sqrt(2 / big)
    raw_big = log_bf10_normal(t * s_big, s_big, R) / math.log(10)
    assert abs(raw_big - math.log10(pg.bayesfactor_ttest(t, big, big, r=R))) < 0.005


# --------------------------------------------------------------------------- production regime


def _simulate(target, seeds, ar=0.0):
    """Estimate BF10 from conjugate-posterior draws (4 x 1000) and 1000 prior draws.

    The likelihood of the contrast is exactly N(m_L, s_L^2) with m_L = z s_L and z from
    ``_z_for(target)``; the model prior is N(0, 2^2), so the posterior is normal with
    1 / s_p^2 = 1 / s_L^2 + 1 / 4 and m_p = s_p^2 m_L / s_L^2.  With ``ar`` the chains are
    AR(1) with that lag-1 correlation (stationary, same marginal).
    """
    m_lik = _z_for(target) * S_LIK
    sp = 1 / math.sqrt(1 / S_LIK**2 + 1 / PRIOR_SD**2)
    mp = sp**2 * m_lik / S_LIK**2
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        e = rng.normal(size=(4, 1000))
        if ar:
            e[:, 1:] *= math.sqrt(1 - ar**2)
            e = signal.lfilter([1.0], [1.0, -ar], e, axis=1)
        post = mp + sp * e
        prior = rng.normal(0, PRIOR_SD, size=1000)
        out.append(contrast_bayes_factor(post, prior, SIGMA, R))
    return pd.DataFrame(out)


@pytest.mark.parametrize("target", [30, 200])
def test_production_regime_accuracy_and_mc_error(target):
    # 30 seeds (0..29), true BF10 from the closed form on the exact normal likelihood.
    # Measured: max |log10 error| 0.097 (BF 30) and 0.132 (BF 200), all 30 within 0.3;
    # SD of the estimates across seeds 0.042 / 0.056 vs mean reported MC SE 0.053 / 0.073
    # (over 400 seeds: 0.050 / 0.069 vs 0.053 / 0.073, max error 0.16 / 0.22).
    res = _simulate(target, range(30))
    err = res["log10_bf10"] - math.log10(target)
    assert (res["method"] == METHOD).all()
    assert np.isfinite(res["bf10"]).all()
    assert (err.abs() <= 0.3).mean() >= 0.95
    assert abs(err.mean()) < 0.05
    ratio = res["log10_bf10"].std(ddof=1) / res["mc_se_log10"].mean()
    assert 0.5 < ratio < 2
    assert not any("inf" in format_bf(b) for b in res["bf10"])


def test_mc_error_follows_autocorrelation():
    # AR(1) chains with lag-1 correlation 0.8 (ESS ~ 4000 x 0.2 / 1.8 ~ 440): the reported
    # MC SE grows about 3x and still matches the spread across seeds.
    # Measured: SD across 30 seeds 0.107 vs mean reported MC SE 0.123 (iid: 0.053);
    # max |log10 error| 0.27.
    res = _simulate(30, range(30), ar=0.8)
    iid = _simulate(30, range(5))
    assert res["mc_se_log10"].mean() > 2 * iid["mc_se_log10"].mean()
    ratio = res["log10_bf10"].std(ddof=1) / res["mc_se_log10"].mean()
    assert 0.5 < ratio < 2


# --------------------------------------------------------------------------- edge cases, table


def test_fallbacks_and_not_computable():
    rng = np.random.default_rng(7)
    post = rng.normal(0.5, 0.2, size=(4, 1000))
    narrow = rng.normal(0.0, 0.1, size=1000)
    assert contrast_bayes_factor(post, narrow, 1.0)["method"] == METHOD_POSTERIOR
    assert contrast_bayes_factor(post, None, 1.0)["method"] == METHOD_NO_PRIOR
    flat = contrast_bayes_factor(np.full(4000, 0.3), None, 1.0)
    assert flat["method"] == METHOD_NONE and np.isnan(flat["bf10"])
    with pytest.raises(ValueError):
        contrast_bayes_factor(post, None, 0.0)


def test_huge_evidence_is_finite_in_log_and_printed_bounded():
    # posterior mean 30 SEs from 0 (log10 BF10 ~ 195); no draw anywhere near 0
    post = np.random.default_rng(3).normal(30 * S_LIK, S_LIK, size=(4, 1000))
    res = contrast_bayes_factor(post, None, SIGMA)
    assert 150 < res["log10_bf10"] < 250 and np.isfinite(res["mc_se_log10"])
    assert format_bf(res["bf10"]) == "> 1000"


def test_table_of_contrasts():
    rng = np.random.default_rng(11)
    z = np.array([0.0, _z_for(30), -_z_for(200)])
    sp = 1 / math.sqrt(1 / S_LIK**2 + 1 / PRIOR_SD**2)
    mp = sp**2 * z * S_LIK / S_LIK**2
    post = mp + sp * rng.normal(size=(4, 1000, 3))
    prior = rng.normal(0, PRIOR_SD, size=(1000, 3))
    tab = contrast_bayes_factors(post, prior, SIGMA, R)
    assert list(tab.columns) == BF_COLUMNS and len(tab) == 3
    assert (tab["bf_prior"] == "Cauchy(0, 0.707 SD)").all()
    np.testing.assert_allclose(tab["log10_bf10"][1:], [math.log10(30), math.log10(200)],
                               atol=0.3)
    assert tab["bf10"][0] < 1 / 3  # z = 0: evidence for the null
    # a wider prior penalises the null-ish contrast more (Jeffreys-Lindley)
    assert tab["bf10_double"][0] < tab["bf10"][0] < tab["bf10_half"][0]
    same = contrast_bayes_factors(post.reshape(4000, 3), prior, np.full(3, SIGMA), R)
    np.testing.assert_allclose(same["bf10"], tab["bf10"], rtol=1e-12)


# --------------------------------------------------------------------------- printing


@pytest.mark.parametrize(("bf", "text"), [(1e5, "> 1000"), (math.inf, "> 1000"),
                                          (1e-5, "< 1/1000"), (0.0, "< 1/1000"),
                                          (math.nan, "NA"), (30.04, "30"), (3.14159, "3.14"),
                                          (250.4, "250"), (1000.0, "1000"), (0.0123, "0.0123")])
def test_format_bf(bf, text):
    assert format_bf(bf) == text
