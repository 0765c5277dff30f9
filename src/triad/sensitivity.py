"""Prior sensitivity by power-scaling, and PSIS-LOO, for a fitted model.

Power-scaling sensitivity (Kallioinen, Paananen, Buerkner & Vehtari 2023, via
``arviz.psense``): the prior (or the likelihood) is raised to a power near 1 and the
change of each posterior quantity is measured by the cumulative Jensen-Shannon
distance; values >= 0.05 are flagged (the ``priorsense`` default).  Diagnosis:

* prior and likelihood sensitivity both >= 0.05: ``prior-data conflict``;
* prior >= 0.05, likelihood < 0.05: ``strong prior / weak likelihood``.

Only the top-level priors are power-scaled (not the population distribution of
group-level effects).  Quantities are the model's parameters (not per-respondent
effects) and every named contrast.  PSIS-LOO (``arviz.loo``) is computed per
observation of the model's own data from the fit's stored ``log_likelihood`` group, once
per fit (its ``loo.csv`` and the summary numbers of its diagnostics);
:func:`stored_loo` rebuilds that result and :func:`loo_compare` hands such results to
``arviz.compare``, only within identical data.
"""

import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["PSENS_THRESHOLD", "add_log_densities", "power_scaling", "psens_summary",
           "loo_pointwise", "loo_summary", "loo_compare", "stored_loo", "SENSITIVITY_COLUMNS"]

PSENS_THRESHOLD = 0.05
SENSITIVITY_COLUMNS = ["quantity", "kind", "prior", "likelihood", "diagnosis"]
# Per-respondent effects and offsets are nuisance (hundreds of them); cell means of Bambi's
# response ('mu', 'p') are recomputed quantities, not parameters; so are the summary
# model's sector cell means ('cell_mu', part of 'mu') and its paired cells' shared errors.
_SKIP = re.compile(r"(_offset$|\|respondent$|^mu$|^p$|^cell_z$|^cell_mu$|^pair_z$|^_)")
# Power-scale the top-level priors only, as priorsense does for brms: the population
# distribution of group-level effects (Bambi's '1|cell' / '_offset', the summary model's
# cell means 'mu', 'cell_mu' and 'cell_z', and the standard normal 'pair_z' that carries
# paired cells' shared sampling error) is part of the model structure, not a prior choice.
_HIERARCHICAL = re.compile(r"(\|.*(?<!_sigma)$|^mu$|^cell_mu$|^cell_z$|^pair_z$)")


def add_log_densities(idata: xr.DataTree, model, *, combine: str | None = None) -> None:
    """Add ``log_likelihood`` and ``log_prior`` groups computed by PyMC (in place).

    ``combine`` names one variable into which every observed variable's pointwise
    log-likelihood is summed (the summary model has a mean and a variance per cell).
    """
    import pymc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll = pm.compute_log_likelihood(idata, model=model, extend_inferencedata=False,
                                       progressbar=False)
        lp = pm.compute_log_prior(idata, model=model, extend_inferencedata=False,
                                  progressbar=False)
    if combine is not None:
        ll = xr.Dataset({combine: sum(ll[v] for v in ll.data_vars)})
    idata["log_likelihood"] = xr.DataTree(ll)
    idata["log_prior"] = xr.DataTree(lp)


def _diagnosis(prior: float, likelihood: float) -> str:
    if prior >= PSENS_THRESHOLD and likelihood >= PSENS_THRESHOLD:
        return "prior-data conflict"
    if prior >= PSENS_THRESHOLD:
        return "strong prior / weak likelihood"
    return ""


