"""Reliability per scale and respondent group: Cronbach's alpha (with CI) and omega.

Alpha and its confidence interval come from :func:`pingouin.cronbach_alpha`
(listwise deletion, so alpha and omega describe the same respondents).  McDonald's
omega (total, one factor) uses the maximum-likelihood one-factor model of
:class:`statsmodels.multivariate.factor.Factor` on the item correlations:
``omega = (sum l)^2 / ((sum l)^2 + sum psi)``.
"""

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
from statsmodels.multivariate.factor import Factor

from triad.codebook import Codebook, load_codebook
from triad.published import load_reliability

__all__ = ["cronbach_alpha", "mcdonald_omega", "reliability_table", "RELIABILITY_COLUMNS"]

RELIABILITY_COLUMNS = [
    "scale", "role", "target", "sector", "n", "n_items", "alpha", "alpha_ci_low",
    "alpha_ci_high", "omega", "reported", "reported_low", "reported_high", "within_reported",
]



def cronbach_alpha(items: pd.DataFrame, ci: float = 0.95) -> tuple[float, float, float]:
    """Cronbach's alpha of complete rows, with its confidence interval.

    Parameters
    ----------
    items : DataFrame
        One column per item, one row per respondent; rows with a missing item are
        left out (listwise).
    ci : float
        Confidence level.

    Returns
    -------
    (alpha, ci_low, ci_high)
    """
    complete = items.dropna()
    if len(complete) < 3 or complete.shape[1] < 2:
        return (np.nan, np.nan, np.nan)
    alpha, interval = pg.cronbach_alpha(data=complete, nan_policy="listwise", ci=ci)
    return float(alpha), float(interval[0]), float(interval[1])


def mcdonald_omega(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor maximum-likelihood model.

    Returns NaN when the model cannot be fitted (too few rows, a constant item).
    """
    complete = items.dropna().to_numpy(dtype=float)
    if complete.shape[0] <= complete.shape[1] + 1 or np.any(complete.std(axis=0) == 0):
        return np.nan
    with warnings.catch_warnings():
        # ML factor fits on small groups can hit boundary (Heywood) cases; omega is then
        # still defined from the fitted loadings, so the optimiser's warning adds nothing.
        warnings.simplefilter("ignore")
        # statsmodels draws EM starting values from fresh OS entropy unless seeded
        res = Factor(complete, n_factor=1, method="ml").fit(rng=0)
    loadings = np.abs(np.asarray(res.loadings).ravel())
    uniqueness = np.asarray(res.uniqueness).ravel()
    common = loadings.sum() ** 2
    # 6 decimals: well inside the optimiser's tolerance.
    return round(float(common / (common + uniqueness.sum())), 6)


def _reported_for(reported: pd.DataFrame, scale: str, group: str) -> tuple[str, float, float]:
    rows = reported[reported["scale"] == scale]
    exact = rows[rows["group"] == group]
    if len(exact):
        r = exact.iloc[0]
        return group, float(r["alpha_low"]), float(r["alpha_high"])
    pooled = rows[rows["group"] == "all"]
    if len(pooled):
        r = pooled.iloc[0]
        return "range over groups", float(r["alpha_low"]), float(r["alpha_high"])
    return "", np.nan, np.nan


def reliability_table(
    wide: pd.DataFrame,
    *,
    by_sector: bool = False,
    ci: float = 0.95,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Alpha (with CI) and omega per scale x respondent group, beside the report's values.

    Groups are every (role, target) plus professionals pooled (social workers and
    teachers) per target, as the report pools them; with ``by_sector`` also per sector.

    Parameters
    ----------
    wide : DataFrame
        Canonical wide data.
    by_sector : bool
        Also split each group by sector.
    ci : float
        Confidence level of the alpha interval.
    codebook : Codebook, optional

    Returns
    -------
    DataFrame
        Columns :data:`RELIABILITY_COLUMNS`.  ``reported`` names the report's value
        compared (a group's own value or the range over groups).
    """
    cb = codebook or load_codebook()
    reported = load_reliability()
    groups = []
    for role in cb.roles:
        groups.append((role, (role,)))
    groups += [(name, roles) for name, roles in cb.aggregates.items()]
    rows = []
    for label, roles in groups:
        members = wide[wide["role"].isin(roles)]
        if members.empty:
            continue
        columns = cb.item_columns(roles[0])
        by_target: dict = {}
        for ic in columns:
            by_target.setdefault(ic.target, {}).setdefault(ic.scale, []).append(ic.column)
        for target, scales in by_target.items():
            todo = dict(scales)
            for comp in cb.scales.values():
                if comp.composite_of and all(c in scales for c in comp.composite_of):
                    todo[comp.id] = [c for part in comp.composite_of for c in scales[part]]
            sectors = [("all", members)]
            if by_sector:
                sectors += list(members.groupby("sector", sort=True))
            for sector, part in sectors:
                for scale_id, cols in todo.items():
                    items = part[cols]
                    alpha, lo, hi = cronbach_alpha(items, ci=ci)
                    key = f"{label}>{target}@all"
                    rep, rlo, rhi = _reported_for(reported, scale_id, key)
                    within = bool(rlo - 0.005 <= alpha <= rhi + 0.005) if rep else None
                    rows.append(
                        {
                            "scale": scale_id, "role": label, "target": target,
                            "sector": sector, "n": int(items.dropna().shape[0]),
                            "n_items": len(cols), "alpha": alpha, "alpha_ci_low": lo,
                            "alpha_ci_high": hi, "omega": mcdonald_omega(items),
                            "reported": rep, "reported_low": rlo, "reported_high": rhi,
                            "within_reported": within,
                        }
                    )
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)
