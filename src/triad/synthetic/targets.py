"""The published numbers as targets of the reconstruction, their priorities and conflicts.

Every printed n, mean and SD of the study's ``published/cells.csv`` is a target.  A
number's priority comes from the recipe's rules (0: required); a conflict the audit
already shows is declared in the recipe with its reason, and the values chosen instead
are computed here (sector SDs that pool to a printed total).
"""

import math
from dataclasses import dataclass, field

import pandas as pd

from triad.codebook import load_codebook, roles_of, sector_codes
from triad.published import load_cells, parse_group_key, sample_counts
from triad.sprite import sum_window
from triad.synthetic.recipe import (
    Recipe,
    cells_of,
    families,
    family_of,
    gender_counts,
    n_items,
)

__all__ = ["Con", "REQUIRED", "Resolution", "Target", "audit_note", "composite_note",
           "integer_note", "published_targets", "soft_sd_targets"]

REQUIRED = 0  # the priority of the numbers every solution must meet


@dataclass(frozen=True)
class Con:
    """A printed mean or SD as a constraint on one family's integer sums."""

    family: str
    cells: tuple
    gender: str | None
    scale: str
    stat: str
    value: float


@dataclass
class Target:
    """One printed (or chosen) number the synthetic file is built to reproduce."""

    table: str
    group: str
    scale: str
    stat: str
    value: float
    priority: int
    status: str = "required"  # required | kept | conflict
    reason: str = ""
    con: Con | None = None


@dataclass
class Resolution:
    """The resolved targets and the integer sums that meet them.

    Attributes
    ----------
    targets : list of Target
        Every printed n, mean and SD with its status (``required``, ``kept`` or
        ``conflict``) and, for conflicts, the reason.
    sums : dict
        (family, scale, cell index) -> (S, Q) integer total and sum of squares of
        the item sums of that cell.
    cons : dict
        family -> tuple of the constraints kept (used by the annealing step).
    soft_sd : dict
        (family, scale, cell index) -> SD chosen where the printed SD is a conflict.
    """

    targets: list
    sums: dict
    cons: dict
    soft_sd: dict = field(default_factory=dict)


def _declared_conflict(recipe: Recipe, row: pd.Series) -> str | None:
    """Conflicts decided before solving (the recipe's, from the audit), with their reason."""
    for c in recipe.conflicts:
        if (int(row["table"]) == int(c["table"]) and row["scale"] == c["scale"]
                and row["sector"] in c["sectors"]):
            return c["reason"]
    return None


def _population(recipe: Recipe, row: pd.Series) -> int | None:
    g = parse_group_key(row["group"])
    counts = sample_counts()
    if g["gender"]:
        return gender_counts(recipe)[g["gender"]]
    total = 0
    for role in roles_of(g["role"]):
        for sector in sector_codes():
            if g["sector"] in ("all", sector):
                total += counts.get((role, sector), 0)
    return total


def _priority(recipe: Recipe, row: pd.Series) -> int:
    table = int(row["table"])
    composite = bool(load_codebook().scales[row["scale"]].composite_of)
    for rule in recipe.priority_rules:
        if "tables" in rule and table not in rule["tables"]:
            continue
        if "role" in rule and row["role"] != rule["role"]:
            continue
        if "sector" in rule and row["sector"] != rule["sector"]:
            continue
        if rule.get("composite") and not composite:
            continue
        return int(rule["priority"])
    return REQUIRED


def published_targets(recipe: Recipe) -> list:
    """Every printed n, mean and SD as a :class:`Target` (with its constraint)."""
    out = []
    for _, row in load_cells().iterrows():
        table = str(int(row["table"]))
        if pd.isna(row["scale"]):  # a count of the sample table
            out.append(Target(table, row["group"], "", "n", float(row["n"]), REQUIRED))
            continue
        pop = _population(recipe, row)
        prio = _priority(recipe, row)
        n_target = Target(table, row["group"], row["scale"], "n", float(row["n"]), prio)
        if pop != int(row["n"]):
            n_target.status = "conflict"
            note = recipe.n_notes.get(table)
            n_target.reason = (
                f"Table {table} prints n = {int(row['n'])}; the sample table (and the sector "
                f"tables) give {pop} for this group, which the synthetic file follows"
                + (f" ({note})" if note else ""))
        out.append(n_target)
        g = parse_group_key(row["group"])
        fam_name = family_of(g["role"], row["target"])
        cell_idx = cells_of(families()[fam_name], g["role"], g["sector"])
        for stat in ("mean", "sd"):
            t = Target(table, row["group"], row["scale"], stat, float(row[stat]), prio)
            t.con = Con(fam_name, cell_idx, g["gender"], row["scale"], stat, float(row[stat]))
            reason = _declared_conflict(recipe, row) if stat == "sd" else None
            if reason:
                t.status, t.reason = "conflict", reason
            out.append(t)
    return out


