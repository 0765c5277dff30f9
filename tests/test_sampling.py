"""Sampling helpers shared by fitting and ordinal_model: adjusted contrasts, posterior and prior."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from triad.sampling import counterfactual_draws

GENDER, AGE = -0.2, 0.1  # the data-generating effects


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Professionals in two sectors with a gender and an age each."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"scale": "s", "rater": "professional", "target": "youth",
                          "role": "social_worker", "sector": rng.choice(["a", "b"], n),
                          "gender": rng.choice(["male", "female"], n),
                          "age": rng.normal(40, 10, n),
                          "respondent": [f"r{i}" for i in range(n)]})
    frame["group_gender"] = "professional>youth:" + frame["gender"]
    frame["age_z"] = (frame["age"] - frame["age"].mean()) / frame["age"].std()
    return frame


def _mu(frame: pd.DataFrame) -> np.ndarray:
    return (3.5 + GENDER * (frame["gender"] == "male").to_numpy()
            + AGE * frame["age_z"].to_numpy())


def _expected(tree, data):
    """Draws x rows of a linear predictor, shifted per draw by the tree's offsets."""
    return _mu(data)[None, :] + tree["offset"][:, None]


def test_counterfactual_draws_posterior_and_prior_from_the_spec_formula():
    frame = _frame(200, seed=3)
    post, prior = {"offset": np.zeros(4)}, {"offset": np.array([0.0, 1.0, 2.0])}
    spec = SimpleNamespace(formula="score ~ 0 + group_gender + age_z", sigma_formula="")
    out = counterfactual_draws(_expected, post, prior, spec, frame, _expected(post, frame),
                               _expected(prior, frame), chains=2)
    posterior, prior_draws = out  # unpacking fails on None: the sizes below are the check
    assert posterior.sizes["chain"] == 2 and posterior.sizes["draw"] == 2
    assert prior_draws.sizes["chain"] == 1 and prior_draws.sizes["draw"] == 3
    for draws in (posterior, prior_draws):
        pick = draws.set_index(contrast=["name", "sector", "estimand"])
        # the codebook's first gender minus its second (male minus female): the coefficient
        gap = pick.sel(contrast=("s_gender_gap_professionals_about_youth", "all", "adjusted"))
        assert np.allclose(gap, GENDER)
        age = pick.sel(contrast=("s_age_per_sd_professionals_about_youth", "all", "adjusted"))
        assert np.allclose(age, AGE)


def test_counterfactual_draws_none_without_gender_or_age_terms():
    frame = _frame(50, seed=4)
    post = {"offset": np.zeros(2)}
    spec = SimpleNamespace(formula="score ~ 0 + group", sigma_formula="")
    base = _expected(post, frame)
    assert counterfactual_draws(_expected, post, post, spec, frame, base, base, 1) is None


def test_sample_posterior_is_the_fitting_sampler():
    import triad.fitting
    import triad.ordinal_model
    from triad import sampling

    # both model builders call the one shared function (a benchmark replaces it once)
    for module in (triad.fitting, triad.ordinal_model):
        assert module.sampling is sampling
    with pytest.raises(ValueError, match="backend"):
        triad.fitting.sample(None, {}, backend="stan")


def test_quick_runs_cap_the_tree_depth_for_every_backend(monkeypatch):
    import pymc as pm

    import triad.fitting as tf
    from triad import sampling

    spec = tf.resolve_model("metric_inspraak")
    assert "max_treedepth" not in tf.sampler_args(spec, quick=False)
    args = tf.sampler_args(spec, quick=True)
    assert args["max_treedepth"] == tf.QUICK_MAX_TREEDEPTH == 6
    seen = {}
    monkeypatch.setattr(pm, "sample", lambda **kw: seen.update(kw))
    with pm.Model() as model:
        pm.Normal("x")
    sampling.sample_posterior(model, args, "numpyro")
    assert seen["nuts_sampler_kwargs"] == {"max_tree_depth": 6}
    sampling.sample_posterior(model, args, "nutpie")
    assert seen["nuts_sampler_kwargs"] == {"maxdepth": 6}
    seen.clear()
    sampling.sample_posterior(model, args, "pymc")
    assert seen["max_treedepth"] == 6 and "nuts_sampler_kwargs" not in seen
    seen.clear()
    # a fixed length (ess_target 0) goes to pm.sample; by target ESS see below
    sampling.sample_posterior(model, {**tf.sampler_args(spec, quick=False), "ess_target": 0},
                              "numpyro")
    assert seen and "nuts_sampler_kwargs" not in seen  # the backends' own default, 10


