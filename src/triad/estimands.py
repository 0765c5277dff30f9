"""Labelled estimands beside the descriptive contrasts: adjusted and standardised effects.

Every contrast row says which quantity it estimates (column ``estimand``):

``descriptive``
    The as-sampled difference of the two groups' average fitted values: what a report's
    cell means compare, including whatever the groups differ in besides the contrast
    (e.g. men clustering in a lower-scoring sector).
``adjusted``
    A counterfactual average comparison (as ``marginaleffects::avg_comparisons``): each
    person the contrast applies to is given the one value and then the other of the
    covariate (gender; age shifted by one SD or by 5 years), everything else (cell,
    sector, age, respondent effect) kept, and the difference of the model's expected
    scores is averaged over those people.  Age effects are averaged over the people with
    a known age, and age's SD within role (the unit of ``age_z``) is that of the known
    ages.  Gender: first-declared minus second-declared
    gender of the codebook (male minus female).
``standardised``
    A pooled (``sector == 'all'``) gap as the equally weighted mean of its per-sector
    gaps, so that groups sampled with different sector mixes are compared on the same
    footing (stated weights: 1/k for each of the k sectors where both groups exist).

The counterfactual predictions are Bambi's (``Model.predict`` on a modified data frame);
nothing here knows a study's scales, roles or sectors: it reads the model frame's
variables (``rater``, ``target``, ``sector``, ``gender``, ``age``, ``age_z``,
``group_gender``).
"""

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["ESTIMANDS", "STANDARD_WEIGHTS", "age_effect_name", "counterfactual_contrasts",
           "gender_gap_name", "standardised_contrasts"]

ESTIMANDS = ("descriptive", "adjusted", "standardised")
STANDARD_WEIGHTS = "equal weight for each sector where both groups exist"


def _plural(rater: str) -> str:
    return rater if rater.endswith("s") else rater + "s"


def gender_gap_name(scale: str, rater: str, target: str) -> str:
    """Name of the adjusted gender gap of one rater group about one target on a scale."""
    return f"{scale}_gender_gap_{_plural(rater)}_about_{target}"


def age_effect_name(scale: str, label: str, rater: str, target: str) -> str:
    """Name of an age effect (``label``: ``per_sd`` or ``per_5_years``) of one group."""
    return f"{scale}_age_{label}_{_plural(rater)}_about_{target}"


def _draw_array(columns: list[np.ndarray], rows: list[tuple], chains: int) -> xr.DataArray:
    values = np.stack(columns, axis=-1)
    coords = {"contrast": [f"{r[0]}@{r[2]}#{r[5]}" for r in rows]}
    coords.update({key: ("contrast", [r[i] for r in rows]) for i, key in enumerate(
        ("name", "scale", "sector", "n_a", "n_b", "estimand"))})
    return xr.DataArray(values.reshape(chains, -1, values.shape[-1]),
                        dims=("chain", "draw", "contrast"), coords=coords)


