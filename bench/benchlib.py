"""Shared pieces of the benchmarks: data, Stan data, one timed fit per engine.

Every fit runs in its own process (``bench/worker.py``) so that compile caches held in
memory, and peak memory, belong to that fit alone.
"""

import dataclasses
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
try:  # the benchmarks run from a checkout; fall back to its src/ if triad is not installed
    import triad  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(REPO / "src"))

from triad.fitting import sampler_args  # noqa: E402
from triad.model_build import paired_loadings  # noqa: E402
from triad.modeldata import model_frame, summary_frame  # noqa: E402
from triad.ordinal_terms import reference_rater  # noqa: E402
from triad.readers import read_respondents  # noqa: E402

MODELS = ("metric_inspraak", "ordinal_inspraak", "summary_cells")
ENGINES = ("stan", "brms", "numpyro", "pymc", "nutpie")
SCALED_DIR = Path(os.environ.get("TRIAD_BENCH_DATA", "/tmp/triad_bench_data"))
# Parameters whose posterior means Stan and triad must agree on (Bambi name -> Stan name).
KEY_PARAMS = {
    "metric_inspraak": {"group_gender": "group_gender", "age_z:rater": "age_rater",
                        "sigma_rater": "sigma_rater", "1|cell_sigma": "cell_sigma"},
    "ordinal_inspraak": {"threshold": "threshold", "group_gender": "group_gender",
                         "age_z:rater": "age_rater", "1|cell_sigma": "cell_sigma",
                         "1|respondent_sigma": "resp_sigma", "1|item_sigma": "item_sigma",
                         "disc": "disc"},
    "summary_cells": {"group_mean": "group_mean", "cell_sd": "cell_sd_scale"},
}


# Spec fields replaced for every spec this process loads (``worker.py --spec-set``): a
# lever that is a spec setting (e.g. ``noncentered``) measured without editing the spec.
SPEC_OVERRIDES: dict = {}


def spec_of(name: str):
    """Load the spec ``models/youth_partnership/<name>.toml`` (with :data:`SPEC_OVERRIDES`).

    ``model~variant`` loads a multiverse universe as the main job fits it.
    """
    from triad.multiverse import resolve_spec

    model, _, variant = name.partition("~")
    spec = resolve_spec(REPO / "models" / "youth_partnership" / f"{model}.toml", variant)
    return dataclasses.replace(spec, **SPEC_OVERRIDES) if SPEC_OVERRIDES else spec


def respondents(path: str | Path | None):
    """Read a respondent file (default: the embedded synthetic data set)."""
    from triad.paths import default_data

    return read_respondents(path if path is not None else default_data())


