"""Read and validate respondent files (CSV, SPSS .sav, parquet) against the codebook.

Two kinds of problems are told apart:

* **structural** problems refuse the whole file with a :class:`~triad.errors.TriadInputError`
  naming the file, the column and the rows (unreadable or empty file, missing
  required column, unknown role/sector/gender code, duplicate respondent id,
  answers in columns that do not belong to the respondent's role);
* **answer-level** problems (out of range, not a number, a declared missing code,
  an implausible age) turn that one answer into a missing value and are listed,
  one row each, in :attr:`RespondentData.quarantine`.  With ``strict=True`` the
  out-of-range and non-numeric ones refuse the file instead.

A covariate column the codebook declares (``[covariates.<name>]``: an organisation, a
level of education) is read like the identity columns: codes through their aliases,
missing codes set missing, a numeric value checked against its range; an unknown code
or a value out of range is quarantined like an implausible age (and refuses the file
under ``strict=True``).  A required covariate's column missing refuses the file.

Nothing is dropped silently: every applicable answer is counted as present,
missing (empty) or quarantined, and unknown columns are listed as ignored.

A CSV file may be UTF-8 (with or without BOM), Windows-1252/Latin-1, or UTF-16/UTF-32 with a
byte-order mark.  A ``.sav`` file is parsed by pyreadstat in a child process: the ReadStat
C library crashes (SIGSEGV) on some corrupt files, which is then a refusal, not a dead
program.

File formats are decoded by :mod:`triad.file_formats`, cells read by :mod:`triad.cell_values`;
the long form is :mod:`triad.long_form`'s (its names are importable from here too).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from triad.cell_values import (
    covariate_column,
    covariate_summary,
    id_text,
    is_blank,
    is_declared_missing,
    map_codes,
    normalise_columns,
    show,
    to_number,
)
from triad.codebook import Codebook, load_codebook
from triad.errors import TriadInputError
from triad.file_formats import read_any
from triad.long_form import (
    LONG_COLUMNS,
    long_from_wide,
    wide_from_long,
    with_covariates,
    write_wide_csv,
)

__all__ = [
    "RespondentData",
    "read_respondents",
    "long_from_wide",
    "wide_from_long",
    "write_wide_csv",
    "with_covariates",
    "LONG_COLUMNS",
    "QUARANTINE_COLUMNS",
]

QUARANTINE_COLUMNS = ["file", "row", "respondent_id", "column", "value", "reason"]

# Reasons an answer is quarantined; only these refuse the file under strict=True.
_STRICT_REASONS = ("not a number", "not a whole number", "out of range", "implausible age",
                   "unknown code")


@dataclass
class RespondentData:
    """A validated respondent file.

    Attributes
    ----------
    path : Path
        The file read.
    wide : DataFrame
        Canonical wide form: the identity columns, then every item column of the
        codebook (float, NaN where missing or not applicable).
    quarantine : DataFrame
        One row per answer set to missing for a reason (columns
        :data:`QUARANTINE_COLUMNS`).
    ignored_columns : list of str
        Columns of the file that the codebook does not know.
    counts : dict
        ``answers``, ``present``, ``missing``, ``quarantined`` (present + missing +
        quarantined == answers), ``respondents``.
    data_source : str
        ``'synthetic'`` for triad's reconstructed data set, else the file name.
    notes : list of str
        Other things the user should know (encoding fallback, blank lines skipped,
        cells outside the study design).
    covariates : DataFrame
        ``respondent_id`` and one column per covariate the codebook declares and the file
        has (categorical: canonical code as text; numeric: float; missing as NaN), in the
        rows of ``wide``.  Kept beside ``wide`` so that a file without covariates gives
        exactly the wide table (and the respondent codes) it gave before.
    """

    path: Path
    wide: pd.DataFrame
    quarantine: pd.DataFrame
    ignored_columns: list
    counts: dict
    data_source: str
    notes: list = field(default_factory=list)
    covariates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["respondent_id"]))

    @property
    def covariate_names(self) -> list[str]:
        """The declared covariates this file has a column for."""
        return [c for c in self.covariates.columns if c != "respondent_id"]

    @property
    def long(self) -> pd.DataFrame:
        """Tidy long form: one row per applicable answer (see :func:`long_from_wide`).

        The file's covariates are repeated on each of a respondent's rows.
        """
        return with_covariates(long_from_wide(self.wide), self.covariates)

    def cell_counts(self) -> pd.DataFrame:
        """Respondents per role x sector, with totals."""
        tab = pd.crosstab(
            self.wide["role"], self.wide["sector"], margins=True, margins_name="total"
        )
        return tab


def read_respondents(
    path: str | Path, *, strict: bool = False, codebook: Codebook | None = None
) -> RespondentData:
    """Read a respondent file in the public wide format and validate it.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (comma, or semicolon with decimal comma), ``.sav`` or ``.parquet`` file.
    strict : bool
        Refuse the file on out-of-range, non-numeric or implausible answers instead of
        quarantining them.
    codebook : Codebook, optional
        Defaults to ``data/codebook.toml``.

    Returns
    -------
    RespondentData

    Raises
    ------
    TriadInputError
        On any structural problem (message names file, column and rows).
    """
    path = Path(path)
    cb = codebook or load_codebook()
    frame, meta = _read_frame(path, cb)
    ids, role, sector, gender = _identity_columns(path, frame, meta, cb)
    covariate_cols, item_cols, ignored = _known_columns(path, frame, cb, role)
    applicable = {r: {ic.column for ic in cb.item_columns(r)} for r in cb.roles}
    role_list = role.tolist()
    _refuse_foreign_answers(path, frame, meta, cb, item_cols, applicable, role_list)

    quarantine = []
    wide = pd.DataFrame({"respondent_id": pd.Series(ids, dtype=object), "role": role.to_numpy(),
                         "sector": sector.to_numpy(), "gender": gender.to_numpy()})
    ages = _ages(path, frame, meta, cb, role_list, ids, quarantine)
    covariates = _covariates(path, frame, meta, cb, covariate_cols, ids, quarantine)
    # numeric columns gathered first and joined once (inserting 73 columns one by one
    # took half the time of reading a small file)
    numeric = {"age": np.array(ages, dtype=float)}
    present, missing, reversed_cols = _item_answers(
        path, frame, meta, cb, item_cols, applicable, role_list, ids, quarantine, numeric)
    wide = pd.concat([wide, pd.DataFrame(numeric, index=wide.index)], axis=1)

    qframe = pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS)
    if strict:
        _refuse_strict(path, qframe, meta["row_word"])
    counts = _answer_counts(qframe, applicable, role_list, covariate_cols, len(wide), present,
                            missing)
    cov_frame = pd.DataFrame(covariates)
    notes = _notes(meta, cb, role_list, wide, reversed_cols, covariate_cols, cov_frame, ignored)
    return RespondentData(path=path, wide=wide, quarantine=qframe, ignored_columns=ignored,
                          counts=counts, data_source=source_label(path), notes=notes,
                          covariates=cov_frame)


def _read_frame(path: Path, cb: Codebook) -> tuple[pd.DataFrame, dict]:
    """Read the file into object cells with normalised column names, and its metadata."""
    # value labels of a categorical covariate with declared levels go through its aliases
    # (an open one, e.g. organisation ids, keeps its codes)
    labelled = frozenset(n for n, c in cb.covariates.items() if c.kind == "categorical"
                         and c.levels and not c.open)
    frame, meta = read_any(path, labelled)
    frame = normalise_columns(path, frame, meta["notes"])
    return frame, meta


def _identity_columns(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook,
) -> tuple[list, pd.Series, pd.Series, pd.Series]:
    """Return the ids and the role, sector and gender codes; refuse a bad identity column.

    Refused: a required column missing, an empty or duplicate respondent id, an unknown
    code (or an empty role or sector).
    """
    row_word = meta["row_word"]
    rows = meta["row_numbers"]

    missing_ident = [c for c in cb.identity if c not in frame.columns]
    if missing_ident:
        raise TriadInputError(
            path, f"required column(s) missing: {', '.join(missing_ident)}; the file has "
            f"{', '.join(list(frame.columns)[:8])}{' ...' if frame.shape[1] > 8 else ''}",
            column=missing_ident[0],
        )

    ids = [None if is_blank(v) else id_text(v) for v in frame["respondent_id"].tolist()]
    empty_ids = [rows[i] for i, v in enumerate(ids) if v is None]
    if empty_ids:
        raise TriadInputError(
            path, "respondent_id is empty", column="respondent_id", rows=empty_ids,
            row_word=row_word,
        )
    seen: dict[str, int] = {}
    dup_rows = []
    dup_ids = []
    for i, v in enumerate(ids):
        if v in seen:
            dup_rows.extend([seen[v], rows[i]])
            dup_ids.append(v)
        else:
            seen[v] = rows[i]
    if dup_rows:
        raise TriadInputError(
            path, f"duplicate respondent id(s) {', '.join(map(repr, dict.fromkeys(dup_ids)))}",
            column="respondent_id", rows=dup_rows, row_word=row_word,
        )

    role = map_codes(path, frame, meta, cb, "role", "role", may_be_missing=False)
    sector = map_codes(path, frame, meta, cb, "sector", "sector", may_be_missing=False)
    gender = map_codes(path, frame, meta, cb, "gender", "gender", may_be_missing=True)
    return ids, role, sector, gender


def _known_columns(
    path: Path, frame: pd.DataFrame, cb: Codebook, role: pd.Series,
) -> tuple[list, list, list]:
    """Return the covariate columns, the codebook's item columns and the ignored columns.

    Refuses the file when a required covariate's column, or an item column of a role
    present in the file, is missing.
    """
    missing_cov = [n for n, c in cb.covariates.items() if c.required and n not in frame.columns]
    if missing_cov:
        raise TriadInputError(
            path, f"required covariate column(s) missing: {', '.join(missing_cov)} (declared "
            f"with required = true in {cb.path.name})", column=missing_cov[0],
        )
    covariate_cols = [n for n in cb.covariates if n in frame.columns]

    item_cols = cb.all_item_columns()
    known = set(cb.identity) | {ic.column for ic in item_cols} | set(covariate_cols)
    ignored = [c for c in frame.columns if c not in known]

    roles_present = sorted(set(role))
    needed = []
    for r in roles_present:
        for ic in cb.item_columns(r):
            if ic.column not in frame.columns and ic.column not in needed:
                needed.append(ic.column)
    if needed:
        whose = [r for r in roles_present if any(ic.column in needed for ic in cb.item_columns(r))]
        raise TriadInputError(
            path, f"{len(needed)} item column(s) missing for role(s) {', '.join(whose)}: "
            f"{', '.join(needed[:6])}{' ...' if len(needed) > 6 else ''}",
            column=needed[0],
        )
    return covariate_cols, item_cols, ignored


def _refuse_foreign_answers(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, item_cols: list,
    applicable: dict, role_list: list,
) -> None:
    """Refuse answers in columns not of the respondent's role: structural (wrong form or shift)."""
    row_word = meta["row_word"]
    rows = meta["row_numbers"]
    user_missing = meta["user_missing"]
    decimal_comma = meta["decimal_comma"]
    for ic in item_cols:
        if ic.column not in frame.columns:
            continue
        um = user_missing.get(ic.column)
        offending = []
        for i, raw in enumerate(frame[ic.column].tolist()):
            if ic.column in applicable[role_list[i]] or is_blank(raw):
                continue
            number = to_number(raw, decimal_comma)
            if is_declared_missing(raw, number, cb.answer_codes, cb.text_codes, um):
                continue
            offending.append(rows[i])
        if offending:
            owners = sorted(r for r in cb.roles if ic.column in applicable[r])
            raise TriadInputError(
                path, f"answers in a column that belongs to {', '.join(owners)} only, for "
                "respondents of another role; check the role column or a shifted column",
                column=ic.column, rows=offending, row_word=row_word,
            )


