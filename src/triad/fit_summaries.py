"""What a fit derives from its draws: contrast, claim and cell-mean draws, and their tables.

:func:`add_derived_draws` stores the draws of every named contrast, claim pair and cell
mean in the fit; :func:`summarise` turns the stored draws into the contrasts, claims,
posterior cell means and ROPE-sensitivity tables; :func:`ppc_summary` is the posterior
predictive check per rater group; :func:`sensitivity_and_loo` the power-scaling
sensitivity and PSIS-LOO.
"""

import hashlib

import numpy as np
import pandas as pd
import xarray as xr

from triad.codebook import load_codebook
from triad.contrasts import (
    claim_dataset,
    contrast_dataset,
    summarise_claims,
    summarise_contrasts,
    summarise_draws,
)
from triad.fit_result import FitResult
from triad.likelihoods import likelihood
from triad.modeldata import ModelData
from triad.published import load_claims
from triad.sensitivity import add_log_densities, loo_pointwise, power_scaling
from triad.specs import ModelSpec

__all__ = ["ROPE_WIDTHS_SD", "add_derived_draws", "loo_data_key", "ppc_summary",
           "sensitivity_and_loo", "summarise"]


def add_derived_draws(idata: xr.DataTree, spec: ModelSpec, units: pd.DataFrame,
                      draws: np.ndarray, prior_draws: np.ndarray, latent, counterfactual,
                      chains: int) -> None:
    """Store the draws of every named contrast, claim pair and cell mean in the fit.

    Contrasts come in the estimands of :mod:`triad.estimands`: the families' descriptive
    rows, their equally sector-weighted twins, and adjusted gender and age effects.
    """
    from triad.estimands import standardised_contrasts

    post, prior = contrast_dataset(draws, units, spec.contrasts, prior_draws=prior_draws,
                                   chains=chains)
    if latent is not None:
        lat, lat_prior = contrast_dataset(latent[0], units, spec.contrasts,
                                          prior_draws=latent[1], chains=chains,
                                          suffix="_latent")
        post = xr.concat([post, lat], dim="contrast")
        prior = xr.concat([prior, lat_prior], dim="contrast")
    posts, priors = [post], [prior]
    standard = standardised_contrasts(post)
    if standard is not None:
        posts.append(standard)
        priors.append(standardised_contrasts(prior))
    if counterfactual is not None:
        # a family may already give a descriptive gender gap (the same quantity): keep one
        new = ~np.isin(counterfactual[0]["contrast"].to_numpy(), post["contrast"].to_numpy())
        posts.append(counterfactual[0].isel(contrast=np.flatnonzero(new)))
        priors.append(counterfactual[1].isel(contrast=np.flatnonzero(new)))
    if spec.hypotheses:
        from triad.hypotheses import hypothesis_dataset

        hyp, hyp_prior = hypothesis_dataset(draws, units, spec.hypotheses,
                                            prior_draws=prior_draws, chains=chains)
        posts.append(hyp)
        priors.append(hyp_prior)
    post = xr.concat(posts, dim="contrast")
    prior = xr.concat(priors, dim="contrast")
    claims, claims_prior = claim_dataset(draws, units, load_claims(), prior_draws=prior_draws,
                                         chains=chains)
    if spec.claim_pairs == "gaps":  # the all-gaps universe reads the gap claims only
        from triad.gaps import gap_pairs_only

        claims, claims_prior = gap_pairs_only(claims, claims_prior)
    sds, mids = _pooled_sds(units, spec), _mids()
    latent_sd = {"cumulative_logit": np.pi / np.sqrt(3), "cumulative_probit": 1.0}.get(
        spec.family, np.nan)

    def scale_coords(values: xr.DataArray, dim: str) -> xr.DataArray:
        names = values["name"].to_numpy().astype(str) if "name" in values.coords else (
            np.full(values.sizes[dim], ""))
        sd = [latent_sd if n.endswith("_latent") else sds.get(str(sc), np.nan)
              for n, sc in zip(names, values["scale"].to_numpy(), strict=True)]
        mid = [np.nan if n.endswith("_latent") else mids.get(str(sc), np.nan)
               for n, sc in zip(names, values["scale"].to_numpy(), strict=True)]
        return values.assign_coords(sd_pooled=(dim, np.asarray(sd, dtype=float)),
                                    mid=(dim, np.asarray(mid, dtype=float)))

    post, prior = scale_coords(post, "contrast"), scale_coords(prior, "contrast")
    claims, claims_prior = scale_coords(claims, "pair"), scale_coords(claims_prior, "pair")
    groups = {"contrast_draws": post, "contrast_draws_prior": prior, "claim_draws": claims,
              "claim_draws_prior": claims_prior,
              "cell_mean_draws": _cell_mean_dataset(draws, units, chains)}
    for group, values in groups.items():
        name = "mean" if values.dims[-1] == "cell" else "difference"
        idata[group] = xr.DataTree(xr.Dataset({name: values}))


