"""Per-cell posterior predictive checks: the table of observed against replicated statistics.

Every inference of triad is about a cell (raters about a target group in one sector), so
the posterior predictive check is made per cell too: for each cell and statistic (mean,
SD, share of the top answer) the observed value is compared with its distribution over
the replicated data sets of the stored ``posterior_predictive`` group, with a posterior
predictive p-value.  :func:`ppc_cell_table` computes the table from a fit's DataTree
alone (a stored ``fit.nc`` suffices); :mod:`triad.predictive_checks` draws it (and
re-exports these names).

Rules
-----
- p-value: ``p = P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)`` over the draws (the mid-p
  value; it equals ``P(T_rep >= T_obs)`` for a continuous statistic and does not flag a
  cell merely because a discrete statistic, such as a share of 0, ties in most draws).
- A cell's statistic is flagged when ``p < 0.025`` or ``p > 0.975`` (two-sided 5%).
  Over the dozens of cells x statistics of a run a few flags are expected by chance: a
  flag asks for a look at that cell, it is not a test.
- Top answer: the highest answer of the scale's answer set (5).  For item answers the
  share of that answer; for scale scores (means of items) the share of scores >= 4.5,
  the scores that round to the top answer (a Gaussian replicate is never exactly 5).
- Summary-statistic models (published cells' n, mean, SD) are checked on the cell mean
  and SD only: they have no answers, so no top share.
"""

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["CI_PROB", "PPC_CELL_COLUMNS", "P_FLAG", "STATISTICS", "mid_p_value",
           "ppc_cell_table", "top_answer"]

STATISTICS = ("mean", "sd", "top_share")
P_FLAG = 0.025
CI_PROB = 0.95
PPC_CELL_COLUMNS = ["model", "scale", "group", "sector", "statistic", "observed", "rep_mean",
                    "rep_low", "rep_high", "p_value", "flagged", "n", "n_obs", "data_source"]


def mid_p_value(replicated: np.ndarray, observed: float) -> float:
    """Posterior predictive p-value ``P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)``.

    Parameters
    ----------
    replicated : ndarray
        The statistic in every replicated data set (one value per draw).
    observed : float
        The statistic of the observed data.

    Returns
    -------
    float
        NaN when the observed statistic or every replicate is NaN.
    """
    rep = np.asarray(replicated, dtype=float)
    rep = rep[~np.isnan(rep)]
    if np.isnan(observed) or rep.size == 0:
        return float("nan")
    return float(np.mean(rep > observed) + 0.5 * np.mean(rep == observed))


def top_answer(scale: str) -> float:
    """Return the highest answer of a scale's answer set (5 when the codebook does not say)."""
    from triad.codebook import load_codebook

    book = load_codebook()
    found = book.scales.get(scale)
    values = book.answer_sets.get(found.answer_set, {}).get("values") if found else None
    return float(max(values)) if values else 5.0


def _statistics(values: np.ndarray, top: float) -> dict[str, np.ndarray]:
    """Mean, SD and share of values >= ``top - 0.5`` along the last axis."""
    n = values.shape[-1]
    return {"mean": values.mean(axis=-1),
            "sd": values.std(axis=-1, ddof=1) if n > 1 else np.full(values.shape[:-1], np.nan),
            "top_share": (values >= top - 0.5).mean(axis=-1)}


def _row(model: str, scale: str, group: str, sector: str, statistic: str, observed: float,
         replicated: np.ndarray, n: int, n_obs: int, source: str, ci_prob: float) -> dict:
    rep = np.asarray(replicated, dtype=float)
    p = mid_p_value(rep, float(observed))
    tail = (1 - ci_prob) / 2
    finite = rep[~np.isnan(rep)]
    low, high = (np.quantile(finite, [tail, 1 - tail]) if finite.size else (np.nan, np.nan))
    return {"model": model, "scale": scale, "group": group, "sector": sector,
            "statistic": statistic, "observed": float(observed),
            "rep_mean": float(finite.mean()) if finite.size else np.nan,
            "rep_low": float(low), "rep_high": float(high), "p_value": p,
            "flagged": bool(not np.isnan(p) and (p < P_FLAG or p > 1 - P_FLAG)),
            "n": int(n), "n_obs": int(n_obs), "data_source": source}


