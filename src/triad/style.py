"""Figure sizes and the journal style shipped with triad.

Journals print figures one column (85 mm) or two columns (174 mm) wide and at most a
page tall; they reject PDFs with Type 3 fonts and text under about 7 pt.  Every triad
figure is drawn at its print size inside :func:`journal_style`, so the sizes in the
style file are the sizes on paper.  Users can apply the same style to their own
figures: ``plt.style.use(triad.style.STYLE_FILE)``.
"""

from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt

__all__ = ["DOUBLE_MM", "MAX_HEIGHT_MM", "MIN_FONT_PT", "SINGLE_MM", "STYLE_FILE",
           "figure_size", "journal_style"]

SINGLE_MM = 85.0
DOUBLE_MM = 174.0
# The text block of an A4 journal page is about 240 mm tall; leave room for a caption.
MAX_HEIGHT_MM = 225.0
MIN_FONT_PT = 7.0
STYLE_FILE = Path(__file__).parent / "styles" / "journal.mplstyle"
_MM_PER_INCH = 25.4


def figure_size(width: Literal["single", "double"], height_mm: float) -> tuple[float, float]:
    """Return a matplotlib ``figsize`` (inches) for a column width and a height in mm.

    Raises
    ------
    ValueError
        If ``width`` is not single/double or the height exceeds :data:`MAX_HEIGHT_MM`
        (split such a figure into panels or pages instead).
    """
    widths = {"single": SINGLE_MM, "double": DOUBLE_MM}
    if width not in widths:
        raise ValueError(f"width must be 'single' or 'double', not {width!r}")
    if not 0 < height_mm <= MAX_HEIGHT_MM:
        raise ValueError(f"height {height_mm:.0f} mm is outside (0, {MAX_HEIGHT_MM:.0f}] mm: "
                         "split the figure into panels or pages")
    return widths[width] / _MM_PER_INCH, height_mm / _MM_PER_INCH


def journal_style():
    """Context manager applying triad's journal style (``with journal_style(): ...``)."""
    return plt.style.context(STYLE_FILE)
