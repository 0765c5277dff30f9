"""The groups that group keys name, and the plan of which to blank (issues 9 and 18).

Group keys (``role>target@sector#gender``) name groups that form additive hierarchies
over a scale's *atoms*, the finest cells (role, target, sector, gender): a pooled role is
the sum of its roles, a sector total the sum of its sectors, a group the sum of its
genders.  :class:`Lattice` holds every group the keys can name over one scale's atoms,
merged into classes by the atoms they cover; :func:`plan_suppression` chooses the
classes to blank so that no small group is a linear combination of the classes shown.
:func:`contrast_index` and :func:`resolve_contrast` find the groups behind a contrast
row.  The small-cell guard (:mod:`triad.privacy`) and the disclosure attack
(:mod:`triad.disclosure`) are built on these.
"""

import re
from itertools import combinations, product

import numpy as np
import pandas as pd

from triad.codebook import roles_of
from triad.published import group_key, load_cells, parse_group_key

__all__ = ["Lattice", "atom_columns", "atom_mask", "contrast_index", "in_span", "is_pooled",
           "plan_suppression", "resolve_contrast", "row_basis", "table_groups"]

# Sets of up to this many small atoms (finest cells) are checked as derivable aggregates.
_MAX_COMBO = 3
_TOL = 1e-8


# --------------------------------------------------------------------------- groups
_KEY = re.compile(r"[A-Za-z0-9_]+>[A-Za-z0-9_]*@[A-Za-z0-9_]+(?:#[A-Za-z0-9_]+)?")


def table_groups(text) -> list[str]:
    """Group keys named in a table cell (``'a>b@all | c>d@all'``, ``'age ~ x in a>b@all'``)."""
    return _KEY.findall(text) if isinstance(text, str) else []


def is_pooled(role: str) -> bool:
    """Return whether a role key pools roles (``all`` or a key of several roles)."""
    return role == "all" or len(roles_of(role)) > 1


def atom_columns(atoms: pd.DataFrame) -> dict:
    """Return the atoms' key columns as plain arrays (pandas compares slowly per key)."""
    return {c: np.asarray(atoms[c].to_numpy(dtype=object)) for c in
            ("role", "target", "sector", "gender")}


def atom_mask(cols: dict, key: str) -> np.ndarray:
    """Return the atoms (finest cells: role, target, sector, gender) a group key covers."""
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


def row_basis(rows: np.ndarray, width: int) -> np.ndarray:
    """Return an orthonormal basis of the row space of ``rows``."""
    if len(rows) == 0:
        return np.zeros((0, width))
    _, s, vt = np.linalg.svd(np.asarray(rows, dtype=float), full_matrices=False)
    return vt[s > _TOL * max(1.0, s[0])]


def in_span(basis: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Return, per vector, whether it lies in the span of the orthonormal ``basis``."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
    resid = vectors - (vectors @ basis.T) @ basis
    return np.linalg.norm(resid, axis=1) <= 1e-7 * np.maximum(np.linalg.norm(vectors, axis=1),
                                                              1.0)


class Lattice:
    """Every group the keys can name over one scale's atoms, merged by the atoms they cover.

    Groups with the same atoms (``teacher>youth@all`` and ``teacher>youth@special_education``
    when teachers work in one sector) carry the same statistics: they form one class and
    are shown or blanked together.
    """

    def __init__(self, atoms: pd.DataFrame, raters: list[str]) -> None:
        self.atoms = atoms.reset_index(drop=True)
        self.n = self.atoms["n"].to_numpy(dtype=float)
        self.cols = atom_columns(self.atoms)
        self._members: dict = {}
        targets = sorted(set(self.atoms["target"]))
        sectors = ["all", *sorted(set(self.atoms["sector"]))]
        genders = [None, *sorted(set(self.atoms["gender"]) - {""})]
        classes: dict[frozenset, list[str]] = {}
        for rater, target, sector, gender in product(raters, targets, sectors, genders):
            key = group_key(rater, target or None, sector, gender)
            members = frozenset(np.flatnonzero(atom_mask(self.cols, key)).tolist())
            if members and self.size(members) > 0:
                classes.setdefault(members, []).append(key)
        # deterministic order: small groups first, then by their first key
        self.classes = dict(sorted(((c, sorted(keys)) for c, keys in classes.items()),
                                   key=lambda kv: (self.size(kv[0]), kv[1][0])))

    def size(self, members) -> int:
        """Return the number of respondents in a set of atoms."""
        return int(self.n[list(members)].sum())

    def vector(self, members) -> np.ndarray:
        """Return the indicator vector of a set of atoms."""
        v = np.zeros(len(self.atoms))
        v[list(members)] = 1.0
        return v

    def members(self, key: str) -> frozenset:
        """Return the atoms a group key covers (remembered per key)."""
        if key not in self._members:
            self._members[key] = frozenset(np.flatnonzero(atom_mask(self.cols, key)).tolist())
        return self._members[key]

    def label(self, members) -> str:
        """Return a set of atoms' name: its class's first key, else its atoms' keys joined."""
        if members in self.classes:
            return self.classes[members][0]
        parts = []
        for i in sorted(members):
            a = self.atoms.loc[i]
            key = group_key(a["role"], a["target"] or None, a["sector"], a["gender"] or None)
            parts.append(key if a["gender"] else f"{key} (gender not given)")
        return " + ".join(parts)


def plan_suppression(lattice: Lattice, min_cell: int, prominent: set, pinned: set) -> dict:
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
        basis = row_basis(matrix, width)
        # what must stay hidden: the small groups and small sets of atoms (a complementary
        # suppression of a large group protects; it needs no protection of its own)
        targets = list(dict.fromkeys(
            [c for c in classes if hidden.get(c, {}).get("kind") == "primary"] + combos))
        if not targets:
            break
        leaks = in_span(basis, np.array([lattice.vector(t) for t in targets]))
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
            if not in_span(row_basis(rest, width), vec)[0]:
                chosen = c
                break
        hidden[chosen] = {"kind": "secondary",
                          "reason": f"shown, it would let {lattice.label(target)} be derived "
                                    "by adding and subtracting groups"}
    return hidden


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
    pooled = [r for r in sorted(template) if r != "all" and is_pooled(r)]
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
