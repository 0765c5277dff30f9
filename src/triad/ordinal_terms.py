"""Terms of an ordinal spec's linear predictor: the formula parsed, and its reference rater.

:func:`parse_formula` reads the formula of an ordinal spec built in PyMC
(:mod:`triad.ordinal_model`) into :class:`Term` s: factors, ``(1|factor)`` group effects
and numeric covariates (:data:`NUMERIC`, the codebook's aggregates and numeric
covariates), alone or by a factor; :func:`reference_rater` is the rater group whose
discrimination is fixed at 1.
"""

import re
from dataclasses import dataclass

from triad.specs import ModelSpec, SpecError

__all__ = ["NUMERIC", "Term", "parse_formula", "reference_rater"]


def reference_rater(raters) -> str:
    """Return the rater group discrimination is relative to.

    The codebook's first aggregate group among ``raters`` (it rates every target, so every
    gap is against it), else the first rater.
    """
    from triad.codebook import load_codebook

    raters = sorted(raters)
    return next((a for a in load_codebook().aggregates if a in raters), raters[0])


# Predictors entering as numbers; every other formula variable is a factor (as are the
# study's categorical covariates; its numeric ones enter as numbers too, _numeric()).
NUMERIC = frozenset({"age_z", "age_missing"})


def _numeric() -> frozenset:
    """:data:`NUMERIC`, the aggregates' 0/1 columns and the numeric covariates (codebook)."""
    from triad.codebook import load_codebook

    book = load_codebook()
    return NUMERIC | set(book.aggregates) | {
        n for n, c in book.covariates.items() if c.kind == "numeric"}


@dataclass(frozen=True)
class Term:
    """One term of the linear predictor.

    ``kind`` is ``fixed`` (a factor, one coefficient per level), ``group`` (``(1|x)``,
    effects drawn from a common normal) or ``slope`` (a numeric covariate, one slope
    per level of a factor, or one slope when ``factor`` is empty).
    """

    name: str
    kind: str
    factor: str = ""
    covariate: str = ""


def parse_formula(spec: ModelSpec) -> list[Term]:
    """Terms of an ordinal spec's formula (``value ~ 0 + a + (1|b) + c:d``).

    Raises
    ------
    SpecError
        For a term this builder does not support, or an intercept (the thresholds are
        the intercept of a cumulative model).
    """
    rhs = spec.formula.split("~", 1)[1]
    parts = [p.strip() for p in re.split(r"\+(?![^(]*\))", rhs) if p.strip()]
    if "0" not in parts:
        raise SpecError(spec.path, "formula", "an ordinal model with 'disc' or 'thresholds' "
                        "needs '0 +' (its thresholds are the intercept)")
    numeric = _numeric()
    terms = []
    for part in parts:
        if part == "0":
            continue
        if m := re.fullmatch(r"\(\s*1\s*\|\s*(\w+)\s*\)", part):
            terms.append(Term(f"1|{m.group(1)}", "group", factor=m.group(1)))
        elif m := re.fullmatch(r"(\w+)\s*:\s*(\w+)", part):
            a, b = m.groups()
            cov, fac = (a, b) if a in numeric else (b, a)
            if cov not in numeric or fac in numeric:
                raise SpecError(spec.path, "formula", f"term {part!r}: only a numeric "
                                f"covariate ({', '.join(sorted(numeric))}) by a factor")
            terms.append(Term(part.replace(" ", ""), "slope", factor=fac, covariate=cov))
        elif re.fullmatch(r"\w+", part):
            terms.append(Term(part, "slope", covariate=part) if part in numeric
                         else Term(part, "fixed", factor=part))
        else:
            raise SpecError(spec.path, "formula", f"term {part!r} is not supported by the "
                            "ordinal builder (factors, (1|factor), covariate:factor)")
    missing = [t.name for t in terms if t.name not in spec.priors]
    missing += [k for k in ("threshold",) if k not in spec.priors]
    if spec.disc == "rater" and "disc" not in spec.priors:
        missing.append("disc")
    if missing:
        raise SpecError(spec.path, "priors", "no prior for term(s) " + ", ".join(
            repr(m) for m in missing) + " (every term needs one, with a 'why')")
    return terms
