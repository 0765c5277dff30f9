"""Simulation-based calibration (SBC; Talts et al. 2018) of triad's models.

Procedure, per model spec:

1. Build the spec's model on the real design with the production builder
   (:func:`triad.fitting.build_model`: Bambi for the Gaussian and Student-t respondent
   specs, :mod:`triad.ordinal_model` for the ordinal specs with discrimination or
   thresholds by rater, triad's own PyMC model for the summary spec), on
   the model frame of the respondent data (default the embedded synthetic file) or on the
   published cells.
2. Draw ``n_sims`` parameter sets from the spec's prior and one data set from the prior
   predictive for each (seeded ``pm.sample_prior_predictive``).  Ordinal models: PyMC draws
   the cut points forwards from their independent Normal priors and ignores the
   ``ordered`` transform, while the fitted model's density is that prior restricted to
   increasing cut points; only draws with increasing cut points are kept, with the answers
   simulated from them (rejection sampling: exact draws of the fitted prior).
3. Refit every simulated data set with the same model (one chain, ``tune`` + ``draws``
   iterations, every ``thin``-th draw kept), and record the rank of the true value among
   the kept posterior draws for every checked quantity: ``rank = #{draws < truth}``, in
   ``0 .. L`` for ``L`` kept draws (``n_ranks = L + 1`` possible values).
4. If the model and the sampler are calibrated, every quantity's ranks are uniform on
   ``0 .. L``.  :func:`sbc_uniformity` tests that per quantity with the simultaneous ECDF
   band of Säilynoja et al. (2022), which decides, and reports the binned chi-square of
   the rank histogram beside it.

Checked quantities (``kind`` column): every free parameter on its constrained scale
(``kind = 'parameter'``), except a non-centred offset, which the group effect it scales
(a deterministic such as ``1|cell``) replaces; plus every named contrast of the spec
(``kind = 'contrast'``: group-mean differences as :mod:`triad.contrasts` defines them,
computed from the expected 1-5 score of every unit: ``mu``, or for the ordinal model
``K - sum_k P(Y <= k)`` from the model's cumulative probabilities ``p``).  Effects indexed by
respondent (``1|respondent``, ``professional|respondent``) are checked for the
``respondent_levels`` respondents with the most rows (default 10; ties broken by a seeded
draw; for ``metric_alliantie`` these are professionals, who rate two targets): with
365-479 respondents, checking all of them would shrink each quantity's Bonferroni level
to nothing, and their SD, which carries the hierarchy, is always checked.  For
``metric_inspraak`` that is 28 quantities (3 group-by-gender means, 2 age slopes, the cell
SD and 6 cell effects, 2 log residual SDs -- ranks are invariant to the monotone exp --,
14 contrasts), for ``summary_cells`` 364.

Backends (``backend``), each compiling or building the model the way noted:

``'numpyro'`` (default, :data:`triad.fitting.DEFAULT_BACKEND`, the production sampler)
    NumPyro's NUTS on PyMC's JAX log density, with the settings PyMC's
    ``pm.sample(nuts_sampler="numpyro")`` gives it (:mod:`pymc.sampling.jax`: diagonal
    mass matrix, step size and mass matrix adapted, tree depth 10, PyMC's jittered initial
    point, retried while its density is not finite).  Unlike that call, which compiles the
    model's JAX code anew for every data set (measured 14-19 s a refit of
    ``metric_inspraak`` on this machine, 2 s of it sampling), the log density takes the
    observed data as an argument and warm-up plus sampling are one jitted function
    (:func:`numpyro.infer.hmc.hmc`'s kernels in a ``lax.scan``), compiled once per
    process and model: the same kernel, adaptation and density, without recompilation.
``'nutpie'``
    Compiled once per process with numba, the observed data turned into a shared
    variable and swapped per data set (:meth:`nutpie.CompiledPyMCModel.with_data`).
``'pymc'``
    Rebuilds the model on every simulated data set and samples with
    :func:`triad.fitting.sample` (PyMC's own NUTS).

Thinning: autocorrelated draws bend rank histograms towards a U shape.  Draws kept every
10th are nearly independent for most quantities (nutpie, metric_inspraak and summary_cells:
median bulk ESS 87-116 per 100 kept draws; numpyro, metric_alliantie, 3 refits: median
bulk ESS 0.5-1.0 per draw before thinning, the worst quantity's 0.07-0.47).  The defaults
keep 99 of 990 draws (100 possible ranks, which fill 20, 10, 5 or 4 bins equally); the
stored run in ``bench/sbc`` keeps 50 of 500 to fit five models in about 26 minutes.

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
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from triad.progress import RunConsole
from triad.specs import ModelSpec

__all__ = ["SBC_BACKENDS", "DEFAULT_SBC_BACKEND", "RANK_COLUMNS", "UNIFORMITY_COLUMNS",
           "DECISION_TEST", "SBCDesign", "sbc_design", "run_sbc", "sbc_uniformity",
           "family_decision", "ecdf_figures", "write_sbc", "sbc_models", "combine_runs",
           "sbc_summary_for_report"]

SBC_BACKENDS = ("nutpie", "pymc", "numpyro")
# = triad.fitting.DEFAULT_BACKEND (tests/test_sbc.py checks): SBC checks the sampler the
# fits use.  A copy, as importing triad.fitting here would load the samplers on import.
DEFAULT_SBC_BACKEND = "numpyro"
DECISION_TEST = "ecdf"
RANK_COLUMNS = ["model", "sim", "parameter", "kind", "rank", "n_ranks", "truth",
                "divergences"]
UNIFORMITY_COLUMNS = ["model", "parameter", "kind", "n_sims", "n_ranks", "level",
                      "family_size", "decided_by", "ecdf_band_prob", "ecdf_simulations",
                      "ecdf_points_outside", "ecdf_max_excess", "ecdf_reject", "bins", "chi2",
                      "df", "p_value", "p_adjusted", "chi2_reject", "reject", "family_reject"]
_OBSERVED_SUFFIX = "__sbc_observed"
_RESPONDENT_DIM = "respondent__"  # Bambi's dimension of a by-respondent group effect
_VERSIONED = ("triad", "pymc", "pytensor", "bambi", "nutpie", "numba", "numpyro", "jax",
              "arviz", "arviz_stats", "arviz_plots", "numpy", "scipy", "pandas",
              "distributed")


# --------------------------------------------------------------------------- design


@dataclasses.dataclass
class SBCDesign:
    """The real design a spec's model is built on, and the quantities SBC checks.

    Attributes
    ----------
    spec : ModelSpec
    frame : DataFrame
        The model frame (respondent rows or answers, or published cells).
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
        A respondent model (Gaussian, Student-t or ordinal family) or the summary model.
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
    """Build the spec's PyMC model on ``frame`` with the production builder."""
    from triad.fitting import build_model

    return build_model(spec, frame)


