"""Fuzzed readers: a corrupted respondent file is refused cleanly or loaded with every answer
accounted for, never anything else.

Each example starts from valid respondents (rows of the shipped study's synthetic file under
fresh ids), corrupts them (wrong types, out-of-range / huge / negative / fractional values,
NaN and inf strings, declared missing codes, blank cells, trailing whitespace, mixed-case and
Dutch role/sector/gender codes, unknown codes, duplicate or empty ids, missing required or
item columns, unknown extra columns, answers in another role's columns, ragged rows, blank
lines, odd encodings and delimiters), writes the file and reads it with ``strict=False`` and
``strict=True``.  What the generator wrote decides what must happen:

* a structural problem was written -> :class:`triad.errors.TriadInputError` naming the file,
  one of the columns written wrong and exactly the rows (file lines) where it is wrong;
* otherwise a load whose counts equal the ones tallied while writing: respondents, answers
  (16 per youth or parent, 52 per professional), present, missing and quarantined, every
  present value as written, the unknown columns listed as ignored; and under ``strict=True`` a
  refusal naming a column and its rows exactly when an out-of-range, non-numeric, fractional
  answer or implausible age was written.

Any other exception fails the test.  The expectations come from the README's description of
the wide format and the codebook's ``[missing]`` and ``[age]`` tables, not from the reader.

Examples per property (``derandomize=True``, ``database=None``: CI runs the same examples
every time):

===============================================  ========
property                                         examples
===============================================  ========
test_fuzzed_csv_is_refused_or_accounted          200
test_fuzzed_parquet_is_refused_or_accounted      50
test_fuzzed_sav_is_refused_or_accounted          12
test_damaged_parquet_bytes                       40
test_damaged_sav_bytes                           10
===============================================  ========

312 examples in all.  Of the 200 CSV examples 29 load under both modes, 77 load but are
refused under strict, 94 are refused outright (parquet: 12, 3, 35; .sav: 3, 5, 4).  A .sav
file is read in a child process (0.2-0.5 s), hence the few .sav examples.  Hypothesis draws
tokens unevenly (in the 200 CSV examples some tokens never come up), so
``test_every_token_*`` also reads every token once in each of the 15 encoding x delimiter
combinations and as text in parquet and .sav (17 files, not random).
"""

import csv
import io
import math
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triad
from triad.errors import TriadInputError
from triad.readers import read_respondents

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC = REPO / "data" / "youth_partnership" / "synthetic" / "respondents.csv"

# ------------------------------------------------------------------ the format, from the README

IDENTITY = ["respondent_id", "role", "sector", "gender", "age"]
_LAY = [f"{s}_{i}" for s in ("band", "doel", "taak") for i in range(1, 5)]
APPLICABLE = {
    "youth": _LAY + [f"inspraak_{i}" for i in range(1, 5)],
    "parent": _LAY + [f"opvoed_{i}" for i in range(1, 5)],
}
APPLICABLE["social_worker"] = APPLICABLE["teacher"] = (
    [f"{c}__youth" for c in APPLICABLE["youth"]]
    + [f"{c}__parent" for c in APPLICABLE["parent"]]
    + [f"belangrijk_{i}" for i in range(1, 11)]
    + [f"lukt_{i}" for i in range(1, 11)]
)
ROLES = list(APPLICABLE)
ALL_ITEMS = list(dict.fromkeys(c for r in ROLES for c in APPLICABLE[r]))
ROLE_ALIASES = {
    "youth": ["youth", "jeugdige", "Jongere", "leerling"],
    "parent": ["parent", "ouder", "Ouders"],
    "social_worker": ["social_worker", "social worker", "hulpverlener", "Jongerenwerker"],
    "teacher": ["teacher", "leraar", "Leerkracht"],
}
SECTOR_ALIASES = {
    "special_education": ["special_education", "SO/VSO", "speciaal onderwijs", "vso"],
    "ambulatory_daycare": ["ambulatory_daycare", "Ambulant/Dagopvang", "dagopvang"],
    "residential": ["residential", "Residentieel", "residentiële"],
}
GENDER_ALIASES = {"male": ["male", "man", "M", "jongen"], "female": ["female", "vrouw", "V"]}

