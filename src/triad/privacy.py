"""Small-cell protection for publication outputs, and unlinkable respondent codes.

The real input of triad is a file about minors in youth care.  Every table the main
job writes is passed through :class:`SmallCellGuard`:

* **Primary suppression**: any statistic that describes a group of fewer than
  ``min_cell`` respondents (default 5) is blanked, the row is marked ``suppressed``.
* **Secondary suppression**: groups form additive hierarchies (a pooled role is the
  sum of its roles, a sector total the sum of its sectors, a group the sum of its
  genders).  Blanking a cell of 3 men while showing the 9 professionals and the 6
  women beside it gives the men away: ``n * mean`` and the sum of squares are
  additive, so ``9 M_all - 6 M_women = 3 M_men``.  Before anything is written the
  guard plans, per scale, which further groups to blank so that no suppressed group
  -- and no set of fewer than ``min_cell`` respondents -- is a linear combination of
  the groups still shown (statistical offices' complementary suppression).  The
  plan is made on the full lattice of groups the keys can name (roles, pooled roles,
  sectors, genders), so it holds across tables: a blanked group is blanked in every
  table that shows it.  Each suppression is recorded with its reason
  (:meth:`SmallCellGuard.summary`, ``suppression.csv``).

:func:`disclosure_attack` (:mod:`triad.disclosure`) is the matching audit: from written
tables alone it tries every subtraction along those hierarchies (and solves the linear
system they form) and reports what it can derive about suppressed groups.  The lattice
of groups and the suppression plan are in :mod:`triad.group_lattice`.

Respondent ids never reach an output: model rows carry codes from :func:`pseudonym`,
an HMAC-SHA256 of the id under a key derived from the complete validated data set
(:func:`pseudonym_key`), held in memory and never written.  Nobody without the whole
input file can compute the key, so hashing a guessed id range finds nothing; the
same file gives the same codes in every process of a run and in a rerun, so cached
fits, LOO comparisons and the respondent-effect order stay valid.
"""

import hashlib
import hmac
import re

import numpy as np
import pandas as pd

from triad.codebook import roles_of
from triad.disclosure import disclosure_attack
from triad.group_lattice import (
    Lattice,
    contrast_index,
    is_pooled,
    plan_suppression,
    resolve_contrast,
    table_groups,
)
from triad.published import group_key, load_cells, parse_group_key

__all__ = ["DEFAULT_MIN_CELL", "PROTECTED_COLUMNS", "SmallCellGuard", "disclosure_attack",
           "pseudonym", "pseudonym_key", "table_groups"]

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
SUMMARY_COLUMNS = ["table", "rows_suppressed", "columns", "rule", "kind", "groups"]


# --------------------------------------------------------------------------- codes
def pseudonym_key(wide: pd.DataFrame) -> bytes:
    """Secret key of the respondent codes of one data set (held in memory, never written).

    The key is an HMAC of the complete validated wide table (ids, answers, ages), so
    it cannot be computed without the whole input file, while every process of a
    run -- and a rerun on the same file -- derives the same key: codes, and with them
    the order of respondent effects, cached fits and LOO data keys, stay stable.
    """
    content = wide.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hmac.new(b"triad respondent codes v1", content, hashlib.sha256).digest()