def counterfactual_contrasts(predict, frame: pd.DataFrame, base: np.ndarray,
                             genders: tuple[str, str], *, chains: int,
                             formula_terms: set[str]) -> xr.DataArray | None:
    """Gender (descriptive and adjusted) and age (adjusted) contrasts of a respondent model.

    Parameters
    ----------
    predict : callable
        ``predict(frame) -> ndarray (draws, rows)`` of expected scores for a modified
        copy of ``frame`` (same rows).
    frame : DataFrame
        The model frame (one row per observation).
    base : ndarray, shape (draws, rows)
        Expected scores for ``frame`` as it is.
    genders : (str, str)
        The contrast's first and second gender (first minus second).
    chains : int
        Chains of the draws (kept in the output's shape).
    formula_terms : set of str
        Variables the model's formula uses; gender rows need ``group_gender``,
        ``scale_gender`` or ``gender``, age rows ``age_z``.

    Returns
    -------
    DataArray or None
        Dims (chain, draw, contrast) with coordinates ``name, scale, sector, n_a, n_b,
        estimand``; None when the model has neither covariate.
    """
    first, second = genders
    rows, columns = [], []
    sectors = ["all", *sorted(frame["sector"].unique())]
    # the model frame's variables that encode gender (each 'prefix:gender')
    coded = [v for v in ("group_gender", "scale_gender") if v in frame and v in formula_terms]
    has_gender = bool(coded) or "gender" in formula_terms
    has_age = "age_z" in formula_terms and "age" in frame
    counterfactual = {}
    if has_gender:
        for g in (first, second):
            alt = frame.assign(gender=g)
            for var in coded:
                prefix = frame[var].str.rsplit(":", n=1).str[0]
                alt[var] = prefix + ":" + g
                # a level never observed with this gender has no coefficient to predict from
                unseen = ~alt[var].isin(set(frame[var]))
                alt.loc[unseen, var] = frame.loc[unseen, var]
            counterfactual[g] = predict(alt)
    if has_age:
        # The SD of age within role (the '5 years' step's unit, as age_z's) is that of the
        # known ages only (pandas skips NaN); the effect is averaged over the people with
        # an age (a respondent without one has no age to raise: triad.missingness).
        known = frame["age"].notna().to_numpy()
        sd = frame.groupby("role")["age"].transform("std").to_numpy(dtype=float)
        counterfactual["age_sd"] = predict(frame.assign(age_z=frame["age_z"] + 1.0))
        counterfactual["age_5y"] = predict(frame.assign(age_z=frame["age_z"] + 5.0 / sd))
    for (scale, rater, target), part in frame.groupby(["scale", "rater", "target"], sort=True):
        for sector in sectors:
            sub = part if sector == "all" else part[part["sector"] == sector]
            idx = sub.index.to_numpy()
            if has_gender:
                m = idx[sub["gender"].to_numpy() == first]
                f = idx[sub["gender"].to_numpy() == second]
                both = np.concatenate([m, f])
                # both genders must be levels of the variable that codes them for this group
                level_ok = all({f"{p}:{first}", f"{p}:{second}"} <= set(frame[v])
                               for v, p in (("group_gender", f"{rater}>{target}"),
                                            ("scale_gender", scale)) if v in coded)
                if len(m) and len(f) and level_ok:
                    name = gender_gap_name(scale, rater, target)
                    n_m, n_f = _people(sub, first), _people(sub, second)
                    rows.append((name, scale, sector, n_m, n_f, "descriptive"))
                    columns.append(base[:, m].mean(axis=1) - base[:, f].mean(axis=1))
                    rows.append((name, scale, sector, n_m, n_f, "adjusted"))
                    columns.append((counterfactual[first][:, both]
                                    - counterfactual[second][:, both]).mean(axis=1))
            aged = idx[known[idx]] if has_age else idx
            if has_age and len(aged) > 1:
                n = _people(sub[known[idx]], None)
                for key, label in (("age_sd", "per_sd"), ("age_5y", "per_5_years")):
                    rows.append((age_effect_name(scale, label, rater, target), scale,
                                 sector, n, n, "adjusted"))
                    columns.append((counterfactual[key][:, aged] - base[:, aged]).mean(axis=1))
    if not rows:
        return None
    return _draw_array(columns, rows, chains)


def _people(sub: pd.DataFrame, gender: str | None) -> int:
    part = sub if gender is None else sub[sub["gender"] == gender]
    return int(part["respondent"].nunique()) if "respondent" in part else int(len(part))


def standardised_contrasts(post: xr.DataArray) -> xr.DataArray | None:
    """Equally sector-weighted versions of the pooled (``all``) descriptive contrasts.

    ``post`` holds descriptive contrasts with per-sector and ``all`` rows (dims chain,
    draw, contrast; coordinates ``name, scale, sector, n_a, n_b``).  A pooled row gets a
    standardised twin when at least two of its sectors are present.
    """
    names, sectors = post["name"].to_numpy().astype(str), post["sector"].to_numpy().astype(str)
    rows, columns = [], []
    for name in dict.fromkeys(names):
        # the per-sector rows of this contrast (sector-difference rows are 'a-b': skipped)
        per = np.flatnonzero((names == name) & (sectors != "all") & (np.char.find(
            sectors, "-") < 0))
        pooled = np.flatnonzero((names == name) & (sectors == "all"))
        if len(pooled) != 1 or len(per) < 2:
            continue
        j = pooled[0]
        columns.append(post.isel(contrast=per).mean("contrast").to_numpy().reshape(-1))
        rows.append((name, str(post["scale"].values[j]), "all", int(post["n_a"].values[j]),
                     int(post["n_b"].values[j]), "standardised"))
    if not rows:
        return None
    return _draw_array(columns, rows, post.sizes["chain"])
