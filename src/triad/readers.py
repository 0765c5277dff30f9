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
"""

import codecs
import csv
import hashlib
import io
import json
import math
import pickle
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from triad.codebook import Codebook, Covariate, load_codebook
from triad.errors import TriadInputError

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

LONG_COLUMNS = [
    "respondent_id", "role", "sector", "gender", "age", "scale", "target", "item", "column",
    "value",
]
QUARANTINE_COLUMNS = ["file", "row", "respondent_id", "column", "value", "reason"]

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_SAV_SUFFIXES = {".sav", ".zsav"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}

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


# --------------------------------------------------------------------------- reading


# Byte-order marks of the wide Unicode encodings (UTF-32 first: its LE mark starts like UTF-16's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _decode(path: Path, data: bytes) -> tuple[str, list]:
    notes = []
    for bom, codec, name in _WIDE_BOMS:
        if data.startswith(bom):
            # Excel's "Unicode text" export: UTF-16 with a byte-order mark (and tabs).
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise TriadInputError(
                    path, f"the file starts with a {name} byte-order mark but is not valid "
                    f"{name} ({exc.reason} at byte {exc.start}); save it as UTF-8"
                ) from None
            notes.append(f"{path.name}: read as {name} (byte-order mark)")
            return text.lstrip("\ufeff"), notes
    if b"\x00" in data:
        raise TriadInputError(
            path, "the file looks binary (it holds NUL bytes), not a CSV text file "
            "(or it is UTF-16 text without a byte-order mark: save it as UTF-8); "
            "SPSS files must end in .sav, parquet files in .parquet"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Dutch Excel on Windows writes cp1252; latin-1 cannot fail, so it is last.
        try:
            text = data.decode("cp1252")
            notes.append(f"{path.name}: not UTF-8; read as Windows-1252 (cp1252)")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append(f"{path.name}: not UTF-8; read as Latin-1")
    return text.lstrip("\ufeff"), notes


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _read_csv(path: Path) -> tuple[pd.DataFrame, dict]:
    data = path.read_bytes()
    if not data.strip():
        raise TriadInputError(path, "the file is empty")
    text, notes = _decode(path, data)
    if "\x00" in text:
        raise TriadInputError(
            path, "the file looks binary (it holds NUL characters), not a CSV text file"
        )
    lines = text.splitlines()
    # the header: the first line with more than delimiters, quotes and spaces
    first = next((ln for ln in lines if ln.strip(" \t,;\"'")), "")
    delim = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = None
    rows, line_numbers, blank = [], [], 0
    bad_width = []
    start = 1  # the line a record starts on (a quoted field may span lines)
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                blank += 1
                continue
            if header is None:
                header = fields
                continue
            if len(fields) != len(header):
                bad_width.append((line, len(fields)))
                continue
            rows.append(fields)
            line_numbers.append(line)
    except csv.Error as exc:
        # e.g. a field longer than csv.field_size_limit(): an unclosed quote that
        # swallows the rest of the file
        raise TriadInputError(
            path, f"not readable as CSV ({exc}); an unclosed quote?",
            rows=[start], row_word="lines",
        ) from None
    if header is None:
        raise TriadInputError(path, "the file holds no header row")
    if bad_width:
        lines_bad = [ln for ln, _ in bad_width]
        widths = sorted({w for _, w in bad_width})
        raise TriadInputError(
            path,
            f"these lines have {', '.join(map(str, widths))} fields but the header has "
            f"{len(header)} (delimiter {delim!r}); a quoting or delimiter problem",
            rows=lines_bad,
            row_word="lines",
        )
    if not rows:
        raise TriadInputError(path, "the file has a header but no data rows")
    if blank:
        notes.append(f"{path.name}: {blank} blank line(s) skipped")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    meta = {
        "row_numbers": line_numbers,
        "row_word": "lines",
        "decimal_comma": delim != ",",
        "user_missing": {},
        "notes": notes,
        "format": f"csv (delimiter {delim!r})",
    }
    return frame, meta


# pyreadstat (the ReadStat C library) runs in a child process: on some corrupt files
# it crashes with a segmentation fault, which would take the whole program down.
_SAV_CHILD = """
import pickle, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        import pyreadstat
        data, meta = pyreadstat.read_sav(sys.argv[1], user_missing=True, output_format="dict")
        out = ("ok", dict(data), dict(meta.variable_value_labels),
               dict(meta.missing_user_values), dict(meta.missing_ranges),
               [str(w.message) for w in caught])
    except Exception as exc:
        out = ("error", f"{type(exc).__name__}: {exc}")
