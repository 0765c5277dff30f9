"""SBC's simulation: prior draws of the checked quantities and prior-predictive data.

Part of :mod:`triad.sbc` (its docstring describes the procedure).
"""

import logging
import warnings

import numpy as np

from triad.sbc.design import (
    SBCDesign,
    contrast_matrix,
    element_labels,
    expected_scores,
    expected_variable,
    respondent_subset,
)

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


def simulate(design: SBCDesign, n_sims: int, seed: int, model, variables: list[str],
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
        idx = respondent_subset(da, design.frame, respondent_levels, seed)
        labels = np.array(element_labels(da))
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
        cnames, cmat = contrast_matrix(design.units, design.spec.contrasts)
        if len(cnames):
            rows = prior["prior"][expected_variable(design.spec)].to_numpy()
            expected = expected_scores(design.spec, rows.reshape(n_sims, *rows.shape[2:]))
            truth = np.concatenate([truth, expected @ cmat.T], axis=1)
            names += cnames
            kinds += ["contrast"] * len(cnames)
        else:
            cmat = None
    data = {name: prior["prior_predictive"][name].to_numpy().reshape(n_sims, -1)
            for name in observed}
    return {"names": names, "kinds": kinds, "truth": truth, "data": data, "cmat": cmat,
            "checked": checked}

