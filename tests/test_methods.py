"""The generated methods section (triad.methods): content, LaTeX structure, multiplicity."""

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from triad.decisions import decide
from triad.fitting import GATES
from triad.methods import (
    BARG_ITEMS,
    SECTIONS,
    decision_rule,
    methods_latex,
    methods_markdown,
    multiplicity,
    multiplicity_note,
    tex_escape,
    write_methods,
)
from triad.paths import models_dir
from triad.specs import load_spec

VERSIONS = {"python": "3.12.1", "triad": "0.1.0", "numpy": "2.5.5", "pandas": "3.1.1"}
SHA = "ab12" * 16


@pytest.fixture(scope="module")
def specs():
    return [load_spec(models_dir() / "metric_inspraak.toml"),
            load_spec(models_dir() / "summary_cells.toml")]


def _claims() -> pd.DataFrame:
    # 6 claim rows, 5 with a Bayesian conclusion (examined); directional: rows 1, 2, 3
    # (row 3's fit failed its gates, so it is not a finding).
    return pd.DataFrame({
        "claim_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "conclusion": ["higher", "lower", "higher", "undecided", "equivalent", None],
        "p_direction": [0.99, 0.97, 0.96, 0.80, 0.55, float("nan")],
        "gates_passed": [True, True, False, True, True, True],
        "data_source": ["synthetic"] * 6,
    })


@pytest.fixture()
def results(tmp_path):
    res = tmp_path / "results"
    tables = res / "tables"
    tables.mkdir(parents=True)
    run = {"versions": VERSIONS,
           "data": {"path": "/x/respondents.csv", "sha256": SHA, "source": "synthetic",
                    "respondents": 479, "answers": 100, "present": 90, "missing": 8,
                    "quarantined": 2},
           "steps": {"models": {"quick": False}}, "privacy": {"min_cell": 0, "active": False}}
    (res / "run.json").write_text(json.dumps(run))
    pd.DataFrame({
        "model": ["metric_inspraak", "summary_cells"], "variant": ["", ""],
        "family": ["gaussian", "summary_normal"], "data_source": ["synthetic", "published"],
        "backend": ["numpyro", "numpyro"], "draws": [750, 1000], "r_hat_max": [1.004, 1.023],
        "ess_bulk_min": [1510.0, 310.0], "ess_tail_min": [1702.0, 388.0],
        "divergences": [0, 3], "gates_passed": [True, False],
        "gates_failed": ["", "R-hat 1.023 > 1.01; bulk ESS 310 < 400; 3 divergences"],
        "seconds": [12.5, 40.25], "quick": [False, False],
    }).to_csv(tables / "diagnostics.csv", index=False)
    pd.DataFrame({"contrast": ["a_gap", "b_gap"], "estimate": [0.2, -0.1],
                  "ci_low": [0.1, -0.3], "ci_high": [0.3, 0.1], "ci_prob": [0.95, 0.95],
                  "p_direction": [0.99, 0.8], "p_rope": [0.3, 0.6], "rope": [0.1, 0.1],
                  "model": ["metric_inspraak", "summary_cells"]}).to_csv(
        tables / "contrasts.csv", index=False)
    _claims().to_csv(tables / "claims.csv", index=False)
    return res


def test_markdown_has_every_formula_prior_seed_and_version(results, specs):
    text = methods_markdown(results, specs)
    for spec in specs:
        assert spec.formula in text
        if spec.sigma_formula:
            assert spec.sigma_formula in text
        for prior in spec.priors.values():
            assert prior["why"].strip() in text
        assert spec.sha256 in text
        assert f"| {spec.sampler['seed']} |" in text
        assert f"| {spec.sampler['target_accept']} |" in text
    for name, version in VERSIONS.items():
        assert f"{name} {version}" in text
    assert SHA in text
    assert "SYNTHETIC data, not the study's" in text
    assert "numpyro" in text
    # the gates are the library's, with their values
    assert f"R-hat <= {GATES['r_hat_max']}" in text
    # the stopping rule's values are the library's (triad.fitting.ESS_STOPPING)
    assert ("after 500 draws per chain, and every 250 after, up to the most in the table, "
            "the chains stop once every gate") in text
    assert "bulk and tail ESS of every parameter reach 500 (the gates' 400" in text
    assert "ROPE (region of practical equivalence): +-0.1 scale points" in text
    assert "95% highest-density interval" in text