def _ages(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, role_list: list, ids: list,
    quarantine: list,
) -> list:
    """Return the ages (NaN where missing); quarantine bad ones, as :func:`_item_answers` does."""
    rows = meta["row_numbers"]
    decimal_comma = meta["decimal_comma"]
    ages = []
    age_um = meta["user_missing"].get("age")
    for i, raw in enumerate(frame["age"].tolist()):
        if is_blank(raw):
            ages.append(np.nan)
            continue
        number = to_number(raw, decimal_comma)
        reason = None
        if is_declared_missing(raw, number, cb.age_codes, cb.text_codes, age_um):
            reason = "declared missing code"
        elif number is None or not math.isfinite(number):
            reason = "not a number"
        else:
            lo, hi = cb.age_ranges[role_list[i]]
            if not lo <= number <= hi:
                reason = f"implausible age for a {role_list[i]} (accepted {lo}-{hi})"
        if reason is None:
            ages.append(number)
        else:
            ages.append(np.nan)
            quarantine.append((path.name, rows[i], ids[i], "age", show(raw), reason))
    return ages


def _covariates(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, covariate_cols: list, ids: list,
    quarantine: list,
) -> dict:
    """Return ``respondent_id`` and each declared covariate column the file has, read."""
    covariates = {"respondent_id": pd.Series(ids, dtype=object)}
    for name in covariate_cols:
        covariates[name] = covariate_column(
            path, frame[name].tolist(), cb.covariates[name], cb, meta["row_numbers"], ids,
            meta["decimal_comma"], meta["user_missing"].get(name), quarantine)
    return covariates


