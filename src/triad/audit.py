"""Consistency audit of published summary tables (n, M, SD per group).

Each check returns tidy rows with the columns :data:`AUDIT_COLUMNS`.  Severity:

``impossible``
    No data on the 1-5 scale can have these numbers (GRIM, GRIMMER, SD bounds).
``inconsistent``
    Two printed numbers contradict each other even after allowing for rounding:
    no values inside the rounding intervals of the printed numbers agree.
``rounding``
    The numbers do not agree as printed, but values inside their rounding
    intervals do (a two-decimal table allows +-0.005 on each number).
``ok``
    Agrees as printed.

Nothing here knows the report's errors in advance: the checks follow from the
study design (who is pooled into which column, Table 1's counts) and the
numbers themselves.

The arithmetic (GRIM, GRIMMER, SD bounds, pooling) is :mod:`triad.consistency`'s and
:class:`StudyDesign` is :mod:`triad.study_design`'s; both are importable from here too.
"""

import numpy as np
import pandas as pd

from triad.codebook import load_codebook, sector_codes
from triad.consistency import (
    EPS,
    HALF,
    grim_check,
    grimmer_check,
    overlap,
    pooled_intervals,
    sd_bounds_check,
    severity,
)
from triad.consistency import SCALE_MAX as SCALE_MAX
from triad.consistency import SCALE_MIN as SCALE_MIN
from triad.consistency import Pooled as Pooled
from triad.consistency import max_sd as max_sd
from triad.consistency import min_sd as min_sd
from triad.published import claim_groups, load_cells, load_claims, parse_group_key
from triad.study_design import StudyDesign

__all__ = [
    "AUDIT_COLUMNS",
    "StudyDesign",
    "SEVERITIES",
    "audit_published",
    "grim_check",
    "grimmer_check",
    "sd_bounds_check",
    "pooled_intervals",
    "audit_markdown",
]

AUDIT_COLUMNS = ["check", "tables", "scale", "groups", "reported", "expected", "discrepancy",
                 "severity", "message"]
SEVERITIES = ("impossible", "inconsistent", "rounding", "ok")


def _fmt(x: float, dp: int = 2) -> str:
    return f"{x:.{dp}f}"


def _row(check, tables, scale, groups, reported, expected, severity, message) -> dict:
    disc = None
    if isinstance(reported, int | float) and isinstance(expected, int | float):
        disc = round(float(reported) - float(expected), 4)
    return {"check": check, "tables": tables, "scale": scale, "groups": groups,
            "reported": reported, "expected": expected, "discrepancy": disc,
            "severity": severity, "message": message}


def _tables(*cells: pd.Series) -> str:
    return ",".join(str(t) for t in sorted({int(c["table"]) for c in cells}))


def _groups(cells) -> str:
    return " + ".join(c["group"] for c in cells)


# --------------------------------------------------------------------------- checks


def _check_cells(design: StudyDesign) -> list[dict]:
    rows = []
    for _, c in design.cells.iterrows():
        scale = design.cb.scales[c["scale"]]
        k = scale.n_items
        lo, hi = design.cb.answer_range(c["scale"])
        where = f"Table {c['table']}, {c['group']}, {c['scale']}"
        ok = grim_check(c["mean"], c["n"], k, scale_min=lo, scale_max=hi)
        rows.append(_row(
            "GRIM", str(c["table"]), c["scale"], c["group"], c["mean"], None,
            "ok" if ok else "impossible",
            f"{where}: a mean of {c['n']} scores of {k} items on {lo:g}-{hi:g} moves in steps of "
            f"1/{c['n'] * k}; {_fmt(c['mean'])} is "
            + ("attainable" if ok else "not attainable")
            + " (assumes complete answers)"))
        ok = grimmer_check(c["mean"], c["sd"], c["n"], k)
        rows.append(_row(
            "GRIMMER", str(c["table"]), c["scale"], c["group"], c["sd"], None,
            "ok" if ok else "impossible",
            f"{where}: SD {_fmt(c['sd'])} with mean {_fmt(c['mean'])} "
            + ("is" if ok else "is not")
            + " attainable by integer item sums (parity of the sum of squares)"))
        ok, lower, upper = sd_bounds_check(c["mean"], c["sd"], c["n"], k, lo=lo, hi=hi)
        rows.append(_row(
            "SD bounds", str(c["table"]), c["scale"], c["group"], c["sd"], round(upper, 3),
            "ok" if ok else "impossible",
            f"{where}: with mean {_fmt(c['mean'])} and n = {c['n']} on a {lo:g}-{hi:g} scale "
            f"the SD must lie in [{lower:.3f}, {upper:.3f}]; printed {_fmt(c['sd'])}"))
    return rows


