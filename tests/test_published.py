"""The published tables as data: spot checks and a full re-read of the report's text."""

import re

import pandas as pd
import pytest

from triad.paths import repo_root
from triad.published import (
    claim_groups,
    group_key,
    load_cells,
    load_claims,
    load_correlations,
    load_reliability,
    parse_group_key,
)

# the report's Dutch scale names and the codebook's scale ids
SCALE_NAMES_NL = {
    "Band": "band", "Doel": "doel", "Taak": "taak", "Alliantie": "alliantie",
    "Inspraak": "inspraak", "Opvoedcompetentie": "opvoed", "Belangrijk": "belangrijk",
    "Lukt": "lukt",
}
SEED = repo_root().parent / "shared" / "seed" / "000_1f31b812841221bd.txt"

# Column order of each table as printed, as group keys.
SECTORS = ["ambulatory_daycare", "residential", "special_education"]
PRO = {"ambulatory_daycare": "social_worker", "residential": "social_worker",
       "special_education": "teacher"}
COLUMNS = {
    2: ["youth>professional@all", "parent>professional@all", "social_worker>youth@all",
        "social_worker>parent@all", "teacher>youth@all", "teacher>parent@all"],
    4: ["youth>professional@residential", "social_worker>youth@residential"],
    5: [f"{PRO[s]}>self@{s}" for s in SECTORS] + ["professional>self@all"],
    6: [f"youth>professional@{s}" for s in SECTORS],
    7: [f"parent>professional@{s}" for s in SECTORS],
    8: [f"{PRO[s]}>youth@{s}" for s in SECTORS],
    9: [f"{PRO[s]}>parent@{s}" for s in SECTORS],
    10: ["professional>youth@all#male", "professional>youth@all#female"],
    11: ["professional>parent@all#male", "professional>parent@all#female"],
    12: ["professional>self@all#male", "professional>self@all#female"],
}
TABLE3 = {"inspraak": ["youth>professional@all", "social_worker>youth@all", "teacher>youth@all"],
          "opvoed": ["parent>professional@all", "social_worker>parent@all", "teacher>parent@all"]}


def _cell(table, group, scale):
    cells = load_cells(table)
    row = cells[(cells["group"] == group) & (cells["scale"] == scale)]
    assert len(row) == 1, (table, group, scale)
    return row.iloc[0]


@pytest.mark.parametrize(
    ("table", "group", "scale", "n", "mean", "sd"),
    [
        # Hand-copied from the report; chosen at row/column edges to catch shifts.
        (2, "youth>professional@all", "band", 179, 3.98, 0.90),
        (2, "teacher>parent@all", "alliantie", 59, 3.54, 0.52),
        (2, "social_worker>youth@all", "taak", 132, 3.33, 0.58),
        (3, "teacher>parent@all", "opvoed", 59, 2.84, 0.68),
        (3, "social_worker>youth@all", "inspraak", 132, 4.42, 0.43),
        (4, "social_worker>youth@residential", "inspraak", 132, 4.34, 0.41),
        (5, "social_worker>self@ambulatory_daycare", "belangrijk", 79, 4.64, 0.90),
        (5, "professional>self@all", "lukt", 191, 3.67, 0.55),
        (6, "youth>professional@special_education", "inspraak", 55, 3.81, 1.14),
        (6, "youth>professional@ambulatory_daycare", "band", 69, 4.30, 0.62),
        (7, "parent>professional@residential", "opvoed", 28, 3.13, 0.78),
        (7, "parent>professional@special_education", "doel", 26, 3.68, 1.00),
        (8, "social_worker>youth@residential", "taak", 53, 3.04, 0.53),
        (8, "teacher>youth@special_education", "inspraak", 59, 4.17, 0.47),
        (9, "social_worker>parent@ambulatory_daycare", "band", 79, 4.09, 0.44),
        (9, "teacher>parent@special_education", "opvoed", 59, 2.84, 0.68),
        (10, "professional>youth@all#male", "inspraak", 36, 4.17, 0.36),
        (11, "professional>parent@all#female", "taak", 155, 3.55, 0.58),
        (12, "professional>self@all#male", "belangrijk", 36, 4.28, 0.37),
        (12, "professional>self@all#female", "lukt", 155, 3.72, 0.55),
    ],
)
def test_spot_check_cells(table, group, scale, n, mean, sd):
    row = _cell(table, group, scale)
    assert (row["n"], row["mean"], row["sd"]) == (n, mean, sd)


def test_table1_counts_add_up():
    t1 = load_cells(1).set_index(["role", "sector"])["n"]
    assert t1[("youth", "all")] == 174 and t1[("parent", "all")] == 114
    assert t1[("social_worker", "all")] == 132 and t1[("teacher", "all")] == 59
    assert t1[("all", "all")] == 479
    inner = t1.drop(index="all", level="role").drop(index="all", level="sector")
    assert inner.sum() == 479


