"""Hypotheses as strings (brms's hypothesis()): parsing, specs, draws, a fitted model."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from triad.hypotheses import HypothesisError, hypothesis_dataset, parse_hypothesis
from triad.paths import models_dir
from triad.specs import SpecError, add_hypotheses, load_spec

GAP = "youth>professional@residential - professional>youth@residential < 0"


def test_parse_moves_every_term_to_the_left():
    h = parse_hypothesis(GAP, ("inspraak",))
    assert h.relation == "<" and h.constant == 0.0
    assert h.terms == ((1.0, "inspraak", "youth>professional@residential"),
                       (-1.0, "inspraak", "professional>youth@residential"))
    # 2 P = Y + Pr  ->  2 P - Y - Pr = 0
    h = parse_hypothesis("2 * parent>professional@all = youth>professional@all + "
                         "professional>parent@all", ("opvoed",))
    assert [t[0] for t in h.terms] == [2.0, -1.0, -1.0] and h.relation == "="
    # -Y + 0.5 > 3  ->  -Y + 0.5 - 3 > 0: constant -2.5
    h = parse_hypothesis("-youth>professional@all + 0.5 > 3", ("inspraak",))
    assert h.constant == pytest.approx(-2.5) and h.terms[0][0] == -1.0


@pytest.mark.parametrize("text, message", [
    ("youth>professional@residential", "exactly one of"),
    ("youth>professional@mars < 0", "sector one of"),
    ("a < b", "cannot read"),
    ("youth>professional@all youth>professional@all < 0", "operator is missing"),
    ("youth>professional@all < ", "ends without a term"),
    ("lukt:youth>professional@all < 0", "not one of the model's"),
])
def test_bad_hypotheses_say_where_and_what(text, message):
    with pytest.raises(HypothesisError, match=message):
        parse_hypothesis(text, ("inspraak",))


def test_several_scales_need_a_scale_prefix():
    with pytest.raises(HypothesisError, match="write scale:"):
        parse_hypothesis("professional>self@all < 4", ("belangrijk", "lukt"))
    h = parse_hypothesis("belangrijk:professional>self@all - lukt:professional>self@all > 0",
                         ("belangrijk", "lukt"))
    assert {t[1] for t in h.terms} == {"belangrijk", "lukt"}


def test_spec_hypotheses_are_validated_with_file_and_key(tmp_path):
    text = (models_dir() / "metric_inspraak.toml").read_text(encoding="utf-8")
    good = tmp_path / "metric_inspraak.toml"
    good.write_text(text + f'\n[[hypotheses]]\nhypothesis = "{GAP}"\nwhy = "the report"\n',
                    encoding="utf-8")
    assert load_spec(good).hypotheses[-1].text == GAP
    good.write_text(text + '\n[[hypotheses]]\nhypothesis = "youth>x@all < 0"\nwhy = "w"\n',
                    encoding="utf-8")
    with pytest.raises(SpecError, match=r"hypotheses\[2\]\.hypothesis"):
        load_spec(good)
    spec = load_spec(models_dir() / "metric_inspraak.toml")
    extra = add_hypotheses(spec, [GAP])
    assert extra.hypotheses[-1].text == GAP and extra.sha256 != spec.sha256
    with pytest.raises(SpecError, match="--hypothesis"):
        add_hypotheses(spec, ["youth>professional@all"])


def test_draws_are_weighted_group_means_of_the_units():
    units = pd.DataFrame({
        "scale": "inspraak", "role": ["youth", "youth", "social_worker", "teacher"],
        "target": ["professional", "professional", "youth", "youth"],
        "sector": ["residential", "special_education", "residential", "special_education"],
        "weight": [1.0, 1.0, 2.0, 1.0]})
    draws = np.array([[4.0, 3.0, 2.0, 5.0], [1.0, 2.0, 3.0, 4.0]])
    hyps = [parse_hypothesis("youth>professional@all - professional>youth@all < 0",
                             ("inspraak",))]
    post, prior = hypothesis_dataset(draws, units, hyps, prior_draws=draws, chains=1)
    # youth (weights 1, 1): (4+3)/2 = 3.5 and 1.5; professionals (2, 1): (2*2+5)/3 = 3 and
    # (2*3+4)/3 = 10/3; differences 0.5 and 1.5 - 10/3 = -11/6
    assert post.values.ravel() == pytest.approx([0.5, 1.5 - 10 / 3])
    assert post["n_a"].item() == 2 and post["n_b"].item() == 2
    assert prior.values.ravel() == pytest.approx(post.values.ravel())
    missing = [parse_hypothesis("parent>professional@all < 3", ("inspraak",))]
    with pytest.raises(HypothesisError, match="no unit"):
        hypothesis_dataset(draws, units, missing)


@pytest.mark.slow
@pytest.mark.sampling
def test_a_fitted_hypothesis_equals_the_matching_contrast(tmp_path):
    from triad.fitting import fit

    spec = load_spec(models_dir() / "metric_inspraak.toml")
    spec = dataclasses.replace(spec, sampler={**spec.sampler, "draws": 200, "tune": 200,
                                              "chains": 2, "seed": 5})
    result = fit(add_hypotheses(spec, [GAP]), out=tmp_path)
    table = result.contrasts.set_index("contrast")
    hyp = table.loc[GAP]
    gap = result.contrasts[(result.contrasts["contrast"] == "inspraak_gap_youth_vs_professional")
                           & (result.contrasts["sector"] == "residential")
                           & (result.contrasts["estimand"] == "descriptive")].iloc[0]
    # the same group means from the same draws: the family's residential gap, exactly
    for col in ("estimate", "ci_low", "ci_high", "p_direction"):
        assert hyp[col] == pytest.approx(gap[col], abs=1e-12), col
    assert hyp["estimand"] == "descriptive" and hyp["conclusion"] == gap["conclusion"]


def test_cli_refuses_a_bad_hypothesis_before_fitting(tmp_path):
    from typer.testing import CliRunner

    from triad.cli import app

    result = CliRunner().invoke(app, ["fit", "metric_inspraak", "--out", str(tmp_path),
                                      "--hypothesis", "youth>professional@all"])
    assert result.exit_code == 2
    assert "--hypothesis" in result.output and "exactly one of" in result.output
    assert "Traceback" not in result.output and not any(tmp_path.iterdir())
