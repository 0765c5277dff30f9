"""The one decision rule that turns a posterior interval into a conclusion.

Every table, figure, robustness share, design assurance and report sentence of triad
decides with :func:`decide`:

* ``higher`` / ``lower``: the ``ci_prob`` (default 95%) HDI excludes 0 (above / below);
* ``equivalent``: the HDI lies inside the ROPE ``[-rope, rope]``;
* ``undecided``: neither.

The sign follows the contrast's name: the first-named group minus the second (male minus
female, youth minus professional).  A conclusion is *fragile* when an HDI end lies within
two Monte Carlo standard errors of the boundary that decides it (0 for a direction, a
ROPE bound for equivalence): another run of the sampler could flip it.
"""

import numpy as np

__all__ = ["CI_PROB", "CONCLUSIONS", "RULE_TEXT", "decide", "fragile", "paper_reading"]

CI_PROB = 0.95
CONCLUSIONS = ("higher", "lower", "equivalent", "undecided")
RULE_TEXT = ("higher/lower: the {ci:.0%} HDI excludes 0; equivalent: the {ci:.0%} HDI lies "
             "inside the ROPE; otherwise undecided")


def decide(ci_low, ci_high, rope=np.nan):
    """Conclusion of each interval under the one rule.

    Parameters
    ----------
    ci_low, ci_high : float or array_like
        HDI bounds of a contrast (first-named group minus second).
    rope : float or array_like
        ROPE half-width; NaN means no ROPE (never ``equivalent``).

    Returns
    -------
    str or ndarray of str
        ``higher``, ``lower``, ``equivalent``, ``undecided``; ``""`` where a bound is NaN.
    """
    lo, hi = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    r = np.broadcast_to(np.asarray(rope, dtype=float), np.broadcast(lo, hi).shape)
    out = np.full(np.broadcast(lo, hi).shape, "undecided", dtype=object)
    inside = (lo >= -r) & (hi <= r)  # NaN rope compares False
    out[inside] = "equivalent"
    out[lo > 0] = "higher"
    out[hi < 0] = "lower"
    out[np.isnan(lo) | np.isnan(hi)] = ""
    return out.item() if out.ndim == 0 else out


def fragile(conclusion, ci_low, ci_high, mcse_low, mcse_high, rope=np.nan):
    """Whether a conclusion could flip within 2 Monte Carlo SEs of its deciding HDI end.

    ``higher`` is decided by ``ci_low > 0``, ``lower`` by ``ci_high < 0``, ``equivalent``
    by both ends inside the ROPE and ``undecided`` by the end nearest to deciding.
    """
    c = np.asarray(conclusion, dtype=object)
    lo, hi = np.asarray(ci_low, float), np.asarray(ci_high, float)
    ml, mh = np.asarray(mcse_low, float), np.asarray(mcse_high, float)
    r = np.broadcast_to(np.asarray(rope, float), lo.shape)
    with np.errstate(invalid="ignore"):
        margin = np.select(
            [c == "higher", c == "lower", c == "equivalent"],
            [lo / ml, -hi / mh, np.minimum((lo + r) / ml, (r - hi) / mh)],
            # undecided: how far the nearest end is from excluding 0 or entering the ROPE
            default=np.minimum(np.minimum(np.abs(lo) / ml, np.abs(hi) / mh),
                               np.where(np.isnan(r), np.inf,
                                        np.maximum((-r - lo) / ml, (hi - r) / mh))))
    out = np.abs(margin) < 2
    out = np.where(np.isnan(margin), False, out)
    return out.item() if out.ndim == 0 else out


def paper_reading(conclusion: str, paper_verdict: str, direction: str) -> str:
    """How a Bayesian conclusion reads against the paper's verdict, in words.

    A claim the paper calls not significant and the posterior leaves undecided is
    ``no evidence either way``: the absence of a difference is not shown by it.
    """
    if not conclusion:
        return ""
    if paper_verdict in ("significant", "implied_significant"):
        want = {"first_higher": "higher", "first_lower": "lower"}.get(direction)
        if conclusion in ("higher", "lower"):
            return "agrees" if want in (None, conclusion) else "opposite direction"
        return "no difference shown" if conclusion == "equivalent" else "not confirmed"
    if paper_verdict == "not_significant":
        return {"equivalent": "agrees (equivalent)", "undecided": "no evidence either way"}.get(
            conclusion, "differs: a difference")
    return ""
