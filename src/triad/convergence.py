"""Convergence of a NUTS run: R-hat, bulk and tail ESS, divergences, E-BFMI, tree depth.

The gates every fit is held to (:data:`GATES`) and the one function that checks them
(:func:`diagnostics`).  A fit's stored record, its row in the diagnostics table, the
sampler's stopping rule (:func:`triad.sampling.sample_posterior` samples until these gates
pass with a margin, up to the spec's draws) and the benchmarks all read them from here.
"""

import arviz as az
import numpy as np
import xarray as xr

__all__ = ["GATES", "MAX_TREEDEPTH", "diagnostics", "energy_diagnostics", "rhat_all"]

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


def _checked(idata: xr.DataTree) -> xr.Dataset:
    post = idata["posterior"].to_dataset()
    return post[[v for v in post.data_vars if not v.startswith("_")]]


def _extreme(ds: xr.Dataset, fn) -> float:
    return float(fn([float(fn(ds[v].values)) for v in ds.data_vars]))


def rhat_all(idata: xr.DataTree) -> tuple[xr.Dataset, float]:
    """Return the rank-normalised split R-hat of every posterior variable and its maximum.

    The first of :func:`diagnostics`' computations, apart so that a stopping rule can
    see a failed R-hat gate without computing the ESS (most of the cost with thousands
    of parameters: arviz-stats loops over them in Python) and pass it on.
    """
    # Unrounded: az.summary rounds to 2 decimals, which would hide an R-hat of 1.014.
    rhat = az.rhat(_checked(idata))
    return rhat, _extreme(rhat, np.nanmax)


def diagnostics(idata: xr.DataTree, seconds: float | None = None, *,
                max_treedepth: int = MAX_TREEDEPTH, rhat: xr.Dataset | None = None) -> dict:
    """R-hat, bulk/tail ESS, divergences, E-BFMI, tree-depth saturation, and the gates.

    ``gates_failed`` gives the reason of every failed gate; ``gates_notes`` what is worth
    a look without failing (a few draws at the maximum tree depth, an E-BFMI that could
    not be computed).  ``rhat``: the first value of :func:`rhat_all` on the same draws,
    if already computed.
    """
    post = _checked(idata)
    if rhat is None:
        rhat, _ = rhat_all(idata)
    bulk = az.ess(post, method="bulk")
    tail = az.ess(post, method="tail")

    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    divergences = int(stats["diverging"].sum()) if (
        stats is not None and "diverging" in stats) else 0
    energy = energy_diagnostics(stats, max_treedepth)
    ebfmi, saturated = energy["ebfmi_min"], energy["treedepth_saturated_share"]
    r_hat = _extreme(rhat, np.nanmax)
    ess_bulk = _extreme(bulk, np.nanmin)
    ess_tail = _extreme(tail, np.nanmin)
    n_params = int(sum(post[v].size for v in post.data_vars)
                   // (post.sizes["chain"] * post.sizes["draw"]))
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
