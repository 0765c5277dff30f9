"""Paired summary cells: two printed means of the same people, and their correlation.

The summary-statistic model (:func:`triad.fitting._summary_model`) sees each printed
cell's n, M and SD.  Two cells are *paired* when the same respondents give both
means, so their sampling errors are correlated and a difference of the two is a
paired contrast:

``belangrijk_lukt``
    professionals' Belangrijk and Lukt means of one cell (the same professionals
    answer both; the report prints r = .49 over all 191, ``correlations.csv`` R03).
``youth_parent``
    professionals' means about youths and about parents on one scale and cell
    (Tables 8/9 and 10/11: the same professionals rate both targets; no r printed).

For a pair with within-cell SDs sigma_a, sigma_b, correlation r and n_ab people in
both cells, ``Cov(M_a, M_b) = r sigma_a sigma_b n_ab / (n_a n_b)``, so the paired
difference has the SD ``sqrt(sigma_a^2 + sigma_b^2 - 2 r sigma_a sigma_b) / sqrt(n)``
(equal n) instead of the independent-groups ``sqrt(sigma_a^2 + sigma_b^2) / sqrt(n)``.
A spec states each kind's r (``[paired.<kind>]``: ``r``, ``why``, optional ``range``
of values for a sensitivity analysis, :func:`paired_sensitivity`).  Cells computed
from a respondent file carry the file's own within-cell correlation instead
(:func:`triad.modeldata.file_correlations`): nothing about a file is unprinted.

The model frame marks the pairs (:func:`triad.modeldata.pair_cells`; the kinds a spec
may name are :data:`triad.specs.PAIR_KINDS`); this module varies a stated r and refits.
"""

import dataclasses
import hashlib
import json

import pandas as pd

__all__ = ["with_paired_r", "paired_sensitivity"]

# Contrast families whose uncertainty each kind of pair sets (the rest compare
# different people, or the same cells only through the sector/gender partition).
PAIRED_FAMILIES = {"belangrijk_lukt": "belangrijk_minus_lukt",
                   "youth_parent": "professional_youth_vs_parent"}


def with_paired_r(spec, kind: str, r: float):
    """Return ``spec`` with the stated r of one kind of pair replaced (its own cache key)."""
    paired = {**spec.paired, kind: {**spec.paired[kind], "r": float(r)}}
    digest = hashlib.sha256((spec.sha256 + json.dumps(paired, sort_keys=True)).encode())
    return dataclasses.replace(spec, paired=paired, content_sha256=digest.hexdigest())


def paired_sensitivity(spec, kind: str = "youth_parent", r_values=None, **fit_kwargs
                       ) -> pd.DataFrame:
    """Refit a summary spec over a stated range of r for one kind of pair.

    Parameters
    ----------
    spec : ModelSpec or str
        A summary spec with ``[paired.<kind>]``.
    kind : str
        Which pair's r to vary (:data:`triad.specs.PAIR_KINDS`).
    r_values : sequence of float, optional
        Default: the spec's ``range`` and its r.
    **fit_kwargs
        Passed to :func:`triad.fitting.fit` (``data``, ``cells``, ``out``, ...).

    Returns
    -------
    DataFrame
        The rows of the contrasts this pair sets, one block per r (column ``r``), with
        the posterior SD of each contrast (``sd``) beside the contrasts table's columns.
    """
    from triad.fitting import fit, resolve_model

    spec = resolve_model(spec)
    setting = spec.paired[kind]
    values = sorted({*map(float, setting.get("range", [])), float(setting["r"])}) if (
        r_values is None) else list(r_values)
    family = PAIRED_FAMILIES[kind]
    rows = []
    for r in values:
        result = fit(with_paired_r(spec, kind, r), **fit_kwargs)
        post = result.idata["contrast_draws"]["difference"]
        sd = pd.Series(post.std(("chain", "draw")).to_numpy(),
                       index=post["contrast"].to_numpy().astype(str))
        table = result.contrasts
        table = table.assign(sd=(table["contrast"] + "@" + table["sector"] + "#"
                                 + table["estimand"]).map(sd))
        keep = table["contrast"].str.endswith(family) & (table["estimand"] == "descriptive")
        rows.append(table[keep].assign(r=r, pair_kind=kind,
                                       stated_r=float(setting["r"])))
    return pd.concat(rows, ignore_index=True)
