"""Frequentist tests computed from published summary statistics.

A report usually prints, per group, only the sample size, mean and standard
deviation.  That is enough to recompute one-way ANOVAs (classic, Welch,
Brown-Forsythe), their post-hoc comparisons, two-sample t tests, Hedges' g,
tests of a correlation and JZS Bayes factors, which is what these functions
do so that a report's claims can be checked against its own tables.

The heavy lifting is done by scipy, statsmodels and pingouin; this module only
arranges summary statistics into the form those libraries expect and returns
tidy :class:`pandas.DataFrame` objects (one row per test or per pair).

All standard deviations are sample standard deviations (``ddof=1``), as
printed in virtually every report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats
from statsmodels.stats import oneway as sm_oneway

from triad.summary_two_groups import (
    check_groups,
    check_level,
    check_n,
    check_sd,
    hedges_g,
    pooled_variance,
    require_positive_sd,
    ttest_from_summary,
    welch_df,
)

__all__ = [
    "bayes_factor_t",
    "hedges_g",
    "oneway_from_summary",
    "pearson_from_r",
    "posthoc_from_summary",
    "sample_with_moments",
    "ttest_from_summary",
]

_ONEWAY_METHODS = {"classic": "equal", "welch": "unequal", "brown-forsythe": "bf"}
_POSTHOC_METHODS = ("tukey", "games-howell", "bonferroni", "bonferroni-welch")


# --------------------------------------------------------------------------- one-way ANOVA


def oneway_from_summary(
    n: Sequence[float],
    mean: Sequence[float],
    sd: Sequence[float],
    *,
    method: str = "classic",
    ci: float = 0.95,
) -> pd.DataFrame:
    """One-way ANOVA of k independent groups from their n, mean and SD.

    Parameters
    ----------
    n, mean, sd : sequence of float
        Per-group sample size, mean and sample standard deviation (``ddof=1``).
    method : {"classic", "welch", "brown-forsythe"}, default "classic"
        ``"classic"`` is Fisher's F with pooled variance, ``"welch"`` Welch's
        (1951) heteroscedastic F, ``"brown-forsythe"`` the Brown & Forsythe
        (1974) test of equal means (not their Levene-type variance test).
    ci : float, default 0.95
        Coverage of the confidence interval for eta squared.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``test, statistic, df1, df2, p, eta2, omega2,
        effect_ci_low, effect_ci_high``.

        ``eta2`` (SS_between / SS_total) and ``omega2``
        ((SS_between - (k-1) MS_within) / (SS_total + MS_within)) always come from
        the classic sums of squares, whatever ``method`` is: they describe the
        data, not the test.  ``effect_ci_low``/``effect_ci_high`` is the
        confidence interval for **eta squared**, obtained by inverting the
        noncentral F distribution at the classic F (Steiger, 2004) via
        :func:`statsmodels.stats.oneway.confint_effectsize_oneway`; it is two-sided
        at level ``ci`` (note that the R package ``effectsize`` reports a 90%
        interval by default).  statsmodels finds the noncentrality bounds with
        :func:`scipy.special.ncfdtrinc`, which is accurate to about 1e-3
        relative (often 1e-4), ample for the two or three decimals a report
        prints.

    Raises
    ------
    ValueError
        If fewer than two groups are given, a group has n < 2, an SD is negative,
        the sequences differ in length, or ``method`` is unknown.

    Notes
    -----
    The test statistic comes from :func:`statsmodels.stats.oneway.anova_generic`.
    For Brown-Forsythe, statsmodels' headline p-value uses Mehrotra's (1997)
    corrected numerator df; this function instead reports the original
    Brown-Forsythe test, ``df1 = k - 1`` with Satterthwaite ``df2``, which is
    what SPSS and most reports print.
    """
    if method not in _ONEWAY_METHODS:
        raise ValueError(f"method must be one of {sorted(_ONEWAY_METHODS)}, got {method!r}")
    check_level(ci, "ci")
    n_arr, m_arr, s_arr = check_groups(n, mean, sd)
    k, n_total = n_arr.size, float(n_arr.sum())
    mse = pooled_variance(n_arr, s_arr)
    if method != "classic":
        require_positive_sd(s_arr, f"the {method} ANOVA")

    res = sm_oneway.anova_generic(m_arr, s_arr**2, n_arr, use_var=_ONEWAY_METHODS[method])
    if method == "brown-forsythe":
        df1, p = float(k - 1), float(res.pvalue2)
    else:
        df1, p = float(res.df_num), float(res.pvalue)
    df2 = float(res.df_denom)

    grand = np.sum(n_arr * m_arr) / n_total
    ss_between = float(np.sum(n_arr * (m_arr - grand) ** 2))
    ss_within = mse * (n_total - k)
    ss_total = ss_between + ss_within
    eta2 = ss_between / ss_total
    omega2 = (ss_between - (k - 1) * mse) / (ss_total + mse)

    f_classic = (ss_between / (k - 1)) / mse
    # The lower noncentrality bound is 0 whenever p > (1 - ci) / 2, and statsmodels
    # then evaluates 1 / 0 on the way to eta2 = 0; the result is right, the
    # warning is noise.
    with np.errstate(divide="ignore"):
        eff = sm_oneway.confint_effectsize_oneway(
            f_classic, (k - 1, n_total - k), alpha=1 - ci, nobs=n_total
        )
    low, high = (float(v) for v in eff.eta2)

    return pd.DataFrame(
        {
            "test": [method],
            "statistic": [float(res.statistic)],
            "df1": [df1],
            "df2": [df2],
            "p": [p],
            "eta2": [eta2],
            "omega2": [omega2],
            "effect_ci_low": [low],
            "effect_ci_high": [high],
        }
    )


# --------------------------------------------------------------------------- post hoc


def posthoc_from_summary(
    n: Sequence[float],
    mean: Sequence[float],
    sd: Sequence[float],
    labels: Sequence[str],
    *,
    method: str = "tukey",
    alpha: float = 0.05,
    intervals: bool = True,
) -> pd.DataFrame:
    """All pairwise comparisons of k groups from their n, mean and SD.

    Parameters
    ----------
    n, mean, sd : sequence of float
        Per-group sample size, mean and sample standard deviation (``ddof=1``).
    labels : sequence of str
        Group names, in the same order; used for ``group_a``/``group_b``.
    method : {"tukey", "games-howell", "bonferroni", "bonferroni-welch"}
        ``"tukey"``: Tukey-Kramer with the pooled MSE and df N - k.
        ``"games-howell"``: Welch SE and Welch-Satterthwaite df per pair, p from
        the studentized range with k groups and that df.
        ``"bonferroni"``: t with the pooled MSE (df N - k), p multiplied by the
        number of pairs m (capped at 1), CI at level 1 - alpha/m.
        ``"bonferroni-welch"``: as ``"bonferroni"`` but with a Welch t per pair.
    alpha : float, default 0.05
        Family-wise error rate of the simultaneous confidence intervals.
    intervals : bool, default True
        Compute the simultaneous intervals ``ci_low``/``ci_high``.  The studentized
        range quantile costs ~0.07 s per distinct df in scipy, so callers that only
        need p-values (the claim replication runs hundreds) pass False; the columns
        are then NaN.

    Returns
    -------
    pandas.DataFrame
        One row per pair (i < j, in input order) with columns ``group_a,
        group_b, diff, se, statistic, df, p, ci_low, ci_high, hedges_g,
        g_ci_low, g_ci_high, method``.

        ``diff`` is ``mean_a - mean_b`` and ``se`` its standard error (pooled
        MSE for tukey/bonferroni, Welch for the others).  ``statistic`` is the
        studentized range ``q = |diff| / (se / sqrt(2))`` for tukey and
        games-howell (always >= 0) and the signed ``t = diff / se`` for the
        Bonferroni methods.  ``ci_low``/``ci_high`` are simultaneous intervals
        for ``diff``.  ``hedges_g`` uses only the two groups' own pooled SD (see
        :func:`hedges_g`); its interval is the per-pair, unadjusted
        ``1 - alpha`` interval.

    Raises
    ------
    ValueError
        On invalid group statistics (see :func:`oneway_from_summary`), a label
        count that does not match, duplicate labels or an unknown ``method``.
    """
    if method not in _POSTHOC_METHODS:
        raise ValueError(f"method must be one of {list(_POSTHOC_METHODS)}, got {method!r}")
    check_level(alpha, "alpha")
    n_arr, m_arr, s_arr = check_groups(n, mean, sd)
    labels = [str(lab) for lab in labels]
    k = n_arr.size
    if len(labels) != k:
        raise ValueError(f"got {len(labels)} labels for {k} groups")
    if len(set(labels)) != k:
        raise ValueError(f"labels must be unique, got {labels}")

    ia, ib = np.triu_indices(k, 1)
    m_pairs = ia.size
    diff = m_arr[ia] - m_arr[ib]
    var = s_arr**2

    if method in ("tukey", "bonferroni"):
        mse = pooled_variance(n_arr, s_arr)
        se = np.sqrt(mse * (1 / n_arr[ia] + 1 / n_arr[ib]))
        # A scalar df lets the expensive studentized-range ppf run once, not per pair.
        df = n_arr.sum() - k
    else:
        require_positive_sd(s_arr, f"the {method} comparison")
        se = np.sqrt(var[ia] / n_arr[ia] + var[ib] / n_arr[ib])
        df = welch_df(var[ia], n_arr[ia], var[ib], n_arr[ib])

    if method in ("tukey", "games-howell"):
        # Tukey-Kramer and Games-Howell both refer q = |diff| / sqrt(SE^2 / 2) to the
        # studentized range with k means, so the t-scale SE is rescaled by sqrt(2).
        statistic = np.abs(diff) / se * np.sqrt(2)
        p = stats.studentized_range.sf(statistic, k, df)
        if intervals:
            half = stats.studentized_range.ppf(1 - alpha, k, df) / np.sqrt(2) * se
        else:
            half = np.full(m_pairs, np.nan)
    else:
        statistic = diff / se
        p = np.minimum(1.0, 2 * stats.t.sf(np.abs(statistic), df) * m_pairs)
        half = stats.t.ppf(1 - alpha / (2 * m_pairs), df) * se

    g = [
        hedges_g(n_arr[a], m_arr[a], s_arr[a], n_arr[b], m_arr[b], s_arr[b], ci=1 - alpha)
        for a, b in zip(ia, ib, strict=True)
    ]
    g_arr = np.array(g, dtype=float).reshape(m_pairs, 3)

    return pd.DataFrame(
        {
            "group_a": [labels[a] for a in ia],
            "group_b": [labels[b] for b in ib],
            "diff": diff,
            "se": se,
            "statistic": statistic,
            "df": np.full(m_pairs, df, dtype=float),
            "p": np.clip(p, 0.0, 1.0),
            "ci_low": diff - half,
            "ci_high": diff + half,
            "hedges_g": g_arr[:, 0],
            "g_ci_low": g_arr[:, 1],
            "g_ci_high": g_arr[:, 2],
            "method": method,
        }
    )


# --------------------------------------------------------------------------- correlation


def pearson_from_r(r: float, n: int, ci: float = 0.95) -> pd.DataFrame:
    """Test H0: rho = 0 and a Fisher-z interval from a reported r and n.

    Parameters
    ----------
    r : float
        Sample Pearson correlation, in [-1, 1].
    n : int
        Number of pairs; at least 4 (the Fisher interval needs n - 3 > 0).
    ci : float, default 0.95
        Coverage of the two-sided confidence interval.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``r, n, statistic, df, p, ci_low, ci_high`` where
        ``statistic = r sqrt((n - 2) / (1 - r^2))`` is t on ``df = n - 2`` and
        ``p`` is two-sided (identical to :func:`scipy.stats.pearsonr`'s exact
        p-value).  The interval is ``tanh(atanh(r) +/- z / sqrt(n - 3))``.

    Raises
    ------
    ValueError
        If r is outside [-1, 1], n is not a whole number >= 4, or ``ci`` is not
        in (0, 1).
    """
    check_level(ci, "ci")
    if not np.isfinite(r) or abs(r) > 1:
        raise ValueError(f"r must lie in [-1, 1], got {r}")
    if not np.isfinite(n) or n != round(n) or n < 4:
        raise ValueError(f"n must be a whole number >= 4, got {n}")
    r = float(r)
    df = np.float64(n - 2)
    # |r| == 1 gives t = +/-inf, p = 0 and a degenerate interval at r, which is
    # the correct limit; only numpy's warnings need silencing.
    with np.errstate(divide="ignore"):
        t_stat = r * np.sqrt(df / (1 - r**2))
        z = np.arctanh(r)
    p = float(2 * stats.t.sf(abs(t_stat), df))
    half = stats.norm.ppf(0.5 + ci / 2) / np.sqrt(n - 3)
    return pd.DataFrame(
        {
            "r": [float(r)],
            "n": [int(n)],
            "statistic": [float(t_stat)],
            "df": [df],
            "p": [p],
            "ci_low": [float(np.tanh(z - half))],
            "ci_high": [float(np.tanh(z + half))],
        }
    )


# --------------------------------------------------------------------------- Bayes factor


def bayes_factor_t(t: float, nx: int, ny: int | None = None, r: float = 0.707) -> float:
    """JZS Bayes factor BF10 for a t statistic (Rouder et al., 2009).

    Parameters
    ----------
    t : float
        The t statistic.
    nx : int
        Size of the first group; for a one-sample or paired test, the number of
        observations or pairs.
    ny : int, optional
        Size of the second group for an independent two-sample test; leave as
        None for one-sample and paired tests.
    r : float, default 0.707
        Scale of the Cauchy prior on the standardised effect size.

    Returns
    -------
    float
        BF10, evidence for a non-zero effect over the point null
        (computed by :func:`pingouin.bayesfactor_ttest`, two-sided).

    Raises
    ------
    ValueError
        If ``t`` is not finite, a sample size is not a whole number >= 2, or
        ``r <= 0``.
    """
    if not np.isfinite(t):
        raise ValueError(f"t must be finite, got {t}")
    sizes = [nx] if ny is None else [nx, ny]
    check_n(np.asarray(sizes, dtype=float))
    if not r > 0:
        raise ValueError(f"the Cauchy scale r must be > 0, got {r}")
    return float(
        pg.bayesfactor_ttest(float(t), int(nx), None if ny is None else int(ny), r=float(r))
    )


# --------------------------------------------------------------------------- simulation


def sample_with_moments(
    n: int, mean: float, sd: float, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Draw a sample whose mean and SD (``ddof=1``) equal the given values.

    Standard normal draws are centred and scaled to unit sample SD, then
    rescaled, so the moments are exact up to floating-point rounding.  Lets a
    test run a library on raw data and compare with the summary-statistic
    version here.

    Parameters
    ----------
    n : int
        Sample size, at least 2.
    mean, sd : float
        Target mean and sample standard deviation (``sd >= 0``).
    rng : numpy.random.Generator or int or None
        Source of randomness (anything :func:`numpy.random.default_rng` takes).

    Returns
    -------
    numpy.ndarray
        Float array of length ``n``.

    Raises
    ------
    ValueError
        If ``n`` is not a whole number >= 2 or ``sd`` is negative.
    """
    check_n(np.asarray([n], dtype=float))
    check_sd(np.asarray([sd], dtype=float))
    gen = np.random.default_rng(rng)
    x = gen.standard_normal(int(n))
    z = (x - x.mean()) / x.std(ddof=1)
    return mean + sd * z
