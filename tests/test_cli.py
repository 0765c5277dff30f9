"""The command line: bad option values, --version, tables at 80 columns, --format.

Nothing here samples: a bad value must be refused while the options are parsed (or
right after, before any data is read), so these tests block the modules that read data
or sample and would fail if a command got that far.
"""

import io
import json
import subprocess
import sys
import typing

import pandas as pd
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from triad import cli_options
from triad.cli import app
from triad.output import Output
from triad.paths import repo_root
from triad.published import load_cells, load_claims

runner = CliRunner()
COMMANDS = get_command(app).commands
# Importing any of these means a command went on to read data or sample.
WORKERS = ("triad.fitting", "triad.pipeline", "triad.sbc", "triad.design", "triad.readers",
           "triad.reconstruct")

# (command, arguments, the option the error must name, words it must also say)
BAD = [
    ("validate", ["x.csv", "--format", "xml"], "--format", ["table", "csv", "md", "json"]),
    ("reliability", ["x.csv", "--format", "xml"], "--format", ["csv", "md", "json"]),
    ("published", ["--table", "0"], "--table", ["1"]),
    ("published", ["--table", "13"], "--table", ["12"]),
    ("published", ["--table", "two"], "--table", []),
    ("published", ["--format", "xlsx"], "--format", ["csv", "md", "json"]),
    ("fit", ["metric_inspraak", "--backend", "foo"], "--backend",
     ["pymc", "nutpie", "numpyro"]),
    ("fit", ["metric_inspraak", "--rope", "-1"], "--rope", ["0"]),
    ("fit", ["metric_inspraak", "--rope-sd", "-0.1"], "--rope-sd", ["0"]),
    ("fit", ["metric_inspraak", "--ci-prob", "1"], "--ci-prob", ["between 0 and 1"]),
    ("fit", ["metric_inspraak", "--ci-prob", "0"], "--ci-prob", ["between 0 and 1"]),
    ("fit", ["metric_inspraak", "--format", "xml"], "--format", ["csv", "md", "json"]),
    ("reconstruct", ["--seed", "-1"], "--seed", ["0"]),
    ("reconstruct", ["--verify", "--format", "xml"], "--format", ["csv", "md", "json"]),
    ("run", ["--backend", "stan"], "--backend", ["pymc", "nutpie", "numpyro"]),
    ("run", ["--lang", "de"], "--lang", ["en", "nl"]),
    ("run", ["--jobs", "0"], "--jobs", ["1"]),
    ("run", ["--min-cell", "-1"], "--min-cell", ["0"]),
    ("run", ["--robust-share", "1.5"], "--robust-share", ["1"]),
    ("run", ["--robust-share", "-0.1"], "--robust-share", ["0"]),
    ("run", ["--models", "nothing_*.toml"], "--models", ["metric_inspraak"]),
    ("run", ["-q", "-v"], "--quiet", ["--verbose"]),
    ("sbc", ["--sims", "0"], "--sims", ["1"]),
    ("sbc", ["--draws", "0"], "--draws", ["1"]),
    ("sbc", ["--thin", "0"], "--thin", ["1"]),
    ("sbc", ["--draws", "10", "--thin", "20"], "--thin", ["--draws"]),
    ("sbc", ["--tune", "-1"], "--tune", ["0"]),
    ("sbc", ["--seed", "-1"], "--seed", ["0"]),
    ("sbc", ["--backend", "stan"], "--backend", ["pymc", "nutpie", "numpyro"]),
    ("sbc", ["--jobs", "0"], "--jobs", ["1"]),
    ("sbc", ["--bins", "1"], "--bins", ["2"]),
    ("sbc", ["--bins", "50", "--draws", "100"], "--bins", ["10 possible ranks"]),
    ("sbc", ["--level", "0"], "--level", ["between 0 and 1"]),
    ("sbc", ["--level", "1"], "--level", ["between 0 and 1"]),
    ("sbc", ["--models", "metric_nothing"], "--models", ["metric_inspraak"]),
    ("sbc", ["--format", "xml"], "--format", ["csv", "md", "json"]),
    ("studies", ["--format", "xml"], "--format", ["csv", "md", "json"]),
    ("design", ["--model", "metric_nothing"], "--model", ["metric_inspraak"]),
    ("design", ["--model", "summary_cells"], "--model", ["metric respondent"]),
    ("design", ["--family", "sector_differences"], "--family",
     ["gap_youth_vs_professional", "gap_parent_vs_professional"]),
    ("design", ["--grid", "0,10"], "--grid", ["positive integers"]),
    ("design", ["--grid", "ten"], "--grid", ["positive integers"]),
    ("design", ["--target", "0"], "--target", ["(0, 1]"]),
    ("design", ["--target", "1.5"], "--target", ["(0, 1]"]),
    ("design", ["--reps", "0"], "--reps", ["1"]),
    ("design", ["--n-draws", "0"], "--n-draws", ["1"]),
    ("design", ["--seed", "-1"], "--seed", ["0"]),
    ("design", ["--jobs", "0"], "--jobs", ["1"]),
    ("design", ["--format", "xml"], "--format", ["csv", "md", "json"]),
]


