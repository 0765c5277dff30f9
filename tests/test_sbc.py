"""Simulation-based calibration: a seeded CI-sized run passes, a miscalibrated one fails."""

import dataclasses
import math
import time

import numpy as np
import pandas as pd
import pytest

from triad.paths import repo_root
from triad.sbc import (
    ecdf_figures,
    family_decision,
    run_sbc,
    sbc_summary_for_report,
    sbc_uniformity,
    write_sbc,
)
from triad.specs import load_spec

# CI size: 30 simulations per model, 1 chain of 300 + 297, every 3rd draw kept (99 draws,
# 100 possible ranks).  The full run (scripts/sbc.py; bench/sbc/) uses 200 simulations and
# 990 draws thinned by 10.
CI = {"n_sims": 30, "draws": 297, "thin": 3, "tune": 300, "seed": 20240601}


def _spec(name):
    return load_spec(repo_root() / "models" / f"{name}.toml")


@pytest.fixture(scope="module")
def ci_run():
    timings, ranks = {}, []
    start = time.perf_counter()
    for name in ("metric_inspraak", "summary_cells"):
        t: dict = {}
        ranks.append(run_sbc(_spec(name), **CI, timings=t))
        timings[name] = t
    timings["total"] = time.perf_counter() - start
    return pd.concat(ranks, ignore_index=True), timings


# ------------------------------------------------------------------ pure unit tests


def _ranks_for_histogram(counts, n_ranks, bins, parameter="x", model="m"):
    """Ranks whose histogram in ``bins`` equal-width bins is ``counts``."""
    width = n_ranks // bins
    ranks = [b * width for b, c in enumerate(counts) for _ in range(c)]
    return pd.DataFrame({"model": model, "sim": range(len(ranks)), "parameter": parameter,
                         "kind": "parameter", "rank": ranks, "n_ranks": n_ranks})


def test_uniformity_matches_hand_calculation():
    # 20 simulations, 100 possible ranks, 4 bins of 25 rank values: expected 5 per bin.
    # Histogram [3, 7, 5, 5]: chi2 = ((3-5)^2 + (7-5)^2 + 0 + 0) / 5 = 8 / 5 = 1.6 on 3 df.
    # Chi-square(3) survival function by formula: erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2)
    # = erfc(0.8944) + 1.0093 * 0.4493 = 0.2059 + 0.4535 = 0.6594.
    expected_p = math.erfc(math.sqrt(0.8)) + math.sqrt(3.2 / math.pi) * math.exp(-0.8)
    table = sbc_uniformity(_ranks_for_histogram([3, 7, 5, 5], 100, 4), bins=4)
    row = table.iloc[0]
    assert row["chi2"] == pytest.approx(1.6)
    assert row["df"] == 3
    assert row["p_value"] == pytest.approx(expected_p, rel=1e-9)
    assert row["p_value"] == pytest.approx(0.6594, abs=5e-4)
    assert not row["reject"]


def test_uniformity_bonferroni_and_uneven_bins():
    # [20, 0, 0, 0]: chi2 = (15^2 + 3 * 5^2) / 5 = 60 on 3 df, p = 5.8e-13: rejected.
    good = _ranks_for_histogram([5, 5, 5, 5], 100, 4, "good")
    bad = _ranks_for_histogram([20, 0, 0, 0], 100, 4, "bad")
    table = sbc_uniformity(pd.concat([good, bad]), bins=4, level=0.01).set_index("parameter")
    assert table.loc["good", "chi2"] == 0.0 and table.loc["good", "p_value"] == 1.0
    assert table.loc["bad", "chi2"] == pytest.approx(60.0)
    assert table.loc["bad", "p_adjusted"] == pytest.approx(2 * table.loc["bad", "p_value"])
    assert table.loc["bad", "reject"] and not table.loc["good", "reject"]
    assert table["family_reject"].all() and (table["family_size"] == 2).all()
    # 101 rank values in 4 bins: r * 4 // 101 puts 0..25 (26 values) in the first bin,
    # 25 values in each other: expected counts 101 sims * (26, 25, 25, 25) / 101.
    ranks = pd.DataFrame({"model": "m", "parameter": "u", "kind": "parameter",
                          "rank": np.arange(101), "n_ranks": 101})
    row = sbc_uniformity(ranks, bins=4).iloc[0]
    assert row["chi2"] == pytest.approx(0.0, abs=1e-12)
    decision = family_decision(sbc_uniformity(pd.concat([good, bad]), bins=4))
    assert decision.loc[0, "rejected"] == 1 and not decision.loc[0, "calibrated"]


def test_uniformity_refuses_bad_input():
    ranks = _ranks_for_histogram([5, 5, 5, 5], 100, 4)
    with pytest.raises(ValueError, match="outside"):
        sbc_uniformity(ranks.assign(rank=ranks["rank"] + 100), bins=4)
    with pytest.raises(ValueError, match="bins"):
        sbc_uniformity(ranks, bins=101)


# ------------------------------------------------------------------ model plumbing


