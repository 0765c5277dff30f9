"""The study's own covariates (issue 16, part 4): codebook, reader, specs, model frame, a fit.

A covariate column the codebook declares (``[covariates.<name>]``) is read and validated
like the identity columns, and a spec's formula may use it as a fixed or grouping term.
The respondent file here is the shipped synthetic file plus an ``organisation`` column
(three codes by a seeded rule, unrelated to the answers).
"""

import dataclasses
import re
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from triad.codebook import RESERVED_NAMES, CodebookError, load_codebook
from triad.errors import TriadInputError
from triad.modeldata import model_frame
from triad.paths import data_dir, default_data, models_dir
from triad.readers import read_respondents
from triad.specs import FORMULA_VARIABLES, SpecError, load_spec, spec_covariates

ORGS = ("koraal", "contour", "aloysius")
SPEC = models_dir() / "metric_inspraak.toml"


def _org_file(tmp_path, bad: dict | None = None, name: str = "with_org.csv"):
    """The synthetic file with an ``organisation`` column: code = ORGS[seeded draw].

    ``bad`` maps 0-based data rows to a raw value written instead (an invalid code, a
    missing code).  Returns the path and the organisation column as written.
    """
    wide = pd.read_csv(default_data(), dtype=str, keep_default_na=False)
    rng = np.random.default_rng(16)
    org = pd.Series([ORGS[i] for i in rng.integers(0, 3, len(wide))], dtype=object)
    # a few in the ways a user writes them: case and spacing are ignored
    org.iloc[1] = "  Koraal "
    for row, value in (bad or {}).items():
        org.iloc[row] = value
    wide.insert(5, "organisation", org)
    path = tmp_path / name
    wide.to_csv(path, index=False)
    return path, org


def _study_copy(tmp_path, monkeypatch, codebook_text):
    """A copy of the shipped study with its own codebook text; made the current study."""
    folder = tmp_path / "study"
    shutil.copytree(data_dir(), folder)
    (folder / "codebook.toml").write_text(codebook_text, encoding="utf-8")
    monkeypatch.setenv("TRIAD_DATA_DIR", str(folder))
    return folder


def _without_covariates() -> str:
    text = (data_dir() / "codebook.toml").read_text(encoding="utf-8")
    out = re.sub(r"\n\[covariates\.organisation\]\n(?:[^\n]+\n)+", "\n", text)
    assert "[covariates." not in out
    return out


def _spec_text(extra_formula: str = " + (1|organisation)", prior: bool = True) -> str:
    text = SPEC.read_text(encoding="utf-8")
    text = re.sub(r'^(formula = "[^"]*)"', lambda m: m.group(1) + extra_formula + '"', text,
                  count=1, flags=re.M)
    if prior:
        text += '''
[priors."1|organisation"]
dist = "Normal"
mu = 0.0
sigma = { dist = "HalfNormal", sigma = 0.3 }
why = "recruiters shift the mean by well under half a point (95% of SDs below 0.6)"
'''
    return text


def _write_spec(tmp_path, text: str):
    folder = tmp_path / "specs"
    folder.mkdir(exist_ok=True)
    path = folder / "metric_inspraak.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- (a) codebook


def test_shipped_codebook_declares_an_optional_open_organisation():
    cov = load_codebook().covariates["organisation"]
    assert cov.kind == "categorical" and cov.open and not cov.required
    assert cov.canonical(" Contour  de TWERN ") == "contour de twern"
    assert cov.canonical(3.0) == "3"  # SPSS reads numeric codes as floats
    assert "onbekend" in cov.missing_codes


def test_every_model_variable_is_reserved_from_covariate_names():
    # a covariate named like a model-frame variable would be shadowed by it
    assert FORMULA_VARIABLES <= RESERVED_NAMES


def test_categorical_levels_numeric_range_and_missing_codes_parse(tmp_path, monkeypatch):
    text = _without_covariates() + '''
[covariates.education]
kind = "categorical"
label_en = "education"
label_nl = "opleiding"
levels = { low = ["laag", "vmbo"], high = ["hoog", "hbo", "wo"] }
missing_codes = ["onbekend", -9]

[covariates.years_in_care]
kind = "numeric"
range = [0, 25]
missing_codes = [99]
required = true
'''
    folder = _study_copy(tmp_path, monkeypatch, text)
    cb = load_codebook()
    assert cb.path == folder / "codebook.toml"
    edu, years = cb.covariates["education"], cb.covariates["years_in_care"]
    assert list(cb.covariates) == ["education", "years_in_care"]
    assert edu.levels == {"low": ("laag", "vmbo"), "high": ("hoog", "hbo", "wo")}
    assert edu.canonical("HBO") == "high" and edu.canonical("mbo") is None  # not open
    assert edu.missing_codes == {"onbekend", "-9"}
    assert years.kind == "numeric" and years.range == (0.0, 25.0) and years.required


