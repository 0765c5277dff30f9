"""Pages of interval rows: the forest plot every interval figure draws.

Blocks of rows are paginated to the journal's page height (:func:`paginate`) and drawn
as numbered pages (:func:`forest_pages`).
"""

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from triad.figures.common import (
    BAND,
    LEGEND_ROW_MM,
    LINE_MM,
    PAD_MM,
    POSTERIOR,
    ROW_PAD_MM,
    XAXIS_MM,
    add_footnote,
    drop_stale_pages,
    footnote_height_mm,
    lines,
    save,
    styled,
    text_mm,
    wrap_text,
)
from triad.figures.words import phrase
from triad.style import DOUBLE_MM, MAX_HEIGHT_MM, MIN_FONT_PT, SINGLE_MM, figure_size


@dataclass
class Block:
    """A titled run of rows: a panel of a forest plot or of the multiverse grid."""

    header: str
    rows: pd.DataFrame  # needs a 'label' column (wrapped text); the rest is data
    group: str = ""  # blocks of one group (a scale) stay on one page when they fit
    heights: list = field(default_factory=list)

    def height(self) -> float:
        """Return the block's height (mm): its header and its rows."""
        return (lines(self.header) * LINE_MM + 1.0 if self.header else 0.0) + sum(
            self.heights)


def _row_heights(rows: pd.DataFrame) -> list[float]:
    return [lines(label) * LINE_MM + ROW_PAD_MM for label in rows["label"]]


def paginate(blocks: list[Block], budget_mm: float) -> list[list[Block]]:
    """Fill pages of at most ``budget_mm`` of rows.

    A group (scale) that fits on a page starts a new page unless it fits whole on the
    current one; a group longer than a page follows on and breaks between blocks, a block
    longer than a page between rows.
    """
    pieces: list[Block] = []
    for block in blocks:
        block.heights = _row_heights(block.rows)
        if block.height() <= budget_mm:
            pieces.append(block)
            continue
        start, used = 0, lines(block.header) * LINE_MM + 1.0
        for i, h in enumerate(block.heights):
            if used + h > budget_mm and i > start:
                part = block.rows.iloc[start:i]
                pieces.append(Block(block.header, part, block.group, block.heights[start:i]))
                start, used = i, lines(block.header) * LINE_MM + 1.0
            used += h
        part = block.rows.iloc[start:]
        pieces.append(Block(block.header, part, block.group, block.heights[start:]))
    pages: list[list[Block]] = [[]]
    used = 0.0
    groups: dict[str, list[Block]] = {}
    for piece in pieces:
        groups.setdefault(piece.group, []).append(piece)
    for members in groups.values():
        whole = sum(b.height() for b in members)
        if pages[-1] and used + whole > budget_mm and whole <= budget_mm:
            pages.append([])  # a group that fits on a page is not split across two
            used = 0.0
        for b in members:
            if pages[-1] and used + b.height() > budget_mm:
                pages.append([])
                used = 0.0
            pages[-1].append(b)
            used += b.height()
    return [p for p in pages if p]


def legend_layout(labels: list[str], width_mm: float) -> tuple[int, int]:
    """Return the rows and columns a one-line-per-entry legend needs across ``width_mm``."""
    widths = [text_mm(lab) + 12 for lab in labels]  # handle, padding and spacing
    for cols in range(len(labels), 0, -1):
        rows = int(np.ceil(len(labels) / cols))
        col_w = [max(widths[c::cols]) for c in range(cols)]
        if sum(col_w) <= width_mm - 6:
            return rows, cols
    return len(labels), 1


@dataclass
class Series:
    """One interval per row: columns of its estimate and ends, legend text and look."""

    est: str
    low: str
    high: str
    label: str
    colour: str
    marker: str
    offset: float  # mm below (+) or above (-) the row's centre
    point_label: str = ""  # legend text of an estimate without interval (open marker)


