"""The embedded synthetic data set: SPRITE, target resolution, verification, reproducibility."""

import json
import shutil
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from triad.cells import cells_from_scores
from triad.cli import app
from triad.paths import data_dir
from triad.published import load_cells
from triad.readers import read_respondents
from triad.reconstruct import (
    compute_resolution,
    missed,
    resolve_targets,
    verify,
    write_synthetic,
)
from triad.scores import scale_scores
from triad.sprite import sd_from_sums, sprite, sprite_sums, sum_window, sumsq_bounds, sumsq_window
from triad.summary_tests import oneway_from_summary
from triad.synthetic.recipe import load_recipe

SYNTHETIC = data_dir() / "synthetic"

# The documented conflicts: (table, group, scale, stat).  Every other target is met.
EXPECTED_CONFLICTS = {
    # Tables 2-3 print n = 179 youths; Table 1 and Table 6 hold 174
    ("2", "youth>professional@all", "band", "n"),
    ("2", "youth>professional@all", "doel", "n"),
    ("2", "youth>professional@all", "taak", "n"),
    ("2", "youth>professional@all", "alliantie", "n"),
    ("3", "youth>professional@all", "inspraak", "n"),
    # ... so the youth column follows only approximately from the sector cells
    ("2", "youth>professional@all", "band", "mean"),
    ("2", "youth>professional@all", "doel", "mean"),
    ("2", "youth>professional@all", "doel", "sd"),
    ("2", "youth>professional@all", "taak", "sd"),
    ("2", "youth>professional@all", "alliantie", "sd"),
    ("3", "youth>professional@all", "inspraak", "mean"),
    ("3", "youth>professional@all", "inspraak", "sd"),
    # Table 4 repeats Table 2's column n for residential cells
    ("4", "youth>professional@residential", "taak", "n"),
    ("4", "youth>professional@residential", "inspraak", "n"),
    ("4", "social_worker>youth@residential", "taak", "n"),
    ("4", "social_worker>youth@residential", "inspraak", "n"),
    # Table 5 Belangrijk sector SDs cannot pool to the total 0.38 (Table 12 agrees with it)
    ("5", "social_worker>self@ambulatory_daycare", "belangrijk", "sd"),
    ("5", "social_worker>self@residential", "belangrijk", "sd"),
    # Alliantie means that are not the mean of Band, Doel and Taak (complete answers)
    ("7", "parent>professional@ambulatory_daycare", "alliantie", "mean"),
    ("7", "parent>professional@residential", "alliantie", "mean"),
    ("2", "parent>professional@all", "alliantie", "mean"),
    # role-level cells that do not pool from the sector cells with integer item sums
    ("2", "social_worker>youth@all", "band", "mean"),
    ("2", "social_worker>youth@all", "doel", "mean"),
    # Table 3 parent Opvoedcompetentie SD 1.00; Table 7 pools to 0.96 (Table 7 wins)
    ("3", "parent>professional@all", "opvoed", "sd"),
}
N_TARGETS = 143 + 126 + 126 + 38 + 3  # n, mean, SD (Tables 1-12), alphas, correlations


@pytest.fixture(scope="module")
def report() -> pd.DataFrame:
    return verify(SYNTHETIC / "respondents.csv")


@pytest.fixture(scope="module")
def synthetic_cells() -> pd.DataFrame:
    wide = read_respondents(SYNTHETIC / "respondents.csv").wide
    return cells_from_scores(scale_scores(wide), load_cells(), decimals=2)


def _key(row) -> tuple:
    return (row["table"], row["group"], row["scale"], row["stat"])


# --------------------------------------------------------------------------- SPRITE


@pytest.mark.parametrize(
    ("n", "mean", "sd", "k"),
    [(50, 3.47, 0.88, 4), (53, 3.04, 0.53, 4), (26, 3.21, 1.08, 4), (79, 4.64, 0.34, 10),
     (59, 3.49, 0.61, 10), (30, 2.50, 1.20, 1), (12, 4.10, 0.30, 12)],
)
def test_sprite_hits_printed_mean_and_sd(n, mean, sd, k):
    rng = np.random.default_rng(1)
    sums = sprite(n, mean, sd, k, rng)
    scores = sums / k
    assert len(sums) == n and sums.dtype == np.int64
    assert sums.min() >= k and sums.max() <= 5 * k
    assert round(scores.mean(), 2) == mean
    assert round(scores.std(ddof=1), 2) == sd
    assert abs(scores.mean() - mean) < 0.005 and abs(scores.std(ddof=1) - sd) < 0.005


