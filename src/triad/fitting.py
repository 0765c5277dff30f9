"""Fit a model spec: build, sample, check the gates, compute contrasts, store, cache.

Every stored fit is a folder ``<out>/fits/<model>/<key>/`` holding ``fit.nc``, an
ArviZ DataTree that ``arviz.from_netcdf`` opens with no triad code: posterior,
sample_stats, prior, prior_predictive, observed_data, constant_data (pseudonymous
codes only), log_likelihood and log_prior (float32), posterior_predictive, and the
draws of every named contrast, claim pair and cell mean (groups ``contrast_draws``,
``claim_draws``, ``cell_mean_draws`` and their ``*_prior`` twins).  ``fit.json``
records spec and data hashes, seed, backend, sampler arguments, library versions,
diagnostics and gates; the CSV tables beside it are summaries of the draws
(``ppc_cells.csv``: the per-cell posterior predictive checks of
:mod:`triad.predictive_checks`).  ``key``
hashes everything that determines the draws, so an unchanged fit is read back instead
of re-sampled; the summaries (HDI, P(ROPE), ...) are recomputed from the stored draws
for the ``rope`` and ``ci_prob`` asked for.  A fit folder is written under a temporary
name and renamed when complete: a killed run never leaves a folder that a later run
would read.
"""

import errno
import hashlib
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from triad import sampling
from triad.atomic import low_space, write_error
from triad.codebook import load_codebook
from triad.contrasts import (
    claim_dataset,
    contrast_dataset,
    summarise_claims,
    summarise_contrasts,
    summarise_draws,
)
from triad.missingness import missing_age_record
from triad.modeldata import ModelData, model_frame, summary_frame
from triad.paths import default_data
from triad.predictive_checks import ppc_cell_table
from triad.published import load_claims
from triad.readers import RespondentData, read_respondents
from triad.sensitivity import add_log_densities, loo_pointwise, power_scaling, psens_summary
from triad.specs import ModelSpec, load_spec
from triad.versions import library_versions

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "GATES", "MAX_TREEDEPTH", "MODEL_LIBRARIES",
           "FitResult", "fit", "load_fit", "diagnostics", "energy_diagnostics", "fit_key",
           "respondent_data", "resolve_model", "sampler_args"]

BACKENDS = ("pymc", "nutpie", "numpyro")
# Measured on this 2-core machine with the synthetic default (README, "Backends"):
# numpyro 182 ESS/s vs pymc 94 vs nutpie 57 (metric_inspraak); 28.6 vs 7.9 (ordinal).
DEFAULT_BACKEND = "numpyro"
# E-BFMI below 0.3 (Betancourt 2016) means the momentum resampling explores the energy
# distribution poorly (heavy tails, funnels) even when R-hat looks fine.  A draw whose
# trajectory reached the maximum tree depth was cut off before it U-turned: a few such
# draws are noted; more than 1% fail the fit, as a sign of a geometry (strong correlation,
# a funnel) that the step size cannot cross and that may hide parts of the posterior.
GATES = {"r_hat_max": 1.01, "ess_bulk_min": 400, "ess_tail_min": 400, "divergences_max": 0,
         "ebfmi_min": 0.3, "treedepth_saturated_max": 0.01}
# The maximum tree depth triad samples with: the default of all three backends (numpyro
# max_tree_depth, PyMC max_treedepth, nutpie maxdepth); triad passes none of them.
MAX_TREEDEPTH = 10
MODEL_LIBRARIES = ("triad", "pymc", "bambi", "arviz", "pytensor", "numpy", "pandas", "nutpie",
              "numpyro", "jax")
PRIOR_DRAWS = 1000
# Bumped whenever a stored fit gains or changes a file: older folders are refitted.
# 10: keyed respondent codes in code order (format 9 fits hold unkeyed, linkable codes);
#     E-BFMI and tree-depth gates in fit.json, ppc_cells.csv.
FIT_FORMAT = 10
FIT_FILES = ("fit.json", "fit.nc", "contrasts.csv", "claims.csv", "cell_means.csv", "ppc.csv",
             "ppc_cells.csv", "excluded.csv", "sensitivity.csv", "loo.csv",
             "rope_sensitivity.csv")


@dataclass
class FitResult:
    """A fitted (or cached) model: posterior, diagnostics, gates, contrasts.

    ``idata`` is the fit's ArviZ DataTree (as stored in ``fit.nc``); ``contrasts``,
    ``claims`` and ``cell_means`` are tidy tables summarising its stored draws.
    """

    spec: ModelSpec
    idata: xr.DataTree
    diagnostics: dict
    contrasts: pd.DataFrame
    record: dict
    path: Path | None
    cached: bool = False
    claims: pd.DataFrame | None = None
    cell_means: pd.DataFrame | None = None
    ppc: pd.DataFrame | None = None
    ppc_cells: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    loo: pd.DataFrame | None = None
    rope_curve: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        """Whether every sampler gate passed."""
        return bool(self.diagnostics["gates_passed"])


def _versions() -> dict:
    return library_versions(MODEL_LIBRARIES)


def sampler_args(spec: ModelSpec, quick: bool) -> dict:
    """Sampler arguments of a fit: the defaults, the spec's ``[sampler]``, quick overrides."""
    args = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.9, "seed": 1,
            "prior_draws": PRIOR_DRAWS}
    args.update(spec.sampler)
    if quick:
        args.update({"draws": 200, "tune": 200, "chains": 2, "prior_draws": 250, **spec.quick})
    return args


