"""ROPE sensitivity: P(ROPE) of each between-group gap against the ROPE half-width."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from triad.figures.common import (
    LEGEND_ROW_MM,
    OKABE_ITO,
    PAD_MM,
    XAXIS_MM,
    add_footnote,
    drop_stale_pages,
    footnote_height_mm,
    is_variant,
    save,
    source_of,
    styled,
    wrap_text,
)
from triad.figures.helpers import primary_by_scale, scale_order, sector_key
from triad.figures.pages import legend_layout
from triad.figures.words import model_words, phrase
from triad.labels import contrast_label, scale_label, sector_label
from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, MIN_FONT_PT, figure_size


@styled
def rope_sensitivity_plot(curve: pd.DataFrame, out: Path, lang: str = "en",
                          diagnostics: pd.DataFrame | None = None) -> list[Path]:
    """P(ROPE) of each between-group gap against the ROPE half-width (in pooled SDs).

    Primary models only; one panel per gap, one line per sector; the dashed line is the
    .95 the equivalence rule would need (the HDI inside the ROPE, roughly).  Three panels
    a row, pages ``rope_sensitivity_<k>``.
    """
    if curve.empty:
        return []
    curve = curve[~is_variant(curve)]
    primary = primary_by_scale(curve, diagnostics) if curve["data_source"].ne("published").any() \
        else {}
    if primary:
        curve = curve[curve["model"].eq(curve["scale"].map(primary))]
    else:  # only the published-cells model: one model per gap, the first by name
        curve = curve[curve["model"] == curve.groupby("contrast")["model"].transform("min")]
    if curve.empty:
        return []
    order = {s: i for i, s in enumerate(scale_order(curve["scale"]))}
    panels = sorted(curve["contrast"].unique(), key=lambda c: (
        order.get(curve.loc[curve["contrast"] == c, "scale"].iloc[0], 99), c))
    cols, panel_mm = 3, 34.0
    source = source_of(curve)
    sectors = sorted(curve["sector"].unique(), key=sector_key)
    colour = {s: OKABE_ITO[(7, 4, 0, 2, 5, 6)[i % 6]] for i, s in enumerate(sectors)}
    entries = [sector_label(s, lang) for s in sectors]
    legend_rows, legend_cols = legend_layout(entries, DOUBLE_MM)
    fixed = footnote_height_mm(DOUBLE_MM, source, lang) + 2 * XAXIS_MM + \
        legend_rows * LEGEND_ROW_MM + 2 * PAD_MM
    per_page = max(1, int((MAX_HEIGHT_MM - fixed) // panel_mm)) * cols
    pages = [panels[i:i + per_page] for i in range(0, len(panels), per_page)]
    paths = []
    for k, page in enumerate(pages, start=1):
        n_rows = int(np.ceil(len(page) / cols))
        fig, axes = plt.subplots(n_rows, cols, squeeze=False, sharey=True, sharex=True,
                                 figsize=figure_size("double", n_rows * panel_mm + fixed))
        records = []
        for ax, name in zip(axes.ravel(), page, strict=False):
            part = curve[curve["contrast"] == name]
            for sector, line in part.groupby("sector", sort=False):
                line = line.sort_values("rope_sd")
                ax.plot(line["rope_sd"], line["p_rope"], marker="o", ms=2.5,
                        color=colour[sector])
                records.append(line.assign(
                    contrast_label=contrast_label(name, sector, lang),
                    scale_label=scale_label(str(line["scale"].iloc[0]), lang),
                    sector_label=sector_label(sector, lang),
                    model_label=model_words(str(line["model"].iloc[0]), lang), page=k))
            ax.axhline(0.95, color="#777777", lw=0.6, ls="--")
            ax.set_title(wrap_text(contrast_label(name, None, lang), DOUBLE_MM / cols - 6),
                         fontsize=MIN_FONT_PT)
            ax.set_ylim(0, 1)
        for ax in axes.ravel()[len(page):]:
            ax.axis("off")
        # axis labels on the axes themselves: constrained layout keeps them clear of the
        # footnote band (a figure-level supxlabel is not)
        for j in range(cols):
            used = [i for i in range(n_rows) if i * cols + j < len(page)]
            if used:
                axes[used[-1], j].xaxis.set_tick_params(labelbottom=True)
                axes[used[-1], j].set_xlabel(wrap_text(phrase(lang, "rope_width"),
                                                   DOUBLE_MM / cols - 8))
        for i in range(n_rows):
            axes[i, 0].set_ylabel(phrase(lang, "p_rope"))
        handles = [Line2D([], [], color=colour[s], marker="o", ms=2.5) for s in sectors]
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols)
        add_footnote(fig, source, lang)
        stem = f"rope_sensitivity_{k}"
        data = pd.concat(records, ignore_index=True).assign(figure=stem)
        paths.append(save(fig, out, stem, data))
    drop_stale_pages(out, "rope_sensitivity", len(pages))
    return paths