def _pooled_sds(units: pd.DataFrame, spec: ModelSpec) -> dict[str, float]:
    """Pooled within-cell SD of each scale's observed scores (the ROPE's and BF's unit).

    Cells are rater x target x sector; item-level models pool the respondents' item means;
    the summary model pools the published cells' SDs (sector cells only, each person
    once).  A paired contrast of two scales (label ``a-b``) uses both scales' cells.
    """
    if spec.data == "summary":
        cells = units[units["partition"] == "sector"] if "partition" in units else units
        parts = {sc: (c["n"] - 1, c["sd"] ** 2) for sc, c in cells.groupby("scale")}
    else:
        score = units[likelihood(spec.family).response].astype(float)
        per = units.assign(_score=score).groupby(["scale", "cell", "respondent"])[
            "_score"].mean().reset_index()
        stats = per.groupby(["scale", "cell"])["_score"].agg(["count", "var"]).reset_index()
        stats = stats[stats["count"] > 1]
        parts = {sc: (c["count"] - 1, c["var"]) for sc, c in stats.groupby("scale")}
    out = {sc: float(np.sqrt((df * var).sum() / df.sum())) for sc, (df, var) in parts.items()}
    # a paired contrast of two scales is labelled 'a-b': pool both scales' cells
    for a_, b_ in ((x, y) for x in parts for y in parts if x != y):
        both = [parts[a_], parts[b_]]
        out[f"{a_}-{b_}"] = float(np.sqrt(sum((d * v).sum() for d, v in both)
                                          / sum(d.sum() for d, _ in both)))
    return out


def _mids() -> dict[str, float]:
    from triad.codebook import load_codebook

    return {sid: sc.mid for sid, sc in load_codebook().scales.items() if sc.mid is not None}


def _cell_mean_dataset(draws: np.ndarray, units: pd.DataFrame, chains: int) -> xr.DataArray:
    """Draw every role x target x sector (x gender) group mean: dims (chain, draw, cell)."""
    keys = ["scale", "role", "target", "sector"] + (["gender"] if "partition" in units else [])
    weights = units["weight"].to_numpy(dtype=float)
    cols, rows = [], []
    for key, part in units.groupby(keys, sort=True):
        idx = part.index.to_numpy()
        cols.append(draws[:, idx] @ weights[idx] / weights[idx].sum())
        rows.append((*key, int(len(idx)) if "partition" not in units else
                     int(weights[idx].sum())))
    values = np.stack(cols, axis=-1)
    coords = {"cell": ["|".join(str(k) for k in r[:-1]) for r in rows]}
    coords.update({k: ("cell", [r[i] for r in rows]) for i, k in enumerate([*keys, "n"])})
    return xr.DataArray(values.reshape(chains, -1, values.shape[-1]),
                        dims=("chain", "draw", "cell"), coords=coords)


def summarise(result: FitResult, *, rope: float | None, rope_sd: float, ci_prob: float
              ) -> None:
    """Fill the result's contrasts, claims and cell-means tables from its stored draws."""
    idata, model = result.idata, result.spec.name
    source = result.record["data_source"]

    def draws(group: str, name: str):
        return idata[group][name] if group in idata.children else None

    contrasts = summarise_contrasts(draws("contrast_draws", "difference"),
                                    draws("contrast_draws_prior", "difference"), model=model,
                                    data_source=source, ci_prob=ci_prob, rope=rope,
                                    rope_sd=rope_sd)
    claims = summarise_claims(draws("claim_draws", "difference"),
                              draws("claim_draws_prior", "difference"), model=model,
                              data_source=source, ci_prob=ci_prob, rope=rope, rope_sd=rope_sd)
    cells = draws("cell_mean_draws", "mean")
    stats = summarise_draws(cells, None, ci_prob=ci_prob, rope=np.nan, dim="cell")
    keys = [k for k in ("scale", "role", "target", "sector", "gender") if k in cells.coords]
    cell_means = pd.DataFrame({k: cells[k].to_numpy() for k in keys}).assign(
        mean=stats["estimate"], ci_low=stats["ci_low"], ci_high=stats["ci_high"],
        n=cells["n"].to_numpy(), model=model, data_source=source)
    passed = result.diagnostics["gates_passed"]
    result.rope_curve = _rope_curve(draws("contrast_draws", "difference"), model,
                                    source).assign(gates_passed=passed)
    result.contrasts = contrasts.assign(gates_passed=passed)
    result.claims = claims.assign(gates_passed=passed)
    result.cell_means = cell_means.assign(gates_passed=passed)


