"""Common parts of the figures: palette, print sizes, text measuring, footnote and saving.

The Okabe-Ito palette, the heights (mm) of text lines, rows, axes and legends at print
size, the journal style, text measured and wrapped in the style's font, the data-source
footnote and :func:`save` (PNG, PDF, SVG and the CSV of the numbers drawn).
"""

from functools import cache, wraps
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from triad.atomic import replace_atomically
from triad.figures.words import phrase
from triad.style import MIN_FONT_PT, STYLE_FILE, journal_style

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]
POSTERIOR, SUMMARY, BAND = OKABE_ITO[4], OKABE_ITO[0], "#E4E4E4"
_PT_MM = 25.4 / 72
# one line of 7 pt text with matplotlib's default 1.2 line spacing, and a little air
LINE_MM = MIN_FONT_PT * 1.2 * _PT_MM + 0.25
ROW_PAD_MM = 1.4
XAXIS_MM = 2 * LINE_MM + 5.0  # tick labels and the axis label
LEGEND_ROW_MM = LINE_MM + 1.5
PAD_MM = 5.0  # constrained layout's padding around and between the parts


@cache
def _font() -> str:
    """Return the first installed font of the journal style's list (to measure text)."""
    from matplotlib.font_manager import fontManager

    wanted = matplotlib.rc_params_from_file(STYLE_FILE, use_default_template=False)[
        "font.sans-serif"]
    have = {f.name for f in fontManager.ttflist}
    return next((name for name in wanted if name in have), "DejaVu Sans")


def styled(draw):
    """Draw inside the journal style, whoever calls (``all_figures`` or a user)."""
    @wraps(draw)
    def inner(*args, **kwargs):
        with journal_style():
            return draw(*args, **kwargs)
    return inner


def is_variant(frame: pd.DataFrame) -> pd.Series:
    """Mark the rows of multiverse variants.

    Rows of multiverse variants (``model~variant``): drawn only in the multiverse grid.
    """
    return frame["model"].astype(str).str.contains("~", regex=False)


def source_of(frame: pd.DataFrame) -> str:
    """Return the data source a figure names in its footnote (``synthetic`` if any row is)."""
    if "data_source" not in frame or frame.empty:
        return ""
    values = frame["data_source"].dropna().astype(str)
    return "synthetic" if values.eq("synthetic").any() else (values.iloc[0] if len(values)
                                                             else "")


# --------------------------------------------------------------------------- text


@cache
def text_mm(text: str, size: float = MIN_FONT_PT, bold: bool = False) -> float:
    """Return the printed width (mm) of a one-line text in the journal style's font."""
    prop = FontProperties(family=_font(), size=size, weight="bold" if bold else "normal")
    return _text_to_path().get_text_width_height_descent(text, prop, ismath=False)[0] * _PT_MM


@cache  # building one costs about 10 ms (it sets up a mathtext parser); it holds no state
def _text_to_path() -> TextToPath:
    return TextToPath()


def wrap_text(text: str, width_mm: float, size: float = MIN_FONT_PT, bold: bool = False) -> str:
    """Break ``text`` into lines that fit ``width_mm`` at print size (words kept whole)."""
    lines: list[str] = []
    for word in str(text).split(" "):
        if lines and text_mm(f"{lines[-1]} {word}", size, bold) <= width_mm:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def lines(text: str) -> int:
    """Return the number of lines of a (wrapped) text."""
    return str(text).count("\n") + 1


# --------------------------------------------------------------------------- saving


def _footnote_text(source: str, lang: str) -> str:
    return phrase(lang, "synthetic") if source == "synthetic" else phrase(lang, "data").format(
        source=source or "?")


def footnote_height_mm(width_mm: float, source: str, lang: str) -> float:
    """Return the height (mm) the data-source footnote takes at a figure width."""
    text = wrap_text(_footnote_text(source, lang), width_mm - 4, bold=source == "synthetic")
    return lines(text) * LINE_MM + 2.0


def add_footnote(fig, source: str, lang: str) -> None:
    """Write the data-source footnote in a band at the bottom that layout keeps free.

    Synthetic data: bold, in vermilion, and it says SYNTHETIC and not findings.
    """
    width_mm, height_mm = (v * 25.4 for v in fig.get_size_inches())
    bold = source == "synthetic"
    text = wrap_text(_footnote_text(source, lang), width_mm - 4, bold=bold)
    band = footnote_height_mm(width_mm, source, lang)
    fig.text(1.5 / width_mm, 1.0 / height_mm, text, ha="left", va="bottom",
             fontsize=MIN_FONT_PT, color=OKABE_ITO[5] if bold else "black",
             fontweight="bold" if bold else "normal")
    engine = fig.get_layout_engine()
    if engine is None or not hasattr(engine, "set") or "rect" not in engine.get():
        fig.set_layout_engine("constrained")
        engine = fig.get_layout_engine()
    engine.set(rect=(0, band / height_mm, 1, 1 - band / height_mm))


def restyle(fig, *, max_pt: float = 8.5) -> None:
    """Bring every text of a figure drawn elsewhere (ArviZ) into [MIN_FONT_PT, max_pt]."""
    for text in fig.findobj(matplotlib.text.Text):
        size = text.get_fontsize()
        if size < MIN_FONT_PT or size > max_pt:
            text.set_fontsize(min(max(size, MIN_FONT_PT), max_pt))
    for ax in fig.axes:
        ax.tick_params(labelsize=MIN_FONT_PT)


def save(fig, out: Path, name: str, data: pd.DataFrame | None = None) -> Path:
    """Save a figure as PNG (300 dpi), PDF and SVG, and its data as CSV; return the PNG.

    The figure is saved at its own size (no ``bbox_inches='tight'``, which would change
    the page size); ``data`` (the numbers drawn) goes to ``<name>.csv``.
    """
    out.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf", "svg"):
        # no dates in the files: the same data give byte-identical figures
        metadata = {"Date": None} if ext == "svg" else (
            {"CreationDate": None} if ext == "pdf" else None)
        replace_atomically(out / f"{name}.{ext}", lambda tmp, ext=ext, metadata=metadata:
                           fig.savefig(tmp, format=ext, dpi=300 if ext == "png" else None,
                                       metadata=metadata))
    plt.close(fig)
    if data is not None:
        # 6 significant digits: finer than any printed mark, a third of the file
        replace_atomically(out / f"{name}.csv", lambda tmp: data.to_csv(
            tmp, index=False, float_format="%.6g"))
    return out / f"{name}.png"


def drop_stale_pages(out: Path, name: str, pages: int) -> None:
    """Remove pages of an earlier, longer run of the same figure (``name_<k>``, k > pages)."""
    for png in out.glob(f"{name}_*.png"):
        k = png.stem.removeprefix(f"{name}_")
        if k.isdigit() and int(k) > pages:
            for ext in ("png", "pdf", "svg", "csv"):
                png.with_suffix(f".{ext}").unlink(missing_ok=True)
