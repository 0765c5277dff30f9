"""Claim-by-claim comparison: the paper, the summary-statistic test, the Bayesian contrast.

One row per (claim, pair of groups).  The frequentist columns come from
:mod:`triad.replication` (published tables); the Bayesian ones from the primary
respondent-data model of the claim's scale (a Gaussian metric model) and from the
summary-statistic model of the published cells.  ``agreement`` says in a few
words where the three differ.  Rows computed from synthetic data say so in
``data_source`` and must not be read as findings about the study.
"""

import numpy as np
import pandas as pd

from triad.decisions import paper_reading
from triad.multiverse import (
    FRAGILE_BELOW,
    ROBUSTNESS_COLUMNS,
    claim_universes,
    robustness_columns,
)
from triad.published import claim_groups, load_claims

__all__ = ["CLAIMS_COLUMNS", "claims_table", "primary_models", "claims_markdown", "claims_latex"]

CLAIMS_COLUMNS = [
    "claim_id", "scale", "group_a", "group_b", "paper_values", "paper_verdict", "direction",
    "summary_test", "summary_p", "summary_replicates", "data_test_p", "data_replicates",
    "bayes_model", "bayes_estimate",
    "bayes_ci_low", "bayes_ci_high", "p_direction", "p_rope", "rope", "conclusion",
    "p_direction_mcse", "mc_fragile", "gates_passed",
    "summary_model_estimate", "summary_model_ci_low", "summary_model_ci_high", "agreement",
    *ROBUSTNESS_COLUMNS, "data_source", "quick",
]
TESTED = ("significant", "implied_significant")
# The post hoc test shown for 3+ group families (the report names none; Tukey-Kramer is
# SPSS's usual choice); the others are in replication.csv.
PRIMARY_TEST = ("post hoc tukey", "t test (Student)", "pearson r")


def primary_models(diag: pd.DataFrame, claim_rows: pd.DataFrame) -> dict:
    """Scale -> the Gaussian respondent model covering it (fewest scales, then name).

    Multiverse variants (``diag['variant']`` not empty) and the all-gaps universe
    (:func:`triad.gaps.gap_universes`, which read the gap claims only) are never primary.
    """
    from triad.gaps import gap_universes

    out = {}
    fam = dict(zip(diag["model"], diag["family"], strict=True))
    src = dict(zip(diag["model"], diag["data_source"], strict=True))
    var = dict(zip(diag["model"], diag["variant"].fillna(""), strict=True)) if (
        "variant" in diag) else {}
    candidates = claim_rows[claim_rows["model"].map(fam).eq("gaussian")
                            & claim_rows["model"].map(src).ne("published")
                            & claim_rows["model"].map(var).fillna("").eq("")
                            & ~claim_rows["model"].isin(gap_universes())]
    for scale, part in candidates.groupby("scale"):
        sizes = part.groupby("model")["scale"].nunique()
        out[scale] = sorted(part["model"].unique(), key=lambda m: (sizes[m], m))[0]
    return out


def _agreement(paper: str, direction: str, summary_rep: str, conclusion: str,
               gates: bool) -> str:
    """Read the conclusion against the paper's verdict (:func:`triad.decisions.paper_reading`)."""
    if not gates:
        return "no Bayesian finding: sampler gates failed"
    if conclusion == "":
        return "no Bayesian contrast for these groups"
    if paper not in (*TESTED, "not_significant"):
        return "descriptive claim: no test to agree with"
    base = paper_reading(conclusion, paper, direction)
    if summary_rep and summary_rep.startswith("no"):
        base += "; the summary-statistic test does not replicate either"
    return base


def _pick(table: pd.DataFrame | None, claim_id: str, group_b: str | None):
    if table is None:
        return None
    rows = table[(table["claim_id"] == claim_id) & table["test"].isin(PRIMARY_TEST)]
    if group_b is not None:
        rows = rows[rows["groups"].str.contains(group_b, regex=False)]
    return rows.iloc[0] if len(rows) else None


