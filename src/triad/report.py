"""The HTML report: one self-contained file, figures embedded, sections for reviewers."""

import base64
import html
import json
from pathlib import Path

import pandas as pd

__all__ = ["write_report"]

TEXT = {
    "en": {"title": "triad re-analysis of the youth-parent-professional partnership study",
           "data": "Data and provenance", "audit": "Audit of the report",
           "replication": "Replication of the claims from the published tables",
           "bayes": "Bayesian contrasts", "claims": "Claim by claim",
           "diagnostics": "Diagnostics", "reliability": "Reliability",
           "reproduce": "How to reproduce", "sensitivity": "Sensitivity",
           "methods": "Methods",
           "synthetic": "SYNTHETIC DATA: the respondent-level results below come from a data set "
                        "reconstructed from the published tables, not from the study's "
                        "respondents. They show what the models do with data that reproduce the "
                        "tables; they are not findings about the study.",
           "quick": "QUICK RUN: few draws per model; intervals are rough.",
           "gates_failed": "Sampler gates FAILED for: {models}. Their contrasts are not "
                           "findings.",
           "gates_ok": "All models passed the sampler gates (R-hat <= 1.01, bulk and tail ESS "
                       ">= 400, no divergences)."},
    "nl": {"title": "triad-heranalyse van het onderzoek naar partnerschap tussen jeugdigen, "
                    "ouders en professionals",
           "data": "Data en herkomst", "audit": "Controle van het rapport",
           "replication": "Replicatie van de claims uit de gepubliceerde tabellen",
           "bayes": "Bayesiaanse contrasten", "claims": "Claim voor claim",
           "diagnostics": "Diagnostiek", "reliability": "Betrouwbaarheid",
           "reproduce": "Reproduceren", "sensitivity": "Gevoeligheid",
           "methods": "Methoden",
           "synthetic": "SYNTHETISCHE DATA: de resultaten op respondentniveau hieronder komen "
                        "uit een dataset die uit de gepubliceerde tabellen is gereconstrueerd, "
                        "niet uit de respondenten van het onderzoek. Het zijn geen bevindingen "
                        "over het onderzoek.",
           "quick": "SNELLE RUN: weinig trekkingen per model; intervallen zijn grof.",
           "gates_failed": "Samplercontroles MISLUKT voor: {models}. Hun contrasten zijn geen "
                           "bevindingen.",
           "gates_ok": "Alle modellen doorstonden de samplercontroles (R-hat <= 1,01, bulk- en "
                       "staart-ESS >= 400, geen divergenties)."},
}

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.78em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
th{background:#f3f3f3} .banner{background:#fde7d9;border:2px solid #D55E00;padding:.7em;
font-weight:bold} .fail{color:#b00;font-weight:bold} img{max-width:100%;margin:.5em 0}
.note{font-size:.85em;color:#555}
"""

# After load, the title records how many figures decoded, so a headless browser can check it.
SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.title = document.title + ' [figures ' + ok + '/' + imgs.length + ']';
});
</script>"""


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, max_rows: int = 200) -> str:
    from triad.bayes_factors import format_bf

    shown = frame.head(max_rows).copy()
    # Bayes factors are printed as '> 1000' / '< 1/1000' beyond those bounds, never 'inf'
    for col in ("bf10", "bf10_half", "bf10_double"):
        if col in shown:
            shown[col] = [format_bf(v) if isinstance(v, int | float) and not pd.isna(v) else ""
                          for v in shown[col]]
    text = shown.to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="",
                         border=0, escape=True)
    if len(frame) > max_rows:
        text += f'<p class="note">{len(frame) - max_rows} more rows in the CSV.</p>'
    return text


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def _estimands_and_rope(contrasts: pd.DataFrame, fig: dict) -> list:
    """Explain the estimand labels, the decision rule and the ROPE of the contrasts table."""
    from triad.decisions import CI_PROB, RULE_TEXT
    from triad.estimands import STANDARD_WEIGHTS

    out = ["<p><b>Estimands.</b> Each contrast row says what it estimates (column "
           "<code>estimand</code>): <i>descriptive</i>, the as-sampled difference of the two "
           "groups' average fitted values (what the report's cell means compare, sector and "
           "age mix included); <i>adjusted</i>, the counterfactual average comparison: each "
           "person's gender switched (male minus female), or age raised by one SD or by 5 "
           "years, with cell, sector and everything else kept; <i>standardised</i>, a pooled "
           f"gap with {html.escape(STANDARD_WEIGHTS)}. Gaps are the first-named group minus "
           "the second (youth minus professional).</p>",
           f"<p><b>Decision rule</b> (every table, figure and share): "
           f"{html.escape(RULE_TEXT.format(ci=CI_PROB))}. <code>mc_fragile</code> flags a "
           "conclusion whose deciding HDI end lies within 2 Monte Carlo SEs of its "
           "boundary.</p>"]
    if {"rope", "scale"} <= set(contrasts.columns):
        estimand = contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
        ropes = contrasts[estimand.eq("descriptive")].dropna(subset=["rope"])
        per_scale = ropes.groupby("scale")["rope"].first().round(3)
        out.append("<p><b>ROPE.</b> Half-width 0.1 pooled within-group SD of each scale (a "
                   "negligible standardised difference, Kruschke 2018), or the minimal "
                   "important difference the codebook declares for a scale; here: "
                   + ", ".join(f"{html.escape(str(k))} &plusmn;{v:g}"
                               for k, v in per_scale.items())
                   + " points. P(ROPE) over widths of 0.05-0.3 SD is in "
                   "<code>rope_sensitivity.csv</code> and the figure below.</p>")
    if "rope_sensitivity" in fig:
        out.append(_img(fig["rope_sensitivity"]))
    return out


