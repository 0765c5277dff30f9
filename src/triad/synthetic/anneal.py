"""Pairing, gender and items by annealing (steps 3-5 of :mod:`triad.reconstruct`).

Inside a rater group, swapping two respondents' item sums on one scale within a role x
sector cell keeps every cell's moments; swapping gender between two respondents of a
cell keeps everything but the gender cells.  The annealer uses such swaps to hit what
the integer sums cannot fix: composite SDs, gender cells, printed correlations and
plausible correlations between scales.  Then each item sum is split into answers and
units are moved inside a respondent to reach a chosen Cronbach's alpha per group, and
ages are drawn and permuted inside cells for the printed age correlations.
"""

import math
from dataclasses import dataclass

import numba
import numpy as np

from triad.codebook import load_codebook, roles_of
from triad.published import load_reliability, parse_group_key, sample_counts
from triad.sprite import HALF, MARGIN
from triad.synthetic.recipe import (
    Recipe,
    column_label,
    families,
    family_of,
    n_items,
    rater_families,
)

__all__ = ["Engine", "TOL", "age_column", "alpha_groups", "alpha_ranges", "draw_ages",
           "make_engine", "permute_for_r", "run_engine", "scores_of", "split_items",
           "top_answer"]

TOL = HALF - MARGIN  # |achieved - printed| allowed while building (strictly inside rounding)
_SOFT_WEIGHT = 0.3
_ALPHA_TOL = 0.002


# --------------------------------------------------------------------------- kernels


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
def _split_items(X, k, member, lo, hi, n_iter, top, rng):
    """Split item sums ``X`` into k answers 1-top, then move units inside persons towards alphas.

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
            if items[p, j] < top:
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
        if a == b or items[p, a] <= 1 or items[p, b] >= top:
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


def split_items(X: np.ndarray, k: int, member: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                n_iter: int, top: int, rng: np.random.Generator) -> tuple:
    """Split item sums into k answers 1..top and move units towards the alpha windows."""
    return _split_items(X, k, member, lo, hi, n_iter, top, rng)


# --------------------------------------------------------------------------- engines


@dataclass
class Engine:
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
        """Index of the group of these cells (and gender), added when new."""
        key = (tuple(cells), gender)
        if key not in self.groups:
            self.groups.append(key)
        return self.groups.index(key)


def make_engine(rater: str, recipe: Recipe, cons: dict, multisets: dict,
                rng: np.random.Generator) -> Engine:
    """Return the arrays of one rater group: its families' columns, cells, targets."""
    fams = rater_families(rater)
    cells = fams[0].cells
    counts = sample_counts()
    columns = [(f.name, s) for f in fams for s in f.scales]
    labels = [column_label(families()[f], s) for f, s in columns]
    weights = [np.eye(len(columns), dtype=np.int64)[i] for i in range(len(columns))]
    kscore = [float(n_items(s)) for _, s in columns]
    for f in fams:
        if f.composite:
            w = np.zeros(len(columns), dtype=np.int64)
            for part in f.composite_of:
                w[columns.index((f.name, part))] = 1
            weights.append(w)
            labels.append(column_label(f, f.composite))
            kscore.append(float(sum(n_items(p) for p in f.composite_of)))
    blocks, pcell, pgender = [], [], []
    for i, cell in enumerate(cells):
        n = counts[cell]
        block = np.column_stack([rng.permutation(multisets[(f, s, i)]) for f, s in columns])
        blocks.append(block)
        pcell += [i] * n
        if rater == recipe.gender_group:
            men = recipe.men_per_cell[cell]
            pgender += list(rng.permutation(np.r_[np.ones(men), np.zeros(n - men)]).astype(int))
        else:
            pgender += [-1] * n
    eng = Engine(rater, cells, columns, labels, np.array(weights, dtype=np.int64),
                 np.array(kscore), np.ascontiguousarray(np.vstack(blocks), dtype=np.int64),
                 np.array(pcell, dtype=np.int64), np.array(pgender, dtype=np.int64), [], [])
    for i in range(len(cells)):
        eng.group((i,), None)
    everyone = eng.group(tuple(range(len(cells))), None)
    for f in fams:
        for con in cons[f.name]:
            if con.scale != f.composite and con.gender is None:
                continue  # fixed by the integer sums; swaps cannot change it
            g = eng.group(con.cells, con.gender)
            s = labels.index(column_label(f, con.scale))
            kind = 0 if con.stat == "mean" else 1
            eng.targets.append((f"{f.name}:{con.scale}:{con.stat}:{con.cells}:{con.gender}",
                                g, kind, s, s, con.value - TOL, con.value + TOL, 1.0))
    # printed correlations between two scales of this rater group
    for (group, x, y), r in recipe.correlations.items():
        g = parse_group_key(group)
        fam = families()[family_of(g["role"], g["target"])]
        if x == "age" or fam.rater != rater:
            continue
        eng.targets.append((f"r({x}, {y})", everyone, 2, labels.index(column_label(fam, x)),
                            labels.index(column_label(fam, y)), r - TOL, r + TOL, 1.0))
    # plausible correlations: keyed by the rater when it rates several targets
    soft_key = rater if len(fams) > 1 else fams[0].name
    for x, y, lo, hi in recipe.soft_correlations.get(soft_key, ()):
        eng.targets.append((f"soft r({x}, {y})", everyone, 2, labels.index(x), labels.index(y),
                            lo, hi, _SOFT_WEIGHT))
    return eng


