"""Scale scores (missing-item rule) and reliability against independent computations."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from triad.reliability import cronbach_alpha, mcdonald_omega, reliability_table
from triad.scores import scale_scores


def _one(wide, rid, target, scale):
    s = scale_scores(wide)
    row = s[(s["respondent_id"] == rid) & (s["target"] == target) & (s["scale"] == scale)]
    assert len(row) == 1
    return row.iloc[0]


def test_scale_score_is_mean_of_items(small_wide):
    wide = small_wide.copy()
    rid = wide.loc[0, "respondent_id"]
    wide.loc[0, ["band_1", "band_2", "band_3", "band_4"]] = [5, np.nan, 3, 4]
    row = _one(wide, rid, "professional", "band")
    assert row["score"] == pytest.approx((5 + 3 + 4) / 3)  # hand: 3 of 4 answered
    assert row["n_answered"] == 3 and row["excluded_reason"] == ""


def test_missing_item_rule_excludes_with_reason(small_wide):
    wide = small_wide.copy()
    rid = wide.loc[0, "respondent_id"]
    wide.loc[0, ["band_1", "band_2"]] = np.nan
    row = _one(wide, rid, "professional", "band")
    assert np.isnan(row["score"])
    assert row["excluded_reason"] == "fewer than 3 of 4 items answered"
    # Alliantie: 10 of 12 answered still passes the 9-of-12 rule
    alliance = _one(wide, rid, "professional", "alliantie")
    items = wide.loc[0, [f"{s}_{i}" for s in ("band", "doel", "taak") for i in range(1, 5)]]
    assert alliance["n_answered"] == 10
    assert alliance["score"] == pytest.approx(np.nanmean(items.to_numpy(dtype=float)))
    # a stricter rule given by the user
    s = scale_scores(wide, min_items={"alliantie": 11})
    row = s[(s["respondent_id"] == rid) & (s["scale"] == "alliantie")].iloc[0]
    assert np.isnan(row["score"])


def test_professional_targets_are_scored_separately(small_wide):
    s = scale_scores(small_wide)
    teacher = s[s["role"] == "teacher"]
    per = teacher.groupby("target")["scale"].apply(lambda s: sorted(set(s))).to_dict()
    assert per == {
        "parent": ["alliantie", "band", "doel", "opvoed", "taak"],
        "self": ["belangrijk", "lukt"],
        "youth": ["alliantie", "band", "doel", "inspraak", "taak"],
    }


def test_unknown_scale_in_rule_is_an_error(small_wide):
    with pytest.raises(ValueError, match="unknown scale"):
        scale_scores(small_wide, min_items={"bond": 2})


def test_alpha_matches_hand_formula_and_pingouin():
    rng = np.random.default_rng(5)
    latent = rng.normal(size=200)
    items = pd.DataFrame({f"i{k}": np.clip(np.rint(3 + latent + rng.normal(0, 0.8, 200)), 1, 5)
                          for k in range(4)})
    alpha, lo, hi = cronbach_alpha(items)
    # hand formula: k/(k-1) * (1 - sum(var_i) / var(total))
    k = items.shape[1]
    hand = k / (k - 1) * (1 - items.var(ddof=1).sum() / items.sum(axis=1).var(ddof=1))
    assert alpha == pytest.approx(hand, abs=1e-12)
    ref, ref_ci = pg.cronbach_alpha(data=items, ci=0.95)
    assert alpha == pytest.approx(ref, abs=1e-12)
    assert (lo, hi) == pytest.approx(tuple(ref_ci), abs=1e-3)  # pingouin rounds its CI to 3 dp
    assert lo < alpha < hi


def test_omega_equals_the_just_identified_three_item_solution():
    rng = np.random.default_rng(8)
    f = rng.normal(size=2000)
    loadings = np.array([0.8, 0.6, 0.5])
    x = pd.DataFrame(f[:, None] * loadings + rng.normal(size=(2000, 3)) * np.sqrt(1 - loadings**2))
    r = np.corrcoef(x.to_numpy(), rowvar=False)
    # With 3 items one factor is just identified: l_i^2 = r_ij r_ik / r_jk (hand).
    lam = np.sqrt([r[0, 1] * r[0, 2] / r[1, 2], r[0, 1] * r[1, 2] / r[0, 2],
                   r[0, 2] * r[1, 2] / r[0, 1]])
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert mcdonald_omega(x) == pytest.approx(expected, abs=1e-4)


def test_reliability_table_compares_with_report(full_wide):
    table = reliability_table(full_wide)
    row = table[(table["scale"] == "inspraak") & (table["role"] == "professional")
                & (table["target"] == "youth")].iloc[0]
    assert row["n"] == 191
    assert (row["reported_low"], row["reported_high"]) == (0.71, 0.71)
    band = table[(table["scale"] == "band") & (table["role"] == "youth")].iloc[0]
    assert band["reported"] == "range over groups"
    assert (band["reported_low"], band["reported_high"]) == (0.53, 0.89)
    # alpha recomputed independently for one group
    cols = [f"band_{i}" for i in range(1, 5)]
    youth = full_wide[full_wide["role"] == "youth"][cols]
    assert band["alpha"] == pytest.approx(pg.cronbach_alpha(youth)[0], abs=1e-12)


def test_reliability_is_deterministic(full_wide):
    # statsmodels' ML factor fit draws start values from OS entropy unless seeded
    first = reliability_table(full_wide)
    second = reliability_table(full_wide)
    assert first["omega"].tolist() == second["omega"].tolist()
