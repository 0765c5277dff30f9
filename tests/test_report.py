"""The HTML report (triad.report): summary first, words for codes, no silent truncation.

Rendered from a small results folder written here (no model is fitted); the report of a
real pipeline run is checked in headless Chromium by ``tests/test_pipeline.py``.
"""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from triad.report import fmt_ci, fmt_est, fmt_p, write_report

GROUP_KEY = re.compile(r"\w+>\w*@\w+")
N_SECTOR_ROWS = 60  # with the two headline rows: more than one page of 50


class _Visible(HTMLParser):
    """The text a reader sees: everything outside <script> and <style>, unescaped."""

    def __init__(self):
        super().__init__()
        self.skip, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html_text: str) -> str:
    parser = _Visible()
    parser.feed(html_text)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def section(html_text: str, anchor: str) -> str:
    """The HTML from ``<h2 id=anchor>`` to the next ``<h2``."""
    start = html_text.index(f'<h2 id="{anchor}">')
    end = html_text.find("<h2", start + 4)
    return html_text[start:end if end > 0 else None]


def _png(path, colour):
    from PIL import Image

    Image.new("RGBA", (40, 30), colour).save(path)
    return path


def _contrasts() -> pd.DataFrame:
    base = {"scale": "opvoed", "n_a": 114, "n_b": 191, "ci_prob": 0.95, "rope": 0.079,
            "mc_fragile": False, "bf10": 12.3, "data_source": "synthetic",
            "gates_passed": True, "quick": False}
    rows = [dict(base, contrast="opvoed_gap_parent_vs_professional", sector="all",
                 estimand="descriptive", model="metric_opvoed", estimate=0.1577,
                 ci_low=0.021, ci_high=0.291, p_direction=0.9996, p_rope=0.004,
                 conclusion="higher", bf10=np.inf),
            # small-cell protection blanked this row's statistics
            dict(base, contrast="opvoed_gender_gap_professionals_about_parent",
                 sector="special_education", estimand="adjusted", model="metric_opvoed",
                 estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p_direction=np.nan,
                 p_rope=np.nan, conclusion="", n_a=np.nan, n_b=np.nan, suppressed=True)]
    pairs = ["special_education-residential", "ambulatory_daycare-residential",
             "special_education-ambulatory_daycare"]
    for i in range(N_SECTOR_ROWS):
        rows.append(dict(base, contrast="opvoed_sector_diff_parent_about_professional",
                         sector=pairs[i % 3], estimand=("descriptive", "adjusted")[i % 2],
                         model="metric_opvoed", estimate=0.01 * i - 0.3,
                         ci_low=0.01 * i - 0.5, ci_high=0.01 * i - 0.1,
                         p_direction=0.5 + i / 150, p_rope=0.2, conclusion="undecided"))
    # a multiverse variant's rows: in the CSV, read in the sensitivity section
    for sector in ("all", "residential", "special_education", "ambulatory_daycare", "all"):
        rows.append(dict(base, contrast="opvoed_gap_parent_vs_professional", sector=sector,
                         estimand="descriptive", model="metric_opvoed~t", estimate=0.15,
                         ci_low=0.01, ci_high=0.29, p_direction=0.99, p_rope=0.01,
                         conclusion="higher"))
    frame = pd.DataFrame(rows)
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    return frame


