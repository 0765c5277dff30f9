"""The embedded synthetic data set: item-level respondents reconstructed from the published tables.

The study's raw data are not public.  This module builds a *synthetic* respondent
file in the public wide format that reproduces what the report printed: every
consistent cell's n, mean and SD (Tables 1-12), plausible reliabilities and the
reported correlations.  It is **not** the study's data and is always labelled
``synthetic`` (``provenance.json`` beside the file says ``"synthetic": true``).

How it is made (all answers complete, integers 1-5; see ``data/synthetic/README.md``):

1. **Targets and their resolution** (:func:`resolve_targets`).  Every printed n,
   mean and SD is a target.  Work is in item-sum units: a k-item scale score is
   an integer sum over k, so a cell's total ``S`` and sum of squares ``Q`` of
   item sums are integers (GRIM/GRIMMER).  The item scales of the sector tables
   (4-9 and 5) are required; the other numbers are tried in priority order (the
   Alliantie cells, then the Table 5 total and the gender Tables 10-12, then the
   role Tables 2-3, the youth columns of Tables 2-3 last) and each is kept when
   some choice of integer ``S`` and ``Q`` per cell still meets it together with
   everything kept before, else it is a documented conflict with its reason.  A
   few conflicts are decided beforehand, as the audit shows them: n that differ
   from Table 1 (179 and 132 in Tables 2-4) and the Table 5 Belangrijk sector SDs
   that cannot pool to the total.  Among the solutions the one nearest the printed
   values is used (totals first, then sums of squares).
2. **SPRITE per cell** (:mod:`triad.sprite`): n item sums with exactly that
   ``S`` and ``Q``.
3. **Pairing and gender by simulated annealing**: swapping two respondents' sums
   on one scale inside a role x sector cell keeps every cell's moments; swapping
   gender between two professionals of a cell keeps everything but the gender
   cells.  These moves hit the Alliantie SDs, the gender cells, r(Belangrijk,
   Lukt) and plausible inter-scale correlations.
4. **Items within persons**: each sum is split into k answers, then units are
   moved between a respondent's items (sums unchanged) to hit a chosen
   Cronbach's alpha per scale and group inside the report's ranges.
5. **Ages**: drawn per role and sector, then permuted inside cells to give the
   age correlations.
"""

import hashlib
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from triad.codebook import load_codebook, roles_of, sector_codes
from triad.paths import data_dir
from triad.published import load_cells, load_reliability, parse_group_key
from triad.sprite import HALF, MARGIN, sprite_sums, sum_window, sumsq_bounds, sumsq_window
from triad.versions import library_versions

__all__ = [
    "DEFAULT_SEED",
    "ALPHA_TARGETS",
    "CORRELATION_TARGETS",
    "MEN_PER_CELL",
    "Resolution",
    "resolve_targets",
    "reconstruct",
    "write_synthetic",
    "verify",
    "verify_frame",
    "missed",
    "VERIFY_COLUMNS",
]

DEFAULT_SEED = 20240601
# This module reconstructs the shipped study's respondents (its design is in the codebook).
SECTORS = sector_codes()
PROFESSIONAL_ROLES = roles_of("professional")
ROLE_ORDER = ("youth", "parent", "social_worker", "teacher")  # Table 1's columns
TOL = HALF - MARGIN  # |achieved - printed| allowed while building (strictly inside rounding)

VERIFY_COLUMNS = ["table", "group", "scale", "stat", "target", "achieved", "difference",
                  "matched", "status", "reason"]

# Men per professional cell (Tables 10-12: 36 men, 155 women); the report gives no split by
# sector, so the 36 are spread in proportion to the cell sizes (79, 53, 59).
MEN_PER_CELL = {
    ("social_worker", "ambulatory_daycare"): 15,
    ("social_worker", "residential"): 10,
    ("teacher", "special_education"): 11,
}

# Cronbach's alpha per scale and respondent group (rater>target, as the columns of Tables 2-3),
# chosen inside the report's ranges over groups (section 3.3).  Inspraak and Opvoedcompetentie
# are printed for professionals together; Belangrijk and Lukt have no printed alpha.
ALPHA_TARGETS = {
    ("youth>professional", "band"): 0.83,
    ("youth>professional", "doel"): 0.80,
    ("youth>professional", "taak"): 0.80,
    ("youth>professional", "inspraak"): 0.90,
    ("parent>professional", "band"): 0.78,
    ("parent>professional", "doel"): 0.78,
    ("parent>professional", "taak"): 0.76,
    ("parent>professional", "opvoed"): 0.90,
    ("social_worker>youth", "band"): 0.62,
    ("teacher>youth", "band"): 0.58,
    ("social_worker>youth", "doel"): 0.77,
    ("teacher>youth", "doel"): 0.78,
    ("social_worker>youth", "taak"): 0.74,
    ("teacher>youth", "taak"): 0.73,
    ("professional>youth", "inspraak"): 0.71,
    ("social_worker>parent", "band"): 0.72,
    ("teacher>parent", "band"): 0.70,
    ("social_worker>parent", "doel"): 0.76,
    ("teacher>parent", "doel"): 0.75,
    ("social_worker>parent", "taak"): 0.75,
    ("teacher>parent", "taak"): 0.76,
    ("professional>parent", "opvoed"): 0.91,
    ("professional>self", "belangrijk"): 0.85,
    ("professional>self", "lukt"): 0.85,
}
# Where a professional group has no target above: social workers and teachers together must
# stay inside the report's range (Band, Doel, Taak; from data/published/reliability.csv), and
# a single role within this distance of the pooled target (Inspraak, Opvoed, Belangrijk, Lukt).
_ROLE_ALPHA_SLACK = 0.05
_ALPHA_SOURCE = {
    "band": "report range 0.53-0.89 over groups (section 3.3); value chosen",
    "doel": "report range 0.71-0.86 over groups (section 3.3); value chosen",
    "taak": "report range 0.71-0.85 over groups (section 3.3); value chosen",
    "inspraak": "printed for this group (section 3.3)",
    "opvoed": "printed for this group (section 3.3)",
    "belangrijk": "not printed; chosen",
    "lukt": "not printed; chosen",
}

# Correlations: (group, x, y) -> target r.  Age-Band (youths) and Belangrijk-Lukt are printed;
# the sign of age-Doel (professionals, about youths) is printed, its size is chosen.
CORRELATION_TARGETS = {
    ("youth>professional@all", "age", "band"): 0.22,
    ("professional>self@all", "belangrijk", "lukt"): 0.49,
    ("professional>youth@all", "age", "doel"): -0.20,
}
_CORRELATION_SOURCE = {
    ("youth>professional@all", "age", "band"): "printed (section 4: r = .22)",
    ("professional>self@all", "belangrijk", "lukt"): "printed (section 4: r = ,49)",
    ("professional>youth@all", "age", "doel"):
        "sign printed (section 4: negative), size not given; -0.20 chosen",
}

# Plausible positive correlations the report does not print (its correlation tables are
# 'available from the authors'); kept inside these ranges, pooled over the rater group.
_SOFT_CORRELATIONS = {
    "youth>professional": [("band", "doel", 0.30, 0.95), ("band", "taak", 0.30, 0.95),
                           ("doel", "taak", 0.30, 0.95), ("inspraak", "alliantie", 0.55, 0.80)],
    "parent>professional": [("band", "doel", 0.30, 0.95), ("band", "taak", 0.30, 0.95),
                            ("doel", "taak", 0.30, 0.95), ("opvoed", "alliantie", 0.50, 0.75)],
    "professional": [
        ("band__youth", "doel__youth", 0.20, 0.95), ("band__youth", "taak__youth", 0.20, 0.95),
        ("doel__youth", "taak__youth", 0.20, 0.95),
        ("band__parent", "doel__parent", 0.20, 0.95),
        ("band__parent", "taak__parent", 0.20, 0.95),
        ("doel__parent", "taak__parent", 0.20, 0.95),
        ("inspraak__youth", "alliantie__youth", 0.35, 0.65),
        ("opvoed__parent", "alliantie__parent", 0.35, 0.65),
        ("alliantie__youth", "alliantie__parent", 0.30, 0.60),
        ("lukt", "alliantie__youth", 0.15, 0.45), ("lukt", "alliantie__parent", 0.15, 0.45),
    ],
}

# Ages: (mean, sd, low, high) per role, youths per sector; integers, drawn then clipped.
_AGE_MODEL = {
    ("youth", "special_education"): (12.5, 3.0, 6, 19),
    ("youth", "ambulatory_daycare"): (12.0, 3.5, 4, 18),
    ("youth", "residential"): (15.5, 2.0, 11, 19),
    "parent": (42.0, 7.0, 24, 65),
    "social_worker": (37.0, 10.0, 21, 64),
    "teacher": (42.0, 11.0, 22, 64),
}

# Priorities of the printed numbers (lower first).  Cells of the sector tables are required.
_PRIORITY_SECTOR, _PRIORITY_COMPOSITE, _PRIORITY_TOTAL, _PRIORITY_ROLE, _PRIORITY_YOUTH_ROLE = \
    0, 1, 2, 3, 4
