"""Design simulation: known-truth power, the Welch closed form, monotonicity, determinism."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from triad.design import (
    DRAW_COLUMNS,
    assurance_figure,
    behrens_fisher_p_direction,
    design_summary_for_report,
    required_n,
    run_design,
    simulate_assurance,
    welch_p_direction,
)
from triad.paths import models_dir

GRID = (5, 10, 20, 40, 80)


def _fixed(d, s_a, s_b, sector="x"):
    """One 'posterior draw': a known truth without uncertainty."""
    return pd.DataFrame({"contrast": "c", "sector": sector, "draw": [0], "mean_a": [d],
                         "sd_a": [s_a], "mean_b": [0.0], "sd_b": [s_b]})


def _uncertain(seed=0, n=400):
    """Posterior-like draws for two sectors: uncertain gaps and SDs."""
    rng = np.random.default_rng(seed)
    parts = []
    for sector, gap in (("a", -0.35), ("b", -0.1)):
        parts.append(pd.DataFrame({
            "contrast": "c", "sector": sector, "draw": np.arange(n),
            "mean_a": 4.0 + rng.normal(gap, 0.12, n), "sd_a": rng.uniform(0.85, 1.05, n),
            "mean_b": np.full(n, 4.0), "sd_b": rng.uniform(0.4, 0.5, n)}))
    return pd.concat(parts, ignore_index=True)[DRAW_COLUMNS]


def _welch_power(d, s_a, s_b, n, alpha=0.025, grid=600):
    """Exact power of Welch's test (one side at alpha, and 'either side'), by quadrature.

    The design's decision (95% HDI excludes 0) is the two-sided test at .05: each side at
    alpha = .025.

    The mean difference D ~ N(d, tau^2), tau^2 = (s_a^2 + s_b^2) / n, is independent of
    the sample variances S_g^2 = s_g^2 X_g / (n - 1), X_g ~ chi2(n - 1), which fix
    se = sqrt((S_a^2 + S_b^2) / n) and the Welch-Satterthwaite df nu; so
    P(T >= c) = E[1 - Phi((c(nu) se - d) / tau)] with c(nu) = t_(1-alpha, nu), and the
    wrong side adds E[Phi((-c(nu) se - d) / tau)].  The expectation over (X_a, X_b) is a
    midpoint rule on a grid of chi-square quantiles.
    """
    u = (np.arange(grid) + 0.5) / grid
    x = stats.chi2.ppf(u, n - 1) / (n - 1)
    va, vb = np.meshgrid(s_a**2 * x / n, s_b**2 * x / n, indexing="ij")
    se = np.sqrt(va + vb)
    nu = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1))
    c = stats.t.ppf(1 - alpha, nu)
    tau = np.sqrt((s_a**2 + s_b**2) / n)
    right = 1 - stats.norm.cdf((c * se - d) / tau)
    wrong = stats.norm.cdf((-c * se - d) / tau)
    return float(right.mean()), float((right + wrong).mean())


@pytest.mark.parametrize(("d", "s_a", "s_b"), [(0.3, 0.6, 0.6), (-0.25, 0.98, 0.45)])
def test_fixed_truth_assurance_is_welch_power(d, s_a, s_b):
    table = simulate_assurance(_fixed(d, s_a, s_b), GRID, reps=40_000, seed=3)
    for _, row in table.iterrows():
        right, either = _welch_power(abs(d), s_a, s_b, row["n_per_cell"])
        assert abs(row["assurance_correct"] - right) < 4 * row["mc_se_correct"], row
        assert abs(row["assurance"] - either) < 4 * row["mc_se"], row


def test_fixed_truth_equal_sds_is_t_test_power():
    from statsmodels.stats.power import TTestIndPower

    table = simulate_assurance(_fixed(0.3, 0.6, 0.6), GRID, reps=40_000, seed=4)
    for _, row in table.iterrows():
        n = int(row["n_per_cell"])
        # Student's power on the right side at .025 (the 95% HDI rule is two-sided at .05),
        # noncentral t: with df = 2n - 2, ncp = (d/s) sqrt(n/2),
        # 1 - nct.cdf(t.ppf(.975, df), df, ncp)
        #   == TTestIndPower().power(effect_size=d/s, nobs1=n, alpha=.025, ratio=1,
        #                            alternative="larger")
        df, ncp = 2 * n - 2, 0.5 * np.sqrt(n / 2)
        student = 1 - stats.nct.cdf(stats.t.ppf(0.975, df), df, ncp)
        assert student == pytest.approx(TTestIndPower().power(
            effect_size=0.5, nobs1=n, alpha=0.025, ratio=1, alternative="larger"))
        # Welch's test loses a little to Student's with equal SDs at small n (measured
        # 0.009 at n = 5, where the two tests differ by more than Monte Carlo error);
        # from n = 10 they agree within Monte Carlo error.
        slack = 0.015 if n < 10 else 0.0
        assert abs(row["assurance_correct"] - student) < 4 * row["mc_se_correct"] + slack


def test_welch_closed_form_matches_behrens_fisher_posterior():
    """p_direction from the Welch t equals the exact reference-prior posterior's closely."""
    rng = np.random.default_rng(11)
    worst = {}
    for i in range(36):
        n = (5, 10, 20, 40)[i % 4]
        ma, mb = rng.normal(0.0, 0.6 / np.sqrt(n), 2)
        sa, sb = rng.uniform(0.35, 1.2, 2)
        p_w, pd_w = welch_p_direction(ma, sa, n, mb, sb, n)
        p_bf, pd_bf = behrens_fisher_p_direction(ma, sa, n, mb, sb, n, seed=i)
        worst[n] = max(worst.get(n, 0.0), abs(float(p_w) - p_bf))
        assert float(pd_w) == pytest.approx(max(float(p_w), 1 - float(p_w)))
    # Monte Carlo error of the exact side: SE <= 0.0008 with 400,000 draws.
    assert worst[5] < 0.03 and worst[10] < 0.015 and worst[20] < 0.008 and worst[40] < 0.005
    # The decision: p_direction >= .95 <=> the smaller one-sided Welch p <= .05.  Equal
    # SDs s = 0.6 and n = 9 per group give se = s sqrt(2/9) and nu = 2 (n - 1) = 16; the
    # boundary is t_(.95, 16) = 1.7459.
    se = 0.6 * np.sqrt(2 / 9)
    for t in (-2.5, -1.70, 1.5, 1.74, 1.75, 1.9):
        _, pd_w = welch_p_direction(t * se, 0.6, 9, 0.0, 0.6, 9)
        p_one_sided = stats.t.sf(abs(t), 16)
        assert float(pd_w) == pytest.approx(1 - p_one_sided)
        assert (pd_w >= 0.95) == (p_one_sided <= 0.05) == (abs(t) >= stats.t.ppf(0.95, 16))


