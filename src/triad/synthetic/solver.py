"""Integer totals and sums of squares of item sums per cell (step 1 of the reconstruction).

Work is in item-sum units: a k-item scale score is an integer sum over k, so a cell's
total ``S`` and sum of squares ``Q`` of item sums are integers (GRIM/GRIMMER).  The
required numbers are met first; the others are tried in priority order and each is kept
when some choice of integer ``S`` and ``Q`` per cell still meets it together with
everything kept before, else it is a documented conflict with its reason.  Among the
solutions the one nearest the printed values is used (totals first, then sums of
squares).
"""

import itertools
from functools import cache
from pathlib import Path

import numpy as np

from triad.codebook import load_codebook
from triad.paths import data_dir
from triad.published import sample_counts
from triad.sprite import HALF, sum_window, sumsq_bounds, sumsq_window
from triad.synthetic.recipe import Family, Recipe, families, gender_counts, load_recipe, n_items
from triad.synthetic.targets import (
    REQUIRED,
    Resolution,
    audit_note,
    composite_note,
    integer_note,
    published_targets,
    soft_sd_targets,
)

__all__ = ["Solver", "compute_resolution", "resolve_targets"]


def _gender_windows(cons: tuple, k: int, counts: dict, top: int) -> dict:
    """Per gender: (S window, SD target or None) from the gender constraints of one scale."""
    out = {}
    for gender, n in counts.items():
        mean = next((c.value for c in cons if c.gender == gender and c.stat == "mean"), None)
        sd = next((c.value for c in cons if c.gender == gender and c.stat == "sd"), None)
        win = sum_window(mean, n, k) if mean is not None else (k * n, top * k * n)
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


class Solver:
    """Integer totals and sums of squares per cell meeting a set of constraints."""

    def __init__(self, recipe: Recipe) -> None:
        self.counts = sample_counts()
        self.soft = soft_sd_targets(recipe)
        self.genders = gender_counts(recipe) if recipe.gender_group else {}

    def windows(self, cons: tuple, k: int, scale: str) -> dict:
        """Per gender: (n, S window, SD target) of one scale's gender constraints."""
        top = int(load_codebook().answer_range(scale)[1])
        return _gender_windows(cons, k, self.genders, top)

    def n(self, fam: Family, cells: tuple) -> int:
        """Respondents in some of a family's cells."""
        return sum(self.counts[fam.cells[c]] for c in cells)

    # ---- one item scale: the totals S per cell (before sums of squares)
    @cache  # noqa: B019 - one solver per process; keys are small tuples
    def scale_options(self, fam_name: str, scale: str, cons: tuple) -> tuple:
        """Feasible total vectors of one scale, nearest the printed means first."""
        fam = families()[fam_name]
        k = n_items(scale)
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
        gw = self.windows(gcons, k, scale)
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
        fam = families()[fam_name]
        k = n_items(scale)
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
            gw = self.windows(gcons, k, scale)
            interval = _men_interval(sum(vec), gw)
            spans = _split_totals(sum(vec), interval, gw, k)
            if not spans:
                return None
            prefix.setdefault(ncell, []).append(("spans", spans))
        return _dp(cands, costs, prefix, k)

    # ---- a family
    def solve(self, fam_name: str, cons: tuple) -> dict | None:
        """Integer (S, Q) per (scale, cell) meeting ``cons``, nearest the printed values."""
        fam = families()[fam_name]
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
        shape = tuple(len(a[0]) for a in arrays)

        def spread(x: np.ndarray, axis: int) -> np.ndarray:
            # part ``axis``'s options along its own axis of the parts' grid
            index = [None] * len(parts) + [slice(None)] * (x.ndim - 1)
            index[axis] = slice(None)
            return x[tuple(index)]

        sa = spread(arrays[0][0], 0)
        for axis in range(1, len(parts)):
            sa = sa + spread(arrays[axis][0], axis)
        ok = np.ones(shape, dtype=bool)
        k = sum(n_items(p) for p in parts)
        for c in comp:
            if c.stat != "mean" or c.gender is not None:
                continue
            lo, hi = sum_window(c.value, self.n(fam, c.cells), k)
            tot = sa[..., list(c.cells)].sum(axis=-1)
            ok &= (tot >= lo) & (tot <= hi)
        gmeans = [c for c in comp if c.stat == "mean" and c.gender is not None]
        if gmeans:
            gw = self.windows(tuple(gmeans), k, fam.composite)
            lo = spread(arrays[0][2][:, 0], 0)
            hi = spread(arrays[0][2][:, 1], 0)
            for axis in range(1, len(parts)):
                lo = lo + spread(arrays[axis][2][:, 0], axis)
                hi = hi + spread(arrays[axis][2][:, 1], axis)
            tot = sa.sum(axis=-1)
            m_lo, m_hi = gw["male"][1]
            f_lo, f_hi = gw["female"][1]
            ok &= np.maximum.reduce([lo, np.full(shape, m_lo), tot - f_hi]) <= \
                np.minimum.reduce([hi, np.full(shape, m_hi), tot - f_lo])
        cost = spread(arrays[0][1], 0)
        for axis in range(1, len(parts)):
            cost = cost + spread(arrays[axis][1], axis)
        idx = np.flatnonzero(ok.ravel())
        if idx.size == 0:
            return None
        order = idx[np.argsort(cost.ravel()[idx], kind="stable")]
        for flat in order:
            picked = np.unravel_index(flat, shape)
            picks = {s: options[s][int(i)] for s, i in zip(parts, picked, strict=True)}
            qs = {}
            for s in parts:
                q = self.q_solution(fam.name, s, by_scale[s], picks[s][1])
                if q is None:
                    break
                qs[s] = q
            else:
                s_a = tuple(int(x) for x in sa[picked])
                intervals = [picks[s][2] for s in parts]
                if self._composite_sd_ok(fam, s_a, intervals, comp):
                    out = {s: (picks[s][1], qs[s]) for s in parts}
                    out[fam.composite] = (s_a, None)
                    return out
        return None

    def _composite_sd_ok(self, fam: Family, s_a: tuple, intervals: list, comp: tuple) -> bool:
        k = sum(n_items(p) for p in fam.composite_of)
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
            gw = self.windows(gcons, k, fam.composite)
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
        origin = np.repeat(np.arange(vals.size), q.size)
        pick = np.tile(np.arange(q.size), vals.size)
        order = np.lexsort((nc, nv))
        nv, nc, origin, pick = nv[order], nc[order], origin[order], pick[order]
        first = np.r_[True, nv[1:] != nv[:-1]]
        nv, nc, origin, pick = nv[first], nc[first], origin[first], pick[first]
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
            nv, nc, origin, pick = nv[keep], nc[keep], origin[keep], pick[keep]
        if nv.size == 0:
            return None
        back.append((origin, pick))
        vals, cost = nv, nc
    j = int(np.argmin(cost))
    chosen = []
    for i in range(len(cands) - 1, -1, -1):
        origin, pick = back[i]
        chosen.append(int(cands[i][pick[j]]))
        j = int(origin[j])
    return tuple(reversed(chosen))


