"""Model specs (validation, safety) and contrast arithmetic on constructed draws."""

import numpy as np
import pandas as pd
import pytest

from triad.contrasts import Selector, compute_contrasts, contrast_pairs
from triad.paths import models_dir
from triad.specs import SpecError, load_spec, load_specs

GOOD = (models_dir() / "metric_inspraak.toml").read_text()


def _write(tmp_path, text, name="metric_inspraak"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_every_shipped_spec_loads():
    specs = load_specs()
    names = {s.name for s in specs}
    assert {"metric_band", "metric_doel", "metric_taak", "metric_alliantie", "metric_inspraak",
            "metric_opvoed", "metric_competences", "metric_inspraak_t", "ordinal_inspraak",
            "summary_cells"} <= names
    for s in specs:
        assert all(p.get("why") for p in s.priors.values()), s.name
        assert s.sampler["chains"] >= 2


@pytest.mark.parametrize(
    ("old", "new", "key", "phrase"),
    [
        ('family = "gaussian"', 'family = "poisson"', "family", "must be one of"),
        ('+ age_missing:rater"', '+ age_missing:rater + np.exp(score)"', "formula",
         "unknown variable"),
        ('+ age_missing:rater"', '+ exp(age_z)"', "formula", "function calls are not allowed"),
        ('+ age_missing:rater"', '+ age_missing:rater + __import__"', "formula",
         "unknown variable"),
        ('formula = "score', 'formula = "score;', "formula", "unexpected character"),
        ('why = "mean per', 'whyy = "mean per', "priors.group_gender.why", "justification"),
        ('dist = "Normal"\nmu = 3.5', 'dist = "Normall"\nmu = 3.5', "priors.group_gender.dist",
         "unknown distribution"),
        ("draws = 1000", 'draws = "many"', "sampler.draws", "must be int"),
        ('"sector_differences"', '"sector_diffs"', "contrasts", "unknown contrast"),
        ('name = "metric_inspraak"', 'name = "other"', "name", "must equal the file name"),
    ],
)
def test_bad_spec_names_file_and_key(tmp_path, old, new, key, phrase):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.key == key
    assert str(path) in str(info.value) and phrase in str(info.value)


def test_missing_why_and_bad_toml(tmp_path):
    path = _write(tmp_path, GOOD.replace('why = "mean per', 'why = ""  # mean per', 1))
    with pytest.raises(SpecError, match="priors.group_gender.why"):
        load_spec(path)
    path = _write(tmp_path, GOOD + "\n[[[broken")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(path)


def _units():
    rows = []
    for sector, pro in (("special_education", "teacher"), ("residential", "social_worker")):
        for i in range(3):
            rows.append(("youth", "professional", sector, "female", "inspraak"))
            rows.append((pro, "youth", sector, "male" if i == 0 else "female", "inspraak"))
    units = pd.DataFrame(rows, columns=["role", "target", "sector", "gender", "scale"])
    return units.assign(weight=1.0)


def test_contrast_arithmetic_on_constant_draws():
    units = _units()
    # youths' expected score 3.8 (SO) / 3.6 (residential); professionals 4.2 / 4.4
    value = np.where(units["role"] == "youth",
                     np.where(units["sector"] == "special_education", 3.8, 3.6),
                     np.where(units["sector"] == "special_education", 4.2, 4.4))
    rng = np.random.default_rng(0)
    draws = value[None, :] + rng.normal(0, 0.01, size=(4000, 1))  # same shift for all units
    out = compute_contrasts(draws, units, ["gap_youth_vs_professional"], model="m",
                            data_source="test").set_index("sector")
    assert set(out["estimand"]) == {"descriptive"}
    # hand: SO 3.8 - 4.2 = -0.4; residential 3.6 - 4.4 = -0.8; pooled (6 youths vs 6 pros)
    # (3 * 3.8 + 3 * 3.6) / 6 - (3 * 4.2 + 3 * 4.4) / 6 = 3.7 - 4.3 = -0.6
    assert out.loc["special_education", "estimate"] == pytest.approx(-0.4, abs=1e-12)
    assert out.loc["residential", "estimate"] == pytest.approx(-0.8, abs=1e-12)
    assert out.loc["all", "estimate"] == pytest.approx(-0.6, abs=1e-12)
    assert out.loc["all", "p_direction"] == 1.0 and out.loc["all", "p_rope"] == 0.0
    assert out.loc["all", "contrast"] == "inspraak_gap_youth_vs_professional"
    assert list(out.columns) == ["contrast", "scale", "estimand", "n_a", "n_b", "estimate",
                                 "ci_low",
                                 "ci_high", "ci_prob", "p_direction", "p_rope", "rope",
                                 "conclusion", "p_direction_mcse", "ci_low_mcse",
                                 "ci_high_mcse", "mc_fragile", "bf10", "log10_bf10",
                                 "bf10_mc_se_log10", "bf10_half", "bf10_double", "bf_prior",
                                 "bf_method", "model", "data_source"]
    # every gap is far below 0: the one rule says 'lower', nowhere near flipping
    assert set(out["conclusion"]) == {"lower"} and not out["mc_fragile"].any()
    # no respondent column: units are weighted cells, n = sum of weights (3 per sector)
    assert out.loc["all", ["n_a", "n_b"]].tolist() == [6, 6]
    assert out.loc["residential", ["n_a", "n_b"]].tolist() == [3, 3]
    # with respondents, n counts distinct people: the 6 youth rows belong to 2 youths
    units = units.assign(respondent=[f"y{k // 2 % 2}" if role == "youth" else f"p{k}"
                                     for k, role in enumerate(units["role"])])
    again = compute_contrasts(draws, units, ["gap_youth_vs_professional"], model="m",
                              data_source="test").set_index("sector")
    assert again.loc["all", ["n_a", "n_b"]].tolist() == [2, 6]


def test_rope_and_direction_on_noise():
    units = _units()
    rng = np.random.default_rng(1)
    draws = rng.normal(0, 0.05, size=(20000, len(units)))
    out = compute_contrasts(draws, units, ["gap_youth_vs_professional"], model="m",
                            data_source="test", rope=0.1).set_index("sector")
    # difference of two means of 3 N(0, .05) each: SD 0.05 * sqrt(2/3) = 0.0408;
    # P(|d| <= 0.1) = 2 Phi(0.1 / 0.0408) - 1 = 0.9857
    assert out.loc["special_education", "p_rope"] == pytest.approx(0.9857, abs=0.005)
    assert 0.5 <= out.loc["special_education", "p_direction"] < 0.53


def test_gender_and_summary_partition_selectors():
    units = pd.DataFrame({
        "role": ["social_worker", "teacher", "professional", "professional"],
        "target": ["youth"] * 4, "sector": ["residential", "special_education", "all", "all"],
        "gender": ["all", "all", "male", "female"], "scale": ["band"] * 4,
        "partition": ["sector", "sector", "gender", "gender"], "weight": [53, 59, 36, 155]})
    assert Selector("professional", "youth", "band").mask(units).tolist() == [
        True, True, False, False]
    assert Selector("professional", "youth", "band", gender="male").mask(units).tolist() == [
        False, False, True, False]
    names = {n for n, *_ in contrast_pairs("gender_gap_professionals", "band", units)}
    assert names == {"band_gender_gap_professionals_about_youth"}


def test_contrast_bayes_factor_is_the_stated_cauchy_prior():
    import xarray as xr
    from scipy import integrate, stats

    from triad.contrasts import summarise_draws

    rng = np.random.default_rng(0)
    # posterior N(-0.1, 0.1) under an implied prior N(0, 1): the normal likelihood has
    # precision 1/0.1^2 - 1 = 99 (s_L = 0.1005) and mean s_L^2 * (-0.1 / 0.01) = -0.10101
    post = xr.DataArray(rng.normal(-0.1, 0.1, (4, 5000, 1)), dims=("chain", "draw", "k"))
    prior = xr.DataArray(rng.normal(0, 1, (1, 20000, 1)), dims=("chain", "draw", "k"))
    out = summarise_draws(post, prior, ci_prob=0.95, rope=0.1, dim="k", sd_scale=[1.0])
    s_l = 1 / np.sqrt(99)
    m_l = s_l**2 * (-0.1 / 0.01)
    # BF10 = int N(m_L; d, s_L) Cauchy(d; 0, 0.707) dd / N(m_L; 0, s_L), by quadrature
    num = integrate.quad(lambda d: stats.norm.pdf(m_l, d, s_l) * stats.cauchy.pdf(d, 0, 0.707),
                         -2, 2, points=[m_l])[0]
    exact = num / stats.norm.pdf(m_l, 0, s_l)
    assert out.loc[0, "bf10"] == pytest.approx(exact, rel=0.05)
    assert out.loc[0, "bf_prior"] == "Cauchy(0, 0.707 SD)"
    assert out.loc[0, "bf10_half"] > out.loc[0, "bf10"] > out.loc[0, "bf10_double"]
