"""Simulation-based calibration (SBC; Talts et al. 2018) of the metric and summary models.

Procedure, per model spec:

1. Build the spec's model on the real design with triad's own model-building code
   (:func:`triad.fitting._bambi_model` on the model frame of the respondent data --
   default the embedded synthetic file -- for respondent models;
   :func:`triad.fitting._summary_model` on the published cells for the summary model).
2. Draw ``n_sims`` parameter sets from the spec's prior and one data set from the prior
   predictive for each (one seeded ``pm.sample_prior_predictive`` call).
3. Refit every simulated data set with the same model (one chain, ``tune`` + ``draws``
   iterations, every ``thin``-th draw kept), and record the rank of the true value among
   the kept posterior draws for every checked quantity: ``rank = #{draws < truth}``, in
   ``0 .. L`` for ``L`` kept draws (``n_ranks = L + 1`` possible values).
4. If the model and the sampler are calibrated, every quantity's ranks are uniform on
   ``0 .. L`` (:func:`sbc_uniformity` tests that).

Checked quantities (``kind`` column): every free parameter on its constrained scale
(``kind = 'parameter'``), except a non-centred offset, which the group effect it scales
(a deterministic such as ``1|cell``) replaces; plus every named contrast of the spec
(``kind = 'contrast'``: group-mean differences as :mod:`triad.contrasts` defines them,
computed from the expected score ``mu`` of every unit).  For ``metric_inspraak`` that is
the 3 rater>target-by-gender means (``group_gender``), the 2 age slopes, the cell SD
(``1|cell_sigma``), the 6 cell effects (``1|cell``), the 2 log residual SDs per rater
(``sigma_rater``; ranks are invariant to the monotone exp, so these are also the residual
SDs' ranks) and 14 contrasts (28 quantities); for ``summary_cells`` the 22 group means,
the 8 cell SDs per scale, the 90 cell means and 90 cell SDs, and 154 contrasts (364).

Backends (``backend``): ``'nutpie'`` (default) compiles the model once per process with
numba, with the observed data turned into a shared variable, and swaps in every simulated
data set (:meth:`nutpie.CompiledPyMCModel.with_data`): no recompilation per data set;
``'pymc'`` and ``'numpyro'`` rebuild the model on every simulated data set and sample with
:func:`triad.fitting._sample_pymc` (the production path).  Measured on this 2-core machine
(1 chain, 300 + 300 iterations, per refit): metric_inspraak nutpie 0.2-0.5 s after a
one-off 11-15 s numba compilation, pymc 1.4-6.4 s, numpyro 3.7-7.7 s (JAX re-compiles per
data set), nutpie's JAX backend 2-3 s; summary_cells nutpie 0.1-0.5 s after 14 s, pymc
3-7 s.  Hence nutpie is the default.

Thinning: 1000 draws kept every 10th are nearly independent (measured median bulk ESS
87-116 per 100 kept draws and refit, metric_inspraak and summary_cells); 300 draws thinned
by 3 gave 57-85 (metric_inspraak), and autocorrelated draws bend rank histograms towards a
U shape.  The full run keeps 99 of 990 draws (every 10th), the CI test 99 of 297 (every
3rd): 99 draws give 100 possible ranks, which fill 20, 10, 5 or 4 bins equally.

Every simulation has its own seed (``SeedSequence([seed, sim])``), so the ranks do not
depend on how simulations are split over processes: ``jobs`` spawned local processes or
the workers of a Dask cluster (``scheduler``) give the same table as a serial run.
"""

import dataclasses
import hashlib
import json
import logging
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from triad.progress import RunConsole
from triad.specs import ModelSpec

__all__ = ["SBC_BACKENDS", "DEFAULT_SBC_BACKEND", "RANK_COLUMNS", "UNIFORMITY_COLUMNS",
           "SBCDesign", "sbc_design", "run_sbc", "sbc_uniformity", "family_decision",
           "ecdf_figures", "write_sbc", "sbc_models", "sbc_summary_for_report"]

SBC_BACKENDS = ("nutpie", "pymc", "numpyro")
DEFAULT_SBC_BACKEND = "nutpie"
RANK_COLUMNS = ["model", "sim", "parameter", "kind", "rank", "n_ranks", "truth",
                "divergences"]
UNIFORMITY_COLUMNS = ["model", "parameter", "kind", "n_sims", "n_ranks", "bins", "chi2",
                      "df", "p_value", "p_adjusted", "level", "family_size", "reject",
                      "family_reject"]