def _check_n(design: StudyDesign) -> list[dict]:
    rows = []
    for _, c in design.cells.drop_duplicates(["table", "group"]).iterrows():
        pop = design.population(c["group"])
        if pop is None:
            continue
        sev = "ok" if c["n"] == pop else "inconsistent"
        rows.append(_row(
            "n across tables", f"1,{c['table']}", "", c["group"], int(c["n"]), pop, sev,
            f"Table {c['table']} gives n = {c['n']} for {c['group']}; the sample table has {pop} "
            "such respondents" + ("" if sev == "ok" else " (the column's n does not match)")))
    # Gender splits have no Table 1 row: their sizes must add up to the group.
    gender = design.cells[design.cells["gender"].notna()]
    for (table, role, target), part in gender.groupby(["table", "role", "target"]):
        sizes = part.drop_duplicates("group").set_index("gender")["n"]
        pop = design.population(f"{role}>{target}@all")
        total = int(sizes.sum())
        sev = "ok" if total == pop else "inconsistent"
        rows.append(_row(
            "n across tables", f"1,{table}", "",
            f"{role}>{target}@all#{'+'.join(map(str, sizes.index))}", total, pop, sev,
            f"Table {table}: {' + '.join(map(str, sizes.index))} = "
            f"{' + '.join(str(int(v)) for v in sizes)} = {total}; the sample table has {pop} such "
            "respondents"))
    return rows


def _check_duplicates(design: StudyDesign) -> list[dict]:
    """Compare cells printed twice for the same respondents (Table 4 repeats 6 and 8)."""
    rows = []
    keyed = design.cells.copy()

    def population_key(group: str) -> str:
        g = parse_group_key(group)
        # teachers all work in special education (Table 1), so '@all' is the same people
        if g["sector"] == "all" and not g["gender"] and g["role"] not in design.cb.aggregates:
            sectors = [s for s in sector_codes() if design.counts.get((g["role"], s), 0) > 0]
            if len(sectors) == 1:
                return f"{g['role']}>{g['target']}@{sectors[0]}"
        return group

    keyed["population"] = keyed["group"].map(population_key)
    for (pop, scale), part in keyed.groupby(["population", "scale"]):
        if part["table"].nunique() < 2:
            continue
        part = part.sort_values("table")
        first = part.iloc[0]
        for _, other in part.iloc[1:].iterrows():
            for stat in ("mean", "sd"):
                same = first[stat] == other[stat]
                rows.append(_row(
                    "same cell in two tables", _tables(first, other), scale, pop,
                    other[stat], first[stat], "ok" if same else "inconsistent",
                    f"{stat.upper() if stat == 'sd' else 'M'} of {pop} ({scale}) is "
                    f"{_fmt(first[stat])} in Table {first['table']} and {_fmt(other[stat])} in "
                    f"Table {other['table']}; they describe the same respondents"))
    return rows