def model_data(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """The rows triad fits for model ``name`` (respondent frame or summary cells)."""
    spec = spec_of(name)
    if spec.data == "summary":
        return summary_frame(spec).frame
    return model_frame(respondents(path), spec).frame


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    levels = sorted(values.unique())  # Bambi and summary_model sort levels too
    return values.map({v: i + 1 for i, v in enumerate(levels)}).to_numpy(int), levels


def _summary_stan_data(frame: pd.DataFrame) -> tuple[dict, dict]:
    """Stan data of the summary model, computed as triad.model_build.summary_model does."""
    n = frame["n"].to_numpy(dtype=float)
    sector = (frame["partition"] == "sector").to_numpy() if "partition" in frame else (
        np.ones(len(frame), dtype=bool))
    rows_s, rows_g = np.flatnonzero(sector), np.flatnonzero(~sector)
    fs = frame.iloc[rows_s]
    s_idx, scales = _codes(fs["scale"])
    g_idx, groups = _codes(fs["scale"] + ":" + fs["rater"] + ">" + fs["target"])
    pair = frame["pair"].to_numpy(dtype=str) if "pair" in frame else np.full(len(frame), "")
    pairs = sorted(set(pair) - {""})
    p_idx, loading, resid = paired_loadings(frame)  # the summary model's own
    p_idx = p_idx + 1  # Stan counts from 1 (unpaired cells: 1, with loading 0)
    data = {"N": len(frame), "S": len(scales), "G": len(groups), "NS": len(rows_s),
            "NG": len(rows_g), "P": len(pairs), "sector_rows": rows_s + 1,
            "gender_rows": rows_g + 1, "scale_idx": s_idx, "group_idx": g_idx,
            "pair_idx": p_idx, "loading": loading, "resid": resid, "n": n,
            "cell_mean": frame["mean"].to_numpy(float), "cell_sd": frame["sd"].to_numpy(float)}
    return data, {"group_mean": groups, "cell_sd_scale": scales}


def stan_data(name: str, frame: pd.DataFrame) -> tuple[dict, dict]:
    """Stan data from triad's own model frame, and the level labels of each index.

    Returns
    -------
    data : dict
    levels : dict
        Stan parameter name -> labels of its entries (in Stan's order).
    """
    if name == "summary_cells":
        return _summary_stan_data(frame)
    gg, gg_levels = _codes(frame["group_gender"])
    cell, cells = _codes(frame["cell"])
    rater, raters = _codes(frame["rater"])
    data = {"N": len(frame), "G": len(gg_levels), "C": len(cells), "R": len(raters),
            "gg": gg, "cell_idx": cell, "rater_idx": rater,
            "age_z": frame["age_z"].to_numpy(float)}
    levels = {"age_rater": raters, "cell_sigma": [""]}
    if name == "metric_inspraak":
        data["y"] = frame["score"].to_numpy(float)
        levels.update(group_gender=gg_levels, sigma_rater=raters)
    else:
        resp, _ = _codes(frame["respondent"])
        item, _ = _codes(frame["item"])
        data.update(K=5, P=int(resp.max()), I=int(item.max()), resp_idx=resp, item_idx=item,
                    y=frame["value"].astype(int).to_numpy(),
                    threshold_mu=np.asarray(spec_of(name).priors["threshold"]["mu"], float),
                    disc_ref=raters.index(reference_rater(raters)) + 1)
        levels.update(group_gender=gg_levels[1:], threshold=[str(i) for i in range(4)],
                      resp_sigma=[""], item_sigma=[""],
                      disc=[r for r in raters if r != reference_rater(raters)])
    return data, levels


def key_summary(idata, name: str, stan: bool, levels: dict | None = None) -> dict:
    """Posterior mean and its Monte Carlo SE of the model's key parameters, by label."""
    import arviz as az

    out = {}
    for bambi_name, stan_name in KEY_PARAMS[name].items():
        var = stan_name if stan else bambi_name
        draws = idata.posterior[var]
        mean = draws.mean(("chain", "draw")).values.reshape(-1)
        mcse = np.atleast_1d(np.asarray(az.mcse(draws, method="mean")).reshape(-1))
        if stan:
            labels = levels[stan_name]
        else:
            extra = [d for d in draws.dims if d not in ("chain", "draw")]
            labels = ([str(v) for v in draws[extra[0]].values] if extra else [""])
        for lab, m, se in zip(labels, mean, mcse, strict=True):
            out[f"{bambi_name}[{lab}]"] = (float(m), float(se))
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process or any of its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def stan_datatree(fit):
    """An ArviZ DataTree (posterior, divergences) of a PyStan 3 fit.

    ArviZ 1.x has no ``from_pystan``: PyStan 3 keeps draws as (flat parameter, draw,
    chain) in column-major order per parameter, as ArviZ 0.x's converter read them.
    """
    import arviz as az

    draws, chains = fit._draws.shape[1:]
    posterior = {}
    for name, dims in zip(fit.param_names, fit.dims, strict=True):
        flat = fit._draws[list(fit._parameter_indexes(name))]  # a tuple would index axes
        ary = flat.reshape((*dims, draws, chains), order="F")
        posterior[name] = np.moveaxis(ary, [-2, -1], [1, 0])
    names = list(fit.sample_and_sampler_param_names)
    diverging = fit._draws[names.index("divergent__")].T.astype(bool)
    return az.from_dict({"posterior": posterior, "sample_stats": {"diverging": diverging}})


def run_stan(name: str, data_path: str | None, nonce: str | None, draws: int | None = None,
             tune: int | None = None, chains: int | None = None) -> dict:
    """Compile (cold when ``nonce`` is new) and sample the hand-written Stan model."""
    import stan

    from triad.fitting import diagnostics

    spec = spec_of(name)
    args = sampler_args(spec, quick=False)
    draws, tune, chains = draws or args["draws"], tune or args["tune"], chains or args["chains"]
    data, levels = stan_data(name, model_data(name, data_path))
    code = (REPO / "bench" / "stan" / f"{name}.stan").read_text()
    if nonce:  # a new program text means a new httpstan model: compiled from scratch
        code += f"\n// bench build {nonce}\n"
    t0 = time.perf_counter()
    model = stan.build(code, data=data, random_seed=args["seed"])
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = model.sample(num_chains=chains, num_samples=draws, num_warmup=tune,
                       delta=args["target_accept"])
    t_sample = time.perf_counter() - t0
    idata = stan_datatree(fit)
    keep = [v for v in idata.posterior.data_vars]
    diag = diagnostics(idata)
    tree = fit["treedepth__"] if "treedepth__" in fit.sample_and_sampler_param_names else None
    return {"wall_compile": t_compile, "wall_sampling": t_sample, "chains": chains,
            "draws": draws, "tune": tune,
            "wall_total": t_compile + t_sample, "wall_fit": t_compile + t_sample,
            "mean_tree_depth": float(np.mean(tree)) if tree is not None else np.nan,
            "n_params_checked": len(keep), **_diag_fields(diag),
            "key": key_summary(idata, name, stan=True, levels=levels)}


BRMS_DIR = REPO / "bench" / "brms"
# Key parameters in brms's names (run_brms maps them to triad's labels).
BRMS_MODELS = ("metric_inspraak", "ordinal_inspraak")


def brms_available() -> str | None:
    """None when Rscript with brms and rstan is there, else why not (one line)."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        return "no Rscript on PATH (apt-get install r-cran-brms r-cran-rstan r-base-dev)"
    probe = subprocess.run(["Rscript", "-e", "library(brms); library(rstan)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return ("R has no brms/rstan (apt-get install r-cran-brms r-cran-rstan r-base-dev; "
                "link the system Boost to BH/include/boost): " + probe.stderr.strip()[-200:])
    return None


def brms_data(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The model frame as the 0/1 columns bench/brms/<name>.R reads, and the key map.

    Returns
    -------
    data : DataFrame
    key : dict
        triad label (as :func:`key_summary` writes it) -> brms draws column.
    """
    gg, gg_levels = _codes(frame["group_gender"])
    rater, raters = _codes(frame["rater"])
    out = pd.DataFrame({"cell": frame["cell"].astype(str).to_numpy()})
    key = {}
    ordinal = name == "ordinal_inspraak"
    ref = reference_rater(raters)
    for i, level in enumerate(gg_levels, start=1):
        if ordinal and i == 1:
            continue  # absorbed by the thresholds
        out[f"gg{i}"] = (gg == i).astype(float)
        key[f"group_gender[{level}]"] = f"b_gg{i}"
    for r in raters:
        out[f"age_{r}"] = frame["age_z"].to_numpy(float) * (frame["rater"] == r).to_numpy()
        key[f"age_z:rater[{r}]"] = f"b_age_{r}"
    key["1|cell_sigma[]"] = "sd_cell__Intercept"
    if ordinal:
        out["value"] = frame["value"].astype(int).to_numpy()
        out["respondent"] = frame["respondent"].astype(str).to_numpy()
        out["item"] = frame["item"].astype(str).to_numpy()
        for r in raters:
            if r != ref:
                out[f"disc_{r}"] = (frame["rater"] == r).to_numpy(float)
                key[f"disc[{r}]"] = f"exp:b_disc_disc_{r}"
        for k in range(4):
            key[f"threshold[{k}]"] = f"b_Intercept[{k + 1}]"
        key["1|respondent_sigma[]"] = "sd_respondent__Intercept"
        key["1|item_sigma[]"] = "sd_item__Intercept"
    else:
        out["score"] = frame["score"].to_numpy(float)
        for r in raters:
            out[f"sig_{r}"] = (frame["rater"] == r).to_numpy(float)
            key[f"sigma_rater[{r}]"] = f"b_sigma_sig_{r}"
    return out, key


def run_brms(name: str, data_path: str | None) -> dict:
    """Compile and sample ``bench/brms/<name>.R`` (Rscript in a child process), timed."""
    import json
    import subprocess
    import tempfile

    import arviz as az
    import xarray as xr

    from triad.fitting import diagnostics

    spec = spec_of(name)
    args = sampler_args(spec, quick=False)
    data, key = brms_data(name, model_data(name, data_path))
    with tempfile.TemporaryDirectory(prefix="triad_brms_") as tmp:
        csv = Path(tmp) / "data.csv"
        data.to_csv(csv, index=False)
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["Rscript", str(BRMS_DIR / f"{name}.R"), str(csv), tmp, str(args["seed"]),
             str(args["target_accept"]), str(args["chains"]), str(args["tune"]),
             str(args["draws"])], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"brms failed: {proc.stderr[-2000:]}")
        timing = json.loads((Path(tmp) / "timing.json").read_text())
        draws = pd.read_csv(Path(tmp) / "draws.csv")
    chains = draws[".chain"].to_numpy()
    params = [c for c in draws.columns
              if not c.startswith(".") and c not in ("lp__", "lprior")]
    n_chain = len(np.unique(chains))
    posterior = {c: draws[c].to_numpy().reshape(n_chain, -1) for c in params}
    idata = az.from_dict({"posterior": posterior})
    diag = diagnostics(idata)
    out = {}
    for label, column in key.items():
        transform = np.exp if column.startswith("exp:") else (lambda x: x)
        values = transform(draws[column.removeprefix("exp:")].to_numpy()).reshape(n_chain, -1)
        mcse = float(az.mcse(xr.DataArray(values, dims=("chain", "draw")), method="mean"))
        out[label] = (float(values.mean()), mcse)
    return {"wall_compile": timing["wall_compile"], "wall_sampling": timing["wall_sampling"],
            "chains": args["chains"], "draws": args["draws"], "tune": args["tune"],
            "wall_total": timing["wall_compile"] + timing["wall_sampling"],
            "wall_fit": wall, "mean_tree_depth": timing["mean_tree_depth"],
            "n_params_checked": len(params), "brms_version": timing["brms"],
            "rstan_version": timing["rstan"], **_diag_fields(diag),
            "divergences": int(timing["divergences"]), "key": out}


