"""The published study as data: Tables 1-12, reliabilities, correlations and claims.

Everything here is transcribed from the report (``../shared/seed/``) into
``data/published/*.csv``, numbers as printed, even where they look wrong: the
audit (a later step) checks them.  Every table row carries its source.

Groups are named by a *group key* ``{role}>{target}@{sector}`` with an optional
``#{gender}``, e.g. ``youth>professional@all`` (Table 2, youths about social
workers) or ``professional>youth@all#male`` (Table 10, men).  ``professional``
pools social workers and teachers; ``target`` is whom the rating is about
(``self`` for the partnership competences Belangrijk and Lukt).

A claim's ``verdict`` is ``significant`` (the text says so), ``implied_significant``
(the text lists it among tested differences without the word), ``not_significant``
(e.g. "een tendens") or ``descriptive`` (no test implied).
"""

from functools import cache
from pathlib import Path

import pandas as pd

from triad.codebook import load_codebook
from triad.paths import data_dir

__all__ = [
    "group_key",
    "parse_group_key",
    "load_cells",
    "sample_counts",
    "load_claims",
    "claim_groups",
    "load_reliability",
    "load_correlations",
]

VERDICTS = ("significant", "implied_significant", "not_significant", "descriptive")

_CELL_COLUMNS = ["table", "source", "role", "target", "sector", "gender", "scale", "n", "mean",
                 "sd", "note"]
_CLAIM_COLUMNS = ["claim_id", "section", "location", "quote_nl", "summary_en", "kind", "scale",
                  "table", "groups", "quoted", "direction", "verdict", "p_text", "repeats",
                  "note"]
_RELIABILITY_COLUMNS = ["scale", "group", "alpha_low", "alpha_high", "location", "note"]
_CORRELATION_COLUMNS = ["corr_id", "variable_x", "variable_y", "group", "r", "direction",
                        "verdict", "p_text", "n_hint", "location", "note"]


def group_key(role: str, target: str | None, sector: str, gender: str | None = None) -> str:
    """Build a group key such as ``social_worker>youth@residential`` or ``...#male``."""
    key = f"{role}>{target or ''}@{sector}"
    if gender:
        key += f"#{gender}"
    return key


def parse_group_key(key: str) -> dict:
    """Split a group key into ``role``, ``target``, ``sector`` and ``gender`` (or None).

    Raises
    ------
    ValueError
        If the key does not have the form ``role>target@sector[#gender]``.
    """
    text = key.strip()
    gender = None
    if "#" in text:
        text, gender = text.split("#", 1)
    if ">" not in text or "@" not in text:
        raise ValueError(f"group key {key!r} is not of the form role>target@sector[#gender]")
    role, rest = text.split(">", 1)
    target, sector = rest.split("@", 1)
    return {"role": role, "target": target or None, "sector": sector, "gender": gender}


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _read(folder: Path, name: str, columns: list) -> pd.DataFrame:
    path = folder / "published" / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    frame = frame[columns].replace({"": None})
    return frame


@cache  # per study folder
def _cells(folder: Path) -> pd.DataFrame:
    cells = _read(folder, "cells", _CELL_COLUMNS)
    cells["table"] = cells["table"].astype(int)
    cells["n"] = cells["n"].astype(int)
    for col in ("mean", "sd"):
        cells[col] = pd.to_numeric(cells[col]).astype(float)
    cells["group"] = [
        group_key(r, t, s, g)
        for r, t, s, g in zip(cells["role"], cells["target"], cells["sector"], cells["gender"],
                              strict=True)
    ]
    scales = load_codebook(folder / "codebook.toml").scales
    bad = sorted(set(cells["scale"].dropna()) - set(scales))
    if bad:
        raise ValueError(f"{folder / 'published' / 'cells.csv'}: unknown scale id(s) {bad}")
    return cells


def load_cells(table: int | None = None) -> pd.DataFrame:
    """Load every number of Tables 1-12, one tidy row per (table, group, scale).

    Parameters
    ----------
    table : int, optional
        Only this table.

    Returns
    -------
    DataFrame
        Columns ``table, source, role, target, sector, gender, scale, n, mean, sd,
        note, group``.  Table 1 (respondent counts) has no scale, mean or SD.
    """
    cells = _cells(data_dir()).copy()
    if table is not None:
        cells = cells[cells["table"] == table].reset_index(drop=True)
    return cells


def sample_counts() -> dict[tuple[str, str], int]:
    """Respondents per (role, sector) as the publication's sample table prints them.

    The count-only rows of ``cells.csv`` (no scale, target or gender) naming one role and
    one sector; {} when the publication prints no such table.
    """
    cells = load_cells()
    rows = cells[cells["scale"].isna() & cells["target"].isna() & cells["gender"].isna()
                 & (cells["role"] != "all") & (cells["sector"] != "all")]
    book = load_codebook()
    roles, sectors = list(book.roles), list(book.sectors)
    counts = {(str(r), str(s)): int(n) for r, s, n in zip(rows["role"], rows["sector"],
                                                         rows["n"], strict=True)}
    # in the codebook's order: roles, then sectors within a role
    return dict(sorted(counts.items(), key=lambda kv: (
        roles.index(kv[0][0]) if kv[0][0] in roles else len(roles),
        sectors.index(kv[0][1]) if kv[0][1] in sectors else len(sectors))))


@cache
def _claims(folder: Path) -> pd.DataFrame:
    claims = _read(folder, "claims", _CLAIM_COLUMNS)
    claims["table"] = pd.to_numeric(claims["table"]).astype("Int64")
    bad = sorted(set(claims["verdict"]) - set(VERDICTS))
    if bad:
        raise ValueError(f"{folder / 'published' / 'claims.csv'}: unknown verdict(s) {bad}")
    return claims


def load_claims() -> pd.DataFrame:
    """Load the claims registry: every comparative statement of sections 4 and 5.

    Returns
    -------
    DataFrame
        One row per claim and scale; ``groups`` and ``quoted`` are ``|``-separated
        and aligned (the numbers as the text gives them).  Use :func:`claim_groups`
        to get them as lists.
    """
    return _claims(data_dir()).copy()


def claim_groups(claim: pd.Series) -> list[tuple[str, float | None]]:
    """Return a claim's (group key, quoted number or None) pairs in text order."""
    groups = [g.strip() for g in _text(claim["groups"]).split("|") if g.strip()]
    quoted = [q.strip() for q in _text(claim["quoted"]).split("|")]
    out = []
    for i, g in enumerate(groups):
        q = quoted[i] if i < len(quoted) and quoted[i] else None
        out.append((g, float(q) if q is not None else None))
    return out


@cache
def _reliability(folder: Path) -> pd.DataFrame:
    rel = _read(folder, "reliability", _RELIABILITY_COLUMNS)
    for col in ("alpha_low", "alpha_high"):
        rel[col] = pd.to_numeric(rel[col]).astype(float)
    return rel


def load_reliability() -> pd.DataFrame:
    """Load the reported Cronbach's alphas (section 3.3): ranges per scale and single values."""
    return _reliability(data_dir()).copy()


@cache
def _correlations(folder: Path) -> pd.DataFrame:
    corr = _read(folder, "correlations", _CORRELATION_COLUMNS)
    corr["r"] = pd.to_numeric(corr["r"]).astype(float)
    corr["n_hint"] = pd.to_numeric(corr["n_hint"]).astype("Int64")
    return corr


def load_correlations() -> pd.DataFrame:
    """Load the reported correlations (age-Band in youths, Belangrijk-Lukt, age-Doel)."""
    return _correlations(data_dir()).copy()
