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

:func:`disclosure_attack` is the matching audit: from written tables alone it tries
every subtraction along those hierarchies (and solves the linear system they form)
and reports what it can derive about suppressed groups.

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
from itertools import combinations, product
from pathlib import Path

import numpy as np
import pandas as pd

from triad.codebook import roles_of
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
# Sets of up to this many small atoms (finest cells) are checked as derivable aggregates.
_MAX_COMBO = 3
_TOL = 1e-8


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


# --------------------------------------------------------------------------- groups
_KEY = re.compile(r"[A-Za-z0-9_]+>[A-Za-z0-9_]*@[A-Za-z0-9_]+(?:#[A-Za-z0-9_]+)?")


def table_groups(text) -> list[str]:
    """Group keys named in a table cell (``'a>b@all | c>d@all'``, ``'age ~ x in a>b@all'``)."""
    return _KEY.findall(text) if isinstance(text, str) else []


def _is_pooled(role: str) -> bool:
    return role == "all" or len(roles_of(role)) > 1


def _columns(atoms: pd.DataFrame) -> dict:
    """Return the atoms' key columns as plain arrays (pandas compares slowly per key)."""
    return {c: np.asarray(atoms[c].to_numpy(dtype=object)) for c in
            ("role", "target", "sector", "gender")}


def _mask(cols: dict, key: str) -> np.ndarray:
    """Atoms (finest cells: role, target, sector, gender) that a group key covers."""
    g = parse_group_key(key)
    m = np.ones(len(cols["role"]), dtype=bool)
    if g["role"] != "all":  # 'all' pools every role, as in the report's Table 1
        m &= np.isin(cols["role"], list(roles_of(g["role"])))
    if g["target"]:
        m &= cols["target"] == g["target"]
    if g["sector"] != "all":
        m &= cols["sector"] == g["sector"]
    if g["gender"]:
        m &= cols["gender"] == g["gender"]
    return m


def _basis(rows: np.ndarray, width: int) -> np.ndarray:
    """Orthonormal basis of the row space of ``rows``."""
    if len(rows) == 0:
        return np.zeros((0, width))
    _, s, vt = np.linalg.svd(np.asarray(rows, dtype=float), full_matrices=False)
    return vt[s > _TOL * max(1.0, s[0])]


