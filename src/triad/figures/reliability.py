"""Cronbach's alpha per scale and rater group against the reported range."""

from pathlib import Path

import pandas as pd

from triad.figures.common import POSTERIOR, source_of, styled
from triad.figures.helpers import scale_order
from triad.figures.pages import Block, Series, forest_pages
from triad.figures.words import group_words, phrase
from triad.labels import scale_label


@styled
def reliability_plot(reliability: pd.DataFrame, out: Path, lang: str = "en") -> list[Path]:
    """Cronbach's alpha with 95% CI per scale and rater group, the report's range shaded."""
    part = reliability[reliability["sector"] == "all"].dropna(subset=["alpha"])
    if part.empty:
        return []
    blocks = []
    for scale in scale_order(part["scale"]):
        rows = part[part["scale"] == scale]
        frame = rows.assign(
            label=[group_words(r, t, lang) for r, t in zip(rows["role"], rows["target"],
                                                            strict=True)],
            scale_label=scale_label(scale, lang),
            group_label=[group_words(r, t, lang) for r, t in zip(rows["role"],
                                                                  rows["target"],
                                                                  strict=True)],
            band_low=rows["reported_low"], band_high=rows["reported_high"] + 1e-3)
        blocks.append(Block(scale_label(scale, lang), frame.drop(columns=["sector"]), scale))
    series = [Series("alpha", "alpha_ci_low", "alpha_ci_high", phrase(lang, "alpha") + ", 95% CI",
                      POSTERIOR, "o", 0.0)]
    return forest_pages(blocks, name="reliability", out=out, lang=lang, source=source_of(part),
                         xlabel=phrase(lang, "alpha"), series=series,
                         band_label=phrase(lang, "reported"), zero=False, width="single",
                         label_mm=40.0)
