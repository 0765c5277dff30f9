"""The likelihood families a spec may name, one registry entry each.

An entry says what the rest of triad needs to know about a family: which data it models
(respondents or published summary cells) and which column is its response, whether it
is ordinal, the Bambi family and link that build it, the model variable that holds its
expected value (``mu``; ``p``, the category probabilities, for an ordinal model), the
bins of its posterior predictive summary, and its words in the methods section and in
the claims x universes grid.  A new family is one entry here (and its builder).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["LIKELIHOODS", "Likelihood", "likelihood"]


@dataclass(frozen=True)
class Likelihood:
    """One likelihood family (see the module docstring)."""

    family: str
    data: str  # "respondent" or "summary"
    response: str  # the modelled column of the model frame
    ordinal: bool
    bambi_family: str | None  # None: built by triad's own PyMC code
    link: str | None
    expected: str  # the variable holding the expected value
    universe: str  # label in the claims x universes grid
    methods: str  # words in the methods section

    def ppc_edges(self, low: float, high: float) -> np.ndarray:
        """Bins of the posterior predictive summary on an answer scale ``low``-``high``.

        Ordinal answers by category; scale scores in steps of half a point.
        """
        if self.ordinal:
            return np.arange(low - 0.5, high + 1.0, 1.0)
        return np.arange(low - 0.25, high + 0.76, 0.5)

    @property
    def replicate_offset(self) -> float:
        """Add to a replicated response to put it on the answer scale (ordinal: index 0..K-1)."""
        return 1.0 if self.ordinal else 0.0


LIKELIHOODS = {entry.family: entry for entry in (
    Likelihood("gaussian", "respondent", "score", False, "gaussian", "identity", "mu",
               "primary (Gaussian)", "Normal likelihood (identity link)"),
    Likelihood("t", "respondent", "score", False, "t", "identity", "mu", "Student-t",
               "Student-t likelihood (identity link; degrees of freedom estimated)"),
    Likelihood("cumulative_logit", "respondent", "value", True, "cumulative", "logit", "p",
               "ordinal logit",
               "cumulative (ordinal) likelihood with a logit link on a latent scale, "
               "ordered thresholds"),
    Likelihood("cumulative_probit", "respondent", "value", True, "cumulative", "probit", "p",
               "ordinal probit",
               "cumulative (ordinal) likelihood with a probit link on a latent scale, "
               "ordered thresholds"),
    Likelihood("summary_normal", "summary", "mean", False, None, None, "mu",
               "summary statistics",
               "exact normal-theory likelihood of each published cell's mean and SD "
               "given its n"),
)}


def likelihood(family: str) -> Likelihood:
    """Return the registry entry of a family.

    Raises
    ------
    KeyError
        Naming the known families.
    """
    try:
        return LIKELIHOODS[family]
    except KeyError:
        raise KeyError(f"unknown likelihood family {family!r}; known: "
                       f"{', '.join(LIKELIHOODS)}") from None
