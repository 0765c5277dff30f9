"""A within-person scale difference per sector: each model and published."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from triad.codebook import sector_codes
from triad.figures.common import (
    LINE_MM,
    OKABE_ITO,
    SUMMARY,
    XAXIS_MM,
    add_footnote,
    footnote_height_mm,
    is_variant,
    lines,
    save,
    source_of,
    styled,
    wrap_text,
)
from triad.figures.helpers import summary_contrasts
from triad.figures.words import model_words, phrase
from triad.labels import contrast_label, sector_label
from triad.style import SINGLE_MM, figure_size, journal_style


@styled
def scale_difference_plot(contrasts: pd.DataFrame, out: Path, lang: str = "en") -> Path | None:
    """Draw a within-person scale difference per sector: each model and published.

    The contrast ``<a>_minus_<b>`` (a scale_difference family of the catalogue: one group's
    scale A minus scale B) is saved as ``scale_difference_<a>_<b>``.
    """
    paired = contrasts["contrast"].astype(str).str.fullmatch(r"[a-z]+_minus_[a-z]+")
    part = contrasts[paired & ~is_variant(contrasts)
                     & contrasts.get("estimand", pd.Series("descriptive", index=contrasts.index))
                     .eq("descriptive")]
    if part.empty:
        return None
    name = str(part["contrast"].iloc[0])
    part = part[part["contrast"] == name]
    stem = "scale_difference_" + name.replace("_minus_", "_")
    summary = summary_contrasts(str(part["scale"].iloc[0]))
    order = ["all", *sector_codes()]
    source = source_of(part)
    models = sorted(part["model"].unique())
    entries = [f"{model_words(m, lang)} ({part.loc[part['model'] == m, 'data_source'].iloc[0]})"
               for m in models] + [phrase(lang, "published")]
    entries = [wrap_text(e, SINGLE_MM - 14) for e in entries]
    legend_mm = sum(lines(e) for e in entries) * LINE_MM + 2
    height = 48 + legend_mm + footnote_height_mm(SINGLE_MM, source, lang) + XAXIS_MM
    records = []
    with journal_style():
        fig, ax = plt.subplots(figsize=figure_size("single", height))
        handles = []
        for k, model in enumerate(models):
            rows = part[part["model"] == model].set_index("sector").reindex(order)
            x = np.arange(len(order)) + (k - 0.5) * 0.22
            handles.append(ax.errorbar(
                x, rows["estimate"], yerr=[(rows["estimate"] - rows["ci_low"]).clip(lower=0),
                                           (rows["ci_high"] - rows["estimate"]).clip(lower=0)],
                fmt="s", ms=3, lw=1, color=OKABE_ITO[(4, 2, 6)[k % 3]]))
            for sector, r in rows.iterrows():
                if pd.notna(r["estimate"]):
                    records.append({"series": model_words(model, lang), "model": model,
                                    "contrast": name, "sector": sector,
                                    "sector_label": sector_label(sector, lang),
                                    "estimate": r["estimate"], "ci_low": r["ci_low"],
                                    "ci_high": r["ci_high"], "data_source": r["data_source"]})
        published = [summary.get((name, s), (np.nan,))[0] for s in order]
        handles.append(ax.plot(np.arange(len(order)) + 0.4, published, "D", ms=3,
                               color=SUMMARY, ls="none")[0])
        for sector, value in zip(order, published, strict=True):
            records.append({"series": phrase(lang, "published"), "model": "", "contrast": name,
                            "sector": sector, "sector_label": sector_label(sector, lang),
                            "estimate": value, "ci_low": np.nan, "ci_high": np.nan,
                            "data_source": "published"})
        ax.axhline(0, color="#777777", lw=0.6)
        ax.set_xticks(range(len(order)), [wrap_text(sector_label(s, lang), 18) for s in order])
        ax.set_ylabel(wrap_text(contrast_label(name, None, lang).split(" (")[0], 40))
        fig.legend(handles, entries, loc="outside upper center", ncols=1)
        add_footnote(fig, source, lang)
        data = pd.DataFrame(records).assign(contrast_label=contrast_label(name, None, lang))
        return save(fig, out, stem, data)
