"""SBC's uniformity tests: the simultaneous ECDF band (decides) and the chi-square.

Part of :mod:`triad.sbc` (its docstring describes the procedure).
"""

import zlib
from functools import lru_cache

import numpy as np
import pandas as pd

DECISION_TEST = "ecdf"
UNIFORMITY_COLUMNS = ["model", "parameter", "kind", "n_sims", "n_ranks", "level",
                      "family_size", "decided_by", "ecdf_band_prob", "ecdf_simulations",
                      "ecdf_points_outside", "ecdf_max_excess", "ecdf_reject", "bins", "chi2",
                      "df", "p_value", "p_adjusted", "chi2_reject", "reject", "family_reject"]


# --------------------------------------------------------------------------- uniformity


def _default_bins(n_sims: int) -> int:
    """About 10 expected per bin with many simulations, at least 5 with few."""
    return int(max(2, min(20, n_sims // 10 if n_sims >= 100 else n_sims // 5)))


def _bin_probabilities(n_ranks: int, bins: int) -> np.ndarray:
    """Exact probability of each bin under uniform ranks ``0 .. n_ranks - 1``."""
    idx = (np.arange(n_ranks) * bins) // n_ranks
    return np.bincount(idx, minlength=bins) / n_ranks


def _band_simulations(alpha: float) -> int:
    """Return the simulations for ArviZ's band at level ``alpha``: ~50 beyond its quantile.

    The band's adjusted pointwise level is an empirical ``1 - alpha`` quantile of
    simulated uniform samples; 50 exceedances estimate it to about 15%.  At most 250,000
    (about 25 s): with summary_cells' 364 quantities that leaves about 7.
    """
    return int(np.clip(np.ceil(50 / alpha), 2_000, 250_000))


@lru_cache(maxsize=64)
def ecdf_band(n: int, prob: float, n_simulations: int) -> tuple:
    """ArviZ's simultaneous band for ``n`` PIT values: evaluation points, lower, upper.

    The call and seed are those of ``arviz_plots.plot_ecdf_pit(method="envelope")``
    (:func:`arviz_stats.ecdf_utils.ecdf_pit` on ``n`` dummy values with its default
    generator), so the band drawn in :func:`ecdf_figures` is the band that decides.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    x, _, lower, upper = ecdf_pit(np.linspace(0, 1, n), prob, n_simulations)
    return x[1:-1], lower[1:-1], upper[1:-1]


def pit_values(part: pd.DataFrame, model: str, parameter: str, seed: int = 0) -> np.ndarray:
    """PIT values of one quantity's ranks, in simulation order.

    ``(rank + U) / n_ranks`` with ``U ~ Uniform(0, 1)`` spreads each of the ``n_ranks``
    discrete ranks over its interval: exactly uniform on (0, 1) under calibration.  ``U``
    is seeded by seed, model and quantity, so the test and the figure see the same values.
    """
    part = part.sort_values("sim", kind="stable")
    key = zlib.crc32(f"{model}\x00{parameter}".encode())
    u = np.random.default_rng([seed, key]).random(len(part))
    return (part["rank"].to_numpy(float) + u) / part["n_ranks"].to_numpy(float)


def _ecdf_test(pit: np.ndarray, prob: float, n_simulations: int) -> dict:
    """Test whether the PIT ECDF stays inside the simultaneous ``prob`` band (Säilynoja 2022)."""
    from arviz_stats.ecdf_utils import compute_ecdf

    x, lower, upper = ecdf_band(len(pit), prob, n_simulations)
    ecdf = compute_ecdf(pit, x)
    excess = np.maximum(lower - ecdf, ecdf - upper)
    outside = int((excess > 1e-12).sum())
    return {"ecdf_points_outside": outside,
            "ecdf_max_excess": float(max(0.0, excess.max())) if len(excess) else 0.0,
            "ecdf_reject": outside > 0}


def sbc_uniformity(ranks: pd.DataFrame, bins: int | None = None, *, level: float = 0.01,
                   correction: str = "bonferroni", ecdf_simulations: int | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """Test the uniformity of every quantity's ranks: simultaneous ECDF band and chi-square.

    **ECDF test (decides).**  The ranks become PIT values (:func:`pit_values`); their ECDF must
    stay inside the simultaneous band of Säilynoja et al. (2022) at every evaluation point
    ``1/N .. (N-1)/N`` of ``N`` simulations.  The band comes from ArviZ
    (:func:`arviz_stats.ecdf_utils.ecdf_pit`, the envelope ``arviz_plots.plot_ecdf_pit``
    draws): pointwise binomial intervals at the level whose simultaneous coverage, found by
    simulating uniform samples, is ``ecdf_band_prob``.  Unlike a histogram it needs no bins
    and sees local departures anywhere in (0, 1).  A quantity is rejected when its ECDF
    leaves the band (``ecdf_reject``); ``ecdf_max_excess`` says by how much.

    **Chi-square (reported).**  Rank ``r`` (of ``0 .. n_ranks - 1``) falls in bin
    ``floor(r * bins / n_ranks)``; the expected count of a bin is ``n_sims`` times the
    exact share of rank values it holds.  The statistic is referred to chi-square with
    ``bins - 1`` degrees of freedom (:func:`scipy.stats.chisquare`); ``chi2_reject`` when
    ``p_adjusted < level``.

    Parameters
    ----------
    ranks : DataFrame
        The output of :func:`run_sbc` (columns ``model, parameter, rank, n_ranks``, and
        ``sim``; may hold several models).
    bins : int, optional
        Chi-square histogram bins; default about ``n_sims / 10`` (at most 20),
        ``n_sims / 5`` for fewer than 100 simulations.
    level : float
        Family-wise error rate of each model's calibration decision.
    correction : {"bonferroni", "none"}
        Bonferroni: with ``m`` quantities in a model, each is tested at ``level / m``
        (ECDF band probability ``1 - level / m``; chi-square ``p * m < level``); a model
        is rejected (``family_reject``) when any quantity is rejected by the ECDF test.
    ecdf_simulations : int, optional
        Uniform samples simulated for the band; default about ``50 m / level`` (2,000 to
        250,000).
    seed : int
        Seed of the PIT values' randomisation.

    Returns
    -------
    DataFrame
        One row per model x quantity, columns :data:`UNIFORMITY_COLUMNS`; ``reject`` is
        the deciding test's verdict (``decided_by``).
    """
    from scipy import stats

    if correction not in ("bonferroni", "none"):
        raise ValueError("correction must be 'bonferroni' or 'none'")
    if not 0 < level < 1:
        raise ValueError("level must be strictly between 0 and 1")
    kinds = ranks["kind"] if "kind" in ranks else pd.Series("parameter", index=ranks.index)
    frame = ranks.assign(kind=kinds)
    if "model" not in frame:
        frame = frame.assign(model="")
    if "sim" not in frame:
        frame = frame.assign(sim=frame.groupby(["model", "parameter"]).cumcount())
    sizes = frame.groupby("model")["parameter"].nunique()
    rows = []
    for (model, parameter), part in frame.groupby(["model", "parameter"], sort=False):
        n_ranks = part["n_ranks"].unique()
        if len(n_ranks) != 1:
            raise ValueError(f"{model} {parameter}: ranks out of different numbers of draws")
        n_ranks = int(n_ranks[0])
        n = len(part)
        b = bins or _default_bins(n)
        if b > n_ranks:
            raise ValueError(f"{b} bins for only {n_ranks} possible ranks")
        r = part["rank"].to_numpy(dtype=int)
        if r.min() < 0 or r.max() >= n_ranks:
            raise ValueError(f"{model} {parameter}: ranks outside 0..{n_ranks - 1}")
        observed = np.bincount((r * b) // n_ranks, minlength=b)
        expected = n * _bin_probabilities(n_ranks, b)
        chi2, p = stats.chisquare(observed, expected)
        m = int(sizes[model]) if correction == "bonferroni" else 1
        alpha = level / m
        sims = ecdf_simulations or _band_simulations(alpha)
        ecdf = _ecdf_test(pit_values(part, model, parameter, seed), 1 - alpha, sims)
        rows.append({"model": model, "parameter": parameter, "kind": part["kind"].iloc[0],
                     "n_sims": n, "n_ranks": n_ranks, "level": level,
                     "family_size": int(sizes[model]), "decided_by": DECISION_TEST,
                     "ecdf_band_prob": 1 - alpha, "ecdf_simulations": sims, **ecdf,
                     "bins": b, "chi2": float(chi2), "df": b - 1, "p_value": float(p),
                     "p_adjusted": min(1.0, float(p) * m)})
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=UNIFORMITY_COLUMNS)
    out["chi2_reject"] = out["p_adjusted"] < level
    out["reject"] = out["ecdf_reject"]
    out["family_reject"] = out.groupby("model")["reject"].transform("any")
    return out[UNIFORMITY_COLUMNS]


def family_decision(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: the ECDF verdict (which decides) beside the chi-square's.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`sbc_uniformity`.

    Returns
    -------
    DataFrame
        ``model, n_sims, quantities, level, decided_by, ecdf_band_prob, ecdf_rejected,
        ecdf_rejected_quantities, chi2_min_p, chi2_min_p_quantity, chi2_below_level_unadjusted,
        chi2_rejected, chi2_calibrated, calibrated``.
    """
    rows = []
    for model, part in table.groupby("model", sort=False):
        worst = part.loc[part["p_value"].idxmin()]
        rejected = part.loc[part["ecdf_reject"].astype(bool), "parameter"].tolist()
        chi2_rejected = int(part["chi2_reject"].astype(bool).sum())
        rows.append({"model": model, "n_sims": int(part["n_sims"].max()),
                     "quantities": len(part), "level": float(part["level"].iloc[0]),
                     "decided_by": str(part["decided_by"].iloc[0]),
                     "ecdf_band_prob": float(part["ecdf_band_prob"].iloc[0]),
                     "ecdf_rejected": len(rejected),
                     "ecdf_rejected_quantities": "; ".join(rejected),
                     "chi2_min_p": float(worst["p_value"]),
                     "chi2_min_p_quantity": worst["parameter"],
                     "chi2_below_level_unadjusted": int((part["p_value"] < part["level"]).sum()),
                     "chi2_rejected": chi2_rejected, "chi2_calibrated": chi2_rejected == 0,
                     "calibrated": not rejected})
    return pd.DataFrame(rows)