with (REPO / "data" / "youth_partnership" / "codebook.toml").open("rb") as _fh:
    _CODEBOOK = tomllib.load(_fh)
ANSWER_CODES = [float(x) for x in _CODEBOOK["missing"]["answer_codes"]]
AGE_CODES = [float(x) for x in _CODEBOOK["missing"]["age_codes"]]
TEXT_CODES = list(_CODEBOOK["missing"]["text_codes"])
AGE_RANGES = {k: tuple(v) for k, v in _CODEBOOK["age"].items()}

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]
DELIMITERS = [",", ";", "\t"]


def _base_rows() -> dict:
    with SYNTHETIC.open(newline="", encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    assert set(records[0]) == set(IDENTITY) | set(ALL_ITEMS)  # README and file agree
    by_role: dict = {r: [] for r in ROLES}
    for rec in records:
        lo, hi = AGE_RANGES[rec["role"]]
        assert lo <= float(rec["age"]) <= hi  # the base ages are plausible
        by_role[rec["role"]].append(rec)
    return by_role


BASE = _base_rows()

# ------------------------------------------------------------------ tokens and what they are

# Item answers: (text, class, value).  Classes: present, missing, declared (a missing code:
# quarantined, not refused under strict) and hard (quarantined; refused under strict).
VALID = [("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5), (" 4", 4), ("5  ", 5), ("03", 3),
         ("+2", 2), ("4.0", 4), ("2.", 2), ("3e0", 3), ("1.000", 1)]
VALID_DECIMAL_COMMA = [("4,0", 4), ("2,00", 2)]  # only where the delimiter is not a comma
BLANK = ["", " ", "   "]
DECLARED = ["-1", "-9", "-99", "-999", "9", "99", "999", "9.0", "-9.00", "NA", "na", "N/A",
            "nan", "NaN", "NVT", "n.v.t.", "weet niet", "Missing", "."]
HARD = [
    "0", "6", "7", "10", "-2", "-5", "100", "-0", "9999",                          # range
    "1e308", "-1e308", "1" + "0" * 30, "99999999999999999999", "1e309",          # huge
    "2.5", "1.0000001", "4.75", "2,5", "0.5",                                   # fractional
    "inf", "-inf", "Infinity", "+INF",                                          # non-finite
    "abc", "drie", "3a", "--", "0_3", "0x3", "1e", "tweeënhalf", "３", "3 4",     # text
]

ANSWER_KINDS = ["valid", "blank", "declared", "hard", "free_text"]


class Cell:
    """One cell as written, with what it is (present, missing, declared, hard, stray, id)."""

    def __init__(self, text: str, kind: str = "id", value: float | None = None) -> None:
        self.text, self.kind, self.value = text, kind, value

    def __repr__(self) -> str:
        return f"{self.text!r}:{self.kind}"


class Table:
    """A respondent file before it is written: columns, rows and what was wrong.

    ``rows`` maps column -> :class:`Cell`; ``roles`` is the canonical role per row (None
    where an unknown code was written); ``extra`` the unknown columns added; ``ragged`` the
    rows given an extra field.
    """

    def __init__(self, columns: list, rows: list, roles: list) -> None:
        self.columns, self.rows, self.roles = columns, rows, roles
        self.extra: list = []
        self.ragged: list = []

    def __repr__(self) -> str:
        """Short: the columns, and per row the cells that are not empty."""
        shown = [{c: row[c] for c in self.columns if row[c].text.strip()}
                 for row in self.rows]
        return (f"Table(columns={self.columns!r}, roles={self.roles!r}, extra={self.extra!r}, "
                f"ragged={self.ragged!r}, rows={shown!r})")


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _answer(draw, kind: str, encoding: str, decimal_comma: bool) -> Cell:
    if kind == "valid":
        pool = VALID + (VALID_DECIMAL_COMMA if decimal_comma else [])
        text, value = draw(st.sampled_from(pool))
        return Cell(text, "present", float(value))
    if kind == "blank":
        return Cell(draw(st.sampled_from(BLANK)), "missing")
    if kind == "declared":
        return Cell(draw(st.sampled_from(DECLARED)), "declared")
    if kind == "hard":
        pool = [t for t in HARD if _encodable(t, encoding)]
        if decimal_comma:
            pool = [t for t in pool if t not in ("2,5",)] + ["2,5", "0,5", "7,0"]
        return Cell(draw(st.sampled_from(pool)), "hard")
    text = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéëü -+.", max_size=12))
    return Cell("x" + text, "hard")  # an 'x' first: never a number, never a missing code


def age_tokens(role: str, decimal_comma: bool) -> list:
    """Every kind of age cell for ``role``: (text, kind), kind as for answers."""
    lo, hi = AGE_RANGES[role]
    mid = (lo + hi) // 2
    return (
        [(str(lo), "present"), (str(hi), "present"), (f" {mid} ", "present"),
         (f"{mid}.5", "present"), (f"{mid},5", "present" if decimal_comma else "hard")]
        + [(t, "missing") for t in BLANK]
        + [(t, "declared") for t in [f"{x:g}" for x in AGE_CODES] + ["NA", "nvt", "nan"]]
        + [(t, "hard") for t in [str(lo - 1), f"{lo - 0.1:g}", str(hi + 1), "150", "0", "-3",
                                 "1e308", "inf", "abc", "twaalf", "12 jaar", "1_2"]]
    )


def _age(draw, role: str, decimal_comma: bool) -> Cell:
    text, kind = draw(st.sampled_from(age_tokens(role, decimal_comma)))
    return Cell(text, kind)


def _case(draw, text: str) -> str:
    how = draw(st.sampled_from(["same", "lower", "upper", "title", "pad"]))
    return {"same": text, "lower": text.lower(), "upper": text.upper(), "title": text.title(),
            "pad": f"  {text} "}[how]


@st.composite
def tables(draw, encoding: str = "utf-8", decimal_comma: bool = False) -> Table:
    """Valid respondents from the synthetic file, then corrupted."""
    n = draw(st.integers(1, 5))
    roles = [draw(st.sampled_from(ROLES)) for _ in range(n)]
    rows = []
    for i, role in enumerate(roles):
        base = draw(st.sampled_from(BASE[role]))
        row = {"respondent_id": Cell(f"F{i + 1:03d}")}
        row["role"] = Cell(_case(draw, draw(st.sampled_from(ROLE_ALIASES[role]))))
        sectors = [s for s, names in SECTOR_ALIASES.items() if base["sector"] in names]
        aliases = [a for a in SECTOR_ALIASES[sectors[0]] if _encodable(a, encoding)]
        row["sector"] = Cell(_case(draw, draw(st.sampled_from(aliases))))
        gender = base["gender"]
        row["gender"] = Cell(
            _case(draw, draw(st.sampled_from(GENDER_ALIASES[gender]))) if gender
            else draw(st.sampled_from(["", "NA", " "]))
        )
        row["age"] = Cell(base["age"], "present")
        for col in ALL_ITEMS:
            text = base[col]
            if col in APPLICABLE[role]:
                row[col] = Cell(text, "present", float(text)) if text else Cell("", "missing")
            else:
                assert text == ""
                row[col] = Cell("", "missing")
        rows.append(row)
    table = Table(columns=IDENTITY + ALL_ITEMS, rows=rows, roles=list(roles))

    # answer-level corruption: any number of cells
    for _ in range(draw(st.integers(0, 10))):
        i = draw(st.integers(0, n - 1))
        role = table.roles[i]
        if draw(st.integers(0, 4)) == 0:
            rows[i]["age"] = _age(draw, role, decimal_comma)
            continue
        col = draw(st.sampled_from(APPLICABLE[role]))
        kind = draw(st.sampled_from(ANSWER_KINDS))
        rows[i][col] = _answer(draw, kind, encoding, decimal_comma)
    # a blank or a missing code in another role's column is no answer: accepted
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, n - 1))
        col = draw(st.sampled_from([c for c in ALL_ITEMS if c not in APPLICABLE[roles[i]]]))
        rows[i][col] = Cell(draw(st.sampled_from(BLANK + ["-9", "NA", "99"])), "missing")
    # harmless structure: unknown columns, renamed-by-case headers, shuffled columns
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(["remarks", "Opmerking", "Unnamed: 0", "band_5",
                                     "lukt_11", "x", "datum ingevuld"]))
        if name.lower() in {c.strip().lower() for c in table.columns}:
            continue
        table.columns.append(name)
        table.extra.append(name)
        for row in rows:
            row[name] = Cell(draw(st.sampled_from(["", "ja", "3", "1e308", "nan", "é"])))
    # structural corruption: up to two problems (some are no-ops, e.g. a column dropped twice)
    for _ in range(draw(st.integers(0, 2))):
        _structural(draw, table, encoding)
    # last (the cells are found by the names they were written under): headers in other
    # case or padded, columns shuffled
    for _ in range(draw(st.integers(0, 3))):
        old = draw(st.sampled_from(table.columns))
        new = _case(draw, old)
        if new not in table.columns:
            _rename(table, old, new)
    if draw(st.booleans()):
        table.columns = list(draw(st.permutations(table.columns)))
    return table


