"""Per-cell posterior predictive checks and the predictive figures on hand-built fits."""

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from triad.predictive_checks import (
    PPC_CELL_COLUMNS,
    mid_p_value,
    ppc_cell_table,
    ppc_cells_figure,
    predictive_figures,
    prior_predictive_figure,
)
from triad.privacy import SmallCellGuard

# Two cells of 3 respondents; 5 replicated data sets (1 chain x 5 draws).
CELLS = ["youth>professional@residential"] * 3 + ["professional>youth@residential"] * 3
OBSERVED = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0])
# cell 1's replicated means are 1, 2, 3, 4, 5; cell 2's all 3 (far below its observed 5)
REPLICATED = np.array([[1, 1, 1, 3, 3, 3],
                       [1, 2, 3, 2, 3, 4],
                       [2, 3, 4, 3, 3, 3],
                       [3, 4, 5, 1, 3, 5],
                       [5, 5, 5, 3, 3, 3]], dtype=float)


def _metric_fit(prior: bool = False) -> xr.DataTree:
    obs = {"__obs__": np.arange(6)}
    const = xr.Dataset({
        "respondent": ("__obs__", [f"p{i}" for i in range(6)]),
        "scale": ("__obs__", ["inspraak"] * 6),
        "rater": ("__obs__", ["youth"] * 3 + ["professional"] * 3),
        "target": ("__obs__", ["professional"] * 3 + ["youth"] * 3),
        "sector": ("__obs__", ["residential"] * 6),
        "cell": ("__obs__", CELLS)}, coords=obs)
    groups = {
        "posterior_predictive": xr.Dataset(
            {"score": (("chain", "draw", "__obs__"), REPLICATED[None].astype("float32"))},
            coords=obs),
        "observed_data": xr.Dataset({"score": ("__obs__", OBSERVED)}, coords=obs),
        "constant_data": const}
    if prior:
        rng = np.random.default_rng(0)
        groups["prior_predictive"] = xr.Dataset(
            {"score": (("chain", "draw", "__obs__"), rng.normal(3.5, 2, (1, 60, 6)))},
            coords=obs)
    return xr.DataTree.from_dict(groups)


def _row(table: pd.DataFrame, group: str, statistic: str) -> pd.Series:
    return table[(table["group"] == group) & (table["statistic"] == statistic)].iloc[0]


def test_p_values_by_hand():
    table = ppc_cell_table(_metric_fit(), model="m", data_source="synthetic")
    assert list(table.columns) == PPC_CELL_COLUMNS
    assert len(table) == 2 * 3  # two cells x (mean, sd, top share)
    youth = _row(table, "youth>professional@residential", "mean")
    # observed mean 2; replicated means 1, 2, 3, 4, 5: P(>2) + P(=2)/2 = 3/5 + 1/10
    assert youth["observed"] == 2 and youth["p_value"] == pytest.approx(0.7)
    assert youth["rep_mean"] == pytest.approx(3.0) and not youth["flagged"]
    assert (youth["n"], youth["n_obs"], youth["data_source"]) == (3, 3, "synthetic")
    # observed SD 1; replicated SDs 0, 1, 1, 1, 0: P(>1) + P(=1)/2 = 0 + 3/10
    assert _row(table, "youth>professional@residential", "sd")["p_value"] == pytest.approx(0.3)
    # share of scores >= 4.5: observed 0; replicated 0, 0, 0, 1/3, 1 -> 2/5 + 3/10
    top = _row(table, "youth>professional@residential", "top_share")
    assert top["p_value"] == pytest.approx(0.7)


def test_an_observed_value_outside_the_replicates_is_flagged():
    table = ppc_cell_table(_metric_fit(), model="m")
    pro = _row(table, "professional>youth@residential", "mean")
    # observed mean 5 above every replicated mean (3 each time): p = 0
    assert pro["observed"] == 5 and pro["p_value"] == 0 and pro["flagged"]
    assert pro["observed"] > pro["rep_high"]
    top = _row(table, "professional>youth@residential", "top_share")
    # every observed score is 5: share 1; replicates 0, 0, 0, 1/3, 0 -> p = 0
    assert top["observed"] == 1 and top["flagged"]
    assert mid_p_value(np.array([1.0, 1.0]), 1.0) == 0.5  # ties alone never flag