def _frame_with(spec: ModelSpec, frame: pd.DataFrame, observed: dict) -> pd.DataFrame:
    """Return the model frame with a simulated response in place of the real one."""
    if spec.data != "respondent":
        return frame.assign(mean=observed["cell_mean"], sd=np.sqrt(observed["cell_var"]))
    if spec.ordinal:
        # simulated category indices 0..K-1; every category stays a level even when a data
        # set lacks it, or Bambi would build a model with fewer cut points
        levels = frame["value"].cat.categories
        return frame.assign(value=pd.Categorical(levels[np.asarray(observed["value"], int)],
                                                 categories=levels, ordered=True))
    return frame.assign(score=observed["score"])


def _expected_variable(spec: ModelSpec) -> str:
    """Return the per-row model variable the expected scores (and contrasts) come from."""
    return "p" if spec.ordinal else "mu"


def _expected_scores(spec: ModelSpec, draws: np.ndarray) -> np.ndarray:
    """Draws x rows of each row's expected 1-5 score.

    Metric and summary models: ``mu`` itself.  Ordinal models: Bambi's deterministic
    ``p`` holds the cumulative probabilities ``P(Y <= k)``, ``k = 1 .. K-1`` (its
    likelihood takes their differences), so ``E[Y] = sum_k P(Y > k) = K - sum_k P(Y <= k)``
    for answers ``1 .. K``.
    """
    n = draws.shape[0]
    if not spec.ordinal:
        return draws.reshape(n, -1)
    cumulative = draws.reshape(n, -1, draws.shape[-1])
    return cumulative.shape[-1] + 1 - cumulative.sum(axis=-1)


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


def _respondent_subset(da, frame: pd.DataFrame, levels: int | None, seed: int):
    """Flat indices of ``da``'s elements checked, or None for all of them.

    Along a by-respondent dimension only the ``levels`` respondents with the most rows
    in the frame are kept (ties in a seeded random order).
    """
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    dims = [d for d in extra if d.startswith(_RESPONDENT_DIM)]
    if levels is None or not dims:
        return None
    dim = dims[0]
    codes = [str(c) for c in da[dim].to_numpy()]
    rows = frame["respondent"].astype(str).value_counts().reindex(codes, fill_value=0)
    tie = np.random.default_rng([seed, 15]).permutation(len(codes))
    order = np.lexsort((tie, -rows.to_numpy()))
    chosen = np.sort(order[:levels])
    shape = [da.sizes[d] for d in extra]
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    return np.take(flat, chosen, axis=extra.index(dim)).ravel()


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


