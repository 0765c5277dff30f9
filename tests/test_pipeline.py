"""The main job end to end (one small model) and the claims comparison logic."""

import html
import io
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from rich.console import Console

from triad.claims import _agreement
from triad.pipeline import run_all


def test_agreement_reads_the_one_rule_against_the_paper():
    assert _agreement("significant", "first_lower", "yes", "lower", True) == "agrees"
    assert _agreement("significant", "first_higher", "yes", "lower",
                      True) == "opposite direction"
    assert _agreement("significant", "first_lower", "no", "undecided", True) == (
        "not confirmed; the summary-statistic test does not replicate either")
    # not significant in the paper and undecided here: no evidence, not agreement
    assert _agreement("not_significant", "", "yes", "undecided",
                      True) == "no evidence either way"
    assert _agreement("not_significant", "", "yes", "equivalent",
                      True) == "agrees (equivalent)"
    assert _agreement("significant", "first_lower", "yes", "lower",
                      False) == "no Bayesian finding: sampler gates failed"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return out, run_all(out=out, quick=True, models="summary_cells.toml,metric_opvoed.toml")


@pytest.mark.sampling
@pytest.mark.slow
def test_run_all_quick_writes_every_table(quick_run):
    tmp_path, record = quick_run
    tables = tmp_path / "results" / "tables"
    expected = {"audit.csv", "audit.md", "replication.csv", "replication.md", "cells.csv",
                "reliability.csv", "contrasts.csv", "diagnostics.csv", "claims.csv",
                "claims.md"}
    assert expected <= {p.name for p in tables.iterdir()}
    assert not list(tables.glob("*.tmp"))
    claims = pd.read_csv(tables / "claims.csv")
    # one row per difference claim and compared pair, plus the correlation claims
    assert len(claims) == 83 and claims["quick"].all()
    reliability = pd.read_csv(tables / "reliability.csv")
    assert set(reliability["data_source"]) == {"synthetic"}
    assert "SYNTHETIC" in (tables / "claims.md").read_text() or set(
        claims["data_source"]) == {"published"}
    run = json.loads((tmp_path / "results" / "run.json").read_text())
    assert run["data"]["source"] == "synthetic" and run["steps"]["models"]["quick"]
    assert record["steps"]["audit"]["inconsistent"] == 21
    # cached re-run: the model is read back, not refitted
    again = run_all(out=tmp_path, quick=True, models="summary_cells.toml,metric_opvoed.toml")
    diag = pd.read_csv(tables / "diagnostics.csv")
    assert diag["cached"].all() and again["steps"]["models"]["seconds"] < 20


@pytest.mark.sampling
@pytest.mark.slow
def test_multiverse_tables(quick_run):
    tables = quick_run[0] / "results" / "tables"
    diag = pd.read_csv(tables / "diagnostics.csv", keep_default_na=False)
    # metric_opvoed and its 5 variants (t, one SD, no pooling, priors x0.5/x2) + summary,
    # and the summary model of the respondent file's own cells
    assert sorted(diag["variant"]) == ["", "", "data_cells", "no_pooling", "prior_double",
                                       "prior_half", "sigma_common", "t"]
    assert {"psens_prior_max", "pareto_k_max", "elpd_loo"} <= set(diag.columns)
    universes = pd.read_csv(tables / "multiverse.csv")
    c10 = universes[universes["claim_id"] == "C10"]
    # C10 (Opvoed, teachers vs social workers about parents): 6 opvoed models + the summary
    # model of the published cells + that of the file's cells
    assert len(c10) == 8 and c10["universe"].nunique() == 8
    claims = pd.read_csv(tables / "claims.csv").set_index("claim_id")
    gates = dict(zip(diag["model"], diag["gates_passed"], strict=True))
    passed = sum(bool(gates[m]) for m in c10["model"])
    primary = c10["universe"] == "primary (Gaussian)"
    same = c10["data_source"] == "synthetic"
    counted = sum(bool(gates[m]) and not r for m, r in zip(
        c10.loc[~primary & same, "model"], c10.loc[~primary & same, "loo_rejected"],
        strict=True))
    # the primary is not counted among the universes its robustness is the share of, nor
    # is the published-cells universe (other data than the file's)
    assert claims.loc["C10", "universes"] == counted
    assert claims.loc["C10", "universes_other_data"] == 1
    assert claims.loc["C10", "universes_failed_gates"] == 8 - passed
    assert claims.loc["C10", "conclusion"] == c10.loc[primary, "conclusion"].iloc[0]
    loo = pd.read_csv(tables / "loo_compare.csv")
    # the six opvoed fits share their data; the summary models have no partner
    assert sorted(loo["model"]) == sorted(m for m in diag["model"]
                                          if not m.startswith("summary_cells"))
    assert loo["comparison"].nunique() == 1 and sorted(loo["rank"]) == list(range(6))
    sens = pd.read_csv(tables / "prior_sensitivity.csv")
    assert set(sens["model"]) == set(diag["model"])
    assert "Sensitivity" in (quick_run[0] / "results" / "report.html").read_text()