def _check_recomposition(design: StudyDesign) -> list[dict]:
    rows = []
    pooled_groups = set()
    for group in design.cells["group"].unique():
        g = parse_group_key(group)
        if g["sector"] == "all":
            pooled_groups.add(f"{g['role']}>{g['target']}@all")
    for scale in design.cells["scale"].unique():
        for pooled in sorted(pooled_groups):
            derived = []
            for how, parts in design.partitions(pooled):
                subs = [design.best(p, scale) for p in parts]
                if any(s is None for s in subs):
                    continue
                est = pooled_intervals([s["n"] for s in subs], [s["mean"] for s in subs],
                                       [s["sd"] for s in subs])
                derived.append((how, subs, est))
            printed = design.best(pooled, scale)
            for how, subs, est in derived:
                if printed is None:
                    continue
                label = f"{pooled} from {how}"
                tabs = _tables(printed, *subs)
                parts_txt = "; ".join(
                    f"{s['group']} n={s['n']} M={_fmt(s['mean'])} SD={_fmt(s['sd'])}"
                    for s in subs)
                n_note = ""
                if int(printed["n"]) != est.n:
                    n_note = (f" (Table {printed['table']} prints n = {printed['n']} but the "
                              f"subgroups hold {est.n}: respondents outside the subgroups "
                              "could explain a difference)")
                sev = severity(printed["mean"], est.mean, est.mean_lo, est.mean_hi, HALF)
                rows.append(_row(
                    "recomposition: mean", tabs, scale, label, printed["mean"],
                    round(est.mean, 4), sev,
                    f"Pooling {parts_txt} gives M = {est.mean:.4f} (any values within rounding: "
                    f"[{est.mean_lo:.4f}, {est.mean_hi:.4f}]); Table {printed['table']} prints "
                    f"{_fmt(printed['mean'])}{n_note}"))
                sev = severity(printed["sd"], est.sd, est.sd_lo, est.sd_hi, HALF)
                rows.append(_row(
                    "recomposition: SD", tabs, scale, label, printed["sd"], round(est.sd, 4), sev,
                    f"Pooled SD from within- and between-group sums of squares of {parts_txt} is "
                    f"{est.sd:.4f} (within rounding: [{est.sd_lo:.4f}, {est.sd_hi:.4f}]); "
                    f"Table {printed['table']} prints {_fmt(printed['sd'])}{n_note}"))
            if printed is None and len(derived) == 2:
                (h1, s1, e1), (h2, s2, e2) = derived
                tabs = _tables(*s1, *s2)
                for stat, a, b in (("mean", (e1.mean, e1.mean_lo, e1.mean_hi),
                                    (e2.mean, e2.mean_lo, e2.mean_hi)),
                                   ("SD", (e1.sd, e1.sd_lo, e1.sd_hi),
                                    (e2.sd, e2.sd_lo, e2.sd_hi))):
                    if abs(a[0] - b[0]) <= HALF + EPS:
                        sev = "ok"
                    else:
                        sev = "rounding" if overlap(a[1], a[2], b[1], b[2]) else "inconsistent"
                    rows.append(_row(
                        f"recomposition: {stat}", tabs, scale, f"{pooled}: {h1} vs {h2}",
                        round(a[0], 4), round(b[0], 4), sev,
                        f"{pooled} is not printed, but both its {h1} "
                        f"({_groups(s1)}) and its {h2} ({_groups(s2)}) are: pooled {stat} "
                        f"{a[0]:.4f} [{a[1]:.4f}, {a[2]:.4f}] from {h1} vs {b[0]:.4f} "
                        f"[{b[1]:.4f}, {b[2]:.4f}] from {h2}"))
    return rows


def _quoted_half(value: float) -> float:
    text = f"{value}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10 ** (-decimals)


