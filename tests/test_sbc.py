"""Simulation-based calibration: uniformity tests, the production sampler, new models.

The CI-sized runs keep the nutpie backend (compiled once, 0.2-0.5 s a refit) so that
their runtime does not grow; the production backend (numpyro) is exercised on every
model SBC covers with tiny draws (``test_each_model_runs_through_the_production_sampler``).
"""

import dataclasses
import math
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from triad.paths import models_dir
from triad.sbc import (
    DEFAULT_SBC_BACKEND,
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
CI = {"n_sims": 30, "draws": 297, "thin": 3, "tune": 300, "seed": 20240601,
      "backend": "nutpie"}


def _spec(name):
    return load_spec(models_dir() / f"{name}.toml")


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
    assert not row["chi2_reject"]


def test_uniformity_bonferroni_and_uneven_bins():
    # [20, 0, 0, 0]: chi2 = (15^2 + 3 * 5^2) / 5 = 60 on 3 df, p = 5.8e-13: rejected.
    good = _ranks_for_histogram([5, 5, 5, 5], 100, 4, "good")
    bad = _ranks_for_histogram([20, 0, 0, 0], 100, 4, "bad")
    table = sbc_uniformity(pd.concat([good, bad]), bins=4, level=0.01).set_index("parameter")
    assert table.loc["good", "chi2"] == 0.0 and table.loc["good", "p_value"] == 1.0
    assert table.loc["bad", "chi2"] == pytest.approx(60.0)
    assert table.loc["bad", "p_adjusted"] == pytest.approx(2 * table.loc["bad", "p_value"])
    assert table.loc["bad", "chi2_reject"] and not table.loc["good", "chi2_reject"]
    # the ECDF test decides: all 20 ranks at 0 leave any band
    assert table.loc["bad", "reject"] and table.loc["bad", "ecdf_reject"]
    assert (table["decided_by"] == "ecdf").all()
    assert table["family_reject"].all() and (table["family_size"] == 2).all()
    assert table["ecdf_band_prob"].tolist() == pytest.approx([1 - 0.01 / 2] * 2)
    # 101 rank values in 4 bins: r * 4 // 101 puts 0..25 (26 values) in the first bin,
    # 25 values in each other: expected counts 101 sims * (26, 25, 25, 25) / 101.
    ranks = pd.DataFrame({"model": "m", "parameter": "u", "kind": "parameter",
                          "rank": np.arange(101), "n_ranks": 101})
    row = sbc_uniformity(ranks, bins=4).iloc[0]
    assert row["chi2"] == pytest.approx(0.0, abs=1e-12)
    decision = family_decision(sbc_uniformity(pd.concat([good, bad]), bins=4))
    assert decision.loc[0, "chi2_rejected"] == 1 and not decision.loc[0, "calibrated"]
    assert "bad" in decision.loc[0, "ecdf_rejected_quantities"].split("; ")
    assert decision.loc[0, "decided_by"] == "ecdf"


def _normal_ranks(n_sims, shift, rng, draws=99):
    """Ranks of the truth among 'posterior' draws of a conjugate normal model.

    theta ~ N(0, 1) and y_1..y_4 ~ N(theta, 1), so the posterior is N(sum(y) / 5, 1 / 5).
    A calibrated sampler draws from it; a biased one shifts its draws by ``shift``
    posterior SDs.  No MCMC: the draws are exact (or exactly biased).
    """
    theta = rng.normal(size=n_sims)
    y = rng.normal(theta[:, None], 1.0, size=(n_sims, 4))
    mean, sd = y.sum(axis=1) / 5, math.sqrt(1 / 5)
    post = rng.normal(mean[:, None] + shift * sd, sd, size=(n_sims, draws))
    return (post < theta[:, None]).sum(axis=1)


def _rank_table(ranks_by_parameter, n_ranks=100, model="m"):
    return pd.concat([pd.DataFrame({"model": model, "sim": np.arange(len(r)), "parameter": p,
                                    "kind": "parameter", "rank": r, "n_ranks": n_ranks})
                      for p, r in ranks_by_parameter.items()], ignore_index=True)


def test_ecdf_test_passes_a_calibrated_and_rejects_a_biased_sampler():
    rng = np.random.default_rng(20240601)
    exact = {"theta": _normal_ranks(100, 0.0, rng), "uniform": rng.integers(0, 100, 100)}
    table = sbc_uniformity(_rank_table(exact)).set_index("parameter")
    assert not table["ecdf_reject"].any() and not table["family_reject"].any()
    assert (table["ecdf_points_outside"] == 0).all() and (table["ecdf_max_excess"] == 0).all()
    # draws half a posterior SD too high: the truth ranks low, the PIT ECDF rises early
    biased = {"theta": _normal_ranks(100, 0.5, np.random.default_rng(1)),
              "uniform": exact["uniform"]}
    table = sbc_uniformity(_rank_table(biased)).set_index("parameter")
    assert table.loc["theta", "ecdf_reject"] and table.loc["theta", "ecdf_max_excess"] > 0
    assert not table.loc["uniform", "ecdf_reject"]
    decision = family_decision(table.reset_index()).iloc[0]
    assert not decision["calibrated"] and decision["ecdf_rejected_quantities"] == "theta"


def test_ecdf_decision_is_arvizs_band():
    """The verdict equals ArviZ's own band around the same PIT values (ecdf_pit)."""
    from arviz_stats.ecdf_utils import ecdf_pit

    from triad.sbc.uniformity import pit_values

    rng = np.random.default_rng(3)
    ranks = _rank_table({f"q{i}": _normal_ranks(60, shift, rng)
                         for i, shift in enumerate([0.0, 0.2, 0.35, 0.5, 0.8])})
    table = sbc_uniformity(ranks, level=0.05, ecdf_simulations=4000).set_index("parameter")
    for name, part in ranks.groupby("parameter"):
        pit = pit_values(part, "m", name)
        _, ecdf, lower, upper = ecdf_pit(pit, 1 - 0.05 / 5, 4000)
        outside = (ecdf < lower - 1e-12) | (ecdf > upper + 1e-12)
        assert table.loc[name, "ecdf_reject"] == outside.any(), name
    assert table["ecdf_reject"].any() and not table["ecdf_reject"].all()


def test_default_backend_is_production():
    import triad.fitting

    assert DEFAULT_SBC_BACKEND == triad.fitting.DEFAULT_BACKEND == "numpyro"


def test_ordinal_expected_score_from_cumulative_probabilities():
    from triad.sbc.design import expected_scores

    spec = _spec("ordinal_inspraak")
    # P(Y = 1..5) = (.1, .2, .3, .25, .15): E[Y] = .1 + .4 + .9 + 1 + .75 = 3.15
    probs = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    cumulative = np.cumsum(probs)[:-1]  # Bambi's p: P(Y <= k), k = 1..4
    draws = np.broadcast_to(cumulative, (2, 3, 4))  # draws x rows x K-1
    assert expected_scores(spec, draws) == pytest.approx(np.full((2, 3), 3.15))


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
    from triad.sbc import sbc_design
    from triad.sbc.design import build, frame_with
    from triad.sbc.refit import _swappable

    for name in ("metric_inspraak", "summary_cells"):
        spec = _spec(name)
        design = sbc_design(spec)
        model, _ = build(spec, design.frame)
        swapped, names = _swappable(model)
        rng = np.random.default_rng(1)
        observed = {k: np.abs(rng.normal(3.0, 0.5, len(design.frame))) for k in names}
        rebuilt, _ = build(spec, frame_with(spec, design.frame, observed))
        shared = {v.name: v for v in _shared_inputs(swapped)}
        for k, v in observed.items():
            shared[names[k]].set_value(v)
        point = model.initial_point(0)
        assert swapped.compile_logp()(point) == pytest.approx(rebuilt.compile_logp()(point))


@pytest.mark.slow
def test_jax_density_with_data_as_argument_equals_rebuilt_model():
    """The numpyro path compiles one density with the data as argument: same as a rebuild."""
    from pymc.initial_point import make_initial_point_fn

    from triad.sbc import sbc_design
    from triad.sbc.design import build, frame_with
    from triad.sbc.refit import _jax_logp, _swappable

    rng = np.random.default_rng(2)
    for name in ("ordinal_inspraak", "metric_alliantie", "metric_inspraak_t", "summary_cells"):
        spec = _spec(name)
        design = sbc_design(spec)
        model, _ = build(spec, design.frame)
        swapped, names = _swappable(model)
        logp, observed = _jax_logp(swapped, names)
        n = len(design.frame)
        data = ({"value": rng.integers(0, 5, n)} if spec.ordinal else
                {"cell_mean": rng.normal(3.5, 0.5, n), "cell_var": rng.gamma(4.0, 0.1, n)}
                if spec.data != "respondent" else {"score": rng.normal(3.5, 0.7, n)})
        rebuilt, _ = build(spec, frame_with(spec, design.frame, data))
        point = make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs))(3)
        values = [point[v.name] for v in swapped.value_vars]
        got = float(logp(*values, *[data[k] for k in observed])[0])
        assert got == pytest.approx(float(rebuilt.compile_logp()(point)), rel=1e-9), name


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
                    tune=CI["tune"], seed=CI["seed"], backend=CI["backend"])
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
                    seed=7, simulate_from=wider, backend=CI["backend"])
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
                       tune=CI["tune"], seed=CI["seed"], jobs=2, backend=CI["backend"])
    serial = ranks[(ranks["model"] == "summary_cells") & (ranks["sim"] < 2)]
    pd.testing.assert_frame_equal(parallel, serial.reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.sampling
def test_each_new_model_runs_through_the_production_sampler(tmp_path):
    """Respondent effects, ordinal and Student-t: 2 tiny numpyro refits each, end to end."""
    from triad.fitting import respondent_data

    data = respondent_data()  # read once for the three designs
    ranks = pd.concat([run_sbc(_spec(name), 2, draws=20, thin=2, tune=30, seed=1, data=data)
                       for name in ("metric_alliantie", "ordinal_inspraak",
                                    "metric_inspraak_t")], ignore_index=True)
    assert (ranks["n_ranks"] == 11).all() and ranks["rank"].between(0, 10).all()
    for model, part in ranks.groupby("model"):
        assert part["sim"].nunique() == 2 and set(part["kind"]) == {"parameter", "contrast"}
        assert part.groupby("sim").size().nunique() == 1, model
    names = set(ranks["parameter"])
    assert {"threshold[0]", "threshold[3]", "1|respondent_sigma", "1|item_sigma", "nu",
            "professional|respondent_sigma"} <= names
    # by-respondent effects: the 10 respondents with the most rows -- in alliantie the
    # professionals, who rate two targets
    alliantie = ranks[(ranks["model"] == "metric_alliantie") & (ranks["sim"] == 0)]
    effects = alliantie[alliantie["parameter"].str.startswith("professional|respondent[")]
    assert len(effects) == 10
    from triad.sbc import sbc_design

    frame = sbc_design(_spec("metric_alliantie"), data).frame
    rows = frame.groupby("respondent").size()
    codes = effects["parameter"].str.extract(r"\[(.*)\]")[0]
    assert (rows.loc[codes] == 2).all()
    assert set(frame.loc[frame["respondent"].isin(codes), "rater"]) == {"professional"}
    ordinal = ranks[ranks["model"] == "ordinal_inspraak"]
    assert ordinal["parameter"].str.startswith("inspraak_gap_youth_vs_professional").any()
    # truths of the cut points come from the ordered prior only
    cuts = ordinal[ordinal["parameter"].str.startswith("threshold")].pivot(
        index="sim", columns="parameter", values="truth")
    assert (np.diff(cuts.to_numpy(), axis=1) > 0).all()
    paths = write_sbc(ranks, tmp_path, {"command": "test", "backend": DEFAULT_SBC_BACKEND})
    decision = pd.read_csv(paths["decision"])
    assert set(decision["decided_by"]) == {"ecdf"} and len(decision) == 3
    assert all(p.is_file() for p in paths["figures"])


def test_figure_from_stored_ranks(tmp_path):
    rng = np.random.default_rng(0)
    ranks = pd.concat([pd.DataFrame({"model": "m", "sim": range(40), "parameter": p,
                                     "kind": "parameter", "rank": rng.integers(0, 101, 40),
                                     "n_ranks": 101}) for p in ("a", "b[c]")])
    pngs = ecdf_figures(ranks, tmp_path)
    assert [p.name for p in pngs] == ["sbc_ecdf_m.png"]
    assert pngs[0].with_suffix(".pdf").is_file() and pngs[0].with_suffix(".svg").is_file()


def test_fitting_expected_reads_bambi_prior_p_as_cumulative():
    """Bambi's PyMC deterministic ``p`` (prior draws) holds P(Y <= k), not category probs."""
    from types import SimpleNamespace

    from triad.model_build import _expected

    # cumulative (0.1, 0.3, 0.6, 0.9) -> categories (0.1, 0.2, 0.3, 0.3, 0.1):
    # E = 1(.1) + 2(.2) + 3(.3) + 4(.3) + 5(.1) = 3.1 = K - sum(cumulative) = 5 - 1.9
    p = xr.DataArray(np.tile([0.1, 0.3, 0.6, 0.9], (1, 2, 3, 1)),
                     dims=("chain", "draw", "__obs__", "y_dim"))
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": p})})
    spec = SimpleNamespace(ordinal=True, family="cumulative")
    assert _expected(None, tree, spec) == pytest.approx(np.full((2, 3), 3.1))
