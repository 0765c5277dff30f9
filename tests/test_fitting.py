"""Fitting: gates, storage, caching, determinism; summary and metric models agree."""

import dataclasses
import json
from importlib import metadata

import arviz as az
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from triad.cli import app
from triad.fitting import FIT_FORMAT, fit, load_fit
from triad.paths import default_data, models_dir
from triad.readers import read_respondents
from triad.specs import load_spec

pytestmark = [pytest.mark.sampling, pytest.mark.slow]
MODELS = models_dir()


@pytest.fixture(scope="module")
def synthetic():
    return read_respondents(default_data())


def _small(spec, draws=300, seed=3):
    return dataclasses.replace(spec, sampler={**spec.sampler, "draws": draws, "tune": draws,
                                              "chains": 2, "seed": seed})


def test_fit_is_stored_cached_and_deterministic(tmp_path):
    spec = _small(load_spec(MODELS / "summary_cells.toml"))
    first = fit(spec, out=tmp_path)
    folder = first.path
    assert sorted(p.name for p in folder.iterdir()) == [
        "cell_means.csv", "claims.csv", "contrasts.csv", "excluded.csv", "fit.json", "fit.nc",
        "loo.csv", "ppc.csv", "ppc_cells.csv", "rope_sensitivity.csv", "sensitivity.csv"]
    assert not list(folder.parent.glob("*.tmp*"))
    record = json.loads((folder / "fit.json").read_text())
    assert record["seed"] == 3 and record["backend"] == "numpyro"
    assert record["format"] == FIT_FORMAT
    assert record["versions"]["pymc"] == metadata.version("pymc")
    assert record["data_source"] == "published"
    again = fit(spec, out=tmp_path)
    assert again.cached and again.contrasts.equals(first.contrasts)
    # other summary settings: recomputed from the stored draws, never the cached table
    wider = fit(spec, out=tmp_path, rope=0.2, ci_prob=0.9)
    assert wider.cached and set(wider.contrasts["rope"]) == {0.2}
    diffs = xr.open_datatree(folder / "fit.nc")["contrast_draws"]["difference"]
    by_hand = (np.abs(diffs.stack(s=("chain", "draw"))) <= 0.2).mean("s").to_numpy()
    np.testing.assert_allclose(wider.contrasts["p_rope"], by_hand)
    assert (wider.contrasts["p_rope"] >= first.contrasts["p_rope"]).all()
    assert ((wider.contrasts["ci_high"] - wider.contrasts["ci_low"])
            < (first.contrasts["ci_high"] - first.contrasts["ci_low"])).all()
    assert load_fit(folder).contrasts.equals(first.contrasts)
    assert load_fit("summary_cells", out=tmp_path).contrasts.equals(first.contrasts)
    # same seed, no cache: identical draws
    fresh = fit(spec, use_cache=False)
    np.testing.assert_array_equal(fresh.idata.posterior["mu"].values,
                                  first.idata.posterior["mu"].values)
    assert set(first.contrasts["data_source"]) == {"published"}
    # a damaged cache entry is never read: it is refitted (same seed, same draws)
    (folder / "fit.json").write_text("{ half a file")
    redone = fit(spec, out=tmp_path)
    assert not redone.cached
    np.testing.assert_array_equal(redone.idata.posterior["mu"].values,
                                  first.idata.posterior["mu"].values)
    (folder / "loo.csv").unlink()
    assert not fit(spec, out=tmp_path).cached


def test_stored_fit_opens_in_arviz_without_triad(tmp_path, synthetic):
    spec = _small(load_spec(MODELS / "metric_inspraak.toml"), draws=200)
    result = fit(spec, synthetic, out=tmp_path)
    dt = az.from_netcdf(result.path / "fit.nc")
    assert {"posterior", "sample_stats", "prior", "prior_predictive", "observed_data",
            "constant_data", "log_likelihood", "posterior_predictive"} <= set(dt.children)
    assert dt["log_likelihood"]["score"].dtype == np.float32
    n_obs = dt["observed_data"].sizes["__obs__"]
    assert dt["posterior_predictive"]["score"].shape == (2, 200, n_obs)
    # PSIS-LOO of the stored fit equals the one triad reported at fit time
    assert az.loo(dt).elpd == pytest.approx(result.diagnostics["elpd_loo"], rel=1e-6)
    pit = az.loo_pit(dt)["score"].to_numpy()
    assert pit.shape == (n_obs,) and 0.3 < pit.mean() < 0.7  # calibrated, not degenerate
    # constant_data: predictors with pseudonymous codes, never the file's respondent ids
    codes = set(dt["constant_data"]["respondent"].to_numpy().astype(str))
    assert len(codes) == n_obs == 174 + 191  # one Inspraak score per youth and professional
    assert not codes & set(synthetic.wide["respondent_id"].astype(str))


def test_gate_failure_is_flagged_and_strict_exits_1(tmp_path):
    text = (MODELS / "summary_cells.toml").read_text().replace("draws = 1000", "draws = 20")
    text = text.replace("tune = 1000", "tune = 20")
    spec_path = tmp_path / "summary_cells.toml"
    spec_path.write_text(text)
    result = CliRunner().invoke(app, ["fit", str(spec_path), "--out", str(tmp_path / "r"),
                                      "--strict"])
    assert result.exit_code == 1, result.output
    assert "GATES FAILED" in result.output and "NOT A FINDING" in result.output
    contrasts = next((tmp_path / "r" / "fits").rglob("contrasts.csv")).read_text()
    assert "False" in contrasts.splitlines()[1]


def test_summary_and_metric_models_agree_on_synthetic(synthetic):
    # The summary model sees only the synthetic file's cell n/M/SD; the metric model the
    # respondents.  Population-averaged contrasts must agree up to Monte Carlo error and the
    # metric model's partial pooling and covariates (0.05 scale points; intervals ~0.4 wide).
    metric = fit(load_spec(MODELS / "metric_inspraak.toml"), synthetic)
    summary = fit(load_spec(MODELS / "summary_cells.toml"), synthetic)
    assert metric.passed and summary.passed
    m = metric.contrasts.query("estimand == 'descriptive'").set_index(["contrast", "sector"])
    s = summary.contrasts.query("estimand == 'descriptive'").set_index(["contrast", "sector"])
    names = [k for k in m.index if k[0] == "inspraak_gap_youth_vs_professional"
             or k[0].startswith("inspraak_sector_diff")]
    assert len(names) == 10
    for key in names:
        assert abs(m.loc[key, "estimate"] - s.loc[key, "estimate"]) < 0.05, key
    # Partial pooling pulls the residential gap from its raw value (Tables 6 and 8, which the
    # synthetic file reproduces: 3.70 - 4.34 = -0.64) towards the pooled gap (about -0.35),
    # but not past it.
    for res in (m, s):
        gap = res.loc[("inspraak_gap_youth_vs_professional", "residential"), "estimate"]
        pooled = res.loc[("inspraak_gap_youth_vs_professional", "all"), "estimate"]
        assert -0.64 < gap < pooled < -0.3
