"""The second shipped study, psych's bfi (SAPA) data: data files only, run end to end.

Reference values are psych 2.2.9's own output of the bfi help page's example
(``data/bfi_sapa/source/bfi_example_output.txt``, made by ``Rscript convert.R``):
``describe(bfi)`` and ``scoreItems(keys, bfi, min = 1, max = 6)``.
"""

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from triad.cli import app
from triad.paths import default_study, repo_root, use_study
from triad.readers import read_respondents

STUDY = "bfi_sapa"
FOLDER = repo_root() / "data" / STUDY


@pytest.fixture(autouse=True, scope="module")
def _bfi_study():
    # the tests here work on the second study; the next module gets the default back
    before = os.environ.get("TRIAD_STUDY")
    use_study(STUDY)
    yield
    use_study(before or default_study())


@pytest.fixture(scope="module")
def bfi():
    return read_respondents(FOLDER / "respondents.csv")


def test_the_file_reads_with_reverse_keys_and_lists_implausible_ages(bfi):
    assert bfi.counts["respondents"] == 2800  # ?bfi: 'The data from 2800 subjects'
    # describe(bfi): n per item; 25 items x 2800 = 70000 answers, 508 blank
    assert bfi.counts == {"respondents": 2800, "answers": 70000, "present": 69492,
                          "missing": 508, "quarantined": 0}
    assert any("7 reverse-keyed item column(s)" in n for n in bfi.notes)
    raw = pd.read_csv(FOLDER / "respondents.csv")
    # A1 is keyed '-A1': read as 7 - answer on the 1-6 scale; describe() prints A1 mean
    # 2.41, so the keyed item's mean is 7 - 2.41 = 4.59
    keyed = bfi.wide["agree_1"].to_numpy()
    assert np.allclose(keyed, 7 - raw["agree_1"].to_numpy(), equal_nan=True)
    assert round(float(np.nanmean(keyed)), 2) == 4.59
    assert round(float(np.nanmean(bfi.wide["agree_2"])), 2) == 4.80  # not keyed: as printed
    # describe(bfi) prints age min 3: the codebook accepts 11-90, so two ages are set
    # missing and listed with file, row and value
    ages = bfi.quarantine[bfi.quarantine["column"] == "age"]
    assert sorted(ages["value"].astype(int)) == [3, 9]
    assert round(float(raw["age"].mean()), 2) == 28.78  # describe(bfi): age mean 28.78


def test_alphas_and_correlations_against_psych(bfi):
    from triad.reliability import reliability_table
    from triad.replication import replicate_correlations
    from triad.scores import scale_scores

    rel = reliability_table(bfi.wide).set_index("scale")
    # psych scoreItems: alpha 0.7, 0.72, 0.76, 0.81, 0.6 (from pairwise correlations);
    # triad's alpha is listwise (pingouin.cronbach_alpha): 0.7038, 0.7293, ...
    assert rel["alpha"].round(2).to_dict() == {
        "agree": 0.70, "consc": 0.73, "extra": 0.76, "neuro": 0.81, "open": 0.60}
    assert rel["within_reported"].to_dict() == {
        "agree": True, "consc": False, "extra": True, "neuro": True, "open": True}
    corr = replicate_correlations(scale_scores(bfi.wide), "bfi").set_index("corr_id")
    # r(agree, consc): psych prints 0.26 (scores with missing items imputed by the item
    # median); triad's scores are means of >= 3 answered items: 0.2580
    assert corr.loc["R01", "r"] == pytest.approx(0.2580, abs=5e-4)
    assert corr["within_rounding"].sum() == 8
    assert list(corr.index[~corr["within_rounding"].astype(bool)]) == ["R09", "R10"]


def test_the_study_is_listed_and_its_specs_load():
    from triad.specs import load_specs

    out = CliRunner().invoke(app, ["studies", "--format", "csv"])
    assert out.exit_code == 0, out.output
    table = pd.read_csv(pd.io.common.StringIO(out.stdout))
    assert set(table["study"]) >= {STUDY, "youth_partnership"}
    assert table.set_index("study").loc[STUDY, "specs"] == 5
    specs = load_specs()
    assert sorted(s.name for s in specs) == [f"metric_{s}" for s in
                                              ("agree", "consc", "extra", "neuro", "open")]


def test_the_converter_rewrites_the_committed_file(tmp_path):
    printed = (FOLDER / "source" / "bfi_example_output.txt").read_text(encoding="utf-8")
    assert "alpha   0.7          0.72         0.76        0.81      0.6" in printed
    if shutil.which("Rscript") is None or subprocess.run(
            ["Rscript", "-e", "library(psych)"], capture_output=True, check=False).returncode:
        pytest.skip("Rscript with psych not installed (apt-get install r-cran-psych)")
    (tmp_path / "source").mkdir()
    shutil.copy(FOLDER / "source" / "convert.R", tmp_path / "source")
    done = subprocess.run(["Rscript", "convert.R"], cwd=tmp_path / "source",
                          capture_output=True, text=True, check=True)
    assert (tmp_path / "respondents.csv").read_bytes() == (
        FOLDER / "respondents.csv").read_bytes()
    assert done.stdout == printed


@pytest.mark.slow
@pytest.mark.sampling
def test_the_bfi_study_runs_the_main_job_end_to_end(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--study", STUDY, "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    tables = out / "results" / "tables"
    contrasts = pd.read_csv(tables / "contrasts.csv")
    assert set(contrasts["model"]) == {f"metric_{s}" for s in
                                       ("agree", "consc", "extra", "neuro", "open")}
    gap = contrasts[(contrasts["contrast"] == "agree_gender_gap_respondents_about_self")
                    & (contrasts["sector"] == "all")
                    & (contrasts["estimand"] == "descriptive")].iloc[0]
    # men minus women on agreeableness: the keyed file's score means differ by -0.3950
    # (scale_scores(...).groupby("gender")["score"].mean()); the HDI must hold it, not 0
    assert gap["ci_low"] < -0.395 < gap["ci_high"] and gap["ci_high"] < 0
    assert len(pd.read_csv(tables / "correlations.csv")) == 10
    report = (out / "results" / "report.html").read_text(encoding="utf-8")
    assert "SAPA" in report and "inspraak" not in report.lower()