_PRIORITY_TEXT = {
    0: "the item scales of the sector tables 4-9 and 5 (required)",
    1: "the Alliantie cells of the sector tables 6-9",
    2: "the Table 5 total and the gender tables 10-12",
    3: "the role tables 2-3",
    4: "the youth columns of tables 2-3 (their printed n conflicts with Table 1)",
}


# --------------------------------------------------------------------------- families


@dataclass(frozen=True)
class Family:
    """A rater>target group: its role x sector cells and the item scales they answer."""

    name: str
    cells: tuple  # ((role, sector), ...); professionals: social-worker cells first
    scales: tuple
    composite: str | None = None

    @property
    def composite_of(self) -> tuple:
        """Item scales of the composite (Alliantie), or ()."""
        return ("band", "doel", "taak") if self.composite else ()


FAMILIES = {
    "youth>professional": Family(
        "youth>professional", tuple(("youth", s) for s in SECTORS),
        ("band", "doel", "taak", "inspraak"), "alliantie"),
    "parent>professional": Family(
        "parent>professional", tuple(("parent", s) for s in SECTORS),
        ("band", "doel", "taak", "opvoed"), "alliantie"),
    "professional>youth": Family(
        "professional>youth",
        (("social_worker", "ambulatory_daycare"), ("social_worker", "residential"),
         ("teacher", "special_education")),
        ("band", "doel", "taak", "inspraak"), "alliantie"),
    "professional>parent": Family(
        "professional>parent",
        (("social_worker", "ambulatory_daycare"), ("social_worker", "residential"),
         ("teacher", "special_education")),
        ("band", "doel", "taak", "opvoed"), "alliantie"),
    "professional>self": Family(
        "professional>self",
        (("social_worker", "ambulatory_daycare"), ("social_worker", "residential"),
         ("teacher", "special_education")),
        ("belangrijk", "lukt")),
}


def _table1_counts() -> dict:
    t1 = load_cells(1)
    return {(r, s): int(n) for r, s, n in zip(t1["role"], t1["sector"], t1["n"], strict=True)
            if r != "all" and s != "all"}


def _n_items(scale: str) -> int:
    return load_codebook().scales[scale].n_items


def _family_of(role: str, target: str) -> str:
    if role in ("youth", "parent"):
        return f"{role}>professional"
    return f"professional>{target}"


def _cells_of(fam: Family, role: str, sector: str) -> tuple:
    out = []
    for i, (r, s) in enumerate(fam.cells):
        if role not in ("professional", "youth", "parent") and r != role:
            continue
        if sector != "all" and s != sector:
            continue
        out.append(i)
    return tuple(out)


def _gender_counts() -> dict:
    men = sum(MEN_PER_CELL.values())
    prof = sum(n for (r, _), n in _table1_counts().items() if r in PROFESSIONAL_ROLES)
    return {"male": men, "female": prof - men}


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class _Con:
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
    con: _Con | None = None