def _claims() -> pd.DataFrame:
    common = {"paper_values": "", "direction": "first_lower", "summary_test": "post hoc tukey",
              "bayes_model": "metric_band", "p_rope": 0.01, "rope": 0.06, "gates_passed": True,
              "universes_failed_gates": 0, "universes_loo_rejected": 0,
              "universes_other_data": 1, "data_source": "synthetic", "quick": False}
    return pd.DataFrame([
        dict(common, claim_id="C03", scale="band", group_a="youth>professional@all",
             group_b="social_worker>youth@all", paper_verdict="significant", summary_p=0.008,
             data_test_p=0.007, bayes_estimate=-0.26, bayes_ci_low=-0.41, bayes_ci_high=-0.12,
             p_direction=0.9999, conclusion="lower", agreement="agrees", universes=5,
             universes_agree=5, robustness=1.0, robust="robust", paper_support_share=1.0,
             dissenting_universes=""),
        dict(common, claim_id="C15", scale="band",
             group_a="youth>professional@ambulatory_daycare",
             group_b="youth>professional@residential", paper_verdict="significant",
             direction="first_higher", summary_p=0.034, data_test_p=0.036,
             bayes_estimate=0.29, bayes_ci_low=-0.01, bayes_ci_high=0.58, p_direction=0.973,
             conclusion="undecided", agreement="not confirmed", universes=5,
             universes_agree=1, robustness=0.2, robust="fragile", paper_support_share=0.67,
             dissenting_universes="metric_band~no_pooling: higher"),
    ])


def _replication() -> pd.DataFrame:
    def row(claim, scale, groups, p, replicates):
        return {"claim_id": claim, "scale": scale, "groups": groups, "test": "post hoc tukey",
                "p": p, "paper_verdict": "significant", "replicates": replicates,
                "source": "published", "note": ""}

    return pd.DataFrame([
        row("C03", "band", "youth>professional@all vs social_worker>youth@all", 0.008, "yes"),
        row("C23", "alliantie", "social_worker>youth@ambulatory_daycare vs "
            "teacher>youth@special_education", 0.21, "no (p = 0.210)"),
        row("C05", "doel", "teacher>parent@all vs social_worker>parent@all", 0.04, "yes"),
        row("C05", "doel", "teacher>parent@all vs social_worker>parent@all", 0.07,
            "no (p = 0.070)"),
    ])


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    results, figures = root / "results", root / "figures"
    tables = results / "tables"
    tables.mkdir(parents=True)
    figures.mkdir()
    run = {"started": "2026-12-03T10:24:59", "versions": {"python": "3.12.1"},
           "robust_share": 0.8, "steps": {"models": {"quick": False}},
           "data": {"path": "/x/survey.csv", "sha256": "ab" * 32, "source": "synthetic",
                    "respondents": 479, "answers": 100, "present": 90, "missing": 8,
                    "quarantined": 2},
           "privacy": {"min_cell": 5, "active": True,
                       "suppressed": [{"table": "contrasts.csv", "rows_suppressed": 1}]}}
    (results / "run.json").write_text(json.dumps(run))
    pd.DataFrame({
        "model": ["metric_opvoed", "metric_opvoed~t", "summary_cells"],
        "variant": ["", "t", ""], "family": ["gaussian", "t", "summary_normal"],
        "data_source": ["synthetic", "synthetic", "published"],
        "backend": ["numpyro"] * 3, "r_hat_max": [1.004, 1.006, 1.002],
        "ess_bulk_min": [1510.4, 980.2, 2200.0], "ess_tail_min": [1702.0, 1100.0, 2500.0],
        "divergences": [0, 0, 0], "gates_passed": [True, True, True],
        "gates_failed": ["", "", ""], "quick": [False] * 3,
    }).to_csv(tables / "diagnostics.csv", index=False)
    _contrasts().to_csv(tables / "contrasts.csv", index=False)
    _claims().to_csv(tables / "claims.csv", index=False)
    _replication().to_csv(tables / "replication.csv", index=False)
    audit = pd.DataFrame({
        "check": ["n across tables"] * 70, "tables": ["1,2"] * 70, "scale": [""] * 70,
        "groups": ["youth>professional@all"] * 70, "reported": [179] * 70,
        "expected": [174] * 70,
        "severity": ["inconsistent"] * 55 + ["ok"] * 15,
        "message": ["Table 2 gives n = 179 for youth>professional@all; Table 1 has 174"] * 70})
    audit.to_csv(tables / "audit.csv", index=False)
    pd.DataFrame({"scale": ["opvoed", "opvoed"], "role": ["parent", "parent"],
                  "target": ["professional", "professional"],
                  "sector": ["residential", "special_education"], "mean": [3.71, np.nan],
                  "ci_low": [3.5, np.nan], "ci_high": [3.9, np.nan], "n": [28, np.nan],
                  "model": ["metric_opvoed"] * 2, "data_source": ["synthetic"] * 2,
                  "gates_passed": [True, True], "gender": [np.nan, np.nan],
                  "suppressed": [False, True]}).to_csv(
        tables / "posterior_cell_means.csv", index=False)
    pd.DataFrame({"model": ["metric_opvoed"] * 3,
                  "cell": ["parent>professional@residential", "parent>professional@all",
                           "teacher>parent@special_education"],
                  "statistic": ["sd", "mean", "top_share"], "observed": [0.61, 3.8, 0.42],
                  "replicated": [0.83, 3.79, 0.40], "ppp": [0.004, 0.46, 0.31],
                  "flagged": [True, False, False]}).to_csv(tables / "ppc_cells.csv",
                                                           index=False)
    (results / "methods.md").write_text(
        "# Methods\n\n## 1. Aims and approach\n\nEach question is answered by a model.\n\n"
        "| model | seed |\n|---|---|\n| `metric_opvoed` | 20240601 |\n", encoding="utf-8")
    figs = [_png(figures / "forest_claims.png", (0, 114, 178, 255)),
            _png(figures / "ppc_metric_opvoed.png", (230, 159, 0, 255)),
            _png(figures / "reliability.png", (0, 158, 115, 255))]
    (figures / "forest_claims.csv").write_text("claim_id,estimate\nC03,-0.26\n")
    out = write_report(results, figs, results / "report.html", "en")
    return {"root": root, "results": results, "figures": figs, "html": out.read_text()}


