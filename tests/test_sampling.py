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
    sampling.sample_posterior(model, tf.sampler_args(spec, quick=False), "numpyro")
    assert "nuts_sampler_kwargs" not in seen  # the backends' own default, 10


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