def test_counts_of_transcription():
    cells = load_cells()
    per_table = cells.groupby("table").size().to_dict()
    # 4 scales x 6 columns in Table 2; 5 scales x 3 sectors in Tables 6-9, etc.
    assert per_table == {1: 17, 2: 24, 3: 6, 4: 4, 5: 8, 6: 15, 7: 15, 8: 15, 9: 15, 10: 10,
                         11: 10, 12: 4}
    assert cells["scale"].dropna().isin(SCALE_NAMES_NL.values()).all()


def _seed_rows(text, table):
    """Rows 'Scale x,xx y,yy ...' printed under the heading 'Tabel N' of the report."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == f"Tabel {table}")
    end = next((i for i, ln in enumerate(lines[start + 1:], start + 1)
                if re.fullmatch(r"Tabel \d+", ln.strip())), len(lines))
    names = "|".join(SCALE_NAMES_NL)
    rows = {}
    for ln in lines[start:end]:
        m = re.match(rf"^\s*({names})\s+((?:\d,\d\d\s*)+)$", ln)
        if m:
            rows[SCALE_NAMES_NL[m.group(1)]] = [float(x.replace(",", "."))
                                                 for x in m.group(2).split()]
    return rows


@pytest.mark.skipif(not SEED.exists(), reason="the report is in ../shared/seed of the checkout")
def test_every_mean_and_sd_matches_the_report_text():
    text = SEED.read_text(encoding="utf-8")
    checked = 0
    for table in range(2, 13):
        rows = _seed_rows(text, table)
        assert rows, table
        for scale, numbers in rows.items():
            groups = TABLE3[scale] if table == 3 else COLUMNS[table]
            assert len(numbers) == 2 * len(groups), (table, scale)
            for k, group in enumerate(groups):
                row = _cell(table, group, scale)
                assert (row["mean"], row["sd"]) == (numbers[2 * k], numbers[2 * k + 1]), (
                    table, group, scale)
                checked += 1
    # every M/SD cell of Tables 2-12 (126 table rows minus Table 1's 17)
    assert checked == len(load_cells()) - 17 == 126


@pytest.mark.skipif(not SEED.exists(), reason="the report is in ../shared/seed of the checkout")
def test_table1_matches_the_report_text():
    text = SEED.read_text(encoding="utf-8")
    t1 = load_cells(1).set_index(["role", "sector"])["n"]
    m = re.search(r"SO/VSO (\d+) (\d+)\s+(\d+) (\d+)", text)
    assert [int(x) for x in m.groups()] == [
        t1[("youth", "special_education")], t1[("parent", "special_education")],
        t1[("teacher", "special_education")], t1[("all", "special_education")]]
    m = re.search(r"Totaal (\d+) (\d+) (\d+) (\d+) (\d+)", text)
    assert [int(x) for x in m.groups()] == [174, 114, 132, 59, 479]


def test_claims_registry_is_well_formed():
    claims = load_claims()
    cells = load_cells()
    assert claims["claim_id"].is_unique
    assert len(claims) == 81
    known_groups = set(cells["group"])
    for _, claim in claims.iterrows():
        pairs = claim_groups(claim)
        assert pairs, claim["claim_id"]
        for group, _ in pairs:
            parse_group_key(group)
            if claim["kind"] != "correlation":
                assert group in known_groups, (claim["claim_id"], group)
    # as the text gives them, even where they disagree with the table (C13b quotes
    # Belangrijk's 4,64 for the Lukt comparison)
    c13b = claims.set_index("claim_id").loc["C13b"]
    assert claim_groups(c13b)[0] == ("social_worker>self@ambulatory_daycare", 4.64)


def test_reliability_and_correlations():
    rel = load_reliability().set_index(["scale", "group"])
    assert tuple(rel.loc[("band", "all"), ["alpha_low", "alpha_high"]]) == (0.53, 0.89)
    assert rel.loc[("inspraak", "professional>youth@all"), "alpha_low"] == 0.71
    assert rel.loc[("opvoed", "professional>parent@all"), "alpha_low"] == 0.91
    corr = load_correlations().set_index(["variable_x", "variable_y"])
    assert corr.loc[("age", "band"), "r"] == 0.22
    assert corr.loc[("belangrijk", "lukt"), "r"] == 0.49
    assert corr.loc[("age", "doel"), "direction"] == "negative"
    assert pd.isna(corr.loc[("age", "doel"), "r"])


def test_group_key_roundtrip():
    key = group_key("professional", "youth", "all", "male")
    assert key == "professional>youth@all#male"
    assert parse_group_key(key) == {"role": "professional", "target": "youth", "sector": "all",
                                    "gender": "male"}
    with pytest.raises(ValueError, match="not of the form"):
        parse_group_key("youth-all")
