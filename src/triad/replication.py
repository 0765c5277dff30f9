"""Claim-by-claim replication of the report's significance claims from its own tables.

The report says only "ANOVA, alpha = .05", not which groups entered each ANOVA or
which post hoc test followed.  For every claim this module therefore runs the
omnibus tests (classic F, Welch, Brown-Forsythe) over the *family* of independent
groups the claim's table shows for that scale, and every post hoc variant
(Tukey-Kramer, Games-Howell, Bonferroni pooled and Welch) for the pairs the claim
names; two-group families get Student and Welch t.  A claim replicates when the
test agrees with the paper's verdict (p < .05 in the stated direction for a
significance claim; p >= .05 for a "not significant" one).

Numbers carry their provenance: ``source`` names the tables used; where a printed
n contradicts Table 1 (see the audit), Table 1's n is used and ``note`` says so.
"""

from functools import lru_cache

import pandas as pd

from triad.audit import StudyDesign
from triad.codebook import load_codebook
from triad.published import claim_groups, load_cells, load_claims, load_correlations
from triad.published import parse_group_key as _parse
from triad.summary_tests import (
    bayes_factor_t,
    oneway_from_summary,
    pearson_from_r,
    posthoc_from_summary,
    ttest_from_summary,
)

__all__ = ["REPLICATION_COLUMNS", "CORRELATION_COLUMNS", "replicate_claims",
           "replicate_correlations", "replication_summary", "replication_markdown",
           "claim_family"]

REPLICATION_COLUMNS = [
    "claim_id", "scale", "groups", "test", "statistic", "df1", "df2", "p", "effect",
    "effect_name", "effect_ci_low", "effect_ci_high", "bf10", "paper_verdict", "replicates",
    "source", "note",
]
ALPHA = 0.05
TESTED = ("significant", "implied_significant")
POSTHOC = ("tukey", "games-howell", "bonferroni", "bonferroni-welch")
ONEWAY = ("classic", "welch", "brown-forsythe")


def claim_family(claim: pd.Series, design: StudyDesign) -> tuple[list[pd.Series], list[str]]:
    """Independent groups a claim's ANOVA plausibly compared, with notes on choices made.

    The family is every column of the claim's table for its scale, except that a
    professional's ratings about a second target (the same people) are left out:
    professionals' columns are kept only for the target the claim names, or dropped
    when the claim names no professional group.

    Returns
    -------
    (cells, notes)
    """
    notes = []
    scale = claim["scale"]
    named = [g for g, _ in claim_groups(claim)]
    multi = _multi_target_raters()
    pro_targets = {_parse(g)["target"] for g in named if _parse(g)["role"] in multi}
    cells = design.cells
    table = None if pd.isna(claim["table"]) else int(claim["table"])
    in_table = cells[(cells["table"] == table) & (cells["scale"] == scale)]
    if not set(named) <= set(in_table["group"]):
        in_table = in_table.iloc[0:0]
    family, dropped = [], []
    for _, cell in in_table.iterrows():
        g = _parse(cell["group"])
        if g["role"] in multi and g["target"] not in pro_targets:
            dropped.append(cell["group"])
            continue
        family.append(cell)
    if dropped and len({_parse(d)["target"] for d in dropped}) and pro_targets:
        notes.append("professionals' ratings about the other target left out of the ANOVA "
                     "(same respondents): " + ", ".join(dropped))
    elif dropped:
        notes.append("columns of raters who rate several targets left out (the claim "
                     "compares single-target raters only; neither of their sets is "
                     "independent)")
    if not family:
        family = [design.best(g, scale) for g in named]
        family = [c for c in family if c is not None]
    named_set = set(named)
    family = sorted(family, key=lambda c: (c["group"] not in named_set,
                                           named.index(c["group"]) if c["group"] in named_set
                                           else 0))
    return family, notes


def _multi_target_raters() -> set[str]:
    """Raters who rate several targets (the same people in two cells), aggregates included.

    From the codebook's instruments: in the shipped study the professionals (social
    workers and teachers, who rate youths and parents).
    """
    book = load_codebook()
    targets: dict[str, set] = {}
    for inst in book.instruments:
        for role in inst["roles"]:
            targets.setdefault(role, set()).add(inst["target"])
    roles = {r for r, t in targets.items() if len(t - {"self"}) > 1}
    return roles | {name for name, members in book.aggregates.items() if set(members) & roles}