def test_the_compile_cache_is_set_where_asked(tmp_path, monkeypatch):
    import jax

    from triad import sampling

    monkeypatch.setattr(sampling, "_COMPILE_CACHE", {"folder": None})
    before = jax.config.jax_compilation_cache_dir
    sampling._configure_jax()  # off: nothing changes
    assert jax.config.jax_compilation_cache_dir == before
    sampling.use_compile_cache(tmp_path / "jax")
    try:
        sampling._configure_jax()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax")
        assert (tmp_path / "jax").is_dir()
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


def _normal_model():
    import pymc as pm

    y = np.random.default_rng(5).normal(1.0, 2.0, size=40)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("mu_plus_sigma", mu + sigma)
        pm.Normal("y", mu, sigma, observed=y)
    return model


@pytest.mark.slow
@pytest.mark.sampling
def test_draws_by_ess_are_the_first_draws_of_the_fixed_length_run():
    from triad import sampling
    from triad.convergence import diagnostics

    model = _normal_model()
    args = {"draws": 900, "tune": 300, "chains": 2, "seed": 11, "target_accept": 0.9,
            "draws_min": 300, "draws_step": 200}
    # the reference: PyMC's own pm.sample(nuts_sampler="numpyro") at the full length
    full = sampling.sample_posterior(model, {**args, "ess_target": 0}, "numpyro")
    assert "draws_by_ess" not in full["posterior"].attrs
    # a target no run reaches: every block is checked, none stops the chains
    never = sampling.sample_posterior(model, {**args, "ess_target": 10**6}, "numpyro")
    assert never["posterior"].sizes["draw"] == 900
    for group in ("posterior", "sample_stats"):
        assert set(never[group].data_vars) == set(full[group].data_vars)
        for v in full[group].data_vars:
            np.testing.assert_array_equal(never[group][v].values, full[group][v].values)
    assert set(never.children) == set(full.children)
    checks = never["posterior"].attrs["draws_by_ess"]
    assert [c.split(":")[0] for c in checks.split(" | ")[:-1]] == ["300", "500", "700", "900"]
    assert checks.endswith("not reached by the maximum of draws: ESS target 1000000")

    # the gates' 400 with a margin: the first block at which the full run's first draws
    # pass every gate with bulk and tail ESS >= 450 (recomputed here from the full run)
    target = 450

    def reached(n: int) -> bool:
        d = diagnostics(full.isel(draw=slice(0, n)))
        return d["gates_passed"] and min(d["ess_bulk_min"], d["ess_tail_min"]) >= target

    expected = next(n for n in (300, 500, 700, 900) if reached(n))
    early = sampling.sample_posterior(model, {**args, "ess_target": target}, "numpyro")
    n = early["posterior"].sizes["draw"]
    assert n == expected < 900
    np.testing.assert_array_equal(early["posterior"]["mu"].values,
                                  full["posterior"]["mu"].values[:, :n])
    assert early["posterior"].attrs["draws_by_ess"].endswith(
        "stopped: gates passed with ESS >= 450")
    # the stopping check's diagnostics, which fit() records, are those of the kept draws
    import json

    checked = json.loads(early["posterior"].attrs[sampling.DIAGNOSTICS_ATTR])
    again = diagnostics(early)
    assert checked["gates_passed"] and checked.keys() == again.keys()
    for key, value in again.items():
        assert checked[key] == pytest.approx(value, nan_ok=True), key


def test_sampler_stopping_settings_are_validated(tmp_path):
    import tomllib

    from triad.paths import models_dir
    from triad.specs import SpecError, load_spec

    text = (models_dir() / "metric_inspraak.toml").read_text()
    assert tomllib.loads(text)["sampler"]["draws"] == 1000
    for key, value in (("ess_target", -1), ("draws_min", 0), ("draws_step", 0),
                       ("dense_mass", 1)):
        path = tmp_path / key / "metric_inspraak.toml"  # a spec's name is its file's
        path.parent.mkdir()
        path.write_text(text.replace("[sampler]\n", f"[sampler]\n{key} = {value}\n"))
        with pytest.raises(SpecError, match=f"sampler.{key}"):
            load_spec(path)
    path = tmp_path / "metric_inspraak.toml"
    path.write_text(text.replace("[sampler]\n", "[sampler]\ness_target = 0\n"))
    assert load_spec(path).sampler["ess_target"] == 0
    path.write_text(text.replace("[sampler]\n", "[sampler]\ndense_mass = true\n"))
    assert load_spec(path).sampler["dense_mass"] is True


