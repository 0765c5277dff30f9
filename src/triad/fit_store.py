"""The fit folder: writing a fit under a temporary name, checking and reading it back.

A stored fit is ``<out>/fits/<model>/<key>/`` (:mod:`triad.fitting`); :func:`store` writes
it under a temporary name and renames it when complete, :func:`valid_cache` tells whether
a folder is complete and of the current :data:`FIT_FORMAT`, :func:`load` reads it back
(its tables recomputed from the stored draws for other summary settings).
"""

import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import xarray as xr

from triad.atomic import low_space, write_error
from triad.fit_result import FitResult
from triad.fit_summaries import summarise
from triad.modeldata import ModelData
from triad.specs import ModelSpec

__all__ = ["FIT_FILES", "FIT_FORMAT", "load", "read_tables", "store", "summary_settings",
           "valid_cache"]

# Bumped whenever a stored fit gains or changes a file: older folders are refitted.
# 10: keyed respondent codes in code order (format 9 fits hold unkeyed, linkable codes);
#     E-BFMI and tree-depth gates in fit.json, ppc_cells.csv.
FIT_FORMAT = 10
FIT_FILES = ("fit.json", "fit.nc", "contrasts.csv", "claims.csv", "cell_means.csv", "ppc.csv",
             "ppc_cells.csv", "excluded.csv", "sensitivity.csv", "loo.csv",
             "rope_sensitivity.csv")


def store(result: FitResult, md: ModelData) -> None:
    """Write a fit's folder under a temporary name and rename it when complete."""
    folder = result.path
    # Leftovers of a killed run are never read (only the final name is), but clear them.
    for stale in folder.parent.glob(f"{folder.name}.tmp*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        _write_folder(tmp, result, md)
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
    except BaseException as exc:
        # a failed write (disk full) leaves no folder that a later run would read
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(exc, folder) from exc
        if isinstance(exc, Exception) and low_space(folder):
            # netCDF/HDF5 report a full disk as a generic error
            raise write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                              folder) from exc
        raise


def _write_folder(tmp: Path, result: FitResult, md: ModelData) -> None:
    tmp.mkdir(parents=True)
    idata = result.idata
    # zlib level 1: the draws are float64 noise that no level shrinks much (metric_band's
    # 80 MB uncompressed: 66.2 MB at level 4, 66.8 MB at 1), and level 4 took 2.05 s to
    # write against 1.43 s
    encoding = {f"/{group}": {v: {"zlib": True, "complevel": 1}
                              for v in idata[group].data_vars}
                for group in idata.children}
    idata.to_netcdf(tmp / "fit.nc", engine="netcdf4", encoding=encoding)
    result.contrasts.to_csv(tmp / "contrasts.csv", index=False)
    result.claims.to_csv(tmp / "claims.csv", index=False)
    result.cell_means.to_csv(tmp / "cell_means.csv", index=False)
    result.ppc.to_csv(tmp / "ppc.csv", index=False)
    result.ppc_cells.to_csv(tmp / "ppc_cells.csv", index=False)
    md.excluded.to_csv(tmp / "excluded.csv", index=False)
    result.sensitivity.to_csv(tmp / "sensitivity.csv", index=False)
    result.loo.to_csv(tmp / "loo.csv", index=False)
    result.rope_curve.to_csv(tmp / "rope_sensitivity.csv", index=False)
    (tmp / "fit.json").write_text(json.dumps(result.record, indent=2, default=float) + "\n")


def valid_cache(folder: Path) -> bool:
    """Tell whether a stored fit is complete and of the current format (else refit)."""
    if not all((folder / name).is_file() for name in FIT_FILES):
        return False
    try:
        return json.loads((folder / "fit.json").read_text()).get("format") == FIT_FORMAT
    except (json.JSONDecodeError, OSError):
        return False


def _read_sensitivity(path: Path) -> pd.DataFrame:
    # 'diagnosis' is empty for most rows: read it as text, not as a column of NaN floats
    table = pd.read_csv(path, dtype={"diagnosis": "string"})
    table["diagnosis"] = table["diagnosis"].fillna("").astype(object)
    return table


def load(spec: ModelSpec, folder: Path, *, rope: float | None, rope_sd: float,
         ci_prob: float) -> FitResult:
    """Read a stored fit; its tables are recomputed from the draws for other settings."""
    record = json.loads((folder / "fit.json").read_text())
    # Eagerly, and the file closed: a lazily opened fit.nc shares its HDF5 handle with any
    # later opening of the same file in the process, and closing that one crashed the
    # reader (SIGSEGV, measured in the kill-and-resume test).
    idata = xr.load_datatree(folder / "fit.nc", engine="netcdf4")
    try:
        ppc = pd.read_csv(folder / "ppc.csv")
    except pd.errors.EmptyDataError:  # summary models have no respondent-level predictions
        ppc = pd.DataFrame()
    result = FitResult(spec, idata, record["diagnostics"], pd.DataFrame(), record, folder,
                       cached=True, ppc=ppc, ppc_cells=pd.read_csv(folder / "ppc_cells.csv"),
                       sensitivity=_read_sensitivity(folder / "sensitivity.csv"),
                       loo=pd.read_csv(folder / "loo.csv"))
    if record.get("summary_settings") == summary_settings(rope, rope_sd, ci_prob):
        read_tables(result, folder)
    else:  # other settings than the stored tables': recomputed from the stored draws
        summarise(result, rope=rope, rope_sd=rope_sd, ci_prob=ci_prob)
    return result


def read_tables(result: FitResult, folder: Path) -> None:
    """Read a fit folder's stored summary tables into the result."""
    result.contrasts = _read_table(folder / "contrasts.csv")
    result.claims = _read_table(folder / "claims.csv")
    result.cell_means = _read_table(folder / "cell_means.csv")
    result.rope_curve = _read_table(folder / "rope_sensitivity.csv")


def summary_settings(rope: float | None, rope_sd: float, ci_prob: float) -> dict:
    """Return the summary settings recorded with a fit's stored tables."""
    return {"rope": rope, "rope_sd": rope_sd, "ci_prob": ci_prob}


def _read_table(path: Path) -> pd.DataFrame:
    # text columns that are empty in every row stay text (pandas would read floats)
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for col in ("bf_prior", "bf_method", "conclusion", "estimand", "data_source"):
        if col in table:
            table[col] = table[col].astype(object).where(table[col].notna(), "")
    return table