def _item_answers(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, item_cols: list,
    applicable: dict, role_list: list, ids: list, quarantine: list, numeric: dict,
) -> tuple[int, int, list]:
    """Add every item column's answers to ``numeric``; return present, missing, reversed columns.

    An applicable answer is present, missing (blank) or quarantined (a declared missing
    code, not a number, not a whole number, out of range).  Reverse-keyed items are recoded
    to low + high - answer.
    """
    rows = meta["row_numbers"]
    user_missing = meta["user_missing"]
    decimal_comma = meta["decimal_comma"]
    present = missing = 0
    reversed_cols = []
    for ic in item_cols:
        lo, hi = cb.answer_range(ic.scale)
        answers = f"answers are {lo:g}-{hi:g}"
        values = np.full(len(frame), np.nan)
        if ic.column in frame.columns:
            um = user_missing.get(ic.column)
            for i, raw in enumerate(frame[ic.column].tolist()):
                if ic.column not in applicable[role_list[i]]:
                    continue
                if is_blank(raw):
                    missing += 1
                    continue
                number = to_number(raw, decimal_comma)
                reason = None
                if is_declared_missing(raw, number, cb.answer_codes, cb.text_codes, um):
                    reason = "declared missing code"
                elif number is None or not math.isfinite(number):
                    reason = "not a number"
                elif not float(number).is_integer():
                    reason = f"not a whole number ({answers})"
                elif not lo <= number <= hi:
                    reason = f"out of range ({answers})"
                if reason is None:
                    values[i] = number
                    present += 1
                else:
                    quarantine.append((path.name, rows[i], ids[i], ic.column, show(raw), reason))
        if ic.item in cb.scales[ic.scale].reverse:
            # keyed once here, so scores, reliability, cells and models all see one direction
            values = lo + hi - values
            reversed_cols.append(ic.column)
        numeric[ic.column] = values
    return present, missing, reversed_cols


