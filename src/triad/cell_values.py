"""Read the cells and columns of a respondent file: blanks, numbers, missing codes, codes.

The building blocks of :func:`triad.readers.read_respondents`: whether a cell is blank,
a number (with a decimal comma or not) or a declared missing code; column names
trimmed and checked for duplicates; role, sector and gender codes mapped through the
codebook's aliases; and a declared covariate column read into canonical codes or numbers,
its bad values quarantined.
"""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from triad.codebook import Codebook, Covariate
from triad.errors import TriadInputError

__all__ = ["covariate_column", "covariate_summary", "id_text", "is_blank", "is_declared_missing",
           "map_codes", "normalise_columns", "show", "to_number"]


# --------------------------------------------------------------------------- values


def is_blank(value: object) -> bool:
    """Return whether a cell is empty: None, NA, NaN, NaT or only white space."""
    if value is None or value is pd.NA:
        return True
    if value is pd.NaT or (isinstance(value, float | np.floating) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


# A number as a respondent file writes it: ASCII digits, an optional decimal point and
# exponent, or inf/nan (which are then quarantined as not a number).
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)


def to_number(value: object, decimal_comma: bool) -> float | None:
    """Return the value as float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(value)
        except OverflowError:  # an int beyond the float range
            return math.inf if value > 0 else -math.inf
    text = str(value).strip()
    if decimal_comma:
        text = text.replace(",", ".")
    # Not float(text) alone: it also takes '1_0' (10) and non-ASCII digits ('３').
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def is_declared_missing(
    value: object, number: float | None, codes: frozenset, text_codes: frozenset,
    user_missing: tuple | None,
) -> bool:
    """Return whether a value is a declared missing code (text, SPSS user-missing or listed)."""
    if str(value).strip().lower() in text_codes:  # before the number: 'NaN' is a code
        return True
    if number is None:
        return False
    if user_missing is not None:
        values, ranges = user_missing
        if any(number == float(v) for v in values if to_number(v, False) is not None):
            return True
        for rng in ranges:
            lo, hi = (rng["lo"], rng["hi"]) if isinstance(rng, dict) else rng
            if to_number(lo, False) is not None and float(lo) <= number <= float(hi):
                return True
        # An SPSS file declares its own codes; the codebook's generic list still applies.
    return number in codes


def show(value: object) -> str:
    """Return a value as text for a message, cut to 40 characters."""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."

# --------------------------------------------------------------------------- validation


def normalise_columns(path: Path, frame: pd.DataFrame, notes: list) -> pd.DataFrame:
    """Return the frame with trimmed lower-case column names; refuse duplicate names."""
    names = [str(c).replace("\ufeff", "").strip().lower() for c in frame.columns]
    # Columns without a name: trailing delimiters (dropped when empty) or unnamed data,
    # which is kept under a positional name and then listed as ignored.
    keep, dropped = [], 0
    for i, name in enumerate(names):
        if name:
            keep.append(i)
        elif all(is_blank(v) for v in frame.iloc[:, i].tolist()):
            dropped += 1
        else:
            names[i] = f"(unnamed column {i + 1})"
            keep.append(i)
    if dropped:
        notes.append(f"{path.name}: {dropped} empty column(s) without a name skipped "
                     "(trailing delimiters)")
    names = [names[i] for i in keep]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TriadInputError(
            path, f"duplicate column name(s) {', '.join(map(repr, dupes))} (after trimming "
            "spaces and ignoring case)", column=dupes[0],
        )
    frame = frame.iloc[:, keep].copy()
    frame.columns = names
    return frame


def map_codes(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, kind: str, column: str,
    may_be_missing: bool,
) -> pd.Series:
    """Return a code column as the codebook's canonical codes; refuse unknown codes."""
    rows = meta["row_numbers"]
    mapped, bad, bad_values = [], [], []
    for i, raw in enumerate(frame[column].tolist()):
        if is_blank(raw) or str(raw).strip().lower() in cb.text_codes:
            if may_be_missing:
                mapped.append(pd.NA)
                continue
            bad.append(rows[i])
            bad_values.append("(empty)")
            mapped.append(pd.NA)
            continue
        value = raw
        if isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        code = cb.canonical(kind, value)
        if code is None:
            bad.append(rows[i])
            bad_values.append(show(raw))
        mapped.append(code)
    if bad:
        table = {"role": cb.roles, "sector": cb.sectors, "gender": cb.genders}[kind]
        known = ", ".join(f"{k} ({v['label_nl']})" for k, v in table.items())
        shown = ", ".join(repr(v) for v in dict.fromkeys(bad_values))
        raise TriadInputError(
            path, f"unknown {kind} code(s) {shown}; known codes: {known} (Dutch and English "
            f"aliases in {cb.path.name} are accepted)",
            column=column, rows=bad, row_word=meta["row_word"],
        )
    return pd.Series(mapped, index=frame.index, dtype=object)


def covariate_column(
    path: Path, raw_values: list, cov: Covariate, cb: Codebook, rows: list, ids: list,
    decimal_comma: bool, user_missing: tuple | None, quarantine: list,
) -> pd.Series:
    """Read one declared covariate column: canonical codes or numbers, NaN where missing.

    A declared missing code (the covariate's ``missing_codes``, the codebook's text codes,
    SPSS user-missing) and a bad value (an unknown code, not a number, out of range) are
    set missing and listed in ``quarantine`` with file, row, column and reason, as an
    implausible age is.  The reason never quotes the value.
    """
    out = []
    for i, raw in enumerate(raw_values):
        if is_blank(raw):
            out.append(np.nan)
            continue
        text = str(raw).strip().lower()
        number = to_number(raw, decimal_comma)
        declared = text in cb.text_codes or " ".join(text.split()) in cov.missing_codes or (
            number is not None and math.isfinite(number) and float(number).is_integer()
            and str(int(number)) in cov.missing_codes) or is_declared_missing(
                raw, number, frozenset(), frozenset(), user_missing)
        reason, value = None, np.nan
        if declared:
            reason = "declared missing code"
        elif cov.kind == "categorical":
            value = cov.canonical(raw)
            if value is None:
                known = ", ".join(cov.levels)
                reason = (f"unknown code for covariate {cov.name!r} (known: {known}; aliases in "
                          f"{cb.path.name})")
                value = np.nan
        elif number is None or not math.isfinite(number):
            reason = f"not a number (covariate {cov.name!r} is numeric)"
        elif cov.range is not None and not cov.range[0] <= number <= cov.range[1]:
            lo, hi = cov.range
            reason = f"out of range for covariate {cov.name!r} (accepted {lo:g}-{hi:g})"
        else:
            value = float(number)
        if reason is not None:
            quarantine.append((path.name, rows[i], ids[i], cov.name, show(raw), reason))
        out.append(value)
    return pd.Series(out, dtype=object if cov.kind == "categorical" else float)


def covariate_summary(values: pd.Series, cov: Covariate) -> str:
    """Return a short description of a read covariate column (kind, codes, missing)."""
    missing = int(values.isna().sum())
    if cov.kind == "categorical":
        return f"{values.dropna().nunique()} codes, {missing} missing"
    return f"numeric, {missing} missing"


def id_text(value: object) -> str:
    """Return a respondent id as text (a whole float without its ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