def test_failed_gate_is_reported_as_failed(results, specs):
    text = methods_markdown(results, specs)
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("| `summary_cells` | 1000 | 1.023"))
    assert "FAILED" in row and "3 divergences" in row
    ok = next(line for line in lines if line.startswith("| `metric_inspraak` | 750 | 1.004"))
    assert ok.endswith("| passed |")
    assert "Sampler gates FAILED for 1 fit(s): summary_cells" in text
    assert "1 of 2 fits FAILED the gates: summary_cells" in text
    assert "All 2 fits passed" not in text


def test_barg_checklist_maps_every_item(results, specs):
    steps = {item["step"].split(".")[0] for item in BARG_ITEMS}
    assert steps == {"Preamble", "1", "2", "3", "4", "5", "6"}
    text = methods_markdown(results, specs)
    tex = methods_latex(results, specs)
    checklist = text.split("## BARG checklist", 1)[1]
    assert text.rstrip().endswith(checklist.rstrip())  # the text ends with the checklist
    for item in BARG_ITEMS:
        assert item["section"] in SECTIONS
        assert item["status"] in ("covered", "partly", "not applicable")
        assert item["how"] and item["item"]
        number = list(SECTIONS).index(item["section"]) + 1
        assert f"## {number}. {SECTIONS[item['section']]}" in text
        assert f"| {item['id']} |" in checklist and f"section {number} (" in checklist
        assert f"\\label{{sec:methods-{item['section']}}}" in tex
        assert f"\\ref{{sec:methods-{item['section']}}}" in tex


def _strip_escaped(tex: str) -> str:
    """Drop escaped characters, then inline math (where _ and ^ are meant)."""
    return re.sub(r"\$[^$]*\$", "", re.sub(r"\\[{}_%&#$]", "", tex))


def test_latex_is_structurally_sound(results, specs):
    tex = methods_latex(results, specs)
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    plain = _strip_escaped(body)
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    begins = re.findall(r"\\begin\{(\w+)\}", body)
    assert begins == re.findall(r"\\end\{(\w+)\}", body)
    # special characters only escaped: no bare _ % # ^ | anywhere, ~ only before \ref
    for ch in "_%#^|<>":
        assert ch not in plain, ch
    assert not re.search(r"~(?!\\ref)", plain)
    # & only as column separators inside longtables
    outside = re.sub(r"\\begin\{longtable\}.*?\\end\{longtable\}", "", plain, flags=re.S)
    assert "&" not in outside
    for spec in specs:
        assert "\\texttt{" + tex_escape(spec.formula) + "}" in tex
        assert tex_escape(spec.name) in tex and "\\_" in tex_escape(spec.name)
        for prior in spec.priors.values():
            assert tex_escape(prior["why"].strip()) in tex
    assert r"\texttt{score \textasciitilde{} 0 + group\_gender + (1\textbar{}cell)" in tex
    assert r"95\% within 0.15-2.4" in tex  # a why with a percent sign
    assert "SYNTHETIC data, not the study's" in tex
    assert r"\textbf{FAILED (R-hat 1.023 \textgreater{} 1.01" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles(results, specs, tmp_path):
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs,longtable}"
                   "\\begin{document}\n" + methods_latex(results, specs) + "\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_multiplicity_matches_hand_calculation():
    # Hand calculation for _claims():
    #   examined = rows with a conclusion = c1..c5 = 5
    #   directional = higher/lower = c1, c2, c3 = 3; c3's gates failed -> 2 findings
    #   expected sign errors = (1 - .99) + (1 - .97) = 0.01 + 0.03 = 0.04
    #   largest single = 0.03; null benchmark (p_direction >= .95 rule: 10% of contrasts
    #   pass by chance, 5% per direction) = 5 x 0.10 = 0.5
    m = multiplicity(_claims())
    assert (m["examined"], m["directional"], m["gates_failed"], m["findings"]) == (5, 3, 1, 2)
    assert m["expected_sign_errors"] == pytest.approx(0.04)
    assert m["max_sign_error"] == pytest.approx(0.03)
    note = multiplicity_note(_claims())
    assert "5 claim contrasts were examined and 3 directional conclusions" in note
    assert "1 of these are from fits whose sampler gates failed" in note
    assert "here 0.04 of 2" in note
    assert "does not control a family-wise" in note
    assert "Gelman & Tuerlinckx 2000" in note
    assert "SYNTHETIC data, not the study's" in note
    if decision_rule()["name"] == "p_direction":
        assert m["null_benchmark"] == pytest.approx(0.5)