def fit_key(spec: ModelSpec, data_hash: str, backend: str, args: dict) -> str:
    """Cache key: hash of spec file, data, backend, sampler arguments, claims, triad version."""
    from triad.paths import data_dir

    claims = hashlib.sha256((data_dir() / "published" / "claims.csv").read_bytes()).hexdigest()
    payload = json.dumps({"spec": spec.sha256, "data": data_hash, "backend": backend,
                          "args": args, "triad": _versions()["triad"], "claims": claims},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def energy_diagnostics(sample_stats: xr.Dataset | xr.DataTree | None,
                       max_treedepth: int = MAX_TREEDEPTH) -> dict:
    """E-BFMI and tree-depth saturation of a NUTS run from its ``sample_stats``.

    Parameters
    ----------
    sample_stats : Dataset or DataTree, optional
        The fit's ``sample_stats`` group (dims ``chain``, ``draw``).
    max_treedepth : int
        The sampler's maximum tree depth.

    Returns
    -------
    dict
        ``ebfmi_min`` (smallest per-chain E-BFMI, ArviZ's ``bfmi`` of ``energy``; NaN
        without energies), ``treedepth_saturated_share`` (share of draws whose
        trajectory reached ``max_treedepth``; NaN without a depth statistic) and
        ``max_treedepth``.

    Notes
    -----
    The backends name the statistics differently: numpyro (through PyMC) stores
    ``tree_depth`` = floor(log2(n_steps)) + 1, PyMC's own NUTS ``tree_depth`` and the
    flag ``reached_max_treedepth``, nutpie ``depth`` and ``maxdepth_reached``.  A flag,
    where stored, is used as is; otherwise a draw is saturated when its depth is at
    least ``max_treedepth`` (Stan's convention: a trajectory that U-turned during the
    last allowed doubling counts too, so the share errs on the side of caution).
    """
    ebfmi, share = np.nan, np.nan
    if isinstance(sample_stats, xr.DataTree):
        sample_stats = sample_stats.to_dataset()
    if sample_stats is not None and "energy" in sample_stats:
        from arviz_stats import bfmi

        # per chain: sum of squared energy changes over the sum of squared deviations
        # from the chain's mean energy (Betancourt 2016, eq. 5; tests check the formula)
        ebfmi = float(np.min(bfmi(sample_stats[["energy"]], var_names="energy")["energy"]))
    if sample_stats is not None:
        flag = next((sample_stats[n] for n in ("reached_max_treedepth", "maxdepth_reached")
                     if n in sample_stats), None)
        depth = next((sample_stats[n] for n in ("tree_depth", "depth") if n in sample_stats),
                     None)
        if flag is not None:
            share = float(flag.to_numpy().astype(bool).mean())
        elif depth is not None:
            share = float((depth.to_numpy() >= max_treedepth).mean())
    return {"ebfmi_min": ebfmi, "treedepth_saturated_share": share,
            "max_treedepth": int(max_treedepth)}


def diagnostics(idata: xr.DataTree, seconds: float | None = None, *,
                max_treedepth: int = MAX_TREEDEPTH) -> dict:
    """R-hat, bulk/tail ESS, divergences, E-BFMI, tree-depth saturation, and the gates.

    ``gates_failed`` gives the reason of every failed gate; ``gates_notes`` what is worth
    a look without failing (a few draws at the maximum tree depth, an E-BFMI that could
    not be computed).
    """
    post = idata["posterior"].to_dataset()
    names = [v for v in post.data_vars if not v.startswith("_")]
    # Unrounded: az.summary rounds to 2 decimals, which would hide an R-hat of 1.014.
    rhat = az.rhat(post[names])
    bulk = az.ess(post[names], method="bulk")
    tail = az.ess(post[names], method="tail")

    def extreme(ds, fn) -> float:
        return float(fn([float(fn(ds[v].values)) for v in ds.data_vars]))

    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    divergences = int(stats["diverging"].sum()) if (
        stats is not None and "diverging" in stats) else 0
    energy = energy_diagnostics(stats, max_treedepth)
    ebfmi, saturated = energy["ebfmi_min"], energy["treedepth_saturated_share"]
    r_hat = extreme(rhat, np.nanmax)
    ess_bulk = extreme(bulk, np.nanmin)
    ess_tail = extreme(tail, np.nanmin)
    n_params = int(sum(post[v].size // (post.sizes["chain"] * post.sizes["draw"]) for v in names))
    failed, notes = [], []
    if r_hat > GATES["r_hat_max"]:
        failed.append(f"R-hat {r_hat:.3f} > {GATES['r_hat_max']}")
    if ess_bulk < GATES["ess_bulk_min"]:
        failed.append(f"bulk ESS {ess_bulk:.0f} < {GATES['ess_bulk_min']}")
    if ess_tail < GATES["ess_tail_min"]:
        failed.append(f"tail ESS {ess_tail:.0f} < {GATES['ess_tail_min']}")
    if divergences > GATES["divergences_max"]:
        failed.append(f"{divergences} divergences")
    if ebfmi < GATES["ebfmi_min"]:  # NaN (no energies) compares False: noted below
        failed.append(f"E-BFMI {ebfmi:.2f} < {GATES['ebfmi_min']}")
    elif np.isnan(ebfmi):
        notes.append("E-BFMI not computed (no energy in sample_stats)")
    depth_text = (f"{saturated:.1%} of draws at the maximum tree depth {max_treedepth}")
    if saturated > GATES["treedepth_saturated_max"]:
        failed.append(f"{depth_text} > {GATES['treedepth_saturated_max']:.0%}")
    elif saturated > 0:
        notes.append(depth_text)
    elif np.isnan(saturated):
        notes.append("tree depth not recorded in sample_stats")
    return {"r_hat_max": r_hat, "ess_bulk_min": ess_bulk, "ess_tail_min": ess_tail,
            "divergences": divergences, **energy, "gates_passed": not failed,
            "gates_failed": "; ".join(failed), "gates_notes": "; ".join(notes),
            "seconds": seconds, "parameters": n_params}


# --------------------------------------------------------------------------- models


def _prior(spec_prior: dict, term: str = ""):
    import bambi as bmb

    params = {}
    for k, v in spec_prior.items():
        if k in ("dist", "why"):
            continue
        params[k] = _prior(v) if isinstance(v, dict) else (np.asarray(v, dtype=float)
                                                            if isinstance(v, list) else v)
    if term == "threshold":
        # Cut points of a cumulative model must stay ordered (as Bambi's default prior does).
        from pymc.distributions.transforms import ordered

        params["transform"] = ordered
    return bmb.Prior(spec_prior["dist"], **params)


def _bambi_priors(spec: ModelSpec) -> dict:
    priors: dict = {}
    for term, p in spec.priors.items():
        if "/" in term:  # 'sigma/rater': a term of a distributional parameter's formula
            param, sub = term.split("/", 1)
            priors.setdefault(param, {})[sub] = _prior(p)
        else:
            priors[term] = _prior(p, term)
    return priors


def _bambi_model(spec: ModelSpec, frame: pd.DataFrame):
    import bambi as bmb

    from triad.missingness import fitted_spec

    # an age_missing term is not fitted when no age is missing (its column would be 0)
    spec, _ = fitted_spec(spec, frame)
    formula = spec.formula
    if spec.ordinal:
        formula = formula.replace("score", "value", 1) if formula.startswith("score") else formula
        family, link = "cumulative", spec.family.split("_")[1]
        model = bmb.Model(formula, frame, family=family, link=link,
                          priors=_bambi_priors(spec), noncentered=spec.noncentered)
        _check_priors_cover(spec, model)
        return model
    family = "gaussian" if spec.family == "gaussian" else "t"
    bf = bmb.Formula(formula, spec.sigma_formula) if spec.sigma_formula else bmb.Formula(formula)
    model = bmb.Model(bf, frame, family=family, priors=_bambi_priors(spec),
                      noncentered=spec.noncentered)
    _check_priors_cover(spec, model)
    return model


def _check_priors_cover(spec: ModelSpec, model) -> None:
    """Every term must take its prior from the spec, not from Bambi's data-based default."""
    from triad.specs import SpecError

    missing = []
    for param, comp in model.components.items():
        for term in getattr(comp, "terms", {}):
            key = term if param in ("mu", "p") else f"{param}/{term}"
            if key not in spec.priors:
                missing.append(key)
    if missing:
        raise SpecError(spec.path, "priors", "no prior for term(s) " + ", ".join(
            repr(m) for m in missing) + " (every term needs one, with a 'why')")


def _expected(model, idata: xr.DataTree, spec: ModelSpec,
              latent: bool = False, data: pd.DataFrame | None = None) -> np.ndarray:
    """Posterior draws x rows of each row's expected 1-5 score (or latent location).

    ``data``: a modified copy of the model frame (counterfactual predictions).
    """
    from triad.ordinal_model import OrdinalModel

    if isinstance(model, OrdinalModel):  # disc/thresholds by rater: PyMC, not Bambi
        return model.expected(idata, latent=latent, data=data)
    cumulative = spec.ordinal and "p" in idata["posterior"] and data is None
    if cumulative:
        # prior draws hold PyMC's own deterministic p: the cumulative P(Y <= k), k < K
        post = idata["posterior"]
    else:
        # Bambi's predict gives the K category probabilities
        post = model.predict(idata, kind="response_params", inplace=False,
                             data=data)["posterior"]
    if spec.ordinal:
        p = post["p"].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
        if cumulative:
            p = np.diff(p, axis=-1, prepend=0.0, append=1.0)
        if not latent:
            return p @ np.arange(1, p.shape[-1] + 1)
        # P(Y <= 1) = F(threshold_1 - eta)  =>  eta = threshold_1 - F^-1(p_1)
        from scipy import stats

        theta = post["threshold"].stack(sample=("chain", "draw")).transpose(
            "sample", ...).to_numpy()[:, 0]
        p1 = np.clip(p[..., 0], 1e-12, 1 - 1e-12)
        inverse = stats.norm.ppf if spec.family.endswith("probit") else (
            lambda q: np.log(q / (1 - q)))
        return theta[:, None] - inverse(p1)
    return post["mu"].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()


def _summary_model(frame: pd.DataFrame, spec: ModelSpec):
    """PyMC model of printed cells' n, M and SD (exact normal-theory likelihood).

    One partition of the people per likelihood block (issue 15): the sector cells
    (Tables 5-9) and the gender cells (Tables 10-12) describe the same professionals,
    so they share no parameter.  Sector cells are partially pooled around a mean per
    scale x rater>target group with one spread per scale; gender cells get a fixed
    mean each, like the respondent models' ``group_gender`` means.  The joint
    posterior factorises into the two blocks: a contrast uses one block only
    (:meth:`triad.contrasts.Selector.mask`), so every person counts once.

    Paired cells (:mod:`triad.paired`: Belangrijk and Lukt, about youths and about
    parents, same people) have correlated sampling errors, ``Cov = r s_a s_b n_ab /
    (n_a n_b)``.  A latent standard normal per pair carries the shared part: ``M_a =
    mu_a + l_a z + e_a`` with ``l_a = s_a sqrt(|r| n_ab) / n_a`` (sign of r on the
    second member) and ``Var e_a = s_a^2 / n_a - l_a^2``; integrating z out gives the
    bivariate normal exactly.  Unlike conditioning M_b on the observed M_a, this keeps
    the data out of the graph, so prior predictive draws and SBC's data swap stay
    right.
    """
    import pymc as pm
    import pytensor.tensor as pt

    n = frame["n"].to_numpy(dtype=float)
    sector = (frame["partition"] == "sector").to_numpy() if "partition" in frame else (
        np.ones(len(frame), dtype=bool))
    rows_s, rows_g = np.flatnonzero(sector), np.flatnonzero(~sector)
    fs = frame.iloc[rows_s]
    scales = sorted(fs["scale"].unique())
    s_idx = fs["scale"].map({s: i for i, s in enumerate(scales)}).to_numpy()
    # Sector cells are pooled within their scale x rater>target group, around a fixed mean.
    group = fs["scale"] + ":" + fs["rater"] + ">" + fs["target"]
    groups = sorted(group.unique())
    g_idx = group.map({g: i for i, g in enumerate(groups)}).to_numpy()
    labels = frame["cell"] + "|" + frame["scale"]
    pair = frame["pair"].to_numpy(dtype=str) if "pair" in frame else np.full(len(frame), "")
    pairs = sorted(set(pair) - {""})
    p = spec.priors

    def prior(name: str, default: tuple) -> tuple:
        q = p.get(name, {})
        return q.get("dist", default[0]), {k: v for k, v in q.items()
                                           if k not in ("dist", "why")} or default[1]

    coords = {"scale": scales, "group": groups, "cell": labels,
              "sector_cell": labels.iloc[rows_s], "gender_cell": labels.iloc[rows_g],
              "pair": pairs}
    with pm.Model(coords=coords) as model:
        d, kw = prior("group_mean", ("Normal", {"mu": 3.5, "sigma": 1.0}))
        group_mean = getattr(pm, d)("group_mean", dims="group", **kw)
        d, kw = prior("cell_sd", ("HalfNormal", {"sigma": 0.5}))
        cell_sd = getattr(pm, d)("cell_sd", dims="scale", **kw)
        if spec.noncentered:
            z = pm.Normal("cell_z", 0.0, 1.0, dims="sector_cell")
            mu_s = group_mean[g_idx] + cell_sd[s_idx] * z
        else:
            mu_s = pm.Normal("cell_mu", group_mean[g_idx], cell_sd[s_idx], dims="sector_cell")
        mu = pt.zeros(len(frame))
        mu = pt.set_subtensor(mu[rows_s], mu_s)
        if len(rows_g):
            # a fixed mean per gender cell: the group-mean prior, no pooling across genders
            d, kw = prior("group_mean", ("Normal", {"mu": 3.5, "sigma": 1.0}))
            mu = pt.set_subtensor(mu[rows_g], getattr(pm, d)("gender_mean", dims="gender_cell",
                                                             **kw))
        mu = pm.Deterministic("mu", mu, dims="cell")
        d, kw = prior("sigma", ("LogNormal", {"mu": -0.5, "sigma": 0.7}))
        sigma = getattr(pm, d)("sigma", dims="cell", **kw)
        se = sigma / np.sqrt(n)
        loc, scale = mu, se
        if pairs:
            p_idx = np.array([pairs.index(x) if x else 0 for x in pair])
            r = frame["pair_r"].to_numpy(dtype=float) * (pair != "")
            # share of a member's sampling variance that its partner shares (below 1: a
            # file's cell whose two scores coincide would leave no own error)
            share = np.clip(np.abs(r) * frame["pair_n"].to_numpy(dtype=float) / n, 0.0, 0.99)
            second = np.zeros(len(frame), dtype=bool)
            for x in pairs:
                second[np.flatnonzero(pair == x)[1]] = True
            sign = np.where(second & (r < 0), -1.0, 1.0)
            pair_z = pm.Normal("pair_z", 0.0, 1.0, dims="pair")
            loc = mu + sign * np.sqrt(share) * se * pair_z[p_idx]
            scale = se * np.sqrt(1.0 - share)
        pm.Normal("cell_mean", mu=loc, sigma=scale,
                  observed=frame["mean"].to_numpy(dtype=float), dims="cell")
        # (n-1) s^2 / sigma^2 ~ chi2(n-1)  <=>  s^2 ~ Gamma((n-1)/2, rate=(n-1)/(2 sigma^2)).
        # Paired cells' sample variances correlate too (r^2, 0.24 at r = .49); ignored:
        # they inform sigma, which moves a contrast's SD only at second order.
        pm.Gamma("cell_var", alpha=(n - 1) / 2, beta=(n - 1) / (2 * sigma**2),
                 observed=frame["sd"].to_numpy(dtype=float) ** 2, dims="cell")
    return model


# --------------------------------------------------------------------------- fit


def respondent_data(data: RespondentData | str | Path | None = None) -> RespondentData:
    """Return ``data`` loaded (a path is read and validated); None: the synthetic default.

    Raises
    ------
    FileNotFoundError
        If ``data`` is None and the embedded synthetic data set is missing.
    """
    if isinstance(data, RespondentData):
        return data
    if data is None:
        data = default_data()
        if data is None:
            raise FileNotFoundError("no respondent data given and no embedded synthetic "
                                    "data set (data/synthetic/respondents.csv)")
    return read_respondents(data)


def _data_hash(data: RespondentData | None, md: ModelData) -> str:
    if data is not None and data.path.is_file():
        return hashlib.sha256(data.path.read_bytes()).hexdigest()
    return hashlib.sha256(md.frame.to_csv(index=False).encode()).hexdigest()


def resolve_model(spec: ModelSpec | str | Path) -> ModelSpec:
    """Return the spec given as itself, a spec file's path, or a shipped spec's name."""
    if isinstance(spec, ModelSpec):
        return spec
    from triad.paths import models_dir

    text = str(spec)
    path = Path(text) if text.endswith(".toml") or Path(text).is_file() else (
        models_dir() / f"{text}.toml")
    if not path.is_file():
        from triad.specs import SpecError

        known = ", ".join(sorted(p.stem for p in models_dir().glob("*.toml")))
        raise SpecError(path, "name", f"no model spec {text!r} (shipped specs: {known})")
    return load_spec(path)


def fit(
    spec: ModelSpec | str | Path,
    data: RespondentData | str | Path | None = None,
    *,
    cells: pd.DataFrame | None = None,
    backend: str = DEFAULT_BACKEND,
    quick: bool = False,
    out: str | Path | None = None,
    use_cache: bool = True,
    rope: float | None = None,
    rope_sd: float = 0.1,
    ci_prob: float = 0.95,
    cores: int | None = None,
) -> FitResult:
    """Fit one model spec.

    Parameters
    ----------
    spec : ModelSpec, str or path
        A spec, a spec file, or the name of a shipped spec (``"metric_inspraak"``).
    data : RespondentData or path, optional
        Respondent data for respondent models; default the embedded synthetic file.
    cells : DataFrame, optional
        Summary models: cells in the published layout (default the report's tables).
    backend : {"pymc", "nutpie", "numpyro"}
    quick : bool
        Few draws for a smoke run (the record says so; gates still reported).
    out : path, optional
        Results folder; fits go to ``out/fits``.  None: nothing is stored or cached.
    use_cache : bool
        Read a stored fit with the same key instead of sampling.
    rope : float, optional
        ROPE half-width in scale points for every contrast; default ``rope_sd`` x the
        pooled within-group SD of each contrast's scale (or the codebook's MID).
    rope_sd, ci_prob : float
        Summary settings; a cached fit's tables are recomputed from its draws with these.
    cores : int, optional
        Processes for the chains (pymc backend); default one per chain up to the CPUs.

    Returns
    -------
    FitResult
    """
    spec = resolve_model(spec)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    resp: RespondentData | None = None
    if spec.data == "respondent":
        resp = respondent_data(data)
        md = model_frame(resp, spec)
    else:
        source, scores = "published", None
        if data is not None:
            from triad.cells import cells_from_scores
            from triad.scores import scale_scores

            resp = respondent_data(data)
            scores = scale_scores(resp.wide)
            cells = cells_from_scores(scores, decimals=None)
            source = resp.data_source
        # a file's cells come with the file's own correlations of paired cells
        md = summary_frame(spec, cells, data_source=source if cells is not None or
                           data is not None else "published", scores=scores)
    args = sampler_args(spec, quick)
    key = fit_key(spec, _data_hash(resp, md), backend, args)
    folder = Path(out) / "fits" / spec.name / key if out is not None else None
    if folder is not None and use_cache and _valid_cache(folder):
        return _load(spec, folder, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)

    start = time.perf_counter()
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.ERROR)
    try:
        idata, draws, prior_draws, units, latent, pm_model, counterfactual = _sample_all(
            spec, md, args, backend, cores)
    finally:
        pymc_log.setLevel(level)
    seconds = time.perf_counter() - start
    diag = diagnostics(idata, seconds)
    _add_derived_draws(idata, spec, units, draws, prior_draws, latent, counterfactual,
                       args["chains"])
    start = time.perf_counter()
    sensitivity, loo_summary, loo_point = _sensitivity(spec, idata, pm_model)
    diag.update(psens_summary(sensitivity), **loo_summary, loo_data_key=_loo_data_key(md),
                sensitivity_seconds=round(time.perf_counter() - start, 2))
    record = {
        "model": spec.name, "key": key, "spec_path": str(spec.path), "variant": spec.variant,
        "spec_sha256": spec.sha256,
        "data_source": md.data_source, "data_sha256": _data_hash(resp, md),
        "rows": int(len(md.frame)), "excluded_rows": int(len(md.excluded)),
        "missing_age": missing_age_record(spec, md.frame, md.excluded),
        "backend": backend, "sampler": args, "quick": quick, "seed": args["seed"],
        "versions": _versions(), "diagnostics": diag, "gates": GATES, "format": FIT_FORMAT,
        # the settings of the stored summary tables (reused only when asked for again)
        "summary_settings": _summary_settings(rope, rope_sd, ci_prob),
    }
    ppc = _ppc_summary(idata, md.frame, spec) if spec.data == "respondent" else pd.DataFrame()
    ppc_cells = ppc_cell_table(idata, model=spec.name, data_source=md.data_source)
    result = FitResult(spec, idata, diag, pd.DataFrame(), record, folder, ppc=ppc,
                       ppc_cells=ppc_cells, sensitivity=sensitivity, loo=loo_point)
    _summarise(result, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)
    if folder is not None:
        _store(result, md)
        # the tables as stored (CSV round trip): a later cached read gives the same frames
        _read_tables(result, folder)
    return result


def load_fit(name_or_path: str | Path, *, out: str | Path = "results",
             rope: float | None = None, rope_sd: float = 0.1,
             ci_prob: float = 0.95) -> FitResult:
    """Open a stored fit: a fit folder (or its ``fit.nc``), or a model name.

    A model name opens the newest complete fit of that model under ``out/fits/<name>/``.
    The tables are recomputed from the stored draws with ``rope`` (or ``rope_sd``) and
    ``ci_prob``, as :func:`fit` computes them.

    Raises
    ------
    FileNotFoundError
        If no complete stored fit is found.
    """
    path = Path(name_or_path)
    if path.name == "fit.nc":
        path = path.parent
    if not _valid_cache(path):
        base = Path(out) / "fits" / str(name_or_path)
        found = sorted((f for f in base.glob("*") if _valid_cache(f)),
                       key=lambda f: (f / "fit.json").stat().st_mtime)
        if not found:
            raise FileNotFoundError(f"no complete stored fit at {path} or under {base} "
                                    f"(run `triad fit {name_or_path} --out {out}` first)")
        path = found[-1]
    record = json.loads((path / "fit.json").read_text())
    from triad.multiverse import resolve_spec

    spec = resolve_spec(record["spec_path"], record.get("variant", ""))
    return _load(spec, path, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)


def _loo_data_key(md: ModelData) -> str:
    """Hash of the observations a model's likelihood sees (LOO compares equal keys only)."""
    cols = [c for c in ("respondent", "scale", "item", "cell", "score", "value", "n", "mean",
                        "sd") if c in md.frame.columns]
    return hashlib.sha256(md.frame[cols].to_csv(index=False).encode()).hexdigest()[:16]


def _sensitivity(spec: ModelSpec, idata: xr.DataTree, pm_model) -> tuple:
    """Power-scaling sensitivity (parameters and contrasts) and PSIS-LOO of a fit.

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


def _sample_all(spec: ModelSpec, md: ModelData, args: dict, backend: str,
                n_cores: int | None) -> tuple:
    """Sample posterior, prior and posterior predictive; return them with the units.

    Returns idata, unit draws, prior unit draws, units, latent draws, PyMC model.
    ``latent`` is (posterior, prior) draws of each row's latent location for ordinal
    models, else None.
    """
    import pymc as pm

    with warnings.catch_warnings():
        # Sampler chatter (BLAS advice, "run 4 chains") is replaced by our own gate report.
        warnings.simplefilter("ignore")
        if spec.data == "respondent" and spec.pymc_ordinal:
            from triad.ordinal_model import sample_ordinal

            idata, prior, draws, prior_draws, latent, counterfactual, model = sample_ordinal(
                spec, md.frame, args, backend, n_cores)
            units = md.frame.assign(weight=1.0)
            pm_model = model.model
        elif spec.data == "respondent":
            model = _bambi_model(spec, md.frame)
            model.build()
            idata = sampling.sample_posterior(model.backend.model, args, backend, n_cores)
            with model.backend.model:
                prior = pm.sample_prior_predictive(
                    draws=args["prior_draws"] * (4 if spec.ordinal else 1),
                    random_seed=args["seed"])
            draws = _expected(model, idata, spec)
            prior_post = prior["prior"].to_dataset()
            if spec.ordinal:
                # Forward prior draws ignore the 'ordered' transform; the constrained prior is
                # the unconstrained one restricted to ordered cut points, so keep those draws.
                theta = prior_post["threshold"].values
                keep = np.all(np.diff(theta, axis=-1) > 0, axis=-1)[0]
                prior_post = prior_post.isel(draw=np.flatnonzero(keep))
            prior_idata = xr.DataTree.from_dict({"posterior": prior_post})
            prior_draws = _expected(model, prior_idata, spec)
            latent = (_expected(model, idata, spec, latent=True),
                      _expected(model, prior_idata, spec, latent=True)) if spec.ordinal else None
            counterfactual = sampling.counterfactual_draws(
                lambda tree, alt: _expected(model, tree, spec, data=alt), idata, prior_idata,
                spec, md.frame, draws, prior_draws, args["chains"])
            # Per-observation prior deterministics (mu, p) are recomputable and large.
            obs_vars = [v for v in prior["prior"].data_vars
                        if "__obs__" in prior["prior"][v].dims]
            prior["prior"] = xr.DataTree(prior["prior"].to_dataset().drop_vars(obs_vars))
            idata["posterior_predictive"] = xr.DataTree(_posterior_predictive(model, idata,
                                                                              spec, args))
            units = md.frame.assign(weight=1.0)
            pm_model = model.backend.model
        else:
            model = _summary_model(md.frame, spec)
            idata = sampling.sample_posterior(model, args, backend, n_cores)
            with model:
                prior = pm.sample_prior_predictive(draws=args["prior_draws"],
                                                   random_seed=args["seed"])
                pp = pm.sample_posterior_predictive(idata, random_seed=args["seed"],
                                                    progressbar=False)
            idata["posterior_predictive"] = xr.DataTree(
                pp["posterior_predictive"].to_dataset().astype("float32"))
            draws = idata["posterior"]["mu"].stack(s=("chain", "draw")).transpose(
                "s", ...).values
            prior_draws = prior["prior"]["mu"].stack(s=("chain", "draw")).transpose(
                "s", ...).values
            units = md.frame.assign(weight=md.frame["n"].astype(float))
            latent = counterfactual = None
            pm_model = model
    for group in ("prior", "prior_predictive", "observed_data"):
        if group in prior.children and group not in idata.children:
            idata[group] = prior[group]
    idata["constant_data"] = xr.DataTree(_constant_data(md.frame, spec))
    return idata, draws, prior_draws, units, latent, pm_model, counterfactual


# The predictors of each observation stored with a fit ('respondent' is the pseudonymous
# code; the file's respondent ids never enter a fit file).
_CONSTANT_COLUMNS = ("respondent", "role", "target", "rater", "sector", "gender", "age_z",
                     "age_missing", "scale", "item", "cell", "n", "mean", "sd", "partition",
                     "pair", "pair_r")


def _constant_data(frame: pd.DataFrame, spec: ModelSpec) -> xr.Dataset:
    """Per-observation predictors, on the observation dimension of the fit's other groups."""
    dim = "__obs__" if spec.data == "respondent" else "cell"
    cols = [c for c in _CONSTANT_COLUMNS if c in frame.columns and not (
        dim == "cell" and c == "cell")]
    coords = ({dim: np.arange(len(frame))} if dim == "__obs__" else
              {dim: (frame["cell"] + "|" + frame["scale"]).to_numpy()})
    data = {c: (dim, frame[c].to_numpy() if frame[c].dtype.kind in "fiub" else
                frame[c].astype(str).to_numpy()) for c in cols}
    return xr.Dataset(data, coords=coords)


def _posterior_predictive(model, idata: xr.DataTree, spec: ModelSpec, args: dict
                          ) -> xr.Dataset:
    """Replicated responses for every posterior draw (float32; ordinal answers int8)."""
    if spec.ordinal:
        # Draw the answers from the category probabilities ourselves: Bambi's probit
        # differences of normal CDFs can come out at -1e-17, which its sampler rejects.
        post = model.predict(idata, kind="response_params", inplace=False)["posterior"]
        p = np.clip(post["p"].transpose("chain", "draw", "__obs__", ...).to_numpy(), 0.0, None)
        cum = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
        u = np.random.default_rng(args["seed"]).random(cum.shape[:-1] + (1,))
        # coded as Bambi codes observed_data: category index 0..K-1 (answer 1..K)
        rep = (u > cum).sum(axis=-1).astype("int8")
        return xr.Dataset({"value": (("chain", "draw", "__obs__"), rep)},
                          coords={"chain": post["chain"], "draw": post["draw"]},
                          attrs={"coding": "category index 0..K-1 (answer 1..K), as "
                                           "observed_data"})
    pred = model.predict(idata, kind="response", inplace=False, random_seed=args["seed"])
    return pred["posterior_predictive"].to_dataset().astype("float32")


def _add_derived_draws(idata: xr.DataTree, spec: ModelSpec, units: pd.DataFrame,
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
        score = units["value"].astype(float) if spec.ordinal else units["score"]
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


def _summarise(result: FitResult, *, rope: float | None, rope_sd: float, ci_prob: float
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


def _ppc_summary(idata: xr.DataTree, frame: pd.DataFrame, spec: ModelSpec,
                 n_draws: int = 200) -> pd.DataFrame:
    """Observed vs posterior-predictive distribution of the response, per rater group.

    Scale scores are binned in steps of 0.5; ordinal answers by category.  Replicates
    are the stored posterior predictive's first ``n_draws`` draws.
    """
    pp = idata["posterior_predictive"]
    var = "value" if spec.ordinal else "score"
    per_chain = max(1, n_draws // pp.sizes["chain"])
    rep = pp[var].isel(draw=slice(0, per_chain)).stack(s=("chain", "draw")).transpose(
        "s", ...).to_numpy().astype(float) + (1.0 if spec.ordinal else 0.0)
    obs = (frame["value"].astype(int) if spec.ordinal else frame["score"]).to_numpy(float)
    lo, hi = load_codebook().answer_range(spec.scales[0])
    edges = (np.arange(lo - 0.5, hi + 1.0, 1.0) if spec.ordinal
             else np.arange(lo - 0.25, hi + 0.76, 0.5))
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


def _store(result: FitResult, md: ModelData) -> None:
    folder = result.path
    # Leftovers of a killed run are never read (only the final name is), but clear them.
    for stale in folder.parent.glob(f"{folder.name}.tmp*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        _write_folder(tmp, result, md)
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
    except BaseException as exc:
        # a failed write (disk full) leaves no folder that a later run would read
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(exc, folder) from exc
        if isinstance(exc, Exception) and low_space(folder):
            # netCDF/HDF5 report a full disk as a generic error
            raise write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                              folder) from exc
        raise


def _write_folder(tmp: Path, result: FitResult, md: ModelData) -> None:
    tmp.mkdir(parents=True)
    idata = result.idata
    encoding = {f"/{group}": {v: {"zlib": True, "complevel": 4}
                              for v in idata[group].data_vars}
                for group in idata.children}
    idata.to_netcdf(tmp / "fit.nc", engine="netcdf4", encoding=encoding)
    result.contrasts.to_csv(tmp / "contrasts.csv", index=False)
    result.claims.to_csv(tmp / "claims.csv", index=False)
    result.cell_means.to_csv(tmp / "cell_means.csv", index=False)
    result.ppc.to_csv(tmp / "ppc.csv", index=False)
    result.ppc_cells.to_csv(tmp / "ppc_cells.csv", index=False)
    md.excluded.to_csv(tmp / "excluded.csv", index=False)
    result.sensitivity.to_csv(tmp / "sensitivity.csv", index=False)
    result.loo.to_csv(tmp / "loo.csv", index=False)
    result.rope_curve.to_csv(tmp / "rope_sensitivity.csv", index=False)
    (tmp / "fit.json").write_text(json.dumps(result.record, indent=2, default=float) + "\n")


def _valid_cache(folder: Path) -> bool:
    """Tell whether a stored fit is complete and of the current format (else refit)."""
    if not all((folder / name).is_file() for name in FIT_FILES):
        return False
    try:
        return json.loads((folder / "fit.json").read_text()).get("format") == FIT_FORMAT
    except (json.JSONDecodeError, OSError):
        return False


def _read_sensitivity(path: Path) -> pd.DataFrame:
    # 'diagnosis' is empty for most rows: read it as text, not as a column of NaN floats
    table = pd.read_csv(path, dtype={"diagnosis": "string"})
    table["diagnosis"] = table["diagnosis"].fillna("").astype(object)
    return table


def _load(spec: ModelSpec, folder: Path, *, rope: float | None, rope_sd: float,
          ci_prob: float) -> FitResult:
    record = json.loads((folder / "fit.json").read_text())
    # Eagerly, and the file closed: a lazily opened fit.nc shares its HDF5 handle with any
    # later opening of the same file in the process, and closing that one crashed the
    # reader (SIGSEGV, measured in the kill-and-resume test).
    idata = xr.load_datatree(folder / "fit.nc", engine="netcdf4")
    try:
        ppc = pd.read_csv(folder / "ppc.csv")
    except pd.errors.EmptyDataError:  # summary models have no respondent-level predictions
        ppc = pd.DataFrame()
    result = FitResult(spec, idata, record["diagnostics"], pd.DataFrame(), record, folder,
                       cached=True, ppc=ppc, ppc_cells=pd.read_csv(folder / "ppc_cells.csv"),
                       sensitivity=_read_sensitivity(folder / "sensitivity.csv"),
                       loo=pd.read_csv(folder / "loo.csv"))
    if record.get("summary_settings") == _summary_settings(rope, rope_sd, ci_prob):
        _read_tables(result, folder)
    else:  # other settings than the stored tables': recomputed from the stored draws
        _summarise(result, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)
    return result


def _read_tables(result: FitResult, folder: Path) -> None:
    result.contrasts = _read_table(folder / "contrasts.csv")
    result.claims = _read_table(folder / "claims.csv")
    result.cell_means = _read_table(folder / "cell_means.csv")
    result.rope_curve = _read_table(folder / "rope_sensitivity.csv")


def _summary_settings(rope: float | None, rope_sd: float, ci_prob: float) -> dict:
    return {"rope": rope, "rope_sd": rope_sd, "ci_prob": ci_prob}


def _read_table(path: Path) -> pd.DataFrame:
    # text columns that are empty in every row stay text (pandas would read floats)
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for col in ("bf_prior", "bf_method", "conclusion", "estimand", "data_source"):
        if col in table:
            table[col] = table[col].astype(object).where(table[col].notna(), "")
    return table


# --------------------------------------------------------------------------- public builders
# Thin public entry points for the modules that rebuild a spec's model outside fit()
# (triad.sbc): they build and sample exactly as fit() does, so a check of them is a check
# of the production path.  Appended here rather than in __all__ above to keep this
# module's internals untouched.

__all__ += ["build_model", "sample"]


def build_model(spec: ModelSpec, frame: pd.DataFrame) -> tuple:
    """Build a spec's PyMC model on a model frame, as :func:`fit` builds it.

    Parameters
    ----------
    spec : ModelSpec
    frame : DataFrame
        The model frame (:func:`triad.modeldata.model_frame` for respondent specs,
        :func:`triad.modeldata.summary_frame` for the summary model).

    Returns
    -------
    tuple
        ``(pymc.Model, predictor)``: the Bambi model for respondent specs (it predicts
        expected scores), the :class:`triad.ordinal_model.OrdinalModel` for ordinal specs
        with ``disc`` or ``thresholds``, None for the summary model.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bambi's pandas deprecation notices
        if spec.data == "respondent" and spec.pymc_ordinal:
            from triad.ordinal_model import build

            ordinal = build(spec, frame)
            return ordinal.model, ordinal
        if spec.data == "respondent":
            bmodel = _bambi_model(spec, frame)
            bmodel.build()
            return bmodel.backend.model, bmodel
        return _summary_model(frame, spec), None


def sample(model, args: dict, backend: str = DEFAULT_BACKEND,
           cores: int | None = None) -> xr.DataTree:
    """Sample a model's posterior with a production backend, as :func:`fit` does.

    Parameters
    ----------
    model : pymc.Model
    args : dict
        ``draws, tune, chains, seed, target_accept`` (:func:`sampler_args`).
    backend : {"pymc", "nutpie", "numpyro"}
    cores : int, optional
        Processes for the chains (pymc backend).

    Returns
    -------
    DataTree
        Posterior (free parameters and non-per-observation deterministics) and
        sample_stats.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return sampling.sample_posterior(model, args, backend, cores)