@styled
def forest_pages(blocks: list[Block], *, name: str, out: Path, lang: str, source: str,
                  xlabel: str, series: list[Series], band_label: str | None = None,
                  zero: bool = True, width: str = "double",
                  label_mm: float = 62.0) -> list[Path]:
    """Draw blocks of interval rows as numbered pages; return the PNGs.

    Rows need ``label`` and the series' columns; ``band_low``/``band_high`` (a grey band
    behind the row: the ROPE, or a reported range) and ``ok`` (False: drawn pale, the
    sampler gates failed) are optional.
    """
    width_mm = SINGLE_MM if width == "single" else DOUBLE_MM
    plot_mm = width_mm - label_mm - 8
    for block in blocks:
        block.header = wrap_text(block.header, plot_mm, bold=True)
        block.rows = block.rows.assign(label=[wrap_text(x, label_mm) for x in block.rows["label"]])
    handles = [Line2D([], [], color=s.colour, marker=s.marker, ms=3.2, lw=1.2)
               for s in series]
    entries = [s.label for s in series]
    for s in series:
        points = any((b.rows[s.est].notna() & b.rows[s.low].isna()).any() for b in blocks)
        if s.point_label and points:
            handles.append(Line2D([], [], color=s.colour, marker=s.marker, ms=3.2, lw=0,
                                  mfc="white"))
            entries.append(s.point_label)
    if band_label:
        handles.append(Patch(color=BAND, lw=0))
        entries.append(band_label)
    any_failed = any((~b.rows.get("ok", pd.Series(True, index=b.rows.index)).astype(bool)).any()
                     for b in blocks)
    if any_failed:
        handles.append(Line2D([], [], color=POSTERIOR, marker="s", ms=3.2, alpha=0.35))
        entries.append(phrase(lang, "pale"))
    legend_rows, legend_cols = legend_layout(entries, width_mm)
    foot = footnote_height_mm(width_mm, source, lang)
    fixed = foot + XAXIS_MM + legend_rows * LEGEND_ROW_MM + 2 * PAD_MM
    pages = paginate(blocks, MAX_HEIGHT_MM - fixed - 4)
    xs = pd.concat([b.rows[[c for s in series for c in (s.low, s.high, s.est)]
                           + [c for c in ("band_low", "band_high") if c in b.rows]]
                    for b in blocks]).to_numpy(float)
    xs = xs[np.isfinite(xs)]  # suppressed (small-cell) rows are blank
    lo, hi = (xs.min(), xs.max()) if xs.size else (-1.0, 1.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = 0.04 * (hi - lo or 1.0)
    paths = []
    for k, page in enumerate(pages, start=1):
        content = sum(b.height() for b in page)
        fig, ax = plt.subplots(figsize=figure_size(width, min(MAX_HEIGHT_MM,
                                                              content + fixed + 2)))
        ticks, tick_labels, records = [], [], []
        mixed = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        y = 0.0
        for block in page:
            if block.header:
                ax.text(0.0, y + 0.5, block.header, transform=mixed, ha="left", va="top",
                        fontweight="bold", fontsize=MIN_FONT_PT)
                y += lines(block.header) * LINE_MM + 1.0
            if zero:  # through the rows only, not through the header's words
                ax.plot([0, 0], [y, y + sum(block.heights)], color="#777777", lw=0.6,
                        zorder=1)
            for (_, row), h in zip(block.rows.iterrows(), block.heights, strict=True):
                centre = y + h / 2
                if "band_low" in row and pd.notna(row["band_low"]):
                    ax.add_patch(plt.Rectangle((row["band_low"], y),
                                               row["band_high"] - row["band_low"], h,
                                               color=BAND, lw=0, zorder=0))
                alpha = 1.0 if bool(row.get("ok", True)) else 0.35
                for s in series:
                    est = row[s.est]
                    if pd.isna(est):
                        continue
                    yy = centre + s.offset
                    if pd.notna(row[s.low]):
                        ax.plot([row[s.low], row[s.high]], [yy, yy], color=s.colour, lw=1.2,
                                alpha=alpha, solid_capstyle="butt")
                    ax.plot(est, yy, s.marker, color=s.colour, ms=3.2, alpha=alpha,
                            mfc=s.colour if pd.notna(row[s.low]) else "white")
                ticks.append(centre)
                tick_labels.append(row["label"])
                records.append({"page": k, "panel": block.header.replace("\n", " "),
                                **{c: v for c, v in row.items() if c != "label"},
                                "row_label": row["label"].replace("\n", " ")})
                y += h
        ax.set_ylim(y, 0)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_yticks(ticks, tick_labels)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel)
        fig.legend(handles, entries, loc="outside upper center", ncols=legend_cols)
        add_footnote(fig, source, lang)
        stem = f"{name}_{k}"
        paths.append(save(fig, out, stem, pd.DataFrame(records).assign(figure=stem)))
    drop_stale_pages(out, name, len(pages))
    return paths