_OBSERVED_SUFFIX = "__sbc_observed"
_VERSIONED = ("triad", "pymc", "pytensor", "bambi", "nutpie", "numba", "numpyro", "jax",
              "arviz", "numpy", "scipy", "pandas", "distributed")


# --------------------------------------------------------------------------- design


@dataclasses.dataclass
class SBCDesign:
    """The real design a spec's model is built on, and the quantities SBC checks.

    Attributes
    ----------
    spec : ModelSpec
    frame : DataFrame
        The model frame (respondent rows, or published cells).
    units : DataFrame
        ``frame`` with a ``weight`` column, as :mod:`triad.contrasts` expects.
    data_source : str
    """

    spec: ModelSpec
    frame: pd.DataFrame
    units: pd.DataFrame
    data_source: str


def sbc_design(spec: ModelSpec, data=None) -> SBCDesign:
    """Build the design SBC simulates on: the model frame of the real data.

    Parameters
    ----------
    spec : ModelSpec
        A respondent model with a Gaussian or Student-t family, or the summary model.
    data : RespondentData, path or DataFrame, optional
        Respondent models: the respondent file (default the embedded synthetic data set).
        Summary models: a cells table in the published layout, or a respondent file whose
        cells are used; default the report's published cells.

    Returns
    -------
    SBCDesign
    """
    from triad.fitting import respondent_data
    from triad.modeldata import model_frame, summary_frame

    if spec.ordinal:
        raise ValueError(f"{spec.name}: SBC is implemented for metric and summary models, "
                         "not ordinal ones")
    if spec.data == "respondent":
        md = model_frame(respondent_data(data), spec)
        units = md.frame.assign(weight=1.0)
    else:
        source = "published"
        cells = None
        if isinstance(data, pd.DataFrame):
            cells, source = data, "cells"
        elif data is not None:
            from triad.cells import cells_from_scores
            from triad.scores import scale_scores

            resp = respondent_data(data)
            cells = cells_from_scores(scale_scores(resp.wide), decimals=None)
            source = resp.data_source
        md = summary_frame(spec, cells, data_source=source)
        units = md.frame.assign(weight=md.frame["n"].astype(float))
    return SBCDesign(spec=spec, frame=md.frame, units=units, data_source=md.data_source)


def _build(spec: ModelSpec, frame: pd.DataFrame):
    """Build the spec's PyMC model on ``frame`` with triad.fitting's own builders."""
    from triad.fitting import _bambi_model, _summary_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bambi's pandas deprecation notices
        if spec.data == "respondent":
            bmodel = _bambi_model(spec, frame)
            bmodel.build()
            return bmodel.backend.model, bmodel
        return _summary_model(frame, spec), None


def _frame_with(spec: ModelSpec, frame: pd.DataFrame, observed: dict) -> pd.DataFrame:
    """Return the model frame with a simulated response in place of the real one."""
    if spec.data == "respondent":
        return frame.assign(score=observed["score"])
    return frame.assign(mean=observed["cell_mean"], sd=np.sqrt(observed["cell_var"]))


def _checked_variables(model, parameters: Sequence[str] | None) -> list[str]:
    dims = model.named_vars_to_dims
    default = [v.name for v in model.free_RVs if not v.name.endswith("_offset")
               and v.name != "cell_z"]
    default += [v.name for v in model.deterministics
                if "__obs__" not in dims.get(v.name, ()) and v.name not in default]
    if parameters is None:
        return default
    unknown = [p for p in parameters if p not in model.named_vars]
    if unknown:
        raise ValueError(f"unknown model variable(s) {unknown}; the model has {default}")
    return list(parameters)


def _labels(da) -> list[str]:
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    if not extra:
        return [da.name]
    grids = np.meshgrid(*[[str(c) for c in da[d].to_numpy()] for d in extra], indexing="ij")
    flat = [g.ravel() for g in grids]
    return [f"{da.name}[{','.join(parts)}]" for parts in zip(*flat, strict=True)]


def _contrast_matrix(units: pd.DataFrame, families) -> tuple[list[str], np.ndarray]:
    """Rows: the spec's contrasts as weights on the units' expected scores."""
    from triad.contrasts import contrast_pairs

    weights = units["weight"].to_numpy(dtype=float)
    names, rows = [], []
    for family in families:
        for scale in sorted(set(units["scale"])):
            for name, sector, sa, sb in contrast_pairs(family, scale, units):
                wa = np.where(sa.mask(units), weights, 0.0)
                wb = np.where(sb.mask(units), weights, 0.0)
                names.append(f"{name}[{sector}]")
                rows.append(wa / wa.sum() - wb / wb.sum())
    return names, np.array(rows).reshape(len(rows), len(units))