def _rename(table: Table, old: str, new: str) -> None:
    """Rename a header (the cells follow)."""
    table.columns[table.columns.index(old)] = new
    for row in table.rows:
        row[new] = row.pop(old)
    table.extra = [new if c == old else c for c in table.extra]


def _structural(draw, table: Table, encoding: str) -> None:
    rows, n = table.rows, len(table.rows)
    kind = draw(st.sampled_from([
        "drop_identity", "drop_item", "duplicate_id", "empty_id", "unknown_role",
        "unknown_sector", "unknown_gender", "stray_answer", "ragged", "duplicate_column",
    ]))
    i = draw(st.integers(0, n - 1))
    if kind == "drop_identity":
        col = draw(st.sampled_from(IDENTITY))
        if col in table.columns:
            table.columns.remove(col)
    elif kind == "drop_item":
        col = draw(st.sampled_from(ALL_ITEMS))
        if col in table.columns:
            table.columns.remove(col)
    elif kind == "duplicate_id" and n > 1:
        j = draw(st.integers(0, n - 1).filter(lambda k: k != i))
        rows[j]["respondent_id"] = Cell(draw(st.sampled_from(
            [rows[i]["respondent_id"].text, f" {rows[i]['respondent_id'].text}  "])))
    elif kind == "empty_id":
        rows[i]["respondent_id"] = Cell(draw(st.sampled_from(["", "  "])))
    elif kind == "unknown_role":
        rows[i]["role"] = Cell(draw(st.sampled_from(["docent", "NA", "", "3", "youth2"])))
        table.roles[i] = None
    elif kind == "unknown_sector":
        rows[i]["sector"] = Cell(draw(st.sampled_from(["kliniek", "", "nvt", "SO-VSO"])))
    elif kind == "unknown_gender":
        rows[i]["gender"] = Cell(draw(st.sampled_from(["x", "3", "onbekend", "mannelijk"])))
    elif kind == "stray_answer" and table.roles[i] is not None:
        others = [c for c in ALL_ITEMS if c not in APPLICABLE[table.roles[i]]]
        col = draw(st.sampled_from(others))
        pool = [t for t in HARD + [t for t, _ in VALID] if _encodable(t, encoding)]
        rows[i][col] = Cell(draw(st.sampled_from(pool)), "stray")
    elif kind == "ragged":
        table.ragged.append(i)
    elif kind == "duplicate_column":
        col = draw(st.sampled_from(table.columns))
        table.columns.append(col.upper() if col != col.upper() else col.lower())
        for row in rows:
            row[table.columns[-1]] = row[col]


