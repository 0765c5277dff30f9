"""Write the malformed respondent files of this folder (run once; the files are committed).

    python tests/corpus/readers/make_corpus.py

Each file holds a few respondents.  Unless a file says otherwise every answer a role gives
is "3" and the other roles' columns are empty, so a youth or parent has 16 answers and a
social worker or teacher 52.  What reading each file must give is in ``expected.toml``,
worked out by hand from the descriptions below, not by running the reader.
"""

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

HERE = Path(__file__).resolve().parent

IDENTITY = ["respondent_id", "role", "sector", "gender", "age"]
_LAY = [f"{s}_{i}" for s in ("band", "doel", "taak") for i in range(1, 5)]
YOUTH = _LAY + [f"inspraak_{i}" for i in range(1, 5)]
PARENT = _LAY + [f"opvoed_{i}" for i in range(1, 5)]
PRO = ([f"{c}__youth" for c in YOUTH] + [f"{c}__parent" for c in PARENT]
       + [f"belangrijk_{i}" for i in range(1, 11)] + [f"lukt_{i}" for i in range(1, 11)])
ITEMS = list(dict.fromkeys(YOUTH + PARENT + PRO))
HEADER = IDENTITY + ITEMS
APPLICABLE = {"youth": YOUTH, "parent": PARENT, "social_worker": PRO, "teacher": PRO}
CANONICAL = {  # the alias written -> canonical role, to know which columns apply
    "youth": "youth", "jeugdige": "youth", "YOUTH": "youth", "docent": None,
    "parent": "parent", "ouder": "parent", "  Ouder ": "parent",
    "social_worker": "social_worker", "Jongerenwerker": "social_worker",
    "Social Worker": "social_worker", "teacher": "teacher", "Leraar": "teacher",
    "LERAAR": "teacher",
}


def row(rid: str, role: str, sector: str, gender: str = "", age: str = "12", **answers) -> list:
    """One respondent: every applicable answer '3' unless given in ``answers``."""
    applicable = APPLICABLE.get(CANONICAL[role]) or YOUTH
    cells = {c: ("3" if c in applicable else "") for c in ITEMS}
    cells.update(answers)
    return [rid, role, sector, gender, age] + [cells[c] for c in ITEMS]


def text(rows: list, delim: str = ",", header: list | None = None, newline: str = "\n") -> str:
    """Rows joined by ``delim`` (no cell here needs quoting)."""
    lines = [delim.join(header or HEADER)] + [delim.join(r) for r in rows]
    return newline.join(lines) + newline


def put(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def sav_frame(rows: list) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=HEADER)
    for col in ["age"] + ITEMS:
        frame[col] = pd.to_numeric(frame[col].replace("", np.nan))
    return frame