def test_decision_rule_describes_what_decide_does():
    # Guards against drift: the text must describe the rule triad.decisions.decide applies.
    rule = decision_rule(0.95)
    assert decide(0.05, 0.4, 0.1) == "higher" and "HDI excludes 0 and lies above" in (
        rule["conditions"]["higher"])
    assert decide(-0.4, -0.05, 0.1) == "lower" and "lies below" in rule["conditions"]["lower"]
    assert decide(-0.05, 0.05, 0.1) == "equivalent" and "inside the ROPE" in (
        rule["conditions"]["equivalent"])
    assert decide(-0.05, 0.3, 0.1) == "undecided"
    assert rule["conditions"]["higher"].startswith("the 95% HDI")
    assert set(rule["conditions"]) == {"higher", "lower", "equivalent", "undecided"}


def test_write_methods_is_atomic_and_writes_both(results, specs):
    paths = write_methods(results, specs)
    assert set(paths) == {"md", "tex"}
    assert paths["md"].read_text().startswith("# Methods")
    assert "\\section{Methods}" in paths["tex"].read_text()
    assert not list(results.glob("*.tmp"))


def test_estimand_column_is_described(results, specs):
    path = results / "tables" / "contrasts.csv"
    frame = pd.read_csv(path).assign(estimand=["adjusted", "descriptive"])
    frame.to_csv(path, index=False)
    text = methods_markdown(results, specs)
    assert "**adjusted**: counterfactual" in text and "**descriptive**" in text
    assert "no estimand column" not in text


def test_report_includes_methods_and_multiplicity(results, specs):
    from triad.report import write_report

    # the columns the report's other sections show
    tables = results / "tables"
    contrasts = pd.read_csv(tables / "contrasts.csv")
    contrasts.assign(sector="all", bf10=1.0, data_source="synthetic",
                     gates_passed=True).to_csv(tables / "contrasts.csv", index=False)
    claims = pd.read_csv(tables / "claims.csv")
    claims.assign(scale="s", group_a="a", group_b="b", paper_values="", paper_verdict="",
                  summary_p=0.01, data_test_p=0.02, bayes_estimate=0.1, bayes_ci_low=0.0,
                  bayes_ci_high=0.2, agreement="").to_csv(tables / "claims.csv", index=False)
    write_methods(results, specs)
    html_text = write_report(results, [], results / "report.html").read_text()
    assert '<h2 id="methods">Methods</h2>' in html_text
    # methods.md rendered as HTML, its headings one level below the report's
    assert "<h3>10. Multiplicity</h3>" in html_text
    claims_part = html_text.split('<h2 id="claims">Claim by claim</h2>', 1)[1].split("<h2", 1)[0]
    assert "<b>Multiplicity.</b> 5 claim contrasts were examined" in claims_part