def _n_for(cell: pd.Series, design: StudyDesign, notes: list) -> int:
    pop = design.population(cell["group"])
    if pop is not None and pop != cell["n"]:
        notes.append(f"n = {pop} from the sample table used for {cell['group']} "
                     f"(Table {cell['table']} prints {cell['n']})")
        return pop
    return int(cell["n"])


def _independence_note(groups: list[str]) -> str | None:
    parsed = [_parse(g) for g in groups]
    raters = {p["role"] for p in parsed}
    multi = _multi_target_raters()
    if (raters & set(load_codebook().roles)) - multi and raters & multi:
        return ("not independent groups: raters and the raters who rate them back "
                "share relationships and institutions; an independent-groups test "
                "ignores that clustering. The correct analysis needs respondent data with an "
                "institution or dyad identifier (multilevel model with a random effect for it)")
    if any(p["gender"] for p in parsed):
        return ("men and women may be spread unevenly over sectors (the report gives no gender "
                "by sector), so a gender gap can be a sector gap; the correct analysis adjusts "
                "for sector (two-way ANOVA or the multilevel model) and needs respondent data")
    return None


def _verdict(paper: str, p: float, direction_ok: bool | None) -> str:
    if paper in TESTED:
        if p < ALPHA and direction_ok is not False:
            return "yes"
        return "no (opposite direction)" if p < ALPHA else "no"
    if paper == "not_significant":
        return "yes" if p >= ALPHA else "no"
    return "n/a (descriptive claim)"


def _direction_ok(claim: pd.Series, diff: float) -> bool | None:
    if claim["direction"] == "first_higher":
        return diff > 0
    if claim["direction"] == "first_lower":
        return diff < 0
    return None


def _row(claim, **kw) -> dict:
    base = {c: None for c in REPLICATION_COLUMNS}
    base.update(claim_id=claim["claim_id"], scale=claim["scale"],
                paper_verdict=claim["verdict"])
    base.update(kw)
    return base


@lru_cache(maxsize=256)
def _posthoc(ns: tuple, means: tuple, sds: tuple, labels: tuple, method: str) -> pd.DataFrame:
    # Section 5 restates section 4 on the same families; the studentized range is slow.
    return posthoc_from_summary(ns, means, sds, labels, method=method, intervals=False)