def _prior_draws(model, draws: int, seed: int):
    import pymc as pm

    log = logging.getLogger("pymc")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with model:
                return pm.sample_prior_predictive(draws=draws, random_seed=seed)
    finally:
        log.setLevel(level)


def _ordered_prior(model, n_sims: int, seed: int):
    """Prior draws with increasing cut points only (rejection sampling), ``n_sims`` of them.

    The cut points' forward draws ignore the ``ordered`` transform; the fitted density is
    the Normal prior restricted to increasing cut points, which the kept draws follow
    exactly.  Rounds of ``4 n_sims`` draws (about a third are kept for ordinal_inspraak's
    prior) until enough are kept.
    """
    import xarray as xr

    parts, kept = [], 0
    for attempt in range(20):
        # later rounds: seeds apart from the simulations' (SeedSequence([seed, sim]))
        prior = _prior_draws(model, 4 * n_sims, seed if attempt == 0 else int(
            np.random.SeedSequence([seed, 2**32 - 1, attempt]).generate_state(1)[0]
            % (2**31 - 1)))
        theta = prior["prior"]["threshold"].to_numpy()[0]
        # every rater's cut points increasing, where thresholds are by rater
        ok = np.flatnonzero((np.diff(theta, axis=-1) > 0).reshape(len(theta), -1).all(axis=1))
        parts.append({g: prior[g].to_dataset().isel(draw=ok) for g in ("prior",
                                                                       "prior_predictive")})
        kept += len(ok)
        if kept >= n_sims:
            break
    else:
        raise ValueError("too few prior draws with increasing cut points")
    out = {}
    for g in ("prior", "prior_predictive"):
        ds = xr.concat([p[g] for p in parts], dim="draw").isel(draw=slice(0, n_sims))
        out[g] = ds.assign_coords(draw=np.arange(n_sims))
    return out


def _simulate(design: SBCDesign, n_sims: int, seed: int, model, variables: list[str],
              contrasts: bool, respondent_levels: int | None) -> dict:
    """Prior draws of the checked quantities and prior-predictive data sets from ``model``.

    ``model`` is the spec's model on the design, or another spec's (``simulate_from``).
    """
    observed = [v.name for v in model.observed_RVs]
    if design.spec.ordinal:
        prior = _ordered_prior(model, n_sims, seed)
    else:
        draws = _prior_draws(model, n_sims, seed)
        prior = {g: draws[g].to_dataset() for g in ("prior", "prior_predictive")}
    names, columns, checked = [], [], []
    for var in variables:
        da = prior["prior"][var]
        idx = _respondent_subset(da, design.frame, respondent_levels, seed)
        labels = np.array(_labels(da))
        flat = da.to_numpy().reshape(n_sims, -1)
        if idx is not None:
            labels, flat = labels[idx], flat[:, idx]
        names += labels.tolist()
        columns.append(flat)
        checked.append((var, idx))
    truth = np.concatenate(columns, axis=1)
    kinds = ["parameter"] * len(names)
    cmat = None
    if contrasts and design.spec.contrasts:
        cnames, cmat = _contrast_matrix(design.units, design.spec.contrasts)
        if len(cnames):
            rows = prior["prior"][_expected_variable(design.spec)].to_numpy()
            expected = _expected_scores(design.spec, rows.reshape(n_sims, *rows.shape[2:]))
            truth = np.concatenate([truth, expected @ cmat.T], axis=1)
            names += cnames
            kinds += ["contrast"] * len(cnames)
        else:
            cmat = None
    data = {name: prior["prior_predictive"][name].to_numpy().reshape(n_sims, -1)
            for name in observed}
    return {"names": names, "kinds": kinds, "truth": truth, "data": data, "cmat": cmat,
            "checked": checked}


# --------------------------------------------------------------------------- refit

_COMPILED: dict = {}
_BUILT: dict = {}
# re-entrant: compiling a model builds it under the same lock
_LOCK = threading.RLock()


def _spec_digest(spec: ModelSpec, frame: pd.DataFrame) -> str:
    payload = json.dumps(dataclasses.asdict(spec), default=str, sort_keys=True)
    h = hashlib.sha256(payload.encode())
    h.update(pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes())
    return h.hexdigest()