def test_numbers_are_formatted_for_reading():
    assert fmt_p(0.9996) == "> .999" and fmt_p(1.0) == "> .999" and fmt_p(0.999) == ".999"
    assert fmt_p(0.97812) == ".978" and fmt_p(0.0004) == "< .001" and fmt_p(np.nan) == ""
    assert fmt_est(0.1577) == "+0.16" and fmt_est(-0.054) == "\u22120.05"
    assert fmt_est(0.001) == "0.00"
    assert fmt_ci(-0.187, 0.0856) == "[\u22120.19, 0.09]" and fmt_ci(np.nan, 1) == ""


def test_first_screen_holds_headline_replication_fragile_claims_and_gates(run_folder):
    html_text = run_folder["html"]
    summary = html_text[html_text.index('<section id="summary">'):html_text.index("</section>")]
    # nothing but the title, the navigation and the banners comes before it
    assert html_text.index('<section id="summary">') < html_text.index("<h2 id=")
    text = visible(summary)
    # headline: the primary model's first contrast at all sectors, in words
    assert "Parenting competence: parents about professionals minus professionals about " \
           "parents" in text
    assert "+0.16" in text and "[0.02, 0.29]" in text and "> .999" in text
    assert "higher" in text and "<svg" in summary  # the interval figure of the headline rows
    assert "1 of the 62 contrasts of the primary models" in text
    # replication counts and what does not replicate, in words
    assert "Significance claims re-tested from the published tables: 1 yes; 1 no; " \
           "1 depends on test." in text
    assert "C23" in text and "special-education teachers" in text
    assert "1 agrees; 1 does not" in text
    assert "C15 Bond, youths about professionals: ambulatory/day care vs residential " \
           "(paper: significant; here: undecided)" in text
    assert "depends on the test: C05" in text
    # fragile claims and the gates
    assert "Fragile claims" in text and "undecided, 1/5 (20%)" in text
    assert "3 of 3 fits passed" in text and "worst R-hat: 1.006 (metric_opvoed~t)" in text
    assert "divergences: 0" in text
    # the forest figure is the summary's figure, with its data
    assert 'href="../figures/forest_claims.csv"' in summary


