"""Parameter recovery: contrasts fitted to simulated data cover the simulator's truth."""

import dataclasses
import os

import numpy as np
import pytest

from triad.fitting import fit
from triad.paths import models_dir
from triad.published import sample_counts
from triad.readers import read_respondents, write_wide_csv
from triad.scores import scale_scores
from triad.simulate import simulate_respondents
from triad.specs import load_spec

TABLE1_CELLS = sample_counts()  # the report's Table 1: respondents per role x sector

# Inspraak cell means close to the report's Tables 6 and 8 (latent, before rounding).
TRUTH_MEANS = {
    ("youth", "special_education", "professional", "inspraak"): 3.8,
    ("youth", "ambulatory_daycare", "professional", "inspraak"): 4.3,
    ("youth", "residential", "professional", "inspraak"): 3.6,
    ("social_worker", "ambulatory_daycare", "youth", "inspraak"): 4.45,
    ("social_worker", "residential", "youth", "inspraak"): 4.3,
    ("teacher", "special_education", "youth", "inspraak"): 4.15,
}
SECTORS = ("special_education", "ambulatory_daycare", "residential")
PRO = {"special_education": "teacher", "ambulatory_daycare": "social_worker",
       "residential": "social_worker"}


def _true_cell_means():
    """Expected scale score per cell under the simulator (rounding and clipping included),
    by Monte Carlo with 20,000 respondents per cell: SE < 0.006."""
    big = {cell: 20000 for cell in TABLE1_CELLS}
    scores = scale_scores(simulate_respondents(big, seed=999, cell_mean=TRUTH_MEANS))
    ins = scores[scores["scale"] == "inspraak"]
    return ins.groupby(["role", "sector"])["score"].mean().to_dict()


def _truth():
    cell = _true_cell_means()
    n = TABLE1_CELLS
    out = {}
    for s in SECTORS:
        out[("gap", s)] = cell[("youth", s)] - cell[(PRO[s], s)]
    # pooled contrasts weight sectors by the sample's cell sizes (Table 1)
    youth = sum(n[("youth", s)] * cell[("youth", s)] for s in SECTORS) / sum(
        n[("youth", s)] for s in SECTORS)
    pro = sum(n[(PRO[s], s)] * cell[(PRO[s], s)] for s in SECTORS) / sum(
        n[(PRO[s], s)] for s in SECTORS)
    out[("gap", "all")] = youth - pro
    for i, s1 in enumerate(SECTORS):
        for s2 in SECTORS[i + 1:]:
            out[("youth_sector", f"{s1}-{s2}")] = cell[("youth", s1)] - cell[("youth", s2)]
    return out


def _recover(tmp_path, seed, draws):
    path = tmp_path / f"sim{seed}.csv"
    write_wide_csv(simulate_respondents(seed=seed, cell_mean=TRUTH_MEANS), path)
    spec = load_spec(models_dir() / "metric_inspraak.toml")
    spec = dataclasses.replace(spec, sampler={**spec.sampler, "draws": draws, "tune": draws,
                                              "chains": 2, "seed": seed})
    result = fit(spec, read_respondents(path))
    c = result.contrasts
    truth = _truth()
    covered = []
    for (kind, sector), value in truth.items():
        name = ("inspraak_gap_youth_vs_professional" if kind == "gap"
                else "inspraak_sector_diff_youth_about_professional")
        row = c[(c["contrast"] == name) & (c["sector"] == sector)].iloc[0]
        covered.append(row["ci_low"] <= value <= row["ci_high"])
    return np.array(covered), result


@pytest.mark.sampling
@pytest.mark.slow
def test_contrasts_cover_the_truth_fast(tmp_path):
    # One seeded data set.  Over 12 seeds (the thorough test) 76 of 84 intervals covered
    # (90.5%; partial pooling shrinks the large true sector gaps a little); seed 7 is one
    # where the sample's SO cells sit 1.5-1.8 SE from the truth and two intervals miss.
    covered, result = _recover(tmp_path, seed=0, draws=500)
    assert covered.all(), covered
    assert len(covered) == 7
    assert result.diagnostics["divergences"] == 0


@pytest.mark.sampling
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("TRIAD_THOROUGH"),
                    reason="set TRIAD_THOROUGH=1 for the 12-seed coverage study (~2 min)")
def test_coverage_over_seeds_thorough(tmp_path):
    hits = np.concatenate([_recover(tmp_path, seed, 500)[0] for seed in range(12)])
    # 84 intervals at 95% (measured: 90.5%); below 85% would signal a biased model
    assert hits.mean() >= 0.85
