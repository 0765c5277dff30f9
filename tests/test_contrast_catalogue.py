"""The contrast catalogue is data: every shipped spec's pairs as the hard-coded families gave."""

import json
from pathlib import Path

import pytest

from triad.contrasts import families, load_catalogue

GOLDEN = Path(__file__).parent / "corpus" / "contrasts"


@pytest.mark.slow
def test_every_shipped_spec_has_the_golden_pairs():
    import sys

    sys.path.insert(0, str(GOLDEN))
    from make_golden import pairs_of_every_spec  # the script that wrote the golden file

    golden = json.loads((GOLDEN / "golden_pairs.json").read_text())
    now = pairs_of_every_spec()
    assert sorted(now) == sorted(golden)
    for key in golden:
        assert now[key] == golden[key], key
    assert sum(len(v) for v in golden.values()) == 552  # as written by the old families


def test_the_catalogue_lists_the_shipped_families_in_file_order():
    assert families() == ("gap_youth_vs_professional", "gap_parent_vs_professional",
                          "gap_youth_vs_parent", "professional_youth_vs_parent",
                          "belangrijk_minus_lukt", "sector_differences",
                          "gender_gap_professionals")


@pytest.mark.parametrize("entry, message", [
    ('name = "x"\nkind = "gap"\nname_template = "{scale}_{family}"\na = "youth>professional"',
     "needs b"),
    ('name = "x"\nkind = "ratio"\nname_template = "{family}"', "kind"),
    ('kind = "gap"\na = "y>p"\nb = "p>y"', "needs name"),
])
def test_a_bad_family_names_file_and_entry(tmp_path, entry, message):
    path = tmp_path / "contrasts.toml"
    path.write_text(f"[[family]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_catalogue(path)
    assert str(path) in str(info.value) and "family[0]" in str(info.value)
