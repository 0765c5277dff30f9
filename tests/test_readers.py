"""Readers: the same data in every format loads identically; bad files are refused clearly."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import write_csv, write_parquet, write_sav, write_semicolon_csv
from triad.cli import app
from triad.errors import TriadInputError, format_rows
from triad.readers import long_from_wide, read_respondents, wide_from_long

runner = CliRunner()


def _canonical(wide: pd.DataFrame) -> pd.DataFrame:
    out = wide.copy()
    out["respondent_id"] = out["respondent_id"].astype(object)
    out["gender"] = out["gender"].astype(object).where(out["gender"].notna(), None)
    return out


def test_formats_load_to_identical_long_data(tmp_path, small_wide):
    paths = {
        "csv": write_csv(small_wide, tmp_path / "r.csv"),
        "semicolon": write_semicolon_csv(small_wide, tmp_path / "r_nl.csv"),
        "sav": write_sav(small_wide, tmp_path / "r.sav"),
        "parquet": write_parquet(small_wide, tmp_path / "r.parquet"),
    }
    loaded = {k: read_respondents(p) for k, p in paths.items()}
    reference = loaded["csv"].long
    # 16 respondents: 7 youths x 16 items + 3 parents x 16 + 6 professionals x 52 = 472 answers
    assert len(reference) == 7 * 16 + 3 * 16 + 6 * 52
    assert loaded["csv"].counts == {
        "respondents": 16, "answers": 472, "present": 470, "missing": 2, "quarantined": 0,
    }
    for name, data in loaded.items():
        got = data.long
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True), reference.reset_index(drop=True),
            check_dtype=False, obj=name,
        )
    # and the values are the simulated ones
    pd.testing.assert_frame_equal(
        loaded["sav"].wide.drop(columns="gender"), _canonical(small_wide).drop(columns="gender"),
        check_dtype=False,
    )
    assert loaded["sav"].wide["gender"].isna().sum() == 1


def test_long_wide_roundtrip_is_lossless(full_wide):
    long = long_from_wide(full_wide)
    # 174 youths x 16 + 114 parents x 16 + 191 professionals x 52 = 14540 answers
    assert len(long) == 174 * 16 + 114 * 16 + 191 * 52
    back = wide_from_long(long)
    pd.testing.assert_frame_equal(back, _canonical(full_wide), check_dtype=False)


def test_spss_user_missing_code_becomes_missing_and_is_reported(tmp_path, small_wide):
    wide = small_wide.copy()
    wide.loc[1, "band_3"] = 8.0  # 8 is not in the codebook's list: only SPSS declares it
    path = write_sav(wide, tmp_path / "um.sav", user_missing={"band_3": [8]})
    data = read_respondents(path)
    assert np.isnan(data.wide.loc[1, "band_3"])
    q = data.quarantine
    assert q[["row", "column", "value", "reason"]].values.tolist() == [
        [2, "band_3", "8.0", "declared missing code"]
    ]
    assert data.counts["quarantined"] == 1
    assert data.counts["present"] + data.counts["missing"] + 1 == data.counts["answers"]


def test_answer_level_problems_are_quarantined_not_dropped(tmp_path, small_wide):
    wide = small_wide.copy().astype({"band_1": object, "doel_1": object, "taak_1": object})
    wide.loc[0, "band_1"] = 7      # out of range
    wide.loc[1, "doel_1"] = "abc"  # not a number
    wide.loc[2, "taak_1"] = -9     # declared missing code
    wide.loc[3, "band_1"] = 2.5    # not a whole answer
    path = tmp_path / "q.csv"
    wide.to_csv(path, index=False)
    data = read_respondents(path)
    q = data.quarantine.sort_values("row")
    assert q["row"].tolist() == [2, 3, 4, 5]  # file lines: header is line 1
    assert q["reason"].tolist() == [
        "out of range (answers are 1-5)", "not a number", "declared missing code",
        "not a whole number (answers are 1-5)",
    ]
    c = data.counts
    assert c["quarantined"] == 4
    assert c["present"] + c["missing"] + c["quarantined"] == c["answers"] == 472


def test_strict_refuses_out_of_range(tmp_path, small_wide):
    wide = small_wide.copy()
    wide.loc[0, "band_1"] = 7
    path = write_csv(wide, tmp_path / "s.csv")
    with pytest.raises(TriadInputError) as info:
        read_respondents(path, strict=True)
    assert info.value.column == "band_1"
    assert info.value.rows == [2]


def test_ignored_columns_are_listed(tmp_path, small_wide):
    wide = small_wide.copy()
    wide["remarks"] = "x"
    path = write_csv(wide, tmp_path / "extra.csv")
    data = read_respondents(path)
    assert data.ignored_columns == ["remarks"]
    assert any("remarks" in n for n in data.notes)


# --------------------------------------------------------------------------- refusals


def _corrupt(small_wide, tmp_path, kind):
    wide = small_wide.copy()
    path = tmp_path / f"{kind}.csv"
    if kind == "binary":
        path.write_bytes(b"PK\x03\x04\x00\x00garbage\x00\x01")
        return path, None, "binary"
    if kind == "empty":
        path.write_bytes(b"")
        return path, None, "empty"
    if kind == "header_only":
        path.write_text("respondent_id,role,sector,gender,age\n")
        return path, None, "no data rows"
    if kind == "missing_column":
        wide = wide.drop(columns="sector")
        return write_csv(wide, path), "sector", "required column"
    if kind == "missing_item_column":
        wide = wide.drop(columns="inspraak_2")
        return write_csv(wide, path), "inspraak_2", "item column"
    if kind == "unknown_role":
        wide["role"] = wide["role"].astype(object)
        wide.loc[[3, 5], "role"] = "docent"
        return write_csv(wide, path), "role", "unknown role"
    if kind == "unknown_sector":
        wide.loc[4, "sector"] = "kliniek"
        return write_csv(wide, path), "sector", "unknown sector"
    if kind == "unknown_gender":
        wide["gender"] = wide["gender"].astype(object)
        wide.loc[6, "gender"] = "x"
        return write_csv(wide, path), "gender", "unknown gender"
    if kind == "duplicate_id":
        wide.loc[9, "respondent_id"] = wide.loc[2, "respondent_id"]
        return write_csv(wide, path), "respondent_id", "duplicate"
    if kind == "wrong_role_column":
        wide.loc[0, "belangrijk_1"] = 4.0  # a youth answering the professionals' list
        return write_csv(wide, path), "belangrijk_1", "belongs to"
    if kind == "ragged":
        write_csv(wide, path)
        lines = path.read_text().splitlines()
        lines[3] += ",5"
        path.write_text("\n".join(lines) + "\n")
        return path, None, "fields"
    raise AssertionError(kind)


EXPECTED_ROWS = {
    "unknown_role": "lines 5, 7",
    "unknown_sector": "line 6",
    "unknown_gender": "line 8",
    "duplicate_id": "lines 4, 11",
    "wrong_role_column": "line 2",
    "ragged": "line 4",
}

REFUSALS = [
    "binary", "empty", "header_only", "missing_column", "missing_item_column", "unknown_role",
    "unknown_sector", "unknown_gender", "duplicate_id", "wrong_role_column", "ragged",
]


@pytest.mark.parametrize("kind", REFUSALS)
def test_refusal_exit_2_with_file_column_rows(kind, small_wide, tmp_path):
    path, column, phrase = _corrupt(small_wide, tmp_path, kind)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert path.name in message
    assert phrase in message
    if column is not None:
        assert f"column '{column}'" in message
    if kind in EXPECTED_ROWS:
        assert EXPECTED_ROWS[kind] in message
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    )


def test_refusal_from_a_real_process_has_no_traceback(small_wide, tmp_path):
    path, _, _ = _corrupt(small_wide, tmp_path, "unknown_role")
    proc = subprocess.run(
        [sys.executable, "-m", "triad", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "unknown role code(s) 'docent'" in " ".join(proc.stderr.split())


def test_corrupt_sav_and_parquet_are_refused(tmp_path):
    for name in ("bad.sav", "bad.parquet"):
        path = tmp_path / name
        path.write_bytes(b"this is not what the suffix says" * 10)
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 2
        assert name in result.output and "not a readable" in result.output


def test_validate_prints_summary(tmp_path, small_wide):
    path = write_csv(small_wide, tmp_path / "ok.csv")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "16 respondents" in text
    assert "472 = 470 present + 2 missing (empty) + 0 quarantined" in text


def test_format_rows_summarises_long_lists():
    assert format_rows([9, 2, 5, 2]) == "rows 2, 5, 9"
    assert format_rows([1], "lines") == "line 1"
    assert format_rows(range(1, 9), first=3) == "rows 1, 2, 3 (+5 more; 8 in all)"
