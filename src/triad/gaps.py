"""The all-gaps universe: a model that reads only the claims about rater gaps.

A spec with ``claim_pairs = "gaps"`` (the shipped study's ``pooled_gaps``) fits every rater
gap (youth minus professional, parent minus professional, per scale and sector) in one
respondent-level model, each gap drawn from a
normal distribution around its family's mean gap with a spread ``tau`` learnt from all of
them: extreme gaps are shrunk towards their family, which answers the multiplicity
question by partial pooling instead of by a correction of error rates (Gelman, Hill and
Yajima 2012).  The spec says ``claim_pairs = "gaps"``: of the claims registry it reads
only pairs of two different rater groups (youths, parents, professionals), so the model
is a universe of the gap claims and of nothing else (not of sector or gender
differences, which it was not built to estimate).
"""

from functools import cache

import numpy as np
import xarray as xr

from triad.codebook import aggregate_of
from triad.published import parse_group_key

__all__ = ["GAPS_LABEL", "gap_universes", "rater_of", "is_gap_pair", "gap_pairs_only"]

# The label of an all-gaps universe in the claims x universes grid.
GAPS_LABEL = "all gaps pooled"


def gap_universes() -> frozenset[str]:
    """Names of the study's specs that read the gap claims only (``claim_pairs = "gaps"``)."""
    from triad.paths import models_dir

    return _gap_universes(models_dir())


@cache  # per folder of specs
def _gap_universes(folder) -> frozenset[str]:
    from triad.specs import load_specs

    return frozenset(s.name for s in load_specs() if s.claim_pairs == "gaps")


def rater_of(group: str) -> str:
    """Return the rater group (youth, parent or professional) of a claims-registry group key."""
    role = parse_group_key(group)["role"]
    return aggregate_of(role)


def is_gap_pair(group_a: str, group_b: str) -> bool:
    """Whether a claim pair compares two different rater groups (a rater gap)."""
    return rater_of(group_a) != rater_of(group_b)


def gap_pairs_only(post: xr.DataArray, prior: xr.DataArray | None
                   ) -> tuple[xr.DataArray, xr.DataArray | None]:
    """Keep the claim pairs (dim ``pair``) that are rater gaps, posterior and prior alike."""
    keep = np.flatnonzero([is_gap_pair(str(a), str(b)) for a, b in zip(
        post["group_a"].to_numpy(), post["group_b"].to_numpy(), strict=True)])
    return post.isel(pair=keep), None if prior is None else prior.isel(pair=keep)
