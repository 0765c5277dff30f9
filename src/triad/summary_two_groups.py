"""Checks of per-group summary statistics, and the two-group tests computed from them.

Hedges' g and the two-sample t test from n, mean and SD; part of
:mod:`triad.summary_tests`, which re-exports them and whose other tests share the
checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

# --------------------------------------------------------------------------- validation


def check_groups(
    n: Sequence[float], mean: Sequence[float], sd: Sequence[float], *, min_groups: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return n, mean and SD as float arrays; raise ValueError unless they are valid groups."""
    n_arr = np.asarray(n, dtype=float)
    m_arr = np.asarray(mean, dtype=float)
    s_arr = np.asarray(sd, dtype=float)
    if not (n_arr.ndim == m_arr.ndim == s_arr.ndim == 1):
        raise ValueError("n, mean and sd must be one-dimensional sequences (one value per group)")
    if not (n_arr.size == m_arr.size == s_arr.size):
        raise ValueError(
            f"n, mean and sd must have the same length, got {n_arr.size}, {m_arr.size} "
            f"and {s_arr.size}"
        )
    if n_arr.size < min_groups:
        raise ValueError(f"need at least {min_groups} groups, got k = {n_arr.size}")
    check_n(n_arr)
    if not np.all(np.isfinite(m_arr)):
        raise ValueError(f"means must be finite, got {m_arr.tolist()}")
    check_sd(s_arr)
    return n_arr, m_arr, s_arr


def check_n(n_arr: np.ndarray) -> None:
    """Raise ValueError unless every group size is a whole number of at least 2."""
    if not np.all(np.isfinite(n_arr)) or np.any(n_arr != np.round(n_arr)):
        raise ValueError(f"group sizes must be whole numbers, got {n_arr.tolist()}")
    # An SD needs two observations; n = 1 would make every df and SE undefined.
    if np.any(n_arr < 2):
        raise ValueError(f"every group needs n >= 2, got {n_arr.tolist()}")


def check_sd(s_arr: np.ndarray) -> None:
    """Raise ValueError unless every standard deviation is finite and non-negative."""
    if not np.all(np.isfinite(s_arr)) or np.any(s_arr < 0):
        raise ValueError(f"standard deviations must be finite and >= 0, got {s_arr.tolist()}")


def check_level(level: float, name: str) -> None:
    """Raise ValueError unless ``level`` (the argument ``name``) lies strictly in (0, 1)."""
    if not 0 < level < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {level}")


def pooled_variance(n: np.ndarray, sd: np.ndarray) -> float:
    """Return the pooled within-group variance; raise ValueError when it is zero."""
    mse = float(np.sum((n - 1) * sd**2) / np.sum(n - 1))
    if mse == 0:
        raise ValueError("all standard deviations are zero; the pooled variance is zero")
    return mse


def require_positive_sd(sd: np.ndarray, what: str) -> None:
    """Raise ValueError if an SD is zero (``what`` names the test that needs them all > 0)."""
    # Welch-type weights are n / s^2, so a zero SD gives an infinite weight.
    if np.any(sd == 0):
        raise ValueError(f"{what} needs every standard deviation > 0, got {sd.tolist()}")


def welch_df(v1, n1, v2, n2):
    """Welch-Satterthwaite df for two groups given variances ``v`` and sizes ``n``."""
    a, b = v1 / n1, v2 / n2
    return (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))


# --------------------------------------------------------------------------- two groups