# ------------------------------------------------------------------ writing


@dataclass
class Layout:
    """How a table is laid out as text."""

    quoting: int = csv.QUOTE_MINIMAL
    trailing: int = 0  # empty fields added at the end of every line (header too)
    newline: str = "\n"
    blank_before: tuple = ()  # (data row index or -1 for the header, blank line text)
    blank_at_end: bool = False
    final_newline: bool = True


@st.composite
def layouts(draw, delim: str) -> Layout:
    """Quoting, line ends, trailing delimiters and blank lines."""
    blank = st.sampled_from(["", "   ", delim * 3])
    return Layout(
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        trailing=draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0,
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        blank_before=tuple(draw(st.lists(st.tuples(st.integers(-1, 4), blank), max_size=3))),
        blank_at_end=draw(st.booleans()),
        final_newline=draw(st.booleans()),
    )


def write_csv(table: Table, path: Path, delim: str, encoding: str, layout: Layout) -> list:
    """Write the table; return the file line of each data row."""

    def line(fields: list) -> str:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delim, quoting=layout.quoting, lineterminator="").writerow(
            fields + [""] * layout.trailing)
        return buf.getvalue()

    def blanks(at: int) -> list:
        return [text for where, text in layout.blank_before if where == at]

    lines = blanks(-1) + [line(list(table.columns))]
    row_lines = []
    for k, row in enumerate(table.rows):
        lines += blanks(k)
        fields = [row[c].text for c in table.columns]
        if k in table.ragged:
            fields.append("5")
        lines.append(line(fields))
        row_lines.append(len(lines))
    if layout.blank_at_end:
        lines.append("")
    text = layout.newline.join(lines) + (layout.newline if layout.final_newline else "")
    path.write_bytes(text.encode(encoding))
    return row_lines


