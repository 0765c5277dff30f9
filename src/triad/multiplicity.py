"""The decision rule in words, and the multiplicity of a run's conclusions.

:func:`decision_rule` says the one rule of :func:`triad.decisions.decide` in words;
:func:`multiplicity` counts the claim conclusions and their posterior expected number of
sign (Type S) errors, and :func:`multiplicity_note` says what that implies.  The methods
section (:mod:`triad.methods`, which re-exports these names) and the report use them.
"""

import numpy as np
import pandas as pd

__all__ = ["as_text", "decision_rule", "multiplicity", "multiplicity_note", "truthy"]


# The conditions of the one rule (:func:`triad.decisions.decide`), in words.
_CONDITIONS = {
    "higher": "the {ci_pct} HDI excludes 0 and lies above it",
    "lower": "the {ci_pct} HDI excludes 0 and lies below it",
    "equivalent": "the {ci_pct} HDI lies entirely inside the ROPE [-ROPE, +ROPE]",
    "undecided": "neither (the HDI includes 0 but is not inside the ROPE)",
}


def decision_rule(ci_prob: float | None = None) -> dict:
    """Describe the decision rule of :func:`triad.decisions.decide` in words.

    Parameters
    ----------
    ci_prob : float, optional
        The interval probability of the contrasts (default :data:`triad.decisions.CI_PROB`).

    Returns
    -------
    dict
        ``name``, ``ci_prob``, ``conditions`` (conclusion -> condition), ``null_rate``
        (share of null contrasts declared directional by chance under a flat prior) and
        ``max_sign_error`` (bound on P(wrong sign) of one directional conclusion).
    """
    from triad.decisions import CI_PROB

    ci = float(ci_prob) if ci_prob is not None and not pd.isna(ci_prob) else CI_PROB
    conditions = {k: v.format(ci_pct=f"{ci:.0%}") for k, v in _CONDITIONS.items()}
    return {"name": "hdi_rope", "ci_prob": ci, "conditions": conditions,
            "null_rate": 1 - ci, "max_sign_error": (1 - ci) / 2}


def as_text(series: pd.Series) -> pd.Series:
    """Return strings as they are, anything else (NaN from an empty CSV column) as ''."""
    return series.map(lambda v: v.strip() if isinstance(v, str) else "")


def truthy(series: pd.Series) -> pd.Series:
    """Return True where a value reads as true (``True``, ``1`` or ``1.0``, any case)."""
    return series.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))


def multiplicity(claims: pd.DataFrame) -> dict:
    """Count the claim conclusions and their posterior expected number of sign errors.

    Parameters
    ----------
    claims : DataFrame
        ``claims.csv``: ``conclusion``, ``p_direction`` and (optionally)
        ``gates_passed``, ``data_source``.

    Returns
    -------
    dict
        ``examined`` (rows with a Bayesian conclusion), ``directional`` (higher/lower),
        ``gates_failed`` (directional rows whose fit failed its gates), ``findings``
        (directional rows with passing gates), ``expected_sign_errors`` (sum of
        1 - p_direction over the findings), ``max_sign_error``, ``null_benchmark`` and
        ``rule`` (:func:`decision_rule`).
    """
    rule = decision_rule()
    concl = as_text(claims["conclusion"]) if "conclusion" in claims else \
        pd.Series("", index=claims.index)
    examined = concl.ne("")
    directional = concl.isin(["higher", "lower"])
    gates = truthy(claims["gates_passed"]) if "gates_passed" in claims else \
        pd.Series(True, index=claims.index)
    findings = directional & gates
    pd_values = pd.to_numeric(claims.get("p_direction", pd.Series(np.nan, index=claims.index)),
                              errors="coerce")
    wrong = (1 - pd_values[findings]).dropna()
    n_examined = int(examined.sum())
    return {"examined": n_examined, "directional": int(directional.sum()),
            "gates_failed": int((directional & ~gates).sum()), "findings": int(findings.sum()),
            "expected_sign_errors": float(wrong.sum()),
            "max_sign_error": float(wrong.max()) if len(wrong) else 0.0,
            "unknown_p_direction": int(findings.sum() - len(wrong)),
            "null_benchmark": n_examined * rule["null_rate"], "rule": rule,
            "synthetic": "data_source" in claims and claims["data_source"].eq(
                "synthetic").any()}


def multiplicity_note(claims: pd.DataFrame) -> str:
    """Say how many conclusions were drawn and what that implies (plain text).

    The expected number of false directional claims is the posterior expected number
    of sign (Type S) errors, the sum over directional conclusions of
    P(sign wrong | data) = 1 - p_direction (Gelman & Tuerlinckx 2000).
    """
    m = multiplicity(claims)
    rule = m["rule"]
    level = f"{rule['ci_prob'] if rule['name'] == 'hdi_rope' else rule['threshold']:.0%}"
    text = (f"{m['examined']} claim contrasts were examined and {m['directional']} "
            f"directional conclusions (higher or lower) were drawn at the {level} level")
    if m["gates_failed"]:
        text += (f"; {m['gates_failed']} of these are from fits whose sampler gates failed "
                 f"(not findings; left out below), leaving {m['findings']}")
    text += (". A Bayesian decision rule applied to each contrast separately does not control "
             "a family-wise (or false discovery) error rate over the contrasts examined. "
             "What the posterior does give is the expected number of wrong-sign (Type S; "
             "Gelman & Tuerlinckx 2000) conclusions: the sum over the directional conclusions "
             f"of P(sign wrong | data) = 1 - p_direction, here {m['expected_sign_errors']:.2f} "
             f"of {m['findings']}")
    if m["findings"]:
        text += f" (largest single probability {m['max_sign_error']:.3f})"
    if m["unknown_p_direction"]:
        text += f"; {m['unknown_p_direction']} conclusions have no p_direction (suppressed)"
    text += (". This expectation holds under the models and their priors and is only as good "
             "as they are. For comparison, if every examined contrast were null or negligible "
             f"and the posteriors behaved like flat-prior sampling distributions, about "
             f"{rule['null_rate']:.0%} of the {m['examined']} (about "
             f"{m['null_benchmark']:.1f}) would be declared directional by chance alone, half "
             "of them in each direction; partial pooling shrinks such chance differences "
             "(Gelman, Hill & Yajima 2012), so this benchmark is pessimistic.")
    if m["synthetic"]:
        text += " These counts come from SYNTHETIC data, not the study's."
    return text