def hedges_g(
    n1: float, m1: float, s1: float, n2: float, m2: float, s2: float, ci: float = 0.95
) -> tuple[float, float, float]:
    """Bias-corrected standardised mean difference (Hedges' g) with a CI.

    Parameters
    ----------
    n1, m1, s1 : float
        Size, mean and sample SD (``ddof=1``) of the first group.
    n2, m2, s2 : float
        Size, mean and sample SD of the second group.
    ci : float, default 0.95
        Coverage of the two-sided confidence interval.

    Returns
    -------
    tuple of float
        ``(g, low, high)``.

    Raises
    ------
    ValueError
        If a group has n < 2, an SD is negative, both SDs are zero, or ``ci`` is
        not in (0, 1).

    Notes
    -----
    With the pooled SD
    ``s_p = sqrt(((n1-1) s1^2 + (n2-1) s2^2) / (n1 + n2 - 2))``,
    ``d = (m1 - m2) / s_p`` and Hedges' (1981) approximate correction
    ``J = 1 - 3 / (4 (n1 + n2) - 9)`` give ``g = J d`` (computed by
    :func:`pingouin.convert_effsize`, so it equals
    ``pingouin.compute_effsize(x, y, eftype="hedges")`` on raw data).

    The interval is the large-sample normal one of Hedges & Olkin (1985):
    ``g +/- z_{(1+ci)/2} * SE`` with
    ``SE = sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)))``.
    (pingouin's ``compute_esci`` uses the same SE with a t quantile on
    ``n1 + n2 - 2`` df, so its interval is slightly wider.)
    """
    check_level(ci, "ci")
    n_arr, _, s_arr = check_groups([n1, n2], [m1, m2], [s1, s2])
    n1, n2 = float(n_arr[0]), float(n_arr[1])
    sp = np.sqrt(pooled_variance(n_arr, s_arr))
    d = (m1 - m2) / sp
    g = float(pg.convert_effsize(d, "cohen", "hedges", nx=n1, ny=n2))
    se = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    z = stats.norm.ppf(0.5 + ci / 2)
    return g, float(g - z * se), float(g + z * se)


def ttest_from_summary(
    n1: float,
    m1: float,
    s1: float,
    n2: float,
    m2: float,
    s2: float,
    *,
    equal_var: bool = True,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Independent two-sample t test (Student or Welch) from n, mean and SD.

    Parameters
    ----------
    n1, m1, s1 : float
        Size, mean and sample SD (``ddof=1``) of the first group.
    n2, m2, s2 : float
        Size, mean and sample SD of the second group.
    equal_var : bool, default True
        Student's pooled-variance test if True, Welch's test if False.
    ci : float, default 0.95
        Coverage of the two-sided intervals for the difference and for g.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``test, statistic, df, p, diff, ci_low, ci_high,
        hedges_g, g_ci_low, g_ci_high``; ``diff = m1 - m2``, ``statistic`` is t,
        ``p`` two-sided (from :func:`scipy.stats.ttest_ind_from_stats`).  The g
        columns come from :func:`hedges_g`, which always uses the pooled SD.

    Raises
    ------
    ValueError
        On n < 2, a negative SD, zero pooled variance, or (Welch) a zero SD.
    """
    check_level(ci, "ci")
    n_arr, _, s_arr = check_groups([n1, n2], [m1, m2], [s1, s2])
    pooled_variance(n_arr, s_arr)
    if not equal_var:
        require_positive_sd(s_arr, "Welch's t test")
    res = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
    diff = float(m1 - m2)
    if equal_var:
        df = float(n1 + n2 - 2)
        test = "student"
    else:
        df = float(welch_df(s1**2, n1, s2**2, n2))
        test = "welch"
    # SE recovered from scipy's t keeps the two columns consistent by construction;
    # that fails only when diff == 0, where the SE is needed directly.
    if diff != 0:
        se = diff / float(res.statistic)
    elif equal_var:
        se = float(np.sqrt(pooled_variance(n_arr, s_arr) * (1 / n1 + 1 / n2)))
    else:
        se = float(np.sqrt(s1**2 / n1 + s2**2 / n2))
    half = stats.t.ppf(0.5 + ci / 2, df) * se
    g, g_low, g_high = hedges_g(n1, m1, s1, n2, m2, s2, ci=ci)
    return pd.DataFrame(
        {
            "test": [test],
            "statistic": [float(res.statistic)],
            "df": [df],
            "p": [float(res.pvalue)],
            "diff": [diff],
            "ci_low": [diff - half],
            "ci_high": [diff + half],
            "hedges_g": [g],
            "g_ci_low": [g_low],
            "g_ci_high": [g_high],
        }
    )