def test_groups_are_named_in_words_everywhere(run_folder):
    text = visible(run_folder["html"])
    assert not GROUP_KEY.findall(text)
    # inside free text too (audit messages, replication groups, PPC cells)
    assert "Table 2 gives n = 179 for youths about professionals, all sectors" in text
    assert "parents about professionals, residential" in text


def test_long_table_is_paged_with_its_count_and_csv_link(run_folder):
    part = section(run_folder["html"], "contrasts")
    n = N_SECTOR_ROWS + 2  # the variant's 5 rows are in the CSV only, and said so
    text = visible(part)
    assert f"{n} of the {n + 5} rows of the CSV: the models without multiverse variants" in text
    assert f"Showing rows 1\u201350 of {n}; rows 51\u2013{n} in the collapsed pages below" in text
    assert '<a href="tables/contrasts.csv">contrasts.csv</a>' in part
    # every row is there: the first page open, the rest in <details>
    assert part.count("<details>") == 1 and f"Rows 51\u2013{n} of {n}" in text
    assert part.count("<tr>") == n + 2  # one header row per page
    # the audit shows its rows that are not ok, and says so
    audit = visible(section(run_folder["html"], "audit"))
    assert "55 of the 70 rows of the CSV: the checks that are not ok" in audit


def test_suppressed_values_and_flagged_ppc_cells_are_visible(run_folder):
    html_text = run_folder["html"]
    contrasts = visible(section(html_text, "contrasts"))
    assert "suppressed" in contrasts and "fewer than 5 respondents" in contrasts
    cells = visible(section(html_text, "cells"))
    assert "suppressed" in cells
    ppc = visible(section(html_text, "ppc"))
    assert "1 of the 3 rows of the CSV: the flagged cells" in ppc
    assert "parents about professionals, residential" in ppc and ".004" in ppc
    assert "parents about professionals, all sectors" not in ppc  # not flagged


def test_methods_section_is_included_as_html(run_folder):
    part = section(run_folder["html"], "methods")
    assert "<h3>1. Aims and approach</h3>" in part and "<h2>Methods</h2>" not in part
    assert "<code>metric_opvoed</code>" in part and "<table>" in part


def test_every_figure_is_embedded_once_with_its_links(run_folder):
    html_text = run_folder["html"]
    embedded = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html_text)
    assert sorted(e for e in embedded if not e.startswith("sbc")) == [
        "forest_claims", "ppc_metric_opvoed", "reliability"]
    assert 'href="../figures/reliability.png"' in html_text
    # shown beside its section; the Figures section says where each one is
    assert "reliability" in section(html_text, "reliability")
    index = visible(section(html_text, "figures"))
    assert "reliability : Cronbach's alpha" in index
    assert "(shown in the section Reliability)" in index


def test_banners_for_quick_runs_and_failed_gates(run_folder, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(run_folder["results"], results)
    run = json.loads((results / "run.json").read_text())
    run["steps"]["models"]["quick"] = True
    (results / "run.json").write_text(json.dumps(run))
    diag = pd.read_csv(results / "tables" / "diagnostics.csv")
    diag.loc[0, "gates_passed"] = False
    diag.to_csv(results / "tables" / "diagnostics.csv", index=False)
    html_text = write_report(results, [], results / "report.html", "nl").read_text()
    text = visible(html_text[:html_text.index("</section>")])
    assert "SYNTHETISCHE DATA" in text and "SNELLE RUN" in text
    assert "Samplercontroles MISLUKT voor 1 fit(s): metric_opvoed" in text
    assert "geen bevinding (samplercontroles mislukt)" in text  # the headline row
    assert "ouders over professionals" in text and not GROUP_KEY.findall(visible(html_text))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by .ci/run")
def test_report_opens_in_headless_chromium(run_folder, tmp_path):
    report = run_folder["results"] / "report.html"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    title = re.search(r"<title>([^<]*)</title>", proc.stdout)
    assert title, proc.stderr[-2000:]
    embedded = run_folder["html"].count("<img")
    assert f"[figures {embedded}/{embedded}]" in title.group(1)
