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

This module is the public face; the parts live in :mod:`triad.model_build` (the Bambi
and summary models, sampling), :mod:`triad.fit_summaries` (the derived draws and their
tables, PPC summary, sensitivity and LOO), :mod:`triad.fit_store` (writing and reading
the fit folder) and :mod:`triad.fit_result` (:class:`FitResult`).
"""

import hashlib
import json
import logging
import os
import time
import warnings
from pathlib import Path

import pandas as pd
import xarray as xr

from triad import sampling
from triad.convergence import GATES, MAX_TREEDEPTH, diagnostics, energy_diagnostics
from triad.fit_result import FitResult
from triad.fit_store import FIT_FORMAT, load, read_tables, store, summary_settings, valid_cache
from triad.fit_summaries import (
    add_derived_draws,
    loo_data_key,
    ppc_summary,
    sensitivity_and_loo,
    summarise,
)
from triad.missingness import missing_age_record
from triad.model_build import bambi_model, sample_all, summary_model
from triad.modeldata import ModelData, model_frame, summary_frame
from triad.paths import default_data
from triad.predictive_checks import ppc_cell_table
from triad.readers import RespondentData, read_respondents
from triad.sensitivity import psens_summary
from triad.specs import ModelSpec, load_spec
from triad.versions import library_versions

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ESS_STOPPING", "GATES", "MAX_TREEDEPTH",
           "MODEL_LIBRARIES", "FitResult", "fit", "load_fit", "diagnostics",
           "energy_diagnostics", "fit_key",
           "respondent_data", "resolve_model", "sampler_args"]

BACKENDS = ("pymc", "nutpie", "numpyro")
# Measured on this 2-core machine with the synthetic default (README, "Backends"):
# numpyro 182 ESS/s vs pymc 94 vs nutpie 57 (metric_inspraak); 28.6 vs 7.9 (ordinal).
DEFAULT_BACKEND = "numpyro"
MODEL_LIBRARIES = ("triad", "pymc", "bambi", "arviz", "pytensor", "numpy", "pandas", "nutpie",
              "numpyro", "jax")
PRIOR_DRAWS = 1000
# A quick (smoke) run caps the trajectories: with 150-300 warm-up iterations the step size
# of the item-level ordinal models is still small and early trees reach the full depth
# (measured: ordinal_inspraak_probit --quick spent 56 s in NUTS at depth 10, 2 x 250
# iterations).  Its gates fail anyway; the cap is recorded with its sampler arguments.
QUICK_MAX_TREEDEPTH = 6
# Draws chosen by target ESS (numpyro backend; triad.sampling.sample_posterior): a spec's
# ``draws`` is the most a chain draws; after 500 draws, and every 250 after, the chains
# stop once every gate passes and every parameter's bulk and tail ESS reaches 500 (the
# gates' 400 with a 25% margin).  Measured on the 56 fits of the main job (their stored
# draws cut at 250-draw steps): 28% fewer iterations, all of them passing.  A spec may
# set any of these in its [sampler]; ``ess_target = 0`` draws all ``draws``.
ESS_STOPPING = {"ess_target": 500, "draws_min": 500, "draws_step": 250}


def _versions() -> dict:
    return library_versions(MODEL_LIBRARIES)


def sampler_args(spec: ModelSpec, quick: bool, backend: str = DEFAULT_BACKEND) -> dict:
    """Sampler arguments of a fit: the defaults, the spec's ``[sampler]``, quick overrides.

    ``dense_mass`` is numpyro's (:func:`triad.sampling.sample_posterior`): with another
    backend it is left out, so the fit records the diagonal mass that backend adapts.
    """
    args = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.9, "seed": 1,
            "prior_draws": PRIOR_DRAWS, **ESS_STOPPING}
    args.update(spec.sampler)
    if backend != "numpyro":
        args.pop("dense_mass", None)
    if quick:
        args.update({"draws": 200, "tune": 200, "chains": 2, "prior_draws": 250,
                     "max_treedepth": QUICK_MAX_TREEDEPTH, **spec.quick})
    return args


def fit_key(spec: ModelSpec, data_hash: str, backend: str, args: dict) -> str:
    """Cache key: hash of spec file, data, backend, sampler arguments, claims, triad version."""
    from triad.paths import data_dir

    claims = hashlib.sha256((data_dir() / "published" / "claims.csv").read_bytes()).hexdigest()
    payload = json.dumps({"spec": spec.sha256, "data": data_hash, "backend": backend,
                          "args": args, "triad": _versions()["triad"], "claims": claims},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


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
    args = sampler_args(spec, quick, backend)
    key = fit_key(spec, _data_hash(resp, md), backend, args)
    folder = Path(out) / "fits" / spec.name / key if out is not None else None
    if folder is not None and use_cache and valid_cache(folder):
        return load(spec, folder, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)

    # compiled samplers beside the results, for later runs and the other worker processes
    sampling.use_compile_cache(Path(out) / "cache" / "jax" if out is not None else None)
    start = time.perf_counter()
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.ERROR)
    try:
        idata, draws, prior_draws, units, latent, pm_model, counterfactual = sample_all(
            spec, md, args, backend, cores)
    finally:
        pymc_log.setLevel(level)
    seconds = time.perf_counter() - start
    checked = idata["posterior"].attrs.pop(sampling.DIAGNOSTICS_ATTR, None)
    diag = ({**json.loads(checked), "seconds": seconds} if checked else
            diagnostics(idata, seconds, max_treedepth=args.get("max_treedepth", MAX_TREEDEPTH)))
    # the draws kept (fewer than the spec's when the gates passed with the ESS target)
    diag.update(draws=int(idata["posterior"].sizes["draw"]),
                draws_by_ess=str(idata["posterior"].attrs.get("draws_by_ess", "")))
    add_derived_draws(idata, spec, units, draws, prior_draws, latent, counterfactual,
                      args["chains"])
    start = time.perf_counter()
    sensitivity, loo_summary, loo_point = sensitivity_and_loo(spec, idata, pm_model)
    diag.update(psens_summary(sensitivity), **loo_summary, loo_data_key=loo_data_key(md),
                sensitivity_seconds=round(time.perf_counter() - start, 2))
    record = {
        "model": spec.name, "key": key, "spec_path": str(spec.path), "variant": spec.variant,
        "spec_sha256": spec.sha256,
        "data_source": md.data_source, "data_sha256": _data_hash(resp, md),
        "rows": int(len(md.frame)), "excluded_rows": int(len(md.excluded)),
        "missing_age": missing_age_record(spec, md.frame, md.excluded),
        "backend": backend, "sampler": args, "quick": quick, "seed": args["seed"],
        "versions": _versions(), "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "diagnostics": diag, "gates": GATES, "format": FIT_FORMAT,
        # the settings of the stored summary tables (reused only when asked for again)
        "summary_settings": summary_settings(rope, rope_sd, ci_prob),
    }
    ppc = ppc_summary(idata, md.frame, spec) if spec.data == "respondent" else pd.DataFrame()
    ppc_cells = ppc_cell_table(idata, model=spec.name, data_source=md.data_source)
    result = FitResult(spec, idata, diag, pd.DataFrame(), record, folder, ppc=ppc,
                       ppc_cells=ppc_cells, sensitivity=sensitivity, loo=loo_point)
    summarise(result, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)
    if folder is not None:
        store(result, md)
        # the tables as stored (CSV round trip): a later cached read gives the same frames
        read_tables(result, folder)
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
    if not valid_cache(path):
        base = Path(out) / "fits" / str(name_or_path)
        found = sorted((f for f in base.glob("*") if valid_cache(f)),
                       key=lambda f: (f / "fit.json").stat().st_mtime)
        if not found:
            raise FileNotFoundError(f"no complete stored fit at {path} or under {base} "
                                    f"(run `triad fit {name_or_path} --out {out}` first)")
        path = found[-1]
    record = json.loads((path / "fit.json").read_text())
    from triad.multiverse import resolve_spec

    spec = resolve_spec(record["spec_path"], record.get("variant", ""))
    return load(spec, path, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)


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
            bmodel = bambi_model(spec, frame)
            bmodel.build()
            return bmodel.backend.model, bmodel
        return summary_model(frame, spec), None


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
