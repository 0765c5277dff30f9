"""Forest plots of the named contrasts and of the tested claims."""

from pathlib import Path

import numpy as np
import pandas as pd

from triad.audit import StudyDesign
from triad.codebook import load_codebook
from triad.figures.common import POSTERIOR, SUMMARY, source_of, styled
from triad.figures.helpers import primary_by_scale, scale_order, sector_key, summary_contrasts
from triad.figures.pages import Block, Series, forest_pages
from triad.figures.words import model_words, pair_label, phrase
from triad.labels import contrast_label, group_label, scale_label, sector_label
from triad.published import load_cells
from triad.summary_tests import ttest_from_summary


def _common_head(labels: list[str]) -> tuple[str, list[str]]:
    """Split labels into their shared head (cut at ': ' or ' (') and what is left of each.

    The contrast labels of one family differ only in their sectors, so the head names
    the family once and each row names its sectors.
    """
    if len(labels) < 2:
        text = labels[0] if labels else ""
        for sep in (" (", ": "):
            if sep in text:
                head, rest = text.rsplit(sep, 1) if sep == " (" else text.split(sep, 1)
                return head, [rest.removesuffix(")")]
        return text, [""]
    prefix = labels[0]
    for other in labels[1:]:
        n = 0
        while n < min(len(prefix), len(other)) and prefix[n] == other[n]:
            n += 1
        prefix = prefix[:n]
    cut = max(prefix.rfind(": "), prefix.rfind(" ("))
    if cut <= 0:
        return "", labels
    sep = 2
    head = prefix[:cut]
    return head, [lab[cut + sep:].removesuffix(")") for lab in labels]


@styled
def forest_contrasts(contrasts: pd.DataFrame, out: Path, lang: str = "en",
                     diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """Forest plot of the named contrasts of each scale's primary model (descriptive).

    Each posterior 95% HDI is drawn over its ROPE band, with the paper's summary-based
    estimate below it (Welch t interval from the published n/M/SD; a paired contrast gets
    the difference of the published means only).  Pages ``forest_contrasts_<k>``.
    """
    if contrasts.empty:
        return []
    desc = contrasts[contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
                     .eq("descriptive") & ~contrasts["contrast"].str.endswith("_latent")]
    primary = primary_by_scale(desc, diagnostics)
    rows = desc[desc["model"].eq(desc["scale"].map(primary))]
    if rows.empty:
        return []
    blocks = []
    for scale in scale_order(rows["scale"]):
        part = rows[rows["scale"] == scale]
        for name in part["contrast"].drop_duplicates():
            fam = part[part["contrast"] == name].copy()
            fam = fam.iloc[sorted(range(len(fam)), key=lambda i: sector_key(
                fam["sector"].iloc[i]))]
            words = [contrast_label(name, s, lang) for s in fam["sector"]]
            head, rest = _common_head(words)
            ref = [summary_contrasts(scale).get((name, s), (np.nan, np.nan, np.nan, ""))
                   for s in fam["sector"]]
            fam = fam.assign(
                label=rest, contrast_label=words, scale_label=scale_label(scale, lang),
                sector_label=[sector_label(s, lang) for s in fam["sector"]],
                model_label=model_words(str(fam["model"].iloc[0]), lang),
                summary_estimate=[r[0] for r in ref], summary_ci_low=[r[1] for r in ref],
                summary_ci_high=[r[2] for r in ref], summary_method=[r[3] for r in ref],
                band_low=-fam["rope"], band_high=fam["rope"],
                ok=fam.get("gates_passed", pd.Series(True, index=fam.index)).astype(bool))
            keep = ["label", "contrast", "contrast_label", "scale", "scale_label", "sector",
                    "sector_label", "estimand", "model", "model_label", "estimate", "ci_low",
                    "ci_high", "rope", "band_low", "band_high", "conclusion",
                    "summary_estimate", "summary_ci_low", "summary_ci_high", "summary_method",
                    "ok", "data_source"]
            blocks.append(Block(head, fam[[c for c in keep if c in fam]], scale))
    series = [Series("estimate", "ci_low", "ci_high", phrase(lang, "bayes"), POSTERIOR, "s", -0.9),
              Series("summary_estimate", "summary_ci_low", "summary_ci_high",
                      phrase(lang, "freq"), SUMMARY, "o", 0.9, point_label=phrase(lang, "paired"))]
    return forest_pages(blocks, name="forest_contrasts", out=out, lang=lang,
                         source=source_of(rows), xlabel=phrase(lang, "difference"), series=series,
                         band_label=phrase(lang, "rope"), label_mm=58.0)


@styled
def forest_claims(claims: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Bayesian HDI beside the frequentist (Welch) CI for every tested claim pair.

    One panel per scale, pages ``forest_claims_<k>``; the ROPE band behind each row.
    """
    tested = claims[claims["paper_verdict"].isin(["significant", "implied_significant",
                                                  "not_significant"])
                    & claims["bayes_estimate"].notna()].drop_duplicates(
        ["scale", "group_a", "group_b"])
    if tested.empty:
        return []
    design = StudyDesign(load_cells(), load_codebook())
    blocks = []
    for scale in scale_order(tested["scale"]):
        part = tested[tested["scale"] == scale]
        recs = []
        for _, r in part.iterrows():
            a, b = design.best(r["group_a"], r["scale"]), design.best(r["group_b"], r["scale"])
            fe = fl = fh = np.nan
            if a is not None and b is not None:
                na = design.population(r["group_a"]) or a["n"]
                nb = design.population(r["group_b"]) or b["n"]
                try:
                    t = ttest_from_summary(na, a["mean"], a["sd"], nb, b["mean"], b["sd"],
                                           equal_var=False).iloc[0]
                    fe, fl, fh = t["diff"], t["ci_low"], t["ci_high"]
                except ValueError:  # a printed SD of 0 or n < 2: no Welch interval
                    pass
            rope = r.get("rope", np.nan)
            recs.append({
                "label": f"{r['claim_id']} {pair_label(r['group_a'], r['group_b'], lang)}",
                "claim_id": r["claim_id"], "scale": scale,
                "scale_label": scale_label(scale, lang), "group_a": r["group_a"],
                "group_a_label": group_label(r["group_a"], lang), "group_b": r["group_b"],
                "group_b_label": group_label(r["group_b"], lang),
                "paper_verdict": r["paper_verdict"], "model": r.get("bayes_model"),
                "bayes_estimate": r["bayes_estimate"], "bayes_ci_low": r["bayes_ci_low"],
                "bayes_ci_high": r["bayes_ci_high"], "conclusion": r.get("conclusion"),
                "welch_estimate": fe, "welch_ci_low": fl, "welch_ci_high": fh,
                "rope": rope, "band_low": -rope, "band_high": rope,
                "ok": bool(r["gates_passed"]), "data_source": r["data_source"]})
        blocks.append(Block(scale_label(scale, lang), pd.DataFrame(recs), scale))
    series = [Series("bayes_estimate", "bayes_ci_low", "bayes_ci_high", phrase(lang, "bayes"),
                      POSTERIOR, "s", -0.9),
              Series("welch_estimate", "welch_ci_low", "welch_ci_high", phrase(lang, "freq"),
                      SUMMARY, "o", 0.9)]
    return forest_pages(blocks, name="forest_claims", out=out, lang=lang,
                         source=source_of(tested), xlabel=phrase(lang, "difference"),
                         series=series, band_label=phrase(lang, "rope"), label_mm=70.0)