def _robust_share(tables: Path) -> float:
    """Return the fragility threshold the run used (``run.json``), else the default."""
    from triad.multiverse import FRAGILE_BELOW

    record = tables.parent / "run.json"
    if record.is_file():
        return float(json.loads(record.read_text()).get("robust_share", FRAGILE_BELOW))
    return FRAGILE_BELOW


def _sensitivity(tables: Path, fig: dict, diag: pd.DataFrame, claims: pd.DataFrame) -> list:
    """Render the 'Sensitivity' section: multiverse, prior sensitivity, LOO, SBC, design."""
    from triad.decisions import CI_PROB, RULE_TEXT
    from triad.multiverse import LOO_REJECT_ELPD
    from triad.sensitivity import PSENS_THRESHOLD

    share = _robust_share(tables)
    out = ["<h3>Multiverse of analytic choices</h3>",
           f"<p>Every claim's Bayesian conclusion ({html.escape(RULE_TEXT.format(ci=CI_PROB))}"
           ") is re-read in each universe: the primary Gaussian model, a Student-t likelihood, "
           "one residual SD, no pooling of the sector cells, priors half and twice as wide "
           "(<code>models/multiverse/variants.toml</code>), the item-level ordinal logit and "
           "probit models (Inspraak) and the summary-statistic model of the published cells. "
           "Robustness is the share of the <i>other</i> universes (the primary is not counted) "
           "that reach the primary's conclusion, among those whose sampler gates passed and "
           f"that LOO does not clearly reject (elpd more than {LOO_REJECT_ELPD:g} and 2 SE "
           "below the best model on the same observations: shown, not counted); below "
           f"{share:.0%} (<code>--robust-share</code>) a claim is called <b>fragile</b>.</p>"]
    if "multiverse_grid" in fig:
        out.append(_img(fig["multiverse_grid"]))
    if len(claims) and "robustness" in claims:
        shown = claims[claims["conclusion"].fillna("").ne("")].sort_values(
            ["robustness", "claim_id"])
        counts = shown["robust"].value_counts()
        out.append("<p>" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + " claim pairs."
                   "</p>")
        out.append(_table(shown[["claim_id", "scale", "group_a", "group_b", "paper_verdict",
                                 "conclusion", "universes", "universes_agree",
                                 "robustness", "robust", "universes_failed_gates",
                                 "universes_loo_rejected",
                                 "paper_support_share", "dissenting_universes"]]))
    out.append("<h3>Prior sensitivity (power-scaling)</h3>"
               "<p>Power-scaling of the top-level priors and of the likelihood (Kallioinen et "
               "al. 2023, <code>arviz.psense</code>): a quantity whose posterior moves by a "
               f"cumulative Jensen-Shannon distance &ge; {PSENS_THRESHOLD:g} is flagged, as "
               "prior-data conflict (both sensitive) or strong prior / weak likelihood. "
               "Every quantity is in <code>prior_sensitivity.csv</code>.</p>")
    sens = _read(tables / "prior_sensitivity.csv")
    if len(diag) and "psens_prior_max" in diag:
        out.append(_table(diag[["model", "psens_prior_max", "psens_likelihood_max",
                                "psens_flagged", "psens_flagged_contrasts", "gates_passed"]]))
    if len(sens):
        flagged = sens[sens["diagnosis"].fillna("").ne("") & sens["kind"].eq("contrast")]
        if len(flagged):
            out.append("<p>Flagged contrasts:</p>" + _table(flagged))
        else:
            out.append("<p>No contrast is flagged in any model.</p>")
    out.append("<h3>Leave-one-out cross-validation</h3>"
               "<p>PSIS-LOO (<code>arviz.loo</code>, <code>arviz.compare</code>) compares only "
               "models fitted to identical observations (the same respondents' scale scores, "
               "or the same item answers); item-level and scale-level models are never "
               "compared. Pareto k above the threshold makes an elpd unreliable.</p>")
    loo = _read(tables / "loo_compare.csv")
    if len(loo):
        out.append(_table(loo.drop(columns=["data_key"], errors="ignore")))
    out.extend(_sbc_and_design(tables.parent))
    return out