@pytest.mark.parametrize("declaration, key, phrase", [
    ('[covariates.organisation]\nkind = "text"\nopen = true\n',
     "covariates.organisation.kind", "'categorical' or 'numeric'"),
    ('[covariates.education]\nkind = "categorical"\n',
     "covariates.education.levels", "open = true"),
    ('[covariates.years]\nkind = "numeric"\nrange = [10, 2]\n',
     "covariates.years.range", "low <= high"),
    ('[covariates.years]\nkind = "numeric"\nopen = true\n',
     "covariates.years.open", "only categorical"),
    ('[covariates.site]\nkind = "categorical"\nopen = true\ncolour = "red"\n',
     "covariates.site.colour", "unknown"),
    ('[covariates.cell]\nkind = "categorical"\nopen = true\n',
     "covariates.cell", "already a column or model variable"),
    ('[covariates.band_1]\nkind = "numeric"\n',
     "covariates.band_1", "already a column or model variable"),
    ('[covariates.Site]\nkind = "categorical"\nopen = true\n',
     "covariates.Site", "lower case"),
    ('[covariates.education]\nkind = "categorical"\nlevels = { low = ["laag"], high = ["LAAG"] }\n',
     "covariates.education.levels.high", "also names level 'low'"),
    ('[covariates.site]\nkind = "categorical"\nopen = "yes"\n',
     "covariates.site.open", "true or false"),
])
def test_a_bad_declaration_is_refused_with_file_and_key(tmp_path, monkeypatch, declaration,
                                                        key, phrase):
    folder = _study_copy(tmp_path, monkeypatch, _without_covariates() + "\n" + declaration)
    with pytest.raises(CodebookError) as info:
        load_codebook()
    message = str(info.value)
    assert str(folder / "codebook.toml") in message and f"key '{key}'" in message
    assert phrase in message, message
    assert info.value.exit_code == 2 and info.value.key == key
    # and a respondent file is refused with the same message, never a traceback
    with pytest.raises(TriadInputError, match=re.escape(f"key '{key}'")):
        read_respondents(default_data())


# --------------------------------------------------------------------------- (b) reader


def test_a_declared_covariate_is_read_normalised_and_travels_long(tmp_path):
    path, org = _org_file(tmp_path)
    data = read_respondents(path)
    assert data.covariate_names == ["organisation"]
    assert data.ignored_columns == []
    assert data.quarantine.empty
    assert data.covariates["organisation"].tolist() == [o.strip().lower() for o in org]
    assert data.covariates["respondent_id"].tolist() == data.wide["respondent_id"].tolist()
    assert set(data.covariates["organisation"]) == set(ORGS)
    assert any(n.startswith("covariate(s) read: organisation (3 codes, 0 missing)")
               for n in data.notes)
    # nothing else changes: the wide table (and so the respondent codes) is the one of the
    # file without the column
    plain = read_respondents(default_data())
    pd.testing.assert_frame_equal(data.wide, plain.wide)
    assert data.counts == plain.counts
    assert plain.covariate_names == [] and "organisation" not in plain.long
    # long form: one row per answer, the covariate repeated per respondent
    long = data.long
    per_person = long.groupby("respondent_id")["organisation"].nunique()
    assert (per_person == 1).all() and len(long) == len(plain.long)
    first = data.wide["respondent_id"].iloc[0]
    assert set(long.loc[long["respondent_id"] == first, "organisation"]) == {
        data.covariates["organisation"].iloc[0]}


def test_an_undeclared_extra_column_is_still_ignored(tmp_path, monkeypatch):
    path, _ = _org_file(tmp_path)
    _study_copy(tmp_path, monkeypatch, _without_covariates())
    data = read_respondents(path)
    assert data.ignored_columns == ["organisation"] and data.covariate_names == []
    assert any("not in the codebook were ignored: organisation" in n for n in data.notes)