def pseudonym(respondent_id: str, key: bytes) -> str:
    """Return the code of a respondent id under ``key`` (:func:`pseudonym_key`).

    An HMAC-SHA256 of the id, truncated to 10 hex digits: without the key no hash of
    the id -- salted or not -- gives the code.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValueError("pseudonym needs the data set's secret key (pseudonym_key)")
    digest = hmac.new(bytes(key), str(respondent_id).encode("utf-8"), hashlib.sha256)
    return "p" + digest.hexdigest()[:10]


# --------------------------------------------------------------------------- the guard
class SmallCellGuard:
    """Suppress statistics of small groups, and of groups that would give them away.

    Parameters
    ----------
    scores : DataFrame or None
        Scale scores (:func:`triad.scores.scale_scores`): group sizes are counted from
        the respondents with a score (respondent counts from every respondent).
        None disables the guard.
    min_cell : int
        Smallest group shown; 0 or 1 disables suppression.
    """

    def __init__(self, scores: pd.DataFrame | None, min_cell: int = DEFAULT_MIN_CELL) -> None:
        self.min_cell = int(min_cell)
        self.active = scores is not None and self.min_cell > 1
        self.notes: list[dict] = []
        self._scores = None
        self._people = None
        if self.active:
            cols = ["respondent_id", "role", "target", "sector", "gender", "scale"]
            self._scores = scores[scores["score"].notna()][cols].copy()
            self._people = scores.drop_duplicates("respondent_id")[
                ["respondent_id", "role", "sector", "gender"]].copy()
        self._cache: dict = {}
        self._lattices: dict | None = None
        self._hidden: dict = {}
        self._contrast_index: dict | None = None

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

    # ---------------------------------------------------------------- the plan
    def _build(self) -> None:
        """Plan every suppression before the first table is written (once)."""
        if self._lattices is not None:
            return
        template = set(load_cells()["group"])
        pooled = sorted({parse_group_key(k)["role"] for k in template} - {"all"})
        pooled = [r for r in pooled if is_pooled(r)]
        self._lattices = {}
        # one lattice per scale (respondents with a score) and one of respondent counts
        s = self._scores.assign(gender=self._scores["gender"].fillna("").astype(str))
        for scale, part in s.groupby("scale", sort=True):
            atoms = (part.groupby(["role", "target", "sector", "gender"])["respondent_id"]
                     .nunique().rename("n").reset_index())
            roles = set(atoms["role"])
            raters = sorted(roles) + [r for r in pooled if set(roles_of(r)) & roles]
            self._lattices[scale] = Lattice(atoms, raters)
        # respondent counts (the report's Table 1) name no gender: no gender split there
        cells = load_cells()
        counted = cells.loc[cells["scale"].isna(), "group"]
        split = any(parse_group_key(k)["gender"] for k in counted)
        gender = self._people["gender"].fillna("").astype(str) if split else ""
        people = self._people.assign(gender=gender, target="")
        atoms = (people.groupby(["role", "target", "sector", "gender"])["respondent_id"]
                 .nunique().rename("n").reset_index())
        roles = set(atoms["role"])
        raters = sorted(roles) + [r for r in pooled if set(roles_of(r)) & roles] + ["all"]
        self._lattices[None] = Lattice(atoms, raters)
        # the total number of respondents is in run.json: it is never blanked
        pinned = {group_key("all", None, "all")}
        for scale, lattice in self._lattices.items():
            for members, entry in plan_suppression(
                    lattice, self.min_cell, template, pinned).items():
                self._hidden[(scale, members)] = entry

    def plan(self) -> pd.DataFrame:
        """Every blanked group class: scale, its keys, primary or secondary, and why."""
        if not self.active:
            return pd.DataFrame(columns=["scale", "groups", "kind", "reason"])
        self._build()
        rows = [{"scale": scale if scale is not None else "",
                 "groups": " = ".join(self._lattices[scale].classes[members]),
                 "kind": e["kind"], "reason": e["reason"]}
                for (scale, members), e in self._hidden.items()]
        return pd.DataFrame(rows, columns=["scale", "groups", "kind", "reason"])

    def _entry(self, key: str, scale) -> dict | None:
        """Return the plan's entry for a group (None when it is shown)."""
        scale = scale if isinstance(scale, str) and scale else None
        lattice = self._lattices.get(scale)
        if lattice is None:
            return None
        try:
            members = lattice.members(key)
        except ValueError:
            return None
        return self._hidden.get((scale, members)) if members else None

    # ---------------------------------------------------------------- rows
    def _contrasts(self) -> dict:
        """(contrast name, sector) -> the groups behind it, from triad's own definitions."""
        if self._contrast_index is None:
            self._contrast_index = contrast_index(self._units())
        return self._contrast_index

    def _units(self) -> pd.DataFrame:
        s = self._scores
        return s[["role", "target", "scale", "sector", "gender"]].drop_duplicates()

    def _row_groups(self, name: str, row: pd.Series) -> list[tuple[str, str | None]] | None:
        """Return the (group key, scale) pairs a row describes (None: not known)."""
        scale = row.get("scale") if isinstance(row.get("scale"), str) else None
        if name == "cells.csv":
            return [(row["group"], scale)] if isinstance(row.get("group"), str) else None
        if name == "posterior_cell_means.csv":
            gender = row.get("gender")
            gender = gender if isinstance(gender, str) and gender != "all" else None
            target = row.get("target") if isinstance(row.get("target"), str) else None
            return [(group_key(row["role"], target, row["sector"], gender), scale)]
        if name == "reliability.csv":
            target = row.get("target") if isinstance(row.get("target"), str) else None
            return [(group_key(row["role"], target, row["sector"]), scale)]
        if name == "anova.csv":
            text = row.get("groups")
            # 'belangrijk ~ lukt in professional>self@all' names two scales
            scales = {scale} | {w for w in re.findall(r"[a-z_]+", text or "")
                                if w in (self._lattices or {})}
            return [(k, sc) for k in table_groups(text) for sc in sorted(scales, key=str)]
        if name in ("claims.csv", "multiverse.csv"):
            return [(g, scale) for g in (row.get("group_a"), row.get("group_b"))
                    if isinstance(g, str) and ">" in g]
        if name in ("contrasts.csv", "rope_sensitivity.csv"):
            return resolve_contrast(self._contrasts(), row)
        return None

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
            groups = table_groups(row.get("groups"))
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
        """Return ``frame`` with small groups' statistics blanked and a ``suppressed`` flag.

        A row is blanked when a group it describes has fewer than ``min_cell``
        respondents (primary) or when the plan blanks one of its groups so that a small
        group cannot be derived from the others (secondary).
        """
        if not self.active or name not in PROTECTED_COLUMNS or frame.empty:
            return frame
        self._build()
        out = frame.copy()
        primary = np.zeros(len(out), dtype=bool)
        secondary = np.zeros(len(out), dtype=bool)
        reasons: dict[str, dict[str, str]] = {"primary": {}, "secondary": {}}
        unresolved = 0
        for i, (_, row) in enumerate(out.iterrows()):
            primary[i] = self._row_min(name, row) < self.min_cell
            if str(row.get("data_source", "")) == "published":
                continue  # the report's own numbers are public
            groups = self._row_groups(name, row)
            if groups is None:
                unresolved += name in ("contrasts.csv", "rope_sensitivity.csv")
                continue
            for key, scale in groups:
                entry = self._entry(key, scale)
                if entry is None:
                    continue
                label = f"{key} [{scale}]" if scale else key
                reasons[entry["kind"]][label] = entry["reason"]
                if entry["kind"] == "primary":
                    primary[i] = True
                else:
                    secondary[i] = True
        secondary &= ~primary
        small = primary | secondary
        cols = [c for c in PROTECTED_COLUMNS[name] if c in out.columns]
        for c in cols:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].astype(object)
                out.loc[small, c] = ""
            else:
                out[c] = out[c].astype(float)
                out.loc[small, c] = np.nan
        out["suppressed"] = small
        if primary.any():
            self.notes.append({"table": name, "rows_suppressed": int(primary.sum()),
                               "columns": ", ".join(cols),
                               "rule": f"a group with n < {self.min_cell}", "kind": "primary",
                               "groups": "; ".join(sorted(reasons["primary"]))})
        if secondary.any():
            self.notes.append({
                "table": name, "rows_suppressed": int(secondary.sum()),
                "columns": ", ".join(cols),
                "rule": "secondary: shown beside a suppressed group, the group would let its "
                        "statistics be derived by adding and subtracting totals and parts",
                "kind": "secondary",
                "groups": "; ".join(f"{k} ({v})" for k, v in sorted(
                    reasons["secondary"].items()))})
        if unresolved:
            self.notes.append({"table": name, "rows_suppressed": 0, "columns": "",
                               "rule": f"{unresolved} rows name no known groups: protected "
                                       "by their n only", "kind": "unresolved", "groups": ""})
        return out

    def summary(self) -> pd.DataFrame:
        """One row per table and kind of suppression (empty when nothing was suppressed)."""
        return pd.DataFrame(self.notes, columns=SUMMARY_COLUMNS)