def test_assurance_is_monotone_in_n():
    table = simulate_assurance(_uncertain(), (5, 10, 20, 40, 80, 160, 320), reps=20, seed=1)
    for _, part in table.groupby("sector"):
        a = part.sort_values("n_per_cell")["assurance"].to_numpy()
        assert np.all(np.diff(a) > 0), a
    by = table.set_index(["sector", "n_per_cell"])["assurance"]
    assert by[("a", 320)] > by[("b", 320)]  # the larger gap is easier to confirm


def test_seeded_determinism_and_grid_independence():
    draws = _uncertain(seed=2)
    one = simulate_assurance(draws, (10, 40), reps=5, seed=9)
    two = simulate_assurance(draws, (10, 40), reps=5, seed=9)
    pd.testing.assert_frame_equal(one, two)
    # common random numbers: n = 40's row does not depend on the rest of the grid
    alone = simulate_assurance(draws, (40,), reps=5, seed=9)
    pd.testing.assert_frame_equal(
        one[one["n_per_cell"] == 40].reset_index(drop=True), alone)
    other = simulate_assurance(draws, (10, 40), reps=5, seed=10)
    assert not other["assurance"].equals(one["assurance"])


@pytest.mark.slow
def test_spawned_processes_equal_serial():
    draws = _uncertain(seed=3, n=100)
    serial = simulate_assurance(draws, (5, 20, 80), reps=5, seed=2)
    parallel = simulate_assurance(draws, (5, 20, 80), reps=5, seed=2, jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_required_n_and_not_reached(tmp_path):
    table = simulate_assurance(_uncertain(), (5, 20, 80, 320), reps=10, seed=1)
    req = required_n(table, 0.8).set_index("sector")
    assert req.loc["a", "status"] == "reached"
    a = table[table["sector"] == "a"].set_index("n_per_cell")["assurance"]
    n = req.loc["a", "n_per_cell"]
    assert a[n] >= 0.8 and all(a[m] < 0.8 for m in a.index if m < n)
    below = max(m for m in a.index if m < n)
    assert below < req.loc["a", "n_interpolated"] <= n
    assert req.loc["b", "status"] == "not reached in grid" and np.isnan(req.loc["b", "n_per_cell"])
    png = assurance_figure(table, tmp_path)
    assert png.is_file() and png.with_suffix(".pdf").is_file()
    done = run_design(_uncertain(), tmp_path / "design", (5, 20, 80), reps=2,
                      record={"command": "test"})
    summary = design_summary_for_report(tmp_path / "design")
    assert set(summary["sector"]) == {"a", "b"} and (summary["max_n"] == 80).all()
    assert done["record"]["grid"] == [5, 20, 80]


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        simulate_assurance(_fixed(0.1, 1, 1), (1, 5))
    with pytest.raises(ValueError, match="lack"):
        simulate_assurance(_fixed(0.1, 1, 1).drop(columns="sd_b"), (5,))


@pytest.mark.slow
@pytest.mark.sampling
def test_draws_from_a_fit_match_its_contrasts():
    """Cell-mean draws from a (small) metric_inspraak fit reproduce its gap contrasts."""
    from triad.design import design_draws
    from triad.fitting import fit
    from triad.specs import load_spec

    spec = load_spec(models_dir() / "metric_inspraak.toml")
    spec = dataclasses.replace(spec, sampler={**spec.sampler, "draws": 100, "tune": 150,
                                              "chains": 2})
    result = fit(spec)
    draws = design_draws(result)
    assert set(draws["sector"]) == {"special_education", "ambulatory_daycare", "residential"}
    gaps = (draws["mean_a"] - draws["mean_b"]).groupby(draws["sector"]).mean()
    c = result.contrasts
    c = c[c["contrast"] == "inspraak_gap_youth_vs_professional"].set_index("sector")
    for sector, gap in gaps.items():
        assert gap == pytest.approx(c.loc[sector, "estimate"], abs=1e-9)
    # youths' scores spread about twice as much as professionals' (Tables 3, 6, 8)
    assert (draws.groupby("sector")["sd_a"].mean() > draws.groupby("sector")["sd_b"].mean()).all()
