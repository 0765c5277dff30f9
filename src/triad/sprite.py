"""SPRITE: integer samples that reproduce a printed mean and SD exactly.

SPRITE (Heathers, Anaya, van der Zee & Brown, 2018; the R package rsprite2) builds
``n`` integer answers with a given sum and sum of squares.  Here an answer is a
respondent's *item sum* on a ``k``-item scale with answers 1-5, so it runs from
``k`` to ``5 k``; the scale score is the item sum divided by ``k``.

On that scale the total ``S`` and the sum of squares ``Q`` are integers and
``Q = S (mod 2)``.  A printed mean ``M`` (two decimals) allows the totals
``S`` with ``|S / (n k) - M| < 0.005``; a printed SD allows, for a given ``S``, the
``Q`` with ``|sqrt((Q - S^2 / n) / (n - 1)) / k - SD| < 0.005``.  The windows are
taken *strictly* inside the rounding interval, so a value built here rounds back
to the printed one with Python's ``round`` and with any half-rounding rule.
"""

import math

import numpy as np

__all__ = [
    "HALF",
    "MARGIN",
    "sum_window",
    "sumsq_window",
    "sumsq_bounds",
    "sd_from_sums",
    "sprite_sums",
    "sprite",
]

HALF = 0.005  # half a unit of the second decimal
MARGIN = 1e-7  # stay this far inside the rounding interval (robust to float rounding)


def sum_window(mean: float, n: int, k: int, *, half: float = HALF,
               lo: int = 1, hi: int = 5) -> tuple[int, int]:
    """Integer totals ``S`` of ``n`` k-item sums whose mean rounds to ``mean``.

    Parameters
    ----------
    mean : float
        Printed mean of the scale score (item units, 1-5).
    n, k : int
        Respondents and items per scale.
    half : float
        Half-width of the rounding interval.
    lo, hi : int
        Answer range.

    Returns
    -------
    (int, int)
        ``(s_lo, s_hi)``; empty when ``s_lo > s_hi``.
    """
    units = n * k
    s_lo = math.ceil((mean - half + MARGIN) * units)
    s_hi = math.floor((mean + half - MARGIN) * units)
    return max(s_lo, lo * units), min(s_hi, hi * units)


def sumsq_bounds(total: int, n: int, k: int, *, lo: int = 1, hi: int = 5) -> tuple[int, int]:
    """Return the least and greatest sum of squares of n integers in [lo k, hi k] summing to total.

    The smallest puts the values as equal as possible, the largest as many as
    possible at the two ends with at most one value in between.
    """
    a, b = lo * k, hi * k
    if not n * a <= total <= n * b:
        raise ValueError(f"a total of {total} is impossible for {n} values in [{a}, {b}]")
    q, r = divmod(total, n)
    q_min = r * (q + 1) ** 2 + (n - r) * q**2
    y = total - n * a
    width = b - a
    m, rest = divmod(y, width)
    if m >= n:
        m, rest = n, 0
    ys = [width] * m + ([rest] if rest and m < n else [])
    ys += [0] * (n - len(ys))
    q_max = sum((a + v) ** 2 for v in ys)
    return q_min, q_max


def sumsq_window(sd: float, total: int, n: int, k: int, *, half: float = HALF,
                 lo: int = 1, hi: int = 5) -> tuple[int, int]:
    """Integer sums of squares ``Q`` (parity of ``total``) whose SD rounds to ``sd``.

    Parameters
    ----------
    sd : float
        Printed SD of the scale score (item units, ``ddof=1``).
    total : int
        The total ``S`` of the item sums.
    n, k : int
    half : float
    lo, hi : int
        Answer range; ``Q`` is also clipped to what ``n`` values with total ``S`` allow.

    Returns
    -------
    (int, int)
        ``(q_lo, q_hi)`` with ``q_lo = q_hi = total (mod 2)``; empty when ``q_lo > q_hi``.
    """
    base = total * total / n
    s_lo = max(sd - half + MARGIN, 0.0) * k
    s_hi = (sd + half - MARGIN) * k
    q_lo = math.ceil(base + (n - 1) * s_lo**2 - 1e-9)
    q_hi = math.floor(base + (n - 1) * s_hi**2 + 1e-9)
    q_min, q_max = sumsq_bounds(total, n, k, lo=lo, hi=hi)
    q_lo, q_hi = max(q_lo, q_min), min(q_hi, q_max)
    if q_lo % 2 != total % 2:
        q_lo += 1
    if q_hi % 2 != total % 2:
        q_hi -= 1
    # the float window may still hold an end point that misses by a hair: check exactly
    while q_lo <= q_hi and abs(sd_from_sums(total, q_lo, n, k) - sd) > half - MARGIN:
        q_lo += 2
    while q_hi >= q_lo and abs(sd_from_sums(total, q_hi, n, k) - sd) > half - MARGIN:
        q_hi -= 2
    return q_lo, q_hi


def sd_from_sums(total: float, sumsq: float, n: int, k: int) -> float:
    """Sample SD (``ddof=1``) of the scale scores from the total and sum of squares of item sums."""
    var = (sumsq - total * total / n) / (n - 1)
    return math.sqrt(max(var, 0.0)) / k