def power_scaling(idata: xr.DataTree, contrasts: dict[str, np.ndarray] | None = None
                  ) -> pd.DataFrame:
    """Prior and likelihood power-scaling sensitivity of every quantity.

    Parameters
    ----------
    idata : DataTree
        With ``posterior``, ``log_likelihood`` and ``log_prior`` groups.
    contrasts : dict, optional
        Name -> posterior draws (flattened chain x draw, chain-major) of derived quantities.

    Returns
    -------
    DataFrame
        Columns :data:`SENSITIVITY_COLUMNS`, one row per scalar quantity.
    """
    post = idata["posterior"].to_dataset()
    names = [v for v in post.data_vars if not _SKIP.search(v)]
    ds = post[names]
    shape = (post.sizes["chain"], post.sizes["draw"])
    for i, draws in enumerate((contrasts or {}).values()):
        ds[f"_c{i}"] = (("chain", "draw"), np.asarray(draws).reshape(shape))
    data = xr.DataTree.from_dict({"posterior": ds,
                                  "log_likelihood": idata["log_likelihood"].to_dataset(),
                                  "log_prior": idata["log_prior"].to_dataset()})
    top = [v for v in idata["log_prior"].data_vars if not _HIERARCHICAL.search(v)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PSIS k-hat chatter for extreme scalings
        prior = az.psense(data, group="prior", group_var_names=top)
        like = az.psense(data, group="likelihood")
    labels = {f"_c{i}": n for i, n in enumerate(contrasts or {})}
    rows = []
    for var in prior.data_vars:
        p, lk = prior[var], like[var]
        kind = "contrast" if var in labels else "parameter"
        flat_p = p.stack(_k=p.dims) if p.dims else p.expand_dims("_k")
        flat_l = lk.stack(_k=lk.dims) if lk.dims else lk.expand_dims("_k")
        for j in range(flat_p.sizes["_k"]):
            if p.dims:
                idx = flat_p["_k"].values[j]
                idx = idx if isinstance(idx, tuple) else (idx,)
                label = f"{var}[{', '.join(str(x) for x in idx)}]"
            else:
                label = labels.get(var, var)
            pv, lv = float(flat_p.values[j]), float(flat_l.values[j])
            rows.append({"quantity": label, "kind": kind, "prior": pv, "likelihood": lv,
                         "diagnosis": _diagnosis(pv, lv)})
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def psens_summary(table: pd.DataFrame) -> dict:
    """Per-model columns for ``diagnostics.csv``: maxima and the flagged quantities."""
    flagged = table[table["diagnosis"] != ""]
    contrasts = flagged[flagged["kind"] == "contrast"]
    return {
        "psens_prior_max": float(table["prior"].max()) if len(table) else np.nan,
        "psens_likelihood_max": float(table["likelihood"].max()) if len(table) else np.nan,
        "psens_flagged": int(len(flagged)),
        "psens_flagged_contrasts": int(len(contrasts)),
        "psens_flag": "; ".join(f"{q}: {d}" for q, d in zip(
            flagged["quantity"], flagged["diagnosis"], strict=True))[:2000],
    }


def loo_pointwise(idata: xr.DataTree) -> tuple[dict, pd.DataFrame]:
    """PSIS-LOO of a fit: summary numbers and the pointwise table (``loo.csv``)."""
    loo = _loo(idata)
    k = np.asarray(loo.pareto_k).ravel()
    point = pd.DataFrame({"row": np.arange(k.size), "elpd_loo_i": np.asarray(loo.elpd_i).ravel(),
                          "pareto_k": k})
    return loo_summary(loo), point


def _loo(idata: xr.DataTree):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the high Pareto k warning: reported as a number
        return az.loo(idata, pointwise=True)


def loo_summary(loo) -> dict:
    """Return the numbers of an ``arviz.loo`` result that ``diagnostics.csv`` reports."""
    k = np.asarray(loo.pareto_k).ravel()
    return {"elpd_loo": float(loo.elpd), "elpd_loo_se": float(loo.se), "p_loo": float(loo.p),
            "pareto_k_max": float(np.max(k)), "pareto_k_bad": int(np.sum(k > loo.good_k)),
            "loo_n": int(k.size), "loo_good_k": float(loo.good_k),
            "loo_draws": int(loo.n_samples)}


def stored_loo(point: pd.DataFrame, summary: dict):
    """Rebuild a fit's PSIS-LOO from what the fit stored, for ``arviz.compare``.

    Parameters
    ----------
    point : DataFrame
        The pointwise table of :func:`loo_pointwise` (``loo.csv``: ``elpd_loo_i``,
        ``pareto_k``).
    summary : dict
        The numbers of :func:`loo_summary` (a fit's diagnostics hold them).

    Returns
    -------
    arviz.ELPDDataLOO
        What ``arviz.loo(..., pointwise=True)`` returned for the fit, as far as
        ``arviz.compare`` reads it (elpd, se, p, pointwise elpd and Pareto k), so that a
        comparison need not read every fit's log-likelihood draws and smooth them again
        (measured: 11.3 s for the six fits of one scale, 8 ms from the stored tables).
    """
    k = xr.DataArray(point["pareto_k"].to_numpy(dtype=float), dims=["__obs__"])
    return az.ELPDDataLOO(
        elpd=float(summary["elpd_loo"]), se=float(summary["elpd_loo_se"]),
        p=float(summary["p_loo"]), n_samples=int(summary["loo_draws"]),
        n_data_points=int(summary["loo_n"]), scale="log",
        warning=bool((k > summary["loo_good_k"]).any()), good_k=float(summary["loo_good_k"]),
        elpd_i=xr.DataArray(point["elpd_loo_i"].to_numpy(dtype=float), dims=["__obs__"]),
        pareto_k=k)


def loo_compare(fits: dict[str, tuple]) -> pd.DataFrame:
    """Compare fits by PSIS-LOO (``arviz.compare``), only within identical data.

    Parameters
    ----------
    fits : dict
        Model name -> (PSIS-LOO of the fit, data key).  The PSIS-LOO is an
        ``arviz.loo(..., pointwise=True)`` result or :func:`stored_loo`.  The data key
        hashes the rows the model was fitted to; models are compared only with models of
        the same key (item-level and scale-level fits are never compared).

    Returns
    -------
    DataFrame
        One row per model: ``comparison`` (the data key's group), ``rank``,
        ``elpd_loo``, ``p_loo``, ``elpd_diff``, ``dse``, ``weight``, ``pareto_k_max``,
        ``pareto_k_bad``.
    """
    by_key: dict[str, dict] = {}
    for name, (loo, key) in fits.items():
        by_key.setdefault(key, {})[name] = loo
    rows = []
    for key, elpds in sorted(by_key.items()):
        if len(elpds) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = az.compare(elpds, round_to="none")
        base = sorted(elpds)[0]
        for model, r in table.iterrows():
            k = loo_summary(elpds[model])
            rows.append({"comparison": base, "model": model, "rank": int(r["rank"]),
                         "elpd_loo": float(r["elpd"]), "p_loo": float(r["p"]),
                         "elpd_diff": float(r["elpd_diff"]), "dse": float(r["dse"]),
                         "weight": float(r["weight"]),
                         "pareto_k_max": k["pareto_k_max"],
                         "pareto_k_bad": k["pareto_k_bad"],
                         "data_key": key})
    return pd.DataFrame(rows, columns=["comparison", "model", "rank", "elpd_loo", "p_loo",
                                       "elpd_diff", "dse", "weight", "pareto_k_max",
                                       "pareto_k_bad", "data_key"])
