"""Small-cell protection and no respondent ids in outputs (issue 9)."""

import re

import numpy as np
import pandas as pd
import pytest

from triad.paths import data_dir
from triad.pipeline import run_all
from triad.privacy import SmallCellGuard, pseudonym


@pytest.fixture(scope="module")
def scores():
    # 3 male teachers and 6 female teachers in special education, 8 youths: by hand
    rows = [(f"T{i}", "teacher", "youth", "special_education", "male" if i < 3 else "female",
             "inspraak", 4.0) for i in range(9)]
    rows += [(f"Y{i}", "youth", "professional", "special_education", "female", "inspraak", 3.0)
             for i in range(8)]
    rows.append(("Y9", "youth", "professional", "special_education", "male", "inspraak",
                 np.nan))  # no score: does not count
    return pd.DataFrame(rows, columns=["respondent_id", "role", "target", "sector", "gender",
                                       "scale", "score"])


def test_group_sizes_count_respondents_with_a_score(scores):
    guard = SmallCellGuard(scores, 5)
    assert guard.size("teacher>youth@special_education#male", "inspraak") == 3
    assert guard.size("professional>youth@all", "inspraak") == 9
    assert guard.size("youth>professional@all", "inspraak") == 8
    assert guard.size("youth>professional@all#male", "inspraak") == 0


def test_rows_of_small_groups_are_blanked_and_flagged(scores):
    guard = SmallCellGuard(scores, 5)
    claims = pd.DataFrame({
        "claim_id": ["C1", "C2"], "scale": ["inspraak", "inspraak"],
        "group_a": ["professional>youth@all#male", "professional>youth@all"],
        "group_b": ["professional>youth@all#female", "youth>professional@all"],
        "summary_p": [0.01, 0.02], "bayes_estimate": [0.5, -0.4], "conclusion":
            ["higher", "lower"]})
    out = guard.apply("claims.csv", claims)
    # C1 compares 3 male with 6 female professionals: 3 < 5 -> suppressed; C2: 9 vs 8
    assert out["suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "bayes_estimate"]) and out.loc[0, "conclusion"] == ""
    assert out.loc[1, "bayes_estimate"] == -0.4
    assert out.loc[0, "summary_p"] == 0.01  # published-table statistics are public
    contrasts = pd.DataFrame({"contrast": ["a", "b"], "n_a": [4, 40], "n_b": [50, 5],
                              "estimate": [0.1, 0.2]})
    out = guard.apply("contrasts.csv", contrasts)
    assert out["suppressed"].tolist() == [True, False]
    assert guard.summary()["rows_suppressed"].tolist() == [1, 1]
    off = SmallCellGuard(scores, 0)
    assert off.apply("contrasts.csv", contrasts) is contrasts


def test_pseudonym_is_stable_and_hides_the_id():
    assert pseudonym("S0001") == pseudonym("S0001") != pseudonym("S0002")
    assert "S0001" not in pseudonym("S0001") and re.fullmatch(r"p[0-9a-f]{10}",
                                                              pseudonym("S0001"))


@pytest.fixture(scope="module")
def small_cell_file(tmp_path_factory):
    """The synthetic file as a user's file (no provenance), with 3 male SO teachers and
    4 parents in special education."""
    wide = pd.read_csv(data_dir() / "synthetic" / "respondents.csv", dtype=str)
    male_so = wide[(wide["role"] == "teacher") & (wide["gender"] == "male")]
    parents_so = wide[(wide["role"] == "parent") & (wide["sector"] == "special_education")]
    wide = wide.drop(male_so.index[3:].union(parents_so.index[4:]))
    path = tmp_path_factory.mktemp("user") / "survey.csv"
    wide.to_csv(path, index=False)
    return path, wide["respondent_id"].tolist()


@pytest.mark.slow
@pytest.mark.sampling
def test_user_file_outputs_are_protected_and_id_free(small_cell_file, tmp_path):
    path, ids = small_cell_file
    record = run_all(path, tmp_path, quick=True, models="metric_opvoed.toml", multiverse=False)
    assert record["data"]["source"] == "survey.csv"
    assert record["privacy"]["min_cell"] == 5 and record["privacy"]["active"]
    tables = tmp_path / "results" / "tables"
    cells = pd.read_csv(tables / "cells.csv")
    parents = cells[(cells["role"] == "parent") & (cells["sector"] == "special_education")]
    assert len(parents) and parents["suppressed"].all()
    assert parents[["n", "mean", "sd"]].isna().all().all()
    big = cells[cells["n"].notna()]
    assert (big["n"] >= 5).all() and not big["suppressed"].any()
    means = pd.read_csv(tables / "posterior_cell_means.csv")
    so = means[(means["role"] == "parent") & (means["sector"] == "special_education")]
    assert len(so) and so["suppressed"].all() and so["mean"].isna().all()
    contrasts = pd.read_csv(tables / "contrasts.csv")
    small = contrasts[contrasts["contrast"].str.contains("gender_gap")
                      & contrasts["sector"].eq("special_education")]
    assert len(small) and small["suppressed"].all() and small["estimate"].isna().all()
    ppc = pd.read_csv(tables / "ppc_cells.csv")
    ppc_so = ppc[ppc["group"] == "parent>professional@special_education"]
    assert len(ppc_so) and ppc_so["suppressed"].all()
    assert ppc_so[["n", "observed", "p_value"]].isna().all().all()
    assert set(pd.read_csv(tables / "suppression.csv")["table"]) >= {"cells.csv",
                                                                     "contrasts.csv",
                                                                     "ppc_cells.csv"}
    report = (tmp_path / "results" / "report.html").read_text()
    assert "fewer than 5 respondents is suppressed" in report
    # No output file -- tables, figures, report, fit folders -- contains a respondent id.
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b")
    scanned = 0
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".md", ".tex", ".html", ".json", ".svg", ".nc"):
            text = f.read_bytes().decode("latin-1")
            assert not pattern.search(text), f"respondent id in {f}"
            scanned += 1
    assert scanned > 20