def _sbc_and_design(results: Path) -> list:
    """Simulation-based calibration (stored run) and the next-wave design simulation."""
    from triad.design import design_summary_for_report
    from triad.paths import repo_root
    from triad.sbc import sbc_summary_for_report

    out = ["<h3>Simulation-based calibration</h3>"]
    # a run of scripts/sbc.py into this results folder wins over the committed full run
    folder = next((f for f in (results / "sbc", repo_root() / "bench" / "sbc")
                   if (f / "uniformity.csv").is_file()), None)
    if folder is None:
        out.append("<p>No SBC run found (<code>python scripts/sbc.py</code>).</p>")
    else:
        out.append("<p>Talts et al. (2018): parameters drawn from the prior, data from the "
                   "prior predictive on the study's design, the model refitted, and the rank "
                   "of each true value among the posterior draws recorded; a calibrated "
                   "model gives uniform ranks (chi-square test per quantity, Bonferroni "
                   f"over a model's quantities at 1%). From <code>{html.escape(str(folder))}"
                   "</code> (the command is in its <code>sbc.json</code>/README).</p>")
        out.append(_table(sbc_summary_for_report(folder)))
        out.extend(_img(png) for png in sorted(folder.glob("*.png")))
    out.append("<h3>Design of a next survey wave</h3>")
    design = results / "design"
    summary = design_summary_for_report(design)
    if summary.empty:
        out.append("<p>Not run (it needs the <code>metric_inspraak</code> fit).</p>")
        return out
    record = json.loads((design / "design.json").read_text())
    out.append("<p>Respondents per cell (youths and professionals, per sector) needed so "
               "that a stand-alone analysis of a new wave finds the Inspraak gap with "
               "p_direction &ge; .95 with probability &ge; .8 (assurance), over the "
               f"posterior of <code>{html.escape(str(record.get('model')))}</code> "
               f"({html.escape(str(record.get('data_source')))} data; "
               f"{record.get('n_draws')} posterior draws x {record.get('reps')} simulated "
               "waves each). The analysis of a simulated wave is the Welch-Satterthwaite "
               "t posterior under the reference prior (<code>triad.design</code>).</p>")
    out.append(_table(summary))
    png = design / "design_assurance.png"
    if png.is_file():
        out.append(_img(png))
    return out


