"""Figures are print-ready: journal widths, at most a page tall, text >= 7 pt, no Type 3.

Every figure is drawn from small hand-made tables in the layout ``scripts/fit_all.py``
writes (and a tiny stored fit for the posterior predictive check), then every PDF is
opened: page size, the embedded fonts and the size of every piece of text; every SVG is
read for codes where words belong; every PNG must have its data beside it as CSV.
"""

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pypdf
import pytest
import xarray as xr

from triad.codebook import sector_codes
from triad.contrasts import contrast_pairs, families
from triad.figures import all_figures, figure_pages, forest_claims
from triad.sbc import ecdf_figures
from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, MIN_FONT_PT, SINGLE_MM

PT_MM = 25.4 / 72
# a group key (youth>professional@all#male) or an identifier (special_education,
# inspraak_gap_youth_vs_professional, metric_inspraak) where words belong
CODE = re.compile(r"[a-z]+>[a-z]*@|@[a-z]|\b[a-z]+_[a-z_]+\b")
GROUPS = [("youth", "professional", s) for s in sector_codes()] + [
    ("parent", "professional", s) for s in sector_codes()] + [
    ("social_worker", t, s) for t in ("youth", "parent")
    for s in ("ambulatory_daycare", "residential")] + [
    ("teacher", t, "special_education") for t in ("youth", "parent")]


def _contrasts(rng) -> pd.DataFrame:
    """Every named contrast of a scale, as the library names them, with made-up numbers."""
    units = pd.DataFrame([(r, t, "band", s, g) for r, t, s in GROUPS
                          for g in ("male", "female")],
                         columns=["role", "target", "scale", "sector", "gender"])
    rows = []
    # Band: every family, more rows than one page holds
    for scale in ("band",):
        for family in families():
            for name, sector, _, _ in contrast_pairs(family, scale, units):
                est = rng.normal(0, 0.3)
                rows.append({"contrast": name, "scale": scale, "sector": sector,
                             "estimand": "descriptive", "estimate": est,
                             "ci_low": est - 0.2, "ci_high": est + 0.2, "rope": 0.06,
                             "conclusion": "undecided", "model": f"metric_{scale}",
                             "data_source": "synthetic",
                             "gates_passed": sector != "residential"})
    paired = [("belangrijk_minus_lukt", s, m, src) for s in ("all", *sector_codes())
              for m, src in (("metric_competences", "synthetic"),
                             ("summary_cells", "published"))]
    rows += [{"contrast": n, "scale": "belangrijk", "sector": s, "estimand": "descriptive",
              "estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9, "rope": 0.04,
              "conclusion": "higher", "model": m, "data_source": src, "gates_passed": True}
             for n, s, m, src in paired]
    return pd.DataFrame(rows)


def _claims() -> pd.DataFrame:
    pairs = [("C15", "band", "youth>professional@ambulatory_daycare",
              "youth>professional@residential"),
             ("C29a", "band", "professional>youth@all#male", "professional>youth@all#female"),
             ("C04", "doel", "youth>professional@all", "parent>professional@all"),
             ("C14", "belangrijk", "professional>self@all", None)]
    return pd.DataFrame([{
        "claim_id": c, "scale": sc, "group_a": a, "group_b": b,
        "paper_verdict": "significant" if b else "descriptive", "bayes_model": f"metric_{sc}",
        "bayes_estimate": 0.3 if b else np.nan, "bayes_ci_low": 0.1, "bayes_ci_high": 0.5,
        "rope": 0.06, "conclusion": "higher" if b else "", "gates_passed": True,
        "robustness": 0.6, "robust": "fragile", "data_source": "synthetic"}
        for c, sc, a, b in pairs])


def _multiverse(claims: pd.DataFrame) -> pd.DataFrame:
    universes = [("primary (Gaussian)", ""), ("Student-t", "t"), ("priors x 2", "prior_double"),
                 ("summary statistics", "")]
    return pd.DataFrame([{
        "claim_id": r["claim_id"], "scale": r["scale"], "group_a": r["group_a"],
        "group_b": r["group_b"], "universe": u, "conclusion": c, "gates_passed": u != "Student-t",
        "model": f"metric_{r['scale']}" + (f"~{v}" if v else ""), "data_source": "synthetic",
        "loo_rejected": False}
        for _, r in claims.dropna(subset=["group_b"]).iterrows()
        for (u, v), c in zip(universes, ("higher", "undecided", "lower", "equivalent"),
                             strict=True)])


def _fit(folder: Path, rng) -> None:
    """A stored fit with just what the posterior predictive check reads."""
    folder.mkdir(parents=True)
    obs = rng.integers(4, 21, 40) / 4
    tree = xr.DataTree.from_dict({
        "posterior_predictive": xr.Dataset({"score": (("chain", "draw", "__obs__"),
                                                      rng.normal(4, 0.6, (1, 60, 40)))}),
        "observed_data": xr.Dataset({"score": (("__obs__",), obs)})})
    tree.to_netcdf(folder / "fit.nc", engine="netcdf4")