def test_xla_flags_are_added_for_the_measured_jaxlib_line_only(monkeypatch):
    import os
    from importlib import metadata

    import triad.sampling as sampling

    flag = "--xla_cpu_experimental_ynn_fusion_type="
    assert sampling.XLA_CPU_FLAGS["0.12"] == (flag,)
    real = metadata.version

    def jaxlib_is(version):
        monkeypatch.setattr(metadata, "version",
                            lambda name: version if name == "jaxlib" else real(name))

    jaxlib_is("0.12.0.1")
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=100")
    assert sampling.configure_xla() == "--xla_force_host_platform_device_count=100 " + flag
    assert sampling.configure_xla() == os.environ["XLA_FLAGS"]  # not added twice
    # the user's own value of the flag is kept
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=reduce")
    assert sampling.configure_xla() == "--xla_cpu_experimental_ynn_fusion_type=reduce"
    # another release line: XLA would abort on a flag it does not know, so none is added
    jaxlib_is("0.13.0")
    monkeypatch.setenv("XLA_FLAGS", "")
    assert sampling.configure_xla() == ""
    monkeypatch.delenv("XLA_FLAGS")
    assert sampling.configure_xla() == ""


def test_xla_gets_one_host_device_per_chain_unless_the_user_set_a_number(monkeypatch):
    import os
    import subprocess
    import sys

    import triad.sampling as sampling

    # PyMC's JAX module (imported in this process) sets 100 devices; triad puts back 4 and
    # keeps every other flag
    assert sampling.HOST_DEVICES == 4
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=100 --xla_a=1")
    assert sampling.configure_host_devices() == (
        "--xla_force_host_platform_device_count=4 --xla_a=1")
    # in a fresh process, on import: the devices JAX sees, and a number the user set
    probe = ("import os, jax, triad.sampling; print(jax.local_device_count(), "
             "os.environ['XLA_FLAGS'].count('device_count'))")
    for flags, devices in (("", "4"), ("--xla_force_host_platform_device_count=6", "6")):
        env = {**os.environ, "XLA_FLAGS": flags}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        assert out == [devices, "1"]


def _correlated_model():
    """Two parameters correlated 0.99 beside 100 independent ones (all standard normal)."""
    import pymc as pm

    with pm.Model() as model:
        pm.MvNormal("pair", mu=np.zeros(2), cov=np.array([[1.0, 0.99], [0.99, 1.0]]))
        pm.Normal("many", 0.0, 1.0, shape=100)
    return model


@pytest.mark.sampling
def test_dense_mass_block_learns_the_correlation_of_the_small_parameters():
    from triad import sampling

    model = _correlated_model()
    # 2 elements share the dense block; 100 > DENSE_MAX_SIZE stay diagonal
    assert sampling.dense_block(model) == ["pair"]
    args = {"draws": 300, "tune": 500, "chains": 2, "seed": 3, "target_accept": 0.8,
            "ess_target": 0}
    diag = sampling.sample_posterior(model, args, "numpyro")
    dense = sampling.sample_posterior(model, {**args, "dense_mass": True}, "numpyro")
    assert dense["posterior"].sizes["draw"] == 300 and dense["posterior"].sizes["chain"] == 2
    # fewer draws than the stopping rule's first block (a quick run's): the draws asked
    short = sampling.sample_posterior(
        model, {**args, "draws": 120, "ess_target": 500, "draws_min": 500, "draws_step": 250,
                "dense_mass": True}, "numpyro")
    assert short["posterior"].sizes["draw"] == 120

    def steps(tree) -> float:
        return float(tree["sample_stats"]["n_steps"].mean())

    # A diagonal mass sees the pair's marginal SD 1 but must step within its narrow axis,
    # SD sqrt(1 - 0.99) = 0.1: about 10x more leapfrog steps than a mass that knows the
    # correlation (measured: about 15 against 3)
    assert steps(dense) < steps(diag) / 3
    pair = dense["posterior"]["pair"].values.reshape(-1, 2)
    assert np.corrcoef(pair.T)[0, 1] == pytest.approx(0.99, abs=0.005)
    assert pair.std(axis=0) == pytest.approx([1.0, 1.0], abs=0.2)
    with pytest.raises(ValueError, match="numpyro"):
        sampling.sample_posterior(model, {**args, "dense_mass": True}, "pymc")
    # fit() asks for it only with numpyro: other backends adapt their own diagonal mass
    import triad.fitting as tf

    spec = tf.resolve_model("ordinal_inspraak")
    assert tf.sampler_args(spec, quick=False)["dense_mass"] is True
    for backend in ("pymc", "nutpie"):
        assert "dense_mass" not in tf.sampler_args(spec, quick=False, backend=backend)