def write_report(results: Path, figures: list[Path], out: Path, lang: str = "en") -> Path:
    """Write ``report.html`` from a run's tables and figures.

    Parameters
    ----------
    results : Path
        The run's ``results/`` folder (``tables/`` and ``run.json`` inside).
    figures : list of Path
        PNG files to embed.
    out : Path
        The HTML file to write.
    lang : {"en", "nl"}

    Returns
    -------
    Path
    """
    t = TEXT[lang]
    tables = results / "tables"
    run = json.loads((results / "run.json").read_text()) if (results / "run.json").is_file() \
        else {}
    diag = _read(tables / "diagnostics.csv")
    claims = _read(tables / "claims.csv")
    fig = {p.stem: p for p in figures}
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
             f"<title>{html.escape(t['title'])}</title><style>{CSS}</style>{SCRIPT}</head><body>",
             f"<h1>{html.escape(t['title'])}</h1>"]
    source = run.get("data", {}).get("source", "")
    if source == "synthetic":
        parts.append(f"<p class='banner'>{html.escape(t['synthetic'])}</p>")
    if run.get("steps", {}).get("models", {}).get("quick"):
        parts.append(f"<p class='banner'>{html.escape(t['quick'])}</p>")

    parts.append(f"<h2>{t['data']}</h2>")
    if run.get("data"):
        d = run["data"]
        parts.append(f"<p>File <code>{html.escape(Path(d['path']).name)}</code> (source: "
                     f"<b>{html.escape(d['source'])}</b>, sha256 {d['sha256'][:12]}...): "
                     f"{d['respondents']} respondents; {d['answers']} answers = {d['present']} "
                     f"present + {d['missing']} missing + {d['quarantined']} quarantined.</p>")
    privacy = run.get("privacy")
    if privacy is not None:
        if privacy.get("active"):
            sup = privacy.get("suppressed") or []
            what = "; ".join(f"{n['table']}: {n['rows_suppressed']} rows" for n in sup) or \
                "nothing was suppressed"
            parts.append(f"<p><b>Small-cell protection:</b> every statistic of a group with "
                         f"fewer than {privacy['min_cell']} respondents is suppressed in the "
                         f"tables, the figures and this report ({html.escape(what)}). No output "
                         "contains respondent-level rows or ids.</p>")
        else:
            parts.append("<p><b>Small-cell protection is off</b>"
                         + (" for the synthetic data set, which describes nobody"
                            if source == "synthetic" else "") +
                         " (<code>--min-cell N</code> turns it on). No output contains "
                         "respondent-level rows or ids.</p>")
    cells = _read(tables / "cells.csv")
    if len(cells):
        t1 = cells[cells["table"] == 1].pivot_table(index="role", columns="sector", values="n",
                                                    aggfunc="first")
        parts.append(_table(t1.reset_index()))
    parts.append("<p class='note'>Published numbers come from the report (Tables 1-12); "
                 "every table row below says which.</p>")

    parts.append(f"<h2>{t['audit']}</h2>")
    audit = _read(tables / "audit.csv")
    if len(audit):
        counts = audit["severity"].value_counts()
        parts.append("<p>" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + "</p>")
        parts.append(_table(audit[audit["severity"] != "ok"][
            ["check", "tables", "scale", "groups", "reported", "expected", "severity",
             "message"]]))

    parts.append(f"<h2>{t['replication']}</h2>")
    rep = _read(tables / "replication.csv")
    if len(rep):
        from triad.replication import replication_summary

        parts.append(_table(replication_summary(rep)[
            ["claim_id", "scale", "summary_en", "paper_verdict", "anova_p", "pair_p_min",
             "pair_p_max", "replicates"]]))

    parts.append(f"<h2>{t['bayes']}</h2>")
    for name in ("forest_claims", "heatmap_cell_means", "belangrijk_lukt"):
        if name in fig:
            parts.append(_img(fig[name]))
    contrasts = _read(tables / "contrasts.csv")
    if len(contrasts):
        parts.extend(_estimands_and_rope(contrasts, fig))
        gaps = contrasts[contrasts["contrast"].str.contains("gap|minus|age")]
        parts.append(_table(gaps[[c for c in (
            "contrast", "sector", "estimand", "estimate", "ci_low", "ci_high", "p_direction",
            "rope", "p_rope", "conclusion", "mc_fragile", "bf10", "model", "data_source",
            "gates_passed") if c in gaps]]))

    parts.append(f"<h2>{t['claims']}</h2>")
    if len(claims):
        parts.append(_table(claims[["claim_id", "scale", "group_a", "group_b", "paper_values",
                                    "paper_verdict", "summary_p", "data_test_p",
                                    "bayes_estimate", "bayes_ci_low", "bayes_ci_high",
                                    "agreement", "data_source"]]))
        if "conclusion" in claims:
            from triad.methods import multiplicity_note

            parts.append(f"<p><b>Multiplicity.</b> {html.escape(multiplicity_note(claims))}</p>")

    parts.append(f"<h2>{t['diagnostics']}</h2>")
    if len(diag):
        failed = diag.loc[~diag["gates_passed"].astype(bool), "model"].tolist()
        if failed:
            parts.append(f"<p class='fail'>{html.escape(t['gates_failed'].format(models=', '.join(failed)))}</p>")  # noqa: E501
        else:
            parts.append(f"<p>{html.escape(t['gates_ok'])}</p>")
        parts.append(_table(diag[[c for c in (
            "model", "family", "data_source", "backend", "r_hat_max", "ess_bulk_min",
            "ess_tail_min", "divergences", "gates_passed", "psens_prior_max",
            "psens_likelihood_max", "psens_flagged", "pareto_k_max", "pareto_k_bad",
            "wall_seconds") if c in diag]]))
    parts.extend(_img(fig[name]) for name in sorted(fig) if name.startswith("ppc_"))

    parts.append(f"<h2>{t['sensitivity']}</h2>")
    parts.extend(_sensitivity(tables, fig, diag, claims))

    parts.append(f"<h2>{t['reliability']}</h2>")
    if "reliability" in fig:
        parts.append(_img(fig["reliability"]))

    methods = results / "methods.md"
    if methods.is_file():
        # the text authors paste (results/methods.md; methods.tex beside it)
        parts.append(f"<h2>{t['methods']}</h2><p class='note'>results/methods.md and "
                     "results/methods.tex:</p><pre style='white-space:pre-wrap'>"
                     f"{html.escape(methods.read_text(encoding='utf-8'))}</pre>")

    parts.append(f"<h2>{t['reproduce']}</h2>")
    versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
    parts.append("<pre>pip install -e . &amp;&amp; python scripts/fit_all.py</pre>"
                 f"<p class='note'>Versions: {html.escape(versions)}. Every fit's seed, sampler "
                 "arguments and library versions are in results/fits/*/*/fit.json.</p>")
    parts.append("</body></html>")
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out
