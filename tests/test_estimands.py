"""Estimands: descriptive vs adjusted gender gaps and age effects, standardised pooling."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from triad.estimands import (
    age_effect_name,
    counterfactual_contrasts,
    gender_gap_name,
    standardised_contrasts,
)

GENDER, SECTOR, AGE = -0.2, {"a": 0.0, "b": -0.5}, 0.1  # the data-generating effects


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Professionals in two sectors; men cluster in the lower-scoring sector b."""
    rng = np.random.default_rng(seed)
    sector = rng.choice(["a", "b"], n, p=[0.5, 0.5])
    p_male = np.where(sector == "b", 0.6, 0.1)
    gender = np.where(rng.random(n) < p_male, "male", "female")
    age = rng.normal(40, 10, n) + np.where(gender == "male", 5.0, 0.0)
    frame = pd.DataFrame({"scale": "s", "rater": "professional", "target": "youth",
                          "role": "social_worker", "sector": sector, "gender": gender,
                          "age": age, "respondent": [f"r{i}" for i in range(n)]})
    frame["group"] = frame["rater"] + ">" + frame["target"]
    frame["group_gender"] = frame["group"] + ":" + frame["gender"]
    frame["age_z"] = (frame["age"] - frame["age"].mean()) / frame["age"].std()
    return frame


def _mu(frame: pd.DataFrame) -> np.ndarray:
    return (3.5 + frame["sector"].map(SECTOR).to_numpy()
            + GENDER * (frame["gender"] == "male").to_numpy() + AGE * frame["age_z"].to_numpy())


def test_names_of_the_labelled_estimands():
    # privacy.contrast_index names the same rows: one spelling, shared
    assert gender_gap_name("s", "professional", "youth") == (
        "s_gender_gap_professionals_about_youth")
    assert gender_gap_name("s", "parents", "self") == "s_gender_gap_parents_about_self"
    assert age_effect_name("s", "per_sd", "youth", "parent") == (
        "s_age_per_sd_youths_about_parent")


def test_counterfactual_contrasts_with_a_known_linear_predictor():
    frame = _frame(400, seed=1)
    base = _mu(frame)[None, :]
    out = counterfactual_contrasts(lambda alt: _mu(alt)[None, :], frame, base,
                                   ("male", "female"), chains=1,
                                   formula_terms={"group_gender", "age_z"})
    rows = pd.DataFrame({k: out[k].to_numpy() for k in ("name", "sector", "estimand")})
    rows["value"] = out.to_numpy()[0, 0]
    pick = rows.set_index(["name", "sector", "estimand"])["value"]
    gap = "s_gender_gap_professionals_about_youth"
    # adjusted: every person switched, all else kept: exactly the gender coefficient
    assert pick[(gap, "all", "adjusted")] == pytest.approx(GENDER, abs=1e-12)
    # descriptive: the as-sampled difference of the groups' mean fitted values (by hand)
    male = (frame["gender"] == "male").to_numpy()
    mu = _mu(frame)
    assert pick[(gap, "all", "descriptive")] == pytest.approx(mu[male].mean() - mu[~male].mean())
    # men cluster in sector b (0.5 lower) and are older: the descriptive gap is about
    # GENDER - 0.5 (P(b|m) - P(b|f)) + AGE (mean age_z m - f); with P(b|m) = .3/.35 = .86
    # and P(b|f) = .2/.65 = .31: -0.2 - 0.5 * 0.55 + 0.1 * 0.49 = -0.43
    assert pick[(gap, "all", "descriptive")] < -0.35
    # within a sector, sector mix no longer confounds: only the age difference remains
    within = mu[male & (frame["sector"] == "b").to_numpy()].mean() - mu[
        ~male & (frame["sector"] == "b").to_numpy()].mean()
    assert pick[(gap, "b", "descriptive")] == pytest.approx(within)
    # age: +1 SD of age_z is AGE points; +5 years is AGE * 5 / SD(age) within the role
    age = "s_age_per_sd_professionals_about_youth"
    assert pick[(age, "all", "adjusted")] == pytest.approx(AGE, abs=1e-12)
    assert pick[("s_age_per_5_years_professionals_about_youth", "all", "adjusted")] == (
        pytest.approx(AGE * 5 / frame["age"].std(), rel=1e-9))