sys.stdout.buffer.write(pickle.dumps(out))
"""
_SAV_TIMEOUT_S = 300


def _run_sav_child(path: Path) -> tuple:
    """Read a .sav file with pyreadstat in a child process (see ``_SAV_CHILD``)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SAV_CHILD, str(path)], capture_output=True,
            timeout=_SAV_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        raise TriadInputError(
            path, f"not a readable SPSS file (the SPSS reader did not finish in "
            f"{_SAV_TIMEOUT_S} s)"
        ) from None
    if proc.returncode != 0:
        rc = proc.returncode
        try:
            how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
        except ValueError:
            how = f"signal {-rc}"
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise TriadInputError(
            path, f"not a readable SPSS file (the SPSS reader crashed on it: {how}"
            f"{'; ' + tail[0] if tail else ''}); the file is corrupt"
        )
    try:
        result = pickle.loads(proc.stdout)
    except Exception:  # whatever the child wrote, it is not a result
        raise TriadInputError(
            path, "not a readable SPSS file (no result from the SPSS reader)"
        ) from None
    if result[0] != "ok":
        raise TriadInputError(path, f"not a readable SPSS file ({result[1]})")
    return result[1:]


# The last few .sav results (or refusals) by content hash: reading the same file again
# (strict and not, one model after another) costs no new child process.
_SAV_CACHE: dict = {}
_SAV_CACHE_SIZE = 4


def _read_sav(path: Path, code_columns: frozenset = frozenset()) -> tuple[pd.DataFrame, dict]:
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    if key not in _SAV_CACHE:
        try:
            result = _run_sav_child(path)
        except TriadInputError as exc:
            result = exc.message
        while len(_SAV_CACHE) >= _SAV_CACHE_SIZE:
            del _SAV_CACHE[next(iter(_SAV_CACHE))]
        _SAV_CACHE[key] = result
    if isinstance(_SAV_CACHE[key], str):
        raise TriadInputError(path, _SAV_CACHE[key])
    columns, value_labels, missing_values, missing_ranges, warned = _SAV_CACHE[key]
    frame = pd.DataFrame(columns)
    # Map value labels of the code columns to their label text, so codebook aliases apply.
    for col, labels in value_labels.items():
        if col.strip().lower() in {"role", "sector", "gender", *code_columns} and (
                col in frame.columns):
            frame[col] = frame[col].map(lambda v, lab=labels: lab.get(v, v)).astype(object)
    user_missing = {}
    for col in frame.columns:
        values = list(missing_values.get(col, []))
        ranges = list(missing_ranges.get(col, []))
        if values or ranges:
            user_missing[col.strip().lower()] = (values, ranges)
    out = {
        "row_numbers": list(range(1, len(frame) + 1)),
        "row_word": "rows",
        "decimal_comma": False,
        "user_missing": user_missing,
        "notes": [f"{path.name}: {w}" for w in warned],
        "format": "SPSS .sav",
    }
    return frame.astype(object), out


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several error types for corrupt files
        raise TriadInputError(path, f"not a readable parquet file ({exc})") from None
    if any(name is not None for name in frame.index.names):
        # written from a frame indexed by e.g. respondent_id: the index is a column too
        frame = frame.reset_index()
    parts = []
    for i, col in enumerate(frame.columns):
        try:
            # pyarrow checks text only here, e.g. strings that are not valid UTF-8
            parts.append(frame.iloc[:, i].astype(object).to_numpy(dtype=object))
        except Exception as exc:  # pyarrow's ArrowException and friends
            raise TriadInputError(
                path, f"not a readable parquet file ({exc})", column=str(col)
            ) from None
    # positional, so that duplicate column names survive to be reported
    frame = pd.DataFrame(
        np.column_stack(parts) if parts else np.empty((len(frame), 0), dtype=object),
        columns=frame.columns, dtype=object,
    )
    out = {
        "row_numbers": list(range(1, len(frame) + 1)),
        "row_word": "rows",
        "decimal_comma": False,
        "user_missing": {},
        "notes": [],
        "format": "parquet",
    }
    return frame, out


