"""Scale scores: the mean of a scale's items per (respondent, target).

Missing-item rule (default from the codebook's ``min_items``: 3 of 4, 9 of 12 for
Alliantie, 8 of 10): a score is the mean of the answered items when at least that
many are answered, else missing -- and then listed with the reason, never dropped
silently.
"""

import numpy as np
import pandas as pd

from triad.codebook import Codebook, load_codebook

__all__ = ["scale_scores", "SCORE_COLUMNS"]

SCORE_COLUMNS = [
    "respondent_id", "role", "sector", "gender", "age", "target", "scale", "score",
    "n_answered", "n_items", "excluded_reason",
]


def scale_scores(
    wide: pd.DataFrame,
    *,
    min_items: dict | None = None,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Compute scale scores for every respondent, target and scale they answer.

    Parameters
    ----------
    wide : DataFrame
        Canonical wide data (:attr:`triad.readers.RespondentData.wide`).
    min_items : dict, optional
        Scale id -> minimum number of answered items; overrides the codebook's.
    codebook : Codebook, optional

    Returns
    -------
    DataFrame
        Tidy, columns :data:`SCORE_COLUMNS`; ``score`` is NaN and
        ``excluded_reason`` says why when too few items were answered.
    """
    cb = codebook or load_codebook()
    rule = {sid: s.min_items for sid, s in cb.scales.items()}
    if min_items:
        unknown = set(min_items) - set(rule)
        if unknown:
            raise ValueError(f"min_items: unknown scale(s) {sorted(unknown)}")
        rule.update(min_items)
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    parts = []
    for role, group in wide.groupby("role", sort=False):
        by_target: dict = {}
        for ic in cb.item_columns(role):
            by_target.setdefault(ic.target, {}).setdefault(ic.scale, []).append(ic.column)
        for target, scales in by_target.items():
            todo = dict(scales)
            composites = [
                s for s in cb.scales.values()
                if s.composite_of and all(c in scales for c in s.composite_of)
            ]
            for comp in composites:
                todo[comp.id] = [c for part in comp.composite_of for c in scales[part]]
            for scale_id, cols in todo.items():
                values = group[cols].to_numpy(dtype=float)
                answered = np.sum(~np.isnan(values), axis=1)
                ok = answered >= rule[scale_id]
                with np.errstate(invalid="ignore"):
                    means = np.where(
                        answered > 0, np.nansum(values, axis=1) / np.maximum(answered, 1), np.nan
                    )
                frame = group[ident].copy()
                frame["target"] = target
                frame["scale"] = scale_id
                frame["score"] = np.where(ok, means, np.nan)
                frame["n_answered"] = answered
                frame["n_items"] = len(cols)
                frame["excluded_reason"] = np.where(
                    ok, "", f"fewer than {rule[scale_id]} of {len(cols)} items answered"
                )
                parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[SCORE_COLUMNS]
    order = {s: i for i, s in enumerate(cb.scales)}
    out = out.sort_values(
        ["respondent_id", "target", "scale"],
        key=lambda s: s.map(order) if s.name == "scale" else s,
        kind="stable",
    ).reset_index(drop=True)
    return out