def test_counterfactual_switches_a_scale_coded_gender_too():
    # a model whose gender term is 'scale:gender' (as the competences model's)
    frame = _frame(300, seed=2)
    frame["scale_gender"] = frame["scale"] + ":" + frame["gender"]

    def mu(alt):
        male = alt["scale_gender"].str.endswith(":male").to_numpy()
        return (3.5 + alt["sector"].map(SECTOR).to_numpy() + GENDER * male)[None, :]

    out = counterfactual_contrasts(mu, frame, mu(frame), ("male", "female"), chains=1,
                                   formula_terms={"scale_gender"})
    labels = list(out["contrast"].to_numpy())
    adjusted = out.to_numpy()[0, 0, labels.index(
        "s_gender_gap_professionals_about_youth@all#adjusted")]
    assert adjusted == pytest.approx(GENDER, abs=1e-12)


def test_standardised_pooling_weights_sectors_equally():
    # per-sector gaps -0.1 and -0.5; the pooled 'all' row (as sampled) is -0.4
    values = np.array([[-0.4, -0.1, -0.5]])[None]  # chain, draw, contrast
    post = xr.DataArray(values, dims=("chain", "draw", "contrast"), coords={
        "contrast": ["g@all", "g@a", "g@b"], "name": ("contrast", ["g"] * 3),
        "scale": ("contrast", ["s"] * 3), "sector": ("contrast", ["all", "a", "b"]),
        "n_a": ("contrast", [10, 3, 7]), "n_b": ("contrast", [10, 5, 5])})
    out = standardised_contrasts(post)
    assert out["estimand"].item() == "standardised" and out["sector"].item() == "all"
    assert float(out.squeeze()) == pytest.approx((-0.1 - 0.5) / 2)


@pytest.mark.sampling
@pytest.mark.slow
def test_fitted_model_recovers_the_conditional_gender_effect():
    import bambi as bmb

    frame = _frame(600, seed=7)
    rng = np.random.default_rng(8)
    frame["score"] = _mu(frame) + rng.normal(0, 0.4, len(frame))
    # Truth by Monte Carlo, not from the model: the as-sampled difference of group means
    # over 200 fresh samples of the same design and data-generating process.
    sampled = []
    for seed in range(200):
        f = _frame(600, seed=1000 + seed)
        y = _mu(f) + np.random.default_rng(seed).normal(0, 0.4, len(f))
        male = (f["gender"] == "male").to_numpy()
        sampled.append(y[male].mean() - y[~male].mean())
    descriptive_truth = float(np.mean(sampled))
    model = bmb.Model("score ~ 0 + group_gender + sector + age_z", frame,
                      priors={"group_gender": bmb.Prior("Normal", mu=3.5, sigma=1),
                              "sector": bmb.Prior("Normal", mu=0, sigma=1),
                              "age_z": bmb.Prior("Normal", mu=0, sigma=0.5),
                              "sigma": bmb.Prior("HalfNormal", sigma=1)})
    idata = model.fit(draws=500, tune=500, chains=2, random_seed=3, inference_method="numpyro",
                      progressbar=False)

    def predict(alt):
        post = model.predict(idata, kind="response_params", data=alt, inplace=False)
        return post["posterior"]["mu"].stack(s=("chain", "draw")).transpose(
            "s", ...).to_numpy()

    out = counterfactual_contrasts(predict, frame, predict(frame), ("male", "female"),
                                   chains=2, formula_terms={"group_gender", "age_z"})
    names = out["contrast"].to_numpy()
    draws = {k: out.isel(contrast=i).to_numpy().ravel() for i, k in enumerate(names)}
    adjusted = draws["s_gender_gap_professionals_about_youth@all#adjusted"]
    descriptive = draws["s_gender_gap_professionals_about_youth@all#descriptive"]
    # the 95% intervals cover their own truths and exclude the other's
    lo, hi = np.quantile(adjusted, [0.025, 0.975])
    assert lo < GENDER < hi and not lo < descriptive_truth < hi
    lo, hi = np.quantile(descriptive, [0.025, 0.975])
    assert lo < descriptive_truth + 0.05 and descriptive_truth - 0.05 < hi
    # -0.2 - 0.5 * 0.55 + 0.1 * 0.49 = -0.43 (see above): the sector mix doubles the gap
    assert descriptive_truth == pytest.approx(-0.43, abs=0.02)
    age = draws["s_age_per_sd_professionals_about_youth@all#adjusted"]
    lo, hi = np.quantile(age, [0.025, 0.975])
    assert lo < AGE < hi
