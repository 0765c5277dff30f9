"""The multiverse grid: claims x universes, the conclusion of every claim pair in every variant."""

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from triad.figures.common import (
    LEGEND_ROW_MM,
    LINE_MM,
    OKABE_ITO,
    PAD_MM,
    add_footnote,
    drop_stale_pages,
    footnote_height_mm,
    lines,
    save,
    source_of,
    styled,
    text_mm,
    wrap_text,
)
from triad.figures.helpers import scale_order
from triad.figures.pages import Block, legend_layout, paginate
from triad.figures.words import model_words, pair_label, phrase
from triad.labels import group_label, scale_label, term
from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, MIN_FONT_PT, figure_size


def _universe_words(universe: str, lang: str) -> str:
    words = term("universes", universe, lang)
    return model_words(words, lang) if "_" in words else words


@styled
def multiverse_grid(universes: pd.DataFrame, claims: pd.DataFrame, out: Path,
                    lang: str = "en") -> list[Path]:
    """Claims x universes: the Bayesian conclusion of every claim pair in every variant.

    One panel per scale; pages ``multiverse_grid_<k>``.
    """
    tested = claims[claims["conclusion"].fillna("").ne("")].drop_duplicates(
        ["claim_id", "group_a", "group_b"])
    if tested.empty or universes.empty:
        return []
    tested = tested.assign(group_b=tested["group_b"].fillna(""))
    u = universes.assign(group_b=universes["group_b"].fillna(""))
    order = ["primary (Gaussian)", "Student-t", "one residual SD", "no pooling of cells",
             "priors x 0.5", "priors x 2", "ordinal logit", "ordinal probit",
             "summary statistics"]
    cols = [c for c in order if c in set(u["universe"])] + sorted(
        set(u["universe"]) - set(order))
    col_words = [wrap_text(_universe_words(c, lang), 30) for c in cols]
    colour = {"higher": OKABE_ITO[4], "lower": OKABE_ITO[5], "equivalent": OKABE_ITO[2],
              "undecided": "#DDDDDD"}
    cell_w = 5.5  # mm per universe column
    label_mm = DOUBLE_MM - 8 - (len(cols) + 2) * cell_w - 4
    blocks = []
    for scale in scale_order(tested["scale"]):
        part = tested[tested["scale"] == scale]
        frame = part.assign(label=[
            wrap_text(f"{r['claim_id']} {pair_label(r['group_a'], r['group_b'], lang)}"
                  if r["group_b"] else f"{r['claim_id']} {group_label(r['group_a'], lang)}",
                  label_mm) for _, r in part.iterrows()])
        blocks.append(Block(scale_label(scale, lang), frame, scale))
    entries = [phrase(lang, k) for k in colour] + [phrase(lang, "gates") + " (x)"]
    legend_rows, legend_cols = legend_layout(entries, DOUBLE_MM)
    head_mm = max(text_mm(line) for w in col_words for line in w.split("\n")) + 3
    foot = footnote_height_mm(DOUBLE_MM, source := source_of(tested), lang)
    fixed = foot + head_mm + (legend_rows + 1) * LEGEND_ROW_MM + 2 * PAD_MM + 4
    pages = paginate(blocks, MAX_HEIGHT_MM - fixed - 4)
    paths = []
    for k, page in enumerate(pages, start=1):
        content = sum(b.height() for b in page)
        fig, ax = plt.subplots(figsize=figure_size("double", min(MAX_HEIGHT_MM,
                                                                 content + fixed + 2)))
        mixed = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        ticks, tick_labels, records = [], [], []
        y = 0.0
        for block in page:
            ax.text(0.0, y + 0.5, block.header, transform=mixed, ha="left", va="top",
                    fontweight="bold", fontsize=MIN_FONT_PT)
            y += lines(block.header) * LINE_MM + 1.0
            for (_, r), h in zip(block.rows.iterrows(), block.heights, strict=True):
                mine = u[(u["claim_id"] == r["claim_id"]) & (u["group_b"] == r["group_b"])]
                for j, col in enumerate(cols):
                    cell = mine[mine["universe"] == col]
                    if cell.empty:
                        continue
                    c = cell.iloc[0]
                    ok = bool(c["gates_passed"])
                    ax.add_patch(plt.Rectangle((j + 0.04, y + 0.3), 0.92, h - 0.6, lw=0,
                                               color=colour.get(c["conclusion"], "white"),
                                               alpha=1.0 if ok else 0.35))
                    if not ok:
                        ax.text(j + 0.5, y + h / 2, "x", ha="center", va="center",
                                fontsize=MIN_FONT_PT)
                    records.append({
                        "page": k, "claim_id": r["claim_id"], "scale": r["scale"],
                        "scale_label": block.header, "group_a": r["group_a"],
                        "group_b": r["group_b"], "row_label": r["label"].replace("\n", " "),
                        "universe": col, "universe_label": col_words[j].replace("\n", " "),
                        "model": c.get("model"), "conclusion": c["conclusion"],
                        "gates_passed": ok, "loo_rejected": c.get("loo_rejected"),
                        "robustness": r.get("robustness"), "robust": r.get("robust"),
                        "data_source": c.get("data_source", r["data_source"])})
                share = r.get("robustness")
                ax.text(len(cols) + 0.2, y + h / 2, "" if pd.isna(share) else f"{share:.0%}",
                        va="center", fontsize=MIN_FONT_PT,
                        color=OKABE_ITO[5] if r.get("robust") == "fragile" else "black")
                ticks.append(y + h / 2)
                tick_labels.append(r["label"])
                y += h
        ax.set_xlim(0, len(cols) + 1.6)
        ax.set_ylim(y, 0)
        ax.set_xticks(np.arange(len(cols)) + 0.5, col_words, rotation=90, ha="center",
                      va="bottom")
        ax.xaxis.tick_top()
        ax.set_yticks(ticks, tick_labels)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        handles = [Patch(color=v, lw=0) for v in colour.values()]
        handles.append(Patch(color="#DDDDDD", alpha=0.35, lw=0))
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols,
                   title=phrase(lang, "robustness"))
        add_footnote(fig, source, lang)
        stem = f"multiverse_grid_{k}"
        paths.append(save(fig, out, stem, pd.DataFrame(records).assign(figure=stem)))
    drop_stale_pages(out, "multiverse_grid", len(pages))
    return paths