def _difference_rows(claim: pd.Series, design: StudyDesign) -> list[dict]:
    family, notes = claim_family(claim, design)
    named = [g for g, _ in claim_groups(claim)]
    if len(family) < 2 or any(g not in {c["group"] for c in family} for g in named):
        return [_row(claim, groups=" | ".join(named), test="none", replicates="n/a",
                     note="the groups named are not all in the tables")]
    ns = [_n_for(c, design, notes) for c in family]
    means = [float(c["mean"]) for c in family]
    sds = [float(c["sd"]) for c in family]
    labels = [c["group"] for c in family]
    source = "published: Table(s) " + ",".join(sorted({str(c["table"]) for c in family}))
    for (group, quoted), cell in zip(claim_groups(claim), family, strict=False):
        if quoted is not None and abs(quoted - cell["mean"]) > 0.5 * 10 ** -(
                len(f"{quoted}".split(".")[-1])) + 1e-9:
            notes.append(f"text quotes {quoted:g} for {group}; the table's "
                         f"{cell['mean']:.2f} is tested")
    indep = _independence_note(labels)
    if indep:
        notes.append(indep)
    note = "; ".join(dict.fromkeys(notes))
    rows = []
    family_txt = " | ".join(labels)
    first = labels[0]
    if len(family) >= 3:
        for method in ONEWAY:
            res = oneway_from_summary(ns, means, sds, method=method).iloc[0]
            rows.append(_row(
                claim, groups=family_txt, test=f"ANOVA {method}", statistic=res["statistic"],
                df1=res["df1"], df2=res["df2"], p=res["p"], effect=res["eta2"],
                effect_name="eta2", effect_ci_low=res["effect_ci_low"],
                effect_ci_high=res["effect_ci_high"],
                replicates=_verdict(claim["verdict"], res["p"], None)
                if claim["verdict"] != "not_significant" else _verdict(
                    claim["verdict"], res["p"], None),
                source=source, note=note))
        for method in POSTHOC:
            table = _posthoc(tuple(ns), tuple(means), tuple(sds), tuple(labels), method)
            for other in named[1:]:
                pair = table[((table["group_a"] == first) & (table["group_b"] == other))
                             | ((table["group_a"] == other) & (table["group_b"] == first))]
                r = pair.iloc[0]
                sign = 1.0 if r["group_a"] == first else -1.0
                diff = sign * r["diff"]
                i, j = labels.index(first), labels.index(other)
                t = ttest_from_summary(ns[i], means[i], sds[i], ns[j], means[j], sds[j])
                rows.append(_row(
                    claim, groups=f"{first} vs {other}", test=f"post hoc {method}",
                    statistic=r["statistic"], df1=None, df2=r["df"], p=r["p"],
                    effect=sign * r["hedges_g"], effect_name="hedges_g",
                    effect_ci_low=min(sign * r["g_ci_low"], sign * r["g_ci_high"]),
                    effect_ci_high=max(sign * r["g_ci_low"], sign * r["g_ci_high"]),
                    bf10=bayes_factor_t(float(t.iloc[0]["statistic"]), ns[i], ns[j]),
                    replicates=_verdict(claim["verdict"], r["p"], _direction_ok(claim, diff)),
                    source=source, note=note))
    else:
        (n1, n2), (m1, m2), (s1, s2) = ns, means, sds
        for equal_var, name in ((True, "t test (Student)"), (False, "t test (Welch)")):
            r = ttest_from_summary(n1, m1, s1, n2, m2, s2, equal_var=equal_var).iloc[0]
            rows.append(_row(
                claim, groups=f"{labels[0]} vs {labels[1]}", test=name, statistic=r["statistic"],
                df1=None, df2=r["df"], p=r["p"], effect=r["hedges_g"], effect_name="hedges_g",
                effect_ci_low=r["g_ci_low"], effect_ci_high=r["g_ci_high"],
                bf10=bayes_factor_t(float(r["statistic"]), n1, n2) if equal_var else None,
                replicates=_verdict(claim["verdict"], r["p"], _direction_ok(claim, r["diff"])),
                source=source, note=note))
    return rows


def _correlation_rows(claim: pd.Series, design: StudyDesign) -> list[dict]:
    corr = load_correlations()
    group = claim_groups(claim)[0][0]
    on_scale = (corr["variable_y"] == claim["scale"]) | (corr["variable_x"] == claim["scale"])
    match = corr[(corr["group"] == group) & on_scale]
    n = design.population(group)
    if match.empty or n is None:
        return [_row(claim, groups=group, test="pearson r", replicates="n/a",
                     note="no matching correlation in correlations.csv")]
    c = match.iloc[0]
    pair = f"{c['variable_x']} ~ {c['variable_y']} in {group}"
    if pd.isna(c["r"]):
        from scipy import stats

        t_crit = stats.t.ppf(1 - ALPHA / 2, n - 2)
        r_crit = t_crit / (t_crit**2 + n - 2) ** 0.5
        return [_row(claim, groups=pair, test="pearson r", replicates="n/a (no r printed)",
                     source="published: text",
                     note=f"the text gives no r; with n = {n} any |r| >= {r_crit:.3f} is "
                          "significant at .05 (two-sided)")]
    res = pearson_from_r(float(c["r"]), n).iloc[0]
    ok = (res["statistic"] > 0) == (c["direction"] == "positive")
    return [_row(claim, groups=pair, test="pearson r", statistic=res["statistic"], df2=res["df"],
                 p=res["p"], effect=res["r"], effect_name="r", effect_ci_low=res["ci_low"],
                 effect_ci_high=res["ci_high"],
                 replicates=_verdict(claim["verdict"], res["p"], ok),
                 source="published: text r, n from the sample table",
                 note=f"n = {n} (the sample table) assumed; the report gives no n for the "
                      "correlation")]


