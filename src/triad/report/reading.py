"""Reading a run's ``results/`` folder: its tables, links to them, its models."""

import os
from pathlib import Path

import pandas as pd


def read_table(path: Path) -> pd.DataFrame:
    """Return a table of the run, empty when its file is missing or empty."""
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def relative_link(path: Path, start: Path) -> str:
    """Return a link from the report's folder to ``path`` (relative, forward slashes)."""
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def as_str(series: pd.Series, blank: str = "") -> pd.Series:
    """Return a column as strings, missing values as ``blank``.

    An all-empty column is read as float, where ``fillna("")`` is refused.
    """
    return series.astype(object).where(series.notna(), blank).astype(str)


def truthy(series: pd.Series) -> pd.Series:
    """Return whether each value reads as true (``true``, ``1`` or ``yes``)."""
    return series.astype(str).str.strip().str.lower().isin(("true", "1", "yes"))


def variant_models(diag: pd.DataFrame) -> set[str]:
    """Return the multiverse variants' models (a non-empty ``variant``, or ``~`` in the name)."""
    if diag.empty:
        return set()
    variant = as_str(diag["variant"]) if "variant" in diag else \
        pd.Series("", index=diag.index)
    return set(diag.loc[variant.ne("") | diag["model"].str.contains("~"), "model"])


def primary_model_names(diag: pd.DataFrame, contrasts: pd.DataFrame) -> list[str]:
    """Return each scale's primary model in scale order (:func:`triad.claims.primary_models`).

    Without a Gaussian respondent model (a run of the summary model alone) every model
    that is not a multiverse variant counts.
    """
    from triad.claims import primary_models

    if contrasts.empty or "model" not in contrasts:
        return []
    if "scale" not in contrasts:
        contrasts = contrasts.assign(scale=contrasts["model"])
    variants = variant_models(diag)
    found = {}
    if not diag.empty and {"family", "data_source"} <= set(diag.columns):
        d = diag.copy()
        d["variant"] = as_str(d["variant"]) if "variant" in d else ""
        rows = contrasts[contrasts["model"].isin(d["model"])][["model", "scale"]]
        found = primary_models(d, rows)
    order = list(dict.fromkeys(contrasts["scale"]))
    if found:
        return list(dict.fromkeys(found[s] for s in order if s in found))
    if "model" not in contrasts:
        return []
    return [m for m in dict.fromkeys(contrasts["model"]) if m not in variants]


def gates_failed(diag: pd.DataFrame) -> list[str]:
    """Return the models whose sampler gates failed."""
    if diag.empty or "gates_passed" not in diag:
        return []
    return diag.loc[~truthy(diag["gates_passed"]), "model"].tolist()