def _built(spec: ModelSpec, frame: pd.DataFrame):
    """Return :func:`_build` on the design, built once per process (models are only read)."""
    key = _spec_digest(spec, frame)
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = _build(spec, frame)
        return _BUILT[key]


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

    key = ("nutpie", _spec_digest(spec, frame), tuple(variables))
    with _LOCK:
        if key not in _COMPILED:
            model, _ = _built(spec, frame)
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


@dataclasses.dataclass
class _JaxSampler:
    """One model's NumPyro NUTS run as a jitted function of the observed data."""

    run: object          # (init values, PRNG key, *observed) -> (kept draws, divergences)
    logp: object         # (init values, *observed) -> log density
    initial_point: object  # seed -> {value variable: array}, PyMC's jittered start
    values: list         # value variable names, the order of ``init``
    observed: list       # observed variable names, the order of the data arguments
    keep: list           # names of the returned variables


def _jax_logp(model, names: dict):
    """PyMC's JAX log density of ``model`` with the observed data as trailing arguments."""
    import pytensor
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.graph.replace import graph_replace
    from pytensor.graph.traversal import graph_inputs

    logp = model.logp()
    by_name = {v.name: v for v in graph_inputs([logp]) if isinstance(
        v, pytensor.compile.SharedVariable)}
    observed = list(names)
    data = {n: by_name[names[n]].type(name=n) for n in observed}
    [logp] = graph_replace([logp], {by_name[names[n]]: data[n] for n in observed})
    fn = get_jaxified_graph(inputs=[*model.value_vars, *data.values()], outputs=[logp])
    return fn, observed


def _jax_sampler(spec: ModelSpec, frame: pd.DataFrame, keep: list[str],
                 args: dict) -> _JaxSampler:
    """Return the NumPyro sampler of ``spec`` on ``frame``, compiled once per process."""
    key = ("numpyro", _spec_digest(spec, frame), tuple(keep), args["tune"], args["draws"],
           args["thin"], float(args["target_accept"]))
    with _LOCK:
        if key not in _COMPILED:
            _COMPILED[key] = _compile_jax(spec, frame, keep, args)
        return _COMPILED[key]


def _compile_jax(spec: ModelSpec, frame: pd.DataFrame, keep: list[str],
                 args: dict) -> _JaxSampler:
    import jax
    from numpyro.infer.hmc import hmc
    from pymc.initial_point import make_initial_point_fn
    from pymc.sampling.jax import get_jaxified_graph

    model, _ = _built(spec, frame)
    swapped, names = _swappable(model)
    logp_fn, observed = _jax_logp(swapped, names)
    values = swapped.value_vars
    # constrained parameters and deterministics from the unconstrained draws, as PyMC's
    # postprocessing computes them
    outputs = swapped.replace_rvs_by_values([swapped[v] for v in keep])
    constrain = get_jaxified_graph(inputs=values, outputs=outputs)
    tune, draws, thin = args["tune"], args["draws"], args["thin"]

    def potential(*data):
        return lambda x: -logp_fn(*x, *data)[0]

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential, algo="NUTS")

    def run(init, rng_key, *data):
        # NUTS(...)'s defaults with what pymc.sampling.jax sets: step size and diagonal
        # mass matrix adapted during the warm-up, target acceptance from the spec
        state = init_kernel(init, num_warmup=tune, step_size=1.0, adapt_step_size=True,
                            adapt_mass_matrix=True, dense_mass=False,
                            target_accept_prob=args["target_accept"], max_tree_depth=10,
                            find_heuristic_step_size=False, regularize_mass_matrix=True,
                            model_args=data, rng_key=rng_key)

        def step(s, _):
            s = sample_kernel(s, model_args=data)
            return s, (s.z, s.diverging)

        # one scan over warm-up and sampling: XLA compiles the NUTS step once, not twice
        _, (z, diverging) = jax.lax.scan(step, state, None, length=tune + draws)
        kept = jax.vmap(lambda *x: constrain(*x))(*[v[tune::thin] for v in z])
        return kept, diverging[tune:].sum()

    return _JaxSampler(run=jax.jit(run),
                       logp=jax.jit(lambda x, *data: logp_fn(*x, *data)[0]),
                       initial_point=make_initial_point_fn(
                           model=swapped, jitter_rvs=set(swapped.free_RVs),
                           return_transformed=True),
                       values=[v.name for v in values], observed=observed, keep=list(keep))


