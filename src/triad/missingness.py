"""Missing covariates: how a respondent without an age enters a model.

A spec chooses with ``missing_age`` (:mod:`triad.specs`):

``"indicator"`` (the default)
    The row stays in the model and in its cell.  Its ``age_z`` is 0 (its role's mean
    age) and `age_missing` is 1; the formula's ``age_missing`` term (``age_missing:rater``
    beside ``age_z:rater``) gives respondents without an age their own shift per rater
    group, so they do not pull the age slope, and the cell mean a contrast compares is
    the mean of *all* the cell's respondents, as in the report's tables.
``"complete_case"``
    The row is left out of the model and listed in ``excluded.csv`` with the reason: the
    multiverse universe `~age_complete_case` (``models/multiverse/variants.toml``), the
    behaviour of triad before issue 15.

When no row of a model lacks an age (the synthetic default), the `age_missing` column is
0 everywhere and its coefficient would be identified by its prior alone: the term is
dropped from the fitted model, and the fit record says so (``missing_age`` in
``fit.json``).  The standardisation of age (mean and SD within role) and the age slope's
adjusted estimands (:mod:`triad.estimands`) use the respondents with a known age only.
"""

import dataclasses
import re

import pandas as pd

from triad.specs import ModelSpec

__all__ = ["INDICATOR", "formula_terms", "without_terms", "fitted_spec", "missing_age_record",
           "methods_text"]

# The model frame's indicator variable (triad.modeldata).
INDICATOR = "age_missing"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def formula_terms(formula: str) -> list[str]:
    """Split a formula's right-hand side into its top-level ``+`` terms.

    Parentheses (group-specific terms such as ``(0 + professional|respondent)``) are
    kept whole.
    """
    rhs = formula.split("~", 1)[1]
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(rhs):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "+" and depth == 0:
            terms.append(rhs[start:i].strip())
            start = i + 1
    terms.append(rhs[start:].strip())
    return [t for t in terms if t]


def without_terms(formula: str, variable: str) -> tuple[str, list[str]]:
    """Return ``formula`` without its top-level terms that use ``variable``, and those terms."""
    lhs = formula.split("~", 1)[0].strip()
    keep, dropped = [], []
    for term in formula_terms(formula):
        (dropped if variable in _NAME.findall(term) else keep).append(term)
    return f"{lhs} ~ {' + '.join(keep)}", dropped


def fitted_spec(spec: ModelSpec, frame: pd.DataFrame) -> tuple[ModelSpec, list[str]]:
    """Return the spec as it is fitted to ``frame``, and the terms dropped from it.

    A term of `age_missing` is dropped (with its prior) when no row of ``frame`` lacks
    an age: its column would be 0 everywhere and its coefficient the prior's.
    """
    if spec.data != "respondent":
        return spec, []
    if INDICATOR in frame and frame[INDICATOR].to_numpy().any():
        return spec, []
    formula, dropped = without_terms(spec.formula, INDICATOR)
    if not dropped:
        return spec, []
    priors = {k: p for k, p in spec.priors.items()
              if INDICATOR not in _NAME.findall(k.split("/", 1)[-1])}
    return dataclasses.replace(spec, formula=formula, priors=priors), dropped


def missing_age_record(spec: ModelSpec, frame: pd.DataFrame,
                       excluded: pd.DataFrame) -> dict:
    """Describe what a fit did with missing ages (``missing_age`` in ``fit.json``).

    Returns
    -------
    dict
        ``choice`` (the spec's ``missing_age``), ``rows_kept`` and ``respondents_kept``
        (in the model with ``age_missing = 1``), ``rows_excluded`` (left out for a missing
        age), ``dropped_terms`` (the indicator terms not fitted because no age is missing)
        and ``raters_without_missing_age`` (raters whose indicator coefficient, where the
        term is fitted, rests on its prior alone), and ``note`` in words.
    """
    if spec.data != "respondent":
        return {}
    flag = frame[INDICATOR].to_numpy().astype(bool) if INDICATOR in frame else (
        pd.Series(False, index=frame.index).to_numpy())
    reasons = excluded["reason"].astype(str) if "reason" in excluded else pd.Series([], dtype=str)
    n_excluded = int(reasons.str.startswith("age missing").sum())
    _, dropped = fitted_spec(spec, frame)
    raters = sorted(set(frame["rater"]) - set(frame.loc[flag, "rater"])) if (
        flag.any() and "rater" in frame) else []
    names = set(_NAME.findall(f"{spec.formula} {spec.sigma_formula or ''}"))
    if spec.missing_age == "complete_case":
        note = f"complete-case analysis: {n_excluded} rows without an age left out (excluded.csv)"
    elif dropped:
        note = ("no age is missing in this model's rows: the term(s) " + ", ".join(dropped)
                + " are not fitted (their coefficient would rest on the prior alone)")
    elif not flag.any():
        note = "no age is missing in this model's rows"
    elif not names & {"age_z", INDICATOR}:
        note = f"the model has no age term: its {int(flag.sum())} rows without an age are kept"
    else:
        note = (f"{int(flag.sum())} rows of {int(frame.loc[flag, 'respondent'].nunique())} "
                "respondents without an age kept with age_z = 0" + (
                    " and their own shift (age_missing)" if INDICATOR in names else
                    " (no age_missing term: they sit at their role's mean age)"))
    return {"choice": spec.missing_age, "rows_kept": int(flag.sum()),
            "respondents_kept": int(frame.loc[flag, "respondent"].nunique()) if flag.any() else 0,
            "rows_excluded": n_excluded, "dropped_terms": dropped,
            "raters_without_missing_age": raters, "note": note}


def methods_text(specs: list[ModelSpec]) -> str:
    """One paragraph for the methods section: how the run's specs treat a missing age."""
    aged = [s for s in specs if s.data == "respondent" and not s.variant
            and "age_z" in _NAME.findall(s.formula)]
    if not aged:
        return ""
    kept = sorted(s.name for s in aged if s.missing_age == "indicator")
    dropped = sorted(s.name for s in aged if s.missing_age == "complete_case")
    text = "Missing ages: age is standardised within role over the known ages. "
    if kept:
        text += ("A respondent without an age keeps their rows in " + (
            "every model with an age slope" if not dropped else ", ".join(kept))
            + " (age_z = 0, the role's mean age, plus a shift of their own per rater group "
            "or scale, age_missing; the term is not fitted where no age is missing), so "
            "every cell mean is of all the cell's respondents. ")
    if dropped:
        text += ("Rows without an age are left out of " + ", ".join(dropped)
                 + " (listed in each fit's excluded.csv). ")
    text += ("The complete-case analysis is the multiverse universe ~age_complete_case, "
             "fitted only when an age is missing. Adjusted age effects average over the "
             "respondents with a known age.")
    return text
