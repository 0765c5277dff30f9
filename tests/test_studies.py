"""Studies as data: --study by name or folder, `triad new-study`, the skeleton runs."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from triad.cli import app
from triad.paths import (
    StudyNotFound,
    data_dir,
    default_study,
    models_dir,
    repo_root,
    shipped_studies,
    use_study,
)

DEFAULT_STUDY = default_study()


@pytest.fixture(autouse=True)
def _restore_study(monkeypatch):
    # --study sets TRIAD_STUDY in this process; monkeypatch puts it back afterwards
    monkeypatch.setenv("TRIAD_STUDY", DEFAULT_STUDY)


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_shipped_study_is_found_by_name_and_by_folder():
    # the shipped data mark the default (study.toml: default = true), not the library
    assert DEFAULT_STUDY == "youth_partnership" and DEFAULT_STUDY in shipped_studies()
    assert data_dir() == repo_root() / "data" / DEFAULT_STUDY
    assert models_dir() == repo_root() / "models" / DEFAULT_STUDY
    # the folder form of a shipped study finds its models beside data/
    use_study(repo_root() / "data" / DEFAULT_STUDY)
    assert models_dir() == repo_root() / "models" / DEFAULT_STUDY
    assert (models_dir() / "metric_inspraak.toml").is_file()


def test_an_unknown_study_is_refused_naming_the_shipped_ones(tmp_path):
    with pytest.raises(StudyNotFound, match=DEFAULT_STUDY):
        use_study("no_such_study")
    result = _run("published", "--study", tmp_path)  # a folder without a codebook
    assert result.exit_code == 2
    assert "Invalid value for '--study'" in result.output
    assert "Traceback" not in result.output


def test_new_study_writes_the_skeleton_and_refuses_to_overwrite(tmp_path):
    folder = tmp_path / "my_survey"
    result = _run("new-study", folder)
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file())
    assert written == ["codebook.toml", "contrasts.toml", "example/README.md",
                       "example/respondents.csv",
                       "labels.toml", "models/metric_satisfaction.toml",
                       "published/cells.csv", "published/claims.csv",
                       "published/correlations.csv", "published/reliability.csv",
                       "study.toml"]
    assert 'name = "my_survey"' in (folder / "study.toml").read_text(encoding="utf-8")
    again = _run("new-study", folder)
    assert again.exit_code == 2 and "not empty" in again.output
    bad = _run("new-study", tmp_path / "Bad-Name")
    assert bad.exit_code == 2 and "lower-case" in bad.output


def test_the_skeleton_runs_as_a_study_of_its_own(tmp_path):
    from triad.specs import load_spec

    folder = tmp_path / "survey"
    assert _run("new-study", folder).exit_code == 0
    example = folder / "example" / "respondents.csv"
    result = _run("validate", example, "--study", folder, "--format", "csv")
    assert result.exit_code == 0, result.output
    # 3 invented rows: 2 clients at site A, 1 at site B (the skeleton's example file)
    assert "3 respondents" in result.output
    scores = tmp_path / "scores.csv"
    assert _run("scores", example, "--out", scores, "--study", folder).exit_code == 0
    import pandas as pd

    frame = pd.read_csv(scores)
    # r001: mean(4, 5, 4) = 4.333; r002: 2 of 3 items (min_items 2): mean(3, 3) = 3
    got = frame.set_index("respondent_id")["score"].round(3).to_dict()
    assert got == {"r001": 4.333, "r002": 3.0, "r003": 4.667}
    audit = _run("audit", "--out", tmp_path / "audit", "--study", folder)
    assert audit.exit_code == 0, audit.output
    assert (tmp_path / "audit" / "replication.csv").is_file()
    # its spec validates against its own codebook (scales, rows), not the shipped study's
    spec = load_spec(models_dir() / "metric_satisfaction.toml")
    assert spec.scales == ("satisfaction",) and models_dir() == folder / "models"
    # and its contrasts come from its own catalogue
    from triad.contrasts import contrast_pairs, families

    assert families() == ("sector_differences", "gender_gap_clients")
    units = pd.DataFrame({"role": "client", "target": "staff", "scale": "satisfaction",
                          "sector": ["site_a", "site_b"], "gender": ["male", "female"]})
    pairs = contrast_pairs("sector_differences", "satisfaction", units)
    assert [(p[0], p[1]) for p in pairs] == [
        ("satisfaction_sector_diff_client_about_staff", "site_a-site_b")]


@pytest.mark.slow
@pytest.mark.sampling
def test_a_new_study_runs_the_main_job_end_to_end(tmp_path):
    """A study made of data files only: the skeleton, 160 simulated clients, `triad run`."""
    import numpy as np

    folder = tmp_path / "survey"
    assert _run("new-study", folder).exit_code == 0
    rng = np.random.default_rng(3)
    n = 160
    site = rng.choice(["site_a", "site_b"], n)
    gender = rng.choice(["male", "female"], n)
    # truth: site A 0.3 above site B, men 0.2 below women, item noise SD 0.9
    base = 3.2 + 0.3 * (site == "site_a") - 0.2 * (gender == "male")
    items = {f"satisfaction_{i}": np.clip(np.round(base + rng.normal(0, 0.9, n)), 1, 5)
             .astype(int) for i in (1, 2, 3)}
    pd.DataFrame({"respondent_id": [f"r{i:03d}" for i in range(n)], "role": "client",
                  "sector": site, "gender": gender, "age": rng.integers(18, 80, n),
                  **items}).to_csv(folder / "example" / "respondents.csv", index=False)
    out = tmp_path / "out"
    result = _run("run", "--study", folder, "--quick", "--no-multiverse", "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "results" / "tables" / "contrasts.csv")
    rows = table[table["estimand"] == "descriptive"].set_index(["contrast", "sector"])
    site_gap = rows.loc[("satisfaction_sector_diff_client_about_staff", "site_a-site_b")]
    gender_gap = rows.loc[("satisfaction_gender_gap_clients_about_staff", "all")]
    # rounding and clipping to 1-5 shrink the simulated effects a little; quick settings
    assert site_gap["ci_low"] < 0.3 < site_gap["ci_high"] and site_gap["estimate"] > 0.1
    assert gender_gap["ci_low"] < -0.2 < gender_gap["ci_high"] and gender_gap["estimate"] < 0
    report = (out / "results" / "report.html").read_text(encoding="utf-8")
    assert "TODO: the study&#39;s title" in report  # the skeleton's own study.toml title
    assert "metric_inspraak" not in report  # nothing of the shipped study leaks in