def _group_key(rater: str, target: str, sector: str, gender: str | None = None) -> str:
    key = f"{rater}>{target}@{sector}"
    return key + (f"#{gender}" if gender and gender not in ("all", "nan", "None") else "")


def ppc_cell_table(idata: xr.DataTree, *, model: str, data_source: str = "",
                   ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior predictive check of every cell of a fit: one row per cell and statistic.

    Parameters
    ----------
    idata : DataTree
        A fit as stored in ``fit.nc``: ``posterior_predictive``, ``observed_data`` and
        ``constant_data`` are used.
    model : str
        The model's name (``model`` column).
    data_source : str
        ``synthetic``, ``published`` or the respondent file's source.
    ci_prob : float
        Probability of the replicated interval ``rep_low``-``rep_high``.

    Returns
    -------
    DataFrame
        Columns :data:`PPC_CELL_COLUMNS`.  Cells are scale x rater>target@sector (with
        ``#gender`` for a summary model's gender cells); ``group`` is that key.  ``n`` is
        the cell's respondents, ``n_obs`` its modelled values (answers, scores or 1 cell).
        Empty when the fit has no posterior predictive.
    """
    needed = ("posterior_predictive", "observed_data", "constant_data")
    if any(g not in idata.children for g in needed):
        return pd.DataFrame(columns=PPC_CELL_COLUMNS)
    pp = idata["posterior_predictive"].to_dataset()
    obs = idata["observed_data"].to_dataset()
    const = idata["constant_data"].to_dataset()
    names = [v for v in pp.data_vars if v in obs.data_vars]
    if "__obs__" in pp.dims and names:
        rows = _respondent_rows(pp, obs, const, names[0], model, data_source, ci_prob)
    elif {"cell_mean", "cell_var"} <= set(names):
        rows = _summary_rows(pp, obs, const, model, data_source, ci_prob)
    else:
        rows = []
    return pd.DataFrame(rows, columns=PPC_CELL_COLUMNS)


def _respondent_rows(pp: xr.Dataset, obs: xr.Dataset, const: xr.Dataset, var: str,
                     model: str, source: str, ci_prob: float) -> list[dict]:
    rep = pp[var].stack(sample=("chain", "draw")).transpose("sample", "__obs__").to_numpy()
    observed = obs[var].to_numpy()
    # ordinal answers are stored as category indices 0..K-1 (as Bambi codes them)
    if np.issubdtype(pp[var].dtype, np.integer):
        rep, observed = rep + 1, observed + 1
    rep, observed = rep.astype("float32"), observed.astype(float)
    frame = pd.DataFrame({k: const[k].to_numpy().astype(str) for k in (
        "scale", "rater", "target", "sector", "respondent") if k in const})
    rows = []
    keys = ["scale", "rater", "target", "sector"]
    for (scale, rater, target, sector), part in frame.groupby(keys, sort=True):
        idx = part.index.to_numpy()
        top = top_answer(scale)
        o = _statistics(observed[idx], top)
        r = _statistics(rep[:, idx], top)
        n = int(part["respondent"].nunique()) if "respondent" in part else len(idx)
        for stat in STATISTICS:
            rows.append(_row(model, scale, _group_key(rater, target, sector), sector, stat,
                             o[stat], r[stat], n, len(idx), source, ci_prob))
    return rows


def _summary_rows(pp: xr.Dataset, obs: xr.Dataset, const: xr.Dataset, model: str,
                  source: str, ci_prob: float) -> list[dict]:
    def draws(name: str) -> np.ndarray:
        return pp[name].stack(sample=("chain", "draw")).transpose("sample", "cell").to_numpy(
            ).astype(float)

    rep_mean, rep_sd = draws("cell_mean"), np.sqrt(np.clip(draws("cell_var"), 0, None))
    rows = []
    for j in range(const.sizes["cell"]):
        c = {k: str(const[k].values[j]) for k in ("scale", "rater", "target", "sector",
                                                   "gender") if k in const}
        key = _group_key(c["rater"], c["target"], c["sector"], c.get("gender"))
        n = int(const["n"].values[j]) if "n" in const else 1
        for stat, o, r in (("mean", float(obs["cell_mean"].values[j]), rep_mean[:, j]),
                           ("sd", float(np.sqrt(obs["cell_var"].values[j])), rep_sd[:, j])):
            rows.append(_row(model, c["scale"], key, c["sector"], stat, o, r, n, 1, source,
                             ci_prob))
    return rows

