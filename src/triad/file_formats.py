"""Decode respondent files into raw frames: CSV, SPSS .sav and parquet.

Each reader returns the file's cells as an object-typed frame and a metadata dict:
``row_numbers`` (the file's line or row of each frame row), ``row_word`` (``lines`` or
``rows``, for messages), ``decimal_comma``, ``user_missing`` (SPSS user-missing values and
ranges by column), ``notes`` and ``format``.  :func:`read_any` picks the reader by the
suffix, or by the first bytes of a file with another suffix.  Validation against the
codebook is :func:`triad.readers.read_respondents`'.

A CSV file may be UTF-8 (with or without BOM), Windows-1252/Latin-1, or UTF-16/UTF-32 with a
byte-order mark.  A ``.sav`` file is parsed by pyreadstat in a child process: the ReadStat
C library crashes (SIGSEGV) on some corrupt files, which is then a refusal, not a dead
program.
"""

import codecs
import csv
import hashlib
import io
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from triad.errors import TriadInputError

__all__ = ["read_any"]

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_SAV_SUFFIXES = {".sav", ".zsav"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


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


def read_any(path: Path, code_columns: frozenset = frozenset()) -> tuple[pd.DataFrame, dict]:
    """Read a respondent file by its suffix (or first bytes) into object cells and metadata."""
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