@dataclass
class Resolution:
    """The resolved targets and the integer sums that meet them.

    Attributes
    ----------
    targets : list of Target
        Every printed n, mean and SD of Tables 1-12 with its status (``required``,
        ``kept`` or ``conflict``) and, for conflicts, the reason.
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


def _declared_conflict(row: pd.Series) -> str | None:
    """Conflicts decided before solving (from the audit), with their reason."""
    if int(row["table"]) == 5 and row["scale"] == "belangrijk" and row["sector"] in (
            "ambulatory_daycare", "residential"):
        return ("Table 5 prints Belangrijk SDs 0.90 (ambulatory/day care), 0.77 (residential) "
                "and 0.40 (SO/VSO) with a total SD of 0.38; pooled they give at least 0.74, "
                "and Table 12 (0.37 for men and for women) agrees with the total. The "
                "sector means, the total, Table 12 and the SO/VSO SD are matched; the two "
                "sector SDs are chosen equal so that the sectors pool to the total")
    return None


def _population(row: pd.Series) -> int | None:
    g = parse_group_key(row["group"])
    counts = _table1_counts()
    if g["gender"]:
        return _gender_counts()[g["gender"]]
    roles = roles_of(g["role"])
    total = 0
    for role in roles:
        for sector in SECTORS:
            if g["sector"] in ("all", sector):
                total += counts.get((role, sector), 0)
    return total


def _priority(row: pd.Series) -> int:
    table = int(row["table"])
    if table in (2, 3):
        return _PRIORITY_YOUTH_ROLE if row["role"] == "youth" else _PRIORITY_ROLE
    if table in (10, 11, 12) or (table == 5 and row["sector"] == "all"):
        return _PRIORITY_TOTAL
    if row["scale"] == "alliantie":
        return _PRIORITY_COMPOSITE
    return _PRIORITY_SECTOR


def _published_targets() -> list:
    cells = load_cells()
    out = []
    for _, row in cells.iterrows():
        table = str(int(row["table"]))
        if int(row["table"]) == 1:
            out.append(Target(table, row["group"], "", "n", float(row["n"]), _PRIORITY_SECTOR))
            continue
        pop = _population(row)
        prio = _priority(row)
        n_target = Target(table, row["group"], row["scale"], "n", float(row["n"]), prio)
        if pop != int(row["n"]):
            n_target.status = "conflict"
            n_target.reason = (
                f"Table {table} prints n = {int(row['n'])}; Table 1 (and the sector tables) "
                f"give {pop} for this group, which the synthetic file follows"
                + (" (Table 4 repeats Table 2's column n; its means and SDs are the "
                   "residential cells of Tables 6 and 8)" if table == "4" else ""))
        out.append(n_target)
        fam_name = _family_of(parse_group_key(row["group"])["role"], row["target"])
        fam = FAMILIES[fam_name]
        g = parse_group_key(row["group"])
        cell_idx = _cells_of(fam, g["role"], g["sector"])
        for stat in ("mean", "sd"):
            t = Target(table, row["group"], row["scale"], stat, float(row[stat]), prio)
            t.con = _Con(fam_name, cell_idx, g["gender"], row["scale"], stat, float(row[stat]))
            reason = _declared_conflict(row) if stat == "sd" else None
            if reason:
                t.status, t.reason = "conflict", reason
            out.append(t)
    return out


# --------------------------------------------------------------------------- integer solver


def _soft_sd_targets() -> dict:
    """SDs chosen where the printed sector SD is a declared conflict (Table 5 Belangrijk).

    The two sector SDs are set equal so that, with the printed sector means, the SO/VSO SD
    and the printed total SD, the within- and between-sector sums of squares pool to the
    total.
    """
    t5 = load_cells(5)
    b = t5[t5["scale"] == "belangrijk"].set_index("sector")
    total = b.loc["all"]
    sectors = [s for s in b.index if s != "all"]
    n = {s: int(b.loc[s, "n"]) for s in sectors}
    m = {s: float(b.loc[s, "mean"]) for s in sectors}
    big_n = sum(n.values())
    grand = sum(n[s] * m[s] for s in sectors) / big_n
    between = sum(n[s] * (m[s] - grand) ** 2 for s in sectors)
    within = (big_n - 1) * float(total["sd"]) ** 2 - between
    fixed = "special_education"
    within -= (n[fixed] - 1) * float(b.loc[fixed, "sd"]) ** 2
    free = [s for s in sectors if s != fixed]
    sd = math.sqrt(within / sum(n[s] - 1 for s in free))
    fam = FAMILIES["professional>self"]
    return {("professional>self", "belangrijk", i): round(sd, 2)
            for i, (_, s) in enumerate(fam.cells) if s in free}


def _gender_windows(cons: tuple, k: int) -> dict:
    """Per gender: (S window, SD target or None) from the gender constraints of one scale."""
    counts = _gender_counts()
    out = {}
    for gender, n in counts.items():
        mean = next((c.value for c in cons if c.gender == gender and c.stat == "mean"), None)
        sd = next((c.value for c in cons if c.gender == gender and c.stat == "sd"), None)
        win = sum_window(mean, n, k) if mean is not None else (k * n, 5 * k * n)
        out[gender] = (n, win, sd)
    return out


def _men_interval(total: int, gw: dict) -> tuple[int, int]:
    n_m, (m_lo, m_hi), _ = gw["male"]
    n_f, (f_lo, f_hi), _ = gw["female"]
    return max(m_lo, total - f_hi), min(m_hi, total - f_lo)


def _q_window(sd: float | None, total: int, n: int, k: int) -> tuple[int, int]:
    if sd is None:
        lo, hi = sumsq_bounds(total, n, k)
        return lo, hi
    return sumsq_window(sd, total, n, k)


def _split_totals(total: int, interval: tuple, gw: dict, k: int) -> list:
    """List the family sums of squares a gender split allows (men's total in ``interval``)."""
    n_m, _, sd_m = gw["male"]
    n_f, _, sd_f = gw["female"]
    out = []
    for s_m in range(interval[0], interval[1] + 1):
        qm = _q_window(sd_m, s_m, n_m, k)
        qf = _q_window(sd_f, total - s_m, n_f, k)
        if qm[0] <= qm[1] and qf[0] <= qf[1]:
            out.append((qm[0] + qf[0], qm[1] + qf[1]))
    return out


class _Solver:
    """Integer totals and sums of squares per cell meeting a set of constraints."""

    def __init__(self) -> None:
        self.counts = _table1_counts()
        self.soft = _soft_sd_targets()

    def n(self, fam: Family, cells: tuple) -> int:
        return sum(self.counts[fam.cells[c]] for c in cells)

    # ---- one item scale: the totals S per cell (before sums of squares)
    @cache  # noqa: B019 - one solver per process; keys are small tuples
    def scale_options(self, fam_name: str, scale: str, cons: tuple) -> tuple:
        """Feasible total vectors of one scale, nearest the printed means first."""
        fam = FAMILIES[fam_name]
        k = _n_items(scale)
        ncell = len(fam.cells)
        cell_mean = {c.cells[0]: c.value for c in cons
                     if c.stat == "mean" and c.gender is None and len(c.cells) == 1}
        ranges = []
        for i in range(ncell):
            lo, hi = sum_window(cell_mean[i], self.counts[fam.cells[i]], k)
            ranges.append(range(lo, hi + 1))
        pools = [(c.cells, sum_window(c.value, self.n(fam, c.cells), k), c.value)
                 for c in cons if c.stat == "mean" and c.gender is None and len(c.cells) > 1]
        gcons = tuple(c for c in cons if c.gender is not None)
        gw = _gender_windows(gcons, k)
        out = []
        for vec in itertools.product(*ranges):
            ok = True
            cost = sum(((vec[i] / (self.counts[fam.cells[i]] * k) - cell_mean[i]) / HALF) ** 2
                       for i in range(ncell))
            for cells, (lo, hi), value in pools:
                tot = sum(vec[i] for i in cells)
                if not lo <= tot <= hi:
                    ok = False
                    break
                cost += ((tot / (self.n(fam, cells) * k) - value) / HALF) ** 2
            if not ok:
                continue
            interval = _men_interval(sum(vec), gw) if gcons else None
            if interval is not None and interval[0] > interval[1]:
                continue
            out.append((round(cost, 9), vec, interval))
        out.sort(key=lambda t: (t[0], t[1]))
        return tuple(out)

    # ---- one item scale: the sums of squares Q per cell, given the totals
    @cache  # noqa: B019
    def q_solution(self, fam_name: str, scale: str, cons: tuple, vec: tuple) -> tuple | None:
        """Nearest sums of squares per cell for totals ``vec`` (dynamic programme), or None."""
        fam = FAMILIES[fam_name]
        k = _n_items(scale)
        ncell = len(fam.cells)
        cell_sd = {c.cells[0]: c.value for c in cons
                   if c.stat == "sd" and c.gender is None and len(c.cells) == 1}
        cands, costs = [], []
        for i in range(ncell):
            n = self.counts[fam.cells[i]]
            if i in cell_sd:
                target, lo, hi = cell_sd[i], *sumsq_window(cell_sd[i], vec[i], n, k)
            else:
                target = self.soft[(fam_name, scale, i)]
                lo, hi = sumsq_window(target, vec[i], n, k, half=0.0101)
            q = np.arange(lo, hi + 1, 2, dtype=np.int64)
            if q.size == 0:
                return None
            sd = np.sqrt(np.maximum(q - vec[i] ** 2 / n, 0) / (n - 1)) / k
            cands.append(q)
            costs.append(((sd - target) / HALF) ** 2)
        # constraints on prefix sums of Q: pools (social workers = the first two cells) and
        # the family total (pooled SD, gender split)
        prefix: dict = {}
        for c in cons:
            if c.stat != "sd" or c.gender is not None or len(c.cells) < 2:
                continue
            if c.cells != tuple(range(len(c.cells))):
                raise ValueError(f"pool {c.cells} of {fam_name} is not a prefix of its cells")
            n = self.n(fam, c.cells)
            tot = sum(vec[i] for i in c.cells)
            lo, hi = sumsq_window(c.value, tot, n, k)
            prefix.setdefault(len(c.cells), []).append(("window", lo, hi, tot, n, c.value))
        gcons = tuple(c for c in cons if c.gender is not None)
        if any(c.stat == "sd" for c in gcons):
            gw = _gender_windows(gcons, k)
            interval = _men_interval(sum(vec), gw)
            spans = _split_totals(sum(vec), interval, gw, k)
            if not spans:
                return None
            prefix.setdefault(ncell, []).append(("spans", spans))
        return _dp(cands, costs, prefix, k)

    # ---- a family
    def solve(self, fam_name: str, cons: tuple) -> dict | None:
        """Integer (S, Q) per (scale, cell) meeting ``cons``, nearest the printed values."""
        fam = FAMILIES[fam_name]
        result: dict = {}
        by_scale = {s: tuple(c for c in cons if c.scale == s) for s in fam.scales}
        options = {s: self.scale_options(fam_name, s, by_scale[s]) for s in fam.scales}
        if any(not o for o in options.values()):
            return None
        free = [s for s in fam.scales if s not in fam.composite_of]
        for s in free:
            for _, vec, _ in options[s]:
                q = self.q_solution(fam_name, s, by_scale[s], vec)
                if q is not None:
                    result[s] = (vec, q)
                    break
            else:
                return None
        if fam.composite:
            comp = tuple(c for c in cons if c.scale == fam.composite)
            found = self._composite(fam, options, by_scale, comp)
            if found is None:
                return None
            result.update(found)
        return result

    def _composite(self, fam: Family, options: dict, by_scale: dict, comp: tuple) -> dict | None:
        parts = fam.composite_of
        arrays = []
        for s in parts:
            opts = options[s]
            vec = np.array([o[1] for o in opts], dtype=np.int64)
            cost = np.array([o[0] for o in opts])
            if opts[0][2] is not None:
                itv = np.array([o[2] for o in opts], dtype=np.int64)
            else:
                itv = None
            arrays.append((vec, cost, itv))
        (vb, cb, ib), (vd, cd, id_), (vt, ct, it) = arrays
        shape = (len(vb), len(vd), len(vt))
        sa = vb[:, None, None, :] + vd[None, :, None, :] + vt[None, None, :, :]
        ok = np.ones(shape, dtype=bool)
        k = 12
        for c in comp:
            if c.stat != "mean" or c.gender is not None:
                continue
            lo, hi = sum_window(c.value, self.n(fam, c.cells), k)
            tot = sa[..., list(c.cells)].sum(axis=-1)
            ok &= (tot >= lo) & (tot <= hi)
        gmeans = [c for c in comp if c.stat == "mean" and c.gender is not None]
        if gmeans:
            gw = _gender_windows(tuple(gmeans), k)
            lo = ib[:, None, None, 0] + id_[None, :, None, 0] + it[None, None, :, 0]
            hi = ib[:, None, None, 1] + id_[None, :, None, 1] + it[None, None, :, 1]
            tot = sa.sum(axis=-1)
            m_lo, m_hi = gw["male"][1]
            f_lo, f_hi = gw["female"][1]
            ok &= np.maximum.reduce([lo, np.full(shape, m_lo), tot - f_hi]) <= \
                np.minimum.reduce([hi, np.full(shape, m_hi), tot - f_lo])
        cost = cb[:, None, None] + cd[None, :, None] + ct[None, None, :]
        idx = np.flatnonzero(ok.ravel())
        if idx.size == 0:
            return None
        order = idx[np.argsort(cost.ravel()[idx], kind="stable")]
        for flat in order:
            ib_, id__, it_ = np.unravel_index(flat, shape)
            picks = {"band": options["band"][ib_], "doel": options["doel"][id__],
                     "taak": options["taak"][it_]}
            qs = {}
            for s in parts:
                q = self.q_solution(fam.name, s, by_scale[s], picks[s][1])
                if q is None:
                    break
                qs[s] = q
            else:
                s_a = tuple(int(x) for x in sa[ib_, id__, it_])
                intervals = [picks[s][2] for s in parts]
                if self._composite_sd_ok(fam, s_a, intervals, comp):
                    out = {s: (picks[s][1], qs[s]) for s in parts}
                    out[fam.composite] = (s_a, None)
                    return out
        return None

    def _composite_sd_ok(self, fam: Family, s_a: tuple, intervals: list, comp: tuple) -> bool:
        k = 12
        windows = {}
        for c in comp:
            if c.stat == "sd" and c.gender is None and len(c.cells) == 1:
                i = c.cells[0]
                w = sumsq_window(c.value, s_a[i], self.counts[fam.cells[i]], k)
                if w[0] > w[1]:
                    return False
                windows[i] = w
        for i in range(len(fam.cells)):
            windows.setdefault(i, sumsq_bounds(s_a[i], self.counts[fam.cells[i]], k))
        for c in comp:
            if c.stat == "sd" and c.gender is None and len(c.cells) > 1:
                lo = sum(windows[i][0] for i in c.cells)
                hi = sum(windows[i][1] for i in c.cells)
                tot = sum(s_a[i] for i in c.cells)
                w = sumsq_window(c.value, tot, self.n(fam, c.cells), k)
                if max(lo, w[0]) > min(hi, w[1]):
                    return False
        gcons = tuple(c for c in comp if c.gender is not None)
        if any(c.stat == "sd" for c in gcons):
            gw = _gender_windows(gcons, k)
            total = sum(s_a)
            men = _men_interval(total, gw)
            if intervals[0] is not None:
                men = (max(men[0], sum(t[0] for t in intervals)),
                       min(men[1], sum(t[1] for t in intervals)))
            lo = sum(w[0] for w in windows.values())
            hi = sum(w[1] for w in windows.values())
            if not any(max(lo, a) <= min(hi, b) for a, b in _split_totals(total, men, gw, k)):
                return False
        return True


def _dp(cands: list, costs: list, prefix: dict, k: int) -> tuple | None:
    """Min-cost choice of one candidate per cell with constraints on prefix sums."""
    vals = np.zeros(1, dtype=np.int64)
    cost = np.zeros(1)
    back = []
    for i, (q, qc) in enumerate(zip(cands, costs, strict=True)):
        nv = (vals[:, None] + q[None, :]).ravel()
        nc = (cost[:, None] + qc[None, :]).ravel()
        parent = np.repeat(np.arange(vals.size), q.size)
        pick = np.tile(np.arange(q.size), vals.size)
        order = np.lexsort((nc, nv))
        nv, nc, parent, pick = nv[order], nc[order], parent[order], pick[order]
        first = np.r_[True, nv[1:] != nv[:-1]]
        nv, nc, parent, pick = nv[first], nc[first], parent[first], pick[first]
        for rule in prefix.get(i + 1, []):
            if rule[0] == "window":
                _, lo, hi, tot, n, target = rule
                keep = (nv >= lo) & (nv <= hi)
                sd = np.sqrt(np.maximum(nv - tot**2 / n, 0) / (n - 1)) / k
                nc = nc + ((sd - target) / HALF) ** 2
            else:
                keep = np.zeros(nv.size, dtype=bool)
                for lo, hi in rule[1]:
                    keep |= (nv >= lo) & (nv <= hi)
            nv, nc, parent, pick = nv[keep], nc[keep], parent[keep], pick[keep]
        if nv.size == 0:
            return None
        back.append((parent, pick))
        vals, cost = nv, nc
    j = int(np.argmin(cost))
    chosen = []
    for i in range(len(cands) - 1, -1, -1):
        parent, pick = back[i]
        chosen.append(int(cands[i][pick[j]]))
        j = int(parent[j])
    return tuple(reversed(chosen))


def _audit_note(target: Target, findings: pd.DataFrame) -> str:
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


def _integer_note(target: Target, solver: "_Solver") -> str:
    """For a pooled mean: the pooled means attainable from the sector cells' integer totals."""
    con = target.con
    if target.stat != "mean" or con.gender is not None or len(con.cells) < 2:
        return ""
    fam = FAMILIES[con.family]
    parts = fam.composite_of if con.scale == fam.composite else (con.scale,)
    cells = load_cells()
    lo = hi = 0
    for i in con.cells:
        role, sector = fam.cells[i]
        for part in parts:
            row = cells[(cells["table"].isin([5, 6, 7, 8, 9])) & (cells["role"] == role)
                        & (cells["sector"] == sector) & (cells["scale"] == part)
                        & (cells["target"] == fam.name.split(">")[1])]
            if row.empty:
                row = cells[(cells["table"].isin([6, 7])) & (cells["role"] == role)
                            & (cells["sector"] == sector) & (cells["scale"] == part)]
            w = sum_window(float(row.iloc[0]["mean"]), solver.counts[fam.cells[i]],
                           _n_items(part))
            lo, hi = lo + w[0], hi + w[1]
    units = solver.n(fam, con.cells) * sum(_n_items(p) for p in parts)
    return (f" With integer item sums the sector cells' printed means allow a pooled mean "
            f"of {lo / units:.4f} to {hi / units:.4f} only.")


def _composite_note(target: Target) -> str:
    """For an Alliantie mean: the mean of the printed Band, Doel and Taak means."""
    if target.scale != "alliantie" or target.stat != "mean":
        return ""
    cells = load_cells(int(target.table))
    rows = cells[(cells["group"] == target.group) & cells["scale"].isin(["band", "doel", "taak"])]
    if len(rows) != 3:
        return ""
    means = rows.set_index("scale")["mean"]
    return (f" With complete answers Alliantie is the mean of the 12 items, so its mean equals "
            f"the mean of the Band, Doel and Taak means: ({means['band']:.2f} + "
            f"{means['doel']:.2f} + {means['taak']:.2f}) / 3 = {means.mean():.4f} (+-0.005 for "
            f"their rounding), not {target.value:.2f}.")


@cache
def resolve_targets() -> Resolution:
    """Decide which printed numbers the synthetic file reproduces, and the integer sums.

    Deterministic (no random numbers): the same published tables always give the same
    resolution.  Targets are tried in priority order (sector tables, then the Table 5
    total and the gender tables, then the role tables, then the youth columns of
    Tables 2-3); one is kept when integer totals and sums of squares per cell still meet
    it together with all kept before, else it becomes a conflict with the reason.

    Returns
    -------
    Resolution
    """
    from triad.audit import audit_published

    targets = _published_targets()
    solver = _Solver()
    kept: dict = {name: [] for name in FAMILIES}
    pending = [t for t in targets if t.con is not None and t.status != "conflict"]
    pending.sort(key=lambda t: t.priority)  # stable: table order within a priority
    findings = None
    seen: dict = {}
    for t in pending:  # the sector tables are required: all at once
        if t.priority == _PRIORITY_SECTOR and t.con not in kept[t.con.family]:
            kept[t.con.family].append(t.con)
            t.status = "required"
    for name in FAMILIES:
        if solver.solve(name, tuple(kept[name])) is None:
            raise RuntimeError(f"the sector tables of {name} have no integer solution")
    for t in pending:
        if t.priority == _PRIORITY_SECTOR:
            continue
        fam = t.con.family
        if t.con in seen:  # the same number printed twice (teachers in Tables 2-3)
            t.status, t.reason = seen[t.con].status, seen[t.con].reason
            continue
        if t.con.gender is None and len(t.con.cells) == 1 and any(
                c.cells == t.con.cells and c.scale == t.con.scale and c.stat == t.con.stat
                and c.gender is None for c in kept[fam]):
            # a printed cell repeated from a sector table (Tables 2-4)
            same = t.con in kept[fam]
            t.status = "kept" if same else "conflict"
            t.reason = "" if same else "differs from the same cell in a sector table"
            seen[t.con] = t
            continue
        trial = tuple(kept[fam]) + (t.con,)
        if solver.solve(fam, trial) is not None:
            kept[fam].append(t.con)
            t.status = "kept"
        else:
            if findings is None:
                findings = audit_published()
            t.status = "conflict"
            t.reason = (
                "no complete-data solution (integer item sums, answers 1-5) meets it together "
                f"with the numbers of higher priority ({_PRIORITY_TEXT[t.priority]} come after "
                f"{'; '.join(_PRIORITY_TEXT[p] for p in range(t.priority))})."
                + _composite_note(t) + _integer_note(t, solver) + _audit_note(t, findings))
        seen[t.con] = t
    sums: dict = {}
    for name, fam in FAMILIES.items():
        sol = solver.solve(name, tuple(kept[name]))
        if sol is None:  # cannot happen: every kept set was solved once
            raise RuntimeError(f"family {name} has no solution")
        for scale, (vec, qs) in sol.items():
            for i in range(len(fam.cells)):
                sums[(name, scale, i)] = (int(vec[i]), None if qs is None else int(qs[i]))
    return Resolution(targets, sums, {k: tuple(v) for k, v in kept.items()}, solver.soft)


# --------------------------------------------------------------------------- annealing kernel


@numba.njit(cache=False)
def _member(g, p, pcell, pgender, gcell, ggender):
    return gcell[g, pcell[p]] and (ggender[g] < 0 or ggender[g] == pgender[p])


@numba.njit(cache=False)
def _swap(p, q, j, gender_move, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
          cnt, S, Q, C, sc):
    """Swap two respondents' gender or column-j sum, keeping the moment sums current.

    A swap is its own inverse, so the annealer undoes a rejected move by calling it again.
    """
    _add_person(p, -1.0, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                cnt, S, Q, C, sc)
    _add_person(q, -1.0, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                cnt, S, Q, C, sc)
    if gender_move:
        pgender[p], pgender[q] = pgender[q], pgender[p]
    else:
        V[p, j], V[q, j] = V[q, j], V[p, j]
    _add_person(p, 1.0, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                cnt, S, Q, C, sc)
    _add_person(q, 1.0, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                cnt, S, Q, C, sc)


@numba.njit(cache=False)
def _add_person(p, sign, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                cnt, S, Q, C, sc):
    n_scores, n_cols = W.shape
    for s in range(n_scores):
        acc = 0.0
        for j in range(n_cols):
            if W[s, j] != 0:
                acc += W[s, j] * V[p, j]
        sc[s] = acc
    for g in range(gcell.shape[0]):
        if _member(g, p, pcell, pgender, gcell, ggender):
            cnt[g] += sign
            for s in range(n_scores):
                S[g, s] += sign * sc[s]
                Q[g, s] += sign * sc[s] * sc[s]
    for t in range(tg.shape[0]):
        if tkind[t] == 2 and _member(tg[t], p, pcell, pgender, gcell, ggender):
            C[t] += sign * sc[ts[t]] * sc[ts2[t]]


@numba.njit(cache=False)
def _stat(t, tg, tkind, ts, ts2, kscore, cnt, S, Q, C):
    g = tg[t]
    n = cnt[g]
    s = ts[t]
    if tkind[t] == 0:
        return S[g, s] / (n * kscore[s])
    if tkind[t] == 1:
        var = (Q[g, s] - S[g, s] * S[g, s] / n) / (n - 1)
        return math.sqrt(max(var, 0.0)) / kscore[s]
    s2 = ts2[t]
    sxx = Q[g, s] - S[g, s] * S[g, s] / n
    syy = Q[g, s2] - S[g, s2] * S[g, s2] / n
    sxy = C[t] - S[g, s] * S[g, s2] / n
    if sxx <= 0.0 or syy <= 0.0:
        return 0.0
    return sxy / math.sqrt(sxx * syy)


@numba.njit(cache=False)
def _cost(tg, tkind, ts, ts2, tlo, thi, tw, kscore, cnt, S, Q, C):
    total = 0.0
    for t in range(tg.shape[0]):
        v = _stat(t, tg, tkind, ts, ts2, kscore, cnt, S, Q, C)
        ex = 0.0
        if v < tlo[t]:
            ex = tlo[t] - v
        elif v > thi[t]:
            ex = v - thi[t]
        if ex > 0.0:
            total += tw[t] * (0.1 + ex / 0.005) ** 2
    return total


@numba.njit(cache=False)
def _anneal(V, pcell, pgender, members, starts, W, kscore, gcell, ggender,
            tg, tkind, ts, ts2, tlo, thi, tw, p_gender, n_iter, t0, t1, rng):
    """Swap item sums (and genders) inside cells to bring the cost to zero; returns the cost."""
    n_people, n_cols = V.shape
    n_groups = gcell.shape[0]
    n_scores = W.shape[0]
    cnt = np.zeros(n_groups)
    S = np.zeros((n_groups, n_scores))
    Q = np.zeros((n_groups, n_scores))
    C = np.zeros(tg.shape[0])
    sc = np.zeros(n_scores)
    for p in range(n_people):
        _add_person(p, 1.0, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
                    cnt, S, Q, C, sc)
    cost = _cost(tg, tkind, ts, ts2, tlo, thi, tw, kscore, cnt, S, Q, C)
    ratio = t1 / t0
    for it in range(n_iter):
        if cost == 0.0:
            break
        temp = t0 * ratio ** (it / n_iter)
        gender_move = p_gender > 0.0 and rng.random() < p_gender
        p = rng.integers(0, n_people)
        c = pcell[p]
        if gender_move:
            while pgender[p] != 1:
                p = rng.integers(0, n_people)
            c = pcell[p]
        q = members[starts[c] + rng.integers(0, starts[c + 1] - starts[c])]
        if q == p:
            continue
        j = rng.integers(0, n_cols)
        if gender_move:
            if pgender[q] != 0:
                continue
        elif V[p, j] == V[q, j]:
            continue
        _swap(p, q, j, gender_move, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
              cnt, S, Q, C, sc)
        new = _cost(tg, tkind, ts, ts2, tlo, thi, tw, kscore, cnt, S, Q, C)
        if new <= cost or rng.random() < math.exp(-(new - cost) / temp):
            cost = new
            continue
        _swap(p, q, j, gender_move, V, W, pcell, pgender, gcell, ggender, tg, tkind, ts, ts2,
              cnt, S, Q, C, sc)
    return cost


@numba.njit(cache=False)
def _alpha_of(T, U, n, k, sxx, sx):
    sum_var = 0.0
    for j in range(k):
        sum_var += (U[j] - T[j] * T[j] / n) / (n - 1)
    var_x = (sxx - sx * sx / n) / (n - 1)
    return k / (k - 1) * (1.0 - sum_var / var_x)


@numba.njit(cache=False)
def _split_items(X, k, member, lo, hi, n_iter, rng):
    """Split item sums ``X`` into k answers 1-5, then move units inside persons towards alphas.

    ``member[p, g]`` says whether respondent p is in alpha group g (groups may overlap, e.g.
    social workers, teachers and both); group g's alpha should lie in ``[lo[g], hi[g]]``.
    Greedy: a unit moves from one of a respondent's items to another (the sum stays) when
    that lowers the summed distance of the groups' alphas from their windows.  Returns the
    answers and the alphas reached.
    """
    n = X.shape[0]
    n_groups = lo.shape[0]
    items = np.ones((n, k), dtype=np.int64)
    for p in range(n):
        rest = X[p] - k
        while rest > 0:
            j = rng.integers(0, k)
            if items[p, j] < 5:
                items[p, j] += 1
                rest -= 1
    T = np.zeros((n_groups, k))
    U = np.zeros((n_groups, k))
    cnt = np.zeros(n_groups)
    sx = np.zeros(n_groups)
    sxx = np.zeros(n_groups)
    for p in range(n):
        for g in range(n_groups):
            if member[p, g]:
                cnt[g] += 1
                sx[g] += X[p]
                sxx[g] += X[p] * X[p]
                for j in range(k):
                    T[g, j] += items[p, j]
                    U[g, j] += items[p, j] * items[p, j]
    alpha = np.zeros(n_groups)
    for g in range(n_groups):
        alpha[g] = _alpha_of(T[g], U[g], cnt[g], k, sxx[g], sx[g])
    new_alpha = alpha.copy()
    for _ in range(n_iter):
        cost = 0.0
        for g in range(n_groups):
            cost += max(lo[g] - alpha[g], 0.0) + max(alpha[g] - hi[g], 0.0)
        if cost == 0.0:
            break
        p = rng.integers(0, n)
        a = rng.integers(0, k)
        b = rng.integers(0, k)
        if a == b or items[p, a] <= 1 or items[p, b] >= 5:
            continue
        xa = items[p, a]
        xb = items[p, b]
        new_cost = 0.0
        for g in range(n_groups):
            if member[p, g]:
                T[g, a] -= 1
                U[g, a] += 1 - 2 * xa
                T[g, b] += 1
                U[g, b] += 1 + 2 * xb
                new_alpha[g] = _alpha_of(T[g], U[g], cnt[g], k, sxx[g], sx[g])
            else:
                new_alpha[g] = alpha[g]
            new_cost += max(lo[g] - new_alpha[g], 0.0) + max(new_alpha[g] - hi[g], 0.0)
        if new_cost < cost:
            items[p, a] -= 1
            items[p, b] += 1
            alpha[:] = new_alpha
        else:
            for g in range(n_groups):
                if member[p, g]:
                    T[g, a] += 1
                    U[g, a] -= 1 - 2 * xa
                    T[g, b] -= 1
                    U[g, b] -= 1 + 2 * xb
    return items, alpha


# --------------------------------------------------------------------------- building

_RATER_FAMILIES = {
    "youth": ("youth>professional",),
    "parent": ("parent>professional",),
    "professional": ("professional>youth", "professional>parent", "professional>self"),
}
_SOFT_WEIGHT = 0.3
_ALPHA_TOL = 0.002
_N_ITER = {"youth": 400_000, "parent": 400_000, "professional": 3_000_000}


def _column_label(rater: str, fam: Family, scale: str) -> str:
    target = fam.name.split(">")[1]
    if rater == "professional" and target != "self":
        return f"{scale}__{target}"
    return scale


@dataclass
class _Engine:
    """Arrays of one rater group for the annealing kernel, and what the arrays mean."""

    rater: str
    cells: tuple
    columns: list  # (family name, scale)
    labels: list  # score labels: columns, then composites
    W: np.ndarray
    kscore: np.ndarray
    V: np.ndarray
    pcell: np.ndarray
    pgender: np.ndarray
    groups: list  # (cells tuple, gender or None)
    targets: list  # (label, group, kind, s1, s2, lo, hi, weight)

    def group(self, cells: tuple, gender: str | None) -> int:
        key = (tuple(cells), gender)
        if key not in self.groups:
            self.groups.append(key)
        return self.groups.index(key)


def _make_engine(rater: str, res: Resolution, multisets: dict,
                 rng: np.random.Generator) -> _Engine:
    fams = [FAMILIES[f] for f in _RATER_FAMILIES[rater]]
    cells = fams[0].cells
    counts = _table1_counts()
    columns = [(f.name, s) for f in fams for s in f.scales]
    labels = [_column_label(rater, FAMILIES[f], s) for f, s in columns]
    weights = [np.eye(len(columns), dtype=np.int64)[i] for i in range(len(columns))]
    kscore = [float(_n_items(s)) for _, s in columns]
    for f in fams:
        if f.composite:
            w = np.zeros(len(columns), dtype=np.int64)
            for part in f.composite_of:
                w[columns.index((f.name, part))] = 1
            weights.append(w)
            labels.append(_column_label(rater, f, f.composite))
            kscore.append(float(sum(_n_items(p) for p in f.composite_of)))
    blocks, pcell, pgender = [], [], []
    for i, cell in enumerate(cells):
        n = counts[cell]
        block = np.column_stack([rng.permutation(multisets[(f, s, i)]) for f, s in columns])
        blocks.append(block)
        pcell += [i] * n
        if rater == "professional":
            men = MEN_PER_CELL[cell]
            pgender += list(rng.permutation(np.r_[np.ones(men), np.zeros(n - men)]).astype(int))
        else:
            pgender += [-1] * n
    eng = _Engine(rater, cells, columns, labels, np.array(weights, dtype=np.int64),
                  np.array(kscore), np.ascontiguousarray(np.vstack(blocks), dtype=np.int64),
                  np.array(pcell, dtype=np.int64), np.array(pgender, dtype=np.int64), [], [])
    for i in range(len(cells)):
        eng.group((i,), None)
    everyone = eng.group(tuple(range(len(cells))), None)
    for f in fams:
        for con in res.cons[f.name]:
            if con.scale != f.composite and con.gender is None:
                continue  # fixed by the integer sums; swaps cannot change it
            g = eng.group(con.cells, con.gender)
            s = labels.index(_column_label(rater, f, con.scale))
            kind = 0 if con.stat == "mean" else 1
            eng.targets.append((f"{f.name}:{con.scale}:{con.stat}:{con.cells}:{con.gender}",
                                g, kind, s, s, con.value - TOL, con.value + TOL, 1.0))
    if rater == "professional":
        r = CORRELATION_TARGETS[("professional>self@all", "belangrijk", "lukt")]
        eng.targets.append(("r(belangrijk, lukt)", everyone, 2, labels.index("belangrijk"),
                            labels.index("lukt"), r - TOL, r + TOL, 1.0))
    soft_key = rater if rater == "professional" else fams[0].name
    for x, y, lo, hi in _SOFT_CORRELATIONS[soft_key]:
        eng.targets.append((f"soft r({x}, {y})", everyone, 2, labels.index(x), labels.index(y),
                            lo, hi, _SOFT_WEIGHT))
    return eng


def _run_engine(eng: _Engine, rng: np.random.Generator) -> dict:
    order = np.argsort(eng.pcell, kind="stable")
    members = order.astype(np.int64)
    starts = np.searchsorted(eng.pcell[order], np.arange(len(eng.cells) + 1)).astype(np.int64)
    gcell = np.zeros((len(eng.groups), len(eng.cells)), dtype=np.bool_)
    ggender = np.full(len(eng.groups), -1, dtype=np.int64)
    for g, (cells, gender) in enumerate(eng.groups):
        gcell[g, list(cells)] = True
        if gender is not None:
            ggender[g] = 1 if gender == "male" else 0
    t = eng.targets
    tg = np.array([x[1] for x in t], dtype=np.int64)
    tkind = np.array([x[2] for x in t], dtype=np.int64)
    ts = np.array([x[3] for x in t], dtype=np.int64)
    ts2 = np.array([x[4] for x in t], dtype=np.int64)
    tlo = np.array([x[5] for x in t], dtype=float)
    thi = np.array([x[6] for x in t], dtype=float)
    tw = np.array([x[7] for x in t], dtype=float)
    p_gender = 0.25 if eng.rater == "professional" else 0.0
    n_iter = _N_ITER[eng.rater]
    cost = np.inf
    rounds = []
    for t0 in (3.0, 0.3, 0.03):
        cost = _anneal(eng.V, eng.pcell, eng.pgender, members, starts, eng.W, eng.kscore,
                       gcell, ggender, tg, tkind, ts, ts2, tlo, thi, tw, p_gender, n_iter, t0,
                       1e-4, rng)
        rounds.append(float(cost))
        if cost == 0.0:
            break
    return {"final_cost": float(cost), "rounds": rounds}


def _scores_of(eng: _Engine) -> np.ndarray:
    return eng.V @ eng.W.T


def _permute_for_r(x: np.ndarray, y: np.ndarray, cells: np.ndarray, target: float,
                   rng: np.random.Generator, n_iter: int = 200_000) -> np.ndarray:
    """Swap ``x`` between members of a cell until r(x, y) is within rounding of ``target``."""
    x = x.astype(float).copy()
    y = y.astype(float)
    n = len(x)
    sy, syy = y.sum(), (y * y).sum()
    sx, sxx = x.sum(), (x * x).sum()
    denom = math.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
    sxy = float((x * y).sum())

    def corr(v: float) -> float:
        return (v - sx * sy / n) / denom

    by_cell = [np.flatnonzero(cells == c) for c in np.unique(cells)]
    r = corr(sxy)
    for _ in range(n_iter):
        if abs(r - target) <= TOL - 1e-4:
            break
        idx = by_cell[rng.integers(len(by_cell))]
        i, j = idx[rng.integers(len(idx))], idx[rng.integers(len(idx))]
        if x[i] == x[j]:
            continue
        new = sxy + (x[j] - x[i]) * (y[i] - y[j])
        if abs(corr(new) - target) < abs(r - target):
            x[i], x[j] = x[j], x[i]
            sxy = new
            r = corr(sxy)
    return x


def _alpha_ranges() -> dict:
    """Return the report's alpha ranges over groups (section 3.3): scale -> (low, high)."""
    rel = load_reliability()
    rel = rel[rel["group"] == "all"]
    return {r["scale"]: (float(r["alpha_low"]), float(r["alpha_high"])) for _, r in rel.iterrows()}


def _alpha_groups(eng: _Engine, fam_name: str, scale: str) -> tuple:
    """Return the alpha groups of one engine column: names, membership, windows.

    Youths and parents: one group with its target.  Professionals: social workers,
    teachers and both together; the groups with a target in :data:`ALPHA_TARGETS` get a
    window of +-0.002 around it, the others a window (the report's range for the pooled
    Band, Doel and Taak; the pooled target +-0.05 for one role otherwise).
    """
    rater, target = fam_name.split(">")
    if rater != "professional":
        t = ALPHA_TARGETS[(fam_name, scale)]
        return [fam_name], np.ones((len(eng.pcell), 1), dtype=np.bool_), \
            np.array([t - _ALPHA_TOL]), np.array([t + _ALPHA_TOL])
    roles = np.array([eng.cells[c][0] for c in eng.pcell])
    groups = [f"{role}>{target}" for role in PROFESSIONAL_ROLES] + [fam_name]
    member = np.column_stack([roles == role for role in PROFESSIONAL_ROLES]
                             + [np.ones(len(roles), dtype=bool)])
    lo, hi = [], []
    pooled = ALPHA_TARGETS.get((fam_name, scale))
    for g in groups:
        t = ALPHA_TARGETS.get((g, scale))
        if t is not None:
            lo.append(t - _ALPHA_TOL)
            hi.append(t + _ALPHA_TOL)
        elif pooled is not None:
            lo.append(pooled - _ROLE_ALPHA_SLACK)
            hi.append(pooled + _ROLE_ALPHA_SLACK)
        else:
            r_lo, r_hi = _alpha_ranges()[scale]
            lo.append(r_lo + 0.01)
            hi.append(r_hi - 0.01)
    return groups, np.ascontiguousarray(member), np.array(lo), np.array(hi)


def _ages(roles: list, sectors: list, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(len(roles))
    for i, (role, sector) in enumerate(zip(roles, sectors, strict=True)):
        mean, sd, lo, hi = _AGE_MODEL.get((role, sector)) or _AGE_MODEL[role]
        out[i] = float(np.clip(np.rint(rng.normal(mean, sd)), lo, hi))
    return out


def _build(seed: int) -> tuple[pd.DataFrame, dict]:
    """Build the synthetic wide data and a log of what the stochastic steps achieved."""
    res = resolve_targets()
    rng = np.random.default_rng(seed)
    cb = load_codebook()
    counts = _table1_counts()
    # 2. SPRITE per cell and item scale
    multisets = {}
    for name, fam in FAMILIES.items():
        for scale in fam.scales:
            for i, cell in enumerate(fam.cells):
                total, sumsq = res.sums[(name, scale, i)]
                multisets[(name, scale, i)] = sprite_sums(counts[cell], total, sumsq,
                                                          _n_items(scale), rng)
    # 3. pairing across scales and gender by annealing
    log: dict = {"annealing": {}, "alpha": {}}
    engines = {}
    for rater in ("youth", "parent", "professional"):
        eng = _make_engine(rater, res, multisets, rng)
        log["annealing"][rater] = _run_engine(eng, rng)
        engines[rater] = eng
        scores = _scores_of(eng)
        for label, _, kind, s1, s2, lo, hi, _ in eng.targets:
            if kind == 2 and label.startswith("soft"):
                r = float(np.corrcoef(scores[:, s1], scores[:, s2])[0, 1])
                log.setdefault("plausibility_correlations", {})[f"{rater}: {label[5:]}"] = {
                    "range": [lo, hi], "achieved": round(r, 4)}
    # 4. items within persons: professionals' alphas per role and for both together
    items: dict = {}
    for rater, eng in engines.items():
        for c, (fam_name, scale) in enumerate(eng.columns):
            groups, member, lo, hi = _alpha_groups(eng, fam_name, scale)
            block, alphas = _split_items(np.ascontiguousarray(eng.V[:, c]), _n_items(scale),
                                         member, lo, hi, 3_000_000, rng)
            items[(rater, c)] = block
            for g, a in zip(groups, alphas, strict=True):
                log["alpha"][f"{g}:{scale}"] = round(float(a), 4)
    # 5. ages, then the identity columns
    frames = []
    for rater, eng in engines.items():
        roles = [eng.cells[c][0] for c in eng.pcell]
        sectors = [eng.cells[c][1] for c in eng.pcell]
        age = _ages(roles, sectors, rng)
        scores = _scores_of(eng)
        if rater == "youth":
            key = ("youth>professional@all", "age", "band")
            age = _permute_for_r(age, scores[:, eng.labels.index("band")], eng.pcell,
                                 CORRELATION_TARGETS[key], rng)
        if rater == "professional":
            key = ("professional>youth@all", "age", "doel")
            age = _permute_for_r(age, scores[:, eng.labels.index("doel__youth")], eng.pcell,
                                 CORRELATION_TARGETS[key], rng)
        data = {"role": roles, "sector": sectors,
                "gender": [{1: "male", 0: "female"}.get(int(g)) for g in eng.pgender],
                "age": age}
        for c, (fam_name, scale) in enumerate(eng.columns):
            fam = FAMILIES[fam_name]
            target = fam.name.split(">")[1]
            suffix = "" if rater != "professional" or target == "self" else f"__{target}"
            block = items[(rater, c)]
            for i in range(block.shape[1]):
                data[f"{scale}_{i + 1}{suffix}"] = block[:, i].astype(float)
        frames.append(pd.DataFrame(data))
    people = pd.concat(frames, ignore_index=True)
    # order: roles as Table 1's columns, sectors as its rows, shuffled inside a cell
    people["_role"] = people["role"].map({r: i for i, r in enumerate(ROLE_ORDER)})
    people["_sector"] = people["sector"].map({s: i for i, s in enumerate(SECTORS)})
    people["_shuffle"] = rng.permutation(len(people))
    people = people.sort_values(["_role", "_sector", "_shuffle"], kind="stable")
    people = people.drop(columns=["_role", "_sector", "_shuffle"]).reset_index(drop=True)
    people.insert(0, "respondent_id", [f"S{i + 1:04d}" for i in range(len(people))])
    item_cols = [ic.column for ic in cb.all_item_columns()]
    for col in item_cols:
        if col not in people.columns:
            people[col] = np.nan
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    wide = people[ident + item_cols].copy()
    wide[item_cols] = wide[item_cols].astype(float)
    wide["age"] = wide["age"].astype(float)
    wide["gender"] = wide["gender"].astype(object)
    return wide, log


def reconstruct(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Build the synthetic item-level data set reconstructed from the published tables.

    Parameters
    ----------
    seed : int
        Seed of the numpy Generator; the same seed gives the same data.

    Returns
    -------
    DataFrame
        Canonical wide data (as :func:`triad.simulate.simulate_respondents` returns):
        identity columns, then every codebook item column (float, NaN where not
        applicable).  Youths' and parents' gender is empty (the report gives none).
    """
    wide, _ = _build(seed)
    return wide


# --------------------------------------------------------------------------- verification


def _alpha_rows(wide: pd.DataFrame) -> list:
    from triad.reliability import cronbach_alpha

    cb = load_codebook()
    ranges = _alpha_ranges()

    def alpha_of(group: str, scales: tuple) -> float:
        rater, who = group.split(">")
        roles = roles_of(rater)
        cols = [ic.column for ic in cb.item_columns(roles[0])
                if ic.scale in scales and ic.target == who]
        return cronbach_alpha(wide[wide["role"].isin(roles)][cols])[0]

    rows = []
    for (group, scale), target in ALPHA_TARGETS.items():
        rows.append({"table": "3.3", "group": f"{group}@all", "scale": scale, "stat": "alpha",
                     "target": target, "achieved": alpha_of(group, (scale,)),
                     "status": "chosen", "reason": _ALPHA_SOURCE[scale]})
    in_range = [("professional>youth", s) for s in ("band", "doel", "taak")]
    in_range += [("professional>parent", s) for s in ("band", "doel", "taak")]
    for rater in ("youth", "parent", "social_worker", "teacher", "professional"):
        for who in (("professional",) if rater in ("youth", "parent") else ("youth", "parent")):
            in_range.append((f"{rater}>{who}", "alliantie"))
    for group, scale in in_range:
        scales = ("band", "doel", "taak") if scale == "alliantie" else (scale,)
        lo, hi = ranges[scale]
        rows.append({"table": "3.3", "group": f"{group}@all", "scale": scale, "stat": "alpha",
                     "target": np.nan, "achieved": alpha_of(group, scales), "status": "range",
                     "reason": f"must lie in the report's range {lo:.2f}-{hi:.2f} over groups "
                               "(section 3.3)" + (" (follows from the Band, Doel and Taak "
                                                  "alphas)" if scale == "alliantie" else "")})
    return rows


def _correlation_rows(scores: pd.DataFrame, wide: pd.DataFrame) -> list:
    rows = []
    for (group, x, y), target in CORRELATION_TARGETS.items():
        g = parse_group_key(group)
        roles = roles_of(g["role"])
        part = scores[scores["role"].isin(roles) & (scores["target"] == g["target"])]
        table = part.pivot(index="respondent_id", columns="scale", values="score")
        ages = wide.set_index("respondent_id")["age"]
        xs = ages.reindex(table.index) if x == "age" else table[x]
        r = float(np.corrcoef(xs.to_numpy(dtype=float), table[y].to_numpy(dtype=float))[0, 1])
        rows.append({"table": "4", "group": group, "scale": f"{x}~{y}", "stat": "r",
                     "target": target, "achieved": r,
                     "status": "chosen" if "chosen" in _CORRELATION_SOURCE[(group, x, y)]
                     else "required", "reason": _CORRELATION_SOURCE[(group, x, y)]})
    return rows


def verify_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """Recompute every target from wide respondent data: target vs achieved.

    Parameters
    ----------
    wide : DataFrame
        Canonical wide data.

    Returns
    -------
    DataFrame
        Columns :data:`VERIFY_COLUMNS`, one row per target: every printed n, mean and
        SD of Tables 1-12, the chosen alphas (and the Alliantie alpha range) and the
        correlations.  ``matched`` is exact equality for n, ``|difference| <= 0.005``
        otherwise (inside the range for the Alliantie alphas); ``status`` is
        ``required``, ``kept`` or ``chosen`` for targets the file must meet and
        ``conflict`` for the documented conflicts (``reason`` says why).
    """
    from triad.cells import cells_from_scores
    from triad.scores import scale_scores

    res = resolve_targets()
    scores = scale_scores(wide)
    cells = cells_from_scores(scores, load_cells(), decimals=None)
    achieved = {}
    for _, row in cells.iterrows():
        scale = "" if pd.isna(row["scale"]) else row["scale"]
        key = (str(int(row["table"])), row["group"], scale)
        achieved[key] = {"n": float(row["n"]), "mean": row["mean"], "sd": row["sd"]}
    rows = []
    for t in res.targets:
        value = achieved[(t.table, t.group, t.scale)][t.stat]
        rows.append({"table": t.table, "group": t.group, "scale": t.scale, "stat": t.stat,
                     "target": t.value, "achieved": float(value), "status": t.status,
                     "reason": t.reason})
    rows += _alpha_rows(wide)
    rows += _correlation_rows(scores, wide)
    out = pd.DataFrame(rows)
    out["difference"] = (out["achieved"] - out["target"]).round(9)
    ranges = _alpha_ranges()
    matched = []
    for _, r in out.iterrows():
        if r["stat"] == "n":
            matched.append(bool(r["achieved"] == r["target"]))
        elif r["status"] == "range":
            lo, hi = ranges[r["scale"]]
            matched.append(bool(lo - HALF < r["achieved"] < hi + HALF))
        else:
            matched.append(bool(abs(r["difference"]) <= HALF))
    out["matched"] = matched
    return out[VERIFY_COLUMNS]


def verify(path: str | Path | None = None) -> pd.DataFrame:
    """Recompute every target from a synthetic respondent file (default: the embedded one).

    Parameters
    ----------
    path : str or Path, optional
        Default ``data/synthetic/respondents.csv``.

    Returns
    -------
    DataFrame
        See :func:`verify_frame`.
    """
    from triad.readers import read_respondents

    path = Path(path) if path is not None else data_dir() / "synthetic" / "respondents.csv"
    return verify_frame(read_respondents(path).wide)


def missed(report: pd.DataFrame) -> pd.DataFrame:
    """Targets the file must meet but does not (not a documented conflict)."""
    return report[(report["status"] != "conflict") & ~report["matched"]]


# --------------------------------------------------------------------------- writing

_VERSIONED = ("triad", "numpy", "pandas", "scipy", "numba", "pingouin")


def _versions() -> dict:
    return library_versions(_VERSIONED)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _summary(report: pd.DataFrame) -> dict:
    conflicts = report[report["status"] == "conflict"]
    return {
        "targets": len(report),
        "matched": int(report["matched"].sum()),
        "not_matched": int((~report["matched"]).sum()),
        "not_matched_documented_conflicts": int((~conflicts["matched"]).sum()),
        "conflicts_matched_anyway": int(conflicts["matched"].sum()),
        "missed": len(missed(report)),
        "by_stat": {stat: {"targets": len(part), "matched": int(part["matched"].sum())}
                    for stat, part in report.groupby("stat", sort=True)},
    }


def _command(seed: int, out_dir: Path) -> str:
    default = (data_dir() / "synthetic").resolve()
    where = "" if Path(out_dir).resolve() == default else f" --out {out_dir}"
    return f"triad reconstruct --seed {seed}{where}"


def write_synthetic(out_dir: str | Path | None = None, seed: int = DEFAULT_SEED) -> dict:
    """Build the synthetic data set and write it with its provenance and README.

    Writes ``respondents.csv`` (canonical wide CSV), ``provenance.json`` (``"synthetic":
    true``, seed, command, library versions, every target with the value achieved,
    the design choices, the conflicts and why, runtime) and ``README.md``.

    Parameters
    ----------
    out_dir : str or Path, optional
        Default ``data/synthetic``.
    seed : int

    Returns
    -------
    dict
        The provenance record.
    """
    from triad.readers import write_wide_csv

    start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else data_dir() / "synthetic"
    out.mkdir(parents=True, exist_ok=True)
    wide, log = _build(seed)
    build_s = time.perf_counter() - start
    csv_path = out / "respondents.csv"
    tmp = csv_path.with_suffix(".csv.tmp")
    write_wide_csv(wide, tmp)
    tmp.replace(csv_path)
    report = verify_frame(wide)
    res = resolve_targets()
    runtime = time.perf_counter() - start
    conflicts = report[report["status"] == "conflict"]
    provenance = {
        "synthetic": True,
        "title": "triad synthetic respondents, reconstructed from the published tables",
        "warning": ("NOT the study's data. Invented respondents whose summaries reproduce the "
                    "report's printed tables; individual answers, item patterns, ages and "
                    "correlations beyond the printed ones carry no information about the "
                    "real respondents."),
        "source": "the study report (Tables 1-12, sections 3-4) as transcribed in "
                  "data/youth_partnership/published/",
        "seed": seed,
        "command": _command(seed, out),
        "generator": "triad.reconstruct.write_synthetic",
        "versions": _versions(),
        "runtime_s": round(runtime, 1),
        "build_s": round(build_s, 1),
        "respondents": len(wide),
        "csv_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest(),
        "summary": _summary(report),
        "method": [
            "1. integer totals S and sums of squares Q of item sums per role x sector cell and "
            "scale, meeting every kept target (priority order; see 'priorities'), nearest "
            "the printed values",
            "2. SPRITE per cell (triad.sprite.sprite_sums): n item sums with exactly S and Q",
            "3. simulated annealing over swaps of item sums inside cells and of gender "
            "between professionals of a cell: Alliantie SDs, gender cells, r(Belangrijk, "
            "Lukt), plausible inter-scale correlations",
            "4. item sums split into answers 1-5, units moved inside persons to reach the "
            "chosen Cronbach's alphas",
            "5. ages drawn per role and sector, permuted inside cells for the age "
            "correlations",
        ],
        "priorities": _PRIORITY_TEXT,
        "design_choices": {
            "answers": "complete (no missing answers), integers 1-5",
            "men_per_cell": {f"{r}@{s}": m for (r, s), m in MEN_PER_CELL.items()},
            "gender_youths_parents": "empty: the report gives no gender for youths and "
                                     "parents",
            "ages": {(f"{k[0]}@{k[1]}" if isinstance(k, tuple) else k):
                     {"mean": v[0], "sd": v[1], "min": v[2], "max": v[3]}
                     for k, v in _AGE_MODEL.items()},
            "belangrijk_sector_sd": {f"{FAMILIES[f].cells[i][0]}@{FAMILIES[f].cells[i][1]}": v
                                     for (f, _, i), v in sorted(res.soft_sd.items())},
            "alpha_targets": {f"{f}@all:{s}": {"target": v, "source": _ALPHA_SOURCE[s]}
                              for (f, s), v in ALPHA_TARGETS.items()},
            "alpha_ranges": {k: list(v) for k, v in _alpha_ranges().items()},
            "correlation_targets": {f"{g}: r({x}, {y})": {"target": v,
                                                          "source": _CORRELATION_SOURCE[(g, x, y)]}
                                    for (g, x, y), v in CORRELATION_TARGETS.items()},
        },
        "achieved": log,
        "conflicts": conflicts[["table", "group", "scale", "stat", "target", "achieved",
                                "matched", "reason"]].to_dict(orient="records"),
        "targets": report.to_dict(orient="records"),
    }
    provenance = _jsonable(provenance)
    (out / "provenance.json").write_text(json.dumps(provenance, indent=1, ensure_ascii=False)
                                         + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(provenance, report), encoding="utf-8")
    return provenance


def _readme(prov: dict, report: pd.DataFrame) -> str:
    s = prov["summary"]
    conflicts = report[report["status"] == "conflict"]
    lines = [
        "# Synthetic respondents (NOT the study's data)",
        "",
        "`respondents.csv` holds 479 **invented** respondents in triad's public wide format "
        "(see the main README). They were reconstructed from the report's published tables "
        "so that every consistent printed n, mean and SD comes out right; the real "
        "respondent file is not public. Anything computed from this file is labelled "
        "`synthetic` (`provenance.json` says `\"synthetic\": true`, and "
        "`triad.readers.read_respondents` reports `data_source = 'synthetic'`). Do not "
        "read individual answers, item patterns, ages or unprinted correlations as "
        "evidence about the study.",
        "",
        "## How it was made",
        "",
        f"`{prov['command']}` (seed {prov['seed']}; the same seed gives the same file byte "
        "for byte). Module `triad.reconstruct`, with SPRITE in `triad.sprite`.",
        "",
        "1. Integer totals and sums of squares of item sums per role x sector cell and scale "
        "(answers complete, 1-5), chosen so that the printed means and SDs round correctly, "
        "taking the printed numbers in priority order: the sector tables (4-9 and 5), the "
        "Alliantie cells, the Table 5 total and the gender tables (10-12), the role tables "
        "(2-3), the youth columns of Tables 2-3. A number that cannot be met together with "
        "those before it is a documented conflict.",
        "2. SPRITE (Heathers et al. 2018) per cell: item sums with exactly those totals.",
        "3. Simulated annealing over swaps inside cells (item sums on one scale; gender "
        "between professionals): Alliantie SDs, gender tables, r(Belangrijk, Lukt) = .49, "
        "plausible positive correlations between scales.",
        "4. Item sums split into answers; units moved inside a respondent to reach a chosen "
        "Cronbach's alpha per scale and group, inside the report's ranges.",
        "5. Ages drawn per role and sector, permuted inside cells: r(age, Band) = .22 in "
        "youths; r(age, Doel about youths) = -.20 in professionals (sign printed, size "
        "chosen).",
        "",
        "## What it reproduces",
        "",
        f"{s['matched']} of {s['targets']} targets are met (n exactly; means, SDs, alphas "
        f"and correlations within 0.005 of the printed value, so they round to it). "
        + ("No target that should be met is missed. " if s["missed"] == 0 else
           f"{s['missed']} target(s) that should be met are missed. ")
        + f"The {len(conflicts)} numbers not reproduced are conflicts in the report:",
        "",
        "| table | group | scale | stat | printed | synthetic |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in conflicts.iterrows():
        lines.append(f"| {r['table']} | {r['group']} | {r['scale']} | {r['stat']} | "
                     f"{r['target']:g} | {r['achieved']:.4g} |")
    lines += [
        "",
        "Why, in short: Tables 2-4 print n = 179 (youths) and 132 where Table 1 and the "
        "sector tables hold 174, 50 and 53; the youth columns of Tables 2-3 then cannot all "
        "follow from the sector cells. The Table 5 Belangrijk sector SDs (0.90, 0.77) cannot "
        "pool to the total 0.38 that Table 12 supports: the synthetic sectors get "
        f"{', '.join(f'{v:.2f}' for v in prov['design_choices']['belangrijk_sector_sd'].values())}"
        ". Table 7's Alliantie means for ambulatory (3.98) and residential (3.55) parents "
        "and Table 2's parent Alliantie mean (3.83) are not the mean of their Band, Doel and "
        "Taak means, which they must be with complete answers. Table 2's social-worker "
        "Band (4.24) and Doel (3.54) means and Table 3's parent Opvoedcompetentie SD (1.00) "
        "do not pool from the sector tables. Each conflict's full reason is in "
        "`provenance.json` (`conflicts`), with every target and the value achieved "
        "(`targets`).",
        "",
        "Not from the report (chosen, documented in `provenance.json`): men per cell "
        "(36 spread in proportion to cell size), ages, the alphas within the printed ranges, "
        "the size of r(age, Doel), the correlations between scales beyond the printed ones. "
        "Youths' and parents' gender is left empty.",
        "",
        "Check it: `triad reconstruct --verify` recomputes every target from the CSV.",
        "",
    ]
    return "\n".join(lines)