def _sim_seed(seed: int, sim: int) -> int:
    return int(np.random.SeedSequence([seed, sim]).generate_state(1)[0] % (2**31 - 1))


# --------------------------------------------------------------------------- simulate


def _simulate(design: SBCDesign, n_sims: int, seed: int, simulate_from: ModelSpec | None,
              variables: list[str], contrasts: bool) -> dict:
    """Prior draws of the checked quantities and prior-predictive data sets."""
    import pymc as pm

    sim_spec = simulate_from or design.spec
    model, _ = _build(sim_spec, design.frame)
    observed = [v.name for v in model.observed_RVs]
    log = logging.getLogger("pymc")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with model:
                prior = pm.sample_prior_predictive(draws=n_sims, random_seed=seed)
    finally:
        log.setLevel(level)
    names, columns = [], []
    for var in variables:
        da = prior.prior[var]
        flat = da.to_numpy().reshape(n_sims, -1)
        names += _labels(da)
        columns.append(flat)
    truth = np.concatenate(columns, axis=1)
    kinds = ["parameter"] * len(names)
    cmat = None
    if contrasts and design.spec.contrasts:
        cnames, cmat = _contrast_matrix(design.units, design.spec.contrasts)
        if len(cnames):
            mu = prior.prior["mu"].to_numpy().reshape(n_sims, -1)
            truth = np.concatenate([truth, mu @ cmat.T], axis=1)
            names += cnames
            kinds += ["contrast"] * len(cnames)
        else:
            cmat = None
    data = {name: prior.prior_predictive[name].to_numpy().reshape(n_sims, -1)
            for name in observed}
    return {"names": names, "kinds": kinds, "truth": truth, "data": data, "cmat": cmat}


# --------------------------------------------------------------------------- refit

_COMPILED: dict = {}
_LOCK = threading.Lock()


def _spec_digest(spec: ModelSpec, frame: pd.DataFrame) -> str:
    payload = json.dumps(dataclasses.asdict(spec), default=str, sort_keys=True)
    h = hashlib.sha256(payload.encode())
    h.update(pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes())
    return h.hexdigest()


def _swappable(model):
    """Copy ``model`` with its observed data turned into named shared variables.

    The graph is otherwise untouched (same priors, likelihood and transforms), so the
    log density equals that of the model rebuilt on the new data (tested).
    """
    import pytensor
    from pymc.model.fgraph import ModelObservedRV, fgraph_from_model, model_from_fgraph

    fg, _ = fgraph_from_model(model)
    names = {}
    for node in list(fg.toposort()):
        if isinstance(node.op, ModelObservedRV):
            _, value, *_ = node.inputs
            name = node.outputs[0].name
            shared = pytensor.shared(np.asarray(value.data).copy(),
                                     name=f"{name}{_OBSERVED_SUFFIX}")
            fg.replace(value, shared, import_missing=True)
            names[name] = shared.name
    return model_from_fgraph(fg, mutate_fgraph=True), names


def _compiled(spec: ModelSpec, frame: pd.DataFrame, variables: list[str]):
    """Return the nutpie model of ``spec`` on ``frame``, compiled once per process."""
    import nutpie
    import pytensor

    key = (_spec_digest(spec, frame), tuple(variables))
    with _LOCK:
        if key not in _COMPILED:
            model, _ = _build(spec, frame)
            swapped, names = _swappable(model)
            # PyTensor 3's on-disk numba cache: code loaded from it is not bit-identical to
            # a fresh compile (measured: a cold cache gave other ranks in the spawned workers
            # than in the parent), so every process compiles afresh and the ranks do not
            # depend on jobs, scheduler or what an earlier run left in the cache.
            with warnings.catch_warnings(), pytensor.config.change_flags(numba__cache=False):
                warnings.simplefilter("ignore")
                compiled = nutpie.compile_pymc_model(swapped, backend="numba",
                                                     var_names=variables)
            _COMPILED[key] = (compiled, names)
        return _COMPILED[key]


