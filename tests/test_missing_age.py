"""Missing ages (issue 15): kept with an indicator by default, dropped in the complete-case
universe and listed in ``excluded``; the all-gaps universe reads the gap claims only."""

import warnings

import numpy as np
import pandas as pd
import pytest

from triad.gaps import gap_pairs_only, is_gap_pair
from triad.missingness import fitted_spec, methods_text, missing_age_record, without_terms
from triad.model_build import bambi_model
from triad.modeldata import model_frame
from triad.multiverse import derive_spec, load_variants, multiverse_specs, universe_label
from triad.paths import default_data, models_dir
from triad.readers import read_respondents, write_wide_csv
from triad.specs import load_spec

SHARE = 0.10  # of respondents whose age is blanked


@pytest.fixture(scope="module")
def synthetic():
    return read_respondents(default_data())


@pytest.fixture(scope="module")
def gappy(synthetic, tmp_path_factory):
    """The synthetic file with the ages of a seeded 10% of respondents left empty."""
    wide = synthetic.wide.copy()
    rng = np.random.default_rng(15)
    blank = rng.choice(len(wide), size=round(SHARE * len(wide)), replace=False)
    wide.loc[wide.index[blank], "age"] = np.nan
    path = tmp_path_factory.mktemp("gappy") / "gappy.csv"
    write_wide_csv(wide, path)
    return read_respondents(path), set(wide.loc[wide.index[blank], "respondent_id"].astype(str))


@pytest.fixture(scope="module")
def inspraak():
    return load_spec(models_dir() / "metric_inspraak.toml")


@pytest.fixture(scope="module")
def complete_case(inspraak):
    variant = {v.name: v for v in load_variants()}["age_complete_case"]
    return derive_spec(inspraak, variant)


def test_synthetic_default_has_no_missing_age_and_drops_the_indicator(synthetic, inspraak):
    assert synthetic.wide["age"].notna().all()
    md = model_frame(synthetic, inspraak)
    assert not md.frame["age_missing"].any()
    fitted, dropped = fitted_spec(inspraak, md.frame)
    assert dropped == ["age_missing:rater"]
    assert "age_missing" not in fitted.formula and "age_missing:rater" not in fitted.priors
    record = missing_age_record(inspraak, md.frame, md.excluded)
    assert record["dropped_terms"] == ["age_missing:rater"] and "not fitted" in record["note"]
    # the methods section states the default and the other choice
    text = methods_text([inspraak])
    assert "keeps their rows" in text and "~age_complete_case" in text
    # no complete-case universe where it would repeat its base
    assert not [s for s in multiverse_specs([inspraak], data=synthetic)
                if s.variant == "age_complete_case"]


def test_default_keeps_every_row_complete_case_drops_and_lists_them(synthetic, gappy, inspraak,
                                                                    complete_case):
    data, blanked = gappy
    full = model_frame(synthetic, inspraak).frame
    kept = model_frame(data, inspraak)
    # default: the same rows as with every age known, none excluded for a missing age
    assert len(kept.frame) == len(full)
    assert not kept.excluded["reason"].str.startswith("age missing").any()
    missing = kept.frame["age_missing"].astype(bool)
    assert missing.any() and (kept.frame.loc[missing, "age_z"] == 0).all()
    assert set(kept.frame.loc[missing, "respondent_id"].astype(str)) == blanked & set(
        full["respondent_id"].astype(str))
    # the known ages are standardised as before: mean and SD of the known ages only
    known = kept.frame[~missing]
    assert np.allclose(known.groupby("role")["age_z"].mean(), 0.0, atol=0.2)
    # complete case: exactly those rows leave, each listed with the reason
    cc = model_frame(data, complete_case)
    assert len(cc.frame) == len(full) - int(missing.sum())
    listed = cc.excluded[cc.excluded["reason"].str.startswith("age missing")]
    assert len(listed) == int(missing.sum())
    assert sorted(listed["respondent"]) == sorted(kept.frame.loc[missing, "respondent"])
    assert listed["reason"].str.contains("complete_case").all()
    # what fit.json records
    record = missing_age_record(inspraak, kept.frame, kept.excluded)
    assert record["rows_kept"] == int(missing.sum()) and not record["dropped_terms"]
    assert "own shift" in record["note"]
    assert missing_age_record(complete_case, cc.frame, cc.excluded)["rows_excluded"] == len(
        listed)
    # and the universe exists only for the file with missing ages
    derived = [s.name for s in multiverse_specs([inspraak], data=data)]
    assert "metric_inspraak~age_complete_case" in derived