def _refuse_strict(path: Path, qframe: pd.DataFrame, row_word: str) -> None:
    """Refuse the file (``strict=True``) when an answer was quarantined for a strict reason."""
    hard = qframe[qframe["reason"].str.startswith(_STRICT_REASONS)]
    if len(hard):
        first = hard.iloc[0]
        cols = list(dict.fromkeys(hard["column"]))
        where = f"{len(cols)} column(s): {', '.join(cols[:6])}{' ...' if len(cols) > 6 else ''}"
        # column and rows name the first column's problems; the message counts all
        raise TriadInputError(
            path, f"{len(hard)} answer(s) out of range, not numeric or implausible in "
            f"{where} (first: {first['value']!r}, {first['reason']}); without --strict "
            "they are set missing and listed in the quarantine report",
            column=str(first["column"]),
            rows=hard.loc[hard["column"] == first["column"], "row"].tolist(),
            row_word=row_word,
        )


def _answer_counts(
    qframe: pd.DataFrame, applicable: dict, role_list: list, covariate_cols: list,
    respondents: int, present: int, missing: int,
) -> dict:
    """Return the answer accounting: present + missing + quarantined == applicable answers."""
    n_answers = sum(len(applicable[r]) for r in role_list)
    # ages and covariates are not answers: quarantined, but not counted among the answers
    n_quarantined = int((~qframe["column"].isin(["age", *covariate_cols])).sum())
    counts = {
        "respondents": respondents,
        "answers": n_answers,
        "present": present,
        "missing": missing,
        "quarantined": n_quarantined,
    }
    if present + missing + n_quarantined != n_answers:  # an invariant, not user input
        raise AssertionError(f"answer accounting broken: {counts}")
    return counts


def _notes(
    meta: dict, cb: Codebook, role_list: list, wide: pd.DataFrame, reversed_cols: list,
    covariate_cols: list, cov_frame: pd.DataFrame, ignored: list,
) -> list:
    """Return the notes: the reader's, then cells outside the design, recodings, covariates."""
    notes = list(meta["notes"])
    outside = sorted(
        {(r, s) for r, s in zip(role_list, wide["sector"], strict=True)} - cb.design_cells
    )
    if outside:
        notes.append(
            "role x sector cells outside the study design (codebook [design] cells): "
            + ", ".join(f"{r} in {s}" for r, s in outside)
        )
    if reversed_cols:
        notes.append(
            f"{len(reversed_cols)} reverse-keyed item column(s) recoded to low + high - answer "
            "(codebook 'reverse'): " + ", ".join(reversed_cols))
    if covariate_cols:
        notes.append("covariate(s) read: " + ", ".join(
            f"{n} ({covariate_summary(cov_frame[n], cb.covariates[n])})"
            for n in covariate_cols))
    if ignored:
        notes.append(
            f"{len(ignored)} column(s) not in the codebook were ignored: "
            + ", ".join(ignored[:10]) + (" ..." if len(ignored) > 10 else "")
        )
    return notes


def source_label(path: Path) -> str:
    """Return ``'synthetic'`` for triad's reconstructed data, else the file name.

    A file is synthetic when a ``provenance.json`` beside it says ``"synthetic": true``.
    """
    prov = Path(path).parent / "provenance.json"
    if prov.is_file():
        try:
            if json.loads(prov.read_text(encoding="utf-8")).get("synthetic") is True:
                return "synthetic"
        except (json.JSONDecodeError, OSError, AttributeError):
            pass
    return Path(path).name
