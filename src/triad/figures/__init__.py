"""Paper figures at print size: PNG (300 dpi), PDF and SVG, with the numbers drawn as CSV.

Every figure is drawn inside :func:`triad.style.journal_style` at a journal column width
(85 or 174 mm, :func:`triad.style.figure_size`) and at most :data:`~triad.style.MAX_HEIGHT_MM`
tall; a figure with more rows than a page holds is drawn as numbered pages
(``forest_claims_1``, ``forest_claims_2``, ...), never with smaller text.  Text is at least
:data:`~triad.style.MIN_FONT_PT` at print size, PDF fonts are TrueType (Type 42) and SVG
text stays text.  Groups, contrasts, scales, sectors and models are named in words
(:mod:`triad.labels`, English or Dutch), never in codes.  Beside every figure,
``<name>.csv`` holds exactly the numbers drawn, tidy, with the codes, the words and
``data_source``.  A footnote inside the figure names the data source and says in bold when it
is synthetic.

Every function takes tidy tables (the ones ``scripts/fit_all.py`` writes), saves its figure
(or pages) under ``out`` and returns the PNG path(s).

The code is a package of modules, each drawing one figure (:mod:`~triad.figures.forest`,
:mod:`~triad.figures.cell_means`, :mod:`~triad.figures.ppc`, :mod:`~triad.figures.rope`,
:mod:`~triad.figures.scale_difference`, :mod:`~triad.figures.reliability`,
:mod:`~triad.figures.grid`) on shared parts: the figures' words
(:mod:`~triad.figures.words`), the palette, print sizes, text measuring and saving
(:mod:`~triad.figures.common`), paginated forest plots (:mod:`~triad.figures.pages`) and
the primary models and published estimates the figures pick (:mod:`~triad.figures.helpers`);
:mod:`~triad.figures.draw` draws them all.  The public names are all importable from here.
"""

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows

from triad.figures.cell_means import cell_means_plot  # noqa: E402
from triad.figures.common import (  # noqa: E402
    OKABE_ITO,
    add_footnote,
    footnote_height_mm,
    restyle,
    save,
    wrap_text,
)
from triad.figures.draw import all_figures, figure_pages  # noqa: E402
from triad.figures.forest import forest_claims, forest_contrasts  # noqa: E402
from triad.figures.grid import multiverse_grid  # noqa: E402
from triad.figures.ppc import ppc_figures  # noqa: E402
from triad.figures.reliability import reliability_plot  # noqa: E402
from triad.figures.rope import rope_sensitivity_plot  # noqa: E402
from triad.figures.scale_difference import scale_difference_plot  # noqa: E402
from triad.figures.words import LABELS, model_words, quantity_words  # noqa: E402

__all__ = ["OKABE_ITO", "LABELS", "save", "forest_contrasts", "forest_claims",
           "cell_means_plot", "ppc_figures", "rope_sensitivity_plot", "scale_difference_plot",
           "reliability_plot", "multiverse_grid", "all_figures", "figure_pages", "restyle",
           "model_words", "quantity_words", "add_footnote", "footnote_height_mm", "wrap_text"]