def test_cell_means_average_over_every_row_of_the_cell(gappy, inspraak, complete_case):
    from triad.fit_summaries import _cell_mean_dataset

    data, _ = gappy
    for spec, with_missing in ((inspraak, True), (complete_case, False)):
        frame = model_frame(data, spec).frame
        # one 'draw' equal to the observed scores: each cell mean is then the observed mean
        # of the rows the model holds, and n counts them
        cells = _cell_mean_dataset(frame["score"].to_numpy()[None, :],
                                   frame.assign(weight=1.0), chains=1)
        observed = frame.groupby(["scale", "role", "target", "sector"])["score"].agg(
            ["mean", "count"])
        assert np.allclose(cells.to_numpy().ravel(), observed["mean"].to_numpy())
        assert list(cells["n"].to_numpy()) == list(observed["count"])
        assert bool(frame["age_missing"].any()) is with_missing


def test_indicator_term_is_built_only_when_ages_are_missing(synthetic, gappy, inspraak):
    data, _ = gappy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bambi's pandas deprecation notices
        with_missing = bambi_model(inspraak, model_frame(data, inspraak).frame)
        without = bambi_model(inspraak, model_frame(synthetic, inspraak).frame)
    assert "age_missing:rater" in with_missing.parameters["mu"].terms
    assert "age_missing:rater" not in without.parameters["mu"].terms


def test_formula_terms_are_dropped_whole():
    formula = "score ~ 0 + g + (0 + professional|respondent) + age_missing:rater + x:age_missing"
    kept, dropped = without_terms(formula, "age_missing")
    assert kept == "score ~ 0 + g + (0 + professional|respondent)"
    assert dropped == ["age_missing:rater", "x:age_missing"]


def test_age_estimands_use_known_ages_only():
    from triad.estimands import counterfactual_contrasts

    frame = pd.DataFrame({
        "scale": "s", "rater": "youth", "target": "professional", "sector": "a",
        "role": "youth", "gender": "female", "respondent": [f"r{i}" for i in range(6)],
        "age": [10.0, 12.0, 14.0, 16.0, np.nan, np.nan],
        "age_z": [-1.16, -0.39, 0.39, 1.16, 0.0, 0.0]})
    base = np.zeros((4, 6))

    def predict(alt):  # a slope of 1 per age_z unit for people with an age, 9 without
        slope = np.where(frame["age"].notna(), 1.0, 9.0)
        return np.tile((alt["age_z"].to_numpy() - frame["age_z"].to_numpy()) * slope, (4, 1))

    out = counterfactual_contrasts(predict, frame, base, ("male", "female"), chains=1,
                                   formula_terms={"age_z"})
    per_sd = out.sel(contrast=out["name"] == "s_age_per_sd_youths_about_professional")
    assert np.allclose(per_sd.isel(contrast=0).to_numpy(), 1.0)  # the 9s are not averaged in
    assert int(per_sd["n_a"].values[0]) == 4
    five = out.sel(contrast=out["name"] == "s_age_per_5_years_youths_about_professional")
    sd_known = np.std([10.0, 12.0, 14.0, 16.0], ddof=1)
    assert np.allclose(five.isel(contrast=0).to_numpy(), 5.0 / sd_known)


def test_pooled_gaps_reads_only_gap_pairs():
    import xarray as xr

    assert is_gap_pair("youth>professional@all", "social_worker>youth@all")
    assert not is_gap_pair("teacher>youth@all", "social_worker>youth@all")
    assert not is_gap_pair("professional>youth@all#male", "professional>youth@all#female")
    groups = [("youth>professional@all", "parent>professional@all"),
              ("social_worker>parent@residential", "teacher>parent@special_education")]
    post = xr.DataArray(np.zeros((1, 2, 2)), dims=("chain", "draw", "pair"), coords={
        "group_a": ("pair", [a for a, _ in groups]), "group_b": ("pair", [b for _, b in groups])})
    kept, prior = gap_pairs_only(post, None)
    assert kept.sizes["pair"] == 1 and prior is None
    spec = load_spec(models_dir() / "pooled_gaps.toml")
    assert spec.claim_pairs == "gaps"
    assert universe_label(spec.name, spec.family) == "all gaps pooled"


def test_pooled_gaps_frame_codes_each_gap(synthetic):
    spec = load_spec(models_dir() / "pooled_gaps.toml")
    frame = model_frame(synthetic, spec).frame
    # 24 gaps: (Band, Doel, Taak) x (youth, parent) + Inspraak x youth + Opvoed x parent,
    # in 3 sectors; each has both sides
    sides = frame.groupby("gap_cell")["side"].agg(["min", "max"])
    assert len(sides) == 24 and (sides["min"] == -0.5).all() and (sides["max"] == 0.5).all()
    assert set(frame.loc[frame["side"] > 0, "rater"]) == {"youth", "parent"}