@pytest.mark.sampling
@pytest.mark.slow
def test_no_table_carries_two_conclusions(quick_run):
    # one decision rule: every written table has at most one conclusion column of ours
    # (paper_verdict is the paper's own words), and its values are the rule's four words
    tables = quick_run[0] / "results" / "tables"
    scanned = 0
    for path in sorted(tables.glob("*.csv")):
        frame = pd.read_csv(path)
        ours = [c for c in frame.columns if ("conclusion" in c or "verdict" in c)
                and c != "paper_verdict"]
        assert len(ours) <= 1, (path.name, ours)
        for c in ours:
            values = set(frame[c].dropna().astype(str)) - {""}
            assert values <= {"higher", "lower", "equivalent", "undecided"}, (path.name, values)
        scanned += 1
    assert scanned >= 15


@pytest.mark.sampling
@pytest.mark.slow
def test_failed_fit_is_marked_and_a_rerun_fits_only_what_is_missing(quick_run, tmp_path,
                                                                     monkeypatch):
    import triad.fitting
    import triad.pipeline as pipeline
    import triad.pipeline_steps as pipeline_steps
    from triad.progress import RunConsole
    from triad.replication import replicate_claims

    # the fits the module's run stored; the tables of this test go elsewhere
    results, tables = tmp_path / "results", tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    (results / "fits").symlink_to(quick_run[0] / "results" / "fits")
    real, calls = pipeline_steps._fit_one, []

    def flaky(spec_path, variant, *args):
        calls.append(variant)
        if variant == "data_cells":  # the file's-cells universe of the summary model
            raise RuntimeError("sampler crashed (simulated)")
        return real(spec_path, variant, *args)

    def no_sampling(*args, **kwargs):
        raise AssertionError("a stored fit was sampled again")

    monkeypatch.setattr(pipeline_steps, "_fit_one", flaky)
    monkeypatch.setattr(triad.fitting, "sample_all", no_sampling)
    buffer = io.StringIO()
    say = RunConsole(1, Console(file=buffer, force_terminal=False, width=200))
    kwargs = dict(quick=True, pattern="summary_cells.toml", backend="numpyro", jobs=1,
                  multiverse=True, say=say)
    replication = replicate_claims()
    summary = pipeline_steps.models_step(None, results, tables, replication, **kwargs)
    failed = {"model": "summary_cells~data_cells",
              "reason": "RuntimeError: sampler crashed (simulated)"}
    assert summary["fits_failed"] == [failed]
    assert pipeline.exit_status({"steps": {"models": summary}}) == pipeline.EXIT_FIT_FAILED
    diag = pd.read_csv(tables / "diagnostics.csv", keep_default_na=False).set_index("model")
    assert diag["fit_status"].to_dict() == {"summary_cells": "ok",
                                            "summary_cells~data_cells": "failed"}
    assert diag.loc["summary_cells~data_cells", "failure"] == failed["reason"]
    # the tables of the fit that completed are written, from its stored draws
    assert set(pd.read_csv(tables / "contrasts.csv")["model"]) == {"summary_cells"}
    assert (tables / "claims.csv").is_file()
    assert "summary_cells~data_cells: FAILED: RuntimeError" in buffer.getvalue()
    # a rerun reads the stored fit and tries only the failed one again
    calls.clear()
    pipeline_steps.models_step(None, results, tables, replication, **kwargs)
    assert len(calls) == 2 and calls[1] == "data_cells"
    assert "summary_cells: " in buffer.getvalue() and "(cached)" in buffer.getvalue()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.sampling
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by .ci/run")
def test_report_renders_with_its_figures_in_headless_chromium(quick_run, tmp_path):
    out, record = quick_run
    report = out / "results" / "report.html"
    text = report.read_text()
    assert "SYNTHETIC DATA" in text and "<img" in text and "src=\"http" not in text
    # the summary comes first; groups are named in words in everything a reader sees
    assert text.index('<section id="summary">') < text.index("<h2 id=")
    seen = html.unescape(re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", text, flags=re.S))
    assert not re.findall(r"\w+>\w*@\w+", seen)
    assert "Parenting competence: parents about professionals minus" in seen
    n_figures = record["steps"]["figures_report"]["figures"]
    assert n_figures >= 2  # Belangrijk-Lukt (summary model) and reliability in this small run
    assert len(list((out / "figures").glob("*.svg"))) == n_figures
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    # the report's own script writes how many embedded figures decoded into the title
    # (the run's figures plus the SBC rank histograms and the design curve)
    title = re.search(r"<title>([^<]*)</title>", proc.stdout)
    assert title, proc.stderr[-2000:]
    embedded = text.count("<img")
    assert embedded >= n_figures + 1
    assert f"[figures {embedded}/{embedded}]" in title.group(1)


def test_report_never_prints_an_infinite_bayes_factor():
    import numpy as np

    from triad.report import table_view

    view = table_view(pd.DataFrame({"contrast": ["a", "b", "c"], "bf10": [np.inf, 3.21, 1e-6]}))
    texts = [text for row in view["pages"][0]["rows"] for text, _ in row]
    assert "inf" not in " ".join(texts) and "> 1000" in texts and "< 1/1000" in texts
    assert "3.21" in texts
