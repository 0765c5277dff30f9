"""The ``triad`` command line.

Every subcommand turns a refused input into a one-paragraph message on stderr and
exit code 2, never a traceback.  Options with a fixed set of values or a range are
checked before anything is read or sampled: a bad value exits 2 with one line naming
the option and what it accepts.  Tables fit the terminal (``--wide`` shows every
column) or are written as ``--format csv|md|json``.  ``scripts/fit_all.py``,
``scripts/sbc.py`` and ``scripts/design.py`` run ``triad run``, ``triad sbc`` and
``triad design`` (:func:`script`).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from triad.cli_commands import RUN_EXIT_CODES, design, fit_model, reconstruct, run_job, sbc
from triad.cli_options import FormatOption, StudyOption, WideOption, refuse
from triad.errors import TriadInputError
from triad.output import Output

__all__ = ["app", "main", "script"]

VERSIONED = ("triad", "pymc", "bambi", "arviz", "numpyro", "nutpie")

app = typer.Typer(
    name="triad",
    help="Bayesian multilevel re-analysis of published survey studies (--study picks one; "
         "`triad studies` lists the shipped ones).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click messages: a bad option value is one 'Error: ...' line, not a boxed
    # panel that wraps at 80 columns
    rich_markup_mode=None,
)


def _interval(low, high):
    """'0.78-0.87' per row; empty where an end is missing."""
    import pandas as pd

    return [f"{a:g}-{b:g}" if pd.notna(a) and pd.notna(b) else ""
            for a, b in zip(low, high, strict=True)]


def _print_versions(value: bool) -> None:
    if not value:
        return
    from triad import __version__
    from triad.versions import library_versions

    found = library_versions(VERSIONED[1:])
    typer.echo(f"triad {__version__}")
    typer.echo(", ".join(f"{k} {v or 'not installed'}" for k, v in found.items()))
    raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_versions, is_eager=True,
        help="Print triad's version and those of Python, PyMC, Bambi, ArviZ, numpyro and "
             "nutpie, and exit")] = False,
) -> None:
    """Bayesian multilevel re-analysis of published survey studies."""


@app.command(short_help="Check a respondent file against the codebook.")
def validate(
    path: Annotated[Path, typer.Argument(help="Respondent file: .csv, .sav or .parquet")],
    strict: Annotated[
        bool, typer.Option(help="Refuse out-of-range or non-numeric answers")
    ] = False,
    quarantine: Annotated[
        Path | None, typer.Option(help="Write the quarantine report (CSV) here")
    ] = None,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Validate a respondent file against the codebook and summarise it."""
    from triad.readers import read_respondents

    out = Output(fmt, wide)
    try:
        data = read_respondents(path, strict=strict)
    except TriadInputError as exc:
        refuse(exc)
    c = data.counts
    out.say(f"[bold]{escape(str(path))}[/]: {c['respondents']} respondents (source: "
            f"{escape(data.data_source)})")
    out.table(data.cell_counts().reset_index(), "Respondents per role x sector", name="cells")
    out.say(
        f"answers: {c['answers']} = {c['present']} present + {c['missing']} missing (empty) "
        f"+ {c['quarantined']} quarantined"
    )
    age_q = int((data.quarantine["column"] == "age").sum())
    if age_q:
        out.say(f"ages quarantined (set missing): {age_q}")
    for note in data.notes:
        out.say(f"note: {escape(note)}")
    if len(data.quarantine):
        out.table(data.quarantine, "Quarantined answers (set to missing)", name="quarantine",
                  head=10)
    out.close()
    if quarantine is not None:
        data.quarantine.to_csv(quarantine, index=False)
        out.say(f"quarantine report: {escape(str(quarantine))} ({len(data.quarantine)} rows)")


@app.command(short_help="Scale scores of a respondent file to a CSV.")
def scores(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    out: Annotated[Path, typer.Option(help="CSV file for the scale scores")],
    study: StudyOption = None,
) -> None:
    """Compute scale scores (mean of items, codebook missing-item rule) to a CSV."""
    from triad.readers import read_respondents
    from triad.scores import scale_scores

    try:
        data = read_respondents(path)
    except TriadInputError as exc:
        refuse(exc)
    table = scale_scores(data.wide)
    table.insert(0, "data_source", data.data_source)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    excluded = int((table["excluded_reason"] != "").sum())
    Output().say(f"{len(table)} scale scores written to {out}; {excluded} left missing "
                 "(too few items answered; reason in excluded_reason)")


