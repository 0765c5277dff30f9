"""Group summaries (n, M, SD) of respondent data in the layout of the published tables.

This lets every check and test that runs on the report's tables run on a
respondent file too: the synthetic data set is verified this way, and the audit
can be shown to pass on internally consistent tables.
"""

import numpy as np
import pandas as pd

from triad.codebook import roles_of
from triad.published import load_cells, parse_group_key

__all__ = ["cells_from_scores", "group_values"]



def _members(scores: pd.DataFrame, group: str, scale: str) -> pd.Series:
    g = parse_group_key(group)
    roles = roles_of(g["role"])
    mask = scores["role"].isin(roles) & (scores["scale"] == scale)
    if g["target"]:
        mask &= scores["target"] == g["target"]
    if g["sector"] != "all":
        mask &= scores["sector"] == g["sector"]
    if g["gender"]:
        mask &= scores["gender"] == g["gender"]
    return scores.loc[mask, "score"].dropna()


def group_values(scores: pd.DataFrame, group: str, variable: str) -> pd.Series:
    """One value per respondent of a group: a scale score or ``age``, indexed by id."""
    g = parse_group_key(group)
    roles = roles_of(g["role"])
    mask = scores["role"].isin(roles)
    if g["sector"] != "all":
        mask &= scores["sector"] == g["sector"]
    part = scores[mask]
    if variable == "age":
        part = part.drop_duplicates("respondent_id")
        return part.set_index("respondent_id")["age"].rename(variable)
    part = part[part["scale"] == variable]
    if g["target"]:
        part = part[part["target"] == g["target"]]
    return part.set_index("respondent_id")["score"].rename(variable)


def cells_from_scores(
    scores: pd.DataFrame, template: pd.DataFrame | None = None, *, decimals: int | None = 2
) -> pd.DataFrame:
    """Summarise scale scores for every (table, group, scale) cell of a template.

    Parameters
    ----------
    scores : DataFrame
        Output of :func:`triad.scores.scale_scores`.
    template : DataFrame, optional
        Cells in the layout of :func:`triad.published.load_cells` (default: the
        report's); Table 1 rows get respondent counts.
    decimals : int or None
        Round means and SDs as a report would (None keeps full precision).

    Returns
    -------
    DataFrame
        The template with ``n``, ``mean`` and ``sd`` replaced by the data's values.
    """
    template = load_cells() if template is None else template
    out = template.copy()
    people = scores.drop_duplicates("respondent_id")
    for i, row in out.iterrows():
        if pd.isna(row["scale"]):
            g = parse_group_key(row["group"])
            mask = np.ones(len(people), dtype=bool)
            if g["role"] != "all":
                mask &= people["role"].eq(g["role"]).to_numpy()
            if g["sector"] != "all":
                mask &= people["sector"].eq(g["sector"]).to_numpy()
            out.at[i, "n"] = int(mask.sum())
            continue
        values = _members(scores, row["group"], row["scale"])
        mean = float(values.mean()) if len(values) else np.nan
        sd = float(values.std(ddof=1)) if len(values) > 1 else np.nan
        if decimals is not None:
            mean, sd = round(mean, decimals), round(sd, decimals)
        out.at[i, "n"] = len(values)
        out.at[i, "mean"] = mean
        out.at[i, "sd"] = sd
    return out