def test_bad_covariate_values_are_quarantined_with_row_and_column(tmp_path, monkeypatch):
    # file lines: header is line 1, data row i is line i + 2
    path, _ = _org_file(tmp_path, bad={4: "onbekend", 9: "nvt", 12: ""})
    data = read_respondents(path)
    q = data.quarantine
    assert q[["row", "column", "reason"]].values.tolist() == [
        [6, "organisation", "declared missing code"],
        [11, "organisation", "declared missing code"]]
    assert data.covariates["organisation"].isna().tolist()[:14] == [
        i in (4, 9, 12) for i in range(14)]
    assert data.counts["quarantined"] == 0  # not answers: the answer accounting holds

    # a closed categorical and a numeric covariate: unknown code and out of range
    text = _without_covariates() + '''
[covariates.organisation]
kind = "categorical"
levels = { koraal = ["k"], contour = ["c", "contour de twern"], aloysius = ["a"] }

[covariates.years_in_care]
kind = "numeric"
range = [0, 25]
missing_codes = [99]
'''
    _study_copy(tmp_path, monkeypatch, text)
    path, _ = _org_file(tmp_path, bad={3: "fontys", 7: "C"}, name="closed.csv")
    wide = pd.read_csv(path, dtype=str, keep_default_na=False)
    years = [str(i % 20) for i in range(len(wide))]
    years[2], years[5], years[8] = "31", "twee", "99"
    wide["years_in_care"] = years
    wide.to_csv(path, index=False)
    data = read_respondents(path)
    rows = data.quarantine[["row", "respondent_id", "column", "value", "reason"]]
    assert rows.values.tolist() == [
        [5, wide["respondent_id"][3], "organisation", "fontys",
         "unknown code for covariate 'organisation' (known: koraal, contour, aloysius; "
         "aliases in codebook.toml)"],
        [4, wide["respondent_id"][2], "years_in_care", "31",
         "out of range for covariate 'years_in_care' (accepted 0-25)"],
        [7, wide["respondent_id"][5], "years_in_care", "twee",
         "not a number (covariate 'years_in_care' is numeric)"],
        [10, wide["respondent_id"][8], "years_in_care", "99", "declared missing code"],
    ]
    # the reasons quote no value (quarantine.csv leaves the machine without the value)
    assert not any(v in r for v, r in zip(rows["value"], rows["reason"], strict=True))
    assert data.covariates["organisation"][7] == "contour"
    assert data.covariates["years_in_care"].dtype == float
    assert data.covariates["years_in_care"][:4].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(data.covariates["years_in_care"][2])
    # strict: an unknown code or a value out of range refuses the file, naming the column
    with pytest.raises(TriadInputError) as info:
        read_respondents(path, strict=True)
    assert info.value.column == "organisation" and info.value.rows == [5]


def test_a_required_covariate_column_missing_refuses_the_file(tmp_path, monkeypatch):
    text = _without_covariates() + '\n[covariates.site]\nkind = "categorical"\nopen = true\n' \
        'required = true\n'
    _study_copy(tmp_path, monkeypatch, text)
    with pytest.raises(TriadInputError) as info:
        read_respondents(default_data())
    assert info.value.column == "site" and "required covariate column(s) missing" in str(
        info.value)


# --------------------------------------------------------------------------- (c) specs


def test_a_spec_may_use_a_declared_covariate(tmp_path):
    spec = load_spec(_write_spec(tmp_path, _spec_text()))
    assert "(1|organisation)" in spec.formula and spec_covariates(spec) == ["organisation"]
    fixed = load_spec(_write_spec(tmp_path, _spec_text(" + organisation", prior=False)))
    assert spec_covariates(fixed) == ["organisation"]
    assert spec_covariates(load_spec(SPEC)) == []


def test_an_undeclared_covariate_is_refused_naming_file_key_and_allowed(tmp_path, monkeypatch):
    path = _write_spec(tmp_path, _spec_text())
    _study_copy(tmp_path, monkeypatch, _without_covariates())
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message and "key 'formula'" in message
    assert "unknown variable 'organisation'" in message
    assert "group_gender" in message and "covariates declared in the study's codebook: none" in (
        message)
    # declared: the message lists it among the allowed names
    monkeypatch.delenv("TRIAD_DATA_DIR")
    with pytest.raises(SpecError, match="covariates declared in the study's codebook: "
                                        "organisation"):
        load_spec(_write_spec(tmp_path, _spec_text(" + (1|education)")))