def _read_any(path: Path, code_columns: frozenset = frozenset()) -> tuple[pd.DataFrame, dict]:
    if not path.exists():
        raise TriadInputError(path, "no such file")
    if path.is_dir():
        raise TriadInputError(path, "this is a folder, not a respondent file")
    try:
        if path.stat().st_size == 0:
            raise TriadInputError(path, "the file is empty")
        suffix = path.suffix.lower()
        if suffix in _SAV_SUFFIXES:
            frame, meta = _read_sav(path, code_columns)
        elif suffix in _PARQUET_SUFFIXES:
            frame, meta = _read_parquet(path)
        elif suffix in _CSV_SUFFIXES:
            frame, meta = _read_csv(path)
        else:
            with path.open("rb") as fh:
                head = fh.read(4)
            if head == b"$FL2" or head == b"$FL3":
                frame, meta = _read_sav(path, code_columns)
            elif head == b"PAR1":
                frame, meta = _read_parquet(path)
            else:
                frame, meta = _read_csv(path)
    except OSError as exc:  # permission denied, a device, a vanished file
        raise TriadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if len(frame) == 0:
        raise TriadInputError(path, "the file has no data rows")
    return frame, meta


# --------------------------------------------------------------------------- values


def _is_blank(value: object) -> bool:
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


def _to_number(value: object, decimal_comma: bool) -> float | None:
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


def _is_declared_missing(
    value: object, number: float | None, codes: frozenset, text_codes: frozenset,
    user_missing: tuple | None,
) -> bool:
    if str(value).strip().lower() in text_codes:  # before the number: 'NaN' is a code
        return True
    if number is None:
        return False
    if user_missing is not None:
        values, ranges = user_missing
        if any(number == float(v) for v in values if _to_number(v, False) is not None):
            return True
        for rng in ranges:
            lo, hi = (rng["lo"], rng["hi"]) if isinstance(rng, dict) else rng
            if _to_number(lo, False) is not None and float(lo) <= number <= float(hi):
                return True
        # An SPSS file declares its own codes; the codebook's generic list still applies.
    return number in codes