# ------------------------------------------------------------------ what must happen


@dataclass
class Expected:
    """What a reader must do with a written table."""

    problems: dict  # column (None: the file's shape) -> set of row numbers; empty: loads
    counts: dict
    hard: dict  # column -> rows of answers/ages that strict refuses
    present: list  # (row index, column, value)
    age_quarantined: int
    ignored: list


def _norm(name: str) -> str:
    return name.strip().lower()


def expected(table: Table, row_numbers: list) -> Expected:
    """Tally, from what was written, what reading the file must give."""
    rows, roles = table.rows, table.roles
    names = [_norm(c) for c in table.columns]
    # What makes a file unreadable comes first: its shape, then its header.
    for stage in (
        {None: {row_numbers[i] for i in table.ragged}} if table.ragged else {},
        {n: set() for n in names if names.count(n) > 1},
        {c: set() for c in IDENTITY if c not in names},
    ):
        if stage:
            return Expected(stage, {}, {}, [], 0, [])
    by_name = dict(zip(names, table.columns, strict=True))
    cells = [{n: row[by_name[n]] for n in names} for row in rows]

    problems: dict = {}
    ids = [r["respondent_id"].text.strip() for r in cells]
    empty = {row_numbers[i] for i, v in enumerate(ids) if not v}
    dupes = {row_numbers[i] for i, v in enumerate(ids) if v and ids.count(v) > 1}
    if empty or dupes:
        problems["respondent_id"] = empty or dupes
    for col, aliases in (("role", ROLE_ALIASES), ("sector", SECTOR_ALIASES),
                         ("gender", GENDER_ALIASES)):
        known = {_norm(a) for names_ in aliases.values() for a in names_}
        if col == "gender":
            known |= {""} | set(TEXT_CODES)
        bad = {row_numbers[i] for i, r in enumerate(cells) if _norm(r[col].text) not in known}
        if bad:
            problems[col] = bad
    for role in set(roles) - {None}:
        for col in APPLICABLE[role]:
            if col not in names:
                problems.setdefault(col, set())
    for col in ALL_ITEMS:
        stray = {row_numbers[i] for i, r in enumerate(cells)
                 if col in r and roles[i] is not None and col not in APPLICABLE[roles[i]]
                 and r[col].kind == "stray"}
        if stray:
            problems[col] = stray
    if problems:
        return Expected(problems, {}, {}, [], 0, [])

    tally = {"present": 0, "missing": 0, "declared": 0, "hard": 0}
    hard: dict = {}
    present = []
    age_q = 0
    for i, row in enumerate(cells):
        for col in APPLICABLE[roles[i]]:
            cell = row[col]
            tally[cell.kind] += 1
            if cell.kind == "hard":
                hard.setdefault(col, set()).add(row_numbers[i])
            if cell.kind == "present":
                present.append((i, col, cell.value))
        if row["age"].kind in ("declared", "hard"):
            age_q += 1
        if row["age"].kind == "hard":
            hard.setdefault("age", set()).add(row_numbers[i])
    answers = sum(len(APPLICABLE[r]) for r in roles)
    counts = {
        "respondents": len(rows), "answers": answers, "present": tally["present"],
        "missing": tally["missing"], "quarantined": tally["declared"] + tally["hard"],
    }
    assert sum(tally.values()) == answers
    ignored = [_norm(c) for c in table.columns if c in table.extra]  # in file order
    return Expected({}, counts, hard, present, age_q, ignored)


