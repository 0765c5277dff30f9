"""The tidy long form of respondent data, the canonical wide form, and the wide CSV writer.

:func:`long_from_wide` and :func:`wide_from_long` convert losslessly between the wide
table of :attr:`triad.readers.RespondentData.wide` and one row per applicable answer;
:func:`with_covariates` adds a file's covariates to such rows.
"""

from pathlib import Path

import pandas as pd

from triad.codebook import Codebook, load_codebook

__all__ = ["LONG_COLUMNS", "long_from_wide", "wide_from_long", "with_covariates",
           "write_wide_csv"]

LONG_COLUMNS = [
    "respondent_id", "role", "sector", "gender", "age", "scale", "target", "item", "column",
    "value",
]


def long_from_wide(wide: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Convert canonical wide data to the tidy long form.

    One row per *applicable* answer (a respondent's role answers that item), missing
    answers included as NaN, so the conversion is lossless (:func:`wide_from_long`).

    Parameters
    ----------
    wide : DataFrame
        Canonical wide data (:attr:`RespondentData.wide`).
    codebook : Codebook, optional

    Returns
    -------
    DataFrame
        Columns :data:`LONG_COLUMNS`.
    """
    cb = codebook or load_codebook()
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    parts = []
    for role, group in wide.groupby("role", sort=False):
        cols = cb.item_columns(role)
        melted = group.melt(
            id_vars=ident, value_vars=[c.column for c in cols], var_name="column",
            value_name="value",
        )
        info = pd.DataFrame(
            [(c.column, c.scale, c.target, c.item) for c in cols],
            columns=["column", "scale", "target", "item"],
        )
        parts.append(melted.merge(info, on="column", how="left"))
    if not parts:
        return pd.DataFrame(columns=LONG_COLUMNS)
    long = pd.concat(parts, ignore_index=True)[LONG_COLUMNS]
    long["value"] = long["value"].astype(float)
    long["item"] = long["item"].astype(int)
    return long


def wide_from_long(long: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Convert the long form back to canonical wide data (inverse of :func:`long_from_wide`).

    Respondents keep the order of their first appearance in ``long``.
    """
    cb = codebook or load_codebook()
    ident = ["respondent_id", "role", "sector", "gender", "age"]
    people = long.drop_duplicates("respondent_id")[ident].reset_index(drop=True)
    values = long.pivot(index="respondent_id", columns="column", values="value")
    cols = [ic.column for ic in cb.all_item_columns()]
    values = values.reindex(index=people["respondent_id"], columns=cols).astype(float)
    out = pd.concat([people, values.reset_index(drop=True)], axis=1)
    out["age"] = out["age"].astype(float)
    return out


def write_wide_csv(wide: pd.DataFrame, path: str | Path) -> None:
    """Write canonical wide data as a comma CSV (UTF-8, empty cells for missing)."""
    out = wide.copy()

    def answer(v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return "" if pd.isna(v) else v

    for col in out.columns[5:]:
        out[col] = out[col].map(answer)
    out["age"] = out["age"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    out.to_csv(path, index=False, lineterminator="\n")


def with_covariates(frame: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """Add each respondent's covariate values to every row of ``frame`` (by ``respondent_id``).

    Row order and index of ``frame`` are kept.
    """
    names = [c for c in covariates.columns if c != "respondent_id"]
    if not names:
        return frame
    by_id = covariates.set_index(covariates["respondent_id"].astype(str))[names]
    ids = frame["respondent_id"].astype(str)
    out = frame.copy()
    for name in names:
        out[name] = ids.map(by_id[name]).to_numpy()
    return out