def soft_sd_targets(recipe: Recipe) -> dict:
    """SDs chosen where printed sector SDs are a declared conflict with a ``pool_with``.

    The conflicting sectors' SDs are set equal so that, with the printed sector means,
    the ``pool_with`` sector's printed SD and the printed total SD, the within- and
    between-sector sums of squares pool to the total.
    """
    out = {}
    for c in recipe.conflicts:
        if "pool_with" not in c:
            continue
        table = load_cells(int(c["table"]))
        b = table[table["scale"] == c["scale"]].set_index("sector")
        total = b.loc["all"]
        sectors = [s for s in b.index if s != "all"]
        n = {s: int(b.loc[s, "n"]) for s in sectors}
        m = {s: float(b.loc[s, "mean"]) for s in sectors}
        big_n = sum(n.values())
        grand = sum(n[s] * m[s] for s in sectors) / big_n
        between = sum(n[s] * (m[s] - grand) ** 2 for s in sectors)
        within = (big_n - 1) * float(total["sd"]) ** 2 - between
        fixed = c["pool_with"]
        within -= (n[fixed] - 1) * float(b.loc[fixed, "sd"]) ** 2
        free = [s for s in sectors if s != fixed]
        sd = math.sqrt(within / sum(n[s] - 1 for s in free))
        fam_name = family_of(str(b["role"].iloc[0]), str(b["target"].iloc[0]))
        fam = families()[fam_name]
        out.update({(fam_name, c["scale"], i): round(sd, 2)
                    for i, (_, s) in enumerate(fam.cells) if s in free})
    return out


# --------------------------------------------------------------------------- reasons


def audit_note(target: Target, findings: pd.DataFrame) -> str:
    """Return the audit's message about this printed number, if it has one."""
    rows = findings[(findings["severity"].isin(["inconsistent", "rounding"]))
                    & (findings["scale"] == target.scale)
                    & findings["tables"].astype(str).str.split(",").map(
                        lambda t: target.table in t)
                    & findings["groups"].astype(str).str.contains(target.group, regex=False)]
    kind = "SD" if target.stat == "sd" else "mean"
    rows = rows[rows["check"].str.contains(kind) | ~rows["check"].str.contains("recomposition")]
    if rows.empty:
        return ""
    return " Audit: " + str(rows.iloc[0]["message"])


def integer_note(target: Target, recipe: Recipe, counts: dict, n_of) -> str:
    """For a pooled mean: the pooled means attainable from the sector cells' integer totals."""
    con = target.con
    if target.stat != "mean" or con.gender is not None or len(con.cells) < 2:
        return ""
    fam = families()[con.family]
    parts = fam.composite_of if con.scale == fam.composite else (con.scale,)
    cells = load_cells()
    sector_rows = cells[cells["table"].isin(list(recipe.sector_tables))]
    lo = hi = 0
    for i in con.cells:
        role, sector = fam.cells[i]
        for part in parts:
            mine = sector_rows[(sector_rows["role"] == role) & (sector_rows["sector"] == sector)
                               & (sector_rows["scale"] == part)]
            row = mine[mine["target"] == fam.target]
            if row.empty:
                row = mine
            w = sum_window(float(row.iloc[0]["mean"]), counts[fam.cells[i]], n_items(part))
            lo, hi = lo + w[0], hi + w[1]
    units = n_of(fam, con.cells) * sum(n_items(p) for p in parts)
    return (f" With integer item sums the sector cells' printed means allow a pooled mean "
            f"of {lo / units:.4f} to {hi / units:.4f} only.")


def composite_note(target: Target) -> str:
    """For a composite's mean: the mean of its parts' printed means (complete answers)."""
    scale = load_codebook().scales[target.scale]
    if not scale.composite_of or target.stat != "mean":
        return ""
    parts = scale.composite_of
    cells = load_cells(int(target.table))
    rows = cells[(cells["group"] == target.group) & cells["scale"].isin(parts)]
    if len(rows) != len(parts):
        return ""
    means = rows.set_index("scale")["mean"]
    names = [p.capitalize() for p in parts]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    summed = " + ".join(f"{means[p]:.2f}" for p in parts)
    return (f" With complete answers {target.scale.capitalize()} is the mean of the "
            f"{scale.n_items} items, so its mean equals the mean of the {listed} means: "
            f"({summed}) / {len(parts)} = {means.mean():.4f} (+-0.005 for their rounding), "
            f"not {target.value:.2f}.")
