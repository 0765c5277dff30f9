"""Arithmetic of printed summary statistics: GRIM, GRIMMER, SD bounds and pooled groups.

A printed number stands for every value inside its rounding interval (``HALF`` either
side for two decimals).  The single-cell checks ask whether some value there is
attainable by data on a bounded scale of integer answers; :func:`pooled_intervals`
recomposes a pooled group from its printed subgroups, with bounds over rounding.  The
consistency audit (:mod:`triad.audit`) runs these on the published tables.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "EPS",
    "HALF",
    "SCALE_MIN",
    "SCALE_MAX",
    "Pooled",
    "grim_check",
    "grimmer_check",
    "max_sd",
    "min_sd",
    "sd_bounds_check",
    "pooled_intervals",
    "overlap",
    "severity",
]

HALF = 0.005  # half a unit of the second decimal: the rounding interval of a printed value
EPS = 1e-9  # tolerance of comparisons between printed and computed values
SCALE_MIN, SCALE_MAX = 1.0, 5.0


# --------------------------------------------------------------------------- single cells


def grim_check(mean: float, n: int, n_items: int, *, half: float = HALF,
               scale_min: float = SCALE_MIN, scale_max: float = SCALE_MAX) -> bool:
    """Check GRIM (Brown & Heathers 2017): can n k-item scale means average to ``mean``.

    A scale score is a mean of ``n_items`` answers, so the grand mean over ``n``
    complete respondents is a multiple of ``1 / (n * n_items)``.

    Returns
    -------
    bool
        True when some attainable value rounds to the printed mean.
    """
    units = n * n_items
    lo = math.ceil((mean - half) * units - EPS)
    hi = math.floor((mean + half) * units + EPS)
    return lo <= hi and hi >= scale_min * units and lo <= scale_max * units


def grimmer_check(mean: float, sd: float, n: int, n_items: int, *, half: float = HALF) -> bool:
    """Check GRIMMER (Anaya 2016): are a printed mean and SD attainable by integer sums.

    On the item-sum scale each respondent's total ``x_i`` is an integer, so the sum
    ``S`` and the sum of squares ``Q`` are integers and ``Q = S (mod 2)``.  The SD
    interval gives a range for ``Q``; the check passes when that range holds an
    integer of the right parity for some attainable ``S``.

    Returns
    -------
    bool
    """
    units = n * n_items
    s_lo = math.ceil((mean - half) * units - EPS)
    s_hi = math.floor((mean + half) * units + EPS)
    sd_lo, sd_hi = max(sd - half, 0.0) * n_items, (sd + half) * n_items
    for total in range(s_lo, s_hi + 1):
        q_lo = (n - 1) * sd_lo**2 + total**2 / n
        q_hi = (n - 1) * sd_hi**2 + total**2 / n
        q = math.ceil(q_lo - EPS)
        if q % 2 != total % 2:
            q += 1
        if q <= q_hi + EPS:
            return True
    return False


def max_sd(mean: float, n: int, lo: float = SCALE_MIN, hi: float = SCALE_MAX) -> float:
    """Largest sample SD (ddof=1) of n values in [lo, hi] with the given mean."""
    return math.sqrt(max((mean - lo) * (hi - mean), 0.0) * n / (n - 1))


def min_sd(mean: float, n: int, n_items: int) -> float:
    """Smallest sample SD of n k-item scale means (multiples of 1/k) with this mean.

    The values closest together are the two grid points around the mean.
    """
    step = 1.0 / n_items
    below = math.floor(mean / step + EPS) * step
    p = (mean - below) / step
    if p < EPS or p > 1 - EPS:
        return 0.0
    return math.sqrt(p * (1 - p) * step**2 * n / (n - 1))


def sd_bounds_check(mean: float, sd: float, n: int, n_items: int,
                    *, half: float = HALF, lo: float = SCALE_MIN, hi: float = SCALE_MAX
                    ) -> tuple[bool, float, float]:
    """Check that the printed SD is possible for a printed mean of n scale scores on lo-hi.

    Returns
    -------
    (ok, lowest_possible_sd, highest_possible_sd)
        Bounds over all means inside the mean's rounding interval.
    """
    means = np.linspace(mean - half, mean + half, 201)
    upper = max(max_sd(m, n, lo, hi) for m in means)
    grid = 1.0 / n_items
    contains_grid = math.floor((mean + half) / grid + EPS) * grid >= mean - half - EPS
    lower = 0.0 if contains_grid else min(min_sd(m, n, n_items) for m in means)
    ok = (sd - half) <= upper + EPS and (sd + half) >= lower - EPS
    return ok, lower, upper


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class Pooled:
    """Mean and SD of pooled subgroups: printed-value estimate and rounding intervals."""

    n: int
    mean: float
    sd: float
    mean_lo: float
    mean_hi: float
    sd_lo: float
    sd_hi: float


def _pooled_sd(n: np.ndarray, m: np.ndarray, s: np.ndarray) -> float:
    big_n = n.sum()
    grand = (n * m).sum() / big_n
    ss = ((n - 1) * s**2).sum() + (n * (m - grand) ** 2).sum()
    return math.sqrt(ss / (big_n - 1))


def pooled_intervals(n, mean, sd, *, half: float = HALF) -> Pooled:
    """Recompose a pooled group from subgroups, with intervals over rounding.

    The pooled SD uses the within- plus between-group sums of squares.  Its bounds
    are taken over every subgroup mean and SD inside their rounding intervals: the
    maximum at the box's corners (the between-group term is convex in the means),
    the minimum by bounded minimisation.

    Parameters
    ----------
    n, mean, sd : sequence
        Subgroup sizes, means and SDs as printed.
    half : float
        Half-width of the rounding interval of each printed number.

    Returns
    -------
    Pooled
    """
    n = np.asarray(n, dtype=float)
    m = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    big_n = n.sum()
    est_mean = float((n * m).sum() / big_n)
    est_sd = _pooled_sd(n, m, s)
    mean_lo = float((n * (m - half)).sum() / big_n)
    mean_hi = float((n * (m + half)).sum() / big_n)
    s_hi = s + half
    s_lo = np.maximum(s - half, 0.0)
    sd_hi = max(
        _pooled_sd(n, np.array(corner), s_hi)
        for corner in itertools.product(*[(mi - half, mi + half) for mi in m])
    )
    if len(m) == 1:
        sd_lo = float(s_lo[0])
    else:
        def between(x: np.ndarray) -> float:
            grand = (n * x).sum() / big_n
            return float((n * (x - grand) ** 2).sum())

        res = minimize(between, m, bounds=[(mi - half, mi + half) for mi in m],
                       method="L-BFGS-B")
        ss = ((n - 1) * s_lo**2).sum() + max(res.fun, 0.0)
        sd_lo = math.sqrt(ss / (big_n - 1))
    return Pooled(int(big_n), est_mean, est_sd, mean_lo, mean_hi, sd_lo, float(sd_hi))


def overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> bool:
    """Return whether the intervals [lo1, hi1] and [lo2, hi2] meet (within ``EPS``)."""
    return lo1 <= hi2 + EPS and lo2 <= hi1 + EPS


def severity(reported: float, estimate: float, lo: float, hi: float, half: float) -> str:
    """Return ``ok``, ``rounding`` or ``inconsistent`` for a printed value against an estimate."""
    if abs(reported - estimate) <= half + EPS:
        return "ok"
    return "rounding" if overlap(reported - half, reported + half, lo, hi) else "inconsistent"