def _check_text(design: StudyDesign) -> list[dict]:
    rows = []
    claims = load_claims()
    for _, claim in claims.iterrows():
        if claim["kind"] == "correlation":
            continue
        pairs = claim_groups(claim)
        scale = claim["scale"]
        table = None if pd.isna(claim["table"]) else int(claim["table"])
        cells = []
        for group, _ in pairs:
            found = design.cells[(design.cells["group"] == group)
                                 & (design.cells["scale"] == scale)]
            if table is not None and (found["table"] == table).any():
                found = found[found["table"] == table]
            cells.append(found.sort_values("table").iloc[0] if len(found) else None)
        cid = claim["claim_id"]
        if claim["kind"] in ("difference", "descriptive"):
            for (group, quoted), cell in zip(pairs, cells, strict=True):
                if quoted is None or cell is None:
                    continue
                half = _quoted_half(quoted)
                ok = abs(quoted - cell["mean"]) <= half + EPS
                rows.append(_row(
                    "text vs table", str(cell["table"]), scale, f"{cid}: {group}", quoted,
                    cell["mean"], "ok" if ok else "inconsistent",
                    f"Claim {cid} quotes {quoted:g} for {group} ({scale}); Table "
                    f"{cell['table']} prints {_fmt(cell['mean'])}"))
        if claim["kind"] == "difference" and claim["direction"] in ("first_higher",
                                                                     "first_lower"):
            first = cells[0]
            for (group, _), cell in zip(pairs[1:], cells[1:], strict=True):
                if first is None or cell is None:
                    continue
                diff = first["mean"] - cell["mean"]
                want = claim["direction"] == "first_higher"
                ok = diff > 0 if want else diff < 0
                rows.append(_row(
                    "text vs table: direction", _tables(first, cell), scale,
                    f"{cid}: {pairs[0][0]} vs {group}", round(diff, 2), None,
                    "ok" if ok else "inconsistent",
                    f"Claim {cid} says {pairs[0][0]} is "
                    f"{'higher' if want else 'lower'} than {group} on {scale}; the table has "
                    f"{_fmt(first['mean'])} vs {_fmt(cell['mean'])}"))
    # Ranges: every cell of the claimed groups must lie in the quoted range, and the range's
    # ends must be attained by some cell (over all scales of a split claim like C01a-d).
    ranges = claims[claims["kind"] == "range"].copy()
    ranges["base"] = ranges["claim_id"].str.replace(r"[a-z]$", "", regex=True)
    for base, part in ranges.groupby("base", sort=True):
        bounds = [q for _, q in claim_groups(part.iloc[0]) if q is not None]
        if len(bounds) != 2:
            continue
        lo, hi = min(bounds), max(bounds)
        half = max(_quoted_half(lo), _quoted_half(hi))
        values = []
        for _, claim in part.iterrows():
            for group, _ in claim_groups(claim):
                cell = design.best(group, claim["scale"])
                if cell is not None:
                    values.append((cell, claim["scale"]))
        outside = [(c, s) for c, s in values
                   if c["mean"] < lo - half - EPS or c["mean"] > hi + half + EPS]
        means = [c["mean"] for c, _ in values]
        attained = (abs(min(means) - lo) <= half + EPS and abs(max(means) - hi) <= half + EPS)
        scales = ",".join(sorted(set(part["scale"])))
        if outside:
            sev = "inconsistent"
            detail = "; ".join(f"{c['group']} {s} = {_fmt(c['mean'])}" for c, s in outside)
            msg = f"outside it: {detail}"
        elif not attained:
            sev = "rounding"
            msg = ("all cells inside, but the tables' range is "
                   f"{_fmt(min(means))}-{_fmt(max(means))}")
        else:
            sev, msg = "ok", "all cells inside and the ends attained"
        rows.append(_row(
            "text vs table: range", _tables(*[c for c, _ in values]), scales, base,
            f"{lo:g}-{hi:g}", f"{_fmt(min(means))}-{_fmt(max(means))}", sev,
            f"Claim {base} says the means ({scales}) range from {lo:g} to {hi:g}; {msg}"))
    return rows


