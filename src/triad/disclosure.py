"""The disclosure attack: what written tables give away about suppressed groups.

:func:`disclosure_attack` is the audit of the small-cell guard (:mod:`triad.privacy`):
from written tables alone it tries every subtraction along the hierarchies the group
keys imply (:mod:`triad.group_lattice`), solves the linear system of everything shown,
and reports what it can derive about suppressed groups.
"""

from itertools import combinations, product
from pathlib import Path

import numpy as np
import pandas as pd

from triad.codebook import roles_of
from triad.group_lattice import (
    atom_columns,
    atom_mask,
    contrast_index,
    in_span,
    is_pooled,
    resolve_contrast,
    row_basis,
)
from triad.published import group_key, parse_group_key

__all__ = ["disclosure_attack"]


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
    base = sorted({g["role"] for g in parsed.values() if not is_pooled(g["role"])})
    sectors = sorted({g["sector"] for g in parsed.values()} - {"all"})
    genders = sorted({g["gender"] for g in parsed.values() if g["gender"]})
    out = []
    for key in sorted(keys):
        g = parsed[key]
        options = {
            "role": (base if g["role"] == "all" else list(roles_of(g["role"])))
            if is_pooled(g["role"]) else None,
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
    base = sorted({g["role"] for g in parsed.values() if not is_pooled(g["role"])})
    targets = sorted({g["target"] or "" for g in parsed.values()})
    sectors = sorted({g["sector"] for g in parsed.values()} - {"all"})
    genders = sorted({g["gender"] for g in parsed.values() if g["gender"]}) or [""]
    atoms = pd.DataFrame(list(product(base, targets, sectors, genders)),
                         columns=["role", "target", "sector", "gender"])
    if atoms.empty:
        return {}
    cols = atom_columns(atoms)
    masks = {k: atom_mask(cols, k) for k in keys}
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
        basis = row_basis(a, a.shape[1])
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        for k in sorted(family.hidden):
            if not masks[k].any():
                continue
            counts["rank_checks"] += 1
            if in_span(basis, masks[k].astype(float))[0]:
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
