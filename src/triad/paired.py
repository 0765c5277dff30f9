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
(:func:`file_correlations`): nothing about a file is unprinted.
"""

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd

from triad.codebook import roles_of

__all__ = ["PAIR_KINDS", "pair_cells", "file_correlations", "with_paired_r",
           "paired_sensitivity"]

PAIR_KINDS = ("belangrijk_lukt", "youth_parent")
# Contrast families whose uncertainty each kind of pair sets (the rest compare
# different people, or the same cells only through the sector/gender partition).
PAIRED_FAMILIES = {"belangrijk_lukt": "belangrijk_minus_lukt",
                   "youth_parent": "professional_youth_vs_parent"}
_COLUMNS = ["pair", "pair_kind", "pair_r", "pair_n"]


def _pair_label(kind: str, row: pd.Series) -> str | None:
    """Return the pair a summary cell belongs to (same people in both members), or None."""
    who = f"{row['role']}@{row['sector']}#{row['gender']}"
    if kind == "belangrijk_lukt" and row["target"] == "self" and row["scale"] in (
            "belangrijk", "lukt"):
        return f"belangrijk_lukt:{who}"
    if kind == "youth_parent" and row["target"] in ("youth", "parent") and row["rater"] == (
            "professional"):
        return f"youth_parent:{row['scale']}:{who}"
    return None


def pair_cells(frame: pd.DataFrame, paired: dict,
               correlations: dict[str, tuple[float, int]] | None = None) -> pd.DataFrame:
    """Mark the paired rows of a summary frame.

    Parameters
    ----------
    frame : DataFrame
        Summary cells (:func:`triad.modeldata.summary_frame`): ``role, rater, target,
        sector, gender, scale, n``.
    paired : dict
        The spec's ``[paired]`` table: kind -> ``{"r": ..., "why": ..., "range": [...]}``.
    correlations : dict, optional
        Pair label -> (r, n with both scores), from the respondent file the cells were
        computed from; overrides the spec's r for those pairs.

    Returns
    -------
    DataFrame
        ``frame`` with ``pair`` (label, "" when unpaired), ``pair_kind``, ``pair_r`` and
        ``pair_n`` (respondents in both cells; the smaller n when not known).  A label
        only two rows share; a member whose partner is not in the frame stays unpaired.
    """
    out = frame.assign(pair="", pair_kind="", pair_r=0.0, pair_n=0)
    for kind, setting in paired.items():
        labels = out.apply(lambda r, kind=kind: _pair_label(kind, r), axis=1)
        counts = labels.value_counts()
        for label, rows in out.groupby(labels).groups.items():
            if counts[label] != 2:
                continue
            r, n_ab = (correlations or {}).get(label, (float(setting["r"]), None))
            out.loc[rows, "pair"] = label
            out.loc[rows, "pair_kind"] = kind
            out.loc[rows, "pair_r"] = float(r)
            out.loc[rows, "pair_n"] = int(out.loc[rows, "n"].min() if n_ab is None else n_ab)
    return out


def _members(scores: pd.DataFrame, row: pd.Series) -> pd.Series:
    """One score per respondent of a summary cell, indexed by respondent id."""
    m = scores["role"].isin(roles_of(row["role"])) & (scores["target"] == row["target"])
    m &= scores["scale"] == row["scale"]
    if row["sector"] != "all":
        m &= scores["sector"] == row["sector"]
    if row["gender"] != "all":
        m &= scores["gender"] == row["gender"]
    part = scores.loc[m & scores["score"].notna()]
    return part.set_index("respondent_id")["score"]


def file_correlations(frame: pd.DataFrame, scores: pd.DataFrame
                      ) -> dict[str, tuple[float, int]]:
    """Each paired cell's own correlation in the respondent file the cells come from.

    Parameters
    ----------
    frame : DataFrame
        Summary cells marked by :func:`pair_cells`.
    scores : DataFrame
        The file's scale scores (:func:`triad.scores.scale_scores`).

    Returns
    -------
    dict
        Pair label -> (Pearson r over the respondents with both scores, their number);
        pairs with fewer than 3 such respondents or no variance are left out (the
        spec's r applies to them).
    """
    out = {}
    for label, part in frame[frame["pair"] != ""].groupby("pair"):
        a, b = (_members(scores, row) for _, row in part.iterrows())
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
        if len(both) < 3 or both["a"].std() == 0 or both["b"].std() == 0:
            continue
        out[str(label)] = (float(np.corrcoef(both["a"], both["b"])[0, 1]), len(both))
    return out


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
        Which pair's r to vary (:data:`PAIR_KINDS`).
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