def _sample_jax(sampler: _JaxSampler, observed: dict, seed: int) -> tuple[dict, int]:
    import jax

    data = [np.asarray(observed[n]) for n in sampler.observed]
    rng = np.random.default_rng(seed)
    for _ in range(11):  # PyMC's jittered start: retried up to 10 times while not finite
        point = sampler.initial_point(int(rng.integers(2**30)))
        init = [np.asarray(point[n]) for n in sampler.values]
        if np.isfinite(float(sampler.logp(init, *data))):
            break
    # as NumPyro's HMC.init: one half of the split key starts the chain
    key, _ = jax.random.split(jax.random.PRNGKey(seed))
    kept, divergences = sampler.run(init, key, *data)
    return ({n: np.asarray(v) for n, v in zip(sampler.keep, kept, strict=True)},
            int(divergences))


def _refit(spec: ModelSpec, frame: pd.DataFrame, observed: dict, args: dict, backend: str,
           keep: list[str]) -> tuple[dict, int]:
    """Kept (thinned) posterior draws of the ``keep`` variables for one data set."""
    thin = args["thin"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if backend == "numpyro":
            return _sample_jax(_jax_sampler(spec, frame, keep, args), observed, args["seed"])
        if backend == "nutpie":
            import nutpie

            compiled, names = _compiled(spec, frame, keep)
            compiled = compiled.with_data(**{names[k]: v for k, v in observed.items()})
            idata = nutpie.sample(compiled, draws=args["draws"], tune=args["tune"], chains=1,
                                  cores=1, seed=args["seed"], progress_bar=False,
                                  target_accept=args["target_accept"], save_warmup=False)
            post = idata.posterior
        else:
            import pymc as pm

            from triad.fitting import sample

            log = logging.getLogger("pymc")
            level = log.level
            log.setLevel(logging.ERROR)
            try:
                model, _ = _build(spec, _frame_with(spec, frame, observed))
                idata = sample(model, {**args, "chains": 1}, backend, cores=1)
                post = idata.posterior
                # the production sampler drops per-row deterministics (mu, p)
                rows = [v for v in keep if v not in post]
                if rows:
                    post = post.to_dataset().merge(pm.compute_deterministics(
                        post.to_dataset(), var_names=rows, model=model, progressbar=False))
            finally:
                log.setLevel(level)
    kept = {v: post[v].to_numpy()[0, ::thin] for v in keep}
    divergences = int(idata.sample_stats["diverging"].sum()) if (
        "diverging" in idata.sample_stats) else 0
    return kept, divergences


def _sbc_chunk(spec: ModelSpec, frame: pd.DataFrame, sims: list[int], data: dict,
               truth: np.ndarray, cmat: np.ndarray | None, args: dict, backend: str,
               checked: list, seed: int, on_sim=None) -> dict:
    """Refit the simulations ``sims`` (one worker task) and return their ranks.

    ``on_sim(seconds)`` is called after each refit (in-process progress).
    """
    keep = [v for v, _ in checked]
    expected = _expected_variable(spec)
    if cmat is not None and expected not in keep:
        keep.append(expected)
    ranks, divs, seconds, n_kept = [], [], [], 0
    for j, sim in enumerate(sims):
        start = time.perf_counter()
        observed = {k: v[j] for k, v in data.items()}
        run = {**args, "seed": _sim_seed(seed, sim)}
        post, div = _refit(spec, frame, observed, run, backend, keep)
        n_kept = len(post[keep[0]])
        columns = [post[v].reshape(n_kept, -1)[:, slice(None) if idx is None else idx]
                   for v, idx in checked]
        if cmat is not None:
            columns.append(_expected_scores(spec, post[expected]) @ cmat.T)
        draws = np.concatenate(columns, axis=1)
        ranks.append((draws < truth[j][None, :]).sum(axis=0))
        divs.append(div)
        seconds.append(time.perf_counter() - start)
        if on_sim is not None:
            on_sim(seconds[-1])
    return {"sims": list(sims), "ranks": np.array(ranks), "divergences": divs,
            "seconds": seconds, "n_kept": n_kept}


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
    respondent_levels: int | None = 10,
    simulate_from: ModelSpec | None = None,
    timings: dict | None = None,
    progress: RunConsole | None = None,
) -> pd.DataFrame:
    """Run simulation-based calibration of one model spec.

    Parameters
    ----------
    spec : ModelSpec
        The model to check (respondent Gaussian, Student-t or ordinal, or the summary
        model).
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
    backend : {"numpyro", "nutpie", "pymc"}
        Default the production sampler; see the module docstring.
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
    respondent_levels : int, optional
        By-respondent effects: check those of this many respondents (the ones with the
        most rows); None checks every respondent's.
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
    model, _ = _built(spec, design.frame)
    variables = _checked_variables(model, parameters)
    if simulate_from is not None:
        model, _ = _build(simulate_from, design.frame)
    sim = _simulate(design, n_sims, seed, model, variables, contrasts, respondent_levels)
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
                sim["truth"][c], sim["cmat"], args, backend, sim["checked"], seed)

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


def _band_simulations(alpha: float) -> int:
    """Return the simulations for ArviZ's band at level ``alpha``: ~50 beyond its quantile.

    The band's adjusted pointwise level is an empirical ``1 - alpha`` quantile of
    simulated uniform samples; 50 exceedances estimate it to about 15%.  At most 250,000
    (about 25 s): with summary_cells' 364 quantities that leaves about 7.
    """
    return int(np.clip(np.ceil(50 / alpha), 2_000, 250_000))


@lru_cache(maxsize=64)
def _ecdf_band(n: int, prob: float, n_simulations: int) -> tuple:
    """ArviZ's simultaneous band for ``n`` PIT values: evaluation points, lower, upper.

    The call and seed are those of ``arviz_plots.plot_ecdf_pit(method="envelope")``
    (:func:`arviz_stats.ecdf_utils.ecdf_pit` on ``n`` dummy values with its default
    generator), so the band drawn in :func:`ecdf_figures` is the band that decides.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    x, _, lower, upper = ecdf_pit(np.linspace(0, 1, n), prob, n_simulations)
    return x[1:-1], lower[1:-1], upper[1:-1]