def _fixed(param) -> bool:
    """Whether an option has a fixed set of values or a range (typer's parameter info)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    literal = any(typing.get_origin(a) is typing.Literal
                  for a in (annotation, *typing.get_args(annotation)))
    ranged = getattr(param, "min", None) is not None or getattr(param, "max", None) is not None
    return (literal or ranged or param.callback is not None) and not getattr(
        param, "count", False) and not getattr(param, "is_eager", False)


def test_every_fixed_or_ranged_option_has_a_bad_value_case():
    covered = {(c, o) for c, _, o, _ in BAD}
    found = {(name, param.opts[0]) for name, command in COMMANDS.items()
             for param in command.params if _fixed(param)}
    assert len(found) > 30  # the introspection still sees typer's parameters
    assert found <= covered, sorted(found - covered)
    assert {c for c, _ in found} == {"validate", "reliability", "published", "fit",
                                     "reconstruct", "run", "sbc", "design", "studies"}


@pytest.mark.parametrize(("command", "args", "option", "words"), BAD,
                         ids=[f"{c}-{' '.join(a)}" for c, a, _, _ in BAD])
def test_bad_value_exits_2_with_one_line_naming_the_option(command, args, option, words,
                                                           monkeypatch):
    for module in WORKERS:
        monkeypatch.setitem(sys.modules, module, None)
    result = runner.invoke(app, [command, *args], env={"COLUMNS": "80"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert f"'{option}'" in errors[0], errors[0]
    for word in words:
        assert word in errors[0], errors[0]


def test_design_family_the_model_lacks_is_refused_before_fitting(monkeypatch):
    import triad.fitting

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the family was checked")

    monkeypatch.setattr(triad.fitting, "fit", no_fit)
    result = runner.invoke(app, ["design", "--family", "gap_parent_vs_professional"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--family'" in result.output
    assert "no gap_parent_vs_professional contrast" in result.output


def test_choices_agree_with_the_library():
    import triad.fitting
    from triad.contrasts import load_catalogue
    from triad.design import DEFAULT_GRID, study_design
    from triad.sbc import DEFAULT_SBC_BACKEND, SBC_BACKENDS

    assert cli_options.BACKENDS == triad.fitting.BACKENDS
    assert cli_options.DEFAULT_BACKEND == triad.fitting.DEFAULT_BACKEND
    assert (cli_options.SBC_BACKENDS, cli_options.DEFAULT_SBC_BACKEND) == (SBC_BACKENDS,
                                                                        DEFAULT_SBC_BACKEND)
    # the study's declared design targets a two-group (gap) family of its catalogue
    assert load_catalogue()[study_design()["family"]].kind == "gap"
    grid = COMMANDS["design"].params
    assert next(p.default for p in grid if p.name == "grid") == ",".join(map(str, DEFAULT_GRID))


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    from triad import __version__

    assert result.output.splitlines()[0] == f"triad {__version__}"
    for lib in ("python", "pymc", "bambi", "arviz", "numpyro", "nutpie"):
        assert f"{lib} " in result.output


def test_published_csv_is_the_published_table():
    result = runner.invoke(app, ["published", "--format", "csv"])
    assert result.exit_code == 0, result.output
    back, cells = pd.read_csv(io.StringIO(result.stdout)), load_cells()

    def plain(frame):  # missing values compare equal whether None or NaN
        return frame.astype(object).where(frame.notna(), None)

    pd.testing.assert_frame_equal(plain(back), plain(cells), check_dtype=False)


def test_published_json_and_markdown():
    result = runner.invoke(app, ["published", "--claims", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    claims = load_claims()
    assert len(records) == len(claims) and list(records[0]) == list(claims.columns)
    assert [r["claim_id"] for r in records] == claims["claim_id"].tolist()
    md = runner.invoke(app, ["published", "--table", "2", "--format", "md"]).stdout
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(load_cells(2))
    assert rows[0].startswith("| table | source |")


@pytest.mark.parametrize("args", [["published"], ["published", "--table", "2"],
                                  ["published", "--claims"]])
def test_published_fits_80_columns(args):
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert "…" not in result.output
    assert "columns with --wide" in result.output


def _contrast_like() -> pd.DataFrame:
    # the layout of triad fit's table: long contrast and sector names
    names = ["inspraak_gap_youth_vs_professional",
             "inspraak_age_per_5_years_professionals_about_youth",
             "inspraak_sector_diff_youth_about_professional"]
    sectors = ["all", "special_education-ambulatory_daycare", "residential"]
    rows = [{"contrast": n, "scale": "inspraak", "sector": s, "estimand": e,
             "estimate": -0.35412, "ci_low": -0.51923, "ci_high": -0.21177,
             "p_direction": 0.99925, "p_rope": 0.0, "conclusion": "equivalent",
             "bf10": 1234.5}
            for n in names for s in sectors for e in ("descriptive", "standardised")]
    return pd.DataFrame(rows)


def test_contrast_table_abbreviates_with_a_legend_at_80_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    frame = _contrast_like()
    Output().table(frame, "Contrasts (synthetic)", decimals=3,
                   columns=["contrast", "sector", "estimand", "estimate", "ci_low",
                            "ci_high", "p_direction", "p_rope", "conclusion"],
                   abbreviate=("contrast", "sector", "estimand"))
    text = capsys.readouterr().out
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    assert "…" not in text
    # every abbreviated name is in the legend; sector pairs keep their shape
    for name in {*frame["contrast"], "special_education", "ambulatory_daycare", "descriptive"}:
        assert f"= {name}" in text
    assert " se-ad " in text
    assert "equivalent" in text and "-0.354" in text


def test_wide_shows_every_column_in_full(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    frame = _contrast_like()
    Output(wide=True).table(frame, "Contrasts", columns=["contrast"], abbreviate=("contrast",))
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("contrast"))
    assert header.split() == list(frame.columns)
    assert "inspraak_age_per_5_years_professionals_about_youth" in text


@pytest.mark.parametrize(("name", "option"), [("fit_all", "--backend"), ("sbc", "--backend"),
                                              ("design", "--family")])
def test_scripts_are_the_subcommands(name, option):
    script = repo_root() / "scripts" / f"{name}.py"
    done = subprocess.run([sys.executable, str(script), option, "bogus"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"Invalid value for '{option}'" in done.stderr
    assert "Traceback" not in done.stderr


REQUIRED_N = pd.DataFrame({
    "contrast": ["inspraak_gap_youth_vs_professional"] * 2,
    "sector": ["special_education", "ambulatory_daycare"], "target": 0.8,
    "n_per_cell": [160.0, None], "assurance": [0.845, 0.47], "n_interpolated": [136.0, None],
    "status": ["reached", "not reached in grid"]})
QUARANTINE = pd.DataFrame({
    "file": "huge_values.csv", "row": 2, "respondent_id": "S1", "column": ["age", "band_2"],
    "value": ["1e308", "1" + "0" * 30],
    "reason": ["implausible age for a youth (accepted 4-27)", "out of range (answers are 1-5)"]})


@pytest.mark.parametrize(("frame", "folded"), [
    # a design table: the status column's prose wraps between its words
    (REQUIRED_N, {}),
    # a quarantine table: a 31-digit answer no column can hold beside the others is
    # folded, every digit kept
    (QUARANTINE, {"1" + "0" * 30}),
])
def test_terminal_tables_wrap_and_never_crop(frame, folded, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    Output().table(frame, "T", abbreviate=("contrast", "sector"))
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert "…" not in text
    for value in frame.to_numpy().ravel():
        for word in ("" if pd.isna(value) else str(value)).split():
            if word in folded:
                # its pieces, top to bottom, at one offset on consecutive lines
                at = next(i for i, line in enumerate(lines) if word[:8] in line)
                col = lines[at].index(word[:8])
                pieces = "".join(line[col:].split(" ")[0] for line in lines[at:at + 3])
                assert pieces.startswith(word), pieces
            else:
                # whole on a line, or abbreviated and spelled out in the legend
                assert word in text, word