def _refit(spec: ModelSpec, frame: pd.DataFrame, observed: dict, args: dict, backend: str,
           variables: list[str], contrasts: bool):
    """Posterior draws (kept after thinning) of the checked quantities for one data set."""
    from triad.fitting import _expected, _sample_pymc

    keep = variables + (["mu"] if contrasts and "mu" not in variables else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if backend == "nutpie":
            import nutpie

            compiled, names = _compiled(spec, frame, keep)
            compiled = compiled.with_data(**{names[k]: v for k, v in observed.items()})
            idata = nutpie.sample(compiled, draws=args["draws"], tune=args["tune"], chains=1,
                                  cores=1, seed=args["seed"], progress_bar=False,
                                  target_accept=args["target_accept"], save_warmup=False)
            mu = idata.posterior["mu"] if contrasts else None
            mu = None if mu is None else mu.to_numpy().reshape(args["draws"], -1)
        else:
            log = logging.getLogger("pymc")
            level = log.level
            log.setLevel(logging.ERROR)
            try:
                model, bmodel = _build(spec, _frame_with(spec, frame, observed))
                run = {**args, "chains": 1}
                idata = _sample_pymc(model, run, backend, cores=1)
                mu = None
                if contrasts:
                    mu = (_expected(bmodel, idata, spec) if bmodel is not None else
                          idata.posterior["mu"].to_numpy().reshape(args["draws"], -1))
            finally:
                log.setLevel(level)
    post = idata.posterior
    columns = [post[v].to_numpy().reshape(args["draws"], -1) for v in variables]
    draws = np.concatenate(columns, axis=1)
    divergences = int(idata.sample_stats["diverging"].sum()) if (
        "diverging" in idata.sample_stats) else 0
    return draws, mu, divergences


def _sbc_chunk(spec: ModelSpec, frame: pd.DataFrame, sims: list[int], data: dict,
               truth: np.ndarray, cmat: np.ndarray | None, args: dict, backend: str,
               variables: list[str], seed: int, on_sim=None) -> dict:
    """Refit the simulations ``sims`` (one worker task) and return their ranks.

    ``on_sim(seconds)`` is called after each refit (in-process progress).
    """
    thin = args["thin"]
    ranks, divs, seconds = [], [], []
    for j, sim in enumerate(sims):
        start = time.perf_counter()
        observed = {k: v[j] for k, v in data.items()}
        run = {**args, "seed": _sim_seed(seed, sim)}
        draws, mu, div = _refit(spec, frame, observed, run, backend, variables,
                                cmat is not None)
        if cmat is not None:
            draws = np.concatenate([draws, mu @ cmat.T], axis=1)
        kept = draws[::thin]
        ranks.append((kept < truth[j][None, :]).sum(axis=0))
        divs.append(div)
        seconds.append(time.perf_counter() - start)
        if on_sim is not None:
            on_sim(seconds[-1])
    return {"sims": list(sims), "ranks": np.array(ranks), "divergences": divs,
            "seconds": seconds, "n_kept": len(range(0, args["draws"], thin))}


def run_sbc(
    spec: ModelSpec,
    n_sims: int,
    *,
    draws: int = 990,
    thin: int = 10,
    seed: int = 20240601,
    backend: str = DEFAULT_SBC_BACKEND,
    jobs: int = 1,
    scheduler: str | None = None,
    data=None,
    tune: int = 300,
    target_accept: float | None = None,
    parameters: Sequence[str] | None = None,
    contrasts: bool = True,
    simulate_from: ModelSpec | None = None,
    timings: dict | None = None,
    progress: RunConsole | None = None,
) -> pd.DataFrame:
    """Run simulation-based calibration of one model spec.

    Parameters
    ----------
    spec : ModelSpec
        The model to check (respondent Gaussian/Student-t, or the summary model).
    n_sims : int
        Number of simulated data sets (prior draw + prior-predictive data set each).
    draws, thin, tune : int
        Per refit: one chain of ``tune`` warm-up and ``draws`` kept iterations, of which
        every ``thin``-th enters the ranks (``L = ceil(draws / thin)`` draws,
        ``n_ranks = L + 1``).
    seed : int
        Seed of the prior-predictive draws; simulation ``i`` samples with
        ``SeedSequence([seed, i])``.  The result is deterministic and does not depend on
        ``jobs`` or ``scheduler``.
    backend : {"nutpie", "pymc", "numpyro"}
        See the module docstring (nutpie: compiled once per process, data swapped).
    jobs : int
        Local worker processes (spawn context; JAX deadlocks in forked children).
    scheduler : str, optional
        Address of a running Dask distributed scheduler (``tcp://host:port``); the
        simulations run on its workers (``jobs`` is then ignored).
    data : optional
        The real design (:func:`sbc_design`).
    target_accept : float, optional
        Default the spec's ``sampler.target_accept`` (0.9 when it has none).
    parameters : sequence of str, optional
        Model variables to check; default every free parameter (non-centred offsets
        replaced by the effects they scale) and non-per-observation deterministic.
    contrasts : bool
        Also check the spec's named contrasts (group-mean differences).
    simulate_from : ModelSpec, optional
        Draw parameters and data from this spec's prior instead of ``spec``'s (same
        design).  A deliberately miscalibrated check: fitting with a prior other than the
        simulating one must be rejected by :func:`sbc_uniformity`.
    timings : dict, optional
        Filled with ``simulate_seconds``, ``refit_seconds`` (per simulation) and
        ``wall_seconds``.
    progress : triad.progress.RunConsole, optional
        Shows the refits done, elapsed time and ETA there; default silent.

    Returns
    -------
    DataFrame
        One row per simulation x checked quantity, columns :data:`RANK_COLUMNS`:
        ``model, sim, parameter, kind ('parameter' | 'contrast'), rank (0..n_ranks-1),
        n_ranks, truth, divergences`` (divergent transitions of that refit).
    """
    if backend not in SBC_BACKENDS:
        raise ValueError(f"backend must be one of {SBC_BACKENDS}, got {backend!r}")
    if n_sims < 1 or draws < 1 or thin < 1 or tune < 0:
        raise ValueError("n_sims, draws and thin must be positive, tune non-negative")
    start = time.perf_counter()
    design = sbc_design(spec, data)
    model, _ = _build(spec, design.frame)
    variables = _checked_variables(model, parameters)
    sim = _simulate(design, n_sims, seed, simulate_from, variables, contrasts)
    simulated = time.perf_counter()
    args = {"draws": draws, "tune": tune, "thin": thin,
            "target_accept": float(target_accept if target_accept is not None else
                                   spec.sampler.get("target_accept", 0.9))}
    def chunks(workers: int) -> list[list[int]]:
        # several chunks per worker balance the load; a worker compiles the model once
        parts = np.array_split(np.arange(n_sims), min(n_sims, 4 * max(1, workers)))
        return [p.tolist() for p in parts if len(p)]

    def task(c: list[int]) -> tuple:
        return (spec, design.frame, c, {k: v[c] for k, v in sim["data"].items()},
                sim["truth"][c], sim["cmat"], args, backend, variables, seed)

    out = progress if progress is not None else RunConsole(0)
    results = []  # chunks in the order they finish; _rank_frame orders by simulation
    bar = out.progress(n_sims, f"SBC {spec.name}", jobs if scheduler is None else 1)

    def finished(r: dict) -> None:
        results.append(r)
        bar.advance(len(r["sims"]), sum(r["seconds"]))

    with bar:
        if scheduler is not None:
            from distributed import Client, as_completed

            with Client(scheduler, timeout=30) as client:
                workers = sum(w["nthreads"] for w in
                              client.scheduler_info()["workers"].values())
                bar.workers = max(1, workers)
                futures = [client.submit(_sbc_chunk, *task(c), key=f"sbc-{spec.name}-{i}",
                                         pure=False) for i, c in enumerate(chunks(workers))]
                for f in as_completed(futures):
                    finished(f.result())
        elif jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=jobs,
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(_sbc_chunk, *task(c)) for c in chunks(jobs)]
                for f in as_completed(futures):
                    finished(f.result())
        else:
            # per refit, not per chunk: the chunks are large when run in this process
            results = [_sbc_chunk(*task(c), on_sim=lambda sec: bar.advance(1, sec))
                       for c in chunks(1)]
    if timings is not None:
        timings.update(simulate_seconds=round(simulated - start, 2),
                       refit_seconds=[round(s, 3) for r in results for s in r["seconds"]],
                       wall_seconds=round(time.perf_counter() - start, 2))
    return _rank_frame(spec.name, sim, results)