def run_engine(eng: Engine, recipe: Recipe, rng: np.random.Generator) -> dict:
    """Anneal one rater group at three temperatures; returns the costs reached."""
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
    p_gender = 0.25 if eng.rater == recipe.gender_group else 0.0
    n_iter = recipe.iterations[eng.rater]
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


def scores_of(eng: Engine) -> np.ndarray:
    """Scale sums of every respondent of an engine (columns, then composites)."""
    return eng.V @ eng.W.T


def permute_for_r(x: np.ndarray, y: np.ndarray, cells: np.ndarray, target: float,
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


def alpha_ranges() -> dict:
    """Return the publication's alpha ranges over groups: scale -> (low, high)."""
    rel = load_reliability()
    rel = rel[rel["group"] == "all"]
    return {r["scale"]: (float(r["alpha_low"]), float(r["alpha_high"])) for _, r in rel.iterrows()}


def alpha_groups(eng: Engine, recipe: Recipe, fam_name: str, scale: str) -> tuple:
    """Return the alpha groups of one engine column: names, membership, windows.

    A single-role rater: one group with its target.  A pooled rater group: each of its
    roles and all together; the groups with a target in the recipe get a window of
    +-0.002 around it, the others a window (the publication's range; the pooled target
    +- the recipe's role slack for one role otherwise).
    """
    rater, target = fam_name.split(">")
    roles = roles_of(rater)
    if roles == (rater,):
        t = recipe.alpha_targets[(fam_name, scale)]
        return [fam_name], np.ones((len(eng.pcell), 1), dtype=np.bool_), \
            np.array([t - _ALPHA_TOL]), np.array([t + _ALPHA_TOL])
    who = np.array([eng.cells[c][0] for c in eng.pcell])
    groups = [f"{role}>{target}" for role in roles] + [fam_name]
    member = np.column_stack([who == role for role in roles]
                             + [np.ones(len(who), dtype=bool)])
    lo, hi = [], []
    pooled = recipe.alpha_targets.get((fam_name, scale))
    for g in groups:
        t = recipe.alpha_targets.get((g, scale))
        if t is not None:
            lo.append(t - _ALPHA_TOL)
            hi.append(t + _ALPHA_TOL)
        elif pooled is not None:
            lo.append(pooled - recipe.alpha_role_slack)
            hi.append(pooled + recipe.alpha_role_slack)
        else:
            r_lo, r_hi = alpha_ranges()[scale]
            lo.append(r_lo + 0.01)
            hi.append(r_hi - 0.01)
    return groups, np.ascontiguousarray(member), np.array(lo), np.array(hi)


def draw_ages(roles: list, sectors: list, recipe: Recipe, rng: np.random.Generator
              ) -> np.ndarray:
    """Integer ages per respondent from the recipe's (mean, sd, low, high) per role/cell."""
    out = np.zeros(len(roles))
    for i, (role, sector) in enumerate(zip(roles, sectors, strict=True)):
        mean, sd, lo, hi = recipe.ages.get((role, sector)) or recipe.ages[role]
        out[i] = float(np.clip(np.rint(rng.normal(mean, sd)), lo, hi))
    return out


def age_column(recipe: Recipe, rater: str) -> list:
    """(score label, target r) of the recipe's age correlations in one rater group."""
    out = []
    for (group, x, y), r in recipe.correlations.items():
        g = parse_group_key(group)
        fam = families()[family_of(g["role"], g["target"])]
        if x == "age" and fam.rater == rater:
            out.append((column_label(fam, y), r))
    return out


def top_answer(scale: str) -> int:
    """Return the highest answer of a scale (codebook answer set)."""
    return int(load_codebook().answer_range(scale)[1])