def _diag_fields(diag: dict) -> dict:
    return {k: diag[k] for k in ("r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences",
                                 "gates_passed")}


def run_triad(name: str, backend: str, data_path: str | None, sampler_only: bool = False,
              nuts_kwargs: dict | None = None) -> dict:
    """Fit through triad (``triad.fitting.fit``), timing its sampler call inside.

    ``sampler_only`` builds the Bambi model and calls triad's ``sample_posterior`` with the
    spec's arguments but skips the prior predictive draws, contrasts and checks (used for
    the largest scaled data sets, where those per-observation products dominate memory).
    ``nuts_kwargs`` (prototypes) are passed to ``pm.sample(nuts_sampler_kwargs=...)``.
    """
    import triad.fitting as tf
    from triad import sampling

    spec = spec_of(name)
    timing: dict = {}
    original = sampling.sample_posterior

    def timed(model, args, backend, cores=None):
        t0 = time.perf_counter()
        own = {k: v for k, v in (nuts_kwargs or {}).items() if k in SAMPLER_ARGS}
        if set(nuts_kwargs or {}) - set(own):
            idata = _sample_with_kwargs(model, args, backend, nuts_kwargs)
        else:
            # like for like with the peers' fixed 4 x (1000 + 1000): no stopping by ESS
            # unless the settings ask for it (e.g. {"ess_target": 500, "chains": 2})
            idata = original(model, {**args, "ess_target": 0, **own}, backend, cores)
        timing["sampler_call"] = time.perf_counter() - t0
        timing["sampling_time"] = float(idata.posterior.attrs.get("sampling_time", np.nan))
        timing["chains"] = int(idata.posterior.sizes["chain"])
        timing["draws"] = int(idata.posterior.sizes["draw"])
        timing["tune"] = int((nuts_kwargs or {}).get("tune", args["tune"]))
        stats = idata.sample_stats
        for key in ("tree_depth", "depth"):
            if key in stats:
                timing["mean_tree_depth"] = float(stats[key].mean())
        if "n_steps" in stats and "mean_tree_depth" not in timing:
            timing["mean_tree_depth"] = float(np.log2(stats["n_steps"] + 1).mean())
        if "step_size" in stats:
            timing["step_size"] = float(stats["step_size"].mean())
        return idata

    sampling.sample_posterior = timed  # every fit's sampler call (fitting, ordinal_model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            if sampler_only:
                args = tf.sampler_args(spec, quick=False)
                frame = model_data(name, data_path)
                # the production builder: triad's integer-indexed PyMC model for ordinal
                # specs with disc/thresholds, Bambi for the rest
                model, _ = tf.build_model(spec, frame)
                idata = timed(model, args, backend)
                diag = tf.diagnostics(idata)
            else:
                res = tf.fit(spec, data=data_path, backend=backend, out=None, use_cache=False)
                idata, diag = res.idata, res.diagnostics
            wall_fit = time.perf_counter() - t0
    finally:
        sampling.sample_posterior = original
    sampling = timing["sampling_time"]
    return {"wall_compile": timing["sampler_call"] - sampling, "wall_sampling": sampling,
            "wall_total": timing["sampler_call"], "wall_fit": wall_fit,
            "mean_tree_depth": timing.get("mean_tree_depth", np.nan),
            "step_size": timing.get("step_size", np.nan), "chains": timing["chains"],
            "draws": timing["draws"], "tune": timing["tune"], **_diag_fields(diag),
            "key": key_summary(idata, name, stan=False)}


