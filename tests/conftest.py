"""Shared fixtures: small simulated respondent data and writers for every format."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from triad.readers import write_wide_csv
from triad.simulate import simulate_respondents

SMALL_CELLS = {
    ("youth", "special_education"): 4,
    ("youth", "residential"): 3,
    ("parent", "ambulatory_daycare"): 3,
    ("social_worker", "ambulatory_daycare"): 3,
    ("teacher", "special_education"): 3,
}

ROLE_CODES = {1: "jeugdige", 2: "ouder", 3: "hulpverlener", 4: "leraar"}
SECTOR_CODES = {1: "SO/VSO", 2: "Ambulant/Dagopvang", 3: "Residentieel"}
GENDER_CODES = {1: "man", 2: "vrouw"}


@pytest.fixture(scope="session")
def small_wide() -> pd.DataFrame:
    wide = simulate_respondents(SMALL_CELLS, seed=11)
    # A few empty answers and an empty gender, so missingness round-trips too.
    wide.loc[0, "band_2"] = np.nan
    wide.loc[8, "opvoed_4"] = np.nan
    wide.loc[2, "gender"] = None
    return wide


@pytest.fixture(scope="session")
def full_wide() -> pd.DataFrame:
    return simulate_respondents(seed=3)


def write_csv(wide: pd.DataFrame, path: Path) -> Path:
    write_wide_csv(wide, path)
    return path


def write_semicolon_csv(wide: pd.DataFrame, path: Path) -> Path:
    """Write as Dutch Excel does: semicolons, decimal commas, Dutch codes, cp1252."""
    out = wide.copy()
    out["role"] = out["role"].map({"youth": "Jeugdige", "parent": "Ouder",
                                   "social_worker": "Jongerenwerker", "teacher": "Leraar"})
    out["sector"] = out["sector"].map({"special_education": "SO/VSO",
                                       "ambulatory_daycare": "Ambulant/Dagopvang",
                                       "residential": "Residentieel"})
    out["gender"] = out["gender"].map({"male": "man", "female": "vrouw"})
    out["age"] = out["age"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}".replace(".", ","))
    for col in out.columns[5:]:
        out[col] = out[col].map(lambda v: "" if pd.isna(v) else str(int(v)))
    path.write_bytes(out.to_csv(index=False, sep=";", lineterminator="\r\n").encode("cp1252"))
    return path


def write_sav(wide: pd.DataFrame, path: Path, user_missing: dict | None = None) -> Path:
    """Write an SPSS file with numeric role/sector/gender codes and value labels."""
    out = wide.copy()
    inv = {"role": {v: k for k, v in {1: "youth", 2: "parent", 3: "social_worker",
                                       4: "teacher"}.items()},
           "sector": {"special_education": 1, "ambulatory_daycare": 2, "residential": 3},
           "gender": {"male": 1, "female": 2}}
    for col, mapping in inv.items():
        out[col] = out[col].map(mapping).astype(float)
    pyreadstat.write_sav(
        out, str(path),
        variable_value_labels={"role": ROLE_CODES, "sector": SECTOR_CODES,
                               "gender": GENDER_CODES},
        missing_ranges=user_missing or {},
    )
    return path


def write_parquet(wide: pd.DataFrame, path: Path) -> Path:
    wide.to_parquet(path, index=False)
    return path