def _show(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------- validation


def _normalise_columns(path: Path, frame: pd.DataFrame, notes: list) -> pd.DataFrame:
    names = [str(c).replace("\ufeff", "").strip().lower() for c in frame.columns]
    # Columns without a name: trailing delimiters (dropped when empty) or unnamed data,
    # which is kept under a positional name and then listed as ignored.
    keep, dropped = [], 0
    for i, name in enumerate(names):
        if name:
            keep.append(i)
        elif all(_is_blank(v) for v in frame.iloc[:, i].tolist()):
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


def _map_codes(
    path: Path, frame: pd.DataFrame, meta: dict, cb: Codebook, kind: str, column: str,
    may_be_missing: bool,
) -> pd.Series:
    rows = meta["row_numbers"]
    mapped, bad, bad_values = [], [], []
    for i, raw in enumerate(frame[column].tolist()):
        if _is_blank(raw) or str(raw).strip().lower() in cb.text_codes:
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
            bad_values.append(_show(raw))
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
    # value labels of a categorical covariate with declared levels go through its aliases
    # (an open one, e.g. organisation ids, keeps its codes)
    labelled = frozenset(n for n, c in cb.covariates.items() if c.kind == "categorical"
                         and c.levels and not c.open)
    frame, meta = _read_any(path, labelled)
    frame = _normalise_columns(path, frame, meta["notes"])
    row_word = meta["row_word"]
    rows = meta["row_numbers"]

    missing_ident = [c for c in cb.identity if c not in frame.columns]
    if missing_ident:
        raise TriadInputError(
            path, f"required column(s) missing: {', '.join(missing_ident)}; the file has "
            f"{', '.join(list(frame.columns)[:8])}{' ...' if frame.shape[1] > 8 else ''}",
            column=missing_ident[0],
        )

    ids = [None if _is_blank(v) else _id_text(v) for v in frame["respondent_id"].tolist()]
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

    role = _map_codes(path, frame, meta, cb, "role", "role", may_be_missing=False)
    sector = _map_codes(path, frame, meta, cb, "sector", "sector", may_be_missing=False)
    gender = _map_codes(path, frame, meta, cb, "gender", "gender", may_be_missing=True)

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

    user_missing = meta["user_missing"]
    decimal_comma = meta["decimal_comma"]
    applicable = {r: {ic.column for ic in cb.item_columns(r)} for r in cb.roles}

    # Answers in columns that do not belong to the role: structural (wrong form or shift).
    role_list = role.tolist()
    for ic in item_cols:
        if ic.column not in frame.columns:
            continue
        um = user_missing.get(ic.column)
        offending = []
        for i, raw in enumerate(frame[ic.column].tolist()):
            if ic.column in applicable[role_list[i]] or _is_blank(raw):
                continue
            number = _to_number(raw, decimal_comma)
            if _is_declared_missing(raw, number, cb.answer_codes, cb.text_codes, um):
                continue
            offending.append(rows[i])
        if offending:
            owners = sorted(r for r in cb.roles if ic.column in applicable[r])
            raise TriadInputError(
                path, f"answers in a column that belongs to {', '.join(owners)} only, for "
                "respondents of another role; check the role column or a shifted column",
                column=ic.column, rows=offending, row_word=row_word,
            )

    quarantine = []
    wide = pd.DataFrame(
        {
            "respondent_id": pd.Series(ids, dtype=object),
            "role": role.to_numpy(),
            "sector": sector.to_numpy(),
            "gender": gender.to_numpy(),
        }
    )

    ages = []
    age_um = user_missing.get("age")
    for i, raw in enumerate(frame["age"].tolist()):
        if _is_blank(raw):
            ages.append(np.nan)
            continue
        number = _to_number(raw, decimal_comma)
        reason = None
        if _is_declared_missing(raw, number, cb.age_codes, cb.text_codes, age_um):
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
            quarantine.append((path.name, rows[i], ids[i], "age", _show(raw), reason))
    covariates = {"respondent_id": pd.Series(ids, dtype=object)}
    for name in covariate_cols:
        covariates[name] = _covariate_column(
            path, frame[name].tolist(), cb.covariates[name], cb, rows, ids, decimal_comma,
            user_missing.get(name), quarantine)
    # numeric columns gathered first and joined once (inserting 73 columns one by one
    # took half the time of reading a small file)
    numeric = {"age": np.array(ages, dtype=float)}

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
                if _is_blank(raw):
                    missing += 1
                    continue
                number = _to_number(raw, decimal_comma)
                reason = None
                if _is_declared_missing(raw, number, cb.answer_codes, cb.text_codes, um):
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
                    quarantine.append((path.name, rows[i], ids[i], ic.column, _show(raw), reason))
        if ic.item in cb.scales[ic.scale].reverse:
            # keyed once here, so scores, reliability, cells and models all see one direction
            values = lo + hi - values
            reversed_cols.append(ic.column)
        numeric[ic.column] = values
    wide = pd.concat([wide, pd.DataFrame(numeric, index=wide.index)], axis=1)

    qframe = pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS)
    if strict:
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

    n_answers = sum(len(applicable[r]) for r in role_list)
    # ages and covariates are not answers: quarantined, but not counted among the answers
    n_quarantined = int((~qframe["column"].isin(["age", *covariate_cols])).sum())
    counts = {
        "respondents": len(wide),
        "answers": n_answers,
        "present": present,
        "missing": missing,
        "quarantined": n_quarantined,
    }
    if present + missing + n_quarantined != n_answers:  # an invariant, not user input
        raise AssertionError(f"answer accounting broken: {counts}")

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
    cov_frame = pd.DataFrame(covariates)
    if covariate_cols:
        notes.append("covariate(s) read: " + ", ".join(
            f"{n} ({_covariate_summary(cov_frame[n], cb.covariates[n])})"
            for n in covariate_cols))
    if ignored:
        notes.append(
            f"{len(ignored)} column(s) not in the codebook were ignored: "
            + ", ".join(ignored[:10]) + (" ..." if len(ignored) > 10 else "")
        )
    return RespondentData(
        path=path,
        wide=wide,
        quarantine=qframe,
        ignored_columns=ignored,
        counts=counts,
        data_source=source_label(path),
        notes=notes,
        covariates=cov_frame,
    )


def _covariate_column(
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
        if _is_blank(raw):
            out.append(np.nan)
            continue
        text = str(raw).strip().lower()
        number = _to_number(raw, decimal_comma)
        declared = text in cb.text_codes or " ".join(text.split()) in cov.missing_codes or (
            number is not None and math.isfinite(number) and float(number).is_integer()
            and str(int(number)) in cov.missing_codes) or _is_declared_missing(
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
            quarantine.append((path.name, rows[i], ids[i], cov.name, _show(raw), reason))
        out.append(value)
    return pd.Series(out, dtype=object if cov.kind == "categorical" else float)


def _covariate_summary(values: pd.Series, cov: Covariate) -> str:
    missing = int(values.isna().sum())
    if cov.kind == "categorical":
        return f"{values.dropna().nunique()} codes, {missing} missing"
    return f"numeric, {missing} missing"


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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


# --------------------------------------------------------------------------- long <-> wide


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