# settings triad's own sampler call takes (the rest go to pm.sample as nuts_sampler_kwargs)
SAMPLER_ARGS = ("chains", "draws", "tune", "target_accept", "ess_target", "draws_min",
                "draws_step", "dense_mass")


def _sample_with_kwargs(model, args: dict, backend: str, nuts_kwargs: dict):
    """triad's ``sample_posterior`` with extra ``nuts_sampler_kwargs`` (prototype only)."""
    import pymc as pm

    keep = [v.name for v in model.free_RVs] + [
        v.name for v in model.deterministics
        if "__obs__" not in model.named_vars_to_dims.get(v.name, ())]
    kw = dict(nuts_kwargs)
    chains = kw.pop("chains", args["chains"])
    draws = kw.pop("draws", args["draws"])
    tune = kw.pop("tune", args["tune"])
    target_accept = kw.pop("target_accept", args["target_accept"])
    with model:
        return pm.sample(draws=draws, tune=tune, chains=chains,
                         random_seed=args["seed"], progressbar=False, var_names=keep,
                         target_accept=target_accept,
                         compute_convergence_checks=False, nuts_sampler=backend,
                         nuts_sampler_kwargs=kw)


def scaled_data(factor: int, seed: int = 20240601) -> Path:
    """The synthetic respondent file replicated ``factor`` times (written once, cached).

    Copy 0 is the file itself; every further copy gets new respondent ids, each answer moved
    by -1/+1 with probability 0.15 each (clipped to 1-5) and each age by -1, 0 or +1 year
    (clipped to the codebook's range): the same design, sectors and roles, ``factor`` times
    the respondents.
    """
    from triad.codebook import load_codebook
    from triad.paths import default_data

    SCALED_DIR.mkdir(parents=True, exist_ok=True)
    out = SCALED_DIR / f"respondents_{factor}x.csv"
    if out.is_file():
        return out
    base = pd.read_csv(default_data())
    cb = load_codebook()
    items = [c.column for c in cb.all_item_columns() if c.column in base]
    rng = np.random.default_rng(seed)
    parts = [base]
    for r in range(1, factor):
        copy = base.copy()
        copy["respondent_id"] = copy["respondent_id"].astype(str) + f"-{r}"
        vals = copy[items].to_numpy(float)
        step = rng.choice([-1.0, 0.0, 1.0], size=vals.shape, p=[0.15, 0.7, 0.15])
        copy[items] = np.where(np.isnan(vals), np.nan, np.clip(vals + step, 1, 5))
        age = copy["age"].to_numpy(float) + rng.integers(-1, 2, size=len(copy))
        lo = copy["role"].map(lambda role: cb.age_ranges[role][0]).to_numpy(float)
        hi = copy["role"].map(lambda role: cb.age_ranges[role][1]).to_numpy(float)
        copy["age"] = np.where(np.isnan(age), np.nan, np.clip(age, lo, hi))
        parts.append(copy)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    pd.concat(parts, ignore_index=True).to_csv(tmp, index=False)
    tmp.rename(out)
    return out