@pytest.fixture(scope="module")
def figure_tables(tmp_path_factory):
    """A run's tables folder, made by hand."""
    rng = np.random.default_rng(5)
    tables = tmp_path_factory.mktemp("tables")
    _fit(tables / "fit_band", rng)
    claims = _claims()
    cells = pd.DataFrame([{"scale": sc, "role": r, "target": t, "sector": s,
                           "mean": 3.9, "ci_low": 3.7, "ci_high": 4.1, "n": 30,
                           "model": f"metric_{sc}", "data_source": "synthetic",
                           "gates_passed": True} for r, t, s in GROUPS[:8] for sc in ("band",)])
    contrasts = _contrasts(rng)
    gaps = contrasts[contrasts["contrast"].str.contains("_gap_") & contrasts["scale"].eq("band")]
    rope = pd.concat([gaps.assign(rope_sd=w, p_rope=w * 2) for w in (0.05, 0.1, 0.2)])
    reliability = pd.DataFrame([{"scale": sc, "role": r, "target": t, "sector": "all",
                                 "alpha": 0.8, "alpha_ci_low": 0.75, "alpha_ci_high": 0.85,
                                 "reported_low": 0.7, "reported_high": 0.9,
                                 "data_source": "synthetic"}
                                for r, t in (("youth", "professional"), ("teacher", "youth"))
                                for sc in ("band", "doel")])
    diagnostics = pd.DataFrame({
        "model": ["metric_band", "metric_doel", "metric_competences", "summary_cells"],
        "variant": "", "family": ["gaussian"] * 3 + ["summary_normal"],
        "data_source": ["synthetic"] * 3 + ["published"],
        "fit_folder": [str(tables / "fit_band"), "", "", ""]})
    for name, frame in (("claims", claims), ("multiverse", _multiverse(claims)),
                        ("posterior_cell_means", cells), ("contrasts", contrasts),
                        ("rope_sensitivity", rope), ("reliability", reliability),
                        ("diagnostics", diagnostics)):
        frame.to_csv(tables / f"{name}.csv", index=False)
    return tables


@pytest.fixture(scope="module")
def figures(figure_tables, tmp_path_factory):
    """Every figure of a run from hand-made tables, plus the SBC ECDF figure."""
    rng = np.random.default_rng(5)
    out = tmp_path_factory.mktemp("figures")
    pngs = all_figures(figure_tables, out, "en")
    ranks = pd.concat([pd.DataFrame({"model": "metric_band", "sim": range(30), "parameter": p,
                                     "kind": "parameter", "rank": rng.integers(0, 50, 30),
                                     "n_ranks": 50})
                       for p in ("band_gap_youth_vs_professional[all]", "1|cell_sigma")])
    pngs += ecdf_figures(ranks, out)
    return out, pngs


def test_every_figure_is_drawn_once(figures):
    out, pngs = figures
    stems = {p.stem for p in pngs}
    assert {"forest_claims_1", "cell_means_1", "ppc_metric_band",
            "scale_difference_belangrijk_lukt", "reliability_1", "multiverse_grid_1",
            "rope_sensitivity_1", "sbc_ecdf_metric_band"} <= stems
    # the named contrasts of two scales do not fit on one page: split, never shrunk
    assert {"forest_contrasts_1", "forest_contrasts_2"} <= stems
    assert sorted(p.name for p in out.glob("*.png")) == sorted(p.name for p in pngs)


def _pdf_text_facts(page) -> tuple[list[float], list[float]]:
    """Font sizes of every ``Tf`` and the scale of the ``cm`` matrix each text object gets."""
    data = page.get_contents().get_data().decode("latin-1")
    sizes = [float(s) for s in re.findall(r"([\d.]+) Tf", data)]
    scales = [float(np.hypot(float(a), float(b))) for a, b in re.findall(
        r"([-\d.]+) ([-\d.]+) [-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+ cm\s+BT", data)]
    return sizes, scales


def _font_subtypes(page) -> set[str]:
    kinds = set()
    for font in page["/Resources"].get("/Font", {}).values():
        font = font.get_object()
        kinds.add(str(font.get("/Subtype")))
        for desc in font.get("/DescendantFonts", []):
            kinds.add(str(desc.get_object().get("/Subtype")))
    return kinds