def test_ordinal_answers_and_summary_cells():
    tree = _metric_fit()
    # ordinal fits store category indices 0..4 as int8 (answer - 1)
    tree["posterior_predictive"] = xr.DataTree(xr.Dataset(
        {"value": (("chain", "draw", "__obs__"), (REPLICATED[None] - 1).astype("int8"))}))
    tree["observed_data"] = xr.DataTree(xr.Dataset({"value": ("__obs__",
                                                              (OBSERVED - 1).astype(int))}))
    table = ppc_cell_table(tree, model="ordinal_m")
    pro = _row(table, "professional>youth@residential", "top_share")
    assert pro["observed"] == 1 and pro["rep_mean"] == pytest.approx(1 / 15)
    cells = ["youth>professional@residential|band", "professional>youth@all#male|band"]
    summary = xr.DataTree.from_dict({
        "posterior_predictive": xr.Dataset({
            "cell_mean": (("chain", "draw", "cell"), [[[3.0, 4.0], [3.2, 4.1], [3.4, 4.2]]]),
            "cell_var": (("chain", "draw", "cell"), [[[1.0, 0.25], [0.81, 0.36], [1.21, 0.3]]])},
            coords={"cell": cells}),
        "observed_data": xr.Dataset({"cell_mean": ("cell", [3.2, 5.0]),
                                     "cell_var": ("cell", [1.0, 0.25])}, coords={"cell": cells}),
        "constant_data": xr.Dataset({
            "scale": ("cell", ["band", "band"]), "rater": ("cell", ["youth", "professional"]),
            "target": ("cell", ["professional", "youth"]),
            "sector": ("cell", ["residential", "all"]), "gender": ("cell", ["all", "male"]),
            "n": ("cell", [50, 36])}, coords={"cell": cells})})
    table = ppc_cell_table(summary, model="summary_m", data_source="published")
    assert set(table["statistic"]) == {"mean", "sd"}  # no answers, no top share
    assert set(table["group"]) == {"youth>professional@residential",
                                   "professional>youth@all#male"}
    youth_sd = _row(table, "youth>professional@residential", "sd")
    # replicated SDs 1, 0.9, 1.1 against an observed 1: P(>1) + P(=1)/2 = 1/3 + 1/6
    assert youth_sd["p_value"] == pytest.approx(0.5)
    assert _row(table, "professional>youth@all#male", "mean")["flagged"]


def test_small_cells_are_suppressed(tmp_path):
    table = ppc_cell_table(_metric_fit(), model="m", data_source="file")
    guard = SmallCellGuard(pd.DataFrame({"respondent_id": ["a"], "role": ["youth"],
                                         "target": ["professional"], "sector": ["residential"],
                                         "gender": ["male"], "scale": ["inspraak"],
                                         "score": [3.0]}), min_cell=5)
    protected = guard.apply("ppc_cells.csv", table)
    assert protected["suppressed"].all() and protected["p_value"].isna().all()
    assert protected["observed"].isna().all() and protected["n"].isna().all()
    # the figure of a protected table names the cells and draws nothing of them
    figure = ppc_cells_figure(protected, tmp_path)[0]
    assert "suppressed" in figure.with_suffix(".svg").read_text()


def _pdf_width_mm(path) -> float:
    box = re.search(rb"/MediaBox \[\s*([-\d.\s]+)\]", path.read_bytes()).group(1).split()
    return (float(box[2]) - float(box[0])) / 72 * 25.4


def test_figures_are_written_at_double_column_width(tmp_path):
    table = ppc_cell_table(_metric_fit(), model="metric_m", data_source="synthetic")
    paths = ppc_cells_figure(table, tmp_path)
    assert [p.name for p in paths] == ["ppc_cells_metric_m.png"]
    for ext in (".png", ".pdf", ".svg", ".csv"):
        assert paths[0].with_suffix(ext).is_file()
    assert _pdf_width_mm(paths[0].with_suffix(".pdf")) == pytest.approx(174, abs=0.1)
    drawn = pd.read_csv(paths[0].with_suffix(".csv"))
    assert len(drawn) == len(table) and drawn["flagged"].any()
    # cells in words, never as codes
    svg = paths[0].with_suffix(".svg").read_text()
    assert "youths about professionals" in svg and "youth&gt;professional" not in svg
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert sizes and min(sizes) >= 7

    prior = prior_predictive_figure(_metric_fit(prior=True), "metric_m", tmp_path,
                                    source="synthetic", num_samples=20)
    assert prior.name == "prior_metric_m.png"
    assert prior.with_suffix(".csv").is_file() and prior.with_suffix(".svg").is_file()
    assert _pdf_width_mm(prior.with_suffix(".pdf")) == pytest.approx(174, abs=0.1)


def test_predictive_figures_of_a_run(tmp_path):
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    folder = results / "fits" / "metric_m" / "key"
    folder.mkdir(parents=True)
    _metric_fit(prior=True).to_netcdf(folder / "fit.nc", engine="netcdf4")
    table = pd.concat([ppc_cell_table(_metric_fit(), model=m, data_source="synthetic")
                       for m in ("metric_m", "metric_m~t")])
    table.to_csv(results / "tables" / "ppc_cells.csv", index=False)
    pd.DataFrame({"model": ["metric_m"], "fit_folder": [str(folder)],
                  "data_source": ["synthetic"]}).to_csv(results / "tables" / "diagnostics.csv",
                                                        index=False)
    paths = predictive_figures(results, tmp_path / "figures")
    # primary models only (variants are 'model~variant')
    assert sorted(p.name for p in paths) == ["ppc_cells_metric_m.png", "prior_metric_m.png"]
    stamp = (tmp_path / "figures" / "ppc_cells_metric_m.png").stat().st_mtime_ns
    assert predictive_figures(results, tmp_path / "figures") == paths  # unchanged: not redrawn
    assert (tmp_path / "figures" / "ppc_cells_metric_m.png").stat().st_mtime_ns == stamp
