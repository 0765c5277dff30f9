"""The PyMC ordinal builder: stable log-likelihood, Bambi equivalence, specs, recovery."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

from triad.multiverse import derive_spec, load_variants, multiverse_specs
from triad.ordinal_model import build, log_category_probability
from triad.paths import models_dir
from triad.specs import SpecError, load_spec, load_specs, spec_from_raw

MODELS = models_dir()
TAU = np.array([-2.0, -0.67, 0.67, 2.0])


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - e^x) for x < 0 (Maechler 2012: expm1 near 0, log1p further out)."""
    return np.where(x > -np.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _reference(eta: np.ndarray, y: np.ndarray, disc: float, link: str) -> np.ndarray:
    """log P(y) by scipy, in log space.

    With a = disc (tau_{y-1} - eta), b = disc (tau_y - eta) and log F the log CDF
    (``special.log_ndtr`` or ``special.log_expit``):
    log(F(b) - F(a)) = log F(b) + log1mexp(log F(a) - log F(b))        if a <= 0,
                     = log F(-a) + log1mexp(log F(-b) - log F(-a))     if a > 0
    (F(b) - F(a) = F(-a) - F(-b) for a symmetric F: the upper tail, where F(a) ~ 1),
    with log F(b) for the lowest category and log F(-a) for the highest.
    """
    log_f = special.log_ndtr if link == "probit" else special.log_expit
    cut = disc * (np.concatenate([[-np.inf], TAU, [np.inf]])[None, :] - eta[:, None])
    a, b = cut[np.arange(len(y)), y], cut[np.arange(len(y)), y + 1]
    with np.errstate(all="ignore"):
        lower = log_f(b) + _log1mexp(log_f(a) - log_f(b))
        upper = log_f(-a) + _log1mexp(log_f(-b) - log_f(-a))
    out = np.where(a > 0, upper, lower)
    return np.where(y == 0, log_f(b), np.where(y == len(TAU), log_f(-a), out))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_log_likelihood_is_finite_and_exact_at_extreme_eta(link):
    import jax
    import jax.numpy as jnp
    import pytensor
    import pytensor.tensor as pt
    from pymc.sampling.jax import get_jaxified_graph

    jax.config.update("jax_enable_x64", True)
    eta = np.repeat([-30.0, -12.0, -8.0, -3.0, 0.0, 3.0, 8.0, 12.0, 30.0], 5)
    y = np.tile(np.arange(5), 9)
    for disc in (1.0, 2.0):
        e = pt.dvector("eta")
        cut = disc * (pt.as_tensor(TAU)[None, :] - e[:, None])
        low, high = np.clip(y - 1, 0, 3), np.clip(y, 0, 3)
        rows = np.arange(len(y))
        logp = log_category_probability(cut[rows, low], cut[rows, high], y > 0, y < 4, link)
        fn = pytensor.function([e], [logp, pytensor.grad(logp.sum(), e)])
        value, grad = fn(eta)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
        # atol: the logit form takes one log of a product, so where log P is about -1e-12
        # (an answer far inside its category) its error is 1e-17 absolute, not relative;
        # summed into a log density that is rounding
        np.testing.assert_allclose(value, _reference(eta, y, disc, link), rtol=1e-9,
                                   atol=1e-15)
        # as the numpyro sampler differentiates it (PyMC's JAX graph, jax.grad): a NaN
        # there, from an infinite untaken branch of a switch, once left a chain stuck
        graph = get_jaxified_graph(inputs=[e], outputs=[logp])
        value, grad = jax.value_and_grad(lambda x, g=graph: g(x)[0].sum())(jnp.asarray(eta))
        assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    # what differences of probabilities give (as Bambi computes them): log(0) for a
    # middle answer far below eta, where both CDFs round to 1
    cdf = special.ndtr if link == "probit" else special.expit
    with np.errstate(divide="ignore"):
        assert np.log(cdf(TAU[2] + 40.0) - cdf(TAU[1] + 40.0)) == -np.inf


def _frame(n_resp: int = 40, seed: int = 0, disc_youth: float = 0.5) -> pd.DataFrame:
    """Simulated answers of youths and professionals (4 items each), youths' latent SD
    ``1 / disc_youth`` times the professionals'."""
    rng = np.random.default_rng(seed)
    rows = []
    for rater, disc, shift in (("professional", 1.0, 0.5), ("youth", disc_youth, 0.0)):
        for j in range(n_resp):
            resp_effect = rng.normal(0, 0.7)
            for item in range(4):
                latent = shift + resp_effect + rng.logistic() / disc
                rows.append({"rater": rater, "respondent": f"{rater[0]}{j}",
                             "item": f"{rater}_{item}", "group_gender": f"{rater}:unknown",
                             "value": int(np.searchsorted(TAU, latent)) + 1})
    frame = pd.DataFrame(rows)
    frame["value"] = pd.Categorical(frame["value"], categories=[1, 2, 3, 4, 5], ordered=True)
    return frame


def _spec(tmp_path, **extra):
    raw = {"name": "ordinal_sim", "description": "simulated", "data": "respondent",
           "level": "item", "scales": ["inspraak"],
           "rows": ["youth>professional", "professional>youth"],
           "family": "cumulative_logit", "disc": "rater",
           "formula": "value ~ 0 + group_gender + (1|respondent)", "contrasts": [],
           "priors": {
               "group_gender": {"dist": "Normal", "mu": 0.0, "sigma": 2.0, "why": "w"},
               "1|respondent": {"dist": "Normal", "mu": 0.0,
                                "sigma": {"dist": "HalfNormal", "sigma": 1.0}, "why": "w"},
               "threshold": {"dist": "Normal", "mu": TAU.tolist(), "sigma": 1.5, "why": "w"},
               "disc": {"dist": "Normal", "mu": 0.0, "sigma": 0.7, "why": "w"}},
           "sampler": {"draws": 300, "tune": 300, "chains": 2, "seed": 5,
                       "target_accept": 0.9}}
    raw.update(extra)
    return spec_from_raw(raw, tmp_path / "ordinal_sim.toml")


def test_expected_scores_and_answers_follow_the_cut_points(tmp_path):
    import xarray as xr

    frame = _frame(n_resp=3)
    model = build(_spec(tmp_path), frame)
    n_resp = frame["respondent"].nunique()
    post = xr.Dataset({
        "group_gender": (("chain", "draw", "g"), np.full((1, 1, 1), 0.4)),
        "1|respondent": (("chain", "draw", "r"), np.zeros((1, 1, n_resp))),
        "threshold": (("chain", "draw", "k"), TAU[None, None]),
        "disc": (("chain", "draw", "d"), np.full((1, 1, 1), 0.5))},
        coords={"chain": [0], "draw": [0]})
    tree = xr.DataTree.from_dict({"posterior": post})
    eta = model.expected(tree, latent=True)[0]
    # professionals are the reference level (absorbed by the thresholds), youths get 0.4
    np.testing.assert_allclose(eta, np.where(frame["rater"] == "youth", 0.4, 0.0))
    disc = np.where(frame["rater"] == "youth", 0.5, 1.0)
    by_hand = 1 + sum(1 - special.expit(disc * (t - eta)) for t in TAU)
    np.testing.assert_allclose(model.expected(tree)[0], by_hand)
    many = post.isel(draw=np.zeros(20000, dtype=int)).assign_coords(draw=np.arange(20000))
    answers = model.answers(many, seed=1)
    assert answers.dtype == np.int8 and answers.min() >= 0 and answers.max() <= 4
    np.testing.assert_allclose(answers[0].mean(axis=0) + 1, by_hand, atol=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ordinal_inspraak", "ordinal_inspraak_probit"])
def test_one_latent_sd_equals_bambis_cumulative_model(name):
    """With disc = "common" the builder is Bambi's model: same joint log density."""
    from triad.fitting import respondent_data
    from triad.model_build import bambi_model
    from triad.modeldata import model_frame

    # Bambi non-centres every group term or none: compare the all-non-centred forms
    spec = dataclasses.replace(load_spec(MODELS / f"{name}.toml"), noncentered=True)
    frame = model_frame(respondent_data(None), spec).frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bambi = bambi_model(dataclasses.replace(spec, disc=""), frame)
        bambi.build()
    theirs = bambi.backend.model
    ours = build(dataclasses.replace(spec, disc="common"), frame).model
    assert sorted(v.name for v in ours.value_vars) == sorted(v.name for v in theirs.value_vars)
    rng = np.random.default_rng(0)
    point = {k: v + (0.3 * rng.standard_normal(np.shape(v)) if "threshold" not in k else 0)
             for k, v in theirs.initial_point().items()}
    np.testing.assert_allclose(ours.compile_logp()(point), theirs.compile_logp()(point),
                               rtol=1e-8)


def test_spec_keys_disc_and_thresholds(tmp_path):
    spec = load_spec(MODELS / "ordinal_inspraak.toml")
    assert spec.disc == "rater" and spec.thresholds == "shared" and spec.pymc_ordinal
    assert "disc" in spec.priors and spec.priors["disc"]["why"]
    assert not load_spec(MODELS / "metric_inspraak.toml").pymc_ordinal
    ordinal = [s for s in load_specs() if s.ordinal]
    assert {s.name for s in ordinal} >= {"ordinal_band", "ordinal_doel", "ordinal_taak",
                                         "ordinal_opvoed", "ordinal_inspraak"}
    assert all(s.disc == "rater" for s in ordinal)
    for extra, key, phrase in (
            ({"disc": "youth"}, "disc", "must be one of"),
            ({"thresholds": "item"}, "thresholds", "must be one of"),
            ({"thresholds": "rater"}, "disc", "not identified"),
            ({"family": "gaussian", "formula": "score ~ 0 + group_gender"}, "disc",
             "only for the ordinal families")):
        with pytest.raises(SpecError) as info:
            _spec(tmp_path, **extra)
        assert info.value.key == key and phrase in str(info.value)
    no_prior = _spec(tmp_path)
    with pytest.raises(SpecError, match="priors.disc"):
        spec_from_raw({**_raw(no_prior), "priors": {k: v for k, v in no_prior.priors.items()
                                                   if k != "disc"}}, no_prior.path)
    common = _spec(tmp_path, disc="common", thresholds="rater")
    assert common.pymc_ordinal and common.thresholds == "rater"


def _raw(spec) -> dict:
    return {"name": spec.name, "description": spec.description, "data": spec.data,
            "level": spec.level, "scales": list(spec.scales), "rows": list(spec.rows),
            "family": spec.family, "disc": spec.disc, "formula": spec.formula,
            "contrasts": list(spec.contrasts), "priors": spec.priors, "sampler": spec.sampler}


def test_thresholds_by_rater_variant_of_ordinal_specs():
    variants = {v.name: v for v in load_variants()}
    base = load_spec(MODELS / "ordinal_inspraak.toml")
    derived = derive_spec(base, variants["thresholds_rater"])
    assert derived.thresholds == "rater" and derived.disc == "common"
    # the base centres cells and items with a dense mass block; with a rater's own thresholds
    # their level is not pinned by the data, so the variant keeps the earlier settings
    assert base.noncentered == ("1|respondent",) and base.sampler["dense_mass"] is True
    assert derived.noncentered is True and derived.sampler["dense_mass"] is False
    assert "disc" not in derived.priors and derived.pymc_ordinal
    names = {s.name for s in multiverse_specs(load_specs())}
    assert "ordinal_inspraak~thresholds_rater" in names
    assert not any(n.startswith("metric_") and "thresholds" in n for n in names)
    assert not any(n.startswith("ordinal_") and n.endswith("~t") for n in names)


def test_thresholds_by_rater_model_drops_one_level_per_rater(tmp_path):
    frame = _frame(n_resp=3)
    model = build(_spec(tmp_path, disc="common", thresholds="rater"), frame)
    assert model.dropped["group_gender"] == {"professional:unknown", "youth:unknown"}
    tau = model.model["threshold"]
    assert tuple(model.model.named_vars_to_dims["threshold"]) == ("threshold_rater",
                                                                 "threshold_dim")
    assert tau.owner is not None
    prior = model.prior(400, seed=1)
    theta = prior["threshold"].values[0]
    assert theta.shape[1:] == (2, 4) and np.all(np.diff(theta, axis=-1) > 0)


@pytest.mark.slow
@pytest.mark.sampling
def test_known_discrimination_ratio_is_recovered(tmp_path):
    """Simulated youths' latent SD twice the professionals': disc 0.5 in the 90% interval."""
    from triad.sampling import sample_posterior

    frame = _frame(n_resp=120, seed=2, disc_youth=0.5)
    model = build(_spec(tmp_path), frame)
    args = {"draws": 300, "tune": 300, "chains": 2, "seed": 5, "target_accept": 0.9}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_posterior(model.model, args, "numpyro")
    disc = idata["posterior"]["disc"].values.ravel()
    low, high = np.quantile(disc, [0.05, 0.95])
    assert low < 0.5 < high and high < 1.0  # covers the truth and excludes one latent SD


def test_age_missing_term_is_fitted_only_where_an_age_is_missing(tmp_path):
    priors = {**_spec(tmp_path).priors,
              "age_missing:rater": {"dist": "Normal", "mu": 0.0, "sigma": 1.0, "why": "w"}}
    spec = _spec(tmp_path, formula="value ~ 0 + group_gender + age_missing:rater + "
                                   "(1|respondent)", priors=priors)
    frame = _frame(n_resp=3).assign(age_missing=0.0)
    assert "age_missing:rater" not in build(spec, frame).model.named_vars
    frame.loc[0, "age_missing"] = 1.0
    model = build(spec, frame)
    assert model.model.named_vars_to_dims["age_missing:rater"] == ("age_missing:rater_dim",)


def test_noncentered_list_centres_the_other_group_terms(tmp_path):
    frame = _frame(n_resp=3)
    formula = "value ~ 0 + group_gender + (1|respondent) + (1|item)"
    priors = {**_spec(tmp_path).priors,
              "1|item": {"dist": "Normal", "mu": 0.0,
                         "sigma": {"dist": "HalfNormal", "sigma": 0.5}, "why": "w"}}
    spec = _spec(tmp_path, formula=formula, priors=priors, noncentered=["1|respondent"])
    assert spec.noncentered == ("1|respondent",)
    model = build(spec, frame).model
    free = {v.name for v in model.free_RVs}
    # respondents non-centred (an offset times the SD), items centred (the effect itself)
    assert {"1|respondent_offset", "1|item"} <= free
    assert "1|item_offset" not in free and "1|respondent" not in free
    # centred: 1|item ~ Normal(0, 1|item_sigma), the prior the non-centred form implies
    point = model.initial_point()
    point["1|item"] = np.array([0.3, -0.2, 0.1, 0.0, 0.5, -0.4, 0.2, -0.1])
    sigma = float(np.exp(point["1|item_sigma_log__"]))
    from scipy import stats

    logp = model.compile_logp(vars=[model["1|item"]], sum=True)(point)
    # scipy.stats.norm(0, sigma).logpdf summed over the 8 item effects
    assert logp == pytest.approx(stats.norm(0, sigma).logpdf(point["1|item"]).sum())
    all_centred = build(_spec(tmp_path, formula=formula, priors=priors, noncentered=False),
                        frame).model
    assert {"1|respondent", "1|item"} <= {v.name for v in all_centred.free_RVs}


def test_noncentered_list_is_validated(tmp_path):
    with pytest.raises(SpecError) as info:
        _spec(tmp_path, noncentered=["1|item"])  # not a term of the formula
    assert info.value.key == "noncentered" and "1|respondent" in str(info.value)
    with pytest.raises(SpecError, match="only true or false"):
        _spec(tmp_path, disc="", noncentered=["1|respondent"])  # a Bambi-built spec
    with pytest.raises(SpecError, match="must be true, false or a list"):
        _spec(tmp_path, noncentered="respondent")


def test_terms_constant_within_a_respondent_are_summed_per_respondent(monkeypatch):
    """The graph sums respondent-level terms once per respondent; log density unchanged.

    Reference: the same model built with one index per term and answer (no hoisting);
    ``test_one_latent_sd_equals_bambis_cumulative_model`` compares that form with Bambi.
    """
    from triad.fitting import respondent_data
    from triad.modeldata import model_frame
    from triad.ordinal_model import OrdinalModel

    spec = load_spec(MODELS / "ordinal_inspraak.toml")
    frame = model_frame(respondent_data(None), spec).frame
    ordinal = build(spec, frame)
    unit, unit_frame, hoisted = ordinal._unit_terms()
    assert unit == "respondent" and len(unit_frame) == frame["respondent"].nunique()
    # the item varies within a respondent; every other term is the respondent's
    assert hoisted == {"group_gender", "1|cell", "age_z:rater", "1|respondent"}
    monkeypatch.setattr(OrdinalModel, "_unit_terms", lambda self: ("", self.frame, set()))
    per_answer = build(spec, frame).model
    rng = np.random.default_rng(3)
    point = {k: v + 0.3 * rng.standard_normal(np.shape(v))
             for k, v in per_answer.initial_point().items()}
    np.testing.assert_allclose(ordinal.model.compile_logp()(point),
                               per_answer.compile_logp()(point), rtol=1e-12)
    grads = [m.compile_dlogp()(point) for m in (ordinal.model, per_answer)]
    np.testing.assert_allclose(*grads, rtol=1e-10, atol=1e-12)