def check_refusal(exc: TriadInputError, path: Path, allowed: dict) -> None:
    """The refusal names the file and one of the allowed columns with exactly its rows."""
    assert exc.file == str(path)
    assert str(exc).startswith(str(path))
    assert exc.column in allowed, (exc.column, allowed, str(exc))
    rows = allowed[exc.column]
    assert set(exc.rows) == rows, (exc.column, exc.rows, rows, str(exc))
    if exc.column is not None:
        assert f"column {exc.column!r}" in str(exc)


def check_read(path: Path, exp: Expected) -> None:
    """Read with strict False and True; compare with what was written."""
    for strict in (False, True):
        try:
            data = read_respondents(path, strict=strict)
        except TriadInputError as exc:
            if exp.problems:
                check_refusal(exc, path, exp.problems)
            elif strict and exp.hard:
                check_refusal(exc, path, exp.hard)
            else:
                raise AssertionError(f"refused a file that should load: {exc}") from None
            continue
        assert not exp.problems, f"loaded a file with problems {exp.problems}"
        assert not (strict and exp.hard), f"strict loaded a file with {exp.hard}"
        c = data.counts
        assert c == exp.counts
        assert c["present"] + c["missing"] + c["quarantined"] == c["answers"]
        assert len(data.quarantine) == c["quarantined"] + exp.age_quarantined
        assert data.ignored_columns == exp.ignored
        for i, col, value in exp.present:
            assert data.wide.at[i, col] == value, (i, col, value)
        assert int(np.isfinite(data.wide[ALL_ITEMS].to_numpy(dtype=float)).sum()) == c["present"]


SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ CSV


@settings(max_examples=200, **SETTINGS)
@given(st.data())
def test_fuzzed_csv_is_refused_or_accounted(data):
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    delim = data.draw(st.sampled_from(DELIMITERS), label="delimiter")
    table = data.draw(tables(encoding, decimal_comma=delim != ","), label="table")
    name = data.draw(st.sampled_from(["r.csv", "enquête 2024.csv", "data.txt", "resp.tsv",
                                      "respondents"]), label="file name")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        layout = data.draw(layouts(delim), label="layout")
        row_numbers = write_csv(table, path, delim, encoding, layout)
        check_read(path, expected(table, row_numbers))


