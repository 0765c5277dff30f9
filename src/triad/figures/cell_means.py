"""Cell means per scale, rater group and sector: posterior vs published."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from triad.codebook import load_codebook, sector_codes
from triad.figures.common import POSTERIOR, SUMMARY, source_of, styled
from triad.figures.helpers import pooled, primary_by_scale, published_units, scale_order, sector_key
from triad.figures.pages import Block, Series, forest_pages
from triad.figures.words import group_words, model_words, phrase
from triad.labels import scale_label, sector_label


@styled
def cell_means_plot(cell_means: pd.DataFrame, out: Path, lang: str = "en",
                    diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """Cell means per scale, rater group and sector: posterior vs published.

    The primary model's posterior mean with its 95% HDI, and the published mean with its
    95% t interval (from the printed n and SD).  Pages ``cell_means_<k>``.
    """
    if cell_means.empty:
        return []
    rows = cell_means[cell_means.get("gender", pd.Series(np.nan, index=cell_means.index))
                      .isna() & cell_means["sector"].isin(sector_codes())]
    primary = primary_by_scale(rows, diagnostics)
    rows = rows[rows["model"].eq(rows["scale"].map(primary))]
    if rows.empty:
        return []
    pub = published_units()
    pub = pub[pub["partition"] == "sector"]
    roles = list(load_codebook().roles)
    blocks = []
    for scale in scale_order(rows["scale"]):
        part = rows[rows["scale"] == scale]
        groups = part[["role", "target"]].drop_duplicates()
        groups = groups.iloc[sorted(range(len(groups)), key=lambda i: (
            roles.index(groups["role"].iloc[i]) if groups["role"].iloc[i] in roles else 9,
            str(groups["target"].iloc[i])))]
        for role, target in groups.itertuples(index=False):
            cell = part[(part["role"] == role) & (part["target"] == target)]
            cell = cell.iloc[sorted(range(len(cell)), key=lambda i: sector_key(
                cell["sector"].iloc[i]))]
            published = []
            for sector in cell["sector"]:
                p = pub[(pub["scale"] == scale) & (pub["role"] == role)
                        & (pub["target"] == target) & (pub["sector"] == sector)]
                got = pooled(p)
                if got is None or got[0] < 2:
                    published.append((np.nan, np.nan, np.nan, np.nan))
                    continue
                n, m, s = got
                half = stats.t.ppf(0.975, n - 1) * s / np.sqrt(n)
                published.append((n, m, m - half, m + half))
            head = f"{scale_label(scale, lang)}: {group_words(role, target, lang)}"
            frame = cell.assign(
                label=[sector_label(s, lang) for s in cell["sector"]],
                scale_label=scale_label(scale, lang),
                group_label=group_words(role, target, lang),
                sector_label=[sector_label(s, lang) for s in cell["sector"]],
                model_label=model_words(str(cell["model"].iloc[0]), lang),
                published_n=[p[0] for p in published],
                published_mean=[p[1] for p in published],
                published_ci_low=[p[2] for p in published],
                published_ci_high=[p[3] for p in published],
                ok=cell.get("gates_passed", pd.Series(True, index=cell.index)).astype(bool))
            keep = ["label", "scale", "scale_label", "role", "target", "group_label", "sector",
                    "sector_label", "model", "model_label", "n", "mean", "ci_low", "ci_high",
                    "published_n", "published_mean", "published_ci_low", "published_ci_high",
                    "ok", "data_source"]
            blocks.append(Block(head, frame[[c for c in keep if c in frame]], scale))
    series = [Series("mean", "ci_low", "ci_high", phrase(lang, "posterior"), POSTERIOR, "s", -0.9),
              Series("published_mean", "published_ci_low", "published_ci_high",
                      phrase(lang, "published_ci"), SUMMARY, "o", 0.9)]
    return forest_pages(blocks, name="cell_means", out=out, lang=lang, source=source_of(rows),
                         xlabel=phrase(lang, "score"), series=series, zero=False, label_mm=40.0)
