"""Sampling shared by the model builders: the production NUTS call and the adjusted contrasts.

:mod:`triad.model_build` (Bambi and summary models) and :mod:`triad.ordinal_model` (ordinal
models written in PyMC) both sample a posterior with :func:`sample_posterior` and draw
the adjusted gender and age contrasts (:mod:`triad.estimands`) with
:func:`counterfactual_draws`, so neither needs the other for them.  Both look the
functions up on this module when called (``sampling.sample_posterior``): replacing one
here (a benchmark timing the sampler) reaches every fit.
"""

import os
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import xarray as xr

from triad.codebook import load_codebook
from triad.estimands import counterfactual_contrasts
from triad.specs import ModelSpec

__all__ = ["counterfactual_draws", "sample_posterior", "use_compile_cache"]

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
        and optionally ``max_treedepth``.
    backend : {"pymc", "nutpie", "numpyro"}
        PyMC's own NUTS or the ``nuts_sampler`` of that name (not checked here).
    cores : int, optional
        Processes for the chains (pymc backend); default one per chain up to the CPUs.

    Returns
    -------
    DataTree
        Posterior (free parameters and the deterministics that are not per observation)
        and sample_stats.
    """
    import pymc as pm

    # Per-observation deterministics (Bambi's mu, p) would make a fit file hundreds of MB;
    # contrasts recompute them from the parameters.
    keep = [v.name for v in model.free_RVs] + [
        v.name for v in model.deterministics
        if "__obs__" not in model.named_vars_to_dims.get(v.name, ())]
    kwargs = {"draws": args["draws"], "tune": args["tune"], "chains": args["chains"],
              "random_seed": args["seed"], "progressbar": False, "var_names": keep,
              "target_accept": args["target_accept"], "compute_convergence_checks": False,
              "quiet": True}
    depth = args.get("max_treedepth")
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
    if backend == "numpyro":
        _configure_jax()
    with model:
        return pm.sample(**kwargs)


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