def _check_composites(design: StudyDesign) -> list[dict]:
    """Check that a composite scale's mean is the item-weighted mean of its parts' means.

    With complete answers, Alliantie (12 items) = (Band + Doel + Taak) / 3 per respondent,
    so the same holds for every cell mean.  Missing items would loosen this, so a clash is
    reported as ``inconsistent`` only outside the rounding intervals.
    """
    rows = []
    cells = design.cells
    for comp in design.cb.scales.values():
        if not comp.composite_of:
            continue
        weights = np.array([design.cb.scales[p].n_items for p in comp.composite_of], float)
        weights /= weights.sum()
        for (table, group), part in cells.groupby(["table", "group"]):
            by_scale = part.set_index("scale")
            if comp.id not in by_scale.index or not set(comp.composite_of) <= set(by_scale.index):
                continue
            means = np.array([by_scale.loc[p, "mean"] for p in comp.composite_of], float)
            est = float(weights @ means)
            printed = float(by_scale.loc[comp.id, "mean"])
            sev = severity(printed, est, est - HALF, est + HALF, HALF)
            parts = " + ".join(f"{p} {by_scale.loc[p, 'mean']:.2f}" for p in comp.composite_of)
            rows.append(_row(
                "composite mean", str(table), comp.id, group, printed, round(est, 4), sev,
                f"Table {table}, {group}: {comp.id} is the mean of its "
                f"{int(comp.n_items)} items, so with complete answers its mean is the "
                f"item-weighted mean of {parts} = {est:.4f}; printed {printed:.2f}"))
    return rows


def _check_restatements() -> list[dict]:
    """Section 5 restates section 4: the two must not disagree on significance."""
    rows = []
    claims = load_claims().set_index("claim_id")
    tested = {"significant", "implied_significant"}
    for cid, claim in claims[claims["repeats"].notna()].iterrows():
        orig = claims.loc[claim["repeats"]]
        a, b = orig["verdict"], claim["verdict"]
        clash = (a in tested and b == "not_significant") or (b in tested and a == "not_significant")
        if "descriptive" in (a, b) and not clash:
            continue
        rows.append(_row(
            "text vs text: verdict", str(orig["table"]) if pd.notna(orig["table"]) else "",
            claim["scale"], f"{claim['repeats']} vs {cid}", b, a,
            "inconsistent" if clash else "ok",
            f"Claim {claim['repeats']} (section {orig['section']}) calls it {a.replace('_', ' ')}; "
            f"its restatement {cid} (section {claim['section']}) calls it "
            f"{b.replace('_', ' ')}"))
    return rows


def audit_published(cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Run every consistency check on the published tables.

    Parameters
    ----------
    cells : DataFrame, optional
        Cells in the layout of :func:`triad.published.load_cells`; default the report's.

    Returns
    -------
    DataFrame
        One row per finding, columns :data:`AUDIT_COLUMNS`, most severe first.
    """
    cells = load_cells() if cells is None else cells
    design = StudyDesign(cells, load_codebook())
    rows = (_check_cells(design) + _check_n(design) + _check_duplicates(design)
            + _check_recomposition(design) + _check_composites(design) + _check_text(design)
            + _check_restatements())
    out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    out = out.sort_values("severity", key=lambda s: s.map(order), kind="stable")
    return out.reset_index(drop=True)


def audit_markdown(audit: pd.DataFrame) -> str:
    """Render the audit as Markdown: counts per severity, then every finding not ``ok``."""
    counts = audit["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    lines = ["# Audit of the published tables", "",
             "Source: the publication's tables and claims as transcribed in the study's "
             "published/ folder (provenance: published).", "",
             "| severity | findings |", "|---|---|"]
    lines += [f"| {s} | {int(n)} |" for s, n in counts.items()]
    lines += ["", "Checks run: " + ", ".join(
        f"{c} ({n})" for c, n in audit["check"].value_counts().sort_index().items()), ""]
    for sev in SEVERITIES[:-1]:
        part = audit[audit["severity"] == sev]
        if part.empty:
            continue
        lines += [f"## {sev} ({len(part)})", ""]
        for _, r in part.iterrows():
            lines.append(f"- **{r['check']}** (Tables {r['tables']}; {r['scale'] or '-'}; "
                         f"{r['groups']}): {r['message']}")
        lines.append("")
    return "\n".join(lines)