def every_token_table(encoding: str, decimal_comma: bool) -> Table:
    """Youths whose answers and ages run through every token of every kind, once each."""
    answers = (
        [Cell(t, "present", float(v))
         for t, v in VALID + (VALID_DECIMAL_COMMA if decimal_comma else [])]
        + [Cell(t, "missing") for t in BLANK]
        + [Cell(t, "declared") for t in DECLARED]
        + [Cell(t, "hard") for t in HARD if _encodable(t, encoding)]
    )
    ages = [Cell(t, k) for t, k in age_tokens("youth", decimal_comma)]
    items = APPLICABLE["youth"]
    n = max(-(-len(answers) // len(items)), len(ages))
    rows = []
    for i in range(n):
        row = {"respondent_id": Cell(f"T{i + 1}"), "role": Cell("youth"),
               "sector": Cell("residential"), "gender": Cell("")}
        row["age"] = ages[i] if i < len(ages) else Cell("12", "present")
        for col in ALL_ITEMS:
            row[col] = Cell("3", "present", 3.0) if col in items else Cell("", "missing")
        rows.append(row)
    for k, cell in enumerate(answers):
        rows[k // len(items)][items[k % len(items)]] = cell
    return Table(IDENTITY + ALL_ITEMS, rows, ["youth"] * n)


@pytest.mark.parametrize("delim", DELIMITERS, ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_token_in_every_encoding_and_delimiter(tmp_path, encoding, delim):
    """Hypothesis draws tokens unevenly (some never come up in 200 examples): here every
    answer and age token is read once, in each of the 15 encoding x delimiter files."""
    table = every_token_table(encoding, decimal_comma=delim != ",")
    path = tmp_path / "every_token.csv"
    row_numbers = write_csv(table, path, delim, encoding, Layout())
    exp = expected(table, row_numbers)
    assert exp.counts["quarantined"] > 40 and not exp.problems
    check_read(path, exp)


@pytest.mark.parametrize("suffix", [".parquet", ".sav"])
def test_every_token_as_text_in_parquet_and_sav(tmp_path, suffix):
    table = every_token_table("utf-8", decimal_comma=False)
    frame = pd.DataFrame([[row[c].text for c in table.columns] for row in table.rows],
                         columns=table.columns, dtype=object)
    path = tmp_path / f"every_token{suffix}"
    if suffix == ".sav":
        pyreadstat.write_sav(frame, str(path))
    else:
        frame.to_parquet(path, index=False)
    check_read(path, expected(table, list(range(1, len(table.rows) + 1))))


# ------------------------------------------------------------------ parquet and SPSS


# A number as the spec has it (ASCII digits, point, exponent; inf and nan)
_PLAIN_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)


def _typed_frame(table: Table, draw) -> pd.DataFrame:
    """The table as a typed frame: most columns whose cells all are numbers become float.

    A text 'nan' becomes a float NaN there, an empty cell: its kind changes to missing.
    """
    out = []
    for col in table.columns:
        cells = [row[col] for row in table.rows]
        texts = [c.text.strip() for c in cells]
        numeric = (_norm(col) not in ("respondent_id", "role", "sector", "gender")
                   and all(not t or _PLAIN_NUMBER.fullmatch(t) for t in texts)
                   and draw(st.integers(0, 4)) > 0)
        if not numeric:
            out.append(pd.Series([c.text for c in cells], dtype=object))
            continue
        numbers = np.array([float(t) if t else math.nan for t in texts], dtype=float)
        for cell, x in zip(cells, numbers, strict=True):
            if math.isnan(x) and cell.kind in ("declared", "hard"):
                cell.kind = "missing"
        out.append(pd.Series(numbers))
    frame = pd.concat(out, axis=1)
    frame.columns = list(table.columns)
    return frame


def _unique_columns(table: Table, key) -> None:
    """Keep the first of columns that ``key`` makes equal (parquet and SPSS need unique)."""
    seen, keep = set(), []
    for c in table.columns:
        if key(c) not in seen:
            keep.append(c)
            seen.add(key(c))
    table.columns = keep
    table.extra = [c for c in table.extra if c in keep]


@settings(max_examples=50, **SETTINGS)
@given(st.data())
def test_fuzzed_parquet_is_refused_or_accounted(data):
    table = data.draw(tables(), label="table")
    table.ragged.clear()  # parquet rows all have the same fields
    _unique_columns(table, key=str)
    frame = _typed_frame(table, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.parquet"
        frame.to_parquet(path, index=False)
        check_read(path, expected(table, list(range(1, len(table.rows) + 1))))


@settings(max_examples=12, **SETTINGS)
@given(st.data())
def test_fuzzed_sav_is_refused_or_accounted(data):
    table = data.draw(tables(), label="table")
    table.ragged.clear()
    # SPSS variable names: no spaces, a letter first, unique ignoring case
    for c in list(table.columns):
        if c != c.strip():
            _rename(table, c, c.strip())
    _unique_columns(table, key=str.lower)
    for c in list(table.columns):
        if not (c.replace("_", "a").isalnum() and c[0].isalpha()):
            table.columns.remove(c)
    table.extra = [c for c in table.extra if c in table.columns]
    frame = _typed_frame(table, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.sav"
        pyreadstat.write_sav(frame, str(path))
        check_read(path, expected(table, list(range(1, len(table.rows) + 1))))


# ------------------------------------------------------------------ damaged binary files


def _valid_frame() -> pd.DataFrame:
    records = [BASE["youth"][0], BASE["parent"][0], BASE["teacher"][0]]
    frame = pd.DataFrame(records)[IDENTITY + ALL_ITEMS]
    for col in ["age"] + ALL_ITEMS:
        frame[col] = pd.to_numeric(frame[col].replace("", np.nan))
    return frame


def _damage(draw, blob: bytes) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert"]))
    if how == "truncate":
        return blob[: draw(st.integers(1, len(blob) - 1))]
    out = bytearray(blob)
    if how == "flip":
        for _ in range(draw(st.integers(1, 6))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    elif how == "overwrite":
        at = draw(st.integers(0, len(out) - 1))
        junk = draw(st.binary(min_size=1, max_size=64))
        out[at:at + len(junk)] = junk
    else:
        at = draw(st.integers(0, len(out)))
        out[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


def check_damaged(path: Path) -> None:
    """Refused naming the file, or loaded with answers that add up (read from the output)."""
    for strict in (False, True):
        try:
            data = read_respondents(path, strict=strict)
        except TriadInputError as exc:
            assert exc.file == str(path) and str(exc).startswith(str(path))
            continue
        c = data.counts
        wide = data.wide
        assert c["respondents"] == len(wide)
        assert c["answers"] == sum(len(APPLICABLE[r]) for r in wide["role"])
        applicable = np.array([[col in APPLICABLE[r] for col in ALL_ITEMS]
                               for r in wide["role"]], dtype=bool).reshape(len(wide), -1)
        values = wide[ALL_ITEMS].to_numpy(dtype=float)
        assert not np.isfinite(values[~applicable]).any()
        answered = values[applicable & np.isfinite(values)]
        assert set(answered.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
        assert c["present"] == answered.size
        assert c["present"] + c["missing"] + c["quarantined"] == c["answers"]
        assert c["quarantined"] == int((data.quarantine["column"] != "age").sum())


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    _valid_frame().to_parquet(buf, index=False)
    return buf.getvalue()


PARQUET_BYTES = _parquet_bytes()


@settings(max_examples=40, **SETTINGS)
@given(st.data())
def test_damaged_parquet_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.parquet"
        path.write_bytes(_damage(data.draw, PARQUET_BYTES))
        check_damaged(path)


@pytest.fixture(scope="module")
def sav_bytes(tmp_path_factory) -> bytes:
    frame = _valid_frame()
    path = tmp_path_factory.mktemp("sav") / "ok.sav"
    pyreadstat.write_sav(frame, str(path))
    return path.read_bytes()


@settings(max_examples=10, **SETTINGS)
@given(data=st.data())
def test_damaged_sav_bytes(sav_bytes, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.sav"
        path.write_bytes(_damage(data.draw, sav_bytes))
        check_damaged(path)


# ------------------------------------------------------------------ the command line


def _cli_env() -> dict:
    env = dict(os.environ)
    src = str(Path(triad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def test_cli_refuses_corrupted_files_without_traceback(tmp_path):
    """Three files through a real ``python -m triad.cli validate`` process each (the corpus
    test runs every corpus file through the command in-process)."""
    header = ",".join(IDENTITY + ALL_ITEMS)
    youth = ["S1", "youth", "residential", "", "12"] + [
        "3" if c in APPLICABLE["youth"] else "" for c in ALL_ITEMS]
    files = {  # name: (content, the column the message must name)
        # rich markup in a cell value must not break the message
        "markup [x].csv": (
            (header + "\n" + ",".join(["S1", "[/x]"] + youth[2:]) + "\n").encode(), "role"),
        "utf16_no_bom.csv": ((header + "\n" + ",".join(youth) + "\n").encode("utf-16-le"), None),
        "not_spss.sav": (b"$FL2" + b"\x00garbage" * 50, None),
    }
    specs = {}
    for name, (content, column) in files.items():
        (tmp_path / name).write_bytes(content)
        specs[name] = column
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "triad.cli", "validate", str(tmp_path / name)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_cli_env(), text=True,
        )
        for name in specs
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        message = " ".join(err.split())
        assert proc.returncode == 2, (name, out, err)
        assert "Traceback" not in out + err
        assert name in message
        assert "triad: refused" in message
        if specs[name] is not None:
            assert f"column '{specs[name]}'" in message