def test_sprite_sums_hits_total_and_sum_of_squares_exactly():
    rng = np.random.default_rng(7)
    for n, k in [(40, 4), (60, 10), (25, 1)]:
        total = int(3.6 * n * k)
        q_min, q_max = sumsq_bounds(total, n, k)
        q = q_min + 2 * ((q_max - q_min) // 6)  # same parity as q_min, which has total's parity
        x = sprite_sums(n, total, q, k, rng)
        assert int(x.sum()) == total and int((x * x).sum()) == q
        assert x.min() >= k and x.max() <= 5 * k


def test_sprite_bounds_by_hand():
    # three 1-item answers summing to 6: most equal 2,2,2 (Q = 12); most spread 1,1,4 (Q = 18)
    assert sumsq_bounds(6, 3, 1) == (12, 18)
    # 4-item sums (4..20) of two people totalling 24: 12,12 (288) or 4,20 (416)
    assert sumsq_bounds(24, 2, 4) == (288, 416)


def test_windows_round_back_to_the_printed_values():
    n, k = 69, 4
    lo, hi = sum_window(4.30, n, k)
    assert lo <= hi
    for total in range(lo, hi + 1):
        assert round(total / (n * k), 2) == 4.30
        q_lo, q_hi = sumsq_window(0.62, total, n, k)
        assert q_lo <= q_hi and q_lo % 2 == total % 2
        for q in range(q_lo, q_hi + 1, 2):
            assert round(sd_from_sums(total, q, n, k), 2) == 0.62


def test_sprite_refuses_an_sd_beyond_the_maximum_for_the_mean():
    # 20 answers on 1-5 with mean 4.80 have an SD of at most sqrt(3.8 * 0.2 * 20 / 19) = 0.89
    with pytest.raises(ValueError, match="no 20 1-item scores on 1-5 with mean 4.80 have an SD"):
        sprite(20, 4.80, 1.50, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="SD .* is impossible for mean"):
        sprite_sums(20, 96, 20 * 25, 1, np.random.default_rng(0))


def test_sprite_refuses_a_grim_inconsistent_mean():
    # 5 one-item answers: the mean moves in steps of 0.2, so 3.47 cannot occur
    with pytest.raises(ValueError, match="GRIM"):
        sprite(5, 3.47, 0.50, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="parity"):
        sprite_sums(4, 10, 27, 1, np.random.default_rng(0))


# --------------------------------------------------------------------------- resolution


def test_resolution_keeps_every_sector_cell_and_documents_each_conflict():
    res = resolve_targets()
    conflicts = {(t.table, t.group, t.scale, t.stat) for t in res.targets
                 if t.status == "conflict"}
    assert conflicts == EXPECTED_CONFLICTS
    assert all(t.reason for t in res.targets if t.status == "conflict")
    for t in res.targets:
        sector_cell = "@all" not in t.group
        if t.table in ("6", "8", "9") or (t.table == "5" and t.scale == "lukt" and sector_cell):
            assert t.status in ("required", "kept"), t
            assert t.status == "required" or t.scale == "alliantie", t
        totals = t.table in ("10", "11", "12") or (t.table == "5" and not sector_cell)
        if totals and t.stat != "n":
            assert t.status == "kept", t
    # the audit's known conflicts are resolved as documented
    why = {(t.table, t.group, t.scale, t.stat): t.reason for t in res.targets}
    assert "the sample table" in why[("2", "youth>professional@all", "band", "n")]
    assert "pool to the total" in why[("5", "social_worker>self@residential", "belangrijk", "sd")]
    assert "Band, Doel and Taak" in why[("7", "parent>professional@residential", "alliantie",
                                         "mean")]


def test_resolution_is_deterministic():
    first = compute_resolution(load_recipe())
    second = compute_resolution(load_recipe())
    assert [(t.status, t.reason) for t in first.targets] == \
        [(t.status, t.reason) for t in second.targets]
    assert first.sums == second.sums


# --------------------------------------------------------------------------- the committed file


def test_committed_file_meets_every_consistent_target(report):
    assert len(report) == N_TARGETS
    assert missed(report).empty, missed(report).to_string()
    unmatched = {_key(r) for _, r in report[~report["matched"]].iterrows()}
    assert unmatched == EXPECTED_CONFLICTS
    assert int(report["matched"].sum()) == N_TARGETS - len(EXPECTED_CONFLICTS)
    met = report[report["status"] != "conflict"]
    numeric = met[met["stat"].isin(["mean", "sd", "alpha", "r"]) & met["target"].notna()]
    assert (numeric["difference"].abs() <= 0.005).all()
    counts = met[met["stat"] == "n"]
    assert (counts["achieved"] == counts["target"]).all()


def test_committed_file_alphas_and_correlations(report):
    alphas = report[report["stat"] == "alpha"]
    chosen = alphas[alphas["status"] == "chosen"]
    assert len(chosen) == len(load_recipe().alpha_targets) == 24
    assert alphas["matched"].all()
    # every group of Tables 2-3 (and professionals together) inside the report's ranges
    ranges = alphas[alphas["status"] == "range"]
    assert set(ranges["scale"]) == {"band", "doel", "taak", "alliantie"}
    assert (ranges["scale"] == "alliantie").sum() == 8
    for _, row in ranges.iterrows():
        lo, hi = {"band": (0.53, 0.89), "doel": (0.71, 0.86), "taak": (0.71, 0.85),
                  "alliantie": (0.71, 0.92)}[row["scale"]]
        assert lo - 0.005 < row["achieved"] < hi + 0.005, row
    r = report[report["stat"] == "r"].set_index("scale")
    assert round(r.loc["age~band", "achieved"], 2) == 0.22
    assert round(r.loc["belangrijk~lukt", "achieved"], 2) == 0.49
    assert r.loc["age~doel", "achieved"] < 0


def test_committed_file_is_labelled_synthetic():
    data = read_respondents(SYNTHETIC / "respondents.csv", strict=True)
    assert data.data_source == "synthetic"
    assert data.counts["respondents"] == 479
    assert data.counts["missing"] == 0 and data.counts["quarantined"] == 0
    prov = json.loads((SYNTHETIC / "provenance.json").read_text(encoding="utf-8"))
    assert prov["synthetic"] is True
    assert prov["summary"]["missed"] == 0
    assert {(c["table"], c["group"], c["scale"], c["stat"]) for c in prov["conflicts"]} \
        == EXPECTED_CONFLICTS
    assert "NOT the study's data" in (SYNTHETIC / "README.md").read_text(encoding="utf-8")
    wide = data.wide
    assert list(wide["respondent_id"][:2]) == ["S0001", "S0002"]
    assert list(dict.fromkeys(wide["role"])) == ["youth", "parent", "social_worker", "teacher"]
    prof = wide[wide["role"].isin(["social_worker", "teacher"])]
    assert prof["gender"].value_counts().to_dict() == {"female": 155, "male": 36}


def test_anova_from_synthetic_cells_equals_published(synthetic_cells):
    """F and p of every consistent three-sector family equal the published ones exactly."""
    published = load_cells()
    families = 0
    for table in (5, 6, 7, 8, 9):
        pub = published[(published["table"] == table) & (published["sector"] != "all")]
        for scale, rows in pub.groupby("scale", sort=True):
            keys = {(str(table), g, scale, s) for g in rows["group"] for s in ("mean", "sd")}
            if keys & EXPECTED_CONFLICTS:
                continue
            syn = synthetic_cells.loc[rows.index]
            assert (syn["n"].to_numpy() == rows["n"].to_numpy()).all()
            a = oneway_from_summary(rows["n"], rows["mean"], rows["sd"])
            b = oneway_from_summary(syn["n"].astype(float), syn["mean"].astype(float),
                                    syn["sd"].astype(float))
            assert a.loc[0, "statistic"] == b.loc[0, "statistic"], (table, scale)
            assert a.loc[0, "p"] == b.loc[0, "p"], (table, scale)
            families += 1
    # Tables 6, 8, 9: five scales each; Table 7 without Alliantie; Table 5 Lukt only
    assert families == 5 + 4 + 5 + 5 + 1


def test_cli_verify_passes_on_committed_file():
    result = CliRunner().invoke(app, ["reconstruct", "--verify"])
    assert result.exit_code == 0, result.output
    assert "0 missed" in result.output


def test_cli_verify_fails_on_a_tampered_file(tmp_path):
    for name in ("respondents.csv", "provenance.json"):
        shutil.copy(SYNTHETIC / name, tmp_path / name)
    frame = pd.read_csv(tmp_path / "respondents.csv", dtype=str, keep_default_na=False)
    first = frame.index[frame["role"] == "youth"][0]
    frame.loc[first, "band_1"] = "1" if frame.loc[first, "band_1"] != "1" else "5"
    frame.to_csv(tmp_path / "respondents.csv", index=False, lineterminator="\n")
    result = CliRunner().invoke(app, ["reconstruct", "--verify", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Missed targets" in result.output


@pytest.mark.slow
def test_command_regenerates_the_committed_file_byte_for_byte(tmp_path):
    start = time.perf_counter()
    prov = write_synthetic(tmp_path, seed=prov_seed())
    elapsed = time.perf_counter() - start
    assert (tmp_path / "respondents.csv").read_bytes() == \
        (SYNTHETIC / "respondents.csv").read_bytes()
    assert prov["summary"]["missed"] == 0
    assert elapsed < 120


def prov_seed() -> int:
    return json.loads((SYNTHETIC / "provenance.json").read_text(encoding="utf-8"))["seed"]
