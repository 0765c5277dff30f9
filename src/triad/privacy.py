"""Small-cell protection for publication outputs (tables, figures, report).

The real input of triad is a file about minors in youth care.  Every table the main
job writes is passed through :class:`SmallCellGuard`: any statistic that describes a
group of fewer than ``min_cell`` respondents (default 5) is blanked, the row is
marked ``suppressed``, and a note says what was suppressed and why.  Figures and the
report are drawn from the protected tables, so they inherit the suppression.

Protection is on by default for every respondent file that is not the embedded
synthetic data set (which describes nobody); published numbers are public and are
never suppressed.  Respondent ids never reach the tables: the model rows carry
pseudonymous codes (:func:`pseudonym`) and the lists of excluded answers give the
line of the input file instead of the id.
"""

import hashlib
import re

import numpy as np
import pandas as pd

from triad.codebook import roles_of
from triad.published import parse_group_key

__all__ = ["DEFAULT_MIN_CELL", "SmallCellGuard", "pseudonym", "PROTECTED_COLUMNS"]

DEFAULT_MIN_CELL = 5
# Statistics blanked per table when a group is too small; identifying columns stay so a
# reader sees that the row exists and why it is empty.
PROTECTED_COLUMNS = {
    "cells.csv": ["n", "mean", "sd"],
    "anova.csv": ["statistic", "df1", "df2", "p", "effect", "effect_ci_low", "effect_ci_high",
                  "bf10"],
    "reliability.csv": ["n", "alpha", "alpha_ci_low", "alpha_ci_high", "omega"],
    "posterior_cell_means.csv": ["n", "mean", "ci_low", "ci_high"],
    "contrasts.csv": ["n_a", "n_b", "estimate", "ci_low", "ci_high", "p_direction", "p_rope",
                      "conclusion", "p_direction_mcse", "ci_low_mcse", "ci_high_mcse", "bf10"],
    "claims.csv": ["data_test_p", "bayes_estimate", "bayes_ci_low", "bayes_ci_high",
                   "p_direction", "p_rope", "conclusion", "p_direction_mcse", "robustness",
                   "paper_support_share"],
    "multiverse.csv": ["estimate", "ci_low", "ci_high", "p_direction", "p_rope", "bf10",
                       "conclusion"],
    "ppc.csv": ["observed", "replicated", "replicated_low", "replicated_high"],
    "ppc_cells.csv": ["n", "n_obs", "observed", "rep_mean", "rep_low", "rep_high", "p_value",
                      "flagged"],
    "rope_sensitivity.csv": ["rope", "p_rope"],
}


def pseudonym(respondent_id: str, salt: str = "") -> str:
    """Return a stable pseudonymous code for a respondent id (never the id itself)."""
    return "p" + hashlib.sha256(f"{salt}|{respondent_id}".encode()).hexdigest()[:10]


class SmallCellGuard:
    """Suppress statistics of groups smaller than ``min_cell`` in the named tables.

    Parameters
    ----------
    scores : DataFrame or None
        Scale scores (:func:`triad.scores.scale_scores`): group sizes are counted from
        the respondents with a score.  None disables the guard.
    min_cell : int
        Smallest group shown; 0 or 1 disables suppression.
    """

    def __init__(self, scores: pd.DataFrame | None, min_cell: int = DEFAULT_MIN_CELL) -> None:
        self.min_cell = int(min_cell)
        self.active = scores is not None and self.min_cell > 1
        self.notes: list[dict] = []
        self._scores = None
        if self.active:
            self._scores = scores[scores["score"].notna()][
                ["respondent_id", "role", "target", "sector", "gender", "scale"]].copy()
        self._cache: dict = {}

    # ---------------------------------------------------------------- sizes
    def size(self, group: str, scale: str | None = None) -> int:
        """Respondents in a group key ``role>target@sector[#gender]`` (with a score)."""
        key = (group, scale)
        if key not in self._cache:
            g = parse_group_key(group)
            s = self._scores
            m = s["role"].isin(roles_of(g["role"]))
            if g["target"]:
                m &= s["target"] == g["target"]
            if g["sector"] != "all":
                m &= s["sector"] == g["sector"]
            if g["gender"]:
                m &= s["gender"] == g["gender"]
            if scale and scale in set(s["scale"]):
                m &= s["scale"] == scale
            self._cache[key] = int(s.loc[m, "respondent_id"].nunique())
        return self._cache[key]

    def _row_min(self, name: str, row: pd.Series) -> float:
        """Smallest group a row of table ``name`` describes (inf when it names none)."""
        if name in ("contrasts.csv", "rope_sensitivity.csv"):
            sizes = [row.get("n_a"), row.get("n_b")]
            return float(np.nanmin([np.nan if pd.isna(x) else x for x in sizes] + [np.inf]))
        if name in ("cells.csv", "posterior_cell_means.csv", "reliability.csv", "ppc_cells.csv"):
            if str(row.get("data_source", "")) == "published":
                return np.inf
            return float(row["n"]) if not pd.isna(row.get("n")) else np.inf
        scale = row.get("scale") if isinstance(row.get("scale"), str) else None
        if name == "anova.csv":
            if not isinstance(row.get("groups"), str):
                return np.inf
            groups = [g for g in re.split(r"\s*\|\s*|\s+vs\s+", row["groups"]) if ">" in g]
        elif name in ("claims.csv", "multiverse.csv"):
            groups = [g for g in (row.get("group_a"), row.get("group_b"))
                      if isinstance(g, str) and ">" in g]
        elif name == "ppc.csv":
            groups = [f"{row['rater']}>@all"]
            scale = None
        else:
            return np.inf
        return float(min((self.size(g, scale) for g in groups), default=np.inf))

    # ---------------------------------------------------------------- apply
    def apply(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with small groups' statistics blanked and a ``suppressed`` flag."""
        if not self.active or name not in PROTECTED_COLUMNS or frame.empty:
            return frame
        out = frame.copy()
        smallest = np.array([self._row_min(name, r) for _, r in out.iterrows()])
        small = smallest < self.min_cell
        cols = [c for c in PROTECTED_COLUMNS[name] if c in out.columns]
        for c in cols:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].astype(object)
                out.loc[small, c] = ""
            else:
                out[c] = out[c].astype(float)
                out.loc[small, c] = np.nan
        out["suppressed"] = small
        if small.any():
            self.notes.append({"table": name, "rows_suppressed": int(small.sum()),
                               "columns": ", ".join(cols),
                               "rule": f"a group with n < {self.min_cell}"})
        return out

    def summary(self) -> pd.DataFrame:
        """One row per table with suppressed rows (empty when nothing was suppressed)."""
        return pd.DataFrame(self.notes, columns=["table", "rows_suppressed", "columns", "rule"])
