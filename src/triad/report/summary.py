"""The report's first screen: headline contrasts, what replicates, fragile claims, gates."""

import pandas as pd

from triad.report.formatting import as_float, fmt_ci, fmt_est, fmt_num, fmt_p, fmt_pct, signed
from triad.report.reading import as_str, gates_failed, primary_model_names
from triad.report.tables import as_text
from triad.report.texts import HEADLINE_MAX, TEXT
from triad.report.words import claim_words, contrast_words, in_words


def _interval_svg(rows: list[dict]) -> dict:
    """Add to each headline row a small inline SVG of its HDI on a common axis through 0."""
    ends = [v for r in rows for v in (r["low"], r["high"]) if v is not None] + [0.0]
    lo, hi = min(ends), max(ends)
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    width = 150

    def x(v: float) -> float:
        return round((v - lo) / (hi - lo) * width, 1)

    for r in rows:
        if r["low"] is None or r["high"] is None:
            r["svg"] = None
            continue
        decided = r["conclusion"] in ("higher", "lower")
        r["svg"] = {"width": width, "zero": x(0.0), "a": x(r["low"]), "b": x(r["high"]),
                    "m": x(r["est"]) if r["est"] is not None else None,
                    "colour": "#0072B2" if decided else "#999999"}
    return {"low": signed(lo), "high": signed(hi)}


def headline(contrasts: pd.DataFrame, diag: pd.DataFrame, lang: str) -> dict:
    """Pick each primary model's first named contrast at sector ``all`` (descriptive)."""
    t = TEXT[lang]
    primary = primary_model_names(diag, contrasts)
    if not primary:
        return {"rows": [], "note": "", "axis": None}
    pool = contrasts[contrasts["model"].isin(primary)]
    if "sector" in pool:
        pool = pool[as_str(pool["sector"], "all").eq("all")]
    if "estimand" in pool:
        pool = pool[as_str(pool["estimand"], "descriptive").eq("descriptive")]
    pool = pool[~pool["contrast"].str.endswith("_latent")]
    failed = set(gates_failed(diag))
    picked = [pool[pool["model"] == m].iloc[0] for m in primary if (pool["model"] == m).any()]
    rows = []
    for row in picked[:HEADLINE_MAX]:
        suppressed = str(row.get("suppressed", "")).lower() == "true"
        conclusion = as_text(row.get("conclusion"))
        rows.append({
            "contrast": contrast_words(row["contrast"], None, lang),
            "estimand": as_text(row.get("estimand", "descriptive")),
            "estimate": t["suppressed"] if suppressed else fmt_est(row["estimate"]),
            "ci": t["suppressed"] if suppressed else fmt_ci(row["ci_low"], row["ci_high"]),
            "p_direction": t["suppressed"] if suppressed else fmt_p(row.get("p_direction")),
            "conclusion": t["not_a_finding"] if row["model"] in failed else (
                t["suppressed"] if suppressed else conclusion),
            "model": row["model"], "est": as_float(row["estimate"]),
            "low": None if suppressed else as_float(row["ci_low"]),
            "high": None if suppressed else as_float(row["ci_high"])})
    axis = _interval_svg(rows)
    total = len(contrasts[contrasts["model"].isin(primary)])
    note = t["headline_note"].format(shown=len(rows), total=total)
    if len(picked) > HEADLINE_MAX:
        note += " " + t["and_more"].format(n=len(picked) - HEADLINE_MAX,
                                           section=t["contrasts"])
    return {"rows": rows, "note": note, "axis": axis}


def _agreement_kind(text: str) -> str:
    """Sort a claims.csv ``agreement`` sentence into agrees / not / no evidence / other."""
    if text.startswith("agrees"):
        return "agrees"
    if text.startswith(("not confirmed", "opposite direction", "no difference shown",
                        "differs")):
        return "does not"
    if text.startswith("no evidence"):
        return "no evidence either way"
    return "not compared"