def _pit(part: pd.DataFrame, model: str, parameter: str, seed: int = 0) -> np.ndarray:
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

    x, lower, upper = _ecdf_band(len(pit), prob, n_simulations)
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

    **ECDF test (decides).**  The ranks become PIT values (:func:`_pit`); their ECDF must
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
        ecdf = _ecdf_test(_pit(part, model, parameter, seed), 1 - alpha, sims)
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


# --------------------------------------------------------------------------- figure


def _percent(prob: float) -> str:
    """Format a band probability for a title: 99%, 99.96%, ... (digits enough to differ from 1)."""
    digits = max(0, int(np.ceil(-np.log10(max(1 - prob, 1e-12)))) - 2)
    return f"{100 * prob:.{digits}f}%"


def ecdf_figures(ranks: pd.DataFrame, out: str | Path, *, per_model: int = 12,
                 table: pd.DataFrame | None = None, seed: int = 0,
                 lang: str = "en") -> list[Path]:
    """SBC ECDF-difference plots with the deciding simultaneous band, one figure per model.

    Each panel is one quantity: the ECDF of its PIT values (:func:`_pit`, the values the
    test used) minus the uniform CDF, with the simultaneous band of Säilynoja et al.
    (2022) at the model's Bonferroni probability (``arviz.plot_ecdf_pit(method=
    "envelope")``, the same band :func:`sbc_uniformity` decides with).  Per model the
    ``per_model`` worst quantities are shown: those outside the band, then the smallest
    chi-square p-values.  Drawn in the journal style at double-column width (four panels a
    row), quantities named in words (:func:`triad.figures.quantity_words`); saved as
    ``sbc_ecdf_<model>`` (PNG, PDF, SVG) with the PIT values drawn as CSV.

    Parameters
    ----------
    ranks : DataFrame
        :func:`run_sbc`'s output.
    out : path
    per_model : int
    table : DataFrame, optional
        :func:`sbc_uniformity` of ``ranks`` (computed when not given).
    seed : int
        Seed of the PIT values (as in :func:`sbc_uniformity`).
    lang : {"en", "nl"}

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
    table = sbc_uniformity(ranks, seed=seed) if table is None else table
    paths = []
    for model, part in table.groupby("model", sort=False):
        shown = part.assign(_out=~part["ecdf_reject"].astype(bool)).sort_values(
            ["_out", "p_value"]).head(per_model).sort_values("parameter")
        columns, labels, records = [], [], []
        for _, row in shown.iterrows():
            r = ranks[(ranks["model"] == model) & (ranks["parameter"] == row["parameter"])]
            r = r.sort_values("sim", kind="stable")
            pit = _pit(r, str(model), str(row["parameter"]), seed)
            columns.append(pit)
            words = quantity_words(str(row["parameter"]), lang)
            verdict = text["ecdf_out"] if row["ecdf_reject"] else text["ecdf_in"]
            # panel titles: the quantity in words and both tests, wrapped to a panel's width
            labels.append(wrap_text(
                f"{words} ({verdict}; {text['chi2'].format(p=row['p_value'])})",
                DOUBLE_MM / 4 - 6))
            records.append(pd.DataFrame({
                "model": model, "parameter": row["parameter"], "quantity": words,
                "kind": row["kind"], "sim": r["sim"].to_numpy(), "pit": pit,
                "ecdf_band_prob": row["ecdf_band_prob"], "ecdf_reject": row["ecdf_reject"],
                "chi2_p_value": row["p_value"], "data_source": "simulated (SBC)"}))
        values = np.stack(columns, axis=-1)[None]  # chain, draw (= simulation), quantity
        tree = xr.DataTree.from_dict({"prior_sbc": xr.Dataset(
            {model: (("chain", "draw", "quantity"), values)}, coords={"quantity": labels})})
        n_rows = int(np.ceil(len(labels) / 4))
        prob = float(part["ecdf_band_prob"].iloc[0])
        title = wrap_text(text["sbc"].format(model=model_words(str(model), lang),
                                             prob=_percent(prob), shown=len(shown),
                                             total=len(part)),
                          DOUBLE_MM - 10, size=8)
        lines = max(lab.count("\n") + 1 for lab in labels)
        height = min(MAX_HEIGHT_MM, n_rows * (30 + 3.2 * lines) + 16
                     + 3.5 * (title.count("\n") + 1)
                     + footnote_height_mm(DOUBLE_MM, "simulated (SBC)", lang))
        x, lower, upper = _ecdf_band(values.shape[1], prob,
                                     int(part["ecdf_simulations"].iloc[0]))
        x, lower, upper = (np.concatenate([[0.0], v, [1.0]]) for v in (x, lower, upper))
        with journal_style():
            # ArviZ draws the ECDF differences; its own drawing of this band
            # (method="envelope") fails in arviz-plots 1.3.2 (np.linspace is given a
            # DataArray), and its default test (pot_c) is not the one that decides here,
            # so its markers and p-values are off and the band is drawn below
            pc = az.plot_ecdf_pit(
                tree, backend="matplotlib", labeller=NoVarLabeller(), envelope_prob=prob,
                visuals={"suspicious_points": False, "p_value_text": False},
                figure_kwargs={"figsize": figure_size("double", height),
                               "layout": "constrained"})
            fig = pc.viz["figure"].item()
            for ax in (a for a in fig.axes if a.lines):
                ax.fill_between(x, lower - x, upper - x, step="post", color="0.75",
                                alpha=0.5, linewidth=0, zorder=0)
                reach = max(np.abs(lower - x).max(), np.abs(upper - x).max(),
                            *(np.abs(line.get_ydata()).max() for line in ax.lines))
                ax.set_ylim(-1.1 * reach, 1.1 * reach)
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
    """Write ``ranks.csv``, ``uniformity.csv``, ``decision.csv``, the figures, ``sbc.json``.

    Parameters
    ----------
    ranks : DataFrame
        The output of :func:`run_sbc` (several models concatenated).
    out : path
        Folder (created).
    record : dict, optional
        Run record (command, seed, sampler arguments, timings); library versions, the
        uniformity tests and the decision are added.
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
    paths["figures"] = ecdf_figures(ranks, out, table=table)
    full = dict(record or {})
    full.setdefault("versions", library_versions(_VERSIONED))
    full["uniformity"] = {
        "decides": "simultaneous ECDF band (Säilynoja et al. 2022) of the PIT values "
                   "(rank + U) / n_ranks: arviz_stats.ecdf_utils.ecdf_pit, the envelope of "
                   "arviz_plots.plot_ecdf_pit; a quantity is rejected when its ECDF leaves "
                   "the band",
        "reported": "chi-square of the rank histogram (scipy.stats.chisquare)",
        "bins": bins or "default", "level": level,
        "correction": "bonferroni over the quantities of each model (band probability "
                      "1 - level / m; chi-square p * m < level)",
        "band_simulations": {m: int(s) for m, s in
                             table.groupby("model", sort=False)["ecdf_simulations"].first()
                             .items()}}
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
        the folder holds no result or one written before the ECDF test.
    """
    folder = Path(folder)
    path = folder / "uniformity.csv"
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    if "ecdf_reject" not in table:
        return pd.DataFrame()
    out = family_decision(table)
    first = table.groupby("model", sort=False)[["n_ranks", "bins"]].first()
    out = out.merge(first, left_on="model", right_index=True, how="left")
    record_path = folder / "sbc.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        args = record.get("sampler", {})
        for key in ("backend", "draws", "thin"):
            out[key] = out["model"].map(lambda m, key=key: args.get(m, {}).get(key))
        secs = record.get("timings", {})
        out["seconds"] = out["model"].map(lambda m: secs.get(m, {}).get("wall_seconds"))
    return out


def sbc_models(
    specs: Sequence[ModelSpec],
    n_sims: int | Mapping[str, int],
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
    respondent_levels: int | None = 10,
    bins: int | None = None,
    level: float = 0.01,
    command: str = "",
    progress: RunConsole | None = None,
) -> dict:
    """Run SBC for several specs and store the result (``triad sbc``'s job).

    Parameters
    ----------
    specs : sequence of ModelSpec
    n_sims : int or mapping
        Simulations per model (a mapping: by spec name).
    out : path
        Result folder (:func:`write_sbc`).
    draws, thin, tune, seed, backend, jobs, scheduler, data, respondent_levels
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
    ranks, timings, sims = [], {}, {}
    for spec in specs:
        t: dict = {}
        sims[spec.name] = int(n_sims[spec.name] if isinstance(n_sims, Mapping) else n_sims)
        ranks.append(run_sbc(spec, sims[spec.name], draws=draws, thin=thin, tune=tune,
                             seed=seed, backend=backend, jobs=jobs, scheduler=scheduler,
                             data=data, respondent_levels=respondent_levels, timings=t,
                             progress=progress if progress is not None else
                             RunConsole.stderr()))
        refits = t.pop("refit_seconds")
        t.update(refit_seconds_median=round(float(np.median(refits)), 3),
                 refit_seconds_max=round(float(np.max(refits)), 3),
                 refit_seconds_sum=round(float(np.sum(refits)), 1))
        timings[spec.name] = t
    all_ranks = pd.concat(ranks, ignore_index=True)
    divergent = all_ranks.groupby(["model", "sim"])["divergences"].first()
    record = {
        "command": command, "started": started, "seed": seed, "n_sims": sims,
        "models": [s.name for s in specs], "backend": backend, "jobs": jobs,
        "scheduler": scheduler, "respondent_levels": respondent_levels,
        "sampler": {s.name: {"backend": backend, "chains": 1, "tune": tune, "draws": draws,
                             "thin": thin, "kept_draws": len(range(0, draws, thin)),
                             "target_accept": s.sampler.get("target_accept", 0.9)}
                    for s in specs},
        "simulations_with_divergences": {m: int((d > 0).sum()) for m, d in
                                         divergent.groupby(level="model")},
        "timings": timings, "timings_note": "a process's first refit includes the one-off "
        "compilation of the model (numpyro: JAX; nutpie: numba)", "wall_seconds": None,
    }
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    paths = write_sbc(all_ranks, out, record, bins=bins, level=level)
    return {"paths": paths, "record": record,
            "decision": family_decision(sbc_uniformity(all_ranks, bins, level=level))}


def combine_runs(folders: Sequence[str | Path], out: str | Path, *, bins: int | None = None,
                 level: float = 0.01, command: str = "") -> dict:
    """Store several SBC runs (folders written by :func:`sbc_models`) as one result.

    Models run separately (other simulation counts or draws per model, one process at a
    time) are tested and drawn together; each run's record is kept under ``runs``.

    Returns
    -------
    dict
        As :func:`sbc_models`.
    """
    ranks, records = [], []
    for folder in map(Path, folders):
        ranks.append(pd.read_csv(folder / "ranks.csv"))
        records.append(json.loads((folder / "sbc.json").read_text()))
    all_ranks = pd.concat(ranks, ignore_index=True)
    if all_ranks.duplicated(["model", "sim", "parameter"]).any():
        raise ValueError("a model occurs in more than one run")
    merged: dict = {"command": command, "runs": [
        {k: r.get(k) for k in ("command", "started", "wall_seconds")} for r in records]}
    for key in ("n_sims", "sampler", "simulations_with_divergences", "timings"):
        merged[key] = {k: v for r in records for k, v in (r.get(key) or {}).items()}
    merged["models"] = [m for r in records for m in r.get("models", [])]
    backends = {r.get("backend") for r in records}
    merged["backend"] = backends.pop() if len(backends) == 1 else sorted(map(str, backends))
    for key in ("seed", "respondent_levels", "timings_note"):
        merged[key] = records[0].get(key)
    merged["wall_seconds"] = round(sum(r.get("wall_seconds") or 0 for r in records), 1)
    paths = write_sbc(all_ranks, out, merged, bins=bins, level=level)
    return {"paths": paths, "record": merged,
            "decision": family_decision(sbc_uniformity(all_ranks, bins, level=level))}