@pytest.mark.slow
def test_swapped_data_model_equals_rebuilt_model():
    """The nutpie path swaps data into one compiled model: same log density as a rebuild."""
    from triad.sbc import _build, _frame_with, _swappable, sbc_design

    for name in ("metric_inspraak", "summary_cells"):
        spec = _spec(name)
        design = sbc_design(spec)
        model, _ = _build(spec, design.frame)
        swapped, names = _swappable(model)
        rng = np.random.default_rng(1)
        observed = {k: np.abs(rng.normal(3.0, 0.5, len(design.frame))) for k in names}
        rebuilt, _ = _build(spec, _frame_with(spec, design.frame, observed))
        shared = {v.name: v for v in _shared_inputs(swapped)}
        for k, v in observed.items():
            shared[names[k]].set_value(v)
        point = model.initial_point(0)
        assert swapped.compile_logp()(point) == pytest.approx(rebuilt.compile_logp()(point))


def _shared_inputs(model):
    from pytensor.compile import SharedVariable
    from pytensor.graph.traversal import ancestors

    return [v for v in ancestors([model.logp()]) if isinstance(v, SharedVariable)]


# ------------------------------------------------------------------ sampling


@pytest.mark.slow
@pytest.mark.sampling
def test_ci_sized_sbc_is_calibrated(ci_run, tmp_path):
    ranks, timings = ci_run
    table = sbc_uniformity(ranks, level=0.01)
    decision = family_decision(table).set_index("model")
    print(decision.to_string(), {k: v if k == "total" else v["wall_seconds"]
                                 for k, v in timings.items()})
    assert set(decision.index) == {"metric_inspraak", "summary_cells"}
    assert decision["calibrated"].all(), decision
    # every simulation ranked every quantity, ranks in range, both kinds checked
    for _, part in ranks.groupby("model"):
        assert part["sim"].nunique() == CI["n_sims"]
        assert part.groupby("sim").size().nunique() == 1
        assert set(part["kind"]) == {"parameter", "contrast"}
    assert ranks["rank"].between(0, 99).all() and (ranks["n_ranks"] == 100).all()
    metric = ranks[ranks["model"] == "metric_inspraak"]["parameter"].unique()
    for name in ("1|cell_sigma", "sigma_rater[youth]",
                 "inspraak_gap_youth_vs_professional[residential]"):
        assert name in metric
    paths = write_sbc(ranks, tmp_path, {"command": "test"})
    summary = sbc_summary_for_report(tmp_path)
    assert list(summary["model"]) == ["metric_inspraak", "summary_cells"]
    assert summary["calibrated"].all()
    assert all(p.is_file() and p.with_suffix(".pdf").is_file() for p in paths["figures"])
    assert len(paths["figures"]) == ranks["model"].nunique()


@pytest.mark.slow
@pytest.mark.sampling
def test_same_seed_same_ranks_in_process(ci_run):
    ranks, _ = ci_run
    again = run_sbc(_spec("metric_inspraak"), 3, draws=CI["draws"], thin=CI["thin"],
                    tune=CI["tune"], seed=CI["seed"])
    first = ranks[(ranks["model"] == "metric_inspraak") & (ranks["sim"] < 3)]
    pd.testing.assert_frame_equal(again, first.reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.sampling
def test_miscalibrated_posterior_is_rejected(ci_run):
    """Fit with the spec's cell-SD prior Gamma(2, 4) data simulated with Gamma(2, 0.5).

    The fitted prior is narrower and centred lower than the simulating one, so the
    true cell SDs sit in the posterior's upper tail: the ranks pile up at the top and the
    same uniformity test (Bonferroni, 1%) must reject the model.
    """
    spec = _spec("metric_inspraak")
    priors = dict(spec.priors)
    cell = dict(priors["1|cell"])
    cell["sigma"] = {**cell["sigma"], "beta": 0.5}
    wider = dataclasses.replace(spec, priors={**priors, "1|cell": cell})
    ranks = run_sbc(spec, 20, draws=CI["draws"], thin=CI["thin"], tune=CI["tune"],
                    seed=7, simulate_from=wider)
    table = sbc_uniformity(ranks, level=0.01).set_index("parameter")
    print(table.nsmallest(5, "p_value")[["chi2", "p_value", "p_adjusted", "reject"]])
    assert table["family_reject"].all()
    assert table.loc["1|cell_sigma", "reject"]
    top = ranks[ranks["parameter"] == "1|cell_sigma"]["rank"]
    assert (top >= 50).mean() > 0.8


@pytest.mark.slow
@pytest.mark.sampling
def test_spawned_processes_give_the_serial_ranks(ci_run):
    ranks, _ = ci_run
    parallel = run_sbc(_spec("summary_cells"), 2, draws=CI["draws"], thin=CI["thin"],
                       tune=CI["tune"], seed=CI["seed"], jobs=2)
    serial = ranks[(ranks["model"] == "summary_cells") & (ranks["sim"] < 2)]
    pd.testing.assert_frame_equal(parallel, serial.reset_index(drop=True))


def test_figure_from_stored_ranks(tmp_path):
    rng = np.random.default_rng(0)
    ranks = pd.concat([pd.DataFrame({"model": "m", "sim": range(40), "parameter": p,
                                     "kind": "parameter", "rank": rng.integers(0, 101, 40),
                                     "n_ranks": 101}) for p in ("a", "b[c]")])
    pngs = ecdf_figures(ranks, tmp_path)
    assert [p.name for p in pngs] == ["sbc_ecdf_m.png"]
    assert pngs[0].with_suffix(".pdf").is_file() and pngs[0].with_suffix(".svg").is_file()