@pytest.mark.parametrize("call", [" + organisation(1)", " + exec(1)", " + C(organisation)",
                                  " + (1|log(organisation))"])
def test_function_calls_are_still_refused(tmp_path, call):
    with pytest.raises(SpecError, match=r"function calls are not allowed"):
        load_spec(_write_spec(tmp_path, _spec_text(call)))


def test_a_spec_on_a_file_without_the_covariate_is_refused_before_sampling(tmp_path):
    spec = load_spec(_write_spec(tmp_path, _spec_text()))
    data = read_respondents(default_data())
    with pytest.raises(TriadInputError) as info:
        model_frame(data, spec)
    message = str(info.value)
    assert info.value.column == "organisation" and str(default_data()) in message
    assert "metric_inspraak.toml" in message and "no such column" in message


def test_the_main_job_refuses_such_a_spec_before_its_first_fit(tmp_path):
    from triad.pipeline_steps import _check_spec_covariates

    spec = load_spec(_write_spec(tmp_path, _spec_text()))
    with pytest.raises(TriadInputError, match="no such column") as info:
        _check_spec_covariates([load_spec(SPEC), spec], None)  # the synthetic default
    assert info.value.column == "organisation"
    path, _ = _org_file(tmp_path)
    _check_spec_covariates([spec], path)  # the file has the column: no refusal


def test_rows_without_the_covariate_are_excluded_with_the_reason(tmp_path):
    spec = load_spec(_write_spec(tmp_path, _spec_text()))
    path, _ = _org_file(tmp_path, bad={0: "onbekend", 1: ""})
    data = read_respondents(path)
    plain = model_frame(data, load_spec(SPEC))
    md = model_frame(data, spec)
    missing = set(data.covariates.loc[data.covariates["organisation"].isna(), "respondent_id"])
    gone = plain.frame[plain.frame["respondent_id"].isin(missing)]
    assert len(gone) > 0 and len(md.frame) == len(plain.frame) - len(gone)
    assert md.frame["organisation"].notna().all() and set(md.frame["organisation"]) == set(ORGS)
    why = md.excluded[md.excluded["reason"].str.startswith("organisation missing")]
    assert sorted(why["respondent"]) == sorted(gone["respondent"])
    # a spec that does not use the covariate keeps every row
    assert plain.excluded.empty and "organisation" in plain.frame


# --------------------------------------------------------------------------- (d) one fit


@pytest.mark.slow
@pytest.mark.sampling
def test_metric_inspraak_with_an_organisation_effect_fits(tmp_path):
    from triad.fitting import fit

    spec = load_spec(_write_spec(tmp_path, _spec_text()))
    spec = dataclasses.replace(spec, sampler={**spec.sampler, "draws": 200, "tune": 200,
                                              "chains": 2, "seed": 5})
    path, _ = _org_file(tmp_path, bad={0: "onbekend"})
    start = time.perf_counter()
    result = fit(spec, read_respondents(path), out=tmp_path / "out")
    seconds = time.perf_counter() - start
    post = result.idata["posterior"]
    effect = post["1|organisation"]
    assert effect.sizes["organisation__factor_dim"] == 3
    assert sorted(effect["organisation__factor_dim"].values.tolist()) == sorted(ORGS)
    # The organisation codes were drawn at random, independent of every answer, so the
    # data say the organisations do not differ: the SD of their effects must shrink below
    # its prior (HalfNormal(0.3): mean 0.24) and each effect stay near 0.  With 3 groups
    # the SD cannot be pinned at 0 (measured: posterior mean about 0.1).
    sd = float(post["1|organisation_sigma"].mean())
    assert sd < 0.3 * np.sqrt(2 / np.pi)
    assert float(np.abs(effect.mean(("chain", "draw"))).max()) < 0.15
    excluded = pd.read_csv(result.path / "excluded.csv")
    assert excluded["reason"].str.startswith("organisation missing").sum() >= 1
    assert result.record["rows"] + len(excluded) == len(
        model_frame(read_respondents(path), load_spec(SPEC)).frame)
    print(f"fit with (1|organisation): {seconds:.1f} s; organisation SD {sd:.3f}")