def resolve_targets() -> Resolution:
    """Return the current study's resolution (cached per study folder).

    See :func:`compute_resolution`.
    """
    return _resolution(data_dir())


@cache
def _resolution(folder: Path) -> Resolution:
    return compute_resolution(load_recipe())


def compute_resolution(recipe: Recipe) -> Resolution:
    """Decide which printed numbers the synthetic file reproduces, and the integer sums.

    Deterministic (no random numbers): the same published tables always give the same
    resolution.  Targets are tried in the recipe's priority order (required first); one
    is kept when integer totals and sums of squares per cell still meet it together with
    all kept before, else it becomes a conflict with the reason.

    Returns
    -------
    Resolution
    """
    from triad.audit import audit_published

    targets = published_targets(recipe)
    solver = Solver(recipe)
    fams = families()
    text = recipe.priority_text
    kept: dict = {name: [] for name in fams}
    pending = [t for t in targets if t.con is not None and t.status != "conflict"]
    pending.sort(key=lambda t: t.priority)  # stable: table order within a priority
    findings = None
    seen: dict = {}
    for t in pending:  # the sector tables are required: all at once
        if t.priority == REQUIRED and t.con not in kept[t.con.family]:
            kept[t.con.family].append(t.con)
            t.status = "required"
    for name in fams:
        if solver.solve(name, tuple(kept[name])) is None:
            raise RuntimeError(f"the sector tables of {name} have no integer solution")
    for t in pending:
        if t.priority == REQUIRED:
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
            low, high = load_codebook().answer_range(t.con.scale)
            t.reason = (
                f"no complete-data solution (integer item sums, answers {low:g}-{high:g}) "
                "meets it together with the numbers of higher priority "
                f"({text[t.priority]} come after "
                f"{'; '.join(text[p] for p in range(t.priority))})."
                + composite_note(t) + integer_note(t, recipe, solver.counts, solver.n)
                + audit_note(t, findings))
        seen[t.con] = t
    sums: dict = {}
    for name, fam in fams.items():
        sol = solver.solve(name, tuple(kept[name]))
        if sol is None:  # cannot happen: every kept set was solved once
            raise RuntimeError(f"family {name} has no solution")
        for scale, (vec, qs) in sol.items():
            for i in range(len(fam.cells)):
                sums[(name, scale, i)] = (int(vec[i]), None if qs is None else int(qs[i]))
    return Resolution(targets, sums, {k: tuple(v) for k, v in kept.items()}, solver.soft)
