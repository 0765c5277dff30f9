"""The result of a fit: posterior, diagnostics, gates and the tables of its stored draws.

:func:`triad.fitting.fit` and :func:`triad.fitting.load_fit` return it; :mod:`triad.fit_store`
writes and reads it, :mod:`triad.fit_summaries` fills its tables.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from triad.specs import ModelSpec

__all__ = ["FitResult"]


@dataclass
class FitResult:
    """A fitted (or cached) model: posterior, diagnostics, gates, contrasts.

    ``idata`` is the fit's ArviZ DataTree (as stored in ``fit.nc``); ``contrasts``,
    ``claims`` and ``cell_means`` are tidy tables summarising its stored draws.
    """

    spec: ModelSpec
    idata: xr.DataTree
    diagnostics: dict
    contrasts: pd.DataFrame
    record: dict
    path: Path | None
    cached: bool = False
    claims: pd.DataFrame | None = None
    cell_means: pd.DataFrame | None = None
    ppc: pd.DataFrame | None = None
    ppc_cells: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    loo: pd.DataFrame | None = None
    rope_curve: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        """Whether every sampler gate passed."""
        return bool(self.diagnostics["gates_passed"])
