"""Claim replication from summary statistics against direct scipy/statsmodels calls."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.oneway import anova_generic

from triad.replication import replicate_claims, replication_summary


@pytest.fixture(scope="module")
def replication():
    return replicate_claims()


def _rows(rep, cid, test):
    return rep[(rep["claim_id"] == cid) & (rep["test"] == test)]


def test_two_group_claim_equals_scipy(replication):
    # C29a: Table 10 Band, men 36 / 4.00 / 0.38 vs women 155 / 4.28 / 0.39
    row = _rows(replication, "C29a", "t test (Student)").iloc[0]
    ref = stats.ttest_ind_from_stats(4.00, 0.38, 36, 4.28, 0.39, 155, equal_var=True)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    welch = _rows(replication, "C29a", "t test (Welch)").iloc[0]
    ref = stats.ttest_ind_from_stats(4.00, 0.38, 36, 4.28, 0.39, 155, equal_var=False)
    assert welch["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert row["replicates"] == "yes"


def test_three_sector_anova_equals_statsmodels(replication):
    # C15: Table 6 Band, youths: ambulatory 69/4.30/0.62, residential 50/3.90/0.95, SO 55/3.62/1.01
    row = _rows(replication, "C15", "ANOVA classic").iloc[0]
    ref = anova_generic(np.array([4.30, 3.90, 3.62]), np.array([0.62, 0.95, 1.01]) ** 2,
                        np.array([69, 50, 55]), use_var="equal")
    assert (row["df1"], row["df2"]) == (2, 171)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_table1_n_replaces_a_wrong_printed_n(replication):
    # C11: Table 4 prints n = 179 / 132 for the residential cells; Table 1 has 50 and 53
    row = _rows(replication, "C11", "t test (Student)").iloc[0]
    ref = stats.ttest_ind_from_stats(3.47, 0.88, 50, 3.04, 0.53, 53)
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert "n = 50 from the sample table" in row["note"] and "not independent" in row["note"]


def test_correlation_claim(replication):
    # C14: r = .49, n = 191: t = r sqrt(n-2) / sqrt(1-r^2) (hand)
    row = _rows(replication, "C14", "pearson r").iloc[0]
    t = 0.49 * np.sqrt(189) / np.sqrt(1 - 0.49**2)
    assert row["statistic"] == pytest.approx(t, rel=1e-10)
    assert row["p"] == pytest.approx(2 * stats.t.sf(t, 189), rel=1e-8)


def test_every_claim_has_a_row_and_verdicts_are_counted(replication):
    summary = replication_summary(replication)
    assert len(summary) == 81
    tested = summary[summary["paper_verdict"] != "descriptive"]
    assert len(tested) == 46
    by_claim = summary.set_index("claim_id")["replicates"]
    # C23: teachers' vs ambulatory social workers' alliance with youths (3.64 vs 3.81)
    assert by_claim["C23"] == "no"
    assert by_claim["C03"] == "yes"
    # C13a: only the (wrong) text numbers make it clearly significant; tests disagree
    assert by_claim["C13a"] == "depends on test"