def sprite_sums(n: int, total: int, sumsq: int, k: int, rng: np.random.Generator, *,
                lo: int = 1, hi: int = 5, max_restarts: int = 50) -> np.ndarray:
    """Draw ``n`` integer item sums in ``[lo k, hi k]`` with exactly this total and sum of squares.

    Starts from a discretised normal with the target mean and SD (so the shape is
    unimodal), repairs the total by single steps, then moves one unit between two
    respondents at a time (``x_i - 1``, ``x_j + 1`` changes ``Q`` by
    ``2 (x_j - x_i + 1)``) until ``Q`` is hit exactly.

    Parameters
    ----------
    n, total, sumsq, k : int
    rng : numpy.random.Generator
    lo, hi : int
        Answer range of one item.
    max_restarts : int

    Returns
    -------
    ndarray of int64, sorted ascending

    Raises
    ------
    ValueError
        If no such sample exists (total or sum of squares out of reach, wrong parity)
        or none was found.
    """
    a, b = lo * k, hi * k
    if n < 2:
        raise ValueError(f"SPRITE needs n >= 2, got {n}")
    if not n * a <= total <= n * b:
        raise ValueError(
            f"mean {total / (n * k):.4f} is outside the answer range {lo}-{hi} (n = {n}, k = {k})")
    q_min, q_max = sumsq_bounds(total, n, k, lo=lo, hi=hi)
    if not q_min <= sumsq <= q_max:
        raise ValueError(
            f"SD {sd_from_sums(total, sumsq, n, k):.4f} is impossible for mean "
            f"{total / (n * k):.4f} with n = {n} {k}-item scores on {lo}-{hi}: the SD must lie "
            f"in [{sd_from_sums(total, q_min, n, k):.4f}, {sd_from_sums(total, q_max, n, k):.4f}]")
    if sumsq % 2 != total % 2:
        raise ValueError(f"a sum of squares {sumsq} cannot go with a total {total} (parity)")
    mean = total / n
    sd = math.sqrt(max((sumsq - total * total / n) / (n - 1), 0.0))
    for _ in range(max_restarts):
        x = np.clip(np.rint(rng.normal(mean, sd, size=n)), a, b).astype(np.int64)
        # repair the total
        diff = total - int(x.sum())
        while diff != 0:
            step = 1 if diff > 0 else -1
            ok = np.flatnonzero(x < b) if step > 0 else np.flatnonzero(x > a)
            x[ok[rng.integers(len(ok))]] += step
            diff -= step
        found = _walk_sumsq(x, sumsq, a, b, rng)
        if found:
            return np.sort(x)
    raise ValueError(
        f"SPRITE found no sample with n = {n}, total {total}, sum of squares {sumsq} "
        f"after {max_restarts} restarts")


def _walk_sumsq(x: np.ndarray, target: int, a: int, b: int, rng: np.random.Generator,
                max_steps: int = 200_000) -> bool:
    """Move units between pairs until ``sum(x**2) == target``; False when stuck."""
    q = int((x * x).sum())
    n = len(x)
    for _ in range(max_steps):
        gap = target - q
        if gap == 0:
            return True
        i, j = rng.integers(n), rng.integers(n)
        if i == j:
            continue
        xi, xj = int(x[i]), int(x[j])
        if gap > 0:
            # spread: lower the smaller, raise the larger (xi <= xj)
            if xi > xj:
                i, j, xi, xj = j, i, xj, xi
            delta = 2 * (xj - xi + 1)
            if xi <= a or xj >= b or delta > gap:
                continue
            x[i] -= 1
            x[j] += 1
        else:
            # narrow: raise the smaller, lower the larger (needs xj - xi >= 2)
            if xi > xj:
                i, j, xi, xj = j, i, xj, xi
            delta = -2 * (xj - xi - 1)
            if xj - xi < 2 or -delta > -gap:
                continue
            x[i] += 1
            x[j] -= 1
        q += delta
    return False


def sprite(n: int, mean: float, sd: float, k: int, rng: np.random.Generator, *,
           lo: int = 1, hi: int = 5, half: float = HALF) -> np.ndarray:
    """Draw ``n`` item sums whose scale scores (``sum / k``) have this printed mean and SD.

    The total and sum of squares are the attainable ones closest to the printed
    values; both then round back to them exactly.

    Parameters
    ----------
    n : int
    mean, sd : float
        Printed mean and SD (``ddof=1``) of the scale score.
    k : int
        Items per scale.
    rng : numpy.random.Generator
    lo, hi : int
    half : float

    Returns
    -------
    ndarray of int64 (item sums, sorted)

    Raises
    ------
    ValueError
        If no integer sample has this mean and SD (GRIM/GRIMMER failure or an SD
        beyond what the mean allows on the answer range).
    """
    s_lo, s_hi = sum_window(mean, n, k, half=half, lo=lo, hi=hi)
    if s_lo > s_hi:
        raise ValueError(f"no {n} {k}-item scores on {lo}-{hi} have a mean that rounds to "
                         f"{mean:.2f} (GRIM)")
    best = None
    for total in range(s_lo, s_hi + 1):
        q_lo, q_hi = sumsq_window(sd, total, n, k, half=half, lo=lo, hi=hi)
        for q in range(q_lo, q_hi + 1, 2):
            cost = (abs(total / (n * k) - mean), abs(sd_from_sums(total, q, n, k) - sd))
            if best is None or cost < best[0]:
                best = (cost, total, q)
    if best is None:
        q_min, q_max = sumsq_bounds(s_lo, n, k, lo=lo, hi=hi)
        raise ValueError(
            f"no {n} {k}-item scores on {lo}-{hi} with mean {mean:.2f} have an SD that rounds "
            f"to {sd:.2f} (possible about [{sd_from_sums(s_lo, q_min, n, k):.2f}, "
            f"{sd_from_sums(s_lo, q_max, n, k):.2f}])")
    _, total, q = best
    return sprite_sums(n, total, q, k, rng, lo=lo, hi=hi)