def replication_overview(rep: pd.DataFrame, claims: pd.DataFrame, lang: str,
                         published: pd.DataFrame) -> dict:
    """Count what replicates (from the tables, and Bayesian); list the claims that do not."""
    from triad.replication import replication_summary

    t = TEXT[lang]
    out = {"tables": [], "bayes": [], "not": [], "depends": [], "summary": pd.DataFrame()}
    text_col = "quote_nl" if lang == "nl" else "summary_en"
    words = dict(zip(published["claim_id"], published[text_col], strict=True)) \
        if len(published) else {}
    if len(rep):
        summary = replication_summary(rep)
        out["summary"] = summary
        counts = summary["replicates"].value_counts()
        out["tables"] = [(k, int(counts.get(k, 0))) for k in
                         ("yes", "no", "depends on test", "n/a") if counts.get(k, 0)]
        for _, r in summary[summary["replicates"].eq("no")].iterrows():
            out["not"].append({"claim_id": r["claim_id"], "how": t["from_tables_short"],
                               "what": in_words(words.get(r["claim_id"], ""), lang)})
        # mixed verdicts (some pairwise tests agree, some do not) are named, not spelled out
        out["depends"] = summary.loc[summary["replicates"].eq("depends on test"),
                                     "claim_id"].tolist()
    if len(claims) and "agreement" in claims:
        kinds = as_str(claims["agreement"]).map(_agreement_kind)
        counts = kinds.value_counts()
        out["bayes"] = [(k, int(counts.get(k, 0))) for k in
                        ("agrees", "does not", "no evidence either way", "not compared")
                        if counts.get(k, 0)]
        for _, r in claims[kinds.eq("does not")].iterrows():
            out["not"].append({
                "claim_id": r["claim_id"], "how": "",
                "what": claim_words(r, lang).removeprefix(str(r["claim_id"]) + " ")
                + f" ({t['paper']}: {as_text(r.get('paper_verdict')).replace('_', ' ')}; "
                f"{t['here']}: {as_text(r.get('conclusion'))})"})
    return out


def fragile(claims: pd.DataFrame, share: float, lang: str) -> list[dict]:
    """Return the fragile claims in words, least robust first."""
    if claims.empty or "robust" not in claims:
        return []
    rows = claims[as_str(claims["robust"]).eq("fragile")].sort_values(
        ["robustness", "claim_id"])
    return [{"what": claim_words(r, lang), "conclusion": as_text(r.get("conclusion")),
             "robustness": fmt_pct(r.get("robustness")),
             "agree": f"{int(r['universes_agree'])}/{int(r['universes'])}"
             if as_float(r.get("universes")) is not None
             and as_float(r.get("universes_agree")) is not None else ""}
            for _, r in rows.iterrows()]


def gates(diag: pd.DataFrame) -> dict | None:
    """Return the sampler gates over all fits: passed, failed, worst R-hat and ESS."""
    if diag.empty:
        return None
    failed = gates_failed(diag)

    def worst(col: str, largest: bool):
        if col not in diag or diag[col].dropna().empty:
            return None, ""
        i = diag[col].idxmax() if largest else diag[col].idxmin()
        return diag.loc[i, col], diag.loc[i, "model"]

    rhat, rhat_model = worst("r_hat_max", True)
    bulk, bulk_model = worst("ess_bulk_min", False)
    tail, _ = worst("ess_tail_min", False)
    return {"n": len(diag), "passed": len(diag) - len(failed), "failed": failed,
            "rhat": f"{rhat:.3f}" if rhat is not None else "", "rhat_model": rhat_model,
            "bulk": fmt_num(round(bulk)) if bulk is not None else "", "bulk_model": bulk_model,
            "tail": fmt_num(round(tail)) if tail is not None else "",
            "divergences": int(diag["divergences"].fillna(0).sum())
            if "divergences" in diag else None}