def _data_correlation_rows(claim: pd.Series, scores: pd.DataFrame, source: str) -> list[dict]:
    from scipy import stats

    from triad.cells import group_values

    corr = load_correlations()
    group = claim_groups(claim)[0][0]
    match = corr[corr["group"] == group]
    match = match[(match["variable_y"] == claim["scale"]) | (match["variable_x"] == claim["scale"])]
    if match.empty:
        return [_row(claim, groups=group, test="pearson r", replicates="n/a")]
    c = match.iloc[0]
    x = group_values(scores, group, c["variable_x"])
    y = group_values(scores, group, c["variable_y"])
    both = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").dropna()
    res = stats.pearsonr(both.iloc[:, 0], both.iloc[:, 1])
    low, high = res.confidence_interval()
    ok = (res.statistic > 0) == (c["direction"] == "positive")
    return [_row(claim, groups=f"{c['variable_x']} ~ {c['variable_y']} in {group}",
                 test="pearson r", statistic=float(res.statistic), df2=len(both) - 2,
                 p=float(res.pvalue), effect=float(res.statistic), effect_name="r",
                 effect_ci_low=float(low), effect_ci_high=float(high),
                 replicates=_verdict(claim["verdict"], float(res.pvalue), ok),
                 source=f"{source}: respondent data", note=f"n = {len(both)}")]


CORRELATION_COLUMNS = ["corr_id", "variable_x", "variable_y", "group", "printed_r", "r",
                       "ci_low", "ci_high", "n", "p", "within_rounding", "location",
                       "data_source"]


def _decimals(value: float) -> int:
    text = f"{value!r}"
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text else 0