def claims_table(replication: pd.DataFrame, claim_rows: pd.DataFrame, diag: pd.DataFrame,
                 *, quick: bool = False, data_tests: pd.DataFrame | None = None,
                 universes: pd.DataFrame | None = None,
                 fragile_below: float = FRAGILE_BELOW) -> pd.DataFrame:
    """Build the claim-by-claim comparison table.

    Parameters
    ----------
    replication : DataFrame
        :func:`triad.replication.replicate_claims` output (published tables).
    claim_rows : DataFrame
        Bayesian claim contrasts of every fitted model
        (:func:`triad.contrasts.claim_contrasts`, plus ``gates_passed``).
    diag : DataFrame
        One row per model with ``model, family, data_source, gates_passed``.
    quick : bool
        Whether the fits were quick smoke runs.
    data_tests : DataFrame, optional
        The same tests on the respondent data (``replicate_claims(cells=...)``).
    universes : DataFrame, optional
        :func:`triad.multiverse.claim_universes` of these rows, when the caller already
        has it (computed here otherwise).
    fragile_below : float
        Robustness share below which a claim is called fragile.

    Returns
    -------
    DataFrame
        Columns :data:`CLAIMS_COLUMNS`.
    """
    primary = primary_models(diag, claim_rows)
    summary_models = set(diag.loc[diag["data_source"].eq("published"), "model"])
    rows = []
    for _, claim in load_claims().iterrows():
        pairs = claim_groups(claim)
        if claim["kind"] not in ("difference", "correlation") or not pairs:
            continue
        others = pairs[1:] if claim["kind"] == "difference" else [(None, None)]
        for group_b, quoted_b in others:
            group_a, quoted_a = pairs[0]
            rep_row = _pick(replication, claim["claim_id"], group_b)
            data_row = _pick(data_tests, claim["claim_id"], group_b)
            bayes = claim_rows[(claim_rows["claim_id"] == claim["claim_id"])
                               & (claim_rows["group_b"] == group_b)]
            main = bayes[bayes["model"] == primary.get(claim["scale"])]
            summ = bayes[bayes["model"].isin(summary_models)]
            b = main.iloc[0] if len(main) else None
            s = summ.iloc[0] if len(summ) else None
            conclusion = b["conclusion"] if b is not None else ""
            gates = bool(b["gates_passed"]) if b is not None else True
            summary_rep = rep_row["replicates"] if rep_row is not None else ""
            quoted = [q for q in (quoted_a, quoted_b) if q is not None]
            rows.append({
                "claim_id": claim["claim_id"], "scale": claim["scale"], "group_a": group_a,
                "group_b": group_b or "", "paper_values": " vs ".join(f"{q:g}" for q in quoted),
                "paper_verdict": claim["verdict"], "direction": claim["direction"],
                "summary_test": rep_row["test"] if rep_row is not None else "",
                "summary_p": rep_row["p"] if rep_row is not None else np.nan,
                "summary_replicates": summary_rep,
                "data_test_p": data_row["p"] if data_row is not None else np.nan,
                "data_replicates": data_row["replicates"] if data_row is not None else "",
                "bayes_model": b["model"] if b is not None else "",
                "bayes_estimate": b["estimate"] if b is not None else np.nan,
                "bayes_ci_low": b["ci_low"] if b is not None else np.nan,
                "bayes_ci_high": b["ci_high"] if b is not None else np.nan,
                "p_direction": b["p_direction"] if b is not None else np.nan,
                "p_rope": b["p_rope"] if b is not None else np.nan,
                "rope": b["rope"] if b is not None else np.nan,
                "conclusion": conclusion,
                "p_direction_mcse": b["p_direction_mcse"] if b is not None else np.nan,
                "mc_fragile": bool(b["mc_fragile"]) if b is not None else False,
                "gates_passed": gates,
                "summary_model_estimate": s["estimate"] if s is not None else np.nan,
                "summary_model_ci_low": s["ci_low"] if s is not None else np.nan,
                "summary_model_ci_high": s["ci_high"] if s is not None else np.nan,
                "agreement": _agreement(claim["verdict"], claim["direction"], summary_rep,
                                        conclusion, gates) if claim["kind"] == "difference"
                else "correlation: see replication.csv",
                "data_source": b["data_source"] if b is not None else "published",
                "quick": quick,
            })
    table = pd.DataFrame(rows, columns=[c for c in CLAIMS_COLUMNS
                                        if c not in ROBUSTNESS_COLUMNS])
    if universes is None:
        universes = claim_universes(claim_rows, diag, primary)
    table = robustness_columns(table, universes, fragile_below=fragile_below)
    return table[CLAIMS_COLUMNS]


def claims_markdown(claims: pd.DataFrame) -> str:
    """Render the comparison for reviewers, with the data-source warning first."""
    sources = sorted(set(claims["data_source"]))
    lines = ["# Claims: paper vs summary-statistic test vs Bayesian contrast", ""]
    if "synthetic" in sources:
        lines += ["**The Bayesian columns are computed from SYNTHETIC data reconstructed from "
                  "the published tables, not from the study's respondents: they show what the "
                  "models do with data that reproduce the tables, not findings about the "
                  "study.**", ""]
    if claims["quick"].any():
        lines += ["**Quick run: few draws; intervals are rough.**", ""]
    lines += ["| claim | scale | groups | paper | p (tables) | p (data) | "
              "Bayes estimate [95% HDI] | agreement |", "|---|---|---|---|---|---|---|---|"]

    def fmt(x: float) -> str:
        return "" if pd.isna(x) else (f"{x:.3f}" if x >= .001 else "<.001")

    for _, r in claims.iterrows():
        p = f"{fmt(r['summary_p'])} | {fmt(r['data_test_p'])}"
        est = "" if pd.isna(r["bayes_estimate"]) else (
            f"{r['bayes_estimate']:+.2f} [{r['bayes_ci_low']:+.2f}, {r['bayes_ci_high']:+.2f}]"
            + ("" if r["gates_passed"] else " NOT A FINDING (gates)"))
        groups = f"{r['group_a']} vs {r['group_b']}" if r["group_b"] else r["group_a"]
        lines.append(f"| {r['claim_id']} | {r['scale']} | {groups} | {r['paper_verdict']} "
                     f"{r['paper_values']} | {p} | {est} | {r['agreement']} |")
    return "\n".join(lines)


def claims_latex(claims: pd.DataFrame) -> str:
    """Render the comparison as a LaTeX longtable (booktabs) for a paper's appendix."""
    cols = {"claim_id": "Claim", "scale": "Scale", "group_a": "Group A", "group_b": "Group B",
            "paper_verdict": "Paper", "summary_p": "$p$ (tables)", "data_test_p": "$p$ (data)",
            "bayes_estimate": "Estimate", "bayes_ci_low": "HDI low", "bayes_ci_high": "HDI high",
            "agreement": "Agreement"}
    table = claims[list(cols)].rename(columns=cols)
    caption = "Claims of the report: published tables, respondent data and Bayesian contrasts."
    if "synthetic" in set(claims["data_source"]):
        caption += (" Respondent-level columns are from SYNTHETIC data reconstructed from the "
                    "published tables, not findings about the study.")
    body = table.style.format(precision=3, na_rep="", escape="latex").hide(
        axis="index").to_latex(environment="longtable", hrules=True, caption=caption,
                               label="tab:claims")
    return body + "\n"
