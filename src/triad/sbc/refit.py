"""SBC's refits: every simulated data set refitted, per backend, and the ranks.

Part of :mod:`triad.sbc` (its docstring describes the procedure and the backends).
"""

import dataclasses
import hashlib
import json
import logging
import threading
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from triad.progress import RunConsole
from triad.sbc.design import (
    build,
    checked_variables,
    expected_scores,
    expected_variable,
    frame_with,
    sbc_design,
    sim_seed,
)
from triad.sbc.simulate import simulate
from triad.specs import ModelSpec

SBC_BACKENDS = ("nutpie", "pymc", "numpyro")
# = triad.fitting.DEFAULT_BACKEND (tests/test_sbc.py checks): SBC checks the sampler the
# fits use.  A copy, as importing triad.fitting here would load the samplers on import.
DEFAULT_SBC_BACKEND = "numpyro"
RANK_COLUMNS = ["model", "sim", "parameter", "kind", "rank", "n_ranks", "truth",
                "divergences"]
_OBSERVED_SUFFIX = "__sbc_observed"


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
    """Return :func:`build` on the design, built once per process (models are only read)."""
    key = _spec_digest(spec, frame)
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = build(spec, frame)
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
                model, _ = build(spec, frame_with(spec, frame, observed))
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
    expected = expected_variable(spec)
    if cmat is not None and expected not in keep:
        keep.append(expected)
    ranks, divs, seconds, n_kept = [], [], [], 0
    for j, sim in enumerate(sims):
        start = time.perf_counter()
        observed = {k: v[j] for k, v in data.items()}
        run = {**args, "seed": sim_seed(seed, sim)}
        post, div = _refit(spec, frame, observed, run, backend, keep)
        n_kept = len(post[keep[0]])
        columns = [post[v].reshape(n_kept, -1)[:, slice(None) if idx is None else idx]
                   for v, idx in checked]
        if cmat is not None:
            columns.append(expected_scores(spec, post[expected]) @ cmat.T)
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
    variables = checked_variables(model, parameters)
    if simulate_from is not None:
        model, _ = build(simulate_from, design.frame)
    sim = simulate(design, n_sims, seed, model, variables, contrasts, respondent_levels)
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

