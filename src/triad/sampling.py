"""Sampling shared by the model builders: the production NUTS call and the adjusted contrasts.

:mod:`triad.model_build` (Bambi and summary models) and :mod:`triad.ordinal_model` (ordinal
models written in PyMC) both sample a posterior with :func:`sample_posterior` and draw
the adjusted gender and age contrasts (:mod:`triad.estimands`) with
:func:`counterfactual_draws`, so neither needs the other for them.  Both look the
functions up on this module when called (``sampling.sample_posterior``): replacing one
here (a benchmark timing the sampler) reaches every fit.
"""

import json
import os
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import xarray as xr

from triad.codebook import load_codebook
from triad.estimands import counterfactual_contrasts
from triad.specs import ModelSpec

__all__ = ["DENSE_MAX_SIZE", "DIAGNOSTICS_ATTR", "HOST_DEVICES", "XLA_CPU_FLAGS",
           "configure_host_devices", "configure_xla", "counterfactual_draws", "dense_block",
           "sample_posterior", "use_compile_cache"]

# posterior attribute (JSON) with the diagnostics of the draws a stopping rule kept
DIAGNOSTICS_ATTR = "diagnostics_at_stop"

# XLA:CPU flags set for the sampler processes, by jaxlib release line.  jaxlib 0.12 hands
# reductions and element-wise chains to YNNPACK fusions by default; each is a separate
# kernel call, and a log density of a few thousand answers is a few dozen such calls per
# gradient.  Without them (measured, numpyro, 4 x 2000, same gates): ordinal_inspraak
# sampled in 46.5 s instead of 53.8 s, summary_cells 11.2 s instead of 12.2 s,
# metric_inspraak 4.9 s either way (identical draws).  XLA aborts the process on a flag it
# does not know, and this one is experimental: it is set only on the line measured.
XLA_CPU_FLAGS = {"0.12": ("--xla_cpu_experimental_ynn_fusion_type=",)}


def configure_xla() -> str:
    """Add :data:`XLA_CPU_FLAGS` for the installed jaxlib to ``XLA_FLAGS``; return them.

    Has effect only before JAX starts its backend (XLA reads the flags once), so
    :mod:`triad.sampling` calls it on import, as PyMC's JAX module sets its device count.
    A flag the user set in ``XLA_FLAGS`` (any value) is left as it is.
    """
    from importlib import metadata

    current = os.environ.get("XLA_FLAGS", "")
    try:
        line = ".".join(metadata.version("jaxlib").split(".")[:2])
    except metadata.PackageNotFoundError:
        return current
    ours = [f for f in XLA_CPU_FLAGS.get(line, ()) if f.split("=")[0] not in current]
    if ours:
        os.environ["XLA_FLAGS"] = " ".join([current, *ours]).strip()
    return os.environ.get("XLA_FLAGS", "")


configure_xla()

# XLA host devices, one per parallel chain of numpyro's NUTS.  PyMC's JAX module sets 100
# when imported.  Measured on this 2-core machine (summary_cells, 4 chains x (1000 + 1000),
# nothing else running): with 100 devices about half of the sampler calls thrashed (0.5-2.6
# M voluntary context switches and 2-20 s of system time where a normal call has a few
# thousand and 0.4 s; sampling 13-31 s instead of 9.3-10.6 s; pm.sample's own path 1 run in
# 5), with 16 or 32 devices most, with 8 some, with 4 (one per chain) none in 6 runs.
HOST_DEVICES = 4
_DEVICE_FLAG = re.compile(r"--xla_force_host_platform_device_count=(\S+)")


def configure_host_devices(count: int = HOST_DEVICES) -> str:
    """Give XLA ``count`` host devices (one per chain) unless the user set a number.

    Returns the new ``XLA_FLAGS``.

    PyMC's JAX module replaces the number with 100 when it is imported; it is imported here
    and its rewrite undone.  A number in ``XLA_FLAGS`` before that module was first
    imported is the user's and is kept; the other flags are kept as they were.  Has
    effect only before JAX starts its backend (called on import of this module).  A fit
    with more chains than devices runs them vectorised on one device (triad's blocks) or
    one after another (numpyro's ``MCMC`` under ``pm.sample``, with a warning): slower.
    """
    import sys

    flags = os.environ.get("XLA_FLAGS", "")
    user = None if "pymc.sampling.jax" in sys.modules else _DEVICE_FLAG.search(flags)
    import pymc.sampling.jax  # noqa: F401

    number = user.group(1) if user else str(count)
    os.environ["XLA_FLAGS"] = " ".join(
        [f"--xla_force_host_platform_device_count={number}", *_DEVICE_FLAG.sub("", flags).split()])
    return os.environ["XLA_FLAGS"]


