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

# The figure groups, the costliest first (measured on the quick run's tables: PPC 11 s,
# forest of contrasts 9 s, multiverse grid 5 s, ROPE 4 s, the rest 1-3 s): a pool of
# workers then ends at about the same time.
GROUPS = ("ppc", "forest_contrasts", "multiverse", "rope", "forest_claims", "cell_means",
          "reliability", "scale_difference")


def _read(tables: Path, name: str) -> pd.DataFrame:
    path = tables / name
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def draw_group(group: str, tables: Path, out: Path, lang: str = "en") -> list[Path]:
    """Draw one group of figures (one of :data:`GROUPS`) from a run's tables folder."""
    diag = _read(tables, "diagnostics.csv")
    claims = _read(tables, "claims.csv")
    contrasts = _read(tables, "contrasts.csv")
    with journal_style():
        if group == "ppc":
            made = ppc_figures(diag, out, lang)
        elif group == "forest_contrasts":
            made = forest_contrasts(contrasts, out, lang, diag) if len(contrasts) else []
        elif group == "forest_claims":
            made = forest_claims(claims, out, lang) if len(claims) else []
        elif group == "cell_means":
            means = _read(tables, "posterior_cell_means.csv")
            made = cell_means_plot(means, out, lang, diag) if len(means) else []
        elif group == "rope":
            made = rope_sensitivity_plot(_read(tables, "rope_sensitivity.csv"), out, lang, diag)
        elif group == "scale_difference":
            made = [scale_difference_plot(contrasts, out, lang) if len(contrasts) else None]
        elif group == "reliability":
            reliability = _read(tables, "reliability.csv")
            made = reliability_plot(reliability, out, lang) if len(reliability) else []
        elif group == "multiverse":
            made = (multiverse_grid(_read(tables, "multiverse.csv"), claims, out, lang)
                    if len(claims) and "robustness" in claims else [])
        else:
            raise ValueError(f"no figure group {group!r} (groups: {', '.join(GROUPS)})")
    return [p for p in made if p is not None]


def all_figures(tables: Path, out: Path, lang: str = "en", jobs: int = 1) -> list[Path]:
    """Draw every figure from the tables folder of a run; return the PNG paths.

    Parameters
    ----------
    tables, out : Path
        The run's tables folder and the figures folder.
    lang : {"en", "nl"}
    jobs : int
        Worker processes drawing the groups (:data:`GROUPS`) side by side; 1 draws them
        here, one after the other.  The figures are the same either way.
    """
    order = ["forest_contrasts", "forest_claims", "cell_means", "ppc", "rope",
             "scale_difference", "reliability", "multiverse"]  # the report's page order
    if jobs <= 1:
        made = {g: draw_group(g, tables, out, lang) for g in GROUPS}
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # spawn: matplotlib and the fit libraries in this process are not fork-safe
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = {g: pool.submit(draw_group, g, tables, out, lang) for g in GROUPS}
            made = {g: f.result() for g, f in futures.items()}
    return [p for g in order for p in made[g]]


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
