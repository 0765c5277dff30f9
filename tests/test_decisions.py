"""The one decision rule: HDI against 0 and the ROPE; Monte Carlo fragility."""

import numpy as np
import pytest

from triad.decisions import decide, fragile, paper_reading


@pytest.mark.parametrize(("low", "high", "rope", "want"), [
    (0.1, 0.5, 0.1, "higher"),          # HDI above 0 (even overlapping the ROPE)
    (-0.5, -0.01, 0.1, "lower"),
    (-0.05, 0.08, 0.1, "equivalent"),   # inside [-0.1, 0.1]
    (-0.05, 0.12, 0.1, "undecided"),    # crosses the ROPE bound and 0
    (-0.05, 0.08, np.nan, "undecided"),  # no ROPE: never equivalent
    (0.0, 0.3, 0.1, "undecided"),       # touching 0 does not exclude it
    (np.nan, 0.3, 0.1, ""),
])
def test_decide(low, high, rope, want):
    assert decide(low, high, rope) == want


def test_decide_is_vectorised():
    out = decide([0.1, -0.3, -0.02], [0.2, -0.1, 0.02], [0.05, 0.05, 0.05])
    assert list(out) == ["higher", "lower", "equivalent"]


def test_fragile_within_two_mcse():
    # higher with ci_low = 0.01 and its MCSE 0.006: 0.01 / 0.006 = 1.7 < 2 -> fragile
    assert fragile("higher", 0.01, 0.4, 0.006, 0.01)
    assert not fragile("higher", 0.05, 0.4, 0.006, 0.01)  # 8.3 MCSE away
    # equivalent: ci_high 0.095 vs ROPE 0.1 with MCSE 0.004: 1.25 MCSE -> fragile
    assert fragile("equivalent", -0.05, 0.095, 0.004, 0.004, 0.1)
    # undecided whose upper end is 0.004 above 0 with MCSE 0.003: could become 'lower'
    assert fragile("undecided", -0.4, 0.004, 0.003, 0.003, 0.1)
    assert not fragile("undecided", -0.4, 0.2, 0.003, 0.003, 0.1)


def test_paper_reading_never_calls_no_evidence_agreement():
    assert paper_reading("undecided", "not_significant", "") == "no evidence either way"
    assert paper_reading("higher", "not_significant", "") == "differs: a difference"
    assert paper_reading("higher", "significant", "first_higher") == "agrees"
    assert paper_reading("lower", "significant", "first_higher") == "opposite direction"
    assert paper_reading("", "significant", "first_higher") == ""