configure_host_devices()

# JAX's persistent compilation cache (None: off).  Set per process by
# :func:`use_compile_cache`; a fit with the same model graph in a later run or in another
# worker process then loads the compiled sampler instead of compiling it again.
_COMPILE_CACHE: dict = {"folder": None}


def use_compile_cache(folder: str | os.PathLike | None) -> None:
    """Keep JAX's compiled samplers in ``folder`` (created when needed); None: off.

    Notes
    -----
    The key of an entry is the compiled program (model graph with its data and priors,
    chains, JAX version and flags), so a stale entry is never used: it just is not found.
    Every compilation is kept (``jax_persistent_cache_min_compile_time_secs`` = 0): the
    samplers of the smaller models compile in under the default one second, and those are
    the fits whose time compilation dominates.
    """
    _COMPILE_CACHE["folder"] = None if folder is None else str(folder)


def _configure_jax() -> None:
    folder = _COMPILE_CACHE["folder"]
    if folder is None:
        return
    import jax

    os.makedirs(folder, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def sample_posterior(model, args: dict, backend: str, cores: int | None = None
                     ) -> xr.DataTree:
    """Sample a PyMC model's posterior with NUTS, as every fit does.

    Parameters
    ----------
    model : pymc.Model
    args : dict
        ``draws, tune, chains, seed, target_accept`` (:func:`triad.fitting.sampler_args`)
        and optionally ``max_treedepth``, the stopping rule ``ess_target``,
        ``draws_min``, ``draws_step`` and ``dense_mass`` (see Notes).
    backend : {"pymc", "nutpie", "numpyro"}
        PyMC's own NUTS or the ``nuts_sampler`` of that name (not checked here).
    cores : int, optional
        Processes for the chains (pymc backend); default one per chain up to the CPUs.

    Returns
    -------
    DataTree
        Posterior (free parameters and the deterministics that are not per observation)
        and sample_stats.

    Notes
    -----
    Draws chosen by target ESS (numpyro backend, ``ess_target`` set and ``draws`` above
    ``draws_min``): after warm-up the chains draw ``draws_min`` draws, then
    ``draws_step`` more at a time, up to ``draws``.  After each block the draws so far
    are checked with :func:`triad.convergence.diagnostics`; sampling stops at the first
    block where every gate passes and the bulk and tail ESS of every parameter reach
    ``ess_target`` (a margin above the gates' 400).  The chains continue from their
    last state, so the draws kept are exactly the first draws of the run that would
    have drawn ``draws`` (same seed, bit for bit): a fit that never stops early equals
    PyMC's own ``pm.sample``.  The checks made are recorded in the posterior's attribute
    ``draws_by_ess`` (the checks, " | " between them).

    ``dense_mass`` (numpyro backend only; ValueError otherwise): one dense mass-matrix
    block over the parameters :func:`dense_block` picks, adapted in warm-up, the rest
    diagonal.  PyMC's ``pm.sample`` cannot pass numpyro a block structure (its log
    density takes a list, numpyro names blocks by dict keys), so such fits always take
    the blockwise path above, with or without a stopping rule.
    """
    import pymc as pm

    # Per-observation deterministics (Bambi's mu, p) would make a fit file hundreds of MB;
    # contrasts recompute them from the parameters.
    keep = [v.name for v in model.free_RVs] + [
        v.name for v in model.deterministics
        if "__obs__" not in model.named_vars_to_dims.get(v.name, ())]
    depth = args.get("max_treedepth")
    if backend == "numpyro":
        _configure_jax()
        stopping = args.get("ess_target") and args["draws"] > args.get("draws_min",
                                                                       args["draws"])
        if stopping or args.get("dense_mass"):
            return _sample_numpyro_by_ess(model, args, keep)
    if args.get("dense_mass"):
        raise ValueError(f"dense_mass needs the numpyro backend, not {backend!r}")
    kwargs = {"draws": args["draws"], "tune": args["tune"], "chains": args["chains"],
              "random_seed": args["seed"], "progressbar": False, "var_names": keep,
              "target_accept": args["target_accept"], "compute_convergence_checks": False,
              "quiet": True}
    if backend == "pymc":
        kwargs["cores"] = cores or min(args["chains"], os.cpu_count() or 1)
        if depth is not None:
            kwargs["max_treedepth"] = depth
    else:
        kwargs["nuts_sampler"] = backend
        if depth is not None:
            # numpyro's NUTS and nutpie name the same cap differently
            kwargs["nuts_sampler_kwargs"] = {
                "numpyro": {"max_tree_depth": depth}, "nutpie": {"maxdepth": depth}}.get(
                    backend, {})
    with model:
        return pm.sample(**kwargs)


# Parameters of at most this many elements share the dense block of ``dense_mass``; larger
# ones (per-respondent effects: hundreds to tens of thousands) keep a diagonal mass.
DENSE_MAX_SIZE = 50


def dense_block(model) -> list[str]:
    """Value variables that share one dense mass-matrix block (sampler ``dense_mass``).

    Every free parameter of at most :data:`DENSE_MAX_SIZE` elements: thresholds, fixed
    effects, the effects of groups with few levels and all hyperparameters.  A dense
    block learns their posterior correlations during warm-up (e.g. a shift of all
    thresholds against all item effects, which the likelihood cannot tell apart and only
    the priors bound); it costs a matrix product per leapfrog step, small next to the
    gradient, whereas a dense matrix over every respondent effect would not be.
    """
    point = model.initial_point()
    return [v.name for v in model.value_vars if point[v.name].size <= DENSE_MAX_SIZE]


# the sample statistics PyMC's numpyro sampler collects (pymc.sampling.jax), under the names
# PyMC gives them in sample_stats
_NUMPYRO_FIELDS = {"num_steps": "n_steps", "potential_energy": "lp", "energy": "energy",
                   "adapt_state.step_size": "step_size", "accept_prob": "acceptance_rate",
                   "diverging": "diverging"}
# Iterations per call of the compiled sampler: the greatest common divisor of warm-up,
# first block and later blocks, unless below this (then one program per length).
_MIN_BLOCK = 50


def _block_length(*lengths: int) -> int:
    import math

    return math.gcd(*[n for n in lengths if n > 0])


def _numpyro_blocks(kernel, keys, initial, tune: int, chains: int):
    """Return ``run(n)``: the chains' next ``n`` NUTS iterations, compiled once per length.

    NumPyro's ``MCMC.run`` traces and compiles its whole loop again on every call (a new
    ``pmap`` of a new function each time): 2.4-3.1 s per call for ``ordinal_inspraak``,
    a quarter of its sampling when the stopping rule takes three blocks.  Here the
    chains are initialised as ``MCMC`` does (``kernel.init`` per chain, one chain per
    device with ``pmap``) and iterated by one ``lax.scan`` program of ``kernel.sample``
    whose compiled form JAX keeps: the same iterations, so the same draws.
    """
    import operator

    import jax

    getters = {f: operator.attrgetter(f) for f in _NUMPYRO_FIELDS}

    def block(state, length):
        def body(s, _):
            s = kernel.sample(s, (), {})
            return s, (s.z, {f: g(s) for f, g in getters.items()})

        return jax.lax.scan(body, state, None, length=length)

    if jax.local_device_count() >= chains:
        init = jax.pmap(lambda k, p: kernel.init(k, tune, p))
        step = jax.pmap(block, static_broadcasted_argnums=1)
    else:  # fewer devices than chains: the chains vectorised on one device
        init = jax.jit(jax.vmap(lambda k, p: kernel.init(k, tune, p)))
        step = jax.jit(jax.vmap(block, in_axes=(0, None)), static_argnums=1)
    state = {"s": init(keys, initial)}

    def run(n: int):
        state["s"], out = step(state["s"], n)
        return out

    return run


def _sample_numpyro_by_ess(model, args: dict, keep: list[str]) -> xr.DataTree:
    """NumPyro NUTS in blocks until the gates pass with ``ess_target`` (see sample_posterior).

    The steps are those of ``pm.sample(nuts_sampler="numpyro")`` (PyMC 6.4's
    ``sample_jax_nuts``: its seed derivation, jittered initial points, kernel settings,
    transformation of the draws and DataTree), the iterations run by
    :func:`_numpyro_blocks` (compiled once, not once per block);
    ``tests/test_sampling.py`` checks that both give the same draws.
    """
    import time

    import jax
    import numpyro
    from arviz_base import from_dict, make_attrs
    from numpyro.infer import NUTS
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )
    from pymc.sampling import jax as pymc_jax
    from pymc.util import _get_seeds_per_chain, get_default_varnames, get_random_generator

    from triad.convergence import GATES, MAX_TREEDEPTH, diagnostics, rhat_all

    chains, draws, target = args["chains"], args["draws"], args.get("ess_target", 0)
    tune = args["tune"]
    first, step = args.get("draws_min", draws), args.get("draws_step", args.get("draws_min"))
    if not target or first >= draws:
        # a fixed number of draws (only the dense mass matrix brings us here): a quick run's
        # 100-200 draws are fewer than the stopping rule's first block of 500
        first = step = draws
    # pm.sample's per-chain seeds, of which its jax samplers use the first
    seed = int(get_random_generator(args["seed"]).spawn(chains)[0].integers(2**30))
    (seed,) = _get_seeds_per_chain(seed, 1)
    logp_fn = pymc_jax.get_jaxified_logp(model, negative_logp=False)
    initial = pymc_jax._get_batched_jittered_initial_points(
        model=model, chains=chains, initvals=None, random_seed=seed, jitter=True,
        logp_fn=logp_fn)
    nuts_kwargs = {"adapt_step_size": True, "adapt_mass_matrix": True, "dense_mass": False}
    if args.get("max_treedepth") is not None:
        nuts_kwargs["max_tree_depth"] = args["max_treedepth"]
    value_names = [v.name for v in model.value_vars]
    dense = dense_block(model) if args.get("dense_mass") else []
    if dense:
        # numpyro's structured mass matrix names its blocks by the keys of a dict of
        # parameters, so the PyMC log density (a list of value arrays) takes a dict here
        flat_logp = logp_fn

        def logp_fn(params):
            return flat_logp([params[n] for n in value_names])

        initial = dict(zip(value_names, initial, strict=True))
        nuts_kwargs["dense_mass"] = [tuple(dense)]
    kernel = NUTS(potential_fn=logp_fn, target_accept_prob=args["target_accept"],
                  **nuts_kwargs)
    key = jax.random.PRNGKey(seed)
    if chains > 1:
        key = jax.random.split(key, chains)
    else:  # one chain: pm.sample's unbatched key and points, given a chain axis here
        key, initial = key[None], jax.tree.map(lambda a: a[None], initial)
    names = list(get_default_varnames(
        [v for v in model.unobserved_value_vars if v.name in keep], include_transformed=False))
    to_posterior = pymc_jax.get_jaxified_graph(inputs=model.value_vars, outputs=names)
    # one jitted transformation of the draws for every block (PyMC's _postprocess_samples
    # makes a new one, and so a new compile, per call)
    constrain = jax.jit(lambda xs: jax.vmap(jax.vmap(to_posterior))(*xs))
    coords, dims = coords_and_dims_for_inferencedata(model)
    length = _block_length(tune, first, step, draws - first)
    if length < _MIN_BLOCK:
        length = 0  # one program per length
    start = time.perf_counter()
    run = _numpyro_blocks(kernel, key, initial, tune, chains)

    def iterate(n: int):
        """Return the next ``n`` iterations' draws and statistics (calls of ``length``)."""
        parts = [run(length) for _ in range(n // length)] if length else [run(n)]
        z = jax.tree.map(lambda *a: np.concatenate(a, axis=1), *[p[0] for p in parts])
        fields = {f: np.concatenate([np.asarray(p[1][f]) for p in parts], axis=1)
                  for f in _NUMPYRO_FIELDS}
        return z, fields

    blocks, stats, checks, n_draws = [], [], [], 0
    if tune:
        if length:
            for _ in range(tune // length):
                jax.block_until_ready(run(length))
        else:
            jax.block_until_ready(run(tune))
    seconds = time.perf_counter() - start
    while True:
        start = time.perf_counter()
        z, fields = iterate(first if not blocks else min(step, draws - n_draws))
        if dense:
            z = [z[n] for n in value_names]
        blocks.append([np.asarray(x) for x in constrain(z)])
        block_stats = {_NUMPYRO_FIELDS[f]: v for f, v in fields.items()}
        block_stats["tree_depth"] = np.log2(block_stats["n_steps"]).astype(int) + 1
        stats.append(block_stats)
        seconds += time.perf_counter() - start
        posterior = {v.name: np.concatenate([b[i] for b in blocks], axis=1)
                     for i, v in enumerate(names)}
        sample_stats = {k: np.concatenate([s[k] for s in stats], axis=1) for k in stats[0]}
        n_draws = next(iter(posterior.values())).shape[1]
        groups = {"posterior": posterior, "sample_stats": sample_stats}
        tree = from_dict(data=groups, coords=coords, dims=dims, sample_dims=["chain", "draw"])
        rhat, rhat_max = rhat_all(tree)
        if rhat_max > GATES["r_hat_max"] and n_draws < draws:
            # more draws are needed whatever the ESS: not computed (over half of a check)
            checks.append(f"{n_draws}: R-hat {rhat_max:.3f} > {GATES['r_hat_max']}, "
                          "ESS not computed")
            continue
        diag = diagnostics(tree, max_treedepth=args.get("max_treedepth", MAX_TREEDEPTH),
                           rhat=rhat)
        enough = (diag["gates_passed"] and diag["ess_bulk_min"] >= target
                  and diag["ess_tail_min"] >= target)
        checks.append(f"{n_draws}: R-hat {diag['r_hat_max']:.3f}, bulk ESS "
                      f"{diag['ess_bulk_min']:.0f}, tail ESS {diag['ess_tail_min']:.0f}"
                      + ("" if diag["gates_passed"] else f" ({diag['gates_failed']})"))
        if enough or n_draws >= draws:
            break
    observed, constant = find_observations(model), find_constants(model)
    if observed is not None:
        groups["observed_data"] = observed
    if constant is not None:
        groups["constant_data"] = constant
    stop = ("stopped: gates passed with ESS >= " if enough else
            "not reached by the maximum of draws: ESS target ") + str(target)
    # the last check's diagnostics are the fit's (same draws): fit() takes them from here
    # instead of computing them again (2-4 s for the item-level models)
    attrs = {"sampling_time": seconds, "tuning_steps": args["tune"],
             "draws_by_ess": " | ".join([*checks, stop]),
             DIAGNOSTICS_ATTR: json.dumps(diag, default=float)}
    return from_dict(data=groups, coords=coords, dims=dims, sample_dims=["chain", "draw"],
                     attrs={"posterior": make_attrs(attrs, inference_library=numpyro)})


def counterfactual_draws(expected: Callable[[xr.DataTree, pd.DataFrame], np.ndarray],
                         idata: xr.DataTree, prior_idata: xr.DataTree, spec: ModelSpec,
                         frame: pd.DataFrame, draws: np.ndarray, prior_draws: np.ndarray,
                         chains: int) -> tuple | None:
    """Draw the adjusted gender and age contrasts (:mod:`triad.estimands`), posterior and prior.

    Parameters
    ----------
    expected : callable
        ``expected(tree, data)``: draws x rows of the expected score of each row of
        ``data`` (a modified copy of ``frame``) under the draws of ``tree``.
    idata, prior_idata : DataTree
        Posterior draws (``chains`` chains) and prior draws (one chain).
    spec : ModelSpec
        Its formulas say which covariates the model has.
    frame : DataFrame
        The model frame.
    draws, prior_draws : ndarray
        Expected scores of ``frame`` itself under the posterior and the prior draws.
    chains : int
        The posterior's chains.

    Returns
    -------
    tuple or None
        ``(posterior, prior)`` contrast draws, or None when the model has no adjusted
        estimand.
    """
    terms = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f"{spec.formula} {spec.sigma_formula}"))
    genders = tuple(load_codebook().genders)[:2]
    out = []
    for tree, base, n_chains in ((idata, draws, chains), (prior_idata, prior_draws, 1)):
        out.append(counterfactual_contrasts(
            lambda alt, tree=tree: expected(tree, alt), frame, base,
            genders, chains=n_chains, formula_terms=terms))
    return None if out[0] is None else tuple(out)