def _rank_frame(model: str, sim: dict, results: list[dict]) -> pd.DataFrame:
    names, kinds, truth = sim["names"], sim["kinds"], sim["truth"]
    parts = []
    for r in results:
        for j, s in enumerate(r["sims"]):
            parts.append(pd.DataFrame({
                "model": model, "sim": s, "parameter": names, "kind": kinds,
                "rank": r["ranks"][j].astype(int), "n_ranks": r["n_kept"] + 1,
                "truth": truth[s], "divergences": r["divergences"][j]}))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["sim"], kind="stable").reset_index(drop=True)[RANK_COLUMNS]


# --------------------------------------------------------------------------- uniformity


def _default_bins(n_sims: int) -> int:
    """About 10 expected per bin with many simulations, at least 5 with few."""
    return int(max(2, min(20, n_sims // 10 if n_sims >= 100 else n_sims // 5)))


def _bin_probabilities(n_ranks: int, bins: int) -> np.ndarray:
    """Exact probability of each bin under uniform ranks ``0 .. n_ranks - 1``."""
    idx = (np.arange(n_ranks) * bins) // n_ranks
    return np.bincount(idx, minlength=bins) / n_ranks


def sbc_uniformity(ranks: pd.DataFrame, bins: int | None = None, *, level: float = 0.01,
                   correction: str = "bonferroni") -> pd.DataFrame:
    """Chi-square test of uniformity of every quantity's rank histogram.

    Rank ``r`` (of ``0 .. n_ranks - 1``) falls in bin ``floor(r * bins / n_ranks)``; the
    expected count of a bin is ``n_sims`` times the exact share of rank values it holds
    (equal shares when ``bins`` divides ``n_ranks``).  The statistic
    ``sum((observed - expected)^2 / expected)`` is referred to chi-square with
    ``bins - 1`` degrees of freedom (:func:`scipy.stats.chisquare`).

    Parameters
    ----------
    ranks : DataFrame
        The output of :func:`run_sbc` (columns ``model, parameter, rank, n_ranks``; may
        hold several models).
    bins : int, optional
        Histogram bins; default about ``n_sims / 10`` (at most 20), ``n_sims / 5`` for
        fewer than 100 simulations.
    level : float
        Family-wise error rate of the calibration decision.
    correction : {"bonferroni", "none"}
        Bonferroni: a quantity is rejected when ``p * m < level`` for the ``m`` quantities
        of its model; a model is rejected (``family_reject``) when any of them is.

    Returns
    -------
    DataFrame
        One row per model x quantity, columns :data:`UNIFORMITY_COLUMNS`.
    """
    from scipy import stats

    if correction not in ("bonferroni", "none"):
        raise ValueError("correction must be 'bonferroni' or 'none'")
    kinds = ranks["kind"] if "kind" in ranks else pd.Series("parameter", index=ranks.index)
    frame = ranks.assign(kind=kinds)
    if "model" not in frame:
        frame = frame.assign(model="")
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
        rows.append({"model": model, "parameter": parameter, "kind": part["kind"].iloc[0],
                     "n_sims": n, "n_ranks": n_ranks, "bins": b, "chi2": float(chi2),
                     "df": b - 1, "p_value": float(p)})
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=UNIFORMITY_COLUMNS)
    m = out.groupby("model")["parameter"].transform("size")
    factor = m if correction == "bonferroni" else 1
    out["p_adjusted"] = np.minimum(1.0, out["p_value"] * factor)
    out["level"] = level
    out["family_size"] = m
    out["reject"] = out["p_adjusted"] < level
    out["family_reject"] = out.groupby("model")["reject"].transform("any")
    return out[UNIFORMITY_COLUMNS]


def family_decision(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: quantities, smallest p, rejections, the family-wise verdict.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`sbc_uniformity`.

    Returns
    -------
    DataFrame
        ``model, n_sims, quantities, min_p, min_p_parameter, below_level_unadjusted,
        rejected, level, calibrated``.
    """
    rows = []
    for model, part in table.groupby("model", sort=False):
        worst = part.loc[part["p_value"].idxmin()]
        rows.append({"model": model, "n_sims": int(part["n_sims"].max()),
                     "quantities": len(part), "min_p": float(worst["p_value"]),
                     "min_p_parameter": worst["parameter"],
                     "below_level_unadjusted": int((part["p_value"] < part["level"]).sum()),
                     "rejected": int(part["reject"].sum()), "level": float(part["level"].iloc[0]),
                     "calibrated": not bool(part["family_reject"].iloc[0])})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figure


def ecdf_figures(ranks: pd.DataFrame, out: str | Path, *, per_model: int = 12,
                 seed: int = 0, lang: str = "en") -> list[Path]:
    """SBC ECDF-difference plots (``arviz.plot_ecdf_pit``), one figure per model.

    Each panel is one quantity: the ECDF of its PIT values (ranks made continuous,
    ``(rank + U) / n_ranks`` with seeded ``U ~ Uniform(0, 1)``, exactly uniform under
    calibration) minus the uniform CDF, with ArviZ's simultaneous test (``pot_c``,
    Tesso & Vehtari 2025; Säilynoja et al. 2022).  Per model the ``per_model`` quantities
    with the smallest chi-square p-values (:func:`sbc_uniformity`) are shown, so the
    panels are the worst cases.  Drawn in the journal style at double-column width (four
    panels a row), quantities named in words (:func:`triad.figures.quantity_words`);
    saved as ``sbc_ecdf_<model>`` (PNG, PDF, SVG) with the PIT values drawn as CSV.

    Returns
    -------
    list of Path
        The PNGs, in the models' order.
    """
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import xarray as xr
    from arviz_base.labels import NoVarLabeller

    from triad.figures import (
        LABELS,
        add_footnote,
        footnote_height_mm,
        model_words,
        quantity_words,
        restyle,
        save,
        wrap_text,
    )
    from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, figure_size, journal_style

    text = LABELS[lang]
    table = sbc_uniformity(ranks)
    rng = np.random.default_rng(seed)
    paths = []
    for model, part in table.groupby("model", sort=False):
        shown = part.nsmallest(per_model, "p_value").sort_values("parameter")
        columns, labels, records = [], [], []
        for _, row in shown.iterrows():
            r = ranks[(ranks["model"] == model) & (ranks["parameter"] == row["parameter"])]
            r = r.sort_values("sim")
            pit = (r["rank"].to_numpy(float) + rng.random(len(r))) / r["n_ranks"].to_numpy(float)
            columns.append(pit)
            words = quantity_words(str(row["parameter"]), lang)
            # panel titles: the quantity in words and its test, wrapped to a panel's width
            labels.append(wrap_text(f"{words} ({text['chi2'].format(p=row['p_value'])})",
                                DOUBLE_MM / 4 - 6))
            records.append(pd.DataFrame({
                "model": model, "parameter": row["parameter"], "quantity": words,
                "kind": row["kind"], "sim": r["sim"].to_numpy(), "pit": pit,
                "chi2_p_value": row["p_value"], "data_source": "simulated (SBC)"}))
        values = np.stack(columns, axis=-1)[None]  # chain, draw (= simulation), quantity
        tree = xr.DataTree.from_dict({"prior_sbc": xr.Dataset(
            {model: (("chain", "draw", "quantity"), values)}, coords={"quantity": labels})})
        n_rows = int(np.ceil(len(labels) / 4))
        title = wrap_text(text["sbc"].format(model=model_words(str(model), lang), shown=len(shown),
                                         total=len(part)),
                      DOUBLE_MM - 10, size=8)
        lines = max(lab.count("\n") + 1 for lab in labels)
        height = min(MAX_HEIGHT_MM, n_rows * (30 + 3.2 * lines) + 16
                     + 3.5 * (title.count("\n") + 1)
                     + footnote_height_mm(DOUBLE_MM, "simulated (SBC)", lang))
        with journal_style():
            pc = az.plot_ecdf_pit(tree, backend="matplotlib", labeller=NoVarLabeller(),
                                  figure_kwargs={"figsize": figure_size("double", height),
                                                 "layout": "constrained"})
            fig = pc.viz["figure"].item()
            fig.suptitle(title, fontsize=8)
            restyle(fig)
            for ax in fig.axes:  # the titles were wrapped for 7 pt
                ax.title.set_fontsize(7)
            # SBC draws from the prior: the data are simulated, never the study's
            add_footnote(fig, "simulated (SBC)", lang)
            paths.append(save(fig, Path(out), f"sbc_ecdf_{model}",
                              pd.concat(records, ignore_index=True)))
    return paths


# --------------------------------------------------------------------------- storage


def write_sbc(ranks: pd.DataFrame, out: str | Path, record: dict | None = None, *,
              bins: int | None = None, level: float = 0.01) -> dict:
    """Write ``ranks.csv``, ``uniformity.csv``, ``decision.csv``, the figure, ``sbc.json``.

    Parameters
    ----------
    ranks : DataFrame
        The output of :func:`run_sbc` (several models concatenated).
    out : path
        Folder (created).
    record : dict, optional
        Run record (command, seed, sampler arguments, timings); library versions and the
        decision are added.
    bins, level : optional
        As in :func:`sbc_uniformity`.

    Returns
    -------
    dict
        Paths written, by kind.
    """
    from triad.versions import library_versions

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = sbc_uniformity(ranks, bins, level=level)
    decision = family_decision(table)
    paths = {"ranks": out / "ranks.csv", "uniformity": out / "uniformity.csv",
             "decision": out / "decision.csv", "record": out / "sbc.json"}
    for key, frame in (("ranks", ranks), ("uniformity", table), ("decision", decision)):
        tmp = paths[key].with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(paths[key])
    paths["figures"] = ecdf_figures(ranks, out)
    full = dict(record or {})
    full.setdefault("versions", library_versions(_VERSIONED))
    full["decision"] = decision.to_dict(orient="records")
    tmp = paths["record"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(full, indent=2, default=str) + "\n")
    tmp.replace(paths["record"])
    return paths


def sbc_summary_for_report(folder: str | Path) -> pd.DataFrame:
    """Read a stored SBC run (``write_sbc``'s folder) as one row per model for the report.

    Parameters
    ----------
    folder : path
        Holds ``uniformity.csv`` (and optionally ``sbc.json``).

    Returns
    -------
    DataFrame
        :func:`family_decision`'s columns plus ``n_ranks``, ``bins``, ``backend``, ``draws``,
        ``thin``, ``seconds`` (wall time of the model's run, when recorded); empty when
        the folder holds no result.
    """
    folder = Path(folder)
    path = folder / "uniformity.csv"
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    out = family_decision(table)
    first = table.groupby("model", sort=False)[["n_ranks", "bins"]].first()
    out = out.merge(first, left_on="model", right_index=True, how="left")
    record_path = folder / "sbc.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        args = record.get("sampler", {})
        out["backend"] = record.get("backend")
        out["draws"] = args.get("draws")
        out["thin"] = args.get("thin")
        secs = record.get("timings", {})
        out["seconds"] = out["model"].map(lambda m: secs.get(m, {}).get("wall_seconds"))
    return out


def sbc_models(
    specs: Sequence[ModelSpec],
    n_sims: int,
    out: str | Path,
    *,
    draws: int = 990,
    thin: int = 10,
    tune: int = 300,
    seed: int = 20240601,
    backend: str = DEFAULT_SBC_BACKEND,
    jobs: int = 1,
    scheduler: str | None = None,
    data=None,
    bins: int | None = None,
    level: float = 0.01,
    command: str = "",
    progress: RunConsole | None = None,
) -> dict:
    """Run SBC for several specs and store the result (``scripts/sbc.py``'s job).

    Parameters
    ----------
    specs : sequence of ModelSpec
    n_sims : int
        Simulations per model.
    out : path
        Result folder (:func:`write_sbc`).
    draws, thin, tune, seed, backend, jobs, scheduler, data
        As in :func:`run_sbc`.
    bins, level
        As in :func:`sbc_uniformity`.
    command : str
        The command line, for the record.
    progress : triad.progress.RunConsole, optional
        Where the refits' progress is shown; default standard error (verbosity 1), so that
        ``triad sbc --format csv`` keeps standard output to its table.

    Returns
    -------
    dict
        ``paths`` (from :func:`write_sbc`), ``record`` and ``decision`` (DataFrame).
    """
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    start = time.perf_counter()
    ranks, timings = [], {}
    for spec in specs:
        t: dict = {}
        ranks.append(run_sbc(spec, n_sims, draws=draws, thin=thin, tune=tune, seed=seed,
                             backend=backend, jobs=jobs, scheduler=scheduler, data=data,
                             timings=t,
                             progress=progress if progress is not None else RunConsole.stderr()))
        refits = t.pop("refit_seconds")
        t.update(refit_seconds_median=round(float(np.median(refits)), 3),
                 refit_seconds_max=round(float(np.max(refits)), 3),
                 refit_seconds_sum=round(float(np.sum(refits)), 1))
        timings[spec.name] = t
    all_ranks = pd.concat(ranks, ignore_index=True)
    divergent = all_ranks.groupby(["model", "sim"])["divergences"].first()
    record = {
        "command": command, "started": started, "seed": seed, "n_sims": n_sims,
        "models": [s.name for s in specs], "backend": backend, "jobs": jobs,
        "scheduler": scheduler,
        "sampler": {"chains": 1, "tune": tune, "draws": draws, "thin": thin,
                    "kept_draws": len(range(0, draws, thin)),
                    "target_accept": {s.name: s.sampler.get("target_accept", 0.9)
                                      for s in specs}},
        "uniformity": {"test": "chi-square of the rank histogram (scipy.stats.chisquare)",
                       "bins": bins or "default", "level": level,
                       "correction": "bonferroni over the quantities of each model"},
        "simulations_with_divergences": {m: int((d > 0).sum()) for m, d in
                                         divergent.groupby(level="model")},
        "timings": timings, "timings_note": "a process's first refit includes the one-off "
        "numba compilation of the model (nutpie backend)", "wall_seconds": None,
    }
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    paths = write_sbc(all_ranks, out, record, bins=bins, level=level)
    return {"paths": paths, "record": record,
            "decision": family_decision(sbc_uniformity(all_ranks, bins, level=level))}
