"""Multiverse variants, robustness columns, power-scaling sensitivity and LOO comparisons."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from triad.multiverse import (
    derive_spec,
    load_variants,
    loo_rejected,
    multiverse_specs,
    robustness_columns,
)
from triad.paths import models_dir
from triad.sensitivity import loo_compare, loo_pointwise, power_scaling, stored_loo
from triad.specs import SpecError, load_spec, load_specs


@pytest.fixture(scope="module")
def variants():
    return {v.name: v for v in load_variants()}


def test_variants_apply_to_gaussian_respondent_specs_only(variants):
    specs = load_specs()
    derived = multiverse_specs(specs)
    # variants of disc or thresholds apply to the ordinal specs, the others to Gaussian ones
    ordinal = [s for s in derived if s.ordinal]
    assert {s.name for s in ordinal} == {f"ordinal_{sc}~thresholds_rater" for sc in (
        "band", "doel", "taak", "opvoed", "inspraak")}
    derived = [s for s in derived if not s.ordinal]
    bases = {s.name.split("~")[0] for s in derived}
    assert bases == {"metric_alliantie", "metric_band", "metric_competences", "metric_doel",
                     "metric_inspraak", "metric_opvoed", "metric_taak"}
    # metric_inspraak_t is the t variant of metric_inspraak; competences has its own
    # no-pooling variant (its cells are 'scale_cell')
    names = {s.name for s in derived}
    assert "metric_inspraak~t" not in names and "metric_band~t" in names
    assert "metric_competences~no_pooling" not in names
    assert "metric_competences~no_pooling_competences" in names
    assert len(derived) == 7 * 5 - 1
    assert all(s.variant and s.sha256 != load_spec(s.path).sha256 for s in derived)


def test_prior_scale_multiplies_scales_and_divides_rates(variants):
    base = load_spec(models_dir() / "metric_band.toml")
    double = derive_spec(base, variants["prior_double"])
    half = derive_spec(base, variants["prior_half"])
    # base: group_gender Normal(3.5, 1.0); 1|cell Normal(0, Gamma(2, 4)); sigma/rater
    # Normal(-0.5, 0.7): a scale parameter x f, a Gamma rate / f, locations unchanged
    assert double.priors["group_gender"]["sigma"] == pytest.approx(2.0)
    assert double.priors["group_gender"]["mu"] == pytest.approx(3.5)
    assert half.priors["1|cell"]["sigma"]["beta"] == pytest.approx(8.0)
    assert double.priors["1|cell"]["sigma"]["alpha"] == pytest.approx(2.0)
    assert half.priors["sigma/rater"]["sigma"] == pytest.approx(0.35)
    assert "x 0.5" in half.priors["group_gender"]["why"]


def test_structural_variants(variants):
    base = load_spec(models_dir() / "metric_doel.toml")
    common = derive_spec(base, variants["sigma_common"])
    assert common.sigma_formula is None
    assert "sigma/rater" not in common.priors and common.priors["sigma"]["dist"] == "HalfNormal"
    t = derive_spec(base, variants["t"])
    assert t.family == "t" and t.priors["nu"]["dist"] == "Gamma"
    pooled = derive_spec(base, variants["no_pooling"])
    hyper = pooled.priors["1|cell"]["sigma"]
    # Gamma(400, 400): mean 1, SD 1/sqrt(400) = 0.05 -- a nearly fixed cell SD of 1 point
    assert hyper["alpha"] / hyper["beta"] == pytest.approx(1.0)
    assert np.sqrt(hyper["alpha"]) / hyper["beta"] == pytest.approx(0.05)
    assert pooled.name == "metric_doel~no_pooling" and pooled.formula == base.formula
    assert pooled.sampler == {**base.sampler, "draws": 2000}
    comp = derive_spec(load_spec(models_dir() / "metric_competences.toml"),
                       variants["no_pooling_competences"])
    assert comp.sampler["target_accept"] == 0.99 and comp.sampler["draws"] == 2000
    assert comp.sampler["seed"] == base.sampler["seed"]


def test_bad_variant_file_names_file_and_key(tmp_path):
    bad = tmp_path / "variants.toml"
    bad.write_text('[[variant]]\nname = "x"\nlabel = "x"\naxis = "a"\nwhy = "w"\n'
                   'applies_to = ["metric_*"]\nprior_scale = -1\n')
    with pytest.raises(SpecError, match=r"variants.toml: key 'variant\[0\].prior_scale'"):
        load_variants(bad)
    bad.write_text('[[variant]]\nname = "x"\nlabel = "x"\naxis = "a"\nwhy = "w"\n'
                   'applies_to = ["metric_*"]\nformula = "score ~ 1"\n')
    with pytest.raises(SpecError, match=r"variant\[0\].formula"):
        load_variants(bad)
    bad.write_text('[[variant]]\nname = "x"\nlabel = "x"\naxis = "a"\nwhy = "w"\n'
                   'applies_to = ["metric_*"]\n[variant.priors.nu]\ndist = "Gamma"\n'
                   'alpha = 2.0\nbeta = 0.1\n')  # a new prior without its 'why'
    variant = load_variants(bad)[0]
    with pytest.raises(SpecError, match="priors.nu.why"):
        derive_spec(load_spec(models_dir() / "metric_band.toml"), variant)


def test_robustness_counts_the_other_universes_that_pass_and_loo_keeps():
    claims = pd.DataFrame([{"claim_id": "C1", "group_b": "b", "bayes_model": "m",
                            "conclusion": "higher", "paper_verdict": "significant",
                            "direction": "first_higher"}])
    # model, conclusion, gates passed, LOO-rejected
    rows = [("m", "higher", True, False), ("m~t", "higher", True, False),
            ("m~x", "undecided", True, False), ("m~y", "higher", True, False),
            ("m~z", "lower", True, False), ("m~w", "lower", False, False),
            ("m~v", "lower", True, True)]
    universes = pd.DataFrame([{"claim_id": "C1", "group_b": "b", "model": m, "conclusion": c,
                               "gates_passed": g, "loo_rejected": r} for m, c, g, r in rows])
    out = robustness_columns(claims, universes).iloc[0]
    # other universes that pass and LOO keeps: m~t, m~x, m~y, m~z; 2 of them agree: 2/4
    assert out["universes"] == 4 and out["universes_agree"] == 2
    assert out["robustness"] == pytest.approx(0.5) and out["robust"] == "fragile"
    assert out["universes_failed_gates"] == 1 and out["universes_loo_rejected"] == 1
    # support for the paper over every counted universe, primary included: m, m~t, m~y of 5
    assert out["paper_support_share"] == pytest.approx(0.6)
    assert out["dissenting_universes"] == "m~x: undecided; m~z: lower"
    # the threshold is an option: 0.5 agreeing is robust at 0.5
    assert robustness_columns(claims, universes, fragile_below=0.5).iloc[0]["robust"] == (
        "robust")


def test_loo_rejects_only_clearly_worse_models():
    compared = pd.DataFrame({"model": ["best", "close", "noisy", "bad"],
                             "elpd_diff": [0.0, -3.0, -6.0, -9.0],
                             "dse": [0.0, 1.0, 3.5, 2.0]})
    # -6 with SE 3.5 is not 2 SE worse; -9 with SE 2 is worse by > 4 and > 2 SE
    assert loo_rejected(compared) == {"bad"}


def _normal_idata(prior_sd: float, seed: int = 0, n: int = 50, ybar: float = 3.0):
    """Exact conjugate posterior of a normal mean (sigma = 1) with a N(0, prior_sd) prior."""
    rng = np.random.default_rng(seed)
    y = ybar + rng.standard_normal(n)
    y = y - y.mean() + ybar
    post_var = 1 / (1 / prior_sd**2 + n)
    post_mean = post_var * n * ybar
    mu = rng.normal(post_mean, np.sqrt(post_var), size=(4, 1000))
    ll = stats.norm.logpdf(y[None, None, :], mu[..., None], 1.0)
    lp = stats.norm.logpdf(mu, 0.0, prior_sd)
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"theta": (("chain", "draw"), mu)}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll)}),
        "log_prior": xr.Dataset({"theta": (("chain", "draw"), lp)})})


def _exact_elpd_loo(prior_sd: float, seed: int = 0, n: int = 50, ybar: float = 3.0) -> float:
    """Exact leave-one-out elpd of the conjugate model: y_i | y_-i ~ N(m_-i, 1 + v_-i)."""
    rng = np.random.default_rng(seed)
    y = ybar + rng.standard_normal(n)
    y = y - y.mean() + ybar
    v = 1 / (1 / prior_sd**2 + n - 1)
    m = v * (y.sum() - y)
    return float(stats.norm.logpdf(y, m, np.sqrt(1 + v)).sum())


def test_power_scaling_separates_weak_prior_from_conflict():
    weak = power_scaling(_normal_idata(prior_sd=100.0)).set_index("quantity")
    # Prior N(0, 100) against 50 observations: the prior barely matters, the data do.
    assert weak.loc["theta", "prior"] < 0.01 and weak.loc["theta", "likelihood"] > 0.05
    assert weak.loc["theta", "diagnosis"] == ""
    conflict = power_scaling(_normal_idata(prior_sd=0.1)).set_index("quantity")
    # Prior N(0, 0.1) against data centred at 3: precision 100 vs 50, posterior in between,
    # so scaling either component moves it -- the prior-data conflict pattern.
    assert conflict.loc["theta", "prior"] > 0.05 and conflict.loc["theta", "likelihood"] > 0.05
    assert conflict.loc["theta", "diagnosis"] == "prior-data conflict"


def test_power_scaling_includes_named_contrasts():
    idata = _normal_idata(prior_sd=0.1)
    draws = idata.posterior["theta"].values.ravel() * 2.0  # a derived quantity
    table = power_scaling(idata, {"twice_theta@all": draws}).set_index("quantity")
    assert table.loc["twice_theta@all", "kind"] == "contrast"
    # CJS distance is invariant to scaling the quantity by a positive constant
    assert table.loc["twice_theta@all", "prior"] == pytest.approx(table.loc["theta", "prior"],
                                                              rel=1e-6)


def test_loo_matches_the_exact_leave_one_out_elpd():
    # PSIS-LOO from exact posterior draws against the closed-form LOO predictive density
    for prior_sd in (100.0, 0.1):
        summary, point = loo_pointwise(_normal_idata(prior_sd=prior_sd, seed=1))
        exact = _exact_elpd_loo(prior_sd, seed=1)
        assert summary["elpd_loo"] == pytest.approx(exact, abs=0.1)
        assert point["elpd_loo_i"].sum() == pytest.approx(summary["elpd_loo"], rel=1e-9)
        assert summary["loo_n"] == 50 and summary["pareto_k_bad"] == 0


def test_loo_compare_equals_arviz_compare_on_the_same_fits(tmp_path):
    a, b = _normal_idata(prior_sd=100.0, seed=1), _normal_idata(prior_sd=0.1, seed=1)
    ref = az.compare({"a": a, "b": b}, round_to="none")
    # what the run compares: each fit's PSIS-LOO as the fit stored it (loo.csv and the
    # summary numbers), read back from disk
    stored = {}
    for name, idata in (("a", a), ("b", b)):
        summary, point = loo_pointwise(idata)
        point.to_csv(tmp_path / f"{name}.csv", index=False)
        stored[name] = stored_loo(pd.read_csv(tmp_path / f"{name}.csv"), summary)
    fits = {"a": (stored["a"], "same-data"), "b": (stored["b"], "same-data")}
    ours = loo_compare(fits).set_index("model")
    for model in ("a", "b"):
        for ours_col, ref_col in (("elpd_loo", "elpd"), ("p_loo", "p"),
                                  ("elpd_diff", "elpd_diff"), ("dse", "dse"),
                                  ("weight", "weight")):
            assert ours.loc[model, ours_col] == pytest.approx(ref.loc[model, ref_col],
                                                              rel=1e-9, abs=1e-9)
    assert ours["pareto_k_bad"].tolist() == [0, 0]
    # the exact elpd difference (worse minus best): the N(0, 0.1) prior conflicts with data
    # centred at 3
    diff = _exact_elpd_loo(0.1, seed=1) - _exact_elpd_loo(100.0, seed=1)
    assert ours.loc["b", "elpd_diff"] == pytest.approx(diff, abs=0.2)
    # different data keys are never compared
    fits["b"] = (b, "other-data")
    assert loo_compare(fits).empty
