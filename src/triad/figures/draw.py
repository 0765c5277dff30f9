"""Every figure of a run at once, and the pages of one figure."""

from pathlib import Path

import pandas as pd

from triad.figures.cell_means import cell_means_plot
from triad.figures.forest import forest_claims, forest_contrasts
from triad.figures.grid import multiverse_grid
from triad.figures.ppc import ppc_figures
from triad.figures.reliability import reliability_plot
from triad.figures.rope import rope_sensitivity_plot
from triad.figures.scale_difference import scale_difference_plot
from triad.style import journal_style


def all_figures(tables: Path, out: Path, lang: str = "en") -> list[Path]:
    """Draw every figure from the tables folder of a run; return the PNG paths."""
    def read(name: str) -> pd.DataFrame:
        path = tables / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()

    diag = read("diagnostics.csv")
    claims = read("claims.csv")
    contrasts = read("contrasts.csv")
    with journal_style():
        made = [
            *(forest_contrasts(contrasts, out, lang, diag) if len(contrasts) else []),
            *(forest_claims(claims, out, lang) if len(claims) else []),
            *(cell_means_plot(read("posterior_cell_means.csv"), out, lang, diag)
              if len(read("posterior_cell_means.csv")) else []),
            *ppc_figures(diag, out, lang),
            *rope_sensitivity_plot(read("rope_sensitivity.csv"), out, lang, diag),
            scale_difference_plot(contrasts, out, lang) if len(contrasts) else None,
            *(reliability_plot(read("reliability.csv"), out, lang)
              if len(read("reliability.csv")) else []),
            *(multiverse_grid(read("multiverse.csv"), claims, out, lang)
              if len(claims) and "robustness" in claims else []),
        ]
    return [p for p in made if p is not None]


def figure_pages(figures: list[Path], name: str) -> list[Path]:
    """Return the pages of one figure from a list of figure paths, in page order.

    ``figure_pages(all_figures(...), "forest_claims")`` -> ``forest_claims_1.png``,
    ``forest_claims_2.png``, ...; a figure of one file (``scale_difference_<a>_<b>``) is its own
    page.  The report embeds figures this way.
    """
    found = [(0, p) for p in figures if p.stem == name]
    for p in figures:
        k = p.stem.removeprefix(f"{name}_")
        if k != p.stem and k.isdigit():
            found.append((int(k), p))
    return [p for _, p in sorted(found)]