def replicate_correlations(scores: pd.DataFrame, data_source: str) -> pd.DataFrame:
    """Every printed correlation (``correlations.csv`` with an r) recomputed from a file.

    Parameters
    ----------
    scores : DataFrame
        Scale scores of the respondent file (:func:`triad.scores.scale_scores`).
    data_source : str
        The file's label (``synthetic`` for the embedded default).

    Returns
    -------
    DataFrame
        Columns :data:`CORRELATION_COLUMNS`: Pearson r over the respondents with both
        values (``scipy.stats.pearsonr``, its 95% CI and p) beside the printed r;
        ``within_rounding`` says whether the file's r rounds to the printed one (half a
        unit of its last printed decimal).
    """
    from scipy import stats

    from triad.cells import group_values

    rows = []
    for _, c in load_correlations().iterrows():
        if pd.isna(c["r"]):
            continue
        x = group_values(scores, c["group"], c["variable_x"])
        y = group_values(scores, c["group"], c["variable_y"])
        both = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").dropna()
        row = {"corr_id": c["corr_id"], "variable_x": c["variable_x"],
               "variable_y": c["variable_y"], "group": c["group"],
               "printed_r": float(c["r"]), "n": len(both), "location": c["location"],
               "data_source": data_source}
        if len(both) > 2:
            res = stats.pearsonr(both["x"], both["y"])
            low, high = res.confidence_interval()
            half = 0.5 * 10 ** -_decimals(float(c["r"]))
            row.update(r=float(res.statistic), ci_low=float(low), ci_high=float(high),
                       p=float(res.pvalue),
                       within_rounding=bool(abs(res.statistic - c["r"]) <= half + 1e-12))
        rows.append(row)
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def replicate_claims(cells: pd.DataFrame | None = None, *, data_source: str = "published",
                     scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Run the replication for every claim of the registry.

    Parameters
    ----------
    cells : DataFrame, optional
        Cells in the published layout; default the report's tables.  Cells summarised
        from a respondent file (:func:`triad.cells.cells_from_scores`, unrounded) give the
        same tests on that file's data: one-way ANOVA, Tukey and t from n/M/SD are exact.
    data_source : str
        Written to ``source`` (e.g. ``synthetic``).
    scores : DataFrame, optional
        Scale scores of the same file, for the correlation claims.

    Returns
    -------
    DataFrame
        Columns :data:`REPLICATION_COLUMNS`; one row per (claim, test, pair).
        Claims without a test (ranges, descriptions) get one row with test ``none``.
    """
    design = StudyDesign(load_cells() if cells is None else cells, load_codebook())
    rows = []
    for _, claim in load_claims().iterrows():
        if claim["kind"] == "difference":
            new = _difference_rows(claim, design)
            if cells is not None:
                for r in new:
                    r["source"] = f"{data_source}: respondent data"
            rows += new
        elif claim["kind"] == "correlation" and scores is not None:
            rows += _data_correlation_rows(claim, scores, data_source)
        elif claim["kind"] == "correlation":
            rows += _correlation_rows(claim, design)
        else:
            rows.append(_row(claim, groups=claim["groups"], test="none",
                             replicates="n/a (no test implied)", source="published",
                             note=f"{claim['kind']} claim; checked against the tables in the "
                                  "audit"))
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def replication_summary(replication: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: the paper's verdict and whether the tests agree.

    ``replicates`` is ``yes`` / ``no`` when all pairwise tests (or the t tests, or the
    correlation test) agree, ``depends on test`` when they differ, ``n/a`` otherwise.
    """
    out = []
    claims = load_claims().set_index("claim_id")
    for cid, part in replication.groupby("claim_id", sort=False):
        pairs = part[part["test"].str.startswith(("post hoc", "t test", "pearson"))]
        omni = part[part["test"] == "ANOVA classic"]
        verdicts = set(pairs["replicates"].dropna())
        if not pairs.empty and all(v == "yes" for v in verdicts):
            rep = "yes"
        elif not pairs.empty and all(v.startswith("no") for v in verdicts):
            rep = "no"
        elif verdicts and any(v.startswith("n/a") for v in verdicts):
            rep = "n/a"
        elif len(verdicts) > 1:
            rep = "depends on test"
        else:
            rep = "n/a"
        out.append({
            "claim_id": cid, "scale": part["scale"].iloc[0],
            "summary_en": claims.loc[cid, "summary_en"],
            "paper_verdict": part["paper_verdict"].iloc[0],
            "anova_p": omni["p"].iloc[0] if len(omni) else None,
            "pair_p_min": pairs["p"].min() if pairs["p"].notna().any() else None,
            "pair_p_max": pairs["p"].max() if pairs["p"].notna().any() else None,
            "replicates": rep,
            "note": part["note"].dropna().iloc[0] if part["note"].notna().any() else "",
        })
    # a study without claims yet (a new study's skeleton) has an empty summary
    return pd.DataFrame(out, columns=["claim_id", "scale", "summary_en", "paper_verdict",
                                      "anova_p", "pair_p_min", "pair_p_max", "replicates",
                                      "note"])


def replication_markdown(replication: pd.DataFrame) -> str:
    """Render the per-claim summary as Markdown for reviewers."""
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"].isin(TESTED + ("not_significant",))]
    counts = tested["replicates"].value_counts()
    lines = [
        "# Replication of the report's significance claims from its tables", "",
        "Provenance: published summary statistics (n, M, SD of the tables); no respondent "
        "data. The report does not say which post hoc test it used, so Tukey-Kramer, "
        "Games-Howell and Bonferroni (pooled and Welch) are all given; `replicates` is "
        "`yes`/`no` when they agree and `depends on test` when they do not.", "",
        f"Claims with a significance verdict: {len(tested)}; " + ", ".join(
            f"{k}: {v}" for k, v in counts.items()), "",
        "| claim | scale | paper | ANOVA p | pairwise p (min-max) | replicates | claim |",
        "|---|---|---|---|---|---|---|",
    ]

    def p(x):
        return "" if x is None or pd.isna(x) else (f"{x:.3f}" if x >= 0.001 else "<.001")

    for _, r in summary.iterrows():
        lines.append(
            f"| {r['claim_id']} | {r['scale']} | {r['paper_verdict']} | {p(r['anova_p'])} | "
            f"{p(r['pair_p_min'])}-{p(r['pair_p_max'])} | {r['replicates']} | "
            f"{r['summary_en']} |")
    lines += ["", "Notes per claim (independence, n used, text vs table) are in "
              "`replication.csv`, column `note`."]
    return "\n".join(lines)