@app.command(short_help="Alpha and omega per scale beside the report's.")
def reliability(
    path: Annotated[Path, typer.Argument(help="Respondent file")],
    by_sector: Annotated[bool, typer.Option(help="Also per sector")] = False,
    out: Annotated[Path | None, typer.Option(help="CSV file for the table")] = None,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Cronbach's alpha (95% CI) and omega per scale and group, beside the report's values."""
    from triad.readers import read_respondents
    from triad.reliability import reliability_table

    show = Output(fmt, wide)
    try:
        data = read_respondents(path)
    except TriadInputError as exc:
        refuse(exc)
    table = reliability_table(data.wide, by_sector=by_sector)
    table.insert(0, "data_source", data.data_source)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    # intervals as one column each, so that the table fits 80 columns
    r = table.round(2)
    brief = r[["scale", "role", "target", "sector", "n", "alpha"]].assign(
        alpha_95ci=_interval(r["alpha_ci_low"], r["alpha_ci_high"]), omega=r["omega"],
        reported=_interval(r["reported_low"], r["reported_high"]))
    show.table(table, f"Reliability ({data.data_source})", decimals=2, terminal=brief,
               abbreviate=("sector", "target", "role"))
    show.close()


@app.command(short_help="The report's tables or claims, as transcribed.")
def published(
    table: Annotated[int | None, typer.Option(help="Only this table", min=1, max=12)] = None,
    claims: Annotated[bool, typer.Option(help="Show the claims registry instead")] = False,
    fmt: FormatOption = "table",
    wide: WideOption = False,
    study: StudyOption = None,
) -> None:
    """Show the report's tables (or its claims) as transcribed in data/published/."""
    from triad.published import load_cells, load_claims

    out = Output(fmt, wide)
    if claims:
        out.table(load_claims(), "Claims registry (data/published/claims.csv)", name="claims",
                  columns=["claim_id", "scale", "table", "groups", "quoted", "verdict"],
                  abbreviate=("groups",))
    else:
        out.table(load_cells(table), "Published cells (data/published/cells.csv)",
                  name="cells", columns=["table", "group", "scale", "n", "mean", "sd"],
                  abbreviate=("group",))
    out.close()


@app.command(short_help="Audit the report's tables; replicate its claims.")
def audit(
    out: Annotated[Path, typer.Option(help="Folder for audit.csv/.md and replication.csv/.md")],
    study: StudyOption = None,
) -> None:
    """Audit the report's tables and replicate its claims from summary statistics."""
    import time

    from triad.audit import SEVERITIES, audit_markdown, audit_published
    from triad.replication import replicate_claims, replication_markdown, replication_summary

    say = Output().say
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    findings = audit_published()
    audit_s = time.perf_counter() - start
    findings.to_csv(out / "audit.csv", index=False)
    (out / "audit.md").write_text(audit_markdown(findings) + "\n", encoding="utf-8")
    counts = findings["severity"].value_counts().reindex(list(SEVERITIES), fill_value=0)
    say(f"audit: {len(findings)} checks in {audit_s:.2f} s: " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    start = time.perf_counter()
    replication = replicate_claims()
    replication.to_csv(out / "replication.csv", index=False)
    (out / "replication.md").write_text(replication_markdown(replication) + "\n",
                                        encoding="utf-8")
    summary = replication_summary(replication)
    tested = summary[summary["paper_verdict"] != "descriptive"]
    say(f"replication: {len(summary)} claims ({len(tested)} with a significance verdict) in "
        f"{time.perf_counter() - start:.2f} s: " + ", ".join(
            f"{k} {v}" for k, v in tested["replicates"].value_counts().items()))
    say(f"written: {out}/audit.csv, audit.md, replication.csv, replication.md")


# the larger commands are in triad.cli_commands; registered here in the order that
# `triad --help` lists them
app.command("fit", short_help="Fit one model: gates and contrasts.")(fit_model)
app.command(short_help="Build (or --verify) the synthetic data set.")(reconstruct)


@app.command("new-study", short_help="Write a new study's commented skeleton.")
def new_study_command(
    folder: Annotated[Path, typer.Argument(help="The new study's folder (new or empty)")],
    name: Annotated[str | None, typer.Option(
        help="Short name: lower case, digits, underscores (default: the folder's name)")]
    = None,
) -> None:
    """Write a commented study skeleton to a new folder.

    study.toml, codebook, labels, published tables, an example respondent file and a
    model spec (format: docs/study-format.md); use it with any command's
    ``--study FOLDER``.
    """
    from triad.studies import new_study

    try:
        files = new_study(folder, name)
    except (FileExistsError, ValueError) as exc:
        refuse(exc)
    typer.echo(f"written: {len(files)} files in {folder}")
    for f in files:
        typer.echo(f"  {f.relative_to(folder)}")
    typer.echo(f"next: edit the TODOs, then `triad validate FILE --study {folder}`")


@app.command("studies", short_help="The shipped studies.")
def studies_command(fmt: FormatOption = "table", wide: WideOption = False) -> None:
    """List the shipped studies (``--study NAME`` picks one; a folder works too)."""
    from triad.studies import list_studies

    show = Output(fmt, wide)
    show.table(list_studies(), "Shipped studies", name="studies")
    show.close()


app.command("run", short_help="The main job (scripts/fit_all.py).",
            epilog=RUN_EXIT_CODES)(run_job)
app.command(short_help="Simulation-based calibration (scripts/sbc.py).")(sbc)
app.command(short_help="Next-wave design study (scripts/design.py).")(design)


def script(command: str, argv: list[str] | None = None) -> None:
    """Run one subcommand as a program of its own (``scripts/fit_all.py`` is ``triad run``).

    Parameters
    ----------
    command : str
        The subcommand, e.g. ``"run"``.
    argv : list of str, optional
        Its arguments; default ``sys.argv[1:]``.
    """
    sub = typer.main.get_command(app).commands[command]
    sub.main(args=sys.argv[1:] if argv is None else argv, prog_name=Path(sys.argv[0]).name)


def main() -> None:
    """Entry point for ``python -m triad``."""
    app()


if __name__ == "__main__":
    sys.exit(main())
