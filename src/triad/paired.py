"""Paired summary cells: two printed means of the same people, and their correlation.

The summary-statistic model (:func:`triad.model_build.summary_model`) sees each printed
cell's n, M and SD.  Two cells are *paired* when the same respondents give both
means, so their sampling errors are correlated and a difference of the two is a
paired contrast:

``scales = [a, b]``
    one group's means on two scales (the same people answer both), e.g. two
    competence ratings of the same professionals.
``targets = [a, b]``
    one rater group's means on one scale about two targets (the same raters rate both).

For a pair with within-cell SDs sigma_a, sigma_b, correlation r and n_ab people in
both cells, ``Cov(M_a, M_b) = r sigma_a sigma_b n_ab / (n_a n_b)``, so the paired
difference has the SD ``sqrt(sigma_a^2 + sigma_b^2 - 2 r sigma_a sigma_b) / sqrt(n)``
(equal n) instead of the independent-groups ``sqrt(sigma_a^2 + sigma_b^2) / sqrt(n)``.
A spec names each pair and states its r (``[paired.<name>]``: ``scales`` or ``targets``,
``family`` (the contrast family the pair's uncertainty sets), ``r``, ``why``, optional
``range`` of values for a sensitivity analysis, :func:`paired_sensitivity`).  Cells computed
from a respondent file carry the file's own within-cell correlation instead
(:func:`triad.modeldata.file_correlations`): nothing about a file is unprinted.

The model frame marks the pairs (:func:`triad.modeldata.pair_cells`); this module varies
a stated r and refits.
"""

import dataclasses
import hashlib
import json

import pandas as pd

__all__ = ["with_paired_r", "paired_sensitivity"]

def with_paired_r(spec, kind: str, r: float):
    """Return ``spec`` with the stated r of one kind of pair replaced (its own cache key)."""
    paired = {**spec.paired, kind: {**spec.paired[kind], "r": float(r)}}
    digest = hashlib.sha256((spec.sha256 + json.dumps(paired, sort_keys=True)).encode())
    return dataclasses.replace(spec, paired=paired, content_sha256=digest.hexdigest())


def paired_sensitivity(spec, kind: str, r_values=None, **fit_kwargs) -> pd.DataFrame:
    """Refit a summary spec over a stated range of r for one kind of pair.

    Parameters
    ----------
    spec : ModelSpec or str
        A summary spec with ``[paired.<kind>]``.
    kind : str
        Which pair's r to vary (a name in the spec's ``[paired]`` table, with a
        ``family``).
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
    family = setting.get("family")
    if not family:
        raise ValueError(f"{spec.name}: [paired.{kind}] names no contrast 'family' to vary")
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
