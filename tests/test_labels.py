"""Codes become words: every contrast and group of a run has a label in both languages."""

import pytest

from triad.contrasts import contrast_pairs, families
from triad.labels import contrast_label, group_label, scale_label, sector_label


def test_group_keys_read_as_words():
    # expected strings from data/codebook.toml and data/labels.toml by hand
    assert group_label("youth>professional@residential") == (
        "youths about professionals, residential")
    assert group_label("professional>youth@all#male", "nl") == (
        "professionals over jeugdigen, alle sectoren, mannen")
    assert group_label("not a key") == "not a key"


def test_sector_pairs_and_scales():
    assert sector_label("special_education-residential") == "special education - residential"
    assert scale_label("opvoed") == "Parenting competence"
    assert scale_label("opvoed", "nl") == "Opvoedcompetentie"
    with pytest.raises(ValueError, match="lang must be one of en, nl"):
        scale_label("opvoed", "de")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_contrast_family_has_words(lang):
    import pandas as pd

    # every family the library can produce, on a unit table holding all rater groups
    units = pd.DataFrame(
        [(r, t, s, sec) for r, t in [("youth", "professional"), ("parent", "professional"),
                                     ("social_worker", "youth"), ("teacher", "parent"),
                                     ("social_worker", "self")]
         for s in ("inspraak", "belangrijk", "lukt")
         for sec in ("special_education", "residential")],
        columns=["role", "target", "scale", "sector"]).assign(gender="male")
    names = {(n, sec) for f in families() for s in ("inspraak", "belangrijk")
             for n, sec, _, _ in contrast_pairs(f, s, units)}
    assert len(names) > 10
    for name, sector in names:
        text = contrast_label(name, sector, lang)
        assert name not in text and "_" not in text, text
    assert contrast_label("inspraak_gap_youth_vs_professional", "residential") == (
        "Youth voice: youths about professionals minus professionals about youths "
        "(residential)")