def _in_span(basis: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
    resid = vectors - (vectors @ basis.T) @ basis
    return np.linalg.norm(resid, axis=1) <= 1e-7 * np.maximum(np.linalg.norm(vectors, axis=1),
                                                              1.0)


class _Lattice:
    """Every group the keys can name over one scale's atoms, merged by the atoms they cover.

    Groups with the same atoms (``teacher>youth@all`` and ``teacher>youth@special_education``
    when teachers work in one sector) carry the same statistics: they form one class and
    are shown or blanked together.
    """

    def __init__(self, atoms: pd.DataFrame, raters: list[str]) -> None:
        self.atoms = atoms.reset_index(drop=True)
        self.n = self.atoms["n"].to_numpy(dtype=float)
        self.cols = _columns(self.atoms)
        self._members: dict = {}
        targets = sorted(set(self.atoms["target"]))
        sectors = ["all", *sorted(set(self.atoms["sector"]))]
        genders = [None, *sorted(set(self.atoms["gender"]) - {""})]
        classes: dict[frozenset, list[str]] = {}
        for rater, target, sector, gender in product(raters, targets, sectors, genders):
            key = group_key(rater, target or None, sector, gender)
            members = frozenset(np.flatnonzero(_mask(self.cols, key)).tolist())
            if members and self.size(members) > 0:
                classes.setdefault(members, []).append(key)
        # deterministic order: small groups first, then by their first key
        self.classes = dict(sorted(((c, sorted(keys)) for c, keys in classes.items()),
                                   key=lambda kv: (self.size(kv[0]), kv[1][0])))

    def size(self, members) -> int:
        return int(self.n[list(members)].sum())

    def vector(self, members) -> np.ndarray:
        v = np.zeros(len(self.atoms))
        v[list(members)] = 1.0
        return v

    def members(self, key: str) -> frozenset:
        if key not in self._members:
            self._members[key] = frozenset(np.flatnonzero(_mask(self.cols, key)).tolist())
        return self._members[key]

    def label(self, members) -> str:
        if members in self.classes:
            return self.classes[members][0]
        parts = []
        for i in sorted(members):
            a = self.atoms.loc[i]
            key = group_key(a["role"], a["target"] or None, a["sector"], a["gender"] or None)
            parts.append(key if a["gender"] else f"{key} (gender not given)")
        return " + ".join(parts)


def _plan(lattice: _Lattice, min_cell: int, prominent: set, pinned: set) -> dict:
    """Choose the classes to blank: primary (0 < n < min_cell) and complementary ones.

    Returns ``{class: {"kind", "reason"}}``.  Greedy and deterministic: while a
    primary class or a set of fewer than ``min_cell`` respondents (up to ``_MAX_COMBO``
    small atoms, e.g. people without a gender) lies in the span of the shown classes,
    blank the cheapest shown class that its derivation uses (the one least prominent
    in the report's tables, then the smallest).
    """
    classes = list(lattice.classes)
    width = len(lattice.atoms)
    hidden = {c: {"kind": "primary", "reason": f"n < {min_cell}"}
              for c in classes if 0 < lattice.size(c) < min_cell}
    small = [i for i in range(width) if 0 < lattice.n[i] < min_cell]
    combos = [frozenset(x) for k in range(1, _MAX_COMBO + 1) for x in combinations(small, k)
              if lattice.n[list(x)].sum() < min_cell]

    def cost(c):
        keys = lattice.classes[c]
        return (any(k in prominent for k in keys), lattice.size(c), keys[0])

    for _ in range(len(classes) + 1):
        visible = [c for c in classes if c not in hidden]
        matrix = np.array([lattice.vector(c) for c in visible]).reshape(-1, width)
        basis = _basis(matrix, width)
        # what must stay hidden: the small groups and small sets of atoms (a complementary
        # suppression of a large group protects; it needs no protection of its own)
        targets = list(dict.fromkeys(
            [c for c in classes if hidden.get(c, {}).get("kind") == "primary"] + combos))
        if not targets:
            break
        leaks = _in_span(basis, np.array([lattice.vector(t) for t in targets]))
        if not leaks.any():
            break
        target = targets[int(np.flatnonzero(leaks)[0])]
        vec = lattice.vector(target)
        alpha = np.linalg.lstsq(matrix.T, vec, rcond=None)[0]
        used = [visible[i] for i in np.flatnonzero(np.abs(alpha) > 1e-9)]
        candidates = sorted((c for c in used if not set(lattice.classes[c]) & pinned), key=cost)
        if not candidates:  # only pinned classes derive it: blank what touches it instead
            candidates = sorted((c for c in visible if c & target
                                 and not set(lattice.classes[c]) & pinned), key=cost)
        if not candidates:
            break
        chosen = candidates[0]
        for c in candidates:
            rest = np.array([lattice.vector(v) for v in visible if v != c]).reshape(-1, width)
            if not _in_span(_basis(rest, width), vec)[0]:
                chosen = c
                break
        hidden[chosen] = {"kind": "secondary",
                          "reason": f"shown, it would let {lattice.label(target)} be derived "
                                    "by adding and subtracting groups"}
    return hidden


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
        pooled = [r for r in pooled if _is_pooled(r)]
        self._lattices = {}
        # one lattice per scale (respondents with a score) and one of respondent counts
        s = self._scores.assign(gender=self._scores["gender"].fillna("").astype(str))
        for scale, part in s.groupby("scale", sort=True):
            atoms = (part.groupby(["role", "target", "sector", "gender"])["respondent_id"]
                     .nunique().rename("n").reset_index())
            roles = set(atoms["role"])
            raters = sorted(roles) + [r for r in pooled if set(roles_of(r)) & roles]
            self._lattices[scale] = _Lattice(atoms, raters)
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
        self._lattices[None] = _Lattice(atoms, raters)
        # the total number of respondents is in run.json: it is never blanked
        pinned = {group_key("all", None, "all")}
        for scale, lattice in self._lattices.items():
            for members, entry in _plan(lattice, self.min_cell, template, pinned).items():
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


# --------------------------------------------------------------------------- contrasts
def contrast_index(units: pd.DataFrame) -> dict:
    """Map ``(contrast name, sector)`` to the ``(group key, scale)`` pairs it compares.

    Built with triad's own contrast definitions (:func:`triad.contrasts.contrast_pairs`)
    and the naming of the labelled estimands (:mod:`triad.estimands`) over ``units``
    (columns ``role, target, scale, sector, gender``).
    """
    from triad.contrasts import contrast_pairs, families
    from triad.estimands import age_effect_name, gender_gap_name

    # plain object columns and one row per atom: contrast_pairs compares per pair
    units = units[["role", "target", "scale", "sector", "gender"]].astype(object)
    units["gender"] = units["gender"].where(units["gender"].notna(), None)
    units = units.drop_duplicates().reset_index(drop=True)
    index: dict = {}
    for scale in sorted(set(units["scale"])):
        for family in families():
            for cname, sector, sa, sb in contrast_pairs(family, scale, units):
                index.setdefault((cname, sector), [
                    (group_key(s.rater, s.target or None, s.sector, s.gender), s.scale)
                    for s in (sa, sb)])
    # the estimands' gender and age rows: rater is a pooled role or the role itself
    template = {parse_group_key(k)["role"] for k in load_cells()["group"]}
    pooled = [r for r in sorted(template) if r != "all" and _is_pooled(r)]
    genders = sorted(set(units["gender"].dropna()) - {""})
    sectors = ["all", *sorted(set(units["sector"]))]
    for (scale, role, target), _ in units.groupby(["scale", "role", "target"]):
        rater = next((p for p in pooled if role in roles_of(p)), role)
        for sector in sectors:
            name = gender_gap_name(scale, rater, target)
            index.setdefault((name, sector), [
                (group_key(rater, target, sector, g), scale) for g in genders])
            for label in ("per_sd", "per_5_years"):
                index.setdefault((age_effect_name(scale, label, rater, target), sector),
                                 [(group_key(rater, target, sector), scale)])
    return index


def resolve_contrast(index: dict, row) -> list[tuple[str, str]] | None:
    """Return the groups behind a contrasts row (standardised: every sector's)."""
    name, sector = row.get("contrast"), row.get("sector")
    if not isinstance(name, str) or not isinstance(sector, str):
        return None
    if (name, sector) not in index:
        # a variant of a known contrast ('..._latent' rows of ordinal models)
        known = sorted({n for n, _ in index if name.startswith(n + "_")}, key=len)
        if not known:
            return None
        name = known[-1]
    if row.get("estimand") == "standardised":
        parts = [g for (n, s), gs in index.items() if n == name and s != "all" and "-" not in s
                 for g in gs]
        return (parts + index.get((name, sector), [])) or None
    return index.get((name, sector))


# --------------------------------------------------------------------------- the attack
_STATS = ("n", "sum", "sumsq")


def _stats(n, mean=np.nan, sd=np.nan) -> np.ndarray:
    """n, n * mean and the sum of squares (n - 1) sd^2 + n mean^2 (NaN where not shown)."""
    n, mean, sd = (float(x) if x is not None and not pd.isna(x) else np.nan
                   for x in (n, mean, sd))
    total = n * mean
    sumsq = (n - 1) * sd ** 2 + n * mean ** 2 if n > 1 else (n * mean ** 2 if n == 1 else np.nan)
    return np.array([n, total, sumsq])


class _Family:
    """Statistics of one kind (same data, same scale) from the written tables."""

    def __init__(self) -> None:
        self.shown: dict[str, np.ndarray] = {}
        self.hidden: set[str] = set()
        self.equations: list[tuple[dict, float]] = []  # {key: coefficient on 'sum'}, value

    def show(self, key: str, values: np.ndarray) -> None:
        old = self.shown.get(key)
        self.shown[key] = values if old is None else np.where(np.isnan(old), values, old)

    def keys(self) -> set[str]:
        return set(self.shown) | self.hidden


def _relations(keys: set[str]) -> list[tuple[str, list[str]]]:
    """Additive relations ``total = sum of parts`` among the keys (parts that are named).

    A key is refined along any non-empty set of its dimensions: a pooled role into its
    roles (``all`` into every role named), a sector total into the sectors, a group
    into its genders.  Parts no table names are taken as empty (an attacker who knows
    the design), so a relation may equate a total with a single part.
    """
    parsed = {k: parse_group_key(k) for k in keys}
    base = sorted({g["role"] for g in parsed.values() if not _is_pooled(g["role"])})
    sectors = sorted({g["sector"] for g in parsed.values()} - {"all"})
    genders = sorted({g["gender"] for g in parsed.values() if g["gender"]})
    out = []
    for key in sorted(keys):
        g = parsed[key]
        options = {
            "role": (base if g["role"] == "all" else list(roles_of(g["role"])))
            if _is_pooled(g["role"]) else None,
            "sector": sectors if g["sector"] == "all" else None,
            "gender": genders if g["gender"] is None else None}
        dims = [d for d, v in options.items() if v]
        for k in range(1, len(dims) + 1):
            for refine in combinations(dims, k):
                values = {d: (options[d] if d in refine else [g[d]])
                          for d in ("role", "sector", "gender")}
                parts = [group_key(r, g["target"], s, x) for r, s, x in product(
                    values["role"], values["sector"], values["gender"])]
                parts = [p for p in parts if p in keys and p != key]
                if parts:
                    out.append((key, parts))
    return out


def _subtract(family: _Family, relations, counts: dict) -> dict:
    """Every subtraction along the relations, repeated while it derives something new."""
    known = {k: v.copy() for k, v in family.shown.items()}
    derived: dict = {}
    for _ in range(len(family.keys()) + 1):
        new = False
        for total, parts in relations:
            members = [total, *parts]
            for target in members:
                if target not in family.hidden:
                    continue
                others = [m for m in members if m != target]
                for j, stat in enumerate(_STATS):
                    if not np.isnan(known.get(target, np.full(3, np.nan))[j]):
                        continue
                    counts["subtractions"] += 1
                    vals = [known.get(m, np.full(3, np.nan))[j] for m in others]
                    if any(np.isnan(v) for v in vals):
                        continue
                    value = (vals[0] - sum(vals[1:]) if target != total else sum(vals))
                    known.setdefault(target, np.full(3, np.nan))[j] = value
                    derived[(target, stat)] = (value, f"{total} = " + " + ".join(parts))
                    new = True
        if not new:
            break
    return derived


def _solve(family: _Family, counts: dict) -> dict:
    """Solve the linear system of everything shown; report the hidden groups it fixes."""
    keys = sorted(family.keys())
    parsed = {k: parse_group_key(k) for k in keys}
    base = sorted({g["role"] for g in parsed.values() if not _is_pooled(g["role"])})
    targets = sorted({g["target"] or "" for g in parsed.values()})
    sectors = sorted({g["sector"] for g in parsed.values()} - {"all"})
    genders = sorted({g["gender"] for g in parsed.values() if g["gender"]}) or [""]
    atoms = pd.DataFrame(list(product(base, targets, sectors, genders)),
                         columns=["role", "target", "sector", "gender"])
    if atoms.empty:
        return {}
    cols = _columns(atoms)
    masks = {k: _mask(cols, k) for k in keys}
    used = np.logical_or.reduce([m for m in masks.values()])
    atoms = atoms[used].reset_index(drop=True)
    masks = {k: m[used] for k, m in masks.items()}
    derived = {}
    for j, stat in enumerate(_STATS):
        rows = [(masks[k].astype(float), v[j]) for k, v in family.shown.items()
                if not np.isnan(v[j])]
        if stat == "sum":
            for coef, value in family.equations:
                vec = sum(c * masks[k] for k, c in coef.items() if k in masks)
                if not isinstance(vec, int):
                    rows.append((np.asarray(vec, dtype=float), value))
        if not rows:
            continue
        a = np.array([r[0] for r in rows])
        b = np.array([r[1] for r in rows])
        basis = _basis(a, a.shape[1])
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        for k in sorted(family.hidden):
            if not masks[k].any():
                continue
            counts["rank_checks"] += 1
            if _in_span(basis, masks[k].astype(float))[0]:
                derived[(k, stat)] = (float(masks[k] @ solution), "linear system")
    return derived


def _attack_families(tables: dict) -> dict:
    """Sort the written tables' statistics into families of additive statistics.

    Each family holds what is shown per group key and which keys are blank; ``("n",
    scale)`` pools every table's group sizes, so a size blanked in one table and shown
    in another is found too.
    """
    families: dict = {}
    pending: dict = {}  # groups of blanked multi-group rows, by family

    def fam(*key) -> _Family:
        return families.setdefault(key, _Family())

    def record(family: tuple, key: str, values: np.ndarray | None) -> None:
        if values is None:
            fam(*family).hidden.add(key)
        else:
            fam(*family).show(key, values)
        if family[0] != "n":
            sizes = None if values is None else np.array([values[0], np.nan, np.nan])
            record(("n", family[-1]), key, sizes)

    cells = tables.get("cells.csv")
    if cells is not None:
        for _, r in cells.iterrows():
            if isinstance(r.get("group"), str):
                scale = r["scale"] if isinstance(r.get("scale"), str) else None
                record(("cells", scale), r["group"],
                       None if _blank(r) else _stats(r.get("n"), r.get("mean"), r.get("sd")))
    rel = tables.get("reliability.csv")
    if rel is not None:
        for _, r in rel.iterrows():
            target = r["target"] if isinstance(r.get("target"), str) else None
            record(("reliability", r["scale"]), group_key(r["role"], target, r["sector"]),
                   None if _blank(r) else _stats(r.get("n")))
    means = tables.get("posterior_cell_means.csv")
    if means is not None:
        for _, r in means.iterrows():
            if str(r.get("data_source", "")) == "published":
                continue
            gender = r.get("gender")
            gender = gender if isinstance(gender, str) and gender != "all" else None
            target = r["target"] if isinstance(r.get("target"), str) else None
            record(("model", r["model"], r["scale"]),
                   group_key(r["role"], target, r["sector"], gender),
                   None if _blank(r) else _stats(r.get("n"), r.get("mean")))
    contrasts = tables.get("contrasts.csv")
    if contrasts is not None and len(contrasts):
        index = contrast_index(_vocabulary_units(families))
        for _, r in contrasts.iterrows():
            if str(r.get("data_source", "")) == "published":
                continue
            groups = resolve_contrast(index, r)
            estimand = r.get("estimand") if isinstance(r.get("estimand"), str) else (
                "descriptive")
            if not groups or len(groups) != 2 or groups[0][1] != groups[1][1]:
                continue
            (ka, scale), (kb, _) = groups
            family = ("model", r["model"], scale)
            if _blank(r):
                pending.setdefault(family, set()).update((ka, kb))
                continue
            na, nb = r.get("n_a"), r.get("n_b")
            record(family, ka, _stats(na))
            record(family, kb, _stats(nb))
            if estimand == "descriptive" and not pd.isna(r.get("estimate")) and na and nb:
                fam(*family).equations.append(({ka: 1.0 / float(na), kb: -1.0 / float(nb)},
                                               float(r["estimate"])))
    for family, keys in pending.items():
        for key in keys:
            if key not in fam(*family).shown and key not in fam("n", family[-1]).shown:
                record(family, key, None)
    return families


def _blank(row) -> bool:
    flag = row.get("suppressed")
    return bool(flag) and str(flag).lower() not in ("false", "0", "nan")


def _vocabulary_units(families: dict) -> pd.DataFrame:
    """Atoms (role, target, scale, sector, gender) implied by the group keys in the tables."""
    cells, genders = set(), set()
    for key, f in families.items():
        for k in f.keys():
            g = parse_group_key(k)
            if g["gender"]:
                genders.add(g["gender"])
            if isinstance(key[-1], str) and g["target"] and g["sector"] != "all":
                for role in roles_of(g["role"]):
                    cells.add((role, g["target"], key[-1], g["sector"]))
    rows = [(*c, g) for c in sorted(cells) for g in (sorted(genders) or [None])]
    return pd.DataFrame(rows, columns=["role", "target", "scale", "sector", "gender"])


def disclosure_attack(tables) -> dict:
    """Try to derive suppressed statistics from written tables, as an attacker would.

    For every family of additive statistics (the data's cells per scale; respondent
    counts; reliability n; each model's posterior cell means, contrast sizes and
    descriptive contrasts), every relation ``total = sum of parts`` that the group keys
    imply is used to derive each suppressed member from the shown ones -- ``n``,
    ``n * mean`` and the sum of squares ``(n - 1) sd^2 + n mean^2`` -- repeatedly, so
    derived values feed further subtractions; then the whole linear system of shown
    statistics is solved and every suppressed group it determines is reported.

    Parameters
    ----------
    tables : dict of {str: DataFrame} or path
        Written tables by file name (``cells.csv`` ...), or a folder of them.

    Returns
    -------
    dict
        ``tables`` (names read), ``families``, ``relations``, ``subtractions`` (tried),
        ``rank_checks`` and ``derived``: one dict per derived statistic (``family``,
        ``group``, ``scale``, ``statistic`` in ``n``/``sum``/``sumsq``, ``value``,
        ``how``).  Parts that no table names are taken as empty, so a derivation can be
        wrong; compare it with the truth before calling it a disclosure.
    """
    if not isinstance(tables, dict):
        folder = Path(tables)
        tables = {p.name: pd.read_csv(p) for p in sorted(folder.glob("*.csv"))}
    families = _attack_families(tables)
    counts = {"subtractions": 0, "rank_checks": 0, "relations": 0}
    derived = []
    for key, family in sorted(families.items(), key=lambda kv: str(kv[0])):
        if not family.hidden:
            continue
        relations = _relations(family.keys())
        counts["relations"] += len(relations)
        # blank in one row, shown in another (another table, or a repeated row)
        found = {(k, stat): (family.shown[k][j], "shown in another row")
                 for k in sorted(family.hidden & set(family.shown))
                 for j, stat in enumerate(_STATS) if not np.isnan(family.shown[k][j])}
        family.hidden -= set(family.shown)
        for item, value in _subtract(family, relations, counts).items():
            found.setdefault(item, value)
        for item, value in _solve(family, counts).items():
            found.setdefault(item, value)
        # a group derived to be empty discloses nobody
        empty = {g for (g, stat), (value, _) in found.items() if stat == "n" and abs(value) < 0.5}
        for (group, stat), (value, how) in sorted(found.items()):
            if group in empty:
                continue
            derived.append({"family": key[0], "group": group, "scale": key[-1],
                            "statistic": stat, "value": value, "how": how,
                            "model": key[1] if key[0] == "model" else ""})
    used = [n for n in ("cells.csv", "reliability.csv", "posterior_cell_means.csv",
                        "contrasts.csv") if n in tables]
    return {"tables": used, "families": len(families), **counts, "derived": derived}