def test_pdfs_are_journal_pages_with_real_fonts(figures):
    out, pngs = figures
    for png in pngs:
        reader = pypdf.PdfReader(png.with_suffix(".pdf"))
        assert len(reader.pages) == 1
        page = reader.pages[0]
        width, height = (float(v) * PT_MM for v in page.mediabox[2:])
        assert min(abs(width - SINGLE_MM), abs(width - DOUBLE_MM)) < 0.5, (png.stem, width)
        assert height <= MAX_HEIGHT_MM + 0.5, (png.stem, height)
        kinds = _font_subtypes(page)
        assert "/Type3" not in kinds and kinds <= {"/Type0", "/CIDFontType2", "/TrueType"}, (
            png.stem, kinds)
        sizes, scales = _pdf_text_facts(page)
        # matplotlib places each text with an unscaled (rotation-only) matrix, so the
        # Tf size is the printed size
        assert sizes and scales and np.allclose(scales, 1.0, atol=1e-3), png.stem
        assert min(sizes) >= MIN_FONT_PT - 1e-6, (png.stem, min(sizes))


def _svg_texts(path: Path) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(
        r"<text\b[^>]*>(.*?)</text>", path.read_text(encoding="utf-8"), flags=re.S)]


def test_svg_text_is_text_in_words_with_the_synthetic_warning(figures):
    out, pngs = figures
    for png in pngs:
        svg = png.with_suffix(".svg")
        texts = _svg_texts(svg)
        assert texts, svg.name  # svg.fonttype none: text stays <text>, not paths
        codes = [t for t in texts if CODE.search(t)]
        assert not codes, (svg.name, codes)
        if not png.stem.startswith("sbc_"):
            bold = re.findall(r"<text style=\"font-weight: 700[^>]*>([^<]*)",
                              svg.read_text(encoding="utf-8"))
            assert any("SYNTHETIC" in t for t in bold), svg.name


def test_every_figure_has_its_data_beside_it(figures):
    out, pngs = figures
    for png in pngs:
        data = pd.read_csv(png.with_suffix(".csv"))
        assert len(data) and "data_source" in data, png.stem
    forest = pd.concat(pd.read_csv(p) for p in sorted(out.glob("forest_contrasts_*.csv")))
    assert {"contrast", "contrast_label", "sector", "sector_label", "estimate", "rope",
            "summary_estimate", "summary_method"} <= set(forest.columns)
    # each named contrast once, from the primary model, with the paper's Welch estimate
    # beside it where the published tables give both groups
    assert not forest.duplicated(["contrast", "sector"]).any()
    youth = forest[(forest["contrast"] == "band_gap_youth_vs_professional")
                   & (forest["sector"] == "residential")].iloc[0]
    assert youth["summary_method"] == "welch" and youth["summary_ci_low"] < youth[
        "summary_estimate"] < youth["summary_ci_high"]
    # paired (same respondents): the published difference only, no interval
    paired = forest[forest["contrast"] == "band_professional_youth_vs_parent"]
    assert (paired["summary_method"] == "paired").all() and paired["summary_ci_low"].isna().all()
    claims = pd.read_csv(out / "forest_claims_1.csv")
    c15 = claims[claims["group_b"] == "youth>professional@residential"].iloc[0]
    # Tables 6: youths about professionals, ambulatory/day care 4.30 (n 69) - residential
    # 3.90 (n 50) on Band
    assert c15["welch_estimate"] == pytest.approx(0.40)
    assert c15["row_label"] == ("C15 youths about professionals: ambulatory/day care "
                                "\u2212 residential")


def test_dutch_words(tmp_path):
    claims = _claims()
    [png] = forest_claims(claims, tmp_path, "nl")
    texts = " ".join(_svg_texts(png.with_suffix(".svg")))
    assert "jeugdigen over professionals" in texts and "SYNTHETISCHE" in texts
    assert not CODE.search(texts)


def test_figure_pages_in_page_order():
    paths = [Path(f"f/{n}.png") for n in ("forest_claims_10", "forest_claims_2",
                                           "scale_difference_belangrijk_lukt", "forest_claims_1",
                                           "forest_claims_x")]
    assert [p.stem for p in figure_pages(paths, "forest_claims")] == [
        "forest_claims_1", "forest_claims_2", "forest_claims_10"]
    assert figure_pages(paths, "scale_difference_belangrijk_lukt") == [
        Path("f/scale_difference_belangrijk_lukt.png")]


def test_figure_groups_drawn_in_worker_processes_are_the_same_files(figures, figure_tables,
                                                                     tmp_path):
    out, pngs = figures
    again = all_figures(figure_tables, tmp_path, "en", jobs=2)
    made = [p for p in pngs if not p.stem.startswith("sbc_")]
    assert [p.name for p in again] == [p.name for p in made]  # same figures, same order
    for png in made:  # the same data drawn: byte-identical PNG and CSV (SVG ids vary)
        for ext in (".png", ".csv"):
            first = png.with_suffix(ext)
            if first.is_file():
                assert (tmp_path / first.name).read_bytes() == first.read_bytes(), first.name
