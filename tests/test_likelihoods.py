"""The likelihood registry: one entry per family, read by specs, builders and reports."""

import numpy as np
import pytest

from triad.likelihoods import LIKELIHOODS, likelihood
from triad.multiverse import universe_label
from triad.specs import FAMILIES


def test_every_spec_family_has_one_entry():
    assert FAMILIES == tuple(LIKELIHOODS) == (
        "gaussian", "t", "cumulative_logit", "cumulative_probit", "summary_normal")
    with pytest.raises(KeyError, match="known: gaussian, t"):
        likelihood("poisson")


def test_entries_say_what_builders_and_summaries_use():
    import bambi

    for entry in LIKELIHOODS.values():
        if entry.bambi_family is not None:  # a family Bambi knows by that name
            assert entry.bambi_family in bambi.families.univariate.__dict__ or (
                entry.bambi_family in ("gaussian", "t", "cumulative"))
    ordinal = [f for f, e in LIKELIHOODS.items() if e.ordinal]
    assert ordinal == ["cumulative_logit", "cumulative_probit"]
    assert {LIKELIHOODS[f].expected for f in ordinal} == {"p"}
    assert LIKELIHOODS["summary_normal"].data == "summary"


def test_ppc_bins_by_hand():
    # answers 1-5: categories 1..5 -> edges 0.5, 1.5, ..., 5.5; scores in half points
    np.testing.assert_allclose(likelihood("cumulative_logit").ppc_edges(1, 5),
                               [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    # scores 1-6 in half points: 0.75, 1.25, ..., 6.75 (13 edges, 6 in the last bin)
    np.testing.assert_allclose(likelihood("gaussian").ppc_edges(1, 6),
                               [0.75 + 0.5 * i for i in range(13)])
    assert likelihood("cumulative_probit").replicate_offset == 1.0
    assert likelihood("t").replicate_offset == 0.0


def test_universe_labels_come_from_the_registry():
    assert universe_label("m", "cumulative_probit") == "ordinal probit"
    assert universe_label("m", "cumulative_logit", "wide_priors", {"wide_priors": "wide"}) \
        == "ordinal logit, wide"
    assert universe_label("m", "t") == "Student-t"
    assert universe_label("m", "summary_normal") == "summary statistics"
    assert universe_label("m", "gaussian", primary=True) == "primary (Gaussian)"
    assert universe_label("metric_x", "gaussian") == "metric_x"