# ROPE half-widths, in pooled within-group SDs, over which P(ROPE) is shown per headline gap
ROPE_WIDTHS_SD = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def _rope_curve(post: xr.DataArray, model: str, source: str) -> pd.DataFrame:
    """P(ROPE) of every descriptive between-group gap at :data:`ROPE_WIDTHS_SD` widths."""
    names = post["name"].to_numpy().astype(str)
    keep = np.flatnonzero(np.char.find(names, "_gap_") >= 0)
    keep = [j for j in keep if str(post["estimand"].values[j]) == "descriptive"
            and not names[j].endswith("_latent")]
    rows = []
    for j in keep:
        col = post.isel(contrast=j)
        values, sd = np.abs(col.to_numpy().ravel()), float(col["sd_pooled"])
        for w in ROPE_WIDTHS_SD:
            rows.append({"contrast": names[j], "scale": str(col["scale"].values),
                         "sector": str(col["sector"].values), "n_a": int(col["n_a"]),
                         "n_b": int(col["n_b"]), "rope_sd": w,
                         "rope": w * sd, "p_rope": float(np.mean(values <= w * sd)),
                         "model": model, "data_source": source})
    return pd.DataFrame(rows, columns=["contrast", "scale", "sector", "n_a", "n_b", "rope_sd",
                                       "rope", "p_rope", "model", "data_source"])


def ppc_summary(idata: xr.DataTree, frame: pd.DataFrame, spec: ModelSpec,
                n_draws: int = 200) -> pd.DataFrame:
    """Return the observed vs posterior-predictive distribution of the response, per rater group.

    Scale scores are binned in steps of 0.5; ordinal answers by category.  Replicates
    are the stored posterior predictive's first ``n_draws`` draws.
    """
    pp = idata["posterior_predictive"]
    lik = likelihood(spec.family)
    per_chain = max(1, n_draws // pp.sizes["chain"])
    rep = pp[lik.response].isel(draw=slice(0, per_chain)).stack(s=("chain", "draw")).transpose(
        "s", ...).to_numpy().astype(float) + lik.replicate_offset
    observed = frame[lik.response]
    obs = (observed.astype(int) if lik.ordinal else observed).to_numpy(float)
    edges = lik.ppc_edges(*load_codebook().answer_range(spec.scales[0]))
    rows = []
    for rater in sorted(frame["rater"].unique()):
        mask = (frame["rater"] == rater).to_numpy()
        o = np.histogram(obs[mask], edges)[0] / mask.sum()
        r = np.stack([np.histogram(x[mask], edges)[0] / mask.sum() for x in rep])
        for i in range(len(edges) - 1):
            rows.append({"model": spec.name, "rater": rater, "bin": (edges[i] + edges[i + 1]) / 2,
                         "observed": o[i], "replicated": r[:, i].mean(),
                         "replicated_low": np.quantile(r[:, i], 0.05),
                         "replicated_high": np.quantile(r[:, i], 0.95)})
    return pd.DataFrame(rows)


def loo_data_key(md: ModelData) -> str:
    """Return the hash of the observations the likelihood sees (LOO compares equal keys only)."""
    cols = [c for c in ("respondent", "scale", "item", "cell", "score", "value", "n", "mean",
                        "sd") if c in md.frame.columns]
    return hashlib.sha256(md.frame[cols].to_csv(index=False).encode()).hexdigest()[:16]


def sensitivity_and_loo(spec: ModelSpec, idata: xr.DataTree, pm_model) -> tuple:
    """Compute the power-scaling sensitivity (parameters and contrasts) and PSIS-LOO of a fit.

    Adds the ``log_likelihood`` and ``log_prior`` groups, in float32 as they are stored,
    so that a fresh and a reloaded fit give the same LOO.
    """
    add_log_densities(idata, pm_model, combine="cells" if spec.data == "summary" else None)
    for group in ("log_likelihood", "log_prior"):
        idata[group] = xr.DataTree(idata[group].to_dataset().astype("float32"))
    post = idata["contrast_draws"]["difference"]
    named = {str(c): post.sel(contrast=c).to_numpy().ravel()
             for c in post["contrast"].to_numpy() if not str(c).split("@")[0].endswith(
                 "_latent")}
    table = power_scaling(idata, named)
    loo_summary, loo_point = loo_pointwise(idata)
    return table, loo_summary, loo_point
