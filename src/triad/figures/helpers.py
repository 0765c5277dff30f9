"""What the figures pick and pool: primary models, orders and the published estimates.

The primary model of each scale, the order of scales and sectors, and the published
cells' pooled summaries and summary-based contrast estimates.
"""

from functools import cache

import numpy as np
import pandas as pd

from triad.codebook import load_codebook, sector_codes
from triad.contrasts import contrast_pairs, families
from triad.figures.common import is_variant
from triad.published import load_cells
from triad.summary_tests import ttest_from_summary


def primary_by_scale(frame: pd.DataFrame, diagnostics: pd.DataFrame | None) -> dict:
    """Map each scale to its primary model: the Gaussian respondent model of fewest scales.

    Uses :func:`triad.claims.primary_models` when the run's ``diagnostics.csv`` is at
    hand; without it, any non-variant model not fitted to the published cells.
    """
    rows = frame[~is_variant(frame) & frame["data_source"].ne("published")]
    if diagnostics is not None and len(diagnostics) and "family" in diagnostics:
        from triad.claims import primary_models

        # read back from CSV an all-empty variant column is float NaN: make it text
        variant = diagnostics.get("variant", pd.Series("", index=diagnostics.index))
        diag = diagnostics.assign(variant=variant.astype("string").fillna(""))
        diag = diag[diag["model"].isin(set(rows["model"]))]
        if len(diag):
            return primary_models(diag, rows[["model", "scale"]].drop_duplicates())
    out = {}
    for scale, part in rows.groupby("scale"):
        sizes = part.groupby("model")["scale"].nunique()
        all_sizes = rows[rows["model"].isin(sizes.index)].groupby("model")["scale"].nunique()
        out[scale] = sorted(sizes.index, key=lambda m: (all_sizes[m], m))[0]
    return out


def scale_order(scales) -> list[str]:
    """Return the scales in the codebook's order (others after them, by name)."""
    known = list(load_codebook().scales)
    return sorted(set(scales), key=lambda s: (known.index(s) if s in known else len(known), s))


@cache
def published_units() -> pd.DataFrame:
    """Return the published cells a summary model uses: sector cells and gender cells."""
    from triad.modeldata import summary_tables

    cells = load_cells()
    use = cells[cells["table"].isin(summary_tables()) & cells["scale"].notna()].copy()
    use["partition"] = np.where(use["gender"].notna(), "gender", "sector")
    use = use[use["sector"].ne("all") | use["gender"].notna()]
    return use.reset_index(drop=True)


def pooled(cells: pd.DataFrame) -> tuple[float, float, float] | None:
    """Return n, mean and SD of the union of printed cells (within plus between sums of squares)."""
    cells = cells.dropna(subset=["n", "mean", "sd"])
    if cells.empty:
        return None
    n, m, s = (cells[c].to_numpy(float) for c in ("n", "mean", "sd"))
    big = n.sum()
    grand = (n * m).sum() / big
    ss = ((n - 1) * s**2).sum() + (n * (m - grand) ** 2).sum()
    return big, grand, float(np.sqrt(ss / (big - 1))) if big > 1 else float("nan")


@cache
def summary_contrasts(scale: str) -> dict:
    """Map (contrast, sector) to the paper's summary-based estimate of a scale's named contrasts.

    The groups are the contrast's own (:func:`triad.contrasts.contrast_pairs` on the
    published cells); each group's n, mean and SD pool its printed cells.  Independent
    groups: Welch's t interval.  Paired contrasts (the same respondents on both sides:
    same raters, sector and gender) cannot get an interval from summaries: the difference
    of the means only.
    """
    units = published_units()
    out = {}
    for family in families():
        for name, sector, a, b in contrast_pairs(family, scale, units):
            ga, gb = pooled(units[a.mask(units)]), pooled(units[b.mask(units)])
            if ga is None or gb is None:
                continue
            paired = (a.rater, a.sector, a.gender) == (b.rater, b.sector, b.gender)
            if paired:
                out[(name, sector)] = (ga[1] - gb[1], np.nan, np.nan, "paired")
                continue
            try:
                t = ttest_from_summary(*ga, *gb, equal_var=False).iloc[0]
            except ValueError:
                continue
            out[(name, sector)] = (t["diff"], t["ci_low"], t["ci_high"], "welch")
    return out


def sector_key(sector: str) -> tuple:
    """Return the sort key of a sector or sector pair (``all`` first, then the codebook's)."""
    parts = str(sector).split("-")
    order = ["all", *sector_codes()]
    return tuple((order.index(p) if p in order else 9) for p in parts)