def main() -> None:
    youth = row("S1", "youth", "residential", "male", "12")
    parent = row("S2", "parent", "ambulatory_daycare", "female", "41")
    teacher = row("S3", "teacher", "special_education", "", "35")

    # ---- unreadable
    put("empty_file.csv", b"")
    put("header_only.csv", text([]))
    put("binary_garbage.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb2\x9c" * 8)
    put("utf16_no_bom.csv", text([youth]), "utf-16-le")  # NUL bytes, no byte-order mark
    put("unclosed_quote.csv", text([youth, row('"S2', "parent", "residential"),
                                    row("S3", "parent", "residential")]))

    # ---- encodings and delimiters that load
    # Excel "Unicode text": UTF-16 with BOM, tabs, a decimal-comma age; 1 youth + 1 parent
    put("utf16_bom_tab.csv",
        text([row("S1", "jeugdige", "residential", "male", "12,5"),
              row("S2", "ouder", "residential", "female", "40")], "\t", newline="\r\n"),
        "utf-16")
    # UTF-8 with BOM, semicolons, decimal commas: band_1 '4,0' is 4; band_2 '2,5' is
    # fractional (quarantined); the parent's doel_1 is empty (missing)
    put("bom_semicolon_decimal_comma.csv",
        text([row("S1", "jeugdige", "SO/VSO", "man", "12,5", band_1="4,0", band_2="2,5"),
              row("S2", "ouder", "SO/VSO", "vrouw", "44", doel_1="")], ";", newline="\r\n"),
        "utf-8-sig")
    # Windows-1252 with Dutch codes (Residentiële holds a non-ASCII letter); 3 respondents
    put("cp1252_semicolon_dutch_codes.csv",
        text([row("S1", "jeugdige", "Residentiële", "Vrouw", "15"),
              row("S2", "ouder", "Residentiële", "Man", "38"),
              row("S3", "Leraar", "SO/VSO", "", "50")], ";"), "cp1252")
    # Latin-1, tabs: one social worker with two empty answers
    put("latin1_tab.tsv",
        text([row("S1", "Jongerenwerker", "Residentiële", "", "29", lukt_1="", lukt_2="")],
             "\t"), "latin-1")

    # ---- structural problems: refused
    put("duplicate_ids.csv", text([youth, parent, row(" S1 ", "youth", "residential")]))
    put("empty_id.csv", text([youth, row("", "parent", "residential"), teacher]))
    put("missing_role_column.csv",
        text([[c for i, c in enumerate(r) if i != 1] for r in (youth, parent)],
             header=[c for c in HEADER if c != "role"]))
    put("missing_item_column.csv",
        text([[c for c, h in zip(r, HEADER, strict=True) if h != "inspraak_3"]
              for r in (youth, parent)], header=[h for h in HEADER if h != "inspraak_3"]))
    put("unknown_role_code.csv", text([youth, row("S2", "docent", "residential"),
                                       row("S3", "docent", "residential")]))
    put("ragged_rows.csv", text([youth, parent + ["5"], teacher]))
    put("answer_in_wrong_role_column.csv", text([row("S1", "youth", "residential",
                                                     belangrijk_1="4"), parent]))
    put("duplicate_column_names.csv",
        text([youth + ["3"]], header=HEADER + ["BAND_1 "]))

    # ---- answer-level problems: loaded, quarantined
    # one youth: band_1 1e308, band_2 10**30, band_3 1e309 (inf), band_4 -1e308; age 1e308
    put("huge_values.csv", text([row("S1", "youth", "residential", "", "1e308",
                                     band_1="1e308", band_2="1" + "0" * 30,
                                     band_3="1e309", band_4="-1e308")]))
    # youth: 0, 6, -2 and -0 out of range, -9 and 9 declared missing codes; parent: 7
    put("out_of_range_negative.csv",
        text([row("S1", "youth", "residential", "", "12", band_1="0", band_2="6",
                  band_3="-2", band_4="-9", doel_1="9", doel_2="-0"),
              row("S2", "parent", "residential", "", "40", taak_1="7")]))
    # youth: 2.5 and 3.0000001 fractional, 4.0 is 4; age 12.5 is fine
    put("fractional.csv", text([row("S1", "youth", "residential", "", "12.5", band_1="2.5",
                                    band_2="4.0", band_3="3.0000001")]))
    # youth: five answers that are no numbers (underscore and full-width digit included);
    # age 'twaalf'
    put("text_in_numeric.csv", text([row("S1", "youth", "residential", "", "twaalf",
                                         band_1="abc", band_2="drie", band_3="3a",
                                         band_4="0_3", doel_1="\uff13")]))
    # youth: NaN, nan, NA, n.v.t. and '.' are missing codes; inf and -Infinity are not numbers
    put("nan_inf_strings.csv", text([row("S1", "youth", "residential", "", "12",
                                         band_1="NaN", band_2="nan", band_3="NA",
                                         band_4="inf", doel_1="-Infinity", doel_2="n.v.t.",
                                         doel_3=".")]))
    # youth: three empty answers; parent: all sixteen empty
    put("blank_cells.csv",
        text([row("S1", "youth", "residential", "", "12", band_1="", band_2=" ", doel_4=""),
              row("S2", "parent", "residential", "", "40", **{c: "" for c in PARENT})]))

    # ---- harmless oddities: loaded
    put("mixed_case_codes.csv",
        text([row("S1", "YOUTH", "so/vso", "M", "10"),
              row("S2", "  Ouder ", "AMBULANT/DAGOPVANG", "vrouw", "39"),
              row("S3", "Social Worker", "RESIDENTIEEL", "", "45"),
              row("S4", "LERAAR", "Speciaal Onderwijs", "F", "52")]))
    put("extra_unknown_columns.csv",
        text([youth + ["", "goed gesprek"]], header=HEADER + ["Unnamed: 0", "Remarks"]))
    put("trailing_delimiters.csv", text([r + ["", ""] for r in (parent,)],
                                        header=HEADER + ["", ""]))
    # line 1 empty, header on line 2, youth on 3, lines 4-5 blank, parent on 6 with '6 '
    put("blank_lines_trailing_whitespace.csv",
        "\n" + ",".join(HEADER) + "\n"
        + ",".join(row("S1 ", "youth", "residential", "male ", "12 ", band_1="3 ")) + "\n"
        + "\n   \n"
        + ",".join(row("S2", "parent", "residential", "", "40", band_1="6 ")) + "\n")

    # ---- SPSS and parquet
    frame = sav_frame([youth, parent])
    pyreadstat.write_sav(frame, str(HERE / "_tmp.sav"))
    whole = (HERE / "_tmp.sav").read_bytes()
    (HERE / "_tmp.sav").unlink()
    put("truncated.sav", whole[: len(whole) // 2])
    put("csv_named.sav", text([youth]))

    # ReadStat (pyreadstat 1.3.7) dies with SIGSEGV on this file: the value-label variables
    # record (type 4) after the role labels applies them to variable 1000000 (of 77).
    codes = sav_frame([youth, parent])
    codes["role"] = [1.0, 2.0]
    path = HERE / "readstat_segfault.sav"
    pyreadstat.write_sav(codes, str(path), variable_value_labels={
        "role": {1: "jeugdige", 2: "ouder", 3: "hulpverlener", 4: "leraar"}})
    data = bytearray(path.read_bytes())
    at = data.index(b"leraar ") + len(b"leraar ")
    assert struct.unpack_from("<ii", data, at) == (4, 1), "layout changed"
    struct.pack_into("<i", data, at + 8, 1_000_000)
    path.write_bytes(bytes(data))

    # youth and parent; band_1 held as text ('abc' and '4'); band_2 1e308 and -1e308;
    # band_3 -9 (a missing code) and 2.5; role as numeric codes with value labels
    mixed = sav_frame([youth, parent])
    mixed["role"] = [1.0, 2.0]
    mixed["band_1"] = ["abc", "4"]
    mixed["band_2"] = [1e308, -1e308]
    mixed["band_3"] = [-9.0, 2.5]
    pyreadstat.write_sav(mixed, str(HERE / "sav_text_and_huge_items.sav"),
                         variable_value_labels={"role": {1: "jeugdige", 2: "ouder"}})

    put("wrong_extension.parquet", text([youth]))
    # parquet: band_1 text ('x', ' 4 '), band_2 floats inf and NaN, ids as integers,
    # role categorical
    pq_frame = sav_frame([youth, parent])
    pq_frame["respondent_id"] = [101, 102]
    pq_frame["role"] = pd.Categorical(["youth", "parent"])
    pq_frame["band_1"] = ["x", " 4 "]
    pq_frame["band_2"] = [np.inf, np.nan]
    pq_frame.to_parquet(HERE / "parquet_mixed_types.parquet", index=False)
    # parquet whose sector strings are not valid UTF-8 (written without validation)
    table = pa.Table.from_pandas(sav_frame([youth, parent]), preserve_index=False)
    raw = b"residential" + b"ambulatory\xff"
    offsets = np.array([0, 11, len(raw)], dtype=np.int32)
    bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(offsets.tobytes()),
                                                 pa.py_buffer(raw)])
    table = table.set_column(table.schema.get_field_index("sector"), "sector", bad)
    pq.write_table(table, HERE / "parquet_invalid_utf8.parquet")


if __name__ == "__main__":
    main()
